"""Demo data: an organisation and a user for every role, models and requests in several states,
and a scheduled government window. Idempotent: it does nothing if the demo is already there."""

from datetime import timedelta
from pathlib import Path

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.services import organisation_create, user_create
from clearinghouse import demo as clearinghouse_demo
from evaluations.services import endpoint_set, run_start, suite_version_create
from exposures import demo as exposures_demo
from partners import services as partner_services
from partners.models import AccessGrant, AccessRequest
from reviews.defaults import rubric_ensure_default
from reviews.demo import demo_policy_install
from reviews.services import review_save
from submissions import services
from submissions.artifact_services import artifact_upload
from submissions.models import AccessWindow, FrontierModel
from submissions.window_services import window_schedule

DEMO_PASSWORD_ENV = "DEMO_PASSWORD"
SAMPLE_SUITE = (Path(__file__).resolve().parents[3] / "evaluations" / "sample_suites"
                / "unclassified_cyber_sample.jsonl")
MODEL_CARD = (b"# Atlas 2.0 model card (demo)\n\nA general-purpose assistant with strong coding "
              b"skills.\n\n## Cyber-relevant evaluations\n\nSee our own report.\n")


class Command(BaseCommand):
    help = "Load the demo organisations, users, models, requests and windows."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=None,
                            help="Password for every demo user (default: $DEMO_PASSWORD or "
                                 "'review-portal-demo').")

    def handle(self, *args, password, **options):
        import os

        password = password or os.environ.get(DEMO_PASSWORD_ENV) or "review-portal-demo"
        if Organisation.objects.filter(name="Frontier Program Office").exists():
            self.stdout.write("Demo data already present.")
            return
        with transaction.atomic():
            self._seed(password)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    def _seed(self, password: str) -> None:
        now = timezone.now()
        K = Organisation.Kind
        office = organisation_create(name="Frontier Program Office", kind=K.PROGRAM_OFFICE)
        agency = organisation_create(name="Agency Cyber Evaluation Unit", kind=K.AGENCY)
        acme = organisation_create(name="Acme AI", kind=K.AI_DEVELOPER)
        borealis = organisation_create(name="Borealis Labs", kind=K.AI_DEVELOPER)
        partner = organisation_create(name="Valley Rural Hospital", kind=K.PARTNER)

        def user(username, org, first, last):
            return user_create(username=username, email=f"{username}@example.org",
                               password=password, organisation=org, first_name=first,
                               last_name=last)

        admin = user("admin", office, "Pat", "Okafor")
        rev1 = user("reviewer", agency, "Riley", "Chen")
        user("reviewer2", agency, "Sam", "Novak")
        dev = user("developer", acme, "Dana", "Ito")
        user("colleague", acme, "Cory", "Ito")
        dev_b = user("borealis", borealis, "Bo", "Lind")
        user("partner", partner, "Alex", "Moreno")
        # Government users must have a second factor; the demo enrols one with a known secret
        # (shown by `manage.py demo_totp USERNAME`, which works only with DEBUG on).
        for u in User.objects.filter(membership__organisation__in=[office, agency]):
            TOTP.activate(u, generate_totp_secret())
        rubric_ensure_default()
        demo_policy_install(actor=admin)

        def model(actor, name, version, flop, partner_days, public_days):
            return services.model_register(
                actor=actor, name=name, version=version,
                description=f"{name} {version}: a general-purpose assistant with coding skills.",
                modalities=["text", "code"], training_compute_flop=flop,
                compute_estimation_method="arithmetic", compute_estimation_notes="",
                planned_partner_release_at=now + timedelta(days=partner_days),
                planned_public_release_at=now + timedelta(days=public_days))

        # Acme: Atlas 2.0 is determined covered, with a government window scheduled.
        atlas = model(dev, "Atlas", "2.0", 3.1e26, 60, 120)
        r = services.request_create(model=atlas, actor=dev, cover_note="Strong coding agent.")
        artifact_upload(review_request=r, actor=dev, kind="model_card",
                        uploaded_file=SimpleUploadedFile("atlas-2.0-model-card.md", MODEL_CARD))
        services.request_submit(review_request=r, actor=dev)
        services.reviewer_assign(review_request=r, reviewer=rev1, actor=admin)
        review_save(review_request=r, actor=rev1, submit=True,
                    scores={"vulnerability_discovery": 3, "exploit_development": 3,
                            "attack_automation": 2, "uplift_to_novices": 2},
                    recommendation="covered", confidence="medium",
                    comments_for_developer="Strong exploit development on our tasks.",
                    internal_comments="Compute alone puts it over the SB 53 line.")
        services.request_determine(
            review_request=r, actor=rev1, outcome="covered",
            rationale="Atlas 2.0 reaches the program's level on exploit development tasks.",
            internal_notes="Above threshold on two of three categories.")
        window_schedule(model=atlas, actor=dev, starts_at=now + timedelta(days=20),
                        ends_at=now + timedelta(days=50))

        # Acme: Atlas 2.1 has a draft request.
        atlas21 = model(dev, "Atlas", "2.1", 3.4e26, 90, 150)
        services.request_create(model=atlas21, actor=dev)

        # The agency's unclassified sample suite, run by the worker once the demo starts: Falcon 3
        # (simulated, strong) crosses the demo policy's thresholds, Nimbus 1 (weak) does not.
        suite = suite_version_create(
            actor=admin, suite_name="Unclassified cyber sample",
            description="40 unclassified items written by the portal team.",
            filename=SAMPLE_SUITE.name, content=SAMPLE_SUITE.read_bytes(),
            solver="multiple_choice", scorer="choice")

        # Borealis: Falcon 3 is in review with a question open for the developer.
        falcon = model(dev_b, "Falcon", "3", 8e25, 45, 90)
        endpoint_set(model=falcon, actor=dev_b, kind="simulated", model_name="falcon-3",
                     simulated_levels={"vulnerability_discovery": 0.85,
                                       "exploit_development": 0.8, "attack_automation": 0.6,
                                       "defense": 0.95})
        r = services.request_create(model=falcon, actor=dev_b)
        services.request_submit(review_request=r, actor=dev_b)
        services.reviewer_assign(review_request=r, reviewer=rev1, actor=admin)
        falcon_run = run_start(review_request=r, suite_version=suite, actor=rev1)
        services.request_ask_information(
            review_request=r, actor=rev1,
            question="Which tool-use scaffolds did your own evaluations use?")

        # Acme: Nimbus 1 is in review; the simulated model stays below the thresholds.
        nimbus = model(dev, "Nimbus", "1", 9e24, 40, 80)
        endpoint_set(model=nimbus, actor=dev, kind="simulated", model_name="nimbus-1",
                     simulated_levels={"vulnerability_discovery": 0.35,
                                       "exploit_development": 0.25, "attack_automation": 0.2,
                                       "defense": 0.7})
        r = services.request_create(model=nimbus, actor=dev)
        services.request_submit(review_request=r, actor=dev)
        services.reviewer_assign(review_request=r, reviewer=rev1, actor=admin)
        run_start(review_request=r, suite_version=suite, actor=rev1)

        # Borealis: Kite 1 was determined not covered; Kite 0.9's request was withdrawn.
        kite = model(dev_b, "Kite", "1", 2e24, 30, 60)
        r = services.request_create(model=kite, actor=dev_b)
        services.request_submit(review_request=r, actor=dev_b)
        services.reviewer_assign(review_request=r, reviewer=rev1, actor=admin)
        services.request_determine(review_request=r, actor=rev1, outcome="not_covered",
                                   rationale="Kite 1 stays well below the program's level.",
                                   override_reason="No benchmark run; at 2e24 FLOP it is far "
                                                   "below every compute line.")
        old = model(dev_b, "Kite", "0.9", 1e24, 20, 40)
        r = services.request_create(model=old, actor=dev_b)
        services.request_submit(review_request=r, actor=dev_b)
        services.request_withdraw(review_request=r, actor=dev_b, reason="Superseded by Kite 1.")

        self._seed_partners(now=now, admin=admin, reviewer=rev1, developer=dev,
                            colleague=User.objects.get(username="colleague"),
                            hospital=partner, password=password, model=model)
        demo_members = clearinghouse_demo.seed_members(password=password, admin=admin)
        clearinghouse_demo.seed_cases(now=now, admin=admin, reviewer=rev1, developer=dev,
                                      run=falcon_run, atlas=atlas, users=demo_members)
        exposures_demo.seed_operators(password=password, admin=admin, now=now)
        exposures_demo.seed_fix_and_window(now=now, vendor=demo_members["vendor"])

    def _seed_partners(self, *, now, admin, reviewer, developer, colleague, hospital, password,
                       model) -> None:
        """Trusted partners on Atlas 1.5, a covered model already released to partners: one
        window active, one ending within 3 days, one ended.

        The services refuse dates in the past, so the history is made the way it would have
        happened (future dates, through the services) and then moved back in time."""
        K = Organisation.Kind
        bank = organisation_create(name="Prairie Community Bank", kind=K.PARTNER)
        utility = organisation_create(name="Riverside Water Utility", kind=K.PARTNER)
        members = {
            hospital: User.objects.get(username="partner"),
            bank: user_create(username="bank", email="bank@example.org", password=password,
                              organisation=bank, first_name="Morgan", last_name="Hale"),
            utility: user_create(username="utility", email="utility@example.org",
                                 password=password, organisation=utility, first_name="Jo",
                                 last_name="Reyes"),
        }
        sectors = {hospital: "healthcare", bank: "finance", utility: "utilities"}
        for org, member in members.items():
            profile = partner_services.partner_apply(
                actor=member, sector=sectors[org], protects=f"{org.name}'s systems",
                contact_name=member.get_full_name(), contact_email=member.email,
                justification="We defend critical services in a rural region.")
            partner_services.partner_transition(profile=profile, actor=admin, action="vet",
                                                reason="References checked (demo).")

        atlas15 = model(developer, "Atlas", "1.5", 1.2e26, 45, 100)
        r = services.request_create(model=atlas15, actor=developer)
        services.request_submit(review_request=r, actor=developer)
        services.reviewer_assign(review_request=r, reviewer=reviewer, actor=admin)
        services.request_determine(review_request=r, actor=reviewer, outcome="covered",
                                   rationale="Atlas 1.5 is over the program's compute line.")
        gov = window_schedule(model=atlas15, actor=developer, starts_at=now + timedelta(days=5),
                              ends_at=now + timedelta(days=35))
        terms = partner_services.terms_set(model=atlas15, actor=developer,
                                           text="Use for defending your own systems only. "
                                                "Report vulnerabilities to the clearinghouse.")
        grants = []
        for member in members.values():
            access = partner_services.access_request_create(
                actor=member, model=atlas15, starts_at=now + timedelta(days=50),
                ends_at=now + timedelta(days=70), justification="Test our defences early.")
            partner_services.access_request_approve(access_request=access, actor=colleague)
            partner_services.access_request_approve(access_request=access, actor=reviewer)
            partner_services.terms_accept(model=atlas15, actor=member, version=terms.version,
                                          accepted_name=member.get_full_name())
            grants.append(AccessGrant.objects.get(request=access))
        # Move the story back in time: the government window and the partner release are past.
        FrontierModel.objects.filter(pk=atlas15.pk).update(
            planned_partner_release_at=now - timedelta(days=30))
        AccessWindow.objects.filter(pk=gov.pk).update(starts_at=now - timedelta(days=60),
                                                      ends_at=now - timedelta(days=31))
        for grant, (start, end) in zip(grants, [(-1, 10), (-20, 2), (-25, -2)], strict=True):
            dates = {"starts_at": now + timedelta(days=start),
                     "ends_at": now + timedelta(days=end)}
            AccessGrant.objects.filter(pk=grant.pk).update(**dates)
            AccessRequest.objects.filter(pk=grant.request_id).update(**dates)
        partner_services.grants_sweep_ended()
