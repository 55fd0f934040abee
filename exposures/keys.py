"""Blind indexes and the encrypted details of assets (see models.py for why).

`blind(kind, key)` is HMAC-SHA256 under INVENTORY_INDEX_KEY (its own setting, so rotating the
Fernet keys or SECRET_KEY does not silently break matching; `manage.py inventory_reindex`
rebuilds every index from the decrypted details after the index key changes). `kind` keeps a
package URL key and a CPE key that happen to be equal strings apart.

The keys given here are already normalised by clearinghouse/products.py (purl_normalise,
cpe_normalise) or by `product_key` below, so an operator's SBOM and a vendor's statement that
name the same product produce the same index.
"""

import hashlib
import hmac
import json
import re
import unicodedata

from django.conf import settings

from review_portal.crypto import decrypt_bytes, encrypt_bytes

PURL, CPE, PRODUCT, IDENTITY = "purl", "cpe", "product", "identity"

# Words that differ between how a vendor and an operator write a company's name.
_COMPANY_SUFFIXES = re.compile(
    r"\b(inc|incorporated|corp|corporation|co|company|ltd|limited|llc|gmbh|ag|sa|plc|the)\b")


def _index_key() -> bytes:
    if settings.INVENTORY_INDEX_KEY:
        return settings.INVENTORY_INDEX_KEY.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"inventory-index", hashlib.sha256).digest()


def blind(kind: str, key: str) -> str:
    """The blind index of a normalised key, or "" for an empty key."""
    if not key:
        return ""
    return hmac.new(_index_key(), f"{kind}\x00{key}".encode(), hashlib.sha256).hexdigest()


def product_key(vendor: str, product: str) -> str:
    """vendor|product, case- and accent-folded, punctuation and company suffixes dropped, so
    "MediPump Devices, Inc." / "Infusion  Pump-X" equals "medipump devices" / "infusion pump x".
    "" when either part is empty."""
    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
        text = re.sub(r"[^a-z0-9]+", " ", text.lower())
        return " ".join(_COMPANY_SUFFIXES.sub(" ", text).split())

    vendor, product = fold(vendor), fold(product)
    return f"{vendor}|{product}" if vendor and product else ""


def details_encrypt(details: dict) -> bytes:
    return encrypt_bytes(json.dumps(details, sort_keys=True, separators=(",", ":")).encode())


def details_decrypt(token) -> dict:
    return json.loads(decrypt_bytes(bytes(token)))
