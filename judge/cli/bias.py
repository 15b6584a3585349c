"""``judge bias``: the bias report of a judge configuration, as markdown, JSON and PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, get_args

import typer

from judge import figures
from judge.bias import PROBES, bias_report, load_pair_set, probe_set, to_markdown, write_figure
from judge.bias.data import PairSet
from judge.bias.figure import PURPOSE
from judge.cli import options as opt
from judge.cli.output import print_json, progress_bar, stderr, stdout
from judge.errors import UserError
from judge.jsonable import to_jsonable
from judge.verdicts import SwapMode

_SWAP_MODES: dict[str, SwapMode] = {mode: mode for mode in get_args(SwapMode)}


def _swaps(text: str) -> list[SwapMode]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    if not names or any(n not in _SWAP_MODES for n in names):
        raise UserError(
            f"--swaps takes a comma-separated list of {', '.join(_SWAP_MODES)}; got {text!r}"
        )
    return [_SWAP_MODES[n] for n in names]


def _probes(text: str) -> list[str]:
    if text.strip() in ("", "none"):
        return []
    names = PROBES if text.strip() == "all" else [n.strip() for n in text.split(",")]
    return list(names)


def bias(
    data: Annotated[
        list[Path] | None,
        typer.Argument(
            help="pairwise JSONL: prompt + chosen/rejected, or prompt + response_a/response_b "
            "(+ gold A/B/tie)",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    probes: Annotated[
        str,
        typer.Option(
            help="shipped probe sets: all, none, or a list of identical,padded,short_correct"
        ),
    ] = "all",
    swaps: Annotated[str, typer.Option(help="swap modes to compare")] = "both,random,none",
    limit: Annotated[
        int | None, typer.Option(help="judge only the first N pairs of each set")
    ] = None,
    stability_seeds: Annotated[
        int,
        typer.Option(
            help="sampling seeds for the stability runs (generate method, --temperature > 0)"
        ),
    ] = 0,
    stability_limit: Annotated[int, typer.Option(help="pairs judged per stability seed")] = 10,
    out: Annotated[Path, typer.Option(help="directory for bias.md, bias.json, bias.png")] = Path(
        "bias-report"
    ),
    json_out: opt.Json = False,
    model: opt.Model = None,
    rubric: opt.Rubric = opt.DEFAULT_RUBRIC,
    rubric_file: opt.RubricFile = None,
    template: opt.Template = None,
    template_file: opt.TemplateFile = None,
    method: opt.Method = opt.DEFAULT.method,
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
    """Measure how much a judge's verdicts depend on position, length and sampling.

    Example: judge bias data.jsonl --probes all --out report/
    """
    judge = opt.JudgeOptions(
        model=model,
        rubric=rubric,
        rubric_file=rubric_file,
        template=template,
        template_file=template_file,
        method=method,
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
    modes = _swaps(swaps)
    figure = figures.available()
    if not figure:
        stderr.print(
            f"note: no bias.png this run ({figures.missing(PURPOSE)}); "
            "bias.md and bias.json are written as usual",
            soft_wrap=True,
        )
    sets: list[PairSet] = [load_pair_set(p, seed=judge.config.seed).head(limit) for p in data or []]
    sets += [probe_set(name).head(limit) for name in _probes(probes)]
    if not sets:
        raise UserError("nothing to judge: give a JSONL file or --probes")
    seeds = list(range(stability_seeds))
    with progress_bar("judging") as update:
        report = bias_report(
            judge,
            sets,
            swaps=modes,
            stability_seeds=seeds,
            stability_set=sets[0].head(stability_limit),
            seed=judge.config.seed,
            progress=update,
        )
    out.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(report)
    (out / "bias.md").write_text(markdown + "\n", encoding="utf-8")
    (out / "bias.json").write_text(
        json.dumps(to_jsonable(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if json_out:
        print_json(report)
    else:
        stdout.print(markdown, soft_wrap=True)
    written = [out / "bias.md", out / "bias.json"]
    if figure:
        written.append(write_figure(report, out / "bias.png"))
    stderr.print(f"wrote {', '.join(str(p) for p in written)}", soft_wrap=True)
