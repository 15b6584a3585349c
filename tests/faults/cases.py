"""Fault cases for the litellm backend: items keyed to faults, and what each must end as.

Shared by the fault tests and ``benchmarks/bench_faults.py``, so the table in
RESULTS.md and the assertions in CI describe the same behaviour. A fault is planned on
one *order* of one pair: the plan key is the opening of that order's first delimited
response, which only that order's request contains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from judge.backends.litellm import LiteLLMBackend
from judge.inputs import PairInput
from judge.verdicts import FailureReason, Method, Order
from tests.faults.server import (
    FAULTS,
    MARK,
    FaultServer,
    Reply,
    hang,
    ok,
    rate_limited,
)

CLIENT_TIMEOUT_S = 3.0  # generous: a busy CPU must not turn a slow answer into a timeout
MAX_RETRIES = 2
API_KEY = "sk-fault-test-key"

# Fast variants: a short Retry-After, and a hang well past the client timeout.
_FAST: dict[str, Callable[[], Reply]] = {
    "rate_limited": lambda: rate_limited("0.05"),
    "hang": lambda: hang(CLIENT_TIMEOUT_S * 5),
}
RETRIED = (
    "rate_limited",
    "server_error",
    "hang",
    "malformed_json",
    "truncated_body",
    "connection_reset",
)
"""Faults the backend retries: they end in a verdict if a later attempt succeeds."""
FINAL: dict[str, FailureReason] = {
    "schema_violation": FailureReason.PARSE_FAILURE,
    "off_menu_verdict": FailureReason.OFF_MENU_LABEL,
    "no_label_tokens": FailureReason.NO_LABEL_MASS,
    "context_overflow": FailureReason.CONTEXT_OVERFLOW,
}
"""Faults that are not retried, and the failure reason each must give."""
GENERATE_ONLY = ("schema_violation", "off_menu_verdict")


def fault(name: str) -> Reply:
    """The named fault (`FAULTS`), in its fast test variant where it has one."""
    return _FAST.get(name, FAULTS[name])()


def method_for(name: str) -> Method:
    """The verdict method a fault applies to (schema faults need ``generate``)."""
    return "generate" if name in GENERATE_ONLY else "logprob"


@dataclass(frozen=True)
class Expect:
    """What one backend call must end as.

    Attributes:
        reason: the failure reason, or None for a correct verdict.
        retryable: whether the failure says a retry may help.
        attempts: HTTP requests the call makes.
    """

    reason: FailureReason | None
    retryable: bool
    attempts: int


def expect(name: str | None, times: int, max_retries: int = MAX_RETRIES) -> Expect:
    """The outcome of a call whose first ``times`` attempts meet fault ``name``."""
    if name is None or times == 0:
        return Expect(None, False, 1)
    if name in FINAL:
        return Expect(FINAL[name], False, 1)
    if times > max_retries:
        return Expect(FailureReason.BACKEND_ERROR, True, max_retries + 1)
    return Expect(None, False, times + 1)


def pair(index: int, *, right: Order = "AB") -> PairInput:
    """Pair ``index``: its own prompt; the response holding `MARK` is A for ``"AB"``, else B."""
    good, bad = f"[{index:03d}] {MARK} answer.", f"[{index:03d}] weak answer."
    a, b = (good, bad) if right == "AB" else (bad, good)
    return PairInput(f"[item {index:03d}] Which answer is better?", f"{a} (a)", f"{b} (b)")


def oracle_winner(item: PairInput) -> str:
    """The winner the server's oracle gives, in the caller's labelling."""
    return "B" if MARK in item.response_b and MARK not in item.response_a else "A"


def order_key(item: PairInput, order: Order) -> str:
    """A string only the request for ``order`` of ``item`` contains."""
    first = item.response_a if order == "AB" else item.response_b
    return f"<response_a>\n{first}"


def plan_fault(server: FaultServer, item: PairInput, order: Order, name: str, times: int) -> None:
    """Answer the first ``times`` requests for ``order`` of ``item`` with fault ``name``."""
    server.plan(order_key(item, order), *(fault(name) for _ in range(times)), ok())


def backend(server: FaultServer, **options: Any) -> LiteLLMBackend:
    """A litellm backend aimed at ``server`` with short timeouts and bounded retries."""
    settings: dict[str, Any] = {"timeout": CLIENT_TIMEOUT_S, "max_retries": MAX_RETRIES, **options}
    return LiteLLMBackend(
        "openai/fault-test", api_base=server.api_base, api_key=API_KEY, **settings
    )
