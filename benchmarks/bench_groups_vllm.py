"""Groupwise schedules on in-process vLLM (CPU build): seconds per group against all pairs.

The schedule part of `benchmarks/bench_groups.py` (the same groups, schedules, τ and
top-1 read off the same all-pairs outputs), on the embedded SmolLM2-135M served by an
in-process `vllm.LLM` with prefix caching on. The prefix cache is emptied before every
timed run, so a sparse schedule never reuses the all-pairs run's prompts; within a run
vLLM shares each group's prefix (system, rubric, prompt) across its orders and pairs.
vLLM counts no forward passes here ("—").

    flock /tmp/cpu.lock python benchmarks/bench_groups_vllm.py --sizes 8 --groups 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_groups import natural, schedule_rows, schedule_table, target_line
from benchmarks.report import write_section
from judge import Judge
from judge.backends.vllm import VLLMBackend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8])
    parser.add_argument("--groups", type=int, default=2, help="prompts per group size")
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; ignored by GPU builds
    load = os.getloadavg()
    start = time.perf_counter()
    backend = VLLMBackend.from_model(
        "embedded",
        max_model_len=args.max_model_len,
        gpu_memory_utilization=args.gpu_memory_utilization,
    )
    started = time.perf_counter() - start
    row = natural()[0]
    Judge(backend, cache=False).compare(row["prompt"], row["chosen"], row["rejected"])
    results = schedule_rows(backend, args.sizes, args.groups)
    took = time.perf_counter() - start
    body = (
        "## Groupwise schedules on vLLM in process (issue 15; embedded SmolLM2-135M, CPU)\n\n"
        f"The schedule part of the section above on `vllm.LLM` (vllm-cpu, prefix caching on, "
        f"emptied before every timed run): {args.groups} LLMBar Natural prompts per G; each "
        "sparse schedule run for real through `JudgeReward(schedule=)` (swap both); τ and "
        "top-1 read off this engine's all-pairs outputs. Forward passes: not counted by "
        "vLLM. Seed 0.\n\n"
        f"{schedule_table(results)}\n\n"
        f"{target_line(results)}\n\n"
        f"Engine start {started:.0f} s. Load average before the run: {load[0]:.2f} / "
        f"{load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min); after: {os.getloadavg()[0]:.2f}; "
        f"run took {took:.0f} s."
    )
    print(body)
    if not args.no_write:
        write_section("groups-vllm", body)


if __name__ == "__main__":
    main()
