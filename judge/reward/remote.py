"""Rewards from a running ``judge serve``: one shared judge for many trainer workers.

verl starts ``reward.num_workers`` processes; pointed at one ``judge serve`` (via
``reward_kwargs.judge_url``), they share its model and its batching instead of loading
a copy each. The request is OpenRLHF's (`judge.reward.client`): ``query`` = prompt +
response, ``prompts`` = the prompt, ``labels`` = the reference; the server's mode
(``judge serve --mode``) decides what the reward means. A failed verdict comes back
as a `RewardBatch` failure, which `judge.reward.verl` flags or raises as for a local judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from judge.reward.client import AsyncRewardClient, RewardClient, RewardReply
from judge.reward.items import RewardBatch, RewardFailure, message_text

_sync: dict[str, RewardClient] = {}
_async: dict[tuple[str, int], AsyncRewardClient] = {}


def _request(
    prompt: str | list[Any], solution: str, reference: str | None
) -> tuple[list[str], list[str], list[str | None] | None]:
    text = message_text(prompt, "prompt")
    return [text + solution], [text], None if reference is None else [reference]


def _batch(reply: RewardReply) -> RewardBatch:
    failures = [
        RewardFailure(0, str(f.get("reason", "no_reward")), str(f.get("message", "")))
        for f in reply.failures
    ]
    if reply.rewards[0] is None and not failures:
        failures = [RewardFailure(0, "no_reward", "the server returned no reward")]
    return RewardBatch(reply.rewards[:1], reply.rewards[:1], failures[:1])


def score_remote(
    options: Mapping[str, Any], prompt: str | list[Any], solution: str, reference: str | None
) -> RewardBatch:
    """One sample's rewards from the ``judge serve`` at ``options["judge_url"]``."""
    url = str(options["judge_url"])
    if url not in _sync:
        _sync[url] = RewardClient(url, token=options.get("judge_token"))
    return _batch(_sync[url].rewards(*_request(prompt, solution, reference)))


async def ascore_remote(
    options: Mapping[str, Any], prompt: str | list[Any], solution: str, reference: str | None
) -> RewardBatch:
    """Async `score_remote` (one connection pool per event loop)."""
    import asyncio

    url = str(options["judge_url"])
    key = (url, id(asyncio.get_running_loop()))
    if key not in _async:
        _async[key] = AsyncRewardClient(url, token=options.get("judge_token"))
    reply = await _async[key].rewards(*_request(prompt, solution, reference))
    return _batch(reply)
