"""verl workers sharing one `judge serve` (``reward_kwargs.judge_url``), real HTTP.

`judge serve --mode reference` runs as a real subprocess judging through litellm against
the oracle server of `tests.faults`; the verl adapter's sync and async forms send each
sample there. A failed verdict (the judge's backend answers 400 context overflow for
that sample) comes back flagged, not as a made-up number and not as an exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from judge.reward import RewardError, verl
from tests.faults.server import MARK, FaultServer, context_overflow
from tests.faults.serving import judge_serve

INFO = {"prompt": "Name a colour."}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultServer, str]]:
    with (
        FaultServer() as server,
        judge_serve(
            server, tmp_path_factory.mktemp("home"), "--on-failure", "none", "--no-cache"
        ) as url,
    ):
        yield server, url


def test_samples_are_judged_by_the_shared_server(served: tuple[FaultServer, str]) -> None:
    _, url = served
    good = verl.compute_score("d", f"{MARK}: blue", "red", extra_info=INFO, judge_url=url)
    bad = asyncio.run(
        verl.compute_score_async("d", "a chair", f"{MARK}: red", extra_info=INFO, judge_url=url)
    )
    assert good["score"] > 2.0 and bad["score"] < -2.0
    assert good["judge_failed"] == bad["judge_failed"] == 0.0


def test_a_failed_verdict_is_flagged_or_raised(served: tuple[FaultServer, str]) -> None:
    faults, url = served
    faults.plan("OVERFLOWING", *[context_overflow() for _ in range(4)])
    flagged = verl.compute_score("d", "OVERFLOWING", "red", extra_info=INFO, judge_url=url)
    assert flagged == {"score": 0.0, "judge_failed": 1.0, "judge_reason": "context_overflow"}
    faults.plan("OVERFLOWING", *[context_overflow() for _ in range(4)])
    with pytest.raises(RewardError, match="context_overflow"):
        verl.compute_score(
            "d", "OVERFLOWING", "red", extra_info=INFO, judge_url=url, on_failure="raise"
        )
