"""Retries with exponential backoff and jitter, for every backend that calls a server.

A backend only classifies its errors (`Retrier.classify`: retry, fail now, or "not an API
error at all") and turns the last one into a `BackendError`; how long to wait, how
often to try and when a server's ``Retry-After`` is too long to honour live here, once.
Classification is by exception type and status code, never by the message text (which
may echo the very text being judged).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from judge.errors import BackendError

T = TypeVar("T")
BACKOFF_BASE_S = 0.5  # the default first backoff, read when a policy is made
Classify = Callable[[Exception], "bool | None"]
Fail = Callable[[Exception, bool, int, str], BackendError]


@dataclass
class RetryPolicy:
    """How often and how long to retry.

    Attributes:
        max_retries: retries after the first attempt, for retryable errors only.
        base_s: the first backoff; it doubles with each attempt, up to ``max_s``.
        max_s: the longest backoff.
        retry_after_max_s: a server asking for a longer wait is a failure, not a sleep.
    """

    max_retries: int = 4
    base_s: float = field(default_factory=lambda: BACKOFF_BASE_S)
    max_s: float = 30.0
    retry_after_max_s: float = 120.0
    random: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before attempt ``attempt + 1``; None when the server asks for too long.

        A server's ``Retry-After`` is honoured (plus a little jitter); otherwise the
        exponential backoff is jittered over its upper half, which spreads the retries
        of many concurrent requests.
        """
        if retry_after is not None:
            if retry_after > self.retry_after_max_s:
                return None
            return retry_after + self.random.uniform(0.0, 0.1)
        delay = min(self.max_s, self.base_s * 2.0**attempt)
        return delay / 2 + self.random.uniform(0.0, delay / 2)


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    classify: Classify,
    fail: Fail,
    before: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """Run ``attempt`` until it succeeds, retrying what ``classify`` calls retryable.

    Args:
        attempt: one try (e.g. one HTTP request).
        policy: the retry bound and backoff.
        classify: True to retry ``exc``, False to fail now, None to re-raise it untouched
            (not an API error: a bug is not retried).
        fail: the `BackendError` for the last error, given ``(exc, retryable, attempts,
            note)``; it is raised from ``exc``.
        before: awaited before every try (rate limits).

    Raises:
        BackendError: from ``fail``, after the last try or at once for a final error.
    """
    for number in range(policy.max_retries + 1):
        if before is not None:
            await before()
        try:
            return await attempt()
        except Exception as exc:
            retryable = classify(exc)
            if retryable is None:
                raise
            asked = retry_after(exc)
            wait = policy.delay(number, asked)
            if not retryable or number == policy.max_retries or wait is None:
                note = f"; the server asked to wait {asked:.0f} s" if wait is None else ""
                raise fail(exc, retryable, number + 1, note) from exc
            await asyncio.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


def status_code(exc: BaseException) -> int | None:
    """The HTTP status an API error carries, if any."""
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


def is_retryable_status(status: int | None) -> bool:
    """Whether an HTTP status is worth retrying: timeouts, conflicts, 429 and 5xx."""
    return status is not None and (status in (408, 409, 429) or status >= 500)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` / ``retry-after-ms``), if any."""
    for source in (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
        getattr(exc, "headers", None),
    ):
        if not source:
            continue
        headers = {str(k).lower(): str(v) for k, v in dict(source).items()}
        for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
            try:
                return max(0.0, float(headers[name]) * scale)
            except (KeyError, ValueError):
                continue
    return None
