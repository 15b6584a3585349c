"""One rank of a real multi-process TRL GRPO run with a groupwise judge reward.

Launched by ``test_grpo_processes.py`` as ``torchrun --nproc_per_node 2 grpo_ranks.py
OUT_DIR MODEL_DIR``. Policy and judge: the embedded SmolLM2-135M-Instruct. Each rank
writes, per reward call, the prompts, completions and rewards it was given and
returned, and the trainer's own per-completion rewards (gathered over ranks).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from judge import Judge
from judge.reward import JudgeReward


class RecordingReward(JudgeReward):
    """A real groupwise `JudgeReward` that keeps what each call was given and returned."""

    calls: list[dict[str, Any]]

    def __call__(self, prompts: Any, completions: Any, **kwargs: Any) -> list[float | None]:
        rewards = super().__call__(prompts, completions, **kwargs)
        self.calls.append(
            {"prompts": list(prompts), "completions": list(completions), "rewards": rewards}
        )
        return rewards


def main(out: Path, model_dir: str) -> None:
    reward = RecordingReward(Judge(cache=False), mode="groupwise", name="judge_group")
    reward.calls = []
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": "Name one fruit."}]]})
    args = GRPOConfig(
        output_dir=str(out / "trainer"),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=2,
        num_generations=4,
        max_completion_length=6,
        max_steps=1,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        gradient_checkpointing=False,
        seed=0,
        disable_tqdm=True,
    )
    trainer = GRPOTrainer(model=model_dir, reward_funcs=[reward], args=args, train_dataset=dataset)
    trainer.train()
    rank = trainer.accelerator.process_index
    logged = list(trainer._logs["rewards"]["judge_group"])  # gathered by the trainer
    (out / f"rank{rank}.json").write_text(
        json.dumps(
            {
                "world": trainer.accelerator.num_processes,
                "calls": reward.calls,
                "trainer_rewards": logged,
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
