"""The bias report of the embedded judge on LLMBar and the probe sets, every swap mode,
and the concise-rubric variant measured against the default rubric.

Run ``swap="both"`` first (the report does): the cache is keyed per order shown, so
``"random"`` and ``"none"`` reuse what ``"both"`` computed. Results go to
benchmarks/results/bias/ (markdown, JSON, PNG) and the "bias" section of RESULTS.md.

    JUDGE_CACHE_DIR=/work/cache/bench python benchmarks/bench_bias.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import DATA
from benchmarks.report import write_section
from judge import Judge
from judge.bias import PROBES, bias_report, load_pair_set, probe_set, to_markdown, write_figure
from judge.bias.data import PairSet
from judge.bias.run import BiasReport
from judge.jsonable import to_jsonable

OUT = Path(__file__).resolve().parent / "results" / "bias"


def _sets(llmbar: int | None, probes: int | None) -> list[PairSet]:
    sets = [load_pair_set(DATA, name="llmbar").head(llmbar)] if llmbar != 0 else []
    return sets + [probe_set(name).head(probes) for name in PROBES] if probes != 0 else sets


def _f(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_f(v) for v in value) + "]"
    return f"{value:.3f}"


def _summary(report: BiasReport) -> list[str]:
    lines = [
        "| set | swap | judged | P(first shown) | consistency | accuracy [95% CI] | "
        "P(prefers longer) | longer is better |",
        "|" + "---|" * 8,
    ]
    for entry in report.sets:
        for mode, s in entry["modes"].items():
            lines.append(
                f"| {entry['name']} | {mode} | {s['judged']} | {_f(s['p_first'])} | "
                f"{_f(s['consistency'])} | {_f(s['accuracy'])} {_f(s['accuracy_ci'])} "
                f"| {_f(s['p_longer'])} | {_f(s['longer_is_better'])} |"
            )
    return lines


def _probe_lines(report: BiasReport) -> list[str]:
    lines = []
    for entry in report.sets:
        h = entry["headline"]
        if h:
            modes = ", ".join(f"{m} {_f(v)}" for m, v in h["by_mode"].items())
            lines.append(f"- {entry['name']}: {h['measure']} — {modes} (fair: {h['fair']:g})")
    return lines


def _variant_table(default: BiasReport, concise: BiasReport) -> list[str]:
    lines = [
        "| set | measure (swap=both) | default rubric | helpfulness_concise |",
        "|---|---|---|---|",
    ]
    for d, c in zip(default.sets, concise.sets, strict=True):
        rows = [
            ("accuracy", "accuracy"),
            ("P(prefers longer)", "p_longer"),
            ("P(first shown)", "p_first"),
        ]
        for label, field in rows:
            lines.append(
                f"| {d['name']} ({d['n']}) | {label} | {_f(d['modes']['both'][field])} "
                f"| {_f(c['modes']['both'][field])} |"
            )
    return lines


def _stability(seeds: int, limit: int, temperature: float) -> None:
    start = time.perf_counter()
    judge = Judge(method="generate", temperature=temperature, max_new_tokens=160)
    pairs = probe_set("short_correct").head(limit)
    report = bias_report(judge, [pairs], swaps=("none",), stability_seeds=range(seeds))
    (OUT / "stability.json").write_text(
        json.dumps(to_jsonable(report), indent=2, ensure_ascii=False) + "\n"
    )
    s = report.stability
    body = "\n".join(
        [
            "## Bias report: stability of the sampled verdict (issue 6)",
            "",
            f"Embedded judge, generate method, temperature {temperature}, {seeds} seeds, "
            f"swap=none, first {limit} items of probe:short_correct. Pairs with a verdict in "
            f"every run: {s['pairs']}; failures per run {s['failures']}; winners agree for "
            f"{_f(s['pairwise_agreement'])} of seed pairs; unanimous on {_f(s['unanimous'])} of "
            f"pairs. Wall time {time.perf_counter() - start:.0f} s. "
            "JSON: results/bias/stability.json.",
        ]
    )
    write_section("bias-stability", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--llmbar-limit", type=int, default=None, help="first N LLMBar pairs (default all 419)"
    )
    parser.add_argument(
        "--probe-limit",
        type=int,
        default=None,
        help="first N items of each probe set (default all 24)",
    )
    parser.add_argument("--concise-llmbar-limit", type=int, default=100)
    parser.add_argument("--concise-probe-limit", type=int, default=None)
    parser.add_argument(
        "--stability-seeds",
        type=int,
        default=0,
        help="instead of the report: sample the generate method with this "
        "many seeds on the short_correct probe (section bias-stability)",
    )
    parser.add_argument("--stability-limit", type=int, default=4)
    parser.add_argument("--temperature", type=float, default=0.7)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.stability_seeds:
        _stability(args.stability_seeds, args.stability_limit, args.temperature)
        return
    start = time.perf_counter()
    default = Judge()
    report = bias_report(default, _sets(args.llmbar_limit, args.probe_limit))
    (OUT / "bias.md").write_text(to_markdown(report) + "\n")
    (OUT / "bias.json").write_text(
        json.dumps(to_jsonable(report), indent=2, ensure_ascii=False) + "\n"
    )
    write_figure(report, OUT / "bias.png")
    variant_sets = _sets(args.concise_llmbar_limit, args.concise_probe_limit)
    concise = bias_report(Judge(rubric="helpfulness_concise"), variant_sets, swaps=("both",))
    same = bias_report(default, variant_sets, swaps=("both",))
    (OUT / "concise.json").write_text(
        json.dumps(
            {"default": to_jsonable(same), "concise": to_jsonable(concise)},
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    elapsed = time.perf_counter() - start
    body = "\n".join(
        [
            "## Bias report: embedded SmolLM2-135M judge (issue 6)",
            "",
            "Default judge (rubric `helpfulness`, logprob), every swap mode. LLMBar's chosen "
            "response is placed at A or B by a seeded coin. Full report: "
            "[results/bias/bias.md](results/bias/bias.md), figure "
            "[results/bias/bias.png](results/bias/bias.png), JSON results/bias/bias.json.",
            "",
            *_summary(report),
            "",
            "Probes:",
            *_probe_lines(report),
            "",
            "Rubric variant `helpfulness_concise` (instructs the judge not to reward length) "
            "against the default, swap=both, same pairs:",
            "",
            *_variant_table(same, concise),
            "",
            f"Wall time {elapsed:.0f} s (most judgments served from the cache where earlier "
            "runs had filled it).",
        ]
    )
    write_section("bias", body)


if __name__ == "__main__":
    main()
