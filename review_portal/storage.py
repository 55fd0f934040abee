"""Where the portal keeps files: the encrypted artifacts and the Inspect logs.

Two named storages in STORAGES (settings/base.py): "artifacts" and "evaluation_logs". Embedded
default: folders on this host's disk (PRIVATE_MEDIA_ROOT, EVALUATION_LOG_ROOT). With
STORAGE_BACKEND=s3: one S3-compatible bucket that every web process and worker on every host
reaches, so a worker on another host writes a log that any web process serves.

Both are private. Neither hands out a URL (`url()` refuses): every byte leaves through a view
that checked who asks and recorded the read. What goes into "artifacts" is Fernet ciphertext
(submissions/artifact_services.py encrypts before it saves), so the bucket never holds plaintext.

Code asks `storages["artifacts"]` / `storages["evaluation_logs"]`, never a path: the same call
works on both backends.
"""

import logging
import os
import tempfile
from functools import lru_cache
from typing import IO

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

logger = logging.getLogger(__name__)

ARTIFACTS = "artifacts"
EVALUATION_LOGS = "evaluation_logs"


class NoPublicUrl(NotImplementedError):
    pass


def refuse_url(name: str) -> str:
    raise NoPublicUrl(f"{name!r} is private: serve it through a permission-checked view, never "
                      "by a URL that skips the check")


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder on this host, named by a setting read at each use (tests and commands change the
    setting; a location fixed at start would miss that). Writes are atomic and durable: into a
    temporary file in the same folder, fsynced, renamed over the name, the folder fsynced, so a
    crash or a full disk leaves the whole file or none (the row that points at it commits only
    after). Files 0600, folders 0700."""

    def __init__(self, *, root_setting: str, **kwargs):
        self.root_setting = root_setting
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        kwargs.setdefault("allow_overwrite", True)  # names are random; rotation rewrites in place
        super().__init__(**kwargs)

    @property
    def base_location(self):  # type: ignore[override]
        return str(getattr(settings, self.root_setting))

    @property
    def location(self):  # type: ignore[override]
        return os.path.abspath(self.base_location)

    def url(self, name):
        return refuse_url(name)

    def _save(self, name, content):
        path = self.path(name)
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")
        try:
            with open(descriptor, "wb") as handle:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
            temporary = None
            # The rename itself must reach the disk before the row that points at it commits.
            folder_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(folder_fd)
            finally:
                os.close(folder_fd)
        finally:
            if temporary is not None:
                os.unlink(temporary)
        return name


def is_s3(storage) -> bool:
    return hasattr(storage, "bucket_name")


def open_stream(storage, name: str) -> tuple[IO[bytes], int | None]:
    """A file-like object to read `name` from, and its size: on S3 the body of one GET, read as
    it arrives (not downloaded first). FileNotFoundError if there is no such file."""
    if is_s3(storage):
        from botocore.exceptions import ClientError

        key = storage._normalize_name(name)
        try:
            answer = storage.connection.meta.client.get_object(Bucket=storage.bucket_name,
                                                               Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(name) from exc
            raise
        return answer["Body"], answer.get("ContentLength")
    handle = storage.open(name, "rb")
    return handle, storage.size(name)


def read_bytes(storage, name: str) -> bytes:
    body, _ = open_stream(storage, name)
    try:
        return body.read()
    finally:
        body.close()


def is_storage_error(exc: BaseException) -> bool:
    """The storage failed (disk, network, the S3 service), as opposed to a bug in our code."""
    if isinstance(exc, OSError):
        return True
    try:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    return isinstance(exc, BotoCoreError | ClientError | Boto3Error)


# --- Inspect's logs -----------------------------------------------------------------------------

def inspect_log_dir(name: str) -> str:
    """Where Inspect writes the logs of `name` (e.g. run-4/attempt-1): a folder on this host, or
    an s3:// URL in the log storage's bucket, which Inspect writes through its own S3 support."""
    storage = storages[EVALUATION_LOGS]
    if is_s3(storage):
        return f"s3://{storage.bucket_name}/{storage._normalize_name(name)}"
    return storage.path(name)


def log_name_from_location(location: str) -> str:
    """The storage name of a log Inspect wrote at `location` (what inspect_log_dir returned, plus
    the file's name), relative to the log storage."""
    storage = storages[EVALUATION_LOGS]
    if is_s3(storage):
        prefix = f"s3://{storage.bucket_name}/"
        key = location.removeprefix(prefix)
        root = storage.location.strip("/")
        return key.removeprefix(f"{root}/") if root else key
    path = os.path.realpath(location.removeprefix("file://"))
    return os.path.relpath(path, os.path.realpath(storage.location))


def inspect_s3_environment() -> dict[str, str]:
    """The environment Inspect's S3 clients need to reach the log storage's bucket.

    Inspect 0.3 writes S3 logs through its own aiobotocore clients (inspect_ai/_util/asyncfiles
    .py) and through s3fs; it creates both with botocore's defaults and passes no endpoint or
    keys, so they come from botocore's standard environment: AWS_ENDPOINT_URL_S3 (botocore 1.31+,
    honoured by aiobotocore and s3fs alike), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
    AWS_DEFAULT_REGION. Without keys in the settings botocore's own chain applies (an instance
    role, a profile)."""
    storage = storages[EVALUATION_LOGS]
    if not is_s3(storage):
        return {}
    values = {"AWS_DEFAULT_REGION": storage.region_name or "us-east-1"}
    if storage.endpoint_url:
        values["AWS_ENDPOINT_URL_S3"] = storage.endpoint_url
    if storage.access_key and storage.secret_key:
        values["AWS_ACCESS_KEY_ID"] = storage.access_key
        values["AWS_SECRET_ACCESS_KEY"] = storage.secret_key
    return values


@lru_cache(maxsize=4)
def _probe_client(endpoint_url, region_name, access_key, secret_key, client_config, timeout):
    import boto3
    from botocore.config import Config

    config = (client_config or Config()).merge(Config(
        connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1}))
    # boto3 clients are thread-safe; one per process, so a probe costs one request.
    return boto3.session.Session(aws_access_key_id=access_key,
                                 aws_secret_access_key=secret_key).client(
        "s3", endpoint_url=endpoint_url, region_name=region_name, config=config)


def check_reachable(timeout: float) -> str:
    """For /readyz in S3 mode: the bucket answers a HEAD within `timeout` (one try, no retries;
    the portal's keys may read it)."""
    storage = storages[ARTIFACTS]
    client = _probe_client(storage.endpoint_url, storage.region_name, storage.access_key,
                           storage.secret_key, storage.client_config, timeout)
    client.head_bucket(Bucket=storage.bucket_name)
    return "the bucket answered"
