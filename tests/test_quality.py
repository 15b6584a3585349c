"""The code base stays ruff-clean, ruff-formatted and mypy-clean (CI enforces it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_ruff_is_clean() -> None:
    run = run_tool("ruff", "check", "judge", "tests", "benchmarks")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_format_is_clean() -> None:
    run = run_tool("ruff", "format", "--check", ".")
    assert run.returncode == 0, "run `ruff format .`:\n" + run.stdout + run.stderr


def test_mypy_is_clean() -> None:
    run = run_tool("mypy")
    assert run.returncode == 0, run.stdout + run.stderr


def test_import_judge_is_light() -> None:
    code = (
        "import sys, judge; heavy = {'torch', 'transformers', 'outlines', 'diskcache', "
        "'litellm', 'vllm'} & set(sys.modules); print(sorted(heavy))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# A path that leaves the repository: "../x" in a string, or Path(...).parents[N] / "x"
# climbing above the repository root. A user's clone has nothing beside it.
OUTSIDE = re.compile(r"""["'`(]\.\./\w|parents\[[2-9]\]\s*/""")


def test_nothing_reads_a_path_outside_the_repository() -> None:
    files = [
        p
        for top in ("judge", "tests", "benchmarks", "examples", "scripts", ".ci")
        for p in (REPO / top).rglob("*")
        if p.suffix in {".py", ".sh", ".toml", ""} and p.is_file() and ".peers" not in p.parts
    ]
    files += [
        REPO / "README.md",
        REPO / "pyproject.toml",
        REPO / "mkdocs.yml",
        *(REPO / "docs").glob("*.md"),
    ]
    hits = [
        f"{p.relative_to(REPO)}:{n}: {line.strip()}"
        for p in files
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line) and p != Path(__file__)
    ]
    assert not hits, "paths outside the repository:\n" + "\n".join(hits)
