"""The coordinator's SSVC assessment: who may set it, one version per change, re-prioritised
exposures handed once to disclosure, exploitation raised by case states, query counts."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from clearinghouse import cases
from exposures import assessment, disclosure, matching
from exposures.models import Exposure, VulnerabilityAssessment
from review_portal.errors import ApplicationError
from tests.clearinghouse.conftest import case_world, cw  # noqa: F401 (fixtures)
from tests.exposures.matching_world import asset, inventory_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed(monkeypatch):
    calls: list[tuple[list[int], str]] = []
    original = disclosure.exposures_changed

    def record(*, exposure_ids, cause, **scope):
        if exposure_ids:  # the rows matching changed (a whole vulnerability's call has none)
            calls.append((list(exposure_ids), cause))
        return original(exposure_ids=exposure_ids, cause=cause, **scope)

    monkeypatch.setattr(disclosure, "exposures_changed", record)
    return calls


def _vulnerability(case_world):  # noqa: F811
    return case_world.statement.vulnerability


def test_the_assessment_starts_from_the_reports_exploitation(case_world):  # noqa: F811
    vulnerability = _vulnerability(case_world)
    vulnerability.exploitation = "poc"
    vulnerability.save()
    got = assessment.assessment_for(vulnerability)
    assert (got.exploitation, got.automatable, got.version) == ("public_poc", "no", 1)


@pytest.mark.parametrize("who", ["finder", "vendor", "other_vendor", "operator", "partner",
                                 "anonymous"])
def test_only_the_coordinator_sets_an_assessment(case_world, who):  # noqa: F811
    actor = {"finder": case_world.finder, "vendor": case_world.vendor,
             "other_vendor": case_world.other_vendor, "operator": case_world.operator,
             "partner": case_world.partner, "anonymous": AnonymousUser()}[who]
    with pytest.raises(PermissionDenied):
        assessment.assessment_set(vulnerability=_vulnerability(case_world), actor=actor,
                                  exploitation="active", automatable="yes", reason="Seen.")
    assert not VulnerabilityAssessment.objects.filter(version__gt=1).exists()
    assert not AuditEvent.objects.filter(action="exposure.assessment_set").exists()


def test_bad_values_and_a_missing_reason_are_refused_with_nothing_written(case_world):  # noqa: F811
    for values, field in (({"exploitation": "poc", "automatable": "no", "reason": "x"},
                           "exploitation"),
                          ({"exploitation": "active", "automatable": "maybe", "reason": "x"},
                           "automatable"),
                          ({"exploitation": "active", "automatable": "no", "reason": " "},
                           "reason")):
        with pytest.raises(ApplicationError) as refused:
            assessment.assessment_set(vulnerability=_vulnerability(case_world),
                                      actor=case_world.coordinator, **values)
        assert refused.value.field == field
    assert not AuditEvent.objects.filter(action="exposure.assessment_set").exists()


def test_an_exploitation_change_bumps_the_version_once_and_hands_each_exposure_on_once(
        case_world, handed, django_capture_on_commit_callbacks):  # noqa: F811
    plant = inventory_of(case_world.operator)
    asset(plant, name="a", purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    asset(plant, name="b", purl="pkg:pypi/libfoo@1.3.0", version="1.3.0")
    matching.refresh_vulnerability(vulnerability_id=_vulnerability(case_world).pk)
    handed.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assessment.assessment_set(vulnerability=_vulnerability(case_world),
                                  actor=case_world.coordinator, exploitation="active",
                                  automatable="yes", reason="Exploited in the wild.")
    got = VulnerabilityAssessment.objects.get()
    assert got.version == 2
    rows = list(Exposure.objects.order_by("pk"))
    # open x active x automatable x medium human impact -> out-of-cycle
    assert {(e.priority, e.assessment_version) for e in rows} == {("out_of_cycle", 2)}
    assert handed == [([e.pk for e in rows], "assessment_changed")]
    event = AuditEvent.objects.get(action="exposure.assessment_set")
    assert event.data["to"] == {"exploitation": "active", "automatable": "yes"}
    # The same values again: no new version, no event, nothing handed on.
    with django_capture_on_commit_callbacks(execute=True):
        assessment.assessment_set(vulnerability=_vulnerability(case_world),
                                  actor=case_world.coordinator, exploitation="active",
                                  automatable="yes", reason="Still.")
    assert VulnerabilityAssessment.objects.get().version == 2
    assert len(handed) == 1


def test_a_public_exploit_raises_exploitation_to_public_poc_and_attacks_to_active_never_lower(
        case_world):  # noqa: F811
    cases.case_state_set(case=case_world.case, actor=case_world.coordinator,
                         field="exploit_public_at")
    got = VulnerabilityAssessment.objects.get()
    assert (got.exploitation, got.version) == ("public_poc", 2)
    cases.case_state_set(case=case_world.case, actor=case_world.coordinator,
                         field="attacks_observed_at")
    got.refresh_from_db()
    assert (got.exploitation, got.version) == ("active", 3)
    assert AuditEvent.objects.filter(action="exposure.assessment_raised").count() == 2


def test_attacks_observed_when_already_active_changes_nothing(case_world):  # noqa: F811
    assessment.assessment_set(vulnerability=_vulnerability(case_world),
                              actor=case_world.coordinator, exploitation="active",
                              automatable="no", reason="Seen.")
    cases.case_state_set(case=case_world.case, actor=case_world.coordinator,
                         field="attacks_observed_at")
    assert VulnerabilityAssessment.objects.get().version == 2
    assert not AuditEvent.objects.filter(action="exposure.assessment_raised").exists()


def test_setting_an_assessment_takes_a_bounded_number_of_queries(
        case_world, django_assert_max_num_queries):  # noqa: F811
    assessment.assessment_for(_vulnerability(case_world))
    with django_assert_max_num_queries(12):
        assessment.assessment_set(vulnerability=_vulnerability(case_world),
                                  actor=case_world.coordinator, exploitation="public_poc",
                                  automatable="no", reason="A PoC is on a mailing list.")
