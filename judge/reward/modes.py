"""Reward modes as strategies: what each needs, the judge requests it plans, its rewards.

`judge.reward.JudgeReward` picks one `RewardMode` from its ``mode`` string when it is
built and asks it everything that depends on the mode (the formulas are in the doc of
`judge.reward.model`):

- `PointwiseMode`: one pointwise judgment per item; r = E[score] (optionally scaled to
  [0, 1]).
- `ReferenceMode`: one pairwise judgment of each item against its reference answer;
  r = logit P(y ≻ reference). Needs references.
- `GroupwiseMode`: the pairs of each prompt's group (its `Schedule`), then a
  Bradley–Terry fit; r = the centred strengths. Needs whole groups.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from judge.inputs import PairInput, PointInput
from judge.reward.bradley_terry import consistency, fit_bradley_terry
from judge.reward.items import Item, RewardFailure, Rewards
from judge.reward.schedules import Comparisons, Pairs, Schedule
from judge.verdicts import JudgmentFailure, PairwiseResult, PointwiseResult, PointwiseVerdict

if TYPE_CHECKING:
    from judge.protocols.base import JudgeLike

Mode = Literal["pointwise", "reference", "groupwise"]
Request = PairInput | PointInput
Owners = list[tuple[int, int]]  # per request: the item(s) it speaks for
Results = Sequence[PairwiseResult | PointwiseResult]
logger = logging.getLogger("judge.reward")


def logit(p: float, eps: float) -> float:
    """log(p / (1 − p)) with p clipped to [eps, 1 − eps]."""
    p = min(max(p, eps), 1.0 - eps)
    return math.log(p / (1.0 - p))


class RewardMode(ABC):
    """How one reward mode plans its judge requests and turns their results into rewards.

    Attributes:
        name: the mode's name (``JudgeReward(mode=...)``).
        needs_references: each item is judged against a reference answer.
        whole_groups: a reward depends on the other completions of its prompt.
    """

    name: ClassVar[Mode]
    needs_references: ClassVar[bool] = False
    whole_groups: ClassVar[bool] = False

    @abstractmethod
    def requests(
        self, judge: JudgeLike, items: Sequence[Item | RewardFailure]
    ) -> tuple[list[Request], Owners]:
        """The judge requests the readable items need, and the item(s) each speaks for."""

    @abstractmethod
    def rewards(
        self, items: Sequence[Item | RewardFailure], owners: Owners, results: Results
    ) -> tuple[Rewards, dict[int, RewardFailure]]:
        """Raw rewards from the results of `requests`, and the items that got none."""

    def judge(self, judge: JudgeLike, requests: list[Any]) -> Results:
        """Send requests to the judge in one batch (pairwise unless a mode says otherwise)."""
        return judge.compare_batch(requests)

    async def ajudge(self, judge: JudgeLike, requests: list[Any]) -> Results:
        """Async `judge`."""
        return await judge.acompare_batch(requests)

    def unit(self, raw: float, judge: JudgeLike) -> float:
        """A raw reward mapped to [0, 1]: the logistic σ(r), a probability of winning."""
        return 1.0 / (1.0 + math.exp(-raw))


class _PerItem(RewardMode):
    """A mode that judges each item on its own, with one request per readable item."""

    disagreement_penalty: float

    @abstractmethod
    def request(self, judge: JudgeLike, item: Item) -> Request:
        """The one judge request for an item."""

    @abstractmethod
    def judged_value(self, verdict: PairwiseResult | PointwiseResult) -> float:
        """The reward a successful verdict gives, before the disagreement penalty."""

    def requests(
        self, judge: JudgeLike, items: Sequence[Item | RewardFailure]
    ) -> tuple[list[Request], Owners]:
        """One request per readable item, each speaking for that item alone."""
        ok = [(i, it) for i, it in enumerate(items) if isinstance(it, Item)]
        return [self.request(judge, it) for _, it in ok], [(i, i) for i, _ in ok]

    def rewards(
        self, items: Sequence[Item | RewardFailure], owners: Owners, results: Results
    ) -> tuple[Rewards, dict[int, RewardFailure]]:
        """Each verdict's value (minus a panel's disagreement); a failure is the item's."""
        raw: Rewards = [None] * len(items)
        failures: dict[int, RewardFailure] = {}
        for (i, _), result in zip(owners, results, strict=True):
            if isinstance(result, JudgmentFailure):
                failures[i] = _failed(i, result)
            else:
                penalty = self.disagreement_penalty * getattr(result, "disagreement", 0.0)
                raw[i] = self.judged_value(result) - penalty
        return raw, failures


@dataclass(frozen=True)
class PointwiseMode(_PerItem):
    """r = the expected rubric score, or with ``normalize_score`` that score in [0, 1]."""

    name: ClassVar[Mode] = "pointwise"
    normalize_score: bool = False
    disagreement_penalty: float = 0.0

    def request(self, judge: JudgeLike, item: Item) -> PointInput:
        """Score the completion (with the reference where the template takes one)."""
        return PointInput(item.prompt, item.completion, _extra(judge, item, "pointwise"))

    def judged_value(self, verdict: PairwiseResult | PointwiseResult) -> float:
        """The expected score, scaled to [0, 1] on the rubric's scale if asked."""
        assert isinstance(verdict, PointwiseVerdict)
        if not self.normalize_score:
            return verdict.expected_score
        lo, hi = verdict.scale
        return (verdict.expected_score - lo) / (hi - lo)

    def judge(self, judge: JudgeLike, requests: list[Any]) -> Results:
        """Score the requests in one batch."""
        return judge.score_batch(requests)

    async def ajudge(self, judge: JudgeLike, requests: list[Any]) -> Results:
        """Async `judge`."""
        return await judge.ascore_batch(requests)

    def unit(self, raw: float, judge: JudgeLike) -> float:
        """(E[score] − lo) / (hi − lo) on the rubric's scale (already so if normalized)."""
        if self.normalize_score:
            return raw
        scale = judge.template("pointwise").spec.scale
        assert scale is not None  # a pointwise template declares it
        lo, hi = scale
        return (raw - lo) / (hi - lo)


@dataclass(frozen=True)
class ReferenceMode(_PerItem):
    """r = logit P(completion ≻ reference), the probability clipped to [eps, 1 − eps]."""

    name: ClassVar[Mode] = "reference"
    needs_references: ClassVar[bool] = True
    eps: float = 1e-4
    disagreement_penalty: float = 0.0

    def request(self, judge: JudgeLike, item: Item) -> PairInput:
        """Compare the completion (as A) with the reference answer (as B)."""
        assert item.reference is not None  # read_item checked it in reference mode
        return PairInput(
            item.prompt, item.completion, item.reference, _extra(judge, item, "pairwise")
        )

    def judged_value(self, verdict: PairwiseResult | PointwiseResult) -> float:
        """The logit of P(A ≻ B)."""
        assert not isinstance(verdict, JudgmentFailure | PointwiseVerdict)
        return logit(verdict.prob_a, self.eps)


@dataclass(frozen=True)
class GroupwiseMode(RewardMode):
    """r = the centred Bradley–Terry strengths of each prompt's group."""

    name: ClassVar[Mode] = "groupwise"
    whole_groups: ClassVar[bool] = True
    schedule: Schedule
    ridge: float

    def requests(
        self, judge: JudgeLike, items: Sequence[Item | RewardFailure]
    ) -> tuple[list[Request], Owners]:
        """The pairs the schedule picks in each group; a request speaks for both.

        An adaptive schedule gives its first round here, the rest in `next_requests`.
        """
        return self._pair_requests(judge, items, lambda n, key, _: self.schedule.pairs(n, key))

    def next_requests(
        self,
        judge: JudgeLike,
        items: Sequence[Item | RewardFailure],
        judged: Comparisons,
        done: int,
    ) -> tuple[list[Request], Owners]:
        """Round ``done + 1`` of an adaptive schedule; nothing when it is finished.

        Args:
            judge: the judge whose templates build the requests.
            items: the plan's items.
            judged: every successful comparison so far, ``(i, j, P(i ≻ j))`` by item index.
            done: rounds judged already.
        """

        def pick(n: int, key: str, members: list[int]) -> Pairs:
            local = {k: x for x, k in enumerate(members)}
            mine = [(local[i], local[j], p) for i, j, p in judged if i in local]
            return self.schedule.next_pairs(n, key, mine, done)

        return self._pair_requests(judge, items, pick)

    def _pair_requests(
        self,
        judge: JudgeLike,
        items: Sequence[Item | RewardFailure],
        pick: Callable[[int, str, list[int]], Pairs],
    ) -> tuple[list[Request], Owners]:
        requests: list[Request] = []
        owners: Owners = []
        for members in _groups(items).values():
            first = items[members[0]]
            assert isinstance(first, Item)
            for x, y in pick(len(members), first.prompt, members):
                i, j = members[x], members[y]
                a, b = items[i], items[j]
                assert isinstance(a, Item) and isinstance(b, Item)
                requests.append(
                    PairInput(a.prompt, a.completion, b.completion, _extra(judge, a, "pairwise"))
                )
                owners.append((i, j))
        return requests, owners

    def rewards(
        self, items: Sequence[Item | RewardFailure], owners: Owners, results: Results
    ) -> tuple[Rewards, dict[int, RewardFailure]]:
        """Fit each group on the comparisons that succeeded.

        An item none of whose comparisons succeeded has no reward (the reason of one of
        its failed comparisons is kept); a group of one gets 0, its centred strength.
        """
        raw: Rewards = [None] * len(items)
        failures: dict[int, RewardFailure] = {}
        won: dict[int, list[tuple[int, int, float]]] = {}
        lost: dict[int, JudgmentFailure] = {}
        for (i, j), result in zip(owners, results, strict=True):
            if isinstance(result, JudgmentFailure):
                lost.setdefault(i, result)
                lost.setdefault(j, result)
            else:
                won.setdefault(i, []).append((i, j, result.prob_a))  # type: ignore[union-attr]
        for members in _groups(items).values():
            comparisons = [c for k in members for c in won.get(k, [])]
            fitted = sorted({k for c in comparisons for k in c[:2]}) or members[:1]
            if len(members) > 1 and not comparisons:
                fitted = []
            where = {k: n for n, k in enumerate(fitted)}
            local = [(where[i], where[j], p) for i, j, p in comparisons]
            strengths = fit_bradley_terry(max(len(fitted), 1), local, ridge=self.ridge)
            _log_consistency(len(fitted), local, strengths)
            for k in members:
                if k in where:
                    raw[k] = float(strengths[where[k]])
                else:
                    failures[k] = _failed(k, lost[k])
        return raw, failures


MODE_NAMES: tuple[Mode, ...] = ("pointwise", "reference", "groupwise")


def reward_mode(
    mode: Mode,
    *,
    normalize_score: bool,
    eps: float,
    ridge: float,
    schedule: Schedule,
    disagreement_penalty: float,
) -> RewardMode:
    """The strategy for a mode name, given every mode's settings (each takes its own).

    Raises:
        KeyError: an unknown mode (`JudgeReward` checks the name against `MODE_NAMES`).
    """
    strategies: dict[str, RewardMode] = {
        "pointwise": PointwiseMode(normalize_score, disagreement_penalty),
        "reference": ReferenceMode(eps, disagreement_penalty),
        "groupwise": GroupwiseMode(schedule, ridge),
    }
    return strategies[mode]


def _groups(items: Sequence[Item | RewardFailure]) -> dict[str, list[int]]:
    """Indices of the readable items, grouped by prompt text (a GRPO group)."""
    found: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        if isinstance(item, Item):
            found.setdefault(item.prompt, []).append(i)
    return found


def _extra(judge: JudgeLike, item: Item, task: Literal["pairwise", "pointwise"]) -> dict[str, str]:
    """The reference, for a template that takes one and an item that has one."""
    template = judge.template(task).spec
    wants = "reference" in template.variables + template.optional
    return {"reference": item.reference} if wants and item.reference is not None else {}


def _failed(index: int, failure: JudgmentFailure) -> RewardFailure:
    return RewardFailure(index, failure.reason.value, failure.message)


def _log_consistency(n: int, comparisons: list[tuple[int, int, float]], strengths: Any) -> None:
    """Log a group's 3-cycles and fit residual: a self-contradicting judge shows here."""
    if n < 2:
        return
    found = consistency(n, comparisons, strengths)
    share = "n/a" if found.cycle_share is None else f"{found.cycle_share:.2f}"
    logger.info(
        "groupwise: %d completions, %d comparisons, 3-cycles %d of %d judged "
        "triads (%s), Bradley-Terry residual %.3f",
        n,
        len(comparisons),
        found.cycles,
        found.triads,
        share,
        found.residual,
    )
