"""GRPO with TRL, rewarded by a judge instead of a reward model.

Runs on a CPU in a few minutes with the embedded SmolLM2-135M-Instruct as both the
policy and the judge (a weak judge: this shows the wiring, not a good reward):

    .venv/bin/python examples/trl_grpo.py --max-steps 2

On several processes (each holds part of a GRPO group; the groupwise reward gathers
the whole group across them, see `judge.reward.distributed`):

    .venv/bin/torchrun --standalone --nproc_per_node 2 examples/trl_grpo.py \
        --mode groupwise --max-steps 1

With your own policy and a stronger judge:

    .venv/bin/python examples/trl_grpo.py --policy Qwen/Qwen2.5-0.5B-Instruct \
        --judge vllm/Qwen/Qwen2.5-7B-Instruct --mode groupwise --max-steps 100
"""

from __future__ import annotations

import argparse

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from judge import Judge
from judge.backends import embedded
from judge.reward import JudgeReward, Shaping

DATA = [
    ("Name one fruit.", "An apple is a fruit."),
    ("What colour is the sky on a clear day?", "The sky is blue."),
    ("What is 2 + 2?", "2 + 2 = 4."),
    ("Give a synonym of 'happy'.", "Joyful."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", help="policy model (default: the embedded SmolLM2)")
    parser.add_argument("--judge", help="judge model string (default: the embedded SmolLM2)")
    parser.add_argument(
        "--mode", default="reference", choices=["pointwise", "reference", "groupwise"]
    )
    parser.add_argument("--max-steps", type=int, default=2)
    parser.add_argument("--output-dir", default="grpo-out")
    args = parser.parse_args()

    # One line replaces the reward model: the judge is the reward function.
    reward = JudgeReward(
        Judge(args.judge), mode=args.mode, shaping=Shaping(residualize_length="group")
    )
    dataset = Dataset.from_dict(
        {
            "prompt": [[{"role": "user", "content": p}] for p, _ in DATA],
            "reference": [r for _, r in DATA],
        }
    )  # used by mode=reference
    config = GRPOConfig(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        logging_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=16,
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        report_to="none",
        save_strategy="no",
    )
    trainer = GRPOTrainer(
        model=args.policy or str(embedded.ensure_converted()),
        reward_funcs=[reward],
        args=config,
        train_dataset=dataset,
    )
    trainer.train()
    for entry in trainer.state.log_history:
        if f"rewards/{reward.__name__}/mean" in entry:
            print(
                f"step {entry['step']}: mean judge reward "
                f"{entry[f'rewards/{reward.__name__}/mean']:.3f}"
            )


if __name__ == "__main__":
    main()
