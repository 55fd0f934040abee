"""Content-Security-Policy: every page and every API answer carries a policy with no
'unsafe-inline', and no template the portal serves relies on inline script or style."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_strict_policy(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    for name, sources in policy.items():
        assert "'unsafe-inline'" not in sources, name
        assert "'unsafe-eval'" not in sources, name
        assert "*" not in sources and "https:" not in sources, name


@pytest.mark.parametrize("path", ["/models/", "/requests/", "/windows/", "/profile/", "/inbox/"])
def test_pages_carry_a_strict_content_security_policy(world, client, path):
    client.force_login(world.owner)
    response = client.get(path)
    assert response.status_code == 200
    assert_strict_policy(response)


@pytest.mark.parametrize("path", ["/accounts/2fa/", "/accounts/2fa/webauthn/",
                                  "/accounts/2fa/webauthn/add/", "/accounts/email/"])
def test_allauths_account_and_mfa_pages_render_with_the_policy(world, client, path):
    client.force_login(world.reviewer)
    response = client.get(path)
    assert response.status_code in (200, 302)
    assert_strict_policy(response)


def test_the_login_page_carries_the_policy(db, client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_strict_policy(response)


@pytest.mark.parametrize("path", ["/api/v1/models/", "/api/v1/schema/", "/api/v1/docs/"])
def test_api_answers_carry_the_policy(world, client, path):
    client.force_login(world.owner)
    response = client.get(path)
    assert response.status_code == 200
    assert_strict_policy(response)


def test_an_api_error_carries_the_policy(db, client):
    response = client.get("/api/v1/models/")
    assert response.status_code in (401, 403)
    assert_strict_policy(response)


def test_the_api_docs_load_their_script_from_a_url_not_inline(world, client):
    client.force_login(world.owner)
    page = client.get("/api/v1/docs/").content.decode()
    assert re.search(r"<script>\s*\S", page) is None
    assert "<style>" not in page
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>"),
     "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "style attribute"),
    (re.compile(r"<style(?![^>]*\bnonce=\"{{ request.csp_nonce }}\")", re.IGNORECASE),
     "<style> element without the request's nonce"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
]


def test_no_template_has_inline_script_or_style():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == []


@pytest.mark.parametrize("path", ["/api/v1/audit-events/", "/api/v1/review-requests/{pk}/"])
def test_the_browsable_api_style_attributes_are_exactly_the_ones_the_policy_allows(
        world, client, path):
    import base64
    import hashlib

    client.force_login(world.admin)
    response = client.get(path.format(pk=world.request.pk), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    values = set(re.findall(r'\sstyle="([^"]*)"', response.content.decode()))
    assert values, "the page has no style attribute: the hash is no longer needed"
    allowed = directives(response)["style-src-attr"]
    for value in values:
        digest = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, value
