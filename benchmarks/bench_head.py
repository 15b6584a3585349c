"""Prefix reuse on transformers, level by level, on the default pairwise judging path.

One run, one embedded model, cache off, the first ``--pairs`` LLMBar Natural pairs (or
Adversarial ones), ``Judge.compare_batch`` with ``swap="both"`` (two orders a pair), the
same backend under three settings that alternate for ``--rounds`` rounds (the fastest
kept: the machine is shared):

  * whole prompts: no reuse, every order run from its first token (a bare loop's cost);
  * each pair's prefix: the part both orders of a pair share (system, rubric, user
    prompt) runs once when it is at least half of a prompt (``head_reuse=False``);
  * and the head: the part every prompt of the batch shares (chat template, system
    prompt, the template's instructions) runs once as well, and every pair's prefix and
    every other prompt starts from it (the default).

Columns: seconds, pairs/s, forward passes, tokens run through the model, seconds and
tokens as a fraction of whole prompts, and the largest difference in P(A ≻ B) from whole
prompts (reuse changes no verdict beyond float rounding).

    flock /tmp/cpu.lock python benchmarks/bench_head.py --pairs 30 --rounds 3
    flock /tmp/cpu.lock python benchmarks/bench_head.py --model qwen2.5-coder-1.5b \
        --pairs 16 --rounds 1
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import load_pairs, rounds_arguments, timed
from benchmarks.report import publish_rounds
from judge import Judge, PairwiseVerdict
from judge.backends import embedded
from judge.backends.transformers import TransformersBackend

SETTINGS = {  # name: (prefix_reuse, head_reuse)
    "whole prompts (no reuse)": (False, False),
    "each pair's prefix": (True, False),
    "each pair's prefix and the head (default)": (True, True),
}


def main() -> None:
    args = rounds_arguments(__doc__, rounds=3)

    info = embedded.model_info(args.model)
    backend = TransformersBackend.embedded(args.model)
    pairs = load_pairs(args.pairs, args.subset)
    Judge(backend, cache=False).compare_batch(pairs[:2])  # warm-up: first-call allocations
    load = os.getloadavg()
    seconds: dict[str, list[float]] = {name: [] for name in SETTINGS}
    spent: dict[str, tuple[int, int]] = {}
    probs: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, (reuse, head) in SETTINGS.items():
            backend.prefix_reuse, backend.head_reuse = reuse, head
            before = (backend.forward_passes, backend.computed_tokens)
            t, verdicts = timed(lambda: Judge(backend, cache=False).compare_batch(pairs))
            seconds[name].append(t)
            spent[name] = (
                backend.forward_passes - before[0],
                backend.computed_tokens - before[1],
            )
            probs[name] = [v.prob_a for v in verdicts if isinstance(v, PairwiseVerdict)]
    if any(len(p) != len(pairs) for p in probs.values()):
        raise SystemExit("some pairs got no verdict: see the failures above")

    whole = next(iter(SETTINGS))
    base_s, base_tokens = min(seconds[whole]), spent[whole][1]
    lines = [
        f"## Prefix reuse levels on transformers ({info.model_id}, CPU)",
        "",
        f"The first {len(pairs)} LLMBar {args.subset.capitalize()} pairs, "
        '`Judge.compare_batch`, logprob, `swap="both"`, cache off, one backend; the fastest '
        f"of {args.rounds} interleaved round(s). Load average before the run: "
        + " / ".join(f"{x:.2f}" for x in load)
        + " (1 / 5 / 15 min).",
        "",
        "| prefix reuse | seconds | pairs/s | forward passes | tokens computed "
        "| seconds vs whole | tokens vs whole | max abs. diff. of P(A ≻ B) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in SETTINGS:
        best = min(seconds[name])
        passes, tokens = spent[name]
        diff = max(abs(a - b) for a, b in zip(probs[name], probs[whole], strict=True))
        lines.append(
            f"| {name} | {best:.1f} | {len(pairs) / best:.3f} | {passes} | {tokens} | "
            f"{best / base_s:.2f} | {tokens / base_tokens:.2f} | {diff:.1e} |"
        )
    key = args.model or "smollm2"
    publish_rounds(f"prefix-head-{key}-{args.subset}", lines, seconds, write=not args.no_write)


if __name__ == "__main__":
    main()
