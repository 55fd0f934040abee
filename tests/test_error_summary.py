"""Every form page answers an invalid post with the form again and, at its top, one error summary
(templates/includes/error_summary.html) that links to each field in error; each such field is
described by its own error message (aria-describedby)."""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from tests.conftest import bring_to


def summaries(html: str):
    return BeautifulSoup(html, "html.parser").select("[data-error-summary]")


def assert_the_summary_links_every_field_in_error(html: str) -> list[str]:
    """The page's summaries link to exactly the fields marked invalid, and each link's target
    exists; an invalid field is described by its error. Returns the linked ids."""
    soup = BeautifulSoup(html, "html.parser")
    found = soup.select("[data-error-summary]")
    assert found, "no error summary on the page"
    for summary in found:
        assert summary["role"] == "alert" and "usa-alert--error" in summary["class"]
        assert summary.select_one(".usa-alert__heading").get_text() == "There is a problem"
        assert summary.select("li"), "an empty summary"
    linked = [a["href"][1:] for s in found for a in s.select("a[href^='#']")]
    for target in linked:
        assert soup.find(id=target) is not None, f"the summary links to a missing #{target}"
    for field in soup.select("[aria-invalid='true']"):
        fid = field["id"]
        # A group of radios or checkboxes is linked by its first option.
        assert fid in linked or fid.rsplit("_", 1)[0] + "_0" in linked, f"#{fid} is not linked"
        # A group of choices is described as a whole: by its fieldset.
        group = field if field.get("aria-describedby") else field.find_parent("fieldset") or field
        described = group.get("aria-describedby", "").split()
        assert any(soup.find(id=d) is not None and "errorlist" in (soup.find(id=d).get("class")
                   or []) for d in described), f"#{fid} is not described by its error"
    return linked


def post_invalid(client, user, url, data=None):
    client.force_login(user)
    # Not an empty body: `Form(request.POST or None)` takes that for no post at all.
    response = client.post(url, data or {"unknown": ""})
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


@pytest.mark.parametrize("actor, url_name, args", [
    ("owner", "model_create", []),
    ("owner", "model_edit", ["model"]),
    ("owner", "window_edit", ["model"]),
    ("owner", "endpoint_edit", ["model"]),
    ("owner", "terms_edit", ["model"]),
    ("owner", "profile", []),
    ("reviewer", "conflict_list", []),
    ("admin", "policy_create", []),
    ("admin", "rubric_create", []),
    ("admin", "suite_list", []),
    ("partner", "access_request_create", []),
    ("partner", "partner_apply", []),
])
def test_an_invalid_post_shows_the_form_with_a_summary_linking_each_field(
        world, client, actor, url_name, args):
    url = reverse(url_name, args=[getattr(world, a).pk for a in args])
    linked = assert_the_summary_links_every_field_in_error(
        post_invalid(client, world.actors()[actor], url))
    assert linked, "no field is linked"
    assert all(target.startswith("id_") for target in linked)


def test_the_evaluation_form_links_its_fields(world, client):
    from evaluations.services import endpoint_set

    endpoint_set(model=world.model, actor=world.owner, kind="simulated", model_name="atlas-sim",
                 simulated_levels={"exploit_development": 0.8})
    bring_to(world, "in_review")
    html = post_invalid(client, world.reviewer,
                        reverse("request_evaluation", args=[world.request.pk]))
    assert "id_suite_version" in assert_the_summary_links_every_field_in_error(html)


def test_a_wrong_password_is_summarised_without_a_link(client, world):
    response = client.post(reverse("account_login"), {"login": "owner", "password": "wrong"})
    assert response.status_code == 200
    (summary,) = summaries(response.content.decode())
    assert "The username and/or password you specified are not correct" in summary.get_text()
    # The value typed stays.
    assert 'value="owner"' in response.content.decode()


def test_a_valid_or_unbound_form_shows_no_summary(world, client):
    client.force_login(world.owner)
    assert summaries(client.get(reverse("model_create")).content.decode()) == []
    assert summaries(client.get(reverse("request_detail", args=[world.request.pk])
                                ).content.decode()) == []


def test_the_window_filter_summarises_an_end_before_the_start(world, client):
    client.force_login(world.admin)
    html = client.get(reverse("window_tracking"), {"date_from": "2026-05-10",
                                                   "date_to": "2026-05-09"}).content.decode()
    (summary,) = summaries(html)
    assert "before its start" in summary.get_text()


def test_the_summary_script_is_a_static_file_that_focuses_the_summary(world, client):
    html = post_invalid(client, world.owner, reverse("model_create"))
    soup = BeautifulSoup(html, "html.parser")
    script = soup.select_one("script[src$='js/error_summary.js']")
    assert script is not None and not script.string
    from pathlib import Path
    source = (Path(__file__).resolve().parents[1] / "static/js/error_summary.js").read_text()
    assert "[data-error-summary]" in source and ".focus()" in source


def test_an_empty_message_shows_the_request_page_with_the_message_field_linked(world, client):
    bring_to(world, "in_review")
    html = post_invalid(client, world.owner, reverse("message_create", args=[world.request.pk]),
                        {"body": "  "})
    assert assert_the_summary_links_every_field_in_error(html) == ["id_body"]


def test_an_incomplete_determination_links_the_outcome_and_the_rationale(world, client):
    bring_to(world, "in_review")
    html = post_invalid(client, world.reviewer, reverse(
        "request_action", args=[world.request.pk, "determine"]), {"rationale": ""})
    assert sorted(assert_the_summary_links_every_field_in_error(html)) == [
        "id_outcome_0", "id_rationale"]
    from submissions.models import Determination
    assert not Determination.objects.exists()


def test_a_question_refused_keeps_what_was_typed(world, client):
    bring_to(world, "in_review")
    html = post_invalid(client, world.reviewer, reverse(
        "request_action", args=[world.request.pk, "request_information"]), {"question": ""})
    assert assert_the_summary_links_every_field_in_error(html) == ["id_question"]


def test_an_assignment_without_a_reviewer_links_the_reviewer_list(world, client):
    html = post_invalid(client, world.admin, reverse("reviewer_assign", args=[world.request.pk]),
                        {"reviewer": ""})
    assert assert_the_summary_links_every_field_in_error(html) == ["id_reviewer"]
