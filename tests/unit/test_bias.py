"""The bias report computes each number right, on judges whose biases are known by
construction (scripted fake backends) and on hand-built verdicts."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from judge import Judge
from judge.backends.base import (
    Backend,
    Capabilities,
    GenerateRequest,
    Generation,
    LabelRequest,
    LabelScores,
    Message,
)
from judge.bias import bias_report, load_pair_set, probe_set, to_markdown, write_figure
from judge.bias.data import PairSet
from judge.bias.measures import length_buckets, stability
from judge.errors import BackendError, InputError, UnknownNameError
from judge.inputs import PairInput
from judge.jsonable import to_jsonable
from judge.verdicts import OrderResult, PairwiseVerdict


def _shown(messages: Sequence[Message], name: str) -> str:
    match = re.search(rf"<{name}>\n(.*?)\n</{name}>", messages[-1]["content"], re.DOTALL)
    assert match
    return match.group(1)


class FakeBiasedBackend(Backend):
    """P(first shown wins) = ``p_first`` when the two lengths are equal; otherwise the
    longer response wins with ``p_longer`` whatever its position. Generate method: the
    winner is A for an even sampling seed, B for an odd one; records every seed seen."""

    name = "fake/biased"
    capabilities = Capabilities(logprobs=True, structured=True)
    batch_size = 8
    context_length = 100_000

    def __init__(self, *, p_first: float = 0.5, p_longer: float = 0.5) -> None:
        self.p_first = p_first
        self.p_longer = p_longer
        self.seeds: list[int | None] = []

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name, "bias": f"{self.p_first}/{self.p_longer}"}

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        out: list[LabelScores | BackendError] = []
        for r in requests:
            first = len(_shown(r.messages, "response_a"))
            second = len(_shown(r.messages, "response_b"))
            p = (
                self.p_first
                if first == second
                else self.p_longer
                if first > second
                else 1 - self.p_longer
            )
            out.append(LabelScores({"A": math.log(p), "B": math.log(1 - p)}))
        return out

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation | BackendError]:
        self.seeds += [r.seed for r in requests]
        return [
            Generation(
                json.dumps({"rationale": "r", "winner": "A" if (r.seed or 0) % 2 == 0 else "B"}),
                "stop",
            )
            for r in requests
        ]


def labelled(n: int = 8) -> PairSet:
    """Equal-length pairs, gold alternating A/B."""
    pairs = [
        PairInput(f"q{i}", f"good{i}", f"bad_{i}")
        if i % 2 == 0
        else PairInput(f"q{i}", f"bad_{i}", f"good{i}")
        for i in range(n)
    ]
    return PairSet(
        "labelled",
        pairs,
        ["A" if i % 2 == 0 else "B" for i in range(n)],
        [str(i) for i in range(n)],
    )


def test_a_pure_position_bias_per_swap_mode(tmp_path: Path) -> None:
    judge = Judge(FakeBiasedBackend(p_first=0.9), cache=tmp_path)
    report = bias_report(judge, [labelled()])
    modes = report.sets[0]["modes"]
    assert modes["none"]["p_first"] == pytest.approx(0.9)
    assert modes["none"]["accuracy"] == 0.5  # first shown always wins; gold alternates
    assert modes["none"]["consistency"] is None
    assert modes["both"]["p_first"] == pytest.approx(0.9)
    assert modes["both"]["consistency"] == 0.0
    assert modes["both"]["tie_rate"] == 1.0  # ½(0.9 + 0.1): the orders cancel
    assert modes["random"]["p_first"] == pytest.approx(0.9)
    assert report.stability["applicable"] is False  # logprob: nothing is sampled


def test_probes_headlines_for_a_length_loving_judge(tmp_path: Path) -> None:
    judge = Judge(FakeBiasedBackend(p_first=0.7, p_longer=0.8), cache=tmp_path)
    sets = [probe_set("identical"), probe_set("padded"), probe_set("short_correct")]
    report = bias_report(judge, sets, swaps=("both", "none"))
    by_name = {s["name"]: s for s in report.sets}
    identical = by_name["probe:identical"]["headline"]["by_mode"]
    assert identical["both"] == pytest.approx(0.0)  # both orders are the same prompt
    assert identical["none"] == pytest.approx(0.2)  # |0.7 − ½|
    for name in ("probe:padded", "probe:short_correct"):
        stats = by_name[name]["modes"]
        for mode in ("both", "none"):
            assert stats[mode]["p_longer"] == pytest.approx(0.8)
            assert stats[mode]["accuracy"] == pytest.approx(0.0)  # gold is the shorter
            assert stats[mode]["longer_is_better"] == 0.0
        assert by_name[name]["length"]["judge_coef"] > 0
    assert by_name["probe:padded"]["headline"]["by_mode"]["both"] == pytest.approx(0.8)
    assert by_name["probe:short_correct"]["headline"]["fair"] == 1.0


def test_markdown_json_and_figure(tmp_path: Path) -> None:
    judge = Judge(FakeBiasedBackend(p_first=0.9, p_longer=0.6), cache=tmp_path)
    report = bias_report(judge, [labelled(), probe_set("padded").head(6)])
    text = to_markdown(report)
    assert "## labelled (8 pairs)" in text and "| none | 8 | 0 | 0.900 |" in text
    assert "P(prefers the padded answer)" in text
    json.loads(json.dumps(to_jsonable(report)))
    png = write_figure(report, tmp_path / "bias.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stability_across_seeds_reaches_the_backend_and_the_cache(tmp_path: Path) -> None:
    backend = FakeBiasedBackend()
    judge = Judge(backend, cache=tmp_path, method="generate", temperature=0.7)
    report = bias_report(judge, [labelled(4)], swaps=("none",), stability_seeds=[0, 1, 2])
    s = report.stability
    assert s["applicable"] and s["pairs"] == 4
    # Winners A, B, A per pair: one of three seed pairs agrees; never unanimous.
    assert s["pairwise_agreement"] == pytest.approx(1 / 3)
    assert s["unanimous"] == 0.0
    assert set(backend.seeds) == {0, 1, 2}
    seen = len(backend.seeds)
    bias_report(judge, [labelled(4)], swaps=("none",), stability_seeds=[0, 1, 2])
    assert len(backend.seeds) == seen  # every seed's samples came from the cache


def test_greedy_generation_sends_no_seed(tmp_path: Path) -> None:
    backend = FakeBiasedBackend()
    Judge(backend, cache=False, method="generate", seed=5).compare("q", "a", "b")
    assert backend.seeds == [None, None]


def verdict(winner: str) -> PairwiseVerdict:
    p = {"A": 1.0, "B": 0.0, "tie": 0.5}[winner]
    order = OrderResult(shown="AB", label_probs={"A": p, "B": 1 - p}, prob_a=p, winner=winner)  # type: ignore[arg-type]
    return PairwiseVerdict(
        method="generate",
        model="m",
        template="t",
        rubric="r",
        winner=winner,
        prob_a=p,
        consistent=None,  # type: ignore[arg-type]
        orders=(order,),
        swap="none",
    )


def test_stability_on_hand_built_runs() -> None:
    runs = [
        [verdict("A"), verdict("A")],
        [verdict("A"), verdict("B")],
        [verdict("A"), verdict("A")],
    ]
    s = stability(runs)
    assert s["pairwise_agreement"] == pytest.approx((1 + 1 / 3) / 2)
    assert s["unanimous"] == 0.5
    with pytest.raises(ValueError):
        stability(runs[:1])


def test_length_buckets_by_ratio() -> None:
    pairs = PairSet(
        "s",
        [
            PairInput("q", "x" * 10, "y" * 10),  # ratio 1
            PairInput("q", "x" * 14, "y" * 10),  # 1.4
            PairInput("q", "x" * 10, "y" * 25),  # 2.5
            PairInput("q", "x" * 40, "y" * 10),
        ],  # 4
        ["A", "A", "A", "B"],
        ["0", "1", "2", "3"],
    )
    rows = length_buckets(pairs, [verdict("A")] * 4)
    assert [(r["ratio_low"], r["n"]) for r in rows] == [(1.0, 1), (1.25, 1), (2.0, 1), (3.0, 1)]
    assert [r["accuracy"] for r in rows] == [1.0, 1.0, 1.0, 0.0]
    assert [r["p_longer"] for r in rows] == [None, 1.0, 0.0, 1.0]
    assert [r["longer_is_better"] for r in rows] == [None, 1.0, 0.0, 0.0]


def test_loading_sets(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"prompt": f"q{i}", "chosen": "good", "rejected": "bad"}) for i in range(20)
        )
        + "\n"
    )
    s = load_pair_set(path, seed=1)
    for pair, gold in zip(s.pairs, s.gold, strict=True):
        assert (pair.response_a if gold == "A" else pair.response_b) == "good"
    assert 0 < s.gold.count("A") < 20  # the coin places the chosen one at both positions
    path.write_text('{"prompt": "q", "response_a": "a", "response_b": "b", "gold": "C"}\n')
    with pytest.raises(InputError, match=r"set.jsonl:1: .*gold"):
        load_pair_set(path)
    with pytest.raises(UnknownNameError):
        probe_set("nope")


def test_shipped_probes_isolate_one_bias_each() -> None:
    identical, padded, short = (probe_set(n) for n in ("identical", "padded", "short_correct"))
    assert len(identical.pairs) == len(padded.pairs) == len(short.pairs) == 24
    assert all(p.response_a == p.response_b for p in identical.pairs)
    for s in (padded, short):
        assert s.gold.count("A") == s.gold.count("B")  # the better one at both positions
        for pair, gold in zip(s.pairs, s.gold, strict=True):
            better, worse = (
                (pair.response_a, pair.response_b)
                if gold == "A"
                else (pair.response_b, pair.response_a)
            )
            assert len(worse) > 2 * len(better)
            if s is padded:
                assert worse.startswith(better)
