"""The state tables of partner vetting and early-access requests: the one place that lists the
allowed transitions. Services check them; nothing else changes a status."""

from dataclasses import dataclass

from partners.models import AccessRequest, PartnerProfile

P = PartnerProfile.Status
R = AccessRequest.Status

# Vetting: only program admins move a profile; every move carries a reason.
PROFILE_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "vet": (frozenset({P.APPLIED, P.SUSPENDED}), P.VETTED),
    "suspend": (frozenset({P.VETTED}), P.SUSPENDED),
    "revoke": (frozenset({P.APPLIED, P.VETTED, P.SUSPENDED}), P.REVOKED),
}

DEVELOPER = "developer"  # a developer of the model's organisation
AGENCY = "agency"  # a program admin or an agency reviewer
PARTNER = "partner"  # a member of the requesting partner organisation
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    sides: frozenset[str]


# `approve` keeps a request pending until both sides approved; the service then moves it to
# approved (and on to granted once the terms are accepted).
REQUEST_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("approve", frozenset({R.PENDING}), frozenset({DEVELOPER, AGENCY})),
        Transition("deny", frozenset({R.PENDING, R.APPROVED}), frozenset({DEVELOPER, AGENCY})),
        Transition("reconsider", frozenset({R.DENIED}), frozenset({PARTNER})),
        Transition("withdraw", frozenset({R.PENDING, R.APPROVED}), frozenset({PARTNER})),
        Transition("grant", frozenset({R.APPROVED}), frozenset({SYSTEM})),
    ]
}
