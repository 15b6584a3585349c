"""``judge serve``: the judge behind OpenRLHF's remote reward-model HTTP contract.

``POST /get_reward`` (also ``POST /``) with ``{"query": [...], "prompts": [...],
"labels": [...]}`` answers ``{"rewards": [...], "scores": [...], "extra_logs": {...},
"failures": [...]}``. Each query is the chat-formatted prompt plus the policy's response
(special tokens kept; a prompt OpenRLHF left-truncated is matched by its tail); the
response is recovered with `judge.reward.split`. ``labels`` are the reference answers
(needed by ``reference`` mode; otherwise optional).

``rewards`` are the reward model's values (after shaping); ``scores`` are the unshaped
values mapped to [0, 1] for OpenRLHF's dynamic filtering (`GroupHolder.score`).
``extra_logs`` carries, per sample, ``judge_failed`` (1.0 where the verdict failed) and
``judge_group_size`` (samples judged together). With ``group_size``, samples sharing a
prompt are held until the group is complete (`judge.reward.groups`).

A failed verdict follows the reward's ``on_failure``: ``mask`` gives it its group's mean
(zero advantage; flagged), ``none`` gives ``null``, ``raise`` answers the request 502.
A malformed body, lists of different lengths, or a group-wide reward asked over a lone
sample without a group size is a 4xx with a message; a missing or wrong bearer token is
401, and a full queue is 503 with ``Retry-After``. ``GET /health`` needs no token.
"""

from __future__ import annotations

import hmac
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from judge.errors import BackendError, UserError
from judge.jsonable import to_jsonable
from judge.protocols import backends_of
from judge.reward.batcher import MicroBatcher, QueueFullError
from judge.reward.groups import GroupHolder, Outcome, Sample
from judge.reward.items import RewardFailure
from judge.reward.model import JudgeReward
from judge.reward.shaping import Scope
from judge.reward.split import END_OF_TURN, prompt_messages, split_query

log = logging.getLogger("judge.serve")


class RewardRequest(BaseModel):
    """OpenRLHF's remote reward request (unknown fields are ignored, as OpenRLHF adds some)."""

    model_config = ConfigDict(extra="ignore")

    query: list[str]
    prompts: list[str]
    labels: list[str | None] | None = None


class RewardResponse(BaseModel):
    """Rewards, [0, 1] scores, per-sample logs, and the failed items."""

    rewards: list[float | None]
    scores: list[float | None]
    extra_logs: dict[str, list[float]]
    failures: list[dict[str, Any]]


def _samples(body: RewardRequest, end_tokens: tuple[str, ...]) -> list[Sample]:
    """One `Sample` per query; a query that cannot be split fails alone."""
    samples = []
    labels = body.labels or [None] * len(body.query)
    for i, (query, prompt) in enumerate(zip(body.query, body.prompts, strict=True)):
        sample = Sample(prompt, prompt_messages(prompt), None, labels[i] or None)
        try:
            sample.response = split_query(query, prompt, end_tokens)
        except UserError as exc:
            sample.failure = RewardFailure(i, "invalid_input", f"item {i}: {exc}")
        samples.append(sample)
    return samples


def group_scope(reward: JudgeReward) -> Scope | None:
    """What the reward computes over: ``"group"``, ``"batch"`` or None (each sample alone)."""
    shaping = reward.shaping
    scopes = {shaping.normalize, shaping.residualize_length}
    if "batch" in scopes:
        return "batch"
    return "group" if reward.strategy.whole_groups or "group" in scopes else None


def check_grouping(reward: JudgeReward, group_size: int | None) -> None:
    """Refuse, at start-up, group settings that could only give meaningless rewards.

    Raises:
        UserError: batch-wide shaping with a group size (one-sample requests carry no
            batch), or a group-wide reward with a group size below 2.
    """
    scope = group_scope(reward)
    if group_size is None:
        return
    if group_size < 1:
        raise UserError(f"--group-size must be ≥ 1, got {group_size}")
    if scope == "batch":
        raise UserError(
            "batch-wide shaping (normalize or residualize_length 'batch') over "
            "held groups would only see one group: use 'group' instead"
        )
    if scope == "group" and group_size < 2:
        raise UserError(
            f"{reward.mode} mode and group shaping compare the samples of a "
            f"prompt: --group-size must be ≥ 2, got {group_size}"
        )


def _lone(reward: JudgeReward, samples: list[Sample]) -> str | None:
    """Why this request, judged alone, would get empty group rewards (None: it would not)."""
    scope = group_scope(reward)
    counts = Counter(s.key for s in samples)
    if scope == "batch" and len(samples) == 1:
        what = "batch-wide shaping standardizes over the request"
    elif scope == "group" and 1 in counts.values():
        what = (
            f"{reward.mode} mode compares"
            if reward.strategy.whole_groups
            else "group shaping standardizes"
        ) + " the samples of one prompt"
    else:
        return None
    return (
        f"{what}, but this request holds a lone sample, whose reward would be 0: "
        "start judge serve with --group-size N (OpenRLHF: --rollout.n_samples_per_prompt "
        "N) to hold one-sample requests until their group is complete, or send a "
        "prompt's samples in one request"
    )


def _respond(outcomes: list[Outcome]) -> RewardResponse:
    failures = [
        to_jsonable(replace(o.failure, index=i))
        for i, o in enumerate(outcomes)
        if o.failure is not None
    ]
    return RewardResponse(
        rewards=[o.reward for o in outcomes],
        scores=[o.score for o in outcomes],
        extra_logs={
            "judge_failed": [float(o.failure is not None) for o in outcomes],
            "judge_group_size": [float(o.group_size) for o in outcomes],
        },
        failures=failures,
    )


def create_app(
    reward: JudgeReward,
    *,
    token: str | None = None,
    capacity: int = 256,
    max_batch: int = 64,
    end_tokens: tuple[str, ...] = END_OF_TURN,
    group_size: int | None = None,
    group_timeout: float = 30.0,
    batch_wait: float = 0.0,
) -> FastAPI:
    """The reward server as a FastAPI app (run it with uvicorn, or `judge serve`).

    Args:
        reward: the `JudgeReward` (mode, shaping, on_failure) every group goes through.
        token: if set, requests must carry ``Authorization: Bearer <token>``.
        capacity: groups that may wait for the engine; beyond it, 503 with ``Retry-After``.
        max_batch: judge requests per engine call at most.
        end_tokens: end-of-turn tokens stripped from the end of each response, with
            the judge tokenizer's special tokens.
        group_size: samples per prompt to hold and judge together (OpenRLHF's
            ``--rollout.n_samples_per_prompt``); None: each request is judged alone.
        group_timeout: seconds a group waits for its last samples.
        batch_wait: seconds the engine worker waits after the first waiting group (or
            request) to gather those that follow into the same engine call.

    Raises:
        UserError: group settings that cannot give meaningful rewards (`check_grouping`).

    Loads the judge's backend (the model) before returning.
    """
    check_grouping(reward, group_size)
    batcher = MicroBatcher(reward, capacity=capacity, max_batch=max_batch, wait=batch_wait)
    holder = GroupHolder(reward, batcher, group_size=group_size, timeout=group_timeout)
    # The judge's own control tokens too (pad, eos): only trailing ones are removed.
    backends = backends_of(reward.judge)
    strip = tuple(dict.fromkeys([*end_tokens, *(t for b in backends for t in b.special_tokens)]))
    model = " + ".join(dict.fromkeys(b.name for b in backends))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        yield
        await holder.stop()
        await batcher.stop()

    app = FastAPI(title="judge reward server", lifespan=lifespan)

    def authorize(request: Request) -> None:
        if token is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(
                401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
            )

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "mode": reward.mode,
            "model": model,
            "on_failure": reward.on_failure,
            "group_size": group_size,
            "waiting": batcher.waiting,
            "holding": holder.holding,
            "capacity": capacity,
            "batches": batcher.batches,
            "judged": batcher.judged,
            "groups": holder.groups,
            "partial_groups": holder.partial_groups,
            "failed": holder.failed,
        }

    @app.post("/get_reward", dependencies=[Depends(authorize)])
    @app.post("/", dependencies=[Depends(authorize)], include_in_schema=False)
    async def get_reward(body: RewardRequest) -> RewardResponse:
        _check_lengths(body)
        if reward.strategy.needs_references and not any(body.labels or ()):
            raise HTTPException(
                400,
                "reference mode needs labels (the reference answers), "
                "and this request has none or only empty ones: "
                "OpenRLHF sends '' unless --data.label_key names them",
            )
        samples = _samples(body, strip)
        if group_size is None and (why := _lone(reward, samples)):
            raise HTTPException(400, why)
        outcomes = await _judged(holder, samples)
        failed = [o.failure for o in outcomes if o.failure is not None]
        if failed and reward.on_failure == "raise":
            raise HTTPException(
                502,
                f"{len(failed)} of {len(outcomes)} rewards could not be "
                f"judged: {to_jsonable(failed)}",
            )
        return _respond(outcomes)

    return app


def _check_lengths(body: RewardRequest) -> None:
    lengths = {"query": len(body.query), "prompts": len(body.prompts)}
    if body.labels is not None:
        lengths["labels"] = len(body.labels)
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise HTTPException(
            400, f"query, prompts and labels must have one entry per sample, but {listing}"
        )


async def _judged(holder: GroupHolder, samples: list[Sample]) -> list[Outcome]:
    """The samples' outcomes, with the holder's errors as HTTP errors."""
    try:
        return await holder.judge(samples)
    except UserError as exc:
        raise HTTPException(400, str(exc)) from exc
    except QueueFullError as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    except BackendError as exc:
        log.warning("reward batch failed: %s", exc)
        raise HTTPException(503 if exc.retryable else 502, f"judge backend: {exc}") from exc
