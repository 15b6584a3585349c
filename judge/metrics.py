"""Agreement and calibration metrics: Cohen's kappa, Brier score, expected calibration error.

Probabilities are a judge's P(A ≻ B); outcomes are 1 when A was the better response, 0
when B was, and may be fractional (a tie, or the share of annotators who preferred A).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_BINS = 10


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items: (p_o − p_e) / (1 − p_e).

    Returns None for no items, and 1.0 when both raters use one and the same label
    throughout (agreement is then perfect and chance agreement is 1).

    Raises:
        ValueError: the sequences differ in length.
    """
    if len(first) != len(second):
        raise ValueError(f"{len(first)} labels against {len(second)}")
    if not first:
        return None
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    labels = set(first) | set(second)
    expected = sum((list(first).count(k) / n) * (list(second).count(k) / n) for k in labels)
    if expected >= 1.0:
        return 1.0
    return (observed - expected) / (1.0 - expected)


def brier(probs: Sequence[float], outcomes: Sequence[float]) -> float | None:
    """Mean squared difference between probabilities and outcomes (0 is perfect)."""
    if not probs:
        return None
    p, y = np.asarray(probs, dtype=float), np.asarray(outcomes, dtype=float)
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True)
class Bin:
    """One bin of a reliability diagram.

    Attributes:
        low: lower edge of the probability bin.
        high: upper edge.
        count: predictions in the bin.
        mean_prob: mean predicted probability in the bin.
        mean_outcome: observed frequency (mean outcome) in the bin.
    """

    low: float
    high: float
    count: int
    mean_prob: float | None
    mean_outcome: float | None


def reliability(
    probs: Sequence[float], outcomes: Sequence[float], *, bins: int = DEFAULT_BINS
) -> list[Bin]:
    """Equal-width bins over [0, 1]; the last bin includes 1.0."""
    p, y = np.asarray(probs, dtype=float), np.asarray(outcomes, dtype=float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for k in range(bins):
        inside = index == k
        count = int(inside.sum())
        out.append(
            Bin(
                k / bins,
                (k + 1) / bins,
                count,
                float(p[inside].mean()) if count else None,
                float(y[inside].mean()) if count else None,
            )
        )
    return out


def expected_calibration_error(
    probs: Sequence[float], outcomes: Sequence[float], *, bins: int = DEFAULT_BINS
) -> float | None:
    """ECE: Σ_bins (n_bin / n) · |mean outcome − mean probability| (equal-width bins)."""
    if not probs:
        return None
    total = len(probs)
    return float(
        sum(
            b.count / total * abs(b.mean_outcome - b.mean_prob)
            for b in reliability(probs, outcomes, bins=bins)
            if b.mean_prob is not None and b.mean_outcome is not None
        )
    )
