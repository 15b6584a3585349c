"""``judge rubrics``: the shipped rubrics and task templates, with their variables."""

from __future__ import annotations

from rich.table import Table

from judge.cli import options as opt
from judge.cli.output import print_json, stdout
from judge.templates import JudgeTemplate
from judge.templates.resources import shipped_names


def _describe(kind: str, name: str) -> dict[str, object]:
    spec = JudgeTemplate.shipped(kind, name).spec  # type: ignore[arg-type]
    shape = (list(spec.labels) if spec.verdict == "pairwise"
             else list(spec.scale) if spec.scale else None)
    return {"kind": kind.rstrip("s"), "name": name, "description": spec.description,
            "verdict": spec.verdict, "labels_or_scale": shape,
            "variables": list(spec.variables), "requires": list(spec.requires)}


def rubrics(json_out: opt.Json = False) -> None:
    """List the shipped rubrics and task templates with their variables."""
    rows = [_describe(kind, name) for kind in ("rubrics", "prompts")
            for name in shipped_names(kind)]  # type: ignore[arg-type]
    if json_out:
        print_json(rows)
        return
    table = Table(title="rubrics (--rubric) and task templates (--template)")
    for column in ("kind", "name", "verdict", "needs"):
        table.add_column(column, no_wrap=True)
    table.add_column("description")
    for row in rows:
        needs = row["requires"] or [v for v in row["variables"]  # type: ignore[attr-defined]
                                    if v not in ("rubric", "method")]
        verdict = f"{row['verdict']} {row['labels_or_scale'] or ''}".strip()
        table.add_row(str(row["kind"]), str(row["name"]), verdict, ", ".join(needs),  # type: ignore[arg-type]
                      str(row["description"]))
    stdout.print(table)
