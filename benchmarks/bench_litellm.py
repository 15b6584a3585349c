"""The litellm backend against a local `vllm serve`: judgments/s at 1, 8 and 32 in flight.

Starts the embedded SmolLM2-135M model behind vLLM's OpenAI-compatible server on
127.0.0.1, then, on the same LLMBar pairs, at each concurrency level:
  * bare HTTP — the exact messages the Judge sends, posted with httpx at the same
    concurrency, P(first label) read from ``top_logprobs``: what a user would write;
  * `Judge` + `LiteLLMBackend` — logprob method, ``swap="both"`` (2 requests per
    pair), cache off: everything litellm and the engine add.
vLLM's prefix cache is emptied before every timed run, so each starts cold (within a
run it still shares the template's prefix between requests, as in real use). Then the
same pairs against a warm judgment cache. The server is stopped at the end.

    python benchmarks/bench_litellm.py --pairs 100 --concurrency 1 8 32
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import load_pairs, prompts_for, timed
from benchmarks.report import write_section
from judge import Judge, PairwiseVerdict
from judge.backends import embedded
from judge.backends.litellm import LiteLLMBackend
from judge.inputs import PairInput
from tests.integration.server_fixtures import SERVED_NAME, VLLMServer


async def bare_http(
    api_base: str, messages: list[list[dict[str, str]]], concurrency: int
) -> list[float]:
    """P(first label) per prompt with plain HTTP requests, ``concurrency`` in flight."""
    import httpx

    slots = asyncio.Semaphore(concurrency)

    async def one(client: httpx.AsyncClient, m: list[dict[str, str]]) -> float:
        body = {
            "model": SERVED_NAME,
            "messages": m,
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": 20,
        }
        async with slots:
            reply = await client.post(f"{api_base}/chat/completions", json=body)
        top = reply.json()["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        mass = {"A": 0.0, "B": 0.0}
        for t in top:
            if t["token"].strip() in mass:
                mass[t["token"].strip()] += math.exp(t["logprob"])
        return mass["A"] / (mass["A"] + mass["B"])

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:
        return list(await asyncio.gather(*(one(client, m) for m in messages)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--eager",
        action="store_true",
        help="start the server with --enforce-eager (no torch.compile)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    pairs = load_pairs(args.pairs)
    log = Path(tempfile.mkdtemp(prefix="bench-litellm-")) / "server.log"
    server = VLLMServer(
        embedded.ensure_converted(),
        log,
        extra=["--enforce-eager"] if args.eager else [],
        env={"VLLM_SERVER_DEV_MODE": "1"},
    )  # for /reset_prefix_cache
    start_s = server.start(timeout=600)
    try:
        rows, agreement, warm_s = run(server, pairs, args.concurrency)
    finally:
        server.stop()

    n = len(pairs)
    body = "\n".join(
        [
            "## litellm backend → local `vllm serve` (embedded SmolLM2-135M, CPU)",
            "",
            f'{n} LLMBar Natural pairs, logprob method, `swap="both"` (2 requests per pair), '
            f"cache off, `hosted_vllm/{SERVED_NAME}` over HTTP on 127.0.0.1"
            f"{' (server in eager mode)' if args.eager else ''}. Server start: {start_s:.0f} s.",
            "",
            "| in flight | bare HTTP s | bare judgments/s | Judge+litellm s | judgments/s | "
            "prompt tokens/s | ratio to bare |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *[
                f"| {c} | {bare_s:.1f} | {n / bare_s:.3f} | {judge_s:.1f} | {n / judge_s:.3f} | "
                f"{tokens / judge_s:.0f} | {judge_s / bare_s:.3f} |"
                for c, bare_s, judge_s, tokens in rows
            ],
            "",
            f"Warm cache: {1000 * warm_s / n:.1f} ms per judgment. Largest difference in "
            f"P(first label) between bare HTTP and the Judge, over all levels: {agreement:.1e} "
            "(vLLM's batching changes float sums slightly).",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("litellm", body)


def run(
    server: VLLMServer, pairs: list[PairInput], levels: list[int]
) -> tuple[list[tuple[int, float, float, int]], float, float]:
    """Time bare HTTP and the Judge at each level; return rows, agreement, warm-cache s."""
    model = f"hosted_vllm/{SERVED_NAME}"
    setup_judge = Judge(LiteLLMBackend(model, api_base=server.api_base), cache=False)
    messages = prompts_for(setup_judge, pairs)
    setup_judge.compare_batch(pairs[:2])  # warm-up: imports, connections, first batches
    rows, agreement = [], 0.0
    for level in levels:
        server.reset_prefix_cache()
        bare_s, bare = timed(lambda c=level: asyncio.run(bare_http(server.api_base, messages, c)))
        backend = LiteLLMBackend(
            model,
            api_base=server.api_base,
            concurrency=level,
            batch_size=max(64, level),
            timeout=600,
        )
        judge = Judge(backend, cache=False)
        server.reset_prefix_cache()
        judge_s, verdicts = timed(lambda j=judge: j.compare_batch(pairs))
        ours = [
            o.label_probs["A"] for v in verdicts if isinstance(v, PairwiseVerdict) for o in v.orders
        ]
        if len(ours) != len(bare):
            raise SystemExit(f"{len(bare) - len(ours)} judgments failed at {level} in flight")
        agreement = max(agreement, *(abs(a - b) for a, b in zip(ours, bare, strict=True)))
        rows.append((level, bare_s, judge_s, judge.usage.prompt_tokens))
    with tempfile.TemporaryDirectory() as cache_dir:
        cached = Judge(
            LiteLLMBackend(model, api_base=server.api_base, concurrency=max(levels)),
            cache=cache_dir,
        )
        cached.compare_batch(pairs)
        warm_s, _ = timed(lambda: cached.compare_batch(pairs))
    return rows, agreement, warm_s


if __name__ == "__main__":
    main()
