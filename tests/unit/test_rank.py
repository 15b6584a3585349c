"""Best-of-N picking and the verifiable arithmetic set, on fake backends (no model)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from judge import Judge, UserError
from judge.backends.base import Backend, Capabilities, LabelRequest, LabelScores
from judge.cli import app
from judge.errors import BackendError
from judge.rank import RankItem, rank
from judge.rank.arithmetic import arithmetic_items, pick_report
from tests.unit.test_engine_fake import _tag


class FakeNumberJudge(Backend):
    """A fake that prefers the candidate whose last number is largest (or fails on 13)."""

    name = "fake/numbers"
    capabilities = Capabilities(logprobs=True, structured=False)

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name}

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        return [self._one(r) for r in requests]

    def _one(self, request: LabelRequest) -> LabelScores | BackendError:
        if "A" not in request.labels:
            value = float(_tag(request.messages, "response").split()[-1])
            if value == 13:
                return BackendError("scripted fake failure on 13")
            return LabelScores(
                {label: -abs(int(label) - min(10, value)) for label in request.labels}
            )
        a, b = (float(_tag(request.messages, k).split()[-1]) for k in ("response_a", "response_b"))
        if 13 in (a, b):
            return BackendError("scripted fake failure on 13")
        p = 0.8 if a > b else 0.2
        return LabelScores({"A": math.log(p), "B": math.log(1 - p)})


ITEMS = [RankItem("pick the largest", ("x 1", "x 7", "x 3")), RankItem("again", ("y 9", "y 2"))]


@pytest.mark.parametrize("method", ["tournament", "pointwise"])
def test_rank_picks_the_candidate_the_judge_prefers(tmp_path: Path, method: str) -> None:
    judge = Judge(FakeNumberJudge(), cache=tmp_path)
    ranked = rank(judge, ITEMS, method=method)  # type: ignore[arg-type]
    assert [r.picked for r in ranked] == [1, 0]
    assert [r.judgments for r in ranked] == ([3, 1] if method == "tournament" else [3, 2])
    assert all(r.failures == 0 for r in ranked)


def test_failed_comparisons_are_left_out_and_counted(tmp_path: Path) -> None:
    judge = Judge(FakeNumberJudge(), cache=tmp_path)
    ranked = rank(
        judge, [RankItem("q", ("z 2", "z 13", "z 5")), RankItem("all fail", ("z 13", "z 13"))]
    )
    assert ranked[0].picked == 2 and ranked[0].failures == 2
    assert ranked[0].failure_reasons == ("backend_error", "backend_error")
    assert ranked[1].picked is None and ranked[1].scores == (None, None)  # no made-up pick


def test_rank_needs_two_candidates(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="item 0 has 1 candidate"):
        rank(Judge(FakeNumberJudge(), cache=tmp_path), [RankItem("q", ("only",))])


def test_arithmetic_items_are_seeded_and_verifiable() -> None:
    items = arithmetic_items(50, candidates=4, seed=3)
    assert items == arithmetic_items(50, candidates=4, seed=3)
    assert items != arithmetic_items(50, candidates=4, seed=4)
    for v in items:
        question = v.item.prompt.removeprefix("What is ").split("?")[0]
        truth = eval(question)  # our own generated "a op b"
        assert v.correct == tuple(c.endswith(f"= {truth}") for c in v.item.candidates)
        assert len(set(v.item.candidates)) == 4 and sum(v.correct) <= 1
    assert 0 < sum(not any(v.correct) for v in items) < 25  # some have no right answer


def test_pick_report_against_random_and_oracle(tmp_path: Path) -> None:
    items = arithmetic_items(40, candidates=3, seed=1)
    ranked = rank(Judge(FakeNumberJudge(), cache=tmp_path), [v.item for v in items])
    report = pick_report([v.correct for v in items], ranked)
    assert report.n == 40 and report.no_pick == 0
    assert report.random == pytest.approx(sum(sum(v.correct) / 3 for v in items) / 40)
    assert report.oracle == pytest.approx(sum(any(v.correct) for v in items) / 40)
    expected = (
        sum(v.correct[r.picked] for v, r in zip(items, ranked, strict=True) if r.picked is not None)
        / 40
    )
    assert report.picked == pytest.approx(expected)
    assert report.picked_ci[0] <= report.picked <= report.picked_ci[1]


def test_cli_reads_candidates_and_writes_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("judge.judge.load_backend", lambda *a, **k: FakeNumberJudge())
    rows = tmp_path / "in.jsonl"
    rows.write_text(
        "\n".join(
            json.dumps(
                {
                    "prompt": it.prompt,
                    "candidates": list(it.candidates),
                    "correct": [c.endswith("7") or c.endswith("9") for c in it.candidates],
                }
            )
            for it in ITEMS
        )
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app, ["rank", str(rows), "--output", str(out), "--json", "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    picks = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["best"] for p in picks] == ["x 7", "y 9"]
    report = json.loads(result.output)["accuracy"]
    assert report["picked"] == 1.0 and report["oracle"] == 1.0 and report["random"] < 0.5


def test_cli_bad_candidates_name_the_line(tmp_path: Path) -> None:
    rows = tmp_path / "in.jsonl"
    rows.write_text('{"prompt": "q", "candidates": ["a", "b"]}\n{"prompt": "q", "candidates": 3}\n')
    result = CliRunner().invoke(app, ["rank", str(rows)])
    assert result.exit_code == 2
    assert "candidates" in result.output and "2" in result.output
