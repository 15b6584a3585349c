"""verl adapter: ``compute_score`` functions for verl's custom reward function.

verl 0.9 loads ``reward.custom_reward_function.path`` / ``.name`` in each of its
``reward.num_workers`` reward-loop workers and calls, per sample,
``compute_score(data_source=, solution_str=, ground_truth=, extra_info=, **reward_kwargs)``
(``verl/experimental/reward_loop/reward_manager/naive.py``), adding
``reward_router_address`` and ``reward_model_tokenizer`` when verl serves a reward
model itself (GenRM). ``reward.custom_reward_function.reward_kwargs`` are passed to
every call; they choose the judge, so nothing is built at import time:

- ``judge_url``: a running ``judge serve`` (every worker shares its one model);
- else ``reward_router_address`` (verl's router): the judge talks to it through the
  OpenAI-compatible backend, ``hosted_vllm/<model>`` with ``api_base=http://<addr>/v1``,
  the model being ``judge_model`` or the reward model's path;
- else ``judge_model`` (a ``backend/model`` string; default: $JUDGE_MODEL, else the
  embedded judge), built on first use, once per process.

``judge_mode`` is ``reference`` (default: r = logit P(solution ≻ ground_truth)) or
``pointwise`` (r = the expected rubric score; the ground truth is not used).

Inputs: the prompt is ``extra_info["prompt"]`` (or ``"question"``, ``"query"``); a
sample without one raises `UserError` (a judge that cannot see the question would give
a made-up number). In reference mode a text or number ground truth is the reference;
None, a dict or a list raises `UserError` naming its type.

Failures: verl cannot carry a missing score (``assemble_rm_scores`` builds a tensor of
the scores; None fails) and an exception stops the step. So by default
(``on_failure="flag"``) a failed verdict scores 0.0 with ``judge_failed = 1.0`` and its
``judge_reason``; every result carries those two keys, which verl keeps as reward extra
info. ``on_failure="raise"`` raises `RewardError` instead.

The async form batches: verl scores a worker's samples concurrently, and
``compute_score_async`` sends those waiting together to the judge as one batch.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, Literal

from judge.errors import UserError
from judge.judge import Judge
from judge.protocols.base import JudgeLike
from judge.reward.batcher import MicroBatcher
from judge.reward.items import RewardBatch
from judge.reward.model import JudgeReward, RewardError

PROMPT_KEYS = ("prompt", "question", "query")
OnFailure = Literal["flag", "raise"]
_rewards: dict[tuple[Any, ...], JudgeReward] = {}
_batchers: dict[tuple[int, int], MicroBatcher] = {}
_configured: JudgeReward | None = None


def configure(judge: JudgeLike | None = None, **reward_options: Any) -> JudgeReward:
    """Set, in Python, the judge (and `JudgeReward` options) every call uses.

    Without it, the calls' ``reward_kwargs`` choose the judge (see the module doc).
    """
    global _configured
    _configured = JudgeReward(judge, **{"mode": "reference", **reward_options})
    return _configured


def reset() -> None:
    """Forget the configured and the cached judges."""
    global _configured
    _configured = None
    _rewards.clear()
    _batchers.clear()


def reward_for(
    judge_model: str | None = None,
    judge_mode: str = "reference",
    reward_router_address: str | None = None,
    reward_model_tokenizer: Any = None,
) -> JudgeReward:
    """The `JudgeReward` for these settings, built once per process."""
    if _configured is not None:
        return _configured
    model, options = judge_model or os.environ.get("JUDGE_MODEL"), {}
    if reward_router_address:
        served = judge_model or getattr(reward_model_tokenizer, "name_or_path", None)
        if not served:
            raise UserError(
                "reward_router_address is set but the served model is unknown: "
                "set reward.custom_reward_function.reward_kwargs.judge_model"
            )
        model = (
            served if served.startswith(("hosted_vllm/", "openai/")) else f"hosted_vllm/{served}"
        )
        options = {"api_base": f"http://{reward_router_address}/v1"}
    key = (model, judge_mode, reward_router_address)
    if key not in _rewards:
        _rewards[key] = JudgeReward(Judge(model, backend_options=options), mode=judge_mode)  # type: ignore[arg-type]
    return _rewards[key]


def prompt_of(extra_info: Any) -> str | list[Any]:
    """The prompt verl put in ``extra_info``.

    Raises:
        UserError: none of `PROMPT_KEYS` holds a string or a message list.
    """
    if isinstance(extra_info, Mapping):
        for key in PROMPT_KEYS:
            if isinstance(extra_info.get(key), str | list):
                return extra_info[key]  # type: ignore[no-any-return]
    keys = sorted(extra_info) if isinstance(extra_info, Mapping) else type(extra_info).__name__
    raise UserError(
        f"verl passed no prompt: extra_info has {keys}; put the question in "
        "the dataset's extra_info['prompt'] (or 'question' / 'query')"
    )


def reference_of(ground_truth: Any, mode: str) -> str | None:
    """The reference answer a ground truth gives (None in pointwise mode).

    Raises:
        UserError: reference mode and the ground truth is None, a dict or a list.
    """
    if mode != "reference":
        return None
    if isinstance(ground_truth, str):
        return ground_truth
    if isinstance(ground_truth, int | float) and not isinstance(ground_truth, bool):
        return str(ground_truth)
    raise UserError(
        f"reference mode compares the solution with a text ground truth, but "
        f"reward_model.ground_truth is {type(ground_truth).__name__}: store the "
        "reference answer as text, or set reward_kwargs.judge_mode=pointwise"
    )


def result(batch: RewardBatch, on_failure: OnFailure) -> dict[str, Any]:
    """The result verl gets for one sample: the score and the two failure keys.

    Raises:
        RewardError: the verdict failed and ``on_failure="raise"``.
    """
    if not batch.failures:
        return {"score": batch.rewards[0], "judge_failed": 0.0, "judge_reason": ""}
    if on_failure == "raise":
        raise RewardError(batch.failures, 1)
    return {"score": 0.0, "judge_failed": 1.0, "judge_reason": batch.failures[0].reason}


def _on_failure(options: Mapping[str, Any]) -> OnFailure:
    on_failure = options.get("on_failure", "flag")
    if on_failure not in ("flag", "raise"):
        raise UserError(f"on_failure must be 'flag' or 'raise', got {on_failure!r}")
    return on_failure  # type: ignore[no-any-return]


def _read(
    extra_info: Any, ground_truth: Any, options: Mapping[str, Any]
) -> tuple[JudgeReward, str | list[Any], str | None, OnFailure]:
    on_failure = _on_failure(options)
    reward = reward_for(
        options.get("judge_model"),
        options.get("judge_mode", "reference"),
        options.get("reward_router_address"),
        options.get("reward_model_tokenizer"),
    )
    return reward, prompt_of(extra_info), reference_of(ground_truth, reward.mode), on_failure


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """One sample's reward: ``{"score", "judge_failed", "judge_reason"}``.

    Args:
        data_source: the dataset's name (not used).
        solution_str: the policy's decoded response.
        ground_truth: the reference answer (reference mode).
        extra_info: holds the prompt.
        **kwargs: verl's ``reward_kwargs`` and GenRM extras (see the module doc).

    Raises:
        UserError: no prompt, a non-text ground truth, or a bad setting.
        RewardError: the verdict failed and ``on_failure="raise"``.
    """
    if kwargs.get("judge_url"):
        from judge.reward.remote import score_remote

        return result(
            score_remote(
                kwargs,
                prompt_of(extra_info),
                solution_str,
                reference_of(ground_truth, kwargs.get("judge_mode", "reference")),
            ),
            _on_failure(kwargs),
        )
    reward, prompt, reference, on_failure = _read(extra_info, ground_truth, kwargs)
    batch = reward.compute([prompt], [solution_str], None if reference is None else [reference])
    return result(batch, on_failure)


async def compute_score_async(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Async `compute_score`; the samples waiting together go to the judge as one batch."""
    if kwargs.get("judge_url"):
        from judge.reward.remote import ascore_remote

        batch = await ascore_remote(
            kwargs,
            prompt_of(extra_info),
            solution_str,
            reference_of(ground_truth, kwargs.get("judge_mode", "reference")),
        )
        return result(batch, _on_failure(kwargs))
    reward, prompt, reference, on_failure = _read(extra_info, ground_truth, kwargs)
    plan = reward.plan([prompt], [solution_str], None if reference is None else [reference])
    return result(await _batcher(reward).submit(plan), on_failure)


def _batcher(reward: JudgeReward) -> MicroBatcher:
    """One micro-batcher per reward and event loop (verl's worker keeps one loop)."""
    key = (id(reward), id(asyncio.get_running_loop()))
    if key not in _batchers:
        # A worker may hold thousands of samples at once: no queue bound here.
        _batchers[key] = MicroBatcher(reward, capacity=1_000_000)
        _batchers[key].start()
    return _batchers[key]


__all__ = [
    "compute_score",
    "compute_score_async",
    "configure",
    "prompt_of",
    "reference_of",
    "reset",
    "result",
    "reward_for",
]
