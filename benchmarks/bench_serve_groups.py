"""`judge serve --group-size` under OpenRLHF's one-sample-per-request pattern vs one batched call.

For each (samples, group size): N samples = N/G prompts × G responses. The same
`judge serve` (its own process on 127.0.0.1, cache off) gets them twice, through
OpenRLHF 0.11.2's own client code (`SingleTurnAgentExecutor._fetch_rewards_via_http`,
aiohttp, a new session per call):

  * batched: ONE request holding all N samples;
  * per-sample: N concurrent one-sample requests, as OpenRLHF's rollout actors send
    them (the server holds each prompt's samples until its group of G is complete).

Reported: rewards/s of each, their ratio, p50/p99 latency of the per-sample requests,
and the largest |reward difference| between the two. Two engines:

  * ``--engine real``: the embedded SmolLM2 judge (transformers, CPU), short items;
  * ``--engine http``: the litellm backend against the fault server's oracle
    (`tests.faults.server`, an OpenAI-compatible HTTP server that costs no model time),
    so the figures isolate the serving path (holding, batching, HTTP) at 256 samples.

    flock /tmp/cpu.lock .venv/bin/python benchmarks/bench_serve_groups.py \\
        --engine real --mode pointwise --samples 64 256 --groups 4 8 --rounds 2
    flock /tmp/cpu.lock .venv/bin/python benchmarks/bench_serve_groups.py \\
        --engine http --mode groupwise --samples 64 256 --groups 4 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openrlhf.utils.agent import SingleTurnAgentExecutor

from benchmarks.common import DATA
from benchmarks.report import write_section
from tests.faults.cases import API_KEY
from tests.faults.server import MARK, FaultServer
from tests.faults.serving import free_port

CHATML = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
Sample = tuple[str, str, str]  # prompt (chat-formatted), response, label


def real_samples(n: int, size: int, tag: str) -> list[Sample]:
    """n samples: the shortest LLMBar Natural prompts × ``size`` short responses each."""
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    rows = sorted(
        (r for r in rows if r["subset"] == "llmbar-natural"),
        key=lambda r: len(r["prompt"] + r["chosen"] + r["rejected"]),
    )
    out = []
    for r in rows[: n // size]:
        for j in range(size):
            text = (r["chosen"] if j % 2 == 0 else r["rejected"])[:200]
            cut = max(8, len(text) * (j // 2 + 1) // max(1, size // 2))
            out.append((CHATML.format(f"{r['prompt']} [{tag}]"), text[:cut], r["chosen"][:200]))
    return out


def http_samples(n: int, size: int, tag: str) -> list[Sample]:
    """n samples for the oracle: half of each group's responses hold `MARK`."""
    return [
        (
            CHATML.format(f"[{tag}-{k // size}] Which is right?"),
            f"The {MARK} answer {k}." if k % 2 == 0 else f"A poor answer {k}.",
            "A reference.",
        )
        for k in range(n)
    ]


@contextmanager
def serve(options: list[str], log: Path) -> Iterator[str]:
    """``judge serve OPTIONS --no-cache`` in its own process; yields its URL."""
    port = free_port()
    exe = Path(sys.executable).parent / "judge"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(exe),
                "serve",
                "--port",
                str(port),
                "--no-cache",
                "--capacity",
                "1024",
                *options,
            ],
            stdout=out,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text())
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


async def per_sample(url: str, samples: list[Sample]) -> tuple[float, list[float], list[Any]]:
    """OpenRLHF's pattern: every sample its own concurrent request. Wall, latencies, rewards."""
    executor = SingleTurnAgentExecutor(remote_rm_url=[f"{url}/get_reward"])
    latencies: list[float] = []

    async def one(p: str, r: str, label: str) -> Any:
        start = time.perf_counter()
        reply = (await executor._fetch_rewards_via_http([p + r + "<|im_end|>"], [p], [label]))[0]
        latencies.append(time.perf_counter() - start)
        return reply["rewards"][0]

    start = time.perf_counter()
    rewards = await asyncio.gather(*[one(*s) for s in samples])
    return time.perf_counter() - start, latencies, list(rewards)


async def batched(url: str, samples: list[Sample]) -> tuple[float, list[Any]]:
    """All samples in ONE request, through the same OpenRLHF call. Wall and rewards."""
    executor = SingleTurnAgentExecutor(remote_rm_url=[f"{url}/get_reward"])
    start = time.perf_counter()
    reply = (
        await executor._fetch_rewards_via_http(
            [p + r + "<|im_end|>" for p, r, _ in samples],
            [p for p, _, _ in samples],
            [label for _, _, label in samples],
        )
    )[0]
    return time.perf_counter() - start, reply["rewards"]


def engine_calls(url: str) -> int:
    """Engine batches the server has run so far (its /health)."""
    return int(httpx.get(f"{url}/health", timeout=30).json()["batches"])


def run(url: str, n: int, size: int, make: Any, mode: str, rounds: int) -> dict[str, Any]:
    """``rounds`` interleaved rounds of batched then per-sample; the fastest of each kept."""
    samples = make(n, size, f"{mode}-{n}-{size}")
    best_b: tuple[float, list[Any], int] | None = None
    best_s: tuple[float, list[float], list[Any], int] | None = None
    diff = 0.0
    for _ in range(rounds):
        before = engine_calls(url)
        wall_b, rewards_b = asyncio.run(batched(url, samples))
        middle = engine_calls(url)
        wall_s, lat, rewards_s = asyncio.run(per_sample(url, samples))
        calls_s = engine_calls(url) - middle
        if best_b is None or wall_b < best_b[0]:
            best_b = (wall_b, rewards_b, middle - before)
        if best_s is None or wall_s < best_s[0]:
            best_s = (wall_s, lat, rewards_s, calls_s)
        diff = max(diff, *(abs(a - b) for a, b in zip(rewards_s, rewards_b, strict=True)))
    assert best_b is not None and best_s is not None
    wall_b, _, calls_b = best_b
    wall_s, lat, _, calls_s = best_s
    q = statistics.quantiles(lat, n=100, method="inclusive")
    row = {
        "samples": n,
        "group": size,
        "batched_rps": n / wall_b,
        "per_sample_rps": n / wall_s,
        "ratio": wall_b / wall_s,
        "p50": q[49],
        "p99": q[98],
        "batched_s": wall_b,
        "max_diff": diff,
        "calls_b": calls_b,
        "calls_s": calls_s,
    }
    print(row, flush=True)
    return row


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| samples | group | batched rewards/s | per-sample rewards/s | ratio | "
        "per-sample p50 (s) | p99 (s) | batched call (s) | engine calls (batched / "
        "per-sample) | max abs reward diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['samples']} | {r['group']} | {r['batched_rps']:.2f} | "
        f"{r['per_sample_rps']:.2f} | {r['ratio']:.2f}× | {r['p50']:.2f} | "
        f"{r['p99']:.2f} | {r['batched_s']:.1f} | {r['calls_b']} / {r['calls_s']} | "
        f"{r['max_diff']:.1e} |"
        for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["real", "http"], default="real")
    parser.add_argument("--mode", default="pointwise")
    parser.add_argument("--samples", type=int, nargs="+", default=[64])
    parser.add_argument("--groups", type=int, nargs="+", default=[4, 8])
    parser.add_argument(
        "--rounds", type=int, default=2, help="interleaved rounds; the fastest of each kept"
    )
    args = parser.parse_args()
    loads = [os.getloadavg()[0]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FaultServer() as faults:
        engine = (
            []
            if args.engine == "real"
            else [
                "--model",
                "openai/fault-test",
                "--api-base",
                faults.api_base,
                "-o",
                f"api_key={API_KEY}",
                "-o",
                "concurrency=64",
            ]
        )
        make = real_samples if args.engine == "real" else http_samples
        for size in args.groups:
            options = [*engine, "--mode", args.mode, "--group-size", str(size)]
            with serve(options, Path(tmp) / f"serve-{size}.log") as url:
                asyncio.run(batched(url, make(size, size, f"warm-{size}")))  # load, warm up
                rows += [run(url, n, size, make, args.mode, args.rounds) for n in args.samples]
        loads.append(os.getloadavg()[0])
    what = (
        "embedded SmolLM2 (transformers, CPU), short LLMBar Natural items (prompt + "
        "responses ≤ 200 characters)"
        if args.engine == "real"
        else "litellm backend → the fault server's oracle (OpenAI-compatible HTTP on "
        "127.0.0.1, no model time: the serving path alone)"
    )
    body = (
        f"### {args.mode}, {what}\n\n`judge serve --mode {args.mode} --group-size G "
        "--no-cache` (default `--max-batch 64`); the same samples as ONE batched request "
        "and as one-sample requests all sent at once, both through OpenRLHF 0.11.2's "
        f"`_fetch_rewards_via_http`, in {args.rounds} interleaved rounds (the fastest of "
        "each kept; max reward difference over all rounds). Ratio = per-sample ÷ batched "
        "throughput. Load "
        f"average (1 min) at start → end: {loads[0]:.1f} → {loads[-1]:.1f}.\n\n" + table(rows)
    )
    threads = os.environ.get("OMP_NUM_THREADS")
    if threads:  # the server inherits it: its torch threads
        body = body.replace("\n\n|", f" Server run with OMP_NUM_THREADS={threads}.\n\n|", 1)
    print(body)
    write_section(
        f"serve-groups-{args.engine}-{args.mode}" + (f"-omp{threads}" if threads else ""), body
    )


if __name__ == "__main__":
    main()
