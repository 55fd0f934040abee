"""Operators' inventories and their exposures to clearinghouse vulnerabilities (issue 12).

Confidentiality: what an operator runs is its secret. An asset's descriptive fields (name,
vendor, product, version, package URL, CPE) are one Fernet-encrypted JSON blob
(`Asset.details_encrypted`, review_portal/crypto.py, rotatable keys). Matching needs
equality on product identity, so each asset also carries keyed HMAC-SHA256 blind indexes of
its product keys (`exposures/keys.py`): the package URL's key (pkg:type/namespace/name, as
clearinghouse/products.py writes it), the CPE's vendor:product and a normalised vendor/product
name. A database dump shows neither names nor versions, only which operators share a product.
Versions are decrypted only for the assets whose index matched an affected product.

Exposure statuses move only through exposures/workflow.py; services change them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

User = settings.AUTH_USER_MODEL


class SSVC:
    """CERT/CC SSVC 2.x decision point values (deployer tree). The decision table itself is
    versioned data in exposures/ssvc.py."""

    class Exploitation(models.TextChoices):
        NONE = "none", "None"
        PUBLIC_POC = "public_poc", "Public PoC"
        ACTIVE = "active", "Active"

    class Automatable(models.TextChoices):
        NO = "no", "No"
        YES = "yes", "Yes"

    class SystemExposure(models.TextChoices):
        SMALL = "small", "Small"
        CONTROLLED = "controlled", "Controlled"
        OPEN = "open", "Open"

    class MissionImpact(models.TextChoices):
        DEGRADED = "degraded", "Degraded"
        MEF_SUPPORT_CRIPPLED = "mef_support_crippled", "MEF support crippled"
        MEF_FAILURE = "mef_failure", "MEF failure"
        MISSION_FAILURE = "mission_failure", "Mission failure"

    class SafetyImpact(models.TextChoices):
        NEGLIGIBLE = "negligible", "Negligible"
        MARGINAL = "marginal", "Marginal"
        CRITICAL = "critical", "Critical"
        CATASTROPHIC = "catastrophic", "Catastrophic"

    class HumanImpact(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        VERY_HIGH = "very_high", "Very high"

    class Priority(models.TextChoices):
        DEFER = "defer", "Defer"
        SCHEDULED = "scheduled", "Scheduled"
        OUT_OF_CYCLE = "out_of_cycle", "Out-of-cycle"
        IMMEDIATE = "immediate", "Immediate"


class VulnerabilityAssessment(models.Model):
    """The coordinator's SSVC view of one clearinghouse vulnerability: exploitation and
    automatability (the case-wide inputs of the deployer decision). `version` bumps on each
    change; an exposure's priority records the version it was computed from, so a change
    re-computes and re-notifies once."""

    vulnerability = models.OneToOneField("clearinghouse.Vulnerability", on_delete=models.PROTECT,
                                         related_name="ssvc")
    exploitation = models.CharField(max_length=20, choices=SSVC.Exploitation.choices,
                                    default=SSVC.Exploitation.NONE)
    automatable = models.CharField(max_length=5, choices=SSVC.Automatable.choices,
                                   default=SSVC.Automatable.NO)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"SSVC of vulnerability {self.vulnerability_id}"


class TermsAcceptance(models.Model):
    """An operator organisation accepted the clearinghouse's pre-disclosure terms (TLP:AMBER
    handling) in a given version. Without an acceptance of the current version an operator
    hears of a vulnerability only at publication."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="terms_acceptances")
    terms_version = models.CharField(max_length=20)
    accepted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation_id", "-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "terms_version"],
                                    name="unique_terms_acceptance"),
        ]

    def __str__(self) -> str:
        return f"Terms {self.terms_version} accepted by {self.organisation_id}"


class Inventory(models.Model):
    """One named inventory of an operator (an SBOM or a CSV), imported again to update it."""

    class Format(models.TextChoices):
        CYCLONEDX_JSON = "cyclonedx_json", "CycloneDX (JSON)"
        CYCLONEDX_XML = "cyclonedx_xml", "CycloneDX (XML)"
        SPDX_JSON = "spdx_json", "SPDX (JSON)"
        SPDX_TAG_VALUE = "spdx_tv", "SPDX (tag-value)"
        CSV = "csv", "CSV (vendor, product, version)"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="inventories")
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=20, choices=Format.choices)
    # The SSVC deployer inputs new assets of this inventory start with (each asset may differ).
    default_exposure = models.CharField(max_length=20, choices=SSVC.SystemExposure.choices,
                                        default=SSVC.SystemExposure.CONTROLLED)
    default_mission_impact = models.CharField(max_length=30, choices=SSVC.MissionImpact.choices,
                                              default=SSVC.MissionImpact.MEF_SUPPORT_CRIPPLED)
    default_safety_impact = models.CharField(max_length=20, choices=SSVC.SafetyImpact.choices,
                                             default=SSVC.SafetyImpact.MARGINAL)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_inventory_name"),
        ]

    def __str__(self) -> str:
        # Not the name: audit events and the admin label inventories, and an inventory's name
        # is its operator's (coordinators see counts only).
        return f"Inventory #{self.pk}"


class InventoryImport(models.Model):
    """One upload into an inventory: what it changed. The file itself is not kept."""

    inventory = models.ForeignKey(Inventory, on_delete=models.PROTECT, related_name="imports")
    format = models.CharField(max_length=20, choices=Inventory.Format.choices)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["inventory_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import #{self.pk} of inventory {self.inventory_id}"


class Asset(models.Model):
    """Something an operator runs. `identity` (a blind index of the product identity without
    its version) is what a re-import matches on, so a new version updates the asset instead of
    adding one. An asset missing from the latest import is marked removed, not deleted (its
    exposures' history stays)."""

    inventory = models.ForeignKey(Inventory, on_delete=models.PROTECT, related_name="assets")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="assets")
    identity = models.CharField(max_length=64)
    # Fernet token of {"name", "vendor", "product", "version", "purl", "cpe"} (keys.py).
    details_encrypted = models.BinaryField()
    purl_index = models.CharField(max_length=64, blank=True, db_index=True)
    cpe_index = models.CharField(max_length=64, blank=True, db_index=True)
    product_index = models.CharField(max_length=64, blank=True, db_index=True)
    exposure = models.CharField(max_length=20, choices=SSVC.SystemExposure.choices)
    mission_impact = models.CharField(max_length=30, choices=SSVC.MissionImpact.choices)
    safety_impact = models.CharField(max_length=20, choices=SSVC.SafetyImpact.choices)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["inventory_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["inventory", "identity"],
                                    name="unique_asset_identity"),
        ]

    def __str__(self) -> str:
        return f"Asset #{self.pk}"


class Exposure(models.Model):
    """One asset of an operator is (or may be) affected by one vulnerability, through one vendor
    statement. Rows are written by matching (exposures/matching.py) whatever the embargo; the
    operator sees a row only once it is released to it (`released_at`, exposures/disclosure.py).
    """

    class Method(models.TextChoices):
        PURL = "purl", "Package URL and version range"
        CPE = "cpe", "CPE"
        PRODUCT = "product", "Vendor and product name (to confirm)"

    class Confidence(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        PATCHED = "patched", "Patched"
        MITIGATED = "mitigated", "Mitigated"
        NOT_AFFECTED = "not_affected", "Not affected"
        RISK_ACCEPTED = "risk_accepted", "Risk accepted"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="exposures")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="exposures")
    vulnerability = models.ForeignKey("clearinghouse.Vulnerability", on_delete=models.PROTECT,
                                      related_name="exposures")
    statement = models.ForeignKey("clearinghouse.ProductStatement", on_delete=models.PROTECT,
                                  related_name="exposures")
    method = models.CharField(max_length=10, choices=Method.choices)
    confidence = models.CharField(max_length=10, choices=Confidence.choices)
    match_detail = models.CharField(max_length=300, blank=True,
                                    help_text="e.g. 'version 1.2.3 in vers:pypi/<1.4.2'")
    # False once the statement no longer covers the asset (range narrowed, not affected, asset
    # removed); kept for history, never shown as a live exposure.
    active = models.BooleanField(default=True)
    # A vendor/product match counts only once the operator confirms it.
    confirmed = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW,
                              db_index=True)
    justification = models.CharField(max_length=60, blank=True,
                                     help_text="CSAF VEX justification when not affected")
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    # The SSVC deployer decision, the inputs it came from and the table version (ssvc.py).
    priority = models.CharField(max_length=20, choices=SSVC.Priority.choices, blank=True)
    priority_inputs = models.JSONField(default=dict)
    priority_table = models.CharField(max_length=60, blank=True)
    # The assessment version the priority was computed from (re-notify once per change).
    assessment_version = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # How it was released: before publication (pre-disclosure) or at publication.
    released_before_publication = models.BooleanField(default=False)
    notified_version = models.PositiveIntegerField(default=0)
    # The priority when the operator settled it (patched, mitigated, not affected, risk
    # accepted): a higher priority later reopens it (exposures/services.py, exposure_reopen).
    settled_priority = models.CharField(max_length=20, choices=SSVC.Priority.choices,
                                        blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation_id", "id"]
        indexes = [models.Index(fields=["organisation", "released_at"],
                                name="exposure_operator_released")]
        constraints = [
            models.UniqueConstraint(fields=["asset", "vulnerability"],
                                    name="unique_exposure_per_asset"),
            models.CheckConstraint(condition=~Q(status="not_affected") | ~Q(justification=""),
                                   name="exposure_not_affected_has_a_justification"),
        ]

    def __str__(self) -> str:
        return f"Exposure #{self.pk}"
