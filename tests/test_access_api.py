"""Least privilege on every /api/v1/ endpoint: each actor of `world.actors()` against each one.

Anonymous callers get 401 or 403; an object the caller may not see answers 404; a visible object
on which the caller may not act answers 403, and nothing changes.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from submissions import services
from submissions.artifact_services import artifact_upload
from submissions.models import (
    AccessWindow,
    Artifact,
    FrontierModel,
    Message,
    ReviewerAssignment,
    ReviewRequest,
)
from submissions.window_services import window_schedule
from tests.conftest import bring_to
from tests.factories import model_fields

ANON = "anonymous-refused"
ACTORS = ["owner", "colleague", "outsider", "reviewer", "reviewer2", "admin", "partner",
          "anonymous"]


def table(**expected):
    assert sorted(expected) == sorted(ACTORS), "every actor must be in the table"
    return list(expected.items())


def check(response, expected):
    if expected == ANON:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == expected, response.content
    assert response["Content-Type"].startswith("application/json")


def audit_count(action):
    return AuditEvent.objects.filter(action=action).count()


def _iso(value):
    return value.isoformat()


SEE_ASSIGNED = table(owner=200, colleague=200, outsider=404, reviewer=200, reviewer2=404,
                     admin=200, partner=404, anonymous=ANON)


# --- models ---------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
def test_list_endpoints_need_authentication_and_nothing_more(api, world, actor):
    api.as_(world.actors()[actor])
    for url in ("/api/v1/models/", "/api/v1/review-requests/", "/api/v1/windows/"):
        check(api.get(url), ANON if actor == "anonymous" else 200)


@pytest.mark.parametrize("actor,expected", SEE_ASSIGNED)
def test_a_model_is_shown_only_to_those_who_may_see_it(api, world, actor, expected):
    bring_to(world, "in_review")
    response = api.as_(world.actors()[actor]).get(f"/api/v1/models/{world.model.pk}/")
    check(response, expected)
    if expected == 200:
        assert response.json()["name"] == "Atlas"


def _model_json(**overrides):
    fields = model_fields(**overrides)
    for key in ("planned_partner_release_at", "planned_public_release_at"):
        fields[key] = _iso(fields[key])
    return fields


@pytest.mark.parametrize("actor,expected", table(
    owner=201, colleague=201, outsider=201, reviewer=403, reviewer2=403, admin=403, partner=403,
    anonymous=ANON))
def test_only_developers_register_models(api, world, actor, expected):
    response = api.as_(world.actors()[actor]).post("/api/v1/models/",
                                                   _model_json(name="Brand new"))
    check(response, expected)
    registered = FrontierModel.objects.filter(name="Brand new")
    assert registered.exists() == (expected == 201)
    if expected == 201:
        assert registered.get().organisation == world.actors()[actor].membership.organisation


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_models_developers_change_it(api, world, actor, expected):
    bring_to(world, "in_review")
    response = api.as_(world.actors()[actor]).patch(f"/api/v1/models/{world.model.pk}/",
                                                    {"description": "Rewritten"})
    check(response, expected)
    world.model.refresh_from_db()
    assert (world.model.description == "Rewritten") == (expected == 200)
    assert audit_count("model.updated") == (1 if expected == 200 else 0)


def test_models_cannot_be_deleted_or_replaced_through_the_api(client, world):
    client.force_login(world.owner)
    url = f"/api/v1/models/{world.model.pk}/"
    assert client.delete(url).status_code == 405
    assert client.put(url, {}, content_type="application/json").status_code == 405
    assert FrontierModel.objects.filter(pk=world.model.pk).exists()
    assert audit_count("model.updated") == 0


# --- review requests ------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", SEE_ASSIGNED)
def test_a_request_is_shown_only_to_those_who_may_see_it(api, world, actor, expected):
    bring_to(world, "in_review")
    response = api.as_(world.actors()[actor]).get(f"/api/v1/review-requests/{world.request.pk}/")
    check(response, expected)
    if expected == 200:
        assert response.json()["status"] == "in_review"


@pytest.mark.parametrize("actor,expected", table(
    owner=201, colleague=201, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_models_developers_file_a_request(api, world, actor, expected):
    bring_to(world, "in_review")
    services.request_withdraw(review_request=world.request, actor=world.owner)
    response = api.as_(world.actors()[actor]).post("/api/v1/review-requests/",
                                                   {"model": world.model.pk})
    check(response, expected)
    live = ReviewRequest.objects.filter(model=world.model).exclude(status="withdrawn")
    assert live.exists() == (expected == 201)
    assert audit_count("review_request.created") == (2 if expected == 201 else 1)


# (url action, starting state, body, target status, audit action, table)
ACTION_CASES = [
    ("submit", "draft", {}, "submitted", "submit", table(
        owner=200, colleague=200, outsider=404, reviewer=404, reviewer2=404, admin=403,
        partner=404, anonymous=ANON)),
    ("withdraw", "in_review", {"reason": "Changed plans."}, "withdrawn", "withdraw", table(
        owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404, admin=403,
        partner=404, anonymous=ANON)),
    ("request-reconsideration", "determined", {"reason": "New evidence."}, "in_review",
     "request_reconsideration", table(
        owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404, admin=403,
        partner=404, anonymous=ANON)),
    ("request-information", "in_review", {"question": "Which scaffolds?"},
     "information_requested", "request_information", table(
        owner=403, colleague=403, outsider=404, reviewer=200, reviewer2=404, admin=403,
        partner=404, anonymous=ANON)),
    ("determine", "in_review", {"outcome": "not_covered", "rationale": "Below the level."},
     "determined", "determine", table(
        owner=403, colleague=403, outsider=404, reviewer=200, reviewer2=404, admin=403,
        partner=404, anonymous=ANON)),
]


@pytest.mark.parametrize("slug,state,body,target,audit_action,actor,expected", [
    (slug, state, body, target, audit_action, actor, expected)
    for slug, state, body, target, audit_action, rows in ACTION_CASES
    for actor, expected in rows
])
def test_request_actions_are_done_only_by_the_side_they_belong_to(
        api, world, slug, state, body, target, audit_action, actor, expected):
    bring_to(world, state)
    events = AuditEvent.objects.filter(action=f"review_request.{audit_action}")
    before = events.count()
    response = api.as_(world.actors()[actor]).post(
        f"/api/v1/review-requests/{world.request.pk}/{slug}/", body)
    check(response, expected)
    world.request.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == target == world.request.status
        assert events.count() == before + 1
    else:
        assert world.request.status == state
        assert events.count() == before


@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=404, reviewer=403, reviewer2=404, admin=200, partner=404,
    anonymous=ANON))
def test_only_program_admins_assign_reviewers(api, world, actor, expected):
    bring_to(world, "in_review")
    response = api.as_(world.actors()[actor]).post(
        f"/api/v1/review-requests/{world.request.pk}/assign/", {"reviewer": "reviewer2"})
    check(response, expected)
    assigned = ReviewerAssignment.objects.filter(request=world.request,
                                                 reviewer=world.reviewer2).exists()
    assert assigned == (expected == 200)
    assert AuditEvent.objects.filter(action="reviewer.assigned",
                                     data__reviewer="reviewer2").exists() == assigned


@pytest.mark.parametrize("actor,expected", SEE_ASSIGNED)
def test_the_thread_is_read_only_by_those_who_may_see_the_request(api, world, actor, expected):
    bring_to(world, "information_requested")
    response = api.as_(world.actors()[actor]).get(
        f"/api/v1/review-requests/{world.request.pk}/messages/")
    check(response, expected)
    if expected == 200:
        assert [m["body"] for m in response.json()["results"]] == ["Which scaffolds?"]


@pytest.mark.parametrize("actor,expected", table(
    owner=201, colleague=201, outsider=404, reviewer=201, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_developer_and_assigned_reviewers_write_in_the_thread(api, world, actor,
                                                                       expected):
    bring_to(world, "in_review")
    response = api.as_(world.actors()[actor]).post(
        f"/api/v1/review-requests/{world.request.pk}/messages/", {"body": f"From {actor}"})
    check(response, expected)
    posted = Message.objects.filter(request=world.request, body=f"From {actor}")
    assert posted.exists() == (expected == 201)
    assert audit_count("message.posted") == (1 if expected == 201 else 0)


@pytest.mark.parametrize("actor,expected", SEE_ASSIGNED)
def test_a_requests_artifacts_are_listed_only_to_those_who_may_see_it(client, world, actor,
                                                                     expected):
    bring_to(world, "in_review")
    artifact = artifact_upload(review_request=world.request, actor=world.owner,
                               kind="model_card",
                               uploaded_file=SimpleUploadedFile("card.txt", b"A card.\n"))
    if world.actors()[actor] is not None:
        client.force_login(world.actors()[actor])
    base = f"/api/v1/review-requests/{world.request.pk}/artifacts/"
    for url in (base, f"{base}{artifact.pk}/"):
        response = client.get(url)
        check(response, expected)
    if expected == 200:
        assert response.json()["sha256"] == artifact.sha256
    assert not AuditEvent.objects.filter(action="artifact.downloaded").exists()


@pytest.mark.parametrize("actor,expected", table(
    owner=201, colleague=201, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_developer_uploads_artifacts_through_the_api(client, world, actor, expected):
    bring_to(world, "in_review")
    if world.actors()[actor] is not None:
        client.force_login(world.actors()[actor])
    response = client.post(f"/api/v1/review-requests/{world.request.pk}/artifacts/",
                           {"kind": "model_card",
                            "file": SimpleUploadedFile("card.txt", b"A card.\n")})
    check(response, expected)
    assert Artifact.objects.filter(request=world.request).exists() == (expected == 201)
    assert audit_count("artifact.uploaded") == (1 if expected == 201 else 0)


# --- windows --------------------------------------------------------------------------------

def _window(world):
    start = timezone.now() + timedelta(days=2)
    return window_schedule(model=world.model, actor=world.owner, starts_at=start,
                           ends_at=start + timedelta(days=10))


def _window_body(days=10):
    start = timezone.now() + timedelta(days=3)
    return {"starts_at": _iso(start), "ends_at": _iso(start + timedelta(days=days))}


@pytest.mark.parametrize("actor,expected", SEE_ASSIGNED)
def test_a_window_is_shown_only_to_those_who_may_see_its_model(api, covered, actor, expected):
    window = _window(covered)
    response = api.as_(covered.actors()[actor]).get(f"/api/v1/windows/{window.pk}/")
    check(response, expected)
    if expected == 200:
        assert response.json()["model"] == covered.model.pk


@pytest.mark.parametrize("actor,expected", table(
    owner=201, colleague=201, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_models_developers_schedule_its_window(api, covered, actor, expected):
    response = api.as_(covered.actors()[actor]).post(
        "/api/v1/windows/", {"model": covered.model.pk, **_window_body()})
    check(response, expected)
    assert AccessWindow.objects.filter(model=covered.model).exists() == (expected == 201)
    assert audit_count("window.scheduled") == (1 if expected == 201 else 0)


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_models_developers_change_its_window(api, covered, actor, expected):
    window = _window(covered)
    body = _window_body(days=20)
    response = api.as_(covered.actors()[actor]).patch(f"/api/v1/windows/{window.pk}/", body)
    check(response, expected)
    window.refresh_from_db()
    assert ((window.ends_at - window.starts_at).days == 20) == (expected == 200)
    assert audit_count("window.changed") == (1 if expected == 200 else 0)


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=ANON))
def test_only_the_models_developers_cancel_its_window(api, covered, actor, expected):
    window = _window(covered)
    response = api.as_(covered.actors()[actor]).post(f"/api/v1/windows/{window.pk}/cancel/",
                                                     {"reason": "x"})
    check(response, expected)
    window.refresh_from_db()
    assert (window.status == AccessWindow.Status.CANCELLED) == (expected == 200)
    assert audit_count("window.cancelled") == (1 if expected == 200 else 0)


# --- lists never show what the detail refuses ------------------------------------------------

def _ids(response):
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_the_outsiders_lists_hold_only_its_own_organisations_objects(api, covered):
    w = covered
    window = _window(w)
    other_request = services.request_create(model=w.other_model, actor=w.outsider)
    api.as_(w.outsider)
    assert _ids(api.get("/api/v1/models/")) == {w.other_model.pk}
    assert _ids(api.get("/api/v1/review-requests/")) == {other_request.pk}
    assert window.pk not in _ids(api.get("/api/v1/windows/"))


@pytest.mark.parametrize("actor", ["reviewer2", "partner"])
def test_an_unassigned_reviewer_and_a_partner_get_empty_lists(api, covered, actor):
    _window(covered)
    api.as_(covered.actors()[actor])
    for url in ("/api/v1/models/", "/api/v1/review-requests/", "/api/v1/windows/"):
        assert _ids(api.get(url)) == set()


def test_a_reviewer_gets_a_request_in_the_lists_once_assigned_and_not_before(api, world):
    bring_to(world, "submitted")
    api.as_(world.reviewer2)
    assert _ids(api.get("/api/v1/review-requests/")) == set()
    assert _ids(api.get("/api/v1/models/")) == set()
    services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                             actor=world.admin)
    assert _ids(api.get("/api/v1/review-requests/")) == {world.request.pk}
    assert _ids(api.get("/api/v1/models/")) == {world.model.pk}


def test_a_program_admin_lists_every_organisations_objects(api, covered):
    w = covered
    window = _window(w)
    other_request = services.request_create(model=w.other_model, actor=w.outsider)
    api.as_(w.admin)
    assert _ids(api.get("/api/v1/models/")) == {w.model.pk, w.other_model.pk}
    assert _ids(api.get("/api/v1/review-requests/")) == {w.request.pk, other_request.pk}
    assert _ids(api.get("/api/v1/windows/")) == {window.pk}


# --- confidentiality ------------------------------------------------------------------------

@pytest.fixture
def determined_after_a_question(world):
    world.reviewer.first_name, world.reviewer.last_name = "Jane", "Smithson"
    world.reviewer.save()
    bring_to(world, "information_requested")
    services.message_post(review_request=world.request, actor=world.owner, body="Scaffold A.")
    services.request_determine(review_request=world.request, actor=world.reviewer,
                               outcome="covered", rationale="Above the program's level.",
                               internal_notes="secret internal note",
                               override_reason="secret override reason")
    return world


@pytest.mark.parametrize("actor,government", [("owner", False), ("colleague", False),
                                              ("reviewer", True), ("admin", True)])
def test_internal_notes_and_the_deciders_name_stay_with_the_government(
        api, determined_after_a_question, actor, government):
    w = determined_after_a_question
    api.as_(w.actors()[actor])
    detail = api.get(f"/api/v1/review-requests/{w.request.pk}/").json()
    [listed] = [r for r in api.get("/api/v1/review-requests/").json()["results"]
                if r["id"] == w.request.pk]
    [determination] = detail["determinations"]
    assert determination["rationale"] == "Above the program's level."
    assert ("internal_notes" in determination) == government
    assert ("decided_by" in determination) == government
    if government:
        assert determination["internal_notes"] == "secret internal note"
        assert determination["decided_by"] == "reviewer"
    assert ("secret internal note" in str(detail)) == government
    assert ("secret override reason" in str(detail)) == government
    assert ("recommendation" in determination) == government
    # Lists carry no internal notes for anyone: only the single read is recorded as a read.
    [listed_determination] = listed["determinations"]
    assert listed_determination["rationale"] == "Above the program's level."
    assert "internal_notes" not in listed_determination
    assert "secret internal note" not in str(listed)


@pytest.mark.parametrize("actor,author", [("owner", "Agency reviewer"),
                                          ("colleague", "Agency reviewer"),
                                          ("reviewer", "Jane Smithson"),
                                          ("admin", "Jane Smithson")])
def test_developers_read_agency_messages_as_from_the_agency(api, determined_after_a_question,
                                                            actor, author):
    w = determined_after_a_question
    messages = api.as_(w.actors()[actor]).get(
        f"/api/v1/review-requests/{w.request.pk}/messages/").json()["results"]
    assert [(m["author"], m["from_agency"]) for m in messages] == [
        (author, True), ("owner", False)]


def test_a_posted_agency_message_is_answered_with_the_reviewers_name_to_the_reviewer(api, world):
    bring_to(world, "in_review")
    response = api.as_(world.reviewer).post(
        f"/api/v1/review-requests/{world.request.pk}/messages/", {"body": "A question."})
    assert response.json()["author"] == "reviewer"
    assert response.json()["from_agency"] is True


@pytest.mark.parametrize("actor,recorded", [("owner", False), ("colleague", False),
                                            ("reviewer", True), ("admin", True)])
def test_government_reads_of_a_request_are_recorded(api, world, actor, recorded):
    bring_to(world, "in_review")
    api.as_(world.actors()[actor]).get(f"/api/v1/review-requests/{world.request.pk}/")
    events = AuditEvent.objects.filter(action="review_request.viewed",
                                       object_id=str(world.request.pk))
    assert events.count() == (1 if recorded else 0)
    if recorded:
        assert events.get().actor == world.actors()[actor]


def test_a_refused_read_leaves_no_view_record(api, world):
    bring_to(world, "in_review")
    response = api.as_(world.reviewer2).get(f"/api/v1/review-requests/{world.request.pk}/")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="review_request.viewed").exists()


# --- bad input answers 400 JSON, never 500 --------------------------------------------------

MALFORMED = '{"reason": "unterminated'


def _post_raw(client, url, body, method="post"):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.mark.parametrize("method,path,actor", [
    ("post", "/api/v1/models/", "owner"),
    ("patch", "/api/v1/models/{model}/", "owner"),
    ("post", "/api/v1/review-requests/", "owner"),
    ("post", "/api/v1/review-requests/{request}/withdraw/", "owner"),
    ("post", "/api/v1/review-requests/{request}/request-reconsideration/", "owner"),
    ("post", "/api/v1/review-requests/{request}/request-information/", "reviewer"),
    ("post", "/api/v1/review-requests/{request}/determine/", "reviewer"),
    ("post", "/api/v1/review-requests/{request}/assign/", "admin"),
    ("post", "/api/v1/review-requests/{request}/messages/", "owner"),
    ("post", "/api/v1/windows/", "owner"),
])
def test_malformed_json_answers_400_json_and_changes_nothing(client, world, method, path,
                                                             actor):
    bring_to(world, "in_review")
    client.force_login(world.actors()[actor])
    url = path.format(model=world.model.pk, request=world.request.pk)
    before = AuditEvent.objects.count()
    for body in (MALFORMED, "[1, 2]", '"text"', "null"):
        response = _post_raw(client, url, body, method)
        assert response.status_code == 400, (body, response.content)
        assert response["Content-Type"].startswith("application/json")
        assert isinstance(response.json(), dict) and response.json()
    assert AuditEvent.objects.count() == before
    world.request.refresh_from_db()
    assert world.request.status == "in_review"
    assert world.request.messages.count() == 0


@pytest.mark.parametrize("method,path", [("patch", "/api/v1/windows/{window}/"),
                                         ("post", "/api/v1/windows/{window}/cancel/")])
def test_malformed_json_to_a_window_answers_400_json(client, covered, method, path):
    window = _window(covered)
    client.force_login(covered.owner)
    response = _post_raw(client, path.format(window=window.pk), MALFORMED, method)
    assert response.status_code == 400
    assert "detail" in response.json()
    window.refresh_from_db()
    assert window.status == AccessWindow.Status.SCHEDULED


NON_NUMERIC = [
    ("get", "/api/v1/models/abc/"),
    ("patch", "/api/v1/models/abc/"),
    ("get", "/api/v1/review-requests/abc/"),
    ("post", "/api/v1/review-requests/abc/submit/"),
    ("get", "/api/v1/review-requests/abc/messages/"),
    ("get", "/api/v1/windows/abc/"),
    ("patch", "/api/v1/windows/abc/"),
    ("post", "/api/v1/windows/abc/cancel/"),
    ("get", "/api/v1/review-requests/{request}/artifacts/abc/"),
    ("get", "/api/v1/review-requests/{request}/artifacts/abc/download/"),
]


def test_a_non_numeric_id_answers_404_not_500(client, world):
    client.force_login(world.owner)
    for method, path in NON_NUMERIC:
        response = _post_raw(client, path.format(request=world.request.pk), "{}", method)
        assert response.status_code == 404, path


@pytest.mark.parametrize("path,body", [
    ("/api/v1/review-requests/", {"model": 10**30}),
    ("/api/v1/windows/", {"model": 10**30, **_window_body()}),
])
def test_an_out_of_range_id_in_the_body_answers_404_or_400_not_500(api, world, path, body):
    response = api.as_(world.owner).post(path, body)
    assert response.status_code in (400, 404)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("actor", ["owner", "reviewer", "admin"])
def test_an_out_of_range_id_in_the_url_answers_404(api, world, actor):
    response = api.as_(world.actors()[actor]).get(f"/api/v1/review-requests/{10**30}/")
    assert response.status_code == 404


def test_a_reviewer_reading_the_thread_through_the_api_is_recorded(api, world):
    bring_to(world, "in_review")
    api.as_(world.reviewer).get(f"/api/v1/review-requests/{world.request.pk}/messages/")
    api.as_(world.owner).get(f"/api/v1/review-requests/{world.request.pk}/messages/")
    reads = AuditEvent.objects.filter(action="review_request.viewed",
                                      object_id=str(world.request.pk))
    assert list(reads.values_list("actor_label", flat=True)) == ["reviewer"]
