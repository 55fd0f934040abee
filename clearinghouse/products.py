"""Product identities: package URLs (parsed by packageurl-python) and CPE 2.3 names, reduced to
the keys reports, vendor catalogues and (issue 12) operator inventories are matched on."""

from packageurl import PackageURL

from review_portal.errors import ApplicationError

# purl types whose names are case-insensitive (the purl spec's per-type rules).
_CASE_INSENSITIVE_TYPES = {"pypi", "npm", "github", "bitbucket", "composer", "golang", "hex"}


def normalise_purl(value: str, *, field: str = "purl") -> tuple[str, str]:
    """(the canonical purl, its key pkg:type/namespace/name without version, qualifiers or
    subpath). Raises ApplicationError on anything that is not a package URL."""
    try:
        purl = PackageURL.from_string(value.strip())
    except ValueError as exc:
        raise ApplicationError(f"Not a package URL ({exc}). Example: pkg:pypi/requests@2.31.0",
                               field=field) from exc
    name, namespace = purl.name, purl.namespace
    if purl.type in _CASE_INSENSITIVE_TYPES:
        name, namespace = name.lower(), (namespace or "").lower() or None
    if purl.type == "pypi":
        name = name.replace("_", "-").replace(".", "-")
    key = PackageURL(type=purl.type, namespace=namespace, name=name).to_string()
    return purl.to_string(), key


def normalise_cpe(value: str, *, field: str = "cpe") -> str:
    """The lower-case vendor:product key of a CPE 2.3 formatted string
    (cpe:2.3:part:vendor:product:version:…)."""
    parts = value.strip().split(":")
    if len(parts) < 5 or parts[0] != "cpe" or parts[1] != "2.3" or parts[2] not in "aoh" \
            or not parts[3] or not parts[4] or parts[3] == "*" or parts[4] == "*":
        raise ApplicationError(
            "Not a CPE 2.3 name. Example: cpe:2.3:a:example:router_firmware:1.2:*:*:*:*:*:*:*",
            field=field)
    return f"{parts[3].lower()}:{parts[4].lower()}"
