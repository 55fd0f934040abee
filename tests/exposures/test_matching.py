"""Matching an operator's inventory against a vulnerability's vendor statements: by package URL
and vers range, by CPE, by vendor/product (unconfirmed); fixed ranges, deactivation, removed
assets, idempotence, the hooks from the clearinghouse's services and the query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clearinghouse import cases
from clearinghouse.models import ProductStatement
from exposures import disclosure, matching
from exposures.models import Asset, Exposure
from tests.clearinghouse.conftest import case_world, cw  # noqa: F401 (fixtures)
from tests.exposures.matching_world import asset, inventory_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed(monkeypatch):
    """What matching handed to disclosure (the disclosure part's own tests cover what it does
    with them)."""
    calls: list[tuple[list[int], str]] = []
    original = disclosure.exposures_changed

    def record(*, exposure_ids, cause, **scope):
        if exposure_ids:  # the rows matching changed (a whole vulnerability's call has none)
            calls.append((list(exposure_ids), cause))
        return original(exposure_ids=exposure_ids, cause=cause, **scope)

    monkeypatch.setattr(disclosure, "exposures_changed", record)
    return calls


def refresh(case_world):  # noqa: F811
    return matching.refresh_vulnerability(vulnerability_id=case_world.statement.vulnerability_id,
                                          cause="test")


def test_an_asset_in_the_affected_range_gets_an_exposure_matched_by_package_url_with_high_confidence(  # noqa: E501
        case_world, handed):  # noqa: F811
    plant = inventory_of(case_world.operator)
    affected = asset(plant, purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    changed = refresh(case_world)
    exposure = Exposure.objects.get()
    assert (exposure.asset_id, exposure.organisation_id) == (affected.pk, plant.organisation_id)
    assert (exposure.method, exposure.confidence) == ("purl", "high")
    assert exposure.active and exposure.confirmed and exposure.status == "new"
    assert exposure.released_at is None  # a candidate: disclosure decides when it is told
    assert exposure.match_detail == "package URL, version in vers:pypi/<1.4.2"
    assert "1.2.0" not in exposure.match_detail  # the operator's version stays encrypted
    # open exposure, MEF failure x marginal = medium human impact, exploitation none, not
    # automatable -> scheduled (CERT/CC's table), due in 30 days
    assert exposure.priority == "scheduled"
    assert exposure.priority_inputs["human_impact"] == "medium"
    assert exposure.assessment_version == 1
    assert exposure.priority_table.startswith("ssvc-")
    assert exposure.due_at > timezone.now() + timezone.timedelta(days=29)
    assert changed == [exposure.pk] and handed == [([exposure.pk], "test")]


def test_an_asset_outside_the_range_or_of_another_product_gets_no_exposure(case_world):  # noqa: F811
    plant = inventory_of(case_world.operator)
    asset(plant, purl="pkg:pypi/libfoo@1.4.2", version="1.4.2")
    asset(plant, purl="pkg:pypi/libbar@1.0.0", version="1.0.0")
    assert refresh(case_world) == []
    assert not Exposure.objects.exists()


def test_versions_in_a_remediations_fixed_range_are_not_exposed(case_world):  # noqa: F811
    plant = inventory_of(case_world.operator)
    old = asset(plant, name="old", purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    backport = asset(plant, name="backport", purl="pkg:pypi/libfoo@1.3.7", version="1.3.7")
    cases.statement_update(statement=case_world.statement, actor=case_world.vendor,
                           status="fixed")
    cases.remediation_add(statement=case_world.statement, actor=case_world.vendor,
                          category="vendor_fix", details="Upgrade.",
                          fixed_range="vers:pypi/>=1.3.5|<1.4.0")
    refresh(case_world)
    assert set(Exposure.objects.filter(active=True).values_list("asset_id", flat=True)) == {
        old.pk}
    assert backport.pk not in set(Exposure.objects.values_list("asset_id", flat=True))


def test_a_cpe_naming_the_assets_version_matches_with_high_confidence_and_a_cpe_range_with_medium(  # noqa: E501
        case_world):  # noqa: F811
    statement = case_world.statement
    ProductStatement.objects.filter(pk=statement.pk).update(
        cpe="cpe:2.3:a:vendora:libfoo:1.2.0:*:*:*:*:*:*:*", purl="")
    plant = inventory_of(case_world.operator)
    exact = asset(plant, name="exact", cpe="cpe:2.3:a:vendora:libfoo:1.2.0:*:*:*:*:*:*:*",
                  version="1.2.0")
    ranged = asset(plant, name="ranged", cpe="cpe:2.3:a:vendora:libfoo:1.3.0:*:*:*:*:*:*:*",
                   version="1.3.0")
    outside = asset(plant, name="outside",
                    cpe="cpe:2.3:a:vendora:libfoo:2.0.0:*:*:*:*:*:*:*", version="2.0.0")
    refresh(case_world)
    got = {e.asset_id: (e.method, e.confidence) for e in Exposure.objects.all()}
    assert got == {exact.pk: ("cpe", "high"), ranged.pk: ("cpe", "medium")}
    assert outside.pk not in got


def test_a_vendor_and_product_name_match_is_low_confidence_and_waits_for_the_operators_confirmation(  # noqa: E501
        case_world):  # noqa: F811
    plant = inventory_of(case_world.operator)
    named = asset(plant, vendor="Vendor A, Inc.", product="LibFoo", version="1.0")
    asset(plant, name="newer", vendor="Vendor A", product="libfoo", version="9.0")
    refresh(case_world)
    exposure = Exposure.objects.get()
    assert exposure.asset_id == named.pk
    assert (exposure.method, exposure.confidence, exposure.confirmed) == ("product", "low",
                                                                          False)


def test_a_narrowed_range_deactivates_the_exposure_and_a_re_run_changes_nothing(
        case_world, handed):  # noqa: F811
    plant = inventory_of(case_world.operator)
    asset(plant, purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    refresh(case_world)
    assert refresh(case_world) == []  # idempotent: nothing changed, nothing handed on
    ProductStatement.objects.filter(pk=case_world.statement.pk).update(
        version_range="vers:pypi/<1.1.0")
    refresh(case_world)
    exposure = Exposure.objects.get()
    assert not exposure.active
    assert len(handed) == 2 and handed[1][0] == [exposure.pk]
    assert refresh(case_world) == []


def test_a_statement_saying_not_affected_deactivates_its_exposures(case_world):  # noqa: F811
    plant = inventory_of(case_world.operator)
    asset(plant, purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    refresh(case_world)
    cases.statement_update(statement=case_world.statement, actor=case_world.vendor,
                           status="known_not_affected", justification="component_not_present")
    refresh(case_world)
    assert not Exposure.objects.get().active


def test_under_investigation_without_a_range_matches_nothing(case_world):  # noqa: F811
    ProductStatement.objects.filter(pk=case_world.statement.pk).update(version_range="")
    asset(inventory_of(case_world.operator), purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    assert refresh(case_world) == []


def test_a_removed_asset_never_matches_and_its_exposure_becomes_inactive(case_world):  # noqa: F811
    plant = inventory_of(case_world.operator)
    removed = asset(plant, purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    refresh(case_world)
    Asset.objects.filter(pk=removed.pk).update(removed_at=timezone.now())
    matching.refresh_inventory(inventory_id=plant.pk)
    assert not Exposure.objects.get(asset=removed).active
    later = asset(plant, name="later", purl="pkg:pypi/libfoo@1.1.0", version="1.1.0")
    Asset.objects.filter(pk=later.pk).update(removed_at=timezone.now())
    refresh(case_world)
    assert not Exposure.objects.filter(asset=later).exists()


def test_an_asset_inputs_change_re_prioritises_its_exposure(case_world, handed):  # noqa: F811
    plant = inventory_of(case_world.operator)
    pump = asset(plant, purl="pkg:pypi/libfoo@1.2.0", version="1.2.0", exposure="small",
                 mission="degraded", safety="negligible")
    refresh(case_world)
    assert Exposure.objects.get().priority == "defer"
    Asset.objects.filter(pk=pump.pk).update(exposure="open", safety_impact="catastrophic")
    changed = matching.reprioritise_assets(asset_ids=[pump.pk])
    exposure = Exposure.objects.get()
    assert exposure.priority == "scheduled" and changed == [exposure.pk]
    assert matching.reprioritise_assets(asset_ids=[pump.pk]) == []


def test_the_clearinghouse_services_recompute_exposures_after_their_commit(
        case_world, django_capture_on_commit_callbacks):  # noqa: F811
    plant = inventory_of(case_world.operator)
    asset(plant, purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    with django_capture_on_commit_callbacks(execute=True):
        cases.statement_update(statement=case_world.statement, actor=case_world.vendor,
                               status="known_affected")
    assert Exposure.objects.get().active
    with django_capture_on_commit_callbacks(execute=True):
        cases.statement_update(statement=case_world.statement, actor=case_world.vendor,
                               status="known_not_affected",
                               justification="component_not_present")
    assert not Exposure.objects.get().active


def test_an_inventory_change_matches_that_inventory_against_open_cases(
        case_world, django_capture_on_commit_callbacks):  # noqa: F811
    plant = inventory_of(case_world.operator)
    asset(plant, purl="pkg:pypi/libfoo@1.2.0", version="1.2.0")
    with django_capture_on_commit_callbacks(execute=True):
        matching.inventory_changed(inventory_id=plant.pk)
    assert Exposure.objects.filter(asset__inventory=plant, active=True).count() == 1


def test_matching_takes_a_handful_of_queries_whatever_the_number_of_assets(case_world):  # noqa: F811
    plant = inventory_of(case_world.operator)
    for n in range(30):
        asset(plant, name=f"a{n}", purl=f"pkg:pypi/libfoo@1.{n % 6}.0", version=f"1.{n % 6}.0")
        asset(plant, name=f"b{n}", purl=f"pkg:pypi/other{n}@1.0.0", version="1.0.0")
    with CaptureQueriesContext(connection) as first:
        refresh(case_world)
    assert Exposure.objects.filter(active=True).count() == 25  # 1.0 .. 1.4, five each
    # lock, assessment (created), statements, fixed ranges, assets, rows; then disclosure's
    # three set queries (settled rows to reopen, groups due for release, urgent rows to tell)
    assert len(first) <= 19
    with CaptureQueriesContext(connection) as again:
        refresh(case_world)
    assert len(again) <= 10
