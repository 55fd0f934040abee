"""The exposure state table: the one place that lists the allowed moves (services check it).

new → acknowledged → patched / mitigated / not affected (with a VEX justification) / risk
accepted. Any settled status may go back to acknowledged (the operator reconsiders), and
`reopen` (exposures/services.py, when the case changes: a new fix, a wider range, a higher
priority) moves a settled exposure back to new.
"""

from exposures.models import Exposure

XS = Exposure.Status

SETTLED = frozenset({XS.PATCHED, XS.MITIGATED, XS.NOT_AFFECTED, XS.RISK_ACCEPTED})

EXPOSURE_TRANSITIONS: dict[str, frozenset[str]] = {
    XS.NEW: frozenset({XS.ACKNOWLEDGED}) | SETTLED,
    XS.ACKNOWLEDGED: SETTLED,
    XS.PATCHED: frozenset({XS.ACKNOWLEDGED}),
    XS.MITIGATED: frozenset({XS.ACKNOWLEDGED, XS.PATCHED}),
    XS.NOT_AFFECTED: frozenset({XS.ACKNOWLEDGED}),
    XS.RISK_ACCEPTED: frozenset({XS.ACKNOWLEDGED, XS.PATCHED, XS.MITIGATED}),
}

# Settled statuses that need a reason (not affected needs a justification instead).
NEEDS_REASON = frozenset({XS.RISK_ACCEPTED})
