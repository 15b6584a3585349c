"""Win rates with bootstrap intervals, and the other aggregates of a pairwise run.

Failed judgments are counted and excluded — never scored as a loss, a win or a tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from judge.verdicts import PairwiseResult, PairwiseVerdict

_OUTCOME = {"A": 1.0, "tie": 0.5, "B": 0.0}


@dataclass(frozen=True)
class WinRate:
    """Aggregate of a pairwise run, from A's point of view.

    Attributes:
        n: judgments with a verdict.
        failures: judgments without one (excluded from every rate).
        win_rate: (wins of A + ½ ties) / n.
        ci_low: lower end of the bootstrap interval of ``win_rate``.
        ci_high: upper end.
        tie_rate: share of verdicts that are ties.
        mean_prob_a: mean P(A ≻ B).
        consistency: share of items whose orders agreed (None if no item was swapped).
    """

    n: int
    failures: int
    win_rate: float | None
    ci_low: float | None
    ci_high: float | None
    tie_rate: float | None
    mean_prob_a: float | None
    consistency: float | None

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON output."""
        return asdict(self)


def bootstrap_interval(values: Sequence[float], *, resamples: int = 2000,
                       confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def win_rate(results: Sequence[PairwiseResult], *, seed: int = 0,
             confidence: float = 0.95) -> WinRate:
    """Summarize pairwise results; failures are counted, never scored."""
    verdicts = [r for r in results if isinstance(r, PairwiseVerdict)]
    failures = len(results) - len(verdicts)
    if not verdicts:
        return WinRate(0, failures, None, None, None, None, None, None)
    outcomes = [_OUTCOME[v.winner] for v in verdicts]
    low, high = bootstrap_interval(outcomes, confidence=confidence, seed=seed)
    swapped = [v.consistent for v in verdicts if v.consistent is not None]
    return WinRate(
        n=len(verdicts), failures=failures, win_rate=float(np.mean(outcomes)),
        ci_low=low, ci_high=high,
        tie_rate=sum(v.winner == "tie" for v in verdicts) / len(verdicts),
        mean_prob_a=float(np.mean([v.prob_a for v in verdicts])),
        consistency=(sum(swapped) / len(swapped)) if swapped else None,
    )
