"""Precision on transformers: float32 against a bfloat16 body, on the default pairwise path.

One run, one embedded model loaded three times, cache off, the first ``--pairs`` LLMBar
Natural pairs (or Adversarial ones), ``Judge.compare_batch`` with ``swap="both"`` and
the default prefix and head reuse, the three settings alternating for ``--rounds``
rounds (the fastest kept: the machine is shared):

  * float32: the embedded judges' default (``dtype="auto"`` on a float32 checkpoint);
  * bfloat16, float32 head: ``dtype="bfloat16"``, the last hidden state projected
    through a float32 copy of the output embedding (the default for a half-precision
    body, `judge.backends.precision`);
  * bfloat16 throughout: ``float32_head=False``, bfloat16 logits.

Columns: seconds, pairs/s, seconds as a fraction of float32, accuracy (tie = ½, with its
bootstrap interval), exact ties, consistency of the two orders, P(first), the largest
difference in P(A ≻ B) from float32, and the pairs whose winner is float32's.

    flock /tmp/cpu.lock python benchmarks/bench_dtype.py --pairs 30 --rounds 2
    flock /tmp/cpu.lock python benchmarks/bench_dtype.py --model qwen2.5-coder-1.5b \
        --pairs 100 --rounds 1
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import load_pairs, rounds_arguments, timed
from benchmarks.report import publish_rounds
from judge import Judge, PairwiseVerdict
from judge.backends import embedded
from judge.backends.transformers import TransformersBackend
from judge.stats import preference_stats

SETTINGS: dict[str, dict[str, Any]] = {
    "float32 (default)": {},
    "bfloat16, float32 head": {"dtype": "bfloat16"},
    "bfloat16 throughout": {"dtype": "bfloat16", "float32_head": False},
}


def main() -> None:
    args = rounds_arguments(__doc__, rounds=2)

    info = embedded.model_info(args.model)
    pairs = load_pairs(args.pairs, args.subset)
    judges = {
        name: Judge(TransformersBackend.embedded(args.model, **options), cache=False)
        for name, options in SETTINGS.items()
    }
    for judge in judges.values():
        judge.compare_batch(pairs[:2])  # warm-up: first-call allocations
    load = os.getloadavg()
    seconds: dict[str, list[float]] = {name: [] for name in SETTINGS}
    verdicts: dict[str, list[PairwiseVerdict]] = {}
    for _ in range(args.rounds):
        for name, judge in judges.items():
            t, results = timed(lambda judge=judge: judge.compare_batch(pairs))
            seconds[name].append(t)
            verdicts[name] = [v for v in results if isinstance(v, PairwiseVerdict)]
    if any(len(v) != len(pairs) for v in verdicts.values()):
        raise SystemExit("some pairs got no verdict: see the failures above")

    base = next(iter(SETTINGS))
    base_s = min(seconds[base])
    lines = [
        f"## Precision on transformers ({info.model_id}, CPU)",
        "",
        f"The first {len(pairs)} LLMBar {args.subset.capitalize()} pairs, "
        '`Judge.compare_batch`, logprob, `swap="both"`, prefix and head reuse on, cache '
        f"off; the fastest of {args.rounds} interleaved round(s). Load average before the "
        "run: " + " / ".join(f"{x:.2f}" for x in load) + " (1 / 5 / 15 min).",
        "",
        "| precision | seconds | pairs/s | seconds vs float32 | accuracy (95% CI) | exact ties "
        "| consistency | P(first) | max abs. diff. of P(A ≻ B) | float32's winner |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in SETTINGS:
        best = min(seconds[name])
        s = preference_stats(verdicts[name], gold=["A"] * len(pairs))
        low, high = s.accuracy_ci or (0.0, 0.0)
        both = list(zip(verdicts[name], verdicts[base], strict=True))
        diff = max(abs(v.prob_a - w.prob_a) for v, w in both)
        same = sum(v.winner == w.winner for v, w in both)
        lines.append(
            f"| {name} | {best:.1f} | {len(pairs) / best:.3f} | {best / base_s:.2f} | "
            f"{s.accuracy or 0.0:.2f} [{low:.2f}, {high:.2f}] | {s.tie_rate or 0.0:.0%} | "
            f"{s.consistency or 0.0:.2f} | {s.p_first or 0.0:.2f} | {diff:.1e} | "
            f"{same} / {len(pairs)} |"
        )
    key = args.model or "smollm2"
    publish_rounds(f"precision-{key}-{args.subset}", lines, seconds, write=not args.no_write)


if __name__ == "__main__":
    main()
