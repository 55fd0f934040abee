"""The inventories' API as every role: an operator sees and changes only its own; another
operator, a vendor, a developer, anonymous get 404 (or an empty list); the program office sees
counts per operator only. Errors are JSON 400s; the asset list's queries are pinned."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exposures.models import Asset, Inventory
from tests.exposures.conftest import login, upload

pytestmark = pytest.mark.django_db

CSV = b"vendor,product,version\nVendor A,libfoo,1.2.0\nPrinterCo,LaserJet 9,2.1\n"


def test_an_operator_uploads_an_inventory_and_re_imports_it(client, iw):
    login(client, iw.operator)
    response = client.post("/api/v1/inventories/", {
        "name": "Ward 3", "file": SimpleUploadedFile("sbom.json",
                                                     upload("hospital.cdx.json").read())})
    assert response.status_code == 201, response.json()
    assert response.json()["added"] == 3
    inventory_id = response.json()["inventory"]
    again = client.post(f"/api/v1/inventories/{inventory_id}/imports/",
                        {"file": upload("hospital.cdx.json")})
    assert again.status_code == 201
    assert (again.json()["added"], again.json()["unchanged"]) == (0, 3)
    listed = client.get(f"/api/v1/inventories/{inventory_id}/imports/").json()
    assert listed["count"] == 2
    assert client.get("/api/v1/inventories/").json()["results"][0]["assets"] == 3


def test_a_bad_sbom_is_a_json_400_that_names_the_problem(client, iw):
    login(client, iw.operator)
    response = client.post("/api/v1/inventories/", {
        "name": "Bad", "file": SimpleUploadedFile("x.csv", b"vendor,product\nA,B\n")})
    assert response.status_code == 400
    assert "missing version" in response.json()["detail"]
    assert not Inventory.objects.exists()


def test_assets_are_decrypted_for_their_operator_and_patched(client, iw, made,
                                                             django_assert_max_num_queries):
    login(client, iw.operator)
    with django_assert_max_num_queries(8):
        body = client.get(f"/api/v1/assets/?inventory={made.pk}").json()
    assert sorted(a["name"] for a in body["results"]) == ["Infusion Pump-X", "barjs", "libfoo"]
    asset = body["results"][0]
    response = client.patch(f"/api/v1/assets/{asset['id']}/", {"exposure": "open"},
                            content_type="application/json")
    assert response.status_code == 200 and response.json()["exposure"] == "open"
    bad = client.patch(f"/api/v1/assets/{asset['id']}/", {"exposure": "huge"},
                       content_type="application/json")
    assert bad.status_code == 400


@pytest.mark.parametrize("value", [str(2**63), "9" * 30, "\u00b2", "-1", "x"])
def test_an_inventory_filter_no_id_can_hold_matches_nothing_rather_than_failing(client, iw,
                                                                                made, value):
    login(client, iw.operator)
    asset = Asset.objects.filter(inventory=made).first()
    listed = client.get("/api/v1/assets/", {"inventory": value})
    assert listed.status_code == 200 and listed.json()["results"] == []
    # A list's filters are not a read's: the asset is found whatever the query string says.
    read = client.get(f"/api/v1/assets/{asset.pk}/", {"inventory": value})
    assert read.status_code == 200 and read.json()["id"] == asset.pk


@pytest.mark.parametrize("role", ["other_operator", "unvetted", "vendor", "coordinator",
                                  "developer", "anonymous"])
def test_no_one_else_sees_an_inventory_or_its_assets(client, iw, made, role):
    user = {"developer": iw.w.owner, "anonymous": None}[role] if role in (
        "developer", "anonymous") else getattr(iw, role)
    login(client, user)
    asset = Asset.objects.first()
    expected = 404 if user is not None else 401
    for url in (f"/api/v1/inventories/{made.pk}/", f"/api/v1/inventories/{made.pk}/imports/",
                f"/api/v1/assets/{asset.pk}/"):
        assert client.get(url).status_code in (expected, 403), url
    assert client.patch(f"/api/v1/assets/{asset.pk}/", {"exposure": "open"},
                        content_type="application/json").status_code in (expected, 403)
    if user is not None:
        assert client.get("/api/v1/inventories/").json()["count"] == 0
        assert client.get("/api/v1/assets/").json()["count"] == 0
    asset.refresh_from_db()
    assert asset.exposure != "open"


def test_the_program_office_sees_counts_per_operator_and_no_names(client, iw, made):
    login(client, iw.coordinator)
    body = client.get("/api/v1/inventory-counts/").json()
    rows = {r["organisation_name"]: r for r in body["results"]}
    assert (rows["Water Works"]["inventories"], rows["Water Works"]["assets"]) == (1, 3)
    assert "libfoo" not in str(body) and "Main" not in str(body)
    login(client, iw.operator)
    assert client.get("/api/v1/inventory-counts/").json()["count"] == 0
