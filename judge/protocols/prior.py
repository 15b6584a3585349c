"""One order per pair, read with the judge's position prior removed: half the calls.

A small judge leans towards the response shown first whatever the content, which is
why the default shows both orders and averages them. That lean is mostly one constant
of the judge and its template: the mean log-odds b of "first shown wins" over pairs
judged both ways, which needs no labels (batch calibration; Zhou et al., 2024, "Batch
Calibration", and Zhao et al., 2021, "Calibrate Before Use"). `OneOrder` fits b on
the first ``fit_pairs`` pairs it is given, judging those both ways; every later pair
is shown once, in an order drawn per item (``swap="random"``), and its verdict is read
with b taken off the log-odds of the first-shown label. A prior can also be pinned
(``prior=``) so that nothing is fitted and every pair costs one call.

Log-odds removal keeps a tie label's probability and rescales A against B:
p'(first) ∝ p(first)·e^(−b/2), p'(second) ∝ p(second)·e^(b/2). The orders of the
verdict carry the corrected probabilities; ``raw_prob_a`` is the uncorrected
P(A ≻ B). The state is the protocol's: pairs fitted in one call count towards the
next, and `prior` and `fitted_on` say what was fitted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from judge.debias import combine, consistency, prob_a, unswap, winner_of
from judge.engine.executor import Progress
from judge.errors import UserError
from judge.inputs import as_pair
from judge.judge import Judge
from judge.protocols.base import OnJudge, PairItems, Stages, named
from judge.verdicts import OrderResult, PairwiseResult, PairwiseVerdict

FIT_PAIRS = 16
_EDGE = 1e-12  # keeps log-odds finite for a label read as (almost) certain


def first_log_odds(label_probs: Mapping[str, float]) -> float:
    """The log-odds of the first-shown label against the second, from probabilities as shown."""
    first, second = label_probs.get("A", 0.0), label_probs.get("B", 0.0)
    return math.log(max(first, _EDGE)) - math.log(max(second, _EDGE))


def remove_prior(label_probs: Mapping[str, float], prior: float) -> dict[str, float]:
    """Probabilities as shown with ``prior`` taken off the first label's log-odds."""
    first, second = label_probs.get("A", 0.0), label_probs.get("B", 0.0)
    mass = first + second
    if mass <= 0.0:
        return dict(label_probs)
    odds = first_log_odds(label_probs) - prior
    share = 1.0 / (1.0 + math.exp(-odds)) if odds > -700 else 0.0
    return {**label_probs, "A": mass * share, "B": mass * (1.0 - share)}


class OneOrder(OnJudge):
    """A judge that shows each pair once and removes its fitted position prior.

    Args:
        judge: the judge whose backend, rubric, templates, cache and seed are used; it
            must read log-probabilities (``method="logprob"``) and have no calibrator.
        prior: the log-odds to remove, pinned (nothing is fitted); None fits it.
        fit_pairs: pairs judged both ways to fit the prior, at least 2.

    Raises:
        UserError: a method other than logprob, a calibrated judge, or ``fit_pairs`` < 2.
    """

    name = "one-order"

    def __init__(self, judge: Judge, *, prior: float | None = None, fit_pairs: int = FIT_PAIRS):
        if judge.config.method != "logprob":
            raise UserError(
                f"one-order reads label log-probabilities; the judge's method is "
                f"{judge.config.method!r}: use method='logprob'"
            )
        if judge.config.calibration is not None:
            raise UserError(
                "one-order removes the position prior itself; build it on a judge without "
                "calibration"
            )
        if fit_pairs < 2:
            raise UserError(f"fitting the position prior needs at least 2 pairs, got {fit_pairs}")
        self.judge = judge
        self.fit_pairs = fit_pairs
        self._pinned = prior
        self._odds: list[float] = []
        self._both = judge.with_settings(swap="both")
        self._once = judge.with_settings(swap="random")

    @property
    def prior(self) -> float | None:
        """The log-odds removed: pinned, fitted, or None while fewer pairs are in."""
        if self._pinned is not None:
            return self._pinned
        if len(self._odds) < 2 * self.fit_pairs:
            return None
        return sum(self._odds) / len(self._odds)

    @property
    def fitted_on(self) -> int:
        """How many pairs (both orders judged) the fitted prior comes from."""
        return len(self._odds) // 2

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Judge many pairs: both orders until the prior is fitted, then one order each.

        ``progress(done, total)`` counts the fitting calls, then the single orders'.
        """
        pairs = [as_pair(item) for item in items]
        wanted = 0 if self.prior is not None else self.fit_pairs - self.fitted_on
        stages = Stages(progress, 2)
        fitting = self._fit(self._both.compare_batch(pairs[:wanted], progress=stages.stage()))
        if self.prior is None:  # fitting pairs failed: the rest is judged both ways too
            rest = self._fit(self._both.compare_batch(pairs[wanted:], progress=stages.stage()))
        else:
            rest = self._once.compare_batch(pairs[wanted:], progress=stages.stage())
        prior = self.prior
        if prior is None:  # too few pairs so far: the verdicts stand as judged, both ways
            return [named(result, self.name) for result in (*fitting, *rest)]
        return [named(self._corrected(result, prior), self.name) for result in (*fitting, *rest)]

    def _fit(self, results: list[PairwiseResult]) -> list[PairwiseResult]:
        """Add the log-odds of every fully judged pair while the prior is not fitted yet."""
        for result in results:
            if self.prior is None and isinstance(result, PairwiseVerdict):
                self._odds.extend(first_log_odds(o.label_probs) for o in result.orders)
        return results

    @staticmethod
    def _corrected(result: PairwiseResult, prior: float) -> PairwiseResult:
        if not isinstance(result, PairwiseVerdict):
            return result
        orders = [_order(o, prior) for o in result.orders]
        combined = combine([unswap(o.label_probs, o.shown) for o in orders])
        return result.model_copy(
            update={
                "orders": tuple(orders),
                "winner": winner_of(combined),
                "prob_a": min(max(prob_a(combined), 0.0), 1.0),
                "raw_prob_a": result.prob_a,
                "consistent": consistency([o.winner for o in orders]),
            }
        )


def _order(order: OrderResult, prior: float) -> OrderResult:
    shown = remove_prior(order.label_probs, prior)
    probs = unswap(shown, order.shown)
    update: dict[str, Any] = {"label_probs": shown, "prob_a": prob_a(probs)}
    return order.model_copy(update=update | {"winner": winner_of(probs)})
