"""The docs site builds with warnings as errors, and its CLI reference is the CLI's own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_cli_reference_is_generated_from_the_current_cli() -> None:
    run = subprocess.run(
        [sys.executable, "scripts/cli_reference.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def test_docs_build_with_warnings_as_errors(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    run = subprocess.run(
        [str(mkdocs), "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "site" / "rewards" / "index.html").is_file()


def test_readme_is_short_and_links_to_pages_that_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme) < 8000  # a two-minute read; the guide is in docs/
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    assert targets and all((REPO / t).exists() for t in targets if "://" not in t), targets
