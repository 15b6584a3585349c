"""Which rows a ``bench_protocols.py`` run measures and which section it writes (pure logic)."""

from __future__ import annotations

import argparse

from benchmarks.bench_protocols import DEFAULT_MODELS, GROUPS, PROTOCOLS, generating, section_suffix


def run(rows: str = "all", **settings: object) -> argparse.Namespace:
    defaults = {
        "engine": "transformers",
        "models": DEFAULT_MODELS,
        "rubric": "helpfulness",
        "panel_rubric": None,
        "dtype": "auto",
    }
    return argparse.Namespace(rows=rows, **{**defaults, **settings})


def test_all_runs_every_group_and_only_all_and_generate_generate() -> None:
    assert GROUPS["all"] == set().union(*(g for name, g in GROUPS.items() if name != "all"))
    assert [name for name in GROUPS if generating(run(name))] == ["all", "generate"]


def test_the_default_run_writes_the_plain_section() -> None:
    assert section_suffix(run(), PROTOCOLS) == ""


def test_another_rubric_model_protocols_or_precision_gets_its_own_section() -> None:
    chosen = ["commit-first"]
    args = run("default", models=["Qwen2.5-Coder-1.5B"], rubric="instruction_following")
    assert section_suffix(args, chosen) == "-default-qwen2.5-coder-1.5b-instruction-following"
    generate = run("generate", engine="vllm", models=["Qwen2.5-Coder-1.5B"])
    assert section_suffix(generate, chosen) == "-generate-vllm-qwen2.5-coder-1.5b-commit-first"
    panel = run("default", models=["Qwen2.5-Coder-0.5B"], panel_rubric="instruction_following")
    suffix = "-default-qwen2.5-coder-0.5b-panel-instruction-following"
    assert section_suffix(panel, chosen) == suffix
    hybrid = run("hybrid", models=["Qwen2.5-Coder-1.5B"], dtype="bfloat16")
    assert section_suffix(hybrid, chosen) == "-hybrid-qwen2.5-coder-1.5b-bfloat16"
