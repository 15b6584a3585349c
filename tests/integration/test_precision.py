"""A bfloat16 body with a float32 output head, on the real embedded model."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from judge import Judge, PairwiseVerdict
from judge.backends.base import LabelRequest, LabelScores
from judge.backends.precision import Float32Head
from judge.backends.transformers import TransformersBackend
from judge.errors import BackendError
from judge.inputs import PairInput
from tests.conftest import llmbar

pytestmark = pytest.mark.slow


def test_a_bfloat16_body_reads_verdicts_through_a_float32_head(
    smollm: Any, model_home: dict[str, Any]
) -> None:
    half = TransformersBackend.from_pretrained(model_home["model_dir"], dtype="bfloat16")
    head = half.model.get_output_embeddings()
    assert isinstance(head, Float32Head) and head.weight.dtype == torch.float32
    # SmolLM2 ties its input and output embeddings: the body keeps bfloat16 weights.
    assert half.model.get_input_embeddings().weight.dtype == torch.bfloat16
    assert half.model.model.layers[0].mlp.up_proj.weight.dtype == torch.bfloat16
    # The numbers differ from float32's, so cached verdicts must not mix.
    assert half.fingerprint()["dtype"] == "torch.bfloat16"
    assert half.fingerprint()["head"] == "float32" and "head" not in smollm.fingerprint()

    setup = Judge(smollm, cache=False).setup("pairwise")
    rows = llmbar(n=3)
    requests = [
        LabelRequest(
            tuple(setup.render(PairInput(r["prompt"], r["chosen"], r["rejected"]).judged("AB"))),
            ("A", "B"),
        )
        for r in rows
    ]
    full, ours = smollm.score_labels(requests), half.score_labels(requests)
    for f, h in zip(full, ours, strict=True):
        assert isinstance(f, LabelScores) and isinstance(h, LabelScores)
        assert all(abs(f.logprobs[k] - h.logprobs[k]) < 0.25 for k in f.logprobs)

    # A backend over a model whose head is already float32 says so, whatever it asked.
    again = TransformersBackend(half.model, half.tokenizer, name="again", float32_head=False)
    assert again.fingerprint()["head"] == "float32"

    # Generation (Outlines) runs on the float32 logits of a bfloat16 body.
    verdict = Judge(half, cache=False, method="generate", max_new_tokens=40).compare(
        rows[0]["prompt"], rows[0]["chosen"], rows[0]["rejected"]
    )
    assert isinstance(verdict, PairwiseVerdict) or verdict.reason != "backend_error", verdict


def test_an_unknown_dtype_names_the_choices(model_home: dict[str, Any]) -> None:
    with pytest.raises(BackendError, match=r"unknown dtype 'int3'.*bfloat16"):
        TransformersBackend.from_pretrained(model_home["model_dir"], dtype="int3")
    with pytest.raises(BackendError, match=r"unknown dtype 'int3'"):  # before any conversion
        TransformersBackend.embedded("qwen2.5-coder-1.5b", dtype="int3")
