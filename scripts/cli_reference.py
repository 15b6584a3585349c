"""Write the command-line reference (docs/cli.md) from the CLI itself, so it cannot drift.

    .venv/bin/python scripts/cli_reference.py          # rewrite docs/cli.md
    .venv/bin/python scripts/cli_reference.py --check  # exit 1 if docs/cli.md is stale

The test suite runs ``--check``: change a command's options or help, then run this.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer.main

from judge.cli import app

OUT = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
HEADER = """# Command-line reference

Generated from the command line itself by `scripts/cli_reference.py` (the test suite
checks that it is current). Exit codes of every command: `0` every judgment has a
verdict; `1` some judgments failed (reported, never scored); `2` a usage or input
error; `3` a backend error.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _command(path: str, command: Any) -> list[str]:
    ctx = command.make_context(path, [], resilient_parsing=True)
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [
        f"## `{path}`",
        "",
        "```text",
        f"{path} {usage}".rstrip(),
        "",
        (command.help or "").strip(),
        "```",
        "",
    ]
    rows = [p.get_help_record(ctx) for p in command.params]
    rows = [r for r in rows if r]
    if rows:
        lines += ["| argument or option | meaning |", "|---|---|"]
        lines += [f"| `{_cell(name)}` | {_cell(meaning)} |" for name, meaning in rows]
        lines.append("")
    return lines


def _walk(path: str, command: Any) -> list[str]:
    if not hasattr(command, "commands"):
        return _command(path, command)
    lines: list[str] = []
    for name, sub in command.commands.items():
        lines += _walk(f"{path} {name}", sub)
    return lines


def reference() -> str:
    """The whole reference as markdown."""
    root = typer.main.get_command(app)
    return "\n".join([HEADER, *_walk("judge", root)]).rstrip() + "\n"


def main() -> int:
    """Write or check docs/cli.md."""
    text = reference()
    if "--check" in sys.argv[1:]:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is stale: run .venv/bin/python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
