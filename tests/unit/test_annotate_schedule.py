"""Schedule pairing in annotation jobs, and the intransitivity line of the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge import UserError
from judge.annotate import Pairing
from judge.annotate.report import intransitivity
from judge.annotate.sources import Record
from tests.unit.test_annotate import FakeLengthJudge, _run, _write

ROWS = [
    {"prompt": f"question {i}", "candidates": ["a" * (i + 1), "bbbb" * (i + 1), "cc"], "best": 1}
    for i in range(5)
]


def test_schedule_pairing_is_sparse_stable_and_named() -> None:
    record = Record("p", tuple(f"c{i}" for i in range(8)), "x:1")
    ring = Pairing("schedule", schedule="ring", seed=1)
    slots = ring.slots(record)
    assert len(slots) == 8 and slots == Pairing("schedule", schedule="ring", seed=1).slots(record)
    shown = [int(i) for s in slots for i in s.split("-")]
    assert sorted(shown) == sorted(list(range(8)) * 2)  # every candidate in two pairs
    assert len(Pairing("schedule", schedule="regular:4").slots(record)) == 16
    assert ring.describe() == {"strategy": "schedule", "schedule": "ring", "seed": 1}
    with pytest.raises(UserError, match="unknown schedule"):
        Pairing("schedule", schedule="knockout")


def test_report_counts_three_cycles(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", ROWS)
    report = _run(
        source,
        tmp_path / "out.jsonl",
        FakeLengthJudge(),
        pairing=Pairing("schedule", schedule="ring"),
    )
    assert report.rows == 15  # three candidates: the ring is every pair
    # The fake prefers the longer response: transitive. Record 1 has two candidates of
    # equal length ("aa", "cc": P = 0.5), so its triad has no winner on one side.
    assert report.consistency["triads"] == 4
    assert report.consistency["cycles"] == 0
    cyclic = intransitivity([[(0, 1, 0.9), (1, 2, 0.8), (2, 0, 0.7)]])
    assert (cyclic["triads"], cyclic["cycles"], cyclic["cycle_share"]) == (1, 1, 1.0)
    assert intransitivity([[(0, 1, 0.9)]]) == {}  # two candidates: no triad, no report


def test_cli_schedule_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from judge.backends import registry
    from judge.cli import app

    monkeypatch.setitem(registry._FACTORIES, "fake", lambda name, **_: FakeLengthJudge())
    source = _write(
        tmp_path / "in.jsonl", [{"prompt": "q", "candidates": ["x" * n for n in range(1, 7)]}]
    )
    out = tmp_path / "out.jsonl"
    args = ["annotate", str(source), "-O", str(out), "--model", "fake/length", "--no-cache"]
    result = CliRunner().invoke(app, [*args, "--schedule", "ring"])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 6  # a ring of 6, not all 15 pairs
    assert "3-cycles / judged triads" in result.stdout
    refused = CliRunner().invoke(
        app, [*args, "--overwrite", "--schedule", "ring", "--pairing", "adjacent"]
    )
    assert refused.exit_code != 0 and "drop --pairing adjacent" in refused.output
