"""The demo's operators (exposures/demo.py): a rural hospital, a community bank and a local
utility, vetted, each with an inventory imported from its shipped SBOM or CSV; the hospital runs
an affected libretls and is told of the embargoed demo case before publication (terms
accepted, a fix, the window open); the bank (outside the range) and the utility are not told."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Organisation, User
from clearinghouse.models import Case, MemberProfile
from exposures import access
from exposures.models import Asset, Exposure, Inventory, TermsAcceptance


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media"
    settings.CLEARINGHOUSE_CSAF_ROOT = str(tmp_path / "csaf")
    call_command("seed_demo", password="demo-password", stdout=StringIO())


NAMES = {"hospital": "Cedar Valley Rural Hospital", "communitybank": "Harbor Community Bank",
         "townutility": "Millbrook Public Utilities"}


def test_the_demo_has_three_vetted_operators_each_with_its_imported_inventory(demo):
    for username, name in NAMES.items():
        user = User.objects.get(username=username)
        org = user.membership.organisation
        assert (org.name, org.kind) == (name, Organisation.Kind.OPERATOR)
        assert MemberProfile.objects.get(organisation=org).status == "vetted"
        inventory = Inventory.objects.get(organisation=org)
        assets = Asset.objects.filter(inventory=inventory, removed_at__isnull=True).count()
        assert 20 <= assets <= 60, (username, assets)
        assert inventory.imports.count() == 1
    formats = dict(Inventory.objects.values_list("organisation__name", "format"))
    assert formats == {NAMES["hospital"]: "cyclonedx_json", NAMES["communitybank"]: "spdx_json",
                       NAMES["townutility"]: "csv"}
    # The old demo operator is still there.
    assert User.objects.get(username="operator").membership.organisation.kind == "operator"


def test_the_hospital_hears_of_the_embargoed_case_before_publication_and_no_one_else(demo,
                                                                                    client):
    case = Case.objects.order_by("number")[1]
    assert case.public_at is None and case.status == Case.Status.OPEN
    assert case.embargo.status == "active"
    hospital, bank, utility = (User.objects.get(username=u) for u in NAMES)
    told = Exposure.objects.filter(vulnerability__case=case, released_at__isnull=False)
    assert set(told.values_list("organisation__name", flat=True)) == {NAMES["hospital"]}
    exposure = told.get()
    assert exposure.released_before_publication and exposure.active and exposure.priority
    assert exposure.due_at is not None
    assert not Exposure.objects.filter(vulnerability__case=case,
                                       organisation=bank.membership.organisation,
                                       active=True).exists()  # 3.9.1 is outside the range
    assert not Exposure.objects.filter(organisation=utility.membership.organisation,
                                       released_at__isnull=False).exists()
    assert set(TermsAcceptance.objects.values_list("organisation__name", flat=True)) == {
        NAMES["hospital"], NAMES["communitybank"]}
    # What each sees: the hospital its exposure, the others nothing of the case.
    assert list(access.exposures_visible_to(hospital).filter(vulnerability__case=case)) == [
        exposure]
    for other in (bank, utility):
        assert not access.exposures_visible_to(other).filter(vulnerability__case=case).exists()
    client.force_login(hospital)
    assert client.get(reverse("home")).status_code == 200


def test_the_demo_metrics_page_opens_for_the_coordinator(demo, client):
    client.force_login(User.objects.get(username="admin"))
    response = client.get(reverse("exposure_metrics"))
    assert response.status_code == 200
    assert "Cedar Valley" not in response.content.decode()


def test_each_demo_operator_finds_its_inventory_on_its_pages_and_the_office_the_counts(
        demo, client):
    for username in NAMES:
        user = User.objects.get(username=username)
        client.force_login(user)
        listed = client.get(reverse("inventory_list"))
        assert listed.status_code == 200
        (inventory,) = listed.context["inventories"].rows
        assert inventory.live_assets >= 20
        detail = client.get(reverse("inventory_detail", args=[inventory.pk]))
        assert detail.status_code == 200 and len(detail.context["assets"].rows) >= 20
        assert len(detail.context["imports"].rows) == 1
    client.force_login(User.objects.get(username="admin"))  # the demo's program office
    counts = client.get(reverse("inventory_counts"))
    assert counts.status_code == 200
    by_name = {o.name: o.inventory_count for o in counts.context["operators"].rows}
    assert all(by_name[name] == 1 for name in NAMES.values())
