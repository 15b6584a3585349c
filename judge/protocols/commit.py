"""Commit first: the judge answers the prompt itself, then judges with that answer as reference.

The answer is generated once per distinct prompt (schema-constrained, greedy, through
the judge's engine and cache), then the pair or response is judged with the shipped
reference-guided templates (``pairwise_reference``, ``pointwise_reference``) and the
judge's own answer as the reference. An item that brings its own ``reference`` keeps
it and costs no generation. An answer that could not be produced (cut off by the token
budget, a backend error) is a typed failure of the judgment that needed it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from judge.backends.base import GenerateRequest, Message
from judge.cache import cache_key
from judge.engine.calls import Call, CallFailure, Reading
from judge.engine.executor import Progress
from judge.engine.schemas import json_schema
from judge.engine.tasks import TaskName
from judge.errors import UserError
from judge.inputs import PairInput, PointInput, as_pair, as_point
from judge.judge import Judge
from judge.protocols.base import BatchProtocol, PairItems, PointItems, Stages, named, run_calls
from judge.templates import JudgeTemplate
from judge.verdicts import JudgmentFailure, PairwiseResult, PointwiseResult

ANSWER_MAX_CHARS = 600
ANSWER_SYSTEM = "You are a helpful assistant. Answer the user's request correctly and briefly."
REFERENCE_TEMPLATES: dict[TaskName, str] = {
    "pairwise": "pairwise_reference",
    "pointwise": "pointwise_reference",
}


@cache
def answer_schema() -> type[BaseModel]:
    """The schema of the judge's own answer: one bounded ``answer`` string."""
    return create_model(
        "OwnAnswer",
        __config__=ConfigDict(extra="forbid"),
        answer=(str, Field(max_length=ANSWER_MAX_CHARS)),
    )


class CommitFirst(BatchProtocol):
    """A judge that commits to its own answer before it judges anyone else's.

    Args:
        judge: the judge whose backend, rubric, cache and settings are used (its
            templates are replaced by the reference-guided ones).
        max_new_tokens: the token budget of the judge's own answer.

    Attributes:
        answers: the judge's own answer to each prompt of the latest batch.
    """

    name = "commit-first"

    def __init__(self, judge: Judge, *, max_new_tokens: int = 256) -> None:
        self.judge = judge
        self.max_new_tokens = max_new_tokens
        settings = {k: getattr(judge.config, k) for k in type(judge.config).model_fields}
        self._referees = {
            task: Judge(
                judge.backend, rubric=judge.rubric, template=name, cache=judge.cache, **settings
            )
            for task, name in REFERENCE_TEMPLATES.items()
        }
        self.answers: dict[str, str] = {}

    def template(self, task: TaskName) -> JudgeTemplate:
        """The reference-guided task template used for ``task``."""
        return self._referees[task].template(task)

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Judge many pairs against the judge's own answer to each prompt.

        ``progress(done, total)`` counts the answers' calls, then the judgments'.
        """
        return self._run(
            "pairwise",
            [as_pair(item) for item in items],
            lambda p, ref: PairInput(
                p.prompt, p.response_a, p.response_b, {**p.extra, "reference": ref}
            ),
            progress,
        )

    def score_batch(
        self, items: PointItems, *, progress: Progress | None = None
    ) -> list[PointwiseResult]:
        """Score many responses against the judge's own answer to each prompt."""
        return self._run(
            "pointwise",
            [as_point(item) for item in items],
            lambda p, ref: PointInput(p.prompt, p.response, {**p.extra, "reference": ref}),
            progress,
        )

    def _run(
        self,
        task: TaskName,
        inputs: Sequence[Any],
        with_reference: Callable[[Any, str], Any],
        progress: Progress | None,
    ) -> list[Any]:
        stages = Stages(progress, 2)
        per_item = 2 if task == "pairwise" else 1  # calls per judgment, at most (both orders)
        answers = self._answer(
            [x.prompt for x in inputs if "reference" not in x.extra],
            stages.stage(later=per_item * len(inputs)),
        )

        def prepared(x: Any) -> Any:
            if "reference" in x.extra:
                return x
            answer = answers[x.prompt]
            return with_reference(x, answer) if isinstance(answer, str) else None

        ready = [prepared(x) for x in inputs]
        referee = self._referees[task]
        run = referee.compare_batch if task == "pairwise" else referee.score_batch
        judged = iter(run([x for x in ready if x is not None], progress=stages.stage()))
        return [
            self._named(next(judged)) if x is not None else _failed(task, answers[i.prompt])
            for x, i in zip(ready, inputs, strict=True)
        ]

    def _answer(self, prompts: Sequence[str], progress: Progress | None) -> dict[str, Any]:
        """The judge's answer to each distinct prompt, or the failure that stopped it."""
        if not prompts:
            return {}
        if not self.judge.backend.capabilities.structured:
            raise UserError(
                f"commit-first needs a backend that generates; {self.judge.backend.name!r} cannot"
            )
        calls = {prompt: self._call(prompt) for prompt in dict.fromkeys(prompts)}
        outcomes = run_calls(self.judge, list(calls.values()), progress)
        answers: dict[str, Any] = {}
        for prompt, call in calls.items():
            outcome = outcomes[call.key]
            answers[prompt] = (
                outcome.rationale or "" if isinstance(outcome, Reading) else (call, outcome)
            )
            if isinstance(outcome, Reading):
                self.answers[prompt] = answers[prompt]
        return answers

    def _call(self, prompt: str) -> Call:
        messages: tuple[Message, ...] = (
            {"role": "system", "content": ANSWER_SYSTEM},
            {"role": "user", "content": prompt},
        )
        schema = json_schema(answer_schema())
        key = cache_key(
            self.judge.backend.fingerprint(),
            {
                "protocol": self.name,
                "messages": messages,
                "schema": schema,
                "max_new_tokens": self.max_new_tokens,
            },
        )
        return Call(
            key,
            "generate",
            GenerateRequest(messages, schema, self.max_new_tokens),
            (),
            answer_schema(),
        )

    def _named(self, result: Any) -> Any:
        return named(result, self.name)


def _failed(kind: Any, failed: tuple[Call, CallFailure]) -> JudgmentFailure:
    call, failure = failed
    return JudgmentFailure(
        kind=kind,
        reason=failure.reason,
        retryable=failure.retryable,
        message=f"the judge's own answer failed: {failure.message}",
        raw_output=failure.raw_output,
        messages=call.messages,
    )
