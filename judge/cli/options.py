"""Options shared by the subcommands, and building a `Judge` from them."""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from judge.backends.registry import LITELLM_PROVIDERS
from judge.engine.fit import OnOverflow as OverflowPolicy
from judge.errors import UserError
from judge.judge import Judge, JudgeConfig
from judge.templates import JudgeTemplate
from judge.verdicts import Method as VerdictMethod
from judge.verdicts import SwapMode

Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="backend/model, e.g. transformers/<dir or id>; default: embedded SmolLM2",
    ),
]
Rubric = Annotated[str, typer.Option("--rubric", "-r", help="shipped rubric (see `judge rubrics`)")]
RubricFile = Annotated[
    Path | None,
    typer.Option("--rubric-file", help="your own rubric template file (overrides --rubric)"),
]
Template = Annotated[
    str | None, typer.Option("--template", "-t", help="shipped task template, e.g. pairwise_tie")
]
TemplateFile = Annotated[
    Path | None,
    typer.Option("--template-file", help="your own task template file (overrides --template)"),
]
Method = Annotated[
    VerdictMethod, typer.Option(help="logprob (verdict-token probabilities) or generate")
]
Swap = Annotated[SwapMode, typer.Option(help="position debiasing: both, random or none")]
Seed = Annotated[int, typer.Option(help="seed for --swap random and bootstrap intervals")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="neither read nor write the cache")]
Json = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]
BatchSize = Annotated[int | None, typer.Option(help="requests per backend batch")]
ApiBase = Annotated[
    str | None,
    typer.Option(help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1"),
]
BackendOption = Annotated[
    list[str] | None,
    typer.Option(
        "--backend-option",
        "-o",
        help="KEY=VALUE passed to the backend (repeatable), e.g. -o concurrency=32",
    ),
]
OnOverflow = Annotated[
    OverflowPolicy,
    typer.Option(
        help="when a prompt exceeds the context: fail (typed failure) or truncate (recorded)"
    ),
]
MaxNewTokens = Annotated[int, typer.Option(min=1, help="generation budget for --method generate")]
Calibration = Annotated[
    Path | None,
    typer.Option(
        help="a calibrator from `judge bench --fit-calibration`: verdicts carry its P(A≻B)",
        exists=True,
        dir_okay=False,
    ),
]
Temperature = Annotated[
    float, typer.Option(min=0.0, help="sampling temperature for --method generate (0 = greedy)")
]

F = TypeVar("F", bound=Callable[..., Any])
_DEFAULT = JudgeConfig()  # the defaults of `Judge`, so the two cannot differ

# The options that choose and configure the judge, shared by every judging command.
_JUDGE_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("model", Model, None),
    ("rubric", Rubric, "helpfulness"),
    ("rubric_file", RubricFile, None),
    ("template", Template, None),
    ("template_file", TemplateFile, None),
    ("method", Method, _DEFAULT.method),
    ("swap", Swap, _DEFAULT.swap),
    ("seed", Seed, _DEFAULT.seed),
    ("temperature", Temperature, _DEFAULT.temperature),
    ("max_new_tokens", MaxNewTokens, _DEFAULT.max_new_tokens),
    ("no_cache", NoCache, False),
    ("batch_size", BatchSize, _DEFAULT.batch_size),
    ("on_overflow", OnOverflow, _DEFAULT.on_overflow),
    ("calibration", Calibration, None),
    ("api_base", ApiBase, None),
    ("backend_option", BackendOption, None),
)


def with_judge(*, omit: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Give a command the shared judge options; it receives the built `Judge` as ``judge``.

    The command declares its own options and a ``judge`` parameter; the shared options
    (all but ``omit``) are appended to its command-line signature and turned into one
    `Judge`, so every judging command accepts and builds them the same way.
    """

    def decorate(command: F) -> F:
        own = [
            p
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.name != "judge"
        ]
        shared = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default
            )
            for name, kind, default in _JUDGE_OPTIONS
            if name not in omit
        ]

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            options = {p.name: kwargs.pop(p.name) for p in shared}
            return command(judge=_judge_from(options), **kwargs)

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run  # type: ignore[return-value]

    return decorate


def _judge_from(options: dict[str, Any]) -> Judge:
    backend = backend_options(options.pop("api_base"), options.pop("backend_option"))
    files = {
        k: options.pop(k) for k in ("model", "rubric", "rubric_file", "template", "template_file")
    }
    options["cache"] = not options.pop("no_cache")
    return build_judge(**files, backend_options=backend, **options)


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


def build_judge(
    model: str | None,
    rubric: str,
    rubric_file: Path | None,
    template: str | None,
    template_file: Path | None,
    **settings: Any,
) -> Judge:
    """A `Judge` from CLI options; file options win over names."""
    chosen_rubric: str | JudgeTemplate = (
        JudgeTemplate.from_file(rubric_file) if rubric_file else rubric
    )
    chosen_template: str | JudgeTemplate | None = (
        JudgeTemplate.from_file(template_file) if template_file else template
    )
    if (
        model
        and model.partition("/")[0] in ("litellm", *LITELLM_PROVIDERS)
        and (importlib.util.find_spec("litellm") is not None)
    ):  # else the backend names the fix
        quiet_litellm()
    return Judge(model, rubric=chosen_rubric, template=chosen_template, **settings)


def quiet_litellm() -> None:
    """Stop litellm printing help banners to stdout, which would corrupt ``--json``.

    Only the CLI does this: it owns its process. The library never sets litellm globals.
    """
    from judge.backends.litellm import _litellm

    _litellm().suppress_debug_info = True
