"""Win rates with bootstrap intervals, and the other aggregates of a pairwise run.

Failed judgments are counted and excluded — never scored as a loss, a win or a tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def bootstrap_interval(
    values: Sequence[float], *, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def win_rate(
    results: Sequence[PairwiseResult], *, seed: int = 0, confidence: float = 0.95
) -> WinRate:
    """Summarize pairwise results; failures are counted, never scored."""
    verdicts = [r for r in results if isinstance(r, PairwiseVerdict)]
    failures = len(results) - len(verdicts)
    if not verdicts:
        return WinRate(0, failures, None, None, None, None, None, None)
    outcomes = [_OUTCOME[v.winner] for v in verdicts]
    low, high = bootstrap_interval(outcomes, confidence=confidence, seed=seed)
    swapped = [v.consistent for v in verdicts if v.consistent is not None]
    return WinRate(
        n=len(verdicts),
        failures=failures,
        win_rate=float(np.mean(outcomes)),
        ci_low=low,
        ci_high=high,
        tie_rate=sum(v.winner == "tie" for v in verdicts) / len(verdicts),
        mean_prob_a=float(np.mean([v.prob_a for v in verdicts])),
        consistency=(sum(swapped) / len(swapped)) if swapped else None,
    )


@dataclass(frozen=True)
class PreferenceStats:
    """How a judge behaved on a set of pairs: the numbers every report shares.

    The annotation job report, the bias report and the accuracy harness all read
    these, so each number has one definition. Failures are counted, never scored.

    Attributes:
        n: pairs given.
        judged: pairs with a verdict.
        failures: pairs without one.
        failure_reasons: failures counted by reason.
        tie_rate: share of verdicts that are ties.
        consistency: share of swapped pairs whose orders agreed (None if none swapped).
        p_first: P(judge prefers the response shown first), averaged over every order
            shown; a tie counts half. A position-blind judge gives 0.5.
        p_longer: mean P(longer ≻ shorter) over pairs of unequal length (None
            without lengths); a length-blind judge on random pairs gives 0.5.
        longer_is_better: share of labelled, unequal-length pairs whose gold winner
            is the longer response.
        accuracy: agreement with the gold labels; a tie counts half.
        accuracy_ci: bootstrap interval of ``accuracy``.
    """

    n: int
    judged: int
    failures: int
    failure_reasons: dict[str, int]
    tie_rate: float | None
    consistency: float | None
    p_first: float | None
    p_longer: float | None = None
    longer_is_better: float | None = None
    accuracy: float | None = None
    accuracy_ci: tuple[float, float] | None = None


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def preference_stats(
    results: Sequence[PairwiseResult],
    *,
    lengths: Sequence[tuple[int, int]] | None = None,
    gold: Sequence[str | None] | None = None,
    seed: int = 0,
) -> PreferenceStats:
    """Summarize pairwise results against position, length and (optional) gold labels.

    Args:
        results: one result per pair, in the caller's A/B labelling.
        lengths: (length of A, length of B) per pair, in any unit (characters, tokens).
        gold: the better response per pair, ``"A"`` or ``"B"`` (None where unknown).
        seed: seeds the bootstrap interval of the accuracy.

    Raises:
        ValueError: ``lengths`` or ``gold`` is not one entry per result.
    """
    for name, extra in (("lengths", lengths), ("gold", gold)):
        if extra is not None and len(extra) != len(results):
            raise ValueError(f"{name} has {len(extra)} entries for {len(results)} results")
    judged = [(i, r) for i, r in enumerate(results) if isinstance(r, PairwiseVerdict)]
    reasons: dict[str, int] = {}
    for r in results:
        if not isinstance(r, PairwiseVerdict):
            reasons[str(r.reason)] = reasons.get(str(r.reason), 0) + 1
    swapped = [v.consistent for _, v in judged if v.consistent is not None]
    firsts = [
        o.label_probs.get("A", 0.0) + 0.5 * o.label_probs.get("tie", 0.0)
        for _, v in judged
        for o in v.orders
    ]
    p_longer: list[float] = []
    longer_better: list[float] = []
    if lengths is not None:
        for i, v in judged:
            a, b = lengths[i]
            if a != b:
                p_longer.append(v.prob_a if a > b else 1.0 - v.prob_a)
        if gold is not None:
            longer_better = [
                float((gold[i] == "A") == (a > b))
                for i, (a, b) in enumerate(lengths)
                if a != b and gold[i] in ("A", "B")
            ]
    scored = (
        [
            1.0 if v.winner == gold[i] else 0.5 if v.winner == "tie" else 0.0
            for i, v in judged
            if gold[i] in ("A", "B")
        ]
        if gold is not None
        else []
    )
    return PreferenceStats(
        n=len(results),
        judged=len(judged),
        failures=len(results) - len(judged),
        failure_reasons=reasons,
        tie_rate=_mean([float(v.winner == "tie") for _, v in judged]),
        consistency=_mean([float(c) for c in swapped]),
        p_first=_mean(firsts),
        p_longer=_mean(p_longer),
        longer_is_better=_mean(longer_better),
        accuracy=_mean(scored),
        accuracy_ci=bootstrap_interval(scored, seed=seed) if scored else None,
    )
