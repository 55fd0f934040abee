"""Proofs of concept, crashing inputs and reproduction scripts of a report: type-checked from
their bytes, encrypted at rest, and read only through a service that records every download.

The request artifacts' machinery is reused (submissions/artifact_services.py): the same name
cleaning, the same encrypted store-then-record with clean-up on failure, so a proof of concept
is kept exactly as carefully as a model card.
"""

import hashlib
import uuid

import filetype
from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts import policy
from accounts.models import User
from audit.services import audit_record
from clearinghouse import access
from clearinghouse.models import Report, ReportArtifact
from review_portal.crypto import decrypt_bytes, encrypt_bytes
from review_portal.errors import ApplicationError, TransitionNotAllowed, save_or_refuse
from review_portal.storage import is_storage_error, read_bytes
from submissions.artifact_services import _discard, _storage, _store, upload_read

RS = Report.Status

# extension -> content type. Text is recognised by being UTF-8 without NUL bytes; zip, pcap,
# pcapng and PDF by their signature; .bin (a crashing input) is any bytes that are not an
# executable. Scripts are served as text/plain: an attachment, never run by the browser.
TEXT_TYPES = {"txt": "text/plain", "md": "text/markdown", "json": "application/json",
              "csv": "text/csv", "log": "text/plain", "patch": "text/x-diff",
              "diff": "text/x-diff", "py": "text/plain", "sh": "text/plain", "c": "text/plain",
              "h": "text/plain", "cpp": "text/plain", "js": "text/plain", "go": "text/plain",
              "rs": "text/plain", "rb": "text/plain", "java": "text/plain",
              "html": "text/plain", "xml": "text/plain", "yaml": "text/plain",
              "yml": "text/plain"}
BINARY_SIGNATURES = {
    "zip": ("application/zip", (b"PK\x03\x04", b"PK\x05\x06")),
    "pcap": ("application/vnd.tcpdump.pcap", (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                                              b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")),
    "pcapng": ("application/x-pcapng", (b"\x0a\x0d\x0d\x0a",)),
    "pdf": ("application/pdf", (b"%PDF-",)),
}
EXECUTABLE_MIMES = {"application/x-executable", "application/x-msdownload",
                    "application/x-mach-binary", "application/x-sharedlib",
                    "application/vnd.microsoft.portable-executable", "application/x-elf"}
ALLOWED_EXTENSIONS = sorted([*TEXT_TYPES, *BINARY_SIGNATURES, "bin"])


def report_artifact_content_type(data: bytes, extension: str) -> str:
    """The content type, if the bytes are an allowed type that matches the name's extension."""
    if extension in BINARY_SIGNATURES:
        content_type, signatures = BINARY_SIGNATURES[extension]
        if not data.startswith(signatures):
            raise ApplicationError(f"The file is named .{extension} but its content is not "
                                   f"{extension}.", field="file")
        return content_type
    if extension == "bin":
        kind = filetype.guess(data)
        if data[:4] == b"\x7fELF" or data[:2] == b"MZ" or (kind and kind.mime in EXECUTABLE_MIMES):
            raise ApplicationError("Executables are not accepted; send the crashing input or "
                                   "the source of the proof of concept.", field="file")
        return "application/octet-stream"
    if extension not in TEXT_TYPES:
        raise ApplicationError(f"Files of type .{extension or '?'} are not accepted (allowed: "
                               f"{', '.join('.' + e for e in ALLOWED_EXTENSIONS)}).",
                               field="file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise ApplicationError(f"The file is named .{extension} but is not UTF-8 text (name a "
                               "binary crashing input .bin).", field="file")
    return TEXT_TYPES[extension]


def report_artifact_upload(*, report: Report, actor: User, kind: str,
                           uploaded_file) -> ReportArtifact:
    """Check, encrypt, store and record a proof of concept (the reporter's organisation, or
    the coordinator, while the report is open). Like a request's artifact: the file is written
    before the transaction and removed if anything after it fails; call it outside one."""
    if not (access.is_reporter_of(actor, report) or policy.is_clearinghouse_coordinator(actor)):
        raise PermissionDenied("Only the reporter's organisation and the coordinator add files.")
    if report.status == RS.CLOSED:
        raise TransitionNotAllowed("A closed report takes no more files.")
    if kind not in ReportArtifact.Kind.values:
        raise ApplicationError("Choose what the file is.", field="kind")
    filename, extension, data = upload_read(uploaded_file)
    content_type = report_artifact_content_type(data, extension)
    relative = f"clearinghouse/{uuid.uuid4().hex}.bin"
    _store(relative, encrypt_bytes(data))
    try:
        with transaction.atomic():
            locked = Report.objects.select_for_update().get(pk=report.pk)
            if locked.status == RS.CLOSED:
                raise TransitionNotAllowed("A closed report takes no more files.")
            artifact = ReportArtifact(report=report, kind=kind, filename=filename,
                                      content_type=content_type, size_bytes=len(data),
                                      sha256=hashlib.sha256(data).hexdigest(),
                                      storage_path=relative, uploaded_by=actor)
            save_or_refuse(artifact)
            audit_record(actor=actor, action="report_artifact.uploaded", obj=artifact,
                         organisation=report.organisation,
                         data={"report": report.pk, "sha256": artifact.sha256,
                               "size": artifact.size_bytes, "kind": kind})
    except BaseException:
        _discard(relative)
        raise
    return artifact


def report_artifact_read(*, artifact: ReportArtifact, actor: User) -> bytes:
    """Decrypt a proof of concept for someone who may download it, and record the read."""
    if not access.may_download_artifact(actor, artifact):
        raise PermissionDenied
    try:
        data = decrypt_bytes(read_bytes(_storage(), artifact.storage_path))
    except FileNotFoundError as exc:
        raise ApplicationError("The stored file of this artifact is missing.", status=404,
                               code="not_found") from exc
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        raise ApplicationError("The portal could not read the file from its storage. Try again "
                               "later.", status=503, code="storage_unavailable") from exc
    if hashlib.sha256(data).hexdigest() != artifact.sha256:
        raise ApplicationError("The stored file does not match its recorded SHA-256.",
                               status=409)
    audit_record(actor=actor, action="report_artifact.downloaded", obj=artifact,
                 organisation=artifact.report.organisation,
                 data={"report": artifact.report_id, "sha256": artifact.sha256})
    return data
