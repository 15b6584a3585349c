"""A peer's two single-order verdicts per pair, as our typed pairwise results.

Each pair was shown to the peer twice (A first, then B first). The two verdicts become
one `PairwiseVerdict` with two one-hot orders, combined exactly as our engine combines
the generate method's orders (`judge.debias`), so `preference_stats` measures every
tool with one definition. A pair with an unreadable verdict in either order becomes a
`JudgmentFailure` (parse_failure) that keeps the order that did parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judge.debias import combine, consistency, prob_a, unswap, winner_of
from judge.verdicts import (
    FailureReason,
    JudgmentFailure,
    Order,
    OrderResult,
    PairwiseResult,
    PairwiseVerdict,
    Winner,
)


def order_result(shown: Order, winner: Winner, raw: str | None) -> OrderResult:
    """One order's verdict (labels as shown) in the caller's A/B labelling."""
    as_shown = {"A": 0.0, "B": 0.0, winner: 1.0} if winner != "tie" else {"A": 0.5, "B": 0.5}
    probs = unswap(as_shown, shown)
    return OrderResult(
        shown=shown,
        label_probs=as_shown,
        prob_a=prob_a(probs),
        winner=winner_of(probs),
        raw_output=raw,
    )


def pair_result(tool: str, ab: dict[str, Any], ba: dict[str, Any]) -> PairwiseResult:
    """The verdict on one pair from its two rows (``winner`` None: no verdict)."""
    orders, errors = [], []
    for shown, r in (("AB", ab), ("BA", ba)):
        if r["winner"] is None:
            errors.append(f"{shown}: {r['error']}")
        else:
            orders.append(order_result(shown, r["winner"], r["raw"]))  # type: ignore[arg-type]
    if errors:
        raw = ab["raw"] if ab["winner"] is None else ba["raw"]
        return JudgmentFailure(
            kind="pairwise",
            reason=FailureReason.PARSE_FAILURE,
            message="; ".join(errors),
            raw_output=raw,
            orders=tuple(orders),
        )
    probs = combine([unswap(o.label_probs, o.shown) for o in orders])
    return PairwiseVerdict(
        method="generate",
        model=tool,
        template=tool,
        rubric=None,
        winner=winner_of(probs),
        prob_a=prob_a(probs),
        consistent=consistency([o.winner for o in orders]),
        orders=tuple(orders),
        swap="both",
    )


def peer_results(tool: str, rows: Sequence[dict[str, Any]], pairs: int) -> list[PairwiseResult]:
    """Results per pair from a driver's rows keyed ``"<pair>:AB"`` and ``"<pair>:BA"``."""
    by_key = {r["key"]: r for r in rows}
    return [pair_result(tool, by_key[f"{i}:AB"], by_key[f"{i}:BA"]) for i in range(pairs)]


def failed_orders(results: Sequence[PairwiseResult]) -> int:
    """Orders without a readable verdict (2 per pair shown in both orders)."""
    return sum(2 - len(r.orders) for r in results if not isinstance(r, PairwiseVerdict))


def shown_orders(results: Sequence[PairwiseResult]) -> int:
    """Judgments made: a verdict's orders (one for a pair a one-order judge showed once;
    two for a by-scores verdict, which has no order but scored two responses), two for a
    pair without a verdict."""
    return sum((len(r.orders) or 2) if isinstance(r, PairwiseVerdict) else 2 for r in results)
