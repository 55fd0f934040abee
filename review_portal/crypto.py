"""Encryption at rest with rotatable keys (MultiFernet: the first key encrypts, all decrypt)."""

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PORTAL_ENCRYPTION_KEYS is empty")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("PORTAL_ENCRYPTION_KEYS holds an invalid Fernet key") from exc


def _current() -> MultiFernet:
    return _fernet(tuple(settings.PORTAL_ENCRYPTION_KEYS))


def encrypt_bytes(data: bytes) -> bytes:
    return _current().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    return _current().decrypt(token)


def rotate_bytes(token: bytes) -> bytes:
    """Re-encrypt with the newest key (used by the key-rotation command)."""
    return _current().rotate(token)
