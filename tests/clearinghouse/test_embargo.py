"""Embargoes: proposal and consent, revision, the ceiling, naive times, automatic exits."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from clearinghouse import cases, embargo
from clearinghouse.models import Embargo, EmbargoAcceptance
from review_portal.errors import ApplicationError


def _accept_all(cw, e):
    for user in (cw.finder, cw.vendor):
        e = embargo.embargo_answer(embargo=e, actor=user, accept=True)
    return e


def test_an_embargo_becomes_active_when_every_participant_accepted(case_world):
    cw = case_world
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    assert e.status == "proposed"
    assert set(e.acceptances.values_list("organisation__name", "status")) == {
        ("Acme AI", "invited"), ("Vendor A", "invited")}
    e = embargo.embargo_answer(embargo=e, actor=cw.finder, accept=True)
    assert e.status == "proposed"
    e = embargo.embargo_answer(embargo=e, actor=cw.vendor, accept=True)
    assert e.status == "active"
    assert AuditEvent.objects.filter(action="embargo.activated").count() == 1


def test_the_default_end_is_45_days_after_first_vendor_contact_or_the_reporters_deadline(
        case_world):
    cw = case_world
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    assert e.ends_at == cw.case.vendor_aware_at + timedelta(
        days=settings.CLEARINGHOUSE_EMBARGO_DEFAULT_DAYS)
    deadline = cw.case.vendor_aware_at + timedelta(days=20)
    cw.report.__class__.objects.filter(pk=cw.report.pk).update(reporter_deadline=deadline)
    assert embargo.embargo_default_end(cw.case) == deadline


def test_a_decline_rejects_the_proposal(case_world):
    cw = case_world
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    e = embargo.embargo_answer(embargo=e, actor=cw.vendor, accept=False)
    assert e.status == "rejected"


def test_an_embargo_cannot_pass_the_ceiling_neither_proposed_nor_revised(case_world):
    cw = case_world
    ceiling = cw.case.vendor_aware_at + timedelta(days=settings.CLEARINGHOUSE_EMBARGO_CEILING_DAYS)
    with pytest.raises(ApplicationError, match="may not end after"):
        embargo.embargo_propose(case=cw.case, actor=cw.coordinator,
                                ends_at=ceiling + timedelta(minutes=1))
    assert not Embargo.objects.exists()
    e = _accept_all(cw, embargo.embargo_propose(case=cw.case, actor=cw.coordinator))
    with pytest.raises(ApplicationError, match="may not end after"):
        embargo.embargo_propose(case=cw.case, actor=cw.coordinator,
                                ends_at=ceiling + timedelta(days=1), reason="More time")
    e.refresh_from_db()
    assert (e.status, e.proposed_ends_at) == ("active", None)


def test_a_naive_end_is_refused(case_world):
    cw = case_world
    with pytest.raises(ApplicationError, match="time zone"):
        embargo.embargo_propose(case=cw.case, actor=cw.coordinator,
                                ends_at=datetime.now() + timedelta(days=10))  # noqa: DTZ005


def test_a_revision_lapses_everyone_until_they_accept_the_new_end(case_world):
    cw = case_world
    e = _accept_all(cw, embargo.embargo_propose(case=cw.case, actor=cw.coordinator))
    old_end = e.ends_at
    new_end = old_end + timedelta(days=10)
    with pytest.raises(ApplicationError, match="why"):
        embargo.embargo_propose(case=cw.case, actor=cw.coordinator, ends_at=new_end)
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator, ends_at=new_end,
                                reason="The fix needs a second release.")
    assert e.status == "revise" and e.ends_at == old_end
    assert set(e.acceptances.values_list("status", flat=True)) == {"lapsed"}
    e = _accept_all(cw, e)
    assert (e.status, e.ends_at, e.proposed_ends_at) == ("active", new_end, None)


def test_a_declined_revision_keeps_the_current_end(case_world):
    cw = case_world
    e = _accept_all(cw, embargo.embargo_propose(case=cw.case, actor=cw.coordinator))
    old_end = e.ends_at
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator,
                                ends_at=old_end + timedelta(days=3), reason="More time")
    e = embargo.embargo_answer(embargo=e, actor=cw.vendor, accept=False)
    assert (e.status, e.ends_at) == ("active", old_end)
    assert set(EmbargoAcceptance.objects.values_list("status", flat=True)) == {"accepted"}


@pytest.mark.parametrize("field", ["public_at", "exploit_public_at"])
def test_the_embargo_exits_when_the_vulnerability_or_an_exploit_is_public(case_world, field):
    cw = case_world
    _accept_all(cw, embargo.embargo_propose(case=cw.case, actor=cw.coordinator))
    cases.case_state_set(case=cw.case, actor=cw.coordinator, field=field)
    e = Embargo.objects.get()
    assert e.status == "exited" and e.exited_at is not None
    assert "public" in e.exit_reason
    event = AuditEvent.objects.get(action="embargo.exited")
    assert event.data["reason"] == e.exit_reason


def test_attacks_observed_prompt_the_coordinator_to_exit(case_world):
    cw = case_world
    _accept_all(cw, embargo.embargo_propose(case=cw.case, actor=cw.coordinator))
    cases.case_state_set(case=cw.case, actor=cw.coordinator, field="attacks_observed_at")
    cw.case.refresh_from_db()
    assert embargo.embargo_prompts_exit(cw.case)
    assert Embargo.objects.get().status == "active"


def test_the_sweep_exits_embargoes_whose_end_passed_once(case_world):
    cw = case_world
    e = _accept_all(cw, embargo.embargo_propose(
        case=cw.case, actor=cw.coordinator,
        ends_at=timezone.now().astimezone(UTC) + timedelta(days=2)))
    assert embargo.embargoes_sweep_ended(now=e.ends_at - timedelta(minutes=1)) == []
    assert embargo.embargoes_sweep_ended(now=e.ends_at + timedelta(minutes=1)) == [e.pk]
    assert embargo.embargoes_sweep_ended(now=e.ends_at + timedelta(hours=1)) == []
    assert Embargo.objects.get().status == "exited"
    assert AuditEvent.objects.filter(action="embargo.exited").count() == 1


def test_a_vendor_confirmed_later_is_invited_to_the_embargo_in_force(case_world):
    cw = case_world
    _accept_all(cw, embargo.embargo_propose(case=cw.case, actor=cw.coordinator))
    cases.vendor_add(case=cw.case, organisation=cw.other_vendor_org, actor=cw.coordinator)
    assert EmbargoAcceptance.objects.get(organisation=cw.other_vendor_org).status == "invited"


def test_only_the_coordinator_learns_which_organisations_answered_the_embargo(api, client,
                                                                              case_world):
    cw = case_world
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    cases.vendor_add(case=cw.case, organisation=cw.other_vendor_org, actor=cw.coordinator)
    embargo.embargo_answer(embargo=e, actor=cw.vendor, accept=True)
    url = f"/api/v1/cases/{cw.case.pk}/embargo/"
    mine = api.as_(cw.vendor).get(url).json()
    assert [a["organisation_name"] for a in mine["acceptances"]] == ["Vendor A"]
    assert (mine["accepted_count"], mine["acceptance_count"]) == (1, 3)
    everyone = api.as_(cw.coordinator).get(url).json()
    assert {a["organisation_name"] for a in everyone["acceptances"]} >= {"Vendor A", "Vendor B"}
    client.force_login(cw.vendor)
    page = client.get(reverse("case_detail", args=[cw.case.pk])).content.decode()
    assert "Vendor B" not in page and "1 of 3 accepted" in page
    client.force_login(cw.coordinator)
    page = client.get(reverse("case_detail", args=[cw.case.pk])).content.decode()
    assert "Vendor B" in page
