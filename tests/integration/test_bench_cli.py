"""``judge bench`` as a user runs it: the console script on the real embedded model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.integration.test_cli import judge_cli

pytestmark = pytest.mark.slow
DATA = REPO / "tests" / "data" / "bench"


@pytest.fixture
def home(model_home: dict[str, Any]) -> Path:
    return Path(model_home["root"])


def test_rewardbench_layout_json_report_and_per_item_output(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "items.jsonl"
    run = judge_cli(
        "bench",
        "--data",
        str(DATA / "rewardbench_small.jsonl"),
        "--limit",
        "1",
        "--json",
        "--output",
        str(out),
        home=home,
        cache=tmp_path / "c",
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["strategy"] == "pairwise" and report["judge"]["swap"] == "both"
    (only,) = report["files"]
    assert only["format"] == "generic"
    assert [s["name"] for s in only["subsets"]] == ["chat", "math"]
    overall = report["overall"]
    assert overall["items"] == 2 and overall["failures"] == 0 and overall["judgments"] == 2
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["chat-1", "math-1"]
    # accuracy is recomputed from the per-item verdicts: chosen label vs the winner
    mean = (
        sum(
            {True: 1.0, False: 0.0}[r["results"][0]["winner"] == r["chosen_labels"][0]]
            if r["results"][0]["winner"] != "tie"
            else 0.5
            for r in rows
        )
        / 2
    )
    assert overall["accuracy"] == pytest.approx(mean)
    assert all(len(r["results"][0]["orders"]) == 2 for r in rows)  # swap both: two orders
    assert overall["consistency"] == pytest.approx(
        sum(r["results"][0]["consistent"] for r in rows) / 2
    )


def test_judgebench_layout_scored_both_ways_on_the_real_model(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "items.jsonl"
    run = judge_cli(
        "bench",
        "--data",
        str(DATA / "judgebench_small.jsonl"),
        "--subset",
        "knowledge",
        "--subset",
        "math",
        "--json",
        "--output",
        str(out),
        home=home,
        cache=tmp_path / "c",
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["files"][0]["format"] == "judgebench"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["chosen_labels"] for r in rows] == [["A"], ["B"]]  # the published positions
    # JudgeBench's score recomputed from the two orders each item shows
    votes = [
        sum(
            1 if o["winner"] == r["chosen_labels"][0] else 0 if o["winner"] == "tie" else -1
            for o in r["results"][0]["orders"]
        )
        for r in rows
    ]
    assert report["overall"]["published"]["judgebench"] == pytest.approx(
        sum(v > 0 for v in votes) / 2
    )
    assert report["overall"]["brier"] is not None and report["overall"]["ece"] is not None


def test_rewardbench2_best_of_four_pointwise_table(home: Path, tmp_path: Path) -> None:
    run = judge_cli(
        "bench",
        "--data",
        str(DATA / "rb2_small.jsonl"),
        "--subset",
        "Factuality",
        "--strategy",
        "pointwise",
        home=home,
        cache=tmp_path / "c",
    )
    assert run.returncode == 0, run.stderr
    assert "rb2_small.jsonl · generic · pointwise" in run.stdout
    assert "rubric helpfulness · template pointwise_10 · method logprob · swap=both" in run.stdout


def test_bad_preference_file_is_a_user_error_naming_the_line(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "c", "rejected": "r"}\n{"prompt": "p"}\n')
    run = judge_cli("bench", "--data", str(bad), home=home, cache=tmp_path / "c")
    assert run.returncode == 2
    assert "bad.jsonl:2: missing field 'chosen', 'rejected'" in run.stderr
