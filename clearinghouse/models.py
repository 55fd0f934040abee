"""The clearinghouse's records: reports and their verification (intake), cases with their
participants, vendor statements per product, remediations, embargoes and advisories.

States live in `status` fields whose allowed moves are listed once, in `workflow.py`; only
services change them. Nothing here is deleted: a closed report, an exited embargo or a
withdrawn advisory stays, with its reason, and the audit trail says who did what.
Time stamps are stored in UTC (USE_TZ); forms and the API refuse naive datetimes.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

User = settings.AUTH_USER_MODEL


class MemberProfile(models.Model):
    """A vendor's or operator's application to the clearinghouse and its vetting, the way
    partners are vetted (applied → vetted ⇄ suspended, → revoked)."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        VETTED = "vetted", "Vetted"
        SUSPENDED = "suspended", "Suspended"
        REVOKED = "revoked", "Revoked"

    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.PROTECT,
                                        related_name="clearinghouse_profile")
    description = models.TextField(help_text="What the organisation makes or operates")
    security_contact = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPLIED,
                              db_index=True)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"Clearinghouse profile of {self.organisation_id}"


class VendorProduct(models.Model):
    """A product in a vendor's catalogue. Vendors of a report are suggested by matching its
    products' package URLs (`purl_key`, the purl without version) or CPE vendor:product here."""

    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                               related_name="vendor_products")
    name = models.CharField(max_length=200)
    # pkg:type/namespace/name, lower-cased where the purl type is case-insensitive.
    purl_key = models.CharField(max_length=300, blank=True, db_index=True)
    # cpe vendor:product, lower-case.
    cpe_key = models.CharField(max_length=200, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vendor_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="unique_vendor_product"),
        ]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """A coordinated case (VINCE's VulnerabilityCase plus Vultron's case-state timestamps).
    `reference` is CH-YYYY-NNNN, numbered per year."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PUBLISHED = "published", "Published"
        CLOSED = "closed", "Closed"

    reference = models.CharField(max_length=20, unique=True)
    year = models.PositiveIntegerField()
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    # Vultron case states (CS). Each is set once, never cleared.
    vendor_aware_at = models.DateTimeField(null=True, blank=True)
    fix_ready_at = models.DateTimeField(null=True, blank=True)
    fix_deployed_at = models.DateTimeField(null=True, blank=True)
    public_at = models.DateTimeField(null=True, blank=True)
    exploit_public_at = models.DateTimeField(null=True, blank=True)
    attacks_observed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="case_list_order")]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="unique_case_number"),
        ]

    def __str__(self) -> str:
        return self.reference


class Vulnerability(models.Model):
    """One flaw of a case (a case may hold several)."""

    class Exploitation(models.TextChoices):
        NONE = "none", "No known exploitation"
        POC = "poc", "Proof of concept"
        ACTIVE = "active", "Exploited in the wild"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="vulnerabilities")
    title = models.CharField(max_length=200)
    description = models.TextField()
    cve_id = models.CharField(max_length=30, blank=True)
    cwe = models.CharField(max_length=20, help_text="e.g. CWE-787")
    cvss_vector = models.CharField(max_length=300)
    cvss_version = models.CharField(max_length=5)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1)
    cvss_severity = models.CharField(max_length=10)
    exploitation = models.CharField(max_length=10, choices=Exploitation.choices,
                                    default=Exploitation.NONE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "id"]

    def __str__(self) -> str:
        return self.cve_id or self.title


class Report(models.Model):
    """A vulnerability report, in Vultron's report-management states (workflow.py)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        VALID = "valid", "Valid"
        INVALID = "invalid", "Invalid"
        ACCEPTED = "accepted", "Accepted"
        DEFERRED = "deferred", "Deferred"
        CLOSED = "closed", "Closed"

    class CloseReason(models.TextChoices):
        COORDINATED = "coordinated", "Coordinated"
        DUPLICATE = "duplicate", "Duplicate"
        NOT_A_VULNERABILITY = "not_a_vulnerability", "Not a vulnerability"
        OUT_OF_SCOPE = "out_of_scope", "Out of scope"
        FABRICATED = "fabricated", "Fabricated"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class ValidBasis(models.TextChoices):
        REPRODUCTION = "reproduction", "Reproduced"
        VENDOR_CONFIRMATION = "vendor_confirmation", "Confirmed by the vendor"
        COORDINATOR_OVERRIDE = "coordinator_override", "Coordinator's written override"

    class Channel(models.TextChoices):
        WEB = "web", "Web form"
        API = "api", "API"
        EVALUATION = "evaluation", "From an evaluation run"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="clearinghouse_reports")
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    title = models.CharField(max_length=200)
    description = models.TextField()
    # The threat model: required before the report can become valid.
    attacker = models.TextField(blank=True, help_text="Who the attacker is")
    capability = models.TextField(blank=True, help_text="What the attacker must already hold")
    trigger = models.TextField(blank=True, help_text="What sets the flaw off")
    impact = models.TextField(blank=True, help_text="What the attacker gains")
    cwe = models.CharField(max_length=20, help_text="e.g. CWE-787")
    cvss_vector = models.CharField(max_length=300)
    cvss_version = models.CharField(max_length=5)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1)
    cvss_severity = models.CharField(max_length=10)
    exploitation = models.CharField(max_length=10, choices=Vulnerability.Exploitation.choices,
                                    default=Vulnerability.Exploitation.NONE)
    already_public = models.BooleanField(default=False)
    reporter_deadline = models.DateTimeField(null=True, blank=True)
    # AI provenance.
    ai_found = models.BooleanField(default=False)
    finder_model = models.ForeignKey("submissions.FrontierModel", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    finder_model_name = models.CharField(max_length=200, blank=True)
    finder_model_version = models.CharField(max_length=100, blank=True)
    evaluation_run = models.ForeignKey("evaluations.EvaluationRun", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    harness = models.CharField(max_length=200, blank=True)
    human_validated_by = models.ForeignKey(User, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    human_validated_at = models.DateTimeField(null=True, blank=True)
    # Report management.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED,
                              db_index=True)
    needs_more_info = models.BooleanField(default=False)
    valid_basis = models.CharField(max_length=30, choices=ValidBasis.choices, blank=True)
    close_reason = models.CharField(max_length=30, choices=CloseReason.choices, blank=True)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="reports")
    vulnerability = models.ForeignKey(Vulnerability, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="reports")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="report_list_order")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(close_reason=""),
                name="closed_report_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk}"

    @property
    def has_threat_model(self) -> bool:
        return all(v.strip() for v in (self.attacker, self.capability, self.trigger, self.impact))


class ProductClaim(models.Model):
    """A product a report says is affected: a package URL, a CPE, or vendor/product, with a
    version range (`vers`, e.g. vers:pypi/>=1.0|<1.4.2)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="products")
    purl = models.CharField(max_length=500, blank=True)
    purl_key = models.CharField(max_length=300, blank=True, db_index=True)
    cpe = models.CharField(max_length=500, blank=True)
    cpe_key = models.CharField(max_length=200, blank=True, db_index=True)
    vendor_name = models.CharField(max_length=200, blank=True)
    product_name = models.CharField(max_length=200)
    version_range = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["report_id", "id"]

    def __str__(self) -> str:
        return self.product_name


class DuplicateCandidate(models.Model):
    """A possible earlier report of the same flaw, found at intake; a match against a fixed
    vulnerability is a possible regression, not a duplicate. A coordinator decides."""

    class Kind(models.TextChoices):
        DUPLICATE = "duplicate", "Possible duplicate"
        REGRESSION = "regression", "Possible regression of a fixed vulnerability"

    report = models.ForeignKey(Report, on_delete=models.CASCADE,
                               related_name="duplicate_candidates")
    candidate = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(help_text="Text similarity, 0-100")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report_id", "-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "candidate"],
                                    name="unique_duplicate_candidate"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: report {self.candidate_id}"


class ReportArtifact(models.Model):
    """A proof of concept, crashing input or reproduction script: encrypted at rest in
    storages["artifacts"], type-checked from its bytes; only coordinators and the affected
    vendor may download it, and every download is audited."""

    class Kind(models.TextChoices):
        POC = "poc", "Proof of concept"
        CRASH_INPUT = "crash_input", "Crashing input"
        REPRO_SCRIPT = "repro_script", "Reproduction script"
        EVIDENCE = "evidence", "Verification evidence"

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="artifacts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_path = models.CharField(max_length=300, unique=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename


class Verification(models.Model):
    """One attempt to reproduce a report."""

    class Method(models.TextChoices):
        SANDBOX = "sandbox", "Sandbox run"
        MANUAL = "manual", "Manual reproduction"
        VENDOR_CONFIRMED = "vendor_confirmed", "Confirmed by the vendor"

    class Result(models.TextChoices):
        REPRODUCED = "reproduced", "Reproduced"
        NOT_REPRODUCED = "not_reproduced", "Not reproduced"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="verifications")
    method = models.CharField(max_length=20, choices=Method.choices)
    environment = models.TextField(help_text="Image digest or build recipe, affected version")
    runs = models.PositiveIntegerField()
    successes = models.PositiveIntegerField()
    result = models.CharField(max_length=20, choices=Result.choices)
    signature = models.TextField(blank=True, help_text="Crash or output signature")
    notes = models.TextField(blank=True)
    verified_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(successes__lte=models.F("runs")),
                                   name="verification_successes_within_runs"),
        ]

    def __str__(self) -> str:
        return f"{self.get_result_display()} ({self.successes}/{self.runs})"


class Participant(models.Model):
    """An organisation's part in a case, by Vultron role. Vendors are suggested from the
    report's products and take part once the coordinator confirms them."""

    class Role(models.TextChoices):
        FINDER = "finder", "Finder"
        REPORTER = "reporter", "Reporter"
        VENDOR = "vendor", "Vendor"
        COORDINATOR = "coordinator", "Coordinator"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="participants")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="case_participations")
    role = models.CharField(max_length=20, choices=Role.choices)
    # A suggested vendor is not yet a participant: it sees nothing until confirmed.
    confirmed = models.BooleanField(default=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reminded_7_at = models.DateTimeField(null=True, blank=True)
    reminded_14_at = models.DateTimeField(null=True, blank=True)
    # Set after 21 days without a statement: the vendor shows (and exports) as "no response".
    no_response_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "role", "organisation_id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "organisation", "role"],
                                    name="unique_case_participant"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} as {self.role} of {self.case_id}"


class ProductStatement(models.Model):
    """One vendor's statement on one product for one vulnerability, with CSAF's statuses plus
    disputed. A notified vendor starts under investigation; silence never becomes "not
    affected" (Participant.no_response_at)."""

    class Status(models.TextChoices):
        UNDER_INVESTIGATION = "under_investigation", "Under investigation"
        KNOWN_AFFECTED = "known_affected", "Known affected"
        FIXED = "fixed", "Fixed"
        KNOWN_NOT_AFFECTED = "known_not_affected", "Known not affected"
        DISPUTED = "disputed", "Disputed"

    class Justification(models.TextChoices):
        # CSAF 2.0 VEX flags (3.2.3.5).
        COMPONENT_NOT_PRESENT = "component_not_present", "Component not present"
        VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present", "Vulnerable code not present"
        VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = ("vulnerable_code_not_in_execute_path",
                                               "Vulnerable code not in execute path")
        VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = (
            "vulnerable_code_cannot_be_controlled_by_adversary",
            "Vulnerable code cannot be controlled by adversary")
        INLINE_MITIGATIONS_ALREADY_EXIST = ("inline_mitigations_already_exist",
                                            "Inline mitigations already exist")

    vulnerability = models.ForeignKey(Vulnerability, on_delete=models.PROTECT,
                                      related_name="statements")
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                               related_name="product_statements")
    product_name = models.CharField(max_length=200)
    purl = models.CharField(max_length=500, blank=True)
    cpe = models.CharField(max_length=500, blank=True)
    version_range = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices,
                              default=Status.UNDER_INVESTIGATION)
    justification = models.CharField(max_length=60, choices=Justification.choices, blank=True)
    reason = models.TextField(blank=True, help_text="Required when disputed")
    statement = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["vulnerability_id", "vendor_id", "product_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["vulnerability", "vendor", "product_name"],
                                    name="unique_product_statement"),
            models.CheckConstraint(
                condition=~Q(status="known_not_affected") | ~Q(justification=""),
                name="not_affected_has_a_justification"),
            models.CheckConstraint(condition=~Q(status="disputed") | ~Q(reason=""),
                                   name="disputed_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.product_name}: {self.status}"


class Remediation(models.Model):
    """What operators act on: a vendor's fix, workaround or mitigation for one product."""

    class Category(models.TextChoices):
        VENDOR_FIX = "vendor_fix", "Vendor fix"
        WORKAROUND = "workaround", "Workaround"
        MITIGATION = "mitigation", "Mitigation"
        NONE_AVAILABLE = "none_available", "None available"
        NO_FIX_PLANNED = "no_fix_planned", "No fix planned"

    statement = models.ForeignKey(ProductStatement, on_delete=models.PROTECT,
                                  related_name="remediations")
    category = models.CharField(max_length=20, choices=Category.choices)
    details = models.TextField()
    fixed_range = models.CharField(max_length=300, blank=True)
    url = models.URLField(blank=True, max_length=500)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    # The vendor's detached signature of the download (e.g. an armored OpenPGP or a Sigstore
    # bundle), shown to operators as given; the portal does not verify it.
    signature = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["statement_id", "created_at", "id"]

    def __str__(self) -> str:
        return self.get_category_display()


class CaseMessage(models.Model):
    """The case's thread, for every participant of the case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"Message #{self.pk}"


class Embargo(models.Model):
    """A case's embargo in Vultron's model: proposed → active → revise → active …, → exited.
    One row per case; a revision keeps the current end until every participant accepted the
    proposed one. The end is stored in UTC and never passes the ceiling
    (CLEARINGHOUSE_EMBARGO_CEILING_DAYS after first vendor contact)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        REVISE = "revise", "Revision proposed"
        EXITED = "exited", "Exited"
        REJECTED = "rejected", "Rejected"

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="embargo")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    ends_at = models.DateTimeField()
    # The zone the end was entered in, to show it back the way it was meant.
    entered_time_zone = models.CharField(max_length=64, default="UTC")
    proposed_ends_at = models.DateTimeField(null=True, blank=True)
    proposal_reason = models.TextField(blank=True)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    exit_reason = models.TextField(blank=True)
    exited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Embargo of {self.case_id}"


class EmbargoAcceptance(models.Model):
    """A participant's answer to the embargo's current proposal (Vultron's PEC states)."""

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        LAPSED = "lapsed", "Lapsed (a revision awaits)"

    embargo = models.ForeignKey(Embargo, on_delete=models.CASCADE, related_name="acceptances")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVITED)
    answered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["embargo_id", "organisation_id"]
        constraints = [
            models.UniqueConstraint(fields=["embargo", "organisation"],
                                    name="unique_embargo_acceptance"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.status}"


class Advisory(models.Model):
    """A generated advisory revision: CSAF 2.0 advisory and VEX, OSV records and the CVE 5 CNA
    container, each stored with its SHA-256 and its validator report. Never edited by hand."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="advisories")
    revision = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    tracking_id = models.CharField(max_length=60)
    csaf = models.JSONField()
    vex = models.JSONField()
    osv = models.JSONField(help_text="A list of OSV records")
    cve = models.JSONField(help_text="The CVE 5 CNA container")
    hashes = models.JSONField(default=dict)
    validation = models.JSONField(default=dict)
    generated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    generated_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["case_id", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["case", "revision"], name="unique_advisory_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_id} rev {self.revision}"
