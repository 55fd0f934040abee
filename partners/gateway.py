"""The developer's model gateway: its client credentials, the address it is published at, and the
RFC 7662 answer that introspection and the reference gateway's check (deploy/gateway/) share.

A gateway authenticates as a client of its developer organisation (HTTP Basic, RFC 7662 §2.1)
and only ever learns about that organisation's models: any other token answers
`{"active": false}`, the same as an unknown one. The answer is decided from the grant's (or the
government window's) dates at the moment of the call, never from a sweep, so access ends at the
window's end everywhere at once.
"""

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import policy
from accounts.models import User
from audit.services import audit_record
from notifications.services import grant_mark_used_later
from partners.models import AccessGrant, GatewayClient, ModelGateway
from review_portal.errors import ApplicationError, TransitionNotAllowed
from submissions.models import AccessWindow, FrontierModel

INACTIVE = {"active": False}
SCOPE = "model:invoke"
TOKEN_TYPE = "Bearer"
CLIENT_USE_RESOLUTION = timedelta(minutes=1)


# --- gateway clients ------------------------------------------------------------------------

def _require_developer(actor: User) -> int:
    if not policy.is_developer(actor):
        raise PermissionDenied("Only a developer organisation registers its model gateways.")
    return policy.organisation_id_of(actor)


def _new_secret() -> str:
    return GatewayClient.SECRET_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def gateway_client_create(*, actor: User, name: str) -> tuple[GatewayClient, str]:
    """Register a gateway of the actor's developer organisation; its secret is returned once."""
    organisation_id = _require_developer(actor)
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Name the gateway, so you can recognise it later.", field="name")
    if len(name) > 100:
        raise ApplicationError("A gateway's name is at most 100 characters.", field="name")
    secret = _new_secret()
    client = GatewayClient(organisation_id=organisation_id, name=name, created_by=actor,
                           client_id=GatewayClient.CLIENT_ID_PREFIX + secrets.token_hex(12),
                           secret_hash=GatewayClient.hash_secret(secret), secret_hint=secret[:10])
    client.full_clean()
    client.save()
    audit_record(actor=actor, action="gateway_client.created", obj=client,
                 organisation=actor.membership.organisation,
                 data={"name": name, "client_id": client.client_id})
    return client, secret


def _lock_own(client: GatewayClient, actor: User) -> GatewayClient:
    organisation_id = _require_developer(actor)
    if client.organisation_id != organisation_id:
        raise PermissionDenied("Only the gateway's own organisation manages it.")
    client = GatewayClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is not None:
        raise TransitionNotAllowed("This gateway client is revoked already.")
    return client


def gateway_client_may_change(*, user, client: GatewayClient) -> bool:
    """`gateway_client_rotate` and `_revoke` would accept this now (what the page offers)."""
    return (policy.is_developer(user) and policy.organisation_id_of(user) == client.organisation_id
            and client.revoked_at is None)


@transaction.atomic
def gateway_client_rotate(*, client: GatewayClient, actor: User) -> tuple[GatewayClient, str]:
    """A new secret for the gateway, returned once; the old one stops working at once."""
    client = _lock_own(client, actor)
    secret = _new_secret()
    client.secret_hash, client.secret_hint = GatewayClient.hash_secret(secret), secret[:10]
    client.rotated_at = timezone.now()
    client.save(update_fields=["secret_hash", "secret_hint", "rotated_at"])
    audit_record(actor=actor, action="gateway_client.rotated", obj=client,
                 organisation=client.organisation,
                 data={"client_id": client.client_id, "hint": client.secret_hint})
    return client, secret


@transaction.atomic
def gateway_client_revoke(*, client: GatewayClient, actor: User) -> GatewayClient:
    """The gateway's credentials stop working at once; the row is kept as history."""
    client = _lock_own(client, actor)
    client.revoked_at, client.revoked_by = timezone.now(), actor
    client.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(actor=actor, action="gateway_client.revoked", obj=client,
                 organisation=client.organisation, data={"client_id": client.client_id})
    return client


def gateway_client_authenticate(*, client_id: str, secret: str) -> GatewayClient | None:
    """The live gateway client these credentials belong to, or None. One query (plus the use,
    at most once a minute)."""
    if not client_id or not secret or len(client_id) > 40:
        return None
    client = GatewayClient.objects.filter(client_id=client_id, revoked_at__isnull=True).first()
    if client is None or not hmac.compare_digest(client.secret_hash,
                                                 GatewayClient.hash_secret(secret)):
        return None
    gateway_client_record_use(client=client)
    return client


def gateway_client_record_use(*, client: GatewayClient) -> None:
    """At most once a minute, by a conditional UPDATE (concurrent calls of the same minute write
    once); a client used within the minute costs no query."""
    now = timezone.now()
    stale = now - CLIENT_USE_RESOLUTION
    if client.last_used_at is not None and client.last_used_at > stale:
        return
    (GatewayClient.objects.filter(pk=client.pk)
     .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale))
     .update(last_used_at=now))
    client.last_used_at = now


def gateway_clients_of(*, user):
    """The gateway clients a user may see: a developer's own organisation's, newest first."""
    if not policy.is_developer(user):
        return GatewayClient.objects.none()
    return GatewayClient.objects.filter(organisation_id=policy.organisation_id_of(user))


def gateway_client_get_for_user(*, user, pk) -> GatewayClient:
    """One of the user's organisation's gateway clients; 404 for anyone else's (or a
    non-developer)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(gateway_clients_of(user=user), pk=pk)


# --- the published address ------------------------------------------------------------------

def gateway_models_of(*, user):
    """The models whose gateway address the user may publish (a developer's own organisation's),
    each with its published address (`model.gateway`, or none) loaded in the same query."""
    if not policy.is_developer(user):
        return FrontierModel.objects.none()
    return (FrontierModel.objects.filter(organisation_id=policy.organisation_id_of(user))
            .select_related("gateway").order_by("name", "version", "id"))


def gateway_published_of(*, model_id: int) -> ModelGateway | None:
    """The address the developer published for the model, or None (then partners are pointed at
    GATEWAY_URL, the portal's reference gateway)."""
    return ModelGateway.objects.filter(model_id=model_id).first()


@transaction.atomic
def gateway_address_set(*, model: FrontierModel, actor: User, url: str) -> ModelGateway | None:
    """The developer publishes where partners call `model` (a blank address withdraws it, and
    the page falls back to GATEWAY_URL)."""
    if not policy.is_developer_of(actor, model):
        raise PermissionDenied("Only the model's developer publishes its gateway address.")
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    url = (url or "").strip()
    current = ModelGateway.objects.select_for_update().filter(model=model).first()
    if not url:
        if current is not None:
            current.delete()
            audit_record(actor=actor, action="model.gateway_withdrawn", obj=model,
                         organisation=model.organisation, data={"url": current.url})
        return None
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError as exc:
        raise ApplicationError("Give the gateway's http(s) address, e.g. "
                               "https://gateway.example.com/v1.", field="url") from exc
    if len(url) > 500:
        raise ApplicationError("The address is at most 500 characters.", field="url")
    gateway = current or ModelGateway(model=model)
    gateway.url, gateway.published_by, gateway.published_at = url, actor, timezone.now()
    gateway.save()
    audit_record(actor=actor, action="model.gateway_published", obj=model,
                 organisation=model.organisation, data={"url": url})
    return gateway


def gateway_address_of(published: ModelGateway | None) -> str:
    """Where partners call the model: the developer's published address (from
    gateway_published_of, so a page asks once), else GATEWAY_URL."""
    return published.url if published is not None else settings.GATEWAY_URL


# --- the answer -----------------------------------------------------------------------------

def _timestamp(moment) -> int:
    return int(moment.timestamp())


def _active(*, model_id: int, organisation, client_id: str, issued_at, starts_at, ends_at,
            extension: dict) -> dict:
    """RFC 7662's registered claims, then the portal's own names as extension members."""
    return {"active": True, "scope": SCOPE, "client_id": client_id, "token_type": TOKEN_TYPE,
            "sub": f"organisation:{organisation.pk}", "aud": f"model:{model_id}",
            "iat": _timestamp(issued_at), "nbf": _timestamp(starts_at),
            "exp": _timestamp(ends_at), "iss": settings.PORTAL_BASE_URL,
            "model": model_id, "organisation": organisation.name, **extension}


def grant_token_answer(*, token: str, caller) -> dict:
    """A partner's grant token. One query: the grant with its organisation's vetting status and
    its model."""
    organisation_id = policy.introspecting_organisation_id(caller)
    if not token or organisation_id is None:
        return INACTIVE
    grant = (AccessGrant.objects.filter(token_hash=AccessGrant.hash_token(token))
             .select_related("model", "organisation__partner_profile").first())
    if grant is None or grant.model.organisation_id != organisation_id:
        return INACTIVE
    if not policy.grant_is_live(grant):
        return INACTIVE
    # The partner used its access (recorded by a worker: no query here).
    grant_mark_used_later(grant_id=grant.pk)
    return _active(model_id=grant.model_id, organisation=grant.organisation,
                   client_id=f"grant:{grant.pk}",
                   issued_at=grant.token_issued_at or grant.created_at,
                   starts_at=grant.starts_at, ends_at=grant.ends_at,
                   extension={"grant": grant.pk})


def window_token_answer(*, token: str, caller) -> dict:
    """A government window's token, in one query. Active only while the window is scheduled and
    now is inside it."""
    organisation_id = policy.introspecting_organisation_id(caller)
    if not token or organisation_id is None:
        return INACTIVE
    window = (AccessWindow.objects.filter(token_hash=AccessWindow.hash_token(token))
              .select_related("model", "token_organisation").first())
    if window is None or window.model.organisation_id != organisation_id:
        return INACTIVE
    now = timezone.now()
    if (window.status != AccessWindow.Status.SCHEDULED
            or not window.starts_at <= now < window.ends_at):
        return INACTIVE
    return _active(model_id=window.model_id, organisation=window.token_organisation,
                   client_id=f"window:{window.pk}",
                   issued_at=window.token_issued_at or window.created_at,
                   starts_at=window.starts_at, ends_at=window.ends_at,
                   extension={"window": window.pk})


def token_answer(*, token: str, caller) -> dict:
    """The RFC 7662 answer for any portal token (a partner's grant token or a government
    window's token, told apart by the prefix): one query either way."""
    token = token or ""
    if token.startswith(AccessWindow.TOKEN_PREFIX):
        return window_token_answer(token=token, caller=caller)
    return grant_token_answer(token=token, caller=caller)


def cache_control(answer: dict) -> str:
    """How long a gateway may keep this answer: an active one no longer than
    GATEWAY_INTROSPECTION_CACHE_SECONDS and never past its `exp`; an inactive one not at all."""
    if not answer.get("active"):
        return "no-store"
    left = answer["exp"] - int(timezone.now().timestamp())
    seconds = max(0, min(settings.GATEWAY_INTROSPECTION_CACHE_SECONDS, left - 1))
    return f"max-age={seconds}" if seconds > 0 else "no-store"
