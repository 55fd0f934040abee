"""Reads, filtered for the user. One access helper per entity: lists and detail pages share the
same queryset, so a list can never show what a detail view would refuse (404)."""

from django.contrib.auth.models import Permission
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from guardian.shortcuts import get_objects_for_user

from accounts import policy
from accounts.models import Membership, User
from submissions.models import (
    AccessWindow,
    Artifact,
    Determination,
    FrontierModel,
    Message,
    ReviewRequest,
)
from submissions.workflow import AGENCY, DEVELOPER


def _holds_global_perm(user, perm: str) -> bool:
    """A model-wide permission held by the user or one of its groups; `is_superuser` grants
    nothing here (a Django superuser is not a program role)."""
    app_label, codename = perm.split(".", 1)
    return Permission.objects.filter(
        Q(user=user) | Q(group__user=user),
        content_type__app_label=app_label, codename=codename,
    ).exists()


def _visible(user, perm: str, klass) -> QuerySet:
    if not policy.is_active_user(user):
        return klass.objects.none()
    # Program admins hold the global permission through their group. Checked here rather than
    # with guardian's accept_global_perms, which guardian ignores when with_superuser=False.
    if _holds_global_perm(user, perm):
        return klass.objects.all()
    # Developers hold object permissions through their organisation's group, assigned reviewers
    # hold them as users.
    return get_objects_for_user(user, perm, klass=klass, accept_global_perms=False,
                                with_superuser=False)


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
    latest_outcome = Determination.objects.filter(request=OuterRef("pk")).order_by(
        "-decided_at", "-id"
    )
    return (
        _visible(user, "submissions.view_reviewrequest", ReviewRequest)
        .select_related("model", "model__organisation")
        .annotate(latest_outcome=Subquery(latest_outcome.values("outcome")[:1]))
    )


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
    """A request with what its page shows, in a fixed number of queries."""
    return get_object_or_404(
        requests_visible_to(user).prefetch_related(
            Prefetch("messages", queryset=Message.objects.select_related("author")),
            "artifacts",
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
