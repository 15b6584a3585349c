"""``judge bench`` end to end on fake backends: several files, layouts, calibration, width."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from judge.backends import registry
from judge.calibration import Calibrator
from judge.cli import app
from tests.conftest import REPO
from tests.unit.test_engine_fake import FakeBackend

DATA = REPO / "tests" / "data" / "bench"
LLMBAR = REPO / "benchmarks" / "data" / "llmbar.jsonl"


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fake/good``: prefers the response containing GOOD, P = 0.8 (over-confident)."""
    monkeypatch.setitem(
        registry._FACTORIES,
        "fake",
        lambda name, **_: FakeBackend(prefer="GOOD", name=f"fake/{name}"),
    )


def bench(*args: str) -> tuple[int, str]:
    """Exit code and stdout; on failure, everything printed (errors go to stderr)."""
    result = CliRunner().invoke(app, ["bench", "--model", "fake/good", "--no-cache", *args])
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def test_several_suites_one_table_each_and_an_overall_line_within_80_columns() -> None:
    code, out = bench(
        "--data",
        str(DATA / "judgebench_small.jsonl"),
        "--data",
        str(DATA / "rmbench_small.jsonl"),
        "--data",
        str(DATA / "mtbench_human_small.jsonl"),
    )
    assert code == 0, out
    assert "judgebench_small.jsonl · judgebench · pairwise" in out
    assert "rmbench_small.jsonl · rm-bench · pairwise" in out
    assert "mtbench_human_small.jsonl · mt-bench-human · pairwise" in out
    assert "overall · JudgeBench: both orders 1.000 · one order 1.000" in out
    assert "overall · RM-Bench: hard 1.000 · normal 1.000 · easy 1.000" in out
    assert "overall · humans: agree 0.600 · w/o ties 1.000 · human–human 0.250" in out
    assert "overall: 8 items" in out  # 4 JudgeBench + 2 RM-Bench + 2 MT-Bench pairs
    assert "command: " in out and "template pairwise" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_long_subset_names_lose_their_shared_prefix_and_fit_80_columns() -> None:
    code, out = bench("--data", str(LLMBAR), "--limit", "2")
    assert code == 0, out
    assert "llmbar.jsonl · generic · pairwise · subsets llmbar-…" in out
    assert " adversarial-neighbor " in out and " natural " in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_json_keeps_everything_and_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    items = tmp_path / "items.jsonl"
    args = [
        "--data",
        str(DATA / "human_small.jsonl"),
        "--data",
        str(DATA / "rb2_ties_small.jsonl"),
        "--output",
        str(items),
        "--json",
    ]
    monkeypatch.setattr("sys.argv", ["/usr/bin/judge", "bench", *args])
    code, out = bench(*args)
    assert code == 0, out
    report = json.loads(out)
    assert [f["format"] for f in report["files"]] == ["human", "generic"]
    human = report["files"][0]["overall"]
    assert human["published"]["agreement_with_ties"] is not None and human["kappa"] is not None
    assert human["brier"] is not None and human["ece"] is not None
    assert report["command"] == "judge bench " + " ".join(args)
    assert report["judge"]["model"] == "fake/good"
    rows = [json.loads(line) for line in items.read_text().splitlines()]
    assert [(Path(r["data"]).name, r["protocol"]) for r in rows] == [
        ("human_small.jsonl", "human")
    ] * 3 + [("rb2_ties_small.jsonl", "rewardbench2-ties")] * 2
    assert rows[0]["votes"] == ["A", "A", "tie"] and len(rows[4]["cells"]) == 3
    assert report["overall"]["items"] == 5


def test_fit_calibration_held_apart_then_load_it(tmp_path: Path) -> None:
    cal, png = tmp_path / "cal.json", tmp_path / "rel.png"
    data = ["--data", str(LLMBAR), "--limit", "30", "--swap", "none"]
    code, out = bench(*data, "--fit-calibration", str(cal), "--reliability", str(png))
    assert code == 0, out
    fitted = Calibrator.load(cal)
    assert fitted.kind == "temperature" and fitted.fitted_on > 0
    assert "held apart" in out and "ECE" in out and png.read_bytes()[:4] == b"\x89PNG"
    code, out = bench(*data, "--calibration", str(cal), "--json")
    report = json.loads(out)
    assert report["judge"]["calibration"]["kind"] == "temperature"
    assert report["overall"]["raw_ece"] is not None and report["overall"]["ece"] is not None


def test_fit_calibration_without_pairwise_verdicts_is_a_clear_error(tmp_path: Path) -> None:
    code, out = bench(
        "--data",
        str(DATA / "rb2_small.jsonl"),
        "--strategy",
        "pointwise",
        "--fit-calibration",
        str(tmp_path / "cal.json"),
    )
    assert code == 2 and "needs at least 2 judged pairwise comparisons" in out


def test_bad_format_and_bad_record_before_any_judging(tmp_path: Path) -> None:
    code, out = bench("--data", str(DATA / "human_small.jsonl"), "--format", "csv")
    assert code == 2 and "--format must be one of" in out
    bad = tmp_path / "jb.jsonl"
    bad.write_text(
        json.dumps({"question": "q", "response_A": "a", "response_B": "b", "label": "A=B"}) + "\n"
    )
    code, out = bench("--data", str(DATA / "human_small.jsonl"), "--data", str(bad))
    assert code == 2 and "jb.jsonl:1: field 'label' must be A>B or B>A" in out


def test_fit_calibration_on_a_panel_is_refused_before_any_judging(tmp_path: Path) -> None:
    cal = tmp_path / "cal.json"
    args = ["--data", str(LLMBAR), "--panel-rubric", "instruction_following"]
    code, out = bench(*args, "--fit-calibration", str(cal))
    assert code == 2 and "--fit-calibration" in out and "--panel-rubric" in out
    assert not cal.exists()
