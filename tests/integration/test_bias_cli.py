"""``judge bias`` and the length-controlled ``judge compare`` on the real embedded model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge import Judge
from judge.backends.base import Backend
from judge.verdicts import PairwiseResult
from tests.integration.test_cli import home, judge_cli

pytestmark = pytest.mark.slow
__all__ = ["home"]  # the fixture, re-used from the CLI tests


def test_bias_report_on_probe_items(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    run = judge_cli(
        "bias",
        "--probes",
        "identical,short_correct",
        "--limit",
        "2",
        "--swaps",
        "both,none",
        "--out",
        str(out),
        "--json",
        home=home,
        cache=tmp_path / "c",
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert json.loads((out / "bias.json").read_text()) == report
    assert (out / "bias.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## probe:identical (2 pairs)" in (out / "bias.md").read_text()
    identical, short = report["sets"]
    both, none = identical["modes"]["both"], identical["modes"]["none"]
    assert both["judged"] == none["judged"] == 2
    # The same answer twice: both orders are one prompt, so swapping cancels exactly.
    assert identical["headline"]["by_mode"]["both"] == pytest.approx(0.0, abs=1e-6)
    assert none["tie_deviation"] >= abs(none["p_first"] - 0.5) - 1e-9  # mean |x| ≥ |mean x|
    assert short["modes"]["both"]["accuracy"] is not None
    assert report["stability"]["applicable"] is False


def test_compare_reports_the_length_controlled_rate(home: Path, tmp_path: Path) -> None:
    prompts = ["Name a primary colour.", "What is 3 + 4?", "Say hello in French."]
    sides = {
        "a": ["Red.", "3 + 4 = 7, since adding four to three gives seven.", "Bonjour."],
        "b": ["Blue is one, as are red and yellow.", "7", "Bonjour ! (hello)"],
    }
    for side, answers in sides.items():
        (tmp_path / f"{side}.jsonl").write_text(
            "".join(
                json.dumps({"prompt": p, "response": r}) + "\n"
                for p, r in zip(prompts, answers, strict=True)
            )
        )
    run = judge_cli(
        "compare",
        "--outputs-a",
        str(tmp_path / "a.jsonl"),
        "--outputs-b",
        str(tmp_path / "b.jsonl"),
        "--json",
        home=home,
        cache=tmp_path / "c",
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    lc = summary["length_controlled"]
    assert lc["n"] == summary["n"] == 3
    assert lc["raw_win_rate"] == pytest.approx(summary["win_rate"])
    assert lc["raw_ci"] == pytest.approx([summary["ci_low"], summary["ci_high"]])
    assert lc["lc_ci"][0] <= lc["lc_win_rate"] <= lc["lc_ci"][1]
    assert lc["length_coef"] is not None


def _raw(result: PairwiseResult) -> str | None:
    return result.orders[0].raw_output if result.ok else result.raw_output


def test_sampling_seed_reaches_the_real_model(smollm: Backend) -> None:
    def sample(seed: int) -> str | None:
        judge = Judge(
            smollm,
            method="generate",
            temperature=1.0,
            seed=seed,
            swap="none",
            cache=False,
            max_new_tokens=24,
        )
        return _raw(judge.compare("What is 2 + 2?", "4", "5"))

    first, again, other = sample(0), sample(0), sample(1)
    assert first is not None and first == again
    assert other != first
