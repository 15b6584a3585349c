"""The ``judge`` command line. Each subcommand lives in its own module.

Exit codes: 0 every judgment has a verdict; 1 some judgments failed (they are
reported, never scored); 2 a usage or input error; 3 a backend error.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from judge.cli import cache as cache_cmd
from judge.cli.annotate import annotate_command
from judge.cli.bench import bench
from judge.cli.bias import bias
from judge.cli.compare import compare
from judge.cli.exits import reporting_errors
from judge.cli.rank import rank_command
from judge.cli.rubrics import rubrics
from judge.cli.serve import serve

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
app.add_typer(cache_cmd.app, name="cache")


def main() -> None:
    """Console-script entry point."""
    # This process is an application, so it may quiet the model loaders' progress
    # bars; the library itself never changes such global settings.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    app()
