"""The background jobs page and API: what they say about workers, the queues, the outbox, beat,
queued runs and email, and who may see them (program admins only; anyone else 404)."""

import re
import socket
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs import selectors
from jobs.models import OutboxMessage
from notifications.models import Notification
from review_portal.celery_app import app
from tests.evaluations.test_access import add_run, create_suite
from tests.jobs.conftest import point_the_broker_at, presence, queued_run

PAGE = reverse("queue_health")
API = reverse("api-queue-health")
S = OutboxMessage.State


def page(client, world) -> str:
    client.force_login(world.admin)
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def outbox_row(*, task="portal.send_email", state=S.WAITING, age=0.0, done_ago=None,
               last_error="", available_in=0.0, ref="") -> OutboxMessage:
    now = timezone.now()
    row = OutboxMessage.objects.create(
        task=task, queue="default", state=state, last_error=last_error, ref=ref,
        available_at=now + timedelta(seconds=available_in),
        done_at=None if done_ago is None else now - timedelta(seconds=done_ago))
    # created_at is auto_now_add: age it afterwards, as time would.
    OutboxMessage.objects.filter(pk=row.pk).update(created_at=now - timedelta(seconds=age))
    return row


# --- who may see it ---------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", [
    ("admin", 200), ("owner", 404), ("colleague", 404), ("outsider", 404), ("reviewer", 404),
    ("reviewer2", 404), ("partner", 404), ("anonymous", "login")])
def test_only_program_admins_see_the_background_jobs_page(client, world, actor, expected):
    user = world.actors()[actor]
    if user is not None:
        client.force_login(user)
    response = client.get(PAGE)
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        return
    assert response.status_code == expected
    assert ("Background jobs" in response.content.decode()) == (expected == 200)


@pytest.mark.parametrize("actor,expected", [
    ("admin", 200), ("owner", 404), ("colleague", 404), ("outsider", 404), ("reviewer", 404),
    ("reviewer2", 404), ("partner", 404), ("anonymous", "refused")])
def test_only_program_admins_get_the_background_jobs_api(api, world, actor, expected):
    response = api.as_(world.actors()[actor]).get(API)
    assert response["Content-Type"].startswith("application/json")
    if expected == "refused":
        assert response.status_code in (401, 403)
        assert "workers" not in response.json()
        return
    assert response.status_code == expected
    assert ("workers" in response.json()) == (expected == 200)


@pytest.mark.parametrize("actor,linked", [("admin", True), ("reviewer", False),
                                          ("owner", False), ("partner", False)])
def test_the_navigation_links_the_page_for_program_admins_only(client, world, actor, linked):
    client.force_login(world.actors()[actor])
    body = client.get(reverse("profile")).content.decode()
    assert (f'href="{PAGE}"' in body) == linked


# --- workers and beat -------------------------------------------------------------------------

def test_a_worker_seen_seconds_ago_is_alive_and_consumes_its_queues(client, world):
    presence(seen_ago=3)
    report = selectors.queue_health(user=world.admin)
    (worker,) = report.workers
    assert worker.alive and worker.status == "Alive"
    assert {q.name: q.live_workers for q in report.queues} == {"evaluations": 1, "default": 1}
    body = page(client, world)
    assert "No worker is running" not in body
    assert re.search(r"<td>celery@worker-a</td><td>host-a</td><td>evaluations, default</td>"
                     r"<td>2</td>.*?<strong>Alive</strong>", body, re.DOTALL)


def test_a_worker_not_seen_for_a_minute_is_reported_gone(client, world):
    presence(seen_ago=60)
    report = selectors.queue_health(user=world.admin)
    assert not report.workers[0].alive
    assert {q.name: q.live_workers for q in report.queues} == {"evaluations": 0, "default": 0}
    body = page(client, world)
    assert "Status: Needs attention" in body
    assert "No worker is running: evaluations, emails and reminders are not being done." in body
    assert "<strong>Not seen for 60 s</strong>" in body


def test_a_worker_that_shut_down_cleanly_is_stopped_even_if_seen_just_now(client, world):
    presence(seen_ago=1, stopped=True)
    assert selectors.queue_health(user=world.admin).workers[0].status == "Stopped"
    assert "<strong>Stopped</strong>" in page(client, world)


def test_a_queue_without_a_live_consumer_is_named(client, world):
    presence("celery@mail", queues=["default"], seen_ago=2)
    presence("celery@eval", queues=["evaluations"], seen_ago=90)
    report = selectors.queue_health(user=world.admin)
    assert {q.name: q.live_workers for q in report.queues} == {"evaluations": 0, "default": 1}
    assert "No running worker consumes the evaluations queue." in report.problems
    assert "No running worker consumes the default queue." not in report.problems
    assert "No running worker consumes the evaluations queue." in page(client, world)


def test_beat_ticking_fresh_is_fine_and_stale_is_reported(client, world):
    presence(seen_ago=1)
    beat = presence("beat", kind="beat", queues=[], seen_ago=10)
    report = selectors.queue_health(user=world.admin)
    assert not report.beat.stale and report.beat.status == "Ticking"
    assert report.ok and "Status: OK" in page(client, world)

    beat.seen_at = timezone.now() - timedelta(seconds=90)
    beat.save()
    report = selectors.queue_health(user=world.admin)
    assert report.beat.stale and report.beat.status == "Stale: no tick for 90 s"
    body = page(client, world)
    assert "Beat has not ticked for 90 s" in body and "Status: Needs attention" in body


def test_beat_never_seen_is_reported(world):
    presence(seen_ago=1)
    report = selectors.queue_health(user=world.admin)
    assert report.beat.last_tick_at is None and report.beat.status == "Never seen"
    assert any(p.startswith("Beat has never been seen") for p in report.problems)


# --- the outbox, queued runs, email -----------------------------------------------------------

def test_it_counts_the_outbox_backlog_with_its_oldest_age_and_newest_reason(client, world):
    outbox_row(age=300, last_error="The job queue did not take it: OperationalError: older",
               available_in=1)
    outbox_row(age=100, last_error="The job queue did not take it: OperationalError: newest",
               available_in=4)
    outbox_row(age=5)
    outbox_row(state=S.PUBLISHED, age=900)
    outbox_row(state=S.FAILED, done_ago=3600, last_error="boom")
    outbox_row(state=S.FAILED, done_ago=3 * 86400, last_error="long ago")
    outbox = selectors.queue_health(user=world.admin).outbox
    assert outbox.waiting == 3
    assert 299 <= outbox.oldest_waiting_seconds <= 302
    assert outbox.last_error.endswith("newest")
    assert outbox.failed_last_24h == 1
    body = page(client, world)
    assert "3 job(s) wait to be handed to the job queue, the oldest for 5 min." in body
    assert "1 job(s) failed in the last 24 hours." in body
    assert "OperationalError: newest" in body


def test_it_names_the_oldest_queued_run(client, world):
    version = create_suite(world)
    add_run(world, version)  # succeeded
    old = queued_run(world, version, age=600)
    queued_run(world, version, age=5)
    report = selectors.queue_health(user=world.admin)
    assert report.oldest_queued_run.id == old.pk
    assert 599 <= report.oldest_queued_run.age_seconds <= 602
    assert f'<a href="{reverse("run_detail", args=[old.pk])}">Run #{old.pk}</a>' in page(
        client, world)


def test_the_last_email_is_the_newest_of_sent_emails_and_emailed_notifications(world):
    assert selectors.queue_health(user=world.admin).last_email_sent_at is None
    outbox_row(state=S.DONE, done_ago=600)
    outbox_row(task="submissions.windows_check_rules", state=S.DONE, done_ago=1)  # not email
    sent = selectors.queue_health(user=world.admin).last_email_sent_at
    assert 599 <= (timezone.now() - sent).total_seconds() <= 602
    notification = Notification.objects.create(
        user=world.owner, kind=Notification.Kind.APPROVED, object_type="partners.accessrequest",
        object_id=1, title="Approved")
    Notification.objects.filter(pk=notification.pk).update(
        emailed_at=timezone.now() - timedelta(seconds=30))
    sent = selectors.queue_health(user=world.admin).last_email_sent_at
    assert 29 <= (timezone.now() - sent).total_seconds() <= 32


# --- the broker -------------------------------------------------------------------------------

def _purge(name: str) -> None:
    with app.connection_for_write() as conn:
        app.amqp.queues[name].bind(conn.default_channel).purge()


@pytest.fixture
def default_queue(monkeypatch):
    """The configured broker's default queue, empty before and after (no worker runs here)."""
    monkeypatch.setitem(app.conf, "task_always_eager", False)  # send_task really publishes
    _purge("default")
    yield "default"
    _purge("default")


def test_it_counts_the_messages_waiting_in_the_broker(client, world, default_queue):
    for n in range(3):
        app.send_task("tests.jobs.nobody_runs_this", kwargs={"n": n}, queue=default_queue)
    report = selectors.queue_health(user=world.admin)
    depths = {q.name: q.depth for q in report.queues}
    assert depths["default"] == 3
    assert isinstance(depths["evaluations"], int)
    assert re.search(r'<th scope="row">default</th>\s*<td>3</td>', page(client, world))
    assert {q["name"]: q["depth"] for q in client.get(API).json()["queues"]}["default"] == 3


def test_an_unreachable_broker_gives_no_depth_but_a_reason_without_its_address(
        client, world, dead_broker):
    report = selectors.queue_health(user=world.admin)
    for queue in report.queues:
        assert queue.depth is None
        assert queue.depth_error == "the broker did not answer (OperationalError)"
    assert "The job queue could not be read: the broker did not answer (OperationalError)." \
        in report.problems
    client.force_login(world.admin)
    body = client.get(API).content.decode()
    port = dead_broker.rsplit(":", 1)[1].split("/")[0]
    assert "OperationalError" in body and port not in body and "127.0.0.1" not in body


def test_a_broker_that_hangs_does_not_hang_the_page(client, world, monkeypatch):
    """A listener that never answers: the connection is made (the kernel's backlog), the
    broker's first reply never comes."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:
        point_the_broker_at(monkeypatch, f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        report = selectors.queue_health(user=world.admin)
        took = time.monotonic() - started
    assert took < selectors.BROKER_DEADLINE_SECONDS + 1
    assert report.queues[0].depth is None
    assert report.queues[0].depth_error == "the broker gave no answer within 3 s"


# --- the API and the page run a fixed number of queries ---------------------------------------

def _fill(world, n):
    version = create_suite(world, name=f"Suite {n}")
    for i in range(n):
        presence(f"celery@w{n}-{i}", seen_ago=i)
        outbox_row(age=i, last_error=f"err {i}")
        outbox_row(state=S.FAILED, done_ago=i)
        outbox_row(state=S.DONE, done_ago=i)
        queued_run(world, version, age=i)


def test_the_selector_runs_a_fixed_number_of_queries(world, django_assert_num_queries):
    selectors.queue_health(user=world.admin)  # the admin's membership is now cached
    _fill(world, 2)
    with django_assert_num_queries(selectors.PAGE_QUERIES):
        selectors.queue_health(user=world.admin)
    _fill(world, 6)
    with django_assert_num_queries(selectors.PAGE_QUERIES):
        selectors.queue_health(user=world.admin)


# Session, user, membership, the second factor's check, the report's PAGE_QUERIES (6), and for
# the page the organisation named in the header.
PAGE_PIN, API_PIN = 11, 10


def test_the_page_and_api_run_a_fixed_number_of_queries(client, world,
                                                        django_assert_max_num_queries):
    client.force_login(world.admin)
    _fill(world, 2)
    counts = {}
    for url in (PAGE, API):
        client.get(url)  # warm the per-process caches (content types, permissions)
        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        counts[url] = len(few)
    _fill(world, 6)
    for url, pin in ((PAGE, PAGE_PIN), (API, API_PIN)):
        with CaptureQueriesContext(connection) as many:
            client.get(url)
        assert len(many) == counts[url], url
        with django_assert_max_num_queries(pin):
            client.get(url)
