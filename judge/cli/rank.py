"""``judge rank``: best-of-N — the judge picks one of N candidates per prompt.

Reads JSONL rows ``{"prompt": ..., "candidates": [...]}`` (optionally ``"correct"``: one
boolean per candidate), or generates the verifiable arithmetic set (``--arithmetic N``).
Writes one JSONL row per prompt with the pick and each candidate's score; where
correctness is known it reports the picked answer's accuracy against a random and the
oracle pick, with 95 % bootstrap intervals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from judge.cli import options as opt
from judge.cli.exits import EXIT_FAILED_JUDGMENTS
from judge.cli.output import fmt, print_json, stdout
from judge.errors import InputError, UserError
from judge.io import read_jsonl, text_field
from judge.jsonable import to_jsonable
from judge.protocols import with_protocol
from judge.rank import Ranked, RankItem, RankMethod, rank
from judge.rank.arithmetic import VerifiableItem, arithmetic_items, pick_report

Input = Annotated[
    Path | None,
    typer.Argument(help="JSONL rows with prompt and candidates", exists=True, dir_okay=False),
]
Arithmetic = Annotated[
    int | None,
    typer.Option(help="instead of a file, generate this many verifiable arithmetic questions"),
]
Candidates = Annotated[int, typer.Option(min=2, help="candidates per --arithmetic question")]
ByMethod = Annotated[
    RankMethod,
    typer.Option("--by", help="tournament (every pair compared) or pointwise (one score each)"),
]
Output = Annotated[Path | None, typer.Option("--output", help="write picks as JSONL")]


def rank_command(
    input_file: Input = None,
    arithmetic: Arithmetic = None,
    candidates: Candidates = 4,
    by: ByMethod = "tournament",
    protocol: opt.Protocol = "plain",
    samples: opt.Samples = 3,
    panel_rubric: opt.PanelRubric = None,
    output: Output = None,
    json_out: opt.Json = False,
    *,
    model: opt.Model = None,
    rubric: opt.Rubric = opt.DEFAULT_RUBRIC,
    rubric_file: opt.RubricFile = None,
    template: opt.Template = None,
    template_file: opt.TemplateFile = None,
    method: opt.Method = opt.DEFAULT.method,
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
    """Pick the best of N candidate responses per prompt (best-of-N reranking)."""
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
    if (input_file is None) == (arithmetic is None):
        raise UserError("give an input JSONL file or --arithmetic N (not both)")
    verifiable = (
        arithmetic_items(arithmetic, candidates=candidates, seed=judge.config.seed)
        if arithmetic
        else _read(input_file)
    )
    items = [v.item if isinstance(v, VerifiableItem) else v for v in verifiable]
    ranked = rank(
        with_protocol(judge, protocol, samples=samples, panel_rubrics=panel_rubric or ()),
        items,
        method=by,
    )
    if output:
        _write(output, items, ranked)
    known = [v.correct for v in verifiable if isinstance(v, VerifiableItem)]
    report = (
        pick_report(known, ranked, seed=judge.config.seed) if len(known) == len(items) else None
    )
    _report(ranked, report, json_out)
    if any(r.failures for r in ranked):
        raise typer.Exit(EXIT_FAILED_JUDGMENTS)


def _read(path: Path | None) -> list[RankItem | VerifiableItem]:
    assert path is not None
    rows: list[RankItem | VerifiableItem] = []
    for line, record in read_jsonl(path):
        prompt = text_field(record, "prompt", str(path), line)
        texts = record.get("candidates")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise InputError("'candidates' must be a list of strings", path=str(path), line=line)
        item = RankItem(prompt, tuple(texts))
        correct = record.get("correct")
        if correct is None:
            rows.append(item)
        elif (
            isinstance(correct, list)
            and len(correct) == len(texts)
            and all(isinstance(c, bool) for c in correct)
        ):
            rows.append(VerifiableItem(item, tuple(correct)))
        else:
            raise InputError(
                "'correct' must be one boolean per candidate", path=str(path), line=line
            )
    return rows


def _write(path: Path, items: list[RankItem], ranked: list[Ranked]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for item, result in zip(items, ranked, strict=True):
            row: dict[str, Any] = {
                "prompt": item.prompt,
                "candidates": list(item.candidates),
                **to_jsonable(result),
            }
            row["best"] = None if result.picked is None else item.candidates[result.picked]
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _report(ranked: list[Ranked], report: Any, json_out: bool) -> None:
    failures = sum(r.failures for r in ranked)
    judgments = sum(r.judgments for r in ranked)
    if json_out:
        print_json(
            {
                "prompts": len(ranked),
                "judgments": judgments,
                "failed_judgments": failures,
                "accuracy": report,
            }
        )
        return
    stdout.print(f"{len(ranked)} prompts, {judgments} judgments, {failures} failed")
    if report is None:
        return
    table = Table(title="accuracy of the chosen answer (95% bootstrap CI)")
    for column in ("pick", "accuracy", "CI"):
        table.add_column(column)
    for name, value, ci in (
        ("judge", report.picked, report.picked_ci),
        ("random", report.random, report.random_ci),
        ("oracle", report.oracle, report.oracle_ci),
    ):
        table.add_row(name, fmt(value), f"[{fmt(ci[0])}, {fmt(ci[1])}]")
    stdout.print(table)
