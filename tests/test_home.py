"""Each role's home: status at a glance. A count per item, links to the first few and to the
full list, for the role's own items only, in a pinned number of queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partners import services as partner_services
from partners.models import AccessGrant
from submissions.models import AccessWindow
from submissions.window_services import window_schedule
from tests.conftest import bring_to
from tests.partners import conftest as partner_world
from tests.partners.conftest import PROFILE, make_live_grant, request_access

pw = partner_world.pw  # the partner world's fixture, here too

ROLE_ITEMS = {
    "developer": {"questions", "windows", "partner-requests"},
    "reviewer": {"assigned", "lead", "reviews-due"},
    "admin": {"unassigned", "flagged", "vetting", "workers"},
    "partner": {"live-grants", "ending-grants", "terms"},
    "operator": {"exposures", "to-confirm"},
    "vendor": {"statements", "embargoes"},
}


def glances(html: str) -> dict[str, tuple[int | None, list[str]]]:
    """{item key: (count, hrefs inside the item)} as the page shows them."""
    found = {}
    for part in re.split(r'<li class="usa-card[^"]*" id="glance-', html)[1:]:
        key, body = part.split('"', 1)
        body = body.split('<li class="usa-card', 1)[0]
        number = re.search(r'<span class="glance-number">(\d+)</span>', body)
        found[key] = (int(number.group(1)) if number else None,
                      re.findall(r'href="([^"]+)"', body))
    return found


def home(client, user) -> dict:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return glances(response.content.decode())


# --- developer ------------------------------------------------------------------------------

def test_a_developer_sees_the_questions_to_answer(client, world):
    bring_to(world, "information_requested")
    items = home(client, world.owner)
    count, links = items["questions"]
    assert count == 1
    assert reverse("request_detail", args=[world.request.pk]) + "#thread" in links
    assert reverse("request_list") + "?status=information_requested" in links
    assert home(client, world.outsider)["questions"][0] == 0


def test_a_developer_sees_the_windows_to_schedule_until_one_is_scheduled(client, covered):
    count, links = home(client, covered.owner)["windows"]
    assert count == 1 and reverse("window_edit", args=[covered.model.pk]) in links
    start = timezone.now() + timedelta(days=1)
    window_schedule(model=covered.model, actor=covered.owner, starts_at=start,
                    ends_at=start + timedelta(days=5))
    assert home(client, covered.owner)["windows"][0] == 0


def test_a_developer_sees_partner_requests_to_approve_until_the_developer_side_approves(
        client, pw):
    access_request = request_access(pw)
    count, links = home(client, pw.w.owner)["partner-requests"]
    assert count == 1
    assert reverse("access_request_detail", args=[access_request.pk]) in links
    partner_services.access_request_approve(access_request=access_request, actor=pw.w.colleague)
    assert home(client, pw.w.owner)["partner-requests"][0] == 0


# --- reviewer -------------------------------------------------------------------------------

def test_a_reviewer_sees_assigned_requests_lead_duties_and_reviews_due(client, world):
    bring_to(world, "in_review")  # world.reviewer assigned, and lead
    items = home(client, world.reviewer)
    detail = reverse("request_detail", args=[world.request.pk])
    assert items["assigned"][0] == 1 and detail in items["assigned"][1]
    assert items["lead"][0] == 1 and detail in items["lead"][1]
    assert items["reviews-due"][0] == 1
    assert reverse("review_edit", args=[world.request.pk]) in items["reviews-due"][1]
    other = home(client, world.reviewer2)
    assert [other[k][0] for k in ("assigned", "lead", "reviews-due")] == [0, 0, 0]


def test_a_determined_request_is_no_longer_a_duty(client, covered):
    items = home(client, covered.reviewer)
    assert [items[k][0] for k in ("assigned", "lead", "reviews-due")] == [0, 0, 0]


# --- program admin --------------------------------------------------------------------------

def test_an_admin_sees_unassigned_requests_flagged_windows_the_vetting_queue_and_workers(
        client, world):
    bring_to(world, "submitted")
    partner_services.partner_apply(actor=world.partner, **PROFILE)
    start = timezone.now() + timedelta(days=1)
    other = bring_to_covered_other(world)
    window = window_schedule(model=other, actor=world.outsider, starts_at=start,
                             ends_at=start + timedelta(days=5))
    AccessWindow.objects.filter(pk=window.pk).update(flag_reason="Ends after the release.")
    items = home(client, world.admin)
    assert items["unassigned"][0] == 1
    assert reverse("request_detail", args=[world.request.pk]) in items["unassigned"][1]
    assert items["flagged"][0] == 1
    assert reverse("window_list") + "?flagged=1" in items["flagged"][1]
    assert items["vetting"][0] == 1 and reverse("partner_list") in items["vetting"][1]
    assert reverse("queue_health") in items["workers"][1]
    client.force_login(world.admin)
    html = client.get(reverse("home")).content.decode()
    assert "No worker is running" in html and "usa-summary-box" in html


def bring_to_covered_other(world):
    """world.other_model (Other AI's) determined covered, through the services."""
    from submissions import services

    r = services.request_create(model=world.other_model, actor=world.outsider)
    services.request_submit(review_request=r, actor=world.outsider)
    services.reviewer_assign(review_request=r, reviewer=world.reviewer2, actor=world.admin)
    services.request_determine(review_request=r, actor=world.reviewer2, outcome="covered",
                               rationale="Above.", internal_notes="n", override_reason="o")
    return world.other_model


# --- partner --------------------------------------------------------------------------------

def test_a_partner_sees_live_and_ending_grants_and_terms_to_accept(client, pw):
    grant = make_live_grant(pw)  # ends in 5 days
    items = home(client, pw.w.partner)
    page = reverse("grant_detail", args=[grant.pk])
    assert items["live-grants"][0] == 1 and page in items["live-grants"][1]
    assert items["ending-grants"][0] == 1 and page in items["ending-grants"][1]
    assert items["terms"][0] == 0
    AccessGrant.objects.filter(pk=grant.pk).update(ends_at=timezone.now() + timedelta(days=8))
    second = request_access(pw, starts_at=pw.start + timedelta(days=30),
                            ends_at=pw.start + timedelta(days=40))
    partner_services.terms_set(model=pw.w.model, actor=pw.w.owner, text="Version two.")
    items = home(client, pw.w.partner)
    assert items["live-grants"][0] == 1 and items["ending-grants"][0] == 0
    assert items["terms"][0] == 1
    assert reverse("access_request_detail", args=[second.pk]) in items["terms"][1]
    other = home(client, pw.other_partner)
    assert [other[k][0] for k in ("live-grants", "ending-grants", "terms")] == [0, 0, 0]


def test_a_partner_not_yet_vetted_is_told_how_to_get_there(client, world):
    client.force_login(world.partner)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("partner_apply")}"' in html
    assert "Welcome" not in html


# --- operator -------------------------------------------------------------------------------

@pytest.fixture
def released(world):
    """Two operators told of the embargoed case through the real sweep (a fix exists, the
    window is open, both accepted the terms); Water Works also has a scheduled exposure and a
    name match to confirm."""
    from exposures import disclosure
    from tests.exposures import disc_world as d

    dw = d.build_dw(world)
    d.add_fix(dw)
    d.open_window(dw)
    dw.scheduled = d.exposure_for(d.asset_for(dw.org_a, dw.operator, version="2.0",
                                              product="libbar"), dw.statement,
                                  priority="scheduled")
    dw.guess = d.exposure_for(d.asset_for(dw.org_a, dw.operator, version="1.0",
                                          product="libbaz"), dw.statement,
                              method="product", confidence="low", confirmed=False)
    for org, user in ((dw.org_a, dw.operator), (dw.org_b, dw.operator_b)):
        d.accept_terms(org, user)
    disclosure.disclosure_sweep()
    return dw


def test_an_operator_sees_its_exposures_by_priority_with_the_date_to_act_by(client, released):
    dw = released
    client.force_login(dw.operator)
    html = client.get(reverse("home")).content.decode()
    items = glances(html)
    count, links = items["exposures"]
    assert count == 2
    detail = [reverse("exposure_detail", args=[e.pk]) for e in (dw.exposure_a, dw.scheduled)]
    assert [link for link in links if link in detail] == detail  # immediate first
    assert reverse("exposure_list") in links
    assert "Immediate · libfoo 1.2.0" in html and "act by" in html
    assert items["to-confirm"][0] == 1
    assert reverse("exposure_detail", args=[dw.guess.pk]) in items["to-confirm"][1]
    assert "pre-disclosure terms" not in html  # accepted
    # Hillside Clinic sees its own exposure only.
    theirs = home(client, dw.operator_b)
    assert theirs["exposures"][0] == 1
    assert reverse("exposure_detail", args=[dw.exposure_b.pk]) in theirs["exposures"][1]
    assert not set(detail) & set(theirs["exposures"][1])


def test_a_settled_exposure_leaves_the_operators_home(client, released):
    from exposures import services

    services.exposure_status_set(exposure=released.exposure_a, actor=released.operator,
                                 status="patched")
    count, links = home(client, released.operator)["exposures"]
    assert count == 1
    assert reverse("exposure_detail", args=[released.exposure_a.pk]) not in links


def test_an_operator_that_has_not_accepted_the_terms_is_told_what_it_misses(client, db):
    from tests.factories import OrganisationFactory, UserFactory

    user = UserFactory(username="utility", organisation=OrganisationFactory(
        name="Town Utility", kind="operator"))
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert "not accepted the clearinghouse's pre-disclosure terms" in html
    assert reverse("exposure_terms") in html
    assert glances(html)["exposures"][0] == 0
    assert "not yet attached to an organisation" not in html


def test_the_operators_home_runs_a_pinned_number_of_queries(client, released):
    client.force_login(released.operator)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    # Session, user, membership, the operator's vetting (asked once: the glances, the terms
    # notice and the navigation share clearinghouse.access.is_active_member's answer), two per
    # item, its membership profile, the terms acceptance, the header's organisation name.
    assert len(ctx.captured_queries) == OPERATOR_HOME_QUERIES, "\n".join(
        q["sql"][:200] for q in ctx.captured_queries)


OPERATOR_HOME_QUERIES = 11


# --- vendor ---------------------------------------------------------------------------------

@pytest.fixture
def vendor_case(world):
    """A case with the vetted vendor confirmed (its statement under investigation) and an
    embargo proposal awaiting the vendor's answer; a second vetted vendor not in the case."""
    from clearinghouse import embargo
    from tests.clearinghouse.conftest import build_cw, open_case

    cw = open_case(build_cw(world))
    cw.embargo = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    return cw


def test_a_vendor_sees_the_statements_to_give_and_the_embargoes_to_answer(client, vendor_case):
    cw = vendor_case
    case_url = reverse("case_detail", args=[cw.case.pk])
    items = home(client, cw.vendor)
    assert set(items) == ROLE_ITEMS["vendor"]
    assert items["statements"][0] == 1 and case_url + "#statements" in items["statements"][1]
    assert items["embargoes"][0] == 1 and case_url + "#embargo" in items["embargoes"][1]
    html = client.get(reverse("home")).content.decode()
    assert f"{cw.case.reference} · libfoo" in html
    assert "not yet attached to an organisation" not in html
    # Another vendor sees neither: it is not in the case.
    other = home(client, cw.other_vendor)
    assert other["statements"][0] == 0 and other["embargoes"][0] == 0


def test_a_vendors_items_leave_its_home_once_it_answered(client, vendor_case):
    from clearinghouse import cases, embargo

    cw = vendor_case
    cases.statement_update(statement=cw.statement, actor=cw.vendor, status="known_affected")
    embargo.embargo_answer(embargo=cw.embargo, actor=cw.vendor, accept=True)
    items = home(client, cw.vendor)
    assert items["statements"][0] == 0 and items["embargoes"][0] == 0


def test_a_vendor_not_yet_vetted_is_told_so_and_sees_no_case(client, vendor_case):
    from clearinghouse import members
    from clearinghouse.models import MemberProfile

    cw = vendor_case
    profile = MemberProfile.objects.get(organisation=cw.vendor_org)
    members.member_transition(profile=profile, actor=cw.coordinator, action="suspend",
                              reason="Contact lapsed.")
    client.force_login(cw.vendor)
    html = client.get(reverse("home")).content.decode()
    assert "clearinghouse membership: suspended" in html
    items = glances(html)
    assert items["statements"][0] == 0 and items["embargoes"][0] == 0


@pytest.mark.parametrize("kind", ["vendor", "operator"])
def test_a_vendor_or_operator_that_never_applied_is_pointed_to_the_application(client, world,
                                                                             kind):
    from tests.factories import OrganisationFactory, UserFactory

    org = OrganisationFactory(name=f"New {kind}", kind=kind)
    client.force_login(UserFactory(username=f"new{kind}", organisation=org))
    html = client.get(reverse("home")).content.decode()
    assert "has not applied to the clearinghouse yet" in html
    assert reverse("clearinghouse_member_apply") in html


def test_the_vendors_home_runs_a_pinned_number_of_queries(client, vendor_case):
    client.force_login(vendor_case.vendor)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    # Session, user, membership, the vendor's vetting (asked once), two per item, its
    # membership profile, the header's organisation name.
    assert len(ctx.captured_queries) == VENDOR_HOME_QUERIES, "\n".join(
        q["sql"][:200] for q in ctx.captured_queries)


VENDOR_HOME_QUERIES = 10


# --- separation and cost --------------------------------------------------------------------

@pytest.mark.parametrize("who,role", [("owner", "developer"), ("reviewer", "reviewer"),
                                      ("admin", "admin"), ("partner", "partner")])
def test_a_role_sees_only_its_own_items(client, world, who, role):
    assert set(home(client, getattr(world, who))) == ROLE_ITEMS[role]


def test_a_user_without_an_organisation_sees_the_welcome_card(client, db):
    from accounts.models import User

    user = User.objects.create_user(username="loner", email="loner@example.org",
                                    password="x-long-password")
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert "not yet attached to an organisation" in html and "glance-" not in html


# Queries of the home per role: the session, the user and its membership (government users:
# their second factor too), two per item (its first rows and its count), the admin's worker
# health report (jobs.selectors.PAGE_QUERIES), the partner's vetting status, and the header's
# organisation name.
HOME_QUERIES = {"owner": 10, "reviewer": 11, "admin": 17, "partner": 11}


@pytest.mark.parametrize("who", list(HOME_QUERIES))
def test_the_home_runs_a_pinned_number_of_queries(client, pw, who):
    make_live_grant(pw)
    request_access(pw, starts_at=pw.start + timedelta(days=30),
                   ends_at=pw.start + timedelta(days=40))
    user = getattr(pw.w, who)
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    assert len(ctx.captured_queries) == HOME_QUERIES[who], [
        q["sql"][:120] for q in ctx.captured_queries]
