"""Options shared by the judging commands, and building a `Judge` from them.

Every judging command (compare, bench, bias, rank, annotate, serve) declares the
shared options as its own parameters with the aliases below, defaults from `DEFAULT`
(the `Judge`'s own), and passes their values to `JudgeOptions`, which builds the judge.
The declarations repeat on purpose: typer reads a command's options from its plain
signature and cannot expand one parameter into several (fastapi/typer#154), and the
alternatives (rewriting ``__signature__``, a custom click command class) hide the
options from readers and type checkers; mypy checks each command's values against
`JudgeOptions`, and ``tests/unit/test_cli_options.py`` that every command declares
every option with the same default. Choices are `Literal` types, which typer checks
and lists in ``--help``.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from judge.backends.registry import LITELLM_PROVIDERS
from judge.engine.fit import OnOverflow as OverflowPolicy
from judge.errors import UserError
from judge.judge import DEFAULT_RUBRIC as DEFAULT_RUBRIC  # the CLI default of --rubric
from judge.judge import Judge, JudgeConfig
from judge.protocols.named import ProtocolName
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
Protocol = Annotated[
    ProtocolName,
    typer.Option(
        help="plain (the method alone), reason-then-read, self-consistency, commit-first, "
        "one-order (one order per pair, the fitted position prior removed), by-scores (each "
        "response scored alone), hybrid (the plain verdict averaged with by-scores'), "
        "split-merge (the responses cut in three parts, shown interleaved), pmi (the response "
        "the prompt explains best, by its PMI with the prompt) or pmi-hybrid (the plain "
        "verdict averaged with pmi's)"
    ),
]
Samples = Annotated[int, typer.Option(min=2, help="rationales per order for self-consistency")]
PanelRubric = Annotated[
    list[str] | None,
    typer.Option(
        "--panel-rubric",
        help="also judge by this shipped rubric on the same model (repeatable): a panel, "
        "its mean verdict and the members' disagreement",
    ),
]
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

DEFAULT = JudgeConfig()  # the defaults of `Judge`, so the two cannot differ


@dataclass(frozen=True)
class JudgeOptions:
    """The shared judging options of one command line, as one typed value.

    Each judging command declares these options itself (the aliases above, defaults
    from `DEFAULT`) and hands their values here; `build` turns them into the `Judge`.
    Field names are the options' parameter names (``--no-cache`` is ``no_cache``).
    """

    model: str | None = None
    rubric: str = DEFAULT_RUBRIC
    rubric_file: Path | None = None
    template: str | None = None
    template_file: Path | None = None
    method: VerdictMethod = DEFAULT.method
    swap: SwapMode = DEFAULT.swap
    seed: int = DEFAULT.seed
    temperature: float = DEFAULT.temperature
    max_new_tokens: int = DEFAULT.max_new_tokens
    no_cache: bool = False
    batch_size: int | None = DEFAULT.batch_size
    on_overflow: OverflowPolicy = DEFAULT.on_overflow
    calibration: Path | None = None
    api_base: str | None = None
    backend_option: Sequence[str] | None = None

    def build(self) -> Judge:
        """The `Judge` these options describe; ``--rubric-file``/``--template-file`` win.

        Raises:
            UserError: a malformed ``-o`` pair, an unknown rubric or template, or an
                invalid setting.
        """
        rubric: str | JudgeTemplate = (
            JudgeTemplate.from_file(self.rubric_file) if self.rubric_file else self.rubric
        )
        template: str | JudgeTemplate | None = (
            JudgeTemplate.from_file(self.template_file) if self.template_file else self.template
        )
        if self.model and _is_litellm(self.model):
            quiet_litellm()
        return Judge(
            self.model,
            rubric=rubric,
            template=template,
            cache=not self.no_cache,
            backend_options=backend_options(self.api_base, self.backend_option),
            method=self.method,
            swap=self.swap,
            seed=self.seed,
            on_overflow=self.on_overflow,
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            batch_size=self.batch_size,
            calibration=self.calibration,
        )


def backend_options(api_base: str | None, pairs: Sequence[str] | None) -> dict[str, Any]:
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


def _is_litellm(model: str) -> bool:
    # Without litellm installed the backend itself names the fix.
    provider = model.partition("/")[0]
    return provider in ("litellm", *LITELLM_PROVIDERS) and bool(importlib.util.find_spec("litellm"))


def quiet_litellm() -> None:
    """Stop litellm printing help banners to stdout, which would corrupt ``--json``.

    Only the CLI does this: it owns its process. The library never sets litellm globals.
    """
    from judge.backends.litellm import import_litellm

    import_litellm().suppress_debug_info = True
