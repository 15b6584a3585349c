"""Online DPO with TRL, the judge choosing the preferred completion of each pair.

TRL 1.16's ``OnlineDPOTrainer`` (``trl.experimental.online_dpo``) takes ``reward_funcs``
(its ``judge=`` argument and ``trl.judges`` are gone since TRL 1.1). It generates two
completions per prompt, calls the reward functions on both (the prompt list repeated
twice) and trains toward the higher one. ``mode="groupwise"`` groups the two by their
prompt and compares them directly (both orders), so each pair's rewards are ±½·logit
P(first ≻ second) — a pairwise judge, like ``PairRMJudge`` was.

Runs on a CPU in a few minutes (SmolLM2-135M-Instruct as policy and judge):

    .venv/bin/python examples/trl_online_dpo.py --max-steps 1
"""

from __future__ import annotations

import argparse

from datasets import Dataset
from transformers import AutoTokenizer
from trl.experimental.online_dpo import OnlineDPOConfig, OnlineDPOTrainer

from judge import Judge
from judge.backends import embedded
from judge.reward import JudgeReward

PROMPTS = ["Name one fruit.", "What colour is the sky on a clear day?"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", help="policy model (default: the embedded SmolLM2)")
    parser.add_argument("--judge", help="judge model string (default: the embedded SmolLM2)")
    parser.add_argument("--max-steps", type=int, default=1)
    parser.add_argument("--output-dir", default="online-dpo-out")
    args = parser.parse_args()

    # OnlineDPO turns a None reward into 0 (a tie: the first completion is "chosen"), so a
    # failed verdict is logged by the reward; pass on_failure="raise" to stop instead.
    reward = JudgeReward(Judge(args.judge), mode="groupwise", name="judge_pair")
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": p}] for p in PROMPTS]})
    config = OnlineDPOConfig(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        per_device_train_batch_size=2,
        max_new_tokens=12,
        logging_steps=1,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        gradient_checkpointing=False,
    )
    policy = args.policy or str(embedded.ensure_converted())
    trainer = OnlineDPOTrainer(
        model=policy,
        reward_funcs=[reward],
        args=config,
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(policy),
    )
    trainer.train()
    for entry in trainer.state.log_history:
        if "objective/scores_margin" in entry:
            print(
                f"step {entry['step']}: judge margin chosen − rejected "
                f"{entry['objective/scores_margin']:.3f}"
            )


if __name__ == "__main__":
    main()
