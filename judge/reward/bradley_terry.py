"""Bradley–Terry strengths from pairwise preference probabilities (pure numpy).

The model: P(i ≻ j) = σ(s_i − s_j). Given soft outcomes p_ij (a judge's P(i ≻ j), so
p_ji = 1 − p_ij for a judged pair), the strengths maximize the penalized log-likelihood

    L(s) = Σ_{judged (i, j)} [p_ij log σ(s_i − s_j) + (1 − p_ij) log σ(s_j − s_i)] − (λ/2) Σ_i s_i²

The ridge term λ (tiny by default) keeps an item that wins every comparison with
probability 1 finite, and pins the otherwise free additive constant. L is strictly
concave, so Newton's method converges in a handful of steps. Strengths are returned
centred (mean 0); differences s_i − s_j then read as logits of P(i ≻ j).

`consistency` says how far a group's comparisons are from any ranking: the share of
judged triads that are 3-cycles (A ≻ B ≻ C ≻ A) and the fit's residual.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from judge.errors import UserError

DEFAULT_RIDGE = 1e-3


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float64)


def _check(n: int, comparisons: Sequence[tuple[int, int, float]], ridge: float) -> None:
    if n < 1:
        raise UserError("a Bradley–Terry fit needs at least one item")
    if ridge <= 0:
        raise UserError(f"ridge must be positive (it keeps strengths finite), got {ridge}")
    for i, j, p in comparisons:
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise UserError(f"comparison ({i}, {j}) does not name two different items of {n}")
        if not 0.0 <= p <= 1.0:
            raise UserError(f"comparison ({i}, {j}) has probability {p}, outside [0, 1]")


def fit_bradley_terry(
    n: int,
    comparisons: Sequence[tuple[int, int, float]],
    *,
    ridge: float = DEFAULT_RIDGE,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> NDArray[np.float64]:
    """Fit centred Bradley–Terry strengths to soft pairwise outcomes.

    Args:
        n: number of items.
        comparisons: ``(i, j, p)`` with p = P(item i ≻ item j). A pair may appear more
            than once (each counts as one comparison).
        ridge: λ of the Gaussian prior on the strengths (> 0).
        tol: stop when the largest Newton step is below this.
        max_iter: Newton iterations at most.

    Returns:
        Strengths s (length n, mean 0). An item in no comparison gets 0.

    Raises:
        UserError: an index out of range, i == j, or a probability outside [0, 1].
    """
    _check(n, comparisons, ridge)
    s = np.zeros(n)
    if not comparisons:
        return s
    rows = np.array([c[0] for c in comparisons])
    cols = np.array([c[1] for c in comparisons])
    p = np.array([c[2] for c in comparisons], dtype=np.float64)

    def objective(x: NDArray[np.float64]) -> float:
        d = x[rows] - x[cols]  # log σ(d) = −log(1 + e^−d), computed stably
        return float(
            -(p * np.logaddexp(0.0, -d) + (1 - p) * np.logaddexp(0.0, d)).sum()
            - 0.5 * ridge * (x @ x)
        )

    for _ in range(max_iter):
        q = _sigmoid(s[rows] - s[cols])
        residual = p - q  # dL/d(s_i − s_j) per comparison
        grad = np.bincount(rows, residual, n) - np.bincount(cols, residual, n) - ridge * s
        w = q * (1.0 - q)
        hess = np.zeros((n, n))  # −Hessian: weighted graph Laplacian + λI
        np.add.at(hess, (rows, rows), w)
        np.add.at(hess, (cols, cols), w)
        np.add.at(hess, (rows, cols), -w)
        np.add.at(hess, (cols, rows), -w)
        hess[np.diag_indices(n)] += ridge
        step = np.linalg.solve(hess, grad)
        # Backtrack: far from the optimum (near-certain outcomes) a full Newton step
        # can overshoot where the curvature is tiny.
        before, scale = objective(s), 1.0
        while objective(s + scale * step) < before and scale > 1e-6:
            scale /= 2.0
        s = s + scale * step
        if np.max(np.abs(scale * step)) < tol:
            break
    return np.asarray(s - s.mean(), dtype=np.float64)


@dataclass(frozen=True)
class Consistency:
    """How well a group's judged comparisons agree with one ranking.

    Attributes:
        triads: triples of items whose three pairs were all judged with a winner
            (P ≠ ½ after averaging every comparison of the pair).
        cycles: how many of those triads are cyclic (A ≻ B ≻ C ≻ A).
        residual: root mean square of P(i ≻ j) − σ(s_i − s_j) over the comparisons,
            at the fitted strengths (0: the judge is exactly Bradley–Terry).
    """

    triads: int
    cycles: int
    residual: float

    @property
    def cycle_share(self) -> float | None:
        """Share of judged triads that are cyclic; None when no triad was judged."""
        return self.cycles / self.triads if self.triads else None


def consistency(
    n: int, comparisons: Sequence[tuple[int, int, float]], strengths: NDArray[np.float64]
) -> Consistency:
    """3-cycles and the fit's residual of one group's comparisons.

    Args:
        n: number of items.
        comparisons: ``(i, j, p)`` as given to `fit_bradley_terry`.
        strengths: the strengths fitted to them.
    """
    mean = _pair_means(comparisons)
    beats = {(i, j) for (i, j), p in mean.items() if p > 0.5} | {
        (j, i) for (i, j), p in mean.items() if p < 0.5
    }
    triads = cycles = 0
    for a, b, c in itertools.combinations(range(n), 3):
        edges = [(a, b), (b, c), (a, c)]
        if all((x, y) in beats or (y, x) in beats for x, y in edges):
            triads += 1
            # A triad is cyclic exactly when every item wins once.
            wins = [sum((x, y) in beats for y in (a, b, c) if y != x) for x in (a, b, c)]
            cycles += wins == [1, 1, 1]
    if not comparisons:
        return Consistency(0, 0, 0.0)
    diff = np.array([strengths[i] - strengths[j] for i, j, _ in comparisons])
    p = np.array([c[2] for c in comparisons])
    residual = float(np.sqrt(np.mean((p - _sigmoid(diff)) ** 2)))
    return Consistency(triads, cycles, residual)


def _pair_means(comparisons: Sequence[tuple[int, int, float]]) -> dict[tuple[int, int], float]:
    """Mean P(i ≻ j) per unordered pair, keyed (smaller index, larger index)."""
    sums: dict[tuple[int, int], list[float]] = {}
    for i, j, p in comparisons:
        key, value = ((i, j), p) if i < j else ((j, i), 1.0 - p)
        sums.setdefault(key, []).append(value)
    return {k: sum(v) / len(v) for k, v in sums.items()}
