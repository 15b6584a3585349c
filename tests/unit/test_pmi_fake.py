"""The pmi protocol (and the pmi-hybrid), on a fake language model.

`FakeLanguageModel` is a scripted stand-in for a model, named as a fake. Asked to score
a whole reply (one label), it gives log P(reply) = −rate · len(reply), with rate 0.05 a
character when the reply shares a word with the user's turn, 0.1 when it does not, and
0.08 after the neutral request (so PMI is +0.03 or −0.02 a character); a reply it was
told to ``fail`` on is a backend error. Asked for verdict labels it leans towards the
first shown (P = 0.6).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from judge import FailureReason, Judge, JudgmentFailure, PairwiseVerdict, UserError
from judge.backends import registry
from judge.backends.base import Backend, Capabilities, LabelRequest, LabelScores, Message
from judge.cli import app
from judge.errors import BackendError
from judge.protocols import ByPMI, Hybrid, PanelPairwiseVerdict, with_protocol
from judge.protocols.pmi import NEUTRAL_PROMPT, pmi_preference


class FakeLanguageModel(Backend):
    """A scripted fake model (see the module docstring); records every reply it scores."""

    def __init__(
        self, *, fail: str | None = None, replies: bool = True, context: int | None = None
    ) -> None:
        self.name = "fake/lm"
        self.capabilities = Capabilities(logprobs=True, structured=False, reply_logprobs=replies)
        self.context_length = context
        self.fail = fail
        self.scored: list[tuple[str, str]] = []

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake-lm"}

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"]) for m in messages) // 4

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        return [self._one(r) for r in requests]

    def _one(self, request: LabelRequest) -> LabelScores | BackendError:
        asked = request.messages[-1]["content"]
        if len(request.labels) > 1:  # a verdict: the first shown leans ahead
            first = {"A": math.log(0.6), "B": math.log(0.4)}
            return LabelScores({label: first.get(label, -math.inf) for label in request.labels})
        (reply,) = request.labels
        self.scored.append((asked, reply))
        if reply == self.fail:
            return BackendError("the fake model cannot score this reply", retryable=True)
        return LabelScores({reply: -rate(asked, reply) * len(reply)})


def rate(asked: str, reply: str) -> float:
    """The fake model's log-probability per character (see the module docstring)."""
    if asked == NEUTRAL_PROMPT:
        return 0.08
    return 0.05 if set(asked.lower().split()) & set(reply.lower().split()) else 0.1


def pmi(prompt: str, reply: str) -> float:
    """What the fake model's PMI of ``reply`` with ``prompt`` is."""
    return (rate(NEUTRAL_PROMPT, reply) - rate(prompt, reply)) * len(reply)


PROMPT = "name the capital of france"
ON, OFF = "the capital is paris", "bananas grow on trees"


def test_pmi_prefers_the_response_the_prompt_explains(tmp_path: Path) -> None:
    judge = Judge(FakeLanguageModel(), cache=tmp_path)
    verdict = ByPMI(judge).compare(PROMPT, ON, OFF)
    assert isinstance(verdict, PairwiseVerdict), verdict
    expected = pmi_preference(pmi(PROMPT, ON), pmi(PROMPT, OFF))
    assert verdict.prob_a == pytest.approx(expected)
    assert expected == pytest.approx(1 / (1 + math.exp(-(0.03 * len(ON) + 0.02 * len(OFF)))))
    assert verdict.winner == "A" and verdict.orders == () and verdict.consistent is None
    assert (verdict.template, verdict.rubric, verdict.swap) == ("pmi", "none", "none")
    per_character = ByPMI(judge, per=100).compare(PROMPT, ON, OFF)
    assert isinstance(per_character, PairwiseVerdict)
    assert per_character.prob_a == pytest.approx(1 / (1 + math.exp(-100 * (0.03 + 0.02))))


def test_pmi_scores_each_response_twice_once_and_caches(tmp_path: Path) -> None:
    fake = FakeLanguageModel()
    pmi = ByPMI(Judge(fake, cache=tmp_path))
    pairs = [(PROMPT, ON, OFF), (PROMPT, OFF, ON), ("say hi", "hi there", ON)]
    items = [{"prompt": p, "response_a": a, "response_b": b} for p, a, b in pairs]
    first = pmi.compare_batch(items)
    assert sorted(fake.scored) == sorted(
        [(p, r) for p in (PROMPT, "say hi") for r in (ON, OFF) if (p, r) != ("say hi", OFF)]
        + [("say hi", "hi there")]
        + [(NEUTRAL_PROMPT, r) for r in (ON, OFF, "hi there")]  # a reply's neutral score, once
    )
    assert isinstance(first[0], PairwiseVerdict) and isinstance(first[1], PairwiseVerdict)
    assert first[1].prob_a == pytest.approx(1 - first[0].prob_a)  # no order, no position
    fake.scored.clear()
    again = ByPMI(Judge(fake, cache=tmp_path)).compare_batch(items)
    assert fake.scored == [] and again == first


def test_an_empty_response_tells_nothing_about_the_prompt(tmp_path: Path) -> None:
    fake = FakeLanguageModel()
    verdict = ByPMI(Judge(fake, cache=tmp_path)).compare(PROMPT, "", OFF)
    assert isinstance(verdict, PairwiseVerdict), verdict
    assert verdict.prob_a == pytest.approx(pmi_preference(0.0, pmi(PROMPT, OFF)))
    assert verdict.winner == "A"  # OFF is less likely after the prompt than after nothing
    assert all(reply == OFF for _, reply in fake.scored)


def test_pmi_failures_are_typed_and_stay_with_their_pair(tmp_path: Path) -> None:
    judge = Judge(FakeLanguageModel(fail=OFF), cache=tmp_path)
    failed, fine = ByPMI(judge).compare_batch(
        [
            {"prompt": PROMPT, "response_a": ON, "response_b": OFF},
            {"prompt": PROMPT, "response_a": ON, "response_b": "paris"},
        ]
    )
    assert isinstance(failed, JudgmentFailure) and failed.reason is FailureReason.BACKEND_ERROR
    assert failed.message.startswith("pmi: scoring a response failed") and failed.retryable
    assert isinstance(fine, PairwiseVerdict)
    long = "word " * 400
    overflow = ByPMI(Judge(FakeLanguageModel(context=100), cache=False)).compare(PROMPT, ON, long)
    assert isinstance(overflow, JudgmentFailure)
    assert overflow.reason is FailureReason.CONTEXT_OVERFLOW
    assert "context of 100" in overflow.message


def test_pmi_refuses_what_it_cannot_do() -> None:
    with pytest.raises(UserError, match="cannot do in one pass"):
        ByPMI(Judge(FakeLanguageModel(replies=False), cache=False)).compare(PROMPT, ON, OFF)
    with pytest.raises(UserError, match="positive number of characters"):
        ByPMI(Judge(FakeLanguageModel(), cache=False), per=0)
    assert pmi_preference(-800.0, 0.0) == pytest.approx(0.0) and pmi_preference(800.0, 0.0) == 1.0
    judge = Judge(FakeLanguageModel(), cache=False)
    with pytest.raises(UserError, match="pmi reads no rubric"):
        with_protocol(judge, "pmi", panel_rubrics=["instruction_following"])


def test_the_pmi_hybrid_mixes_the_plain_verdict_with_pmi(tmp_path: Path) -> None:
    judge = Judge(FakeLanguageModel(), cache=tmp_path)
    hybrid = with_protocol(judge, "pmi-hybrid")
    assert isinstance(hybrid, Hybrid) and hybrid.name == "pmi-hybrid"
    verdict = hybrid.compare(PROMPT, OFF, ON)
    pmi = ByPMI(judge).compare(PROMPT, OFF, ON)
    plain = judge.compare(PROMPT, OFF, ON)
    assert isinstance(verdict, PanelPairwiseVerdict), verdict
    assert isinstance(pmi, PairwiseVerdict) and isinstance(plain, PairwiseVerdict)
    assert plain.prob_a == pytest.approx(0.5) and plain.consistent is False  # position only
    assert verdict.prob_a == pytest.approx((plain.prob_a + pmi.prob_a) / 2)
    assert verdict.winner == "B" and verdict.consistent is True  # pmi settles both orders
    assert verdict.template.endswith("+pmi-hybrid")
    assert [m.template for m in verdict.members] == ["pairwise", "pmi"]


def test_compare_takes_the_pmi_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._FACTORIES, "fake", lambda name, **_: FakeLanguageModel())
    args = ["compare", "--prompt", PROMPT, "--a", OFF, "--b", ON, "--no-cache", "--json"]
    shown = CliRunner().invoke(app, [*args, "--model", "fake/lm", "--protocol", "pmi"])
    assert shown.exit_code == 0, shown.output
    verdict: dict[str, Any] = json.loads(shown.stdout)
    assert verdict["winner"] == "B" and verdict["template"] == "pmi"
