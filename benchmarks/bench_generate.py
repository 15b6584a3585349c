"""Generation batching on the transformers backend (CPU): seconds, and verdicts kept.

One run, an embedded judge on the transformers backend, cache off: the first
``--pairs`` LLMBar Natural pairs judged with ``method="generate"`` (swap both: two
greedy, schema-constrained generations per pair) and with reason-then-read (a
rationale, then the label probabilities read), at each ``generate_batch_size`` in
``--sizes``, in ``--rounds`` interleaved rounds (the fastest kept: the machine is
shared; the spread is the slowest round over the fastest). Batched greedy decoding pads
prompts on the left, which moves the floating-point sums a little, so each row also
reports how many verdicts pick the same winner as batch size 1, and how many failed.

    flock /tmp/cpu.lock python benchmarks/bench_generate.py --pairs 12 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import load_pairs, timed
from benchmarks.report import write_section
from judge import Judge, PairwiseVerdict
from judge.backends.embedded import model_info
from judge.backends.transformers import TransformersBackend
from judge.inputs import PairInput
from judge.protocols import ReasonThenRead

Run = Callable[[Sequence[PairInput]], list[Any]]


def winners(verdicts: list[Any]) -> list[str | None]:
    """Each verdict's winner; None for a typed failure."""
    return [v.winner if isinstance(v, PairwiseVerdict) else None for v in verdicts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", default=None, help="embedded key (default SmolLM2)")
    parser.add_argument("--max-new-tokens", type=int, default=400)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    pairs = load_pairs(args.pairs)
    backend = TransformersBackend.embedded(args.model)
    judge = Judge(backend, cache=False, method="generate", max_new_tokens=args.max_new_tokens)
    runs: dict[str, Run] = {
        "generate": judge.compare_batch,
        "reason-then-read": ReasonThenRead(judge).compare_batch,
    }
    load = os.getloadavg()
    judge.compare_batch(pairs[:1])  # warm-up: Outlines builds its index once
    start = time.perf_counter()
    seconds: dict[tuple[str, int], list[float]] = {}
    picked: dict[tuple[str, int], list[str | None]] = {}
    for _ in range(args.rounds):
        for name, run in runs.items():
            for size in args.sizes:
                backend.generate_batch_size = size
                took, verdicts = timed(partial(run, pairs))
                seconds.setdefault((name, size), []).append(took)
                picked[(name, size)] = winners(verdicts)
    took_all = time.perf_counter() - start
    lines = [
        "| protocol | generate batch size | s (fastest) | pairs/s | s vs batch 1 "
        "| rounds' spread | same winner as batch 1 | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in runs:
        base = min(seconds[(name, args.sizes[0])])
        for size in args.sizes:
            times, won = seconds[(name, size)], picked[(name, size)]
            same = sum(a == b for a, b in zip(won, picked[(name, args.sizes[0])], strict=True))
            lines.append(
                f"| {name} | {size} | {min(times):.1f} | {len(pairs) / min(times):.3f} "
                f"| {min(times) / base:.2f} | {max(times) / min(times) - 1:.0%} "
                f"| {same} / {len(pairs)} | {won.count(None)} |"
            )
    info = model_info(args.model)
    body = (
        f"## Generation batching on transformers ({info.model_id}, CPU)\n\n"
        f"The first {args.pairs} LLMBar Natural pairs, swap both, cache off, "
        f"`max_new_tokens={args.max_new_tokens}`; each protocol at each "
        f"`generate_batch_size`, {args.rounds} interleaved rounds.\n\n"
        + "\n".join(lines)
        + f"\n\nLoad average before the run: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"(1 / 5 / 15 min); after: {os.getloadavg()[0]:.2f}; run took {took_all:.0f} s."
    )
    print(body)
    if not args.no_write:
        write_section(f"generate-batching-{info.key}" if args.model else "generate-batching", body)


if __name__ == "__main__":
    main()
