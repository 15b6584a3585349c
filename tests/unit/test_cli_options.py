"""Backend options from the command line, and their route into Judge."""

from __future__ import annotations

import pytest

from judge import Judge, UserError
from judge.cli.options import backend_options
from tests.unit.test_engine_fake import FakeBackend


def test_api_base_and_key_value_pairs_become_backend_options() -> None:
    parsed = backend_options(
        "http://127.0.0.1:9/v1", ["concurrency=32", "rpm=60", "logprobs=false", "name=x=y"]
    )
    assert parsed == {
        "api_base": "http://127.0.0.1:9/v1",
        "concurrency": 32,
        "rpm": 60,
        "logprobs": False,
        "name": "x=y",
    }


@pytest.mark.parametrize("bad", ["novalue", "=3"])
def test_malformed_backend_option_is_a_user_error(bad: str) -> None:
    with pytest.raises(UserError, match="KEY=VALUE"):
        backend_options(None, [bad])


def test_backend_options_need_a_model_string() -> None:
    with pytest.raises(UserError, match="model string"):
        Judge(FakeBackend(), backend_options={"api_base": "x"}, cache=False)


def test_backend_options_reach_the_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def factory(name: str | None, **options: object) -> FakeBackend:
        seen.update(options, model=name)
        return FakeBackend()

    from judge.backends import registry

    monkeypatch.setitem(registry._FACTORIES, "fakeprefix", factory)
    judge = Judge("fakeprefix/m1", backend_options={"api_base": "u"}, batch_size=3, cache=False)
    assert isinstance(judge.backend, FakeBackend)
    assert seen == {"api_base": "u", "batch_size": 3, "model": "m1"}
