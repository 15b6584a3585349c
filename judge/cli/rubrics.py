"""``judge rubrics``: the shipped rubrics and task templates, with their variables."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from judge.cli import options as opt
from judge.cli.output import print_json, stdout
from judge.templates import JudgeTemplate
from judge.templates.resources import Kind, shipped_names

ENGINE_VARIABLES = ("rubric", "method")  # filled in by the judge, not by the user
KINDS: tuple[Kind, ...] = ("rubrics", "prompts")


@dataclass(frozen=True)
class Row:
    """One shipped template, as listed."""

    kind: str
    name: str
    description: str
    verdict: str
    labels: list[str]
    scale: list[int] | None
    needs: list[str]


def describe(kind: Kind, name: str) -> Row:
    """What a shipped template asks for and what verdict it gives."""
    spec = JudgeTemplate.shipped(kind, name).spec
    needs = list(spec.requires) + [v for v in spec.variables if v not in ENGINE_VARIABLES]
    return Row(
        kind.rstrip("s"),
        name,
        spec.description,
        spec.verdict,
        list(spec.labels),
        list(spec.scale) if spec.scale else None,
        needs,
    )


def rubrics(json_out: opt.Json = False) -> None:
    """List the shipped rubrics and task templates with their variables."""
    rows = [describe(kind, name) for kind in KINDS for name in shipped_names(kind)]
    if json_out:
        print_json(rows)
        return
    rubric_table = Table(title="rubrics (--rubric)")
    task_table = Table(title="task templates (--template)")
    for table in (rubric_table, task_table):
        table.add_column("name", no_wrap=True)
        table.add_column("needs")
        table.add_column("description")
    task_table.add_column("verdict", no_wrap=True)
    for row in rows:
        cells = [row.name, ", ".join(row.needs), row.description]
        if row.kind == "rubric":
            rubric_table.add_row(*cells)
        else:
            shape = "/".join(row.labels) or (f"{row.scale[0]}–{row.scale[1]}" if row.scale else "")
            task_table.add_row(*cells, f"{row.verdict} {shape}")
    stdout.print(rubric_table)
    stdout.print(task_table)
