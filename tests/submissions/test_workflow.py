"""The determination request's state machine, its thread and reviewer assignment, through the
services (submissions/services.py) and the one table of transitions (submissions/workflow.py)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from audit.models import AuditEvent
from review_portal.errors import ApplicationError, TransitionNotAllowed
from submissions import services
from submissions.models import Determination, Message, ReviewerAssignment, ReviewRequest
from submissions.selectors import (
    model_current_determination,
    model_is_covered,
    models_visible_to,
    requests_visible_to,
)
from submissions.workflow import AGENCY, DEVELOPER, TRANSITIONS, allowed_actions
from tests.conftest import bring_to
from tests.factories import OrganisationFactory, UserFactory

S = ReviewRequest.Status
ALL_STATUSES = list(S.values)
ALLOWED = sorted((status, action) for action, t in TRANSITIONS.items() for status in t.sources)
REFUSED = sorted(
    (status, action) for action, t in TRANSITIONS.items()
    for status in ALL_STATUSES if status not in t.sources
)


def _events(action: str | None = None):
    qs = AuditEvent.objects.filter(action__startswith="review_request.")
    return qs.filter(action=action) if action else qs


def _recipients(mailoutbox) -> set[str]:
    return {address for message in mailoutbox for address in message.to}


def _act(world, action: str, actor=None):
    """Take `action` through the public service a person would use."""
    r = world.request
    if action == "submit":
        return services.request_submit(review_request=r, actor=actor or world.owner)
    if action == "start_review":
        return services.request_start_review(review_request=r, actor=actor or world.admin)
    if action == "request_information":
        return services.request_ask_information(review_request=r, actor=actor or world.reviewer,
                                                question="Which scaffolds did you use?")
    if action == "provide_information":
        return services.message_post(review_request=r, actor=actor or world.owner,
                                     body="We used two scaffolds.")
    if action == "determine":
        return services.request_determine(review_request=r, actor=actor or world.reviewer,
                                          outcome="not_covered", rationale="Below the level.")
    if action == "withdraw":
        return services.request_withdraw(review_request=r, actor=actor or world.owner,
                                         reason="Changed our plans.")
    if action == "request_reconsideration":
        return services.request_reconsideration(review_request=r, actor=actor or world.owner,
                                                reason="The scaffolding was misconfigured.")
    raise AssertionError(action)


def _mark_allowed_ids(pairs):
    return [f"{status}-{action}" for status, action in pairs]


# --- the table itself ------------------------------------------------------------------------

def test_the_table_has_no_licence_or_release_approval_state():
    assert set(ALL_STATUSES) == {"draft", "submitted", "in_review", "information_requested",
                                 "determined", "withdrawn"}
    assert {t.target for t in TRANSITIONS.values()} <= set(ALL_STATUSES)


def test_allowed_actions_lists_each_sides_moves_from_the_table():
    assert allowed_actions(S.DRAFT, DEVELOPER) == ["submit", "withdraw"]
    assert allowed_actions(S.DRAFT, AGENCY) == []
    assert allowed_actions(S.IN_REVIEW, AGENCY) == ["request_information", "determine"]
    assert allowed_actions(S.INFORMATION_REQUESTED, DEVELOPER) == ["provide_information",
                                                                   "withdraw"]
    assert allowed_actions(S.DETERMINED, DEVELOPER) == ["request_reconsideration"]
    assert allowed_actions(S.WITHDRAWN, DEVELOPER) == []
    assert allowed_actions(S.WITHDRAWN, AGENCY) == []


# --- every allowed transition ------------------------------------------------------------------

@pytest.mark.parametrize(("status", "action"), ALLOWED, ids=_mark_allowed_ids(ALLOWED))
def test_each_allowed_transition_moves_the_request_audits_and_notifies_the_other_side(
    world, status, action, django_capture_on_commit_callbacks, mailoutbox
):
    bring_to(world, status)
    before = _events().count()
    with django_capture_on_commit_callbacks(execute=True):
        _act(world, action)

    world.request.refresh_from_db()
    transition = TRANSITIONS[action]
    assert world.request.status == transition.target
    event = _events(f"review_request.{action}").get()
    assert event.data["from"] == status
    assert event.data["to"] == transition.target
    assert event.object_id == str(world.request.pk)
    assert event.organisation == world.acme
    assert _events().count() == before + 1

    assigned = set(world.request.assignments.values_list("reviewer__email", flat=True))
    if (status, action) == ("draft", "withdraw"):
        expected = set()  # the agency never saw the draft: nobody to tell
    elif transition.side == DEVELOPER:
        expected = assigned or {world.admin.email}
    else:
        expected = {world.owner.email, world.colleague.email}
    assert _recipients(mailoutbox) == expected
    assert all(transition.label in m.subject for m in mailoutbox)
    assert world.outsider.email not in _recipients(mailoutbox)


def test_a_developer_side_move_with_no_reviewer_emails_the_program_admins(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    second_admin = UserFactory(username="admin2", organisation=world.admin.membership.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(review_request=world.request, actor=world.owner)
    assert _recipients(mailoutbox) == {world.admin.email, second_admin.email}


def test_a_developer_side_move_emails_every_assigned_reviewer_and_not_the_admins(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    bring_to(world, "in_review")
    services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                             actor=world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_withdraw(review_request=world.request, actor=world.owner)
    assert _recipients(mailoutbox) == {world.reviewer.email, world.reviewer2.email}


def test_emails_carry_no_confidential_content(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    bring_to(world, "in_review")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_determine(review_request=world.request, actor=world.reviewer,
                                   outcome="covered", rationale="RATIONALE-TEXT",
                                   internal_notes="INTERNAL-NOTE",
                                   override_reason="OVERRIDE-REASON")
    assert mailoutbox
    for message in mailoutbox:
        bodies = [message.body] + [content for content, _ in message.alternatives]
        for text in bodies + [message.subject]:
            assert "INTERNAL-NOTE" not in text
            assert "RATIONALE-TEXT" not in text
            assert "OVERRIDE-REASON" not in text
            assert "not_covered" not in text  # the policy's recommendation


# --- every refused transition ------------------------------------------------------------------

def _ensure_assigned(world):
    """An assigned lead reviewer, so that a refusal below comes from the table, not from the
    side."""
    if not world.request.assignments.filter(reviewer=world.reviewer).exists():
        ReviewerAssignment.objects.create(request=world.request, reviewer=world.reviewer,
                                          assigned_by=world.admin, is_lead=True)


def _attempt(world, action: str):
    if action == "provide_information":
        # The developer's message only moves the request out of "information requested"; in
        # other states it is a plain message, so the refusal is tried on the transition itself.
        with transaction.atomic():
            return services._transition(review_request=world.request, action=action,
                                        actor=world.owner)
    actor = world.reviewer if TRANSITIONS[action].side == AGENCY else world.owner
    return _act(world, action, actor=actor)


@pytest.mark.parametrize(("status", "action"), REFUSED, ids=_mark_allowed_ids(REFUSED))
def test_each_refused_transition_raises_and_writes_nothing(
    world, status, action, django_capture_on_commit_callbacks, mailoutbox
):
    bring_to(world, status)
    _ensure_assigned(world)
    world.request.refresh_from_db()
    changed_at = world.request.status_changed_at
    events = AuditEvent.objects.count()
    determinations = Determination.objects.count()
    messages = Message.objects.count()

    with django_capture_on_commit_callbacks(execute=True), \
            pytest.raises(TransitionNotAllowed) as excinfo:
        _attempt(world, action)

    assert excinfo.value.status == 409
    world.request.refresh_from_db()
    assert world.request.status == status
    assert world.request.status_changed_at == changed_at
    assert AuditEvent.objects.count() == events
    assert Determination.objects.count() == determinations
    assert Message.objects.count() == messages
    assert mailoutbox == []


def test_every_status_and_action_pair_is_either_allowed_or_refused():
    assert len(ALLOWED) + len(REFUSED) == len(ALL_STATUSES) * len(TRANSITIONS)
    assert not set(ALLOWED) & set(REFUSED)


def test_a_refusal_says_what_the_request_is_and_what_cannot_happen(world):
    bring_to(world, "withdrawn")
    with pytest.raises(TransitionNotAllowed, match="withdrawn cannot be submitted"):
        services.request_submit(review_request=world.request, actor=world.owner)


# --- who may act -------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["submit", "withdraw"])
def test_a_reviewer_cannot_act_for_the_developer(world, action):
    bring_to(world, "draft")
    for reviewer in (world.reviewer, world.reviewer2):
        with pytest.raises(PermissionDenied):
            _act(world, action, actor=reviewer)
    world.request.refresh_from_db()
    assert world.request.status == S.DRAFT
    assert not _events().exclude(action="review_request.created").exists()


def test_an_assigned_reviewer_cannot_withdraw_or_ask_for_reconsideration(world):
    bring_to(world, "in_review")
    with pytest.raises(PermissionDenied):
        _act(world, "withdraw", actor=world.reviewer)
    bring_to_determined = services.request_determine
    bring_to_determined(review_request=world.request, actor=world.reviewer, outcome="covered",
                        rationale="Above.", override_reason="Exploits above the level.")
    with pytest.raises(PermissionDenied):
        _act(world, "request_reconsideration", actor=world.reviewer)
    world.request.refresh_from_db()
    assert world.request.status == S.DETERMINED


@pytest.mark.parametrize("who", ["owner", "colleague", "outsider", "reviewer2", "admin",
                                 "partner"])
def test_only_an_assigned_reviewer_determines(world, who):
    bring_to(world, "in_review")
    actor = world.actors()[who]
    with pytest.raises(PermissionDenied):
        _act(world, "determine", actor=actor)
    world.request.refresh_from_db()
    assert world.request.status == S.IN_REVIEW
    assert not Determination.objects.exists()
    assert not _events("review_request.determine").exists()


@pytest.mark.parametrize("who", ["owner", "outsider", "reviewer2", "admin", "partner"])
def test_only_an_assigned_reviewer_asks_for_information(world, who):
    bring_to(world, "in_review")
    with pytest.raises(PermissionDenied):
        _act(world, "request_information", actor=world.actors()[who])
    world.request.refresh_from_db()
    assert world.request.status == S.IN_REVIEW
    assert not Message.objects.exists()


def test_a_program_admin_may_start_a_review_but_a_developer_may_not(world):
    bring_to(world, "submitted")
    with pytest.raises(PermissionDenied):
        _act(world, "start_review", actor=world.owner)
    with pytest.raises(PermissionDenied):
        _act(world, "start_review", actor=world.reviewer2)
    _act(world, "start_review", actor=world.admin)
    world.request.refresh_from_db()
    assert world.request.status == S.IN_REVIEW
    assert _events("review_request.start_review").get().actor == world.admin


@pytest.mark.parametrize(("status", "action"), [
    ("draft", "submit"),
    ("draft", "withdraw"),
    ("information_requested", "provide_information"),
    ("determined", "request_reconsideration"),
])
def test_a_colleague_can_do_what_the_owner_can(world, status, action):
    bring_to(world, status)
    _act(world, action, actor=world.colleague)
    world.request.refresh_from_db()
    assert world.request.status == TRANSITIONS[action].target
    assert _events(f"review_request.{action}").get().actor == world.colleague


@pytest.mark.parametrize(("status", "action"), [
    ("draft", "submit"),
    ("draft", "withdraw"),
    ("in_review", "withdraw"),
    ("information_requested", "provide_information"),
    ("determined", "request_reconsideration"),
])
@pytest.mark.parametrize("who", ["outsider", "partner", "admin"])
def test_an_outsider_cannot_act_for_the_developer(world, status, action, who):
    bring_to(world, status)
    with pytest.raises(PermissionDenied):
        _act(world, action, actor=world.actors()[who])
    world.request.refresh_from_db()
    assert world.request.status == status
    assert not _events(f"review_request.{action}").exists()


def test_a_developer_who_left_for_another_organisation_cannot_act(world):
    """Rights follow the organisation's group, not who created the request."""
    newcomer_org = OrganisationFactory(name="Newcomer AI")
    newcomer = UserFactory(username="newcomer", organisation=newcomer_org)
    with pytest.raises(PermissionDenied):
        services.request_submit(review_request=world.request, actor=newcomer)


# --- determination ---------------------------------------------------------------------------

@pytest.mark.parametrize(("outcome", "rationale", "field"), [
    ("", "Below the level.", "outcome"),
    (None, "Below the level.", "outcome"),
    ("approved", "Below the level.", "outcome"),
    ("covered", "", "rationale"),
    ("covered", "   \n ", "rationale"),
    ("covered", None, "rationale"),
])
def test_a_determination_needs_an_outcome_and_a_rationale(world, outcome, rationale, field):
    bring_to(world, "in_review")
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.request_determine(review_request=world.request, actor=world.reviewer,
                                   outcome=outcome, rationale=rationale)
    assert excinfo.value.field == field
    world.request.refresh_from_db()
    assert world.request.status == S.IN_REVIEW
    assert not Determination.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_determination_is_recorded_with_its_rationale_and_internal_notes(world):
    bring_to(world, "in_review")
    determination = services.request_determine(
        review_request=world.request, actor=world.reviewer, outcome="covered",
        rationale="  Above the program's level.  ", internal_notes="  Scored 0.83 on suite v3. ",
        override_reason="  Exploit scores 0.91 outweigh the compute line. ",
    )
    determination.refresh_from_db()
    assert determination.request == world.request
    assert determination.outcome == Determination.Outcome.COVERED
    assert determination.rationale == "Above the program's level."
    assert determination.internal_notes == "Scored 0.83 on suite v3."
    assert determination.decided_by == world.reviewer
    # The world's policy (compute >= 1e26) recommends not covered for 3e25 FLOP: an override.
    assert determination.policy_version == world.policy
    assert determination.recommendation == "not_covered"
    assert determination.overridden
    assert determination.override_reason == "Exploit scores 0.91 outweigh the compute line."
    assert _events("review_request.determine").get().data == {
        "from": "in_review", "to": "determined", "outcome": "covered"}
    recorded = AuditEvent.objects.get(action="determination.recorded")
    assert recorded.data == {"request": world.request.pk, "outcome": "covered",
                             "policy": world.policy.number, "recommendation": "not_covered",
                             "overridden": True, "runs": []}
    # The internal notes and the override's reason stay out of the audit trail.
    trail = str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert "0.83" not in trail
    assert "0.91" not in trail
    assert model_is_covered(model=world.model)


def test_a_not_covered_determination_leaves_the_model_not_covered(world):
    bring_to(world, "in_review")
    services.request_determine(review_request=world.request, actor=world.reviewer,
                               outcome="not_covered", rationale="Below the level.")
    assert not model_is_covered(model=world.model)
    assert model_current_determination(model=world.model).outcome == "not_covered"


def test_a_determination_cannot_be_made_while_a_question_is_open(world):
    bring_to(world, "information_requested")
    with pytest.raises(TransitionNotAllowed):
        _act(world, "determine")
    assert not Determination.objects.exists()


def test_asking_for_information_needs_a_question(world):
    bring_to(world, "in_review")
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.request_ask_information(review_request=world.request, actor=world.reviewer,
                                         question="  ")
    assert excinfo.value.field == "question"
    world.request.refresh_from_db()
    assert world.request.status == S.IN_REVIEW
    assert AuditEvent.objects.count() == events
    assert not Message.objects.exists()


def test_asking_for_information_posts_the_question_to_the_thread(world):
    bring_to(world, "information_requested")
    message = Message.objects.get()
    assert message.from_agency
    assert message.author == world.reviewer
    assert message.body == "Which scaffolds?"


# --- reconsideration ---------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reconsideration_needs_a_reason(covered, reason):
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.request_reconsideration(review_request=covered.request, actor=covered.owner,
                                         reason=reason)
    assert excinfo.value.field == "reason"
    covered.request.refresh_from_db()
    assert covered.request.status == S.DETERMINED
    assert AuditEvent.objects.count() == events
    assert not Message.objects.exists()
    assert model_is_covered(model=covered.model)


def test_reconsideration_reopens_the_review_and_keeps_the_old_determination(covered):
    old = Determination.objects.get()
    assert model_is_covered(model=covered.model)

    services.request_reconsideration(review_request=covered.request, actor=covered.owner,
                                     reason="  The scaffolding was misconfigured. ")

    covered.request.refresh_from_db()
    assert covered.request.status == S.IN_REVIEW
    event = _events("review_request.request_reconsideration").get()
    assert (event.data["from"], event.data["to"]) == ("determined", "in_review")
    message = Message.objects.get()
    assert not message.from_agency
    assert message.author == covered.owner
    assert message.body == "Reconsideration requested: The scaffolding was misconfigured."
    assert list(Determination.objects.all()) == [old]
    # While the determination is being reconsidered the model is not covered.
    assert not model_is_covered(model=covered.model)
    assert model_current_determination(model=covered.model) is None

    new = services.request_determine(review_request=covered.request, actor=covered.reviewer,
                                     outcome="not_covered", rationale="Corrected run is below.")
    assert set(Determination.objects.all()) == {old, new}
    assert model_current_determination(model=covered.model) == new
    assert not model_is_covered(model=covered.model)
    old.refresh_from_db()
    assert old.outcome == "covered"
    assert old.internal_notes == "secret internal note"


def test_a_request_under_reconsideration_cannot_be_withdrawn(covered):
    """Withdrawal is open only before a determination. Withdrawing a reconsideration would drop
    the determination already made (the model would silently stop being covered)."""
    services.request_reconsideration(review_request=covered.request, actor=covered.owner,
                                     reason="Please look again.")
    events = AuditEvent.objects.count()
    with pytest.raises(TransitionNotAllowed, match="determination"):
        services.request_withdraw(review_request=covered.request, actor=covered.owner)
    covered.request.refresh_from_db()
    assert covered.request.status == S.IN_REVIEW
    assert AuditEvent.objects.count() == events
    assert allowed_actions(S.IN_REVIEW, DEVELOPER, has_determination=True) == []


def test_a_request_under_reconsideration_can_still_receive_questions_and_answers(covered):
    services.request_reconsideration(review_request=covered.request, actor=covered.owner,
                                     reason="Please look again.")
    _act(covered, "request_information")
    _act(covered, "provide_information")
    covered.request.refresh_from_db()
    assert covered.request.status == S.IN_REVIEW
    with pytest.raises(TransitionNotAllowed):
        services.request_withdraw(review_request=covered.request, actor=covered.owner)


# --- withdrawal and filing again ------------------------------------------------------------

@pytest.mark.parametrize("status", ["draft", "submitted", "in_review", "information_requested"])
def test_a_developer_may_withdraw_before_a_determination(world, status):
    bring_to(world, status)
    services.request_withdraw(review_request=world.request, actor=world.owner,
                              reason="  Not this version. ")
    world.request.refresh_from_db()
    assert world.request.status == S.WITHDRAWN
    event = _events("review_request.withdraw").get()
    assert event.data == {"from": status, "to": "withdrawn", "reason": "Not this version."}


def test_a_new_request_may_be_filed_after_a_withdrawal(world):
    bring_to(world, "withdrawn")
    again = services.request_create(model=world.model, actor=world.colleague, cover_note="v2")
    assert again.pk != world.request.pk
    assert again.status == S.DRAFT
    assert again.created_by == world.colleague
    assert set(world.model.review_requests.values_list("status", flat=True)) == {
        "withdrawn", "draft"}
    assert requests_visible_to(world.owner).filter(pk=again.pk).exists()
    assert not requests_visible_to(world.outsider).filter(pk=again.pk).exists()


@pytest.mark.parametrize("status", ["draft", "submitted", "in_review", "information_requested",
                                    "determined"])
def test_a_second_request_is_refused_while_one_is_live(world, status):
    bring_to(world, status)
    requests = ReviewRequest.objects.count()
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.request_create(model=world.model, actor=world.owner)
    assert excinfo.value.status == 409
    assert ReviewRequest.objects.count() == requests
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["outsider", "reviewer", "admin", "partner"])
def test_only_the_developer_files_a_request(world, who):
    with pytest.raises(PermissionDenied):
        services.request_create(model=world.model, actor=world.actors()[who])
    assert world.model.review_requests.count() == 1


def test_filing_a_request_audits_it_and_grants_the_organisation(world):
    event = AuditEvent.objects.get(action="review_request.created")
    assert event.object_id == str(world.request.pk)
    assert event.actor == world.owner
    assert world.request.status == S.DRAFT
    assert requests_visible_to(world.colleague).filter(pk=world.request.pk).exists()
    for who in ("outsider", "reviewer", "reviewer2", "partner"):
        assert not requests_visible_to(world.actors()[who]).filter(pk=world.request.pk).exists()


# --- the thread --------------------------------------------------------------------------------

def test_the_developers_answer_returns_the_request_to_review(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    bring_to(world, "information_requested")
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_post(review_request=world.request, actor=world.colleague,
                                        body="  We used two scaffolds. ")
    world.request.refresh_from_db()
    assert world.request.status == S.IN_REVIEW
    assert message.body == "We used two scaffolds."
    assert not message.from_agency
    event = _events("review_request.provide_information").get()
    assert event.data == {"from": "information_requested", "to": "in_review",
                          "message": message.pk}
    assert AuditEvent.objects.filter(action="message.posted", object_id=str(message.pk)).exists()
    assert _recipients(mailoutbox) == {world.reviewer.email}


def test_a_reviewers_message_while_a_question_is_open_does_not_close_it(world):
    bring_to(world, "information_requested")
    message = services.message_post(review_request=world.request, actor=world.reviewer,
                                    body="Also: which temperature?")
    assert message.from_agency
    world.request.refresh_from_db()
    assert world.request.status == S.INFORMATION_REQUESTED
    assert not _events("review_request.provide_information").exists()


@pytest.mark.parametrize("status", ["submitted", "in_review"])
def test_both_sides_may_write_while_the_request_is_under_review(world, status):
    bring_to(world, status)
    if status == "submitted":
        ReviewerAssignment.objects.create(request=world.request, reviewer=world.reviewer,
                                          assigned_by=world.admin)
    services.message_post(review_request=world.request, actor=world.owner, body="Hello.")
    services.message_post(review_request=world.request, actor=world.reviewer, body="Hi.")
    world.request.refresh_from_db()
    assert world.request.status == status
    assert list(Message.objects.values_list("from_agency", flat=True)) == [False, True]
    assert AuditEvent.objects.filter(action="message.posted").count() == 2


@pytest.mark.parametrize("body", ["", "   \n\t", None])
def test_an_empty_message_is_refused(world, body):
    bring_to(world, "information_requested")
    events = AuditEvent.objects.count()
    messages = Message.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.message_post(review_request=world.request, actor=world.owner, body=body)
    assert excinfo.value.field == "body"
    world.request.refresh_from_db()
    assert world.request.status == S.INFORMATION_REQUESTED
    assert Message.objects.count() == messages
    assert AuditEvent.objects.count() == events


def test_an_over_long_message_is_refused_with_a_clear_error(world):
    bring_to(world, "information_requested")
    messages = Message.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.message_post(review_request=world.request, actor=world.owner, body="x" * 20_001)
    assert excinfo.value.field == "body"
    assert "20000" in excinfo.value.message
    world.request.refresh_from_db()
    assert world.request.status == S.INFORMATION_REQUESTED
    assert Message.objects.count() == messages


@pytest.mark.parametrize("who", ["outsider", "reviewer2", "admin", "partner"])
def test_only_the_developer_and_assigned_reviewers_write_in_the_thread(world, who):
    bring_to(world, "information_requested")
    messages = Message.objects.count()
    with pytest.raises(PermissionDenied):
        services.message_post(review_request=world.request, actor=world.actors()[who],
                              body="Let me in.")
    world.request.refresh_from_db()
    assert world.request.status == S.INFORMATION_REQUESTED
    assert Message.objects.count() == messages


@pytest.mark.parametrize("status", ["draft", "determined", "withdrawn"])
@pytest.mark.parametrize("who", ["owner", "reviewer"])
def test_the_thread_is_closed_outside_review(world, status, who):
    bring_to(world, status)
    _ensure_assigned(world)
    messages = Message.objects.count()
    events = AuditEvent.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.message_post(review_request=world.request, actor=world.actors()[who],
                              body="Anyone there?")
    assert Message.objects.count() == messages
    assert AuditEvent.objects.count() == events


# --- reviewer assignment -------------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "colleague", "outsider", "reviewer", "reviewer2",
                                 "partner"])
def test_only_program_admins_assign_reviewers(world, who):
    bring_to(world, "submitted")
    with pytest.raises(PermissionDenied):
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                                 actor=world.actors()[who])
    assert not ReviewerAssignment.objects.exists()
    world.request.refresh_from_db()
    assert world.request.status == S.SUBMITTED


@pytest.mark.parametrize("who", ["owner", "outsider", "admin", "partner"])
def test_only_reviewers_can_be_assigned(world, who):
    bring_to(world, "submitted")
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.reviewer_assign(review_request=world.request, reviewer=world.actors()[who],
                                 actor=world.admin)
    assert excinfo.value.field == "reviewer"
    assert not ReviewerAssignment.objects.exists()
    assert AuditEvent.objects.count() == events
    world.request.refresh_from_db()
    assert world.request.status == S.SUBMITTED


def test_an_inactive_reviewer_cannot_be_assigned(world):
    bring_to(world, "submitted")
    world.reviewer2.is_active = False
    world.reviewer2.save(update_fields=["is_active"])
    with pytest.raises(ApplicationError):
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                                 actor=world.admin)
    assert not ReviewerAssignment.objects.exists()


def test_assigning_a_reviewer_to_a_submitted_request_starts_the_review(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    bring_to(world, "submitted")
    assert not requests_visible_to(world.reviewer).filter(pk=world.request.pk).exists()
    assert not models_visible_to(world.reviewer).filter(pk=world.model.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assignment = services.reviewer_assign(review_request=world.request,
                                              reviewer=world.reviewer, actor=world.admin)

    assert assignment.assigned_by == world.admin
    world.request.refresh_from_db()
    assert world.request.status == S.IN_REVIEW
    assigned = AuditEvent.objects.get(action="reviewer.assigned")
    assert assigned.data == {"reviewer": "reviewer", "lead": True}  # the first one leads
    assert assigned.actor == world.admin
    start = _events("review_request.start_review").get()
    assert start.actor == world.admin
    assert (start.data["from"], start.data["to"]) == ("submitted", "in_review")
    by_recipient = {tuple(m.to): m.subject for m in mailoutbox}
    assert (world.reviewer.email,) in by_recipient
    assert _recipients(mailoutbox) == {world.reviewer.email, world.owner.email,
                                       world.colleague.email}
    # The reviewer now sees the request and its model, and nothing else of the organisation.
    assert list(requests_visible_to(world.reviewer)) == [world.request]
    assert list(models_visible_to(world.reviewer)) == [world.model]
    assert not requests_visible_to(world.reviewer2).exists()


def test_assigning_a_second_reviewer_during_review_keeps_the_status(world):
    bring_to(world, "in_review")
    services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                             actor=world.admin)
    world.request.refresh_from_db()
    assert world.request.status == S.IN_REVIEW
    assert _events("review_request.start_review").count() == 1
    assert set(world.request.assignments.values_list("reviewer__username", "is_lead")) == {
        ("reviewer", True), ("reviewer2", False)}
    # The second reviewer acts for the agency, but the determination is the lead's.
    services.request_ask_information(review_request=world.request, actor=world.reviewer2,
                                     question="Which scaffolds?")
    services.message_post(review_request=world.request, actor=world.owner, body="Scaffold A.")
    with pytest.raises(PermissionDenied, match="lead"):
        services.request_determine(review_request=world.request, actor=world.reviewer2,
                                   outcome="not_covered", rationale="Below.")
    services.request_determine(review_request=world.request, actor=world.reviewer,
                               outcome="not_covered", rationale="Below.")


def test_a_reviewer_cannot_be_assigned_twice(world):
    bring_to(world, "in_review")
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer,
                                 actor=world.admin)
    assert excinfo.value.status == 409
    assert ReviewerAssignment.objects.count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("status", ["draft", "determined", "withdrawn"])
def test_reviewers_are_not_assigned_outside_review(world, status):
    bring_to(world, status)
    assignments = ReviewerAssignment.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                                 actor=world.admin)
    assert ReviewerAssignment.objects.count() == assignments
    assert not requests_visible_to(world.reviewer2).exists()


def test_an_unassigned_reviewer_loses_the_request_and_cannot_act(world):
    bring_to(world, "in_review")
    assignment = world.request.assignments.get()
    with pytest.raises(PermissionDenied):
        services.reviewer_unassign(assignment=assignment, actor=world.owner)
    with pytest.raises(PermissionDenied):
        services.reviewer_unassign(assignment=assignment, actor=world.reviewer)
    assert ReviewerAssignment.objects.exists()

    services.reviewer_unassign(assignment=assignment, actor=world.admin)

    assert not ReviewerAssignment.objects.exists()
    assert not requests_visible_to(world.reviewer).exists()
    assert not models_visible_to(world.reviewer).exists()
    event = AuditEvent.objects.get(action="reviewer.unassigned")
    assert event.data == {"reviewer": "reviewer"}
    assert event.actor == world.admin
    with pytest.raises(PermissionDenied):
        _act(world, "determine", actor=world.reviewer)
    with pytest.raises(PermissionDenied):
        services.message_post(review_request=world.request, actor=world.reviewer, body="Hi")
    # The admins still oversee it.
    assert requests_visible_to(world.admin).filter(pk=world.request.pk).exists()


def test_unassigning_keeps_the_model_visible_through_another_assignment_on_it(world):
    bring_to(world, "submitted")
    services.reviewer_assign(review_request=world.request, reviewer=world.reviewer,
                             actor=world.admin)
    services.request_withdraw(review_request=world.request, actor=world.owner)
    second = services.request_create(model=world.model, actor=world.owner)
    services.request_submit(review_request=second, actor=world.owner)
    services.reviewer_assign(review_request=second, reviewer=world.reviewer, actor=world.admin)

    services.reviewer_unassign(assignment=second.assignments.get(), actor=world.admin)

    assert list(requests_visible_to(world.reviewer)) == [world.request]
    assert list(models_visible_to(world.reviewer)) == [world.model]


def test_a_plain_message_emails_the_other_side(world, django_capture_on_commit_callbacks,
                                               mailoutbox):
    bring_to(world, "in_review")
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(review_request=world.request, actor=world.owner,
                              body="We added a system card.")
    assert _recipients(mailoutbox) == {world.reviewer.email}
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(review_request=world.request, actor=world.reviewer,
                              body="Thank you.")
    assert _recipients(mailoutbox) == {world.owner.email, world.colleague.email}
    assert all("We added" not in m.body and "Thank you" not in m.body for m in mailoutbox)


def test_a_withdrawn_draft_emails_nobody(world, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.request_withdraw(review_request=world.request, actor=world.owner)
    assert mailoutbox == []
    assert _events("review_request.withdraw").count() == 1
