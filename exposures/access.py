"""Who may see what of operators' inventories and exposures: one module, roles from
accounts.policy. Rules (issue 12):
- an operator's members see their own organisation's inventories, assets and exposures, and
  only while the program office has the operator vetted (clearinghouse.access.is_active_member);
- an operator sees an exposure only once it was released to it (exposures/disclosure.py), and
  never another operator's anything;
- coordinators (the program office) see counts only: no asset, no inventory content, no
  per-operator exposure detail (exposures/metrics.py aggregates);
- vendors, developers, reviewers, partners and anonymous users see nothing here;
- a vulnerability's SSVC assessment (exposures/assessment.py) is the coordinator's only.
Whatever a user may not see answers 404 (the `*_get_for_user` helpers).
"""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import policy
from clearinghouse.access import is_active_member
from clearinghouse.models import Vulnerability
from exposures.models import Asset, Exposure, Inventory


def _operator_org_id(user) -> int | None:
    """The user's operator organisation when the user may use inventories, else None."""
    if not policy.is_operator(user) or not is_active_member(user):
        return None
    return policy.organisation_id_of(user)


def may_manage_inventory(user) -> bool:
    return _operator_org_id(user) is not None


def inventories_visible_to(user) -> QuerySet[Inventory]:
    org_id = _operator_org_id(user)
    if org_id is None:
        return Inventory.objects.none()
    return Inventory.objects.filter(organisation_id=org_id)


def inventory_get_for_user(*, user, pk) -> Inventory:
    return get_object_or_404(inventories_visible_to(user), pk=pk)


def assets_visible_to(user) -> QuerySet[Asset]:
    org_id = _operator_org_id(user)
    if org_id is None:
        return Asset.objects.none()
    return Asset.objects.filter(organisation_id=org_id)


def asset_get_for_user(*, user, pk) -> Asset:
    return get_object_or_404(assets_visible_to(user), pk=pk)


def exposures_visible_to(user) -> QuerySet[Exposure]:
    """Released exposures of the user's own operator organisation (live and past)."""
    org_id = _operator_org_id(user)
    if org_id is None:
        return Exposure.objects.none()
    return Exposure.objects.filter(organisation_id=org_id, released_at__isnull=False)


def exposure_get_for_user(*, user, pk) -> Exposure:
    return get_object_or_404(exposures_visible_to(user), pk=pk)


def assessable_vulnerability_get(*, user, pk) -> Vulnerability:
    """A vulnerability whose SSVC assessment the user may read and set (the coordinator's),
    else 404."""
    if not policy.is_clearinghouse_coordinator(user):
        raise Http404("No such vulnerability.")
    return get_object_or_404(Vulnerability.objects.select_related("case"), pk=pk)
