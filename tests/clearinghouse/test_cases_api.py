"""The case API: who sees and does what, JSON errors, naive times, the ceiling."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEvent
from clearinghouse import cases, embargo
from clearinghouse.models import Case, Embargo, ProductStatement
from tests.clearinghouse.conftest import actors, make_report

SEES_CASE = {"finder", "vendor", "coordinator"}


def _iso(moment):
    return moment.isoformat()


def test_a_coordinator_opens_a_case_from_reports_through_the_api(api, cw):
    response = api.as_(cw.coordinator).post("/api/v1/cases/", {"reports": [cw.report.pk]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("CH-") and body["vulnerabilities"][0]["cwe"] == "CWE-787"
    assert Case.objects.get().reference == body["reference"]


def test_only_the_coordinator_opens_cases_and_an_unknown_report_is_a_400(api, cw):
    for name, user in actors(cw).items():
        if name == "coordinator":
            continue
        response = api.as_(user).post("/api/v1/cases/", {"reports": [cw.report.pk]})
        assert response.status_code in (401, 403), (name, response.status_code)
    response = api.as_(cw.coordinator).post("/api/v1/cases/", {"reports": [999999]})
    assert response.status_code == 400 and response.json()["field"] == "reports"
    response = api.as_(cw.coordinator).post("/api/v1/cases/", {"reports": "nope"})
    assert response.status_code == 400 and "reports" in response.json()["errors"]
    assert not Case.objects.exists()


def test_every_case_endpoint_answers_each_actor_as_access_allows(api, case_world):
    cw = case_world
    case = cw.case
    urls = [f"/api/v1/cases/{case.pk}/", f"/api/v1/cases/{case.pk}/participants/",
            f"/api/v1/cases/{case.pk}/statements/", f"/api/v1/cases/{case.pk}/messages/"]
    for name, user in actors(cw).items():
        listed = api.as_(user).get("/api/v1/cases/")
        for url in urls:
            code = api.as_(user).get(url).status_code
            if user is None:
                assert code in (401, 403), (name, url)
            else:
                assert code == (200 if name in SEES_CASE else 404), (name, url, code)
        if user is not None:
            refs = [c["reference"] for c in listed.json()["results"]]
            assert refs == ([case.reference] if name in SEES_CASE else []), name


def test_a_vendor_sees_only_its_own_statements_in_the_api(api, case_world):
    cw = case_world
    cases.vendor_add(case=cw.case, organisation=cw.other_vendor_org, actor=cw.coordinator)
    theirs = ProductStatement.objects.get(vendor=cw.other_vendor_org)
    mine = api.as_(cw.vendor).get(f"/api/v1/cases/{cw.case.pk}/statements/").json()["results"]
    assert [s["id"] for s in mine] == [cw.statement.pk]
    assert api.as_(cw.vendor).get(f"/api/v1/statements/{theirs.pk}/").status_code == 404
    everyone = api.as_(cw.coordinator).get(f"/api/v1/cases/{cw.case.pk}/statements/").json()
    assert {s["id"] for s in everyone["results"]} == {cw.statement.pk, theirs.pk}
    # The finder sees the case summary, not the statements.
    assert api.as_(cw.finder).get(
        f"/api/v1/cases/{cw.case.pk}/statements/").json()["results"] == []
    # Other vendors are not among the participants a vendor sees.
    names = {p["organisation_name"] for p in api.as_(cw.vendor).get(
        f"/api/v1/cases/{cw.case.pk}/participants/").json()["results"]}
    assert "Vendor B" not in names and "Vendor A" in names


def test_a_vendor_updates_its_statement_and_others_are_refused(api, case_world):
    cw = case_world
    url = f"/api/v1/statements/{cw.statement.pk}/"
    for name in ("other_vendor", "operator", "partner"):
        assert api.as_(actors(cw)[name]).patch(url, {"status": "fixed"}).status_code == 404
    for name in ("finder", "coordinator"):
        assert api.as_(actors(cw)[name]).patch(url, {"status": "fixed"}).status_code in (403, 404)
    response = api.as_(cw.vendor).patch(url, {"status": "known_not_affected"})
    assert response.status_code == 400 and response.json()["field"] == "justification"
    response = api.as_(cw.vendor).patch(url, {"status": "known_not_affected",
                                              "justification": "component_not_present"})
    assert response.status_code == 200 and response.json()["version"] == 2
    response = api.as_(cw.vendor).patch(url, {"status": "bogus"})
    assert response.status_code == 400
    response = api.as_(cw.vendor).post(f"{url}remediations/", {
        "category": "vendor_fix", "details": "Upgrade", "artifact_sha256": "zz"})
    assert response.status_code == 400 and response.json()["field"] == "artifact_sha256"


def test_an_embargo_end_without_an_offset_is_a_clear_400(api, case_world):
    cw = case_world
    response = api.as_(cw.coordinator).post(f"/api/v1/cases/{cw.case.pk}/embargo/",
                                            {"ends_at": "2026-12-20T12:00:00"})
    assert response.status_code == 400
    assert "time zone" in response.json()["detail"]
    assert not Embargo.objects.exists()


def test_an_embargo_cannot_pass_the_ceiling_through_the_api(api, case_world):
    cw = case_world
    ceiling = cw.case.vendor_aware_at + timedelta(days=settings.CLEARINGHOUSE_EMBARGO_CEILING_DAYS)
    url = f"/api/v1/cases/{cw.case.pk}/embargo/"
    response = api.as_(cw.coordinator).post(url, {"ends_at": _iso(ceiling + timedelta(hours=1))})
    assert response.status_code == 400 and "may not end after" in response.json()["detail"]
    response = api.as_(cw.coordinator).post(url, {"ends_at": _iso(ceiling - timedelta(days=60))})
    assert response.status_code == 201 and response.json()["status"] == "proposed"
    for user in (cw.finder, cw.vendor):
        assert api.as_(user).post(f"{url}accept/").status_code == 200
    assert Embargo.objects.get().status == "active"
    response = api.as_(cw.coordinator).post(f"{url}revise/", {
        "ends_at": _iso(ceiling + timedelta(days=2)), "reason": "More time"})
    assert response.status_code == 400 and "may not end after" in response.json()["detail"]
    response = api.as_(cw.coordinator).post(f"{url}revise/", {
        "ends_at": _iso(ceiling - timedelta(days=1)), "reason": "More time"})
    assert response.status_code == 201 and response.json()["status"] == "revise"


def test_only_participants_answer_and_only_the_coordinator_exits(api, case_world):
    cw = case_world
    embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    url = f"/api/v1/cases/{cw.case.pk}/embargo/"
    assert api.as_(cw.other_vendor).post(f"{url}accept/").status_code == 404
    assert api.as_(cw.vendor).post(f"{url}exit/", {"reason": "x"}).status_code == 403
    assert api.as_(cw.coordinator).post(f"{url}exit/", {}).status_code == 400
    response = api.as_(cw.coordinator).post(f"{url}exit/", {"reason": "Attacks seen."})
    assert response.status_code == 200 and response.json()["status"] == "exited"
    assert AuditEvent.objects.filter(action="embargo.exited").count() == 1


def test_setting_public_through_the_api_exits_the_embargo(api, case_world):
    cw = case_world
    embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    url = f"/api/v1/cases/{cw.case.pk}/state/"
    assert api.as_(cw.vendor).post(url, {"field": "public_at"}).status_code == 403
    response = api.as_(cw.coordinator).post(url, {"field": "public_at",
                                                  "at": "2026-01-01T00:00:00"})
    assert response.status_code == 400
    response = api.as_(cw.coordinator).post(url, {"field": "exploit_public_at"})
    assert response.status_code == 200 and response.json()["public_at"]
    assert Embargo.objects.get().status == "exited"
    again = api.as_(cw.coordinator).post(url, {"field": "exploit_public_at"})
    assert again.status_code == 409


def test_the_coordinator_confirms_and_adds_vendors_through_the_api(api, cw):
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report])
    suggested = case.participants.get(role="vendor")
    url = f"/api/v1/cases/{case.pk}/participants/"
    listed = api.as_(cw.coordinator).get(url).json()["results"]
    assert any(p["id"] == suggested.pk and not p["confirmed"] for p in listed)
    # A suggested vendor sees nothing yet.
    assert api.as_(cw.vendor).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    response = api.as_(cw.coordinator).post(f"{url}{suggested.pk}/confirm/")
    assert response.status_code == 200 and response.json()["notified_at"]
    assert api.as_(cw.vendor).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    response = api.as_(cw.coordinator).post(url, {"organisation": cw.other_vendor_org.pk})
    assert response.status_code == 201 and response.json()["confirmed"]
    response = api.as_(cw.coordinator).post(url, {"organisation": cw.w.acme.pk})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/cases/{id}/embargo/",
                                  "/api/v1/statements/{id}/"])
def test_the_case_endpoints_are_in_the_openapi_schema(api, world, path):
    response = api.as_(world.owner).get("/api/v1/schema/?format=json")
    assert path in response.json()["paths"]


def test_an_ai_report_without_a_validator_cannot_get_vendors_through_the_api(api, cw):
    report = make_report(cw.w.acme, cw.finder, ai_found=True)
    case = cases.case_open(actor=cw.coordinator, reports=[report])
    response = api.as_(cw.coordinator).post(f"/api/v1/cases/{case.pk}/participants/",
                                            {"organisation": cw.vendor_org.pk})
    assert response.status_code == 409 and "may reach vendors" in response.json()["detail"]


def test_every_case_action_is_404_to_whoever_may_not_see_the_case(api, case_world):
    cw = case_world
    embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    base = f"/api/v1/cases/{cw.case.pk}/"
    suggested = cw.participant.pk
    posts = [("state/", {"field": "fix_deployed_at"}), ("participants/", {"organisation": 1}),
             (f"participants/{suggested}/confirm/", {}), ("messages/", {"body": "hi"}),
             ("embargo/", {"reason": "x"}), ("embargo/revise/", {"reason": "x"}),
             ("embargo/accept/", {}), ("embargo/decline/", {}), ("embargo/exit/", {"reason": "x"})]
    for name in ("other_vendor", "operator", "partner"):
        user = actors(cw)[name]
        for path, body in posts:
            assert api.as_(user).post(base + path, body).status_code == 404, (name, path)
        assert api.as_(user).post(f"/api/v1/statements/{cw.statement.pk}/remediations/", {
            "category": "workaround", "details": "x"}).status_code == 404
        assert api.as_(user).get("/api/v1/cases/999999/").status_code == 404
    for path, body in posts:
        assert api.as_(None).post(base + path, body).status_code in (401, 403)
    assert Embargo.objects.get().status == "proposed"
    assert not AuditEvent.objects.filter(action__in=["case.state_set", "case.message_posted",
                                                     "embargo.exited"]).exists()


def test_the_sweep_tasks_run_the_services(case_world):
    from clearinghouse.tasks import embargoes_sweep_ended_task, vendors_sweep_silent_task

    assert vendors_sweep_silent_task.delay().get() == {"day_7": [], "day_14": [],
                                                       "no_response": []}
    assert embargoes_sweep_ended_task.delay().get() == []


def test_the_beat_schedule_runs_both_sweeps():
    from clearinghouse.tasks import embargoes_sweep_ended_task, vendors_sweep_silent_task
    from review_portal.celery_app import app

    schedule = app.conf.beat_schedule
    assert schedule["clearinghouse-sweep-silent-vendors"]["task"] == \
        vendors_sweep_silent_task.name
    assert schedule["clearinghouse-sweep-ended-embargoes"]["task"] == \
        embargoes_sweep_ended_task.name


def test_the_coordinator_suggests_vendors_again_when_a_catalogue_grows(api, case_world):
    from clearinghouse.models import VendorProduct

    cw = case_world
    url = f"/api/v1/cases/{cw.case.pk}/participants/suggest/"
    assert api.as_(cw.vendor).post(url).status_code == 403
    VendorProduct.objects.create(vendor=cw.other_vendor_org, name="libfoo fork",
                                 purl_key="pkg:pypi/libfoo")
    response = api.as_(cw.coordinator).post(url)
    assert response.status_code == 200
    new = [p for p in response.json()["results"] if p["organisation_name"] == "Vendor B"]
    assert len(new) == 1 and not new[0]["confirmed"]
    assert AuditEvent.objects.filter(action="case.vendors_suggested").count() == 1
    assert api.as_(cw.coordinator).post(url).status_code == 200  # nothing new: no event
    assert AuditEvent.objects.filter(action="case.vendors_suggested").count() == 1


def test_thread_authors_are_named_only_to_the_coordinator_and_their_own_organisation(
        api, client, case_world):
    cw = case_world
    cases.vendor_add(case=cw.case, organisation=cw.other_vendor_org, actor=cw.coordinator)
    for user, body in ((cw.other_vendor, "B here."), (cw.coordinator, "Coordinator here."),
                       (cw.finder, "Reporter here."), (cw.vendor, "A here.")):
        cases.message_post(case=cw.case, actor=user, body=body)
    url = f"/api/v1/cases/{cw.case.pk}/messages/"

    def authors(user):
        return [m["author"] for m in api.as_(user).get(url).json()["results"]]

    assert authors(cw.vendor) == ["A vendor", "The coordinator", "The reporter", "vendor"]
    assert authors(cw.vendor_colleague) == ["A vendor", "The coordinator", "The reporter",
                                            "vendor"]
    assert authors(cw.finder) == ["A vendor", "The coordinator", cw.finder.username,
                                  "A vendor"]
    assert authors(cw.coordinator) == ["othervendor", cw.coordinator.username,
                                       cw.finder.username, "vendor"]
    client.force_login(cw.vendor)
    page = client.get(reverse("case_detail", args=[cw.case.pk])).content.decode()
    assert "othervendor" not in page and f"{cw.coordinator.username}, " not in page
    assert "The coordinator" in page and "A vendor" in page
