"""Run calls through the cache and the backend, one chunk at a time.

`execute` is written once as a generator that yields chunks of calls to dispatch and
receives the backend's results; `run_sync` and `run_async` drive it. Every finished
chunk is cached before the next one starts, so a killed job keeps its finished work.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judge.backends.base import Backend, Generation, LabelScores
from judge.cache import JudgmentCache
from judge.engine.calls import Call, CallFailure, Reading, failure_from_error, payload_of, read
from judge.engine.progress import Finished, listening
from judge.errors import BackendError

Result = LabelScores | Generation | BackendError
Outcome = Reading | CallFailure
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Chunk:
    """Calls to send to the backend together, and where its progress within them goes."""

    calls: list[Call]
    finished: Finished


Steps = Generator[Chunk, list[Result], dict[str, Outcome]]


def execute(
    calls: Sequence[Call], cache: JudgmentCache, chunk_size: int, progress: Progress | None = None
) -> Steps:
    """Yield chunks of calls not in the cache; return every call's outcome by key."""
    unique = {call.key: call for call in calls}
    outcomes: dict[str, Outcome] = {}
    for key, call in unique.items():
        payload = cache.get(key)
        if payload is not None:
            outcomes[key] = read(call, payload, cached=True)
    done, total = len(outcomes), len(unique)
    if progress:
        progress(done, total)
    pending = [call for key, call in unique.items() if key not in outcomes]
    # Calls that share a prefix (orders and pairs of one prompt) end up side by side,
    # in the same chunk: backends reuse the prefix and bucket lengths themselves.
    pending.sort(key=lambda c: [m["content"] for m in c.messages])
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start : start + chunk_size]
        early: dict[str, Outcome] = {}
        results = yield Chunk(chunk, _within(progress, done, total, chunk, cache, early))
        for call, result in zip(chunk, results, strict=True):
            settled = early.get(call.key)  # already cached by the backend's report
            outcomes[call.key] = settled if settled is not None else _settle(call, result, cache)
        done += len(chunk)
        if progress:
            progress(done, total)
    return outcomes


def _within(
    progress: Progress | None,
    base: int,
    total: int,
    chunk: list[Call],
    cache: JudgmentCache,
    early: dict[str, Outcome],
) -> Finished:
    """A backend's ``finished(count, results)`` inside one chunk.

    Counts go to ``progress`` as running totals; results are settled (cached) at once
    into ``early``, so a process killed before the chunk ends keeps them.
    """
    reported = [0]

    def finished(count: int, results: Mapping[int, Any] | None = None) -> None:
        for index, result in (results or {}).items():
            call = chunk[index]
            early[call.key] = _settle(call, result, cache)
        reported[0] = min(len(chunk), reported[0] + count)
        if progress:
            progress(base + reported[0], total)

    return finished


def _settle(call: Call, result: Result, cache: JudgmentCache) -> Outcome:
    if isinstance(result, BackendError):
        return failure_from_error(result)
    payload = payload_of(result)
    outcome = read(call, payload, usage=result.usage)
    if isinstance(outcome, Reading):  # failures are never cached
        cache.set(call.key, payload)
    return outcome


def dispatch(backend: Backend, chunk: Chunk) -> list[Result]:
    """Send one chunk (all of one method) to the backend synchronously."""
    calls = chunk.calls
    try:
        with listening(chunk.finished):
            if calls[0].method == "logprob":
                return list(backend.score_labels([c.request for c in calls]))  # type: ignore[misc]
            return list(backend.generate([c.request for c in calls]))  # type: ignore[misc]
    except BackendError as error:
        return [error] * len(calls)


async def adispatch(backend: Backend, chunk: Chunk) -> list[Result]:
    """Send one chunk (all of one method) to the backend asynchronously."""
    calls = chunk.calls
    try:
        with listening(chunk.finished):
            if calls[0].method == "logprob":
                requests = [c.request for c in calls]
                return list(await backend.ascore_labels(requests))  # type: ignore[arg-type]
            return list(await backend.agenerate([c.request for c in calls]))  # type: ignore[misc]
    except BackendError as error:
        return [error] * len(calls)


def run_sync(steps: Steps, backend: Backend) -> dict[str, Outcome]:
    """Drive `execute` with blocking backend calls."""
    try:
        chunk = next(steps)
        while True:
            chunk = steps.send(dispatch(backend, chunk))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(steps: Steps, backend: Backend) -> dict[str, Outcome]:
    """Drive `execute` with the backend's async methods."""
    try:
        chunk = next(steps)
        while True:
            chunk = steps.send(await adispatch(backend, chunk))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
