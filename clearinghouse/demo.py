"""The clearinghouse's part of the demo (`manage.py seed_demo`): two vendors and an operator,
vetted, with their catalogues; then a case opened from an AI-found report on a demo model's
evaluation, with one vendor that fixed and one that stayed silent, an embargo, and a published
advisory. Everything goes through the services, as a user would do it."""

from accounts.models import Organisation
from accounts.services import organisation_create, user_create
from clearinghouse import members

K = Organisation.Kind


def seed_members(*, password: str, admin) -> dict:
    """The vendors (one maintains an open-source library, one makes infusion-pump firmware)
    and a water utility, each with one user, applied and vetted."""
    libre = organisation_create(name="Libretls Project", kind=K.VENDOR)
    medi = organisation_create(name="MediPump Devices", kind=K.VENDOR)
    water = organisation_create(name="Riverside Water Authority", kind=K.OPERATOR)
    people = {
        "vendor": (libre, "Lee", "Park", "An open-source TLS and HTTP library."),
        "vendor2": (medi, "Kim", "Ruiz", "Infusion pump firmware and its update service."),
        "operator": (water, "Ola", "Berg", "Drinking water treatment for 80,000 people."),
    }
    users = {}
    for username, (org, first, last, description) in people.items():
        users[username] = user = user_create(
            username=username, email=f"{username}@example.org", password=password,
            organisation=org, first_name=first, last_name=last)
        profile = members.member_apply(actor=user, description=description,
                                       security_contact=f"security@{username}.example.org")
        members.member_transition(profile=profile, actor=admin, action="vet",
                                  reason="Security contact verified (demo).")
    members.vendor_product_add(actor=users["vendor"], vendor=libre, name="libretls",
                               purl="pkg:github/libretls/libretls")
    members.vendor_product_add(actor=users["vendor2"], vendor=medi, name="MediPump firmware",
                               cpe="cpe:2.3:o:medipump:mp200_firmware:*:*:*:*:*:*:*:*")
    return users


LIBRETLS = "pkg:github/libretls/libretls"
PUMP_CPE = "cpe:2.3:o:medipump:mp200_firmware:*:*:*:*:*:*:*:*"


def seed_cases(*, now, admin, reviewer, developer, run, atlas, users: dict) -> None:
    """Two cases.

    CH-YYYY-0001 was opened from a report the agency filed from Falcon 3's evaluation run (an
    AI-found flaw, validated by the program office, since the account that files an AI-found
    report may not validate it, and reproduced): Libretls fixed it, MediPump never
    answered and is "no response"; the embargo was agreed and exited when the flaw became
    public; its advisory is published (and in the CSAF provider directory).
    CH-YYYY-0002 is Acme's own report, found by Atlas 2.0: Libretls has it under investigation,
    under an active embargo whose end shows in the calendar feeds.

    Services refuse dates in the past, so the history is made forward and then moved back in
    time (as the partner demo does)."""
    from datetime import timedelta

    from clearinghouse import cases, embargo, intake, publication
    from clearinghouse.models import Participant, ProductStatement

    vendor, vendor2 = users["vendor"], users["vendor2"]

    # Case 1: from the evaluation run.
    provenance = intake.report_initial_from_run(actor=reviewer, run=run)
    report = intake.report_file(
        actor=reviewer, **provenance,
        title="Heap overflow in libretls' TLS record parser",
        description="A TLS record whose declared length exceeds the negotiated maximum "
                    "fragment length overflows a heap buffer in the record parser. Falcon 3 "
                    "found it during the agency's evaluation and wrote a crashing input.",
        attacker="A remote, unauthenticated network peer (client or server).",
        capability="A TCP connection to a service that uses libretls for TLS.",
        trigger="One crafted TLS record after the handshake's ServerHello.",
        impact="Memory corruption in the TLS process: a crash, likely code execution.",
        cwe="CWE-787", cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        exploitation="poc",
        products=[{"purl": LIBRETLS, "version_range": "vers:github/>=3.6.0|<3.8.2"},
                  {"cpe": PUMP_CPE, "version_range": "vers:generic/>=4.0|<=4.2"}])
    intake.report_human_validate(report=report, actor=admin)
    intake.verification_record(
        report=report, actor=reviewer, method="sandbox",
        environment="libretls 3.8.1 built from its release tarball; network-less container",
        runs=10, successes=10, result="reproduced",
        signature="heap-buffer-overflow in tls_record_read")
    intake.report_transition(report=report, actor=admin, action="validate")
    intake.report_transition(report=report, actor=admin, action="accept")
    case = cases.case_open(actor=admin, reports=[report])
    for participant in case.participants.filter(role=Participant.Role.VENDOR, confirmed=False):
        cases.participant_confirm(participant=participant, actor=admin)
    proposed = embargo.embargo_propose(case=case, actor=admin)
    for acceptance in proposed.acceptances.exclude(
            organisation=vendor2.membership.organisation):
        member = acceptance.organisation.memberships.first().user
        embargo.embargo_answer(embargo=proposed, actor=member, accept=True)
    libretls = ProductStatement.objects.get(vulnerability__case=case,
                                            vendor=vendor.membership.organisation)
    cases.statement_update(statement=libretls, actor=vendor, status="known_affected",
                           statement_text="Confirmed: 3.6.0 to 3.8.1 are affected.")
    cases.remediation_add(
        statement=libretls, actor=vendor, category="vendor_fix",
        details="Upgrade to libretls 3.8.2, which checks the record length.",
        fixed_range="vers:github/>=3.8.2",
        url="https://example.org/libretls/releases/3.8.2",
        artifact_sha256="9f2c1b7a5e3d4c6b8a0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3")
    cases.statement_update(statement=libretls, actor=vendor, status="fixed",
                           statement_text="Fixed in 3.8.2.")
    # MediPump never answered: 22 days later, the sweep marks it "no response".
    Participant.objects.filter(case=case, organisation=vendor2.membership.organisation).update(
        notified_at=now - timedelta(days=22))
    cases.vendors_sweep_silent(now=now)
    cases.case_state_set(case=case, actor=admin, field="public_at",
                         reason="Libretls published its release notes for 3.8.2.")
    advisory = publication.advisory_generate(case=case, by=admin)
    publication.advisory_publish(advisory=advisory, by=admin)

    # Case 2: Acme's own report, found by Atlas 2.0, under an active embargo.
    report2 = intake.report_file(
        actor=developer, finder_model=atlas, finder_model_name=atlas.name,
        finder_model_version=atlas.version, harness="Acme red-team agent v4",
        title="Session resumption bypasses client certificate checks in libretls",
        description="Resuming a session with a ticket issued before a client certificate was "
                    "revoked skips the revocation check.",
        attacker="A client whose certificate was revoked.",
        capability="A session ticket from before the revocation.",
        trigger="Session resumption with the old ticket.",
        impact="Authenticated access the operator believes it revoked.",
        cwe="CWE-295",
        cvss_vector="CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N",
        products=[{"purl": LIBRETLS, "version_range": "vers:github/<3.9.0"}])
    intake.report_human_validate(report=report2, actor=admin)
    intake.verification_record(
        report=report2, actor=reviewer, method="manual",
        environment="libretls 3.8.2 with a test CA", runs=3, successes=3, result="reproduced")
    intake.report_transition(report=report2, actor=admin, action="validate")
    case2 = cases.case_open(actor=admin, reports=[report2])
    for participant in case2.participants.filter(role=Participant.Role.VENDOR, confirmed=False):
        cases.participant_confirm(participant=participant, actor=admin)
    proposed2 = embargo.embargo_propose(case=case2, actor=admin)
    for acceptance in proposed2.acceptances.all():
        member = acceptance.organisation.memberships.first().user
        embargo.embargo_answer(embargo=proposed2, actor=member, accept=True)
