"""Confidential artifacts: checked by content, encrypted at rest, read only through a service
that records every download."""

import errno
import hashlib
import json
import logging
import uuid
from pathlib import Path

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils.text import get_valid_filename

from accounts import policy
from accounts.models import User
from audit.services import audit_record
from review_portal.crypto import decrypt_bytes, encrypt_bytes
from review_portal.errors import ApplicationError
from review_portal.storage import ARTIFACTS, is_storage_error, read_bytes
from submissions.models import Artifact, ReviewRequest
from submissions.workflow import OPEN_STATES

# extension -> content type. Text types are recognised by being valid UTF-8 without NUL bytes;
# binary types by their signature. The name's extension must agree with the content.
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "txt": "text/plain",
    "md": "text/markdown",
    "json": "application/json",
    "csv": "text/csv",
}
TEXT_EXTENSIONS = {"txt", "md", "json", "csv"}

logger = logging.getLogger(__name__)

# A write that failed for want of space (see _storage_failed).
STORAGE_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def sanitise_filename(name: str) -> str:
    base = Path((name or "").replace("\\", "/")).name
    base = get_valid_filename(base) if base.strip(". ") else ""
    if not base:
        raise ApplicationError("The file has no usable name.", field="file")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem.lstrip(".")[:150] or "file"
    return f"{stem}.{ext.lower()}" if ext else stem



def upload_read(uploaded_file) -> tuple[str, str, bytes]:
    """(the sanitised name, its extension, the bytes) of an upload within ARTIFACT_MAX_BYTES;
    a clear error for no file, an empty one or one too large (whatever size it declares).
    Shared by request artifacts and the clearinghouse's proofs of concept."""
    if uploaded_file is None:
        raise ApplicationError("Choose a file to upload.", field="file")
    limit = settings.ARTIFACT_MAX_BYTES
    if uploaded_file.size > limit:
        raise ApplicationError(f"The file is {uploaded_file.size:,} bytes; the limit is "
                               f"{limit:,} bytes.", field="file", status=413)
    if uploaded_file.size == 0:
        raise ApplicationError("The file is empty.", field="file")
    filename = sanitise_filename(uploaded_file.name)
    extension = filename.rpartition(".")[2] if "." in filename else ""
    data = uploaded_file.read(limit + 1)
    if len(data) > limit:  # the declared size can lie
        raise ApplicationError(f"The file is larger than the limit of {limit:,} bytes.",
                               field="file", status=413)
    return filename, extension, data

def detect_content_type(data: bytes, extension: str) -> str:
    """Return the content type if the bytes are an allowed type matching the extension."""
    if extension not in ALLOWED_TYPES:
        allowed = ", ".join(f".{e}" for e in ALLOWED_TYPES)
        raise ApplicationError(f"Files of type .{extension or '?'} are not accepted "
                               f"(allowed: {allowed}).", field="file")
    if extension == "pdf":
        if data[:5] != b"%PDF-":
            raise ApplicationError("The file is named .pdf but its content is not a PDF.",
                                   field="file")
        return ALLOWED_TYPES["pdf"]
    # Text is decided by the bytes themselves: valid UTF-8 without NUL. Executables, archives
    # and images fail that. A signature match alone does not make a file binary: short
    # signatures ("BM", "ID3", "MZ") also begin ordinary text such as "BM25 baseline results".
    # The signature only names what a refused file looks like.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        kind = filetype.guess(data)
        if kind is None and text is None:
            raise ApplicationError(f"The file is named .{extension} but is not UTF-8 text.",
                                   field="file")
        described = f"a {kind.mime} file" if kind else "binary"
        raise ApplicationError(f"The file is named .{extension} but its content is {described}.",
                               field="file")
    if extension == "json":
        try:
            json.loads(text.removeprefix("\ufeff"))  # RFC 8259 lets a parser ignore a BOM
        except ValueError as exc:
            raise ApplicationError(f"The JSON file does not parse: {exc}.", field="file") from exc
    return ALLOWED_TYPES[extension]


def _storage():
    return storages[ARTIFACTS]


def _storage_failed(exc: BaseException) -> ApplicationError:
    """A failed write as the error the page and the API show. Out of space (local disk) is a 507:
    retrying will not help until someone frees space. Anything else (a read-only or missing
    volume, an I/O error, the object store down or refusing) is a 503: the storage is
    unavailable, the request itself was fine."""
    logger.error("Could not store an artifact: %s: %s", type(exc).__name__, exc)
    if isinstance(exc, OSError) and exc.errno in STORAGE_FULL_ERRNOS:
        return ApplicationError("The portal's file storage is full, so the file was not saved "
                                "and nothing was recorded. Try again later, or tell the program "
                                "office if this keeps happening.", status=507,
                                code="storage_full")
    return ApplicationError("The portal could not write the file to its storage, so it was not "
                            "saved and nothing was recorded. Try again later.", status=503,
                            code="storage_unavailable")


def _store(name: str, payload: bytes) -> None:
    """Write the ciphertext whole or not at all: the local backend writes a temporary file and
    renames it; S3 makes an object visible only once a PUT completed."""
    try:
        saved = _storage().save(name, ContentFile(payload))
    except Exception as exc:
        if is_storage_error(exc):
            _discard(name)
            raise _storage_failed(exc) from exc
        raise
    if saved != name:  # pragma: no cover - names are random and overwrite is allowed
        raise RuntimeError(f"the artifact storage renamed {name} to {saved}")


def _discard(name: str) -> None:
    """Remove what may have been stored under `name`. If the storage cannot be reached now, the
    object stays an orphan (no row points at it, so nobody can read it); the log says which."""
    try:
        _storage().delete(name)
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        logger.error("Could not remove the unrecorded artifact object %s: %s: %s", name,
                     type(exc).__name__, exc)


def artifact_upload(*, review_request: ReviewRequest, actor: User, kind: str,
                    uploaded_file) -> Artifact:
    """Check, encrypt and store an upload, then record it. Never leaves a file without its row or
    a row without its file: the file is written (atomically) before the transaction and removed
    if anything after it fails, the commit included. Callers run it outside a transaction, as
    the page and the API do: the rollback of an enclosing one would leave the file behind."""
    if not policy.is_developer_of(actor, review_request.model):
        raise PermissionDenied("Only the developer organisation uploads artifacts.")
    if review_request.status not in OPEN_STATES:
        raise ApplicationError("Artifacts can be added only while the request is open.",
                               status=409)
    if kind not in Artifact.Kind.values:
        raise ApplicationError("Choose what the file is: model card, system card or "
                               "evaluation report.", field="kind")
    filename, extension, data = upload_read(uploaded_file)
    content_type = detect_content_type(data, extension)

    relative = f"artifacts/{uuid.uuid4().hex}.bin"
    _store(relative, encrypt_bytes(data))
    try:
        with transaction.atomic():
            # Re-check under a lock: the caller's copy may predate a withdrawal or determination
            # that committed since, and a closed request must not gain material.
            locked = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
            if locked.status not in OPEN_STATES:
                raise ApplicationError("Artifacts can be added only while the request is open.",
                                       status=409)
            artifact = Artifact(request=review_request, kind=kind, filename=filename,
                                content_type=content_type, size_bytes=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), storage_path=relative,
                                uploaded_by=actor)
            artifact.full_clean()
            artifact.save()
            audit_record(actor=actor, action="artifact.uploaded", obj=artifact,
                         organisation=review_request.model.organisation,
                         data={"request": review_request.pk, "sha256": artifact.sha256,
                               "size": artifact.size_bytes})
    except BaseException:
        _discard(relative)  # nothing half-written: no row, no orphan file
        raise
    return artifact


def artifact_read(*, artifact: Artifact, actor: User) -> bytes:
    """Decrypt an artifact for a user who may see it, and record the read. A stored file that is
    gone is a 404; a storage that does not answer is a 503 (nothing recorded either way)."""
    try:
        data = decrypt_bytes(read_bytes(_storage(), artifact.storage_path))
    except FileNotFoundError as exc:
        logger.error("Artifact %s has no stored file %s", artifact.pk, artifact.storage_path)
        raise ApplicationError("The stored file of this artifact is missing.", status=404,
                               code="not_found") from exc
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        logger.error("Could not read artifact %s: %s: %s", artifact.pk, type(exc).__name__, exc)
        raise ApplicationError("The portal could not read the file from its storage. Try again "
                               "later.", status=503, code="storage_unavailable") from exc
    if hashlib.sha256(data).hexdigest() != artifact.sha256:
        raise ApplicationError("The stored file does not match its recorded SHA-256.",
                               status=409)
    audit_record(actor=actor, action="artifact.downloaded", obj=artifact,
                 organisation=artifact.request.model.organisation,
                 data={"request": artifact.request_id, "sha256": artifact.sha256})
    return data


def artifact_set_shareable(*, artifact: Artifact, actor: User, shareable: bool) -> Artifact:
    """The developer marks an artifact as shared with partners who hold a live grant."""
    if not policy.is_developer_of(actor, artifact.request.model):
        raise PermissionDenied("Only the developer organisation shares its artifacts.")
    if artifact.shareable_with_partners != shareable:
        artifact.shareable_with_partners = shareable
        artifact.save(update_fields=["shareable_with_partners"])
        audit_record(actor=actor, action="artifact.shared" if shareable else "artifact.unshared",
                     obj=artifact, organisation=artifact.request.model.organisation)
    return artifact
