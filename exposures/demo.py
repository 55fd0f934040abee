"""The exposures' part of the demo (`manage.py seed_demo`, after clearinghouse/demo.py): three
critical-infrastructure operators, vetted, each with a member and an inventory imported from a
file shipped in exposures/demo/ — a rural hospital (CycloneDX JSON), a community bank (SPDX
JSON) and a local utility (CSV of vendor / product / version).

The story, on the demo's embargoed case CH-YYYY-0002 (libretls before 3.9.0):
- the hospital runs libretls 3.8.2 (and MediPump MP200 firmware 4.1, of the published case
  CH-YYYY-0001); it accepted the clearinghouse's terms, Libretls has a fix (3.9.0) and the
  embargo ends within the pre-disclosure window, so the hospital is told before publication:
  its home lists the exposure with its SSVC priority and deadline;
- the bank accepted the terms too, but runs libretls 3.9.1, outside the affected range: it is
  not told;
- the utility runs none of it (and has not accepted the terms): it is not told either.
Everything goes through the services, as the users would do it; the embargo's end is moved
into the window afterwards (services refuse to shorten an agreed embargo by hand)."""

from datetime import timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Organisation
from accounts.services import organisation_create, user_create
from clearinghouse import members

K = Organisation.Kind
FILES = Path(__file__).resolve().parent / "demo"

OPERATORS = [
    # username, organisation, first, last, description, file, inventory name, SSVC defaults
    ("hospital", "Cedar Valley Rural Hospital", "Rosa", "Alvarez",
     "A 25-bed critical access hospital and its clinics.", "hospital-cyclonedx.json",
     "Clinical systems", ("controlled", "mef_failure", "critical")),
    ("communitybank", "Harbor Community Bank", "Dev", "Patel",
     "A community bank: 14 branches, online banking and card processing.", "bank-spdx.json",
     "Online banking", ("open", "mef_support_crippled", "marginal")),
    ("townutility", "Millbrook Public Utilities", "Sam", "Okoro",
     "Electricity and water for a town of 12,000.", "utility-inventory.csv",
     "Operations technology", ("small", "mission_failure", "critical")),
]
# Who accepted the clearinghouse's pre-disclosure terms.
ACCEPTED_TERMS = {"hospital", "communitybank"}


def seed_operators(*, password: str, admin, now) -> dict:
    """The three operators, vetted, with their inventories imported; returns their users."""
    from exposures import inventory
    from exposures.services import terms_accept

    users = {}
    for username, name, first, last, description, filename, inventory_name, defaults in \
            OPERATORS:
        org = organisation_create(name=name, kind=K.OPERATOR)
        user = users[username] = user_create(
            username=username, email=f"{username}@example.org", password=password,
            organisation=org, first_name=first, last_name=last)
        profile = members.member_apply(actor=user, description=description,
                                       security_contact=f"security@{username}.example.org")
        members.member_transition(profile=profile, actor=admin, action="vet",
                                  reason="Sector regulator's referral checked (demo).")
        exposure, mission, safety = defaults
        inventory.inventory_create(
            actor=user, name=inventory_name,
            uploaded_file=SimpleUploadedFile(filename, (FILES / filename).read_bytes()),
            default_exposure=exposure, default_mission_impact=mission,
            default_safety_impact=safety)
        if username in ACCEPTED_TERMS:
            terms_accept(actor=user)
    return users


def seed_fix_and_window(*, now, vendor, case_number: int = 2) -> None:
    """Libretls fixes the embargoed case (3.9.0) and the embargo's end comes within the
    pre-disclosure window; then matching runs (a worker would) and disclosure releases what is
    due: the hospital's exposure, before publication."""
    from django.conf import settings

    from clearinghouse import cases
    from clearinghouse.models import Case, Embargo, ProductStatement
    from exposures import disclosure, matching

    case = Case.objects.get(number=case_number, year=Case.objects.order_by("-year")
                            .values_list("year", flat=True).first())
    statement = ProductStatement.objects.get(vulnerability__case=case,
                                             vendor=vendor.membership.organisation)
    cases.statement_update(statement=statement, actor=vendor, status="known_affected",
                           statement_text="Confirmed: every release before 3.9.0.")
    cases.remediation_add(
        statement=statement, actor=vendor, category="vendor_fix",
        details="Upgrade to libretls 3.9.0, which checks revocation on session resumption.",
        fixed_range="vers:github/>=3.9.0",
        url="https://example.org/libretls/releases/3.9.0",
        artifact_sha256="4b8e2f1a9c7d6e5f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f")
    days = max(1, settings.CLEARINGHOUSE_PREDISCLOSURE_DAYS - 2)
    Embargo.objects.filter(case=case).update(ends_at=now + timedelta(days=days))
    for vulnerability_id in matching.vulnerabilities_to_match().values_list("pk", flat=True):
        matching.refresh_vulnerability(vulnerability_id=vulnerability_id, cause="demo")
    disclosure.disclosure_sweep()
