"""What a queued run's page and API say it waits for: the job queue (the broker did not take
the job), an evaluation worker (none is running), or a free one."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evaluations.services import RUN_TASK, run_ref
from jobs.models import OutboxMessage
from jobs.selectors import run_queue_notice, run_queue_notices
from jobs.services import job_enqueue, outbox_publish
from tests.conftest import bring_to
from tests.evaluations.test_access import add_run, create_suite
from tests.jobs.conftest import presence, queued_run

S = OutboxMessage.State
NO_WORKER = re.compile(r"^Queued for \d+ s: no evaluation worker is running\.$")


@pytest.fixture
def queued(world):
    """A queued run whose job was recorded with it (job_enqueue, as run_start does), created a
    minute ago; the reviewer is assigned."""
    bring_to(world, "in_review")
    run = queued_run(world, create_suite(world), age=60)
    job = job_enqueue(task=RUN_TASK, kwargs={"run_id": run.pk}, ref=run_ref(run.pk))
    OutboxMessage.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(seconds=42))
    world.run, world.job = run, job
    return world


def published(job):
    OutboxMessage.objects.filter(pk=job.pk).update(state=S.PUBLISHED,
                                                   published_at=timezone.now())


def shown(client, world) -> tuple[str, str | None]:
    """The run page's notice paragraph and the API's queue_notice, for the reviewer."""
    client.force_login(world.reviewer)
    body = client.get(f"/runs/{world.run.pk}/").content.decode()
    (paragraph,) = re.findall(r'<p id="queue-notice"[^>]*>(.*?)</p>', body)
    return paragraph, client.get(f"/api/v1/runs/{world.run.pk}/").json()["queue_notice"]


def same_but_the_clock(notice: str) -> re.Pattern:
    """The notice, with its "for N s" free to have moved on a second or two since it was read."""
    seconds = re.search(r"for (\d+) s", notice)
    if seconds is None:
        return re.compile(re.escape(notice))
    n = int(seconds.group(1))
    return re.compile(re.escape(notice[:seconds.start(1)]) + f"({n}|{n + 1}|{n + 2})"
                      + re.escape(notice[seconds.end(1):]))


def shows(client, world, notice: str) -> bool:
    pattern = same_but_the_clock(notice)
    return all(pattern.fullmatch(answer or "") for answer in shown(client, world))


def test_a_job_the_broker_refused_waits_for_the_job_queue(client, queued, dead_broker):
    presence(seen_ago=2)  # a worker, hence a relay, is running
    assert outbox_publish(message_id=queued.job.pk) == "failed"  # a real refused connection
    queued.job.refresh_from_db()
    assert queued.job.state == S.WAITING and "127.0.0.1" in queued.job.last_error
    notice = run_queue_notice(run=queued.run)
    assert re.fullmatch(r"Waiting for the job queue for 4[2-4] s: the broker is unreachable "
                        r"\(OperationalError\); the run will be queued automatically when it "
                        r"answers\.", notice), notice
    port = dead_broker.rsplit(":", 1)[1].split("/")[0]
    assert "127.0.0.1" not in notice and port not in notice  # what, never where
    assert shows(client, queued, notice), (notice, shown(client, queued))


def test_a_waiting_job_with_no_worker_to_hand_it_over_says_so(queued, dead_broker):
    presence(seen_ago=120)  # gone: no relay is running
    outbox_publish(message_id=queued.job.pk)
    notice = run_queue_notice(run=queued.run)
    assert notice.startswith("Waiting for the job queue for ")
    assert notice.endswith("(OperationalError); no worker is running to hand it over.")


def test_a_job_not_yet_tried_waits_for_the_job_queue_without_a_reason(queued):
    presence(seen_ago=2)
    assert re.fullmatch(r"Waiting for the job queue for 4[2-4] s; the run will be queued "
                        r"automatically\.", run_queue_notice(run=queued.run))


def test_a_queued_run_with_no_live_evaluation_worker_says_none_is_running(client, queued):
    published(queued.job)
    presence("celery@mail", queues=["default"], seen_ago=1)  # alive, but not for evaluations
    presence("celery@eval", queues=["evaluations"], seen_ago=25)  # stale
    presence("celery@eval2", queues=["evaluations"], seen_ago=1, stopped=True)  # shut down
    notice = run_queue_notice(run=queued.run)
    assert NO_WORKER.match(notice) and notice.startswith("Queued for 4")  # since the job
    assert shows(client, queued, notice), (notice, shown(client, queued))


def test_a_queued_run_with_a_live_evaluation_worker_waits_for_a_free_one(client, queued):
    published(queued.job)
    presence("celery@eval", queues=["evaluations"], seen_ago=3)
    notice = run_queue_notice(run=queued.run)
    assert re.fullmatch(r"Queued for 4[2-4] s; waiting for a free evaluation worker "
                        r"\(1 running\)\.", notice), notice
    assert shows(client, queued, notice), (notice, shown(client, queued))


def test_a_run_handed_back_counts_from_its_newest_job(queued):
    published(queued.job)
    OutboxMessage.objects.filter(pk=queued.job.pk).update(state=S.DONE)
    job_enqueue(task=RUN_TASK, kwargs={"run_id": queued.run.pk}, ref=run_ref(queued.run.pk))
    published(OutboxMessage.objects.latest("pk"))
    assert re.fullmatch(r"Queued for [0-2] s: no evaluation worker is running\.",
                        run_queue_notice(run=queued.run))


def test_a_queued_run_without_a_job_counts_from_its_creation(queued):
    OutboxMessage.objects.all().delete()
    assert re.fullmatch(r"Queued for 6[0-2] s: no evaluation worker is running\.",
                        run_queue_notice(run=queued.run))


@pytest.mark.parametrize("status", ["running", "succeeded"])
def test_a_run_that_is_not_queued_has_no_notice_and_costs_no_query(
        client, world, status, django_assert_num_queries):
    bring_to(world, "in_review")
    world.run = add_run(world, create_suite(world), status=status)
    with django_assert_num_queries(0):
        assert run_queue_notice(run=world.run) is None
    assert shown(client, world) == ("", None)
    client.force_login(world.reviewer)
    page = client.get(f"/runs/{world.run.pk}/").content.decode()
    assert '<p id="queue-notice" role="status" hidden></p>' in page


def test_the_run_list_carries_each_queued_runs_notice(api, queued):
    published(queued.job)
    finished = add_run(queued, queued.run.suite_version)
    rows = api.as_(queued.reviewer).get("/api/v1/runs/").json()["results"]
    notices = {r["id"]: r["queue_notice"] for r in rows}
    assert notices[finished.pk] is None
    assert NO_WORKER.match(notices[queued.run.pk])


# --- queries ----------------------------------------------------------------------------------

def test_the_notice_of_a_queued_run_takes_two_queries(queued, django_assert_num_queries):
    presence(seen_ago=1)
    with django_assert_num_queries(2):  # the newest job, the live workers
        run_queue_notice(run=queued.run)


def test_the_notices_of_many_queued_runs_take_two_queries_too(queued,
                                                              django_assert_num_queries):
    runs = [queued.run] + [queued_run(queued, queued.run.suite_version) for _ in range(5)]
    for run in runs[1:]:
        job_enqueue(task=RUN_TASK, kwargs={"run_id": run.pk}, ref=run_ref(run.pk))
    with django_assert_num_queries(2):
        notices = run_queue_notices(runs=runs)
    assert set(notices) == {run.pk for run in runs}


# The run page and API detail before the notice, plus its two queries while the run is queued.
# Page: session, user, membership, second factor, the reviewer's global permission check, the
# run (one join), the organisation in the header. API detail: the same without the header.
RUN_PAGE_PIN, RUN_API_PIN = 7 + 2, 6 + 2


def test_the_run_page_and_api_detail_run_a_pinned_number_of_queries(
        client, queued, django_assert_max_num_queries):
    presence(seen_ago=1)
    client.force_login(queued.reviewer)
    for url, pin in ((f"/runs/{queued.run.pk}/", RUN_PAGE_PIN),
                     (f"/api/v1/runs/{queued.run.pk}/", RUN_API_PIN)):
        client.get(url)  # warm the per-process caches (content types, permissions)
        with django_assert_max_num_queries(pin):
            assert client.get(url).status_code == 200


def test_the_run_list_with_queued_runs_runs_as_many_queries_for_8_as_for_2(client, queued):
    client.force_login(queued.reviewer)
    client.get("/api/v1/runs/")  # warm the per-process caches

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/runs/").status_code == 200
        return len(ctx)

    queued_run(queued, queued.run.suite_version)
    few = count()
    for _ in range(6):
        queued_run(queued, queued.run.suite_version)
    assert count() == few
