"""Hold one-sample reward requests until their prompt's group is complete, then judge it.

OpenRLHF sends each sample of a GRPO group as its own HTTP request
(``--rollout.n_samples_per_prompt`` requests sharing one prompt). Rewards that compare
or standardize within a group (``groupwise``, ``normalize="group"``) need all of them at
once. `GroupHolder` keeps the samples of each prompt until ``group_size`` have arrived
or ``timeout`` seconds have passed since the first, then plans them as ONE call of
`JudgeReward` (exactly what one batched call of that group computes) and queues it on
the `MicroBatcher`, which still batches every waiting group into one engine call. Each
sample gets its own reward back. Without a group size, each request is its own batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from judge.reward.batcher import MicroBatcher
from judge.reward.items import RewardBatch, RewardFailure
from judge.reward.mask import mask_failures
from judge.reward.model import JudgeReward


@dataclass
class Sample:
    """One sample of a request: what the judge reads, and why it failed before judging.

    Attributes:
        key: its group (the prompt exactly as sent).
        prompt: the prompt as messages or text.
        response: the response recovered from the query (None: unreadable).
        label: the reference answer, if any.
        failure: why the query could not be read (None: it could).
    """

    key: str
    prompt: Any
    response: str | None
    label: str | None
    failure: RewardFailure | None = None


@dataclass(frozen=True)
class Outcome:
    """One sample's result.

    Attributes:
        reward: the (shaped, and under ``mask`` filled-in) reward; None if it has none.
        score: the reward before shaping, mapped to [0, 1] (see `GroupHolder.score`).
        failure: why it has no verdict (None if judged).
        group_size: how many samples were judged together with it (itself included).
    """

    reward: float | None
    score: float | None
    failure: RewardFailure | None
    group_size: int


@dataclass
class _Pending:
    samples: list[Sample] = field(default_factory=list)
    futures: list[asyncio.Future[Outcome]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class GroupHolder:
    """Group samples by prompt (or by request), judge each group as one reward call.

    Args:
        reward: the `JudgeReward` every group goes through.
        batcher: the queue that gathers groups into engine batches.
        group_size: samples per prompt to wait for (None: a request is its own group).
        timeout: seconds a group waits for its last samples before it is judged with
            those that came (a partial group; its size is reported).
    """

    def __init__(
        self,
        reward: JudgeReward,
        batcher: MicroBatcher,
        *,
        group_size: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.reward = reward
        self.batcher = batcher
        self.group_size = group_size
        self.timeout = timeout
        self._pending: dict[str, _Pending] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.groups = 0
        self.partial_groups = 0
        self.failed = 0

    @property
    def holding(self) -> int:
        """Samples waiting for the rest of their group."""
        return sum(len(p.samples) for p in self._pending.values())

    async def judge(self, samples: list[Sample]) -> list[Outcome]:
        """Each sample's outcome, once its group (or, without a group size, the request) is judged.

        Raises:
            QueueFullError, BackendError, UserError: as the batcher and the plan raise
                them, for every sample of the group concerned.
        """
        loop = asyncio.get_running_loop()
        if self.group_size is None:
            return await self._judge_group(samples)
        futures = []
        for sample in samples:
            future: asyncio.Future[Outcome] = loop.create_future()
            self._hold(sample, future)
            futures.append(future)
        return list(await asyncio.gather(*futures))

    def _hold(self, sample: Sample, future: asyncio.Future[Outcome]) -> None:
        pending = self._pending.setdefault(sample.key, _Pending())
        pending.samples.append(sample)
        pending.futures.append(future)
        if len(pending.samples) >= (self.group_size or 1):
            self._release(sample.key)
        elif pending.timer is None:
            pending.timer = asyncio.get_running_loop().call_later(
                self.timeout, self._release, sample.key
            )

    def _release(self, key: str) -> None:
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        if pending.timer is not None:
            pending.timer.cancel()
        if len(pending.samples) < (self.group_size or 1):
            self.partial_groups += 1
        task = asyncio.get_running_loop().create_task(self._settle(pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, pending: _Pending) -> None:
        try:
            outcomes = await self._judge_group(pending.samples)
        except Exception as exc:  # handed to every waiting request, never lost
            for future in pending.futures:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, outcome in zip(pending.futures, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    async def _judge_group(self, samples: Sequence[Sample]) -> list[Outcome]:
        labels = [s.label for s in samples]
        plan = self.reward.plan(
            [s.prompt for s in samples],
            [s.response for s in samples],
            None if all(x is None for x in labels) else labels,
        )
        plan.keys = [s.key for s in samples]
        batch = await self.batcher.submit(plan)
        self.groups += 1
        return self._outcomes(samples, batch)

    def _outcomes(self, samples: Sequence[Sample], batch: RewardBatch) -> list[Outcome]:
        failed = {f.index: f for f in batch.failures}
        failed.update({i: s.failure for i, s in enumerate(samples) if s.failure is not None})
        rewards = [
            None if i in failed and self.reward.on_failure != "mask" else r
            for i, r in enumerate(batch.rewards)
        ]
        scores: list[float | None] = [None if r is None else self.score(r) for r in batch.raw]
        if self.reward.on_failure == "mask":
            scores = list(mask_failures(scores, [s.key for s in samples]))
        self.failed += len(failed)
        return [
            Outcome(rewards[i], scores[i], failed.get(i), len(samples)) for i in range(len(samples))
        ]

    def score(self, raw: float) -> float:
        """An unshaped reward mapped to [0, 1] (what OpenRLHF's dynamic filtering reads).

        pointwise: (E[score] − lo) / (hi − lo) on the rubric's scale (already so with
        ``normalize_score``); reference and groupwise: the logistic σ(r), i.e.
        P(y ≻ label) in reference mode and P(y ≻ an average member of its group) under
        the groupwise Bradley–Terry fit.
        """
        return self.reward.strategy.unit(raw, self.reward.judge)

    async def stop(self) -> None:
        """Judge what is still held, and wait for the groups in flight."""
        for key in list(self._pending):
            self._release(key)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
