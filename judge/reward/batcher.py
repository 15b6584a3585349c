"""Gather concurrent reward requests into engine batches, with a bounded queue.

Each HTTP request is planned on its own (validated, its judge requests listed), then
queued. One worker takes every job waiting (up to ``max_batch`` judge requests), sends
all their judge requests to the engine in one batch call in a worker thread (so the
event loop keeps answering), and hands each job its own rewards. Rewards never mix
across requests: grouping and shaping are per request; only the engine call is shared.
A job of an adaptive schedule (``swiss:R``) goes back to the front of the queue with its
next round's requests (`judge.reward.rounds.next_round`) until its last round is judged.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

from judge.errors import JudgeError
from judge.reward.items import RewardBatch
from judge.reward.model import JudgeReward, RewardPlan
from judge.reward.rounds import next_round


class QueueFullError(JudgeError):
    """The queue holds ``capacity`` requests already; retry after ``retry_after`` seconds."""

    def __init__(self, capacity: int, retry_after: int) -> None:
        self.capacity = capacity
        self.retry_after = retry_after
        super().__init__(
            f"the reward server is at capacity ({capacity} requests queued); "
            f"retry in {retry_after} s"
        )


@dataclass
class _Job:
    plan: RewardPlan
    done: asyncio.Future[RewardBatch] = field(repr=False)
    results: list[Any] = field(default_factory=list)  # of the rounds judged so far

    @property
    def todo(self) -> list[Any]:
        """The requests of its current round (every request, for a static schedule)."""
        return self.plan.requests[len(self.results) :]


class MicroBatcher:
    """One worker draining a bounded queue of planned reward requests into engine batches.

    Args:
        reward: the `JudgeReward` that plans and finishes each request.
        capacity: requests that may wait; one more gets `QueueFullError`.
        max_batch: judge requests per engine call at most (a larger job goes alone).
        wait: seconds the worker waits after the first job before taking the rest, so
            jobs arriving together (groups completing at once) share one engine call.
    """

    def __init__(
        self, reward: JudgeReward, *, capacity: int = 256, max_batch: int = 64, wait: float = 0.0
    ) -> None:
        self.reward = reward
        self.capacity = capacity
        self.max_batch = max_batch
        self.wait = wait
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=capacity)
        self._again: list[_Job] = []  # jobs with another round to judge: served first
        self._worker: asyncio.Task[None] | None = None
        self._seconds_per_request = 1.0  # running estimate, for Retry-After
        self.batches = 0
        self.judged = 0

    @property
    def waiting(self) -> int:
        """Requests queued and not yet taken by the worker."""
        return self._queue.qsize()

    def start(self) -> None:
        """Start the worker on the running event loop."""
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Cancel the worker."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def submit(self, plan: RewardPlan) -> RewardBatch:
        """Queue one planned request and wait for its rewards.

        Raises:
            QueueFullError: the queue is full.
            JudgeError: the engine call failed (raised for every job in that batch).
        """
        job = _Job(plan, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            wait = self._seconds_per_request * (self.capacity + 1)
            raise QueueFullError(self.capacity, max(1, math.ceil(wait))) from None
        return await job.done

    async def _run(self) -> None:
        carry: _Job | None = None  # taken from the queue but did not fit the last batch
        while True:
            jobs, self._again = self._again, []
            if not jobs:
                jobs = [carry if carry is not None else await self._queue.get()]
                carry = None
                if self.wait > 0:
                    await asyncio.sleep(self.wait)
            size = sum(len(job.todo) for job in jobs)
            while carry is None and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if size + len(nxt.todo) > self.max_batch:
                    carry = nxt
                    break
                jobs.append(nxt)
                size += len(nxt.todo)
            await self._serve(jobs)

    async def _serve(self, jobs: list[_Job]) -> None:
        requests: list[Any] = [r for job in jobs for r in job.todo]
        start = time.perf_counter()
        try:
            results = await asyncio.to_thread(self.reward.judge_requests, requests)
        except Exception as exc:  # handed to every waiting request, never lost
            for job in jobs:
                if not job.done.done():
                    job.done.set_exception(exc)
            return
        elapsed = time.perf_counter() - start
        self._seconds_per_request = 0.7 * self._seconds_per_request + 0.3 * elapsed / len(jobs)
        self.batches += 1
        self.judged += len(requests)
        offset = 0
        for job in jobs:
            n = len(job.todo)
            job.results.extend(results[offset : offset + n])
            offset += n
            if job.done.done():
                continue
            if next_round(self.reward, job.plan, job.results):
                self._again.append(job)
            else:
                job.done.set_result(self.reward.finish(job.plan, job.results))
