"""The partner world (tests/partners/conftest.py) reused for notifications."""

from tests.partners.conftest import pw  # noqa: F401
