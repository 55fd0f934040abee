"""The case pages: who sees what, forms that go through the services, and a case with 200
vendors in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from clearinghouse import cases, embargo
from clearinghouse.models import (
    Embargo,
    MemberProfile,
    Participant,
    ProductStatement,
    Remediation,
)
from tests.clearinghouse.conftest import actors

SEES_CASE = {"finder", "vendor", "coordinator"}


def _as(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def test_every_case_page_answers_each_actor_as_access_allows(client, case_world):
    cw = case_world
    pages = [reverse("case_detail", args=[cw.case.pk])]
    for name, user in actors(cw).items():
        for url in pages:
            response = _as(client, user).get(url)
            if user is None:
                assert response.status_code == 302, name
            else:
                assert response.status_code == (200 if name in SEES_CASE else 404), (name, url)
        listing = _as(client, user).get(reverse("case_list"))
        if user is not None:
            assert (cw.case.reference in listing.content.decode()) == (name in SEES_CASE), name


def test_the_forms_of_one_role_answer_404_or_403_to_the_others(client, case_world):
    cw = case_world
    statement_url = reverse("statement_edit", args=[cw.statement.pk])
    remediation_url = reverse("remediation_add", args=[cw.statement.pk])
    propose_url = reverse("embargo_propose", args=[cw.case.pk])
    # 200 for whoever may act; 403 for who sees the object but may not act; 404 for who may
    # not see it (the finder sees the case, not the vendor's statement).
    on_statement = {"vendor": 200, "coordinator": 403}
    expected = {statement_url: on_statement, remediation_url: on_statement,
                propose_url: {"coordinator": 200, "finder": 403, "vendor": 403}}
    for name, user in actors(cw).items():
        for url, codes in expected.items():
            code = _as(client, user).get(url).status_code
            assert code == (302 if user is None else codes.get(name, 404)), (name, url, code)
    assert _as(client, cw.coordinator).get(reverse("case_open")).status_code == 200
    assert _as(client, cw.vendor).get(reverse("case_open")).status_code == 403


def test_a_vendor_sees_only_its_own_statements_on_the_page(client, case_world):
    cw = case_world
    cases.vendor_add(case=cw.case, organisation=cw.other_vendor_org, actor=cw.coordinator)
    ProductStatement.objects.filter(vendor=cw.other_vendor_org).update(product_name="barjs")
    page = _as(client, cw.vendor).get(reverse("case_detail", args=[cw.case.pk])).content.decode()
    assert "Vendor A" in page and "Vendor B" not in page and "barjs" not in page
    page = _as(client, cw.coordinator).get(
        reverse("case_detail", args=[cw.case.pk])).content.decode()
    assert "Vendor B" in page and "barjs" in page
    page = _as(client, cw.finder).get(reverse("case_detail", args=[cw.case.pk])).content.decode()
    assert "No statements you may see" in page


def test_a_vendor_states_and_remediates_through_the_forms(client, case_world):
    cw = case_world
    c = _as(client, cw.vendor)
    response = c.post(reverse("statement_edit", args=[cw.statement.pk]),
                      {"status": "disputed"})
    assert response.status_code == 200 and "dispute" in response.content.decode()
    response = c.post(reverse("statement_edit", args=[cw.statement.pk]),
                      {"status": "known_affected"})
    assert response.status_code == 302
    response = c.post(reverse("remediation_add", args=[cw.statement.pk]), {
        "category": "vendor_fix", "details": "Upgrade", "artifact_sha256": "not-hex"})
    assert response.status_code == 200 and "64 hexadecimal" in response.content.decode()
    response = c.post(reverse("remediation_add", args=[cw.statement.pk]), {
        "category": "vendor_fix", "details": "Upgrade", "artifact_sha256": "b" * 64,
        "url": "https://example.org/fix.tgz"})
    assert response.status_code == 302
    assert Remediation.objects.get().artifact_sha256 == "b" * 64
    cw.case.refresh_from_db()
    assert cw.case.fix_ready_at is not None


def test_the_embargo_form_takes_a_zoned_end_and_refuses_one_past_the_ceiling(client, case_world):
    cw = case_world
    c = _as(client, cw.coordinator)
    ceiling = cw.case.vendor_aware_at + timedelta(days=settings.CLEARINGHOUSE_EMBARGO_CEILING_DAYS)
    past = (ceiling + timedelta(days=1)).astimezone(timezone.get_fixed_timezone(0))
    response = c.post(reverse("embargo_propose", args=[cw.case.pk]), {
        "ends_at": past.strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC"})
    assert response.status_code == 200 and "may not end after" in response.content.decode()
    assert not Embargo.objects.exists()
    # 12:00 in New York is 17:00 UTC in winter, 16:00 in summer.
    local = (timezone.now() + timedelta(days=20)).replace(hour=12, minute=0, second=0,
                                                         microsecond=0)
    response = c.post(reverse("embargo_propose", args=[cw.case.pk]), {
        "ends_at": local.strftime("%Y-%m-%dT%H:%M"), "timezone": "America/New_York"})
    assert response.status_code == 302
    e = Embargo.objects.get()
    assert e.entered_time_zone == "America/New_York" and e.ends_at.hour in (16, 17)
    # Revising past the ceiling on the page is refused too.
    for user in (cw.finder, cw.vendor):
        embargo.embargo_answer(embargo=e, actor=user, accept=True)
    response = c.post(reverse("embargo_propose", args=[cw.case.pk]), {
        "ends_at": past.strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC", "reason": "More"})
    assert "may not end after" in response.content.decode()
    e.refresh_from_db()
    assert e.status == "active"


def test_the_vendor_answers_the_embargo_on_the_page_and_sees_its_end_in_utc(client, case_world):
    cw = case_world
    embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    c = _as(client, cw.vendor)
    page = c.get(reverse("case_detail", args=[cw.case.pk])).content.decode()
    assert "UTC" in page and 'value="accept"' in page
    assert c.post(reverse("embargo_answer", args=[cw.case.pk]),
                  {"answer": "accept"}).status_code == 302
    assert Embargo.objects.get().acceptances.get(organisation=cw.vendor_org).status == "accepted"


def test_the_coordinator_is_prompted_to_exit_when_attacks_are_observed(client, case_world):
    cw = case_world
    embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    c = _as(client, cw.coordinator)
    c.post(reverse("case_state", args=[cw.case.pk]), {"field": "attacks_observed_at",
                                                      "confirm": "yes"})
    page = c.get(reverse("case_detail", args=[cw.case.pk])).content.decode()
    assert "Attacks were observed" in page


def test_the_coordinator_confirms_a_suggested_vendor_on_the_page(client, cw):
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report])
    suggested = case.participants.get(role="vendor")
    c = _as(client, cw.coordinator)
    assert "Confirm and notify" in c.get(reverse("case_detail", args=[case.pk])).content.decode()
    c.post(reverse("case_vendor_confirm", args=[case.pk, suggested.pk]))
    suggested.refresh_from_db()
    assert suggested.confirmed and suggested.notified_at
    response = _as(client, cw.vendor).post(reverse("case_vendor_confirm",
                                                   args=[case.pk, suggested.pk]))
    assert response.status_code == 403


def _two_hundred_vendors(cw):
    """200 vetted vendor organisations in the case, each with a statement and a remediation,
    built in bulk (the services would take minutes)."""
    now = timezone.now()
    groups = Group.objects.bulk_create([Group(name=f"org:Bulk vendor {i:03d}")
                                        for i in range(200)])
    orgs = Organisation.objects.bulk_create([
        Organisation(name=f"Bulk vendor {i:03d}", kind=Organisation.Kind.VENDOR, group=g)
        for i, g in enumerate(groups)])
    MemberProfile.objects.bulk_create([
        MemberProfile(organisation=o, description="x", security_contact="s@example.org",
                      status=MemberProfile.Status.VETTED, applied_by=cw.coordinator)
        for o in orgs])
    Participant.objects.bulk_create([
        Participant(case=cw.case, organisation=o, role="vendor", notified_at=now,
                    no_response_at=now if i % 2 else None) for i, o in enumerate(orgs)])
    vulnerability = cw.case.vulnerabilities.get()
    statements = ProductStatement.objects.bulk_create([
        ProductStatement(vulnerability=vulnerability, vendor=o, product_name=f"product {i}")
        for i, o in enumerate(orgs)])
    Remediation.objects.bulk_create([
        Remediation(statement=s, category="workaround", details="Turn it off",
                    created_by=cw.coordinator) for s in statements[:50]])


@pytest.mark.parametrize("who", ["coordinator", "vendor"])
def test_the_page_of_a_case_with_200_vendors_runs_a_fixed_number_of_queries(
        client, case_world, who, django_assert_num_queries):
    cw = case_world
    embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    cases.message_post(case=cw.case, actor=cw.vendor, body="Hello")
    c = _as(client, getattr(cw, who))
    url = reverse("case_detail", args=[cw.case.pk])
    c.get(url)  # warm the session and the time-zone caches
    with django_assert_num_queries(QUERIES[who]) as small:
        assert c.get(url).status_code == 200
    _two_hundred_vendors(cw)
    with django_assert_num_queries(QUERIES[who]) as big:
        page = c.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert ("Bulk vendor 199" in html) == (who == "coordinator")
    assert len(small.captured_queries) == len(big.captured_queries)


# +1: the case's reporters, for thread author labels; the coordinator +1: the SSVC assessments
QUERIES = {"coordinator": 18, "vendor": 15}


@pytest.mark.parametrize("who", ["coordinator", "vendor", "finder"])
def test_the_case_list_runs_as_many_queries_for_12_cases_as_for_2(client, cw, who):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.clearinghouse.conftest import make_report

    def add(n):
        for _ in range(n):
            case = cases.case_open(actor=cw.coordinator, reports=[
                make_report(cw.w.acme, cw.finder, title=f"Flaw {Participant.objects.count()}")])
            cases.participant_confirm(participant=case.participants.get(role="vendor"),
                                      actor=cw.coordinator)

    c = _as(client, getattr(cw, who))
    add(2)
    c.get(reverse("case_list"))
    with CaptureQueriesContext(connection) as two:
        assert c.get(reverse("case_list")).status_code == 200
    add(10)
    with CaptureQueriesContext(connection) as twelve:
        page = c.get(reverse("case_list"))
    assert page.content.decode().count("CH-") >= 12
    assert len(two) == len(twelve)


def test_setting_public_and_ending_the_embargo_on_the_page_are_confirmed_first(client,
                                                                             case_world):
    cw = case_world
    embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    c = _as(client, cw.coordinator)
    url = reverse("case_state", args=[cw.case.pk])
    page = c.post(url, {"field": "public_at"})
    assert page.status_code == 200 and "embargo in force ends at once" in page.content.decode()
    cw.case.refresh_from_db()
    assert cw.case.public_at is None and Embargo.objects.get().status == "proposed"
    page = c.post(reverse("embargo_exit", args=[cw.case.pk]), {"reason": "Vendor asks."})
    assert "End the embargo" in page.content.decode()
    assert Embargo.objects.get().status == "proposed"
    c.post(url, {"field": "public_at", "confirm": "yes"})
    cw.case.refresh_from_db()
    assert cw.case.public_at is not None and Embargo.objects.get().status == "exited"


def test_every_case_form_is_404_to_whoever_may_not_see_the_case(client, case_world):
    cw = case_world
    embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    pk = cw.case.pk
    posts = [(reverse("case_vendor_confirm", args=[pk, cw.participant.pk]), {}),
             (reverse("case_vendor_add", args=[pk]), {"organisation": cw.other_vendor_org.pk}),
             (reverse("case_vendors_suggest", args=[pk]), {}),
             (reverse("case_state", args=[pk]), {"field": "public_at", "confirm": "yes"}),
             (reverse("case_message_post", args=[pk]), {"body": "hi"}),
             (reverse("embargo_propose", args=[pk]), {"timezone": "UTC", "reason": "x"}),
             (reverse("embargo_answer", args=[pk]), {"answer": "decline"}),
             (reverse("embargo_exit", args=[pk]), {"reason": "x", "confirm": "yes"}),
             (reverse("statement_edit", args=[cw.statement.pk]), {"status": "fixed"}),
             (reverse("remediation_add", args=[cw.statement.pk]),
              {"category": "workaround", "details": "x"})]
    for name in ("other_vendor", "operator", "partner"):
        for url, body in posts:
            assert _as(client, actors(cw)[name]).post(url, body).status_code == 404, (name, url)
    for url, body in posts:
        assert _as(client, None).post(url, body).status_code == 302  # to the login page
    cw.case.refresh_from_db()
    assert cw.case.public_at is None and Embargo.objects.get().status == "proposed"
    assert not cw.case.messages.exists() and not Remediation.objects.exists()


def test_case_notifications_name_the_case_and_nothing_of_the_vulnerability(case_world):
    from notifications.models import Notification

    cw = case_world
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    embargo.embargo_answer(embargo=e, actor=cw.vendor, accept=True)
    cases.statement_update(statement=cw.statement, actor=cw.vendor, status="known_affected")
    cases.remediation_add(statement=cw.statement, actor=cw.vendor, category="vendor_fix",
                          details="Upgrade libfoo to 1.4.2")
    cases.message_post(case=cw.case, actor=cw.vendor, body="libfoo 1.4.2 fixes the overflow")
    rows = Notification.objects.filter(object_type__startswith="clearinghouse.").exclude(
        kind="member_status")
    assert rows.count() >= 6
    for row in rows:
        assert row.title.startswith(f"Case {cw.case.reference}"), row.title
        for secret in ("libfoo", "overflow", "Heap", "CWE", "9.8", "Vendor A"):
            assert secret not in row.title + row.body, (row.title, secret)


def test_the_embargo_end_shows_in_utc_and_in_the_viewers_zone(client, case_world):
    cw = case_world
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    cw.vendor.time_zone = "Asia/Tokyo"
    cw.vendor.save(update_fields=["time_zone"])
    page = _as(client, cw.vendor).get(reverse("case_detail", args=[cw.case.pk])).content.decode()
    utc = e.ends_at.astimezone(timezone.get_fixed_timezone(0))
    assert f"{utc:%H:%M} UTC" in page and "JST" in page
    assert f'datetime="{utc:%Y-%m-%dT%H:%M}' in page
