"""The verl adapter's inputs and failure policy, on a fake judge (pure logic)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from judge import Judge
from judge.errors import UserError
from judge.reward import RewardError, verl


@pytest.fixture(autouse=True)
def fake_judge() -> Iterator[None]:
    from test_reward_fake import FakeStrengthBackend

    verl.configure(Judge(FakeStrengthBackend(), cache=False))
    yield
    verl.reset()


def test_a_missing_prompt_is_refused_not_judged_empty() -> None:
    with pytest.raises(UserError, match=r"no prompt: extra_info has \['index'\]"):
        verl.compute_score("d", "great", "good", extra_info={"index": 3})
    with pytest.raises(UserError, match="no prompt"):
        verl.compute_score("d", "great", "good")


@pytest.mark.parametrize("truth", [None, {"target": "good"}, ["good", "ok"], True])
def test_non_text_ground_truth_is_refused_in_reference_mode(truth: object) -> None:
    with pytest.raises(UserError, match=f"ground_truth is {type(truth).__name__}"):
        verl.compute_score("d", "great", truth, extra_info={"prompt": "q"})


def test_a_number_is_a_text_reference_and_pointwise_needs_none() -> None:
    assert verl.reference_of(4, "reference") == "4"
    assert verl.reference_of({"any": 1}, "pointwise") is None


def test_scores_and_failures_carry_the_same_keys() -> None:
    ok = verl.compute_score("d", "great", "good", extra_info={"question": "q"})
    assert ok == {"score": pytest.approx(1.0), "judge_failed": 0.0, "judge_reason": ""}
    failed = asyncio.run(verl.compute_score_async("d", "FAIL", "good", extra_info={"prompt": "q"}))
    assert failed == {"score": 0.0, "judge_failed": 1.0, "judge_reason": "backend_error"}
    with pytest.raises(RewardError, match="backend_error"):
        verl.compute_score("d", "FAIL", "good", extra_info={"prompt": "q"}, on_failure="raise")
    with pytest.raises(UserError, match="on_failure"):
        verl.compute_score("d", "great", "good", extra_info={"prompt": "q"}, on_failure="none")


def test_concurrent_async_samples_share_one_batch() -> None:
    async def many() -> list[dict[str, object]]:
        return await asyncio.gather(
            *[
                verl.compute_score_async("d", answer, "good", extra_info={"prompt": "q"})
                for answer in ("great", "ok", "bad", "good")
            ]
        )

    got = asyncio.run(many())
    assert [g["score"] for g in got] == pytest.approx([1.0, -1.0, -2.5, 0.0], abs=1e-6)
    assert sum(b.batches for b in verl._batchers.values()) < 4  # not one call per sample
