"""The ``judge`` command line. Each subcommand lives in its own module.

Exit codes: 0 every judgment has a verdict; 1 some judgments failed (they are
reported, never scored); 2 a usage or input error; 3 a backend error.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from judge.cli import cache as cache_cmd
from judge.cli.annotate import annotate_command
from judge.cli.bench import bench
from judge.cli.bias import bias
from judge.cli.compare import compare
from judge.cli.output import labelled, stderr
from judge.cli.rank import rank_command
from judge.cli.rubrics import rubrics
from judge.cli.serve import serve
from judge.errors import BackendError, JudgeError

EXIT_USER_ERROR = 2
EXIT_BACKEND_ERROR = 3

F = TypeVar("F", bound=Callable[..., Any])


def reporting_errors(command: F) -> F:
    """Turn our errors into a one-line message and a meaningful exit code."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BackendError as exc:
            stderr.print(labelled("backend error", str(exc)), soft_wrap=True)
            raise typer.Exit(EXIT_BACKEND_ERROR) from exc
        except JudgeError as exc:
            stderr.print(labelled("error", str(exc)), soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from exc

    return run  # type: ignore[return-value]


app = typer.Typer(
    help="Turn any LLM into a judge, and any judge into a reward model.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(reporting_errors(compare))
app.command()(reporting_errors(bench))
app.command()(reporting_errors(bias))
app.command("rank")(reporting_errors(rank_command))
app.command("annotate")(reporting_errors(annotate_command))
app.command()(reporting_errors(rubrics))
app.command()(reporting_errors(serve))
cache_cmd.app.registered_commands = [
    typer.models.CommandInfo(name=info.name, callback=reporting_errors(info.callback))
    if info.callback
    else info
    for info in cache_cmd.app.registered_commands
]
app.add_typer(cache_cmd.app, name="cache")


def main() -> None:
    """Console-script entry point."""
    # This process is an application, so it may quiet the model loaders' progress
    # bars; the library itself never changes such global settings.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    app()
