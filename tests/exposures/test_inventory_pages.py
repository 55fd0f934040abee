"""The inventories' pages as every role: the owning operator lists, creates, filters,
re-imports and edits SSVC inputs; another operator, an unvetted operator, a vendor, a
developer, a reviewer and a partner get 404; anonymous users are sent to log in; the program
office sees counts per operator only (404 on an inventory or an asset). Refused uploads are
shown on their forms (400), never a 500; the detail page's queries do not grow with the
number of assets."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from exposures import inventory as inv
from exposures.models import Asset, Inventory, InventoryImport
from tests.exposures.conftest import login, upload

pytestmark = pytest.mark.django_db


def pages(inventory) -> dict:
    asset = Asset.objects.filter(inventory=inventory).first()
    return {"list": reverse("inventory_list"), "create": reverse("inventory_create"),
            "detail": reverse("inventory_detail", args=[inventory.pk]),
            "asset": reverse("asset_edit", args=[asset.pk]),
            "counts": reverse("inventory_counts")}


def csv_file(rows: int, name="inv.csv") -> SimpleUploadedFile:
    body = "vendor,product,version\n" + "".join(
        f"Vendor {i},product-{i},1.{i}\n" for i in range(rows))
    return SimpleUploadedFile(name, body.encode())


def test_anonymous_users_are_sent_to_log_in_from_every_page(client, made):
    for url in pages(made).values():
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for url in (reverse("inventory_upload", args=[made.pk]),
                reverse("inventory_inputs", args=[made.pk])):
        response = client.post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["unvetted", "vendor", "developer", "reviewer", "partner"])
def test_no_one_but_a_vetted_operator_reaches_the_inventory_pages(client, iw, made, who):
    user = {"unvetted": iw.unvetted, "vendor": iw.vendor, "developer": iw.w.owner,
            "reviewer": iw.w.reviewer, "partner": iw.w.partner}[who]
    login(client, user)
    urls = pages(made)
    for key in ("list", "create", "detail", "asset", "counts"):
        assert client.get(urls[key]).status_code == 404, key
    assert client.post(urls["create"], {"name": "Mine", "file": upload("hospital.cdx.json"),
                                        "default_exposure": "open",
                                        "default_mission_impact": "degraded",
                                        "default_safety_impact": "negligible"}
                       ).status_code == 404
    _cannot_touch(client, made)


def test_another_operator_sees_its_own_list_and_404_on_this_operators_inventory(
        client, iw, made):
    login(client, iw.other_operator)
    urls = pages(made)
    listed = client.get(urls["list"])
    assert listed.status_code == 200 and list(listed.context["inventories"].rows) == []
    assert "Main" not in listed.content.decode()
    assert client.get(urls["create"]).status_code == 200
    for key in ("detail", "asset", "counts"):
        assert client.get(urls[key]).status_code == 404, key
    _cannot_touch(client, made)


def _cannot_touch(client, made):
    urls = pages(made)
    before = Asset.objects.count(), InventoryImport.objects.count(), AuditEvent.objects.count()
    asset = Asset.objects.filter(inventory=made).first()
    inputs = {"exposure": "open", "mission_impact": "degraded", "safety_impact": "negligible"}
    assert client.post(reverse("inventory_upload", args=[made.pk]),
                       {"file": upload("inventory.csv")}).status_code == 404
    assert client.post(reverse("inventory_inputs", args=[made.pk]), inputs).status_code == 404
    assert client.post(urls["asset"], inputs).status_code == 404
    assert (Asset.objects.count(), InventoryImport.objects.count(),
            AuditEvent.objects.count()) == before
    asset.refresh_from_db()
    made.refresh_from_db()
    assert asset.exposure != "open" and made.default_exposure != "open"


def test_the_program_office_sees_counts_per_operator_and_never_an_asset(client, iw, made):
    inv.inventory_create(actor=iw.other_operator, name="Branches",
                         uploaded_file=upload("bank.spdx.json"))
    login(client, iw.coordinator)
    urls = pages(made)
    response = client.get(urls["counts"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Water Works" in html and "Rural Bank" in html
    row = response.context["operators"].rows
    counts = {o.name: (o.inventory_count, o.asset_count) for o in row}
    assert counts["Water Works"] == (1, 3)
    assert counts["Rural Bank"][0] == 1
    for secret in ("Main", "Branches", "libfoo", "barjs", "Infusion"):
        assert secret not in html
    for key in ("list", "create", "detail", "asset"):
        assert client.get(urls[key]).status_code == 404, key


def test_an_operator_lists_its_inventories_with_asset_counts_and_last_import(client, iw, made):
    inv.inventory_create(actor=iw.other_operator, name="Branches",
                         uploaded_file=upload("bank.spdx.json"))
    login(client, iw.operator)
    response = client.get(reverse("inventory_list"))
    assert response.status_code == 200
    rows = response.context["inventories"].rows
    assert [(i.name, i.live_assets) for i in rows] == [("Main", 3)]
    assert "Branches" not in response.content.decode()


def test_an_operator_creates_an_inventory_from_an_sbom_with_its_ssvc_defaults(client, iw):
    login(client, iw.operator)
    assert client.get(reverse("inventory_create")).status_code == 200
    response = client.post(reverse("inventory_create"), {
        "name": "Ward 3", "file": upload("hospital.cdx.json"), "format": "",
        "default_exposure": "open", "default_mission_impact": "mission_failure",
        "default_safety_impact": "catastrophic"})
    inventory = Inventory.objects.get(name="Ward 3")
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory_detail", args=[inventory.pk])
    assert inventory.organisation == iw.org
    assets = Asset.objects.filter(inventory=inventory)
    assert assets.count() == 3
    assert set(assets.values_list("exposure", "mission_impact", "safety_impact")) == {
        ("open", "mission_failure", "catastrophic")}
    assert AuditEvent.objects.filter(action="inventory.created").count() == 1
    assert AuditEvent.objects.filter(action="inventory.imported").count() == 1
    page = client.get(response["Location"])
    names = sorted(a.details["name"] for a in page.context["assets"].rows)
    assert names == ["Infusion Pump-X", "barjs", "libfoo"]


@pytest.mark.parametrize("filename,data,message", [
    ("bad.cdx.json", b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": 7}',
     "does not follow its schema"),
    ("empty.csv", b"", "The file is empty."),
    ("latin1.csv", "vendor,product,version\nCaf\u00e9 Ltd,x,1\n".encode("latin-1"),
     "not UTF-8"),
    ("short.csv", b"vendor,product\nA,B\n", "missing version"),
])
def test_a_refused_upload_is_shown_on_the_form_and_writes_nothing(client, iw, made, filename,
                                                                  data, message):
    login(client, iw.operator)
    before = Asset.objects.count(), InventoryImport.objects.count(), AuditEvent.objects.count()
    created = client.post(reverse("inventory_create"), {
        "name": "Other", "file": SimpleUploadedFile(filename, data),
        "default_exposure": "open", "default_mission_impact": "degraded",
        "default_safety_impact": "negligible"})
    assert created.status_code == 400
    assert message in " ".join(created.context["form"].errors["file"])
    assert message in created.content.decode().replace("&quot;", '"')
    reimported = client.post(reverse("inventory_upload", args=[made.pk]),
                             {"file": SimpleUploadedFile(filename, data)})
    assert reimported.status_code == 400
    assert message in " ".join(reimported.context["upload_form"].errors["file"])
    assert not Inventory.objects.filter(name="Other").exists()
    assert (Asset.objects.count(), InventoryImport.objects.count(),
            AuditEvent.objects.count()) == before


def test_a_name_already_taken_and_a_missing_file_are_shown_on_the_form(client, iw, made):
    login(client, iw.operator)
    taken = client.post(reverse("inventory_create"), {
        "name": "Main", "file": upload("inventory.csv"), "default_exposure": "open",
        "default_mission_impact": "degraded", "default_safety_impact": "negligible"})
    assert taken.status_code == 400
    assert "already has an inventory" in " ".join(taken.context["form"].errors["name"])
    missing = client.post(reverse("inventory_upload", args=[made.pk]), {})
    assert missing.status_code == 400 and missing.context["upload_form"].errors["file"]
    assert Inventory.objects.count() == 1


def test_re_importing_the_same_file_adds_no_duplicate_and_is_in_the_history(client, iw, made):
    login(client, iw.operator)
    response = client.post(reverse("inventory_upload", args=[made.pk]),
                           {"file": upload("hospital.cdx.json")})
    assert response.status_code == 302
    assert Asset.objects.filter(inventory=made).count() == 3
    latest = InventoryImport.objects.filter(inventory=made).first()
    assert (latest.added, latest.unchanged, latest.removed) == (0, 3, 0)
    assert AuditEvent.objects.filter(action="inventory.imported").count() == 2
    page = client.get(reverse("inventory_detail", args=[made.pk]))
    assert len(page.context["imports"].rows) == 2


def test_the_asset_filter_matches_names_vendors_and_products_and_shows_removed_ones(
        client, iw):
    inventory = inv.inventory_create(actor=iw.operator, name="Plant",
                                     uploaded_file=csv_file(3)).inventory
    inv.inventory_import(actor=iw.operator, inventory=inventory, uploaded_file=csv_file(2))
    login(client, iw.operator)
    url = reverse("inventory_detail", args=[inventory.pk])

    def names(params):
        response = client.get(url, params)
        assert response.status_code == 200
        return sorted(a.details["product"] for a in response.context["assets"].rows)

    assert names({}) == ["product-0", "product-1"]
    assert names({"q": "PRODUCT-1"}) == ["product-1"]
    assert names({"q": "vendor 0"}) == ["product-0"]
    assert names({"q": "nothing like it"}) == []
    assert names({"removed": "1"}) == ["product-2"]
    assert names({"removed": "1", "q": "product-0"}) == []


@pytest.mark.parametrize("page", ["999999999", "0", "abc", "1" * 30, "-1"])
def test_a_page_number_no_list_has_is_a_404_not_a_500(client, iw, made, page):
    login(client, iw.operator)
    url = reverse("inventory_detail", args=[made.pk])
    assert client.get(url, {"page": page}).status_code == 404
    assert client.get(url, {"history_page": page}).status_code == 404
    assert client.get(url, {"page": page, "q": "lib"}).status_code == 404
    assert client.get(reverse("inventory_list"), {"page": page}).status_code == 404
    login(client, iw.coordinator)
    assert client.get(reverse("inventory_counts"), {"page": page}).status_code == 404


def test_an_operator_sets_the_ssvc_inputs_of_one_asset(client, iw, made):
    login(client, iw.operator)
    asset = Asset.objects.filter(inventory=made).order_by("pk").first()
    url = reverse("asset_edit", args=[asset.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"exposure": "open", "mission_impact": "mission_failure",
                                 "safety_impact": "catastrophic"})
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.exposure, asset.mission_impact, asset.safety_impact) == (
        "open", "mission_failure", "catastrophic")
    event = AuditEvent.objects.get(action="inventory.asset_inputs_changed")
    assert event.data["to"]["exposure"] == "open"
    others = Asset.objects.filter(inventory=made).exclude(pk=asset.pk)
    assert not others.filter(exposure="open").exists()
    bad = client.post(url, {"exposure": "huge", "mission_impact": "degraded",
                            "safety_impact": "negligible"})
    assert bad.status_code == 400 and bad.context["form"].errors["exposure"]


def test_setting_the_inventory_inputs_asks_for_confirmation_and_changes_nothing_until_then(
        client, iw, made):
    login(client, iw.operator)
    before = list(Asset.objects.filter(inventory=made).values_list(
        "exposure", "mission_impact", "safety_impact"))
    response = client.post(reverse("inventory_inputs", args=[made.pk]), {
        "exposure": "small", "mission_impact": "degraded", "safety_impact": "negligible"})
    html = response.content.decode()
    assert response.status_code == 200 and "Confirm: Set the SSVC inputs" in html
    assert 'name="confirm" value="yes"' in html and "3 listed assets hold other inputs" in html
    assert list(Asset.objects.filter(inventory=made).values_list(
        "exposure", "mission_impact", "safety_impact")) == before
    assert not AuditEvent.objects.filter(action="inventory.inputs_changed").exists()


def test_an_operator_sets_the_inventory_inputs_on_every_listed_asset(client, iw, made):
    login(client, iw.operator)
    response = client.post(reverse("inventory_inputs", args=[made.pk]), {
        "exposure": "small", "mission_impact": "degraded", "safety_impact": "negligible",
        "confirm": "yes"})
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.default_exposure, made.default_mission_impact,
            made.default_safety_impact) == ("small", "degraded", "negligible")
    assert set(Asset.objects.filter(inventory=made).values_list(
        "exposure", "mission_impact", "safety_impact")) == {("small", "degraded", "negligible")}
    event = AuditEvent.objects.get(action="inventory.inputs_changed")
    assert event.data["assets_changed"] == 3
    bad = client.post(reverse("inventory_inputs", args=[made.pk]), {"exposure": "small"})
    assert bad.status_code == 400 and bad.context["inputs_form"].errors["mission_impact"]


def test_a_colleague_of_the_same_operator_reaches_the_inventory(client, iw, made):
    login(client, iw.colleague)
    # The colleague's organisation is vetted (iw vets the operator's organisation).
    response = client.get(reverse("inventory_detail", args=[made.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("q", ["", "product"])
def test_the_inventory_page_costs_as_many_queries_for_50_assets_as_for_5(
        client, iw, django_assert_max_num_queries, django_assert_num_queries, q):
    small = inv.inventory_create(actor=iw.operator, name="Small",
                                 uploaded_file=csv_file(5)).inventory
    large = inv.inventory_create(actor=iw.operator, name="Large",
                                 uploaded_file=csv_file(50, "large.csv")).inventory
    login(client, iw.operator)
    client.get(reverse("inventory_detail", args=[small.pk]))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("inventory_detail", args=[small.pk]),
                          {"q": q}).status_code == 200
    assert len(few) <= 16
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("inventory_detail", args=[large.pk]), {"q": q})
    assert len(response.context["assets"].rows) == 50


def test_the_list_and_counts_pages_keep_their_queries_whatever_the_number_of_inventories(
        client, iw, django_assert_max_num_queries):
    for i in range(12):
        inv.inventory_create(actor=iw.operator, name=f"Site {i}", uploaded_file=csv_file(2))
    login(client, iw.operator)
    with django_assert_max_num_queries(12):
        assert len(client.get(reverse("inventory_list")).context["inventories"].rows) == 12
    login(client, iw.coordinator)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("inventory_counts")).status_code == 200
