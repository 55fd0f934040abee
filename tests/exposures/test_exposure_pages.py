"""The operator's exposure pages as every role: the operator's own members see, settle,
confirm and reject their released exposures; another operator, a vendor, the program office, a
finder and a partner get 404 on every door, and anonymous users the login page. Bad input is a
400 page with nothing written; the list's queries do not grow with its rows."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from exposures import disclosure
from exposures.models import Exposure, TermsAcceptance
from tests.exposures.conftest import login
from tests.exposures.disc_world import (
    accept_terms,
    add_fix,
    all_actors,
    asset_for,
    build_dw,
    exposure_for,
    open_window,
)

pytestmark = pytest.mark.django_db

OWN = ("operator", "operator_a2")
OUTSIDERS = ("operator_b", "operator_c", "vendor", "coordinator", "finder", "partner")


@pytest.fixture
def dw(world):
    """Water Works told of the case (a fix, the window open, the terms accepted), with a
    vendor-and-product match to confirm; Hillside Clinic has not accepted the terms, so its
    exposure waits."""
    dw = build_dw(world)
    add_fix(dw)
    open_window(dw)
    dw.guess = exposure_for(asset_for(dw.org_a, dw.operator, version="1.0", product="libbaz"),
                            dw.statement, method="product", confidence="low",
                            confirmed=False)
    accept_terms(dw.org_a, dw.operator)
    disclosure.disclosure_sweep()
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.released_at is not None
    return dw


def doors(dw) -> dict[str, tuple[str, str, dict]]:
    a = dw.exposure_a.pk
    return {
        "list": ("get", reverse("exposure_list"), {}),
        "terms": ("get", reverse("exposure_terms"), {}),
        "detail": ("get", reverse("exposure_detail", args=[a]), {}),
        "status": ("post", reverse("exposure_status", args=[a]), {"status": "acknowledged"}),
        "confirm": ("post", reverse("exposure_confirm", args=[dw.guess.pk]), {}),
        "reject": ("post", reverse("exposure_reject", args=[dw.guess.pk]), {"reason": "No."}),
    }


@pytest.mark.parametrize("door", ["list", "terms", "detail", "status", "confirm", "reject"])
def test_anonymous_users_are_sent_to_log_in_and_nothing_changes(client, dw, door):
    method, url, data = doors(dw)[door]
    response = getattr(client, method)(url, data)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert Exposure.objects.filter(status="new").count() == 3


@pytest.mark.parametrize("role", OUTSIDERS)
@pytest.mark.parametrize("door", ["detail", "status", "confirm", "reject"])
def test_no_one_outside_the_operator_reaches_its_exposures(client, dw, role, door):
    method, url, data = doors(dw)[door]
    response = getattr(login(client, all_actors(dw)[role]), method)(url, data)
    assert response.status_code == 404
    dw.exposure_a.refresh_from_db()
    dw.guess.refresh_from_db()
    assert (dw.exposure_a.status, dw.guess.status, dw.guess.confirmed) == ("new", "new", False)
    assert not AuditEvent.objects.filter(action__startswith="exposure.match").exists()


@pytest.mark.parametrize("role", ["vendor", "coordinator", "finder", "partner"])
@pytest.mark.parametrize("door", ["list", "terms"])
def test_the_exposure_pages_are_not_there_for_anyone_but_operators(client, dw, role, door):
    method, url, data = doors(dw)[door]
    assert getattr(login(client, all_actors(dw)[role]), method)(url, data).status_code == 404
    assert login(client, all_actors(dw)[role]).post(reverse("exposure_terms")).status_code == 404
    assert TermsAcceptance.objects.count() == 1  # Water Works' own


@pytest.mark.parametrize("role", ["operator_b", "operator_c"])
def test_another_operator_lists_nothing_of_water_works(client, dw, role):
    html = login(client, all_actors(dw)[role]).get(reverse("exposure_list")).content.decode()
    assert "Water Works" not in html
    for exposure in (dw.exposure_a, dw.guess):
        assert reverse("exposure_detail", args=[exposure.pk]) not in html


def test_hillside_clinic_does_not_see_its_exposure_before_it_is_released(client, dw):
    login(client, dw.operator_b)
    assert client.get(reverse("exposure_detail", args=[dw.exposure_b.pk])).status_code == 404
    assert reverse("exposure_detail", args=[dw.exposure_b.pk]) not in client.get(
        reverse("exposure_list")).content.decode()


@pytest.mark.parametrize("role", OWN)
def test_the_operators_members_see_and_settle_their_exposure(client, dw, role):
    user = all_actors(dw)[role]
    login(client, user)
    listed = client.get(reverse("exposure_list"))
    assert listed.status_code == 200
    assert reverse("exposure_detail", args=[dw.exposure_a.pk]) in listed.content.decode()
    detail = client.get(reverse("exposure_detail", args=[dw.exposure_a.pk]))
    assert detail.status_code == 200 and "Upgrade to 1.4.2." in detail.content.decode()
    assert "a" * 64 in detail.content.decode()  # the download's SHA-256
    response = client.post(reverse("exposure_status", args=[dw.exposure_a.pk]),
                           {"status": "acknowledged"})
    assert response.status_code == 302
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "acknowledged"
    event = AuditEvent.objects.get(action="exposure.status_changed")
    assert event.actor == user


def test_not_affected_without_a_justification_is_a_400_and_nothing_changes(client, dw):
    login(client, dw.operator)
    url = reverse("exposure_status", args=[dw.exposure_a.pk])
    response = client.post(url, {"status": "not_affected"})
    assert response.status_code == 400
    assert "justification" in response.content.decode().lower()
    for bad in ({"status": "patched-ish"}, {"status": "risk_accepted", "reason": ""}):
        assert client.post(url, bad).status_code == 400
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "new"
    assert not AuditEvent.objects.filter(action="exposure.status_changed").exists()


def test_the_operator_confirms_or_rejects_a_name_match(client, dw):
    login(client, dw.operator)
    response = client.post(reverse("exposure_confirm", args=[dw.guess.pk]))
    assert response.status_code == 302
    dw.guess.refresh_from_db()
    assert dw.guess.confirmed
    assert AuditEvent.objects.filter(action="exposure.match_confirmed").count() == 1
    # A confirmed match is a live exposure: it is no longer there to reject.
    client.post(reverse("exposure_reject", args=[dw.guess.pk]), {"reason": "No."})
    dw.guess.refresh_from_db()
    assert dw.guess.confirmed and dw.guess.status == "new"


def test_an_operator_accepts_the_terms_once_from_its_page(client, dw):
    login(client, dw.operator_b)
    assert "accept" in client.get(reverse("exposure_terms")).content.decode().lower()
    assert client.post(reverse("exposure_terms")).status_code == 302
    assert client.post(reverse("exposure_terms")).status_code == 302
    assert TermsAcceptance.objects.filter(organisation=dw.org_b).count() == 1
    assert AuditEvent.objects.filter(action="exposure.terms_accepted",
                                     organisation=dw.org_b).count() == 1


@pytest.mark.parametrize("page", ["?page=abc", "?page=99999", "?case=x", f"?case={2**70}"])
def test_odd_query_strings_on_the_list_are_never_a_500(client, dw, page):
    login(client, dw.operator)
    assert client.get(reverse("exposure_list") + page).status_code in (200, 404)


def test_the_exposure_list_runs_the_same_queries_for_two_rows_as_for_twelve(
        client, dw, django_assert_num_queries):
    login(client, dw.operator)
    url = reverse("exposure_list")
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(10):
        exposure_for(asset_for(dw.org_a, dw.operator, version="1.0", product=f"lib{n}"),
                     dw.statement, released_at=dw.exposure_a.released_at)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
