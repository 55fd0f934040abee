"""Importing inventories: every format parses; bad input is a clear 400 and writes nothing;
re-importing the same file changes nothing; an upgrade updates the asset; missing assets are
marked removed and come back; details are encrypted at rest."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from audit.models import AuditEvent
from exposures import inventory as inv
from exposures.keys import PURL, blind, details_decrypt
from exposures.models import Asset, Inventory, InventoryImport
from review_portal.errors import ApplicationError
from tests.exposures.conftest import upload

pytestmark = pytest.mark.django_db

CSV = b"vendor,product,version\nVendor A,libfoo,1.2.0\nPrinterCo,LaserJet 9,2.1\n"


def create(iw, name="fixtures/x", data=None, filename="inventory.csv", **kw):
    return inv.inventory_create(actor=iw.operator, name=kw.pop("inventory_name", "Main"),
                                uploaded_file=upload(filename, data), **kw)


def details(inventory):
    return sorted((details_decrypt(a.details_encrypted)["name"],
                   details_decrypt(a.details_encrypted)["version"])
                  for a in inventory.assets.filter(removed_at__isnull=True))


@pytest.mark.parametrize("filename,fmt,expected", [
    ("hospital.cdx.json", "cyclonedx_json",
     [("Infusion Pump-X", "4.1"), ("barjs", "2.0.0"), ("libfoo", "1.2.0")]),
    ("utility.cdx.xml", "cyclonedx_xml", [("RTU-500 firmware", "12.4"), ("libfoo", "1.3.0")]),
    ("bank.spdx.json", "spdx_json", [("Core Banking Server", "7.3"), ("libfoo", "1.2.0")]),
    ("bank.spdx", "spdx_tv", [("Core Banking Server", "7.3"), ("libfoo", "1.2.0")]),
    ("inventory.csv", "csv",
     [("LaserJet 9", "2.1"), ("Teller backend", "7.3"), ("libfoo", "1.2.0")]),
])
def test_each_format_is_detected_and_imported_into_encrypted_assets(iw, filename, fmt,
                                                                     expected):
    record = create(iw, filename=filename)
    inventory = record.inventory
    assert inventory.format == record.format == fmt
    assert (record.added, record.updated, record.unchanged, record.removed) == (
        len(expected), 0, 0, 0)
    assert details(inventory) == expected
    assert AuditEvent.objects.filter(action="inventory.imported",
                                     object_id=str(record.pk)).count() == 1


def test_package_urls_and_cpes_are_indexed_as_the_clearinghouse_normalises_them(iw):
    inventory = create(iw, filename="hospital.cdx.json").inventory
    libfoo = next(a for a in inventory.assets.all()
                  if details_decrypt(a.details_encrypted)["name"] == "libfoo")
    assert libfoo.purl_index == blind(PURL, "pkg:pypi/libfoo")
    pump = next(a for a in inventory.assets.all()
                if details_decrypt(a.details_encrypted)["name"] == "Infusion Pump-X")
    assert pump.cpe_index and pump.product_index and not pump.purl_index
    assert details_decrypt(pump.details_encrypted)["vendor"] == "MediPump Devices, Inc."


def test_re_importing_the_same_file_adds_updates_and_removes_nothing(iw):
    first = create(iw, filename="hospital.cdx.json")
    again = inv.inventory_import(actor=iw.operator, inventory=first.inventory,
                                 uploaded_file=upload("hospital.cdx.json"))
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)
    assert Asset.objects.filter(inventory=first.inventory).count() == 3
    assert InventoryImport.objects.filter(inventory=first.inventory).count() == 2


def test_an_upgrade_updates_the_asset_and_keeps_its_inputs(iw):
    record = create(iw, data=CSV)
    asset = record.inventory.assets.get(product_index__isnull=False,
                                        purl_index="", identity__isnull=False,
                                        pk=min(record.inventory.assets.values_list("pk",
                                                                                   flat=True)))
    inv.asset_inputs_set(actor=iw.operator, asset=asset, exposure="open")
    upgraded = CSV.replace(b"1.2.0", b"1.4.2")
    again = inv.inventory_import(actor=iw.operator, inventory=record.inventory,
                                 uploaded_file=upload("inventory.csv", upgraded))
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 1, 1, 0)
    asset.refresh_from_db()
    assert details_decrypt(asset.details_encrypted)["version"] == "1.4.2"
    assert asset.exposure == "open"


def test_an_asset_missing_from_an_import_is_removed_and_comes_back(iw):
    record = create(iw, data=CSV)
    fewer = b"vendor,product,version\nVendor A,libfoo,1.2.0\n"
    gone = inv.inventory_import(actor=iw.operator, inventory=record.inventory,
                                uploaded_file=upload("inventory.csv", fewer))
    assert (gone.added, gone.updated, gone.unchanged, gone.removed) == (0, 0, 1, 1)
    assert record.inventory.assets.filter(removed_at__isnull=False).count() == 1
    back = inv.inventory_import(actor=iw.operator, inventory=record.inventory,
                                uploaded_file=upload("inventory.csv", CSV))
    assert (back.added, back.updated, back.unchanged, back.removed) == (0, 1, 1, 0)
    assert not record.inventory.assets.filter(removed_at__isnull=False).exists()
    assert record.inventory.assets.count() == 2


def test_two_versions_of_one_product_in_one_file_are_two_assets(iw):
    data = CSV + b"Vendor A,libfoo,2.0.0\nVendor A,libfoo,2.0.0\n"
    record = create(iw, data=data)
    assert record.added == 3
    assert details(record.inventory).count(("libfoo", "2.0.0")) == 1
    again = inv.inventory_import(actor=iw.operator, inventory=record.inventory,
                                 uploaded_file=upload("inventory.csv", data))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)


def test_the_database_holds_no_product_name_or_version(iw):
    create(iw, filename="hospital.cdx.json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM exposures_asset")
        rows = repr(cursor.fetchall())
    for secret in ("libfoo", "MediPump", "Infusion", "barjs", "4.1", "pkg:"):
        assert secret not in rows


BAD = [
    ("inventory.csv", b"\xff\xfe\x00binary", "not UTF-8"),
    ("inventory.csv", b"vendor,product\nA,B\n", "missing version"),
    ("inventory.csv", b"vendor,product,version,colour\nA,B,1,red\n", "unknown column 'colour'"),
    ("inventory.csv", b"vendor,product,version\nA,B,1\n,C,2\n", "Line 3"),
    ("inventory.csv", b"vendor,product,version\nA,B,1,extra\n", "Line 2"),
    ("inventory.csv", b"vendor,product,version,purl\nA,B,1,pkg:\n",
     "Line 2 of the CSV: The package URL"),
    ("inventory.csv", b"vendor,product,version,cpe\nA,B,1,cpe:2.3:a\n", "CPE"),
    ("x.json", b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": "
               b"[{\"type\": \"spaceship\", \"name\": \"x\"}]}", "components[0].type"),
    ("x.json", b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"9.9\"}", "specVersion"),
    ("x.json", b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": "
               b"[{\"type\": \"library\", \"name\": \"x\", \"purl\": \"nonsense\"}]}",
     "Component 'x'"),
    ("x.json", b"{\"a\": 1}", "neither a CycloneDX BOM"),
    ("x.json", b"{\"bomFormat\": ", "not valid JSON"),
    ("x.xml", b"<?xml version=\"1.0\"?><!DOCTYPE bom [<!ENTITY x \"y\">]>"
              b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">&x;</bom>", "entities"),
    ("x.xml", b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><components>", "does not parse"),
    ("x.xml", b"<html/>", "not a CycloneDX BOM"),
    ("x.xml", b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><components><component>"
              b"<version>1</version></component></components></bom>",
     "line 1: Element 'version': This element is not expected. Expected is one of ( supplier"),
    # The XML schema (lxml, through cyclonedx-python-lib's validator): a type it does not know.
    ("x.xml", b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><components>"
              b"<component type=\"spaceship\"><name>x</name></component></components></bom>",
     "spaceship"),
    ("x.spdx", b"SPDXVersion: SPDX-2.3\nPackageName: x\nGarbage line\n", "does not parse"),
    ("x.json", b"{\"spdxVersion\": \"SPDX-2.3\", \"packages\": [{\"name\": \"x\"}]}",
     "SPDX document does not parse"),
    ("x.json", b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": []}",
     "no components"),
]


@pytest.mark.parametrize("filename,data,message", BAD)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(iw, filename, data,
                                                                       message):
    with pytest.raises(ApplicationError) as refused:
        create(iw, filename=filename, data=data)
    assert refused.value.status == 400 and message in refused.value.message
    assert not Inventory.objects.exists() and not Asset.objects.exists()


def test_a_failed_re_import_leaves_the_inventory_as_it_was(iw):
    record = create(iw, data=CSV)
    with pytest.raises(ApplicationError):
        inv.inventory_import(actor=iw.operator, inventory=record.inventory, uploaded_file=upload(
            "inventory.csv", CSV + b"Vendor B,thing,1\n,broken,2\n"))
    assert InventoryImport.objects.count() == 1 and Asset.objects.count() == 2


@override_settings(INVENTORY_MAX_UPLOAD_BYTES=1024)
def test_a_file_over_the_size_limit_is_a_413(iw):
    with pytest.raises(ApplicationError) as refused:
        create(iw, data=CSV + b"A,b,1\n" * 300)
    assert refused.value.status == 413


@override_settings(INVENTORY_MAX_ASSETS=1)
def test_a_file_over_the_asset_cap_is_refused(iw):
    with pytest.raises(ApplicationError, match="at most 1"):
        create(iw, data=CSV)


def test_only_a_vetted_operators_members_import(iw):
    record = create(iw, data=CSV)
    for actor in (iw.unvetted, iw.vendor, iw.coordinator, iw.w.owner):
        with pytest.raises(PermissionDenied):
            inv.inventory_create(actor=actor, name="X", uploaded_file=upload("x.csv", CSV))
    with pytest.raises(PermissionDenied):
        inv.inventory_import(actor=iw.other_operator, inventory=record.inventory,
                             uploaded_file=upload("x.csv", CSV))


def test_a_second_inventory_of_the_same_name_is_a_409(iw):
    create(iw, data=CSV)
    with pytest.raises(ApplicationError) as refused:
        create(iw, data=CSV)
    assert refused.value.status == 409


def test_bulk_inputs_set_defaults_and_every_live_asset(iw):
    inventory = create(iw, data=CSV).inventory
    changed = inv.inventory_inputs_set(actor=iw.operator, inventory=inventory, exposure="open",
                                       mission_impact="mission_failure",
                                       safety_impact="catastrophic")
    assert changed == 2
    assert set(inventory.assets.values_list("exposure", "mission_impact", "safety_impact")) == {
        ("open", "mission_failure", "catastrophic")}
    inventory.refresh_from_db()
    assert inventory.default_exposure == "open"
    with pytest.raises(ApplicationError):
        inv.asset_inputs_set(actor=iw.operator, asset=inventory.assets.first(), exposure="huge")


def test_reindex_rebuilds_the_indexes_after_the_key_changes(iw):
    inventory = create(iw, filename="hospital.cdx.json").inventory
    before = set(inventory.assets.values_list("identity", "purl_index", "cpe_index"))
    with override_settings(INVENTORY_INDEX_KEY="a-new-index-key"):
        call_command("inventory_reindex", verbosity=0)
        after = set(inventory.assets.values_list("identity", "purl_index", "cpe_index"))
        assert after.isdisjoint(before)
        again = inv.inventory_import(actor=iw.operator, inventory=inventory,
                                     uploaded_file=upload("hospital.cdx.json"))
        assert (again.added, again.unchanged) == (0, 3)
    assert AuditEvent.objects.filter(action="inventory.reindexed").count() == 1
