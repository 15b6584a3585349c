"""Exit codes of the ``judge`` commands, and the wrapper that maps our errors onto them.

0 every judgment has a verdict; 1 some judgments failed (they are reported, never
scored); 2 a usage or input error; 3 a backend error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from judge.cli.output import labelled, stderr
from judge.errors import BackendError, JudgeError

EXIT_FAILED_JUDGMENTS = 1
EXIT_USER_ERROR = 2
EXIT_BACKEND_ERROR = 3

P = ParamSpec("P")
R = TypeVar("R")


def reporting_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn our errors into a one-line message and a meaningful exit code.

    Wrap a command where it is registered, e.g. ``app.command()(reporting_errors(fn))``;
    typer still reads ``fn``'s own signature through the wrapper.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except BackendError as exc:
            stderr.print(labelled("backend error", str(exc)), soft_wrap=True)
            raise typer.Exit(EXIT_BACKEND_ERROR) from exc
        except JudgeError as exc:
            stderr.print(labelled("error", str(exc)), soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from exc

    return run
