"""Progress from inside one backend call: a backend says how many requests it finished.

The engine hands a backend a whole chunk (so that it can share prefixes and bucket
lengths), which may take minutes on a CPU. A backend that works through the chunk in
steps calls `finished` after each; the engine turns that into per-judgment progress.
Backends that never call it are simply reported chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Finished = Callable[[int, "Mapping[int, Any] | None"], None]
_listener: ContextVar[Finished | None] = ContextVar("judge_backend_progress", default=None)


@contextmanager
def listening(callback: Finished) -> Iterator[None]:
    """Route the `finished` calls made while the block runs to ``callback``.

    Threads started with ``asyncio.to_thread`` copy the context, so they report too.
    """
    token = _listener.set(callback)
    try:
        yield
    finally:
        _listener.reset(token)


def finished(count: int, results: Mapping[int, Any] | None = None) -> None:
    """Tell the engine that ``count`` more requests of the current call are done.

    Args:
        count: requests finished since the last call.
        results: their results by index in the call, when the backend has them: the
            engine caches each at once, so a process killed mid-call keeps them.
    """
    callback = _listener.get()
    if callback is not None and count:
        callback(count, results)
