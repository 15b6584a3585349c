"""``judge compare``: one pair from arguments or files, or two JSONL files of model outputs."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from judge.cli import options as opt
from judge.cli.exits import EXIT_FAILED_JUDGMENTS
from judge.cli.output import bold, fmt, labelled, print_json, progress_bar, stdout
from judge.errors import InputError, UserError
from judge.inputs import PairInput
from judge.io import read_jsonl, text_field
from judge.jsonable import to_jsonable
from judge.length import length_controlled_win_rate
from judge.protocols import PanelPairwiseVerdict, with_protocol
from judge.stats import win_rate
from judge.verdicts import PairwiseResult, PairwiseVerdict

Text = Annotated[str | None, typer.Option(help="text given directly")]
File = Annotated[
    Path | None, typer.Option(help="read the text from this file", exists=True, dir_okay=False)
]


def _one(text: str | None, path: Path | None, name: str, *, required: bool = True) -> str | None:
    if text is not None and path is not None:
        raise UserError(f"give --{name} or --{name}-file, not both")
    if path is not None:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read --{name}-file: {exc}", path=str(path)) from exc
    if text is None and required:
        raise UserError(
            f"missing --{name} (or --{name}-file); to judge two files of model "
            "outputs instead, give --outputs-a A.jsonl --outputs-b B.jsonl"
        )
    return text


def _aligned(
    path_a: Path, path_b: Path, prompt_field: str, response_field: str
) -> tuple[list[PairInput], list[int]]:
    """Pairs of responses aligned by prompt text; errors name file and line."""
    sides = []
    for path in (path_a, path_b):
        by_prompt: dict[str, tuple[int, str]] = {}
        for line, record in read_jsonl(path):
            prompt = text_field(record, prompt_field, str(path), line)
            if prompt in by_prompt:
                raise InputError(
                    f"prompt repeated from line {by_prompt[prompt][0]}", path=str(path), line=line
                )
            by_prompt[prompt] = (line, text_field(record, response_field, str(path), line))
        sides.append(by_prompt)
    for path, side in zip((path_a, path_b), sides, strict=True):
        if not side:
            raise InputError("no records", path=str(path))
    a, b = sides
    for path, mine, other in ((path_a, a, b), (path_b, b, a)):
        lonely = [(line, p) for p, (line, _) in mine.items() if p not in other]
        if lonely:
            line, prompt = lonely[0]
            raise InputError(
                f"{len(lonely)} prompt(s) have no match in the other file, first: {prompt[:60]!r}",
                path=str(path),
                line=line,
            )
    pairs = [PairInput(p, a[p][1], b[p][1]) for p in a]
    return pairs, [a[p][0] for p in a]


def compare(
    prompt: Text = None,
    prompt_file: File = None,
    a: Annotated[str | None, typer.Option("--a", help="response A text")] = None,
    a_file: Annotated[
        Path | None, typer.Option("--a-file", help="response A file", exists=True, dir_okay=False)
    ] = None,
    b: Annotated[str | None, typer.Option("--b", help="response B text")] = None,
    b_file: Annotated[
        Path | None, typer.Option("--b-file", help="response B file", exists=True, dir_okay=False)
    ] = None,
    reference: Text = None,
    reference_file: File = None,
    outputs_a: Annotated[
        Path | None,
        typer.Option(
            help="JSONL of model A outputs (batch mode, aligned by prompt)",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    outputs_b: Annotated[
        Path | None, typer.Option(help="JSONL of model B outputs", exists=True, dir_okay=False)
    ] = None,
    prompt_field: Annotated[str, typer.Option(help="JSONL field with the prompt")] = "prompt",
    response_field: Annotated[str, typer.Option(help="JSONL field with the response")] = "response",
    output: Annotated[
        Path | None, typer.Option(help="write every verdict as JSONL here (batch mode)")
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
    """Judge which response is better: one pair, or two files of model outputs.

    One pair:   judge compare --prompt-file q.txt --a-file a.txt --b-file b.txt
    Two models: judge compare --outputs-a a.jsonl --outputs-b b.jsonl
    Reasoning:  judge compare --outputs-a a.jsonl --outputs-b b.jsonl --protocol reason-then-read
    """
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
    judging = with_protocol(judge, protocol, samples=samples, panel_rubrics=panel_rubric or ())
    ref = _one(reference, reference_file, "reference", required=False)
    extra = {"reference": ref} if ref is not None else {}
    if outputs_a or outputs_b:
        if not (outputs_a and outputs_b):
            raise UserError("batch mode needs both --outputs-a and --outputs-b")
        pairs, lines = _aligned(outputs_a, outputs_b, prompt_field, response_field)
        pairs = [PairInput(p.prompt, p.response_a, p.response_b, extra) for p in pairs]
        with progress_bar("judging") as update:
            results = judging.compare_batch(pairs, progress=update)
        if output:
            _write(output, pairs, lines, results)
        _report_batch(results, pairs, outputs_a, outputs_b, json_out, judge.config.seed)
    else:
        pair = PairInput(
            _one(prompt, prompt_file, "prompt") or "",
            _one(a, a_file, "a") or "",
            _one(b, b_file, "b") or "",
            extra,
        )
        results = judging.compare_batch([pair])
        _report_one(results[0], json_out)
    if any(not r.ok for r in results):
        raise typer.Exit(EXIT_FAILED_JUDGMENTS)


def _write(
    path: Path, pairs: list[PairInput], lines: list[int], results: list[PairwiseResult]
) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for pair, line, result in zip(pairs, lines, results, strict=True):
            row = {"line": line, "prompt": pair.prompt, "result": to_jsonable(result)}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _report_one(result: PairwiseResult, json_out: bool) -> None:
    if json_out:
        print_json(result)
        return
    if not isinstance(result, PairwiseVerdict):
        stdout.print(labelled("no verdict", f"{result.reason.value}: {result.message}"))
        return
    table = Table()
    for column in ("shown first", "P(A≻B)", "winner"):
        table.add_column(column)
    members = result.members if isinstance(result, PanelPairwiseVerdict) else (result,)
    for member in members:
        by = f" ({_member_name(member, members)})" if len(members) > 1 else ""
        for order in member.orders:
            shown = "A" if order.shown == "AB" else "B"
            table.add_row(shown + by, fmt(order.prob_a), order.winner)
        if not member.orders:  # scored one response at a time (by-scores)
            table.add_row("neither" + by, fmt(member.prob_a), member.winner)
    table.add_row(bold("combined"), bold(fmt(result.prob_a)), bold(str(result.winner)))
    stdout.print(table)
    stdout.print(f"{result.model} · rubric {result.rubric} · {result.method} · swap={result.swap}")
    if isinstance(result, PanelPairwiseVerdict):
        each = " · ".join(
            f"{_member_name(m, result.members)} {fmt(m.prob_a)}" for m in result.members
        )
        said = f"panel P(A≻B): {each} · disagreement {fmt(result.disagreement)}"
        stdout.print(said, soft_wrap=True)
    if result.consistent is not None:
        stdout.print(f"position-consistent: {'yes' if result.consistent else 'no'}")


def _member_name(member: PairwiseVerdict, members: Sequence[PairwiseVerdict]) -> str:
    """A panel member by its rubric, or by its template where the rubrics are the same."""
    if len({m.rubric for m in members}) == len(members):
        return str(member.rubric)
    return member.template


def _report_batch(
    results: list[PairwiseResult],
    pairs: list[PairInput],
    path_a: Path,
    path_b: Path,
    json_out: bool,
    seed: int,
) -> None:
    summary = win_rate(results, seed=seed)
    lengths = [(len(p.response_a), len(p.response_b)) for p in pairs]
    controlled = length_controlled_win_rate(results, lengths, seed=seed)
    spread = [r.disagreement for r in results if isinstance(r, PanelPairwiseVerdict)]
    disagreement = {"panel_disagreement": statistics.fmean(spread)} if spread else {}
    if json_out:
        print_json(
            {
                "a": str(path_a),
                "b": str(path_b),
                **to_jsonable(summary),
                "length_controlled": controlled,
                **disagreement,
            }
        )
        return
    table = Table(title=f"A = {path_a.name}   vs   B = {path_b.name}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    interval = f"[{fmt(summary.ci_low)}, {fmt(summary.ci_high)}]"
    rows = [
        ("judged pairs", str(summary.n)),
        ("failed judgments", str(summary.failures)),
        ("win rate of A (ties ½)", fmt(summary.win_rate)),
        ("95% bootstrap CI", interval),
        ("length-controlled win rate", fmt(controlled.lc_win_rate)),
        ("95% bootstrap CI (LC)", _interval(controlled.lc_ci)),
        ("length coefficient β", fmt(controlled.length_coef)),
        ("tie rate", fmt(summary.tie_rate)),
        ("mean P(A≻B)", fmt(summary.mean_prob_a)),
        ("position consistency", fmt(summary.consistency)),
        *[("mean panel disagreement", fmt(v)) for v in disagreement.values()],
    ]
    for name, value in rows:
        table.add_row(name, value)
    stdout.print(table)
    for sentence in _readings(summary.consistency, controlled.length_coef):
        stdout.print(sentence, soft_wrap=False)


def _readings(consistency: float | None, beta: float | None) -> list[str]:
    """Plain sentences saying what the consistency and β figures mean for the verdicts."""
    said = []
    if consistency is not None:
        said.append(
            f"Position consistency {consistency:.2f}: the share of pairs whose winner "
            "stays the same when A and B swap places. "
            + (
                "Low: this judge mostly picks by position, so its verdicts say little "
                "about which response is better; use a stronger judge."
                if consistency < 0.5
                else "The rest flip with the order shown; both orders are averaged."
            )
        )
    if beta is not None:
        said.append(
            f"β = {beta:.2f} is the judge's pull towards the longer response (log-odds "
            "per unit of tanh(character-length difference / its spread); 0 = none, "
            "> 0 = prefers longer). The length-controlled rate removes it."
        )
    return said


def _interval(bounds: tuple[float, float] | None) -> str:
    return "—" if bounds is None else f"[{fmt(bounds[0])}, {fmt(bounds[1])}]"
