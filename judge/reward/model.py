"""`JudgeReward`: a judge exposed as a scalar reward model.

A scalar reward model maps (prompt, completion) to r, trained so that
r(y) − r(y′) = logit P(y ≻ y′) (Bradley–Terry). The modes read a judge the same way:

- ``pointwise``: r = E[score] = Σ_s s·p(s) over the rubric scale (G-Eval style); with
  ``normalize_score=True``, r = (E[score] − lo) / (hi − lo) ∈ [0, 1].
- ``reference``: r = logit P(y ≻ reference) = log(p / (1 − p)), with p clipped to
  [ε, 1 − ε] (ε = 1e-4 by default, so |r| ≤ 9.21). If the judge's preferences are
  Bradley–Terry, r(y₁) − r(y₂) = logit P(y₁ ≻ y₂).
- ``groupwise``: the completions that share a prompt form a group (a GRPO group);
  the pairs of its ``schedule`` (default every pair; `judge.reward.schedules`)
  are compared (both orders, with the judge's default
  ``swap="both"``), and r = the group's centred Bradley–Terry strengths
  (`judge.reward.bradley_terry`). A group of one gets 0.

Each mode is a strategy object (`judge.reward.modes`) chosen once from ``mode``.
Every judgment goes through `judge.Judge`. An item whose verdict failed (or whose input
is malformed or empty) has no reward: with ``on_failure="none"`` (default) its reward
is None, which TRL's trainers store as NaN and leave out (a logged warning names the
failures); with ``on_failure="raise"`` the call raises `RewardError` naming each such
item after the rest were judged (their judgments are cached); with
``on_failure="mask"`` it gets the mean of the rewards its group (same prompt) did get,
so its group-baseline advantage is zero (`judge.reward.mask`), and it stays listed in
`RewardBatch.failures`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from judge.errors import JudgeError, UserError
from judge.judge import Judge
from judge.protocols.base import JudgeLike
from judge.reward.bradley_terry import DEFAULT_RIDGE
from judge.reward.distributed import World, compute_across, current_world
from judge.reward.items import (
    Item,
    RewardBatch,
    RewardFailure,
    Rewards,
    check_lengths,
    message_text,
    read_item,
)
from judge.reward.mask import mask_failures
from judge.reward.modes import MODE_NAMES, RewardMode, reward_mode
from judge.reward.modes import Mode as Mode  # re-exported: callers import these from here
from judge.reward.modes import logit as logit
from judge.reward.rounds import judge_rounds, next_round
from judge.reward.schedules import Schedule
from judge.reward.shaping import Shaping, apply_shaping
from judge.verdicts import PairwiseResult, PointwiseResult

if TYPE_CHECKING:
    import torch

OnFailure = Literal["raise", "none", "mask"]
# Keyword arguments trainers pass that are not dataset columns.
# what `reward_mode` builds the strategy from: fixed once a JudgeReward is built
_STRATEGY_SETTINGS = frozenset(
    ("mode", "normalize_score", "eps", "ridge", "schedule", "disagreement_penalty", "strategy")
)
TRAINER_KWARGS = ("trainer_state", "log_extra", "log_metric", "environments", "completion_ids")
logger = logging.getLogger("judge.reward")


class RewardError(JudgeError):
    """Some items have no reward and the caller did not allow None.

    Attributes:
        failures: one `RewardFailure` per item without a reward.
    """

    def __init__(self, failures: Sequence[RewardFailure], total: int) -> None:
        self.failures = list(failures)
        shown = "; ".join(
            f.message
            if f.message.startswith("item ")
            else f"item {f.index}: {f.reason}: {f.message}"
            for f in failures[:5]
        )
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(
            f"{len(failures)} of {total} rewards could not be judged: {shown}{more}. "
            "Pass on_failure='none' to get None for them instead"
        )


@dataclass
class RewardPlan:
    """Items read, requests to send to the judge, and how to turn verdicts into rewards."""

    items: list[Item | RewardFailure]
    requests: list[Any]  # what the mode plans: PointInput (pointwise) or PairInput
    owners: list[tuple[int, int]]  # per request: the item(s) it speaks for
    keys: list[str] = field(default_factory=list)  # per item: its group (prompt text)
    rounds: int = 1  # rounds of an adaptive schedule planned so far (`judge.reward.rounds`)


def check_reward_options(
    mode: str, on_failure: str, eps: float = 1e-4, disagreement_penalty: float = 0.0
) -> None:
    """Refuse `JudgeReward` options that cannot work, before any judge is built.

    Raises:
        UserError: an unknown mode or on_failure value, eps outside (0, 0.5), or a
            negative disagreement penalty or one in groupwise mode (which ranks a group
            and has no per-reward spread).
    """
    if mode not in MODE_NAMES:
        raise UserError(f"mode must be pointwise, reference or groupwise, got {mode!r}")
    if on_failure not in ("raise", "none", "mask"):
        raise UserError(f"on_failure must be 'raise', 'none' or 'mask', got {on_failure!r}")
    if not 0.0 < eps < 0.5:
        raise UserError(f"eps must be in (0, 0.5), got {eps}")
    if disagreement_penalty < 0 or (disagreement_penalty and mode == "groupwise"):
        raise UserError(
            "disagreement_penalty must be ≥ 0 and applies to the pointwise and reference "
            f"modes, got {disagreement_penalty} in {mode} mode"
        )


class JudgeReward:
    """A judge as a reward function for TRL, a `.score()` model, and the server's engine.

    Args:
        judge: the `Judge` to ask, or a protocol on one (`judge.protocols`: a panel,
            reason-then-read, ...; default: ``Judge()``, the embedded model).
        mode: ``"pointwise"``, ``"reference"`` or ``"groupwise"`` (see the module doc).
        normalize_score: pointwise only: map the expected score to [0, 1].
        reference_key: the keyword (dataset column) that carries reference answers.
        shaping: optional `Shaping` (normalization, length penalty, residualization).
        on_failure: ``"none"`` (default: None for that item, a warning logged),
            ``"raise"`` a `RewardError`, or ``"mask"`` (its group's mean reward; still
            listed in the failures).
        eps: probability clip of the reference mode's logit.
        ridge: the Bradley–Terry prior of the groupwise mode.
        schedule: which pairs of a group the groupwise mode compares: a `Schedule`, or
            ``"all"`` (default), ``"ring"`` (G pairs), ``"regular:K"`` (about K·G/2
            pairs) or ``"swiss:R"`` (R adaptive rounds of ⌊G/2⌋ pairs, judged one after
            another: `judge.reward.rounds`); see `judge.reward.schedules` for costs.
        name: the ``__name__`` trainers log this reward under (default ``judge_<mode>``).
        across_processes: ``"gather"`` (default): under ``torch.distributed`` with several
            processes, a call that needs whole groups (groupwise, or group/batch shaping)
            gathers the batch of every process (`judge.reward.distributed`); ``"local"``
            judges only what this process was given.
        disagreement_penalty: with a `judge.protocols.Panel` as the judge (any object
            with the judge's batch methods is accepted), the pointwise and reference
            modes subtract this times the panel's ``disagreement`` from each reward.

    Raises:
        UserError: an unknown mode or on_failure value; a negative disagreement penalty,
            or one in groupwise mode (which ranks a group and has no per-reward spread).
    """

    def __init__(
        self,
        judge: JudgeLike | None = None,
        *,
        mode: Mode = "pointwise",
        normalize_score: bool = False,
        reference_key: str = "reference",
        shaping: Shaping | None = None,
        on_failure: OnFailure = "none",
        eps: float = 1e-4,
        ridge: float = DEFAULT_RIDGE,
        schedule: Schedule | str = "all",
        name: str | None = None,
        across_processes: Literal["gather", "local"] = "gather",
        disagreement_penalty: float = 0.0,
    ) -> None:
        check_reward_options(mode, on_failure, eps, disagreement_penalty)
        self.judge = judge if judge is not None else Judge()
        self.mode: Mode = mode
        self.normalize_score = normalize_score
        self.reference_key = reference_key
        self.shaping = shaping or Shaping()
        self.on_failure: OnFailure = on_failure
        self.eps = eps
        self.ridge = ridge
        self.schedule = schedule if isinstance(schedule, Schedule) else Schedule.parse(schedule)
        self.__name__ = name or f"judge_{mode}"
        self.strategy: RewardMode = reward_mode(
            mode,
            normalize_score=normalize_score,
            eps=eps,
            ridge=ridge,
            schedule=self.schedule,
            disagreement_penalty=disagreement_penalty,
        )
        if across_processes not in ("gather", "local"):
            raise UserError(
                f"across_processes must be 'gather' or 'local', got {across_processes!r}"
            )
        self.across_processes = across_processes
        self.disagreement_penalty = disagreement_penalty
        self._built = True

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse to change a setting the reward strategy was built from (it would not follow)."""
        if name in _STRATEGY_SETTINGS and getattr(self, "_built", False):
            raise UserError(
                f"JudgeReward.{name} is fixed when the reward is built: make a new "
                f"JudgeReward(..., {name}=...) instead"
            )
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        return f"JudgeReward(mode={self.mode!r}, name={self.__name__!r})"

    # Trainer-facing -----------------------------------------------------------------

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> Rewards:
        """TRL's reward-function call: one reward per completion.

        Args:
            prompts: strings or chat message lists.
            completions: strings or chat message lists, one per prompt.
            **kwargs: dataset columns (``reference_key`` is used as the reference) and
                trainer extras such as ``trainer_state`` (ignored).

        Raises:
            UserError: list lengths differ, or reference mode without references.
            RewardError: some items have no reward and ``on_failure="raise"``.
        """
        references = self._references(kwargs)
        world = self._world()
        if world is not None:  # whole groups across processes (`judge.reward.distributed`)
            return self._settle(compute_across(self, prompts, completions, references, world))
        return self._settle(self.compute(prompts, completions, references))

    async def acall(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> Rewards:
        """Async `__call__` (the judge's async path).

        Across processes (see `judge.reward.distributed`) it judges synchronously between
        its two gathers: collectives must come in the same order on every process, which
        interleaved coroutines would not guarantee.
        """
        if self._world() is not None:
            return self(prompts, completions, **kwargs)
        batch = await self.acompute(prompts, completions, self._references(kwargs))
        return self._settle(batch)

    def as_async(self) -> AsyncJudgeReward:
        """This reward as an async callable that pickles (for ``AsyncGRPOTrainer``).

        TRL 1.16 tells async reward functions by ``is_async_callable`` (which reads an
        object's ``__call__``); the object carries this reward's ``__name__``, which TRL
        logs it under.
        """
        return AsyncJudgeReward(self)

    def _world(self) -> World | None:
        """The process world when this call needs whole groups and there are several."""
        whole = (
            self.strategy.whole_groups or self.shaping.normalize or self.shaping.residualize_length
        )
        return current_world() if whole and self.across_processes == "gather" else None

    def score(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        references: Sequence[Any] | None = None,
    ) -> torch.Tensor:
        """Rewards as a float32 tensor of shape (N,), like a classifier's ``logits[:, 0]``.

        With ``on_failure="none"`` an item without a reward is NaN (as TRL stores None).
        """
        import torch

        rewards = self._settle(self.compute(prompts, completions, references))
        return torch.tensor([math.nan if r is None else r for r in rewards], dtype=torch.float32)

    # Engine-facing ------------------------------------------------------------------

    def compute(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        references: Sequence[Any] | None = None,
    ) -> RewardBatch:
        """Judge a batch and return rewards with their failures (never raises for an item).

        Raises:
            UserError: list lengths differ, or reference mode without references.
        """
        plan = self.plan(prompts, completions, references)
        return self.finish(plan, judge_rounds(self, plan, self.judge_requests))

    async def acompute(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        references: Sequence[Any] | None = None,
    ) -> RewardBatch:
        """Async `compute`."""
        plan = self.plan(prompts, completions, references)
        results = list(await self.ajudge_requests(plan.requests))
        while extra := next_round(self, plan, results):  # an adaptive schedule's rounds
            results.extend(await self.ajudge_requests(extra))
        return self.finish(plan, results)

    # Steps ---------------------------------------------------------------------------

    def _references(self, kwargs: Mapping[str, Any]) -> Sequence[Any] | None:
        refs = kwargs.get(self.reference_key)
        if refs is None and self.strategy.needs_references:
            columns = ", ".join(k for k in kwargs if k not in TRAINER_KWARGS) or "none"
            raise UserError(
                f"reference mode needs a {self.reference_key!r} column of reference "
                f"answers (columns given: {columns}); set reference_key= to "
                "the column that holds them"
            )
        return refs

    def plan(
        self, prompts: Sequence[Any], completions: Sequence[Any], references: Sequence[Any] | None
    ) -> RewardPlan:
        """Check the call and each item; list the judge requests the rewards need.

        Raises:
            UserError: the lists differ in length or are not lists, or reference mode
                has no references. A bad item is not an error: it is that item's failure.
        """
        for name, value in (
            ("prompts", prompts),
            ("completions", completions),
            ("references", references),
        ):
            if value is not None and (
                isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence)
            ):
                raise UserError(f"{name} must be a list, got {type(value).__name__}")
        n = check_lengths(prompts=prompts, completions=completions, references=references)
        need = self.strategy.needs_references
        if need and references is None:
            raise UserError("reference mode needs references, one per completion")
        items = [
            read_item(
                i, prompts[i], completions[i], None if references is None else references[i], need
            )
            for i in range(n)
        ]
        requests, owners = self.strategy.requests(self.judge, items)
        return RewardPlan(items, list(requests), owners, [_prompt_key(p) for p in prompts])

    def judge_requests(self, requests: list[Any]) -> Sequence[PairwiseResult | PointwiseResult]:
        """Send planned requests (of one or several plans) to the judge in one batch."""
        return self.strategy.judge(self.judge, requests) if requests else []

    async def ajudge_requests(
        self, requests: list[Any]
    ) -> Sequence[PairwiseResult | PointwiseResult]:
        """Async `judge_requests`."""
        return await self.strategy.ajudge(self.judge, requests) if requests else []

    def finish(
        self, plan: RewardPlan, results: Sequence[PairwiseResult | PointwiseResult]
    ) -> RewardBatch:
        """Turn the judge's results for ``plan.requests`` into rewards, then shape them."""
        failures = {i: it for i, it in enumerate(plan.items) if isinstance(it, RewardFailure)}
        raw, lost = self.strategy.rewards(plan.items, plan.owners, results)
        failures |= lost
        items = plan.items
        lengths = [len(it.completion) if isinstance(it, Item) else 0 for it in items]
        refs = [len(it.reference or "") if isinstance(it, Item) else 0 for it in items]
        groups = _group_keys(items)
        has_refs = all(it.reference is not None for it in items if isinstance(it, Item))
        shaped = (
            apply_shaping(
                self.shaping,
                raw,
                lengths=lengths,
                groups=groups,
                reference_lengths=refs if has_refs else None,
            )
            if self.shaping.active
            else list(raw)
        )
        if self.on_failure == "mask":
            shaped = list(mask_failures(shaped, plan.keys or groups))
        return RewardBatch(shaped, raw, [failures[i] for i in sorted(failures)])

    def _settle(self, batch: RewardBatch) -> Rewards:
        if batch.failures and self.on_failure == "raise":
            raise RewardError(batch.failures, len(batch.rewards))
        if batch.failures:  # the flag a trainer that turns None into a number still shows
            reasons = sorted({f.reason for f in batch.failures})
            shown = "None" if self.on_failure == "none" else "their group's mean"
            logger.warning(
                "%s: %d of %d rewards could not be judged (%s); returned as %s",
                self.__name__,
                len(batch.failures),
                len(batch.rewards),
                ", ".join(reasons),
                shown,
            )
        return batch.rewards


def _prompt_key(prompt: Any) -> str:
    """The group an item belongs to: its prompt's text (also for an unreadable item)."""
    try:
        return message_text(prompt, "prompt")
    except UserError:
        return repr(prompt)


def _group_keys(items: Sequence[Item | RewardFailure]) -> list[int]:
    keys: dict[str, int] = {}
    return [
        keys.setdefault(it.prompt, len(keys)) if isinstance(it, Item) else -1 - k
        for k, it in enumerate(items)
    ]


class AsyncJudgeReward:
    """`JudgeReward.acall` as an async callable object that pickles (see `as_async`)."""

    def __init__(self, reward: JudgeReward) -> None:
        self.reward = reward
        self.__name__ = reward.__name__

    def __repr__(self) -> str:
        return f"AsyncJudgeReward({self.reward!r})"

    async def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> Rewards:
        """The rewards of `JudgeReward.acall`."""
        return await self.reward.acall(prompts, completions, **kwargs)
