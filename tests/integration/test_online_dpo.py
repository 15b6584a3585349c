"""A real TRL OnlineDPOTrainer step with the judge as its (groupwise, pairwise) reward.

TRL 1.16 ``trl.experimental.online_dpo``: two completions per prompt, ``reward_funcs``
called on the prompt list repeated twice; the higher reward is "chosen". Groupwise
judging compares each pair directly, so the trainer's logged ``objective/scores_margin``
(mean reward of chosen − rejected) must be the mean |r₁ − r₂| of the judge's pairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judge import Judge
from judge.reward import JudgeReward

pytestmark = pytest.mark.slow


class RecordingReward(JudgeReward):
    """A real `JudgeReward` that also keeps every call (for the assertions)."""

    calls: list[tuple[list[Any], list[float | None]]]

    def __call__(self, prompts: Any, completions: Any, **kwargs: Any) -> list[float | None]:
        rewards = super().__call__(prompts, completions, **kwargs)
        self.calls.append((list(prompts), rewards))
        return rewards


def test_online_dpo_trains_on_the_judges_pairwise_preference(
    model_home: dict[str, Any], smollm: Any, tmp_path: Path
) -> None:
    from datasets import Dataset
    from trl.experimental.online_dpo import OnlineDPOConfig, OnlineDPOTrainer

    reward = RecordingReward(Judge(smollm, cache=False), mode="groupwise", name="judge_pair")
    reward.calls = []
    prompts = ["Name one fruit.", "What colour is the sky?"]
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": p}] for p in prompts]})
    config = OnlineDPOConfig(
        output_dir=str(tmp_path),
        max_steps=1,
        logging_steps=1,
        per_device_train_batch_size=2,
        max_new_tokens=6,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        gradient_checkpointing=False,
        seed=0,
        disable_tqdm=True,
    )
    from transformers import AutoTokenizer

    trainer = OnlineDPOTrainer(
        model=str(model_home["model_dir"]),
        reward_funcs=[reward],
        args=config,
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(model_home["model_dir"]),
    )
    trainer.train()
    ((seen, rewards),) = reward.calls
    assert len(seen) == 4 and seen[:2] == seen[2:]  # the prompts, twice
    assert all(r is not None for r in rewards)
    gaps = [abs(rewards[i] - rewards[i + 2]) for i in range(2)]  # type: ignore[operator]
    assert all(rewards[i] == pytest.approx(-rewards[i + 2], abs=1e-6) for i in range(2))
    logged = [
        h["objective/scores_margin"]
        for h in trainer.state.log_history
        if "objective/scores_margin" in h
    ]
    assert logged == [pytest.approx(sum(gaps) / 2, abs=1e-4)]
