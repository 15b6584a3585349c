"""The same pairs, model and template on three engines must give the same probabilities.

transformers (in process), vLLM (in process) and a vLLM server reached through litellm
all run SmolLM2-135M-Instruct in float32 on this CPU. The logprob method reads the same
next-token distributions, so the numbers differ only by floating-point accumulation
order in different kernels, which is far below anything that changes a verdict.
"""

from __future__ import annotations

from typing import Any

import pytest

from judge import Judge, PairwiseVerdict, PointwiseVerdict
from judge.backends.base import Backend
from tests.conftest import llmbar
from tests.integration.server_fixtures import vllm_server  # noqa: F401

pytestmark = pytest.mark.slow

# Measured on this machine (see the README): the largest per-order difference in
# P(label) between any two of the three engines was below 1e-3; the tolerance leaves
# headroom for other CPUs' kernels while staying 100x below a verdict-changing gap.
TOLERANCE = 5e-3


def _engines(smollm: Backend, vllm_backend: Backend, server: dict[str, Any]) -> dict[str, Backend]:
    from judge.backends.litellm import LiteLLMBackend

    litellm = LiteLLMBackend(server["model"], api_base=server["api_base"])
    return {"transformers": smollm, "vllm": vllm_backend, "litellm->vllm serve": litellm}


def test_pairwise_probabilities_agree_across_engines(
        smollm: Backend, vllm_backend: Backend, vllm_server: dict[str, Any]) -> None:  # noqa: F811
    pairs = [{"prompt": r["prompt"], "response_a": r["chosen"], "response_b": r["rejected"]}
             for r in llmbar(n=6)]
    per_engine = {}
    for name, backend in _engines(smollm, vllm_backend, vllm_server).items():
        verdicts = Judge(backend, cache=False).compare_batch(pairs)
        assert all(isinstance(v, PairwiseVerdict) for v in verdicts), name
        per_engine[name] = [o.label_probs["A"] for v in verdicts for o in v.orders]  # type: ignore[union-attr]
    reference = per_engine.pop("transformers")
    for name, probs in per_engine.items():
        worst = max(abs(a - b) for a, b in zip(reference, probs, strict=True))
        assert worst < TOLERANCE, f"{name} differs from transformers by {worst:.2e}"


def test_pointwise_distributions_agree_across_engines(
        smollm: Backend, vllm_backend: Backend, vllm_server: dict[str, Any]) -> None:  # noqa: F811
    items = [{"prompt": "What is 2 + 2?", "response": answer} for answer in ("4", "5", "")]
    per_engine = {}
    for name, backend in _engines(smollm, vllm_backend, vllm_server).items():
        verdicts = Judge(backend, cache=False).score_batch(items)
        assert all(isinstance(v, PointwiseVerdict) for v in verdicts), name
        per_engine[name] = [v.distribution for v in verdicts]  # type: ignore[union-attr]
    reference = per_engine.pop("transformers")
    for name, dists in per_engine.items():
        worst = max(abs(ref[s] - got[s]) for ref, got in zip(reference, dists, strict=True)
                    for s in ref)
        assert worst < TOLERANCE, f"{name} differs from transformers by {worst:.2e}"
