"""Trusted partners: vetting, early-access requests, terms of access and grants.

Grants and requests are history: they are never deleted; a grant ends by its clock or by a
revocation, both recorded on the row and in the audit trail.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q


class PartnerProfile(models.Model):
    """A partner organisation's application and its vetting status."""

    class Sector(models.TextChoices):
        HEALTHCARE = "healthcare", "Healthcare (e.g. rural hospital)"
        FINANCE = "finance", "Finance (e.g. community bank)"
        UTILITIES = "utilities", "Utilities (energy, water)"
        CYBERSECURITY = "cybersecurity", "Cybersecurity firm"
        RESEARCH = "research", "Research institution"
        GOVERNMENT = "government", "State or local government"
        OTHER = "other", "Other critical infrastructure"

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        VETTED = "vetted", "Vetted"
        SUSPENDED = "suspended", "Suspended"
        REVOKED = "revoked", "Revoked"

    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.PROTECT,
                                        related_name="partner_profile")
    sector = models.CharField(max_length=20, choices=Sector.choices)
    protects = models.TextField(help_text="What the organisation protects")
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=50, blank=True)
    justification = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPLIED,
                              db_index=True)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"Partner profile of {self.organisation_id}"


class AccessRequest(models.Model):
    """A partner organisation's request for early access to one covered model, for one window."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending approvals"
        APPROVED = "approved", "Approved, waiting for accepted terms"
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"
        WITHDRAWN = "withdrawn", "Withdrawn"

    model = models.ForeignKey("submissions.FrontierModel", on_delete=models.PROTECT,
                              related_name="access_requests")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="access_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    # True when the developer invited the partner rather than the partner asking.
    invited = models.BooleanField(default=False)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    justification = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    developer_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                              on_delete=models.PROTECT, related_name="+")
    developer_approved_at = models.DateTimeField(null=True, blank=True)
    agency_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    agency_approved_at = models.DateTimeField(null=True, blank=True)
    denied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    denial_reason = models.TextField(blank=True)
    # A denied request may be reconsidered once; this records that it was.
    reconsidered_at = models.DateTimeField(null=True, blank=True)
    reconsideration_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="access_request_list_order")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="access_request_starts_before_it_ends"),
        ]

    def __str__(self) -> str:
        return f"Access request #{self.pk}"


class TermsVersion(models.Model):
    """The developer's terms of access for one model. The highest version is current."""

    model = models.ForeignKey("submissions.FrontierModel", on_delete=models.PROTECT,
                              related_name="terms_versions")
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="unique_terms_version"),
        ]

    def __str__(self) -> str:
        return f"Terms v{self.version} for model {self.model_id}"


class TermsAcceptance(models.Model):
    """A named member of a partner organisation accepted one version of a model's terms."""

    terms = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    accepted_name = models.CharField(max_length=200, help_text="The name the person signed")
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["terms", "organisation"],
                                    name="one_acceptance_per_terms_and_org"),
        ]

    def __str__(self) -> str:
        return f"Acceptance of {self.terms} by {self.organisation_id}"


class AccessGrant(models.Model):
    """Access of one partner organisation to one model for [starts_at, ends_at).

    Live only while now is inside the window, it is not revoked and the organisation is still
    vetted: selectors and introspection check that on every call, so access ends at the window's
    end even if the sweep that removes the guardian permission never ran.
    """

    request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, related_name="grant")
    model = models.ForeignKey("submissions.FrontierModel", on_delete=models.PROTECT,
                              related_name="access_grants")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="access_grants")
    terms_acceptance = models.ForeignKey(TermsAcceptance, on_delete=models.PROTECT,
                                         related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Only the SHA-256 of the access token is stored; the token is shown once, when issued.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_hint = models.CharField(max_length=12, blank=True)
    # When the current token was issued (introspection's `iat`).
    token_issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    revoke_reason = models.TextField(blank=True)
    # Set by the sweep once the guardian permission is removed (claim, so it runs once).
    permissions_removed_at = models.DateTimeField(null=True, blank=True)

    TOKEN_PREFIX = "frg_"

    class Meta:
        ordering = ["-starts_at", "-id"]
        # Window tracking and the feeds read grants by date range: those that end after a
        # moment (the range's start, the feed's horizon), in (starts_at, id) order. The API's
        # list reads the first of these backwards (newest first); a partner's list its own.
        indexes = [models.Index(fields=["starts_at", "id"], name="grant_starts_at_id"),
                   models.Index(fields=["ends_at", "id"], name="grant_ends_at_id"),
                   models.Index(fields=["organisation", "-starts_at", "-id"],
                                name="grant_list_order_by_org")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="grant_starts_before_it_ends"),
        ]

    def __str__(self) -> str:
        return f"Access grant #{self.pk}"

    def delete(self, *args, **kwargs):
        raise RuntimeError("Access grants are history and are never deleted; revoke instead.")

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(models.Model):
    """A user's secret iCalendar feed URL. Only the SHA-256 of its token is stored; the URL is
    shown once. Revoked feeds are kept (revoked_at) so the profile can say when."""

    TOKEN_PREFIX = "frc_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(revoked_at__isnull=True),
                                    name="one_live_calendar_feed_per_user"),
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.token_hint}… of {self.user_id}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class GatewayClient(models.Model):
    """A developer organisation's model gateway, registered as an OAuth 2.0 client of the
    introspection endpoint: it authenticates with HTTP Basic (client_secret_basic, RFC 7662
    §2.1) and learns only about its own organisation's models. Only the SHA-256 of the secret is
    stored; the secret is shown once, when created or rotated. Revoked clients are kept."""

    CLIENT_ID_PREFIX = "gwc_"
    SECRET_PREFIX = "gws_"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="gateway_clients")
    name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=40, unique=True)
    secret_hash = models.CharField(max_length=64)
    secret_hint = models.CharField(max_length=12)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    # Recorded at most once a minute (partners.gateway.gateway_client_record_use).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class ModelGateway(models.Model):
    """The address a developer published for its model's gateway: where trusted partners call
    the granted model (shown on the granted-model page; GATEWAY_URL when none is published)."""

    model = models.OneToOneField("submissions.FrontierModel", on_delete=models.CASCADE,
                                 related_name="gateway")
    url = models.URLField(max_length=500)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    published_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Gateway of model {self.model_id}: {self.url}"
