"""`judge serve` driven by OpenRLHF's own reward client code (openrlhf 0.11.2 from PyPI).

The rollout side is OpenRLHF's `SingleTurnAgentExecutor` (``openrlhf/utils/agent.py``):
its ``_fetch_rewards_via_http`` posts one sample per request as every rollout does, its
``execute`` builds the query (left-truncating long prompts) and its loader imports a
``reward_func`` file; its ``SamplesGenerator._process_response_into_experience``
(``openrlhf/trainer/ppo_utils/samples_generator.py``) turns the reply into tensors,
where a null reward crashes. The policy model is `FakePolicy`, a stand-in that answers
fixed token ids (the reward path is what is tested); the judge is the real litellm
backend against the fault server (`tests.faults.server`), so rewards have a known sign
and a fault can be planned for one sample.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from openrlhf.utils import agent  # scripts/setup --dev installs openrlhf (--no-deps)

from judge import Judge
from judge.reward import JudgeReward, Shaping
from tests.conftest import REPO
from tests.faults.cases import API_KEY, MAX_RETRIES, fault
from tests.faults.server import MARK, FaultServer
from tests.faults.serving import judge_serve

REWARD_FUNC = REPO / "examples" / "openrlhf_reward_func.py"
SIZE = 4


def group_samples(tag: str, groups: int, size: int = SIZE) -> list[tuple[str, str, str]]:
    """(prompt, response, label) per sample; in each group half the responses hold MARK."""
    out = []
    for g in range(groups):
        prompt = (
            f"<|im_start|>user\n[{tag}-{g}] Which answer is right?<|im_end|>\n"
            "<|im_start|>assistant\n"
        )
        for k in range(size):
            text = f"The {MARK} answer {g}.{k}." if k % 2 == 0 else f"A poor answer {g}.{k}."
            out.append((prompt, text, "A reference answer."))
    return out


def batched(
    faults: FaultServer, mode: str, samples: list[tuple[str, str, str]], **kw: Any
) -> list[float | None]:
    """The same samples as ONE in-process `JudgeReward` call on the same judge."""
    judge = Judge(
        "openai/fault-test",
        cache=False,
        backend_options={
            "api_base": faults.api_base,
            "api_key": API_KEY,
            "timeout": 5.0,
            "max_retries": 2,
        },
    )
    reward = JudgeReward(judge, mode=mode, on_failure="none", **kw)  # type: ignore[arg-type]
    prompts, responses, labels = (list(x) for x in zip(*samples, strict=True))
    return reward.compute(prompts, responses, labels).rewards


def fetch_one_by_one(url: str, samples: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """OpenRLHF's HTTP route: each sample its own concurrent `_fetch_rewards_via_http`."""
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=[f"{url}/get_reward"])

    async def run() -> list[Any]:
        return await asyncio.gather(
            *[
                executor._fetch_rewards_via_http([p + r + "<|im_end|>"], [p], [label])
                for p, r, label in samples
            ]
        )

    return [replies[0] for replies in asyncio.run(run())]


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def groupwise(faults: FaultServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``judge serve --mode groupwise --group-size 4`` (mask, the default) via the fault server."""
    with judge_serve(
        faults,
        tmp_path_factory.mktemp("gw"),
        "--no-cache",
        "--mode",
        "groupwise",
        "--group-size",
        str(SIZE),
    ) as url:
        yield url


def test_one_sample_requests_under_concurrency_get_the_batched_groupwise_rewards(
    faults: FaultServer, groupwise: str
) -> None:
    samples = group_samples("gw", groups=4)  # 16 concurrent one-sample requests
    replies = fetch_one_by_one(groupwise, samples)
    rewards = [r["rewards"][0] for r in replies]
    assert rewards == pytest.approx(batched(faults, "groupwise", samples), abs=1e-6)
    assert all((x > 0) == (k % 2 == 0) for k, x in enumerate(rewards))  # not [0, 0, 0, 0]
    assert all(0.0 < r["scores"][0] < 1.0 for r in replies)
    assert all(
        r["extra_logs"] == {"judge_failed": [0.0], "judge_group_size": [4.0]} for r in replies
    )


def test_group_normalize_over_one_sample_requests_equals_the_batched_call(
    faults: FaultServer, tmp_path: Path
) -> None:
    samples = group_samples("norm", groups=2)
    with judge_serve(
        faults,
        tmp_path,
        "--no-cache",
        "--mode",
        "reference",
        "--normalize",
        "group",
        "--group-size",
        str(SIZE),
    ) as url:
        rewards = [r["rewards"][0] for r in fetch_one_by_one(url, samples)]
    assert rewards == pytest.approx(
        batched(faults, "reference", samples, shaping=Shaping(normalize="group")), abs=1e-6
    )


def test_groupwise_without_a_group_size_refuses_a_lone_sample(
    faults: FaultServer, tmp_path: Path
) -> None:
    with judge_serve(faults, tmp_path, "--mode", "groupwise") as url:
        p, r, label = group_samples("lone", 1)[0]
        reply = httpx.post(
            f"{url}/get_reward", json={"query": [p + r], "prompts": [p], "labels": [label]}
        )
    assert reply.status_code == 400 and "--group-size" in reply.json()["detail"]


def test_a_failed_verdict_under_the_default_policy_is_flagged_and_does_not_crash(
    faults: FaultServer, groupwise: str
) -> None:
    from openrlhf.trainer.ppo_utils.samples_generator import SamplesGenerator

    samples = group_samples("fail", groups=1)
    broken = samples[3][1]  # every comparison of this sample fails, every attempt
    faults.plan(broken, *(fault("server_error") for _ in range(2 * 3 * (MAX_RETRIES + 1))))
    before = httpx.get(f"{groupwise}/health").json()["failed"]
    replies = fetch_one_by_one(groupwise, samples)
    good = [r["rewards"][0] for r in replies[:3]]
    assert replies[3]["extra_logs"]["judge_failed"] == [1.0]
    assert replies[3]["rewards"][0] == pytest.approx(sum(good) / 3)  # zero advantage
    assert httpx.get(f"{groupwise}/health").json()["failed"] == before + 1
    for reply in replies:  # OpenRLHF's own conversion of the reply into an Experience
        response = {
            "observation_tokens": [1, 2, 3],
            "action_ranges": [(1, 3)],
            "rollout_log_probs": None,
            "prompt": "p",
            "label": "l",
            "reward": reply["rewards"],
            "scores": reply["scores"],
            "extra_logs": reply["extra_logs"],
        }
        exp = SamplesGenerator._process_response_into_experience(None, response)
        assert exp.rewards.isfinite().all() and "judge_failed" in exp.info


class CharTokenizer:
    """A stand-in tokenizer: one id per character (so truncation is exact and visible)."""

    def __call__(
        self, text: str, add_special_tokens: bool = False, return_tensors: str = "pt"
    ) -> dict[str, Any]:
        import torch

        return {"input_ids": torch.tensor([[ord(c) for c in text]])}

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        return "".join(chr(i) for i in ids)


class FakePolicy:
    """A stand-in policy engine: answers ``text`` + end of turn, as vLLM's output shape."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)

    async def generate(self, ids: list[int], params: Any, multi_modal_data: Any = None) -> Any:
        text = self.texts.pop(0) + "<|im_end|>"
        out = SimpleNamespace(
            token_ids=[ord(c) for c in text], text=text, finish_reason="stop", logprobs=None
        )
        return SimpleNamespace(outputs=[out])


def execute_group(
    remote: str, samples: list[tuple[str, str, str]], max_length: int
) -> list[dict[str, Any]]:
    """OpenRLHF's whole single-turn rollout step per sample, concurrently (one group)."""
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=[remote])
    policy = FakePolicy([r for _, r, _ in samples])
    params = SimpleNamespace(max_tokens=40, logprobs=None)

    async def run() -> list[Any]:
        return await asyncio.gather(
            *[
                executor.execute(
                    prompt=p,
                    label=label,
                    sampling_params=params,
                    max_length=max_length,
                    hf_tokenizer=CharTokenizer(),
                    llm_engine=policy,
                )
                for p, _, label in samples
            ]
        )

    return list(asyncio.run(run()))


def test_a_prompt_openrlhf_left_truncated_still_gets_its_reward(
    faults: FaultServer, groupwise: str
) -> None:
    samples = [
        (p.replace("Which", "Long context. " * 12 + "Which"), r, label)
        for p, r, label in group_samples("trunc", groups=1)
    ]
    outputs = execute_group(f"{groupwise}/get_reward", samples, max_length=len(samples[0][0]))
    queries = [CharTokenizer().decode(o["observation_tokens"]) for o in outputs]
    assert not any(q.startswith(samples[0][0]) for q in queries)  # cut by 40 characters
    rewards = [o["reward"][0] for o in outputs]
    assert rewards == pytest.approx(batched(faults, "groupwise", samples), abs=1e-6)


def test_the_reward_func_file_loaded_as_openrlhf_loads_it_calls_judge_serve(
    faults: FaultServer, groupwise: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_SERVE_URL", groupwise)
    samples = group_samples("func", groups=1)
    outputs = execute_group(str(REWARD_FUNC), samples, max_length=4096)
    rewards = [o["reward"][0] for o in outputs]
    assert rewards == pytest.approx(batched(faults, "groupwise", samples), abs=1e-6)
    assert all(o["extra_logs"]["judge_failed"] == [0.0] for o in outputs)


def test_judge_requests_fan_out_over_two_engines_and_groups_stay_whole(
    faults: FaultServer, tmp_path: Path
) -> None:
    samples = group_samples("fan", groups=4)
    with (
        FaultServer() as one,
        FaultServer() as two,
        judge_serve(
            one,
            tmp_path,
            "--no-cache",
            "--mode",
            "groupwise",
            "--group-size",
            str(SIZE),
            "--engine",
            one.api_base,
            "--engine",
            two.api_base,
        ) as url,
    ):
        rewards = [r["rewards"][0] for r in fetch_one_by_one(url, samples)]
        split = (len(one.seen), len(two.seen))
    assert rewards == pytest.approx(batched(faults, "groupwise", samples), abs=1e-6)
    assert sum(split) == 4 * 6 * 2 and min(split) >= 8  # 4 groups × 6 pairs × 2 orders
    print(f"load split over two engines: {split}")
