"""The numbers of the bias report, computed from verdicts alone (no model calls).

Every position and accuracy figure comes from `judge.stats.preference_stats`, so it
means what it means in every other report. This module adds what is specific to the
bias report: statistics per ``swap`` mode, accuracy bucketed by length ratio, the
fitted length coefficients, agreement across sampling seeds, and each probe's
headline against what a fair judge would give.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judge.bias.data import PairSet
from judge.jsonable import to_jsonable
from judge.length import fit_length_model
from judge.stats import preference_stats
from judge.verdicts import PairwiseResult, PairwiseVerdict

RATIO_EDGES = (1.0, 1.25, 1.5, 2.0, 3.0, float("inf"))
"""Bucket edges of the length ratio longer/shorter (in characters)."""

FAIR = {
    "probe:identical": ("mean |P(A≻B) − ½|", 0.0),
    "probe:padded": ("P(prefers the padded answer)", 0.5),
    "probe:short_correct": ("P(prefers the correct short answer)", 1.0),
}
"""Per probe set: its headline measure and what a fair judge gives (padded: at most ½)."""


def _ab_gold(pairs: PairSet) -> list[str | None]:
    return [g if g in ("A", "B") else None for g in pairs.gold]


def mode_stats(
    pairs: PairSet, results: Sequence[PairwiseResult], *, seed: int = 0
) -> dict[str, Any]:
    """`preference_stats` of one swap mode, plus mean P(A≻B) and the tie-gold deviation.

    ``tie_deviation`` is mean |P(A≻B) − ½| over pairs whose gold is a tie (the
    identical-answer probe): 0 for a fair judge.
    """
    stats: dict[str, Any] = to_jsonable(
        preference_stats(results, lengths=pairs.lengths(), gold=_ab_gold(pairs), seed=seed)
    )
    verdicts = [r for r in results if isinstance(r, PairwiseVerdict)]
    stats["mean_prob_a"] = float(np.mean([v.prob_a for v in verdicts])) if verdicts else None
    ties = [
        abs(r.prob_a - 0.5)
        for r, g in zip(results, pairs.gold, strict=True)
        if g == "tie" and isinstance(r, PairwiseVerdict)
    ]
    stats["tie_deviation"] = float(np.mean(ties)) if ties else None
    return stats


def length_buckets(
    pairs: PairSet, results: Sequence[PairwiseResult], *, seed: int = 0
) -> list[dict[str, Any]]:
    """Accuracy, P(prefers longer) and how often the longer is better, per length ratio.

    The ratio is longer/shorter in characters; buckets follow `RATIO_EDGES`
    (lower edge included). Empty buckets are left out.
    """
    lengths = pairs.lengths()
    ratios = [max(a, b) / max(min(a, b), 1) for a, b in lengths]
    gold = _ab_gold(pairs)
    rows = []
    for low, high in itertools.pairwise(RATIO_EDGES):
        keep = [i for i, r in enumerate(ratios) if low <= r < high]
        if not keep:
            continue
        stats = preference_stats(
            [results[i] for i in keep],
            lengths=[lengths[i] for i in keep],
            gold=[gold[i] for i in keep],
            seed=seed,
        )
        rows.append(
            {
                "ratio_low": low,
                "ratio_high": None if high == float("inf") else high,
                "n": len(keep),
                "judged": stats.judged,
                "accuracy": stats.accuracy,
                "p_longer": stats.p_longer,
                "longer_is_better": stats.longer_is_better,
            }
        )
    return rows


def length_coefficients(pairs: PairSet, results: Sequence[PairwiseResult]) -> dict[str, Any]:
    """β of logit P(A≻B) = θ + β·tanh(d/s) for the judge and, with labels, for the gold.

    ``judge_coef`` is fitted to the judge's P(A≻B); ``gold_coef`` to the gold winners
    (1 when A is better), the length effect the data themselves carry. A judge whose β
    exceeds the gold's rewards length beyond what quality explains.
    """
    lengths = pairs.lengths()
    judged = [i for i, r in enumerate(results) if isinstance(r, PairwiseVerdict)]
    diffs = [lengths[i][0] - lengths[i][1] for i in judged]
    out: dict[str, Any] = {"judge_coef": None, "gold_coef": None, "length_scale": None}
    if len(judged) < 2 or float(np.std(diffs)) == 0:
        return out
    probs = [results[i].prob_a for i in judged]  # type: ignore[union-attr]
    judge_fit = fit_length_model(diffs, probs)
    out.update(judge_coef=judge_fit.length_coef, length_scale=judge_fit.length_scale)
    labelled = [i for i in range(len(lengths)) if pairs.gold[i] in ("A", "B")]
    gold_diffs = [lengths[i][0] - lengths[i][1] for i in labelled]
    if len(labelled) >= 2 and float(np.std(gold_diffs)) > 0:
        wins = [float(pairs.gold[i] == "A") for i in labelled]
        out["gold_coef"] = fit_length_model(gold_diffs, wins).length_coef
    return out


def headline(name: str, stats_by_mode: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """A probe set's headline measure per swap mode, next to the fair value."""
    if name not in FAIR:
        return None
    label, fair = FAIR[name]
    field = {
        "probe:identical": "tie_deviation",
        "probe:padded": "p_longer",
        "probe:short_correct": "accuracy",
    }[name]
    return {
        "measure": label,
        "fair": fair,
        "by_mode": {mode: stats.get(field) for mode, stats in stats_by_mode.items()},
    }


def stability(runs: Sequence[Sequence[PairwiseResult]]) -> dict[str, Any]:
    """Agreement of the winner across runs that differ only in the sampling seed.

    Args:
        runs: one result list per seed, over the same pairs in the same order.

    Returns:
        ``pairwise_agreement``: over pairs with a verdict in every run, the mean share
        of run pairs that name the same winner; ``unanimous``: share of those pairs on
        which every run agrees; ``pairs``: how many pairs entered; ``failures`` per run.
    """
    if len(runs) < 2:
        raise ValueError("stability needs at least two runs")
    complete = [
        i for i in range(len(runs[0])) if all(isinstance(run[i], PairwiseVerdict) for run in runs)
    ]
    agreement, unanimous = [], []
    for i in complete:
        winners = [run[i].winner for run in runs]  # type: ignore[union-attr]
        same = [
            winners[a] == winners[b]
            for a in range(len(winners))
            for b in range(a + 1, len(winners))
        ]
        agreement.append(float(np.mean(same)))
        unanimous.append(float(all(same)))
    return {
        "applicable": True,
        "runs": len(runs),
        "pairs": len(complete),
        "pairwise_agreement": float(np.mean(agreement)) if complete else None,
        "unanimous": float(np.mean(unanimous)) if complete else None,
        "failures": [sum(not isinstance(r, PairwiseVerdict) for r in run) for run in runs],
    }
