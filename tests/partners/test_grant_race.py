"""The final approval and the partner's terms acceptance landing at the same moment (issue 7).

Each needs the other's write to create the grant. Run concurrently on PostgreSQL, two threads
with their own connections, released together by a barrier: whichever commits second must see
the first and create the grant, exactly once. SQLite serialises writers, so the race cannot
happen there and the test is skipped.
"""

import threading

import pytest
from django.db import connection
from guardian.shortcuts import get_perms

from accounts.models import Organisation
from audit.models import AuditEvent
from partners import services
from partners.models import AccessGrant, AccessRequest
from tests.factories import OrganisationFactory, UserFactory
from tests.partners.conftest import request_access, vetted_partner

ROUNDS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="PostgreSQL only: SQLite serialises writers, so nothing races."),
]


def _run_together(*calls):
    """Run each call in its own thread (its own connection), released by one barrier.
    Returns the exceptions raised, if any."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
        except Exception as exc:  # noqa: BLE001 - reported by the test, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (a deadlock?)"
    return errors


def _request_needing_only_its_final_approval(pw, n):
    """A fresh vetted partner organisation (its permission starts absent), its request approved
    by the developer, terms v1 not yet accepted by it."""
    org = OrganisationFactory(name=f"Water Utility {n}", kind=Organisation.Kind.PARTNER)
    member = UserFactory(username=f"utility{n}", organisation=org)
    vetted_partner(pw.w.admin, member)
    access_request = request_access(pw, member)
    services.access_request_approve(access_request=access_request, actor=pw.w.colleague)
    assert get_perms(org.group, pw.w.model) == []
    return access_request, member


def test_the_final_approval_and_the_terms_acceptance_together_create_exactly_one_grant(pw):
    failures = []
    for n in range(ROUNDS):
        access_request, member = _request_needing_only_its_final_approval(pw, n)

        errors = _run_together(
            lambda ar=access_request: services.access_request_approve(
                access_request=ar, actor=pw.w.reviewer),
            lambda m=member: services.terms_accept(
                model=pw.w.model, actor=m, version=pw.terms.version, accepted_name="Sam Roe"),
        )

        access_request.refresh_from_db()
        grants = AccessGrant.objects.filter(request=access_request).count()
        created_events = AuditEvent.objects.filter(action="access_grant.created",
                                                   data__request=access_request.pk).count()
        perms = get_perms(access_request.organisation.group, pw.w.model)
        outcome = (access_request.status, grants, created_events, "view_frontiermodel" in perms)
        if errors or outcome != (AccessRequest.Status.GRANTED, 1, 1, True):
            failures.append((n, outcome, errors))

    assert failures == [], f"{len(failures)} of {ROUNDS} rounds went wrong: {failures}"
    assert AccessGrant.objects.count() == ROUNDS
    assert AuditEvent.objects.filter(action="access_grant.created").count() == ROUNDS
