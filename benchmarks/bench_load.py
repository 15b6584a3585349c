"""Load on `judge serve` from a second process: latency, errors, and the 503 beyond capacity.

`judge serve --mode reference` runs as its own process, judging through the litellm
backend against the fault-injecting test server (answering correctly, at once), so the
figures are the reward server's own cost: HTTP, batching, the engine, litellm. The load
comes from this process: C concurrent clients (`judge.reward.client.AsyncRewardClient`),
each sending R requests of S samples in turn. Every reward's sign is checked against
the test server's oracle. A second run gives the server a small ``--capacity`` and a
slow judge (each upstream answer 0.5 s late) to show what happens beyond capacity.

    python -m benchmarks.bench_load --clients 64 --requests 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from benchmarks.report import write_section
from tests.faults.server import FaultServer, ok
from tests.faults.serving import LoadResult, judge_serve, load


def run(clients: int, per_client: int, size: int, *options: str, delay: float = 0.0) -> LoadResult:
    """One load run against a fresh server; returns what the clients saw."""
    with FaultServer() as faults, tempfile.TemporaryDirectory() as home:
        faults.default = ok(delay=delay)
        with judge_serve(faults, Path(home), "--no-cache", *options) as url:
            return asyncio.run(load(url, clients=clients, per_client=per_client, size=size))


def row(name: str, result: LoadResult, samples: int) -> str:
    answered = len(result.latencies)
    rate = answered / result.seconds if result.seconds else float("nan")
    refused = (
        f"{len(result.rejected)} (p50 {result.percentile(50, result.rejected):.3f} s)"
        if result.rejected
        else "0"
    )
    return (
        f"| {name} | {answered + len(result.rejected) + len(result.errors)} | {answered} | "
        f"{refused} | {len(result.errors)} | {result.wrong} | "
        f"{result.percentile(50):.2f} | {result.percentile(99):.2f} | {rate:.1f} | "
        f"{rate * samples:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=4, help="per client")
    parser.add_argument("--samples", type=int, default=2, help="per request")
    parser.add_argument("--capacity", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    busy = os.getloadavg()[0]  # the CPU is shared: say how busy it was
    full = run(args.clients, args.requests, args.samples)
    small = run(args.clients, 1, args.samples, "--capacity", str(args.capacity), delay=0.5)
    header = (
        "| run | requests | answered | 503 (p50 latency) | other errors | wrong rewards | "
        "p50 s | p99 s | requests/s | samples/s |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    body = (
        f"## Load on judge serve\n\n"
        f"{args.clients} concurrent clients in a second process, {args.samples} samples "
        f"per request (reference mode, swap both: 2 judge calls per sample), the judge "
        f"behind litellm answering at once, so this is the server's own cost. "
        f"Latency is per request, as the client saw it. Load average at the start: "
        f"{busy:.1f} on {os.cpu_count()} cores.\n\n{header}\n"
        + row(
            f"{args.clients} clients × {args.requests} requests, capacity 256", full, args.samples
        )
        + "\n"
        + row(
            f"{args.clients} clients × 1 request, capacity {args.capacity}, judge 0.5 s per call",
            small,
            args.samples,
        )
    )
    print(body)
    if not args.no_write:
        write_section("load", body)


if __name__ == "__main__":
    main()
