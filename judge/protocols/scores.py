"""Pairs judged by scores: each response scored alone, and the hybrid of both readings.

`ByScores` compares a pair by scoring each response on its own with the judge's
pointwise template and reading P(A ≻ B) off the two score distributions, taken as
independent: P(S_A > S_B) + ½ P(S_A = S_B). The winner is the side that reading leans
to (a tie only at exactly ½: two responses that share their likeliest score still
differ in the rest of their distributions). Nothing is shown in an order, so there is
no position to be biased by (the verdict has no orders and no consistency).

`Hybrid` asks both questions: the judge's own pairwise verdict (its orders, as its
``swap`` shows them) and the by-scores verdict, and averages them. Each order's
reading becomes the mean of that order's pairwise probabilities and the order-free
score probabilities (each order's winner the side its mixed P(A ≻ B) leans to), so
its consistency says whether the mixed reading keeps its winner when the responses
trade places; ``prob_a`` and the winner are the mean of the two members' P(A ≻ B), as
a `Panel` of the two gives them, and their spread is ``disagreement``.

Both send every call through the judge's engine: a hybrid's calls are those of the
judge's pairwise and pointwise judgments, cached as such, so a hybrid after a plain
run (or a pointwise reward) on the same cache pays only for what is new.
"""

from __future__ import annotations

from collections.abc import Mapping

from judge.debias import combine, consistency, leaning, prob_a, unswap
from judge.engine.executor import Progress
from judge.inputs import PointInput, as_pair
from judge.judge import Judge
from judge.protocols.base import OnJudge, PairItems, named, order_free
from judge.protocols.panel import Panel, PanelPairwiseVerdict
from judge.protocols.pmi import ByPMI
from judge.verdicts import (
    OrderResult,
    PairwiseResult,
    PointwiseResult,
    PointwiseVerdict,
)


def score_preference(a: Mapping[int, float], b: Mapping[int, float]) -> dict[str, float]:
    """P(A wins), P(B wins) and P(tie) for independent score distributions ``a`` and ``b``.

    >>> score_preference({1: 0.5, 2: 0.5}, {1: 1.0})
    {'A': 0.5, 'B': 0.0, 'tie': 0.5}
    """
    wins = {"A": 0.0, "B": 0.0, "tie": 0.0}
    for s, p in a.items():
        for t, q in b.items():
            wins["A" if s > t else "B" if s < t else "tie"] += p * q
    return wins


class ByScores(OnJudge):
    """A judge that compares a pair by scoring each response on its own.

    Args:
        judge: the judge whose backend, rubric, pointwise template, method, cache and
            seed are used.
    """

    name = "by-scores"

    def __init__(self, judge: Judge) -> None:
        self.judge = judge

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Score both responses of every pair; P(A ≻ B) from the two distributions.

        A pair whose either score failed gets that failure. ``progress(done, total)``
        counts the scoring calls, two a pair.
        """
        pairs = [as_pair(item) for item in items]
        points = [
            PointInput(p.prompt, r, p.extra) for p in pairs for r in (p.response_a, p.response_b)
        ]
        scores = self.judge.score_batch(points, progress=progress)
        return [self._verdict(a, b) for a, b in zip(scores[::2], scores[1::2], strict=True)]

    def _verdict(self, a: PointwiseResult, b: PointwiseResult) -> PairwiseResult:
        if not isinstance(a, PointwiseVerdict):
            return a
        if not isinstance(b, PointwiseVerdict):
            return b
        wins = score_preference(a.distribution, b.distribution)
        p_a = min(max(prob_a(wins), 0.0), 1.0)
        return order_free(
            method=a.method,
            model=a.model,
            template=f"{a.template}+{self.name}",
            rubric=a.rubric,
            prob_a=p_a,
            prob_tie=wins["tie"],
            truncations=a.truncations + b.truncations,
        )


class Hybrid(OnJudge):
    """A judge whose pairwise verdict is averaged with its by-scores verdict.

    Args:
        judge: the judge whose pairwise verdict (its swap, template and method) and
            pointwise scores are combined. A calibrated judge brings its calibrated
            P(A ≻ B) to the mean; the orders mix its readings as shown, uncalibrated.
        order_free: the verdict with no orders to mix in instead of ``ByScores(judge)``
            (`judge.protocols.pmi.ByPMI`: the ``pmi-hybrid``); the hybrid is then named
            ``<its name>-hybrid``.
    """

    name = "hybrid"

    def __init__(self, judge: Judge, order_free: ByScores | ByPMI | None = None) -> None:
        self.judge = judge
        if order_free is not None:
            self.name = f"{order_free.name}-hybrid"
        self._panel = Panel([judge, order_free or ByScores(judge)])

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Judge many pairs both ways (pairwise, then by scores) and mix the readings.

        ``progress(done, total)`` counts the pairwise calls, then the scoring calls.
        """
        results = self._panel.compare_batch(items, progress=progress)
        return [named(_mixed(r), self.name) for r in results]


def _mixed(result: PairwiseResult) -> PairwiseResult:
    """A panel of (pairwise, by-scores) with each order's reading mixed with the scores'."""
    if not isinstance(result, PanelPairwiseVerdict):
        return result
    pairwise, scored = result.members
    tie = scored.prob_tie or 0.0
    scores = {"A": max(scored.prob_a - tie / 2, 0.0), "tie": tie}
    scores["B"] = max(1.0 - scores["A"] - tie, 0.0)
    orders = tuple(_order(o, scores) for o in pairwise.orders)
    return result.model_copy(
        update={"orders": orders, "consistent": consistency([o.winner for o in orders])}
    )


def _order(order: OrderResult, scores: Mapping[str, float]) -> OrderResult:
    """``order``'s reading as shown, averaged with the score probabilities as shown."""
    shown = combine([order.label_probs, unswap(scores, order.shown)])
    p_a = prob_a(unswap(shown, order.shown))
    return order.model_copy(update={"label_probs": shown, "prob_a": p_a, "winner": leaning(p_a)})
