"""Engine overhead, warm-cache cost and batching on the embedded model (issue: engine core).

Side by side in one run, on the same LLMBar pairs and the same prompts:
  * bare loop — chat template, tokenize, the same batched forward passes reading the
    last position's logits, softmax over the "A"/"B" tokens: what a user would write;
  * `Judge` — logprob method, swap="both", cache off: everything the engine adds
    (templating, delimiting, planning, parsing, combining, verdict objects).
The two alternate for ``--rounds`` rounds; the overhead is the ratio of median times.
Then the same pairs against a warm cache, and `Judge` at several batch sizes.

    python benchmarks/bench_engine.py --pairs 100 --rounds 2 --batch-sizes 1 4 16
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import load_pairs, prompts_for, timed
from benchmarks.report import write_section
from judge import Judge, PairwiseVerdict
from judge.backends.transformers import TransformersBackend


def bare_loop(
    backend: TransformersBackend, messages: list[list[dict[str, str]]], batch_size: int
) -> list[float]:
    """P(first label) per prompt with plain transformers calls."""
    tok, model = backend.tokenizer, backend.model
    label_ids = [
        tok("A", add_special_tokens=False)["input_ids"][0],
        tok("B", add_special_tokens=False)["input_ids"][0],
    ]
    encoded = [
        tok(
            tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True),
            add_special_tokens=False,
        )["input_ids"]
        for m in messages
    ]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out = [0.0] * len(encoded)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        rows = [encoded[i] for i in idx]
        width = max(map(len, rows))
        ids = torch.tensor([[tok.pad_token_id] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        with torch.inference_mode():
            logits = model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                logits_to_keep=1,
                use_cache=False,
            ).logits[:, -1, label_ids]
        probs = torch.softmax(logits.float(), dim=-1)[:, 0]
        for i, p in zip(idx, probs.tolist(), strict=True):
            out[i] = p
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    pairs = load_pairs(args.pairs)
    # The bare loop runs every prompt whole, so the Judge does too: prefix reuse off (what
    # reuse saves is measured in bench_groups.py).
    backend = TransformersBackend.embedded(prefix_reuse=False)
    judge = Judge(backend, cache=False)
    messages = prompts_for(judge, pairs)
    judge.compare_batch(pairs[:2])  # warm-up: first-call allocations
    bare_times, judge_times = [], []
    for _ in range(args.rounds):
        t, bare = timed(lambda: bare_loop(backend, messages, backend.batch_size))
        bare_times.append(t)
        t, verdicts = timed(lambda: judge.compare_batch(pairs))
        judge_times.append(t)
    ours = [
        o.label_probs["A"] for v in verdicts if isinstance(v, PairwiseVerdict) for o in v.orders
    ]
    agreement = max(abs(a - b) for a, b in zip(ours, bare, strict=True))
    bare_s, judge_s = statistics.median(bare_times), statistics.median(judge_times)

    with tempfile.TemporaryDirectory() as cache_dir:
        cached = Judge(backend, cache=cache_dir)
        cached.compare_batch(pairs)
        warm_s, _ = timed(lambda: cached.compare_batch(pairs))

    batch, sweep = backend.batch_size, []
    for size in args.batch_sizes:
        backend.batch_size = backend.shared_batch_size = size  # rows per forward pass
        t, _ = timed(lambda: Judge(backend, cache=False).compare_batch(pairs))
        sweep.append((size, t))

    n = len(pairs)
    body = "\n".join(
        [
            "## Engine core: overhead, warm cache, batching (embedded SmolLM2-135M, CPU)",
            "",
            f'{n} LLMBar Natural pairs, logprob method, `swap="both"` (2 forward passes per '
            f"pair), batch size {batch}, prefix reuse off (the bare loop has "
            f"none), median of {args.rounds} alternating rounds.",
            "",
            "| run | seconds | judgments/s | ratio to bare loop |",
            "|---|---:|---:|---:|",
            f"| bare transformers loop (same prompts, same batches) | {bare_s:.1f} | "
            f"{n / bare_s:.3f} | 1.000 |",
            f"| `Judge.compare_batch` (cache off) | {judge_s:.1f} | {n / judge_s:.3f} | "
            f"{judge_s / bare_s:.3f} |",
            f"| `Judge.compare_batch`, warm cache | {warm_s:.2f} | {n / warm_s:.1f} | "
            f"{warm_s / bare_s:.4f} |",
            "",
            f"Framework overhead: {100 * (judge_s / bare_s - 1):+.1f}% (target ≤ 5%). "
            f"Warm cache: {1000 * warm_s / n:.1f} ms per judgment. Largest difference between "
            f"the bare loop's and the Judge's P(first label): {agreement:.1e}.",
            "",
            "| batch size | seconds | judgments/s |",
            "|---:|---:|---:|",
            *[f"| {size} | {t:.1f} | {n / t:.3f} |" for size, t in sweep],
            "",
            "Rounds, bare loop seconds: "
            + ", ".join(f"{t:.1f}" for t in bare_times)
            + "; Judge seconds: "
            + ", ".join(f"{t:.1f}" for t in judge_times)
            + ".",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("engine", body)


if __name__ == "__main__":
    main()
