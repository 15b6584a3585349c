"""A real TRL GRPOTrainer run on the CPU with the judge as its reward functions.

Policy: SmolLM2-135M-Instruct (the converted embedded model). Rewards: the same model as
a judge, in ``reference`` mode (sync, with a dataset column of references) and in
``pointwise`` mode through the real ``async def`` variant. The test checks that what
the trainer logged is exactly what the judge returned, and that a fresh judge (no
cache) gives the same rewards for the completions the trainer generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judge import Judge
from judge.reward import JudgeReward

pytestmark = pytest.mark.slow

PROMPTS = [
    ("Name one fruit.", "An apple is a fruit."),
    ("What colour is the sky on a clear day?", "The sky is blue."),
]


class RecordingReward(JudgeReward):
    """A real `JudgeReward` that also keeps every batch it returned (for the assertions)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[list[Any], list[Any], list[float | None]]] = []

    def __call__(self, prompts: Any, completions: Any, **kwargs: Any) -> list[float | None]:
        rewards = super().__call__(prompts, completions, **kwargs)
        self.calls.append((list(prompts), list(completions), rewards))
        return rewards


def test_grpo_trainer_logs_the_judges_rewards(
    model_home: dict[str, Any], smollm: Any, tmp_path: Path
) -> None:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    judge = Judge(smollm, cache=tmp_path / "cache")
    reference = RecordingReward(judge, mode="reference", name="judge_reference")
    pointwise = JudgeReward(judge, mode="pointwise", normalize_score=True, name="judge_score")
    scored: list[list[float | None]] = []

    async_fn = pointwise.as_async()

    async def judge_score(**kwargs: Any) -> list[float | None]:
        rewards = await async_fn(**kwargs)
        scored.append(rewards)
        return rewards

    dataset = Dataset.from_dict(
        {
            "prompt": [[{"role": "user", "content": p}] for p, _ in PROMPTS],
            "reference": [r for _, r in PROMPTS],
        }
    )
    args = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=8,
        max_steps=2,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        gradient_checkpointing=False,
        seed=0,
        disable_tqdm=True,
    )
    trainer = GRPOTrainer(
        model=str(model_home["model_dir"]),
        reward_funcs=[reference, judge_score],
        args=args,
        train_dataset=dataset,
    )
    trainer.train()

    logged = [h for h in trainer.state.log_history if "rewards/judge_reference/mean" in h]
    assert len(logged) == 2 == len(reference.calls) == len(scored)
    for entry, (_, _, rewards), points in zip(logged, reference.calls, scored, strict=True):
        assert all(r is not None for r in rewards + points)
        assert entry["rewards/judge_reference/mean"] == pytest.approx(
            sum(rewards) / len(rewards), abs=1e-5
        )  # type: ignore[arg-type]
        assert entry["rewards/judge_score/mean"] == pytest.approx(
            sum(points) / len(points), abs=1e-5
        )  # type: ignore[arg-type]
    # Per completion, as the trainer stored them (last generation batch).
    assert list(trainer._logs["rewards"]["judge_reference"]) == pytest.approx(
        reference.calls[-1][2], abs=1e-5
    )
    # The completions really came from the policy, as chat messages, and a fresh judge
    # without a cache gives the same rewards for them.
    prompts, completions, rewards = reference.calls[-1]
    assert all(isinstance(c, list) and c[0]["role"] == "assistant" for c in completions)
    fresh = JudgeReward(Judge(smollm, cache=False), mode="reference")
    refs = [dict(PROMPTS)[p[-1]["content"]] for p in prompts]
    assert fresh(prompts, completions, reference=refs) == pytest.approx(rewards, abs=1e-4)
