"""The annotation job's logic on a scripted fake judge: pairing, rows, filters, resume,
failures, Parquet output and the report (no model; the real model is in integration)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from judge import Judge, PairwiseVerdict
from judge.annotate import AnnotationReport, Fields, Filters, Pairing, Source, annotate
from judge.annotate.pairing import Pair, resolve
from judge.annotate.rows import preference_row, verdict_of
from judge.annotate.sources import Record
from judge.backends.base import Backend, Capabilities, LabelRequest, LabelScores, Message
from judge.errors import BackendError, UserError
from judge.jsonable import to_jsonable
from judge.stats import preference_stats


def _shown(messages: Sequence[Message], name: str) -> str:
    match = re.search(rf"<{name}>\n(.*?)\n</{name}>", messages[-1]["content"], re.DOTALL)
    assert match, "the engine delimits every judged text"
    return match.group(1)


class FakeLengthJudge(Backend):
    """Prefers the longer response, a little less when it is shown second; scores a
    response by its length. Requests containing ``fail_when`` get a `BackendError`;
    after ``stop_after`` backend batches it raises `RuntimeError` (a crash)."""

    name = "fake/length"
    capabilities = Capabilities(logprobs=True, structured=False)
    batch_size = 4
    context_length = 4096

    def __init__(self, *, fail_when: str | None = None, stop_after: int | None = None) -> None:
        self.fail_when = fail_when
        self.stop_after = stop_after
        self.pairwise_requests = 0
        self.batches = 0

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name}

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        if self.stop_after is not None and self.batches >= self.stop_after:
            raise RuntimeError("process killed")
        self.batches += 1
        return [self._one(r) for r in requests]

    def _one(self, request: LabelRequest) -> LabelScores | BackendError:
        if self.fail_when and self.fail_when in request.messages[-1]["content"]:
            return BackendError("scripted failure", retryable=True)
        if "A" not in request.labels:  # pointwise: score = length, capped at 10
            score = min(10, max(1, len(_shown(request.messages, "response"))))
            return LabelScores({s: (0.0 if int(s) == score else -30.0) for s in request.labels})
        self.pairwise_requests += 1
        first = len(_shown(request.messages, "response_a"))
        second = len(_shown(request.messages, "response_b"))
        p = 0.5 if first == second else 0.8 if first > second else 0.3
        return LabelScores({"A": math.log(p), "B": math.log(1 - p)})


ROWS = [
    {"prompt": f"question {i}", "candidates": ["a" * (i + 1), "bbbb" * (i + 1), "cc"], "best": 1}
    for i in range(5)
]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return _write(tmp_path / "in.jsonl", ROWS)


def _run(source: Path, out: Path, backend: Backend, **kw: Any) -> AnnotationReport:
    judge = Judge(backend, cache=out.parent / "cache", swap=kw.pop("swap", "both"))
    kw.setdefault("fields", Fields(gold="best"))
    return annotate(source, out, judge=judge, chunk_size=kw.pop("chunk_size", 2), **kw)


# Pairing ---------------------------------------------------------------------------


def _record(n: int, text: str = "p") -> Record:
    return Record(text, tuple(f"c{i}" for i in range(n)), "x:1")


def test_all_adjacent_and_random_pairs() -> None:
    record = _record(4)
    assert Pairing("all").slots(record) == ["0-1", "0-2", "0-3", "1-2", "1-3", "2-3"]
    assert Pairing("adjacent").slots(record) == ["0-1", "1-2", "2-3"]
    draws = [Pairing("random", k=2, seed=s).slots(record) for s in range(8)]
    assert all(len(d) == 2 and set(d) <= set(Pairing("all").slots(record)) for d in draws)
    assert draws[0] == Pairing("random", k=2, seed=0).slots(record)  # seeded: repeatable
    assert len({tuple(d) for d in draws}) > 1  # the seed matters
    assert Pairing("random", k=10).slots(record) == Pairing("all").slots(record)
    # The draw depends on the record's content, so every run and resume sees the same.
    contents = [Pairing("random", k=1).slots(_record(4, f"p{i}"))[0] for i in range(12)]
    assert len(set(contents)) > 1
    with pytest.raises(UserError, match="unknown pairing"):
        Pairing("every")  # type: ignore[arg-type]


def test_best_vs_worst_uses_pointwise_scores(tmp_path: Path) -> None:
    judge = Judge(FakeLengthJudge(), cache=False)
    record = Record("p", ("abc", "a", "abcdefg", "ab"), "x:1")
    (pair,) = resolve(judge, [(record, "best-worst")])
    assert isinstance(pair, Pair)
    assert (pair.first, pair.second) == (2, 1)  # longest scored highest, shortest lowest
    assert pair.scores == pytest.approx((3.0, 1.0, 7.0, 2.0), abs=1e-6)


def test_best_vs_worst_scoring_failure_is_a_failure_row(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    report = _run(source, out, FakeLengthJudge(fail_when="bbbbbbbb"), pairing=Pairing("best-worst"))
    failures = _rows(tmp_path / "out.jsonl.failures.jsonl")
    assert report.failures == len(failures) == 4  # records 1..4 contain "bbbbbbbb"
    assert report.rows == 1 and _rows(out)[0]["judge"]["scores"] is not None
    assert {f["reason"] for f in failures} == {"backend_error"}


# Rows ------------------------------------------------------------------------------


def _verdict(prob_a: float, consistent: bool | None = True) -> PairwiseVerdict:
    from judge.verdicts import OrderResult

    orders = (
        OrderResult(shown="AB", label_probs={"A": 0.9, "B": 0.1}, prob_a=0.9, winner="A"),
        OrderResult(shown="BA", label_probs={"A": 0.7, "B": 0.3}, prob_a=0.3, winner="B"),
    )
    return PairwiseVerdict(
        method="logprob",
        model="m",
        template="pairwise",
        rubric="r",
        winner="A" if prob_a > 0.5 else "B",
        prob_a=prob_a,
        consistent=consistent,
        orders=orders,
        swap="both",
    )


def test_row_puts_the_preferred_response_as_chosen_with_metadata() -> None:
    record = Record("p", ("short", "longer one"), "in.jsonl:4", best=1)
    row = preference_row(Pair(record, 0, 1), _verdict(0.3), "k", conversational=False)
    assert (row["prompt"], row["chosen"], row["rejected"]) == ("p", "longer one", "short")
    assert (row["chosen_index"], row["rejected_index"], row["gold"]) == (1, 0, "chosen")
    meta = row["judge"]
    assert meta["p_chosen"] == pytest.approx(0.7) and meta["margin"] == pytest.approx(0.4)
    assert (meta["method"], meta["rubric"], meta["model"], meta["swap"]) == (
        "logprob",
        "r",
        "m",
        "both",
    )
    # Orders are relabelled: the first order showed A (= rejected) first.
    assert [o["first"] for o in meta["orders"]] == ["rejected", "chosen"]
    assert [o["p_chosen"] for o in meta["orders"]] == [pytest.approx(0.1), pytest.approx(0.7)]


def test_conversational_rows_are_message_lists() -> None:
    record = Record("p", ("a", "b"), "x:1")
    row = preference_row(Pair(record, 0, 1), _verdict(0.8), "k", conversational=True)
    assert row["prompt"] == [{"role": "user", "content": "p"}]
    assert row["chosen"] == [{"role": "assistant", "content": "a"}]
    assert row["rejected"] == [{"role": "assistant", "content": "b"}]


def test_relabelled_row_gives_the_same_preference_stats() -> None:
    verdict = _verdict(0.3)
    row = preference_row(
        Pair(Record("p", ("xx", "y"), "x:1", best=0), 0, 1), verdict, "k", conversational=False
    )
    original = preference_stats([verdict], lengths=[(2, 1)], gold=["A"])
    assert (row["chosen"], row["gold"]) == ("y", "rejected")
    relabelled = preference_stats([verdict_of(row)], lengths=[(1, 2)], gold=["B"])
    for name, value in to_jsonable(original).items():
        assert to_jsonable(relabelled)[name] == pytest.approx(value), name


# Filters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        (Filters(drop_ties=True), "tie"),
        (Filters(drop_inconsistent=True), "position_inconsistent"),
        (Filters(min_margin=0.5), "below_min_margin"),
        (Filters(min_margin=0.1), None),
        (Filters(), None),
    ],
)
def test_filters_say_why(filters: Filters, reason: str | None) -> None:
    row = {"judge": {"tie": reason == "tie", "consistent": False, "margin": 0.2}}
    assert filters.reason(row) == reason
    with pytest.raises(UserError, match="between 0 and 1"):
        Filters(min_margin=1.5)


def test_dropped_rows_go_to_a_side_file_with_the_reason(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    report = _run(source, out, FakeLengthJudge(), filters=Filters(min_margin=0.2))
    dropped = _rows(tmp_path / "out.jsonl.dropped.jsonl")
    assert report.rows + sum(report.dropped.values()) == report.pairs == 15
    assert dropped and all(d["dropped"] == "below_min_margin" for d in dropped)
    assert all(r["judge"]["margin"] >= 0.2 for r in _rows(out))
    assert all(d["judge"]["margin"] < 0.2 for d in dropped)


# The job ---------------------------------------------------------------------------


def test_job_writes_one_row_per_pair_and_reports(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    seen: list[tuple[int, int]] = []
    report = _run(source, out, FakeLengthJudge(), progress=lambda d, t: seen.append((d, t)))
    rows = _rows(out)
    assert len(rows) == report.rows == report.pairs == 15  # 5 records x 3 pairs
    assert len({r["key"] for r in rows}) == 15
    assert seen[0] == (0, 15) and seen[-1] == (15, 15)
    # The fake prefers the longer response: the report must show it.
    # P(longer) is 0.8 shown first and 0.7 shown second, so both orders agree; the
    # pair of equal lengths ("aa" vs "cc") gets 0.5 in both orders.
    assert report.stats.p_longer == pytest.approx(0.75)
    assert report.stats.consistency == 1.0
    assert report.stats.p_first is not None and report.stats.p_first > 0.5
    assert report.stats.accuracy is not None  # gold labels were given
    on_disk = json.loads((tmp_path / "out.jsonl.report.json").read_text())
    assert on_disk["rows"] == 15 and on_disk["stats"]["p_longer"] == pytest.approx(0.75)


def test_failed_judgments_are_side_rows_and_the_job_goes_on(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    report = _run(source, out, FakeLengthJudge(fail_when="question 2"))
    failures = _rows(tmp_path / "out.jsonl.failures.jsonl")
    assert report.failures == len(failures) == 3  # the three pairs of record 2
    assert {f["source"] for f in failures} == {"in.jsonl:3"}
    assert all(f["reason"] == "backend_error" and f["retryable"] for f in failures)
    assert report.rows == 12 and report.stats.failure_reasons == {"backend_error": 3}
    # A rerun does not retry them unless asked; with retry they succeed once the
    # backend works.
    assert _run(source, out, FakeLengthJudge()).failures == 3
    retried = _run(source, out, FakeLengthJudge(), retry_failures=True)
    assert (retried.failures, retried.rows, retried.judged) == (0, 15, 3)


def test_backend_raising_for_a_whole_chunk_fails_only_that_chunk(
    source: Path, tmp_path: Path
) -> None:
    class FakeRefusingBackend(FakeLengthJudge):
        def score_labels(self, requests: Sequence[LabelRequest]) -> Any:
            if any("question 0" in r.messages[-1]["content"] for r in requests):
                raise BackendError("server down", retryable=True)
            return super().score_labels(requests)

    report = _run(source, tmp_path / "out.jsonl", FakeRefusingBackend(), chunk_size=3)
    assert report.failures == 3 and report.rows == 12


def test_crash_midway_then_rerun_finishes_only_what_is_missing(
    source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError, match="killed"):
        _run(source, out, FakeLengthJudge(stop_after=2), chunk_size=2, swap="none")
    before = out.read_text()
    assert len(before.splitlines()) == 4  # two chunks of two pairs made it to disk
    with out.open("a") as handle:  # and the kill tore the next line
        handle.write('{"prompt": "question 2", "cho')
    fake = FakeLengthJudge()
    report = _run(source, out, fake, chunk_size=2, swap="none")
    rows = _rows(out)
    assert out.read_text().startswith(before)  # finished rows kept as they were
    assert len(rows) == 15 and len({r["key"] for r in rows}) == 15
    assert (report.resumed, report.judged) == (4, 11)
    assert fake.pairwise_requests == 11  # only the missing pairs were judged
    again = _run(source, out, FakeLengthJudge(), chunk_size=2, swap="none")
    assert (again.judged, again.rows) == (0, 15) and _rows(out) == rows


def test_other_settings_are_refused_unless_overwrite(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    _run(source, out, FakeLengthJudge(), pairing=Pairing("adjacent"))
    with pytest.raises(UserError, match=r"other settings \(differs in: pairing\).*--overwrite"):
        _run(source, out, FakeLengthJudge(), pairing=Pairing("all"))
    report = _run(source, out, FakeLengthJudge(), pairing=Pairing("all"), overwrite=True)
    assert report.rows == 15 and len(_rows(out)) == 15
    foreign = _write(tmp_path / "mine.jsonl", [{"x": 1}])
    with pytest.raises(UserError, match="not an annotation job's output"):
        _run(source, foreign, FakeLengthJudge())


def test_repeated_records_get_rows_of_their_own_from_the_cache(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", [ROWS[0], ROWS[1], ROWS[0]])
    fake = FakeLengthJudge()
    report = _run(source, tmp_path / "out.jsonl", fake, chunk_size=10)
    rows = _rows(tmp_path / "out.jsonl")
    assert report.pairs == report.rows == len({r["key"] for r in rows}) == 9
    assert fake.pairwise_requests == 12  # 6 distinct pairs x 2 orders; the copy is cached
    assert _run(source, tmp_path / "out.jsonl", FakeLengthJudge()).judged == 0


def test_parquet_output_is_written_at_the_end(source: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "out.parquet"
    report = _run(source, out, FakeLengthJudge(fail_when="question 4"), conversational=True)
    table = pq.read_table(out)
    assert table.num_rows == report.rows == 12
    row = table.slice(0, 1).to_pylist()[0]
    assert row["prompt"] == [{"role": "user", "content": "question 0"}]
    assert {"chosen", "rejected", "key", "judge", "gold"} <= set(table.column_names)
    assert len(_rows(tmp_path / "out.parquet.rows.jsonl")) == 12  # the resume ledger
    assert _run(source, out, FakeLengthJudge(), conversational=True).judged == 0


def test_source_object_and_missing_gold(tmp_path: Path) -> None:
    rows = [{"prompt": "p", "candidates": ["a", "bb"]}]
    source = Source(_write(tmp_path / "in.jsonl", rows), Fields(gold="best"))
    report = annotate(source, tmp_path / "out.jsonl", judge=Judge(FakeLengthJudge(), cache=False))
    assert report.rows == 1 and report.stats.accuracy is None
    assert _rows(tmp_path / "out.jsonl")[0]["gold"] is None


def test_row_has_the_reward_trainer_margin_in_reward_units() -> None:
    record = Record("p", ("a", "b"), "in.jsonl:1")
    row = preference_row(Pair(record, 0, 1), _verdict(0.8), "k", conversational=False)
    assert row["margin"] == pytest.approx(math.log(0.8 / 0.2))
    assert row["judge"]["margin"] == pytest.approx(0.6)  # the judge metadata is kept
    tie = preference_row(Pair(record, 0, 1), _verdict(0.5), "k", conversational=False)
    assert tie["margin"] == 0.0
    # TRL's own RewardTrainer collator carries the column into the loss's inputs.
    from trl.trainer.reward_trainer import DataCollatorForPreference

    batch = DataCollatorForPreference(pad_token_id=0)(
        [{"chosen_ids": [1, 2], "rejected_ids": [3], "margin": row["margin"]}]
    )
    assert batch["margin"].tolist() == [pytest.approx(row["margin"])]
