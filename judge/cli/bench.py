"""``judge bench``: accuracy, agreement and calibration of a judge on published benchmarks."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from judge.bench import BenchReport, GroupReport, run_bench
from judge.bench.calibrate import CalibrationFit, fit_held_apart
from judge.bench.figure import reliability_png
from judge.bench.formats import FORMATS, load_benchmark
from judge.bench.runner import outcome_record
from judge.bench.scoring import calibration_points, summarize
from judge.cli import options as opt
from judge.cli.exits import EXIT_FAILED_JUDGMENTS
from judge.cli.output import bold, fmt, print_json, progress_bar, stdout
from judge.errors import UserError
from judge.jsonable import to_jsonable
from judge.judge import Judge

LEGEND = (
    "n items · fail items with a failed judgment · acc accuracy (95% CI) · cons "
    "position consistency · ties tie rate · κ Cohen's kappa vs the labels · Brier, "
    "ECE: calibration of P(A≻B) (pairwise)"
)
# The published-protocol scores printed under each table: (key, short label), and
# the note printed once under a table that has them.
PUBLISHED = {
    "JudgeBench": (
        [("judgebench", "both orders"), ("judgebench_one_order", "one order")],
        "JudgeBench: each order shown votes; two that disagree are not a win. "
        "one order: the published A/B order alone.",
    ),
    "RM-Bench": (
        [
            ("rm_bench_hard", "hard"),
            ("rm_bench_normal", "normal"),
            ("rm_bench_easy", "easy"),
            ("rm_bench_avg", "avg"),
        ],
        "RM-Bench: 3×3 style matrix, ties count 0; hard = chosen less styled than rejected.",
    ),
    "RewardBench 2": (
        [
            ("rewardbench2", "arg-max"),
            ("ties_score", "Ties score"),
            ("ties_ref_accuracy", "ref acc"),
            ("ties_tied_accuracy", "tied acc"),
        ],
        "RewardBench 2: arg-max gives a tie for the top to the chosen; the Ties "
        "score needs --strategy pointwise.",
    ),
    "humans": (
        [
            ("agreement_with_ties", "agree"),
            ("agreement_without_ties", "w/o ties"),
            ("human_human_with_ties", "human–human"),
            ("human_human_without_ties", "w/o ties"),
            ("human_human_kappa", "human κ"),
        ],
        "humans: FastChat agreement over (judge, vote) pairs, with and without "
        "ties; human–human: two votes on the same pair.",
    ),
}


def bench(
    data: Annotated[
        list[Path],
        typer.Option(
            help="benchmark file (repeatable): .jsonl, .json or .parquet in a published layout "
            "(see --format)",
            exists=True,
            dir_okay=False,
        ),
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help=f"layout of every --data file: {', '.join(FORMATS)} (auto: from the first record)",
        ),
    ] = "auto",
    subset: Annotated[list[str] | None, typer.Option(help="only this subset (repeatable)")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="at most this many items per subset, in file order")
    ] = None,
    strategy: Annotated[
        Literal["pairwise", "pointwise"],
        typer.Option(
            help="pairwise: chosen compared with each rejected, must win all; "
            "pointwise: every completion scored, chosen must score strictly highest"
        ),
    ] = "pairwise",
    fit_calibration: Annotated[
        Path | None,
        typer.Option(
            help="fit a calibrator on part of the items, write it here, and report ECE before "
            "and after on the items held apart"
        ),
    ] = None,
    calibration_kind: Annotated[
        Literal["temperature", "isotonic"], typer.Option(help="calibrator for --fit-calibration")
    ] = "temperature",
    held_out: Annotated[
        float, typer.Option(help="share of items held apart to measure the fitted calibrator on")
    ] = 0.5,
    reliability: Annotated[
        Path | None, typer.Option(help="write a reliability diagram of P(A≻B) here (PNG)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="write every item's outcome and verdicts as JSONL here")
    ] = None,
    json_out: opt.Json = False,
    model: opt.Model = None,
    rubric: opt.Rubric = opt.DEFAULT_RUBRIC,
    rubric_file: opt.RubricFile = None,
    template: opt.Template = None,
    template_file: opt.TemplateFile = None,
    method: opt.Method = opt.DEFAULT.method,
    protocol: opt.Protocol = "plain",
    samples: opt.Samples = 3,
    panel_rubric: opt.PanelRubric = None,
    swap: opt.Swap = opt.DEFAULT.swap,
    seed: opt.Seed = opt.DEFAULT.seed,
    temperature: opt.Temperature = opt.DEFAULT.temperature,
    max_new_tokens: opt.MaxNewTokens = opt.DEFAULT.max_new_tokens,
    no_cache: opt.NoCache = False,
    batch_size: opt.BatchSize = opt.DEFAULT.batch_size,
    on_overflow: opt.OnOverflow = opt.DEFAULT.on_overflow,
    calibration: opt.Calibration = None,
    api_base: opt.ApiBase = None,
    backend_option: opt.BackendOption = None,
) -> None:
    """Measure a judge on benchmark files: accuracy, agreement with labels, calibration.

    RewardBench / LLMBar:   judge bench --data rewardbench.parquet
    Several suites:         judge bench --data judgebench.jsonl --data rm-bench.json
    Fit a calibrator:       judge bench --data llmbar.jsonl --fit-calibration cal.json
    """
    if fit_calibration is not None and panel_rubric:
        raise UserError(
            "--fit-calibration fits one judge's P(A≻B), and a calibrated judge cannot join a "
            "panel of rubrics: fit it without --panel-rubric, once per rubric (--rubric NAME)"
        )
    judge = opt.JudgeOptions(
        model=model,
        rubric=rubric,
        rubric_file=rubric_file,
        template=template,
        template_file=template_file,
        method=method,
        swap=swap,
        seed=seed,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        no_cache=no_cache,
        batch_size=batch_size,
        on_overflow=on_overflow,
        calibration=calibration,
        api_base=api_base,
        backend_option=backend_option,
    ).build()
    # Every file is read before any is judged: a bad record in the last costs no judging.
    loaded = [
        (path, *load_benchmark(path, format=format, subsets=subset, limit=limit)) for path in data
    ]
    runs = [
        _run(judge, path, found, items, strategy, (protocol, samples, panel_rubric or ()))
        for path, found, items in loaded
    ]
    outcomes = [o for _, _, report in runs for o in report.outcomes]
    overall = summarize(
        "overall",
        outcomes,
        seed=judge.config.seed,
        seconds=sum(r.overall.seconds for _, _, r in runs),
    )
    fitted = _fit(outcomes, judge, data, fit_calibration, calibration_kind, held_out)
    if output:
        _write_outcomes(output, runs)
    if reliability:
        _reliability(reliability, runs, judge)
    summary = _summary(judge, runs, overall, fitted)
    if json_out:
        print_json(summary)
    else:
        _print(summary, runs, overall, fitted)
    if overall.failures:
        raise typer.Exit(EXIT_FAILED_JUDGMENTS)


def _run(
    judge: Judge,
    path: Path,
    found: str,
    items: list[Any],
    strategy: Any,
    protocol: tuple[str, int, Sequence[str]],
) -> tuple[Path, str, BenchReport]:
    with progress_bar(f"judging {path.name}") as update:
        report = run_bench(
            judge,
            items,
            strategy=strategy,
            seed=judge.config.seed,
            progress=update,
            protocol=protocol[0],
            samples=protocol[1],
            panel_rubrics=protocol[2],
        )
    return path, found, report


def _fit(
    outcomes: list[Any], judge: Judge, data: list[Path], out: Path | None, kind: Any, held: float
) -> CalibrationFit | None:
    if out is None:
        return None
    source = {
        "data": [str(p) for p in data],
        "model": judge.backend.name,
        "pairwise_template": judge.template("pairwise").name,
        "seed": judge.config.seed,
    }
    fitted = fit_held_apart(outcomes, kind=kind, seed=judge.config.seed, held=held, source=source)
    fitted.calibrator.save(out)
    return fitted


def _write_outcomes(path: Path, runs: list[tuple[Path, str, BenchReport]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for data, _, report in runs:
            for outcome in report.outcomes:
                record = {"data": str(data), **outcome_record(outcome)}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _reliability(path: Path, runs: list[tuple[Path, str, BenchReport]], judge: Judge) -> None:
    series = [(data.name, *calibration_points(report.outcomes)) for data, _, report in runs]
    series = [s for s in series if s[1]]
    reliability_png(
        series,
        path,
        title=f"{judge.backend.name} · "
        f"{judge.template('pairwise').name} · swap={judge.config.swap}",
    )


def command_line() -> str:
    """The command as typed, for the report (the program name without its directory)."""
    return shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])


def _summary(
    judge: Judge,
    runs: list[tuple[Path, str, BenchReport]],
    overall: GroupReport,
    fitted: CalibrationFit | None,
) -> dict[str, Any]:
    strategy = runs[0][2].strategy
    files = [
        {"data": str(data), "format": found, **to_jsonable(report)} for data, found, report in runs
    ]
    return {
        "command": command_line(),
        "strategy": strategy,
        "judge": runs[0][2].judge,
        "files": files,
        "overall": to_jsonable(overall),
        "calibration_fit": to_jsonable(fitted),
    }


def _row(group: GroupReport, prefix: str = "") -> list[str]:
    ci = group.accuracy_ci
    accuracy = f"{fmt(group.accuracy, 2)} {_short(ci[0])}–{_short(ci[1])}" if ci else "—"
    name = group.name.removeprefix(prefix) if prefix else group.name
    return [
        name,
        str(group.items),
        str(group.failures),
        accuracy,
        fmt(group.consistency, 2),
        fmt(group.tie_rate, 2),
        fmt(group.kappa, 2),
        fmt(group.brier, 2),
        fmt(group.ece, 2),
    ]


def _short(value: float) -> str:
    """0.43 as .43, to fit the interval in a narrow column."""
    return f"{value:.2f}".replace("0.", ".", 1) if value < 1 else "1.0"


def shared_prefix(names: list[str]) -> str:
    """The prefix several subset names share, up to a ``-`` or ``_`` (``llmbar-``)."""
    if len(names) < 2:
        return ""
    first, last = min(names), max(names)  # their common prefix is everyone's
    size = next(
        (i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b),
        min(len(first), len(last)),
    )
    common = first[:size]
    cut = max(common.rfind("-"), common.rfind("_"))
    return common[: cut + 1]


def _table(title: str, report: BenchReport) -> Table:
    prefix = shared_prefix([g.name for g in report.subsets])
    table = Table(
        title=title + (f" · subsets {prefix}…" if prefix else ""),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("subset", max_width=22, overflow="fold")
    for column in ("n", "fail", "acc (95% CI)", "cons", "ties", "κ", "Brier", "ECE"):
        table.add_column(column, justify="right")
    for group in report.subsets:
        table.add_row(*_row(group, prefix))
    table.add_row(*[bold(cell) for cell in _row(report.overall)])
    return table


def _published(group: GroupReport) -> tuple[Text, str] | None:
    for family, (keys, note) in PUBLISHED.items():
        parts = [
            f"{label} {fmt(group.published[k], 3)}" for k, label in keys if k in group.published
        ]
        if parts:
            return Text(f"{group.name} · {family}: " + " · ".join(parts)), note
    return None


def _print(
    summary: dict[str, Any],
    runs: list[tuple[Path, str, BenchReport]],
    overall: GroupReport,
    fitted: CalibrationFit | None,
) -> None:
    for data, found, report in runs:
        protocol = report.judge.get("judging_protocol", "plain")
        shown = "" if protocol == "plain" else f" · {protocol}"
        panel = report.judge.get("panel_rubrics")
        shown += f" · panel of {', '.join(panel)}" if panel else ""
        stdout.print(_table(f"{data.name} · {found} · {report.strategy}{shown}", report))
        notes = set()
        # one subset: its line would repeat the file's, so only the file's is printed
        groups = [*report.subsets, report.overall] if len(report.subsets) > 1 else [report.overall]
        for group in groups:
            found_line = _published(group)
            if found_line is not None:
                stdout.print(found_line[0])
                notes.add(found_line[1])
        for note in sorted(notes):
            stdout.print(Text(note, style="dim"))
    speed = fmt(overall.judgments / overall.seconds, 2) if overall.seconds else "—"
    stdout.print(
        Text.assemble(
            ("overall", "bold"),
            f": {overall.items} items, "
            f"accuracy {fmt(overall.accuracy, 3)}, κ {fmt(overall.kappa, 2)}, "
            f"ECE {fmt(overall.ece, 3)}, {overall.failures} failed, "
            f"{overall.judgments} judgments ({speed}/s), cached {overall.cached}",
        )
    )
    if fitted is not None:
        stdout.print(_fit_line(fitted))
    j = summary["judge"]
    template = j[f"{summary['strategy']}_template"]
    calibrated = f" · calibration {j['calibration']['kind']}" if j["calibration"] else ""
    stdout.print(f"judge: {j['model']}", soft_wrap=True)
    stdout.print(
        f"rubric {j['rubric']} · template {template} · method {j['method']} · "
        f"swap={j['swap']} · seed {j['seed']}{calibrated}"
    )
    stdout.print(f"command: {summary['command']}")
    stdout.print(Text(LEGEND, style="dim"))


def _fit_line(fitted: CalibrationFit) -> str:
    c = fitted.calibrator
    what = f"T={c.temperature:.3f}" if c.temperature else f"{len(c.points)} steps"
    return (
        f"calibration ({c.kind}, {what}): fitted on {fitted.fit_items} items, held apart "
        f"{fitted.held_items} ({fitted.held_comparisons} comparisons): ECE "
        f"{fmt(fitted.before['ece'], 3)} → {fmt(fitted.after['ece'], 3)}, Brier "
        f"{fmt(fitted.before['brier'], 3)} → {fmt(fitted.after['brier'], 3)}"
    )
