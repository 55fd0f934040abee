"""Rubric versions: the default one ships active; admins create, edit while unused, activate;
a version any review uses is frozen (reviews.services.rubric_*)."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from review_portal.errors import ApplicationError
from reviews.defaults import rubric_ensure_default
from reviews.models import RubricVersion
from reviews.selectors import rubric_active
from reviews.services import review_save, rubric_activate, rubric_create, rubric_update
from tests.reviews.conftest import draft_review

DIMS = [{"key": "exploit_development", "name": "Exploit development",
         "guidance": "0 none … 4 expert"},
        {"key": "persistence", "name": "Persistence", "guidance": "0 none … 4 expert"}]


def test_the_default_rubric_ships_active_with_the_four_dimensions(db):
    rubric_ensure_default()  # in case a transactional test emptied the database
    rubric = rubric_active()
    assert rubric.number == 1
    assert rubric.dimension_keys == ["vulnerability_discovery", "exploit_development",
                                     "attack_automation", "uplift_to_novices"]
    assert all(d["guidance"] for d in rubric.dimensions)


def test_an_admin_creates_and_activates_a_version_and_both_are_audited(world):
    rubric = rubric_create(actor=world.admin, name=" Short ", dimensions=DIMS, activate=True)
    assert (rubric.number, rubric.name, rubric.is_active) == (2, "Short", True)
    assert rubric_active() == rubric
    assert RubricVersion.objects.filter(is_active=True).count() == 1
    actions = list(AuditEvent.objects.filter(object_type="reviews.rubricversion")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["rubric.created", "rubric.activated"]
    rubric_activate(rubric=RubricVersion.objects.get(number=1), actor=world.admin)
    assert rubric_active().number == 1


@pytest.mark.parametrize(("dimensions", "message"), [
    ([], "at least one dimension"),
    ([{"key": "Bad Key", "name": "x", "guidance": "y"}], "lower-case"),
    ([{"key": "a", "name": "x", "guidance": "y"}, {"key": "a", "name": "z", "guidance": "w"}],
     "used twice"),
    ([{"key": "a", "name": "", "guidance": "y"}], "name"),
    ([{"key": "a", "name": "x", "guidance": " "}], "guidance"),
    ("dims", "at least one dimension"),
])
def test_bad_dimensions_are_refused_and_nothing_is_written(world, dimensions, message):
    before = (RubricVersion.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ApplicationError) as excinfo:
        rubric_create(actor=world.admin, name="Bad", dimensions=dimensions)
    assert message in excinfo.value.message
    assert (RubricVersion.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("who", ["owner", "reviewer", "partner"])
def test_only_program_admins_define_rubrics(world, who):
    with pytest.raises(PermissionDenied):
        rubric_create(actor=world.actors()[who], name="Mine", dimensions=DIMS)
    with pytest.raises(PermissionDenied):
        rubric_update(rubric=rubric_active(), actor=world.actors()[who], name="Mine")
    with pytest.raises(PermissionDenied):
        rubric_activate(rubric=rubric_active(), actor=world.actors()[who])
    assert RubricVersion.objects.count() == 1


def test_an_unused_version_is_edited(world):
    rubric = rubric_create(actor=world.admin, name="Draft", dimensions=DIMS)
    rubric_update(rubric=rubric, actor=world.admin, dimensions=DIMS[:1])
    rubric.refresh_from_db()
    assert rubric.dimension_keys == ["exploit_development"]
    assert AuditEvent.objects.get(action="rubric.updated").data["changed"] == ["dimensions"]


def test_a_version_used_by_a_draft_review_cannot_be_edited(panel):
    draft_review(panel.request, panel.member)
    rubric = rubric_active()
    with pytest.raises(ApplicationError) as excinfo:
        rubric_update(rubric=rubric, actor=panel.admin, name="Renamed", dimensions=DIMS)
    assert excinfo.value.status == 409
    rubric.refresh_from_db()
    assert rubric.name == "Cyber capability rubric"
    assert len(rubric.dimensions) == 4
    assert not AuditEvent.objects.filter(action="rubric.updated").exists()


def test_a_review_keeps_its_rubric_when_another_is_activated(panel):
    review = draft_review(panel.request, panel.member)
    rubric_create(actor=panel.admin, name="New", dimensions=DIMS, activate=True)
    review = review_save(review_request=panel.request, actor=panel.member,
                         scores={"uplift_to_novices": 4})
    assert review.rubric_version.number == 1
    fresh = review_save(review_request=panel.request, actor=panel.lead,
                        scores={"persistence": 1})
    assert fresh.rubric_version.number == 2
