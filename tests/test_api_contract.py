"""What the API promises every client: lists are pages, errors are JSON in one shape (a body too
large and an unsupported content type too), datetimes carry their zone, and the schema says all
of this."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.services import api_token_create
from audit.models import AuditEvent
from evaluations.models import EvaluationRun, SampleResult
from review_portal.api_fields import NAIVE_DATETIME
from reviews.services import review_save
from submissions import services
from submissions.models import AccessWindow, FrontierModel
from submissions.window_services import window_schedule
from tests.conftest import bring_to
from tests.factories import model_fields

ERROR_STATUSES = {"400", "401", "403", "404", "405", "406", "409", "413", "415", "429", "503"}
PAGE_KEYS = {"count", "next", "previous", "results"}
OUR_APPS = {"accounts", "audit", "submissions", "evaluations", "reviews", "partners",
            "notifications", "jobs", "review_portal"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def naive(days: float) -> str:
    """An ISO datetime with no zone: '2026-12-02T09:00:00'."""
    return (timezone.now() + timedelta(days=days)).replace(tzinfo=None, microsecond=0).isoformat()


def aware(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).replace(microsecond=0).isoformat()


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- the schema documents every answer -------------------------------------------------------

def test_every_operation_documents_the_common_errors_with_the_json_error_shape(schema):
    operations = [(path, method, op) for path, item in schema["paths"].items()
                  for method, op in item.items()]
    assert len(operations) > 80
    for path, method, operation in operations:
        missing = ERROR_STATUSES - set(operation["responses"])
        assert not missing, (method, path, missing)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"]
    too_large = schema["components"]["responses"]["PayloadTooLarge"]
    assert too_large["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    assert "Retry-After" in schema["components"]["responses"]["TooManyRequests"]["headers"]


@pytest.mark.parametrize("path", ["/api/v1/review-requests/{id}/messages/",
                                  "/api/v1/review-requests/{request_pk}/artifacts/",
                                  "/api/v1/runs/{id}/samples/"])
def test_these_lists_are_declared_as_pages(schema, path):
    ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"]["$ref"]
    assert ref.split("/")[-1].startswith("Paginated")


@pytest.mark.parametrize("operation", ["post /api/v1/review-requests/{id}/messages/",
                                       "post /api/v1/models/{id}/terms/",
                                       "post /api/v1/access-grants/{id}/token/",
                                       "post /api/v1/windows/{id}/token/"])
def test_operations_that_create_document_201(schema, operation):
    method, path = operation.split()
    responses = schema["paths"][path][method]["responses"]
    assert "201" in responses and "200" not in responses


def test_a_draft_reviews_empty_recommendation_is_in_the_schema(schema):
    recommendation = schema["components"]["schemas"]["Review"]["properties"]["recommendation"]
    enums = [schema["components"]["schemas"][ref["$ref"].split("/")[-1]]["enum"]
             for ref in recommendation["oneOf"]]
    assert [""] in enums


def test_an_audit_event_without_organisation_is_declared_nullable(schema):
    assert schema["components"]["schemas"]["AuditEvent"]["properties"]["organisation"][
        "nullable"] is True


# --- lists are pages -------------------------------------------------------------------------

def test_a_requests_messages_come_as_a_page(world, api):
    bring_to(world, "information_requested")
    response = api.as_(world.owner).get(f"/api/v1/review-requests/{world.request.pk}/messages/")
    assert response.status_code == 200
    page = response.json()
    assert set(page) == PAGE_KEYS
    assert page["count"] == 1
    assert page["results"][0]["body"] == "Which scaffolds?"


def test_a_requests_artifacts_come_as_a_page(world, api):
    response = api.as_(world.owner).get(f"/api/v1/review-requests/{world.request.pk}/artifacts/")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_runs_samples_come_as_a_page(world, api):
    run = EvaluationRun.objects.create(request=world.request, suite_version=_suite_version(world),
                                       started_by=world.admin, samples_total=2)
    SampleResult.objects.bulk_create([SampleResult(run=run, sample_id=f"s{i}", category="defense",
                                                   score=1.0) for i in range(2)])
    response = api.as_(world.admin).get(f"/api/v1/runs/{run.pk}/samples/")
    assert response.status_code == 200, response.content
    page = response.json()
    assert set(page) == PAGE_KEYS
    assert [s["sample_id"] for s in page["results"]] == ["s0", "s1"]


def _suite_version(world):
    from evaluations.services import suite_version_create

    return suite_version_create(actor=world.admin, suite_name="Tiny", description="",
                                filename="t.jsonl",
                                content=b'{"input": "q", "target": "A", "category": "defense"}\n',
                                solver="generate", scorer="match")


def test_a_draft_review_answers_its_empty_recommendation(world, api):
    bring_to(world, "in_review")
    review = review_save(review_request=world.request, actor=world.reviewer)
    response = api.as_(world.reviewer).get(f"/api/v1/reviews/{review.pk}/")
    assert response.status_code == 200
    assert response.json()["recommendation"] == ""


# --- errors are JSON: a body too large, a content type the API does not take ----------------

def test_a_json_body_larger_than_the_limit_answers_413_json(world, api):
    body = json.dumps({**_model_json(), "description": "x" * 3_000_000})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.as_(world.owner).post("/api/v1/models/", body)
    error = assert_json_error(response, 413)
    assert error["code"] == "request_too_large"
    assert not FrontierModel.objects.filter(organisation=world.acme).exclude(
        pk=world.model.pk).exists()


def test_a_form_body_larger_than_the_limit_answers_413_json(world, client):
    _, key = api_token_create(user=world.owner, name="script")
    response = client.post(f"/api/v1/review-requests/{world.request.pk}/withdraw/",
                           {"reason": "x" * 3_000_000}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert_json_error(response, 413)
    world.request.refresh_from_db()
    assert world.request.status == "draft"


def test_a_body_too_large_on_a_page_still_answers_a_page(world, client):
    client.force_login(world.owner)
    response = client.post("/models/new/", {"description": "x" * 3_000_000})
    assert response.status_code in (400, 413)
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_an_unsupported_content_type_answers_415_json(world, client, content_type):
    _, key = api_token_create(user=world.owner, name="script")
    response = client.post("/api/v1/models/", "name: Atlas", content_type=content_type,
                           HTTP_AUTHORIZATION=f"Bearer {key}")
    body = assert_json_error(response, 415)
    assert content_type in body["detail"]


def test_json_to_an_upload_answers_415_json(world, api):
    response = api.as_(world.owner).post(
        f"/api/v1/review-requests/{world.request.pk}/artifacts/", {"kind": "model_card"})
    assert_json_error(response, 415)


def test_a_method_a_path_does_not_take_answers_405_json(world, client):
    client.force_login(world.owner)
    response = client.put(f"/api/v1/models/{world.model.pk}/", "{}",
                          content_type="application/json")
    assert_json_error(response, 405)


def test_an_accept_header_the_api_cannot_answer_gets_406_json(world, client):
    client.force_login(world.owner)
    response = client.get("/api/v1/models/", HTTP_ACCEPT="application/xml")
    assert_json_error(response, 406)


# --- datetimes need a zone -------------------------------------------------------------------

def _model_json(**overrides) -> dict:
    fields = model_fields(name="Zoned", **overrides)
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in fields.items()}


def test_a_window_change_without_a_zone_answers_400_and_changes_nothing(covered, api):
    window = window_schedule(model=covered.model, actor=covered.owner,
                             starts_at=timezone.now() + timedelta(days=2),
                             ends_at=timezone.now() + timedelta(days=5))
    before = (window.starts_at, window.ends_at)
    response = api.as_(covered.owner).patch(f"/api/v1/windows/{window.pk}/",
                                            {"starts_at": naive(3), "ends_at": naive(6)})
    body = assert_json_error(response, 400)
    assert NAIVE_DATETIME in body["detail"]
    assert body["errors"]["starts_at"] == [NAIVE_DATETIME]
    window.refresh_from_db()
    assert (window.starts_at, window.ends_at) == before
    assert not AuditEvent.objects.filter(action="window.changed").exists()


def test_a_window_change_with_a_zone_is_taken(covered, api):
    window = window_schedule(model=covered.model, actor=covered.owner,
                             starts_at=timezone.now() + timedelta(days=2),
                             ends_at=timezone.now() + timedelta(days=5))
    response = api.as_(covered.owner).patch(
        f"/api/v1/windows/{window.pk}/",
        {"starts_at": aware(3).replace("+00:00", "-05:00"), "ends_at": aware(6)})
    assert response.status_code == 200, response.content
    window.refresh_from_db()
    assert window.starts_at.utcoffset() == timedelta(0)


def test_a_new_window_without_a_zone_answers_400(covered, api):
    response = api.as_(covered.owner).post("/api/v1/windows/", {
        "model": covered.model.pk, "starts_at": naive(2), "ends_at": aware(5)})
    body = assert_json_error(response, 400)
    assert set(body["errors"]) == {"starts_at"}
    assert not AccessWindow.objects.exists()


def test_a_models_release_date_without_a_zone_answers_400(world, api):
    data = _model_json()
    data["planned_public_release_at"] = naive(90)
    response = api.as_(world.owner).post("/api/v1/models/", data)
    body = assert_json_error(response, 400)
    assert body["errors"]["planned_public_release_at"] == [NAIVE_DATETIME]
    assert not FrontierModel.objects.filter(name="Zoned").exists()


def test_a_model_change_without_a_zone_answers_400(world, api):
    before = world.model.planned_partner_release_at
    response = api.as_(world.owner).patch(f"/api/v1/models/{world.model.pk}/",
                                          {"planned_partner_release_at": naive(70)})
    assert_json_error(response, 400)
    world.model.refresh_from_db()
    assert world.model.planned_partner_release_at == before


def test_an_access_request_without_a_zone_answers_400(covered, api):
    response = api.as_(covered.partner).post("/api/v1/access-requests/", {
        "model": covered.model.pk, "starts_at": naive(50), "ends_at": naive(60),
        "justification": "Defend our systems."})
    body = assert_json_error(response, 400)
    assert set(body["errors"]) == {"starts_at", "ends_at"}


def test_an_audit_filter_without_a_zone_answers_400(world, api):
    response = api.as_(world.admin).get("/api/v1/audit-events/", data={"since": naive(-1)})
    body = assert_json_error(response, 400)
    assert body["errors"]["since"] == [NAIVE_DATETIME]


@pytest.mark.parametrize("since", ["1049-09-20T17:38:45+23:54", "0001-01-01T00:00:00+05:00"])
def test_an_audit_filter_at_the_edges_of_time_answers_json_not_a_500(world, api, since):
    response = api.as_(world.admin).get("/api/v1/audit-events/", data={"since": since})
    assert response["Content-Type"] == "application/json"
    assert response.status_code in (200, 400), response.content[:300]


def test_an_audit_filter_with_a_zone_filters(world, api):
    cutoff = timezone.now()
    services.model_register(actor=world.owner, **model_fields(name="Later"))
    response = api.as_(world.admin).get("/api/v1/audit-events/",
                                         data={"since": cutoff.isoformat()})
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["results"]] == ["model.registered"]


def test_every_datetime_the_api_takes_is_strict():
    """No serializer the API uses takes a datetime through DRF's lenient field."""
    from rest_framework import serializers

    from review_portal.api_fields import StrictDateTimeField

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [cls for cls in subclasses(serializers.Serializer)
            if cls.__module__.split(".")[0] in OUR_APPS]
    assert len(ours) > 30
    lenient = []
    for cls in ours:
        try:
            fields = cls().fields
        except Exception:  # noqa: BLE001 - a serializer that needs context: skip it
            continue
        lenient += [f"{cls.__module__}.{cls.__name__}.{name}" for name, field in fields.items()
                    if isinstance(field, serializers.DateTimeField)
                    and not isinstance(field, StrictDateTimeField) and not field.read_only]
    assert lenient == []
