import hashlib

from django.contrib.auth.models import AbstractUser, Group
from django.db import models


class User(AbstractUser):
    """The portal's user. Custom from the first migration so it can grow without a data move."""

    email = models.EmailField("email address", unique=True)
    # The IANA zone the user's pages show times in (accounts/time_zones.py); blank: UTC.
    time_zone = models.CharField(max_length=64, blank=True, default="")

    @property
    def membership_or_none(self) -> "Membership | None":
        try:
            return self.membership
        except Membership.DoesNotExist:
            return None


class Organisation(models.Model):
    class Kind(models.TextChoices):
        AI_DEVELOPER = "ai_developer", "AI developer"
        PARTNER = "partner", "Trusted partner"
        AGENCY = "agency", "Agency"
        PROGRAM_OFFICE = "program_office", "Program office"
        # The clearinghouse's members (issue 11): software or device suppliers and open-source
        # projects, and critical-infrastructure operators. Vetted as partners are.
        VENDOR = "vendor", "Vendor"
        OPERATOR = "operator", "Infrastructure operator"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Object permissions are granted to this group, never to single users (guardian at scale).
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organisation")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user belongs to exactly one organisation, with one role that fits its kind."""

    class Role(models.TextChoices):
        DEVELOPER = "developer", "Developer"
        REVIEWER = "reviewer", "Agency reviewer"
        PARTNER = "partner", "Trusted partner member"
        PROGRAM_ADMIN = "program_admin", "Program admin"
        VENDOR = "vendor", "Vendor member"
        OPERATOR = "operator", "Operator member"

    ROLE_FOR_KIND = {
        Organisation.Kind.AI_DEVELOPER: Role.DEVELOPER,
        Organisation.Kind.AGENCY: Role.REVIEWER,
        Organisation.Kind.PARTNER: Role.PARTNER,
        Organisation.Kind.PROGRAM_OFFICE: Role.PROGRAM_ADMIN,
        Organisation.Kind.VENDOR: Role.VENDOR,
        Organisation.Kind.OPERATOR: Role.OPERATOR,
    }

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                     related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"

    @property
    def is_government(self) -> bool:
        return self.role in (self.Role.REVIEWER, self.Role.PROGRAM_ADMIN)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once, at creation."""

    PREFIX = "frp_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="First characters, to recognise a token")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
