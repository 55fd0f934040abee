"""Operators' inventories (issue 12, point 1): parse an upload, then import it into an inventory.

Formats: CycloneDX JSON and XML (cyclonedx-python-lib: its schema validators, then its model),
SPDX 2.x JSON and tag-value (spdx-tools: its parsers, then its validator), and CSV with the
columns vendor, product, version (and optionally purl, cpe, name). The format is detected
from the content unless the operator chooses it. Anything else, or anything the validators
refuse, is a clear 400 that names the problem and, where it can, the line or the component;
a file over INVENTORY_MAX_UPLOAD_BYTES is a 413, one listing more than INVENTORY_MAX_ASSETS
components a 400. Nothing is written unless the whole file is good.

Each component becomes an asset: its details (name, vendor, product, version, package URL,
CPE) encrypted (keys.details_encrypt), and blind indexes of its package URL key, its CPE's
vendor:product and its normalised vendor/product name (keys.blind). Package URLs and CPEs are
normalised by clearinghouse/products.py, as vendors' statements are; one invalid package URL
or CPE refuses the whole import, naming the component.

Identity. A re-import matches assets on `identity`: the blind index of the package URL key,
else the CPE's vendor:product, else the vendor/product name, else the component's name; never
the version, so an upgrade updates the asset instead of adding one. When one file lists the
same identity with several versions (two copies of a library), each is kept: the versions are
sorted, the first keeps the plain identity and each later one has "@<version>" appended. The
same identity and version twice is one asset. An asset the latest import no longer lists is
marked removed (removed_at), and cleared again when it comes back; its SSVC inputs are the
operator's and survive both. Re-importing the same file adds, updates and removes nothing.

Vendor. CycloneDX: the component's manufacturer, else its supplier, publisher, author or
group; SPDX: the package's supplier, else its originator; CSV: the column. Where none is given
and the component has a CPE, the CPE's vendor (and product, for the name) stand in. A
component with no package URL, no CPE and no vendor is kept but cannot be matched
(`asset_is_matchable`); the pages say so.
"""

import csv
import hashlib
import io
import json
import re
import unicodedata
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts import policy
from accounts.models import User
from audit.services import audit_record
from clearinghouse.products import cpe_normalise, cpe_split, purl_normalise
from exposures import access, matching
from exposures.keys import (
    CPE,
    IDENTITY,
    PRODUCT,
    PURL,
    blind,
    details_decrypt,
    details_encrypt,
    product_key,
)
from exposures.models import SSVC, Asset, Inventory, InventoryImport
from review_portal.errors import ApplicationError, save_or_refuse

F = Inventory.Format
CSV_REQUIRED = ("vendor", "product", "version")
CSV_OPTIONAL = ("purl", "cpe", "name")
FIELD_MAX = 500  # characters of one name, vendor, product, version, purl or CPE
ERRORS_SHOWN = 3
BATCH = 500


def _refuse(message: str, *, status: int = 400) -> ApplicationError:
    return ApplicationError(message, field="file", status=status)


# ---------------------------------------------------------------------------------------------
# Reading and detecting


def upload_read(uploaded_file) -> bytes:
    """The bytes of an upload within INVENTORY_MAX_UPLOAD_BYTES (whatever size it declares)."""
    if uploaded_file is None:
        raise _refuse("Choose a file to upload.")
    limit = settings.INVENTORY_MAX_UPLOAD_BYTES
    if uploaded_file.size is not None and uploaded_file.size > limit:
        raise _refuse(f"The file is {uploaded_file.size:,} bytes; the limit is {limit:,} bytes.",
                      status=413)
    uploaded_file.seek(0)
    data = uploaded_file.read(limit + 1)
    if len(data) > limit:  # the declared size can lie
        raise _refuse(f"The file is larger than the limit of {limit:,} bytes.", status=413)
    if not data:
        raise _refuse("The file is empty.")
    return data


def _text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(f"The file is not UTF-8 text (byte {exc.start:,} is not UTF-8). "
                      "Upload a CycloneDX or SPDX SBOM, or a CSV.") from exc
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise _refuse("The file holds NUL bytes: it is not a text SBOM or CSV.")
    return text


def _json(text: str, what: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _refuse(f"The {what} file is not valid JSON: {exc}.") from exc


def detect_format(text: str) -> str:
    """The inventory format of a decoded upload, from its content."""
    start = text.lstrip()[:1]
    if start == "{":
        document = _json(text, "JSON")
        if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
            return F.CYCLONEDX_JSON
        if isinstance(document, dict) and "spdxVersion" in document:
            return F.SPDX_JSON
        raise _refuse("The JSON file is neither a CycloneDX BOM (no \"bomFormat\": "
                      "\"CycloneDX\") nor an SPDX document (no \"spdxVersion\").")
    if start == "<":
        if "cyclonedx.org/schema/bom" in text[:4096]:
            return F.CYCLONEDX_XML
        raise _refuse("The XML file is not a CycloneDX BOM (no CycloneDX namespace). SPDX is "
                      "accepted as JSON or tag-value, not XML.")
    if re.search(r"^\s*SPDXVersion\s*:", text[:65536], re.MULTILINE):
        return F.SPDX_TAG_VALUE
    return F.CSV


# ---------------------------------------------------------------------------------------------
# Parsing: each format to a list of entries


@dataclass
class Entry:
    """One component as the file gives it, before normalisation."""
    where: str
    name: str = ""
    vendor: str = ""
    product: str = ""
    version: str = ""
    purl: str = ""
    cpe: str = ""


def _schema_errors(errors, describe) -> str:
    shown = []
    for error in errors:
        shown.append(describe(error))
        if len(shown) == ERRORS_SHOWN:
            break
    return "; ".join(shown)


def _json_error(error) -> str:
    detail = getattr(error, "data", None)
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                   for p in getattr(detail, "absolute_path", [])).lstrip(".")
    message = getattr(detail, "message", None) or str(error).splitlines()[0]
    message = message if len(message) <= 200 else message[:200] + "…"
    return f"{path or 'the document'}: {message}"


def _cyclonedx_version(raw, where: str):
    from cyclonedx.schema import SchemaVersion

    try:
        return SchemaVersion.from_version(str(raw))
    except (ValueError, TypeError, KeyError) as exc:
        raise _refuse(f"CycloneDX specVersion {raw!r} {where}is not one this portal reads "
                      "(1.2 to 1.6).") from exc


def _cyclonedx_components(bom) -> list[Entry]:
    entries: list[Entry] = []

    def vendor_of(component) -> str:
        for party in (getattr(component, "manufacturer", None), component.supplier):
            if party is not None and party.name:
                return party.name
        return component.publisher or component.author or component.group or ""

    def walk(components, path: str):
        for index, component in enumerate(components):
            label = f"{path}[{index}]"
            ref = component.bom_ref.value if component.bom_ref else None
            entries.append(Entry(
                where=f"Component {component.name!r} ({'bom-ref ' + ref if ref else label})",
                name=component.name or "", vendor=vendor_of(component),
                product=component.name or "", version=component.version or "",
                purl=component.purl.to_string() if component.purl else "",
                cpe=component.cpe or ""))
            walk(component.components, f"{label}.components")

    walk(bom.components, "components")
    return entries


def _check_raw_purls(components: list, path: str) -> None:
    """Name the component whose package URL is invalid (the library's model would refuse the
    whole BOM without saying which)."""
    for index, component in enumerate(components):
        if not isinstance(component, dict):
            continue
        label = f"Component {component.get('name')!r} ({path}[{index}])"
        if component.get("purl"):
            try:
                purl_normalise(str(component["purl"]))
            except ApplicationError as exc:
                raise _refuse(f"{label}: {exc.message}") from exc
        _check_raw_purls(component.get("components") or [], f"{path}[{index}].components")


def parse_cyclonedx_json(text: str) -> list[Entry]:
    from cyclonedx.model.bom import Bom
    from cyclonedx.validation.json import JsonValidator

    document = _json(text, "CycloneDX JSON")
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise _refuse("The file is not a CycloneDX JSON BOM (no \"bomFormat\": \"CycloneDX\").")
    version = _cyclonedx_version(document.get("specVersion"), "")
    errors = JsonValidator(version).validate_str(text, all_errors=True)
    if errors:
        raise _refuse("The CycloneDX BOM does not follow its schema "
                      f"(CycloneDX {version.to_version()}): {_schema_errors(errors, _json_error)}.")
    _check_raw_purls(document.get("components") or [], "components")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bom = Bom.from_json(document)
    except Exception as exc:  # the library's model refused what the schema let through
        raise _refuse(f"The CycloneDX BOM could not be read: {exc}.") from exc
    return _cyclonedx_components(bom)


def _xml_schema_errors(text: str, version) -> str:
    """The schema validator's errors, or "" when it passes. It needs lxml, the library's
    "xml-validation" extra, which pyproject.toml installs; were it missing, the model's own
    reading below would still refuse a malformed BOM, less precisely."""
    from cyclonedx.exception import MissingOptionalDependencyException
    from cyclonedx.validation.xml import XmlValidator

    try:
        errors = XmlValidator(version).validate_str(text, all_errors=True)
    except MissingOptionalDependencyException:
        return ""
    return _schema_errors(errors, _xml_error) if errors else ""


_XML_NAMESPACE = re.compile(r"\{[^}]*\}")


def _xml_error(error) -> str:
    """lxml's schema message without the namespaces that make it unreadable, with its line:
    "line 3: Element 'version': This element is not expected. Expected is one of (supplier,
    …, name)."."""
    entry = getattr(error, "data", None)
    message = getattr(entry, "message", None) or str(error).splitlines()[0]
    message = " ".join(_XML_NAMESPACE.sub("", message).split())
    message = message if len(message) <= 200 else message[:200] + "…"
    line = getattr(entry, "line", None)
    return f"line {line}: {message}" if line else message


def parse_cyclonedx_xml(text: str) -> list[Entry]:
    import defusedxml.ElementTree as SafeET
    from cyclonedx.model.bom import Bom
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise _refuse("The XML file declares entities or a DTD, which are refused.") from exc
    except (SafeET.ParseError, ValueError, RecursionError) as exc:
        raise _refuse(f"The XML file does not parse: {exc}.") from exc
    match = re.fullmatch(r"\{http://cyclonedx\.org/schema/bom/([0-9.]+)\}bom", root.tag or "")
    if not match:
        raise _refuse("The XML file is not a CycloneDX BOM (its root is not a <bom> in the "
                      "CycloneDX namespace).")
    version = _cyclonedx_version(match.group(1), "(from the XML namespace) ")
    errors = _xml_schema_errors(text, version)
    if errors:
        raise _refuse("The CycloneDX BOM does not follow its schema "
                      f"(CycloneDX {version.to_version()}): {errors}.")
    for index, element in enumerate(root.iter(f"{{{root.tag[1:].split('}')[0]}}}component")):
        ns = root.tag.split("}")[0] + "}"
        if element.find(f"{ns}name") is None or not element.get("type"):
            raise _refuse(f"Component {index + 1} of the CycloneDX BOM has no name or no type.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bom = Bom.from_xml(root)
    except Exception as exc:  # the library's model refused it
        raise _refuse(f"The CycloneDX BOM could not be read: {exc}.") from exc
    return _cyclonedx_components(bom)


def _spdx_messages(messages) -> str:
    shown = [str(m)[:200] for m in messages[:ERRORS_SHOWN]]
    return "; ".join(shown)


def _spdx_components(document) -> list[Entry]:
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    try:
        problems = validate_full_spdx_document(document)
    except Exception as exc:  # the validator itself failed on this document
        raise _refuse(f"The SPDX document could not be validated: {exc}.") from exc
    if problems:
        described = "; ".join(
            f"{p.validation_message}"
            + (f" (in {p.context.spdx_id})" if p.context and p.context.spdx_id else "")
            for p in problems[:ERRORS_SHOWN])
        raise _refuse(f"The SPDX document is not valid: {described[:800]}.")
    entries = []
    for package in document.packages:
        vendor = ""
        for party in (package.supplier, package.originator):
            if getattr(party, "name", None):
                vendor = party.name
                break
        purl = cpe = ""
        for ref in package.external_references:
            if ref.reference_type == "purl" and not purl:
                purl = ref.locator
            elif ref.reference_type == "cpe23Type" and not cpe:
                cpe = ref.locator
        entries.append(Entry(where=f"Package {package.name!r} ({package.spdx_id})",
                             name=package.name or "", vendor=vendor, product=package.name or "",
                             version=package.version or "", purl=purl, cpe=cpe))
    return entries


def parse_spdx_json(text: str) -> list[Entry]:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

    document = _json(text, "SPDX JSON")
    if not isinstance(document, dict) or "spdxVersion" not in document:
        raise _refuse("The file is not an SPDX JSON document (no \"spdxVersion\").")
    try:
        parsed = JsonLikeDictParser().parse(document)
    except SPDXParsingError as exc:
        raise _refuse(f"The SPDX document does not parse: {_spdx_messages(exc.messages)}.") from exc
    except Exception as exc:  # the parser failed on a shape it does not expect
        raise _refuse(f"The SPDX document could not be read: {exc}.") from exc
    return _spdx_components(parsed)


def parse_spdx_tag_value(text: str) -> list[Entry]:
    from ply import yacc
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.tagvalue.parser import Parser

    try:
        parsed = Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger()).parse(text)
    except SPDXParsingError as exc:
        raise _refuse(f"The SPDX tag-value document does not parse: "
                      f"{_spdx_messages(exc.messages)}.") from exc
    except Exception as exc:  # the parser failed on input it does not expect
        raise _refuse(f"The SPDX tag-value document could not be read: {exc}.") from exc
    return _spdx_components(parsed)


def parse_csv(text: str) -> list[Entry]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            raise _refuse("The CSV file has no header line.")
        columns = [c.strip().lower() for c in header]
        unknown = [c for c in columns if c not in CSV_REQUIRED + CSV_OPTIONAL]
        missing = [c for c in CSV_REQUIRED if c not in columns]
        if unknown or missing or len(set(columns)) != len(columns):
            problems = ([f"unknown column{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(repr(c) for c in unknown)}"] if unknown else [])
            problems += ([f"missing {', '.join(missing)}"] if missing else [])
            if len(set(columns)) != len(columns):
                problems.append("a column appears twice")
            raise _refuse(f"Line 1 of the CSV: {'; '.join(problems)}. The columns are vendor, "
                          "product, version, and optionally purl, cpe and name. (Not a CSV? "
                          "Upload CycloneDX JSON or XML, or SPDX JSON or tag-value.)")
        entries = []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise _refuse(f"Line {line} of the CSV has {len(row)} fields; the header has "
                              f"{len(columns)}.")
            values = {c: v.strip() for c, v in zip(columns, row, strict=True)}
            if not values["vendor"] or not values["product"]:
                raise _refuse(f"Line {line} of the CSV: give the vendor and the product.")
            entries.append(Entry(where=f"Line {line} of the CSV", name=values.get("name", ""),
                                 vendor=values["vendor"], product=values["product"],
                                 version=values["version"], purl=values.get("purl", ""),
                                 cpe=values.get("cpe", "")))
    except csv.Error as exc:
        raise _refuse(f"Line {reader.line_num} of the CSV does not parse: {exc}.") from exc
    return entries


PARSERS = {F.CYCLONEDX_JSON: parse_cyclonedx_json, F.CYCLONEDX_XML: parse_cyclonedx_xml,
           F.SPDX_JSON: parse_spdx_json, F.SPDX_TAG_VALUE: parse_spdx_tag_value,
           F.CSV: parse_csv}


# ---------------------------------------------------------------------------------------------
# Normalising: entries to assets' details and indexes


@dataclass
class ParsedAsset:
    details: dict  # what is encrypted (with the identity key it was filed under)
    identity: str
    purl_index: str
    cpe_index: str
    product_index: str


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _version_order(version: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                 for p in re.split(r"(\d+)", version) if p)


def _normalise(entry: Entry) -> tuple[dict, str, str, str]:
    """(details without identity_key, purl key, CPE key, product key) of one entry."""
    for label in ("name", "vendor", "product", "version", "purl", "cpe"):
        value = getattr(entry, label)
        if len(value) > FIELD_MAX:
            raise _refuse(f"{entry.where}: its {label} is longer than {FIELD_MAX} characters.")
    name, vendor, product = entry.name.strip(), entry.vendor.strip(), entry.product.strip()
    version = entry.version.strip()
    purl = purl_key = cpe = cpe_key = ""
    if entry.purl.strip():
        try:
            purl, purl_key, parsed = purl_normalise(entry.purl)
        except ApplicationError as exc:
            raise _refuse(f"{entry.where}: {exc.message}") from exc
        version = version or (parsed.version or "")
    if entry.cpe.strip():
        try:
            cpe, cpe_key, parts = cpe_normalise(entry.cpe)
        except ApplicationError as exc:
            raise _refuse(f"{entry.where}: {exc.message}") from exc
        vendor = vendor or parts[3].replace("_", " ")
        product = product or parts[4].replace("_", " ")
        if not version and parts[5] not in ("*", "-", ""):
            version = parts[5]
    name = name or product
    details = {"name": name, "vendor": vendor, "product": product, "version": version,
               "purl": purl, "cpe": cpe}
    return details, purl_key, cpe_key, product_key(vendor, product)


def normalise(entries: list[Entry]) -> list[ParsedAsset]:
    """The assets of a parsed file, with their identities (see the module's docstring)."""
    limit = settings.INVENTORY_MAX_ASSETS
    if len(entries) > limit:
        raise _refuse(f"The file lists {len(entries):,} components; an inventory holds at most "
                      f"{limit:,}.")
    if not entries:
        raise _refuse("The file lists no components. (To empty an inventory, this is not the "
                      "way: an empty upload would mark every asset removed.)")
    groups: dict[str, dict[str, tuple]] = {}
    for entry in entries:
        details, purl_key, cpe_key, prod_key = _normalise(entry)
        base = (purl_key or (f"cpe:{cpe_key}" if cpe_key else "")
                or (f"product:{prod_key}" if prod_key else "") or f"name:{_fold(details['name'])}")
        groups.setdefault(base, {}).setdefault(details["version"],
                                               (details, purl_key, cpe_key, prod_key))
    assets = []
    for base, versions in groups.items():
        for position, version in enumerate(sorted(versions, key=_version_order)):
            details, purl_key, cpe_key, prod_key = versions[version]
            key = base if position == 0 else f"{base}@{version}"
            assets.append(ParsedAsset(details={**details, "identity_key": key},
                                      identity=blind(IDENTITY, key),
                                      purl_index=blind(PURL, purl_key),
                                      cpe_index=blind(CPE, cpe_key),
                                      product_index=blind(PRODUCT, prod_key)))
    return assets


def parse_upload(data: bytes, fmt: str = "") -> tuple[str, list[ParsedAsset]]:
    """(the format, the assets) of an upload's bytes: detected unless `fmt` names one."""
    text = _text(data)
    if fmt and fmt not in PARSERS:
        raise ApplicationError(f"Unknown format {fmt!r} (one of {', '.join(PARSERS)}, or leave "
                               "it out to detect it).", field="format")
    fmt = fmt or detect_format(text)
    return fmt, normalise(PARSERS[fmt](text))


def asset_indexes(details: dict) -> dict:
    """The indexes an asset's decrypted details give (inventory_reindex)."""
    _, purl_key, cpe_key, prod_key = _normalise(Entry(
        where="Asset", name=details.get("name", ""), vendor=details.get("vendor", ""),
        product=details.get("product", ""), version=details.get("version", ""),
        purl=details.get("purl", ""), cpe=details.get("cpe", "")))
    return {"purl_index": blind(PURL, purl_key), "cpe_index": blind(CPE, cpe_key),
            "product_index": blind(PRODUCT, prod_key),
            "identity": blind(IDENTITY, details.get("identity_key", ""))}


def asset_is_matchable(asset: Asset) -> bool:
    return bool(asset.purl_index or asset.cpe_index or asset.product_index)


def cpe_parts(cpe: str) -> list[str]:
    return cpe_split(cpe) if cpe else []


# ---------------------------------------------------------------------------------------------
# Services


def _check_operator(actor: User, inventory: Inventory | None = None) -> None:
    if not access.may_manage_inventory(actor):
        raise PermissionDenied("Only a vetted operator's members keep inventories.")
    if inventory is not None and inventory.organisation_id != policy.organisation_id_of(actor):
        raise PermissionDenied("This inventory is another organisation's.")


def _choice(value: str, choices, field: str, label: str) -> str:
    if value not in choices.values:
        raise ApplicationError(f"{label} must be one of {', '.join(choices.values)}.",
                               field=field)
    return value


@transaction.atomic
def inventory_create(*, actor: User, name: str, uploaded_file, fmt: str = "",
                     default_exposure: str = SSVC.SystemExposure.CONTROLLED,
                     default_mission_impact: str = SSVC.MissionImpact.MEF_SUPPORT_CRIPPLED,
                     default_safety_impact: str = SSVC.SafetyImpact.MARGINAL,
                     ) -> InventoryImport:
    """A new inventory from its first upload (all or nothing): returns the import."""
    _check_operator(actor)
    data = upload_read(uploaded_file)
    fmt, assets = parse_upload(data, fmt)
    inventory = Inventory(
        organisation_id=policy.organisation_id_of(actor), name=(name or "").strip(), format=fmt,
        default_exposure=_choice(default_exposure, SSVC.SystemExposure, "default_exposure",
                                 "The system exposure"),
        default_mission_impact=_choice(default_mission_impact, SSVC.MissionImpact,
                                       "default_mission_impact", "The mission impact"),
        default_safety_impact=_choice(default_safety_impact, SSVC.SafetyImpact,
                                      "default_safety_impact", "The safety impact"),
        created_by=actor)
    if not inventory.name:
        raise ApplicationError("Name the inventory.", field="name")
    if Inventory.objects.filter(organisation_id=inventory.organisation_id,
                                name=inventory.name).exists():
        raise ApplicationError("Your organisation already has an inventory of that name; "
                               "upload into it to update it.", field="name", status=409)
    save_or_refuse(inventory)
    audit_record(actor=actor, action="inventory.created", obj=inventory,
                 organisation=inventory.organisation, data={"format": fmt})
    return _import(actor=actor, inventory=inventory, data=data, fmt=fmt, assets=assets)


@transaction.atomic
def inventory_import(*, actor: User, inventory: Inventory, uploaded_file,
                     fmt: str = "") -> InventoryImport:
    """Import a new upload into an existing inventory (all or nothing)."""
    _check_operator(actor, inventory)
    data = upload_read(uploaded_file)
    fmt, assets = parse_upload(data, fmt)
    return _import(actor=actor, inventory=inventory, data=data, fmt=fmt, assets=assets)


def _import(*, actor, inventory: Inventory, data: bytes, fmt: str,
            assets: list[ParsedAsset]) -> InventoryImport:
    inventory = Inventory.objects.select_for_update().get(pk=inventory.pk)
    now = timezone.now()
    existing = {a.identity: a for a in Asset.objects.filter(inventory=inventory).only(
        "id", "identity", "details_encrypted", "purl_index", "cpe_index", "product_index",
        "removed_at")}
    new, changed, unchanged = [], [], 0
    for parsed in assets:
        asset = existing.pop(parsed.identity, None)
        if asset is None:
            new.append(Asset(
                inventory=inventory, organisation_id=inventory.organisation_id,
                identity=parsed.identity, details_encrypted=details_encrypt(parsed.details),
                purl_index=parsed.purl_index, cpe_index=parsed.cpe_index,
                product_index=parsed.product_index, exposure=inventory.default_exposure,
                mission_impact=inventory.default_mission_impact,
                safety_impact=inventory.default_safety_impact))
            continue
        same = (asset.removed_at is None and asset.purl_index == parsed.purl_index
                and asset.cpe_index == parsed.cpe_index
                and asset.product_index == parsed.product_index
                and details_decrypt(asset.details_encrypted) == parsed.details)
        if same:
            unchanged += 1
            continue
        asset.details_encrypted = details_encrypt(parsed.details)
        asset.purl_index, asset.cpe_index = parsed.purl_index, parsed.cpe_index
        asset.product_index, asset.removed_at, asset.updated_at = parsed.product_index, None, now
        changed.append(asset)
    gone = [a.pk for a in existing.values() if a.removed_at is None]
    Asset.objects.bulk_create(new, batch_size=BATCH)
    Asset.objects.bulk_update(changed, ["details_encrypted", "purl_index", "cpe_index",
                                        "product_index", "removed_at", "updated_at"],
                              batch_size=BATCH)
    for start in range(0, len(gone), BATCH):
        Asset.objects.filter(pk__in=gone[start:start + BATCH]).update(removed_at=now,
                                                                      updated_at=now)
    record = InventoryImport.objects.create(
        inventory=inventory, format=fmt, sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data), added=len(new), updated=len(changed), unchanged=unchanged,
        removed=len(gone), imported_by=actor)
    inventory.format, inventory.imported_at = fmt, now
    inventory.save(update_fields=["format", "imported_at"])
    audit_record(actor=actor, action="inventory.imported", obj=record,
                 organisation=inventory.organisation,
                 data={"inventory": inventory.pk, "format": fmt, "sha256": record.sha256,
                       "added": record.added, "updated": record.updated,
                       "unchanged": record.unchanged, "removed": record.removed})
    if new or changed or gone:
        matching.inventory_changed(inventory_id=inventory.pk)
    return record


INPUT_FIELDS = {"exposure": (SSVC.SystemExposure, "The system exposure"),
                "mission_impact": (SSVC.MissionImpact, "The mission impact"),
                "safety_impact": (SSVC.SafetyImpact, "The safety impact")}


def _inputs(values: dict) -> dict:
    unknown = set(values) - set(INPUT_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown input {sorted(unknown)[0]!r}.")
    return {field: _choice(value, INPUT_FIELDS[field][0], field, INPUT_FIELDS[field][1])
            for field, value in values.items() if value not in (None, "")}


@transaction.atomic
def asset_inputs_set(*, actor: User, asset: Asset, **values) -> Asset:
    """Change one asset's SSVC deployer inputs (system exposure, mission and safety impact);
    its exposures are re-prioritised (matching.assets_inputs_changed)."""
    asset = Asset.objects.select_for_update().select_related(
        "inventory__organisation").get(pk=asset.pk)
    _check_operator(actor, asset.inventory)
    inputs = _inputs(values)
    before = {field: getattr(asset, field) for field in inputs}
    changes = {f: v for f, v in inputs.items() if before[f] != v}
    if not changes:
        return asset
    for field, value in changes.items():
        setattr(asset, field, value)
    asset.save(update_fields=[*changes, "updated_at"])
    audit_record(actor=actor, action="inventory.asset_inputs_changed", obj=asset,
                 organisation=asset.inventory.organisation,
                 data={"inventory": asset.inventory_id,
                       "from": {f: before[f] for f in changes}, "to": changes})
    matching.assets_inputs_changed(asset_ids=[asset.pk])
    return asset


@transaction.atomic
def inventory_inputs_set(*, actor: User, inventory: Inventory, exposure: str,
                         mission_impact: str, safety_impact: str) -> int:
    """Set an inventory's SSVC inputs at once: they become its defaults for new assets and
    every asset still listed (not removed) takes them. Returns how many assets changed."""
    inventory = Inventory.objects.select_for_update().select_related("organisation").get(
        pk=inventory.pk)
    _check_operator(actor, inventory)
    inputs = _inputs({"exposure": exposure, "mission_impact": mission_impact,
                      "safety_impact": safety_impact})
    if len(inputs) != len(INPUT_FIELDS):
        raise ApplicationError("Give the system exposure, the mission impact and the safety "
                               "impact.", field=next(f for f in INPUT_FIELDS if f not in inputs))
    before = {"exposure": inventory.default_exposure,
              "mission_impact": inventory.default_mission_impact,
              "safety_impact": inventory.default_safety_impact}
    inventory.default_exposure = inputs["exposure"]
    inventory.default_mission_impact = inputs["mission_impact"]
    inventory.default_safety_impact = inputs["safety_impact"]
    inventory.save(update_fields=["default_exposure", "default_mission_impact",
                                  "default_safety_impact"])
    live = Asset.objects.filter(inventory=inventory, removed_at__isnull=True)
    differing = live.exclude(**inputs)
    asset_ids = list(differing.values_list("pk", flat=True))
    for start in range(0, len(asset_ids), BATCH):
        Asset.objects.filter(pk__in=asset_ids[start:start + BATCH]).update(
            updated_at=timezone.now(), **inputs)
    audit_record(actor=actor, action="inventory.inputs_changed", obj=inventory,
                 organisation=inventory.organisation,
                 data={"from": before, "to": inputs, "assets_changed": len(asset_ids)})
    if asset_ids:
        matching.assets_inputs_changed(asset_ids=asset_ids)
    return len(asset_ids)


def inventory_reindex(*, inventory_id: int | None = None) -> dict:
    """Recompute every asset's blind indexes (and identity) from its decrypted details: after
    INVENTORY_INDEX_KEY (or the SECRET_KEY it derives from) changed, or the normalisation did.
    Idempotent; one transaction per inventory; audited per inventory that changed, and its
    exposures recomputed. Returns {"inventories": n, "assets": n, "changed": n}."""
    inventories = Inventory.objects.order_by("pk")
    if inventory_id is not None:
        inventories = inventories.filter(pk=inventory_id)
    counts = {"inventories": 0, "assets": 0, "changed": 0}
    for inventory in inventories.select_related("organisation").iterator():
        with transaction.atomic():
            Inventory.objects.select_for_update().filter(pk=inventory.pk).first()
            changed = []
            assets = list(Asset.objects.filter(inventory=inventory).only(
                "id", "identity", "details_encrypted", "purl_index", "cpe_index",
                "product_index"))
            for asset in assets:
                indexes = asset_indexes(details_decrypt(asset.details_encrypted))
                if any(getattr(asset, k) != v for k, v in indexes.items()):
                    for key, value in indexes.items():
                        setattr(asset, key, value)
                    changed.append(asset)
            if changed:
                # Identities are unique per inventory: clear the changed ones first, so a
                # swap between two assets never collides half-way.
                for asset in changed:
                    Asset.objects.filter(pk=asset.pk).update(identity=f"reindex-{asset.pk}")
                Asset.objects.bulk_update(changed, ["identity", "purl_index", "cpe_index",
                                                    "product_index"], batch_size=BATCH)
                audit_record(actor=None, action="inventory.reindexed", obj=inventory,
                             organisation=inventory.organisation,
                             data={"assets": len(assets), "changed": len(changed)})
                matching.inventory_changed(inventory_id=inventory.pk)
        counts["inventories"] += 1
        counts["assets"] += len(assets)
        counts["changed"] += len(changed)
    return counts
