"""Confidential artifacts: upload (service, page, API), storage at rest and recorded downloads.

`world.request` is Acme's draft request; ARTIFACT_MAX_BYTES is 64 KiB in the test settings.
"""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from review_portal.errors import ApplicationError
from submissions import services
from submissions.artifact_services import artifact_read, artifact_upload, sanitise_filename
from submissions.models import Artifact
from tests.conftest import bring_to

LIMIT = 64 * 1024
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
       b"% Atlas 1.0 model card: uplift on exploit writing\ntrailer << /Root 1 0 R >>\n%%EOF\n")
MARKDOWN = "# Atlas 1.0 model card\n\nUplift on exploit writing: moderate. Café ✓\n".encode()
JSON = json.dumps({"benchmark": "cyber-ctf", "solved": 17, "of": 40}).encode()
CSV = b"task,score\nctf-easy,0.81\nctf-hard,0.12\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 40


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("weights.txt", "not really")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path) -> Path:
    """Each test gets its own artifact store, so 'no file left behind' can be checked."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload(world, name: str, content: bytes, *, actor=None, kind="model_card", request=None):
    return artifact_upload(review_request=request or world.request, actor=actor or world.owner,
                           kind=kind, uploaded_file=SimpleUploadedFile(name, content))


def assert_nothing_stored(root: Path) -> None:
    assert not Artifact.objects.exists()
    assert not AuditEvent.objects.filter(action="artifact.uploaded").exists()
    assert stored_files(root) == []


def downloads():
    return AuditEvent.objects.filter(action="artifact.downloaded")


def api_upload_url(world) -> str:
    return f"/api/v1/review-requests/{world.request.pk}/artifacts/"


def api_download_url(artifact) -> str:
    return f"/api/v1/review-requests/{artifact.request_id}/artifacts/{artifact.pk}/download/"


# --- accepted uploads -------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("model-card.pdf", PDF, "application/pdf"),
    ("model-card.md", MARKDOWN, "text/markdown"),
    ("results.json", JSON, "application/json"),
    ("results.csv", CSV, "text/csv"),
    ("notes.txt", b"Plain notes.\r\n\tIndented line.\n", "text/plain"),
])
def test_an_upload_is_recorded_with_its_sha256_and_encrypted_at_rest(
        world, private_root, name, content, content_type):
    artifact = upload(world, name, content)

    row = Artifact.objects.get()
    assert row.pk == artifact.pk
    assert (row.filename, row.content_type, row.size_bytes) == (name, content_type, len(content))
    assert row.sha256 == hashlib.sha256(content).hexdigest()
    assert row.uploaded_by == world.owner
    on_disk = private_root / row.storage_path
    assert on_disk.is_file()
    assert stored_files(private_root) == [on_disk]
    raw = on_disk.read_bytes()
    assert raw != content
    assert content[:16] not in raw
    event = AuditEvent.objects.get(action="artifact.uploaded")
    assert event.actor == world.owner
    assert event.data["sha256"] == row.sha256


def test_reading_returns_the_original_bytes_and_records_the_download(world):
    artifact = upload(world, "model-card.md", MARKDOWN)
    assert artifact_read(artifact=artifact, actor=world.colleague) == MARKDOWN
    event = downloads().get()
    assert event.actor == world.colleague
    assert event.object_id == str(artifact.pk)
    assert event.data["sha256"] == artifact.sha256


def test_a_tampered_file_is_not_served(world, private_root):
    artifact = upload(world, "model-card.md", MARKDOWN)
    other = upload(world, "results.csv", CSV)
    (private_root / artifact.storage_path).write_bytes(
        (private_root / other.storage_path).read_bytes())
    with pytest.raises(ApplicationError, match="SHA-256"):
        artifact_read(artifact=artifact, actor=world.owner)
    assert not downloads().exists()


@pytest.mark.parametrize("content", [b"BM25 baseline results\n", b"ID3,score\nctf,0.5\n",
                                     b"MZ-1 evaluation\n"])
def test_text_that_begins_like_a_binary_signature_is_still_text(world, content):
    artifact = upload(world, "report.csv", content)
    assert artifact.content_type == "text/csv"


def test_a_json_file_with_a_byte_order_mark_is_accepted(world):
    assert upload(world, "results.json", b"\xef\xbb\xbf" + JSON).content_type == \
        "application/json"


def test_an_upload_with_a_stale_copy_of_a_since_withdrawn_request_is_refused(world,
                                                                            private_root):
    stale = type(world.request).objects.get(pk=world.request.pk)
    bring_to(world, "withdrawn")
    with pytest.raises(ApplicationError, match="only while the request is open"):
        upload(world, "card.md", MARKDOWN, request=stale)
    assert_nothing_stored(private_root)


def test_a_colleague_can_upload(world):
    artifact = upload(world, "results.json", JSON, actor=world.colleague, kind="evaluation_report")
    assert Artifact.objects.get().uploaded_by == world.colleague
    assert artifact.kind == "evaluation_report"


# --- refused uploads --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "message"), [
    ("huge.txt", b"a" * (LIMIT + 1), "the limit is 65,536 bytes"),
    ("empty.txt", b"", "empty"),
    ("setup.exe", b"MZ" + b"\x00" * 64, "not accepted"),
    ("bundle.zip", zip_bytes(), "not accepted"),
    ("noextension", b"hello", "not accepted"),
    ("card.pdf", PNG, "not a PDF"),
    ("notes.txt", ELF, "content is"),
    ("notes.txt", zip_bytes(), "content is"),
    ("notes.md", b"text with a NUL \x00 inside", "binary"),
    ("results.json", b'{"solved": 17,', "does not parse"),
    ("results.json", b"", "empty"),
    ("notes.txt", "café".encode("latin-1"), "not UTF-8"),
])
def test_it_refuses_a_bad_file_and_leaves_nothing_behind(world, private_root, name, content,
                                                         message):
    with pytest.raises(ApplicationError, match=message) as exc:
        upload(world, name, content)
    assert exc.value.field == "file"
    assert_nothing_stored(private_root)


def test_a_file_at_the_limit_is_accepted(world):
    assert upload(world, "big.txt", b"a" * LIMIT).size_bytes == LIMIT


def test_too_large_is_a_413(world):
    with pytest.raises(ApplicationError) as exc:
        upload(world, "huge.txt", b"a" * (LIMIT + 1))
    assert exc.value.status == 413


def test_a_file_whose_declared_size_lies_is_still_refused(world, private_root):
    lying = SimpleUploadedFile("huge.txt", b"a" * (LIMIT + 10))
    lying.size = 10
    with pytest.raises(ApplicationError, match="larger than the limit") as exc:
        artifact_upload(review_request=world.request, actor=world.owner, kind="model_card",
                        uploaded_file=lying)
    assert exc.value.status == 413
    assert_nothing_stored(private_root)


def test_an_unknown_kind_is_refused(world, private_root):
    with pytest.raises(ApplicationError, match="model card") as exc:
        upload(world, "card.md", MARKDOWN, kind="weights")
    assert exc.value.field == "kind"
    assert_nothing_stored(private_root)


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("/abs/path/card.PDF", "card.pdf"),
    ("my report (final).md", "my_report_final.md"),
    ('quote"; x=.md', "quote_x.md"),
    (".hidden.txt", "hidden.txt"),
])
def test_file_names_are_sanitised(name, expected):
    assert sanitise_filename(name) == expected


@pytest.mark.parametrize("name", ["", "..", "../", " . "])
def test_a_name_with_nothing_usable_is_refused(name):
    with pytest.raises(ApplicationError, match="no usable name"):
        sanitise_filename(name)


def test_an_uploaded_path_name_is_stored_without_its_path(world, private_root):
    artifact = upload(world, "../../etc/passwd.txt", b"root:x:0:0\n")
    assert artifact.filename == "passwd.txt"
    [path] = stored_files(private_root)
    assert path.is_relative_to(private_root)
    assert "passwd" not in str(path)


@pytest.mark.parametrize("status", ["withdrawn", "determined"])
def test_upload_is_refused_on_a_closed_request(world, private_root, status):
    bring_to(world, status)
    with pytest.raises(ApplicationError, match="only while the request is open") as exc:
        upload(world, "card.md", MARKDOWN)
    assert exc.value.status == 409
    assert_nothing_stored(private_root)


@pytest.mark.parametrize("status", ["submitted", "in_review", "information_requested"])
def test_upload_is_allowed_while_the_request_is_open(world, status):
    bring_to(world, status)
    upload(world, "card.md", MARKDOWN)
    assert Artifact.objects.count() == 1


@pytest.mark.parametrize("who", ["reviewer", "reviewer2", "admin", "outsider", "partner"])
def test_only_developers_of_the_organisation_upload(world, private_root, who):
    bring_to(world, "in_review")
    with pytest.raises(PermissionDenied):
        upload(world, "card.md", MARKDOWN, actor=getattr(world, who))
    assert_nothing_stored(private_root)


# --- upload through the page ------------------------------------------------------------------

def page_upload(client, world, name: str, content: bytes, kind: str = "model_card"):
    return client.post(reverse("artifact_create", args=[world.request.pk]),
                       {"kind": kind, "file": SimpleUploadedFile(name, content)}, follow=True)


def test_the_page_uploads_a_file(world, client):
    client.force_login(world.owner)
    response = page_upload(client, world, "../../etc/passwd.txt", b"root:x:0:0\n")
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("#artifacts")
    row = Artifact.objects.get()
    assert row.filename == "passwd.txt"
    assert row.sha256 == hashlib.sha256(b"root:x:0:0\n").hexdigest()
    assert "Uploaded." in response.content.decode()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("huge.pdf", b"%PDF-" + b"a" * LIMIT, "the limit is 65,536 bytes"),
    ("empty.md", b"", "The file is empty."),
    ("card.pdf", PNG, "not a PDF"),
    ("setup.exe", b"MZ\x00\x00", "not accepted"),
])
def test_the_page_shows_why_a_file_was_refused(world, client, private_root, name, content,
                                               message):
    client.force_login(world.owner)
    response = page_upload(client, world, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert_nothing_stored(private_root)


def test_the_page_refuses_a_reviewer(world, client, private_root):
    bring_to(world, "in_review")
    client.force_login(world.reviewer)
    response = client.post(reverse("artifact_create", args=[world.request.pk]),
                           {"kind": "model_card", "file": SimpleUploadedFile("c.md", MARKDOWN)})
    assert response.status_code == 403
    assert_nothing_stored(private_root)


def test_the_page_hides_the_request_from_an_outsider(world, client, private_root):
    client.force_login(world.outsider)
    response = client.post(reverse("artifact_create", args=[world.request.pk]),
                           {"kind": "model_card", "file": SimpleUploadedFile("c.md", MARKDOWN)})
    assert response.status_code == 404
    assert_nothing_stored(private_root)


def test_the_page_refuses_an_upload_on_a_withdrawn_request(world, client, private_root):
    bring_to(world, "withdrawn")
    client.force_login(world.owner)
    response = page_upload(client, world, "card.md", MARKDOWN)
    assert "only while the request is open" in response.content.decode()
    assert_nothing_stored(private_root)


# --- upload through the API -------------------------------------------------------------------

def api_upload(client, world, name: str, content: bytes, kind: str = "model_card"):
    return client.post(api_upload_url(world), {"kind": kind,
                                               "file": SimpleUploadedFile(name, content)})


def test_the_api_uploads_a_file(world, client):
    client.force_login(world.owner)
    response = api_upload(client, world, "results.json", JSON)
    assert response.status_code == 201, response.json()
    row = Artifact.objects.get()
    body = response.json()
    assert body["id"] == row.pk
    assert body["sha256"] == hashlib.sha256(JSON).hexdigest()
    assert body["download_url"] == api_download_url(row)


def test_the_api_answers_413_for_a_file_too_large(world, client, private_root):
    client.force_login(world.owner)
    response = api_upload(client, world, "huge.csv", b"a," * LIMIT)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert_nothing_stored(private_root)


@pytest.mark.parametrize(("name", "content"), [
    ("card.pdf", PNG), ("bundle.zip", zip_bytes()), ("results.json", b"{nope"), ("e.md", b""),
])
def test_the_api_answers_400_for_a_bad_file(world, client, private_root, name, content):
    client.force_login(world.owner)
    response = api_upload(client, world, name, content)
    assert response.status_code == 400
    assert response.json()["field"] == "file"
    assert_nothing_stored(private_root)


def test_the_api_answers_409_on_a_determined_request(world, client, private_root):
    bring_to(world, "determined")
    client.force_login(world.owner)
    response = api_upload(client, world, "card.md", MARKDOWN)
    assert response.status_code == 409
    assert_nothing_stored(private_root)


@pytest.mark.parametrize(("who", "status"), [
    ("reviewer", 403), ("admin", 403), ("reviewer2", 404), ("outsider", 404), ("partner", 404),
])
def test_the_api_lets_only_the_developers_upload(world, client, private_root, who, status):
    bring_to(world, "in_review")
    client.force_login(getattr(world, who))
    assert api_upload(client, world, "card.md", MARKDOWN).status_code == status
    assert_nothing_stored(private_root)


def test_the_api_refuses_an_anonymous_upload(world, client, private_root):
    assert api_upload(client, world, "card.md", MARKDOWN).status_code in (401, 403)
    assert_nothing_stored(private_root)


# --- downloads --------------------------------------------------------------------------------

@pytest.fixture
def artifact(world):
    """A markdown model card on Acme's request, which is in review with `reviewer` assigned."""
    made = upload(world, "model-card.md", MARKDOWN)
    bring_to(world, "in_review")
    return made


ALLOWED = ["owner", "colleague", "reviewer", "admin"]
HIDDEN = ["outsider", "reviewer2", "partner"]


@pytest.mark.parametrize("who", ALLOWED)
def test_the_download_page_serves_the_original_bytes_and_records_it(world, artifact, client,
                                                                    who):
    user = getattr(world, who)
    client.force_login(user)
    response = client.get(reverse("artifact_download", args=[artifact.pk]))
    assert response.status_code == 200
    assert response.content == MARKDOWN
    assert response["Content-Type"] == "text/markdown"
    assert response["Content-Disposition"] == 'attachment; filename="model-card.md"'
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Marking"] == artifact.marking
    event = downloads().get()
    assert (event.actor, event.object_id) == (user, str(artifact.pk))


@pytest.mark.parametrize("who", ALLOWED)
def test_the_api_download_serves_the_original_bytes_and_records_it(world, artifact, client,
                                                                   who):
    user = getattr(world, who)
    client.force_login(user)
    response = client.get(api_download_url(artifact))
    assert response.status_code == 200
    assert response.content == MARKDOWN
    assert downloads().get().actor == user


@pytest.mark.parametrize("who", HIDDEN)
def test_others_get_a_404_and_nothing_is_recorded(world, artifact, client, who):
    client.force_login(getattr(world, who))
    assert client.get(reverse("artifact_download", args=[artifact.pk])).status_code == 404
    assert client.get(api_download_url(artifact)).status_code == 404
    assert client.get(api_upload_url(world)).status_code == 404
    assert not downloads().exists()


def test_an_artifact_asked_for_under_another_request_is_a_404(world, artifact, client):
    """The outsider may see their own request, but not Acme's artifact through its URL."""
    own_request = services.request_create(model=world.other_model, actor=world.outsider)
    client.force_login(world.outsider)
    url = f"/api/v1/review-requests/{own_request.pk}/artifacts/{artifact.pk}/download/"
    assert client.get(url).status_code == 404
    assert not downloads().exists()


def test_anonymous_users_are_sent_to_log_in(world, artifact, client):
    response = client.get(reverse("artifact_download", args=[artifact.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.get(api_download_url(artifact)).status_code in (401, 403)
    assert not downloads().exists()


def test_the_artifact_list_shows_what_the_owner_uploaded(world, artifact, client):
    client.force_login(world.reviewer)
    response = client.get(api_upload_url(world))
    assert response.status_code == 200
    assert [a["sha256"] for a in response.json()["results"]] == [artifact.sha256]
    assert not downloads().exists()


def test_a_refused_upload_shows_the_form_again_with_its_kind_and_the_error_linked(
        world, client, private_root):
    from bs4 import BeautifulSoup

    from tests.test_error_summary import assert_the_summary_links_every_field_in_error

    client.force_login(world.owner)
    response = client.post(reverse("artifact_create", args=[world.request.pk]),
                           {"kind": "system_card", "file": SimpleUploadedFile("card.pdf", PNG)})
    assert response.status_code == 200  # the page itself, not a redirect to its top
    html = response.content.decode()
    assert assert_the_summary_links_every_field_in_error(html) == ["id_file"]
    soup = BeautifulSoup(html, "html.parser")
    form = soup.select_one(f"form[action='{reverse('artifact_create', args=[world.request.pk])}']")
    assert form.select_one("[data-error-summary]") is not None  # the summary is in the form
    assert "not a PDF" in form.select_one("#id_file_error").get_text()
    assert form.select_one("#id_kind option[selected]")["value"] == "system_card"
    assert "messages" not in [c for ul in soup.select("ul") for c in ul.get("class", [])]
    assert not Artifact.objects.exists()
    assert not AuditEvent.objects.filter(action="artifact.uploaded").exists()
    assert_nothing_stored(private_root)


def test_an_upload_without_a_file_keeps_the_kind_and_links_the_file_field(world, client,
                                                                          private_root):
    client.force_login(world.owner)
    response = client.post(reverse("artifact_create", args=[world.request.pk]),
                           {"kind": "evaluation_report"})
    html = response.content.decode()
    from tests.test_error_summary import assert_the_summary_links_every_field_in_error

    assert assert_the_summary_links_every_field_in_error(html) == ["id_file"]
    assert '<option value="evaluation_report" selected>' in html
    assert not Artifact.objects.exists()
    assert_nothing_stored(private_root)
