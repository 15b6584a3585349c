"""Whole GRPO groups when a trainer runs several processes.

With several processes, TRL's GRPOTrainer gives each process only part of the batch, so
one prompt's group of completions may be split across processes ("completions may be
distributed across processes", `trl/trainer/grpo_trainer.py`, 1.16). A Bradley–Terry
fit, or a normalization within a group, on a partial group gives a different (even
opposite) answer than on the whole group. So when ``torch.distributed`` is initialized
with more than one process, a reward that needs whole groups:

1. gathers every process's prompts, completions and references (``all_gather_object``);
2. plans the judge requests of the whole batch, identically on every process;
3. judges every ``world_size``-th request (process ``r`` takes requests r, r + W, …), so
   the work is divided, not repeated (an adaptive schedule: round by round, each round
   planned alike on every process from the gathered verdicts);
4. gathers the verdicts, fits and shapes the whole batch on every process, and returns
   this process's slice.

Every process must make the same calls in the same order (collectives pair up in call
order), which TRL does: each process scores every batch. A judge error on one process
is sent to all of them and raised everywhere, so no process waits forever.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from judge.errors import UserError
from judge.reward.items import RewardBatch, RewardFailure
from judge.reward.rounds import judge_rounds

if TYPE_CHECKING:
    from judge.reward.model import JudgeReward


@dataclass(frozen=True)
class World:
    """This process's rank and the number of processes."""

    rank: int
    size: int


def current_world() -> World | None:
    """The torch.distributed world if it is initialized with more than one process.

    torch is not imported here when nothing else has imported it (a process that never
    loaded torch has no process group).
    """
    if "torch" not in sys.modules:
        return None
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return World(dist.get_rank(), dist.get_world_size())


def all_gather(value: Any, world: World) -> list[Any]:
    """``value`` from every process, in rank order."""
    import torch.distributed as dist

    out: list[Any] = [None] * world.size
    dist.all_gather_object(out, value)
    return out


def compute_across(
    reward: JudgeReward,
    prompts: Sequence[Any],
    completions: Sequence[Any],
    references: Sequence[Any] | None,
    world: World,
) -> RewardBatch:
    """`JudgeReward.compute` over the batch of all processes; this process's slice.

    Raises:
        UserError: the gathered batch is malformed (raised on every process).
        JudgeError: judging failed on some process (raised on every process).
    """
    parts = all_gather(
        (list(prompts), list(completions), None if references is None else list(references)), world
    )
    if len({p[2] is None for p in parts}) > 1:
        raise UserError("some processes passed references and some did not")
    joined = [list(itertools.chain.from_iterable(p[k] for p in parts)) for k in (0, 1)]
    refs = None if parts[0][2] is None else list(itertools.chain.from_iterable(p[2] for p in parts))
    plan = reward.plan(joined[0], joined[1], refs)
    results = judge_rounds(reward, plan, lambda requests: _judge_shared(reward, requests, world))
    start = sum(len(p[0]) for p in parts[: world.rank])
    return _slice(reward.finish(plan, results), start, start + len(prompts), world)


def _judge_shared(reward: JudgeReward, requests: list[Any], world: World) -> list[Any]:
    """Every process judges every ``world.size``-th request; all results, on every process."""
    try:
        mine: Any = list(reward.judge_requests(requests[world.rank :: world.size]))
    except Exception as exc:  # sent to every process, raised below on all of them
        mine = exc
    gathered = all_gather(mine, world)
    for outcome in gathered:
        if isinstance(outcome, BaseException):
            raise outcome
    results: list[Any] = [None] * len(requests)
    for rank, outcome in enumerate(gathered):
        results[rank :: world.size] = outcome
    return results


def _slice(batch: RewardBatch, start: int, stop: int, world: World) -> RewardBatch:
    failures = [
        RewardFailure(
            f.index - start,
            f.reason,
            f"{f.message} (item {f.index} of the batch gathered from {world.size} processes)",
        )
        for f in batch.failures
        if start <= f.index < stop
    ]
    return RewardBatch(batch.rewards[start:stop], batch.raw[start:stop], failures)
