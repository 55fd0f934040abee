"""Faults answer cleanly (issue 7): each test breaks a real service and checks the answer.

- the cache's Redis is down: logins, second factors and token introspection still work;
- the artifact store is full (a real 256 KiB tmpfs): a 507 with a message, no file, no row;
- the database is down under a real gunicorn process: 503 JSON with Retry-After on the API, a
  plain 503 page elsewhere, /healthz 200 and /readyz 503 naming the database;
- the job queue is unreachable: a real kombu connection error is a 503 too.
"""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.urls import reverse
from kombu.exceptions import OperationalError as QueueOperationalError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.services import api_token_create
from audit.models import AuditEvent
from partners import services as partner_services
from review_portal.api import exception_handler, server_error
from review_portal.celery_app import app
from review_portal.errors import ApplicationError
from review_portal.middleware import FaultResponseMiddleware
from submissions.artifact_services import artifact_upload
from submissions.models import Artifact
from tests.accounts.test_login_and_mfa import PASSWORD, current_code, logged_in_user_id
from tests.factories import OrganisationFactory, UserFactory
from tests.faultkit import PortalServer, RedisServer, TcpProxy, free_port
from tests.partners.conftest import make_live_grant, pw  # noqa: F401 - the partner world
from tests.test_cache import use_cache

INTROSPECT = reverse("api-introspect")


def login(client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": username, "password": password})


@pytest.fixture
def cache_down(settings, tmp_path):
    """The cache points at its own Redis server, which is then stopped."""
    server = RedisServer(tmp_path).start()
    use_cache(settings, server.url)
    server.stop()
    return server


# --- the cache's Redis is down ----------------------------------------------------------------

def test_login_with_the_right_password_succeeds_while_the_cache_is_down(world, client,
                                                                        cache_down):
    started = time.monotonic()
    response = login(client, "owner")
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(world.owner.pk)
    assert client.get("/models/").status_code == 200
    assert elapsed < 1.0, elapsed  # no wait on a rate-limit lock that can never be taken


def test_a_wrong_password_shows_the_form_error_while_the_cache_is_down(world, client,
                                                                       cache_down):
    response = login(client, "owner", password="not the password at all")
    assert response.status_code == 200
    assert "are not correct" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_a_reviewers_code_works_once_while_the_cache_is_down(world, client, cache_down):
    code = current_code(world.reviewer)
    login(client, "reviewer")
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert logged_in_user_id(client) == str(world.reviewer.pk)
    client.post("/accounts/logout/")
    login(client, "reviewer")
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert logged_in_user_id(client) is None  # the replay is still refused (in this process)


def test_introspection_answers_while_the_cache_is_down(pw, client, cache_down):  # noqa: F811
    grant = make_live_grant(pw)
    grant, token = partner_services.grant_issue_token(grant=grant, actor=pw.w.partner)
    _, key = api_token_create(user=pw.w.owner, name="gateway")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    live = client.post(INTROSPECT, {"token": token}, **auth)
    unknown = client.post(INTROSPECT, {"token": "frg_nonsense"}, **auth)

    assert live.status_code == 200
    answer = live.json()
    assert answer["active"] is True
    assert answer["aud"] == f"model:{pw.w.model.pk}"
    assert (answer["model"], answer["organisation"]) == (pw.w.model.pk, "Rural Hospital")
    assert answer["exp"] == int(grant.ends_at.timestamp())
    assert unknown.status_code == 200
    assert unknown.json() == {"active": False}


# --- the artifact store is full ---------------------------------------------------------------

@pytest.fixture
def full_disk(tmp_path, settings):
    """PRIVATE_MEDIA_ROOT on a real 256 KiB tmpfs, filled to within 8 KiB."""
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {result.stderr.strip()}")
    try:
        stats = os.statvfs(mount)
        (mount / "filler").write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - 8192))
        root = mount / "private"
        root.mkdir()
        settings.PRIVATE_MEDIA_ROOT = root
        yield root
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def assert_nothing_stored(root: Path) -> None:
    assert not Artifact.objects.exists()
    assert not AuditEvent.objects.filter(action="artifact.uploaded").exists()
    assert files_under(root) == []  # neither the file nor its temporary copy


CARD = ("# Model card\n\n" + "Uplift on exploit writing: moderate.\n" * 1000).encode()


def test_an_upload_to_a_full_disk_is_refused_with_507_and_leaves_no_file_and_no_row(
        world, full_disk):
    with pytest.raises(ApplicationError) as refused:
        artifact_upload(review_request=world.request, actor=world.owner, kind="model_card",
                        uploaded_file=SimpleUploadedFile("card.md", CARD))
    assert refused.value.status == 507
    assert refused.value.code == "storage_full"
    assert "storage is full" in refused.value.message
    assert_nothing_stored(full_disk)


def test_the_api_answers_a_full_disk_with_json(world, client, full_disk):
    client.force_login(world.owner)
    response = client.post(f"/api/v1/review-requests/{world.request.pk}/artifacts/",
                           {"kind": "model_card", "file": SimpleUploadedFile("card.md", CARD)})
    assert response.status_code == 507
    assert response.json()["code"] == "storage_full"
    assert "storage is full" in response.json()["detail"]
    assert_nothing_stored(full_disk)


def test_the_page_shows_why_an_upload_to_a_full_disk_failed(world, client, full_disk):
    client.force_login(world.owner)
    response = client.post(reverse("artifact_create", args=[world.request.pk]),
                           {"kind": "model_card", "file": SimpleUploadedFile("card.md", CARD)},
                           follow=True)
    assert response.status_code == 200
    assert "storage is full" in response.content.decode()
    assert_nothing_stored(full_disk)


def test_a_small_upload_still_fits_on_the_nearly_full_disk(world, full_disk):
    artifact = artifact_upload(review_request=world.request, actor=world.owner,
                               kind="model_card",
                               uploaded_file=SimpleUploadedFile("card.md", b"# Card\n"))
    assert files_under(full_disk) == [full_disk / artifact.storage_path]


# --- the job queue is unreachable -------------------------------------------------------------

@pytest.fixture
def queue_error() -> QueueOperationalError:
    """What kombu raises when the broker refuses the connection (a real attempt)."""
    with app.connection_for_write(url=f"redis://127.0.0.1:{free_port()}/0", transport="redis",
                                  connect_timeout=1) as conn:
        with pytest.raises(QueueOperationalError) as raised:
            conn.ensure_connection(max_retries=0)
    return raised.value


def test_an_unreachable_queue_is_a_503_json_under_the_api(queue_error, rf):
    middleware = FaultResponseMiddleware(lambda request: None)
    response = middleware.process_exception(rf.post("/api/v1/runs/"), queue_error)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert json.loads(response.content) == {
        "detail": "The job queue is unreachable. Try again in a minute.",
        "code": "queue_unavailable"}


def test_an_unreachable_queue_is_a_plain_503_page_elsewhere(queue_error, rf):
    middleware = FaultResponseMiddleware(lambda request: None)
    response = middleware.process_exception(rf.post("/runs/1/cancel/"), queue_error)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.content.decode()
    assert "job queue is unreachable" in response.content.decode()


def test_the_api_exception_handler_answers_an_unreachable_queue_with_503(queue_error):
    request = Request(APIRequestFactory().post("/api/v1/runs/"))
    response = exception_handler(queue_error, {"request": request, "view": None})
    assert response.status_code == 503
    assert response.data["code"] == "queue_unavailable"
    assert response["Retry-After"] == "30"


def test_a_missing_table_is_a_bug_not_an_outage(db, rf):
    with pytest.raises(DatabaseError) as raised:  # OperationalError on SQLite
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")
    try:
        raise raised.value
    except DatabaseError:
        response = server_error(rf.get("/api/v1/models/"))
    assert response.status_code == 500


def test_any_other_server_error_is_json_under_the_api_and_the_page_elsewhere(rf):
    try:
        raise RuntimeError("a bug")
    except RuntimeError:  # handler500 runs while the exception is being handled
        api = server_error(rf.get("/api/v1/models/"))
        page = server_error(rf.get("/models/"))
    assert api.status_code == 500
    assert json.loads(api.content) == {"detail": "Server error.", "code": "server_error"}
    assert page.status_code == 500
    assert "Server error" in page.content.decode()


# --- the database is down, under a real server ------------------------------------------------

def fetch(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.mark.slow
def test_with_the_database_down_the_api_answers_503_json_and_the_probes_tell_it_apart(
        transactional_db, tmp_path):
    settings_dict = connection.settings_dict
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL: the test stops the database behind a TCP proxy")
    # Committed rows, so the server process sees them.
    organisation = OrganisationFactory(name="Acme AI")
    owner = UserFactory(username="owner", organisation=organisation)
    _, key = api_token_create(user=owner, name="faults")
    auth = {"Authorization": f"Bearer {key}"}
    session = {"Cookie": f"sessionid={'a' * 32}"}  # a well-formed key: Django looks it up

    proxy = TcpProxy((settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)))
    user = settings_dict["USER"]
    server = PortalServer({"DATABASE_URL": f"postgres://{user}@127.0.0.1:{proxy.port}/"
                                           f"{settings_dict['NAME']}"},
                          log=tmp_path / "gunicorn.log")
    try:
        server.start()
        status, _, body = fetch(f"{server.base}/api/v1/models/", auth)
        assert status == 200, body
        assert fetch(f"{server.base}/readyz")[0] == 200

        proxy.close()  # PostgreSQL is now unreachable: connections are refused
        started = time.monotonic()
        status, headers, body = fetch(f"{server.base}/api/v1/models/", auth)
        api_seconds = time.monotonic() - started
        assert status == 503, body
        assert headers["Content-Type"] == "application/json"
        assert headers["Retry-After"] == "30"
        assert json.loads(body) == {"detail": "The database is unreachable. Try again in a "
                                              "minute.", "code": "database_unavailable"}

        # A page whose session must be loaded from the database: the failure is raised in the
        # middleware, so handler500 answers, with a plain page that needs no database.
        status, headers, body = fetch(f"{server.base}/models/", session)
        assert status == 503
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Retry-After"] == "30"
        assert "Temporarily unavailable" in body

        status, headers, body = fetch(f"{server.base}/healthz", session)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert headers["Cache-Control"] == "no-store"

        started = time.monotonic()
        status, headers, body = fetch(f"{server.base}/readyz")
        ready_seconds = time.monotonic() - started
        assert status == 503
        components = json.loads(body)["components"]
        assert components["database"]["status"] == "error"
        assert "OperationalError" in components["database"]["reason"]
        assert components["broker"]["status"] == "ok"
        assert headers["Cache-Control"] == "no-store"
        assert api_seconds < 2 and ready_seconds < 2.5, (api_seconds, ready_seconds)
    finally:
        server.stop()
        proxy.close()
    log = (tmp_path / "gunicorn.log").read_text()
    assert "database_unavailable: answering GET /api/v1/models/ with 503" in log
