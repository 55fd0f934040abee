"""Passwords are hashed with Argon2id; hashes from before (PBKDF2) still verify and are
upgraded at the next login. The test settings keep MD5 for speed, so the real order is read from
the base and production settings themselves."""

import runpy
from pathlib import Path

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.test import override_settings

from accounts.models import User
from tests.test_settings import load_production, production_env

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
PBKDF2 = "django.contrib.auth.hashers.PBKDF2PasswordHasher"
PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parent.parent.parent


def test_base_settings_hash_new_passwords_with_argon2_and_still_read_pbkdf2(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path))
    hashers = runpy.run_path(str(ROOT / "review_portal/settings/base.py"))["PASSWORD_HASHERS"]
    assert hashers[0] == ARGON2
    assert PBKDF2 in hashers
    assert not any("MD5" in name or "Unsalted" in name for name in hashers)


def test_production_settings_hash_new_passwords_with_argon2(monkeypatch):
    hashers = load_production(monkeypatch, production_env())["PASSWORD_HASHERS"]
    assert hashers[0] == ARGON2
    assert PBKDF2 in hashers


@override_settings(PASSWORD_HASHERS=[ARGON2, PBKDF2])
def test_a_pbkdf2_password_still_logs_in_and_is_rehashed_with_argon2(world, client):
    User.objects.filter(pk=world.owner.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    response = client.post("/accounts/login/", {"login": "owner", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(world.owner.pk)
    world.owner.refresh_from_db()
    assert world.owner.password.startswith("argon2$argon2id$")
    # ... and the new hash verifies at the next login.
    client.logout()
    client.post("/accounts/login/", {"login": "owner", "password": PASSWORD})
    assert client.session[SESSION_KEY] == str(world.owner.pk)


@override_settings(PASSWORD_HASHERS=[ARGON2, PBKDF2])
def test_a_wrong_password_against_a_pbkdf2_hash_neither_logs_in_nor_rehashes(world, client):
    old = make_password(PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(pk=world.owner.pk).update(password=old)
    client.post("/accounts/login/", {"login": "owner", "password": "not the password at all"})
    assert SESSION_KEY not in client.session
    world.owner.refresh_from_db()
    assert world.owner.password == old

