"""A newcomer's first hour: missing extras name the exact fix, errors print as written.

The missing-package cases run the real command line in a fresh interpreter in which the
package cannot be found (`tests.without_packages`), as on a machine without it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from judge.cli import app
from tests.conftest import REPO

PAIR = ("--prompt", "p", "--a", "x", "--b", "y")


def without(
    packages: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``judge ARGS`` in a fresh interpreter where ``packages`` are not installed."""
    return subprocess.run(
        [sys.executable, "-m", "tests.without_packages", packages, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def flat(text: str) -> str:
    """``text`` without the error panel's frame and line breaks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize(
    ("hidden", "args", "extra"),
    [
        ("litellm", ("compare", "-m", "openai/gpt-4o-mini", *PAIR), "[api]"),
        ("vllm", ("compare", "-m", "vllm/some-model", *PAIR), "[vllm]"),
        ("uvicorn", ("serve",), "[serve]"),
        ("fastapi", ("serve",), "[serve]"),
        (
            "ray",
            ("annotate", "examples/annotate/candidates.jsonl", "-O", "{tmp}/o.jsonl", "--ray"),
            "[ray]",
        ),
        (
            "pyarrow",
            ("annotate", "examples/annotate/candidates.jsonl", "-O", "{tmp}/o.parquet"),
            "[data]",
        ),
        ("pyarrow", ("bench", "--data", "{tmp}/set.parquet"), "[data]"),
    ],
)
def test_a_missing_extra_names_the_command_that_installs_it(
    hidden: str, args: tuple[str, ...], extra: str, tmp_path: Path
) -> None:
    (tmp_path / "set.parquet").write_bytes(b"PAR1")
    run = without(hidden, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert f"needs the package '{hidden}'" in run.stderr
    # The exact command for this checkout, brackets intact (no markup ate them).
    assert f"{Path(sys.executable).name} -m pip install -e '.{extra}'" in run.stderr
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.parquet").exists()


def test_messages_with_brackets_print_as_written(tmp_path: Path) -> None:
    bad = tmp_path / "run[test].jsonl"
    bad.write_text('{"prompt": "p", "response": "x"}\n{"prompt": \n', encoding="utf-8")
    result = cli("compare", "--outputs-a", str(bad), "--outputs-b", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: invalid JSON" in result.output


def test_a_bad_choice_names_the_value_and_the_choices() -> None:
    result = cli("compare", *PAIR, "--method", "bogus")
    assert result.exit_code == 2
    assert "'bogus' is not one of 'logprob', 'generate'" in flat(result.output)
    result = cli("compare", *PAIR, "--swap", "sideways")
    assert "'sideways' is not one of 'both', 'random', 'none'" in flat(result.output)


def test_a_template_typo_suggests_the_name() -> None:
    result = cli("compare", *PAIR, "--template", "pairwise-tie", "--no-cache")
    assert result.exit_code == 2
    assert "did you mean 'pairwise_tie'?" in result.output
    assert "pointwise_10" in result.output  # and lists every valid name


def test_no_arguments_mentions_the_two_file_mode() -> None:
    result = cli("compare")
    assert result.exit_code == 2
    assert "--outputs-a" in result.output and "--outputs-b" in result.output


@pytest.mark.parametrize(
    ("second", "said"),
    [
        ("", ["{b}: no records"]),  # an empty second file is blamed on itself
        ('{"prompt": "p", "resp', ["{b}:1: invalid JSON", "cut off"]),  # a cut-off last line
    ],
)
def test_a_bad_second_file_is_named_with_what_is_wrong(
    second: str, said: list[str], tmp_path: Path
) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"prompt": "p", "response": "x"}\n', encoding="utf-8")
    b.write_text(second, encoding="utf-8")
    result = cli("compare", "--outputs-a", str(a), "--outputs-b", str(b))
    assert result.exit_code == 2
    for words in said:
        assert words.format(b=b) in result.output


@pytest.mark.slow
def test_bias_without_matplotlib_still_writes_and_prints_its_report(
    model_home: dict[str, Any], tmp_path: Path
) -> None:
    data = tmp_path / "pairs.jsonl"
    # A spreadsheet export: UTF-8 with a byte-order mark before the first record.
    data.write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps({"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}).encode()
        + b"\n"
    )
    env = dict(os.environ, JUDGE_CACHE_DIR=str(model_home["root"]))
    run = without(
        "matplotlib",
        "bias",
        str(data),
        "--probes",
        "none",
        "--swaps",
        "none",
        "--out",
        str(tmp_path / "report"),
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "no bias.png this run" in run.stderr and "'.[report]'" in run.stderr
    assert "judging: 0/1 calls" in run.stderr  # progress lines when stderr is a pipe
    markdown = (tmp_path / "report" / "bias.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Bias report")
    assert run.stdout.strip() == markdown.strip()  # the report itself, on stdout
    assert (tmp_path / "report" / "bias.json").is_file()
    assert not (tmp_path / "report" / "bias.png").exists()
