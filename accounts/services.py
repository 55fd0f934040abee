import secrets
from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts import time_zones
from accounts.models import ApiToken, Membership, Organisation, User
from audit.services import audit_record
from review_portal.errors import ApplicationError

PROGRAM_OFFICE_GLOBAL_PERMS = ("submissions.view_frontiermodel", "submissions.view_reviewrequest")


@transaction.atomic
def organisation_create(*, name: str, kind: str, actor: User | None = None) -> Organisation:
    group = Group.objects.create(name=f"org:{name}")
    org = Organisation(name=name, kind=kind, group=group)
    org.full_clean()
    org.save()
    if kind == Organisation.Kind.PROGRAM_OFFICE:
        # Program admins oversee the whole program: a global read permission, held by the group.
        for perm in PROGRAM_OFFICE_GLOBAL_PERMS:
            assign_perm(perm, group)
    audit_record(actor=actor, action="organisation.created", obj=org, organisation=org,
                 data={"kind": kind})
    return org


@transaction.atomic
def membership_create(*, user: User, organisation: Organisation,
                      actor: User | None = None) -> Membership:
    """Join a user to an organisation with the role its kind implies, and to its group."""
    if Membership.objects.filter(user=user).exists():
        raise ApplicationError(f"{user.username} already belongs to an organisation.")
    role = Membership.ROLE_FOR_KIND[Organisation.Kind(organisation.kind)]
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.full_clean()
    membership.save()
    user.groups.add(organisation.group)
    audit_record(actor=actor, action="membership.created", obj=membership,
                 organisation=organisation, data={"user": user.username, "role": role})
    return membership


@transaction.atomic
def user_create(*, username: str, email: str, password: str | None, organisation: Organisation,
                first_name: str = "", last_name: str = "", actor: User | None = None) -> User:
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    membership_create(user=user, organisation=organisation, actor=actor)
    return user


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never retrievable again."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the token a name, so you can recognise it later.",
                               field="name")
    key = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name[:100], key_hash=ApiToken.hash_key(key),
                     hint=key[:10])
    token.full_clean()
    token.save()
    audit_record(actor=user, action="api_token.created", obj=token, data={"name": token.name})
    return token, key


TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def api_token_record_use(*, token: ApiToken) -> None:
    """Record that the token was just used, at most once a minute: a gateway calling many
    times a second would otherwise write the row on every request. The condition is in the
    UPDATE, so concurrent requests of the same minute still write once; the token as loaded
    tells whether to try, so a recently used token costs no query at all."""
    now = timezone.now()
    stale = now - TOKEN_USE_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    (ApiToken.objects.filter(pk=token.pk)
     .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale))
     .update(last_used_at=now))
    token.last_used_at = now


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_token.revoked", obj=token,
                     data={"name": token.name})
    return token


MFA_AUDIT_NAMES = {"webauthn": "key", "totp": "totp", "recovery_codes": "recovery_codes"}


def mfa_change_record(*, user: User, authenticator, change: str, authenticator_id=None) -> None:
    """Audit a second factor added to or removed from an account (allauth's MFA writes the
    rows; its signals call this). `change` is "added" or "removed"."""
    kind = MFA_AUDIT_NAMES.get(authenticator.type, authenticator.type)
    data = {"type": authenticator.type, "authenticator_id": authenticator.pk or authenticator_id}
    if authenticator.type == "webauthn":
        data["name"] = authenticator.data.get("name", "")
        data["passkey"] = bool(authenticator.wrap().is_passwordless)
    membership = user.membership_or_none
    audit_record(actor=user, action=f"mfa.{kind}_{change}", obj=user,
                 organisation=membership.organisation if membership else None, data=data)


def user_set_time_zone(*, user: User, time_zone: str) -> User:
    """The zone the user's pages show times in (and forms start in). UTC clears the choice."""
    time_zone = (time_zone or "").strip()
    if time_zone not in time_zones.names():
        raise ApplicationError("Choose a time zone from the list, e.g. America/New_York.",
                               field="time_zone")
    user.time_zone = "" if time_zone == time_zones.UTC_NAME else time_zone
    user.save(update_fields=["time_zone"])
    return user
