"""Notifications: one row per (user, kind, object, occasion), claimed before anything is sent.

The unique constraint is what makes every notification happen once: a service or a beat job
that runs twice finds the row there and sends nothing. Titles and bodies carry only what every
recipient may see (numbers, a model's name, dates); the details stay behind the login.
"""

from django.conf import settings
from django.db import models


class NotificationPreference(models.Model):
    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", "An email for each notification"
        DIGEST = "digest", "One daily digest email"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    delivery = models.CharField(max_length=10, choices=Delivery.choices,
                                default=Delivery.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.delivery}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        REQUEST_RECEIVED = "request_received", "Request received"
        APPROVAL_NEEDED = "approval_needed", "Approval needed"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        ACCESS_GRANTED = "access_granted", "Access granted"
        WINDOW_STARTS = "window_starts", "Window starts"
        WINDOW_ENDS_SOON = "window_ends_soon", "Window ends in 3 days"
        WINDOW_ENDED = "window_ended", "Window ended"
        ACCESS_REVOKED = "access_revoked", "Access revoked"
        ACCESS_UNUSED = "access_unused", "Access not used"
        PARTNER_STATUS = "partner_status", "Partner organisation status"
        REQUEST_STATUS = "request_status", "Determination request update"
        REVIEWER_ASSIGNED = "reviewer_assigned", "Assigned to review"
        WINDOW_FLAGGED = "window_flagged", "Access window flagged"
        AUDIT_TRAIL_BROKEN = "audit_trail_broken", "Audit trail failed verification"
        # The clearinghouse (issue 11).
        REPORT_STATUS = "report_status", "Vulnerability report update"
        MEMBER_STATUS = "member_status", "Clearinghouse membership status"
        CASE_VENDOR_NOTIFIED = "case_vendor_notified", "A case needs your statement"
        CASE_UPDATE = "case_update", "Case update"
        CASE_MESSAGE = "case_message", "New message on a case"
        STATEMENT_REMINDER = "statement_reminder", "A case still waits for your statement"
        EMBARGO_UPDATE = "embargo_update", "Embargo update"
        ADVISORY_PUBLISHED = "advisory_published", "Advisory published"
        # Operators' exposures (issue 12): immediate / out-of-cycle at once, the rest daily.
        EXPOSURE_URGENT = "exposure_urgent", "A fix to apply now for something you run"
        EXPOSURES_DIGEST = "exposures_digest", "Daily summary of your exposures in a case"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # The object it is about, as "app_label.model" and its id (no FK: any kind of object).
    object_type = models.CharField(max_length=60)
    object_id = models.PositiveBigIntegerField()
    # Tells apart two notifications of one kind on one object (e.g. denied again after a
    # reconsideration); "" when the kind happens once per object.
    occasion = models.CharField(max_length=60, blank=True, default="")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when an email (immediate or in a digest) carried it; claimed under a row lock.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "object_type", "object_id",
                                            "occasion"], name="one_notification_per_occasion"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_inbox_order"),
            models.Index(fields=["emailed_at", "user"], name="notification_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id} ({self.object_type} #{self.object_id})"


class GrantUsage(models.Model):
    """When a partner grant was last used: its token introspected active, or the granted
    model's page viewed. Kept apart from the grant so that recording a use is one upsert."""

    grant = models.OneToOneField("partners.AccessGrant", on_delete=models.CASCADE,
                                 related_name="usage")
    first_used_at = models.DateTimeField()
    last_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Usage of grant {self.grant_id}"
