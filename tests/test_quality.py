"""The code base stays ruff- and mypy-clean (part of the suite, so CI enforces it)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)


def test_ruff_is_clean() -> None:
    run = run_tool("ruff", "check", "judge", "tests", "benchmarks")
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_is_clean() -> None:
    run = run_tool("mypy")
    assert run.returncode == 0, run.stdout + run.stderr


def test_import_judge_is_light() -> None:
    code = ("import sys, judge; heavy = {'torch', 'transformers', 'outlines', 'diskcache', "
            "'litellm', 'vllm'} & set(sys.modules); print(sorted(heavy))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert run.stdout.strip() == "[]"
