"""Split and merge (PORTIA): each response cut into aligned parts, the parts shown in turn.

A small judge leans towards whichever response it read first. PORTIA (Li et al.,
2024, "Split and Merge: Aligning Position Biases in LLM-based Evaluators") cuts both
responses into the same number of parts at the same shares of their lengths and shows
them interleaved (part 1 of A, part 1 of B, part 2 of A, ...), so that neither
response is read whole before the other. `SplitMerge` does this with the shipped
``pairwise_split`` template (three parts), in each order its judge's ``swap`` shows:
for ``"BA"`` response B's parts come first, under the A tags, and the reading is
mapped back.

The cut is PORTIA's length alignment: each response is cut at the sentence ends
nearest a third and two thirds of its characters (at spaces where it has too few
sentences; a response too short to cut leaves its later parts empty). PORTIA's
further semantic alignment, a search over cut points for parts with the most words
in common, is not done.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from judge.debias import combine, consistency, orders_to_show, prob_a, unswap, winner_of
from judge.engine.executor import Progress
from judge.engine.tasks import TaskName
from judge.errors import UserError
from judge.inputs import PairInput, as_pair
from judge.judge import Judge
from judge.protocols.base import OnJudge, PairItems, named
from judge.templates import JudgeTemplate
from judge.verdicts import (
    JudgmentFailure,
    Order,
    OrderResult,
    PairwiseResult,
    PairwiseVerdict,
)

TEMPLATE = "pairwise_split"
PARTS = 3  # the parts the shipped template shows
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")
_SPACE = re.compile(r"\s+")


def split_parts(text: str, parts: int = PARTS) -> list[str]:
    """``text`` cut into ``parts`` consecutive pieces at about equal shares of its length.

    Cuts fall at the sentence ends (or line breaks) nearest each share, at spaces
    where there are too few of those, never inside a word; the pieces joined give
    ``text`` back. A text with fewer places to cut leaves its last pieces empty.

    >>> split_parts("One. Two. Three.")
    ['One. ', 'Two. ', 'Three.']
    """
    cuts = _cut_points(text, _SENTENCE_END, parts)
    if len(cuts) < parts - 1:
        cuts = _cut_points(text, _SPACE, parts)
    edges = [0, *cuts, *[len(text)] * (parts - 1 - len(cuts)), len(text)]
    return [text[edges[k] : edges[k + 1]] for k in range(parts)]


def _cut_points(text: str, pattern: re.Pattern[str], parts: int) -> list[int]:
    """Increasing cut offsets (after each match) nearest the shares k/parts of ``text``."""
    places = [m.end() for m in pattern.finditer(text) if 0 < m.end() < len(text)]
    cuts: list[int] = []
    for k in range(1, parts):
        later = [p for p in places if not cuts or p > cuts[-1]]
        if not later:
            break
        cuts.append(min(later, key=lambda p: abs(p - k * len(text) / parts)))
    return cuts


def merged(pair: PairInput, shown: Order) -> PairInput:
    """``pair`` as the split template shows it in order ``shown``: the first's parts as A."""
    texts = pair.judged(shown)
    first, second = texts["response_a"], texts["response_b"]
    parts = {
        f"response_{side}_part_{k + 1}": piece.strip()
        for side, text in (("a", first), ("b", second))
        for k, piece in enumerate(split_parts(text))
    }
    return PairInput(pair.prompt, first, second, {**pair.extra, **parts})


class SplitMerge(OnJudge):
    """A judge that reads each pair as the two responses' parts, interleaved.

    Args:
        judge: the judge whose backend, rubric, method, swap, cache and seed are used;
            its pairwise template is replaced by ``pairwise_split`` (labels A and B).
            It must have no calibrator (one fitted on another template's verdicts).

    Raises:
        UserError: a calibrated judge.
    """

    name = "split-merge"

    def __init__(self, judge: Judge) -> None:
        if judge.config.calibration is not None:
            raise UserError(
                "split-merge judges with its own template, which a calibrator fitted on "
                "another template's verdicts does not describe; build it on a judge "
                "without calibration"
            )
        self.judge = judge
        self._merged = judge.with_settings(template=TEMPLATE, swap="none")

    def template(self, task: TaskName) -> JudgeTemplate:
        """The task template used for ``task``: ``pairwise_split`` for pairs."""
        return self._merged.template(task)

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Judge many pairs, each order shown as its interleaved parts; orders averaged.

        ``progress(done, total)`` counts the calls, one per order shown.
        """
        pairs = [as_pair(item) for item in items]
        config = self.judge.config
        shown = [orders_to_show(config.swap, config.seed, p.digest()) for p in pairs]
        asked = [merged(p, o) for p, orders in zip(pairs, shown, strict=True) for o in orders]
        results = iter(self._merged.compare_batch(asked, progress=progress))
        return [
            named(self._verdict([next(results) for _ in orders], orders), self.name)
            for orders in shown
        ]

    def _verdict(self, results: list[PairwiseResult], orders: Sequence[Order]) -> PairwiseResult:
        """One verdict from each order's reading (as shown), mapped back to A and B."""
        failed = next((r for r in results if isinstance(r, JudgmentFailure)), None)
        if failed is not None:
            return failed
        verdicts = [r for r in results if isinstance(r, PairwiseVerdict)]
        shown = [_as_shown(v.orders[0], o) for v, o in zip(verdicts, orders, strict=True)]
        combined = combine([unswap(o.label_probs, o.shown) for o in shown])
        return verdicts[0].model_copy(
            update={
                "orders": tuple(shown),
                "winner": winner_of(combined),
                "prob_a": min(max(prob_a(combined), 0.0), 1.0),
                "prob_tie": combined.get("tie"),
                "consistent": consistency([o.winner for o in shown]),
                "swap": self.judge.config.swap,
                "truncations": tuple(t for v in verdicts for t in v.truncations),
            }
        )


def _as_shown(order: OrderResult, shown: Order) -> OrderResult:
    """A reading of responses shown in order ``shown``, as if the judge had swapped them."""
    probs = unswap(order.label_probs, shown)
    return order.model_copy(
        update={"shown": shown, "prob_a": prob_a(probs), "winner": winner_of(probs)}
    )
