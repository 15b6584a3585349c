"""Request budgets for remote backends: concurrency, requests and tokens per minute.

Usable from several event loops (the sync entry points start their own).
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref


class Bucket:
    """A token bucket refilled at ``per_minute`` per minute, usable from any event loop.

    Callers reserve what they need at once (the level may go negative) and sleep for
    the returned time, so waiters are served in arrival order without a lock that
    belongs to one loop.
    """

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.level = self.capacity
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def reserve(self, amount: float) -> float:
        """Take ``amount`` (at most one minute's budget); return seconds to wait first."""
        with self.lock:
            now = time.monotonic()
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
            self.stamp = now
            self.level -= min(amount, self.capacity)
            return max(0.0, -self.level / self.rate)


class Limits:
    """At most ``concurrency`` requests in flight per event loop, within budgets.

    ``rpm`` and ``tpm`` are optional requests- and tokens-per-minute budgets.
    """

    def __init__(self, concurrency: int, rpm: int | None = None, tpm: int | None = None) -> None:
        self.concurrency = concurrency
        self.rpm = Bucket(rpm) if rpm else None
        self.tpm = Bucket(tpm) if tpm else None
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def slot(self) -> asyncio.Semaphore:
        """This loop's concurrency limit (a semaphore belongs to one event loop)."""
        loop = asyncio.get_running_loop()
        if loop not in self._slots:
            self._slots[loop] = asyncio.Semaphore(self.concurrency)
        return self._slots[loop]

    async def throttle(self, tokens: int) -> None:
        """Wait until one more request of ``tokens`` tokens fits the per-minute budgets."""
        waits = [b.reserve(n) for b, n in ((self.rpm, 1), (self.tpm, tokens)) if b]
        if waits and max(waits) > 0:
            await asyncio.sleep(max(waits))
