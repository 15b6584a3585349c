"""Faults injected → outcomes: the litellm backend against the fault-injecting server.

For each fault the test server can inject, N pairs are judged (swap="none", logprob, or
generate for the schema faults) with the fault on the first attempt only ("once") and on
every attempt ("always"). The table counts what came back: verdicts, and how many agree
with the server's oracle; failures by reason and whether they say a retry may help; and
the HTTP requests the server received against what bounded retries allow. The same
cases are asserted in tests/integration/test_reliability_faults.py.

    python -m benchmarks.bench_faults --pairs 20
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter

from benchmarks.common import timed
from benchmarks.report import write_section
from judge import Judge, JudgmentFailure, PairwiseVerdict
from tests.faults.cases import (
    CLIENT_TIMEOUT_S,
    FINAL,
    MAX_RETRIES,
    backend,
    expect,
    method_for,
    oracle_winner,
    pair,
    plan_fault,
)
from tests.faults.server import FAULTS, FaultServer


def measure(name: str | None, times: int, pairs: int) -> str:
    """Judge ``pairs`` pairs with fault ``name`` on their first ``times`` attempts."""
    items = [pair(i, right="AB" if i % 2 else "BA") for i in range(pairs)]
    with FaultServer() as server, tempfile.TemporaryDirectory() as cache:
        for item in items:
            if name is not None:
                plan_fault(server, item, "AB", name, times)
        judge = Judge(backend(server), method=method_for(name or ""), swap="none", cache=cache)
        seconds, results = timed(lambda: judge.compare_batch(items))
        requests = len(server.seen)
    right = sum(
        isinstance(r, PairwiseVerdict) and r.winner == oracle_winner(item)
        for r, item in zip(results, items, strict=True)
    )
    verdicts = sum(isinstance(r, PairwiseVerdict) for r in results)
    reasons = Counter(
        f"{r.reason.value}{' (retryable)' if r.retryable else ''}"
        for r in results
        if isinstance(r, JudgmentFailure)
    )
    failures = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items())) or "0"
    allowed = expect(name, times).attempts * pairs
    label = {0: "—", 1: "once"}.get(times, "always")
    return (
        f"| {name or 'none'} | {label} | {pairs} | {verdicts} ({right} match the oracle) | "
        f"{failures} | {requests} ({allowed}) | {seconds:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = [measure(None, 0, args.pairs)]
    for name in FAULTS:
        rows.append(measure(name, 1, args.pairs))
        if name not in FINAL:
            rows.append(measure(name, MAX_RETRIES + 5, args.pairs))
    header = (
        "| fault | injected | pairs | verdicts | failures | HTTP requests (bound) | "
        "s |\n|---|---|---|---|---|---|---|"
    )
    body = (
        f"## Faults injected → outcomes (litellm backend)\n\n"
        f"Each row: {args.pairs} pairs against the fault-injecting test server "
        f"(tests/faults/server.py), max_retries={MAX_RETRIES}, timeout "
        f'{CLIENT_TIMEOUT_S} s, default backoff. "once": the first attempt of each '
        f'judgment meets the fault; "always": every attempt does. Bound: the requests '
        f"bounded retries allow. Nothing else comes back: no verdict without an answer, "
        f"no number standing in for a failure.\n\n{header}\n" + "\n".join(rows)
    )
    print(body)
    if not args.no_write:
        write_section("faults", body)


if __name__ == "__main__":
    main()
