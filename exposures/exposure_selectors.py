"""Reads of operators' exposures for their pages, home and API (access: exposures/access.py).

An operator sees only its own released exposures; before publication, what it sees is the
TLP:AMBER pre-disclosure: the vulnerability's title, CVE id, CWE and CVSS, the vendor's
statement on the product and its remediations (details, fixed versions, download address,
SHA-256, signature). Never a report, a proof of concept, the case's thread or summary, the
vulnerability's description, another operator, or another vendor's statement.
"""

from dataclasses import dataclass

from django.db.models import Case as When_
from django.db.models import IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from exposures import access, disclosure, keys
from exposures.models import Exposure
from exposures.workflow import SETTLED


def _ranked(qs: QuerySet[Exposure]) -> QuerySet[Exposure]:
    rank = When_(*[When(priority=p, then=Value(r)) for p, r in disclosure.PRIORITY_RANK.items()],
                 default=Value(0), output_field=IntegerField())
    return (qs.annotate(priority_rank=rank)
            .select_related("vulnerability__case", "statement", "asset")
            .order_by("-priority_rank", "due_at", "pk"))


def operator_exposures(user, *, case_id=None) -> QuerySet[Exposure]:
    """The user's operator's live released exposures (and matches to confirm), by priority
    (immediate first), then deadline."""
    qs = access.exposures_visible_to(user).filter(active=True)
    if case_id is not None:
        qs = qs.filter(vulnerability__case_id=case_id)
    return _ranked(qs)


def home_exposures(user) -> tuple[QuerySet[Exposure], QuerySet[Exposure]]:
    """The operator's home, with one access check: (live exposures not settled yet, by
    priority; vendor-and-product matches waiting for the operator's confirmation)."""
    mine = operator_exposures(user)
    return (mine.filter(confirmed=True).exclude(status__in=SETTLED),
            mine.filter(confirmed=False, status=Exposure.Status.NEW))


def asset_label(exposure: Exposure) -> str:
    """The asset as the operator named it: decrypted for its own pages only."""
    details = keys.details_decrypt(exposure.asset.details_encrypted)
    name = details.get("name") or details.get("product") or details.get("purl") or "Asset"
    version = details.get("version") or ""
    return f"{name} {version}".strip()


def with_labels(rows) -> list[Exposure]:
    rows = list(rows)
    for row in rows:
        row.asset_label = asset_label(row)
        row.case_public = disclosure.case_is_public(row.vulnerability.case)
    return rows


@dataclass
class ExposureFacts:
    exposure: Exposure
    asset_label: str
    asset_details: dict
    case_public: bool
    remediations: list


def exposure_facts(exposure: Exposure) -> ExposureFacts:
    """What the operator's exposure page shows (see the module docstring for what never)."""
    case = exposure.vulnerability.case
    return ExposureFacts(
        exposure=exposure, asset_label=asset_label(exposure),
        asset_details=keys.details_decrypt(exposure.asset.details_encrypted),
        case_public=disclosure.case_is_public(case),
        remediations=list(exposure.statement.remediations.order_by("created_at", "id")))


def exposure_for_page(*, user, pk) -> Exposure:
    return get_object_or_404(
        access.exposures_visible_to(user).select_related(
            "vulnerability__case", "statement", "asset", "organisation"), pk=pk)
