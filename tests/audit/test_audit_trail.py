"""The append-only audit trail: ORM and database refuse rewrites; admins filter and export it."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record
from tests.conftest import bring_to
from tests.factories import make_model

NON_ADMINS = ["owner", "colleague", "outsider", "reviewer", "reviewer2", "partner"]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- append-only through the ORM -------------------------------------------------------------

def test_audit_record_writes_who_did_what_to_which_object(world):
    event = audit_record(actor=world.owner, action="test.done", obj=world.model,
                         organisation=world.acme, data={"k": 1})
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor, event.actor_label, event.action) == (world.owner, "owner", "test.done")
    assert (event.object_type, event.object_id) == ("submissions.frontiermodel",
                                                    str(world.model.pk))
    assert event.object_label == str(world.model)
    assert event.organisation == world.acme and event.data == {"k": 1}


def test_an_event_without_a_user_is_recorded_as_the_system(world):
    event = audit_record(actor=None, action="test.swept", obj=world.model)
    assert event.actor is None and event.actor_label == "system"


def test_an_existing_event_cannot_be_saved_again(world):
    event = AuditEvent.objects.filter(action="model.registered").first()
    event.action = "model.forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert not AuditEvent.objects.filter(action="model.forged").exists()


def test_an_event_cannot_be_deleted(world):
    event = AuditEvent.objects.first()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_queryset_cannot_update_or_delete_events(world):
    count = AuditEvent.objects.count()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(action="model.registered").update(action="model.forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update(list(AuditEvent.objects.all()[:1]), ["action"])
    assert AuditEvent.objects.count() == count
    assert not AuditEvent.objects.filter(action="model.forged").exists()


def test_an_actor_with_events_cannot_be_deleted_and_take_the_trail_with_them(world):
    with pytest.raises(ProtectedError):
        world.owner.delete()
    assert AuditEvent.objects.filter(actor=world.owner).exists()


# --- append-only in the database itself ------------------------------------------------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="the append-only trigger is PostgreSQL only")


@postgres_only
def test_raw_sql_cannot_update_an_event(world):
    event = AuditEvent.objects.filter(action="model.registered", actor=world.owner).get()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'model.forged' WHERE id = %s",
                           [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "model.registered"


@postgres_only
def test_raw_sql_cannot_delete_events(world):
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == count


def test_raw_sql_cannot_append_an_event_outside_the_chain(world):
    count = AuditEvent.objects.count()
    with pytest.raises(IntegrityError):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_auditevent (created_at, actor_label, action, object_type, "
                "object_id, object_label, data) VALUES (CURRENT_TIMESTAMP, 'system', "
                "'test.raw', 'x', '1', '', '{}')")
    assert AuditEvent.objects.count() == count


# --- the /audit/ page ------------------------------------------------------------------------

def test_an_admin_sees_the_trail(world, client):
    bring_to(world, "determined")
    client.force_login(world.admin)
    response = client.get("/audit/")
    assert response.status_code == 200
    page = response.content.decode()
    for action in ("review_request.submit", "reviewer.assigned", "determination.recorded"):
        assert action in page


@pytest.mark.parametrize("actor", NON_ADMINS)
def test_nobody_but_an_admin_sees_the_trail(world, client, actor):
    client.force_login(getattr(world, actor))
    assert client.get("/audit/").status_code == 404
    assert client.get("/audit/?format=csv").status_code == 404


def test_an_anonymous_user_is_sent_to_log_in(world, client):
    response = client.get("/audit/?format=csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def events_on_page(response) -> list[AuditEvent]:
    return list(response.context["events"])


def test_the_page_filters_by_action_prefix(world, client):
    bring_to(world, "determined")
    client.force_login(world.admin)
    events = events_on_page(client.get("/audit/", {"action": "review_request."}))
    assert {e.action for e in events} == {"review_request.created", "review_request.submit",
                                          "review_request.start_review",
                                          "review_request.determine"}


def test_the_page_filters_by_actor_and_object_type(world, client):
    bring_to(world, "determined")
    client.force_login(world.admin)
    events = events_on_page(client.get("/audit/", {"actor": "REVIEWER",
                                                   "object_type": "submissions.reviewrequest"}))
    assert events
    assert {e.actor_label for e in events} == {"reviewer"}
    assert {e.object_type for e in events} == {"submissions.reviewrequest"}
    expected = AuditEvent.objects.filter(actor=world.reviewer,
                                         object_type="submissions.reviewrequest").count()
    assert len(events) == expected


def test_the_page_filters_by_since(world, client):
    client.force_login(world.admin)
    cutoff = timezone.now()
    make_model(world.owner, name="Later")
    events = events_on_page(client.get("/audit/", {"since": cutoff.isoformat()}))
    assert [e.action for e in events] == ["model.registered"]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert events_on_page(client.get("/audit/", {"since": future})) == []


def test_a_nonsense_filter_shows_no_events_rather_than_all(world, client):
    client.force_login(world.admin)
    response = client.get("/audit/", {"since": "yesterday-ish"})
    assert response.status_code == 200
    assert events_on_page(response) == []


def test_the_page_runs_a_fixed_number_of_queries(world, client, django_assert_max_num_queries):
    client.force_login(world.admin)
    for i in range(30):
        make_model(world.owner, name=f"Bulk {i}")
    with django_assert_max_num_queries(8):
        assert client.get("/audit/").status_code == 200


# --- CSV export ------------------------------------------------------------------------------

def test_the_csv_export_has_a_header_and_the_filtered_rows(world, client):
    bring_to(world, "determined")
    client.force_login(world.admin)
    response = client.get("/audit/", {"format": "csv", "action": "review_request."})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header == ["created_at", "actor_label", "action", "object_type", "object_id",
                      "object_label", "organisation", "data"]
    expected = AuditEvent.objects.filter(action__startswith="review_request.")
    assert len(rows) == expected.count() == 4
    assert {r[2] for r in rows} == set(expected.values_list("action", flat=True))
    submit = next(r for r in rows if r[2] == "review_request.submit")
    assert submit[1] == "owner" and submit[4] == str(world.request.pk)
    assert submit[6] == "Acme AI"
    assert isinstance(json.loads(submit[7]), dict)


def test_the_csv_export_of_an_empty_filter_is_just_the_header(world, client):
    client.force_login(world.admin)
    response = client.get("/audit/", {"format": "csv", "action": "no.such.action"})
    assert len(csv_rows(response)) == 1


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0",
                                  "-2+3", "@SUM(A1:A2)"])
def test_the_csv_export_defuses_spreadsheet_formulas(world, client, name):
    make_model(world.owner, name=name)
    client.force_login(world.admin)
    response = client.get("/audit/", {"format": "csv", "action": "model.registered"})
    labels = [r[5] for r in csv_rows(response)[1:]]
    assert f"'{name} 1.0" in labels
    assert all(not label.startswith(("=", "+", "-", "@")) for label in labels)


# --- /api/v1/audit-events/ -------------------------------------------------------------------

def test_an_admin_lists_events_through_the_api_with_filters(world, api):
    bring_to(world, "determined")
    response = api.as_(world.admin).get("/api/v1/audit-events/",
                                        data={"action": "review_request.", "actor": "owner"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert {r["action"] for r in results} == {"review_request.created", "review_request.submit"}
    assert all(r["actor_label"] == "owner" and r["organisation"] == "Acme AI" for r in results)

    since = (timezone.now() + timedelta(minutes=1)).isoformat()
    response = api.get("/api/v1/audit-events/", data={"since": since})
    assert response.json()["results"] == []

    response = api.get("/api/v1/audit-events/", data={"object_type": "submissions.reviewrequest",
                                                      "object_id": str(world.request.pk)})
    ids = {r["object_id"] for r in response.json()["results"]}
    assert ids == {str(world.request.pk)}


def test_the_api_refuses_a_nonsense_filter_with_a_json_error(world, api):
    response = api.as_(world.admin).get("/api/v1/audit-events/", data={"since": "soon"})
    assert response.status_code == 400
    assert "since" in response.json()["errors"]
    assert "since" in response.json()["detail"]


@pytest.mark.parametrize("actor", NON_ADMINS)
def test_nobody_but_an_admin_lists_events_through_the_api(world, api, actor):
    response = api.as_(getattr(world, actor)).get("/api/v1/audit-events/")
    assert response.status_code in (403, 404)
    assert "results" not in response.json()


def test_an_anonymous_caller_cannot_list_events(world, api):
    response = api.as_(None).get("/api/v1/audit-events/")
    assert response.status_code in (401, 403)


def test_the_events_api_runs_a_fixed_number_of_queries(world, api,
                                                       django_assert_max_num_queries):
    for i in range(30):
        make_model(world.owner, name=f"Bulk {i}")
    api.as_(world.admin)
    with django_assert_max_num_queries(8):
        assert api.get("/api/v1/audit-events/").status_code == 200
