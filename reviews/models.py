"""The reviewer workflow (conflicts of interest, recusals, rubric reviews) and the threshold
policy that turns evaluation metrics into a recommendation.

All of it is the agency's: developers never see a rubric, a review's scores, internal comments,
a reviewer's identity, a policy or a rule. After a determination they may read the reviewers'
comments written for them, anonymised.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from evaluations.models import Capability
from submissions.models import Recommendation

SCORE_MIN, SCORE_MAX = 0, 4


class ConflictOfInterest(models.Model):
    """A reviewer's declared conflict with an AI developer organisation. It blocks assignment to
    any request about a model of that organisation."""

    class Kind(models.TextChoices):
        EMPLOYMENT = "employment", "Employment (current or recent)"
        FINANCIAL = "financial", "Financial interest"
        PERSONAL = "personal_relationship", "Personal relationship"
        COMPETITOR = "competitor", "Competitor"
        OTHER = "other", "Other"

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="conflicts")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    note = models.TextField(max_length=5_000)
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-declared_at", "-id"]
        indexes = [models.Index(fields=["-declared_at", "-id"], name="conflict_list_order")]
        constraints = [
            models.UniqueConstraint(fields=["reviewer", "organisation"],
                                    name="one_conflict_per_reviewer_and_organisation"),
        ]
        verbose_name = "conflict of interest"
        verbose_name_plural = "conflicts of interest"

    def __str__(self) -> str:
        return f"{self.reviewer} × {self.organisation} ({self.get_kind_display()})"


class Recusal(models.Model):
    """The record a reviewer leaves when stepping off a request. The assignment itself is gone
    (with the access it gave); this row stays, and blocks a new assignment to the request."""

    request = models.ForeignKey("submissions.ReviewRequest", on_delete=models.PROTECT,
                                related_name="recusals")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="recusals")
    note = models.TextField(max_length=5_000)
    was_lead = models.BooleanField(default=False)
    recused_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recused_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "reviewer"], name="one_recusal_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} recused from {self.request}"


class RubricVersion(models.Model):
    """One version of the scoring rubric. `dimensions` is the data: a list of
    {"key", "name", "guidance"}, each scored 0–4. Immutable once any review uses it."""

    number = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)
    dimensions = models.JSONField(default=list)
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True),
                                    name="one_active_rubric"),
        ]

    def __str__(self) -> str:
        return f"Rubric v{self.number}: {self.name}"

    @property
    def dimension_keys(self) -> list[str]:
        return [d["key"] for d in self.dimensions]


class Review(models.Model):
    """One reviewer's independent scoring of the model of one request. Draft, then submitted
    (final)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    class Confidence(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    request = models.ForeignKey("submissions.ReviewRequest", on_delete=models.PROTECT,
                                related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="reviews")
    rubric_version = models.ForeignKey(RubricVersion, on_delete=models.PROTECT,
                                       related_name="reviews")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # {dimension key: 0..4}; complete once submitted.
    scores = models.JSONField(default=dict, blank=True)
    recommendation = models.CharField(max_length=30, choices=Recommendation.choices,
                                      blank=True)
    confidence = models.CharField(max_length=10, choices=Confidence.choices, blank=True)
    comments_for_developer = models.TextField(max_length=20_000, blank=True)
    internal_comments = models.TextField(max_length=20_000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        indexes = [models.Index(fields=["submitted_at", "id"], name="review_list_order")]
        constraints = [
            models.UniqueConstraint(fields=["request", "reviewer"],
                                    name="one_review_per_reviewer_and_request"),
        ]

    def __str__(self) -> str:
        return f"Review #{self.pk} of {self.request}"

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED


class PolicyVersion(models.Model):
    """One version of the confidential threshold policy: its rules are rows of PolicyRule.
    Exactly one version is active; a version any determination rests on is immutable."""

    number = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True),
                                    name="one_active_policy"),
        ]

    def __str__(self) -> str:
        return f"Policy v{self.number}: {self.name}"


class PolicyRule(models.Model):
    """A rule fires when its measured value is at or above `threshold`."""

    class Kind(models.TextChoices):
        CATEGORY_ACCURACY = "category_accuracy", "Benchmark category accuracy"
        TRAINING_COMPUTE = "training_compute", "Estimated training compute (FLOP)"

    policy = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=30, choices=Kind.choices)
    category = models.CharField(max_length=50, choices=Capability.choices, blank=True)
    threshold = models.FloatField()
    citation = models.TextField(max_length=2_000)

    class Meta:
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="unique_rule_position"),
            models.CheckConstraint(
                condition=(Q(kind="category_accuracy") & ~Q(category=""))
                | (Q(kind="training_compute") & Q(category="")),
                name="rule_category_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.CATEGORY_ACCURACY:
            return f"{self.get_category_display()} accuracy ≥ {self.threshold:g}"
        return f"Training compute ≥ {self.threshold:.3g} FLOP"
