"""Groupwise judging at a fraction of all-pairs cost, and prefix reuse on transformers.

One run, embedded SmolLM2-135M on the transformers backend, cache off:

1. Schedules. For G = 4, 8, 16: ``--groups`` LLMBar Natural prompts, each with G
   completions (its own chosen and rejected answers, then the answers of the next
   prompts: off-topic candidates a judge should rank low). Every pair of a group is
   judged once, both orders; each schedule's comparisons are then *taken from those
   same judge outputs* (``swap="both"``: the mean of both orders; ``swap="none"``: the
   order that shows the schedule's first member as A; the adaptive ``swiss:R`` picks
   each round from the outputs of its earlier rounds), so Kendall τ and top-1
   agreement against all pairs measure the schedule, not judge noise. Each sparse
   schedule is also run for real (`JudgeReward(schedule=...)`, swap both) for its
   seconds and forward passes per group. The same on a second judge with more signal
   (``--second-judge``, default the packaged Qwen2.5-Coder-0.5B-Instruct) for
   ``--second-sizes`` with ``--second-groups`` prompts each.
2. Swap and batching. ``--pairs`` LLMBar Natural pairs whose shared part (system,
   rubric, prompt: the common prefix of both orders) is at least half their tokens;
   ``swap="none"`` and ``"both"`` at batch sizes 1, 4, 16 and the CPU default (1 for
   unshared rows, 16 for suffixes after a shared prefix), with and without prefix
   reuse, in ``--rounds`` interleaved rounds (the fastest kept: the machine is shared).
3. The same batch settings on one G = 8 group (all pairs, both orders, reuse on).

``--only-batching`` runs parts 2 and 3 alone, into their own section.

    flock /tmp/cpu.lock python benchmarks/bench_groups.py --groups 4 --pairs 8 --rounds 3
    flock /tmp/cpu.lock python benchmarks/bench_groups.py --only-batching --pairs 8 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import DATA, timed
from benchmarks.report import write_section
from judge import Judge, PairwiseVerdict
from judge.backends.base import Backend
from judge.backends.prefix import common_prefix
from judge.backends.transformers import TransformersBackend
from judge.inputs import PairInput
from judge.reward import JudgeReward
from judge.reward.bradley_terry import consistency, fit_bradley_terry
from judge.reward.schedules import Schedule

SCHEDULES = ("all", "ring", "regular:4", "swiss:2", "swiss:4")
Outputs = dict[tuple[int, int], tuple[float, float]]  # (i<j) -> P(i ≻ j): i first, j first


def natural() -> list[dict[str, str]]:
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    return [r for r in rows if r["subset"] == "llmbar-natural"]


def groups(size: int, count: int, rows: list[dict[str, str]]) -> list[tuple[str, list[str]]]:
    """``count`` prompts, each with its own two answers and answers of the next prompts."""
    rows = sorted(rows, key=lambda r: len(r["chosen"]) + len(r["rejected"]))
    out = []
    for g in range(count):
        answers = [a for r in rows[g::count] for a in (r["chosen"], r["rejected"])][:size]
        out.append((rows[g]["prompt"], answers))
    return out


def judge_all(judge: Judge, prompt: str, answers: list[str]) -> tuple[Outputs, float]:
    """Every pair (i < j) of the group, both orders: P(i ≻ j) with i shown first, j first."""
    pairs = [(i, j) for i in range(len(answers)) for j in range(i + 1, len(answers))]
    seconds, verdicts = timed(
        lambda: judge.compare_batch([PairInput(prompt, answers[i], answers[j]) for i, j in pairs])
    )
    out: Outputs = {}
    for (i, j), v in zip(pairs, verdicts, strict=True):
        assert isinstance(v, PairwiseVerdict), v
        shown = {o.shown: o.prob_a for o in v.orders}
        out[(i, j)] = (shown["AB"], shown["BA"])
    return out, seconds


def comparisons(
    outputs: Outputs, pairs: list[tuple[int, int]], swap: str
) -> list[tuple[int, int, float]]:
    """A schedule's comparisons ``(a, b, P(a ≻ b))`` read off the all-pairs outputs.

    ``swap="none"`` keeps only the order that shows ``a`` (the schedule's first) as A.
    """
    out = []
    for a, b in pairs:
        i_first, j_first = outputs[(min(a, b), max(a, b))]
        if swap == "both":
            p = (i_first + j_first) / 2 if a < b else 1.0 - (i_first + j_first) / 2
        else:
            p = i_first if a < b else 1.0 - j_first
        out.append((a, b, p))
    return out


def schedule_comparisons(
    outputs: Outputs, text: str, n: int, key: str, swap: str
) -> list[tuple[int, int, float]]:
    """A schedule's comparisons read off the all-pairs outputs, round by round for swiss."""
    schedule = Schedule.parse(text)
    comps = comparisons(outputs, schedule.pairs(n, key), swap)
    done = 1
    while nxt := schedule.next_pairs(n, key, comps, done):
        comps += comparisons(outputs, nxt, swap)
        done += 1
    return comps


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's τ-b of two score vectors (ties count in neither direction)."""
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
            ties_x += dx == 0 and dy != 0
            ties_y += dy == 0 and dx != 0
            concordant += dx * dy > 0
            discordant += dx * dy < 0
    pairs_x = concordant + discordant + ties_x
    pairs_y = concordant + discordant + ties_y
    return (
        float((concordant - discordant) / np.sqrt(pairs_x * pairs_y))
        if pairs_x and pairs_y
        else float("nan")
    )


def agreement(
    n: int, reference: np.ndarray, comps: list[tuple[int, int, float]]
) -> tuple[float, bool]:
    s = fit_bradley_terry(n, comps)
    tau = kendall_tau(reference, s)
    return tau, int(np.argmax(s)) == int(np.argmax(reference))


def passes(backend: Backend) -> float:
    """Forward passes so far (transformers counts them; other engines: NaN, shown "—")."""
    return float(getattr(backend, "forward_passes", float("nan")))


def cold(backend: Backend) -> None:
    """Empty an in-process vLLM engine's prefix cache, so no timed run reuses another's."""
    llm = getattr(backend, "llm", None)
    if llm is not None:
        llm.reset_prefix_cache()


def schedule_rows(
    backend: Backend, sizes: list[int], count: int, real: bool = True
) -> list[dict[str, Any]]:
    """τ and top-1 of each schedule against all pairs; with ``real``, each run for real."""
    rows = natural()
    results: list[dict[str, Any]] = []
    for size in sizes:
        stats: dict[tuple[str, str], list[Any]] = {}
        timing: dict[str, list[tuple[float, float]]] = {}
        for prompt, answers in groups(size, count, rows):
            judge = Judge(backend, cache=False, swap="both")
            cold(backend)
            before = passes(backend)
            outputs, seconds = judge_all(judge, prompt, answers)
            timing.setdefault("all", []).append((seconds, passes(backend) - before))
            every = [(i, j) for i in range(size) for j in range(i + 1, size)]
            reference = fit_bradley_terry(size, comparisons(outputs, every, "both"))
            cons = consistency(size, comparisons(outputs, every, "both"), reference)
            stats.setdefault(("all", "cycles"), []).append(cons.cycle_share)
            stats.setdefault(("all", "signal"), []).append(signal(outputs))
            for text in SCHEDULES:
                for swap in ("both", "none"):
                    comps = schedule_comparisons(outputs, text, size, prompt, swap)
                    tau, top = agreement(size, reference, comps)
                    stats.setdefault((text, swap), []).append((tau, top, len(comps)))
                if real and text != "all" and Schedule.parse(text).cost(size) < len(every):
                    timing.setdefault(text, []).append(run_schedule(backend, text, prompt, answers))
        results.append({"G": size, "stats": stats, "timing": timing})
    return results


def run_schedule(
    backend: Backend, text: str, prompt: str, answers: list[str]
) -> tuple[float, float]:
    reward = JudgeReward(Judge(backend, cache=False), mode="groupwise", schedule=text)
    cold(backend)
    before = passes(backend)
    seconds, _ = timed(lambda: reward([prompt] * len(answers), answers))
    return seconds, passes(backend) - before


def shared_pairs(
    backend: TransformersBackend, judge: Judge, n: int
) -> tuple[list[PairInput], float]:
    """The first ``n`` Natural pairs whose two orders share at least half their tokens."""
    setup = judge.setup("pairwise")
    chosen, shares = [], []
    for r in natural():
        pair = PairInput(r["prompt"], r["chosen"], r["rejected"])
        ab, ba = (backend._encode(setup.render(pair.judged(o))) for o in ("AB", "BA"))
        share = common_prefix(ab, ba) / max(len(ab), len(ba))
        if share >= 0.5:
            chosen.append(pair)
            shares.append(share)
        if len(chosen) == n:
            break
    return chosen, float(np.mean(shares))


Setting = tuple[int, int]  # (batch size of unshared rows, of suffixes after a shared prefix)
Runs = dict[Any, list[tuple[float, int, int]]]  # setting -> every round's (s, passes, tokens)


def settings(sizes: list[int]) -> list[Setting]:
    """Each batch size for both kinds of rows, then the CPU default (1 alone, 16 shared)."""
    return [(b, b) for b in sizes] + [(1, 16)]


def use(backend: TransformersBackend, setting: Setting, reuse: bool) -> None:
    backend.batch_size, backend.shared_batch_size = setting
    backend.prefix_reuse = reuse


def measured(backend: TransformersBackend, run: Any) -> tuple[float, int, int]:
    """Seconds, forward passes and tokens computed by ``run()``."""
    passes, tokens = backend.forward_passes, backend.computed_tokens
    seconds, _ = timed(run)
    return seconds, backend.forward_passes - passes, backend.computed_tokens - tokens


def batching_rows(backend: TransformersBackend, args: argparse.Namespace) -> tuple[Runs, float]:
    """Each (swap, batch setting, reuse) in ``--rounds`` interleaved rounds."""
    pairs, share = shared_pairs(backend, Judge(backend, cache=False), args.pairs)
    out: Runs = {}
    for _ in range(args.rounds):
        for setting in settings(args.batch_sizes):
            for reuse in (False, True) if setting[0] == setting[1] else (True,):
                for swap in ("none", "both"):
                    use(backend, setting, reuse)
                    judge = Judge(backend, cache=False, swap=swap)
                    run = measured(backend, partial(judge.compare_batch, pairs))
                    out.setdefault((swap, setting, reuse), []).append(run)
    return out, share


def group_batching_rows(backend: TransformersBackend, args: argparse.Namespace) -> Runs:
    """One G = 8 group, all pairs, swap both, prefix reused, at each batch setting."""
    ((prompt, answers),) = groups(8, 1, natural())
    judge = Judge(backend, cache=False, swap="both")
    out: Runs = {}
    for _ in range(args.rounds):
        for setting in settings(args.batch_sizes):
            use(backend, setting, True)
            run = measured(backend, partial(judge_all, judge, prompt, answers))
            out.setdefault(setting, []).append(run)
    return out


def fastest(runs: list[tuple[float, int, int]]) -> tuple[float, int, int]:
    return min(runs)


def spread(runs: list[tuple[float, int, int]]) -> float:
    """How far the slowest round is above the fastest, as a fraction."""
    seconds = [r[0] for r in runs]
    return max(seconds) / min(seconds) - 1.0


def label(setting: Setting) -> str:
    alone, shared = setting
    return f"{alone}" if alone == shared else f"{alone} / {shared} (CPU default)"


def warm_up(backend: TransformersBackend, sizes: list[int]) -> None:
    """One real pair at every batch setting, before any timing (first calls are slow)."""
    row = natural()[0]
    judge = Judge(backend, cache=False)
    for setting in settings(sizes):
        use(backend, setting, True)
        judge.compare(row["prompt"], row["chosen"], row["rejected"])


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _fmt(value: float, digits: int) -> str:
    return "—" if np.isnan(value) else f"{value:.{digits}f}"


def schedule_table(results: list[dict[str, Any]]) -> str:
    """One row per (G, schedule); pairs and orders are means over the groups (swiss varies)."""
    lines = [
        "| G | schedule | pairs | judged orders (both / none) | τ both | top-1 both "
        "| τ none | top-1 none | s/group (both, run) | forward passes/group | "
        "s vs all pairs |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for res in results:
        g, stats, timing = res["G"], res["stats"], res["timing"]
        all_s = mean([t[0] for t in timing["all"]])
        for text in SCHEDULES:
            both, none = stats[(text, "both")], stats[(text, "none")]
            pairs, pairs_none = mean([b[2] for b in both]), mean([b[2] for b in none])
            run = timing.get(text) or (timing["all"] if pairs == g * (g - 1) // 2 else [])
            secs = mean([t[0] for t in run])
            fwd = mean([t[1] for t in run])
            lines.append(
                f"| {g} | {text} | {pairs:g} | {2 * pairs:g} / {pairs_none:g} "
                f"| {mean([b[0] for b in both]):.3f} | {mean([b[1] for b in both]):.2f} "
                f"| {mean([b[0] for b in none]):.3f} | {mean([b[1] for b in none]):.2f} "
                f"| {_fmt(secs, 1)} | {_fmt(fwd, 0)} | {_fmt(secs / all_s, 2)} |"
            )
    return "\n".join(lines)


def signal(outputs: Outputs) -> tuple[float, float]:
    """Mean |P(i ≻ j) − ½| after the swap, and the share of pairs both orders agree on."""
    means = [abs((a + b) / 2 - 0.5) for a, b in outputs.values()]
    agree = [(a > 0.5) == (b > 0.5) for a, b in outputs.values()]
    return float(np.mean(means)), float(np.mean(agree))


def target_line(results: list[dict[str, Any]], g: int = 8) -> str:
    """The issue's target: the best τ at ≤ 2G judged orders for G = ``g``, met or not."""
    res = next((r for r in results if r["G"] == g), None)
    if res is None:
        return f"(G = {g} not measured.)"
    best = (-2.0, "", "")
    for text in SCHEDULES:
        for swap, per_pair in (("both", 2), ("none", 1)):
            runs = res["stats"][(text, swap)]
            orders = per_pair * mean([r[2] for r in runs])
            tau = mean([r[0] for r in runs])
            if orders <= 2 * g and tau > best[0]:
                best = (tau, text, f"swap {swap}, {orders:g} orders")
    verdict = "met" if best[0] >= 0.9 else f"missed by {0.9 - best[0]:.3f}"
    cycles = [c for c in res["stats"][("all", "cycles")] if c is not None]
    margin, agree = (mean(list(x)) for x in zip(*res["stats"][("all", "signal")], strict=True))
    return (
        f"Target τ ≥ 0.9 at ≤ {2 * g} judged orders (G = {g}): best {best[1]} "
        f"({best[2]}) τ {best[0]:.3f}, {verdict}. The judge's all-pairs outputs at G = {g}: "
        f"mean |P(i ≻ j) − ½| after the swap {margin:.3f}, both orders pick the same "
        f"winner in {agree:.0%} of pairs, 3-cycles in {mean(cycles):.0%} of judged triads."
    )


def batching_table(out: Runs, sizes: list[int]) -> str:
    base = fastest(out[("none", (1, 1), False)])[0]
    base_both = fastest(out[("both", (1, 1), False)])[0]
    lines = [
        "| batch size (alone / shared) | prefix reuse | s none | s both | both / none "
        "| forward passes (none / both) | tokens computed (none / both) "
        "| s vs batch 1 plain (none / both) | rounds' spread (none / both) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for setting in settings(sizes):
        for reuse in (False, True):
            if ("none", setting, reuse) not in out:
                continue
            runs_n, runs_b = out[("none", setting, reuse)], out[("both", setting, reuse)]
            n, b = fastest(runs_n), fastest(runs_b)
            lines.append(
                f"| {label(setting)} | {'yes' if reuse else 'no'} | {n[0]:.1f} | {b[0]:.1f} "
                f"| {b[0] / n[0]:.2f} | {n[1]} / {b[1]} | {n[2]} / {b[2]} "
                f"| {n[0] / base:.2f} / {b[0] / base_both:.2f} "
                f"| {spread(runs_n):.0%} / {spread(runs_b):.0%} |"
            )
    return "\n".join(lines)


def group_batching_table(out: Runs) -> str:
    base = fastest(out[(1, 1)])[0]
    lines = [
        "| batch size (alone / shared) | s/group | forward passes | tokens computed "
        "| s vs batch 1 | rounds' spread |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for setting, runs in out.items():
        s, fwd, tokens = fastest(runs)
        lines.append(
            f"| {label(setting)} | {s:.1f} | {fwd} | {tokens} | {s / base:.2f} "
            f"| {spread(runs):.0%} |"
        )
    return "\n".join(lines)


def batching_text(
    args: argparse.Namespace, batching: Runs, share: float, group_batching: Runs
) -> str:
    """Parts 2 and 3 as text."""
    return (
        f"Part 2: {args.pairs} LLMBar Natural pairs whose two orders share ≥ half their "
        f"tokens (mean shared part {share:.2f} of a prompt); seconds: the fastest of "
        f"{args.rounds} interleaved rounds; spread: the slowest round over the fastest "
        "(the machine's noise on that row). A batch size applies to unshared rows and to "
        "suffixes after a shared prefix alike, except in the CPU default's row.\n\n"
        f"{batching_table(batching, args.batch_sizes)}\n\n"
        "Part 3: one G = 8 group (28 pairs, 56 orders, swap both, prefix reused), "
        f"fastest of {args.rounds} interleaved rounds.\n\n"
        f"{group_batching_table(group_batching)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--groups", type=int, default=2, help="prompts per group size")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--rounds", type=int, default=3, help="part 2/3 rounds (fastest kept)")
    parser.add_argument("--second-judge", default="qwen2.5-coder-0.5b", help="embedded key")
    parser.add_argument("--second-sizes", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--second-groups", type=int, default=4)
    parser.add_argument(
        "--only-batching",
        action="store_true",
        help="parts 2 and 3 alone, into their own section (groups-batching)",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    backend = TransformersBackend.embedded()
    default = (backend.batch_size, backend.shared_batch_size)
    load = os.getloadavg()
    warm_up(backend, args.batch_sizes)
    start = time.perf_counter()
    if args.only_batching:
        batching, share = batching_rows(backend, args)
        group_batching = group_batching_rows(backend, args)
        body = (
            "## Batch sizes and prefix reuse on transformers (issue 15; embedded "
            "SmolLM2-135M, CPU)\n\n"
            'Parts 2 and 3 of the section "Groupwise schedules and prefix reuse", run '
            "alone.\n\n"
            f"{batching_text(args, batching, share, group_batching)}\n\n"
            f"{footer(load, start)}"
        )
        print(body)
        if not args.no_write:
            write_section("groups-batching", body)
        return
    use(backend, default, True)
    results = schedule_rows(backend, args.sizes, args.groups)
    batching, share = batching_rows(backend, args)
    group_batching = group_batching_rows(backend, args)
    del backend
    second = TransformersBackend.embedded(args.second_judge)
    warm_up(second, [])
    second_results = schedule_rows(second, args.second_sizes, args.second_groups)
    body = (
        "## Groupwise schedules and prefix reuse (issue 15; embedded SmolLM2-135M, CPU)\n\n"
        f"Part 1: {args.groups} LLMBar Natural prompts per G, each with G completions (its "
        "own chosen and rejected answers, then the next prompts' answers). All pairs judged "
        "once (both orders, prefix reuse on, the CPU default batch sizes: "
        f"{default[0]} for unshared rows, {default[1]} for suffixes after a shared prefix); "
        "each schedule's comparisons are taken from those outputs, so τ "
        "and top-1 compare strengths on the same judge outputs. Seconds and forward "
        "passes: each sparse schedule run for real through `JudgeReward(schedule=)` "
        "(swap both); `all` is the all-pairs run. Seed 0. `swiss:R` judges R rounds (round "
        "1 a seeded random matching, then neighbours in the current Bradley–Terry order "
        "that have not met), so its pairs can vary by group (means shown).\n\n"
        f"{schedule_table(results)}\n\n"
        f"{target_line(results)}\n\n"
        f"The same on a second judge, {second.name} (float32), {args.second_groups} "
        "prompts per G, every sparse schedule run for real too.\n\n"
        f"{schedule_table(second_results)}\n\n"
        f"{target_line(second_results)}\n\n"
        f"{batching_text(args, batching, share, group_batching)}\n\n"
        f"{footer(load, start)}"
    )
    print(body)
    if not args.no_write:
        write_section("groups", body)


def footer(load: tuple[float, float, float], start: float) -> str:
    return (
        f"Load average before the run: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"(1 / 5 / 15 min); after: {os.getloadavg()[0]:.2f}; "
        f"run took {time.perf_counter() - start:.0f} s."
    )


if __name__ == "__main__":
    main()
