"""Prompt-injection probes inside judged responses: the prompt the judge sends defuses them.

The probes are the ones ``benchmarks/bench_injection.py`` measures on the embedded
model. Here the rendered prompt is checked: whatever a response contains, the user
message keeps exactly the delimiters the engine wrote, and no chat-control token
survives. (How far the words themselves sway the model is the benchmark's job.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from benchmarks.bench_injection import PROBES
from judge import Judge
from judge.inputs import PairInput
from tests.faults.cases import backend
from tests.faults.server import FaultServer

NAMES = ("prompt", "response_a", "response_b")


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def tags(text: str, name: str) -> list[str]:
    """Every opening or closing tag of ``name`` a parser would recognize."""
    return re.findall(rf"<\s*/?\s*{name}\b[^<>]*>", text, flags=re.IGNORECASE)


@pytest.mark.parametrize("order", ["AB", "BA"])
@pytest.mark.parametrize("probe", sorted(PROBES))
def test_probes_cannot_forge_structure(server: FaultServer, probe: str, order: str) -> None:
    pair = PairInput("Which city is the capital of France?", "Paris.", "Lyon." + PROBES[probe])
    setup = Judge(backend(server), cache=False).setup("pairwise")
    user = setup.render(pair.judged(order))[-1]["content"]
    for name in NAMES:
        assert tags(user, name) == [f"<{name}>", f"</{name}>"], (name, user)
    assert not re.search(r"<\s*\|", user)  # no chat-control token left intact
    assert "Lyon." in user and "A" in user  # the words stay readable to the judge
