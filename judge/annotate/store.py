"""Where a job's results live, and how a killed job picks up where it stopped.

Files next to the output ``OUT``:

- ``OUT`` — the preference rows (JSONL output), or, for a ``.parquet`` output, the
  final Parquet file written when the job finishes from ``OUT.rows.jsonl``, which
  holds the rows while the job runs (and stays, as the resume ledger);
- ``OUT.dropped.jsonl`` — rows removed by a filter, each with its ``dropped`` reason;
- ``OUT.failures.jsonl`` — pairs without a verdict, with the reason;
- ``OUT.job.json`` — the job's settings and their fingerprint;
- ``OUT.report.json`` — the job report.

Every row carries a key. Each chunk is appended, flushed and fsynced before the next
one is judged. On start, a torn last line (the process died mid-write) is cut off,
and every key already in a file is skipped: a rerun finishes only what is missing,
without duplicates. Settings that differ from ``OUT.job.json`` are refused unless the
caller asks to overwrite.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from judge.errors import InputError, MissingDependencyError, UserError
from judge.paths import install_command

Kind = Literal["rows", "dropped", "failures"]
KINDS: tuple[Kind, ...] = ("rows", "dropped", "failures")
PARQUET_SUFFIXES = (".parquet", ".pq")


class OutputStore:
    """The output files of one job, with the keys already done.

    Args:
        output: the output path; ``.parquet``/``.pq`` for Parquet, anything else JSONL.
        config: the job's settings; their fingerprint must match an existing job's.
        fingerprint: hash of ``config``.
        overwrite: delete an existing job's files instead of resuming it.
        retry_failures: judge again the pairs listed in the failures file.

    Raises:
        UserError: the output belongs to a job with other settings, or exists without
            a job file (so it is not a job's output) and ``overwrite`` is False.
    """

    def __init__(
        self,
        output: str | Path,
        config: dict[str, Any],
        fingerprint: str,
        *,
        overwrite: bool = False,
        retry_failures: bool = False,
    ) -> None:
        self.output = Path(output)
        self.parquet = self.output.suffix in PARQUET_SUFFIXES
        if self.parquet and importlib.util.find_spec("pyarrow") is None:
            raise _no_pyarrow()  # before any judging, not after the last pair
        rows = self._side("rows.jsonl") if self.parquet else self.output
        self.paths: dict[Kind, Path] = {
            "rows": rows,
            "dropped": self._side("dropped.jsonl"),
            "failures": self._side("failures.jsonl"),
        }
        self.job_path = self._side("job.json")
        self.report_path = self._side("report.json")
        self.fingerprint = fingerprint
        if overwrite:
            self._remove()
        self._claim(config)
        if retry_failures:
            self.paths["failures"].unlink(missing_ok=True)
        self.done: set[str] = set()
        for kind in KINDS:
            _cut_torn_line(self.paths[kind])
            self.done.update(row["key"] for row in self.read(kind))
        self.resumed = len(self.done)
        self._handles: dict[Kind, IO[str]] = {}

    def _side(self, suffix: str) -> Path:
        return self.output.with_name(f"{self.output.name}.{suffix}")

    def _remove(self) -> None:
        for path in (*self.paths.values(), self.job_path, self.report_path, self.output):
            path.unlink(missing_ok=True)

    def _claim(self, config: dict[str, Any]) -> None:
        """Write the job file, or check that an existing one has the same settings."""
        if self.job_path.exists():
            existing = json.loads(self.job_path.read_text(encoding="utf-8"))
            if existing.get("fingerprint") != self.fingerprint:
                changed = sorted(
                    k
                    for k in {**existing.get("config", {}), **config}
                    if existing.get("config", {}).get(k) != config.get(k)
                )
                raise UserError(
                    f"{self.output} was written by a job with other settings "
                    f"(differs in: {', '.join(changed) or 'fingerprint'}); rerun "
                    "with the same settings to resume, or pass --overwrite "
                    "(overwrite=True) to start again"
                )
            return
        taken = [p for p in (self.output, *self.paths.values()) if p.exists()]
        if taken:
            raise UserError(
                f"{taken[0]} exists but is not an annotation job's output (no "
                f"{self.job_path.name}); choose another output or pass --overwrite"
            )
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.job_path.write_text(
            json.dumps(
                {"fingerprint": self.fingerprint, "config": config}, indent=2, ensure_ascii=False
            ),
            encoding="utf-8",
        )

    def read(self, kind: Kind) -> Iterator[dict[str, Any]]:
        """Every row of one file, streamed; a corrupt line is an error naming it."""
        path = self.paths[kind]
        if not path.exists():
            return
        with path.open("r", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(
                        f"corrupt job output ({exc.msg}); delete the line or pass --overwrite",
                        path=str(path),
                        line=number,
                    ) from exc

    def append(self, rows: list[tuple[Kind, dict[str, Any]]]) -> int:
        """Append rows whose key is not done yet; flush and fsync. Returns how many."""
        written: dict[Kind, int] = {}
        for kind, row in rows:
            if row["key"] in self.done:
                continue
            self._handle(kind).write(json.dumps(row, ensure_ascii=False) + "\n")
            self.done.add(row["key"])
            written[kind] = written.get(kind, 0) + 1
        for kind in written:
            handle = self._handles[kind]
            handle.flush()
            os.fsync(handle.fileno())
        return sum(written.values())

    def _handle(self, kind: Kind) -> IO[str]:
        if kind not in self._handles:
            self._handles[kind] = self.paths[kind].open("a", encoding="utf-8")
        return self._handles[kind]

    def close(self) -> None:
        """Close the files (everything appended is already on disk)."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def finish(self) -> None:
        """After the last chunk: for a Parquet output, write it from the rows ledger."""
        if self.parquet:
            write_parquet(self.paths["rows"], self.output)


def _cut_torn_line(path: Path) -> None:
    """Truncate ``path`` after its last newline: a line without one was cut by a kill."""
    if not path.exists():
        return
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        position = size
        while position > 0:
            step = min(4096, position)
            handle.seek(position - step)
            block = handle.read(step)
            newline = block.rfind(b"\n")
            if newline >= 0:
                end = position - step + newline + 1
                break
            position -= step
        else:
            end = 0
        if end != size:
            handle.truncate(end)


def _no_pyarrow() -> MissingDependencyError:
    return MissingDependencyError("pyarrow", install_command("data"), "writing Parquet output")


def write_parquet(rows: Path, output: Path, chunk: int = 1024) -> None:
    """Write the JSONL ``rows`` as a Parquet file, chunk by chunk.

    ``output`` is replaced atomically; nothing is written when there are no rows. One
    schema is unified over every chunk first (a column that is null in one chunk and
    a number in another gets the number's type).
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise _no_pyarrow() from exc

    def chunks() -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        with rows.open("r", encoding="utf-8") as handle:
            for line in handle:
                batch.append(json.loads(line))
                if len(batch) == chunk:
                    yield batch
                    batch = []
        if batch:
            yield batch

    if not rows.exists() or rows.stat().st_size == 0:
        return  # nothing kept: no schema to write; the report says 0 rows
    schema = pa.unify_schemas(
        [pa.Table.from_pylist(b).schema for b in chunks()], promote_options="permissive"
    )
    partial = output.with_name(output.name + ".partial")
    with pq.ParquetWriter(partial, schema) as writer:
        for batch in chunks():
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    os.replace(partial, output)
