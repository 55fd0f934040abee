"""Who hears of which exposure, and when (issue 12, point 4).

Matching (exposures/matching.py) writes Exposure rows whatever the embargo; nothing of a row
reaches its operator until it is *released* (`released_at`). One rule decides, in two forms
that say the same thing: `release_due(exposure, now)` for one row and `due_q(now)` for the set
(the sweep, the hooks). An active exposure of a vetted operator, whose asset is still in its
inventory, is released

- **before publication** (pre-disclosure, TLP:AMBER) only when all of these hold:
  (a) the vendor gave a remediation of category vendor fix, workaround or mitigation on the
      exposure's statement (none available / no fix planned do not count: an operator told
      of an embargoed flaw it cannot act on only carries the secret);
  (b) the case's embargo is in force (proposed, active or under revision) and
      now >= embargo.ends_at - CLEARINGHOUSE_PREDISCLOSURE_DAYS;
  (c) the operator organisation accepted the current pre-disclosure terms
      (CLEARINGHOUSE_OPERATOR_TERMS_VERSION, a TermsAcceptance row);
  (d) its inventory matches (the exposure is active, the asset not removed);
- **at publication** otherwise: once the case is public (its advisory published, so the case
  is PUBLISHED, or the coordinator recorded public_at). An embargo that exited without the
  case being public releases nothing by itself.

Vendor/product matches (`confirmed=False`) are released under the same rule, shown to the
operator as "to confirm" (counted in the digest, never notified at once); confirming one makes
it a live exposure (exposures/services.py).

Telling: once released, a live exposure (active, confirmed) whose priority is immediate or
out-of-cycle is notified at once, one notification per member of the operator organisation,
with the occasion tied to the assessment version (`v<assessment_version>`, plus the reopening
time once reopened), so a change of exploitation re-notifies exactly once. The rest (scheduled,
defer, not yet prioritised, to confirm) go into the daily digest: one notification per member
per case per day, with counts only. `notified_version` records the assessment version last
told; an exposure is due to be told while notified_version < max(assessment_version, 1).
Emails carry only the case reference and counts (notifications/exposure_events.py).

Every step claims its rows under a row lock and re-reads them, in one transaction per operator
and case, so a sweep killed part-way and run again releases and tells each exposure once.
"""

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.models import Organisation
from audit.services import audit_record
from clearinghouse.models import Case, Embargo, MemberProfile, Remediation, Vulnerability
from clearinghouse.workflow import EMBARGO_STATES_IN_FORCE
from exposures.models import SSVC, Exposure, TermsAcceptance

P = SSVC.Priority
RELEASING_CATEGORIES = frozenset({Remediation.Category.VENDOR_FIX,
                                  Remediation.Category.WORKAROUND,
                                  Remediation.Category.MITIGATION})
URGENT = frozenset({P.IMMEDIATE, P.OUT_OF_CYCLE})
# Highest first: the operator's lists and the reopen rule compare priorities by this rank.
PRIORITY_RANK = {P.IMMEDIATE: 4, P.OUT_OF_CYCLE: 3, P.SCHEDULED: 2, P.DEFER: 1, "": 0}

PRE_DISCLOSURE, AT_PUBLICATION = "pre_disclosure", "publication"


def window() -> timedelta:
    return timedelta(days=settings.CLEARINGHOUSE_PREDISCLOSURE_DAYS)


def window_opens_at(embargo: Embargo) -> datetime:
    """When pre-disclosure may start for the case of this embargo."""
    return embargo.ends_at - window()


def case_is_public(case: Case) -> bool:
    return case.status == Case.Status.PUBLISHED or case.public_at is not None


def _public_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": Case.Status.PUBLISHED}) | Q(**{f"{prefix}public_at__isnull":
                                                                   False})


def terms_version() -> str:
    return settings.CLEARINGHOUSE_OPERATOR_TERMS_VERSION


def terms_accepted(organisation_id: int) -> bool:
    return TermsAcceptance.objects.filter(organisation_id=organisation_id,
                                          terms_version=terms_version()).exists()


def release_due(exposure: Exposure, now: datetime | None = None) -> str | None:
    """Whether this unreleased exposure is to be released now, and how: PRE_DISCLOSURE,
    AT_PUBLICATION, or None (not yet, or never: inactive, removed asset, operator not vetted).
    The one-row form of `due_q`; tests hold the two to the same answers."""
    now = now or timezone.now()
    if exposure.released_at is not None or not exposure.active:
        return None
    if exposure.asset.removed_at is not None:
        return None
    if not MemberProfile.objects.filter(organisation_id=exposure.organisation_id,
                                        status=MemberProfile.Status.VETTED).exists():
        return None
    case = exposure.vulnerability.case
    if case_is_public(case):
        return AT_PUBLICATION
    embargo = Embargo.objects.filter(case=case).first()
    if embargo is None or embargo.status not in EMBARGO_STATES_IN_FORCE:
        return None
    if now < window_opens_at(embargo):
        return None
    if not Remediation.objects.filter(statement_id=exposure.statement_id,
                                      category__in=RELEASING_CATEGORIES).exists():
        return None
    if not terms_accepted(exposure.organisation_id):
        return None
    return PRE_DISCLOSURE


def due_q(now: datetime | None = None) -> Q:
    """The set form of `release_due`: unreleased exposures to release now."""
    now = now or timezone.now()
    case = "vulnerability__case__"
    fix = Exists(Remediation.objects.filter(statement_id=OuterRef("statement_id"),
                                            category__in=RELEASING_CATEGORIES))
    terms = Exists(TermsAcceptance.objects.filter(
        organisation_id=OuterRef("organisation_id"),
        terms_version=settings.CLEARINGHOUSE_OPERATOR_TERMS_VERSION))
    in_window = Q(**{f"{case}embargo__status__in": EMBARGO_STATES_IN_FORCE,
                     f"{case}embargo__ends_at__lte": now + window()})
    return (Q(active=True, released_at__isnull=True, asset__removed_at__isnull=True,
              organisation__clearinghouse_profile__status=MemberProfile.Status.VETTED)
            & (_public_q(case) | (in_window & fix & terms)))


def _to_tell_q() -> Q:
    """Released exposures whose current assessment version was not yet told."""
    return Q(released_at__isnull=False, active=True) & (
        Q(notified_version=0) | Q(notified_version__lt=F("assessment_version")))


def _told_version(exposure: Exposure) -> int:
    return max(exposure.assessment_version, 1)


def is_urgent(exposure: Exposure) -> bool:
    return exposure.confirmed and exposure.priority in URGENT


# --- releasing ------------------------------------------------------------------------------

def exposures_release(*, exposure_ids=None, case_id: int | None = None,
                      organisation_id: int | None = None,
                      now: datetime | None = None) -> list[int]:
    """Release every exposure due now (optionally only these ids, this case or this operator),
    one transaction per operator and case; urgent ones are told at once in the same
    transaction. Returns the ids released now."""
    now = now or timezone.now()
    scope = Q()
    if exposure_ids is not None:
        scope &= Q(pk__in=list(exposure_ids))
    if case_id is not None:
        scope &= Q(vulnerability__case_id=case_id)
    if organisation_id is not None:
        scope &= Q(organisation_id=organisation_id)
    groups = (Exposure.objects.filter(scope & due_q(now))
              .values_list("organisation_id", "vulnerability__case_id").distinct()
              .order_by("organisation_id", "vulnerability__case_id"))
    released: list[int] = []
    for org_id, group_case_id in list(groups):
        released += _release_group(org_id, group_case_id, scope=scope, now=now)
    return released


def _release_group(organisation_id: int, case_id: int, *, scope: Q, now: datetime) -> list[int]:
    """Release one operator's due exposures of one case, audit it, tell the urgent ones."""
    with transaction.atomic():
        rows = list(Exposure.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(scope & due_q(now), organisation_id=organisation_id,
                            vulnerability__case_id=case_id).order_by("pk"))
        if not rows:
            return []
        case = Case.objects.get(pk=case_id)
        before = not case_is_public(case)
        ids = [row.pk for row in rows]
        Exposure.objects.filter(pk__in=ids).update(released_at=now,
                                                   released_before_publication=before)
        audit_record(actor=None, action="exposure.released", obj=case,
                     organisation=Organisation(pk=organisation_id),
                     data={"case": case.reference, "organisation": organisation_id,
                           "exposures": len(ids), "before_publication": before,
                           "rule": PRE_DISCLOSURE if before else AT_PUBLICATION})
        _tell_urgent(Exposure.objects.filter(pk__in=ids))
    return ids


# --- telling --------------------------------------------------------------------------------

def _tell_urgent(queryset) -> int:
    """Notify, at once, the urgent exposures of `queryset` whose version was not told (in the
    caller's transaction); mark them told. Returns how many were told."""
    from notifications import exposure_events

    rows = list(queryset.select_for_update(of=("self",)).filter(
        _to_tell_q(), confirmed=True, priority__in=URGENT)
        .select_related("vulnerability__case").order_by("pk"))
    members: dict[int, list] = {}
    for row in rows:
        if row.organisation_id not in members:
            members[row.organisation_id] = exposure_events.operator_members(row.organisation_id)
        exposure_events.exposure_urgent(row, users=members[row.organisation_id])
        Exposure.objects.filter(pk=row.pk).update(notified_version=_told_version(row))
    return len(rows)


def exposures_notify_urgent(*, exposure_ids=None) -> int:
    """Tell the released urgent exposures not yet told (these ids, or all), one transaction
    per exposure."""
    qs = Exposure.objects.filter(_to_tell_q(), confirmed=True, priority__in=URGENT)
    if exposure_ids is not None:
        qs = qs.filter(pk__in=list(exposure_ids))
    told = 0
    for pk in list(qs.order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            told += _tell_urgent(Exposure.objects.filter(pk=pk))
    return told


def digest_counts(rows) -> dict[str, int]:
    """{priority or "to_confirm": n} of the exposures a digest summarises."""
    counts: Counter = Counter()
    for row in rows:
        counts["to_confirm" if not row.confirmed else (row.priority or "unprioritised")] += 1
    return dict(counts)


def digests_build(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """The daily digest: for each operator and case with released exposures not yet told
    (scheduled, defer, unprioritised, to confirm; urgent ones were told at once), one
    notification per member, counts only, occasion exposures-digest-<date>. Rows are marked
    told only when the digest was created now, so a second run the same day tells nothing
    twice and loses nothing (what arrives after today's digest goes into tomorrow's).
    Returns the (operator, case) pairs digested."""
    now = now or timezone.now()
    pending = Exposure.objects.filter(_to_tell_q()).exclude(confirmed=True, priority__in=URGENT)
    groups = (pending.values_list("organisation_id", "vulnerability__case_id").distinct()
              .order_by("organisation_id", "vulnerability__case_id"))
    done = []
    for org_id, case_id in list(groups):
        if _digest_group(org_id, case_id, now=now):
            done.append((org_id, case_id))
    return done


def _digest_group(organisation_id: int, case_id: int, *, now: datetime) -> bool:
    from notifications import exposure_events

    with transaction.atomic():
        rows = list(Exposure.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(_to_tell_q(), organisation_id=organisation_id,
                            vulnerability__case_id=case_id)
                    .exclude(confirmed=True, priority__in=URGENT).order_by("pk"))
        if not rows:
            return False
        case = Case.objects.get(pk=case_id)
        created = exposure_events.exposures_digest(
            case, organisation_id=organisation_id, counts=digest_counts(rows),
            day=timezone.localdate(now),
            users=exposure_events.operator_members(organisation_id))
        if not created:
            return False
        for row in rows:
            Exposure.objects.filter(pk=row.pk).update(notified_version=_told_version(row))
    return True


# --- the entry points -----------------------------------------------------------------------

def exposures_changed(*, exposure_ids: list[int], cause: str,
                      vulnerability: Vulnerability | None = None) -> None:
    """Matching wrote or updated these exposures (a new match, a new priority, a new
    remediation, a wider range): reopen the settled ones the change concerns
    (services.exposures_reopen_if_changed), release those now due, and tell the urgent ones
    whose version was not yet told. With `vulnerability` (a whole vulnerability was matched
    again) the rows matching left as they were count too: a fix added to a statement changes
    no row, yet makes its exposures due and reopens those settled before it. Safe to call
    twice: the second call changes nothing."""
    from exposures import services

    ids = list(exposure_ids)
    if not ids and vulnerability is None:
        return
    services.exposures_reopen_if_changed(
        exposure_ids=ids, cause=cause,
        vulnerability_id=vulnerability.pk if vulnerability is not None else None)
    if vulnerability is not None:
        exposures_release(case_id=vulnerability.case_id)
    else:
        exposures_release(exposure_ids=ids)
    exposures_notify_urgent(exposure_ids=ids)


def case_published_later(case: Case) -> None:
    """The case became public (clearinghouse/publication.py, embargo exit): ask a worker,
    through the jobs outbox in the caller's transaction, to release its exposures."""
    from jobs.services import job_enqueue

    job_enqueue(task="exposures.release_case", kwargs={"case_id": case.pk},
                ref=f"clearinghouse.case:{case.pk}")


def disclosure_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The hourly beat job: release what is due (pre-disclosure windows that opened, cases that
    became public) and tell urgent exposures not yet told (a lost notification job)."""
    released = exposures_release(now=now)
    told = exposures_notify_urgent()
    return {"released": len(released), "told": told}
