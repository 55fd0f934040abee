"""The disclosure world, on top of the clearinghouse's (tests/clearinghouse/conftest.py):

- the case of `cw.report` (libfoo, vers:pypi/<1.4.2), Vendor A confirmed and known affected,
  an embargo in force ending in `ends_in` (default 20 days: the 7-day window is not open yet);
- operator A: Water Works (cw.operator), runs libfoo 1.2.0 (affected) → one exposure row;
- operator B: Hillside Clinic (dw.operator_b), also runs libfoo 1.2.0 → its own exposure row;
- operator C: Prairie Savings (dw.operator_c), runs libfoo 1.5.0 (outside the range) → none.
Exposure rows are written as matching writes them (exposures/matching.py owns that): a purl
match, high confidence, the priority given.
"""

from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from accounts.models import Organisation
from clearinghouse import cases, embargo
from clearinghouse.models import Embargo
from exposures import keys
from exposures.models import Asset, Exposure, Inventory, TermsAcceptance
from tests.clearinghouse.conftest import build_cw, open_case, vet
from tests.factories import OrganisationFactory, UserFactory

K = Organisation.Kind


def asset_for(org, user, *, version: str, product: str = "libfoo") -> Asset:
    inventory, _ = Inventory.objects.get_or_create(
        organisation=org, name="Plant SBOM",
        defaults={"format": Inventory.Format.CYCLONEDX_JSON, "created_by": user})
    key = f"pkg:pypi/{product}"
    details = {"name": product, "vendor": "", "product": product, "version": version,
               "purl": f"{key}@{version}", "cpe": ""}
    return Asset.objects.create(
        inventory=inventory, organisation=org, identity=keys.blind(keys.IDENTITY, key),
        details_encrypted=keys.details_encrypt(details),
        purl_index=keys.blind(keys.PURL, key), exposure="open",
        mission_impact="mef_failure", safety_impact="critical")


def exposure_for(asset: Asset, statement, *, priority="immediate", version=1, **fields):
    defaults = dict(
        organisation=asset.organisation, asset=asset, vulnerability=statement.vulnerability,
        statement=statement, method=Exposure.Method.PURL,
        confidence=Exposure.Confidence.HIGH,
        match_detail=f"version {keys.details_decrypt(asset.details_encrypted)['version']} "
                     f"in {statement.version_range}",
        priority=priority, priority_inputs={"exploitation": "none"},
        priority_table="test", assessment_version=version,
        due_at=timezone.now() + timedelta(days=2))
    defaults.update(fields)
    return Exposure.objects.create(**defaults)


def accept_terms(org, user) -> TermsAcceptance:
    from exposures import services

    return services.terms_accept(actor=user)


def build_dw(w, *, ends_in=timedelta(days=20)) -> SimpleNamespace:
    cw = open_case(build_cw(w))
    cases.statement_update(statement=cw.statement, actor=cw.vendor, status="known_affected")
    proposal = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    for acceptance in proposal.acceptances.all():
        member = acceptance.organisation.memberships.first().user
        embargo.embargo_answer(embargo=proposal, actor=member, accept=True)
    Embargo.objects.filter(pk=proposal.pk).update(ends_at=timezone.now() + ends_in)
    cw.case.refresh_from_db()
    org_a = cw.operator.membership.organisation
    org_b = OrganisationFactory(name="Hillside Clinic", kind=K.OPERATOR)
    org_c = OrganisationFactory(name="Prairie Savings", kind=K.OPERATOR)
    operator_b = UserFactory(username="operatorb", organisation=org_b)
    operator_c = UserFactory(username="operatorc", organisation=org_c)
    operator_a2 = UserFactory(username="operator2", organisation=org_a)
    vet(cw.coordinator, operator_b)
    vet(cw.coordinator, operator_c)
    asset_a = asset_for(org_a, cw.operator, version="1.2.0")
    asset_b = asset_for(org_b, operator_b, version="1.2.0")
    asset_c = asset_for(org_c, operator_c, version="1.5.0")
    exposure_a = exposure_for(asset_a, cw.statement)
    exposure_b = exposure_for(asset_b, cw.statement, priority="scheduled")
    return SimpleNamespace(
        cw=cw, case=cw.case, statement=cw.statement, coordinator=cw.coordinator,
        vendor=cw.vendor, operator=cw.operator, operator_a2=operator_a2,
        operator_b=operator_b, operator_c=operator_c, org_a=org_a, org_b=org_b, org_c=org_c,
        asset_a=asset_a, asset_b=asset_b, asset_c=asset_c, exposure_a=exposure_a,
        exposure_b=exposure_b)


def add_fix(dw, category="vendor_fix"):
    return cases.remediation_add(
        statement=dw.statement, actor=dw.vendor, category=category,
        details="Upgrade to 1.4.2.", fixed_range="vers:pypi/>=1.4.2",
        url="https://vendor-a.example/libfoo-1.4.2.tar.gz", artifact_sha256="a" * 64,
        signature="-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----")


def open_window(dw, days_left=3) -> None:
    Embargo.objects.filter(case=dw.case).update(ends_at=timezone.now() + timedelta(
        days=days_left))


def all_actors(dw) -> dict:
    return {"operator": dw.operator, "operator_a2": dw.operator_a2, "operator_b": dw.operator_b,
            "operator_c": dw.operator_c, "vendor": dw.vendor, "coordinator": dw.coordinator,
            "finder": dw.cw.finder, "partner": dw.cw.partner, "anonymous": None}
