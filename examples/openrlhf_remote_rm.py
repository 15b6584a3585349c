"""OpenRLHF (v0.10+; checked against 0.11.2) with a judge as its remote reward model.

1. Start the reward server (the embedded judge here; pass --model for a stronger one).
   OpenRLHF sends every sample as its own request, so a reward that compares a prompt's
   samples needs --group-size equal to OpenRLHF's --rollout.n_samples_per_prompt:

       .venv/bin/judge serve --port 5000 --mode groupwise --group-size 4

   (--mode reference rewards against the dataset's labels; --mode pointwise scores each
   response alone and needs no group size.)

2. Point OpenRLHF at it instead of a reward model checkpoint:

       python -m openrlhf.cli.train_ppo_ray ... \
           --reward.remote_url http://127.0.0.1:5000/get_reward \
           --rollout.n_samples_per_prompt 4 --data.label_key reference

   or give it the Python-file route, which OpenRLHF loads in each rollout actor:

       --reward.remote_url examples/openrlhf_reward_func.py   # JUDGE_SERVE_URL=...

   (OpenRLHF sends no bearer token; with --token use the reward_func file, which sends
   $JUDGE_SERVE_TOKEN. The server binds 127.0.0.1 unless told otherwise.)

3. This script sends one group exactly as OpenRLHF does, one sample per request, all at
   once, and prints each reply:

       .venv/bin/python examples/openrlhf_remote_rm.py --url http://127.0.0.1:5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import httpx

PROMPT = "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n"
RESPONSES = ["4", "5", "2 + 2 = 4.", "It is 22."]


async def post_one(client: httpx.AsyncClient, url: str, response: str) -> dict[str, Any]:
    body = {
        "query": [PROMPT + response + "<|im_end|>"],
        "prompts": [PROMPT],
        "labels": ["2 + 2 = 4."],
    }
    reply = await client.post(f"{url}/get_reward", json=body)
    reply.raise_for_status()
    return reply.json()  # type: ignore[no-any-return]


async def main(url: str, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(headers=headers, timeout=600) as client:
        replies = await asyncio.gather(*[post_one(client, url, r) for r in RESPONSES])
    for response, reply in zip(RESPONSES, replies, strict=True):
        print(
            f"{response!r}: reward {reply['rewards'][0]:.3f}, score {reply['scores'][0]:.3f}, "
            f"{reply['extra_logs']}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="send one group as OpenRLHF does")
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--token", default=os.environ.get("JUDGE_SERVE_TOKEN"))
    args = parser.parse_args()
    asyncio.run(main(args.url, args.token))
