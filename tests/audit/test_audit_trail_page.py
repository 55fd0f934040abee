"""The audit trail page and a request's history in plain words: sentences, an action list of
labels, labelled filters with date pickers, details as labelled fields."""

from datetime import timedelta

from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from tests.conftest import bring_to


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200
    return BeautifulSoup(response.content.decode(), "html.parser")


def rows(soup) -> list[str]:
    return [" ".join(tr.select("td")[2].get_text().split())
            for tr in soup.select("table.audit-trail tbody tr") if len(tr.select("td")) == 4]


def test_every_filter_is_labelled_and_the_days_are_date_pickers(world, client):
    client.force_login(world.admin)
    soup = soup_of(client.get(reverse("audit_list")))
    form = soup.select_one("form.audit-filters")
    controls = form.select("input:not([type=hidden]), select")
    assert {c["name"] for c in controls} == {"action", "actor", "object_type", "object_id",
                                             "date_from", "date_to"}
    for control in controls:
        label = form.select_one(f"label[for='{control['id']}']")
        assert label is not None and label.get_text().strip(), control["name"]
    assert form.select_one("#id_date_from")["type"] == "date"
    assert form.select_one("#id_date_to")["type"] == "date"


def test_choosing_submitted_in_the_action_list_finds_the_submit_events(world, client):
    bring_to(world, "determined")
    client.force_login(world.admin)
    soup = soup_of(client.get(reverse("audit_list")))
    option = next(o for o in soup.select("#id_action option")
                  if o.get_text().startswith("Submitted a review request"))
    assert option["value"] == "review_request.submit"
    assert not any(o.get_text() == o["value"] for o in soup.select("#id_action option")
                   if o["value"]), "an action listed by its code"
    found = soup_of(client.get(reverse("audit_list"), {"action": option["value"]}))
    assert rows(found) == [f"{world.owner.get_full_name() or 'owner'} submitted review request "
                           f"#{world.request.pk}."]
    assert found.select_one("#id_action option[selected]")["value"] == "review_request.submit"


def test_any_review_request_event_keeps_filtering_by_the_code_prefix(world, client):
    bring_to(world, "determined")
    client.force_login(world.admin)
    response = client.get(reverse("audit_list"), {"action": "review_request."})
    assert {e.action for e in response.context["events"]} == {
        "review_request.created", "review_request.submit", "review_request.start_review",
        "review_request.determine"}


def test_the_days_filter_includes_both_days(world, client):
    client.force_login(world.admin)
    today = timezone.now().date()
    mine = {"action": "model.registered"}
    events = client.get(reverse("audit_list"), {**mine, "date_from": today, "date_to": today}
                        ).context["events"]
    assert {e.object_id for e in events} == {str(world.model.pk), str(world.other_model.pk)}
    yesterday = today - timedelta(days=1)
    assert list(client.get(reverse("audit_list"), {**mine, "date_to": yesterday}
                           ).context["events"]) == []
    tomorrow = today + timedelta(days=1)
    assert list(client.get(reverse("audit_list"), {**mine, "date_from": tomorrow}
                           ).context["events"]) == []


def test_details_are_labelled_fields_not_a_python_dict(world, client):
    bring_to(world, "submitted")
    client.force_login(world.admin)
    soup = soup_of(client.get(reverse("audit_list"), {"action": "review_request.submit"}))
    (details,) = soup.select("table.audit-trail details")
    assert details.select_one("summary").get_text() == "Submitted a review request"
    fields = {dt.get_text(): dt.find_next_sibling("dd").get_text()
              for dt in details.select("dl dt")}
    assert fields["From status"] == "Draft" and fields["To status"] == "Submitted"
    assert fields["Organisation"] == "Acme AI"
    assert fields["Action code"] == "review_request.submit"
    html = str(soup.select_one("table.audit-trail"))
    assert "{'" not in html and "&#x27;from&#x27;" not in html


def test_the_table_has_four_columns(world, client):
    client.force_login(world.admin)
    soup = soup_of(client.get(reverse("audit_list")))
    assert [th.get_text() for th in soup.select("table.audit-trail thead th")] == [
        "When", "Who", "What", "Details"]


def test_a_bad_day_is_an_error_linked_from_the_summary(world, client):
    client.force_login(world.admin)
    response = client.get(reverse("audit_list"), {"date_from": "someday"})
    soup = soup_of(response)
    assert list(response.context["events"]) == []
    assert soup.select_one("[data-error-summary] a[href='#id_date_from']") is not None


def test_a_request_history_reads_as_sentences_and_hides_the_reviewer_from_the_developer(
        world, client):
    # bring_to has the admin start the review: a government actor like a reviewer.
    world.admin.first_name, world.admin.last_name = "Zebulon", "Quartermaine"
    world.admin.save()
    bring_to(world, "in_review")
    url = reverse("request_detail", args=[world.request.pk])
    client.force_login(world.owner)
    history = soup_of(client.get(url)).select_one("#history").find_next("table")
    sentences = [" ".join(td.get_text().split())
                 for td in history.select("tbody td:nth-of-type(2)")]
    pk = world.request.pk
    assert f"The agency started the review of review request #{pk}." in sentences
    assert any(s.endswith(f"submitted review request #{pk}.") for s in sentences)
    assert "review_request." not in str(history) and "Zebulon" not in str(history)
    client.force_login(world.admin)
    history = soup_of(client.get(url)).select_one("#history").find_next("table")
    assert f"Zebulon Quartermaine started the review of review request #{pk}." in " ".join(
        history.get_text().split())
