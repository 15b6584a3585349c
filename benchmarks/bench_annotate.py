"""Annotation job throughput, peak memory and resume overhead (embedded SmolLM2-135M, CPU).

Records are LLMBar Natural prompts, each with its two responses as candidates (one pair
per record; the better one's position alternates). ``--cold N`` distinct records are
judged by the model; the 100- and 1,000-pair inputs repeat those records, so on the
cache the cold run filled every pair is a cache hit: those runs measure the job's own
machinery (reading, planning, writing with fsync, reporting) and how its memory grows
with the input, not the model.

Each run is its own child process (`annotate` through the Python API), so peak memory
is per run: the child's peak RSS (``ru_maxrss``), and the peak summed RSS of its whole
process tree (for Ray: the driver, Ray's daemons and the actors, each with its own
model), sampled every 0.2 s. Wall time covers the whole job: model load, and for Ray
the cluster start and the actors' model loads. Runs, in this order:

1. local, N pairs, cold cache (the real model judges every pair);
2. Ray (2 actors, 1 CPU each), N pairs, another cold cache;
2b. local, N pairs, a third cold cache, torch limited to 1 thread (as in each actor);
3. local, 100 pairs, warm cache (run 1's);
4. local, 1,000 pairs, warm cache;
5. Ray, 1,000 pairs, warm cache;
6. resume: run 4 again into a new output, SIGKILLed after 500 rows, then rerun;
   overhead = (killed run + rerun) − run 4.

    python benchmarks/bench_annotate.py --cold 100 --swap none
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import DATA
from benchmarks.report import write_section


def _records(n: int, shortest: bool) -> list[dict[str, Any]]:
    """``n`` LLMBar Natural records (the shortest ones if asked), one pair each."""
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    natural = [r for r in rows if r["subset"] == "llmbar-natural"]
    if shortest:
        natural.sort(key=lambda r: len(r["prompt"]) + len(r["chosen"]) + len(r["rejected"]))
    return [
        {
            "prompt": r["prompt"],
            "best": i % 2,
            "candidates": [r["chosen"], r["rejected"]][:: 1 if i % 2 == 0 else -1],
        }
        for i, r in enumerate(natural[:n])
    ]


def _tree_rss(stop: threading.Event, peak: list[int]) -> None:
    import psutil

    me = psutil.Process()
    while not stop.is_set():
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):  # a process may end while sampled
                total += proc.memory_info().rss
        peak[0] = max(peak[0], total)
        time.sleep(0.2)


def child(config: dict[str, Any]) -> None:
    """One annotation run; prints its measurements as JSON."""
    from judge import Judge
    from judge.annotate import Fields, RayOptions, annotate

    if config.get("threads"):
        import torch

        torch.set_num_threads(config["threads"])
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_tree_rss, args=(stop, peak), daemon=True)
    sampler.start()
    started = time.perf_counter()
    report = annotate(
        config["source"],
        config["output"],
        fields=Fields(gold="best"),
        judge=Judge(swap=config["swap"]),
        chunk_size=64,
        ray=RayOptions(actors=config["actors"]) if config["ray"] else None,
    )
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    print(
        json.dumps(
            {
                "wall_s": wall,
                "judged": report.judged,
                "rows": report.rows,
                "resumed": report.resumed,
                "failures": report.failures,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "tree_peak_mib": peak[0] / 2**20,
            }
        )
    )


def _env(cache: Path) -> dict[str, str]:
    """A judgment cache of its own that reuses the already converted model."""
    from judge.backends.embedded import ensure_converted

    model = ensure_converted()
    (cache / "models").mkdir(parents=True, exist_ok=True)
    link = cache / "models" / model.name
    if not link.exists():
        link.symlink_to(model)
    return dict(os.environ, JUDGE_CACHE_DIR=str(cache))


def _command(config: dict[str, Any]) -> list[str]:
    return [sys.executable, __file__, "--child", json.dumps(config)]


def run(config: dict[str, Any], cache: Path) -> dict[str, Any]:
    done = subprocess.run(
        _command(config), env=_env(cache), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"run failed: {config}\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def killed_then_resumed(config: dict[str, Any], cache: Path, at: int) -> dict[str, Any]:
    """Start the run, SIGKILL it once ``at`` rows are on disk, rerun it to the end."""
    output = Path(config["output"])
    started = time.perf_counter()
    job = subprocess.Popen(
        _command(config), env=_env(cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while not (output.exists() and output.read_bytes().count(b"\n") >= at):
        if job.poll() is not None:
            raise SystemExit("the run ended before it could be killed")
        time.sleep(0.01)
    job.send_signal(signal.SIGKILL)
    job.wait()
    killed_s = time.perf_counter() - started
    rows_at_kill = output.read_bytes().count(b"\n")
    if rows_at_kill >= config["pairs"]:
        raise SystemExit("every row was written before the kill landed; nothing to resume")
    rerun = run(config, cache)
    return {"killed_s": killed_s, "rows_at_kill": rows_at_kill, **rerun}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--swap", default="none", choices=["none", "both"])
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument(
        "--cold",
        type=int,
        default=100,
        help="distinct pairs judged by the model (warm inputs repeat them)",
    )
    parser.add_argument(
        "--shortest",
        action="store_true",
        help="take the shortest LLMBar Natural pairs (cheaper on a busy CPU)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        records = _records(args.cold, args.shortest)
        inputs = {"cold": records, "100": (records * 100)[:100], "1000": (records * 1000)[:1000]}
        paths = {}
        for name, rows in inputs.items():
            paths[name] = root / f"pairs-{name}.jsonl"
            paths[name].write_text("".join(json.dumps(r) + "\n" for r in rows))

        def config(name: str, ray: bool, output: str, threads: int = 0) -> dict[str, Any]:
            return {
                "source": str(paths[name]),
                "output": str(root / f"{output}.jsonl"),
                "swap": args.swap,
                "ray": ray,
                "actors": args.actors,
                "pairs": len(inputs[name]),
                "threads": threads,
            }

        n = len(records)
        runs = {
            f"local, {n} pairs, cold cache": run(config("cold", False, "lc"), root / "c1"),
            f"Ray, {n} pairs, cold cache": run(config("cold", True, "rc"), root / "c2"),
            f"local, {n} pairs, cold cache, 1 torch thread": run(
                config("cold", False, "l1t", threads=1), root / "c3"
            ),
            "local, 100 pairs, warm cache": run(config("100", False, "l100"), root / "c1"),
            "local, 1,000 pairs, warm cache": run(config("1000", False, "l1000"), root / "c1"),
            "Ray, 1,000 pairs, warm cache": run(config("1000", True, "r1000"), root / "c1"),
        }
        resume = killed_then_resumed(config("1000", False, "k1000"), root / "c1", at=500)
    full = runs["local, 1,000 pairs, warm cache"]["wall_s"]
    overhead = resume["killed_s"] + resume["wall_s"] - full
    passes = "2 forward passes (swap both)" if args.swap == "both" else "1 forward pass (swap none)"
    chosen = "the shortest" if args.shortest else "the first"
    lines = [
        "## Annotation jobs: throughput, peak memory, resume (embedded SmolLM2-135M, CPU)",
        "",
        f"Records: {chosen} {n} LLMBar Natural prompts, each with its two responses as "
        f"candidates (one pair per record), logprob method, {passes} per pair, chunks of "
        "64 pairs. The cold runs judge every pair with the model. The 100- and 1,000-pair "
        f"inputs repeat the same {n} records and run on the cache the cold local run "
        "filled, so every pair is a cache hit: they measure the job's own machinery "
        "(read, plan, write with fsync, report) and its memory as the input grows, not "
        f"the model. Ray: a local cluster started by the job, {args.actors} actors × 1 "
        "CPU, one model per actor. Wall time covers the whole job, model load included "
        "(for Ray also the cluster start and the actors' model loads). Each run is its "
        "own process; the tree column adds Ray's daemons and actors. Local runs use "
        "torch's default thread count (here 2) unless the row says 1 thread; each Ray "
        "actor runs 1 torch thread (its CPU share).",
        "",
        "| run | pairs judged | wall s | pairs/s | peak RSS of the job process (MiB) "
        "| peak RSS of the process tree (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {name} | {r['judged']} | {r['wall_s']:.1f} | {r['judged'] / r['wall_s']:.2f} | "
            f"{r['peak_rss_mib']:.0f} | {r['tree_peak_mib']:.0f} |"
            for name, r in runs.items()
        ],
        "",
        f"Resume after SIGKILL (1,000 warm pairs): killed at {resume['rows_at_kill']} rows "
        f"after {resume['killed_s']:.1f} s; the rerun skipped {resume['resumed']} done pairs, "
        f"judged {resume['judged']} and took {resume['wall_s']:.1f} s; "
        f"{resume['rows']} rows in the end. Killed run + rerun = "
        f"{resume['killed_s'] + resume['wall_s']:.1f} s against {full:.1f} s uninterrupted: "
        f"overhead {overhead:+.1f} s (a second process start and model load, and reading "
        "the done keys back).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("annotate", body)


if __name__ == "__main__":
    main()
