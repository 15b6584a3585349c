"""`JudgeReward` end to end through `Judge`, on a fake backend with known preferences.

`FakeStrengthBackend` prefers responses by a hidden strength: P(first shown ≻ second) =
σ(s_first − s_second), with no position bias. With ``swap="both"`` the judge's P(A ≻ B)
is then exactly σ(s_A − s_B), so every mode has a known answer.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence

import pytest

from judge import Judge, UserError
from judge.backends.base import Backend, Capabilities, LabelRequest, LabelScores, Message
from judge.errors import BackendError
from judge.reward import JudgeReward, RewardError, Shaping

STRENGTH = {"great": 2.0, "good": 1.0, "ok": 0.0, "bad": -1.5}


def _tag(messages: Sequence[Message], name: str) -> str:
    match = re.search(rf"<{name}>\n(.*?)\n</{name}>", messages[-1]["content"], flags=re.S)
    assert match, name
    return match.group(1)


class FakeStrengthBackend(Backend):
    """Pairwise: Bradley–Terry preferences from `STRENGTH`; pointwise: E[score] = 5 + strength.

    A response containing ``FAIL`` gets a `BackendError`; ``context_length`` is small so
    a very long response overflows.
    """

    name = "fake/strength"
    capabilities = Capabilities(logprobs=True, structured=False)
    context_length = 4000
    batch_size = 16

    def __init__(self) -> None:
        self.requests = 0

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name}

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        return sum(len(m["content"]) for m in messages) // 4

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        self.requests += len(requests)
        out: list[LabelScores | BackendError] = []
        for request in requests:
            if "FAIL" in request.messages[-1]["content"]:
                out.append(BackendError("scripted failure", retryable=True))
            elif "A" in request.labels:
                d = (
                    STRENGTH[_tag(request.messages, "response_a")]
                    - STRENGTH[_tag(request.messages, "response_b")]
                )
                p = 1 / (1 + math.exp(-d))
                out.append(LabelScores({"A": math.log(p), "B": math.log(1 - p)}))
            else:
                target = 5 + STRENGTH[_tag(request.messages, "response")]
                low = math.floor(target)  # mass split so that E[score] = target
                mass = {low: 1 - (target - low), low + 1: target - low}
                out.append(
                    LabelScores(
                        {
                            label: math.log(mass[int(label)])
                            if mass.get(int(label), 0) > 0
                            else -math.inf
                            for label in request.labels
                        }
                    )
                )
        return out


@pytest.fixture
def judge() -> Judge:
    return Judge(FakeStrengthBackend(), cache=False)


def test_reference_mode_reward_differences_are_bt_logits(judge: Judge) -> None:
    reward = JudgeReward(judge, mode="reference")
    got = reward(["q"] * 3, ["great", "ok", "bad"], reference=["good"] * 3)
    assert got == pytest.approx([1.0, -1.0, -2.5], abs=1e-6)


def test_groupwise_recovers_centred_strengths_per_prompt(judge: Judge) -> None:
    reward = JudgeReward(judge, mode="groupwise", ridge=1e-9)
    prompts = ["q1"] * 3 + ["q2"] * 2
    got = reward(prompts, ["great", "ok", "bad", "good", "ok"])
    assert got[:3] == pytest.approx([2.0 - 1 / 6, 0.0 - 1 / 6, -1.5 - 1 / 6], abs=1e-5)
    assert got[3:] == pytest.approx([0.5, -0.5], abs=1e-5)
    assert judge.backend.requests == (3 + 1) * 2  # all pairs, both orders


def test_pointwise_expected_score_and_unit_scale(judge: Judge) -> None:
    assert JudgeReward(judge)(["q", "q"], ["good", "bad"]) == pytest.approx([6.0, 3.5])
    unit = JudgeReward(judge, normalize_score=True)(
        ["q"], [[{"role": "assistant", "content": "good"}]]
    )
    assert unit == pytest.approx([(6 - 1) / 9])


def test_one_bad_item_does_not_poison_the_batch(judge: Judge) -> None:
    reward = JudgeReward(judge, mode="reference", on_failure="none")
    long = "x" * 40000
    got = reward(["q"] * 5, ["great", "", "FAIL", long, 42], reference=["good"] * 5)
    assert got[0] == pytest.approx(1.0) and got[1:] == [None] * 4
    batch = reward.compute(["q"] * 5, ["great", "", "FAIL", long, 42], ["good"] * 5)
    assert [(f.index, f.reason) for f in batch.failures] == [
        (1, "empty_completion"),
        (2, "backend_error"),
        (3, "context_overflow"),
        (4, "invalid_input"),
    ]


def test_failures_are_none_by_default_and_raise_on_request(
    judge: Judge, caplog: pytest.LogCaptureFixture
) -> None:
    assert JudgeReward(judge)(["q", "q"], ["good", ""]) == [pytest.approx(6.0), None]
    assert "1 of 2 rewards could not be judged (empty_completion)" in caplog.text
    with pytest.raises(RewardError, match=r"item 1: the completion is empty") as info:
        JudgeReward(judge, on_failure="raise")(["q", "q"], ["good", ""])
    assert [f.index for f in info.value.failures] == [1]
    with pytest.raises(UserError, match="prompts has 2, completions has 1"):
        JudgeReward(judge)(["q", "q"], ["good"])
    with pytest.raises(UserError, match="'reference' column"):
        JudgeReward(judge, mode="reference")(["q"], ["good"], answer=["good"])


def test_groupwise_item_whose_pairs_all_failed_has_no_reward(judge: Judge) -> None:
    reward = JudgeReward(judge, mode="groupwise", on_failure="none", ridge=1e-9)
    got = reward(["q"] * 3, ["great", "FAIL", "ok"])
    assert got[1] is None and got[0] == pytest.approx(1.0, abs=1e-5)
    assert got[2] == pytest.approx(-1.0, abs=1e-5)
    assert reward(["lonely"], ["ok"]) == [0.0]


def test_trl_keyword_call_async_and_score(judge: Judge) -> None:
    reward = JudgeReward(judge, mode="reference", name="judge_ref")
    kwargs = {
        "reference": ["good"] * 2,
        "completion_ids": [[1], [2]],
        "trainer_state": None,
        "log_extra": print,
        "log_metric": print,
    }
    sync = reward(
        prompts=[[{"role": "user", "content": "q"}]] * 2,
        completions=[
            [{"role": "assistant", "content": "great"}],
            [{"role": "assistant", "content": "bad"}],
        ],
        **kwargs,
    )
    fn = reward.as_async()
    again = asyncio.run(fn(prompts=["q", "q"], completions=["great", "bad"], **kwargs))
    assert sync == pytest.approx(again) and sync == pytest.approx([1.0, -2.5], abs=1e-6)
    tensor = reward.score(["q", "q"], ["great", "bad"], ["good", "good"])
    assert tensor.shape == (2,) and str(tensor.dtype) == "torch.float32"
    assert tensor.tolist() == pytest.approx(sync, abs=1e-5)


def test_shaping_is_applied_after_judging(judge: Judge) -> None:
    reward = JudgeReward(judge, mode="reference", shaping=Shaping(normalize="batch"))
    batch = reward.compute(["q"] * 2, ["great", "bad"], ["good"] * 2)
    assert batch.raw == pytest.approx([1.0, -2.5], abs=1e-6)
    assert batch.rewards == pytest.approx([1.0, -1.0], abs=1e-5)
