"""The bias report: how much a judge's verdicts depend on position, length and sampling.

`bias_report` runs a `judge.Judge` over pairwise sets (yours, and the shipped probe
sets from `probe_set`) in every ``swap`` mode; `to_markdown` and `write_figure` render
the result, and `judge.jsonable.to_jsonable` gives its JSON.
"""

from judge.bias.data import PROBES, PairSet, load_pair_set, probe_set
from judge.bias.figure import write_figure
from judge.bias.markdown import to_markdown
from judge.bias.run import SWAP_MODES, BiasReport, bias_report

__all__ = [
    "PROBES",
    "SWAP_MODES",
    "BiasReport",
    "PairSet",
    "bias_report",
    "load_pair_set",
    "probe_set",
    "to_markdown",
    "write_figure",
]
