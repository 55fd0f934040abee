"""A software security key for tests through the test client: it answers allauth's WebAuthn
challenges as a browser and an authenticator would (packed "none" attestation, ES256), so the
tests run allauth's real registration and sign-in code, origin and signature checks included.
The browser test (tests/accounts/test_security_key_browser.py) uses Chromium's virtual one."""

import hashlib
import json
import os
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

ORIGIN = "http://localhost"  # the test client's host is set to localhost: a valid RP id

_FLAGS = AuthenticatorData.FLAG


def js_data(response) -> dict:
    """The `js_data` allauth's WebAuthn pages hand to their script."""
    match = re.search(rb'<script id="js_data" type="application/json">(.*?)</script>',
                      response.content, re.S)
    assert match, response.content[:2000]
    return json.loads(match.group(1))


class SoftKey:
    def __init__(self, *, origin: str = ORIGIN):
        self.origin = origin
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.user_handle: str | None = None
        self.counter = 0

    def create(self, creation_options: dict, *, passkey: bool = True,
               origin: str | None = None) -> str:
        """The JSON a browser posts after navigator.credentials.create()."""
        options = creation_options["publicKey"]
        self.user_handle = options["user"]["id"]
        client_data = CollectedClientData.create(
            type="webauthn.create", challenge=options["challenge"], origin=origin or self.origin)
        public_key = ES256.from_cryptography_key(self.private_key.public_key())
        credential = AttestedCredentialData.create(b"\0" * 16, self.credential_id, public_key)
        auth_data = AuthenticatorData.create(
            hashlib.sha256(options["rp"]["id"].encode()).digest(),
            _FLAGS.UP | _FLAGS.UV | _FLAGS.AT, self.counter, credential)
        attestation = AttestationObject.create("none", auth_data, {})
        return json.dumps({
            "id": websafe_encode(self.credential_id), "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {"clientDataJSON": websafe_encode(client_data),
                         "attestationObject": websafe_encode(attestation)},
            "clientExtensionResults": {"credProps": {"rk": passkey}},
        })

    def get(self, request_options: dict, *, rp_id: str = "localhost",
            origin: str | None = None) -> str:
        """The JSON a browser posts after navigator.credentials.get()."""
        options = request_options["publicKey"]
        client_data = CollectedClientData.create(
            type="webauthn.get", challenge=options["challenge"], origin=origin or self.origin)
        self.counter += 1
        auth_data = AuthenticatorData.create(
            hashlib.sha256(options.get("rpId", rp_id).encode()).digest(),
            _FLAGS.UP | _FLAGS.UV, self.counter)
        signature = self.private_key.sign(
            bytes(auth_data) + hashlib.sha256(bytes(client_data)).digest(),
            ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": websafe_encode(self.credential_id), "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {"clientDataJSON": websafe_encode(client_data),
                         "authenticatorData": websafe_encode(auth_data),
                         "signature": websafe_encode(signature),
                         "userHandle": self.user_handle},
            "clientExtensionResults": {},
        })
