"""Reward throughput per mode, and the reward server under 1, 8 and 32 concurrent clients.

A GRPO-shaped batch: ``--prompts`` LLMBar Natural prompts (the shortest ones) × 4
completions each (chosen, rejected, and the first half of each), on the embedded
backend with the cache off. In one run, side by side:

  * each mode through `JudgeReward` (pointwise, reference — the reference is the
    chosen answer — and groupwise), next to the bare `Judge.score_batch` over the same
    items, so the pointwise reward layer's overhead is a ratio;
  * ``judge serve --no-cache`` as a subprocess on 127.0.0.1, driven by N concurrent
    clients (`AsyncRewardClient`), each request one pointwise item of the same batch
    (so every level sends the same ``prompts × 4`` distinct requests), against the
    bare `Judge.score_batch` over those items. Throughput and p50/p99 latency.

    OMP_NUM_THREADS=1 python benchmarks/bench_reward.py --prompts 8 --clients 1 8 32

(One torch thread per process ran fastest on the shared 2-core machine.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import DATA, timed
from benchmarks.report import write_section
from judge import Judge
from judge.backends.transformers import TransformersBackend
from judge.reward import JudgeReward
from judge.reward.client import AsyncRewardClient

CHATML = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"


def grpo_batch(n_prompts: int) -> tuple[list[str], list[str], list[str]]:
    """Prompts, completions and references: n prompts × (chosen, rejected, halves)."""
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    natural = [r for r in rows if r["subset"] == "llmbar-natural"]
    natural.sort(key=lambda r: len(r["prompt"] + r["chosen"] + r["rejected"]))
    prompts, completions, refs = [], [], []
    for r in natural[:n_prompts]:
        for text in (
            r["chosen"],
            r["rejected"],
            r["chosen"][: max(1, len(r["chosen"]) // 2)],
            r["rejected"][: max(1, len(r["rejected"]) // 2)],
        ):
            prompts.append(r["prompt"])
            completions.append(text)
            refs.append(r["chosen"])
    return prompts, completions, refs


def modes(
    backend: TransformersBackend, batch: tuple[list[str], list[str], list[str]]
) -> list[tuple[str, int, int, float]]:
    """(what, rewards, judge requests, seconds) per mode and per bare baseline."""
    prompts, completions, refs = batch
    judge = Judge(backend, cache=False)
    rows = []
    seconds, _ = timed(
        lambda: judge.score_batch(
            [{"prompt": p, "response": c} for p, c in zip(prompts, completions, strict=True)]
        )
    )
    rows.append(("bare Judge.score_batch", len(prompts), len(prompts), seconds))
    print(rows[-1], flush=True)
    for mode in ("pointwise", "reference", "groupwise"):
        reward = JudgeReward(judge, mode=mode)  # type: ignore[arg-type]
        plan = reward.plan(prompts, completions, refs)
        seconds, _ = timed(lambda r=reward: r(prompts, completions, reference=refs))
        rows.append((f"JudgeReward {mode}", len(prompts), len(plan.requests), seconds))
        print(rows[-1], flush=True)
    return rows


def start_server(port: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "judge"
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), "--no-cache"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("judge serve did not start")


async def drive(
    url: str, clients: int, requests: list[tuple[str, str]]
) -> tuple[float, list[float]]:
    """``clients`` workers share the request list; wall time and per-request latencies."""
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def worker(client: AsyncRewardClient) -> None:
        while not queue.empty():
            prompt, completion = queue.get_nowait()
            start = time.perf_counter()
            reply = await client.rewards([prompt + completion + "<|im_end|>"], [prompt])
            latencies.append(time.perf_counter() - start)
            assert reply.rewards[0] is not None, reply.failures

    async with AsyncRewardClient(url) as client:
        start = time.perf_counter()
        await asyncio.gather(*[worker(client) for _ in range(clients)])
        return time.perf_counter() - start, latencies


def serve_levels(
    levels: list[int], batch: tuple[list[str], list[str], list[str]], bare: float
) -> list[tuple[str, int, float, float | None, float | None]]:
    """The server at each client count, after the in-process bare rate (``bare`` s)."""
    prompts, completions, _ = batch
    requests = [(CHATML.format(p), c) for p, c in zip(prompts, completions, strict=True)]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rows: list[tuple[str, int, float, float | None, float | None]] = []
    rows.append(
        ("bare Judge.score_batch (one call, in process)", 0, len(requests) / bare, None, None)
    )
    proc = start_server(port)
    try:
        for clients in levels:
            wall, lat = asyncio.run(drive(f"http://127.0.0.1:{port}", clients, requests))
            q = statistics.quantiles(lat, n=100, method="inclusive")
            rows.append(("judge serve", clients, len(requests) / wall, q[49], q[98]))
            print(rows[-1], flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return rows


LOADS: list[float] = []


def load() -> str:
    """The 1-minute load averages sampled so far (start, after modes, end)."""
    return " → ".join(f"{x:.1f}" for x in LOADS)


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def report(
    n_prompts: int,
    n_rewards: int,
    mode_rows: list[tuple[str, int, int, float]],
    serve_rows: list[tuple[str, int, float, float | None, float | None]],
) -> str:
    lines = [
        f"GRPO-shaped batch: {n_prompts} LLMBar Natural prompts × 4 completions = "
        f"{n_rewards} rewards; embedded SmolLM2 (transformers, CPU, "
        f"{torch.get_num_threads()} torch thread(s)), cache off, "
        f"logprob method, swap both. Load average during the run: {load()} (the CPU "
        "was shared with other jobs), so compare rows, not absolute rates.",
        "",
        "| path | rewards | judge requests (items or pairs) | seconds | rewards/s |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {what} | {n} | {reqs} | {sec:.1f} | {n / sec:.3f} |" for what, n, reqs, sec in mode_rows
    ]
    if serve_rows:
        lines += [
            "",
            "Reward server (`judge serve --no-cache`, pointwise, subprocess on "
            f"127.0.0.1): the same {n_rewards} items as {n_rewards} requests of one item "
            "each per level, from N concurrent clients (httpx), against the bare "
            "in-process `Judge.score_batch` over them (first row above).",
            "",
            "| path | clients | rewards/s | p50 latency (s) | p99 latency (s) |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {what} | {c or '—'} | {rate:.3f} | {fmt(p50)} | {fmt(p99)} |"
            for what, c, rate, p50, p99 in serve_rows
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    backend = TransformersBackend.embedded()
    batch = grpo_batch(args.prompts)
    LOADS.append(os.getloadavg()[0])
    mode_rows = modes(backend, batch)
    LOADS.append(os.getloadavg()[0])
    write_section(
        "reward",
        "## Reward model interface (issue 4)\n\n"
        + report(args.prompts, len(batch[0]), mode_rows, []),
    )
    serve_rows = serve_levels(args.clients, batch, mode_rows[0][3])
    LOADS.append(os.getloadavg()[0])
    body = report(args.prompts, len(batch[0]), mode_rows, serve_rows)
    print(body)
    write_section("reward", "## Reward model interface (issue 4)\n\n" + body)


if __name__ == "__main__":
    main()
