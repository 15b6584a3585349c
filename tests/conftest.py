"""Shared fixtures: one real embedded model per session, converted in a fresh cache dir."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from judge.backends.base import Backend, GenerateRequest, LabelRequest, Message

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data" / "llmbar.jsonl"


def llmbar(subset: str = "llmbar-natural", n: int = 10) -> list[dict[str, Any]]:
    """The first ``n`` LLMBar items of ``subset`` (benchmarks/data, MIT)."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["subset"] == subset][:n]


@pytest.fixture(scope="session")
def model_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh JUDGE_CACHE_DIR with the embedded model converted into it once.

    Records the log lines of that first conversion, so tests can check the user was told.
    """
    root = tmp_path_factory.mktemp("judge-home")
    patch = pytest.MonkeyPatch()
    patch.setenv("JUDGE_CACHE_DIR", str(root))
    from judge.backends import embedded

    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("judge")
    logger.addHandler(handler)
    try:
        path = embedded.ensure_converted()
    finally:
        logger.removeHandler(handler)
    yield {"root": root, "model_dir": path, "conversion_log": records}
    patch.undo()


@pytest.fixture(scope="session")
def smollm(model_home: dict[str, Any]) -> Backend:
    """The real embedded SmolLM2 backend, loaded once per session."""
    from judge.backends.transformers import TransformersBackend

    return TransformersBackend.embedded()


class CountingBackend(Backend):
    """Wraps a real backend, forwarding every call and counting the requests it sees."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.batch_size = inner.batch_size
        self.context_length = inner.context_length
        self.special_tokens = inner.special_tokens
        self.label_requests = 0
        self.generate_requests = 0

    def fingerprint(self) -> dict[str, str]:
        return self.inner.fingerprint()

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        return self.inner.count_tokens(messages)

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[Any]:
        self.label_requests += len(requests)
        return self.inner.score_labels(requests)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Any]:
        self.generate_requests += len(requests)
        return self.inner.generate(requests)


@pytest.fixture
def counting(smollm: Backend) -> CountingBackend:
    """The real backend behind a request counter."""
    return CountingBackend(smollm)
