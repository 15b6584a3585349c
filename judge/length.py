"""Length-controlled win rate (AlpacaEval style): the win rate at equal lengths.

For pair i with response lengths ``len_a`` and ``len_b`` and the judge's outcome
``y_i`` (A's win, tie ½, loss 0; or P(A≻B) with ``target="prob"``), fit the logistic
model::

    logit P(A ≻ B)_i = θ + u_g(i) + β · tanh(d_i / s),   d_i = len_a − len_b,
                                                          s = std(d)

by penalized maximum likelihood with a soft target (cross-entropy against ``y_i``).
``u_g`` is a per-group (per-prompt, per-model) intercept, used only for groups with at
least ``min_group_size`` pairs (every other pair shares θ alone): a group term fitted on
one or two pairs would just memorize them. The group terms carry an L2 penalty
``l2_groups`` (shrinkage towards θ, like a random effect; it also keeps θ identifiable,
since the common part is cheapest in the unpenalized θ); β carries a tiny one,
``l2_length``, that only matters when the data separate perfectly. The
length-controlled win rate is the model's prediction at zero length difference,
averaged over the pairs::

    LC = mean_i σ(θ + u_g(i))

With no group terms this is σ(θ). Its interval is a percentile bootstrap over pairs
(each resample refits the model). β says how strongly length moves the judge: the
change in log-odds of preferring A when A is much longer (tanh → 1) rather than equal.
Failed judgments are excluded, as everywhere. Pure numpy: a few Newton steps.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from judge.stats import bootstrap_interval
from judge.verdicts import PairwiseResult, PairwiseVerdict

Target = Literal["winner", "prob"]
_OUTCOME = {"A": 1.0, "tie": 0.5, "B": 0.0}
MIN_GROUP_SIZE = 5
"""Pairs a group needs before it gets its own intercept."""


@dataclass(frozen=True)
class LengthFit:
    """A fitted length model.

    Attributes:
        intercept: θ, the shared log-odds at zero length difference.
        length_coef: β, log-odds per unit of tanh(d / s).
        length_scale: s, the standard deviation of the length differences.
        group_terms: u_g for each group that had enough pairs.
        lc_win_rate: mean over pairs of σ(θ + u_g(i)).
    """

    intercept: float
    length_coef: float
    length_scale: float
    group_terms: dict[str, float]
    lc_win_rate: float


@dataclass(frozen=True)
class LengthControlled:
    """Raw and length-controlled win rate of A, each with a bootstrap interval.

    Attributes:
        n: pairs with a verdict (used in the fit).
        failures: pairs without one (excluded).
        target: what was fitted: ``"winner"`` (1, ½, 0) or ``"prob"`` (P(A≻B)).
        raw_win_rate: mean of the target (for ``"winner"``: `judge.stats.win_rate`).
        raw_ci: bootstrap interval of ``raw_win_rate``.
        lc_win_rate: predicted win rate at zero length difference.
        lc_ci: bootstrap interval of ``lc_win_rate``.
        length_coef: β (None when every pair has the same length difference, so the
            length effect cannot be estimated).
        length_scale: standard deviation of len_a − len_b.
        groups_fitted: groups that got their own intercept.
        mean_length_diff: mean of len_a − len_b.
    """

    n: int
    failures: int
    target: Target
    raw_win_rate: float | None
    raw_ci: tuple[float, float] | None
    lc_win_rate: float | None
    lc_ci: tuple[float, float] | None
    length_coef: float | None
    length_scale: float | None
    groups_fitted: int
    mean_length_diff: float | None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0))))


def _newton(
    x: np.ndarray, y: np.ndarray, penalty: np.ndarray, steps: int = 50, tol: float = 1e-10
) -> np.ndarray:
    """Penalized logistic regression with soft targets (IRLS / Newton)."""
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = _sigmoid(x @ w)
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1.0 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.max(np.abs(step))) < tol:
            break
    return w


def _design(
    diffs: np.ndarray, groups: Sequence[Hashable] | None, min_group_size: int
) -> tuple[np.ndarray, list[str], float]:
    scale = float(np.std(diffs))
    feature = np.tanh(diffs / scale) if scale > 0 else np.zeros_like(diffs)
    columns = [np.ones_like(diffs), feature]
    names: list[str] = []
    if groups is not None:
        labels = [str(g) for g in groups]
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        names = sorted(g for g, c in counts.items() if c >= min_group_size)
        columns += [np.array([float(label == g) for label in labels]) for g in names]
    return np.column_stack(columns), names, scale


def fit_length_model(
    diffs: Sequence[float] | np.ndarray,
    targets: Sequence[float] | np.ndarray,
    *,
    groups: Sequence[Hashable] | None = None,
    min_group_size: int = MIN_GROUP_SIZE,
    l2_length: float = 1e-3,
    l2_groups: float = 1.0,
) -> LengthFit:
    """Fit logit P(A≻B) = θ + u_g + β·tanh(d/s) to soft targets (see the module docstring).

    Args:
        diffs: len_a − len_b per pair.
        targets: the judge's outcome per pair, in [0, 1].
        groups: a group label per pair (prompt id, model name); None for no group terms.
        min_group_size: pairs a group needs for its own intercept.
        l2_length: L2 penalty on β.
        l2_groups: L2 penalty on the group terms.

    Raises:
        ValueError: empty input, mismatched lengths, or targets outside [0, 1].
    """
    d = np.asarray(diffs, dtype=float)
    y = np.asarray(targets, dtype=float)
    if len(d) == 0 or len(d) != len(y) or (groups is not None and len(groups) != len(d)):
        raise ValueError("diffs, targets (and groups) must be non-empty and of equal length")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("targets must lie in [0, 1]")
    x, names, scale = _design(d, groups, min_group_size)
    penalty = np.full(x.shape[1], l2_groups)
    penalty[:2] = (0.0, l2_length)
    w = _newton(x, y, penalty)
    zero_length = x.copy()
    zero_length[:, 1] = 0.0
    return LengthFit(
        intercept=float(w[0]),
        length_coef=float(w[1]),
        length_scale=scale,
        group_terms=dict(zip(names, map(float, w[2:]), strict=True)),
        lc_win_rate=float(np.mean(_sigmoid(zero_length @ w))),
    )


def _targets(verdicts: Sequence[PairwiseVerdict], target: Target) -> list[float]:
    if target == "prob":
        return [v.prob_a for v in verdicts]
    return [_OUTCOME[v.winner] for v in verdicts]


def length_controlled_win_rate(
    results: Sequence[PairwiseResult],
    lengths: Sequence[tuple[int, int]],
    *,
    groups: Sequence[Hashable] | None = None,
    target: Target = "winner",
    min_group_size: int = MIN_GROUP_SIZE,
    l2_length: float = 1e-3,
    l2_groups: float = 1.0,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> LengthControlled:
    """The raw and the length-controlled win rate of A over B, with bootstrap intervals.

    Args:
        results: one pairwise result per pair, A's point of view.
        lengths: (length of A, length of B) per pair, e.g. in characters.
        groups: optional group label per pair (prompt id, model); see the module
            docstring for when a group gets its own term.
        target: ``"winner"`` fits the verdicts (1, ½ for a tie, 0), the quantity the
            raw win rate averages; ``"prob"`` fits P(A≻B).
        min_group_size: pairs a group needs for its own intercept.
        l2_length: L2 penalty on β.
        l2_groups: L2 penalty on the group terms.
        resamples: bootstrap resamples (each refits the model).
        confidence: interval coverage.
        seed: seeds the bootstrap.

    Raises:
        ValueError: ``lengths`` or ``groups`` is not one entry per result.
    """
    if len(lengths) != len(results) or (groups is not None and len(groups) != len(results)):
        raise ValueError(
            f"need one length pair (and group) per result; got {len(lengths)} "
            f"lengths for {len(results)} results"
        )
    kept = [i for i, r in enumerate(results) if isinstance(r, PairwiseVerdict)]
    verdicts = [r for r in results if isinstance(r, PairwiseVerdict)]
    failures = len(results) - len(kept)
    if not kept:
        return LengthControlled(0, failures, target, None, None, None, None, None, None, 0, None)
    y = np.array(_targets(verdicts, target))
    d = np.array([lengths[i][0] - lengths[i][1] for i in kept], dtype=float)
    g = [groups[i] for i in kept] if groups is not None else None

    def refit(pick: np.ndarray) -> LengthFit:
        return fit_length_model(
            d[pick],
            y[pick],
            groups=[g[i] for i in pick] if g is not None else None,
            min_group_size=min_group_size,
            l2_length=l2_length,
            l2_groups=l2_groups,
        )

    fit = refit(np.arange(len(y)))
    rng = np.random.default_rng(seed)
    lc_means = []
    for _ in range(resamples):
        pick = rng.integers(0, len(y), size=len(y))
        lc_means.append(refit(pick).lc_win_rate)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(lc_means, [tail, 1.0 - tail])
    # The raw interval is the one `judge.stats.win_rate` reports for the same seed.
    return LengthControlled(
        n=len(kept),
        failures=failures,
        target=target,
        raw_win_rate=float(y.mean()),
        raw_ci=bootstrap_interval(y.tolist(), confidence=confidence, seed=seed),
        lc_win_rate=fit.lc_win_rate,
        lc_ci=(float(low), float(high)),
        length_coef=fit.length_coef if fit.length_scale > 0 else None,
        length_scale=fit.length_scale,
        groups_fitted=len(fit.group_terms),
        mean_length_diff=float(d.mean()),
    )
