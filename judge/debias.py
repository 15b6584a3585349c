"""Position debiasing: which orders to show, and how to combine what each order said.

With p₁ = P(A≻B | A shown first) and p₂ = P(A≻B | B shown first), ``swap="both"``
returns ½(p₁ + p₂); consistency is whether both orders pick the same winner.
``swap="random"`` shows one order drawn from a generator seeded by the judge's seed and
the item itself, so it is reproducible whatever the batch; ``swap="none"`` shows the
given order. A tie counts half towards P(A≻B).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from judge.verdicts import Order, SwapMode, Winner

_SWAP = {"A": "B", "B": "A", "tie": "tie"}


def orders_to_show(swap: SwapMode, seed: int, item_digest: str) -> tuple[Order, ...]:
    """The presentation orders for one pair."""
    if swap == "both":
        return ("AB", "BA")
    if swap == "none":
        return ("AB",)
    entropy = int.from_bytes(hashlib.sha256(item_digest.encode()).digest()[:8], "big")
    rng = np.random.default_rng([seed, entropy])
    return ("BA",) if rng.random() < 0.5 else ("AB",)


def unswap(probs_as_shown: Mapping[str, float], shown: Order) -> dict[str, float]:
    """Map probabilities over labels as shown back to the caller's A/B labelling."""
    if shown == "AB":
        return dict(probs_as_shown)
    return {_SWAP[label]: p for label, p in probs_as_shown.items()}


def prob_a(probs: Mapping[str, float]) -> float:
    """P(A ≻ B) from a distribution over A, B (and tie, counted half)."""
    return probs.get("A", 0.0) + 0.5 * probs.get("tie", 0.0)


def winner_of(probs: Mapping[str, float]) -> Winner:
    """The most probable label; an exact A/B tie is a tie."""
    a, b, t = probs.get("A", 0.0), probs.get("B", 0.0), probs.get("tie", 0.0)
    if t > max(a, b) or a == b:
        return "tie"
    return "A" if a > b else "B"


def leaning(p_a: float) -> Winner:
    """The side a P(A ≻ B) of ``p_a`` leans to; ``"tie"`` only at exactly ½."""
    return "A" if p_a > 0.5 else "B" if p_a < 0.5 else "tie"


def combine(per_order: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Average the per-order distributions (already in the caller's labelling)."""
    labels = {label for probs in per_order for label in probs}
    return {
        label: sum(p.get(label, 0.0) for p in per_order) / len(per_order)
        for label in sorted(labels)
    }


def consistency(winners: Sequence[Winner]) -> bool | None:
    """Whether every order picked the same winner; None for a single order."""
    return None if len(winners) < 2 else len(set(winners)) == 1
