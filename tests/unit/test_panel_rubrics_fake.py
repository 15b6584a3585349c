"""A panel of rubrics on one model (``--panel-rubric``), on a fake that reads the rubric.

`FakeRubricReader` is a fake model, named as one: it reads a pair's verdict as
P(first shown) = 0.3 when the prompt carries the instruction-following rubric and 0.9
otherwise, so each panel member's verdict shows which rubric it was judged by.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from judge import Judge, UserError
from judge.annotate import Filters, annotate
from judge.backends import registry
from judge.backends.base import Backend, Capabilities, LabelRequest, LabelScores
from judge.calibration import Calibrator
from judge.cli import app
from judge.errors import BackendError, UnknownNameError
from judge.protocols import PanelPairwiseVerdict, backends_of, with_protocol
from judge.reward import JudgeReward


class FakeRubricReader(Backend):
    """A fake whose verdict depends only on the rubric in its prompt (module docstring)."""

    name = "fake/rubric-reader"
    capabilities = Capabilities(logprobs=True, structured=False)

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name}

    def generate(self, requests: Sequence[object]) -> list[object]:
        raise AssertionError("the logprob method generates nothing")

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        out: list[LabelScores | BackendError] = []
        for request in requests:
            text = " ".join(m["content"] for m in request.messages)
            first = 0.3 if "Instruction following:" in text else 0.9
            if "A" in request.labels:
                out.append(LabelScores({"A": math.log(first), "B": math.log(1 - first)}))
            else:  # a 1-10 score: 8 or 3, in the same split
                split = {"8": math.log(first), "3": math.log(1 - first)}
                out.append(LabelScores({s: split.get(s, -50.0) for s in request.labels}))
        return out


def test_each_member_judges_by_its_rubric_on_the_one_model(tmp_path: Path) -> None:
    fake = FakeRubricReader()
    judge = Judge(fake, cache=tmp_path / "cache", swap="none")
    panel = with_protocol(judge, "plain", panel_rubrics=["instruction_following"])
    verdict = panel.compare("q", "x", "y")
    assert isinstance(verdict, PanelPairwiseVerdict)
    assert [m.rubric for m in verdict.members] == ["helpfulness", "instruction_following"]
    assert [m.prob_a for m in verdict.members] == pytest.approx([0.9, 0.3])
    assert verdict.prob_a == pytest.approx(0.6) and verdict.disagreement == pytest.approx(0.3)
    assert verdict.model == "fake/rubric-reader"  # one model, named once
    assert verdict.rubric == "panel(helpfulness, instruction_following)"
    assert backends_of(panel) == [fake, fake]
    scored = JudgeReward(panel, disagreement_penalty=1.0)(["q"], ["x"])
    expected = [8 * 0.9 + 3 * 0.1, 8 * 0.3 + 3 * 0.7]  # 7.5 and 4.5
    spread = (expected[0] - expected[1]) / 2 / 9  # their deviation, on the 1-10 range
    assert scored == [pytest.approx(sum(expected) / 2 - spread)]


def test_another_rubric_keeps_a_chosen_template_and_switches_default_ones(tmp_path: Path) -> None:
    tie = Judge(FakeRubricReader(), cache=False, template="pairwise_tie")
    assert tie.with_settings(rubric="instruction_following").template("pairwise").name == (
        "pairwise_tie"
    )
    plain = Judge(FakeRubricReader(), cache=False)
    referenced = plain.with_settings(rubric="reference_correctness")
    assert referenced.rubric.name == "reference_correctness"
    assert referenced.template("pairwise").name == "pairwise_reference"
    assert plain.template("pairwise").name == "pairwise"  # the original is unchanged


def test_a_bad_panel_is_refused(tmp_path: Path) -> None:
    judge = Judge(FakeRubricReader(), cache=False)
    with pytest.raises(UserError, match="each rubric once"):
        with_protocol(judge, "plain", panel_rubrics=["helpfulness"])
    with pytest.raises(UnknownNameError, match="no_such_rubric"):
        with_protocol(judge, "plain", panel_rubrics=["no_such_rubric"])
    calibrated = Judge(
        FakeRubricReader(), cache=False, calibration=Calibrator(kind="temperature", fitted_on=4)
    )
    with pytest.raises(UserError, match="cannot share it"):
        with_protocol(calibrated, "plain", panel_rubrics=["honesty"])
    with pytest.raises(UserError, match="groupwise"):
        JudgeReward(judge, mode="groupwise", disagreement_penalty=0.5)


@pytest.fixture
def fake_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fake/rubric-reader`` on the command line."""
    monkeypatch.setitem(registry._FACTORIES, "fake", lambda name, **_: FakeRubricReader())


@pytest.mark.usefixtures("fake_reader")
def test_compare_and_bench_take_panel_rubrics(tmp_path: Path) -> None:
    common = ["--model", "fake/rubric-reader", "--no-cache", "--swap", "none"]
    panel = ["--panel-rubric", "instruction_following"]
    pair = ["compare", "--prompt", "q", "--a", "x", "--b", "y", *common, *panel]
    shown = CliRunner().invoke(app, pair)
    assert shown.exit_code == 0, shown.output
    assert "instruction_following 0.300 · disagreement 0.300" in shown.stdout
    assert "A (instruction_following)" in shown.stdout  # each member's reading, labelled
    verdict = json.loads(CliRunner().invoke(app, [*pair, "--json"]).stdout)
    assert verdict["prob_a"] == pytest.approx(0.6) and len(verdict["members"]) == 2
    data = tmp_path / "items.jsonl"
    data.write_text(json.dumps({"prompt": "q", "chosen": "x", "rejected": "y"}) + "\n")
    bench = ["bench", "--data", str(data), *common, *panel, "--json"]
    report = json.loads(CliRunner().invoke(app, bench).stdout)
    assert report["judge"]["panel_rubrics"] == ["helpfulness", "instruction_following"]


def test_serve_refuses_a_disagreement_penalty_without_a_panel() -> None:
    result = CliRunner().invoke(app, ["serve", "--disagreement-penalty", "0.5"])
    assert result.exit_code == 2 and "--panel-rubric" in result.output


def test_annotate_by_a_panel_keeps_its_readings_and_filters_on_disagreement(
    tmp_path: Path,
) -> None:
    source = tmp_path / "candidates.jsonl"
    source.write_text(json.dumps({"prompt": "q", "candidates": ["x", "y"]}) + "\n")
    judge = Judge(FakeRubricReader(), cache=False, swap="none")
    out = tmp_path / "prefs.jsonl"
    panel = ["instruction_following"]
    report = annotate(source, out, judge=judge, panel_rubrics=panel)
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["chosen"] == "x" and row["judge"]["p_chosen"] == pytest.approx(0.6)
    members = row["judge"]["members"]
    assert [(m["rubric"], m["p_chosen"]) for m in members] == [
        ("helpfulness", pytest.approx(0.9)),
        ("instruction_following", pytest.approx(0.3)),
    ]
    assert report.disagreement == row["judge"]["disagreement"] == pytest.approx(0.3)
    with pytest.raises(UserError, match="other settings"):  # the panel is part of the job
        annotate(source, out, judge=judge)
    strict = Filters(max_disagreement=0.2)
    report = annotate(source, out, judge=judge, panel_rubrics=panel, filters=strict, overwrite=True)
    assert report.rows == 0 and report.dropped == {"panel_disagreement": 1}
    loose = Filters(max_disagreement=0.3)
    assert (
        annotate(source, out, judge=judge, panel_rubrics=panel, filters=loose, overwrite=True).rows
        == 1
    )
    with pytest.raises(UserError, match="--panel-rubric"):
        annotate(source, tmp_path / "other.jsonl", judge=judge, filters=strict)
    with pytest.raises(UserError, match=r"between 0 and 0\.5"):
        Filters(max_disagreement=0.7)


@pytest.mark.usefixtures("fake_reader")
def test_annotate_command_takes_a_panel(tmp_path: Path) -> None:
    source = tmp_path / "candidates.jsonl"
    source.write_text(json.dumps({"prompt": "q", "candidates": ["x", "y"]}) + "\n")
    out = tmp_path / "prefs.jsonl"
    common = ["--model", "fake/rubric-reader", "--no-cache", "--swap", "none"]
    args = ["annotate", str(source), "-O", str(out), *common]
    shown = CliRunner().invoke(app, [*args, "--panel-rubric", "instruction_following"])
    assert shown.exit_code == 0, shown.output
    assert "panel disagreement (mean)" in shown.stdout and "0.300" in shown.stdout
    refused = CliRunner().invoke(app, [*args, "--max-disagreement", "0.1", "--overwrite"])
    assert refused.exit_code != 0 and "--panel-rubric" in refused.output


def test_serve_refuses_a_groupwise_disagreement_penalty_before_building_the_judge() -> None:
    # the model named does not exist: a refusal after the build would be about it instead
    args = ["serve", "--mode", "groupwise", "--panel-rubric", "instruction_following"]
    args += ["--disagreement-penalty", "0.5", "--model", "embedded/no-such-judge"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "groupwise mode" in result.output
