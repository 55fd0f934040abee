"""/readyz in S3 mode also asks the storage's bucket (one HEAD), against a real S3-protocol
server (tests/storagekit.py); in the embedded default it has no storage component."""

import pytest

from tests.faultkit import wait_for
from tests.storagekit import s3, s3_behind_proxy, s3_proxy, s3_server  # noqa: F401

pytestmark = pytest.mark.slow


def test_readyz_checks_the_bucket_in_s3_mode(db, client, s3):  # noqa: F811
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    storage = response.json()["components"]["storage"]
    assert storage["status"] == "ok" and storage["reason"] == "the bucket answered"


def test_readyz_answers_503_naming_the_storage_when_the_store_is_down(
        db, client, s3_behind_proxy, s3_proxy):  # noqa: F811
    # The store answers first: the probe's client is built then (botocore loads its data, which
    # on a busy machine can outlast the check's 2 s, so the first probes may answer 503), as in
    # a portal that has been up a while.
    wait_for(lambda: client.get("/readyz").status_code == 200, timeout=30,
             what="/readyz to answer 200 while the store is up")
    s3_proxy.close()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["components"]["storage"]["status"] == "error"
    assert body["components"]["storage"]["reason"].startswith("the storage check failed (")
    assert "127.0.0.1" not in response.content.decode()
    assert body["components"]["database"]["status"] == "ok"


def test_readyz_has_no_storage_component_on_the_local_disk(db, client):
    assert "storage" not in client.get("/readyz").json()["components"]
