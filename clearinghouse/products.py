"""Product identities: package URLs (parsed by packageurl-python) and CPE 2.3 names, reduced to
the keys that reports (ProductClaim), vendor catalogues (VendorProduct) and, in issue 12,
operator inventories are matched on. One implementation, so a key written by one side always
matches the same product written by another."""

import re

from packageurl import PackageURL

from review_portal.errors import ApplicationError

# Package URL types whose names are case-insensitive (purl-spec PURL-TYPES): lower-cased in
# the key so "pkg:npm/Foo" and "pkg:npm/foo" are one product.
CASE_INSENSITIVE_PURL_TYPES = {"pypi", "npm", "github", "bitbucket", "composer", "hex", "deb",
                               "apk", "gitlab", "golang"}


def purl_normalise(value: str, *, field: str = "purl") -> tuple[str, str, PackageURL]:
    """(the package URL as packageurl writes it, its key pkg:type/namespace/name without
    version, qualifiers or subpath, the parsed purl). PyPI names are also normalised as PEP 503
    does (runs of "-", "_", "." are one "-")."""
    try:
        purl = PackageURL.from_string((value or "").strip())
    except ValueError as exc:
        raise ApplicationError(f"The package URL is not valid: {exc}", field=field) from exc
    name = purl.name
    if purl.type == "pypi":
        name = re.sub(r"[-_.]+", "-", name)
    key = "pkg:" + "/".join([purl.type, *([purl.namespace] if purl.namespace else []), name])
    if purl.type in CASE_INSENSITIVE_PURL_TYPES:
        key = key.lower()
    return purl.to_string(), key, purl


def cpe_split(value: str) -> list[str]:
    """A CPE 2.3 formatted string's 13 components (colons escaped with a backslash stay)."""
    return [p.replace("\\:", ":") for p in re.split(r"(?<!\\):", value)]


def cpe_normalise(value: str, *, field: str = "cpe") -> tuple[str, str, list[str]]:
    """(the CPE, its lower-case vendor:product key, its 13 components)."""
    value = (value or "").strip()
    parts = cpe_split(value)
    if (len(parts) != 13 or parts[0] != "cpe" or parts[1] != "2.3"
            or parts[2] not in {"a", "o", "h"}
            or parts[3] in ("", "*", "-") or parts[4] in ("", "*", "-")):
        raise ApplicationError("The CPE must be a CPE 2.3 string with a vendor and a product, "
                               "e.g. cpe:2.3:a:openssl:openssl:3.0.1:*:*:*:*:*:*:*.", field=field)
    return value, f"{parts[3]}:{parts[4]}".lower(), parts
