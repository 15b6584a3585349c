"""The annotation job: stream records, pair candidates, judge, filter, write, report.

The job reads the input one record at a time and judges pairs in chunks; each chunk is
written (and fsynced) before the next is judged, so memory stays flat and a killed job
keeps its finished work. A rerun with the same settings skips every pair whose key is
already written. The same chunk function runs locally and inside Ray actors, so both
paths produce the same rows.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from judge.annotate.chunks import Item, Progress, Settings, batched, judge_items
from judge.annotate.filters import Filters
from judge.annotate.pairing import Pairing, key_of
from judge.annotate.report import AnnotationReport, build_report
from judge.annotate.sources import Fields, Record, Source
from judge.annotate.store import OutputStore
from judge.backends.base import Backend
from judge.errors import UserError
from judge.jsonable import to_jsonable
from judge.judge import Judge
from judge.protocols import JudgeLike
from judge.protocols.named import protocol_label

if TYPE_CHECKING:
    from judge.annotate.ray_job import RayOptions

ROW_FORMAT = 1  # bump when the row layout changes: old outputs are then not resumed
_FIRST_FILTERS = ("min_margin", "drop_inconsistent", "drop_ties")  # always in the settings


def judge_identity(judge: Judge) -> dict[str, Any]:
    """Everything about ``judge`` that can change a verdict.

    Backend options are left out: they may hold secrets and do not change verdicts.
    """
    model = judge.model  # a string, a built Backend, or None for the embedded model
    if isinstance(model, Backend):
        name: str = f"{model.name} {json.dumps(model.fingerprint(), sort_keys=True)}"
    else:
        name = model or "embedded"
    settings = judge.config.model_dump(exclude={"batch_size"})
    templates = {
        task: f"{judge.template(task).name}@{judge.template(task).digest[:16]}"
        for task in ("pairwise", "pointwise")
    }
    return {
        "model": name,
        "rubric": f"{judge.rubric.name}@{judge.rubric.digest[:16]}",
        "templates": templates,
        **settings,
    }


def job_config(
    source: Source,
    judge: Judge,
    pairing: Pairing,
    filters: Filters,
    conversational: bool,
    protocol: str = "plain",
    panel: Sequence[Judge] = (),
) -> tuple[dict[str, Any], str]:
    """The job's settings and their fingerprint (what a resumed run must repeat).

    ``protocol`` is the judging protocol as reports name it (``"self-consistency-3"``
    with its samples); a plain job's settings do not name one, so outputs written
    before protocols existed still resume. ``panel`` holds the judges of the panel's
    other rubrics, whose rubrics and templates join the settings.
    """
    config: dict[str, Any] = {
        "format": ROW_FORMAT,
        "source": str(source.path.resolve()),
        "fields": to_jsonable(source.fields),
        "judge": judge_identity(judge),
        "pairing": pairing.describe(),
        "filters": {  # unset filters added since are left out: earlier outputs resume
            k: v for k, v in to_jsonable(filters).items() if v is not None or k in _FIRST_FILTERS
        },
        "conversational": conversational,
    }
    if protocol != "plain":
        config["judging_protocol"] = protocol
    if panel:
        identities = [judge_identity(member) for member in panel]
        config["panel"] = [{k: i[k] for k in ("rubric", "templates")} for i in identities]
    blob = json.dumps(config, sort_keys=True, ensure_ascii=False).encode()
    return config, hashlib.sha256(blob).hexdigest()[:16]


def plan(
    source: Iterable[Record], pairing: Pairing, fingerprint: str, done: set[str]
) -> Iterator[tuple[Item, bool]]:
    """Every pair of the input, with whether it is already done (streamed).

    A record repeated in the input is annotated once per occurrence: its n-th copy's
    keys carry ``#n``, so keys stay unique and the same on every run.
    """
    copies: dict[str, int] = {}
    for record in source:
        digest = record.digest()
        copy = copies.get(digest, 0)
        copies[digest] = copy + 1
        for slot in pairing.slots(record):
            key = key_of(record, f"{slot}#{copy}" if copy else slot, fingerprint)
            yield Item(key, record, slot), key in done


def annotate(
    source: str | Path | Source,
    output: str | Path,
    *,
    judge: Judge | None = None,
    fields: Fields | None = None,
    pairing: Pairing | None = None,
    filters: Filters | None = None,
    conversational: bool = False,
    chunk_size: int = 64,
    overwrite: bool = False,
    retry_failures: bool = False,
    progress: Progress | None = None,
    ray: RayOptions | None = None,
    protocol: str = "plain",
    samples: int = 3,
    panel_rubrics: Sequence[str] = (),
) -> AnnotationReport:
    """Turn prompts with candidate completions into TRL preference rows, judged pairwise.

    Args:
        source: a JSONL file, a Parquet file, a saved `datasets` directory, or a `Source`.
        output: where the rows go: ``.parquet``/``.pq`` for Parquet, else JSONL. Side
            files (failures, dropped rows, job settings, report) sit next to it.
        judge: the `Judge` that decides every pair (default: the embedded model).
        fields: where prompt, candidates and gold labels are (ignored for a `Source`).
        pairing: which candidates to compare (default: all pairs).
        filters: which judged rows to drop (default: keep all).
        conversational: write message lists even when the input is plain text (a
            conversational input always gives conversational rows).
        chunk_size: pairs judged and written per step.
        overwrite: start again instead of resuming an existing output.
        retry_failures: judge again the pairs that failed in an earlier run.
        progress: called as ``progress(done_pairs, total_pairs)``.
        ray: run the judging on Ray Data with these options (see `RayOptions`).
        protocol: how the judge judges every pair (`judge.protocols.with_protocol`):
            ``"plain"``, ``"reason-then-read"``, ``"self-consistency"``,
            ``"commit-first"``, ``"one-order"``, ``"by-scores"``, ``"hybrid"`` or
            ``"split-merge"``; part of the job's settings, so a resumed run must repeat it.
        samples: rationales per order for ``"self-consistency"``.
        panel_rubrics: more shipped rubrics to judge by: every pair is judged by a
            panel of ``judge`` and a judge of each of these rubrics on the same model
            (`judge.protocols.with_protocol`); rows carry the members' readings and
            their ``disagreement``, which ``filters.max_disagreement`` can drop on.
            Part of the job's settings.

    Returns:
        The job report (also written as ``<output>.report.json``).

    Raises:
        UserError: bad input (naming file and line or row), bad settings, or an output
            written by a job with other settings.
    """
    if chunk_size < 1:
        raise UserError(f"chunk size must be at least 1, got {chunk_size}")
    source = source if isinstance(source, Source) else Source(source, fields)
    judge = judge if judge is not None else Judge()
    pairing, filters = pairing or Pairing(), filters or Filters()
    if filters.max_disagreement is not None and not panel_rubrics:
        raise UserError(
            "a maximum disagreement filters a panel's rows: name the panel's other rubrics "
            "(--panel-rubric)"
        )
    settings = Settings(filters, conversational, protocol, samples, tuple(panel_rubrics))
    judging = settings.judging(judge)  # checks protocol and panel before any work, loading nothing
    panel = [judge.with_settings(rubric=rubric) for rubric in panel_rubrics]
    named = protocol_label(protocol, samples=samples)
    config, fingerprint = job_config(source, judge, pairing, filters, conversational, named, panel)
    store = OutputStore(
        output, config, fingerprint, overwrite=overwrite, retry_failures=retry_failures
    )
    started = time.perf_counter()
    total, done = 0, 0
    for _, is_done in plan(source, pairing, fingerprint, store.done):
        total, done = total + 1, done + is_done
    pending = (
        item for item, is_done in plan(source, pairing, fingerprint, store.done) if not is_done
    )
    try:
        if ray is not None:
            from judge.annotate.ray_job import run_on_ray

            judged = run_on_ray(
                pending, store, judge, settings, ray, chunk_size, _counter(progress, done, total)
            )
        else:
            judged = _run_local(
                pending, store, judging, settings, chunk_size, _counter(progress, done, total)
            )
    finally:
        store.close()
    store.finish()
    report = build_report(
        store,
        source=str(source.path),
        planned=total,
        resumed=done,
        judged=judged,
        elapsed=time.perf_counter() - started,
        seed=judge.config.seed,
    )
    store.report_path.write_text(
        json.dumps(to_jsonable(report), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return report


def _counter(progress: Progress | None, done: int, total: int) -> Callable[[float], None]:
    """A callback taking pairs just finished, forwarding running totals to ``progress``."""
    state: list[float] = [done]
    if progress:
        progress(done, total)

    def advance(count: float) -> None:
        state[0] += count
        if progress:
            progress(state[0], total)

    return advance


def _run_local(
    pending: Iterable[Item],
    store: OutputStore,
    judging: JudgeLike,
    settings: Settings,
    chunk_size: int,
    advance: Callable[[float], None],
) -> int:
    judged = 0
    for chunk in batched(pending, chunk_size):
        within, rest = _share(advance, len(chunk))
        store.append(judge_items(judging, chunk, settings, progress=within))
        judged += len(chunk)
        rest()
    return judged


def _share(advance: Callable[[float], None], size: int) -> tuple[Progress, Callable[[], None]]:
    """Spread one chunk's ``size`` pairs over the engine's progress in backend calls.

    Returns the engine's ``progress(done_calls, total_calls)`` callback, and one that
    credits whatever the chunk has not yet reported (once its rows are written).
    """
    credited = [0.0]

    def within(done: float, total: float) -> None:
        # A protocol's total grows when a stage of unknown size starts: never go back.
        now = max(size * done / total if total else 0.0, credited[0])
        advance(now - credited[0])
        credited[0] = now

    def rest() -> None:
        advance(size - credited[0])
        credited[0] = float(size)

    return within, rest
