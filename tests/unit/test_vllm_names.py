"""Which packaged judge a ``vllm/...`` model argument names (pure logic, no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.backends.vllm import embedded_key


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("embedded", None),
        ("embedded/qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b"),
        ("Qwen/Qwen2.5-7B-Instruct", False),
        ("/models/embedded", False),
        ("embedded/", False),
    ],
)
def test_embedded_key(model: str, key: str | bool | None) -> None:
    assert embedded_key(model) == key


def test_an_existing_folder_named_embedded_is_a_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "embedded" / "mine").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert embedded_key("embedded/mine") is False
