"""``judge bench``: accuracy of a judge configuration on a preference set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from judge.bench import BenchReport, GroupReport, load_preferences, run_bench
from judge.bench.runner import outcome_record
from judge.cli import options as opt
from judge.cli.output import bold, fmt, print_json, progress_bar, stdout
from judge.errors import UserError
from judge.judge import Judge

EXIT_FAILED_JUDGMENTS = 1
STRATEGIES = ("pairwise", "pointwise")


@opt.with_judge()
def bench(
    judge: Judge,
    data: Annotated[Path, typer.Option(
        help="preference set: .jsonl, .json or .parquet with prompt, chosen, rejected "
             "(one or a list) and optional subset, id", exists=True, dir_okay=False)],
    subset: Annotated[list[str] | None, typer.Option(
        help="only this subset (repeatable)")] = None,
    limit: Annotated[int | None, typer.Option(
        min=1, help="at most this many items per subset, in file order")] = None,
    strategy: Annotated[str, typer.Option(
        help="pairwise: chosen compared with each rejected, must win all; "
             "pointwise: every completion scored, chosen must score strictly highest")
    ] = "pairwise",
    output: Annotated[Path | None, typer.Option(
        help="write every item's outcome and verdicts as JSONL here")] = None,
    json_out: opt.Json = False,
) -> None:
    """Measure how often a judge ranks the preferred completion first.

    RewardBench layout:   judge bench --data rewardbench.parquet
    RewardBench 2 style:  judge bench --data rb2.parquet --strategy pointwise
    """
    if strategy not in STRATEGIES:
        raise UserError(f"--strategy must be pairwise or pointwise, got {strategy!r}")
    items = load_preferences(data, subsets=subset, limit=limit)
    with progress_bar("judging") as update:
        report = run_bench(judge, items, strategy=strategy,  # type: ignore[arg-type]
                           seed=judge.config.seed, progress=update)
    if output:
        with output.open("w", encoding="utf-8") as handle:
            for outcome in report.outcomes:
                handle.write(json.dumps(outcome_record(outcome), ensure_ascii=False) + "\n")
    if json_out:
        print_json({"data": str(data), **report.as_dict()})
    else:
        _table(report, data)
    if report.overall.failures:
        raise typer.Exit(EXIT_FAILED_JUDGMENTS)


def _row(group: GroupReport) -> list[str]:
    ci = group.accuracy_ci
    accuracy = f"{fmt(group.accuracy, 2)} ({fmt(ci[0], 2)}–{fmt(ci[1], 2)})" if ci else "—"
    speed = fmt(group.judgments / group.seconds, 2) if group.seconds else "—"
    return [group.name, str(group.items), str(group.failures), accuracy,
            fmt(group.consistency, 2), fmt(group.tie_rate, 2), fmt(group.p_first, 2),
            f"{group.seconds:.0f}", speed]


def _table(report: BenchReport, data: Path) -> None:
    j = report.judge
    table = Table(title=f"{data.name} · {report.strategy} strategy")
    table.add_column("subset")
    for column in ("items", "failed", "accuracy (95% CI)", "consistent", "ties", "P(first)",
                   "seconds", "judgments/s"):
        table.add_column(column, justify="right")
    for group in report.subsets:
        table.add_row(*_row(group))
    table.add_row(*[bold(cell) for cell in _row(report.overall)])
    stdout.print(table)
    stdout.print(f"{j['model']} · rubric {j['rubric']} · {j['method']} · swap={j['swap']}"
                 f" · cached judgments: {report.overall.cached}")
