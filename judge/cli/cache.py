"""``judge cache info | clear``: where the judgment cache is and how to empty it."""

from __future__ import annotations

import typer

from judge.cache import JudgmentCache
from judge.cli import options as opt
from judge.cli.exits import reporting_errors
from judge.cli.output import print_json, stdout

app = typer.Typer(
    help="Inspect or clear the judgment cache ($JUDGE_CACHE_DIR).", no_args_is_help=True
)


@app.command()
@reporting_errors
def info(json_out: opt.Json = False) -> None:
    """Show the cache directory and how many judgments it holds."""
    cache = JudgmentCache()
    facts = {"directory": str(cache.directory), "entries": len(cache)}
    if json_out:
        print_json(facts)
    else:
        stdout.print(f"{facts['directory']}: {facts['entries']} cached backend outputs")


@app.command()
@reporting_errors
def clear(yes: bool = typer.Option(False, "--yes", help="do not ask")) -> None:
    """Delete every cached judgment (converted models are kept)."""
    cache = JudgmentCache()
    if not yes:
        typer.confirm(f"delete all cached judgments in {cache.directory}?", abort=True)
    stdout.print(f"removed {cache.clear()} entries from {cache.directory}")
