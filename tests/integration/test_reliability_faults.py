"""The litellm backend against the fault-injecting server: a verdict or a typed failure.

Every judgment must end as the oracle's correct verdict or a `JudgmentFailure` with the
right reason; retries are bounded (the server counts every attempt); totals add up;
and work that finished before a fault is kept (in the failure, and in the cache).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from judge import FailureReason, Judge, JudgmentFailure, PairwiseVerdict
from judge.backends import litellm as litellm_backend
from judge.backends import retry
from judge.inputs import PairInput
from judge.stats import win_rate
from judge.verdicts import Order
from tests.faults.cases import (
    FINAL,
    MAX_RETRIES,
    RETRIED,
    Expect,
    backend,
    expect,
    method_for,
    oracle_winner,
    pair,
    plan_fault,
)
from tests.faults.server import LOSE_LOGPROB, WIN_LOGPROB, FaultServer

P_WIN = 1 / (1 + math.exp(LOSE_LOGPROB - WIN_LOGPROB))  # the oracle's P(winner), renormalized


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Millisecond backoff between retries; the count of retries is what is tested."""
    monkeypatch.setattr(retry, "BACKOFF_BASE_S", 0.01)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def check_verdict(result: object, item: PairInput) -> None:
    """``result`` is the oracle's verdict for ``item``, with the oracle's probabilities."""
    assert isinstance(result, PairwiseVerdict), result
    want = oracle_winner(item)
    assert result.winner == want
    if result.method == "logprob":
        assert result.prob_a == pytest.approx(P_WIN if want == "A" else 1 - P_WIN)
    else:
        assert result.prob_a == (1.0 if want == "A" else 0.0)
    assert result.consistent in (True, None)


def check_failure(result: object, want: Expect) -> JudgmentFailure:
    assert isinstance(result, JudgmentFailure), result
    assert result.reason is want.reason
    assert result.retryable is want.retryable
    assert result.messages  # the prompt that was sent is kept with the failure
    return result


@pytest.mark.parametrize("method", ["logprob", "generate"])
@pytest.mark.parametrize("name", RETRIED)
def test_a_transient_fault_is_retried_into_the_correct_verdict(
    server: FaultServer, tmp_path: Path, name: str, method: str
) -> None:
    item = pair(1, right="BA")
    plan_fault(server, item, "AB", name, times=MAX_RETRIES)  # the last attempt succeeds
    result = Judge(backend(server), method=method, swap="none", cache=tmp_path).compare_batch(
        [item]
    )[0]
    check_verdict(result, item)
    assert [s.reply for s in server.seen] == [name] * MAX_RETRIES + ["ok"]


@pytest.mark.parametrize("name", RETRIED)
def test_a_persistent_fault_ends_as_a_retryable_failure_after_bounded_attempts(
    server: FaultServer, tmp_path: Path, name: str
) -> None:
    item = pair(2)
    plan_fault(server, item, "AB", name, times=MAX_RETRIES + 5)
    result = Judge(backend(server), swap="none", cache=tmp_path).compare_batch([item])[0]
    failure = check_failure(result, expect(name, MAX_RETRIES + 5))
    assert f"after {MAX_RETRIES + 1} attempts" in failure.message
    assert len(server.seen) == MAX_RETRIES + 1


@pytest.mark.parametrize("name", sorted(FINAL))
def test_a_final_fault_fails_at_once_with_its_reason(
    server: FaultServer, tmp_path: Path, name: str
) -> None:
    item = pair(3)
    plan_fault(server, item, "AB", name, times=1)
    result = Judge(
        backend(server), method=method_for(name), swap="none", cache=tmp_path
    ).compare_batch([item])[0]
    check_failure(result, expect(name, 1))
    assert len(server.seen) == 1  # never retried


def test_a_context_window_error_is_context_overflow_through_the_backend(
    server: FaultServer,
) -> None:
    from judge.backends.base import LabelRequest
    from tests.faults.server import context_overflow

    server.default = context_overflow()
    request = LabelRequest(({"role": "user", "content": "Pick."},), ("A", "B"))
    (error,) = backend(server).score_labels([request])
    assert isinstance(error, litellm_backend.BackendError)
    assert error.reason == "context_overflow" and error.retryable is False
    assert "ContextWindowExceededError" in str(error)


# A mixed batch under concurrency: every fault on some items, in both orders ---------

MIX: list[tuple[str | None, int]] = [
    (None, 0),
    *((n, 1) for n in RETRIED),
    *((n, MAX_RETRIES + 1) for n in RETRIED),
    ("no_label_tokens", 1),
    ("context_overflow", 1),
]


def _mixed_items(server: FaultServer) -> tuple[list[PairInput], list[list[Expect]]]:
    """Items with faults planned per order; each item's expected outcome per order."""
    items, expected = [], []
    for index in range(3 * len(MIX)):
        name, times = MIX[index % len(MIX)]
        item = pair(index, right="AB" if index % 2 else "BA")
        orders: list[Order] = ["AB", "BA"]
        faulty = orders[(index // len(MIX)) % 2]  # fault the first order, then the second
        per_order = []
        for order in orders:
            if name is not None and (order == faulty or index // len(MIX) == 2):
                plan_fault(server, item, order, name, times)
                per_order.append(expect(name, times))
            else:
                per_order.append(expect(None, 0))
        items.append(item)
        expected.append(per_order)
    return items, expected


def test_a_mixed_batch_under_faults_adds_up(server: FaultServer, tmp_path: Path) -> None:
    items, expected = _mixed_items(server)
    judge = Judge(backend(server, concurrency=8), swap="both", cache=tmp_path)
    results = judge.compare_batch(items)

    assert len(results) == len(items)
    failures: Counter[FailureReason] = Counter()
    for item, result, per_order in zip(items, results, expected, strict=True):
        failing = [e for e in per_order if e.reason is not None]
        if not failing:
            check_verdict(result, item)
            assert result.consistent is True  # type: ignore[union-attr]
            continue
        failure = check_failure(result, failing[0])
        failures[failure.reason] += 1
        kept = len(per_order) - len(failing)  # the order that succeeded is kept
        assert len(failure.orders) == kept
        for order in failure.orders:
            assert order.winner == oracle_winner(item)
    verdicts = sum(isinstance(r, PairwiseVerdict) for r in results)
    assert verdicts + sum(failures.values()) == len(items)
    summary = win_rate(results)
    assert summary.n == verdicts and summary.failures == sum(failures.values())
    assert failures[FailureReason.BACKEND_ERROR] == 3 * len(RETRIED)
    assert failures[FailureReason.CONTEXT_OVERFLOW] == 3
    assert len(server.seen) == sum(e.attempts for per in expected for e in per)

    # Nothing finished is lost: a rerun against a healthy server asks only for the
    # orders that failed, and then every item has its verdict.
    before = len(server.seen)
    again = Judge(backend(server, concurrency=8), swap="both", cache=tmp_path).compare_batch(items)
    failed_orders = sum(e.reason is not None for per in expected for e in per)
    assert len(server.seen) - before == failed_orders
    for item, result in zip(items, again, strict=True):
        check_verdict(result, item)


@pytest.mark.parametrize("method", ["logprob", "generate"])
def test_pointwise_scores_survive_transient_faults(
    server: FaultServer, tmp_path: Path, method: str
) -> None:
    from judge import PointwiseVerdict
    from tests.faults.server import MARK, connection_reset, server_error

    server.script.extend([server_error(), connection_reset()])
    judge = Judge(backend(server), template="pointwise_5", method=method, cache=tmp_path)
    good, poor = judge.score_batch(
        [
            {"prompt": "q", "response": f"The {MARK} one."},
            {"prompt": "q", "response": "A poor one."},
        ]
    )
    assert isinstance(good, PointwiseVerdict) and isinstance(poor, PointwiseVerdict)
    assert good.score > poor.score  # the oracle's scores, not a default
    assert good.score == (4 if method == "logprob" else 5)
    assert len(server.seen) == 4  # two calls, two faults, each retried once
