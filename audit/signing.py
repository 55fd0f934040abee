"""Signed checkpoints of the audit trail: (count, head hash, time), like Certificate
Transparency's signed tree heads (RFC 6962 §3.5).

The private key is an Ed25519 key from the environment (AUDIT_SIGNING_KEY), never the database:
someone who can write the database can recompute every hash of the chain, but cannot sign a
checkpoint for the rewritten chain. Anyone holding only the public key can verify a checkpoint,
so exported checkpoints can be checked on another machine.
"""

import base64
import binascii
import hashlib
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.chain import canonical_time

DOMAIN = "frontier-review-portal/audit-checkpoint/v1"


def _b64decode(text: str) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


def _load_key(text: str, *, load_pem, key_class, from_raw, what: str):
    """A PEM Ed25519 key of `key_class`, or the base64 of its 32 raw bytes."""
    text = (text or "").strip()
    if not text:
        raise ValueError("empty")
    if text.startswith("-----BEGIN"):
        key = load_pem(text.encode())
        if not isinstance(key, key_class):
            raise ValueError("not an Ed25519 key")
        return key
    raw = _b64decode(text)
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 {what} is 32 bytes")
    return from_raw(raw)


def load_private_key(text: str) -> Ed25519PrivateKey:
    """A PEM (PKCS#8) Ed25519 private key, or the base64 of its 32-byte seed."""
    return _load_key(text, load_pem=lambda pem: serialization.load_pem_private_key(pem, None),
                     key_class=Ed25519PrivateKey, from_raw=Ed25519PrivateKey.from_private_bytes,
                     what="seed")


def load_public_key(text: str) -> Ed25519PublicKey:
    """A PEM Ed25519 public key, or the base64 of its 32 raw bytes."""
    return _load_key(text, load_pem=serialization.load_pem_public_key,
                     key_class=Ed25519PublicKey, from_raw=Ed25519PublicKey.from_public_bytes,
                     what="public key")


def generate_private_key() -> str:
    """A new key in the form AUDIT_SIGNING_KEY takes (base64 of the seed)."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
        serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signing_key() -> Ed25519PrivateKey:
    try:
        return load_private_key(settings.AUDIT_SIGNING_KEY)
    except (AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(
            "Set AUDIT_SIGNING_KEY to an Ed25519 private key (base64 of its 32-byte seed, or "
            f"PEM) to sign audit checkpoints: {exc}") from exc


def verification_keys(extra: list[str] | None = None) -> dict[str, Ed25519PublicKey]:
    """The public keys checkpoints may be signed with, by key id: `extra` when given (a verifier
    that holds only public keys), else the signing key's and AUDIT_PUBLIC_KEYS (retired keys)."""
    texts = list(extra) if extra else list(getattr(settings, "AUDIT_PUBLIC_KEYS", []))
    keys = [load_public_key(t) for t in texts if t.strip()]
    if not extra and getattr(settings, "AUDIT_SIGNING_KEY", ""):
        keys.append(signing_key().public_key())
    return {key_id(k): k for k in keys}


def checkpoint_message(*, sequence: int, head_hash: str, created_at: datetime) -> bytes:
    return f"{DOMAIN}\n{sequence}\n{head_hash}\n{canonical_time(created_at)}\n".encode()


def checkpoint_sign(*, sequence: int, head_hash: str, created_at: datetime) -> tuple[str, str]:
    """(key id, base64 signature) of a checkpoint."""
    key = signing_key()
    message = checkpoint_message(sequence=sequence, head_hash=head_hash, created_at=created_at)
    return key_id(key.public_key()), base64.b64encode(key.sign(message)).decode()


def checkpoint_signature_ok(*, sequence: int, head_hash: str, created_at: datetime,
                            signer: str, signature: str,
                            keys: dict[str, Ed25519PublicKey]) -> str:
    """"" when the signature holds, else why not."""
    key = keys.get(signer)
    if key is None:
        return f"it is signed by an unknown key ({signer or 'none'})"
    try:
        key.verify(_b64decode(signature),
                   checkpoint_message(sequence=sequence, head_hash=head_hash,
                                      created_at=created_at))
    except (InvalidSignature, ValueError):
        return "its signature does not verify"
    return ""
