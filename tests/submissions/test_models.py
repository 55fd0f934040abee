"""Registering and editing model versions: submissions.services.model_register / model_update."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from review_portal.errors import ApplicationError
from submissions import services
from submissions.models import FrontierModel
from submissions.selectors import models_visible_to
from tests.conftest import bring_to
from tests.factories import make_model, model_fields


def _snapshot():
    return FrontierModel.objects.count(), AuditEvent.objects.count()


# --- registering -----------------------------------------------------------------------------

def test_a_developer_registers_a_model_for_their_organisation(world):
    model = make_model(world.colleague, name="Borealis", version="2.1",
                       compute_estimation_notes=None)
    model.refresh_from_db()
    assert model.organisation == world.acme
    assert model.created_by == world.colleague
    assert (model.name, model.version) == ("Borealis", "2.1")
    assert model.modalities == ["text", "code"]
    assert model.training_compute_flop == 3e25
    assert model.compute_estimation_notes == ""
    event = AuditEvent.objects.get(action="model.registered", object_id=str(model.pk))
    assert event.actor == world.colleague
    assert event.organisation == world.acme
    assert event.data == {"name": "Borealis", "version": "2.1"}


def test_a_registered_model_is_seen_by_its_organisation_only(world):
    model = make_model(world.owner, name="Borealis")
    assert models_visible_to(world.colleague).filter(pk=model.pk).exists()
    for who in ("outsider", "reviewer", "reviewer2", "partner"):
        assert not models_visible_to(world.actors()[who]).filter(pk=model.pk).exists()
    assert models_visible_to(world.admin).filter(pk=model.pk).exists()


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"modalities": []}, "modalities", "at least one modality"),
    ({"modalities": None}, "modalities", "at least one modality"),
    ({"modalities": ["text", "smell"]}, "modalities", "Unknown modality: smell"),
    ({"training_compute_flop": 0}, "training_compute_flop", "positive number"),
    ({"training_compute_flop": -3e25}, "training_compute_flop", "positive number"),
    ({"training_compute_flop": float("nan")}, "training_compute_flop", "positive number"),
    ({"training_compute_flop": float("inf")}, "training_compute_flop", "positive number"),
    ({"training_compute_flop": None}, "training_compute_flop", "positive number"),
    ({"planned_partner_release_at": timezone.now() - timedelta(days=1)},
     "planned_partner_release_at", "cannot be in the past"),
    ({"planned_partner_release_at": timezone.now() - timedelta(days=30),
      "planned_public_release_at": timezone.now() - timedelta(days=1)},
     "planned_partner_release_at", "cannot be in the past"),
    ({"planned_partner_release_at": timezone.now() + timedelta(days=60),
      "planned_public_release_at": timezone.now() + timedelta(days=59)},
     "planned_public_release_at", "cannot come before the release to trusted partners"),
    ({"planned_partner_release_at": None}, "planned_partner_release_at", "date"),
    ({"planned_public_release_at": None}, "planned_public_release_at", "date"),
    ({"name": ""}, "name", "blank"),
    ({"name": "   "}, "name", "blank"),
    ({"description": "  "}, "description", "blank"),
    ({"training_compute_flop": True}, "training_compute_flop", "positive number"),
    ({"compute_estimation_method": "guess"}, "compute_estimation_method", "guess"),
])
def test_registration_refuses_bad_input_and_writes_nothing(world, overrides, field, message):
    before = _snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        make_model(world.owner, **{"version": "9.9", **overrides})
    assert excinfo.value.field == field
    assert message.lower() in excinfo.value.message.lower()
    assert _snapshot() == before
    assert not FrontierModel.objects.filter(version="9.9").exists()


def test_the_same_name_and_version_cannot_be_registered_twice_in_an_organisation(world):
    before = _snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        make_model(world.colleague)  # Atlas 1.0, which the owner registered
    assert excinfo.value.status == 409
    assert "Atlas 1.0" in excinfo.value.message
    assert "new version" in excinfo.value.message
    assert _snapshot() == before


def test_the_same_name_may_be_registered_as_a_new_version_or_by_another_organisation(world):
    make_model(world.owner, version="1.1")
    make_model(world.outsider)  # Atlas 1.0 at Other AI
    assert FrontierModel.objects.filter(name="Atlas").count() == 3


@pytest.mark.parametrize("who", ["reviewer", "admin", "partner"])
def test_only_developers_register_models(world, who):
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        make_model(world.actors()[who], name="Borealis")
    assert _snapshot() == before


# --- editing -------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "colleague"])
def test_the_developers_edit_a_model_and_the_change_is_audited(world, who):
    actor = world.actors()[who]
    services.model_update(model=world.model, actor=actor, description="Now with tools.",
                          modalities=["text", "tool_use"], training_compute_flop=5e25)
    world.model.refresh_from_db()
    assert world.model.description == "Now with tools."
    assert world.model.modalities == ["text", "tool_use"]
    assert world.model.training_compute_flop == 5e25
    event = AuditEvent.objects.get(action="model.updated")
    assert event.actor == actor
    assert set(event.data["changed"]) == {"description", "modalities", "training_compute_flop"}


def test_an_edit_that_changes_nothing_writes_nothing(world):
    before = _snapshot()
    services.model_update(model=world.model, actor=world.owner,
                          description=world.model.description, unknown_field="ignored")
    assert _snapshot() == before


@pytest.mark.parametrize("who", ["outsider", "reviewer", "admin", "partner"])
def test_others_cannot_edit_a_model(world, who):
    bring_to(world, "in_review")
    with pytest.raises(PermissionDenied):
        services.model_update(model=world.model, actor=world.actors()[who], description="Mine.")
    world.model.refresh_from_db()
    assert world.model.description == "A capable model."
    assert not AuditEvent.objects.filter(action="model.updated").exists()


@pytest.mark.parametrize(("changes", "field"), [
    ({"modalities": []}, "modalities"),
    ({"modalities": ["smell"]}, "modalities"),
    ({"training_compute_flop": 0}, "training_compute_flop"),
    ({"planned_partner_release_at": timezone.now() - timedelta(hours=1)},
     "planned_partner_release_at"),
    ({"planned_public_release_at": timezone.now() + timedelta(days=1)},
     "planned_public_release_at"),
    ({"name": ""}, "name"),
])
def test_an_edit_is_validated_like_a_registration(world, changes, field):
    before = _snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        services.model_update(model=world.model, actor=world.owner, **changes)
    assert excinfo.value.field == field
    assert _snapshot() == before
    fresh = FrontierModel.objects.get(pk=world.model.pk)
    assert fresh.modalities == ["text", "code"]
    assert fresh.name == "Atlas"


def test_an_edit_cannot_take_the_name_and_version_of_another_model(world):
    make_model(world.owner, version="2.0")
    with pytest.raises(ApplicationError) as excinfo:
        services.model_update(model=world.model, actor=world.owner, version="2.0")
    assert excinfo.value.status == 409
    world.model.refresh_from_db()
    assert world.model.version == "1.0"
    assert not AuditEvent.objects.filter(action="model.updated").exists()


@pytest.mark.parametrize("status", ["draft", "submitted", "in_review", "information_requested",
                                    "withdrawn"])
def test_the_description_can_change_until_a_determination(world, status):
    bring_to(world, status)
    services.model_update(model=world.model, actor=world.owner, description="Revised.")
    world.model.refresh_from_db()
    assert world.model.description == "Revised."


@pytest.mark.parametrize("changes", [
    {"description": "Quietly weaker."},
    {"training_compute_flop": 1e20},
    {"modalities": ["text"]},
    {"name": "Atlas Lite"},
    {"version": "1.0.1"},
])
def test_after_a_determination_the_substance_is_frozen(covered, changes):
    before = _snapshot()
    with pytest.raises(ApplicationError) as excinfo:
        services.model_update(model=covered.model, actor=covered.owner, **changes)
    assert excinfo.value.status == 409
    assert excinfo.value.field == next(iter(changes))
    assert "register a new version" in excinfo.value.message
    fresh = FrontierModel.objects.get(pk=covered.model.pk)
    assert fresh.description == "A capable model."
    assert fresh.training_compute_flop == 3e25
    assert fresh.modalities == ["text", "code"]
    assert (fresh.name, fresh.version) == ("Atlas", "1.0")
    assert _snapshot() == before


def test_after_a_determination_the_release_dates_can_still_move(covered):
    partner = timezone.now() + timedelta(days=70)
    public = timezone.now() + timedelta(days=120)
    services.model_update(model=covered.model, actor=covered.colleague,
                          planned_partner_release_at=partner, planned_public_release_at=public)
    covered.model.refresh_from_db()
    assert covered.model.planned_partner_release_at == partner
    assert covered.model.planned_public_release_at == public
    event = AuditEvent.objects.get(action="model.updated")
    assert set(event.data["changed"]) == {"planned_partner_release_at",
                                          "planned_public_release_at"}


def test_after_a_determination_a_moved_date_is_still_validated(covered):
    with pytest.raises(ApplicationError) as excinfo:
        services.model_update(model=covered.model, actor=covered.owner,
                              planned_public_release_at=timezone.now() + timedelta(days=1))
    assert excinfo.value.field == "planned_public_release_at"
    assert not AuditEvent.objects.filter(action="model.updated").exists()


def test_a_frozen_field_sent_unchanged_with_a_date_move_is_accepted(covered):
    """Forms send every field back; only what really changes counts."""
    fields = model_fields(planned_public_release_at=timezone.now() + timedelta(days=100))
    fields.pop("planned_partner_release_at")
    fields["modalities"] = list(covered.model.modalities)
    services.model_update(model=covered.model, actor=covered.owner, **fields)
    covered.model.refresh_from_db()
    assert covered.model.planned_public_release_at == fields["planned_public_release_at"]


def test_modalities_are_kept_in_one_order_without_repeats(world):
    model = make_model(world.owner, version="2.0", modalities=["code", "text", "code"])
    model.refresh_from_db()
    assert model.modalities == ["text", "code"]


def test_the_same_modalities_in_another_order_are_not_a_change_after_a_determination(covered):
    moved = timezone.now() + timedelta(days=100)
    services.model_update(model=covered.model, actor=covered.owner, modalities=["code", "text"],
                          planned_public_release_at=moved)
    covered.model.refresh_from_db()
    assert covered.model.planned_public_release_at == moved
    event = AuditEvent.objects.get(action="model.updated")
    assert set(event.data["changed"]) == {"planned_public_release_at"}


def test_the_description_stays_frozen_while_a_reconsideration_is_open(world):
    bring_to(world, "determined")
    services.request_reconsideration(review_request=world.request, actor=world.owner,
                                     reason="New evaluations.")
    with pytest.raises(ApplicationError) as refused:
        services.model_update(model=world.model, actor=world.owner, description="Rewritten.")
    assert refused.value.status == 409
    world.model.refresh_from_db()
    assert world.model.description == "A capable model."
