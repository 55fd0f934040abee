"""/healthz and /readyz: no login, no second factor, no cache headers; readiness names what fails.
The database-down case runs against a real server process in tests/test_faults.py."""

import pytest
from django.core.cache import cache

from review_portal.celery_app import app
from tests.faultkit import RedisServer, free_port
from tests.test_cache import use_cache


def test_healthz_answers_ok_without_touching_the_database(db, client,
                                                          django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_the_probes_skip_the_second_factor_gate_and_the_session(world, client,
                                                                django_assert_num_queries):
    # A reviewer without a device is sent to enrol from every other page.
    reviewer = world.reviewer
    reviewer.authenticator_set.all().delete()
    client.force_login(reviewer)
    assert client.get("/requests/")["Location"] == "/accounts/2fa/totp/activate/"
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_readyz_answers_200_when_every_component_answers(db, client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {"database", "broker", "cache"}
    for component in body["components"].values():
        assert component["status"] == "ok"
        assert component["reason"]
        assert component["ms"] < 2000
    assert response["Cache-Control"] == "no-store"


def break_the_broker(monkeypatch) -> str:
    """Redis: publish to a port nothing listens on. The embedded broker: a queue folder that is
    not there. Returns the error the check should name."""
    if app.conf.broker_url.startswith("filesystem://"):
        options = {**app.conf.broker_transport_options, "data_folder_in": "/nonexistent/queue"}
        monkeypatch.setitem(app.conf, "broker_transport_options", options)
        return "PermissionError"
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", f"redis://127.0.0.1:{free_port()}/0")
    return "OperationalError"


def test_readyz_answers_503_naming_the_broker_when_it_is_unreachable(db, client, monkeypatch):
    error = break_the_broker(monkeypatch)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["components"]["broker"]["status"] == "error"
    assert error in body["components"]["broker"]["reason"]
    content = response.content.decode()
    assert "127.0.0.1" not in content and "nonexistent" not in content  # what, never where
    assert body["components"]["database"]["status"] == "ok"


def test_readyz_stays_200_with_the_redis_cache_down_and_says_it_is_degraded(
        db, client, settings, tmp_path):
    server = RedisServer(tmp_path).start()
    use_cache(settings, server.url)
    server.stop()
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["cache"]["status"] == "degraded"
    assert cache.add("still-works", 1) is True


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_answer_only_get(db, client, path):
    assert client.post(path).status_code == 405
