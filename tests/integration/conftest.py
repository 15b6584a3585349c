"""Integration fixtures: one real in-process vLLM engine on the embedded model per session."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Engine settings for 2-core CPU test machines (measured on this project's CI machines):
# about 10 GiB reported on NUMA node 0, hence the memory limits; float32 to match the
# transformers backend; eager mode skips torch.compile, which costs ~50 s per engine
# start here (start ~5–12 s instead) and only changes speed.
VLLM_TEST_ENGINE: dict[str, Any] = {
    "dtype": "float32",
    "gpu_memory_utilization": 0.3,
    "max_model_len": 4096,
    "enforce_eager": True,
}


def vllm_test_environment() -> None:
    """Run vLLM's engine inside the test process, with a 1 GiB CPU KV cache."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")


@pytest.fixture(scope="session")
def vllm_backend(model_home: dict[str, Any]) -> Any:
    """The embedded SmolLM2 model on a real in-process vLLM engine (prefix caching on)."""
    # No skip when vllm is missing: the test setup (scripts/setup --dev) installs it, and
    # a silently skipped engine test would read as a pass. The registry's error says
    # what to install.
    vllm_test_environment()
    from judge.backends import load_backend

    return load_backend("vllm/embedded", **VLLM_TEST_ENGINE)
