"""Panels: several judges behind one judge's interface; their spread is the uncertainty.

Members may differ in model, rubric, template or protocol. A panel's pairwise verdict
has the mean P(A ≻ B) of its members and their standard deviation as
``disagreement``; a pointwise verdict the mean score distribution, and the standard
deviation of the members' expected scores on the 0-1 range of the scale. A panel is
accepted wherever a judge is asked for batches (`judge.reward.JudgeReward`, whose
``disagreement_penalty`` subtracts ``penalty × disagreement`` from each reward,
`judge.rank`). A member's failure is the item's failure: a panel verdict never stands
for fewer judges than it names.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from judge.debias import leaning
from judge.engine.executor import Progress
from judge.engine.tasks import TaskName
from judge.errors import UserError
from judge.inputs import as_pair, as_point
from judge.protocols.base import BatchProtocol, JudgeLike, PairItems, PointItems, Stages
from judge.templates import JudgeTemplate
from judge.verdicts import (
    JudgmentFailure,
    PairwiseResult,
    PairwiseVerdict,
    PointwiseResult,
    PointwiseVerdict,
)


class PanelPairwiseVerdict(PairwiseVerdict):
    """A panel's pairwise verdict: the members' mean, with their own verdicts.

    Attributes:
        members: each member's verdict, in panel order.
        disagreement: the standard deviation of the members' P(A ≻ B).
    """

    members: tuple[PairwiseVerdict, ...]
    disagreement: float


class PanelPointwiseVerdict(PointwiseVerdict):
    """A panel's pointwise verdict: the mean score distribution, with the members' verdicts.

    Attributes:
        members: each member's verdict, in panel order.
        disagreement: the standard deviation of the members' expected scores, as a
            fraction of the scale's range.
    """

    members: tuple[PointwiseVerdict, ...]
    disagreement: float


class Panel(BatchProtocol):
    """Several judges asked the same questions, their verdicts averaged.

    Args:
        judges: the members (`judge.Judge` objects or protocols), at least two.

    Raises:
        UserError: fewer than two members.
    """

    def __init__(self, judges: Sequence[JudgeLike]) -> None:
        if len(judges) < 2:
            raise UserError(f"a panel needs at least two judges, got {len(judges)}")
        self.judges = list(judges)

    def template(self, task: TaskName) -> JudgeTemplate:
        """The first member's template for ``task`` (it decides what inputs items need)."""
        return self.judges[0].template(task)

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Every member judges every pair; each pair gets the members' mean.

        ``progress(done, total)`` counts the first member's calls, then the next one's.
        """
        pairs = [as_pair(item) for item in items]
        stages = Stages(progress, len(self.judges))
        votes = [judge.compare_batch(pairs, progress=stages.stage()) for judge in self.judges]
        return [_pairwise(list(row)) for row in zip(*votes, strict=True)]

    def score_batch(
        self, items: PointItems, *, progress: Progress | None = None
    ) -> list[PointwiseResult]:
        """Every member scores every response; each gets the members' mean distribution."""
        points = [as_point(item) for item in items]
        stages = Stages(progress, len(self.judges))
        votes = [judge.score_batch(points, progress=stages.stage()) for judge in self.judges]
        return [_pointwise(list(row)) for row in zip(*votes, strict=True)]


def _first_failure(results: Sequence[Any]) -> JudgmentFailure | None:
    for k, result in enumerate(results):
        if isinstance(result, JudgmentFailure):
            return result.model_copy(
                update={
                    "message": f"panel member {k + 1} of {len(results)} failed: {result.message}"
                }
            )
    return None


def _joined(verdicts: Sequence[Any], field: str) -> str:
    """The members' ``field`` as ``panel(x, y)``; the value itself when they all share it."""
    values = [str(getattr(v, field)) for v in verdicts]
    return values[0] if len(set(values)) == 1 else "panel(" + ", ".join(values) + ")"


def _pairwise(results: list[PairwiseResult]) -> PairwiseResult:
    failed = _first_failure(results)
    if failed is not None:
        return failed
    members = tuple(r for r in results if isinstance(r, PairwiseVerdict))
    probs = [v.prob_a for v in members]
    mean = statistics.fmean(probs)
    ties = [v.prob_tie for v in members]
    consistent = [v.consistent for v in members]
    return PanelPairwiseVerdict(
        method=members[0].method,
        model=_joined(members, "model"),
        template=_joined(members, "template"),
        rubric=_joined(members, "rubric"),
        winner=leaning(mean),
        prob_a=mean,
        prob_tie=None if None in ties else statistics.fmean(t or 0.0 for t in ties),
        consistent=None if None in consistent else all(consistent),
        orders=tuple(o for v in members for o in v.orders),
        swap=members[0].swap,
        members=members,
        disagreement=statistics.pstdev(probs),
    )


def _pointwise(results: list[PointwiseResult]) -> PointwiseResult:
    failed = _first_failure(results)
    if failed is not None:
        return failed
    members = tuple(r for r in results if isinstance(r, PointwiseVerdict))
    scale = members[0].scale
    if any(v.scale != scale for v in members):
        raise UserError(
            f"panel members score on different scales: {sorted({v.scale for v in members})}"
        )
    distribution = {
        s: statistics.fmean(v.distribution.get(s, 0.0) for v in members)
        for s in members[0].distribution
    }
    spread = (scale[1] - scale[0]) or 1
    return PanelPointwiseVerdict(
        method=members[0].method,
        model=_joined(members, "model"),
        template=_joined(members, "template"),
        rubric=_joined(members, "rubric"),
        score=max(distribution, key=lambda s: (distribution[s], -s)),
        expected_score=statistics.fmean(v.expected_score for v in members),
        distribution=distribution,
        scale=scale,
        members=members,
        disagreement=statistics.pstdev(v.expected_score / spread for v in members),
    )
