"""The embedded default's broker (review_portal/broker.py) with several processes on one folder.

kombu's stock filesystem transport, in the same run, loses and tears messages
(`JSONDecodeError` in consumers, the crash of issue 7); these tests pin that ours does not.
"""

import multiprocessing as mp
import time

import pytest
from kombu import Connection, Exchange, Queue

TRANSPORT = "review_portal.broker:Transport"
PRODUCERS, PER_PRODUCER, CONSUMERS = 4, 1000, 3


def _connection(folder: str) -> Connection:
    return Connection("filesystem://", transport=TRANSPORT, transport_options={
        "data_folder_in": f"{folder}/queue", "data_folder_out": f"{folder}/queue",
        "control_folder": f"{folder}/control", "polling_interval": 0.01})


def _produce(folder: str, tag: int) -> None:
    with _connection(folder) as conn:
        queue = conn.SimpleQueue("jobs")
        for i in range(PER_PRODUCER):
            queue.put({"id": f"{tag}-{i}"})
        queue.close()


def _consume(folder: str, out, until: float, expected: int, seen) -> None:
    got, errors = [], []
    with _connection(folder) as conn:
        queue = conn.SimpleQueue("jobs")
        while time.time() < until and seen.value < expected:
            try:
                message = queue.get(timeout=0.1)
            except queue.Empty:
                continue
            except Exception as exc:  # what the stock transport raises on a torn file
                errors.append(repr(exc))
                continue
            got.append(message.payload["id"])
            message.ack()
            with seen.get_lock():
                seen.value += 1
        queue.close()
    out.put((got, errors))


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "queue").mkdir()
    (tmp_path / "control").mkdir()
    return str(tmp_path)


def test_every_message_from_several_producers_reaches_exactly_one_of_several_consumers(folder):
    ctx = mp.get_context("spawn")
    out, seen = ctx.Queue(), ctx.Value("i", 0)
    expected = PRODUCERS * PER_PRODUCER
    until = time.time() + 60
    consumers = [ctx.Process(target=_consume, args=(folder, out, until, expected, seen))
                 for _ in range(CONSUMERS)]
    producers = [ctx.Process(target=_produce, args=(folder, tag)) for tag in range(PRODUCERS)]
    for process in consumers + producers:
        process.start()
    results = [out.get(timeout=90) for _ in consumers]
    for process in consumers + producers:
        process.join(timeout=30)
    received = [i for got, _ in results for i in got]
    errors = [e for _, errs in results for e in errs]
    assert errors == []
    assert len(received) == expected
    assert len(set(received)) == expected
    assert all(p.exitcode == 0 for p in consumers + producers)


def test_a_fanout_message_reaches_every_bound_queue_while_bindings_change(folder):
    """Celery's control calls are fanout broadcasts; the binding table is rewritten whenever a
    worker or a `celery inspect` client comes or goes."""
    exchange = Exchange("broadcast", type="fanout")
    with _connection(folder) as conn:
        channel = conn.channel()
        bound = [Queue(f"q{i}", exchange, channel=channel) for i in range(20)]
        for queue in bound:
            queue.declare()
        extra = Queue("leaving", exchange, channel=channel)
        extra.declare()
        extra.delete()
        producer = conn.Producer(channel)
        producer.publish({"ping": 1}, exchange=exchange, declare=[exchange])
        for queue in bound:
            message = queue.get(no_ack=True)
            assert message is not None and message.payload == {"ping": 1}, queue.name
        names = {q.queue for q in channel.get_table("broadcast")}
        assert names == {f"q{i}" for i in range(20)}


def test_a_torn_message_file_is_dropped_and_the_consumer_keeps_going(folder):
    with _connection(folder) as conn:
        queue = conn.SimpleQueue("jobs")
        # What the stock transport leaves for a consumer that polls mid-write: an empty file.
        open(f"{folder}/queue/00000000000000000001_torn.jobs.msg", "wb").close()
        queue.put({"id": "after"})
        assert queue.get(timeout=2).payload == {"id": "after"}
        queue.close()
