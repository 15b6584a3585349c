"""The ``judge`` console script, run as a user runs it: a subprocess on the real model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
EXAMPLES = REPO / "examples"


def judge_cli(
    *args: str, home: Path, cache: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``judge`` with the session's converted model and an optional own cache dir."""
    env = dict(os.environ, JUDGE_CACHE_DIR=str(cache or home))
    if cache is not None:  # reuse the session's converted model instead of converting again
        (cache / "models").mkdir(parents=True, exist_ok=True)
        link = cache / "models" / "SmolLM2-135M-Instruct-Q4_1-f32"
        if not link.exists():
            link.symlink_to(home / "models" / "SmolLM2-135M-Instruct-Q4_1-f32")
    script = shutil.which("judge", path=str(Path(sys.executable).parent)) or "judge"
    return subprocess.run(
        [script, *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


@pytest.fixture
def home(model_home: dict[str, Any]) -> Path:
    return Path(model_home["root"])


def test_compare_two_output_files_reports_win_rate(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "verdicts.jsonl"
    run = judge_cli(
        "compare",
        "--outputs-a",
        str(EXAMPLES / "model_a.jsonl"),
        "--outputs-b",
        str(EXAMPLES / "model_b.jsonl"),
        "--json",
        "--output",
        str(out),
        home=home,
        cache=tmp_path / "c",
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["n"] == 8 and summary["failures"] == 0
    assert summary["ci_low"] <= summary["win_rate"] <= summary["ci_high"]
    assert 0.0 <= summary["consistency"] <= 1.0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 8 and all(r["result"]["ok"] for r in rows)
    outcome = {"A": 1.0, "tie": 0.5, "B": 0.0}
    mean = sum(outcome[r["result"]["winner"]] for r in rows) / 8
    assert summary["win_rate"] == pytest.approx(mean)


def test_compare_one_pair_from_files_and_rich_table(home: Path, tmp_path: Path) -> None:
    pair = EXAMPLES / "pair"
    run = judge_cli(
        "compare",
        "--prompt-file",
        str(pair / "prompt.txt"),
        "--a-file",
        str(pair / "a.txt"),
        "--b-file",
        str(pair / "b.txt"),
        home=home,
        cache=tmp_path / "c",
    )
    assert run.returncode == 0, run.stderr
    assert "combined" in run.stdout and "position-consistent" in run.stdout


def test_cache_info_clear_and_no_cache(home: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    args = ("compare", "--prompt", "Hi", "--a", "Hello", "--b", "Hey", "--json")
    assert judge_cli(*args, "--no-cache", home=home, cache=cache).returncode == 0
    info = json.loads(judge_cli("cache", "info", "--json", home=home, cache=cache).stdout)
    assert info["entries"] == 0
    assert judge_cli(*args, home=home, cache=cache).returncode == 0
    info = json.loads(judge_cli("cache", "info", "--json", home=home, cache=cache).stdout)
    assert info["entries"] == 2  # both orders
    cleared = judge_cli("cache", "clear", "--yes", home=home, cache=cache)
    assert "removed 2" in cleared.stdout
    info = json.loads(judge_cli("cache", "info", "--json", home=home, cache=cache).stdout)
    assert info["entries"] == 0


def test_rubrics_lists_every_shipped_template(home: Path) -> None:
    run = judge_cli("rubrics", "--json", home=home)
    names = {row["name"] for row in json.loads(run.stdout)}
    assert {
        "helpfulness",
        "harmlessness",
        "honesty",
        "factual_correctness",
        "instruction_following",
        "reference_correctness",
        "pairwise",
        "pairwise_tie",
        "pairwise_reference",
        "pointwise_10",
        "pointwise_5",
        "pointwise_reference",
    } <= names


def test_malformed_jsonl_names_file_and_line(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "response": "b"}\n\n{"prompt": "c", oops}\n')
    run = judge_cli(
        "compare",
        "--outputs-a",
        str(EXAMPLES / "model_a.jsonl"),
        "--outputs-b",
        str(bad),
        home=home,
    )
    assert run.returncode == 2
    assert f"{bad}:3: invalid JSON" in " ".join(run.stderr.split())


def test_unmatched_prompts_and_missing_fields_are_clear_errors(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text('{"prompt": "not in A", "response": "x"}\n')
    run = judge_cli(
        "compare",
        "--outputs-a",
        str(EXAMPLES / "model_a.jsonl"),
        "--outputs-b",
        str(other),
        home=home,
    )
    assert run.returncode == 2 and "no match in the other file" in " ".join(run.stderr.split())
    nofield = tmp_path / "nofield.jsonl"
    nofield.write_text('{"question": "q", "response": "x"}\n')
    run = judge_cli("compare", "--outputs-a", str(nofield), "--outputs-b", str(nofield), home=home)
    assert run.returncode == 2 and f"{nofield}:1: missing field 'prompt'" in run.stderr


def test_unknown_rubric_lists_the_available_ones(home: Path) -> None:
    run = judge_cli(
        "compare", "--rubric", "kindness", "--prompt", "x", "--a", "y", "--b", "z", home=home
    )
    assert run.returncode == 2
    assert "unknown rubric 'kindness'" in run.stderr and "helpfulness" in run.stderr


def test_missing_template_variable_is_named(home: Path, tmp_path: Path) -> None:
    template = tmp_path / "mine.j2"
    template.write_text(
        '{#---\nverdict = "pairwise"\nlabels = ["A", "B"]\n'
        'variables = ["rubric", "method", "prompt", "response_a", '
        '"response_b", "context"]\n---#}\n{{ rubric }} {{ method }} '
        "{{ prompt }} {{ context }} {{ response_a }} {{ response_b }}\n"
    )
    run = judge_cli(
        "compare",
        "--template-file",
        str(template),
        "--prompt",
        "x",
        "--a",
        "y",
        "--b",
        "z",
        home=home,
    )
    assert run.returncode == 2 and "needs 'context'" in run.stderr
