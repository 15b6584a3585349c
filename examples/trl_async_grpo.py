"""Async GRPO with TRL, rewarded by a judge that crosses into TRL's rollout process.

TRL 1.16's ``AsyncGRPOTrainer`` (``trl.experimental.async_grpo``) generates with an
external vLLM server and scores in a *spawned* child process, so it pickles its reward
functions. ``JudgeReward`` pickles its settings, not its model: the child builds the
judge again on first use. Build the judge from a model string (a built ``Backend``
object does not pickle), ideally a served one so the child loads nothing:

    reward = JudgeReward(Judge("hosted_vllm/Qwen/Qwen2.5-7B-Instruct",
                               backend_options={"api_base": "http://127.0.0.1:8001/v1"}),
                         mode="groupwise").as_async()

Without a GPU and a vLLM server this script only checks what the trainer would do with
the reward — pickle it, unpickle it in a spawned process, call it there:

    .venv/bin/python examples/trl_async_grpo.py

With a vLLM server for the policy (``trl vllm-serve --model ...``), train:

    .venv/bin/python examples/trl_async_grpo.py --train --policy Qwen/Qwen2.5-0.5B-Instruct \
        --judge hosted_vllm/Qwen/Qwen2.5-7B-Instruct --judge-api-base http://127.0.0.1:8001/v1
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import pickle
from typing import Any

from judge import Judge
from judge.reward import AsyncJudgeReward, JudgeReward

PROMPTS = ["Name one fruit."] * 2
COMPLETIONS = ["An apple.", "A chair."]


def _score_in_child(blob: bytes, out: Any) -> None:
    reward: AsyncJudgeReward = pickle.loads(blob)
    out.put(asyncio.run(reward(prompts=PROMPTS, completions=COMPLETIONS)))


def check(reward: AsyncJudgeReward) -> None:
    """Pickle the reward and score two completions with it in a spawned process."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_score_in_child, args=(pickle.dumps(reward), out))
    child.start()
    print(f"{reward.__name__} in a spawned process: {out.get(timeout=600)}")
    child.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", help="judge model string (default: the embedded SmolLM2)")
    parser.add_argument("--judge-api-base", help="api_base of a served judge")
    parser.add_argument("--train", action="store_true", help="run AsyncGRPOTrainer")
    parser.add_argument("--policy", default="Qwen/Qwen2.5-0.5B-Instruct")
    args = parser.parse_args()
    options = {"api_base": args.judge_api_base} if args.judge_api_base else None
    reward = JudgeReward(
        Judge(args.judge, backend_options=options), mode="groupwise", name="judge_group"
    ).as_async()
    if not args.train:
        check(reward)
        return
    from datasets import Dataset
    from trl.experimental.async_grpo import AsyncGRPOConfig, AsyncGRPOTrainer

    dataset = Dataset.from_dict(
        {"prompt": [[{"role": "user", "content": p}] for p in PROMPTS[:1] * 64]}
    )
    trainer = AsyncGRPOTrainer(
        model=args.policy,
        reward_funcs=[reward],
        train_dataset=dataset,
        args=AsyncGRPOConfig(output_dir="async-grpo-out", max_steps=10),
    )
    trainer.train()


if __name__ == "__main__":
    main()
