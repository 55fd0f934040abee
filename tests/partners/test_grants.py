import pytest
from django.core.exceptions import PermissionDenied
from guardian.shortcuts import get_perms

from audit.models import AuditEvent
from partners import selectors, services
from partners.models import AccessGrant
from partners.tasks import grants_sweep_ended_task
from review_portal.errors import TransitionNotAllowed
from submissions.models import Artifact
from submissions.selectors import models_visible_to
from tests.partners.conftest import end_grant, make_live_grant, request_access


def perms_of(grant):
    return get_perms(grant.organisation.group, grant.model)


def test_access_only_after_both_approvals_and_accepted_terms(pw):
    access_request = request_access(pw)
    services.access_request_approve(access_request=access_request, actor=pw.w.owner)
    services.terms_accept(model=pw.w.model, actor=pw.w.partner, version=1, accepted_name="Pat")
    assert not AccessGrant.objects.exists()
    grant = make_live_grant(pw, pw.other_partner)  # the other org, fully approved
    assert list(selectors.models_granted_to(pw.other_partner)) == [pw.w.model]
    assert list(selectors.models_granted_to(pw.w.partner)) == []
    assert "view_frontiermodel" in perms_of(grant)


def test_a_grant_is_not_live_before_its_window_starts(pw):
    access_request = request_access(pw)
    from tests.partners.conftest import approve_both

    approve_both(pw, access_request)
    services.terms_accept(model=pw.w.model, actor=pw.w.partner, version=1, accepted_name="Pat")
    assert AccessGrant.objects.filter(request=access_request).exists()
    assert list(selectors.models_granted_to(pw.w.partner)) == []


def test_access_is_denied_one_second_after_the_window_ends_with_no_job_run(pw):
    grant = make_live_grant(pw)
    assert selectors.granted_model_get_for_user(user=pw.w.partner, pk=pw.w.model.pk)
    end_grant(grant, seconds_ago=1)
    # The guardian permission is still there (the sweep has not run) and changes nothing.
    assert "view_frontiermodel" in perms_of(grant)
    assert list(selectors.models_granted_to(pw.w.partner)) == []


def test_the_partner_never_sees_the_model_through_the_submissions_selectors(pw):
    make_live_grant(pw)
    assert list(models_visible_to(pw.w.partner)) == []


def test_a_suspended_partner_organisation_loses_access_at_once(pw):
    make_live_grant(pw)
    services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                reason="Incident.")
    assert list(selectors.models_granted_to(pw.w.partner)) == []


def test_a_revoked_partner_organisation_has_its_grants_revoked(pw):
    grant = make_live_grant(pw)
    services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="revoke",
                                reason="Fraud.")
    grant.refresh_from_db()
    assert grant.revoked_at is not None and "Fraud." in grant.revoke_reason
    assert perms_of(grant) == []


def test_admins_or_the_developer_revoke_early_with_a_reason(pw):
    grant = make_live_grant(pw)
    for actor in (pw.w.partner, pw.w.outsider, pw.w.reviewer):
        with pytest.raises(PermissionDenied):
            services.grant_revoke(grant=grant, actor=actor, reason="x")
    services.grant_revoke(grant=grant, actor=pw.w.colleague, reason="Misuse reported.")
    grant.refresh_from_db()
    assert (grant.revoked_by, grant.revoke_reason) == (pw.w.colleague, "Misuse reported.")
    assert list(selectors.models_granted_to(pw.w.partner)) == []
    assert perms_of(grant) == []
    assert AuditEvent.objects.filter(action="access_grant.revoked",
                                     object_id=str(grant.pk)).exists()
    with pytest.raises(TransitionNotAllowed):
        services.grant_revoke(grant=grant, actor=pw.w.admin, reason="again")
    assert AccessGrant.objects.filter(pk=grant.pk).exists()  # history kept


def test_a_grant_cannot_be_deleted(pw):
    grant = make_live_grant(pw)
    with pytest.raises(RuntimeError):
        grant.delete()


def test_the_sweep_removes_permissions_once_and_notifies_once(pw, mailoutbox,
                                                             django_capture_on_commit_callbacks):
    grant = end_grant(make_live_grant(pw))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_sweep_ended_task.delay().get() == [grant.pk]
        assert grants_sweep_ended_task.delay().get() == []
    assert perms_of(grant) == []
    ended = [m for m in mailoutbox if "ended" in m.subject]
    assert len(ended) == 1
    assert AuditEvent.objects.filter(action="access_grant.ended").count() == 1


def test_the_sweep_leaves_live_grants_alone(pw):
    grant = make_live_grant(pw)
    assert grants_sweep_ended_task.delay().get() == []
    assert "view_frontiermodel" in perms_of(grant)


def test_the_partner_sees_only_artifacts_marked_shareable(pw):
    grant = make_live_grant(pw)
    for name, shareable in (("card.pdf", True), ("eval.pdf", False)):
        Artifact.objects.create(request=pw.w.request, kind="model_card", filename=name,
                                content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                                storage_path=f"x/{name}", uploaded_by=pw.w.owner,
                                shareable_with_partners=shareable)
    shared = selectors.shareable_artifacts_for_partner(user=pw.w.partner, model=grant.model)
    assert [a.filename for a in shared] == ["card.pdf"]
    assert list(selectors.shareable_artifacts_for_partner(user=pw.other_partner,
                                                          model=grant.model)) == []
    end_grant(grant)
    assert list(selectors.shareable_artifacts_for_partner(user=pw.w.partner,
                                                          model=grant.model)) == []
