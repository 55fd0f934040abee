"""Helpers of matching's tests: an operator's inventory and assets written with the ORM and the
keys module (the import service is the inventory part's), on top of the clearinghouse's
`case_world` (Vendor A's statement on pkg:pypi/libfoo, vers:pypi/<1.4.2, under investigation)."""

from accounts import policy
from clearinghouse.products import cpe_normalise, purl_normalise
from exposures import keys
from exposures.models import Asset, Inventory


def inventory_of(user, name="Plant") -> Inventory:
    return Inventory.objects.create(organisation_id=policy.organisation_id_of(user), name=name,
                                    format=Inventory.Format.CSV, created_by=user)


def asset(inventory, *, name="", purl="", cpe="", vendor="", product="", version="",
          exposure="open", mission="mef_failure", safety="marginal") -> Asset:
    purl_key = purl_normalise(purl)[1] if purl else ""
    cpe_key = cpe_normalise(cpe)[1] if cpe else ""
    name = name or purl or cpe or f"{vendor} {product}"
    details = {"name": name, "vendor": vendor, "product": product, "version": version,
               "purl": purl, "cpe": cpe}
    return Asset.objects.create(
        inventory=inventory, organisation_id=inventory.organisation_id,
        identity=keys.blind(keys.IDENTITY, f"{purl_key}|{cpe_key}|{name}"),
        details_encrypted=keys.details_encrypt(details),
        purl_index=keys.blind(keys.PURL, purl_key), cpe_index=keys.blind(keys.CPE, cpe_key),
        product_index=keys.blind(keys.PRODUCT, keys.product_key(vendor, product)),
        exposure=exposure, mission_impact=mission, safety_impact=safety)
