"""The page for a new rubric or threshold policy version (reviews/version_form.html): it saves as
offered, blank extra rows are ignored, a half-filled row is one error on that row."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from reviews.models import PolicyVersion, RubricVersion
from tests.formkit import offered
from tests.test_error_summary import assert_the_summary_links_every_field_in_error


def _rules(policy):
    return list(policy.rules.order_by("position").values_list("kind", "category", "threshold",
                                                               "citation"))


def test_a_new_policy_version_saves_as_offered_with_its_two_blank_rows_ignored(world, client):
    client.force_login(world.admin)
    page = client.get(reverse("policy_create"))
    data = offered(page.content.decode())
    assert data["rule-TOTAL_FORMS"] == "3"  # the active version's one rule and two blank rows
    data["name"] = "Compute, again"
    response = client.post(reverse("policy_create"), data)
    new = PolicyVersion.objects.get(name="Compute, again")
    assert response.status_code == 302 and response["Location"] == reverse("policy_detail",
                                                                          args=[new.pk])
    assert _rules(new) == _rules(world.policy) == [
        ("training_compute", "", 1e26, "California SB 53")]
    # Not asked to activate it: the active version stays the active one, nothing else recorded.
    world.policy.refresh_from_db()
    assert world.policy.is_active and not new.is_active
    assert list(AuditEvent.objects.filter(object_id=str(new.pk), object_type__startswith="reviews"
                                          ).values_list("action", flat=True)) == ["policy.created"]


def test_a_new_policy_version_can_add_a_rule_in_a_blank_row_and_activate(world, client):
    client.force_login(world.admin)
    data = offered(client.get(reverse("policy_create")).content.decode())
    data.update({"name": "Two rules", "activate": "on", "rule-1-kind": "category_accuracy",
                 "rule-1-category": "exploit_development", "rule-1-threshold": "0.6",
                 "rule-1-citation": "Demo"})
    assert client.post(reverse("policy_create"), data).status_code == 302
    new = PolicyVersion.objects.get(name="Two rules")
    assert _rules(new) == [("training_compute", "", 1e26, "California SB 53"),
                           ("category_accuracy", "exploit_development", 0.6, "Demo")]
    world.policy.refresh_from_db()
    assert new.is_active and not world.policy.is_active


def test_a_half_filled_rule_row_is_one_error_on_that_row_and_nothing_is_saved(world, client):
    client.force_login(world.admin)
    data = offered(client.get(reverse("policy_create")).content.decode())
    data.update({"name": "Half", "rule-2-threshold": "0.5"})
    response = client.post(reverse("policy_create"), data)
    assert response.status_code == 200
    assert not PolicyVersion.objects.filter(name="Half").exists()
    html = response.content.decode()
    assert html.count("This field is required.") == 0
    assert html.count("This rule is incomplete: fill in its citation, or clear the row") == 2
    assert "Rule 3, citation: This rule is incomplete" in html  # the summary names the row
    linked = assert_the_summary_links_every_field_in_error(html)
    assert linked == ["id_rule-2-citation"]
    # What was typed stays.
    assert 'value="0.5"' in html and 'value="Half"' in html


def test_a_deleted_half_filled_row_is_ignored(world, client):
    client.force_login(world.admin)
    data = offered(client.get(reverse("policy_create")).content.decode())
    data.update({"name": "Dropped", "rule-2-threshold": "0.5", "rule-2-DELETE": "on"})
    assert client.post(reverse("policy_create"), data).status_code == 302
    assert len(_rules(PolicyVersion.objects.get(name="Dropped"))) == 1


def test_a_bad_threshold_in_a_row_is_shown_by_the_row_and_in_the_summary(world, client):
    client.force_login(world.admin)
    data = offered(client.get(reverse("policy_create")).content.decode())
    data.update({"name": "Bad", "rule-1-threshold": "lots", "rule-1-citation": "Demo"})
    response = client.post(reverse("policy_create"), data)
    assert response.status_code == 200
    assert assert_the_summary_links_every_field_in_error(response.content.decode()) == [
        "id_rule-1-threshold"]


@pytest.mark.parametrize("url_name", ["rubric_create"])
def test_a_new_rubric_version_saves_as_offered_with_its_blank_rows_ignored(world, client,
                                                                            url_name):
    client.force_login(world.admin)
    active = RubricVersion.objects.get(is_active=True)
    data = offered(client.get(reverse(url_name)).content.decode())
    data["name"] = "Rubric, again"
    response = client.post(reverse(url_name), data)
    assert response.status_code == 302
    new = RubricVersion.objects.get(name="Rubric, again")
    assert new.dimensions == active.dimensions and not new.is_active
