"""`route_judge`: a new judge on a `RoutedBackend`, built through `Judge.with_backend`."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge import Judge, UserError
from judge.backends.router import RoutedBackend, route_judge
from judge.templates import JudgeTemplate

ENDPOINTS = ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"]


def test_the_routed_judge_keeps_everything_but_the_backend(tmp_path: Path) -> None:
    tie = JudgeTemplate.shipped("prompts", "pairwise_tie")
    judge = Judge(
        "hosted_vllm/m", rubric="honesty", template=tie, swap="none", seed=7, cache=tmp_path
    )
    routed = route_judge(judge, "hosted_vllm/m", ENDPOINTS, api_key="k")
    assert isinstance(routed.backend, RoutedBackend)
    assert routed.backend.api_bases == tuple(ENDPOINTS) and routed.backend.name == "hosted_vllm/m"
    assert routed.config == judge.config and routed.rubric.name == "honesty"
    assert routed.template("pairwise").name == "pairwise_tie"
    assert routed.cache is judge.cache
    assert not isinstance(judge.backend, RoutedBackend)  # the given judge is unchanged


def test_routing_needs_a_litellm_model_string() -> None:
    with pytest.raises(UserError, match="--engine needs --model"):
        route_judge(Judge(cache=False), "transformers/x", ENDPOINTS)
