"""The threshold policy's arithmetic, apart from the database: rules plus evidence in, a
recommendation and the evidence each rule rests on out.

- covered: at least one rule fires (its measured value is at or above its threshold);
- insufficient evidence: no rule fires and some category rule has no successful run that
  measured its category;
- not covered: otherwise.
"""

from dataclasses import dataclass, field

from submissions.models import Recommendation

CATEGORY_ACCURACY = "category_accuracy"
TRAINING_COMPUTE = "training_compute"


@dataclass(frozen=True)
class RunEvidence:
    run_id: int
    suite: str
    suite_version: int
    accuracy: float
    stderr: float | None
    n: int
    meets: bool


@dataclass(frozen=True)
class RuleResult:
    rule: object  # reviews.models.PolicyRule (or anything with kind/category/threshold)
    fired: bool
    has_evidence: bool
    runs: list[RunEvidence] = field(default_factory=list)
    compute_flop: float | None = None


@dataclass(frozen=True)
class PolicyOutcome:
    recommendation: str
    results: list[RuleResult]

    @property
    def fired(self) -> list[RuleResult]:
        return [r for r in self.results if r.fired]

    @property
    def missing_categories(self) -> list[str]:
        return sorted({r.rule.category for r in self.results
                       if r.rule.kind == CATEGORY_ACCURACY and not r.has_evidence})


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def category_evidence(run, category: str, threshold: float) -> RunEvidence | None:
    """What `run` measured on `category`, or None if it did not measure it (no such category in
    its metrics, no samples, or metrics that are not numbers)."""
    categories = (run.metrics or {}).get("categories") if isinstance(run.metrics, dict) else None
    measured = categories.get(category) if isinstance(categories, dict) else None
    if not isinstance(measured, dict):
        return None
    accuracy, n = _number(measured.get("accuracy")), _number(measured.get("n"))
    if accuracy is None or not n:
        return None
    version = run.suite_version
    return RunEvidence(run_id=run.pk, suite=version.suite.name, suite_version=version.number,
                       accuracy=accuracy, stderr=_number(measured.get("stderr")), n=int(n),
                       meets=accuracy >= threshold)


def evaluate(*, rules, runs, training_compute_flop: float) -> PolicyOutcome:
    results = []
    for rule in rules:
        if rule.kind == CATEGORY_ACCURACY:
            evidence = [e for run in runs
                        if (e := category_evidence(run, rule.category, rule.threshold))]
            results.append(RuleResult(rule=rule, fired=any(e.meets for e in evidence),
                                      has_evidence=bool(evidence), runs=evidence))
        elif rule.kind == TRAINING_COMPUTE:
            results.append(RuleResult(rule=rule, fired=training_compute_flop >= rule.threshold,
                                      has_evidence=True, compute_flop=training_compute_flop))
        else:  # pragma: no cover - the database constrains the kinds
            raise ValueError(f"Unknown rule kind {rule.kind!r}")
    if any(r.fired for r in results):
        recommendation = Recommendation.COVERED
    elif any(not r.has_evidence for r in results):
        recommendation = Recommendation.INSUFFICIENT_EVIDENCE
    else:
        recommendation = Recommendation.NOT_COVERED
    return PolicyOutcome(recommendation=str(recommendation), results=results)
