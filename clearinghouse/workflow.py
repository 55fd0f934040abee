"""The clearinghouse's state tables: the one place that lists the allowed moves. Services check
them; nothing else changes a status.

Report management follows Vultron's RM states; embargoes follow Vultron's EM states; product
statements follow CSAF's product statuses plus disputed (docs/clearinghouse.md 4.3).
"""

from clearinghouse.models import Advisory, Embargo, ProductStatement, Report

RS = Report.Status
ES = Embargo.Status
SS = ProductStatement.Status
AS = Advisory.Status

# action: (from, to). `validate` has a precondition beyond the state (services.report_validate:
# a threat model, a product, and a reproduction, a vendor's confirmation or a coordinator's
# written override). `close` needs a close reason. Nothing moves a report automatically.
REPORT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "validate": (frozenset({RS.RECEIVED, RS.INVALID}), RS.VALID),
    "invalidate": (frozenset({RS.RECEIVED}), RS.INVALID),
    "accept": (frozenset({RS.VALID, RS.DEFERRED}), RS.ACCEPTED),
    "defer": (frozenset({RS.VALID, RS.ACCEPTED}), RS.DEFERRED),
    "close": (frozenset({RS.RECEIVED, RS.INVALID, RS.ACCEPTED, RS.DEFERRED}), RS.CLOSED),
}

# Reports in these states (and validated by a person when AI-found) may reach vendors.
REPORT_STATES_SHOWN_TO_VENDORS = frozenset({RS.VALID, RS.ACCEPTED, RS.CLOSED})

EMBARGO_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    # Every invited participant accepted the proposal.
    "activate": (frozenset({ES.PROPOSED}), ES.ACTIVE),
    "reject": (frozenset({ES.PROPOSED}), ES.REJECTED),
    "propose_revision": (frozenset({ES.ACTIVE}), ES.REVISE),
    # Every participant accepted the revision: it becomes the end.
    "accept_revision": (frozenset({ES.REVISE}), ES.ACTIVE),
    # The revision is withdrawn or declined: the current end stands.
    "drop_revision": (frozenset({ES.REVISE}), ES.ACTIVE),
    "exit": (frozenset({ES.PROPOSED, ES.ACTIVE, ES.REVISE}), ES.EXITED),
}

# Embargoes in these states hold publication back.
EMBARGO_STATES_IN_FORCE = frozenset({ES.PROPOSED, ES.ACTIVE, ES.REVISE})

# Under investigation → anything; known affected → fixed (or disputed); a settled status
# (fixed, not affected, disputed) may change only with a new reason or justification.
STATEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    SS.UNDER_INVESTIGATION: frozenset(SS.values) - {SS.UNDER_INVESTIGATION},
    SS.KNOWN_AFFECTED: frozenset({SS.FIXED, SS.DISPUTED, SS.KNOWN_NOT_AFFECTED}),
    SS.FIXED: frozenset({SS.KNOWN_AFFECTED, SS.DISPUTED}),
    SS.KNOWN_NOT_AFFECTED: frozenset(SS.values),
    SS.DISPUTED: frozenset(SS.values),
}

ADVISORY_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "publish": (frozenset({AS.DRAFT}), AS.PUBLISHED),
    "withdraw": (frozenset({AS.PUBLISHED}), AS.WITHDRAWN),
}
