from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from partners import services
from partners.models import AccessGrant, AccessRequest
from review_portal.errors import ApplicationError, TransitionNotAllowed
from submissions.window_services import window_cancel
from tests.partners.conftest import approve_both, request_access


def test_it_rejects_a_31_day_window(pw):
    with pytest.raises(ApplicationError, match="at most 30 days"):
        request_access(pw, ends_at=pw.start + timedelta(days=31))
    assert not AccessRequest.objects.exists()


def test_it_accepts_a_30_day_window(pw):
    assert request_access(pw, ends_at=pw.start + timedelta(days=30)).status == "pending"


def test_it_rejects_a_window_that_starts_before_the_government_window_ends(pw):
    with pytest.raises(ApplicationError, match="government window ends") as exc:
        request_access(pw, starts_at=pw.window.ends_at - timedelta(seconds=1))
    assert exc.value.field == "starts_at"
    assert not AccessRequest.objects.exists()


def test_without_a_government_window_the_planned_partner_release_bounds_the_start(pw):
    window_cancel(window=pw.window, actor=pw.w.owner)
    release = pw.w.model.planned_partner_release_at
    with pytest.raises(ApplicationError, match="government window ends"):
        request_access(pw, starts_at=release - timedelta(hours=1),
                       ends_at=release + timedelta(days=5))
    assert request_access(pw, starts_at=release, ends_at=release + timedelta(days=5))


def test_it_rejects_a_window_past_the_public_release(pw):
    public = pw.w.model.planned_public_release_at
    with pytest.raises(ApplicationError, match="public release"):
        request_access(pw, starts_at=public - timedelta(days=5),
                       ends_at=public + timedelta(seconds=1))


def test_it_rejects_a_start_in_the_past_and_an_end_before_the_start(pw):
    with pytest.raises(ApplicationError, match="past"):
        request_access(pw, starts_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ApplicationError, match="start before it ends"):
        request_access(pw, ends_at=pw.start)


def test_an_unvetted_or_suspended_partner_cannot_request(pw):
    services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                reason="Incident.")
    with pytest.raises(ApplicationError, match="vetted"):
        request_access(pw)


def test_access_is_only_for_covered_models(pw):
    with pytest.raises(ApplicationError, match="covered"):
        services.access_request_create(actor=pw.w.partner, model=pw.w.other_model,
                                       starts_at=pw.start, ends_at=pw.end, justification="x")


def test_both_approvals_are_needed_from_two_people_neither_the_requester(pw):
    access_request = request_access(pw)
    with pytest.raises(PermissionDenied):
        services.access_request_approve(access_request=access_request, actor=pw.w.partner)
    with pytest.raises(PermissionDenied):
        services.access_request_approve(access_request=access_request, actor=pw.w.outsider)
    services.access_request_approve(access_request=access_request, actor=pw.w.owner)
    access_request.refresh_from_db()
    assert access_request.status == "pending"
    with pytest.raises(TransitionNotAllowed):
        services.access_request_approve(access_request=access_request, actor=pw.w.colleague)
    services.access_request_approve(access_request=access_request, actor=pw.w.admin)
    access_request.refresh_from_db()
    assert access_request.status == "approved"
    assert (access_request.developer_approved_by, access_request.agency_approved_by) == (
        pw.w.owner, pw.w.admin)
    assert AuditEvent.objects.filter(action="access_request.approved",
                                     object_id=str(access_request.pk)).count() == 2


def test_a_developer_invites_a_partner_and_cannot_approve_the_invitation_itself(pw):
    invitation = services.access_request_create(
        actor=pw.w.owner, model=pw.w.model, organisation=pw.other_profile.organisation,
        starts_at=pw.start, ends_at=pw.end, justification="They run the county's water.")
    assert invitation.invited and invitation.organisation == pw.other_profile.organisation
    with pytest.raises(PermissionDenied):
        services.access_request_approve(access_request=invitation, actor=pw.w.owner)
    services.access_request_approve(access_request=invitation, actor=pw.w.colleague)
    services.access_request_approve(access_request=invitation, actor=pw.w.reviewer)
    invitation.refresh_from_db()
    assert invitation.status == "approved"


def test_a_denied_request_may_be_reconsidered_once(pw):
    access_request = request_access(pw)
    with pytest.raises(ApplicationError):
        services.access_request_deny(access_request=access_request, actor=pw.w.reviewer,
                                     reason="")
    services.access_request_approve(access_request=access_request, actor=pw.w.owner)
    services.access_request_deny(access_request=access_request, actor=pw.w.reviewer,
                                 reason="Too broad.")
    access_request.refresh_from_db()
    assert (access_request.status, access_request.denial_reason) == ("denied", "Too broad.")
    with pytest.raises(PermissionDenied):
        services.access_request_reconsider(access_request=access_request,
                                           actor=pw.other_partner, reason="Please")
    services.access_request_reconsider(access_request=access_request, actor=pw.w.partner,
                                       reason="We narrowed the scope.")
    access_request.refresh_from_db()
    assert access_request.status == "pending"
    assert access_request.developer_approved_by is None  # both approvals needed again
    services.access_request_deny(access_request=access_request, actor=pw.w.owner,
                                 reason="Still too broad.")
    with pytest.raises(TransitionNotAllowed, match="once"):
        services.access_request_reconsider(access_request=access_request, actor=pw.w.partner,
                                           reason="Again")
    assert AuditEvent.objects.filter(action="access_request.denied").count() == 2


def test_emails_tell_each_side_without_confidential_details(pw, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        access_request = request_access(pw)
    recipients = {a for m in mailoutbox for a in m.to}
    assert {"owner@example.org", "admin@example.org", "partner@example.org"} <= recipients
    assert "banker@example.org" not in recipients
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.access_request_deny(access_request=access_request, actor=pw.w.owner,
                                     reason="secret reason")
    assert [m.to for m in mailoutbox] == [["partner@example.org"]]
    assert "secret reason" not in mailoutbox[0].body
    assert "denied" in mailoutbox[0].subject


def test_no_grant_before_the_terms_are_accepted(pw):
    access_request = request_access(pw)
    approve_both(pw, access_request)
    assert not AccessGrant.objects.exists()
    with pytest.raises(ApplicationError, match="version 1"):
        services.terms_accept(model=pw.w.model, actor=pw.w.partner, version=2,
                              accepted_name="Pat")
    services.terms_accept(model=pw.w.model, actor=pw.w.partner, version=1,
                          accepted_name="Pat Doe")
    grant = AccessGrant.objects.get()
    assert (grant.starts_at, grant.ends_at) == (access_request.starts_at,
                                                access_request.ends_at)
    assert grant.terms_acceptance.accepted_name == "Pat Doe"
    assert AuditEvent.objects.filter(action="terms.accepted").exists()
    assert AuditEvent.objects.filter(action="access_grant.created").exists()


def test_terms_accepted_first_grant_at_the_second_approval(pw):
    access_request = request_access(pw)
    services.terms_accept(model=pw.w.model, actor=pw.w.partner, version=1, accepted_name="Pat")
    services.access_request_approve(access_request=access_request, actor=pw.w.owner)
    assert not AccessGrant.objects.exists()
    services.access_request_approve(access_request=access_request, actor=pw.w.reviewer)
    access_request.refresh_from_db()
    assert access_request.status == "granted"
    assert AccessGrant.objects.filter(request=access_request).exists()


def test_new_terms_need_a_new_acceptance(pw):
    access_request = request_access(pw)
    services.terms_accept(model=pw.w.model, actor=pw.w.partner, version=1, accepted_name="Pat")
    services.terms_set(model=pw.w.model, actor=pw.w.owner, text="Version two.")
    approve_both(pw, access_request)
    assert not AccessGrant.objects.exists()
    with pytest.raises(PermissionDenied):
        services.terms_set(model=pw.w.model, actor=pw.w.outsider, text="x")
