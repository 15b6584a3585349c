"""Every malformed input in tests/corpus/, fed to every entry point.

Each must end as a clear error naming the place (file:line, field, template) or as a
recorded policy outcome (a typed failure, a truncation on record, a 4xx answer) —
never a traceback from inside a library, never a hang (every call has a timeout).

The console script runs as a subprocess, as a user runs it. Judges that must reach a
model use the litellm backend against the fault server (real HTTP, no model load), so
the whole corpus stays cheap; the real embedded model gets the two cases only it can
show (a 1 MB response against its real tokenizer, and empty strings).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from judge import FailureReason, Judge, JudgeTemplate, JudgmentFailure, PairwiseVerdict
from judge.backends.base import Backend
from judge.errors import InputError, JudgeError, TemplateError, UnknownNameError, UserError
from judge.io import read_jsonl
from tests.conftest import REPO
from tests.faults.cases import backend
from tests.faults.server import FaultServer

CORPUS = REPO / "tests" / "corpus"
JSONL = CORPUS / "jsonl"
TEMPLATES = CORPUS / "templates"
GOOD = JSONL / "good.jsonl"
TIMEOUT_S = 120  # a hang fails the test instead of stalling CI
MEGABYTE = "All work and no play makes a dull answer. " * 25_000  # ≈1 MB

# Malformed line 2 after a good line 1; the error must name file:2.
BAD_LINES = [
    "bad_json_line",
    "not_an_object",
    "wrong_type",
    "missing_field",
    "invalid_utf8",
    "null_values",
]
# Template file -> words its error must contain (besides the file's name).
BAD_TEMPLATES = {
    "missing_variable": ["'context'"],
    "syntax_error": [":8"],
    **{f.stem: ["sandbox"] for f in TEMPLATES.glob("sandbox_*.j2")},
}
SCRIPT = shutil.which("judge", path=str(Path(sys.executable).parent)) or "judge"


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def judge_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, JUDGE_CACHE_DIR=str(home))
    return subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
        check=False,
        cwd=home,
    )


def assert_clear_error(run: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 (user error), one line naming ``words``, no traceback anywhere."""
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert "Traceback" not in output, output
    for word in words:
        assert word in output, (word, output)


def via_server(server: FaultServer) -> list[str]:
    """CLI options for a litellm judge aimed at the fault server."""
    return [
        "--model",
        "openai/corpus",
        "--api-base",
        server.api_base,
        "--no-cache",
        "-o",
        "api_key=sk-corpus",
        "-o",
        "timeout=5",
    ]


# JSONL files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bad_json_line", "not_an_object", "invalid_utf8"])
def test_bad_line_via_the_shared_reader(name: str) -> None:
    """Lines that are not JSON objects; the others are objects whose fields are wrong."""
    path = JSONL / f"{name}.jsonl"
    with pytest.raises(InputError) as caught:
        list(read_jsonl(path))
    assert (caught.value.path, caught.value.line) == (str(path), 2)


@pytest.mark.parametrize("name", BAD_LINES)
def test_bad_line_via_judge_compare(name: str, tmp_path: Path) -> None:
    run = judge_cli(
        "compare",
        "--outputs-a",
        str(JSONL / f"{name}.jsonl"),
        "--outputs-b",
        str(GOOD),
        home=tmp_path,
    )
    assert_clear_error(run, f"{name}.jsonl:2")


@pytest.mark.parametrize("name", BAD_LINES)
def test_bad_line_via_judge_annotate(name: str, tmp_path: Path) -> None:
    run = judge_cli(
        "annotate",
        str(JSONL / f"{name}.jsonl"),
        "--output",
        str(tmp_path / "out.jsonl"),
        home=tmp_path,
    )
    assert_clear_error(run, f"{name}.jsonl:2")


@pytest.mark.parametrize("name", BAD_LINES)
def test_bad_line_via_judge_bench(name: str, tmp_path: Path) -> None:
    run = judge_cli("bench", "--data", str(JSONL / f"{name}.jsonl"), home=tmp_path)
    assert_clear_error(run, f"{name}.jsonl:2")


@pytest.mark.parametrize("name", BAD_LINES)
def test_bad_line_via_judge_bias(name: str, tmp_path: Path) -> None:
    run = judge_cli(
        "bias",
        str(JSONL / f"{name}.jsonl"),
        "--probes",
        "none",
        "--out",
        str(tmp_path / "bias"),
        home=tmp_path,
    )
    assert_clear_error(run, f"{name}.jsonl:2")


def test_an_empty_file_is_named(tmp_path: Path) -> None:
    empty = str(JSONL / "empty.jsonl")
    for args in (
        ["compare", "--outputs-a", empty, "--outputs-b", empty],
        ["bench", "--data", empty],
    ):
        assert_clear_error(judge_cli(*args, home=tmp_path), "empty.jsonl", "no records")


def test_an_empty_file_is_an_empty_annotation_job(tmp_path: Path) -> None:
    """Policy: nothing to annotate is a finished job with zero rows, not an error."""
    out = tmp_path / "out.jsonl"
    run = judge_cli("annotate", str(JSONL / "empty.jsonl"), "--output", str(out), home=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists() or out.read_text() == ""


def test_bad_records_via_the_python_api(server: FaultServer, tmp_path: Path) -> None:
    judge = Judge(backend(server), cache=False)
    for item, words in [
        ({"prompt": 42, "response_a": "a", "response_b": "b"}, "prompt"),
        ({"prompt": "q", "response_a": "a"}, "response_b"),
        ({"prompt": "q", "response_a": None, "response_b": "b"}, "response_a"),
        ({"prompt": "q", "response_a": "a", "response_b": "b", "context": 3}, "context"),
    ]:
        with pytest.raises(UserError, match=words):
            judge.compare_batch([item])
    assert server.seen == []  # refused before any request


# Names and templates ----------------------------------------------------------------


def test_unknown_rubric_everywhere(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="available"):
        Judge(rubric="no_such_rubric")
    for args in (
        ["compare", "--prompt", "q", "--a", "a", "--b", "b"],
        ["annotate", str(GOOD), "--output", str(tmp_path / "o.jsonl")],
        ["bench", "--data", str(GOOD)],
        ["serve", "--port", "1"],
    ):
        run = judge_cli(*args, "--rubric", "no_such_rubric", home=tmp_path)
        assert_clear_error(run, "unknown rubric 'no_such_rubric'", "available")


@pytest.mark.parametrize("name", sorted(BAD_TEMPLATES))
def test_bad_template_via_the_python_api(name: str, server: FaultServer) -> None:
    path = TEMPLATES / f"{name}.j2"
    before = len(server.seen)
    with pytest.raises(TemplateError) as caught:
        Judge(backend(server), template=JudgeTemplate.from_file(path), cache=False).compare(
            "q", "a", "b"
        )
    for word in [path.name, *BAD_TEMPLATES[name]]:
        assert word in str(caught.value)
    assert len(server.seen) == before  # nothing was sent


@pytest.mark.parametrize("name", ["syntax_error", "sandbox_mro"])
def test_bad_template_via_judge_compare(name: str, server: FaultServer, tmp_path: Path) -> None:
    """A sample of the templates (each run costs a process start); the API gets them all."""
    path = TEMPLATES / f"{name}.j2"
    run = judge_cli(
        "compare",
        "--prompt",
        "q",
        "--a",
        "a",
        "--b",
        "b",
        "--template-file",
        str(path),
        *via_server(server),
        home=tmp_path,
    )
    assert_clear_error(run, path.name, *BAD_TEMPLATES[name])


# Policy outcomes: empty strings and 1 MB responses ---------------------------------


def test_policy_outcomes_via_the_python_api(server: FaultServer) -> None:
    """Empty strings are judged as they are; 1 MB fails as context_overflow or is cut."""
    small = backend(server, context_length=2048)
    empty = Judge(small, cache=False, swap="none").compare("", "", "")
    assert isinstance(empty, PairwiseVerdict)
    before = len(server.seen)
    huge = Judge(small, cache=False).compare("q", MEGABYTE, "short")
    assert isinstance(huge, JudgmentFailure)
    assert huge.reason is FailureReason.CONTEXT_OVERFLOW
    assert len(server.seen) == before  # refused before sending 1 MB
    cut = Judge(small, cache=False, on_overflow="truncate").compare("q", MEGABYTE, "short")
    assert isinstance(cut, PairwiseVerdict)
    assert [t.field for t in cut.truncations] == ["response_a"]
    assert cut.truncations[0].original_chars == len(MEGABYTE)


def test_a_1mb_response_via_judge_compare_is_a_recorded_failure(
    server: FaultServer, tmp_path: Path
) -> None:
    out = tmp_path / "verdicts.jsonl"
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"prompt": "q", "response": MEGABYTE}) + "\n")
    b.write_text('{"prompt": "q", "response": "short"}\n')
    run = judge_cli(
        "compare",
        "--outputs-a",
        str(a),
        "--outputs-b",
        str(b),
        "--output",
        str(out),
        *via_server(server),
        "-o",
        "context_length=2048",
        home=tmp_path,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # 1: some judgments failed
    assert "Traceback" not in run.stderr
    assert '"reason": "context_overflow"' in out.read_text()


@pytest.mark.slow
def test_policy_outcomes_on_the_real_model(smollm: Backend) -> None:
    judge = Judge(smollm, cache=False)
    assert isinstance(judge.compare("", "", ""), PairwiseVerdict)
    start = time.monotonic()
    huge = judge.compare("q", MEGABYTE, "short")
    assert isinstance(huge, JudgmentFailure)
    assert huge.reason is FailureReason.CONTEXT_OVERFLOW
    assert time.monotonic() - start < TIMEOUT_S  # 1 MB through the real tokenizer, bounded
    # (Truncating it to 2048 tokens and judging that is shown through the API above;
    # on the real model it costs minutes of CPU.)


# The reward server over HTTP --------------------------------------------------------


@pytest.fixture(scope="module")
def reward_url(server: FaultServer) -> Iterator[str]:
    """`judge serve`'s app (reference mode) on uvicorn, judging through the fault server."""
    import uvicorn

    from judge.reward import JudgeReward
    from judge.reward.server import create_app

    judge = Judge(backend(server, context_length=2048), cache=False)
    app = create_app(JudgeReward(judge, mode="reference", on_failure="none"))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error")
    http = uvicorn.Server(config)
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not http.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = http.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    http.should_exit = True
    thread.join(timeout=10)


def _post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{url}/get_reward", timeout=TIMEOUT_S, **kwargs)


@pytest.mark.parametrize(
    ("content", "status", "word"),
    [
        (b'{"query": ["q a"], "prompts": ', 422, "JSON"),
        (b'{"query": ["q \xff a"], "prompts": ["q"]}', 400, "parsing the body"),
        (b'["q a"]', 422, "object"),
        (b'{"query": [42], "prompts": ["q"]}', 422, "query"),
        (b'{"query": ["q a"]}', 422, "prompts"),
        (b'{"query": ["q a", "q b"], "prompts": ["q"], "labels": ["r"]}', 400, "prompts has 1"),
    ],
    ids=[
        "bad-json",
        "invalid-utf8",
        "not-an-object",
        "wrong-type",
        "missing-field",
        "mismatched-lengths",
    ],
)
def test_bad_bodies_via_judge_serve(
    reward_url: str, content: bytes, status: int, word: str
) -> None:
    response = _post(reward_url, content=content, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert word in response.text
    assert "Traceback" not in response.text
    assert httpx.get(f"{reward_url}/health", timeout=10).status_code == 200


def test_policy_outcomes_via_judge_serve(reward_url: str) -> None:
    queries = ["q" + "", "q" + MEGABYTE, "q" + "fine answer"]
    response = _post(
        reward_url, json={"query": queries, "prompts": ["q"] * 3, "labels": ["ref", "ref", "ref"]}
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    failed = {f["index"]: f for f in reply["failures"]}
    assert reply["rewards"][1] is None and reply["extra_logs"]["judge_failed"][1] == 1.0
    assert "context_overflow" in str(failed[1])
    assert reply["rewards"][2] is not None  # one bad item never poisons the batch
    assert 0 in failed or reply["rewards"][0] is not None  # empty: a failure or judged


def test_no_error_escapes_as_a_traceback_from_the_api(server: FaultServer) -> None:
    """The API's own errors are all `JudgeError`s (callers catch one root)."""
    for bad in (
        lambda: Judge(swap="sideways"),
        lambda: Judge(rubric="no_such_rubric"),
        lambda: JudgeTemplate.from_file(TEMPLATES / "syntax_error.j2"),
        lambda: list(read_jsonl(JSONL / "invalid_utf8.jsonl")),
        lambda: list(read_jsonl(JSONL / "no_such_file.jsonl")),
    ):
        with pytest.raises(JudgeError):
            bad()
