"""Pairs judged by pointwise mutual information: which response is about this prompt.

`ByPMI` reads the judge's model as a language model rather than as a judge. For a
response y to the prompt x it measures the pointwise mutual information

    PMI(x; y) = log P(y | x) − log P(y | x₀),

y's log-probability as the model's reply to x, less its log-probability as the reply
to a neutral request x₀ (`NEUTRAL_PROMPT`, standing in for "no prompt"). The second
term takes off what makes y likely whatever was asked (fluency, length, a polished
style), so PMI is how much the prompt explains the response. By Bayes' rule the
difference of two responses' PMI is log P(x | A) − log P(x | B): which response the
prompt is likelier to have been written for. That is what LLMBar's adversarial pairs
test: the rejected response answers a neighbouring or subtly changed instruction.

The verdict is that log-likelihood ratio read as odds:

    P(A ≻ B) = σ(PMI_A − PMI_B),

the probability that the prompt was written for A rather than B, with even odds before
reading either. It needs no normalization: a longer response carries more evidence for
or against the prompt, and its own likelihood is taken off by the neutral term. With
``per`` set, responses are compared by PMI per character instead (the length
normalization of lm-evaluation-harness's ``acc_norm``), scaled to ``per`` characters:
σ(per · (PMI_A / |A| − PMI_B / |B|)). Measured on LLMBar (docs/protocols.md), the rate
favours the shorter response far more than the total does.

An empty response carries no information about the prompt: its PMI is 0. The judge's
rubric and templates are not used; each response costs two scoring calls (prompt and
neutral request), cached by the judge's cache, and a response repeated across pairs is
scored once. It needs a backend that scores a whole reply in one pass
(`Capabilities.reply_logprobs`: transformers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from judge.backends.base import LabelRequest, Message
from judge.cache import cache_key
from judge.engine.calls import Call, CallFailure, Reading
from judge.engine.executor import Outcome, Progress
from judge.errors import UserError
from judge.inputs import as_pair
from judge.judge import Judge
from judge.protocols.base import OnJudge, PairItems, order_free, run_calls
from judge.templates.untrusted import neutralize
from judge.verdicts import (
    FailureReason,
    JudgmentFailure,
    PairwiseResult,
)

NEUTRAL_PROMPT = "Write a response."


def pmi_preference(pmi_a: float, pmi_b: float, scale: float = 1.0) -> float:
    """P(A ≻ B) = σ(scale · (pmi_a − pmi_b)), safe for any difference.

    >>> pmi_preference(2.0, 1.0)  # 1 nat more evidence for A
    0.7310585786300049
    """
    z = scale * (pmi_a - pmi_b)
    if z < 0:
        return math.exp(z) / (1.0 + math.exp(z))
    return 1.0 / (1.0 + math.exp(-z))


class ByPMI(OnJudge):
    """A judge that prefers the response the prompt explains best (its PMI with the prompt).

    Args:
        judge: the judge whose backend and cache are used (its rubric and templates are
            not: the model is read as a language model).
        per: None (the default): compare the responses' total PMI. A number: compare
            their PMI per character, one unit of log-odds per ``per`` characters.
        neutral_prompt: the request whose reply stands in for "no prompt".

    Raises:
        UserError: ``per`` is given and not positive.
    """

    name = "pmi"

    def __init__(
        self, judge: Judge, *, per: float | None = None, neutral_prompt: str = NEUTRAL_PROMPT
    ) -> None:
        if per is not None and not per > 0:
            raise UserError(f"per must be a positive number of characters, got {per}")
        self.judge = judge
        self.per = per
        self.neutral_prompt = neutral_prompt

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Measure both responses' PMI with their prompt; P(A ≻ B) from the two.

        A pair one of whose calls failed (or whose prompt and response overflow the
        context) gets that failure. ``progress(done, total)`` counts the scoring calls:
        two a distinct response, one a distinct neutral reply.
        """
        backend = self.judge.backend
        if not backend.capabilities.reply_logprobs:
            raise UserError(
                f"the pmi protocol scores whole responses, which {backend.name!r} cannot do "
                "in one pass; use a transformers judge (embedded, hf/...)"
            )
        pairs = [as_pair(item) for item in items]
        wanted = [(p.prompt, r) for p in pairs for r in (p.response_a, p.response_b) if r]
        calls = {
            (prompt, reply): self._calls(prompt, reply) for prompt, reply in dict.fromkeys(wanted)
        }
        sent = [c for pair in calls.values() if not isinstance(pair, JudgmentFailure) for c in pair]
        outcomes = run_calls(self.judge, sent, progress)
        pmis = {key: self._pmi(pair, key[1], outcomes) for key, pair in calls.items()}
        return [self._verdict(p.prompt, p.response_a, p.response_b, pmis) for p in pairs]

    def _messages(self, prompt: str) -> tuple[Message, ...]:
        special = self.judge.backend.special_tokens
        return ({"role": "user", "content": neutralize(prompt, (), special)},)

    def _calls(self, prompt: str, response: str) -> tuple[Call, Call] | JudgmentFailure:
        """The conditional and neutral scoring calls of one response, or why none fit."""
        backend = self.judge.backend
        reply = neutralize(response, (), backend.special_tokens)
        asked = self._messages(prompt)
        limit = backend.context_length
        measured = backend.count_tokens((*asked, {"role": "assistant", "content": reply}))
        if limit is not None and measured is not None and measured > limit:
            return JudgmentFailure(
                kind="pairwise",
                reason=FailureReason.CONTEXT_OVERFLOW,
                message=(
                    f"pmi: the prompt and a response take {measured} tokens, more than "
                    f"{backend.name!r}'s context of {limit}"
                ),
                messages=asked,
            )
        return self._call(asked, reply), self._call(self._messages(self.neutral_prompt), reply)

    def _call(self, messages: tuple[Message, ...], reply: str) -> Call:
        key = cache_key(
            self.judge.backend.fingerprint(),
            {"protocol": self.name, "messages": messages, "reply": reply},
        )
        return Call(key, "logprob", LabelRequest(messages, (reply,)), (reply,))

    def _pmi(
        self,
        calls: tuple[Call, Call] | JudgmentFailure,
        response: str,
        outcomes: Mapping[str, Outcome],
    ) -> float | JudgmentFailure:
        """One response's PMI (per character with ``per``), or the failure that stopped it."""
        if isinstance(calls, JudgmentFailure):
            return calls
        logprobs: list[float] = []
        for call in calls:
            outcome = outcomes[call.key]
            if isinstance(outcome, CallFailure):
                return _failed(call, outcome)
            logprobs.append(_reply_logprob(outcome, call))
        pmi = logprobs[0] - logprobs[1]
        return pmi if self.per is None else pmi / len(response)

    def _verdict(
        self,
        prompt: str,
        a: str,
        b: str,
        pmis: Mapping[tuple[str, str], float | JudgmentFailure],
    ) -> PairwiseResult:
        pmi_a, pmi_b = (pmis[(prompt, r)] if r else 0.0 for r in (a, b))
        if isinstance(pmi_a, JudgmentFailure):
            return pmi_a
        if isinstance(pmi_b, JudgmentFailure):
            return pmi_b
        p_a = pmi_preference(pmi_a, pmi_b, 1.0 if self.per is None else self.per)
        return order_free(
            method="logprob",
            model=self.judge.backend.name,
            template=self.name,
            rubric="none",
            prob_a=p_a,
        )


def _reply_logprob(reading: Reading, call: Call) -> float:
    assert reading.logprobs is not None  # a logprob call's reading keeps them
    return reading.logprobs[call.labels[0]]


def _failed(call: Call, failure: CallFailure) -> JudgmentFailure:
    return JudgmentFailure(
        kind="pairwise",
        reason=failure.reason,
        message=f"pmi: scoring a response failed: {failure.message}",
        retryable=failure.retryable,
        raw_output=failure.raw_output,
        messages=call.messages,
    )
