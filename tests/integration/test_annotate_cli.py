"""``judge annotate`` as a user runs it, on the real embedded model: SIGKILL and resume,
failure rows and exit codes, a datasets directory in and Parquet out."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _env(home: Path, cache: Path) -> dict[str, str]:
    """A fresh judgment cache that reuses the session's converted model."""
    (cache / "models").mkdir(parents=True, exist_ok=True)
    link = cache / "models" / "SmolLM2-135M-Instruct-Q4_1-f32"
    if not link.exists():
        link.symlink_to(home / "models" / "SmolLM2-135M-Instruct-Q4_1-f32")
    return dict(os.environ, JUDGE_CACHE_DIR=str(cache))


def _command(*args: str) -> list[str]:
    script = shutil.which("judge", path=str(Path(sys.executable).parent)) or "judge"
    return [script, "annotate", *args]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def home(model_home: dict[str, Any]) -> Path:
    return Path(model_home["root"])


RECORDS = [
    {"prompt": "Name a fruit.", "candidates": ["An apple.", "A carrot.", "Apple"], "best": 0},
    {"prompt": "What is 3 + 4?", "candidates": ["7", "3 + 4 = 7.", "It is 8."], "best": 1},
]


def test_sigkill_midway_then_the_same_command_finishes_only_what_is_missing(
    home: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    out = tmp_path / "prefs.jsonl"
    command = _command(
        str(source),
        "-O",
        str(out),
        "--gold-field",
        "best",
        "--chunk-size",
        "1",
        "--swap",
        "none",
        "--json",
    )
    env = _env(home, tmp_path / "cache")
    job = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") >= 2:
            break
        assert job.poll() is None, job.communicate()[1].decode()[-2000:]
        time.sleep(0.02)
    assert job.poll() is None, "the job finished before it could be killed"
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)
    assert job.returncode == -signal.SIGKILL
    killed = out.read_bytes()
    complete = killed[: killed.rfind(b"\n") + 1]
    done_before = complete.count(b"\n")
    assert 2 <= done_before < 6, "killed midway"

    rerun = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = json.loads(rerun.stdout)
    assert (report["pairs"], report["resumed"], report["judged"]) == (
        6,
        done_before,
        6 - done_before,
    )
    assert out.read_bytes().startswith(complete)  # finished rows untouched
    rows = _lines(out)  # every line is valid JSON
    assert len(rows) == 6 and len({r["key"] for r in rows}) == 6
    expected = {(f"in.jsonl:{line}", pair) for line in (1, 2) for pair in combinations(range(3), 2)}
    got = {(r["source"], tuple(sorted((r["chosen_index"], r["rejected_index"])))) for r in rows}
    assert got == expected
    assert report["rows"] == 6 and report["stats"]["judged"] == 6
    assert not (tmp_path / "prefs.jsonl.failures.jsonl").exists()


def test_failed_judgments_become_failure_rows_and_exit_code_1(home: Path, tmp_path: Path) -> None:
    huge = "word " * 12000  # longer than the model's context: a typed failure
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"prompt": "Say hi.", "candidates": ["Hi!", huge]})
        + "\n"
        + json.dumps({"prompt": "Say bye.", "candidates": ["Bye.", "Hello."]})
        + "\n"
    )
    out = tmp_path / "prefs.jsonl"
    run = subprocess.run(
        _command(str(source), "-O", str(out), "--swap", "none"),
        env=_env(home, tmp_path / "c"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 1, run.stderr[-2000:]
    assert "failed judgments" in run.stdout and "context_overflow 1" in run.stdout
    (failure,) = _lines(tmp_path / "prefs.jsonl.failures.jsonl")
    assert (failure["source"], failure["reason"]) == ("in.jsonl:1", "context_overflow")
    (row,) = _lines(out)
    assert row["prompt"] == "Say bye." and {row["chosen"], row["rejected"]} == {"Bye.", "Hello."}
    report = json.loads((tmp_path / "prefs.jsonl.report.json").read_text())
    assert report["failures"] == 1 and report["stats"]["failure_reasons"] == {"context_overflow": 1}


def test_datasets_directory_to_conversational_parquet(home: Path, tmp_path: Path) -> None:
    import datasets
    import pyarrow.parquet as pq

    data = datasets.Dataset.from_list(
        [
            {
                "messages": [{"role": "user", "content": "Name a colour."}],
                "good": "Blue.",
                "bad": "Seven.",
            },
            {
                "messages": [{"role": "user", "content": "Name a pet."}],
                "good": "A dog.",
                "bad": "A rock.",
            },
        ]
    )
    data.save_to_disk(str(tmp_path / "ds"))
    out = tmp_path / "prefs.parquet"
    run = subprocess.run(
        _command(
            str(tmp_path / "ds"),
            "-O",
            str(out),
            "--prompt-field",
            "messages",
            "--candidate-columns",
            "good,bad",
            "--gold-column",
            "good",
            "--json",
        ),
        env=_env(home, tmp_path / "c"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == report["rows"] == 2
    for row in rows:
        assert row["prompt"][0]["role"] == "user"
        assert [m["role"] for m in row["chosen"] + row["rejected"]] == ["assistant"] * 2
        assert row["gold"] in ("chosen", "rejected")
        assert 0.5 <= row["judge"]["p_chosen"] <= 1.0
        assert row["judge"]["model"] == "transformers/SmolLM2-135M-Instruct"
    assert report["stats"]["accuracy"] is not None
