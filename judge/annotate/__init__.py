"""RLAIF preference data: judge candidate completions pairwise into TRL preference rows.

`annotate` streams an input (JSONL, Parquet or a saved `datasets` directory), pairs each
prompt's candidates, judges every pair with a `Judge`, and writes ``prompt`` /
``chosen`` / ``rejected`` rows with the judge's metadata. It resumes after a kill, keeps
failed judgments in a side file, and can run on Ray Data (`RayOptions`).
"""

from judge.annotate.filters import Filters
from judge.annotate.job import annotate
from judge.annotate.pairing import Pairing
from judge.annotate.ray_job import RayOptions
from judge.annotate.report import AnnotationReport
from judge.annotate.sources import Fields, Record, Source

__all__ = [
    "AnnotationReport",
    "Fields",
    "Filters",
    "Pairing",
    "RayOptions",
    "Record",
    "Source",
    "annotate",
]
