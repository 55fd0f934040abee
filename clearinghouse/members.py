"""Writes for the clearinghouse's members: vendors and operators apply, the program office vets
them the way it vets trusted partners (applied → vetted ⇄ suspended, → revoked; the same
table, partners.workflow.PROFILE_TRANSITIONS), and vendors keep a product catalogue from which a
report's vendors are suggested.

An unvetted, suspended or revoked member sees no case (clearinghouse/access.py); every change is
audited and notifies the organisation and the program office, with no detail in the email.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, User
from audit.services import audit_record
from clearinghouse.models import MemberProfile, VendorProduct
from clearinghouse.products import cpe_normalise, purl_normalise
from notifications import selectors as notification_selectors
from notifications.models import Notification
from notifications.services import notify
from partners.workflow import PROFILE_TRANSITIONS
from review_portal.errors import ApplicationError, TransitionNotAllowed, save_or_refuse

MEMBER_KINDS = (Organisation.Kind.VENDOR, Organisation.Kind.OPERATOR)
S = MemberProfile.Status


def _notify_status(profile: MemberProfile, *, to_members: bool) -> None:
    users = notification_selectors.program_admins()
    if to_members:
        users = notification_selectors.organisation_members(
            organisation_id=profile.organisation_id) + users
    notify(users=users, kind=Notification.Kind.MEMBER_STATUS, obj=profile,
           occasion=f"{profile.status}@{profile.status_changed_at.timestamp():.0f}",
           title=f"Clearinghouse member {profile.organisation}: "
                 f"{profile.get_status_display().lower()}",
           body="Details are in the portal.", link=reverse("clearinghouse_member_list"))


@transaction.atomic
def member_apply(*, actor: User, description: str, security_contact: str) -> MemberProfile:
    """A member of a vendor or operator organisation applies for it to join the clearinghouse."""
    if not (policy.is_vendor(actor) or policy.is_operator(actor)):
        raise PermissionDenied("Only a member of a vendor or operator organisation applies.")
    organisation = actor.membership.organisation
    if MemberProfile.objects.filter(organisation=organisation).exists():
        raise ApplicationError("This organisation has applied already.", status=409)
    profile = MemberProfile(organisation=organisation, description=(description or "").strip(),
                            security_contact=(security_contact or "").strip(), applied_by=actor)
    save_or_refuse(profile)
    audit_record(actor=actor, action="clearinghouse.member_applied", obj=profile,
                 organisation=organisation, data={"kind": organisation.kind})
    _notify_status(profile, to_members=False)
    return profile


@transaction.atomic
def member_transition(*, profile: MemberProfile, actor: User, action: str,
                      reason: str) -> MemberProfile:
    """Vet, suspend or revoke a vendor or operator. Program admins only, with a reason; access
    follows at once, because every clearinghouse read checks the status."""
    if not policy.is_clearinghouse_coordinator(actor):
        raise PermissionDenied("Only the program office vets clearinghouse members.")
    if action not in PROFILE_TRANSITIONS:
        raise ApplicationError("Unknown action.")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Give a reason.", field="reason")
    sources, target = PROFILE_TRANSITIONS[action]
    profile = MemberProfile.objects.select_for_update().select_related("organisation").get(
        pk=profile.pk)
    if profile.status not in sources:
        raise TransitionNotAllowed(
            f"A member that is {profile.get_status_display().lower()} cannot be moved to "
            f"{MemberProfile.Status(target).label.lower()}.")
    before = profile.status
    profile.status, profile.status_reason = target, reason
    profile.status_changed_at = timezone.now()
    profile.save(update_fields=["status", "status_reason", "status_changed_at"])
    audit_record(actor=actor, obj=profile, action={
        S.VETTED: "clearinghouse.member_vetted", S.SUSPENDED: "clearinghouse.member_suspended",
        S.REVOKED: "clearinghouse.member_revoked"}[target], organisation=profile.organisation,
                 data={"from": before, "to": target, "reason": reason})
    _notify_status(profile, to_members=True)
    return profile


def member_actions_available(*, user, profile: MemberProfile) -> list[str]:
    if not policy.is_clearinghouse_coordinator(user):
        return []
    return [action for action, (sources, _) in PROFILE_TRANSITIONS.items()
            if profile.status in sources]


@transaction.atomic
def vendor_product_add(*, actor: User, vendor: Organisation, name: str, purl: str = "",
                       cpe: str = "") -> VendorProduct:
    """Add a product to a vendor's catalogue: by a member of the vendor or by the coordinator.
    Needs a package URL or a CPE, which are what reports are matched on."""
    if vendor.kind != Organisation.Kind.VENDOR:
        raise ApplicationError("Only vendors have a product catalogue.", field="vendor")
    if not (policy.is_clearinghouse_coordinator(actor)
            or (policy.is_vendor(actor) and policy.is_member_of(actor, vendor.pk))):
        raise PermissionDenied("Only the vendor or the coordinator edits its catalogue.")
    purl, cpe = (purl or "").strip(), (cpe or "").strip()
    if not purl and not cpe:
        raise ApplicationError("Give the product's package URL or its CPE.", field="purl")
    product = VendorProduct(vendor=vendor, name=(name or "").strip(),
                            purl_key=purl_normalise(purl)[1] if purl else "",
                            cpe_key=cpe_normalise(cpe)[1] if cpe else "")
    save_or_refuse(product)
    audit_record(actor=actor, action="clearinghouse.vendor_product_added", obj=product,
                 organisation=vendor, data={"name": product.name, "purl_key": product.purl_key,
                                            "cpe_key": product.cpe_key})
    return product
