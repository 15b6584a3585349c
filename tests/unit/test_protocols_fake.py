"""The protocols (reason-then-read, self-consistency, commit-first, one-order, panels,
by-scores, hybrid, split-merge), faked.

`FakeReasoner` is a scripted stand-in for a model, named as a fake: its generated
verdict always says "A" (a position-biased guess), its rationale names the response
it believes (the one containing ``truth``), and when its verdict is read after a
rationale it follows that rationale; read without one it is position-biased.
`FakeLeaning`, also a fake, reads pairs only: a constant lean towards the first shown
plus a smaller pull towards the true response. `FakeScorer` (a fake) reads pairs as
`FakeLeaning` does and scores one response with most of its mass on 8 for the true
response and on 3 for any other; ``fail`` names a response it cannot score.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from judge import FailureReason, Judge, JudgmentFailure, PairInput, PairwiseVerdict, UserError
from judge.annotate import annotate
from judge.backends import registry
from judge.backends.base import (
    Backend,
    Capabilities,
    GenerateRequest,
    Generation,
    LabelRequest,
    LabelScores,
)
from judge.calibration import Calibrator
from judge.cli import app
from judge.engine.thinking import strip_thinking
from judge.errors import BackendError
from judge.protocols import (
    ByScores,
    CommitFirst,
    Hybrid,
    OneOrder,
    Panel,
    PanelPairwiseVerdict,
    PanelPointwiseVerdict,
    ReasonThenRead,
    backends_of,
    with_protocol,
)
from judge.protocols.base import Stages
from judge.protocols.named import protocol_label
from judge.protocols.prior import first_log_odds, remove_prior
from judge.protocols.scores import score_preference
from judge.protocols.split import SplitMerge, merged, split_parts
from judge.reward import JudgeReward
from judge.reward.server import create_app
from judge.verdicts import PointwiseVerdict


def _tag(text: str, name: str) -> str:
    match = re.search(rf"<{name}>\n(.*?)\n</{name}>", text, flags=re.DOTALL)
    return match.group(1) if match else ""


class FakeReasoner(Backend):
    """A scripted fake model (see the module docstring); records every request."""

    def __init__(
        self,
        *,
        truth: str = "4",
        rationale: Callable[[int], str] | None = None,
        finish: str = "stop",
        name: str = "fake/reasoner",
        first_prob: float = 0.9,
        answer: str = "4",
    ) -> None:
        self.name = name
        self.capabilities = Capabilities(logprobs=True, structured=True)
        self.truth = truth
        self.rationale = rationale or (lambda seed: f"the response saying {truth} is right")
        self.finish = finish
        self.first_prob = first_prob
        self.answer = answer
        self.requests: list[Any] = []

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name}

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation | BackendError]:
        self.requests.extend(requests)
        out: list[Generation | BackendError] = []
        for r in requests:
            if "answer" in r.schema["properties"]:
                text = f'{{"answer": "{self.answer}"}}'
            elif self.finish == "length":
                text = '{"rationale": "cut off mid'
            else:
                text = f'{{"rationale": "{self.rationale(r.seed or 0)}", ' + (
                    '"winner": "A"}' if "winner" in r.schema["properties"] else '"score": 9}'
                )
            out.append(Generation(text, "length" if self.finish == "length" else "stop"))
        return out

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        self.requests.extend(requests)
        return [LabelScores(self._logprobs(r)) for r in requests]

    def _logprobs(self, request: LabelRequest) -> dict[str, float]:
        messages = request.messages
        after_reasoning = len(messages) > 2 and messages[-2]["role"] == "assistant"
        if "A" not in request.labels:  # a score: high when reasoning found the truth
            good = after_reasoning and self.truth in messages[-2]["content"]
            return {
                label: math.log(0.7 if (label == "8") == good else 0.3 / 9)
                for label in request.labels
            }
        if not after_reasoning:
            p = self.first_prob
        else:
            believed = re.search(r"saying (\S+)", messages[-2]["content"])
            first = _tag(messages[-3]["content"], "response_a")
            p = 0.85 if believed and believed.group(1) == first else 0.15
        return {"A": math.log(p), "B": math.log(1 - p)}


def judge_on(fake: Backend, tmp_path: Path, **settings: Any) -> Judge:
    return Judge(fake, cache=tmp_path / "cache", **settings)


# Reason, then read -------------------------------------------------------------------


def test_reason_then_read_reads_the_verdict_after_the_rationale(tmp_path: Path) -> None:
    fake = FakeReasoner()
    verdict = ReasonThenRead(judge_on(fake, tmp_path)).compare("What is 2+2?", "5", "4")
    assert isinstance(verdict, PairwiseVerdict)
    # The generated verdicts said "A" both times (one-hot, position-biased); the read
    # after each rationale follows the rationale, in both orders.
    assert verdict.winner == "B"
    assert verdict.prob_a == pytest.approx(0.15)
    assert verdict.consistent is True
    assert verdict.method == "logprob"
    assert verdict.template == "pairwise+reason-then-read"
    assert [o.rationale for o in verdict.orders] == ["the response saying 4 is right"] * 2
    reads = [r for r in fake.requests if isinstance(r, LabelRequest)]
    assert len(reads) == 2
    turn = reads[0].messages[-2:]
    assert turn[0] == {"role": "assistant", "content": "the response saying 4 is right"}
    assert turn[1]["role"] == "user" and "Reply with only A or B" in turn[1]["content"]
    assert '"winner"' not in turn[0]["content"]  # the generated verdict is not shown again


def test_reason_then_read_is_cached_like_any_judgment(tmp_path: Path) -> None:
    fake = FakeReasoner()
    protocol = ReasonThenRead(judge_on(fake, tmp_path))
    first = protocol.compare("q", "5", "4")
    seen = len(fake.requests)
    again = ReasonThenRead(judge_on(fake, tmp_path)).compare("q", "5", "4")
    assert len(fake.requests) == seen  # both passes came from the cache
    assert isinstance(again, PairwiseVerdict) and isinstance(first, PairwiseVerdict)
    assert again.prob_a == pytest.approx(first.prob_a)
    assert all(o.cached for o in again.orders)


def test_thinking_is_stripped_from_the_rationale_shown_again(tmp_path: Path) -> None:
    fake = FakeReasoner(
        rationale=lambda seed: "<think>4? or 5? hmm</think>the response saying 4 is right"
    )
    verdict = ReasonThenRead(judge_on(fake, tmp_path)).compare("q", "4", "5")
    read = next(r for r in fake.requests if isinstance(r, LabelRequest))
    assert read.messages[-2]["content"] == "the response saying 4 is right"
    assert isinstance(verdict, PairwiseVerdict) and verdict.winner == "A"


def test_a_rationale_cut_off_by_the_budget_is_a_typed_failure(tmp_path: Path) -> None:
    fake = FakeReasoner(finish="length")
    result = ReasonThenRead(judge_on(fake, tmp_path)).compare("q", "4", "5")
    assert isinstance(result, JudgmentFailure)
    assert result.reason == FailureReason.TRUNCATED_OUTPUT
    assert not any(isinstance(r, LabelRequest) for r in fake.requests)  # nothing read


def test_reason_then_read_scores_from_the_read_distribution(tmp_path: Path) -> None:
    fake = FakeReasoner()
    verdict = ReasonThenRead(judge_on(fake, tmp_path)).score("What is 2+2?", "4")
    assert isinstance(verdict, PointwiseVerdict)
    assert verdict.score == 8  # read after the rationale, not the generated 9
    assert verdict.distribution[8] == pytest.approx(0.7 / (0.7 + 9 * 0.3 / 9))


# Thinking models through the plain generate method -------------------------------------


def test_a_think_block_before_the_json_verdict_is_not_parsed() -> None:
    assert strip_thinking("<think>a\nb</think>\n{}").visible == "{}"
    assert strip_thinking("reasoning only</think>{}").thinking == "reasoning only"
    cut = strip_thinking("<think>still going")
    assert cut.unclosed and cut.visible == ""


@pytest.mark.parametrize(
    ("text", "finish", "expected"),
    [
        ('<think>A looks right</think>{"rationale": "r", "winner": "B"}', "stop", "B"),
        ("<think>A looks right, but", "length", FailureReason.TRUNCATED_OUTPUT),
        ("<think>A looks right, but", "stop", FailureReason.TRUNCATED_OUTPUT),
    ],
)
def test_generate_method_strips_thinking_and_types_a_cut_verdict(
    tmp_path: Path, text: str, finish: str, expected: Any
) -> None:
    class FakeThinker(FakeReasoner):
        def generate(self, requests: Sequence[GenerateRequest]) -> list[Any]:
            return [Generation(text, finish) for _ in requests]  # type: ignore[arg-type]

    result = judge_on(FakeThinker(), tmp_path, method="generate", swap="none").compare(
        "q", "x", "y"
    )
    if isinstance(expected, FailureReason):
        assert isinstance(result, JudgmentFailure) and result.reason == expected
    else:
        assert isinstance(result, PairwiseVerdict) and result.winner == expected


# Self-consistency ---------------------------------------------------------------------


def test_self_consistency_averages_seeded_samples(tmp_path: Path) -> None:
    beliefs = {0: "4", 1: "4", 2: "5"}  # two of three sampled rationales find the truth
    fake = FakeReasoner(rationale=lambda seed: f"the response saying {beliefs[seed % 3]} wins")
    protocol = ReasonThenRead(judge_on(fake, tmp_path, seed=0), samples=3)
    verdict = protocol.compare("What is 2+2?", "4", "5")
    assert isinstance(verdict, PairwiseVerdict)
    assert verdict.template == "pairwise+self-consistency-3"
    assert protocol_label("self-consistency", samples=3) == protocol.name  # as jobs record it
    writes = [r for r in fake.requests if isinstance(r, GenerateRequest)]
    assert sorted({(r.seed, r.temperature) for r in writes}) == [(0, 0.7), (1, 0.7), (2, 0.7)]
    assert len(verdict.orders) == 6
    assert verdict.prob_a == pytest.approx((0.85 * 2 + 0.15) / 3)
    assert verdict.winner == "A"


def test_self_consistency_needs_sampling() -> None:
    with pytest.raises(UserError, match="temperature > 0"):
        ReasonThenRead(Judge(FakeReasoner(), cache=False), samples=2, temperature=0.0)
    with pytest.raises(UserError, match="at least 1"):
        ReasonThenRead(Judge(FakeReasoner(), cache=False), samples=0)


# Commit first -------------------------------------------------------------------------


def test_commit_first_judges_against_its_own_answer(tmp_path: Path) -> None:
    fake = FakeReasoner(answer="four")
    protocol = CommitFirst(judge_on(fake, tmp_path))
    results = protocol.compare_batch(
        [
            PairInput("What is 2+2?", "4", "5"),
            PairInput("What is 2+2?", "5", "4"),
            PairInput("Name a colour", "red", "7", {"reference": "blue"}),
        ]
    )
    assert all(isinstance(r, PairwiseVerdict) for r in results)
    assert results[0].template == "pairwise_reference+commit-first"  # type: ignore[union-attr]
    answers = [r for r in fake.requests if isinstance(r, GenerateRequest)]
    assert len(answers) == 1  # one answer per distinct prompt; a given reference is kept
    assert answers[0].messages[-1] == {"role": "user", "content": "What is 2+2?"}
    reads = [r for r in fake.requests if isinstance(r, LabelRequest)]
    users = [r.messages[-1]["content"] for r in reads]
    assert all("four" in u for u in users if "2+2" in u)
    assert all("blue" in u and "four" not in u for u in users if "colour" in u)
    assert len(users) == 4  # the two orders of (4, 5) and (5, 4) are the same two calls
    assert protocol.answers == {"What is 2+2?": "four"}


def test_commit_first_answer_failure_is_the_judgments_failure(tmp_path: Path) -> None:
    class FakeMute(FakeReasoner):
        def generate(self, requests: Sequence[GenerateRequest]) -> list[Any]:
            return [Generation('{"answer": "it is', "length") for _ in requests]

    fake = FakeMute()
    result = CommitFirst(judge_on(fake, tmp_path)).compare("q", "4", "5")
    assert isinstance(result, JudgmentFailure)
    assert result.reason == FailureReason.TRUNCATED_OUTPUT
    assert result.message.startswith("the judge's own answer failed")
    assert not any(isinstance(r, LabelRequest) for r in fake.requests)


# Panels -------------------------------------------------------------------------------


def _panel(tmp_path: Path, *first_probs: float) -> Panel:
    return Panel(
        [
            judge_on(FakeReasoner(name=f"fake/m{k}", first_prob=p), tmp_path / str(k), swap="none")
            for k, p in enumerate(first_probs)
        ]
    )


def test_panel_means_probabilities_and_reports_disagreement(tmp_path: Path) -> None:
    verdict = _panel(tmp_path, 0.9, 0.5, 0.7).compare("q", "x", "y")
    assert isinstance(verdict, PanelPairwiseVerdict)
    assert verdict.prob_a == pytest.approx(0.7)
    assert verdict.disagreement == pytest.approx(math.sqrt((0.04 + 0.04 + 0) / 3))
    assert verdict.winner == "A"
    assert verdict.model == "panel(fake/m0, fake/m1, fake/m2)"
    assert [m.prob_a for m in verdict.members] == pytest.approx([0.9, 0.5, 0.7])


def test_panel_scores_and_fails_when_a_member_fails(tmp_path: Path) -> None:
    panel = Panel(
        [
            ReasonThenRead(judge_on(FakeReasoner(), tmp_path / "a")),
            ReasonThenRead(judge_on(FakeReasoner(finish="length"), tmp_path / "b")),
        ]
    )
    result = panel.compare("q", "4", "5")
    assert isinstance(result, JudgmentFailure)
    assert result.message.startswith("panel member 2 of 2 failed")
    score = _panel(tmp_path, 0.9, 0.5).score("q", "x")
    assert isinstance(score, PointwiseVerdict) and score.scale == (1, 10)


def test_a_panel_needs_two_judges(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="at least two"):
        Panel([judge_on(FakeReasoner(), tmp_path)])


def test_panel_as_a_reward_with_a_disagreement_penalty(tmp_path: Path) -> None:
    fake = FakeReasoner()
    split = Panel([judge_on(fake, tmp_path / "a"), ReasonThenRead(judge_on(fake, tmp_path / "b"))])
    verdict = split.score("What is 2+2?", "4")
    assert isinstance(verdict, PanelPointwiseVerdict) and verdict.disagreement > 0.05
    free = JudgeReward(split)(["What is 2+2?"], ["4"])
    penalized = JudgeReward(split, disagreement_penalty=2.0)(["What is 2+2?"], ["4"])
    assert free == [pytest.approx(verdict.expected_score)]
    assert penalized == [pytest.approx(verdict.expected_score - 2.0 * verdict.disagreement)]


def test_a_protocol_and_a_panel_are_served_as_rewards(tmp_path: Path) -> None:
    fake = FakeReasoner()
    reasoned = JudgeReward(ReasonThenRead(judge_on(fake, tmp_path / "r")))
    prompts, responses = ["What is 2+2?"] * 2, ["4", "5"]
    body = {"query": [p + r for p, r in zip(prompts, responses, strict=True)], "prompts": prompts}
    with TestClient(create_app(reasoned)) as client:
        served = client.post("/get_reward", json=body)
        health = client.get("/health").json()
    assert served.status_code == 200, served.text
    assert any(isinstance(r, GenerateRequest) for r in fake.requests)  # rationales written
    assert served.json()["rewards"] == pytest.approx(reasoned(prompts, responses))
    assert health["model"] == "fake/reasoner"
    with TestClient(create_app(JudgeReward(_panel(tmp_path / "p", 0.9, 0.6)))) as client:
        assert client.get("/health").json()["model"] == "fake/m0 + fake/m1"
    with pytest.raises(TypeError, match="cannot tell which backend"):
        backends_of(object())  # type: ignore[arg-type]


# By name, and on the command line ------------------------------------------------------


def test_protocols_by_name(tmp_path: Path) -> None:
    judge = judge_on(FakeReasoner(), tmp_path)
    assert with_protocol(judge, "plain") is judge
    assert isinstance(with_protocol(judge, "commit-first"), CommitFirst)
    sampled = with_protocol(judge, "self-consistency", samples=4)
    assert isinstance(sampled, ReasonThenRead) and sampled.samples == 4
    with pytest.raises(UserError, match="at least 2 samples"):
        with_protocol(judge, "self-consistency", samples=1)
    assert isinstance(with_protocol(judge, "one-order"), OneOrder)
    with pytest.raises(UserError, match="reason-then-read"):
        with_protocol(judge, "reason-first")


# One order, the position prior removed ----------------------------------------------


class FakeLeaning(Backend):
    """A fake pair reader: log-odds of the first shown = lean ± pull (+ when it is true)."""

    def __init__(self, lean: float = 1.5, pull: float = 0.5, truth: str = "4") -> None:
        self.name = "fake/leaning"
        self.capabilities = Capabilities(logprobs=True, structured=False)
        self.lean, self.pull, self.truth = lean, pull, truth
        self.reads = 0

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name}

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation | BackendError]:
        raise AssertionError("one-order never generates")

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        self.reads += len(requests)
        out: list[LabelScores | BackendError] = []
        for r in requests:
            content = r.messages[-1]["content"]  # the first response whole, or its first part
            first = _tag(content, "response_a") or _tag(content, "response_a_part_1")
            odds = self.lean + (self.pull if first == self.truth else -self.pull)
            p = 1.0 / (1.0 + math.exp(-odds))
            out.append(LabelScores({"A": math.log(p), "B": math.log(1 - p)}))
        return out


def _sums(n: int) -> list[PairInput]:
    """Pairs whose true response ("4") is A in even items and B in odd ones."""
    return [
        PairInput(f"Item {k}: 2+2?", *(("4", "5") if k % 2 == 0 else ("5", "4"))) for k in range(n)
    ]


def test_one_order_fits_the_prior_then_shows_each_pair_once(tmp_path: Path) -> None:
    fake = FakeLeaning()
    plain = Judge(fake, cache=False).compare_batch(_sums(4))
    assert all(isinstance(v, PairwiseVerdict) and v.consistent is False for v in plain)
    fake.reads = 0
    protocol = OneOrder(Judge(fake, cache=False), fit_pairs=4)
    verdicts = protocol.compare_batch(_sums(12))
    assert fake.reads == 4 * 2 + 8  # both orders while fitting, then one each
    assert protocol.prior == pytest.approx(1.5) and protocol.fitted_on == 4
    for k, v in enumerate(verdicts):
        assert isinstance(v, PairwiseVerdict) and v.template == "pairwise+one-order"
        assert v.winner == ("A" if k % 2 == 0 else "B"), (k, v)  # the pull, the lean gone
        assert v.raw_prob_a is not None and v.raw_prob_a != pytest.approx(v.prob_a)
        assert len(v.orders) == (2 if k < 4 else 1)
        assert v.consistent is (True if k < 4 else None)
        for order in v.orders:  # the corrected log-odds: ± the pull alone
            assert abs(first_log_odds(order.label_probs)) == pytest.approx(0.5)
    protocol.compare_batch(_sums(3))
    assert fake.reads == 16 + 3 and protocol.fitted_on == 4  # fitted once, kept


def test_one_order_fits_across_batches_and_takes_a_pinned_prior(tmp_path: Path) -> None:
    fake = FakeLeaning()
    protocol = OneOrder(Judge(fake, cache=False), fit_pairs=4)
    early = protocol.compare_batch(_sums(2))
    assert protocol.prior is None and fake.reads == 4
    assert all(isinstance(v, PairwiseVerdict) and v.raw_prob_a is None for v in early)
    protocol.compare_batch(_sums(5))
    assert protocol.fitted_on == 4 and fake.reads == 4 + 2 * 2 + 3
    pinned = OneOrder(Judge(FakeLeaning(), cache=False), prior=1.5)
    (verdict,) = pinned.compare_batch(_sums(1))
    assert isinstance(verdict, PairwiseVerdict) and len(verdict.orders) == 1
    assert verdict.winner == "A" and pinned.fitted_on == 0


def test_one_order_refuses_what_it_cannot_correct(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="method='logprob'"):
        OneOrder(judge_on(FakeLeaning(), tmp_path, method="generate"))
    with pytest.raises(UserError, match="at least 2 pairs"):
        OneOrder(judge_on(FakeLeaning(), tmp_path), fit_pairs=1)


def test_removing_the_prior_keeps_a_tie_and_shifts_the_log_odds() -> None:
    shown = {"A": 0.6, "B": 0.2, "tie": 0.2}
    out = remove_prior(shown, math.log(3.0))
    assert out["tie"] == pytest.approx(0.2) and out["A"] + out["B"] == pytest.approx(0.8)
    assert out["A"] == pytest.approx(0.4)  # log-odds log 3 − log 3 = 0: an even split
    assert first_log_odds(out) == pytest.approx(0.0, abs=1e-12)


# Progress ---------------------------------------------------------------------------


def test_stages_count_each_stage_after_the_last() -> None:
    seen: list[tuple[int, int]] = []
    stages = Stages(lambda done, total: seen.append((done, total)), 2)
    first = stages.stage()  # the second stage is estimated at this one's size
    assert first is not None
    first(0, 4)
    first(4, 4)
    second = stages.stage()
    assert second is not None
    second(1, 3)
    second(3, 3)
    assert seen == [(0, 8), (4, 8), (5, 7), (7, 7)]
    assert Stages(None, 1).stage() is None
    given = Stages(lambda done, total: seen.append((done, total)), 2).stage(later=10)
    assert given is not None
    given(1, 2)
    assert seen[-1] == (1, 12)


@pytest.mark.parametrize(
    "build",
    [
        lambda j: ReasonThenRead(j),
        lambda j: CommitFirst(j),
        lambda j: Panel([j, ReasonThenRead(j)]),
        lambda j: OneOrder(j, fit_pairs=2),
    ],
    ids=["reason-then-read", "commit-first", "panel", "one-order"],
)
def test_a_protocol_reports_progress_through_every_stage(
    tmp_path: Path, build: Callable[[Judge], Any]
) -> None:
    fake = FakeReasoner(answer="four")
    seen: list[tuple[int, int]] = []
    pairs = [PairInput("What is 2+2?", "4", "5"), PairInput("What is 3+3?", "6", "7")]
    build(judge_on(fake, tmp_path)).compare_batch(
        pairs, progress=lambda done, total: seen.append((done, total))
    )
    assert seen, "no progress reported"
    dones = [d for d, _ in seen]
    assert dones == sorted(dones)  # the count never goes back
    assert seen[-1][0] == seen[-1][1]  # and ends complete
    assert seen[-1][1] == len(fake.requests)  # in calls, every stage counted once


def test_annotate_judges_with_a_protocol_and_keeps_it_in_the_job(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"prompt": "What is 2+2?", "candidates": ["5", "4"]}) + "\n")
    out = tmp_path / "prefs.jsonl"
    judge = judge_on(FakeReasoner(), tmp_path)
    seen: list[tuple[float, float]] = []
    report = annotate(
        source,
        out,
        judge=judge,
        protocol="reason-then-read",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert report.failures == 0
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    # Read alone the fake prefers the first shown in both orders (a tie after the swap);
    # after its rationale it follows the rationale, which names "4".
    assert row["chosen"] == "4" and row["judge"]["template"] == "pairwise+reason-then-read"
    assert seen[-1] == (1, 1) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    job = json.loads((tmp_path / "prefs.jsonl.job.json").read_text())
    assert job["config"]["judging_protocol"] == "reason-then-read"
    with pytest.raises(UserError, match="differs in: judging_protocol"):  # plain: another job
        annotate(source, out, judge=judge)
    with pytest.raises(UserError, match="unknown protocol"):
        annotate(source, tmp_path / "other.jsonl", judge=judge, protocol="reason-first")


def test_annotate_keeps_one_protocol_across_chunks(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    rows = [{"prompt": f"Item {k}: 2+2?", "candidates": ["5", "4"]} for k in range(20)]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fake = FakeLeaning()
    out = tmp_path / "prefs.jsonl"
    report = annotate(
        source, out, judge=Judge(fake, cache=False), protocol="one-order", chunk_size=4
    )
    assert report.failures == 0
    assert fake.reads == 16 * 2 + 4  # the prior fitted once, not again in every chunk
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["chosen"] for r in written] == ["4"] * 20
    assert written[-1]["judge"]["template"] == "pairwise+one-order"


@pytest.fixture
def fake_reasoner(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fake/reasoner`` on the command line: a `FakeReasoner` whose truth is "4"."""
    monkeypatch.setitem(registry._FACTORIES, "fake", lambda name, **_: FakeReasoner())


@pytest.mark.usefixtures("fake_reasoner")
def test_compare_and_bench_take_a_protocol(tmp_path: Path) -> None:
    pair = ["--prompt", "What is 2+2?", "--a", "4", "--b", "5"]
    common = ["--model", "fake/reasoner", "--no-cache", "--json"]
    plain = CliRunner().invoke(app, ["compare", *pair, *common])
    protocol = ["--protocol", "reason-then-read"]
    reasoned = CliRunner().invoke(app, ["compare", *pair, *common, *protocol])
    assert plain.exit_code == 0 and reasoned.exit_code == 0, plain.output + reasoned.output
    # Read alone the fake picks the first shown in both orders (P = 0.5 after the swap);
    # after its rationale it follows the rationale, which names "4".
    assert json.loads(plain.stdout)["prob_a"] == pytest.approx(0.5)
    assert json.loads(reasoned.stdout)["prob_a"] == pytest.approx(0.85)
    data = tmp_path / "items.jsonl"
    data.write_text(
        json.dumps({"prompt": "What is 2+2?", "chosen": "4", "rejected": "5", "subset": "math"})
        + "\n"
    )
    args = ["bench", "--data", str(data), *common, *protocol]
    report = json.loads(CliRunner().invoke(app, args).stdout)
    assert report["judge"]["judging_protocol"] == "reason-then-read"
    assert report["overall"]["accuracy"] == 1.0


# By scores, and the hybrid of both readings --------------------------------------------


class FakeScorer(FakeLeaning):
    """A fake that reads pairs as `FakeLeaning` and scores single responses (see above)."""

    def __init__(self, lean: float = 2.0) -> None:
        super().__init__(lean=lean)
        self.name = "fake/scorer"
        self.fail: str | None = None
        self.score_reads = 0

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        out: list[LabelScores | BackendError] = []
        for r in requests:
            out += super().score_labels([r]) if "A" in r.labels else [self._score(r)]
        return out

    def _score(self, request: LabelRequest) -> LabelScores | BackendError:
        self.score_reads += 1
        response = _tag(request.messages[-1]["content"], "response")
        if response == self.fail:
            return BackendError("the fake cannot score this response", retryable=False)
        peak = "8" if response == self.truth else "3"
        return LabelScores({s: math.log(0.82 if s == peak else 0.02) for s in request.labels})


def test_score_preference_counts_wins_and_ties_of_independent_scores() -> None:
    wins = score_preference({1: 0.5, 2: 0.5}, {1: 1.0})
    assert wins == {"A": 0.5, "B": 0.0, "tie": 0.5}
    wins = score_preference({3: 0.2, 8: 0.8}, {3: 0.9, 8: 0.1})
    assert wins == pytest.approx({"A": 0.72, "B": 0.02, "tie": 0.26})


def test_by_scores_reads_each_response_alone_and_shows_no_order(tmp_path: Path) -> None:
    fake = FakeScorer()
    verdicts = ByScores(Judge(fake, cache=False)).compare_batch(_sums(4))
    assert fake.reads == 0 and fake.score_reads == 8
    # By hand over the 1-10 scale: P(S_true > S_other) = 0.882, P(S_true = S_other) =
    # 0.036 (0.82·0.02 twice, 0.02² eight times), so P(true ≻ other) = 0.882 + 0.018.
    for k, v in enumerate(verdicts):
        assert isinstance(v, PairwiseVerdict), v
        assert v.template == "pointwise_10+by-scores"
        assert v.orders == () and v.consistent is None
        assert v.winner == ("A" if k % 2 == 0 else "B")
        assert v.prob_a == pytest.approx(0.9 if k % 2 == 0 else 0.1)
        assert v.prob_tie == pytest.approx(0.036)


def test_a_failed_score_fails_the_pair(tmp_path: Path) -> None:
    fake = FakeScorer()
    fake.fail = "5"
    result = ByScores(Judge(fake, cache=False)).compare("2+2?", "4", "5")
    assert isinstance(result, JudgmentFailure) and "cannot score" in result.message
    hybrid = Hybrid(Judge(fake, cache=False)).compare("2+2?", "4", "5")
    assert isinstance(hybrid, JudgmentFailure)
    assert hybrid.message.startswith("panel member 2 of 2 failed")


def test_hybrid_mixes_each_order_with_the_scores(tmp_path: Path) -> None:
    fake = FakeScorer()
    judge = Judge(fake, cache=tmp_path / "cache")
    plain = judge.compare_batch(_sums(4))
    assert all(isinstance(v, PairwiseVerdict) and v.consistent is False for v in plain)
    scored = ByScores(judge).compare_batch(_sums(4))
    reads = fake.reads + fake.score_reads
    hybrid = Hybrid(judge).compare_batch(_sums(4))
    assert fake.reads + fake.score_reads == reads  # every call came from the cache
    for k, (v, p, s) in enumerate(zip(hybrid, plain, scored, strict=True)):
        assert isinstance(v, PanelPairwiseVerdict), v
        assert isinstance(p, PairwiseVerdict) and isinstance(s, PairwiseVerdict)
        assert v.template == "panel(pairwise, pointwise_10+by-scores)+hybrid"
        assert v.prob_a == pytest.approx((p.prob_a + s.prob_a) / 2)
        assert v.disagreement == pytest.approx(abs(p.prob_a - s.prob_a) / 2)
        assert v.winner == ("A" if k % 2 == 0 else "B")
        # The lean (log-odds 2) outweighs the pull in each order alone; mixed with the
        # order-free scores, each order picks the true response: consistent.
        assert [o.shown for o in v.orders] == ["AB", "BA"]
        assert v.consistent is True
        for order, own in zip(v.orders, p.orders, strict=True):
            assert order.prob_a == pytest.approx((own.prob_a + s.prob_a) / 2)


def test_by_scores_and_hybrid_by_name(tmp_path: Path) -> None:
    judge = Judge(FakeScorer(), cache=False)
    assert isinstance(with_protocol(judge, "by-scores"), ByScores)
    hybrid = with_protocol(judge, "hybrid")
    assert isinstance(hybrid, Hybrid)
    score = hybrid.score("2+2?", "4")
    assert score == judge.score("2+2?", "4")  # one response has only its score


def test_annotate_with_the_hybrid_keeps_both_readings(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"prompt": "What is 2+2?", "candidates": ["5", "4"]}) + "\n")
    out = tmp_path / "prefs.jsonl"
    report = annotate(source, out, judge=Judge(FakeScorer(), cache=False), protocol="hybrid")
    assert report.failures == 0
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["chosen"] == "4" and row["judge"]["consistent"] is True
    members = row["judge"]["members"]
    assert [m["template"] for m in members] == ["pairwise", "pointwise_10+by-scores"]
    assert all(m["p_chosen"] > 0.5 for m in members[1:])  # the scores favour "4"


@pytest.fixture
def fake_scorer(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fake/scorer`` on the command line: a `FakeScorer` whose truth is "4"."""
    monkeypatch.setitem(registry._FACTORIES, "fake", lambda name, **_: FakeScorer())


@pytest.mark.usefixtures("fake_scorer")
def test_compare_and_bench_take_the_hybrid(tmp_path: Path) -> None:
    pair = ["--prompt", "What is 2+2?", "--a", "5", "--b", "4", "--no-cache"]
    args = ["compare", *pair, "--model", "fake/scorer", "--protocol", "hybrid"]
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "by-scores" in shown.stdout and "disagreement" in shown.stdout
    verdict = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert verdict["winner"] == "B" and verdict["consistent"] is True
    assert [m["template"] for m in verdict["members"]] == ["pairwise", "pointwise_10+by-scores"]
    data = tmp_path / "items.jsonl"
    data.write_text(
        json.dumps({"prompt": "What is 2+2?", "chosen": "4", "rejected": "5", "subset": "math"})
        + "\n"
    )
    bench = ["bench", "--data", str(data), "--model", "fake/scorer", "--no-cache", "--json"]
    report = json.loads(CliRunner().invoke(app, [*bench, "--protocol", "hybrid"]).stdout)
    assert report["judge"]["judging_protocol"] == "hybrid"
    assert report["overall"]["accuracy"] == 1.0
    assert report["overall"]["consistency"] == 1.0


# Split and merge -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("One. Two. Three.", ["One. ", "Two. ", "Three."]),
        ("2+2 = 4.", ["2+2 ", "= ", "4."]),  # too few sentences: cut at spaces
        ("4", ["4", "", ""]),  # nothing to cut at
        ("", ["", "", ""]),
        (
            "A long first sentence here. B. C.\nD.",
            ["A long first sentence here. ", "B. ", "C.\nD."],
        ),
    ],
)
def test_split_parts_cuts_at_sentence_ends_nearest_each_third(text: str, parts: list[str]) -> None:
    assert split_parts(text) == parts
    assert "".join(split_parts(text)) == text


def test_merged_shows_the_first_responses_parts_as_a() -> None:
    pair = PairInput("q", "a1. a2. a3.", "b1. b2. b3.", {"note": "n"})
    swapped = merged(pair, "BA")
    assert (
        swapped.extra["response_a_part_1"] == "b1." and swapped.extra["response_b_part_3"] == "a3."
    )
    assert swapped.extra["note"] == "n"
    assert merged(pair, "AB").extra["response_a_part_2"] == "a2."


def test_split_merge_interleaves_the_parts_and_maps_each_order_back(tmp_path: Path) -> None:
    fake = FakeLeaning(lean=0.2, pull=1.0)
    seen: list[str] = []
    reader = fake.score_labels
    fake.score_labels = lambda requests: (  # type: ignore[method-assign]
        seen.extend(r.messages[-1]["content"] for r in requests) or reader(requests)
    )
    verdicts = SplitMerge(Judge(fake, cache=False)).compare_batch(_sums(4))
    assert fake.reads == 8  # one call per order
    tags = [
        "<response_a_part_1>",
        "<response_b_part_1>",
        "<response_a_part_2>",
        "<response_b_part_3>",
    ]
    assert all(
        [text.index(t) for t in tags] == sorted(text.index(t) for t in tags) for text in seen
    )
    assert "<response_a>" not in seen[0]
    for k, v in enumerate(verdicts):
        assert isinstance(v, PairwiseVerdict), v
        assert v.template == "pairwise_split+split-merge" and v.swap == "both"
        assert [o.shown for o in v.orders] == ["AB", "BA"]
        assert v.winner == ("A" if k % 2 == 0 else "B") and v.consistent is True
        # each order's P(A ≻ B) is in the caller's labelling, whichever was shown first
        assert all((o.prob_a > 0.5) == (k % 2 == 0) for o in v.orders)


def test_split_merge_by_name_refuses_a_calibrated_judge(tmp_path: Path) -> None:
    judge = Judge(FakeLeaning(), cache=False)
    assert isinstance(with_protocol(judge, "split-merge"), SplitMerge)
    assert SplitMerge(judge).template("pairwise").name == "pairwise_split"
    calibrated = judge.with_settings(calibration=Calibrator(kind="temperature", fitted_on=4))
    with pytest.raises(UserError, match="calibrat"):
        SplitMerge(calibrated)
