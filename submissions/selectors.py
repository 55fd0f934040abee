"""Reads, filtered for the user. One access helper per entity: lists and detail pages share the
same queryset, so a list can never show what a detail view would refuse (404)."""

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from accounts import policy
from accounts.models import Membership, User
from submissions.models import (
    AccessWindow,
    Artifact,
    Determination,
    FrontierModel,
    FrontierModelGroupObjectPermission,
    FrontierModelUserObjectPermission,
    Message,
    ReviewerAssignment,
    ReviewRequest,
    ReviewRequestGroupObjectPermission,
    ReviewRequestUserObjectPermission,
)
from submissions.workflow import AGENCY, DEVELOPER


def _same_permission(perm: str) -> dict:
    app_label, codename = perm.split(".", 1)
    return {"permission__codename": codename, "permission__content_type__app_label": app_label}


def _held_and_groups(user, perm: str) -> tuple[bool, list[int]]:
    """Whether the user, or one of its groups, holds `perm` model-wide, and the ids of its
    groups: one query. `is_superuser` grants nothing here (a Django superuser is not a program
    role)."""
    same_perm = _same_permission(perm)
    own = User.user_permissions.through.objects.filter(user=user, **same_perm)
    rows = list(User.groups.through.objects.filter(user=user).annotate(held=Exists(own) | Exists(
        Group.permissions.through.objects.filter(group_id=OuterRef("group_id"), **same_perm)),
    ).values_list("group_id", "held"))
    if not rows:  # in no group: only a permission of its own counts
        return own.exists(), []
    return any(held for _, held in rows), [group_id for group_id, _ in rows]


# guardian's direct foreign-key tables, per model: (user permissions, group permissions).
_PERMISSION_TABLES = {
    FrontierModel: (FrontierModelUserObjectPermission, FrontierModelGroupObjectPermission),
    ReviewRequest: (ReviewRequestUserObjectPermission, ReviewRequestGroupObjectPermission),
}

# The field that names the developer organisation of each model's rows.
_ORGANISATION_FIELD = {FrontierModel: "organisation_id", ReviewRequest: "model__organisation_id"}


def _permitted_ids(user, perm: str, klass, group_ids: list[int]) -> QuerySet:
    """The ids of `klass` objects on which the user, or one of its groups, holds `perm`: what
    guardian's get_objects_for_user decides, read from the direct tables as one UNION ALL.

    As `pk IN (<this>)` PostgreSQL plans it as a semi-join driven from the permission rows
    (their (user, permission, object) and (group, permission, object) indexes): a reviewer's 60
    rows cost 60 index probes, not a pass over every object. guardian's own filter,
    `pk IN (user perms) OR pk IN (group perms)`, cannot become a join and reads the whole table.
    The group ids are values, not a subquery, so the planner knows from the index statistics
    that the agency's group holds no rows while a developer's holds 100k.
    """
    user_table, group_table = _PERMISSION_TABLES[klass]
    same_perm = _same_permission(perm)
    by_user = user_table.objects.filter(user=user, **same_perm)
    by_group = group_table.objects.filter(group_id__in=group_ids, **same_perm)
    return by_user.values("content_object_id").union(by_group.values("content_object_id"),
                                                     all=True)


def _visible(user, perm: str, klass) -> QuerySet:
    if not policy.is_active_user(user):
        return klass.objects.none()
    held_model_wide, group_ids = _held_and_groups(user, perm)
    # Program admins hold the global permission through their group. Checked here rather than
    # with guardian's accept_global_perms, which guardian ignores when with_superuser=False.
    if held_model_wide:
        return klass.objects.all()
    if policy.is_developer(user):
        # A developer's permissions are its organisation's group's: granted on every model and
        # request the organisation registers (submissions.services) and never removed, and
        # developers hold none of their own. So the rule is organisational, and filtering by
        # organisation lets the database read a list's index in order (a developer with 100k
        # requests pays for the page, not for a semi-join over 100k permission rows).
        return klass.objects.filter(**{_ORGANISATION_FIELD[klass]: policy.organisation_id_of(user)})
    # Assigned reviewers hold object permissions as users, partners through their group.
    return klass.objects.filter(pk__in=_permitted_ids(user, perm, klass, group_ids))


# --- models ---------------------------------------------------------------------------------

def models_visible_to(user) -> QuerySet[FrontierModel]:
    if policy.is_partner(user):
        # Partners hold view permissions on granted models, but a permission outlives its
        # window until the sweep runs: their reads go through partners.selectors, which also
        # check that the grant is live (fail closed).
        return FrontierModel.objects.none()
    return _visible(user, "submissions.view_frontiermodel", FrontierModel).select_related(
        "organisation"
    )


def model_get_for_user(*, user, pk) -> FrontierModel:
    return get_object_or_404(models_visible_to(user), pk=pk)


def model_current_determination(*, model: FrontierModel) -> Determination | None:
    """The determination in force: the latest one of a request that is still 'determined'."""
    return (
        Determination.objects.filter(request__model=model,
                                     request__status=ReviewRequest.Status.DETERMINED)
        .order_by("-decided_at", "-id")
        .first()
    )


def model_is_covered(*, model: FrontierModel) -> bool:
    determination = model_current_determination(model=model)
    return determination is not None and determination.outcome == Determination.Outcome.COVERED


def model_has_determination(*, model: FrontierModel) -> bool:
    """True once any determination was recorded on the model version. It stays true during a
    reconsideration: the earlier determination rests on the model as it was described."""
    return Determination.objects.filter(request__model=model).exists()


# --- review requests -------------------------------------------------------------------------

def requests_visible_to(user) -> QuerySet[ReviewRequest]:
    """The requests the user may see, with their model: what every list and detail starts from.
    Nothing is computed per row here; what a page shows besides (`with_latest_outcome`) it adds
    itself, so the API's lists do not pay for it."""
    return _visible(user, "submissions.view_reviewrequest", ReviewRequest).select_related(
        "model", "model__organisation")


def with_latest_outcome(requests: QuerySet[ReviewRequest]) -> QuerySet[ReviewRequest]:
    """Annotate `latest_outcome`, the outcome of each request's newest determination (the
    request list page shows it). A correlated subquery per row returned: add it to a page's
    rows, not to a queryset that is counted or skipped through."""
    latest = Determination.objects.filter(request=OuterRef("pk")).order_by("-decided_at", "-id")
    return requests.annotate(latest_outcome=Subquery(latest.values("outcome")[:1]))


def with_queue_marks(requests: QuerySet[ReviewRequest], *, user) -> QuerySet[ReviewRequest]:
    """Prefetch what `queue_marks` reads for a page of rows: the assignments (reviewers and
    admins) and the reviewer's own reviews, one query each whatever the page's length."""
    from reviews.models import Review

    if policy.is_agency_reviewer(user):
        return requests.prefetch_related("assignments", Prefetch(
            "reviews", queryset=Review.objects.filter(reviewer=user).only(
                "id", "request_id", "reviewer_id", "status"), to_attr="my_reviews"))
    if policy.is_program_admin(user):
        return requests.prefetch_related("assignments")
    return requests


S = ReviewRequest.Status


def queue_marks(*, user, review_request: ReviewRequest) -> tuple[bool, str]:
    """(whether `user` leads the request, what on it waits for `user`'s action or ""), read
    from a row of `with_queue_marks` without a query."""
    status = review_request.status
    if policy.is_agency_reviewer(user):
        lead = policy.is_lead_reviewer(user, review_request)
        if status != S.IN_REVIEW or not policy.is_assigned_reviewer(user, review_request):
            return lead, ""
        reviewed = any(r.is_submitted for r in review_request.my_reviews)
        if not reviewed:
            return lead, "Write your review"
        return lead, "Record the determination" if lead else ""
    if policy.is_program_admin(user):
        if status == S.SUBMITTED:
            return False, "Assign reviewers"
        if status == S.IN_REVIEW and not any(a.is_lead for a in review_request.assignments.all()):
            return False, "Choose the lead reviewer"
        return False, ""
    if policy.is_developer_of(user, review_request.model):
        return False, {S.DRAFT: "Submit the request",
                       S.INFORMATION_REQUESTED: "Answer the reviewers' question"}.get(status, "")
    return False, ""


def request_get_for_user(*, user, pk) -> ReviewRequest:
    return get_object_or_404(requests_visible_to(user), pk=pk)


def request_side(*, user, review_request: ReviewRequest) -> str | None:
    """Which side of the request the user acts for: DEVELOPER, AGENCY, 'admin' or None."""
    if policy.is_developer_of(user, review_request.model):
        return DEVELOPER
    if policy.is_assigned_reviewer(user, review_request):
        return AGENCY
    if policy.is_program_admin(user):
        return "admin"
    return None


def agency_reviewers() -> QuerySet[User]:
    """Active agency reviewers: who may ever be assigned."""
    return User.objects.filter(membership__role=Membership.Role.REVIEWER, is_active=True)


def reviewers_assignable(*, review_request: ReviewRequest) -> QuerySet[User]:
    """The reviewers a program admin may assign to `review_request` now: active agency
    reviewers not assigned to it, without a declared conflict with the developer organisation
    and who have not recused from it (submissions.services.reviewer_assign refuses the rest)."""
    return (agency_reviewers()
            .exclude(pk__in=review_request.assignments.values("reviewer_id"))
            .exclude(conflicts__organisation_id=review_request.model.organisation_id)
            .exclude(recusals__request=review_request)
            .order_by("username"))


def request_detail_for_user(*, user, pk) -> ReviewRequest:
    """A request with what its page shows, in a fixed number of queries. Its thread, artifacts
    and history are paged lists of their own (`messages_for_request`, ...), not prefetched."""
    return get_object_or_404(
        requests_visible_to(user).prefetch_related(
            Prefetch("determinations", queryset=Determination.objects.select_related("decided_by")),
            "assignments__reviewer",
        ),
        pk=pk,
    )


# --- artifacts and messages -----------------------------------------------------------------

def artifact_get_for_user(*, user, pk) -> Artifact:
    return get_object_or_404(
        Artifact.objects.filter(request__in=requests_visible_to(user).values("pk"))
        .select_related("request", "request__model"),
        pk=pk,
    )


def artifacts_for_request(*, review_request: ReviewRequest) -> QuerySet[Artifact]:
    return Artifact.objects.filter(request=review_request).select_related("uploaded_by")


def messages_for_request(*, review_request: ReviewRequest) -> QuerySet[Message]:
    return Message.objects.filter(request=review_request).select_related("author")


# --- windows --------------------------------------------------------------------------------

def windows_visible_to(user) -> QuerySet[AccessWindow]:
    return AccessWindow.objects.filter(
        model__in=models_visible_to(user).values("pk")
    ).select_related("model", "model__organisation")


def window_get_for_user(*, user, pk) -> AccessWindow:
    return get_object_or_404(windows_visible_to(user), pk=pk)


# --- status at a glance (the home page): one selector per item, each for its own role --------

def questions_to_answer(user) -> QuerySet[ReviewRequest]:
    """A developer's requests where a reviewer asked for information: the developer answers."""
    if not policy.is_developer(user):
        return ReviewRequest.objects.none()
    return (ReviewRequest.objects.filter(model__organisation_id=policy.organisation_id_of(user),
                                         status=ReviewRequest.Status.INFORMATION_REQUESTED)
            .select_related("model").order_by("status_changed_at", "id"))


def windows_to_schedule(user) -> QuerySet[FrontierModel]:
    """A developer's models determined covered (the determination in force) with no scheduled
    government window, while one can still end before the planned release to partners."""
    from django.utils import timezone

    if not policy.is_developer(user):
        return FrontierModel.objects.none()
    in_force = (Determination.objects.filter(request__model=OuterRef("pk"),
                                             request__status=ReviewRequest.Status.DETERMINED)
                .order_by("-decided_at", "-id").values("outcome")[:1])
    scheduled = AccessWindow.objects.filter(model=OuterRef("pk"),
                                            kind=AccessWindow.Kind.GOVERNMENT,
                                            status=AccessWindow.Status.SCHEDULED)
    return (FrontierModel.objects.filter(organisation_id=policy.organisation_id_of(user),
                                         planned_partner_release_at__gt=timezone.now())
            .annotate(outcome_in_force=Subquery(in_force))
            .filter(outcome_in_force=Determination.Outcome.COVERED)
            .exclude(Exists(scheduled)).order_by("planned_partner_release_at", "id"))


def _open_assignments(user):
    from submissions.workflow import OPEN_STATES

    return (ReviewerAssignment.objects.filter(reviewer=user, request__status__in=OPEN_STATES)
            .exclude(request__status=ReviewRequest.Status.DRAFT))


def assigned_requests(user) -> QuerySet[ReviewRequest]:
    """The open requests a reviewer is assigned to."""
    if not policy.is_agency_reviewer(user):
        return ReviewRequest.objects.none()
    return (ReviewRequest.objects.filter(pk__in=_open_assignments(user).values("request_id"))
            .select_related("model").order_by("created_at", "id"))


def lead_duties(user) -> QuerySet[ReviewRequest]:
    """Requests in review that the reviewer leads: the lead records the determination."""
    if not policy.is_agency_reviewer(user):
        return ReviewRequest.objects.none()
    led = ReviewerAssignment.objects.filter(reviewer=user, is_lead=True,
                                            request__status=ReviewRequest.Status.IN_REVIEW)
    return (ReviewRequest.objects.filter(pk__in=led.values("request_id"))
            .select_related("model").order_by("created_at", "id"))


def unassigned_requests(user) -> QuerySet[ReviewRequest]:
    """Submitted requests no reviewer is assigned to yet: the program admin assigns."""
    if not policy.is_program_admin(user):
        return ReviewRequest.objects.none()
    assigned = ReviewerAssignment.objects.filter(request=OuterRef("pk"))
    return (ReviewRequest.objects.filter(status=ReviewRequest.Status.SUBMITTED)
            .exclude(Exists(assigned)).select_related("model").order_by("submitted_at", "id"))


def flagged_windows(user) -> QuerySet[AccessWindow]:
    """Scheduled windows a release-date change (or a lower cap) flagged for the program admins."""
    if not policy.is_program_admin(user):
        return AccessWindow.objects.none()
    return (AccessWindow.objects.filter(status=AccessWindow.Status.SCHEDULED)
            .exclude(flag_reason="").select_related("model").order_by("starts_at", "id"))
