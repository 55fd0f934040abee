"""Conflicts of interest block assignment, recusal removes access and leaves a record, and one
lead per request (reviews.services, submissions.services.reviewer_assign)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from accounts.models import Organisation
from audit.models import AuditEvent
from review_portal.errors import ApplicationError
from reviews.models import ConflictOfInterest, Recusal
from reviews.services import conflict_declare, lead_set, recusal_record
from submissions import services
from submissions.models import ReviewerAssignment
from submissions.selectors import models_visible_to, requests_visible_to
from tests.conftest import bring_to


def _declare(world, reviewer=None, organisation=None, kind="employment", note="Worked there."):
    return conflict_declare(actor=reviewer or world.reviewer2,
                            organisation=organisation or world.acme, kind=kind, note=note)


# --- conflicts --------------------------------------------------------------------------------

def test_a_declared_conflict_is_recorded_and_audited(world):
    conflict = _declare(world, note="  Left Acme in 2024. ")
    assert (conflict.reviewer, conflict.organisation, conflict.kind, conflict.note) == (
        world.reviewer2, world.acme, "employment", "Left Acme in 2024.")
    event = AuditEvent.objects.get(action="conflict.declared")
    assert (event.actor, event.object_type, event.data) == (
        world.reviewer2, "reviews.conflictofinterest",
        {"organisation": "Acme AI", "kind": "employment"})


def test_a_conflicted_reviewer_cannot_be_assigned_and_nothing_is_written(world):
    bring_to(world, "in_review")
    _declare(world, kind="financial")
    before = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as excinfo:
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                                 actor=world.admin)
    assert excinfo.value.status == 409
    assert excinfo.value.field == "reviewer"
    assert "conflict of interest with Acme AI (financial interest)" in excinfo.value.message
    assert not ReviewerAssignment.objects.filter(reviewer=world.reviewer2).exists()
    assert not requests_visible_to(world.reviewer2).exists()
    assert AuditEvent.objects.count() == before


def test_the_conflict_blocks_every_model_of_that_organisation_and_no_other(world):
    _declare(world)
    bring_to(world, "submitted")
    with pytest.raises(ApplicationError):
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                                 actor=world.admin)
    world.request.refresh_from_db()
    assert world.request.status == "submitted"  # the refused assignment started nothing
    other = services.request_create(model=world.other_model, actor=world.outsider)
    services.request_submit(review_request=other, actor=world.outsider)
    services.reviewer_assign(review_request=other, reviewer=world.reviewer2, actor=world.admin)
    assert list(requests_visible_to(world.reviewer2)) == [other]


def test_declaring_a_conflict_recuses_from_current_assignments_with_that_organisation(world):
    bring_to(world, "in_review")
    _declare(world, reviewer=world.reviewer, kind="personal_relationship")
    assert not ReviewerAssignment.objects.filter(reviewer=world.reviewer).exists()
    recusal = Recusal.objects.get()
    assert (recusal.reviewer, recusal.request, recusal.was_lead) == (world.reviewer,
                                                                     world.request, True)
    assert "Personal relationship" in recusal.note
    assert not requests_visible_to(world.reviewer).exists()
    assert not models_visible_to(world.reviewer).exists()
    assert AuditEvent.objects.filter(action="reviewer.recused").count() == 1


@pytest.mark.parametrize("who", ["owner", "admin", "partner"])
def test_only_reviewers_declare_conflicts(world, who):
    with pytest.raises(PermissionDenied):
        _declare(world, reviewer=world.actors()[who])
    assert not ConflictOfInterest.objects.exists()


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"kind": "grudge"}, "kind"),
    ({"note": "  "}, "note"),
    ({"note": "x" * 5_001}, "note"),
])
def test_a_conflict_needs_a_kind_and_a_note(world, kwargs, field):
    with pytest.raises(ApplicationError) as excinfo:
        _declare(world, **kwargs)
    assert excinfo.value.field == field
    assert not ConflictOfInterest.objects.exists()
    assert not AuditEvent.objects.filter(action="conflict.declared").exists()


def test_a_conflict_is_with_an_ai_developer_organisation(world):
    agency = world.reviewer.membership.organisation
    with pytest.raises(ApplicationError) as excinfo:
        _declare(world, organisation=agency)
    assert excinfo.value.field == "organisation"
    assert not ConflictOfInterest.objects.exists()


def test_a_conflict_is_declared_once_per_organisation(world):
    _declare(world)
    with pytest.raises(ApplicationError) as excinfo:
        _declare(world, kind="other")
    assert excinfo.value.status == 409
    assert ConflictOfInterest.objects.get().kind == "employment"


# --- recusal ----------------------------------------------------------------------------------

def test_recusal_removes_access_keeps_a_record_and_is_audited(world):
    bring_to(world, "in_review")
    assignment = world.request.assignments.get()
    recusal = recusal_record(assignment=assignment, actor=world.reviewer,
                             note="  Met the founder last week. ")
    assert (recusal.note, recusal.was_lead) == ("Met the founder last week.", True)
    assert not ReviewerAssignment.objects.exists()
    assert not requests_visible_to(world.reviewer).exists()
    assert not models_visible_to(world.reviewer).exists()
    event = AuditEvent.objects.get(action="reviewer.recused")
    assert event.object_type == "reviews.recusal"  # not on the request's (developer) history
    assert event.data == {"request": world.request.pk, "reviewer": "reviewer",
                          "was_lead": True}
    assert "founder" not in str(event.data)
    with pytest.raises(PermissionDenied):
        services.message_post(review_request=world.request, actor=world.reviewer, body="Hi")


def test_a_recused_reviewer_cannot_be_assigned_again(world):
    bring_to(world, "in_review")
    recusal_record(assignment=world.request.assignments.get(), actor=world.reviewer,
                   note="Conflict.")
    with pytest.raises(ApplicationError, match="recused") as excinfo:
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer,
                                 actor=world.admin)
    assert excinfo.value.status == 409
    assert not ReviewerAssignment.objects.exists()


@pytest.mark.parametrize("who", ["admin", "reviewer2", "owner"])
def test_only_the_reviewer_recuses_themselves(world, who):
    bring_to(world, "in_review")
    with pytest.raises(PermissionDenied):
        recusal_record(assignment=world.request.assignments.get(), actor=world.actors()[who],
                       note="Not mine to give.")
    assert ReviewerAssignment.objects.count() == 1
    assert not Recusal.objects.exists()


def test_a_recusal_needs_a_note(world):
    bring_to(world, "in_review")
    with pytest.raises(ApplicationError) as excinfo:
        recusal_record(assignment=world.request.assignments.get(), actor=world.reviewer,
                       note="")
    assert excinfo.value.field == "note"
    assert ReviewerAssignment.objects.count() == 1


def test_recusing_twice_answers_a_conflict(world):
    bring_to(world, "in_review")
    assignment = world.request.assignments.get()
    recusal_record(assignment=assignment, actor=world.reviewer, note="Conflict.")
    with pytest.raises(ApplicationError) as excinfo:
        recusal_record(assignment=assignment, actor=world.reviewer, note="Again.")
    assert excinfo.value.status == 409
    assert Recusal.objects.count() == 1


# --- the lead ---------------------------------------------------------------------------------

def test_the_first_reviewer_assigned_leads_and_the_next_does_not(panel):
    leads = dict(panel.request.assignments.values_list("reviewer__username", "is_lead"))
    assert leads == {"reviewer": True, "member": False}
    assert AuditEvent.objects.filter(action="reviewer.assigned",
                                     data__reviewer="member").get().data["lead"] is False


def test_an_admin_may_name_the_lead_at_assignment(panel):
    services.reviewer_assign(review_request=panel.request, reviewer=panel.world.reviewer2,
                             actor=panel.admin, is_lead=True)
    leads = dict(panel.request.assignments.values_list("reviewer__username", "is_lead"))
    assert leads == {"reviewer": False, "member": False, "reviewer2": True}


def test_an_admin_sets_the_lead_later_and_it_is_audited(panel):
    member = panel.request.assignments.get(reviewer=panel.member)
    lead_set(assignment=member, actor=panel.admin)
    assert list(panel.request.assignments.filter(is_lead=True)) == [member]
    event = AuditEvent.objects.get(action="reviewer.lead_set")
    assert event.data == {"reviewer": "member", "previous": "reviewer"}
    before = AuditEvent.objects.count()
    lead_set(assignment=member, actor=panel.admin)  # already the lead
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["lead", "member", "owner"])
def test_only_admins_set_the_lead(panel, who):
    member = panel.request.assignments.get(reviewer=panel.member)
    with pytest.raises(PermissionDenied):
        lead_set(assignment=member, actor=panel.actors()[who])
    member.refresh_from_db()
    assert not member.is_lead


def test_when_the_lead_recuses_the_request_has_no_lead_until_an_admin_names_one(panel):
    recusal_record(assignment=panel.request.assignments.get(reviewer=panel.lead),
                   actor=panel.lead, note="Conflict.")
    assert not panel.request.assignments.filter(is_lead=True).exists()
    with pytest.raises(PermissionDenied):
        services.request_determine(review_request=panel.request, actor=panel.member,
                                   outcome="not_covered", rationale="Below.")
    lead_set(assignment=panel.request.assignments.get(reviewer=panel.member), actor=panel.admin)
    services.request_determine(review_request=panel.request, actor=panel.member,
                               outcome="not_covered", rationale="Below.")


def test_the_database_keeps_one_lead_per_request(panel):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewerAssignment.objects.filter(reviewer=panel.member).update(is_lead=True)


def test_a_program_office_is_not_a_developer_organisation(world):
    office = world.admin.membership.organisation
    assert office.kind == Organisation.Kind.PROGRAM_OFFICE
    with pytest.raises(ApplicationError):
        _declare(world, organisation=office)
