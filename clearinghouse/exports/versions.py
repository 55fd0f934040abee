"""`vers:` ranges (package-url/purl-spec VERSION-RANGE-SPEC) read into intervals, for the OSV
events and the CVE `versions` entries. Only what the two formats can say exactly is converted;
anything else (`!=`, an exclusive lower bound, a range that is not `vers:`) comes back as
unparsable, and the generators then leave the range out rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERS = re.compile(r"^vers:(?P<scheme>[a-z0-9.+-]+)/(?P<constraints>.+)$")
_CONSTRAINT = re.compile(r"^(?P<op>>=|<=|!=|<|>|=)?(?P<version>.+)$")


@dataclass(frozen=True)
class Interval:
    lower: str | None  # None: from the first version
    upper: str | None  # None: no upper bound
    upper_inclusive: bool = False


@dataclass(frozen=True)
class Range:
    scheme: str  # the vers scheme ("pypi", "npm", "semver", …), "" for a plain version
    intervals: tuple[Interval, ...]
    exact: tuple[str, ...]  # single versions
    everything: bool = False  # vers:<scheme>/*


def parse(text: str) -> Range | None:
    """A `vers:` range or a single plain version as intervals; None when it cannot be said
    exactly (or is empty)."""
    text = (text or "").strip()
    if not text:
        return None
    match = _VERS.match(text)
    if match is None:
        if any(c in text for c in "<>=|*, "):
            return None
        return Range(scheme="", intervals=(), exact=(text,))
    scheme, constraints = match["scheme"], match["constraints"].strip()
    if constraints == "*":
        return Range(scheme=scheme, intervals=(Interval(None, None),), exact=(), everything=True)
    intervals: list[Interval] = []
    exact: list[str] = []
    lower: str | None = None
    pending = False
    for raw in constraints.split("|"):
        part = _CONSTRAINT.match(raw.strip())
        if part is None:
            return None
        op, version = part["op"] or "=", part["version"].strip()
        if op in ("!=", ">"):
            return None  # neither OSV events nor CVE ranges say "all but" or "strictly after"
        if op == ">=":
            if pending:
                return None
            lower, pending = version, True
        elif op in ("<", "<="):
            intervals.append(Interval(lower if pending else None, version, op == "<="))
            lower, pending = None, False
        else:
            if pending:
                return None
            exact.append(version)
    if pending:
        intervals.append(Interval(lower, None))
    return Range(scheme=scheme, intervals=tuple(intervals), exact=tuple(exact))


def lower_bound(text: str) -> str | None:
    """The first fixed version of a fixed range such as vers:pypi/>=1.4.2 (or 1.4.2)."""
    rng = parse(text)
    if rng is None:
        return None
    if rng.exact and not rng.intervals:
        return rng.exact[0]
    if len(rng.intervals) == 1 and rng.intervals[0].lower and rng.intervals[0].upper is None:
        return rng.intervals[0].lower
    return None
