"""Judge an adaptive schedule round by round: plan the next round from the last verdicts.

A static schedule (``all``, ``ring``, ``regular:K``) is planned whole by
`JudgeReward.plan`. An adaptive one (``swiss:R``, `judge.reward.schedules`) plans only
its first round there; after each round is judged, `next_round` hands the verdicts so
far to the groupwise mode (`judge.reward.modes.GroupwiseMode.next_requests`), which
asks the schedule for each group's next pairs, and appends their requests to the same
`RewardPlan`; `JudgeReward.finish` then fits each group on every round at once. Every
caller that judges a plan loops the same way: `judge_rounds` around a synchronous judge
call (`JudgeReward.compute`, the cross-process path); `JudgeReward.acompute` and the
server's batcher run the same loop around theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from judge.reward.modes import GroupwiseMode
from judge.reward.schedules import Comparisons
from judge.verdicts import JudgmentFailure

if TYPE_CHECKING:
    from judge.reward.model import JudgeReward, RewardPlan


def next_round(reward: JudgeReward, plan: RewardPlan, results: Sequence[Any]) -> list[Any]:
    """Append the next round's requests to ``plan``; return them ([] when it is done).

    Args:
        reward: the reward whose schedule picks the pairs.
        plan: the plan judged so far; its ``rounds`` count goes up by one.
        results: the judge's results for every request of ``plan`` so far, in order.
    """
    mode = reward.strategy
    if not isinstance(mode, GroupwiseMode) or plan.rounds >= mode.schedule.rounds:
        return []
    judged = judged_pairs(plan.owners, results)
    requests, owners = mode.next_requests(reward.judge, plan.items, judged, plan.rounds)
    plan.rounds += 1
    plan.requests.extend(requests)
    plan.owners.extend(owners)
    return requests


def judge_rounds(
    reward: JudgeReward, plan: RewardPlan, judge: Callable[[list[Any]], Sequence[Any]]
) -> list[Any]:
    """Judge ``plan`` with ``judge`` (a batch call), round after round; every result."""
    results = list(judge(plan.requests))
    while extra := next_round(reward, plan, results):
        results.extend(judge(extra))
    return results


def judged_pairs(owners: list[tuple[int, int]], results: Sequence[Any]) -> Comparisons:
    """``(i, j, P(i ≻ j))`` of each successful comparison (failed ones are left out)."""
    return [
        (i, j, result.prob_a)
        for (i, j), result in zip(owners, results, strict=True)
        if not isinstance(result, JudgmentFailure)
    ]
