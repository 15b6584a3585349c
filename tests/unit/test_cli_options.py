"""The shared judge options of the command line, and their route into Judge."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import typer.core
import typer.main
from typer.testing import CliRunner

from judge import Judge, UserError
from judge.cache import NoCache
from judge.cli import app
from judge.cli.options import JudgeOptions, backend_options
from tests.unit.test_engine_fake import FakeBackend

JUDGING = {"compare", "bench", "bias", "rank", "annotate", "serve"}


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


@pytest.mark.parametrize("name", sorted(JUDGING))
def test_every_judging_command_declares_the_shared_options_with_one_default(name: str) -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    command = group.commands[name]
    params = {p.name: p for p in command.params}
    for option in dataclasses.fields(JudgeOptions):
        if name == "bias" and option.name == "swap":  # bias compares every swap mode
            assert option.name not in params
            continue
        assert params[option.name].default == option.default, (name, option.name)


def test_judge_options_build_the_judge_they_describe(monkeypatch: pytest.MonkeyPatch) -> None:
    from judge.backends import registry

    seen: dict[str, object] = {}
    monkeypatch.setitem(
        registry._FACTORIES, "fakeprefix", lambda name, **kw: seen.update(kw) or FakeBackend()
    )
    judge = JudgeOptions(
        model="fakeprefix/m",
        rubric="harmlessness",
        swap="none",
        seed=3,
        no_cache=True,
        api_base="u",
        backend_option=["concurrency=2"],
    ).build()
    assert (judge.model, judge.rubric.name, judge.config.swap, judge.config.seed) == (
        "fakeprefix/m",
        "harmlessness",
        "none",
        3,
    )
    assert isinstance(judge.cache, NoCache) and judge.backend_options == {
        "api_base": "u",
        "concurrency": 2,
    }
    assert isinstance(judge.backend, FakeBackend) and seen == {"api_base": "u", "concurrency": 2}


def test_cache_commands_report_our_errors_with_the_user_error_exit_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unusable() -> None:
        raise UserError("the cache directory is unusable")

    monkeypatch.setattr("judge.cli.cache.JudgmentCache", unusable)
    result = CliRunner().invoke(app, ["cache", "info"])
    assert result.exit_code == 2 and "the cache directory is unusable" in result.output


def test_a_cache_directory_below_a_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(blocker / "cache"))
    result = CliRunner().invoke(app, ["cache", "info"])
    assert result.exit_code == 2, result.output
    assert "cannot open the judgment cache at" in result.output
    assert "JUDGE_CACHE_DIR" in result.output and "Traceback" not in result.output
