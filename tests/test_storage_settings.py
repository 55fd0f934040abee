"""STORAGE_BACKEND and the S3 settings: the local disk by default, a complete S3 configuration
or a refusal at start that names what to fix."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from review_portal.settings.base import private_storages
from tests.test_settings import production_env, run_manage

S3 = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "portal-files", "S3_ENDPOINT_URL": "http://minio:9000",
      "S3_ACCESS_KEY_ID": "portal", "S3_SECRET_ACCESS_KEY": "not-a-real-secret",
      "S3_REGION": "eu-west-1"}


def test_without_a_backend_both_storages_are_folders_named_by_their_settings():
    storages = private_storages({})
    assert storages == private_storages({"STORAGE_BACKEND": "LOCAL"})
    assert storages["artifacts"]["OPTIONS"] == {"root_setting": "PRIVATE_MEDIA_ROOT"}
    assert storages["evaluation_logs"]["OPTIONS"] == {"root_setting": "EVALUATION_LOG_ROOT"}
    assert all(s["BACKEND"] == "review_portal.storage.PrivateFileSystemStorage"
               for s in storages.values())


def test_s3_puts_both_storages_in_one_private_bucket_under_their_own_prefixes():
    storages = private_storages({**S3, "S3_PREFIX": "/staging/"})
    artifacts, logs = storages["artifacts"]["OPTIONS"], storages["evaluation_logs"]["OPTIONS"]
    assert storages["artifacts"]["BACKEND"] == "review_portal.s3_storage.PrivateS3Storage"
    assert artifacts["bucket_name"] == logs["bucket_name"] == "portal-files"
    assert (artifacts["location"], logs["location"]) == ("staging/private", "staging/eval-logs")
    assert artifacts["endpoint_url"] == "http://minio:9000"
    assert artifacts["region_name"] == "eu-west-1"
    assert artifacts["default_acl"] is None  # the bucket's own (private) access, no public ACL
    assert artifacts["client_config"].s3 == {"addressing_style": "path"}


def test_on_aws_the_endpoint_and_the_keys_may_be_left_to_boto3():
    options = private_storages({"STORAGE_BACKEND": "s3", "S3_BUCKET": "portal-files"})[
        "artifacts"]["OPTIONS"]
    assert options["endpoint_url"] is None and options["access_key"] is None
    assert options["region_name"] == "us-east-1"
    assert options["location"] == "private"


@pytest.mark.parametrize("change,message", [
    ({"STORAGE_BACKEND": "minio"}, "STORAGE_BACKEND='minio' is not a storage backend"),
    ({"S3_BUCKET": ""}, "STORAGE_BACKEND=s3 needs S3_BUCKET"),
    ({"S3_BUCKET": "Portal_Files"}, "S3_BUCKET='Portal_Files' is not a bucket name"),
    ({"S3_SECRET_ACCESS_KEY": ""}, "set S3_SECRET_ACCESS_KEY too"),
    ({"S3_ACCESS_KEY_ID": ""}, "set S3_ACCESS_KEY_ID too"),
    ({"S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL='minio:9000' is not an http"),
    ({"S3_ENDPOINT_URL": "http://minio:9000/bucket"}, "no path"),
    ({"S3_TIMEOUT": "0"}, "S3_TIMEOUT='0' must be whole seconds"),
])
def test_an_incomplete_or_mistyped_s3_configuration_is_refused_naming_what_to_fix(change,
                                                                                 message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        private_storages({**S3, **change})


def test_production_settings_load_with_s3_storage_and_name_the_bucket_storages():
    result = run_manage({**production_env(), **S3}, "shell", "-c", (
        "from django.core.files.storage import storages\n"
        "for name in ('artifacts', 'evaluation_logs'):\n"
        "    s = storages[name]\n"
        "    print(name, type(s).__name__, s.bucket_name, s.location, s.endpoint_url)"))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(("artifacts",
                                                                               "evaluation"))]
    assert lines == [
        "artifacts PrivateS3Storage portal-files private http://minio:9000",
        "evaluation_logs PrivateS3Storage portal-files eval-logs http://minio:9000"]


def test_production_refuses_to_start_with_s3_but_no_bucket():
    env = {**production_env(), **S3}
    del env["S3_BUCKET"]
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert "STORAGE_BACKEND=s3 needs S3_BUCKET" in result.stderr


def test_check_deploy_reports_no_issues_with_s3_storage():
    result = run_manage({**production_env(), **S3}, "check", "--deploy")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr
