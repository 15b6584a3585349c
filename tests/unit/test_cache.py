"""The judgment cache: keys, JSON storage, and the no-op cache."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest

from judge.cache import CACHE_FORMAT, JudgmentCache, NoCache, cache_key
from judge.paths import judgments_dir

FINGERPRINT = {"backend": "fake", "model": "m", "revision": "r1"}
REQUEST: dict[str, Any] = {
    "messages": ({"role": "system", "content": "s"}, {"role": "user", "content": "u"}),
    "template": "digest",
    "method": "logprob",
    "labels": ("A", "B"),
}


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "env-cache"))


# cache_key ------------------------------------------------------------------------


def test_key_is_sha256_of_canonical_json() -> None:
    blob = (
        '{"backend":{"backend":"fake","model":"m","revision":"r1"},"format":'
        + str(CACHE_FORMAT)
        + ',"request":{"labels":["A","B"],"messages":[{"content":"s","role":"system"},'
        '{"content":"u","role":"user"}],"method":"logprob","template":"digest"}}'
    )
    assert cache_key(FINGERPRINT, REQUEST) == hashlib.sha256(blob.encode()).hexdigest()


def test_key_is_stable() -> None:
    assert cache_key(FINGERPRINT, REQUEST) == cache_key(dict(FINGERPRINT), dict(REQUEST))
    assert len(cache_key(FINGERPRINT, REQUEST)) == 64


def test_key_ignores_dict_key_order() -> None:
    fingerprint = dict(reversed(list(FINGERPRINT.items())))
    request = dict(reversed(list(REQUEST.items())))
    request["messages"] = tuple(dict(reversed(list(m.items()))) for m in REQUEST["messages"])
    assert cache_key(fingerprint, request) == cache_key(FINGERPRINT, REQUEST)


def test_key_handles_non_ascii() -> None:
    request = REQUEST | {"messages": ({"role": "user", "content": "café ‹›"},)}
    other = REQUEST | {"messages": ({"role": "user", "content": "cafe <>"},)}
    assert cache_key(FINGERPRINT, request) != cache_key(FINGERPRINT, other)


@pytest.mark.parametrize(
    ("fingerprint", "request_"),
    [
        (FINGERPRINT | {"model": "other"}, REQUEST),
        (FINGERPRINT | {"revision": "r2"}, REQUEST),
        (FINGERPRINT | {"backend": "vllm"}, REQUEST),
        (FINGERPRINT, REQUEST | {"method": "generate"}),
        (FINGERPRINT, REQUEST | {"labels": ("A", "B", "tie")}),
        (FINGERPRINT, REQUEST | {"labels": ("B", "A")}),
        (FINGERPRINT, REQUEST | {"template": "other-digest"}),
        (FINGERPRINT, REQUEST | {"messages": ({"role": "user", "content": "u"},)}),
        (
            FINGERPRINT,
            REQUEST
            | {"messages": ({"role": "system", "content": "s"}, {"role": "user", "content": "u "})},
        ),
        (
            FINGERPRINT,
            REQUEST
            | {"messages": ({"role": "user", "content": "u"}, {"role": "system", "content": "s"})},
        ),
        (FINGERPRINT, REQUEST | {"temperature": 0.0}),
    ],
)
def test_key_changes_with_any_input(fingerprint: dict[str, str], request_: dict[str, Any]) -> None:
    assert cache_key(fingerprint, request_) != cache_key(FINGERPRINT, REQUEST)


# JudgmentCache --------------------------------------------------------------------


def test_roundtrip(tmp_path: Path) -> None:
    cache = JudgmentCache(tmp_path / "store")
    assert len(cache) == 0
    assert cache.get("k1") is None
    cache.set("k1", {"logprobs": {"A": -0.1, "B": -2.3}})
    cache.set("k2", {"text": '{"winner": "A"}', "finish_reason": "stop"})
    assert len(cache) == 2
    assert cache.get("k1") == {"logprobs": {"A": -0.1, "B": -2.3}}
    assert cache.get("k2") == {"text": '{"winner": "A"}', "finish_reason": "stop"}
    cache.set("k1", {"logprobs": {"A": -5.0}})
    assert cache.get("k1") == {"logprobs": {"A": -5.0}}
    assert len(cache) == 2
    assert cache.clear() == 2
    assert len(cache) == 0
    assert cache.get("k1") is None
    cache.close()


def test_persists_across_instances(tmp_path: Path) -> None:
    first = JudgmentCache(tmp_path)
    first.set("k", {"text": "é", "finish_reason": "stop"})
    first.close()
    second = JudgmentCache(tmp_path)
    assert second.get("k") == {"text": "é", "finish_reason": "stop"}
    second.close()


def test_minus_infinity_survives(tmp_path: Path) -> None:
    cache = JudgmentCache(tmp_path)
    cache.set("k", {"logprobs": {"A": -math.inf, "B": -0.5}})
    assert cache.get("k") == {"logprobs": {"A": -math.inf, "B": -0.5}}
    cache.close()


def test_values_are_json_text_not_pickles(tmp_path: Path) -> None:
    import diskcache

    cache = JudgmentCache(tmp_path)
    payload = {"logprobs": {"A": -0.25}}
    cache.set("k", payload)
    cache.close()
    with diskcache.Cache(str(tmp_path)) as raw_store:
        raw = raw_store.get("k")
    assert isinstance(raw, str)
    assert json.loads(raw) == payload


def test_default_directory_follows_env(tmp_path: Path) -> None:
    cache = JudgmentCache()
    assert cache.directory == tmp_path / "env-cache" / "judgments"
    assert cache.directory == judgments_dir()
    cache.set("k", {"x": 1})
    assert cache.directory.is_dir()
    cache.close()


# NoCache ----------------------------------------------------------------------------


def test_no_cache_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache = NoCache()
    cache.set("k", {"logprobs": {"A": 0.0}})
    assert cache.get("k") is None
    assert len(cache) == 0
    assert cache.clear() == 0
    cache.close()
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere
