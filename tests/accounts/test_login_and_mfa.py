"""Login through allauth, the TOTP second factor, the enrolment gate, password reset, sign-up."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache

from accounts.models import User
from accounts.services import api_token_create
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture(autouse=True)
def _forget_used_codes():
    # allauth remembers used TOTP codes in the cache to refuse replays; start each test clean.
    cache.clear()
    yield
    cache.clear()


def totp_secret(user: User) -> str:
    device = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return decrypt(device.data["secret"])


def current_code(user: User) -> str:
    return format_hotp_value(hotp_value(totp_secret(user), int(time.time()) // 30))


def wrong_code(user: User) -> str:
    """A well-formed code that is not valid at any counter allauth accepts now."""
    secret = totp_secret(user)
    now = int(time.time()) // 30
    valid = {format_hotp_value(hotp_value(secret, now + i)) for i in range(-2, 3)}
    for counter in range(now + 1000, now + 1100):
        candidate = format_hotp_value(hotp_value(secret, counter))
        if candidate not in valid:
            return candidate
    raise AssertionError("no wrong code found")  # pragma: no cover


def logged_in_user_id(client):
    return client.session.get(SESSION_KEY)


def login(client, username, password=PASSWORD, **kwargs):
    return client.post("/accounts/login/", {"login": username, "password": password}, **kwargs)


# --- password login --------------------------------------------------------------------------

def test_a_developer_logs_in_with_username_and_password(world, client):
    response = login(client, "owner")
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(world.owner.pk)
    assert client.get("/models/").status_code == 200


def test_a_wrong_password_does_not_log_in(world, client):
    response = login(client, "owner", password="not the password at all")
    assert response.status_code == 200
    assert logged_in_user_id(client) is None
    assert client.get("/models/").status_code == 302


def test_the_login_page_renders_for_anonymous_users(db, client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


# --- second factor ---------------------------------------------------------------------------

def test_a_reviewer_with_a_device_is_sent_to_the_second_factor_stage(world, client):
    response = login(client, "reviewer")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert logged_in_user_id(client) is None
    # The password alone reaches nothing confidential.
    assert client.get("/requests/")["Location"].startswith("/accounts/login/")


def test_a_reviewer_reaches_their_home_after_a_correct_code(world, client):
    login(client, "reviewer")
    response = client.post("/accounts/2fa/authenticate/", {"code": current_code(world.reviewer)},
                           follow=True)
    assert logged_in_user_id(client) == str(world.reviewer.pk)
    assert response.redirect_chain[-1][0] == "/"
    assert response.status_code == 200
    assert 'id="glance-assigned"' in response.content.decode()


def test_a_wrong_code_does_not_log_in(world, client):
    login(client, "reviewer")
    response = client.post("/accounts/2fa/authenticate/", {"code": wrong_code(world.reviewer)})
    assert response.status_code == 200  # the form again, with an error
    assert logged_in_user_id(client) is None
    assert client.get("/requests/")["Location"].startswith("/accounts/login/")


def test_a_code_cannot_be_replayed(world, client):
    code = current_code(world.reviewer)
    login(client, "reviewer")
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert logged_in_user_id(client) == str(world.reviewer.pk)
    client.post("/accounts/logout/")
    login(client, "reviewer")
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert logged_in_user_id(client) is None


# --- government users must enrol a second factor ---------------------------------------------

@pytest.fixture
def reviewer_without_totp(world):
    agency = world.reviewer.membership.organisation
    return UserFactory(username="fresh-reviewer", organisation=agency, with_totp=False)


@pytest.fixture
def admin_without_totp(world):
    office = world.admin.membership.organisation
    return UserFactory(username="fresh-admin", organisation=office, with_totp=False)


@pytest.mark.parametrize("path", ["/requests/", "/models/", "/audit/", "/admin/", "/windows/",
                                  "/profile/"])
def test_a_government_user_without_a_device_is_sent_to_enrol_from_every_page(
        admin_without_totp, client, path):
    client.force_login(admin_without_totp)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_reviewer_without_a_device_enrols_one_through_the_pages(reviewer_without_totp, client):
    response = login(client, "fresh-reviewer")
    assert client.get(response["Location"])["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/requests/")["Location"] == "/accounts/2fa/totp/activate/"
    # allauth asks for the password again before a device is added (a login does not count).
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post(response["Location"], {"password": PASSWORD})
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=reviewer_without_totp,
                                        type=Authenticator.Type.TOTP).exists()
    assert client.get("/requests/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/models/", "/api/v1/review-requests/",
                                  "/api/v1/windows/", "/api/v1/audit-events/"])
def test_a_government_user_without_a_device_gets_403_json_from_the_api(
        admin_without_totp, client, path):
    client.force_login(admin_without_totp)
    response = client.get(path)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "two-factor" in response.json()["detail"]


def test_a_government_user_without_a_device_cannot_use_an_api_token(admin_without_totp, client):
    _, key = api_token_create(user=admin_without_totp, name="script")
    response = client.get("/api/v1/models/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code in (401, 403)
    assert admin_without_totp.api_tokens.get().last_used_at is None


def test_a_developer_without_a_device_is_not_asked_to_enrol(world, client):
    assert not Authenticator.objects.filter(user=world.owner).exists()
    client.force_login(world.owner)
    assert client.get("/models/").status_code == 200
    assert client.get("/api/v1/models/").status_code == 200


def test_a_partner_without_a_device_is_not_asked_to_enrol(world, client):
    client.force_login(world.partner)
    response = client.get("/")
    assert response.status_code == 200


# --- password reset and sign-up --------------------------------------------------------------

def test_the_password_reset_page_renders(db, client):
    response = client.get("/accounts/password/reset/")
    assert response.status_code == 200
    assert b'name="email"' in response.content


def test_a_password_reset_sends_an_email_to_a_known_address(
        world, client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "owner@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["owner@example.org"]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body
    assert logged_in_user_id(client) is None


def test_a_password_reset_for_an_unknown_address_does_not_email_a_link(
        world, client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302  # the same answer: no account enumeration
    assert all("/accounts/password/reset/key/" not in m.body for m in mailoutbox)


def test_self_sign_up_is_closed(db, client):
    before = User.objects.count()
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert b"closed" in response.content.lower()
    client.post("/accounts/signup/", {"email": "walkin@example.org", "username": "walkin",
                                      "password1": PASSWORD, "password2": PASSWORD})
    assert User.objects.count() == before
    assert not User.objects.filter(username="walkin").exists()
