"""``judge annotate``: turn prompts with candidate completions into TRL preference data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from judge.annotate import AnnotationReport, Fields, Filters, Pairing, RayOptions, annotate
from judge.annotate.pairing import Strategy
from judge.cli import options as opt
from judge.cli.exits import EXIT_FAILED_JUDGMENTS
from judge.cli.output import fmt, print_json, progress_bar, stdout
from judge.errors import UserError


def annotate_command(
    source: Annotated[
        Path,
        typer.Argument(
            help="JSONL, Parquet (.parquet) or a saved Hugging Face datasets directory", exists=True
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-O", help="preference rows: .jsonl, or .parquet (written at the end)"
        ),
    ],
    prompt_field: Annotated[str, typer.Option(help="field with the prompt")] = "prompt",
    candidates_field: Annotated[
        str, typer.Option(help="list field with the candidate completions")
    ] = "candidates",
    candidate_columns: Annotated[
        str | None,
        typer.Option(help="comma-separated fields, one candidate each (instead of a list field)"),
    ] = None,
    gold_field: Annotated[
        str | None,
        typer.Option(help="field with the best candidate: index, column name, or one score each"),
    ] = None,
    gold_column: Annotated[
        str | None,
        typer.Option(help="the candidate column that is always the better one, e.g. chosen"),
    ] = None,
    pairing: Annotated[
        Strategy,
        typer.Option(help="all, adjacent, best-worst (pointwise scores), random or schedule"),
    ] = "all",
    pairs_per_prompt: Annotated[int, typer.Option(help="k for --pairing random")] = 1,
    schedule: Annotated[
        str | None,
        typer.Option(
            help="compare the pairs of a sparse schedule: ring (n pairs for n candidates) or "
            "regular:K (about K·n/2 pairs); implies --pairing schedule (the adaptive swiss:R "
            "needs verdicts to pick its pairs: rewards only)"
        ),
    ] = None,
    min_margin: Annotated[
        float, typer.Option(help="drop rows with 2·P(chosen≻rejected)−1 below this")
    ] = 0.0,
    drop_inconsistent: Annotated[
        bool, typer.Option("--drop-inconsistent", help="drop rows whose two orders disagree")
    ] = False,
    drop_ties: Annotated[bool, typer.Option("--drop-ties", help="drop rows judged a tie")] = False,
    max_disagreement: Annotated[
        float | None,
        typer.Option(
            help="drop rows whose panel members' P(chosen≻rejected) spread (standard deviation) "
            "is above this; needs --panel-rubric"
        ),
    ] = None,
    conversational: Annotated[
        bool, typer.Option("--conversational", help="write message lists even for plain-text input")
    ] = False,
    chunk_size: Annotated[int, typer.Option(help="pairs judged and written per step")] = 64,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="start again instead of resuming an existing output")
    ] = False,
    retry_failures: Annotated[
        bool,
        typer.Option(
            "--retry-failures", help="judge again the pairs that failed in an earlier run"
        ),
    ] = False,
    ray: Annotated[bool, typer.Option("--ray", help="run on Ray Data (actor pool)")] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="existing cluster: auto or ray://host:10001 (default: start a local one)"
        ),
    ] = None,
    ray_actors: Annotated[int, typer.Option(help="actors, one judge each")] = 2,
    ray_cpus_per_actor: Annotated[float, typer.Option(help="CPUs per actor")] = 1.0,
    ray_gpus_per_actor: Annotated[float, typer.Option(help="GPUs per actor")] = 0.0,
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
    """Judge candidate completions pairwise into TRL preference rows (resumable).

    Example:  judge annotate examples/annotate/candidates.jsonl -O prefs.jsonl

    Reasoning:  judge annotate candidates.jsonl -O prefs.jsonl --protocol reason-then-read

    Panel:  judge annotate candidates.jsonl -O prefs.jsonl --panel-rubric instruction_following
    --max-disagreement 0.1

    Run the same command again after an interruption: it finishes only what is missing.
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
    columns = tuple(c.strip() for c in candidate_columns.split(",")) if candidate_columns else None
    fields = Fields(prompt_field, candidates_field, columns, gold_field, gold_column)
    if schedule is not None and pairing not in ("all", "schedule"):
        raise UserError(f"--schedule {schedule} chooses the pairs; drop --pairing {pairing}")
    strategy: Strategy = "schedule" if schedule is not None else pairing
    with progress_bar("annotating", unit="pairs") as update:
        report = annotate(
            source,
            output,
            judge=judge,
            fields=fields,
            pairing=Pairing(strategy, pairs_per_prompt, judge.config.seed, schedule or "ring"),
            filters=Filters(min_margin, drop_inconsistent, drop_ties, max_disagreement),
            conversational=conversational,
            chunk_size=chunk_size,
            overwrite=overwrite,
            retry_failures=retry_failures,
            progress=update,
            ray=RayOptions(ray_address, ray_actors, ray_cpus_per_actor, ray_gpus_per_actor)
            if ray or ray_address
            else None,
            protocol=protocol,
            samples=samples,
            panel_rubrics=panel_rubric or (),
        )
    if json_out:
        print_json(report)
    else:
        stdout.print(report_table(report))
        stdout.print(
            f"report: {output.name}.report.json · failures: {output.name}"
            f".failures.jsonl · dropped: {output.name}.dropped.jsonl",
            highlight=False,
        )
    if report.failures:
        raise typer.Exit(EXIT_FAILED_JUDGMENTS)


def report_table(report: AnnotationReport) -> Table:
    """The job report as a rich table."""
    s = report.stats
    interval = f"[{fmt(s.accuracy_ci[0])}, {fmt(s.accuracy_ci[1])}]" if s.accuracy_ci else "—"
    dropped = ", ".join(f"{k} {v}" for k, v in sorted(report.dropped.items())) or "0"
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(s.failure_reasons.items()))
    rate = report.pairs_per_s
    rows = [
        ("pairs in the input", str(report.pairs)),
        ("already done (resumed)", str(report.resumed)),
        ("judged by this run", f"{report.judged}" + (f" ({rate:.2f} pairs/s)" if rate else "")),
        ("preference rows written", str(report.rows)),
        ("dropped by filters", dropped),
        ("failed judgments", f"{report.failures}" + (f" ({reasons})" if reasons else "")),
        ("tie rate", fmt(s.tie_rate)),
        ("position consistency", fmt(s.consistency)),
        ("P(prefers first shown)", fmt(s.p_first)),
        ("P(prefers longer)", fmt(s.p_longer)),
        ("gold: longer is better", fmt(s.longer_is_better)),
        ("agreement with gold", fmt(s.accuracy)),
        ("95% bootstrap CI", interval),
    ]
    if report.disagreement is not None:
        rows.append(("panel disagreement (mean)", fmt(report.disagreement)))
    c = report.consistency
    if c:
        rows.append(("3-cycles / judged triads", f"{c['cycles']} / {c['triads']}"))
        rows.append(("Bradley–Terry residual (RMS)", fmt(c["residual"])))
    table = Table(title=f"judge annotate → {Path(report.output).name}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table
