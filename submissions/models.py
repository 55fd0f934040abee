import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Modality(models.TextChoices):
    TEXT = "text", "Text"
    CODE = "code", "Code"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
    TOOL_USE = "tool_use", "Tool use / agentic"


class ComputeMethod(models.TextChoices):
    ARITHMETIC = "arithmetic", "Arithmetic (6 × parameters × tokens)"
    HARDWARE = "hardware", "Hardware (GPU-hours × peak FLOP/s × utilisation)"
    OTHER = "other", "Other (described)"


class FrontierModel(models.Model):
    """One version of an AI developer's model, registered for the voluntary program."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="frontier_models")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=50)
    description = models.TextField()
    modalities = models.JSONField(default=list)
    training_compute_flop = models.FloatField(help_text="Estimated training compute in FLOP")
    compute_estimation_method = models.CharField(max_length=20, choices=ComputeMethod.choices)
    compute_estimation_notes = models.TextField(blank=True)
    planned_partner_release_at = models.DateTimeField()
    planned_public_release_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Every list ordering ends with the primary key (a unique tie-breaker, so a cursor page
        # never skips or repeats a row) and has an index that reads it in order.
        ordering = ["name", "version", "id"]
        indexes = [models.Index(fields=["name", "version", "id"], name="model_list_order")]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name", "version"],
                                    name="unique_model_version_per_org"),
        ]
        default_permissions = ("add", "change", "view")

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class FrontierModelUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(FrontierModel, on_delete=models.CASCADE)


class FrontierModelGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(FrontierModel, on_delete=models.CASCADE)


class ReviewRequest(models.Model):
    """A developer's voluntary request for a covered-frontier-model determination."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        INFORMATION_REQUESTED = "information_requested", "Information requested"
        DETERMINED = "determined", "Determined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    model = models.ForeignKey(FrontierModel, on_delete=models.PROTECT,
                              related_name="review_requests")
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.DRAFT,
                              db_index=True)
    cover_note = models.TextField(blank=True,
                                  help_text="What the developer wants reviewers to know")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="request_list_order")]
        constraints = [
            # One live request per model version; a withdrawn one may be followed by a new one.
            models.UniqueConstraint(fields=["model"], condition=~Q(status="withdrawn"),
                                    name="one_live_request_per_model"),
        ]
        default_permissions = ("add", "change", "view")

    def __str__(self) -> str:
        return f"Request #{self.pk} ({self.model})"


class ReviewRequestUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE)


class ReviewRequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE)


class Recommendation(models.TextChoices):
    """What the threshold policy (and each reviewer) recommends. Agency-only vocabulary."""

    COVERED = "covered", "Covered"
    NOT_COVERED = "not_covered", "Not covered"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence", "Insufficient evidence"


class Determination(models.Model):
    """The outcome of a review. Kept as history: reconsideration adds a new one.

    The developer reads the outcome and the rationale only. Everything below `internal_notes`
    is the agency's: the policy version the recommendation came from, whether the lead
    overrode it and why, and the runs and reviews the determination rests on.
    """

    class Outcome(models.TextChoices):
        COVERED = "covered", "Covered frontier model"
        NOT_COVERED = "not_covered", "Not a covered frontier model"

    request = models.ForeignKey(ReviewRequest, on_delete=models.PROTECT,
                                related_name="determinations")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rationale = models.TextField(help_text="Written for the developer")
    internal_notes = models.TextField(blank=True,
                                      help_text="Agency only; never shown to the developer")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    # Null only on determinations recorded before threshold policies existed.
    policy_version = models.ForeignKey("reviews.PolicyVersion", on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="determinations")
    recommendation = models.CharField(max_length=30, choices=Recommendation.choices,
                                      blank=True)
    overridden = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True, help_text="Agency only")
    runs = models.ManyToManyField("evaluations.EvaluationRun", blank=True,
                                  related_name="determinations")
    reviews = models.ManyToManyField("reviews.Review", blank=True,
                                     related_name="determinations")

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} for {self.request}"


class ReviewerAssignment(models.Model):
    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE,
                                related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="review_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    # The lead records the determination and reads the other reviews at any time.
    is_lead = models.BooleanField(default=False)

    class Meta:
        ordering = ["assigned_at", "id"]
        indexes = [models.Index(fields=["assigned_at", "id"], name="assignment_list_order")]
        constraints = [
            models.UniqueConstraint(fields=["request", "reviewer"], name="unique_assignment"),
            models.UniqueConstraint(fields=["request"], condition=Q(is_lead=True),
                                    name="one_lead_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.request}"


class Message(models.Model):
    """The thread between the developer and the reviewers on one request."""

    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE,
                                related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    from_agency = models.BooleanField()
    body = models.TextField(max_length=20_000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Message #{self.pk} on {self.request}"


class Artifact(models.Model):
    class Kind(models.TextChoices):
        MODEL_CARD = "model_card", "Model card"
        SYSTEM_CARD = "system_card", "System card"
        EVALUATION_REPORT = "evaluation_report", "Developer's evaluation report"

    request = models.ForeignKey(ReviewRequest, on_delete=models.PROTECT,
                                related_name="artifacts")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    filename = models.CharField(max_length=200, help_text="Sanitised original name")
    content_type = models.CharField(max_length=100, help_text="Detected from the content")
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Name of the encrypted file in storages["artifacts"] (a folder or the bucket); never served
    # by a URL, only by the permission-checked views.
    storage_path = models.CharField(max_length=300, unique=True)
    marking = models.CharField(max_length=100, default="CONFIDENTIAL // PROPRIETARY")
    # The developer marks what trusted partners with a live grant on the model may read.
    shareable_with_partners = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename


class AccessWindow(models.Model):
    """A time-boxed period of access to a model. This issue: the government's pre-release window."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", "Government pre-release access"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    model = models.ForeignKey(FrontierModel, on_delete=models.PROTECT, related_name="windows")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.GOVERNMENT)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Set when a later change (e.g. a moved release date) makes the window break a rule. The
    # window is never silently changed: admins see the flag and the developer fixes it.
    flag_reason = models.TextField(blank=True)
    # The government's access token for the developer's gateway (introspection): only its
    # SHA-256 is stored, the token is shown once. The organisation is the agency or program
    # office that holds it.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_hint = models.CharField(max_length=12, blank=True)
    # When the current token was issued (introspection's `iat`).
    token_issued_at = models.DateTimeField(null=True, blank=True)
    token_organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    TOKEN_PREFIX = "fgw_"

    class Meta:
        ordering = ["starts_at", "id"]
        # Window tracking pages a date range in (starts_at, id) order: windows that end after
        # the range's start (ends_at) and start before its end (starts_at).
        indexes = [models.Index(fields=["starts_at", "id"], name="window_starts_at_id"),
                   models.Index(fields=["ends_at", "id"], name="window_ends_at_id")]
        constraints = [
            models.UniqueConstraint(fields=["model", "kind"], condition=Q(status="scheduled"),
                                    name="one_scheduled_window_per_model_and_kind"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="window_starts_before_it_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.model}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_flagged(self) -> bool:
        return bool(self.flag_reason)

    @property
    def has_ended(self) -> bool:
        return self.ends_at <= timezone.now()
