"""Matching inventories against vendor statements (issue 12, point 2).

Entry points (other modules call only these; each enqueues a thin task after the commit through
the outbox, jobs.services.job_enqueue): `vulnerability_changed`, `inventory_changed`,
`assets_inputs_changed`. The work itself, `refresh_vulnerability` and `reprioritise_assets`,
is idempotent by construction: it recomputes what the rows should say and writes only the
difference, under a row lock on the vulnerability, so a re-run, a redelivered job or two
workers at once leave one row per asset and vulnerability (the unique constraint is the net).

Which statements count (decided for issue 12):
- known affected and fixed: always;
- under investigation: only with a version range (the report's claimed range, copied into the
  statement), so an operator can learn early that it may be exposed; without a range, never
  (that would match every version of a product the vendor has not even looked at yet);
- known not affected and disputed: never (their rows are deactivated).

Keys: the statement's package URL key (clearinghouse/products.purl_normalise), its CPE
vendor:product and the vendor's name with the product name (keys.product_key), each looked up as
a blind index: one query for all statements of the vulnerability (indexed equality on
purl_index / cpe_index / product_index), then only those candidates are decrypted and their
versions compared (univers). Work grows with the matching assets, never with every asset.

Methods and confidence (Exposure.method / confidence):
- package URL, version inside the statement's vers range: purl / high;
- package URL, the statement gives no range: purl / medium;
- package URL, range or version not comparable: purl / low, to be confirmed;
- CPE whose version names the asset's version: cpe / high; CPE with a range the version is in,
  or a CPE with any version and no range: cpe / medium;
- vendor and product name (in range when a range is given): product / low, unconfirmed
  (Exposure.confirmed=False until the operator confirms it).
Versions inside a remediation's fixed range (Remediation.fixed_range, e.g. a fixed statement's
"vers:pypi/>=1.4.2") are not exposed. An asset matched by several statements of a vulnerability
keeps the best match. Removed assets never match; their rows become inactive.

The SSVC priority of each active row comes from exposures/ssvc.py with the vulnerability's
assessment (exposures/assessment.py) and the asset's inputs. Every row whose match, activity,
priority or assessment version changed is handed once to disclosure.exposures_changed.

match_detail never holds the operator's version (the asset's details are encrypted at rest;
the row is not): it names the range and the method.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from univers.version_range import RANGE_CLASS_BY_SCHEMES, VersionRange

from clearinghouse.models import Case, ProductStatement, Remediation, Vulnerability
from clearinghouse.products import cpe_normalise, cpe_split, purl_normalise
from exposures import keys, ssvc
from exposures.models import Asset, Exposure

logger = logging.getLogger(__name__)
SS = ProductStatement.Status
M, C = Exposure.Method, Exposure.Confidence
RANK = {(M.PURL, C.HIGH): 6, (M.CPE, C.HIGH): 5, (M.PURL, C.MEDIUM): 4, (M.CPE, C.MEDIUM): 3,
        (M.PURL, C.LOW): 2, (M.PRODUCT, C.LOW): 1}
ANY_VERSION = ("", "*", "-")

TASK_VULNERABILITY = "exposures.refresh_vulnerability"
TASK_INVENTORY = "exposures.refresh_inventory"
TASK_ASSETS = "exposures.reprioritise_assets"


# --- entry points ---------------------------------------------------------------------------

def vulnerability_changed(*, vulnerability_id: int, cause: str) -> None:
    """A statement, remediation, affected range or assessment of this vulnerability changed:
    (re)compute its exposures (after the commit, in a task)."""
    from jobs.services import job_enqueue

    job_enqueue(task=TASK_VULNERABILITY,
                kwargs={"vulnerability_id": vulnerability_id, "cause": cause},
                ref=f"vulnerability:{vulnerability_id}")


def inventory_changed(*, inventory_id: int) -> None:
    """An inventory was imported or its assets changed: (re)compute its exposures."""
    from jobs.services import job_enqueue

    job_enqueue(task=TASK_INVENTORY, kwargs={"inventory_id": inventory_id},
                ref=f"inventory:{inventory_id}")


def assets_inputs_changed(*, asset_ids: list[int]) -> None:
    """An asset's SSVC inputs (exposure, mission or safety impact) changed: re-prioritise."""
    from jobs.services import job_enqueue

    if asset_ids:
        job_enqueue(task=TASK_ASSETS, kwargs={"asset_ids": sorted(set(asset_ids))},
                    ref=f"assets:{len(asset_ids)}")


# --- ranges and versions --------------------------------------------------------------------

def _range(text: str, scheme: str) -> VersionRange | None:
    """A vers range ("vers:pypi/<1.4.2"), or a bare one ("<1.4.2", ">=1.0|<1.4.2") read in the
    product's scheme (the package URL's type, else generic). None when unreadable."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.startswith("vers:"):
        text = f"vers:{scheme if scheme in RANGE_CLASS_BY_SCHEMES else 'generic'}/{text}"
    try:
        return VersionRange.from_string(text)
    except Exception:  # univers raises assorted errors for unreadable ranges
        return None


def _contains(version_range: VersionRange, version: str) -> bool | None:
    """Whether the version is in the range; None when the version is not comparable."""
    if not version:
        return None
    try:
        return version_range.version_class(version) in version_range
    except Exception:  # an unreadable version, or one the scheme cannot compare
        return None


@dataclass
class Rule:
    """What one statement says, ready to test candidate assets against."""

    statement_id: int
    scheme: str
    purl_index: str = ""
    cpe_index: str = ""
    cpe_version: str = ""
    product_index: str = ""
    affected: VersionRange | None = None
    affected_text: str = ""
    range_unreadable: bool = False
    fixed: list[VersionRange] = field(default_factory=list)


def statement_counts(statement: ProductStatement) -> bool:
    if statement.status in (SS.KNOWN_AFFECTED, SS.FIXED):
        return True
    return statement.status == SS.UNDER_INVESTIGATION and bool(statement.version_range.strip())


def _rule(statement: ProductStatement, fixed_ranges: list[str]) -> Rule:
    scheme = "generic"
    rule = Rule(statement_id=statement.pk, scheme=scheme)
    if statement.purl:
        try:
            _, purl_key, parsed = purl_normalise(statement.purl)
            rule.purl_index, rule.scheme = keys.blind(keys.PURL, purl_key), parsed.type
        except Exception:
            logger.info("statement %s: unreadable package URL", statement.pk)
    if statement.cpe:
        try:
            _, cpe_key, parts = cpe_normalise(statement.cpe)
            rule.cpe_index, rule.cpe_version = keys.blind(keys.CPE, cpe_key), parts[5]
        except Exception:
            logger.info("statement %s: unreadable CPE", statement.pk)
    rule.product_index = keys.blind(keys.PRODUCT, keys.product_key(statement.vendor.name,
                                                                    statement.product_name))
    if statement.version_range.strip():
        rule.affected_text = statement.version_range.strip()
        rule.affected = _range(rule.affected_text, rule.scheme)
        rule.range_unreadable = rule.affected is None
    rule.fixed = [r for r in (_range(text, rule.scheme) for text in fixed_ranges) if r]
    return rule


def _asset_versions(details: dict) -> tuple[str, str]:
    """(the asset's version, its CPE's version component)."""
    version = (details.get("version") or "").strip()
    cpe_version = ""
    if details.get("cpe"):
        parts = cpe_split(details["cpe"])
        cpe_version = parts[5] if len(parts) == 13 and parts[5] not in ANY_VERSION else ""
    if not version and details.get("purl"):
        try:
            version = purl_normalise(details["purl"])[2].version or ""
        except Exception:
            version = ""
    return version or cpe_version, cpe_version


@dataclass
class Match:
    statement_id: int
    method: str
    confidence: str
    detail: str

    @property
    def rank(self) -> int:
        return RANK[(self.method, self.confidence)]


def _in_fixed(rule: Rule, version: str) -> bool:
    return any(_contains(r, version) for r in rule.fixed)


def _match(rule: Rule, asset: dict, version: str, cpe_version: str) -> Match | None:
    """How (if at all) one statement covers one candidate asset."""
    if version and _in_fixed(rule, version):
        return None
    inside = _contains(rule.affected, version) if rule.affected is not None else None
    has_range = bool(rule.affected_text)
    if rule.purl_index and asset["purl_index"] == rule.purl_index:
        if not has_range:
            return Match(rule.statement_id, M.PURL, C.MEDIUM,
                         "package URL; the statement gives no version range")
        if inside is True:
            return Match(rule.statement_id, M.PURL, C.HIGH,
                         f"package URL, version in {rule.affected_text}"[:300])
        if inside is None:
            return Match(rule.statement_id, M.PURL, C.LOW,
                         f"package URL; version not comparable with {rule.affected_text}"[:300])
        return None
    if rule.cpe_index and asset["cpe_index"] == rule.cpe_index:
        if rule.cpe_version not in ANY_VERSION:
            if rule.cpe_version.lower() in {version.lower(), cpe_version.lower()}:
                return Match(rule.statement_id, M.CPE, C.HIGH, "CPE with the same version")
            if inside is True:
                return Match(rule.statement_id, M.CPE, C.MEDIUM,
                             f"CPE, version in {rule.affected_text}"[:300])
            return None
        if not has_range:
            return Match(rule.statement_id, M.CPE, C.MEDIUM, "CPE; no version range")
        if inside is True:
            return Match(rule.statement_id, M.CPE, C.MEDIUM,
                         f"CPE, version in {rule.affected_text}"[:300])
        if inside is None:
            return Match(rule.statement_id, M.PRODUCT, C.LOW,
                         f"CPE; version not comparable with {rule.affected_text}"[:300])
        return None
    if rule.product_index and asset["product_index"] == rule.product_index:
        if has_range and inside is False:
            return None
        where = f", version in {rule.affected_text}" if inside else ""
        return Match(rule.statement_id, M.PRODUCT, C.LOW,
                     f"vendor and product name{where}; to confirm"[:300])
    return None


# --- the work -------------------------------------------------------------------------------

ASSET_FIELDS = ("id", "organisation_id", "inventory_id", "purl_index", "cpe_index",
                "product_index", "details_encrypted", "exposure", "mission_impact",
                "safety_impact")
WRITE_FIELDS = ["statement", "method", "confidence", "match_detail", "active", "confirmed",
                "priority", "priority_inputs", "priority_table", "assessment_version", "due_at",
                "updated_at"]


def _rules_of(vulnerability: Vulnerability) -> list[Rule]:
    statements = [s for s in vulnerability.statements.select_related("vendor")
                  if statement_counts(s)]
    fixed: dict[int, list[str]] = {}
    for statement_id, text in Remediation.objects.filter(
            statement__in=[s.pk for s in statements]).exclude(fixed_range="").values_list(
            "statement_id", "fixed_range"):
        fixed.setdefault(statement_id, []).append(text)
    return [_rule(s, fixed.get(s.pk, [])) for s in statements]


def _candidates(rules: list[Rule], *, inventory_id: int | None) -> list[dict]:
    purls = {r.purl_index for r in rules if r.purl_index}
    cpes = {r.cpe_index for r in rules if r.cpe_index}
    products = {r.product_index for r in rules if r.product_index}
    q = Q()
    if purls:
        q |= Q(purl_index__in=purls)
    if cpes:
        q |= Q(cpe_index__in=cpes)
    if products:
        q |= Q(product_index__in=products)
    if not q:
        return []
    assets = Asset.objects.filter(q, removed_at__isnull=True)
    if inventory_id is not None:
        assets = assets.filter(inventory_id=inventory_id)
    return list(assets.values(*ASSET_FIELDS))


def _best_matches(rules: list[Rule], candidates: list[dict]) -> dict[int, tuple[dict, Match]]:
    by_purl: dict[str, list[Rule]] = {}
    by_cpe: dict[str, list[Rule]] = {}
    by_product: dict[str, list[Rule]] = {}
    for rule in rules:
        for index, table in ((rule.purl_index, by_purl), (rule.cpe_index, by_cpe),
                             (rule.product_index, by_product)):
            if index:
                table.setdefault(index, []).append(rule)
    best: dict[int, tuple[dict, Match]] = {}
    for asset in candidates:
        try:
            details = keys.details_decrypt(asset["details_encrypted"])
        except Exception:
            logger.warning("asset %s: details could not be decrypted", asset["id"])
            continue
        version, cpe_version = _asset_versions(details)
        seen: set[int] = set()
        for rule in (*by_purl.get(asset["purl_index"], ()), *by_cpe.get(asset["cpe_index"], ()),
                     *by_product.get(asset["product_index"], ())):
            if rule.statement_id in seen:
                continue
            seen.add(rule.statement_id)
            match = _match(rule, asset, version, cpe_version)
            if match and (asset["id"] not in best or match.rank > best[asset["id"]][1].rank):
                best[asset["id"]] = (asset, match)
    return best


def _prioritise(exposure: Exposure, asset: dict, assessment, now) -> None:
    decision = ssvc.decide(exploitation=assessment.exploitation,
                           automatable=assessment.automatable, exposure=asset["exposure"],
                           safety_impact=asset["safety_impact"],
                           mission_impact=asset["mission_impact"])
    if decision.priority != exposure.priority or (exposure.due_at is None and
                                                  ssvc.DEADLINES[decision.priority]):
        # The deadline counts from when the priority was set (disclosure may count it from the
        # release instead); an unchanged priority keeps its deadline.
        exposure.due_at = ssvc.due_at(decision.priority, since=now)
    exposure.priority = decision.priority
    exposure.priority_inputs = decision.inputs
    exposure.priority_table = decision.table
    exposure.assessment_version = assessment.version


def _snapshot(exposure: Exposure) -> tuple:
    return tuple(getattr(exposure, f if f != "statement" else "statement_id")
                 for f in WRITE_FIELDS if f != "updated_at")


def refresh_vulnerability(*, vulnerability_id: int, cause: str = "",
                          inventory_id: int | None = None, notify: bool = True) -> list[int]:
    """Recompute the exposures of one vulnerability (of one inventory's assets only, when
    given): create, update and deactivate rows; returns the ids of the rows that changed, which
    were handed to disclosure.exposures_changed (once)."""
    from exposures import disclosure
    from exposures.assessment import assessment_for

    with transaction.atomic():
        vulnerability = Vulnerability.objects.select_for_update().filter(
            pk=vulnerability_id).first()
        if vulnerability is None:
            return []
        assessment = assessment_for(vulnerability)
        rules = _rules_of(vulnerability)
        best = _best_matches(rules, _candidates(rules, inventory_id=inventory_id))
        existing_rows = Exposure.objects.filter(vulnerability_id=vulnerability_id)
        if inventory_id is not None:
            existing_rows = existing_rows.filter(asset__inventory_id=inventory_id)
        existing = {e.asset_id: e for e in existing_rows}
        now = timezone.now()
        created, updated = [], []
        for asset_id, (asset, match) in best.items():
            exposure = existing.pop(asset_id, None)
            if exposure is None:
                exposure = Exposure(organisation_id=asset["organisation_id"], asset_id=asset_id,
                                    vulnerability_id=vulnerability_id)
                before = None
            else:
                before = _snapshot(exposure)
            if before is None or exposure.method != match.method:
                exposure.confirmed = match.method != M.PRODUCT
            exposure.statement_id = match.statement_id
            exposure.method, exposure.confidence = match.method, match.confidence
            exposure.match_detail = match.detail
            exposure.active = True
            _prioritise(exposure, asset, assessment, now)
            if before is None:
                created.append(exposure)
            elif _snapshot(exposure) != before:
                exposure.updated_at = now
                updated.append(exposure)
        for exposure in existing.values():
            if exposure.active:
                exposure.active, exposure.updated_at = False, now
                updated.append(exposure)
        if created:
            Exposure.objects.bulk_create(created, batch_size=1000)
        if updated:
            Exposure.objects.bulk_update(updated, WRITE_FIELDS, batch_size=1000)
        changed = sorted(e.pk for e in (*created, *updated))
        if notify:
            disclosure.exposures_changed(
                exposure_ids=changed, cause=cause or "matching",
                vulnerability=vulnerability if inventory_id is None else None)
    return changed


def vulnerabilities_to_match():
    """The vulnerabilities an inventory is matched against: those of open and published cases."""
    return Vulnerability.objects.filter(
        case__status__in=(Case.Status.OPEN, Case.Status.PUBLISHED)).order_by("pk")


def refresh_inventory(*, inventory_id: int) -> list[int]:
    """Recompute one inventory's exposures against every open or published case (one
    transaction per vulnerability, in id order, so it never deadlocks with a vulnerability's
    refresh)."""
    changed: list[int] = []
    for vulnerability_id in vulnerabilities_to_match().values_list("pk", flat=True):
        changed += refresh_vulnerability(vulnerability_id=vulnerability_id,
                                         cause="inventory_changed", inventory_id=inventory_id)
    return changed


def reprioritise_assets(*, asset_ids: list[int]) -> list[int]:
    """An asset's SSVC inputs changed: recompute the priority of its active exposures."""
    from exposures import disclosure
    from exposures.assessment import assessment_for

    changed: list[int] = []
    vulnerability_ids = sorted(set(Exposure.objects.filter(
        asset_id__in=asset_ids, active=True).values_list("vulnerability_id", flat=True)))
    for vulnerability_id in vulnerability_ids:
        with transaction.atomic():
            vulnerability = Vulnerability.objects.select_for_update().get(pk=vulnerability_id)
            assessment = assessment_for(vulnerability)
            rows = list(Exposure.objects.filter(vulnerability_id=vulnerability_id,
                                                asset_id__in=asset_ids, active=True))
            assets = {a["id"]: a for a in Asset.objects.filter(
                pk__in=[r.asset_id for r in rows]).values(*ASSET_FIELDS)}
            now, mine = timezone.now(), []
            for exposure in rows:
                before = _snapshot(exposure)
                _prioritise(exposure, assets[exposure.asset_id], assessment, now)
                if _snapshot(exposure) != before:
                    exposure.updated_at = now
                    mine.append(exposure)
            if mine:
                Exposure.objects.bulk_update(mine, WRITE_FIELDS, batch_size=1000)
                ids = sorted(e.pk for e in mine)
                disclosure.exposures_changed(exposure_ids=ids, cause="asset_inputs_changed")
                changed += ids
    return changed
