"""Which rows a ``bench_protocols.py`` run measures and which section it writes (pure logic)."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.bench_protocols import DEFAULT_MODELS, GROUPS, PROTOCOLS, generating, section_suffix


def run(rows: str = "all", **settings: object) -> argparse.Namespace:
    defaults = {"engine": "transformers", "models": DEFAULT_MODELS, "rubric": "helpfulness"}
    return argparse.Namespace(rows=rows, **{**defaults, **settings})


@pytest.mark.parametrize(
    ("rows", "groups"),
    [
        ("all", {"default", "panel", "one-order", "pointwise", "generate"}),
        ("logprob", {"default", "panel", "one-order", "pointwise"}),
        ("generate", {"generate"}),
        ("pointwise", {"pointwise"}),
        ("default", {"default"}),
    ],
)
def test_each_rows_choice_runs_its_groups(rows: str, groups: set[str]) -> None:
    assert GROUPS[rows] == groups
    assert generating(run(rows)) == ("generate" in groups)


def test_the_default_run_writes_the_plain_section() -> None:
    assert section_suffix(run(), PROTOCOLS) == ""


def test_another_rubric_model_or_subset_of_protocols_gets_its_own_section() -> None:
    chosen = ["commit-first"]
    args = run("default", models=["Qwen2.5-Coder-1.5B"], rubric="instruction_following")
    assert section_suffix(args, chosen) == "-default-qwen2.5-coder-1.5b-instruction-following"
    generate = run("generate", engine="vllm", models=["Qwen2.5-Coder-1.5B"])
    assert section_suffix(generate, chosen) == "-generate-vllm-qwen2.5-coder-1.5b-commit-first"
