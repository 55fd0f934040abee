"""Least privilege on every page: each actor of `world.actors()` against each page.

Anonymous users are sent to the login page; an object the actor may not see answers 404; a
visible object on which the actor may not act answers 403, and nothing changes.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from submissions import services
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

LOGIN = "login"
ACTORS = ["owner", "colleague", "outsider", "reviewer", "reviewer2", "admin", "partner",
          "anonymous"]


def as_(client, world, actor):
    client.logout()
    user = world.actors()[actor]
    if user is not None:
        client.force_login(user)
    return user


def check(response, expected):
    """`expected` is a status code, LOGIN, or ("redirect", url)."""
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif isinstance(expected, tuple):
        assert response.status_code == 302
        assert response["Location"] == expected[1]
    else:
        assert response.status_code == expected


def table(**expected):
    assert sorted(expected) == sorted(ACTORS), "every actor must be in the table"
    return list(expected.items())


def audit_count(action):
    return AuditEvent.objects.filter(action=action).count()


# Who sees world.model and world.request once a reviewer is assigned (in review).
SEE_ASSIGNED = table(owner=200, colleague=200, outsider=404, reviewer=200, reviewer2=404,
                     admin=200, partner=404, anonymous=LOGIN)


# --- home and lists -------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=200, reviewer=200, reviewer2=200, admin=200, partner=200,
    anonymous=LOGIN))
def test_home_shows_each_role_its_status_at_a_glance(client, world, actor, expected):
    as_(client, world, actor)
    check(client.get("/"), expected)


@pytest.mark.parametrize("actor", ACTORS)
def test_list_pages_need_a_login_and_nothing_more(client, world, actor):
    as_(client, world, actor)
    for url in ("/models/", "/requests/", "/windows/"):
        check(client.get(url), LOGIN if actor == "anonymous" else 200)


# --- models ---------------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", SEE_ASSIGNED)
def test_model_detail_is_shown_only_to_those_who_may_see_the_model(client, world, actor,
                                                                   expected):
    bring_to(world, "in_review")
    as_(client, world, actor)
    response = client.get(reverse("model_detail", args=[world.model.pk]))
    check(response, expected)
    if expected == 200:
        assert b"Atlas 1.0" in response.content


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=200, reviewer=403, reviewer2=403, admin=403, partner=403,
    anonymous=LOGIN))
def test_only_developers_open_the_model_registration_form(client, world, actor, expected):
    as_(client, world, actor)
    check(client.get(reverse("model_create")), expected)


def _model_post(**overrides):
    fields = model_fields(**overrides)
    data = {k: v for k, v in fields.items() if not k.startswith("planned_")}
    data["modalities"] = fields["modalities"]
    for key in ("planned_partner_release_at", "planned_public_release_at"):
        data[key] = fields[key].strftime("%Y-%m-%dT%H:%M")
    data["timezone"] = "UTC"
    return data


@pytest.mark.parametrize("actor,expected", table(
    owner=302, colleague=302, outsider=302, reviewer=403, reviewer2=403, admin=403, partner=403,
    anonymous=LOGIN))
def test_only_developers_register_models_from_the_page(client, world, actor, expected):
    as_(client, world, actor)
    response = client.post(reverse("model_create"), _model_post(name="Brand new"))
    check(response, expected)
    registered = FrontierModel.objects.filter(name="Brand new")
    if expected == 302:
        model = registered.get()
        assert response["Location"] == reverse("model_detail", args=[model.pk])
        assert model.organisation == world.actors()[actor].membership.organisation
    else:
        assert not registered.exists()


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_models_developers_open_its_edit_form(client, world, actor, expected):
    bring_to(world, "in_review")
    as_(client, world, actor)
    check(client.get(reverse("model_edit", args=[world.model.pk])), expected)


@pytest.mark.parametrize("actor,expected", table(
    owner=302, colleague=302, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_models_developers_change_it(client, world, actor, expected):
    bring_to(world, "in_review")
    as_(client, world, actor)
    response = client.post(reverse("model_edit", args=[world.model.pk]),
                           _model_post(description="Rewritten by " + actor))
    check(response, expected)
    world.model.refresh_from_db()
    changed = world.model.description == "Rewritten by " + actor
    assert changed == (expected == 302)
    assert audit_count("model.updated") == (1 if expected == 302 else 0)


@pytest.mark.parametrize("actor,expected", table(
    owner=302, colleague=302, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_models_developers_file_a_request_for_it(client, world, actor, expected):
    bring_to(world, "in_review")
    services.request_withdraw(review_request=world.request, actor=world.owner)
    before = audit_count("review_request.created")
    as_(client, world, actor)
    response = client.post(reverse("request_create", args=[world.model.pk]),
                           {"cover_note": "Please look."})
    check(response, expected)
    live = ReviewRequest.objects.filter(model=world.model).exclude(status="withdrawn")
    if expected == 302:
        created = live.get()
        assert response["Location"] == reverse("request_detail", args=[created.pk])
        assert created.created_by == world.actors()[actor]
        assert audit_count("review_request.created") == before + 1
    else:
        assert not live.exists()
        assert audit_count("review_request.created") == before


# --- requests -------------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", SEE_ASSIGNED)
def test_request_detail_is_shown_only_to_those_who_may_see_the_request(client, world, actor,
                                                                       expected):
    bring_to(world, "in_review")
    as_(client, world, actor)
    response = client.get(reverse("request_detail", args=[world.request.pk]))
    check(response, expected)
    if expected == 200:
        assert f"Request #{world.request.pk}".encode() in response.content


def test_an_unassigned_reviewer_does_not_see_a_submitted_request(client, world):
    bring_to(world, "submitted")
    client.force_login(world.reviewer)
    assert client.get(reverse("request_detail", args=[world.request.pk])).status_code == 404


# (action, starting state, form data, target status, table of actors)
ACTION_CASES = [
    ("submit", "draft", {}, "submitted", table(
        owner=302, colleague=302, outsider=404, reviewer=404, reviewer2=404, admin=403,
        partner=404, anonymous=LOGIN)),
    # Weighty moves carry the confirmation step's field (tests/test_confirmations.py).
    ("withdraw", "in_review", {"reason": "Changed plans.", "confirm": "yes"}, "withdrawn", table(
        owner=302, colleague=302, outsider=404, reviewer=403, reviewer2=404, admin=403,
        partner=404, anonymous=LOGIN)),
    ("request_information", "in_review", {"question": "Which scaffolds?"},
     "information_requested", table(
        owner=403, colleague=403, outsider=404, reviewer=302, reviewer2=404, admin=403,
        partner=404, anonymous=LOGIN)),
    ("determine", "in_review",
     {"outcome": "covered", "rationale": "Above the level.", "internal_notes": "n",
      "override_reason": "Exploits above the level.", "confirm": "yes"},
     "determined", table(
        owner=403, colleague=403, outsider=404, reviewer=302, reviewer2=404, admin=403,
        partner=404, anonymous=LOGIN)),
    ("request_reconsideration", "determined", {"reason": "New evidence."}, "in_review", table(
        owner=302, colleague=302, outsider=404, reviewer=403, reviewer2=404, admin=403,
        partner=404, anonymous=LOGIN)),
]


@pytest.mark.parametrize("action,state,data,target,actor,expected", [
    (action, state, data, target, actor, expected)
    for action, state, data, target, rows in ACTION_CASES
    for actor, expected in rows
])
def test_request_actions_are_done_only_by_the_side_they_belong_to(
        client, world, action, state, data, target, actor, expected):
    bring_to(world, state)
    events = AuditEvent.objects.filter(action=f"review_request.{action}")
    before = events.count()
    as_(client, world, actor)
    response = client.post(reverse("request_action", args=[world.request.pk, action]), data)
    check(response, expected)
    world.request.refresh_from_db()
    if expected == 302:
        assert response["Location"] == reverse("request_detail", args=[world.request.pk])
        assert world.request.status == target
        assert events.count() == before + 1
        assert events.latest("id").actor == world.actors()[actor]
    else:
        assert world.request.status == state
        assert events.count() == before


@pytest.mark.parametrize("slug", ["fly", "provide_information", "request-information"])
def test_an_unknown_action_slug_answers_with_a_message_and_changes_nothing(client, world,
                                                                             slug):
    client.force_login(world.owner)
    url = reverse("request_action", args=[world.request.pk, slug])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert b"Unknown action." in response.content
    world.request.refresh_from_db()
    assert world.request.status == "draft"


def test_an_unknown_action_slug_on_a_hidden_request_still_answers_404(client, world):
    client.force_login(world.outsider)
    url = reverse("request_action", args=[world.request.pk, "fly"])
    assert client.post(url).status_code == 404


def test_request_actions_refuse_get(client, world):
    client.force_login(world.owner)
    url = reverse("request_action", args=[world.request.pk, "submit"])
    assert client.get(url).status_code == 405
    world.request.refresh_from_db()
    assert world.request.status == "draft"


@pytest.mark.parametrize("actor,expected", table(
    owner=302, colleague=302, outsider=404, reviewer=302, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_developer_and_assigned_reviewers_write_in_the_thread(client, world, actor,
                                                                       expected):
    bring_to(world, "in_review")
    as_(client, world, actor)
    response = client.post(reverse("message_create", args=[world.request.pk]),
                           {"body": f"Hello from {actor}"})
    check(response, expected)
    posted = Message.objects.filter(request=world.request, body=f"Hello from {actor}")
    assert posted.exists() == (expected == 302)
    assert audit_count("message.posted") == (1 if expected == 302 else 0)


@pytest.mark.parametrize("actor,expected", table(
    owner=302, colleague=302, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_developer_uploads_artifacts(client, world, actor, expected):
    bring_to(world, "in_review")
    as_(client, world, actor)
    upload = SimpleUploadedFile("card.txt", b"A model card.\n", content_type="text/plain")
    response = client.post(reverse("artifact_create", args=[world.request.pk]),
                           {"kind": "model_card", "file": upload})
    check(response, expected)
    assert Artifact.objects.filter(request=world.request).count() == (
        1 if expected == 302 else 0)
    assert audit_count("artifact.uploaded") == (1 if expected == 302 else 0)


@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=404, reviewer=403, reviewer2=404, admin=302, partner=404,
    anonymous=LOGIN))
def test_only_program_admins_assign_reviewers(client, world, actor, expected):
    bring_to(world, "in_review")
    as_(client, world, actor)
    response = client.post(reverse("reviewer_assign", args=[world.request.pk]),
                           {"reviewer": world.reviewer2.pk})
    check(response, expected)
    assigned = ReviewerAssignment.objects.filter(request=world.request,
                                                 reviewer=world.reviewer2).exists()
    assert assigned == (expected == 302)
    assert AuditEvent.objects.filter(action="reviewer.assigned",
                                     data__reviewer="reviewer2").exists() == assigned


# --- windows --------------------------------------------------------------------------------

def _window(world):
    start = timezone.now() + timedelta(days=2)
    return window_schedule(model=world.model, actor=world.owner, starts_at=start,
                           ends_at=start + timedelta(days=10))


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_models_developers_open_the_window_form(client, covered, actor, expected):
    as_(client, covered, actor)
    check(client.get(reverse("window_edit", args=[covered.model.pk])), expected)


@pytest.mark.parametrize("actor,expected", table(
    owner=302, colleague=302, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_models_developers_schedule_its_window(client, covered, actor, expected):
    as_(client, covered, actor)
    start = timezone.now() + timedelta(days=2)
    response = client.post(reverse("window_edit", args=[covered.model.pk]), {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "UTC"})
    check(response, expected)
    assert AccessWindow.objects.filter(model=covered.model).exists() == (expected == 302)
    assert audit_count("window.scheduled") == (1 if expected == 302 else 0)


@pytest.mark.parametrize("actor,expected", table(
    owner=302, colleague=302, outsider=404, reviewer=403, reviewer2=404, admin=403, partner=404,
    anonymous=LOGIN))
def test_only_the_models_developers_cancel_its_window(client, covered, actor, expected):
    window = _window(covered)
    as_(client, covered, actor)
    response = client.post(reverse("window_cancel", args=[window.pk]),
                           {"reason": "x", "confirm": "yes"})
    check(response, expected)
    window.refresh_from_db()
    cancelled = window.status == AccessWindow.Status.CANCELLED
    assert cancelled == (expected == 302)
    assert audit_count("window.cancelled") == (1 if expected == 302 else 0)


# --- lists never show what the detail refuses ------------------------------------------------

def _links(response, name, pks):
    html = response.content.decode()
    return {pk for pk in pks if f'href="{reverse(name, args=[pk])}"' in html}


def test_the_outsiders_lists_hold_only_its_own_organisations_objects(client, covered):
    w = covered
    _window(w)
    other_request = services.request_create(model=w.other_model, actor=w.outsider)
    client.force_login(w.outsider)
    models = client.get("/models/")
    assert _links(models, "model_detail", [w.model.pk, w.other_model.pk]) == {w.other_model.pk}
    assert b"Atlas" not in models.content
    requests = client.get("/requests/")
    assert _links(requests, "request_detail", [w.request.pk, other_request.pk]) == {
        other_request.pk}
    windows = client.get("/windows/")
    assert b"Atlas" not in windows.content
    assert b"No windows." in windows.content


@pytest.mark.parametrize("actor", ["reviewer2", "partner"])
def test_an_unassigned_reviewer_and_a_partner_see_empty_lists(client, covered, actor):
    _window(covered)
    as_(client, covered, actor)
    assert b"No models yet." in client.get("/models/").content
    assert b"No requests." in client.get("/requests/").content
    assert b"No windows." in client.get("/windows/").content


def test_a_reviewer_sees_a_request_in_the_lists_once_assigned_and_not_before(client, world):
    bring_to(world, "submitted")
    client.force_login(world.reviewer2)
    ids = [world.request.pk]
    assert _links(client.get("/requests/"), "request_detail", ids) == set()
    assert _links(client.get("/models/"), "model_detail", [world.model.pk]) == set()
    services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                             actor=world.admin)
    assert _links(client.get("/requests/"), "request_detail", ids) == set(ids)
    assert _links(client.get("/models/"), "model_detail", [world.model.pk]) == {world.model.pk}
    assert client.get(reverse("request_detail", args=ids)).status_code == 200


def test_a_program_admin_sees_every_organisations_objects(client, covered):
    w = covered
    other_request = services.request_create(model=w.other_model, actor=w.outsider)
    client.force_login(w.admin)
    assert _links(client.get("/models/"), "model_detail", [w.model.pk, w.other_model.pk]) == {
        w.model.pk, w.other_model.pk}
    assert _links(client.get("/requests/"), "request_detail", [w.request.pk, other_request.pk]
                  ) == {w.request.pk, other_request.pk}


# --- confidentiality on the request page ----------------------------------------------------

@pytest.fixture
def named(world):
    """The world with a reviewer whose username and full name are distinctive, so a leak shows."""
    world.reviewer.username = "jsmith-agency"
    world.reviewer.first_name, world.reviewer.last_name = "Jane", "Smithson"
    world.reviewer.save()
    return world


@pytest.mark.parametrize("actor,sees", [("owner", False), ("colleague", False),
                                        ("reviewer", True), ("admin", True)])
def test_internal_notes_and_the_reviewers_name_stay_with_the_government(client, named, actor,
                                                                        sees):
    bring_to(named, "information_requested")
    services.message_post(review_request=named.request, actor=named.owner, body="Scaffold A.")
    services.request_determine(review_request=named.request, actor=named.reviewer,
                               outcome="covered", rationale="Above the program's level.",
                               internal_notes="secret internal note",
                               override_reason="secret override reason")
    as_(client, named, actor)
    html = client.get(reverse("request_detail", args=[named.request.pk])).content.decode()
    assert "Above the program&#x27;s level." in html
    assert "Which scaffolds?" in html
    assert ("secret internal note" in html) == sees
    assert ("secret override reason" in html) == sees
    assert ("jsmith-agency" in html) == sees
    assert ("Jane Smithson" in html) == sees
    if not sees:
        assert "Agency reviewer" in html


@pytest.mark.parametrize("actor,recorded", [("owner", False), ("colleague", False),
                                            ("reviewer", True), ("admin", True)])
def test_government_reads_of_the_request_page_are_recorded(client, world, actor, recorded):
    bring_to(world, "in_review")
    as_(client, world, actor)
    client.get(reverse("request_detail", args=[world.request.pk]))
    events = AuditEvent.objects.filter(action="review_request.viewed",
                                       object_id=str(world.request.pk))
    assert events.count() == (1 if recorded else 0)
    if recorded:
        assert events.get().actor == world.actors()[actor]


def test_refused_readers_leave_no_view_record(client, world):
    bring_to(world, "in_review")
    client.force_login(world.reviewer2)
    assert client.get(reverse("request_detail", args=[world.request.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="review_request.viewed").exists()


def test_developers_do_not_see_who_in_the_agency_read_the_request(client, world):
    bring_to(world, "in_review")
    url = reverse("request_detail", args=[world.request.pk])
    client.force_login(world.reviewer)
    client.get(url)
    viewed = f"viewed review request #{world.request.pk}.".encode()
    assert viewed in client.get(url).content
    client.force_login(world.owner)
    html = client.get(url).content
    assert viewed not in html
    assert f"submitted review request #{world.request.pk}.".encode() in html


def test_a_reopened_request_offers_its_developer_no_withdrawal(client, covered):
    services.request_reconsideration(review_request=covered.request, actor=covered.owner,
                                     reason="New evidence.")
    client.force_login(covered.owner)
    html = client.get(reverse("request_detail", args=[covered.request.pk])).content.decode()
    assert reverse("request_action", args=[covered.request.pk, "withdraw"]) not in html


def test_an_open_request_offers_its_developer_a_withdrawal(client, world):
    bring_to(world, "in_review")
    client.force_login(world.owner)
    html = client.get(reverse("request_detail", args=[world.request.pk])).content.decode()
    assert reverse("request_action", args=[world.request.pk, "withdraw"]) in html
