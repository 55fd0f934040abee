"""The outbox: a job exists exactly when its transaction committed, a broker that does not answer
leaves it waiting with the reason, the relay publishes it when the broker is back, a lost
message is published again, and a finished task marks its job."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jobs import services
from jobs.models import OutboxMessage
from review_portal.celery_app import app
from tests.faultkit import RedisServer
from tests.jobs.conftest import point_the_broker_at

S = OutboxMessage.State
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(tmp_path, monkeypatch):
    """A Redis of this test's own as the broker; no worker consumes it."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder).start()
    point_the_broker_at(monkeypatch, server.url)
    yield server
    server.stop()


def _depth(queue="default") -> int:
    with app.connection_for_write() as conn:
        return app.amqp.queues[queue].bind(conn.default_channel).queue_declare().message_count


def test_a_job_asked_for_in_a_rolled_back_transaction_never_exists(broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.job_enqueue(task="jobs.ping", kwargs={"token": "x"})
        raise RuntimeError("the change failed")
    assert OutboxMessage.objects.count() == 0
    assert _depth() == 0


def test_a_committed_job_is_published_at_once_to_its_queue(broker):
    with transaction.atomic():
        row = services.job_enqueue(task="jobs.ping", kwargs={"token": "x"})
    row.refresh_from_db()
    assert row.state == S.PUBLISHED and row.deliveries == 1 and row.last_error == ""
    assert _depth("default") == 1
    assert row.queue == "default"
    assert services.queue_for("evaluations.run_evaluation") == "evaluations"


def test_a_broker_that_is_down_leaves_the_job_waiting_and_the_relay_publishes_it_on_return(
        broker):
    broker.stop()
    with transaction.atomic():
        row = services.job_enqueue(task="jobs.ping", kwargs={"token": "x"})
        second = services.job_enqueue(task="jobs.ping", kwargs={"token": "y"})
    row.refresh_from_db()
    assert row.state == S.WAITING and "did not take it" in row.last_error
    assert row.publish_attempts == 1 and row.available_at > timezone.now()

    OutboxMessage.objects.update(available_at=timezone.now())
    assert services.outbox_relay_once() == 0  # still down: the pass stops at the first failure
    assert OutboxMessage.objects.get(pk=second.pk).publish_attempts == 1

    broker.start()
    OutboxMessage.objects.update(available_at=timezone.now())
    assert services.outbox_relay_once() == 2
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {S.PUBLISHED}
    assert _depth() == 2


def test_a_published_job_not_done_long_after_its_limit_is_published_again_then_failed(broker):
    with transaction.atomic():
        row = services.job_enqueue(task="jobs.ping", kwargs={"token": "x"})
    assert row.redeliver_after == 20 + 300  # the task's hard limit plus a margin
    long_ago = timezone.now() - timedelta(seconds=row.redeliver_after + 1)
    OutboxMessage.objects.filter(pk=row.pk).update(published_at=long_ago)

    assert services.outbox_redeliver_lost() == [row.pk]
    assert services.outbox_relay_once() == 1
    row.refresh_from_db()
    assert row.state == S.PUBLISHED and row.deliveries == 2

    OutboxMessage.objects.filter(pk=row.pk).update(published_at=long_ago,
                                                   deliveries=services.MAX_DELIVERIES)
    assert services.outbox_redeliver_lost() == []
    row.refresh_from_db()
    assert row.state == S.FAILED and "Not done after 5 deliveries" in row.last_error


def test_an_evaluation_job_is_never_redelivered_by_the_outbox():
    """Runs have their own recovery (a queued run may rightly wait for hours)."""
    from evaluations.services import RUN_TASK

    with transaction.atomic():
        row = services.job_enqueue(task=RUN_TASK, kwargs={"run_id": 1}, redeliver_after=None)
    OutboxMessage.objects.filter(pk=row.pk).update(
        state=S.PUBLISHED, published_at=timezone.now() - timedelta(days=2))
    assert services.outbox_redeliver_lost() == []


def test_a_task_that_ends_marks_its_job_done_or_failed():
    """Eager here (the test settings): the task runs in-process and its signal fires."""
    with transaction.atomic():
        row = services.job_enqueue(task="jobs.ping", kwargs={"token": "x"})
    row.refresh_from_db()
    assert row.state == S.DONE and row.done_at is not None
    assert services.outbox_mark_finished(task_id=f"outbox-{row.pk}", succeeded=True) is False
    assert services.outbox_mark_finished(task_id="not-ours", succeeded=True) is False


def test_finished_jobs_are_pruned_after_a_week_and_waiting_ones_never():
    old = timezone.now() - timedelta(days=8)
    done = OutboxMessage.objects.create(task="jobs.ping", queue="default", state=S.DONE,
                                        available_at=old, done_at=old)
    waiting = OutboxMessage.objects.create(task="jobs.ping", queue="default", available_at=old)
    recent = OutboxMessage.objects.create(task="jobs.ping", queue="default", state=S.DONE,
                                          available_at=old, done_at=timezone.now())
    assert services.outbox_prune() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk}
    assert not OutboxMessage.objects.filter(pk=done.pk).exists()
