"""docker-compose.yml's object storage: MinIO, a one-shot init that makes the private bucket and
the portal's own user, and every app service configured for the same bucket. Docker is not
available where the tests run: the file is checked as data, and its S3 settings are run through
the settings' own validation."""

import json
import os
import re

from review_portal.settings.base import private_storages
from tests.test_production_shape import APP_SERVICES, ROOT, SERVICES, mounts

S3_NAMES = ("STORAGE_BACKEND", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID",
            "S3_SECRET_ACCESS_KEY")
INIT_SCRIPT = ROOT / "deploy" / "minio" / "init-bucket.sh"


def resolved(value: str) -> str:
    """Compose's ${NAME:-default} as its default, ${NAME:?message} as a sample secret."""
    return re.sub(r"\$\{(\w+)(:?[-?])([^}]*)\}",
                  lambda m: m.group(3) if "-" in m.group(2) else "sample0secret0value", value)


def test_web_and_every_worker_use_one_bucket_with_the_same_settings():
    web = SERVICES["web"]["environment"]
    assert web["STORAGE_BACKEND"] == "s3"
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert {n: env[n] for n in S3_NAMES} == {n: web[n] for n in S3_NAMES}, name
    storages = private_storages({n: resolved(web[n]) for n in S3_NAMES})  # refuses if incomplete
    assert storages["artifacts"]["OPTIONS"]["endpoint_url"] == "http://minio:9000"
    assert storages["evaluation_logs"]["OPTIONS"]["bucket_name"] == resolved(web["S3_BUCKET"])


def test_the_endpoint_is_the_minio_service_and_the_secret_has_no_default():
    web = SERVICES["web"]["environment"]
    host, port = re.fullmatch(r"http://([\w-]+):(\d+)", web["S3_ENDPOINT_URL"]).groups()
    assert host in SERVICES and SERVICES[host]["image"].startswith("minio/minio:RELEASE.")
    assert SERVICES[host]["command"] == ["server", "/data"] and port == "9000"
    assert "minio-data" in mounts(host).values()
    assert web["S3_SECRET_ACCESS_KEY"].startswith("${S3_SECRET_ACCESS_KEY:?")
    assert "ports" not in SERVICES[host]  # the private network only, like db and redis


def test_the_init_step_makes_that_bucket_for_that_user_before_any_app_service_starts():
    init = SERVICES["storage-init"]
    web = SERVICES["web"]["environment"]
    for name in ("S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        assert init["environment"][name] == web[name], name
    assert init["restart"] == "no"
    assert init["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert mounts("storage-init") == {"/deploy/init-bucket.sh": "./deploy/minio/init-bucket.sh"}
    assert init["entrypoint"] == ["/bin/sh", "/deploy/init-bucket.sh"]
    for name in APP_SERVICES:
        if name != "migrate":
            assert SERVICES[name]["depends_on"]["storage-init"] == {
                "condition": "service_completed_successfully"}, name


def test_the_app_never_holds_minios_root_keys():
    root_user = resolved(SERVICES["minio"]["environment"]["MINIO_ROOT_USER"])
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert resolved(env["S3_ACCESS_KEY_ID"]) != root_user, name
        assert "MINIO_ROOT_PASSWORD" not in env and not any(k.startswith("MC_HOST") for k in env)


def test_the_init_script_grants_the_portal_user_its_bucket_and_nothing_else(tmp_path):
    assert os.access(INIT_SCRIPT, os.X_OK)
    text = INIT_SCRIPT.read_text()
    assert 'mc anonymous set none "admin/${S3_BUCKET}"' in text
    policy = re.search(r"printf '%s\\n' \"(.*?)\" > \"\$policy\"", text, re.S).group(1)
    document = json.loads(policy.replace('\\"', '"').replace("${S3_BUCKET}", "portal"))
    resources = {r for statement in document["Statement"] for r in statement["Resource"]}
    assert resources == {"arn:aws:s3:::portal", "arn:aws:s3:::portal/*"}
    assert all(statement["Effect"] == "Allow" for statement in document["Statement"])
    assert not any(a in ("s3:*", "*") for s in document["Statement"] for a in s["Action"])
