"""The lead records the determination by confirming the policy's recommendation or overriding it
with a reason; the determination records the policy version, runs and reviews it rests on
(submissions.services.request_determine)."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from review_portal.errors import ApplicationError, TransitionNotAllowed
from reviews import services as review_services
from reviews.models import PolicyVersion
from submissions import services
from submissions.models import Determination, ReviewRequest
from tests.reviews.conftest import add_run, draft_review, submit_review, suite_version

S = ReviewRequest.Status


def _nothing_written(panel, events_before):
    panel.request.refresh_from_db()
    assert panel.request.status == S.IN_REVIEW
    assert not Determination.objects.exists()
    assert AuditEvent.objects.count() == events_before


def _determine(panel, actor=None, **kw):
    kw.setdefault("outcome", "not_covered")
    kw.setdefault("rationale", "Below the level.")
    return services.request_determine(review_request=panel.request,
                                      actor=actor or panel.lead, **kw)


def test_the_lead_confirms_the_recommendation_without_a_reason(panel):
    determination = _determine(panel)  # compute rule only: 3e25 < 1e26 → not covered
    assert determination.policy_version == panel.policy
    assert determination.recommendation == "not_covered"
    assert not determination.overridden
    assert determination.override_reason == ""


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_override_without_a_reason_is_refused_and_nothing_is_written(panel, reason):
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        _determine(panel, outcome="covered", override_reason=reason)
    assert excinfo.value.field == "override_reason"
    assert "recommends not covered" in excinfo.value.message
    _nothing_written(panel, events)


def test_a_reason_given_when_confirming_is_refused(panel):
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        _determine(panel, outcome="not_covered", override_reason="Just because.")
    assert excinfo.value.field == "override_reason"
    _nothing_written(panel, events)


@pytest.mark.parametrize("outcome", ["covered", "not_covered"])
def test_insufficient_evidence_can_only_be_overridden(panel, demo_policy, outcome):
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError, match="insufficient"):
        _determine(panel, outcome=outcome)
    _nothing_written(panel, events)

    determination = _determine(panel, outcome=outcome, override_reason="Red-team report.")
    assert determination.recommendation == "insufficient_evidence"
    assert determination.overridden
    assert determination.override_reason == "Red-team report."
    assert determination.policy_version == demo_policy


def test_the_determination_rests_on_the_runs_and_the_submitted_reviews(panel, demo_policy):
    version = suite_version(panel.world)
    old = add_run(panel.world, version, {"exploit_development": (0.1, 0.05, 40)},
                  minutes_ago=30)
    run = add_run(panel.world, version, {"exploit_development": (0.8, 0.05, 40),
                                         "vulnerability_discovery": (0.2, 0.05, 40)})
    other_suite = add_run(panel.world, suite_version(panel.world, "Other"),
                          {"defense": (0.9, 0.05, 10)})
    lead_review = submit_review(panel.request, panel.lead)
    draft_review(panel.request, panel.member)

    determination = _determine(panel, outcome="covered", rationale="Exploits above the level.")

    assert determination.recommendation == "covered"
    assert not determination.overridden
    assert set(determination.runs.all()) == {run, other_suite}
    assert old not in determination.runs.all()
    assert list(determination.reviews.all()) == [lead_review]  # drafts do not count
    event = AuditEvent.objects.get(action="determination.recorded")
    assert event.data["runs"] == sorted([run.pk, other_suite.pk])
    assert event.data["policy"] == demo_policy.number


def test_a_recused_reviewers_review_does_not_count(panel):
    member_review = submit_review(panel.request, panel.member)
    lead_review = submit_review(panel.request, panel.lead)
    review_services.recusal_record(assignment=panel.request.assignments.get(reviewer=panel.member),
                                   actor=panel.member, note="Found a conflict.")
    determination = _determine(panel)
    assert list(determination.reviews.all()) == [lead_review]
    assert member_review.pk  # kept, but not part of the basis


@pytest.mark.parametrize("who", ["member", "reviewer2", "admin", "owner", "colleague",
                                 "outsider", "partner"])
def test_only_the_lead_records_the_determination(panel, who):
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        _determine(panel, actor=panel.actors()[who])
    _nothing_written(panel, events)


def test_a_new_lead_determines_and_the_former_lead_no_longer_can(panel):
    member_assignment = panel.request.assignments.get(reviewer=panel.member)
    review_services.lead_set(assignment=member_assignment, actor=panel.admin)
    with pytest.raises(PermissionDenied, match="lead"):
        _determine(panel, actor=panel.lead)
    assert _determine(panel, actor=panel.member).decided_by == panel.member


def test_without_an_active_policy_no_determination_is_recorded(panel):
    PolicyVersion.objects.update(is_active=False)
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        _determine(panel)
    assert excinfo.value.status == 409
    assert "No threshold policy is active" in excinfo.value.message
    _nothing_written(panel, events)


def test_a_wrong_state_is_refused_before_the_policy_is_consulted(panel):
    services.request_ask_information(review_request=panel.request, actor=panel.member,
                                     question="Which scaffolds?")
    with pytest.raises(TransitionNotAllowed):
        _determine(panel, outcome="covered")  # an override without reason, in the wrong state


def test_a_reconsideration_is_determined_on_the_policy_active_at_that_time(panel, demo_policy):
    first = _determine(panel, outcome="covered", override_reason="No runs yet; red team.")
    services.request_reconsideration(review_request=panel.request, actor=panel.owner,
                                     reason="The scaffolding was wrong.")
    newer = review_services.policy_create(actor=panel.admin, name="v3", activate=True, rules=[
        {"kind": "training_compute", "threshold": 1e25, "citation": "EU AI Act presumption"}])
    second = _determine(panel, outcome="covered")
    first.refresh_from_db()
    assert first.policy_version == demo_policy
    assert (second.policy_version, second.recommendation, second.overridden) == (
        newer, "covered", False)
