"""The determination request's state machine: the one table of allowed transitions.

Nothing here is a licence or a permit: "determined" records whether a model is a covered frontier
model. There is no "approved to release" state, and the developer may withdraw at any time before
a determination.
"""

from dataclasses import dataclass

from submissions.models import ReviewRequest

S = ReviewRequest.Status

DEVELOPER = "developer"  # a member of the model's developer organisation
AGENCY = "agency"  # an assigned reviewer (and, for starting a review, a program admin)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    side: str
    label: str
    # Withdrawal is open only before a determination. A request reopened for reconsideration is
    # "in review" again but already carries a determination: withdrawing it would drop that
    # determination (the model would silently stop being covered), so the move stays closed.
    before_determination_only: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("submit", frozenset({S.DRAFT}), S.SUBMITTED, DEVELOPER, "submitted"),
        Transition("start_review", frozenset({S.SUBMITTED}), S.IN_REVIEW, AGENCY,
                   "taken into review"),
        Transition("request_information", frozenset({S.IN_REVIEW}), S.INFORMATION_REQUESTED,
                   AGENCY, "information requested"),
        Transition("provide_information", frozenset({S.INFORMATION_REQUESTED}), S.IN_REVIEW,
                   DEVELOPER, "information provided"),
        Transition("determine", frozenset({S.IN_REVIEW}), S.DETERMINED, AGENCY, "determined"),
        Transition("withdraw",
                   frozenset({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.INFORMATION_REQUESTED}),
                   S.WITHDRAWN, DEVELOPER, "withdrawn", before_determination_only=True),
        Transition("request_reconsideration", frozenset({S.DETERMINED}), S.IN_REVIEW,
                   DEVELOPER, "reconsideration requested"),
    ]
}

# States in which the developer may still add material and the review is not over.
OPEN_STATES = frozenset({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.INFORMATION_REQUESTED})


def allowed_actions(status: str, side: str, *, has_determination: bool = False) -> list[str]:
    return [
        t.action for t in TRANSITIONS.values()
        if status in t.sources and t.side == side
        and not (has_determination and t.before_determination_only)
    ]
