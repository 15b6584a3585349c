"""In-process vLLM: the Judge's overhead over bare `LLM.generate`, and the price of swapping.

Side by side in one run, on the same LLMBar pairs and the same engine:
  * bare loop — chat template, tokenize, one `LLM.generate` call over every prompt with
    ``SamplingParams(max_tokens=1, temperature=0, logprob_token_ids=[A, B])``, softmax
    over the two label log-probs: what a user of vLLM would write;
  * `Judge` — logprob method, swap="both", cache off: everything the engine adds.
The two alternate for ``--rounds`` rounds, the prefix cache emptied before each run so
every run starts cold; the overhead is the ratio of median times.
Then swap="both" against swap="none" with prefix caching on, and again on a second
engine with prefix caching off: how much of the second order the cache saves.

    python benchmarks/bench_vllm.py --pairs 100 --rounds 3
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import load_pairs, prompts_for
from benchmarks.report import write_section
from judge import Judge, PairwiseVerdict
from judge.backends.hf import encode_chat
from judge.backends.vllm import VLLMBackend
from judge.inputs import PairInput


def bare_loop(
    backend: VLLMBackend, messages: list[list[dict[str, str]]]
) -> tuple[list[float], int, int]:
    """P(first label) per prompt with plain vLLM calls; also cached and total prompt tokens."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    tok, llm = backend.tokenizer, backend.llm
    label_ids = [
        tok("A", add_special_tokens=False)["input_ids"][0],
        tok("B", add_special_tokens=False)["input_ids"][0],
    ]
    prompts = [TokensPrompt(prompt_token_ids=encode_chat(tok, m)) for m in messages]
    params = SamplingParams(max_tokens=1, temperature=0.0, logprob_token_ids=label_ids)
    outputs = llm.generate(prompts, params, use_tqdm=False)
    probs = []
    for out in outputs:
        found = out.outputs[0].logprobs[0]  # type: ignore[index]
        a, b = (found[t].logprob for t in label_ids)
        probs.append(1.0 / (1.0 + math.exp(b - a)))
    cached = sum(out.num_cached_tokens or 0 for out in outputs)
    total = sum(len(out.prompt_token_ids or ()) for out in outputs)
    return probs, cached, total


def timed(backend: VLLMBackend, fn: Any) -> tuple[float, Any]:
    """Seconds ``fn`` takes on a cold prefix cache, and its value."""
    backend.llm.reset_prefix_cache()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def start_engine(args: argparse.Namespace, prefix_caching: bool) -> tuple[float, VLLMBackend]:
    start = time.perf_counter()
    backend = VLLMBackend.from_model(
        args.model,
        enable_prefix_caching=prefix_caching,
        max_model_len=args.max_model_len,
        gpu_memory_utilization=args.gpu_memory_utilization,
    )
    return time.perf_counter() - start, backend


def swap_costs(backend: VLLMBackend, pairs: list[PairInput], rounds: int) -> dict[str, float]:
    """Median seconds of swap="none" and swap="both", alternating, cold prefix cache."""
    times: dict[str, list[float]] = {"none": [], "both": []}
    for _ in range(rounds):
        for swap in ("none", "both"):
            judge = Judge(backend, swap=swap, cache=False)  # type: ignore[arg-type]
            times[swap].append(timed(backend, lambda j=judge: j.compare_batch(pairs))[0])
    return {swap: statistics.median(t) for swap, t in times.items()}


def overhead_and_swap(args: argparse.Namespace, pairs: list[PairInput]) -> dict[str, Any]:
    """Bare loop against Judge, then the swap cost, on an engine with prefix caching."""
    start_s, backend = start_engine(args, prefix_caching=True)
    judge = Judge(backend, cache=False)
    messages = prompts_for(judge, pairs)
    judge.compare_batch(pairs[:2])  # warm-up: first-call allocations
    bare_times, judge_times = [], []
    for _ in range(args.rounds):
        t, (bare, cached_tokens, prompt_tokens) = timed(
            backend, lambda: bare_loop(backend, messages)
        )
        bare_times.append(t)
        t, verdicts = timed(backend, lambda: judge.compare_batch(pairs))
        judge_times.append(t)
    ours = [
        o.label_probs["A"] for v in verdicts if isinstance(v, PairwiseVerdict) for o in v.orders
    ]
    engine = backend.llm.llm_engine
    result = {
        "start_s": start_s,
        "bare_times": bare_times,
        "judge_times": judge_times,
        "agreement": max(abs(a - b) for a, b in zip(ours, bare, strict=True)),
        "cached_tokens": cached_tokens,
        "prompt_tokens": prompt_tokens,
        "swap": swap_costs(backend, pairs, args.rounds),
        "batch_size": backend.batch_size,
        "device": str(engine.vllm_config.device_config.device),
        "dtype": str(engine.model_config.dtype).removeprefix("torch."),
    }
    engine.engine_core.shutdown()  # free its memory before the second engine starts
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--model",
        default="embedded",
        help='"embedded" (SmolLM2-135M, float32) or a model dir / hub id',
    )
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument(
        "--gpu-memory-utilization",
        type=float,
        default=0.3,
        help="on a CPU build: the fraction of CPU memory vLLM may take",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; ignored by GPU builds

    pairs = load_pairs(args.pairs)
    on = overhead_and_swap(args, pairs)
    gc.collect()
    start_off, plain = start_engine(args, prefix_caching=False)
    Judge(plain, cache=False).compare_batch(pairs[:2])  # warm-up
    cached_off = swap_costs(plain, pairs, args.rounds)

    n = len(pairs)
    bare_s, judge_s = statistics.median(on["bare_times"]), statistics.median(on["judge_times"])
    cached_on, cached_tokens, prompt_tokens = on["swap"], on["cached_tokens"], on["prompt_tokens"]
    body = "\n".join(
        [
            f"## vLLM in process: overhead and swap cost ({args.model}, "
            f"{on['dtype']}, {on['device']})",
            "",
            f"{n} LLMBar Natural pairs, logprob method, one `generate` call per batch "
            f"(batch size {on['batch_size']}), prefix cache "
            f"emptied before every timed run, median of {args.rounds} alternating rounds.",
            "",
            '| run (`swap="both"`) | seconds | judgments/s | ratio to bare loop |',
            "|---|---:|---:|---:|",
            f"| bare `LLM.generate` (same prompts, same SamplingParams) | {bare_s:.2f} | "
            f"{n / bare_s:.2f} | 1.000 |",
            f"| `Judge.compare_batch` (cache off) | {judge_s:.2f} | {n / judge_s:.2f} | "
            f"{judge_s / bare_s:.3f} |",
            "",
            f"Framework overhead: {100 * (judge_s / bare_s - 1):+.1f}% (target ≤ 5%). Largest "
            f"difference between the bare loop's and the Judge's P(first label): "
            f"{on['agreement']:.1e}. Prompt tokens served from the prefix cache in one cold "
            f'swap="both" run: {cached_tokens} of {prompt_tokens} '
            f"({100 * cached_tokens / max(prompt_tokens, 1):.0f}%).",
            "",
            '| prefix caching | swap="none" s | swap="both" s | both / none | judgments/s (both) |',
            "|---|---:|---:|---:|---:|",
            *[
                f"| {label} | {c['none']:.2f} | {c['both']:.2f} | {c['both'] / c['none']:.2f} | "
                f"{n / c['both']:.2f} |"
                for label, c in (("on", cached_on), ("off", cached_off))
            ],
            "",
            f"Engine start: {on['start_s']:.0f} s (prefix caching on), {start_off:.0f} s (off). "
            "Rounds, bare seconds: "
            + ", ".join(f"{t:.2f}" for t in on["bare_times"])
            + "; Judge seconds: "
            + ", ".join(f"{t:.2f}" for t in on["judge_times"])
            + ".",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("vllm", body)


if __name__ == "__main__":
    main()
