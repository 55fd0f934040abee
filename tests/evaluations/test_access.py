"""Least privilege on every evaluations page and endpoint: each actor of `world.actors()` against
each one. Suites, runs, per-sample results and Inspect logs are the government's: a developer (or
a partner) never reaches them (404). Also: log downloads are audited, and list pages and APIs run
a fixed number of queries."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from evaluations import engine, services
from evaluations.models import (
    BenchmarkSuite,
    EvaluationEndpoint,
    EvaluationRun,
    SampleResult,
    SuiteVersion,
)
from tests.conftest import bring_to
from tests.evaluations.conftest import simulated_endpoint

LOGIN = "login"
ANON = "anonymous-refused"
ACTORS = ["owner", "colleague", "outsider", "reviewer", "reviewer2", "admin", "partner",
          "anonymous"]
LOG_BYTES = b"PK\x03\x04 an Inspect log"
ITEMS = [{"id": f"i{n}", "input": f"Question {n}?", "choices": ["a", "b"], "target": "A",
          "category": "defense"} for n in range(2)]


def table(**expected):
    assert sorted(expected) == sorted(ACTORS), "every actor must be in the table"
    return list(expected.items())


def as_(client, world, actor):
    client.logout()
    user = world.actors()[actor]
    if user is not None:
        client.force_login(user)
    return user


def check_page(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected


def check_api(response, expected):
    if expected == ANON:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == expected, response.content
    if response.status_code != 200 or not response["Content-Type"].startswith("application/zip"):
        assert response["Content-Type"].startswith("application/json")


def create_suite(world, name="Cyber sample"):
    return services.suite_version_create(
        actor=world.admin, suite_name=name, filename="s.jsonl",
        content="\n".join(json.dumps(i) for i in ITEMS).encode(), solver="multiple_choice",
        scorer="choice")


def add_run(world, version, *, status="succeeded", log_root=None) -> EvaluationRun:
    """A run row as the worker leaves it (metrics, per-sample results, a log on disk)."""
    run = EvaluationRun.objects.create(
        request=world.request, suite_version=version, started_by=world.reviewer, status=status,
        suite_hash=version.content_hash, inspect_version=engine.INSPECT_VERSION,
        model_identity="portalsim/atlas-sim", samples_total=2,
        samples_done=2 if status == "succeeded" else 0,
        finished_at=timezone.now() if status == "succeeded" else None,
        metrics={"overall": {"accuracy": 0.5, "stderr": 0.5, "n": 2},
                 "categories": {"defense": {"accuracy": 0.5, "stderr": 0.5, "n": 2}}}
        if status == "succeeded" else {})
    if status == "succeeded":
        SampleResult.objects.bulk_create([
            SampleResult(run=run, sample_id="i0", category="defense", score=1.0, answer="A",
                         target="A"),
            SampleResult(run=run, sample_id="i1", category="defense", score=0.0, answer="B",
                         target="A")])
    if log_root is not None:
        path = log_root / f"run-{run.pk}" / "attempt-1" / "task.eval"
        path.parent.mkdir(parents=True)
        path.write_bytes(LOG_BYTES)
        run.log_path = str(path.relative_to(log_root))
        run.save(update_fields=["log_path"])
    return run


@pytest.fixture
def log_root(settings, tmp_path):
    settings.EVALUATION_LOG_ROOT = tmp_path / "eval-logs"
    settings.INSPECT_DATA_DIR = tmp_path / "inspect-data"
    return settings.EVALUATION_LOG_ROOT


@pytest.fixture
def evaluated(world, log_root):
    """In review, with a simulated endpoint, a suite, and one finished run with a log."""
    bring_to(world, "in_review")
    simulated_endpoint(world)
    world.version = create_suite(world)
    world.run = add_run(world, world.version, log_root=log_root)
    return world


GOVERNMENT_ONLY = table(owner=404, colleague=404, outsider=404, reviewer=200, reviewer2=200,
                        admin=200, partner=404, anonymous=LOGIN)
ASSIGNED_ONLY = table(owner=404, colleague=404, outsider=404, reviewer=200, reviewer2=404,
                      admin=200, partner=404, anonymous=LOGIN)
DEVELOPERS_ONLY = table(owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404,
                        admin=403, partner=404, anonymous=LOGIN)


# --- pages ----------------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", GOVERNMENT_ONLY)
def test_the_suites_page_is_for_the_government_only(client, evaluated, actor, expected):
    as_(client, evaluated, actor)
    response = client.get("/suites/")
    check_page(response, expected)
    if expected == 200:
        assert evaluated.version.content_hash[:12] in response.content.decode()


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=403, reviewer2=403, admin=302, partner=404,
    anonymous=LOGIN))
def test_only_admins_upload_a_suite_on_its_page(client, world, actor, expected):
    as_(client, world, actor)
    response = client.post("/suites/", {
        "suite_name": "Uploaded", "solver": "multiple_choice", "scorer": "choice",
        "file": SimpleUploadedFile("s.jsonl", "\n".join(json.dumps(i) for i in ITEMS).encode())})
    check_page(response, expected)
    assert BenchmarkSuite.objects.filter(name="Uploaded").exists() == (expected == 302)


@pytest.mark.parametrize("actor,expected", ASSIGNED_ONLY)
def test_the_evaluation_tab_is_for_the_assigned_reviewer_and_admins(client, evaluated, actor,
                                                                    expected):
    as_(client, evaluated, actor)
    response = client.get(f"/requests/{evaluated.request.pk}/evaluation/")
    check_page(response, expected)
    if expected == 200:
        body = response.content.decode()
        assert f"#{evaluated.run.pk}" in body and "Defensive security knowledge" in body


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=302, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_assigned_reviewer_starts_a_run_from_the_tab(
        client, evaluated, actor, expected, django_capture_on_commit_callbacks):
    as_(client, evaluated, actor)
    with django_capture_on_commit_callbacks():
        response = client.post(f"/requests/{evaluated.request.pk}/evaluation/",
                               {"suite_version": evaluated.version.pk})
    check_page(response, expected)
    started = EvaluationRun.objects.exclude(pk=evaluated.run.pk)
    assert started.count() == (1 if expected == 302 else 0)
    if expected == 302:
        assert response["Location"] == f"/runs/{started.get().pk}/"


def test_a_refused_start_is_shown_as_a_message_on_the_tab(client, evaluated):
    EvaluationEndpoint.objects.all().delete()
    as_(client, evaluated, "reviewer")
    response = client.post(f"/requests/{evaluated.request.pk}/evaluation/",
                           {"suite_version": evaluated.version.pk}, follow=True)
    assert response.status_code == 200
    assert "has not given an evaluation endpoint" in response.content.decode()
    assert EvaluationRun.objects.count() == 1


@pytest.mark.parametrize("actor,expected", ASSIGNED_ONLY)
def test_a_run_page_is_for_the_assigned_reviewer_and_admins(client, evaluated, actor, expected):
    as_(client, evaluated, actor)
    response = client.get(f"/runs/{evaluated.run.pk}/")
    check_page(response, expected)
    if expected == 200:
        body = response.content.decode()
        assert evaluated.version.content_hash in body and "Per-sample scores" in body


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=302, reviewer2=404, admin=302, partner=404,
    anonymous=LOGIN))
def test_a_run_is_cancelled_from_its_page_by_the_assigned_reviewer_or_an_admin(
        client, evaluated, actor, expected):
    run = add_run(evaluated, evaluated.version, status="queued")
    as_(client, evaluated, actor)
    response = client.post(f"/runs/{run.pk}/cancel/")
    check_page(response, expected)
    run.refresh_from_db()
    assert (run.status == "cancelled") == (expected == 302)
    if expected == 302:
        assert response["Location"] == f"/runs/{run.pk}/"
    assert AuditEvent.objects.filter(action="run.cancel_requested").count() == (
        expected == 302)


def test_cancelling_a_finished_run_from_its_page_shows_why_not(client, evaluated):
    as_(client, evaluated, "reviewer")
    response = client.post(f"/runs/{evaluated.run.pk}/cancel/", follow=True)
    assert "already succeeded" in response.content.decode()
    evaluated.run.refresh_from_db()
    assert evaluated.run.status == "succeeded" and not evaluated.run.cancel_requested


@pytest.mark.parametrize("actor,expected", ASSIGNED_ONLY)
def test_the_inspect_log_is_downloaded_by_the_assigned_reviewer_and_admins_and_audited(
        client, evaluated, actor, expected):
    user = as_(client, evaluated, actor)
    response = client.get(f"/runs/{evaluated.run.pk}/log/")
    check_page(response, expected)
    events = AuditEvent.objects.filter(action="run.log_downloaded")
    if expected == 200:
        assert b"".join(response) == LOG_BYTES
        assert response["Content-Disposition"] == 'attachment; filename="task.eval"'
        event = events.get()
        assert event.actor == user and event.object_id == str(evaluated.run.pk)
        assert event.organisation == evaluated.acme
    else:
        assert not events.exists()


@pytest.mark.parametrize("actor,expected", DEVELOPERS_ONLY)
def test_the_endpoint_page_is_for_the_models_developers(client, evaluated, actor, expected):
    as_(client, evaluated, actor)
    check_page(client.get(f"/models/{evaluated.model.pk}/endpoint/"), expected)


@pytest.mark.parametrize("actor,expected", table(
    owner=302, colleague=302, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_models_developers_change_the_endpoint_on_its_page(client, evaluated, actor,
                                                                   expected):
    as_(client, evaluated, actor)
    response = client.post(f"/models/{evaluated.model.pk}/endpoint/", {
        "kind": "simulated", "model_name": "changed", "simulated_latency_ms": "0"})
    check_page(response, expected)
    changed = EvaluationEndpoint.objects.get().model_name == "changed"
    assert changed == (expected == 302)


def test_a_missing_log_is_a_404_and_is_not_audited(client, evaluated, log_root):
    no_log = add_run(evaluated, evaluated.version)
    (log_root / evaluated.run.log_path).unlink()
    as_(client, evaluated, "reviewer")
    for run in (no_log, evaluated.run):
        assert client.get(f"/runs/{run.pk}/log/").status_code == 404
        response = client.get(f"/api/v1/runs/{run.pk}/log/")
        assert response.status_code == 404
        assert response.json()["detail"] == "This run has no Inspect log."
    assert not AuditEvent.objects.filter(action="run.log_downloaded").exists()


# --- the API --------------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", table(
    owner=0, colleague=0, outsider=0, reviewer=1, reviewer2=1, admin=1, partner=0,
    anonymous=ANON))
def test_the_suite_list_shows_suites_to_the_government_only(client, evaluated, actor, expected):
    as_(client, evaluated, actor)
    response = client.get("/api/v1/suites/")
    check_api(response, ANON if expected == ANON else 200)
    if expected != ANON:
        assert response.json()["count"] == expected
        assert (evaluated.version.content_hash in response.content.decode()) == bool(expected)


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=200, reviewer2=200, admin=200, partner=404,
    anonymous=ANON))
def test_a_suite_is_shown_to_the_government_only(client, evaluated, actor, expected):
    as_(client, evaluated, actor)
    response = client.get(f"/api/v1/suites/{evaluated.version.suite_id}/")
    check_api(response, expected)
    if expected == 200:
        body = response.json()
        assert body["versions"][0]["content_hash"] == evaluated.version.content_hash
        assert "items" not in body["versions"][0]  # the items never leave the server


@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=403, reviewer=403, reviewer2=403, admin=201, partner=403,
    anonymous=ANON))
def test_only_admins_create_a_suite_through_the_api(client, world, actor, expected):
    as_(client, world, actor)
    response = client.post("/api/v1/suites/", {
        "suite_name": "Uploaded", "solver": "multiple_choice", "scorer": "choice",
        "file": SimpleUploadedFile("s.jsonl", "\n".join(json.dumps(i) for i in ITEMS).encode())})
    check_api(response, expected)
    assert SuiteVersion.objects.filter(suite__name="Uploaded").exists() == (expected == 201)
    assert AuditEvent.objects.filter(action="suite.version_created").count() == (
        expected == 201)


@pytest.mark.parametrize("actor,expected", table(
    owner=0, colleague=0, outsider=0, reviewer=1, reviewer2=0, admin=1, partner=0,
    anonymous=ANON))
def test_the_run_list_shows_runs_to_the_assigned_reviewer_and_admins(client, evaluated, actor,
                                                                     expected):
    as_(client, evaluated, actor)
    response = client.get("/api/v1/runs/")
    check_api(response, ANON if expected == ANON else 200)
    if expected != ANON:
        body = response.json()
        assert len(body["results"]) == expected
        if expected:
            assert body["results"][0]["id"] == evaluated.run.pk
            assert body["results"][0]["log_url"] == f"/api/v1/runs/{evaluated.run.pk}/log/"


# The job's publish is an on-commit callback, held back here, so the start answers 202 "waiting
# for the queue" (the broker has not taken it), not 201.
@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=202, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_assigned_reviewer_starts_a_run_through_the_api(
        client, evaluated, actor, expected, django_capture_on_commit_callbacks):
    as_(client, evaluated, actor)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/api/v1/runs/", {"request": evaluated.request.pk,
                                                 "suite_version": evaluated.version.pk},
                               content_type="application/json")
    check_api(response, expected)
    started = EvaluationRun.objects.exclude(pk=evaluated.run.pk)
    assert started.count() == (expected == 202) == len(callbacks)
    if expected == 202:
        body = response.json()
        assert body["id"] == started.get().pk and body["status"] == "queued"
        assert body["queue_state"] == "waiting"
        assert body["suite_hash"] == evaluated.version.content_hash


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=200, reviewer2=404, admin=200, partner=404,
    anonymous=ANON))
def test_a_run_is_shown_to_the_assigned_reviewer_and_admins(client, evaluated, actor, expected):
    as_(client, evaluated, actor)
    response = client.get(f"/api/v1/runs/{evaluated.run.pk}/")
    check_api(response, expected)
    if expected == 200:
        body = response.json()
        assert body["metrics"]["overall"]["accuracy"] == 0.5
        assert body["progress_percent"] == 100 and body["samples_done"] == 2


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=200, reviewer2=404, admin=200, partner=404,
    anonymous=ANON))
def test_a_run_is_cancelled_through_the_api_by_the_assigned_reviewer_or_an_admin(
        client, evaluated, actor, expected):
    run = add_run(evaluated, evaluated.version, status="queued")
    as_(client, evaluated, actor)
    response = client.post(f"/api/v1/runs/{run.pk}/cancel/")
    check_api(response, expected)
    run.refresh_from_db()
    assert (run.status == "cancelled") == (expected == 200)
    if expected == 200:
        assert response.json()["status"] == "cancelled"


def test_cancelling_a_finished_run_through_the_api_answers_409(client, evaluated):
    as_(client, evaluated, "reviewer")
    response = client.post(f"/api/v1/runs/{evaluated.run.pk}/cancel/")
    assert response.status_code == 409
    assert "already succeeded" in response.json()["detail"]


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=200, reviewer2=404, admin=200, partner=404,
    anonymous=ANON))
def test_per_sample_results_are_for_the_assigned_reviewer_and_admins(client, evaluated, actor,
                                                                     expected):
    as_(client, evaluated, actor)
    response = client.get(f"/api/v1/runs/{evaluated.run.pk}/samples/")
    check_api(response, expected)
    if expected == 200:
        assert [s["sample_id"] for s in response.json()["results"]] == ["i0", "i1"]


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, reviewer=200, reviewer2=404, admin=200, partner=404,
    anonymous=ANON))
def test_the_log_is_downloaded_through_the_api_and_every_download_is_audited(
        client, evaluated, actor, expected):
    user = as_(client, evaluated, actor)
    response = client.get(f"/api/v1/runs/{evaluated.run.pk}/log/")
    check_api(response, expected)
    events = AuditEvent.objects.filter(action="run.log_downloaded")
    if expected == 200:
        assert b"".join(response) == LOG_BYTES  # streamed from the storage
        assert response["Content-Type"] == "application/zip"
        assert response["Cache-Control"] == "private, no-store"
        assert events.get().actor == user
    else:
        assert not events.exists()


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=404, reviewer=200, reviewer2=404, admin=200, partner=404,
    anonymous=ANON))
def test_the_endpoint_settings_are_shown_to_the_models_developers_and_its_reviewers(
        client, evaluated, actor, expected):
    as_(client, evaluated, actor)
    response = client.get(f"/api/v1/models/{evaluated.model.pk}/endpoint/")
    check_api(response, expected)
    if expected == 200:
        assert response.json()["model_name"] == "atlas-sim"
        assert "api_key" not in response.json()


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_models_developers_put_the_endpoint(client, evaluated, actor, expected):
    as_(client, evaluated, actor)
    response = client.put(f"/api/v1/models/{evaluated.model.pk}/endpoint/",
                          json.dumps({"kind": "simulated", "model_name": "changed"}),
                          content_type="application/json")
    check_api(response, expected)
    assert (EvaluationEndpoint.objects.get().model_name == "changed") == (expected == 200)


def test_a_developer_cannot_reach_a_suite_or_run_by_guessing_ids(client, evaluated):
    """Nothing the government holds answers differently for an id that exists."""
    as_(client, evaluated, "owner")
    missing = evaluated.run.pk + 1000
    for existing, absent in [
        (f"/api/v1/runs/{evaluated.run.pk}/", f"/api/v1/runs/{missing}/"),
        (f"/api/v1/suites/{evaluated.version.suite_id}/", f"/api/v1/suites/{missing}/"),
        (f"/runs/{evaluated.run.pk}/", f"/runs/{missing}/"),
    ]:
        a, b = client.get(existing), client.get(absent)
        assert a.status_code == b.status_code == 404
        if existing.startswith("/api/"):
            assert a.json() == b.json()
    response = client.post("/api/v1/runs/", {"request": evaluated.request.pk,
                                             "suite_version": evaluated.version.pk},
                           content_type="application/json")
    assert response.status_code == 404  # the request is theirs, the suite is not visible


# --- query counts ---------------------------------------------------------------------------

def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _add_suites_and_runs(world, how_many):
    for _ in range(how_many):
        version = create_suite(world, name=f"Suite {BenchmarkSuite.objects.count():02d}")
        create_suite(world, name=version.suite.name)  # and a second version
        add_run(world, version)


QUERIES = {
    "/api/v1/runs/": {"reviewer": 7, "admin": 7},
    "/api/v1/suites/": {"reviewer": 7, "admin": 7},
    # Includes the active policy and its rules, for the thresholds on the chart. The runs are
    # paged (review_portal/pagination.py): a bounded COUNT, then the page's rows. A reviewer's
    # page also reads the request's assignments: "Run the suite" is offered only to an
    # assigned reviewer (evaluations.services.run_start_refusal).
    "/requests/{request}/evaluation/": {"reviewer": 16, "admin": 15},
}


@pytest.mark.parametrize("url,viewer,pinned", [
    (url, viewer, pinned) for url, viewers in QUERIES.items()
    for viewer, pinned in viewers.items()
])
def test_evaluation_lists_run_a_fixed_number_of_queries(
        client, world, log_root, url, viewer, pinned, django_assert_max_num_queries):
    bring_to(world, "in_review")
    simulated_endpoint(world)
    url = url.format(request=world.request.pk)
    as_(client, world, viewer)
    _add_suites_and_runs(world, 2)
    client.get(url)  # warm the per-process caches (content types, permissions)
    few = count_queries(client, url)
    _add_suites_and_runs(world, 6)
    many = count_queries(client, url)
    assert few == many, f"{url}: {few} queries with 2 rows, {many} with 8"
    with django_assert_max_num_queries(pinned):
        client.get(url)


def test_the_chart_has_room_for_every_category(client, evaluated):
    version = services.suite_version_create(
        actor=evaluated.admin, suite_name="Four categories", filename="s.jsonl",
        content="\n".join(json.dumps({**ITEMS[0], "id": c, "category": c}) for c in (
            "defense", "exploit_development", "attack_automation",
            "vulnerability_discovery")).encode(), solver="multiple_choice", scorer="choice")
    run = add_run(evaluated, version)
    run.metrics["categories"] = {c: {"accuracy": 0.5, "stderr": 0.1, "n": 1}
                                 for c in version.categories}
    run.save(update_fields=["metrics"])
    as_(client, evaluated, "reviewer")
    body = client.get(f"/requests/{evaluated.request.pk}/evaluation/").content.decode()
    # one bar of the first suite's run and four of the second's, 32 units each, and 76 for
    # the axes' titles and ticks
    assert 'viewBox="0 0 800 236"' in body
    assert body.count('<rect x="220" y="6" width="400"') == 5


def test_the_evaluation_tab_draws_the_active_policys_thresholds(client, world):
    from evaluations.views import category_thresholds
    from reviews.models import PolicyRule
    from reviews.selectors import policy_active

    policy = policy_active()
    PolicyRule.objects.create(policy=policy, kind="category_accuracy",
                              category="exploit_development", threshold=0.6,
                              citation="Demo", position=99)
    assert category_thresholds() == {"exploit_development": 0.6}
