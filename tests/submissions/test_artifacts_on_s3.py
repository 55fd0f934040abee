"""Artifacts in S3-compatible storage (STORAGE_BACKEND=s3), against a real S3-protocol server
(moto in server mode, tests/storagekit.py): ciphertext in the bucket, plaintext only through the
permission-checked views, no URL of the bucket, and nothing half-written when the store fails."""

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from review_portal.crypto import decrypt_bytes
from review_portal.errors import ApplicationError
from review_portal.storage import NoPublicUrl
from submissions import services
from submissions.artifact_services import artifact_upload
from submissions.models import Artifact
from tests.conftest import bring_to
from tests.storagekit import s3, s3_behind_proxy, s3_proxy, s3_server  # noqa: F401

pytestmark = pytest.mark.slow

CARD = ("# Atlas 1.0 model card\n\nUplift on exploit writing: moderate.\n" * 200).encode()


def upload_through_the_api(client, world, content=CARD, name="model-card.md"):
    client.force_login(world.owner)
    return client.post(f"/api/v1/review-requests/{world.request.pk}/artifacts/",
                       {"kind": "model_card", "file": SimpleUploadedFile(name, content)})


def assert_nothing_recorded(bucket):
    assert not Artifact.objects.exists()
    assert not AuditEvent.objects.filter(action="artifact.uploaded").exists()
    assert bucket.keys() == []


def test_an_upload_is_stored_in_the_bucket_as_ciphertext_and_read_back_through_the_view(
        world, client, s3):  # noqa: F811
    response = upload_through_the_api(client, world)
    assert response.status_code == 201, response.content

    artifact = Artifact.objects.get()
    assert s3.keys() == [f"private/{artifact.storage_path}"]
    stored = s3.read(f"private/{artifact.storage_path}")
    assert stored != CARD and b"Atlas" not in stored and b"exploit" not in stored
    assert decrypt_bytes(stored) == CARD  # the portal's key, nothing else, opens it
    assert AuditEvent.objects.filter(action="artifact.uploaded").count() == 1

    client.force_login(world.colleague)
    api = client.get(f"/api/v1/review-requests/{world.request.pk}/artifacts/{artifact.pk}/"
                     "download/")
    page = client.get(reverse("artifact_download", args=[artifact.pk]))
    for response in (api, page):
        assert response.status_code == 200
        assert response.content == CARD
        assert response["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action="artifact.downloaded",
                                     actor=world.colleague).count() == 2


@pytest.mark.parametrize("who", ["outsider", "reviewer", "partner"])
def test_someone_who_may_not_see_the_artifact_gets_a_404_and_nothing_is_recorded(
        world, client, s3, who):  # noqa: F811
    assert upload_through_the_api(client, world).status_code == 201
    artifact = Artifact.objects.get()
    client.force_login(getattr(world, who))
    api = client.get(f"/api/v1/review-requests/{world.request.pk}/artifacts/{artifact.pk}/"
                     "download/")
    page = client.get(reverse("artifact_download", args=[artifact.pk]))
    assert (api.status_code, page.status_code) == (404, 404)
    assert CARD not in api.content + page.content
    assert not AuditEvent.objects.filter(action="artifact.downloaded").exists()


def test_a_reviewer_assigned_to_the_request_downloads_it_from_the_bucket(world, client,
                                                                         s3):  # noqa: F811
    assert upload_through_the_api(client, world).status_code == 201
    bring_to(world, "in_review")
    client.force_login(world.reviewer)
    artifact = Artifact.objects.get()
    response = client.get(reverse("artifact_download", args=[artifact.pk]))
    assert response.status_code == 200 and response.content == CARD


def test_the_storage_makes_no_url_and_the_object_is_not_public(world, client,
                                                               s3):  # noqa: F811
    assert upload_through_the_api(client, world).status_code == 201
    artifact = Artifact.objects.get()
    with pytest.raises(NoPublicUrl):
        storages["artifacts"].url(artifact.storage_path)
    with pytest.raises(NoPublicUrl):
        storages["evaluation_logs"].url("run-1/attempt-1/x.eval")
    acl = s3.client().get_object_acl(Bucket=s3.name, Key=f"private/{artifact.storage_path}")
    grantees = {grant["Grantee"].get("URI", grant["Grantee"].get("ID"))
                for grant in acl["Grants"]}
    assert not any("AllUsers" in g or "AuthenticatedUsers" in g for g in grantees if g)
    assert str(client.get(f"/api/v1/review-requests/{world.request.pk}/artifacts/").json()
               ).count(s3.name) == 0


def test_the_store_dying_in_the_middle_of_an_upload_is_a_503_and_leaves_nothing(
        world, client, s3_behind_proxy, s3_proxy):  # noqa: F811
    s3_proxy.cut_after(upload_bytes=4096)  # the request line, headers and part of the body

    response = upload_through_the_api(client, world)

    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert "not saved and nothing was recorded" in response.json()["detail"]
    assert s3_behind_proxy.name not in response.content.decode()
    assert_nothing_recorded(s3_behind_proxy)


def test_the_page_says_why_an_upload_failed_while_the_store_is_down(
        world, client, s3_behind_proxy, s3_proxy):  # noqa: F811
    s3_proxy.close()
    client.force_login(world.owner)
    response = client.post(reverse("artifact_create", args=[world.request.pk]),
                           {"kind": "model_card", "file": SimpleUploadedFile("card.md", CARD)},
                           follow=True)
    assert response.status_code == 200
    assert b"could not write the file to its storage" in response.content
    assert_nothing_recorded(s3_behind_proxy)


def test_an_upload_refused_after_it_was_stored_removes_its_object(world, s3):  # noqa: F811
    stale = world.request
    services.request_withdraw(review_request=world.request.__class__.objects.get(pk=stale.pk),
                              actor=world.owner)
    with pytest.raises(ApplicationError, match="only while the request is open"):
        artifact_upload(review_request=stale, actor=world.owner, kind="model_card",
                        uploaded_file=SimpleUploadedFile("card.md", CARD))
    assert_nothing_recorded(s3)


def test_a_download_while_the_store_is_down_is_a_503_and_is_not_recorded(
        world, client, s3_behind_proxy, s3_proxy):  # noqa: F811
    assert upload_through_the_api(client, world).status_code == 201
    artifact = Artifact.objects.get()
    s3_proxy.close()
    client.force_login(world.colleague)
    api = client.get(f"/api/v1/review-requests/{world.request.pk}/artifacts/{artifact.pk}/"
                     "download/")
    page = client.get(reverse("artifact_download", args=[artifact.pk]))
    assert (api.status_code, page.status_code) == (503, 503)
    assert api.json()["code"] == "storage_unavailable"
    assert page["Retry-After"]
    assert not AuditEvent.objects.filter(action="artifact.downloaded").exists()
