"""Group holding, the mask policy, [0, 1] scores and truncated-prompt splitting.

The judge is `FakeStrengthBackend` (a scripted stand-in with known Bradley–Terry
strengths), so the values are exact; the HTTP checks use Starlette's in-process client.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from judge import Judge, UserError
from judge.reward import JudgeReward, Shaping
from judge.reward.batcher import MicroBatcher
from judge.reward.groups import GroupHolder, Outcome, Sample
from judge.reward.mask import mask_failures
from judge.reward.server import create_app
from judge.reward.split import MIN_OVERLAP, split_query
from tests.unit.test_reward_fake import FakeStrengthBackend

GROUP = ["great", "good", "ok", "bad"]


def reward(mode: str = "groupwise", **kw: Any) -> JudgeReward:
    return JudgeReward(
        Judge(FakeStrengthBackend(), cache=False),
        mode=mode,  # type: ignore[arg-type]
        ridge=1e-9,
        **kw,
    )


def one_by_one(
    r: JudgeReward, prompts: list[str], responses: list[str], size: int | None, timeout: float = 5.0
) -> tuple[list[Outcome], GroupHolder, MicroBatcher]:
    """Every sample as its own concurrent call, as OpenRLHF sends them."""

    async def run() -> tuple[list[Outcome], GroupHolder, MicroBatcher]:
        batcher = MicroBatcher(r)
        batcher.start()
        holder = GroupHolder(r, batcher, group_size=size, timeout=timeout)
        outs = await asyncio.gather(
            *[
                holder.judge([Sample(p, p, c, None)])
                for p, c in zip(prompts, responses, strict=True)
            ]
        )
        await holder.stop()
        await batcher.stop()
        return [o[0] for o in outs], holder, batcher

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("mode", "shaping"), [("groupwise", None), ("pointwise", Shaping(normalize="group"))]
)
def test_one_sample_calls_held_in_groups_equal_one_batched_call(
    mode: str, shaping: Shaping | None
) -> None:
    r = reward(mode, shaping=shaping)
    prompts = ["q1"] * 4 + ["q2"] * 4
    responses = GROUP + GROUP[::-1]
    order = [0, 5, 1, 6, 2, 7, 3, 4]  # interleaved arrivals
    outs, holder, batcher = one_by_one(
        r, [prompts[i] for i in order], [responses[i] for i in order], size=4
    )
    batched = r.compute(prompts, responses).rewards
    got = {order[k]: o.reward for k, o in enumerate(outs)}
    assert [got[i] for i in range(8)] == pytest.approx(batched, abs=1e-9)
    assert len(set(batched)) > 2 and all(o.group_size == 4 for o in outs)
    assert holder.groups == 2 and holder.partial_groups == 0 and batcher.batches <= 2


def test_without_a_group_size_each_call_is_its_own_group() -> None:
    outs, _, _ = one_by_one(reward(), ["q"] * 4, GROUP, size=None)
    assert [o.reward for o in outs] == [0.0] * 4  # why the server refuses this (below)


def test_a_group_that_never_completes_is_judged_after_the_timeout() -> None:
    r = reward()
    outs, holder, _ = one_by_one(r, ["q"] * 3, GROUP[:3], size=4, timeout=0.2)
    assert [o.reward for o in outs] == pytest.approx(r.compute(["q"] * 3, GROUP[:3]).rewards)
    assert [o.group_size for o in outs] == [3, 3, 3] and holder.partial_groups == 1


@pytest.mark.parametrize("mode", ["groupwise", "pointwise"])
def test_mask_gives_a_failed_sample_its_groups_mean_and_flags_it(mode: str) -> None:
    r = reward(mode, on_failure="mask")
    responses = ["great", "FAIL", "ok", "bad"]
    outs, holder, _ = one_by_one(r, ["q"] * 4, responses, size=4)
    others = [o.reward for o in outs if o.failure is None]
    assert [o.failure is not None for o in outs] == [False, True, False, False]
    assert outs[1].reward == pytest.approx(sum(others) / 3)  # zero advantage in its group
    assert outs[1].score == pytest.approx(sum(o.score for o in outs if o.failure is None) / 3)
    assert outs[1].failure.reason == "backend_error" and holder.failed == 1
    assert r(["q"] * 4, responses) == pytest.approx([o.reward for o in outs])  # Python API too


def test_mask_failures_fills_per_group_and_an_all_failed_group() -> None:
    assert mask_failures([1.0, None, 3.0, None, None], ["a", "a", "a", "b", "b"]) == [
        1.0,
        2.0,
        3.0,
        0.0,
        0.0,
    ]
    with pytest.raises(UserError, match="'raise', 'none' or 'mask'"):
        reward(on_failure="zero")


def test_scores_are_in_unit_range_per_mode() -> None:
    for mode in ("pointwise", "reference", "groupwise"):
        r = reward(mode)
        holder = GroupHolder(r, MicroBatcher(r))
        assert all(0.0 <= holder.score(x) <= 1.0 for x in (1.0, 5.5, 10.0)) or mode != "pointwise"
        if mode != "pointwise":
            assert holder.score(0.0) == 0.5 and holder.score(math.log(3)) == pytest.approx(0.75)
    assert GroupHolder(reward("pointwise"), MicroBatcher(r)).score(10.0) == 1.0


def test_a_left_truncated_prompt_is_matched_by_its_tail() -> None:
    prompt = "<|im_start|>user\n" + "context " * 40 + "Question?<|im_end|>\n<|im_start|>assistant\n"
    assert split_query(prompt[100:] + "Answer.<|im_end|>", prompt) == "Answer."
    assert split_query("\ufffd" + prompt[101:] + "Answer.", prompt) == "Answer."
    with pytest.raises(UserError, match="does not start with its prompt"):
        split_query(prompt[-MIN_OVERLAP + 1 :] + "Answer.", prompt)


def post(client: TestClient, prompts: list[str], responses: list[str]) -> Any:
    return client.post(
        "/get_reward",
        json={
            "query": [p + c for p, c in zip(prompts, responses, strict=True)],
            "prompts": prompts,
        },
    )


def test_group_rewards_over_a_lone_sample_are_a_400_that_says_what_to_do() -> None:
    for r in (reward(), reward("pointwise", shaping=Shaping(normalize="batch"))):
        with TestClient(create_app(r)) as client:
            refused = post(client, ["q"], ["good"])
            assert refused.status_code == 400 and "--group-size" in refused.json()["detail"]
            assert post(client, ["q", "q"], ["good", "ok"]).status_code == 200
    with pytest.raises(UserError, match="only see one group"):
        create_app(reward("pointwise", shaping=Shaping(normalize="batch")), group_size=4)
    with pytest.raises(UserError, match="≥ 2"):
        create_app(reward(), group_size=1)


def test_server_reports_flags_group_sizes_and_health() -> None:
    with TestClient(create_app(reward(on_failure="mask"), group_size=3)) as client:
        data = post(client, ["q"] * 3, ["great", "FAIL", "ok"]).json()
        health = client.get("/health").json()
    assert data["extra_logs"] == {"judge_failed": [0.0, 1.0, 0.0], "judge_group_size": [3.0] * 3}
    assert data["rewards"][1] == pytest.approx(0.0) and data["failures"][0]["index"] == 1
    assert health["failed"] == 1 and health["groups"] == 1 and health["on_failure"] == "mask"


def test_reference_mode_without_labels_or_with_only_empty_ones_is_a_400() -> None:
    with TestClient(create_app(reward("reference", on_failure="mask"))) as client:
        for labels in (None, [""]):
            body = {"query": ["qgood"], "prompts": ["q"], "labels": labels}
            refused = client.post("/get_reward", json=body)
            assert refused.status_code == 400 and "--data.label_key" in refused.json()["detail"]
        mixed = client.post(
            "/get_reward",
            json={"query": ["qgreat", "qok"], "prompts": ["q", "q"], "labels": ["good", ""]},
        )
    assert mixed.json()["extra_logs"]["judge_failed"] == [0.0, 1.0]  # that sample alone
