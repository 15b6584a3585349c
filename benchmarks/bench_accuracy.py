"""The accuracy harness on LLMBar with the embedded judge: every subset, several configs.

Runs `judge.bench.run_bench` (the code behind ``judge bench``) with:

  * the default judge (logprob, swap both, helpfulness rubric), pairwise, every item
    (or ``--default-limit`` per subset);
  * the same with ``swap="none"`` (chosen placed first or second by a seeded hash);
  * the pointwise strategy (1–10 scores, the chosen must score strictly highest);
  * best-of-4, both strategies, on a set built from LLMBar Natural: each chosen
    response against its own rejected one and the rejected responses of the two next
    prompts (off-topic, so a judge that reads the prompt should rank them last).

Accuracy runs are not timed for speed comparisons: they use the judgment cache
(``JUDGE_CACHE_DIR``), and each table says how many judgments came from it.

    JUDGE_CACHE_DIR=/work/cache/bench python benchmarks/bench_accuracy.py --limit 20
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import DATA
from benchmarks.report import write_section
from judge import Judge
from judge.bench import BenchReport, GroupReport, PreferenceItem, load_preferences, run_bench
from judge.bench.scoring import Strategy


def best_of_four(items: list[PreferenceItem], n: int) -> list[PreferenceItem]:
    """Chosen vs its own rejected and the rejected of the next two prompts."""
    return [
        PreferenceItem(
            f"{item.id}+4",
            "llmbar-natural best-of-4",
            item.prompt,
            item.chosen,
            (
                item.rejected[0],
                items[(i + 1) % len(items)].rejected[0],
                items[(i + 2) % len(items)].rejected[0],
            ),
        )
        for i, item in enumerate(items[:n])
    ]


def cell(value: float | None, digits: int = 2) -> str:
    """A table cell; a dash for missing."""
    return "—" if value is None else f"{value:.{digits}f}"


def markdown(report: BenchReport, title: str) -> str:
    """One configuration's table: a row per subset and the overall row."""
    lines = [
        f"### {title}",
        "",
        "| subset | items | failed | accuracy | 95% CI | consistency | tie rate | P(first) "
        "| judgments | cached calls | seconds |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]

    def line(g: GroupReport, bold: bool = False) -> str:
        ci = f"[{g.accuracy_ci[0]:.2f}, {g.accuracy_ci[1]:.2f}]" if g.accuracy_ci else "—"
        name = f"**{g.name}**" if bold else g.name
        return (
            f"| {name} | {g.items} | {g.failures} | {cell(g.accuracy)} | {ci} | "
            f"{cell(g.consistency)} | {cell(g.tie_rate)} | {cell(g.p_first)} | "
            f"{g.judgments} | {g.cached} | {g.seconds:.0f} |"
        )

    lines += [line(g) for g in report.subsets] + [line(report.overall, bold=True)]
    j = report.judge
    lines += [
        "",
        f"Judge: `{j['model']}`, rubric `{j['rubric']}`, method `{j['method']}`, "
        f"swap `{j['swap']}`, strategy `{report.strategy}`.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--limit", type=int, default=20, help="items per subset for the non-default configurations"
    )
    parser.add_argument(
        "--default-limit",
        type=int,
        default=None,
        help="items per subset for the default judge (default: all)",
    )
    parser.add_argument("--best-of", type=int, default=20, help="best-of-4 items")
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)

    everything = load_preferences(DATA, limit=args.default_limit)
    some = load_preferences(DATA, limit=args.limit)
    natural = load_preferences(DATA, subsets=["llmbar-natural"])
    runs: list[tuple[str, Judge, list[PreferenceItem], Strategy]] = [
        (f"swap none, first {args.limit} per subset", Judge(swap="none"), some, "pairwise"),
        (f"Pointwise strategy, first {args.limit} per subset", Judge(), some, "pointwise"),
        (
            f"Best-of-4, pairwise strategy ({args.best_of} items)",
            Judge(),
            best_of_four(natural, args.best_of),
            "pairwise",
        ),
        (
            f"Best-of-4, pointwise strategy ({args.best_of} items)",
            Judge(),
            best_of_four(natural, args.best_of),
            "pointwise",
        ),
        # last: the issue-6 bias report fills the same cache with these judgments
        (
            f"Default judge, {len(everything)} items"
            + (f" (first {args.default_limit} per subset)" if args.default_limit else ""),
            Judge(),
            everything,
            "pairwise",
        ),
    ]
    sections: list[str] = []
    for title, judge, items, strategy in runs:
        report = run_bench(judge, items, strategy=strategy)
        sections.insert(
            0 if title.startswith("Default") else len(sections), markdown(report, title)
        )
        print(markdown(report, title), "\n", flush=True)
    if not args.no_write:
        write_section(
            "accuracy",
            "\n\n".join(
                [
                    "## Accuracy harness on LLMBar (embedded SmolLM2-135M)",
                    "",
                    "Produced by `run_bench`, the code behind `judge bench`. Accuracy: share of "
                    "items whose chosen response the judge ranked first (pairs: a tie counts ½; "
                    "best-of-4 pairwise: the chosen must win all three comparisons; pointwise: the "
                    "chosen must score strictly highest, a tie for the top counts wrong). "
                    "'cached calls' counts model calls (one per order shown, or per score) "
                    "answered by the judgment cache; these runs are not speed measurements.",
                    *sections,
                ]
            ),
        )


if __name__ == "__main__":
    main()
