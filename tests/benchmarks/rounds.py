"""Side-by-side timing shared by every benchmark: arms interleaved within each round, several
rounds, and each arm reported as a ratio to the baseline arm of the same round, median and range.

A shared, noisy machine slows every arm of a round about equally, so the ratio per round is what
we trust; one absolute time is never compared with another taken at a different moment.

    from rounds import compare, print_table
    result = compare({"raw SQL": baseline, "API": api}, baseline="raw SQL", rounds=7, repeat=20)
    print_table("review requests, 10k rows", result)
"""

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ArmResult:
    name: str
    times: list[float] = field(default_factory=list)  # seconds per call, one entry per round
    ratios: list[float] = field(default_factory=list)  # baseline time / this time, per round

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratios)


def _time_per_call(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def compare(arms: dict[str, Callable[[], object]], *, baseline: str, rounds: int = 7,
            repeat: int = 10, warmup: int = 2, seed: int = 0) -> dict[str, ArmResult]:
    """Time every arm `repeat` times per round, the arms' order shuffled each round (a fixed
    order would favour whichever runs when the machine is quietest). The ratio reported for an
    arm is throughput relative to the baseline: baseline time / arm time (1.0 = as fast, 0.5 =
    half the throughput)."""
    if baseline not in arms:
        raise ValueError(f"baseline {baseline!r} is not one of the arms")
    for fn in arms.values():
        for _ in range(warmup):
            fn()
    order = list(arms)
    shuffle = random.Random(seed)
    results = {name: ArmResult(name) for name in arms}
    for _ in range(rounds):
        shuffle.shuffle(order)
        this_round = {name: _time_per_call(arms[name], repeat) for name in order}
        for name, seconds in this_round.items():
            results[name].times.append(seconds)
            results[name].ratios.append(this_round[baseline] / seconds)
    return results


def print_table(title: str, results: dict[str, ArmResult], *, unit: str = "ms") -> None:
    scale = {"ms": 1000, "s": 1}[unit]
    print(f"\n{title}  ({len(next(iter(results.values())).times)} rounds, arms interleaved)")
    print(f"  {'arm':<34} {'median ' + unit:>10} {'throughput vs baseline':>24}  range")
    for arm in results.values():
        med = statistics.median(arm.times) * scale
        print(f"  {arm.name:<34} {med:>10.2f} {arm.median_ratio:>23.2f}x  "
              f"{min(arm.ratios):.2f}-{max(arm.ratios):.2f}")


def check(label: str, value: float, *, at_least: float | None = None,
          at_most: float | None = None) -> bool:
    """Print one target line (PASS/MISS) and return whether it holds."""
    ok = (at_least is None or value >= at_least) and (at_most is None or value <= at_most)
    bound = f">= {at_least}" if at_least is not None else f"<= {at_most}"
    print(f"  {'PASS' if ok else 'MISS'}  {label}: {value:.2f} (target {bound})")
    return ok
