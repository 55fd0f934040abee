"""The embedded default's broker: kombu's filesystem transport, made safe for several processes.

Why a file broker at all: `make run` must need no server, yet web, beat and workers are separate
processes that must share one queue. kombu's filesystem transport does that, with fanout (so
`celery inspect` / `control` and the workers' pidbox work), but as shipped it is unsafe with more
than one process on a folder (the crash in issue 7: `JSONDecodeError` in the worker, which then
exits with "Unrecoverable error"):

- a producer creates the message file and only then writes it, so a consumer polling the folder
  can claim and read an empty or half-written file;
- a consumer claims a file by moving it to the system temp folder, which may be another
  filesystem (a copy, not an atomic rename: two consumers can both get the message);
- an exchange's binding table is truncated by `open("wb")` before its lock is taken, so a
  concurrent reader (every broadcast) can read an empty table;
- queues of workers that are gone stay bound to the pidbox fanout exchange, so every control
  call leaves files behind that nobody reads, and the folder grows for ever.

This transport fixes each: a message is written under a name no consumer looks at and renamed
into place (rename is atomic within a folder); a consumer claims a message by renaming it into a
`claimed/` folder next to the queue (same filesystem, so exactly one consumer wins) and skips any
file it cannot parse rather than dying; binding tables are read-modify-written under one lock;
and pidbox and reply messages older than five minutes (the TTL Celery asks of AMQP brokers for
them) are swept away.

What it still does not do is keep an unacknowledged message after the consuming process is
killed (SIGKILL): the outbox lease (`outbox.services.outbox_sweep`) and the evaluation reconcile
sweep republish such work, and tasks are idempotent.
"""

import json
import logging
import os
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

# Control traffic (Celery's pidbox broadcasts and their replies) expires like it does on AMQP.
CONTROL_MESSAGE_TTL = 300.0
_CONTROL_MARKERS = (".celery.pidbox.msg", ".reply.celery.pidbox.msg")
_SWEEP_EVERY = 30.0


class Channel(filesystem.Channel):
    _last_sweep = 0.0

    @property
    def _claim_folder(self) -> str:
        folder = os.path.join(self.data_folder_in, "claimed")
        os.makedirs(folder, exist_ok=True)
        return folder

    def _put(self, queue, payload, **kwargs):
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot and no ".msg" suffix: no consumer ever considers the file while it is
        # being written.
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
                f.flush()
                os.fsync(f.fileno())
            os.rename(partial, final)
        except OSError as exc:
            try:
                os.unlink(partial)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        self._sweep_expired_control_messages()
        suffix = f".{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.startswith(".") or not filename.endswith(suffix) \
                    or filename.partition(".")[2] != suffix[1:]:
                continue
            source = os.path.join(self.data_folder_in, filename)
            claimed = os.path.join(self._claim_folder, f"{os.getpid()}-{filename}")
            try:
                os.rename(source, claimed)  # atomic: exactly one consumer gets the message
            except OSError:
                continue  # another consumer took it first
            try:
                with open(claimed, "rb") as f:
                    payload = f.read()
            finally:
                try:
                    os.unlink(claimed)
                except OSError:
                    pass
            try:
                return loads(bytes_to_str(payload))
            except (ValueError, TypeError):
                # Only a message written by something other than this transport can be torn;
                # drop it loudly rather than let the worker die on it.
                logger.error("Dropped an unreadable broker message %s", filename)
                continue
        raise Empty()

    def _sweep_expired_control_messages(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < _SWEEP_EVERY:
            return
        self._last_sweep = now
        horizon = time.time() - CONTROL_MESSAGE_TTL
        try:
            names = os.listdir(self.data_folder_in)
        except OSError:
            return
        for name in names:
            if not name.endswith(_CONTROL_MARKERS):
                continue
            path = os.path.join(self.data_folder_in, name)
            try:
                if os.stat(path).st_mtime < horizon:
                    os.unlink(path)
            except OSError:
                pass

    def _update_table(self, exchange, change) -> None:
        """Read, change and write an exchange's binding table under one exclusive lock."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        with os.fdopen(fd, "r+b", buffering=0) as f:
            filesystem.lock(f, filesystem.LOCK_EX)
            try:
                raw = f.read()
                try:
                    table = [filesystem.exchange_queue_t(*q) for q in json.loads(raw or b"[]")]
                except ValueError:
                    table = []
                new = change(table)
                if new is not None:
                    f.seek(0)
                    f.write(str_to_bytes(dumps(new)))
                    f.truncate()
            finally:
                filesystem.unlock(f)

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            with open(file, "rb") as f:
                filesystem.lock(f, filesystem.LOCK_SH)
                try:
                    raw = f.read()
                finally:
                    filesystem.unlock(f)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        try:
            return [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(raw or b"[]"))]
        except ValueError:
            return []

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        value = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")

        def add(table):
            return None if value in table else [value, *table]

        self._update_table(exchange, add)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # The virtual base class forgets the queue; the binding is removed from the table here.
        super(filesystem.Channel, self)._delete(queue, exchange, routing_key, pattern, *args,
                                                **kwargs)
        value = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        if not Path(self._exchange_file(exchange)).exists():
            return

        def remove(table):
            return [q for q in table if q != value] if value in table else None

        self._update_table(exchange, remove)


class Transport(filesystem.Transport):
    Channel = Channel
