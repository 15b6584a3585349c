"""Options shared by the subcommands, and building a `Judge` from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from judge.backends.registry import LITELLM_PROVIDERS
from judge.errors import UserError
from judge.judge import Judge
from judge.templates import JudgeTemplate

Model = Annotated[str | None, typer.Option(
    "--model", "-m",
    help="backend/model, e.g. transformers/<dir or id>; default: embedded SmolLM2")]
Rubric = Annotated[str, typer.Option("--rubric", "-r", help="shipped rubric (see `judge rubrics`)")]
RubricFile = Annotated[Path | None, typer.Option(
    "--rubric-file", help="your own rubric template file (overrides --rubric)")]
Template = Annotated[str | None, typer.Option(
    "--template", "-t", help="shipped task template, e.g. pairwise_tie")]
TemplateFile = Annotated[Path | None, typer.Option(
    "--template-file", help="your own task template file (overrides --template)")]
Method = Annotated[str, typer.Option(help="logprob (verdict-token probabilities) or generate")]
Swap = Annotated[str, typer.Option(help="position debiasing: both, random or none")]
Seed = Annotated[int, typer.Option(help="seed for --swap random and bootstrap intervals")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="neither read nor write the cache")]
Json = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]
BatchSize = Annotated[int | None, typer.Option(help="requests per backend batch")]
ApiBase = Annotated[str | None, typer.Option(
    help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")]
BackendOption = Annotated[list[str] | None, typer.Option(
    "--backend-option", "-o",
    help="KEY=VALUE passed to the backend (repeatable), e.g. -o concurrency=32")]
OnOverflow = Annotated[str, typer.Option(
    help="when a prompt exceeds the context: fail (typed failure) or truncate (recorded)")]


def backend_options(api_base: str | None, pairs: list[str] | None) -> dict[str, Any]:
    """``--api-base`` and ``-o KEY=VALUE`` options as backend keyword arguments.

    Values are read as JSON when they parse (numbers, booleans), else kept as text.
    """
    options: dict[str, Any] = {"api_base": api_base} if api_base else {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--backend-option expects KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def build_judge(model: str | None, rubric: str, rubric_file: Path | None,
                template: str | None, template_file: Path | None, **settings: Any) -> Judge:
    """A `Judge` from CLI options; file options win over names."""
    chosen_rubric: str | JudgeTemplate = (
        JudgeTemplate.from_file(rubric_file) if rubric_file else rubric)
    chosen_template: str | JudgeTemplate | None = (
        JudgeTemplate.from_file(template_file) if template_file else template)
    if model and model.partition("/")[0] in ("litellm", *LITELLM_PROVIDERS):
        quiet_litellm()
    return Judge(model, rubric=chosen_rubric, template=chosen_template, **settings)


def quiet_litellm() -> None:
    """Stop litellm printing help banners to stdout, which would corrupt ``--json``.

    Only the CLI does this: it owns its process. The library never sets litellm globals.
    """
    from judge.backends.litellm import _litellm

    _litellm().suppress_debug_info = True
