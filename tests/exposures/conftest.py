"""Inventories' world, on top of `world` (tests/conftest.py): two vetted operators (Water Works,
with `operator` and `colleague`; Rural Bank, with `other_operator`), an unvetted operator
(`unvetted`), a vendor, and the program office (`coordinator`, world.admin)."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Organisation
from tests.clearinghouse.conftest import vet
from tests.factories import OrganisationFactory, UserFactory

K = Organisation.Kind
FIXTURES = Path(__file__).parent / "fixtures"


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    """A fixture file (or the given bytes under that name) as an upload."""
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes() if data is None else data)


@pytest.fixture
def iw(world):
    org = OrganisationFactory(name="Water Works", kind=K.OPERATOR)
    other_org = OrganisationFactory(name="Rural Bank", kind=K.OPERATOR)
    operator = UserFactory(username="operator", organisation=org)
    colleague = UserFactory(username="operator2", organisation=org)
    other_operator = UserFactory(username="otheroperator", organisation=other_org)
    unvetted = UserFactory(username="unvetted",
                           organisation=OrganisationFactory(name="New Op", kind=K.OPERATOR))
    vendor = UserFactory(username="vendor",
                         organisation=OrganisationFactory(name="Vendor A", kind=K.VENDOR))
    for user in (operator, other_operator, vendor):
        vet(world.admin, user)
    return SimpleNamespace(w=world, org=org, other_org=other_org, operator=operator,
                           colleague=colleague, other_operator=other_operator,
                           unvetted=unvetted, vendor=vendor, coordinator=world.admin)


@pytest.fixture
def made(iw):
    """Water Works' inventory "Main", imported from the hospital's CycloneDX SBOM."""
    from exposures import inventory as inv

    record = inv.inventory_create(actor=iw.operator, name="Main",
                                  uploaded_file=upload("hospital.cdx.json"))
    return record.inventory


def login(client, user):
    """The test client as `user` (None: anonymous)."""
    client.logout()
    if user is not None:
        client.force_login(user)
    return client
