"""Judging protocols built on a `judge.Judge`, each behind the same batch interface.

- `ReasonThenRead`: a rationale first, then the verdict's label probabilities read;
  ``samples > 1`` is self-consistency (sampled rationales, probabilities averaged).
- `CommitFirst`: the judge answers the prompt itself, then judges with that answer as
  the reference.
- `OneOrder`: one order per pair, the judge's position prior (fitted without labels
  on the first pairs, judged both ways) removed from its log-odds: half the calls.
- `ByScores`: a pair compared by scoring each response alone (no order shown).
- `Hybrid`: the judge's pairwise verdict averaged with its by-scores verdict.
- `SplitMerge`: each pair read as the two responses' parts, interleaved (PORTIA).
- `ByPMI`: the response the prompt explains best, by pointwise mutual information
  (the model read as a language model; no order shown).
- `Panel`: several judges, mean probability, their spread as ``disagreement``.
- `with_protocol`: a judge behind a protocol given by name (the CLI's ``--protocol``).
- `backends_of`: the backends a judge or protocol sends its calls to.

Each sends its calls through the judge's engine (cache, batching, typed failures).
"""

from judge.protocols.base import JudgeLike
from judge.protocols.commit import CommitFirst
from judge.protocols.named import PROTOCOL_NAMES, ProtocolName, backends_of, with_protocol
from judge.protocols.panel import Panel, PanelPairwiseVerdict, PanelPointwiseVerdict
from judge.protocols.pmi import ByPMI
from judge.protocols.prior import OneOrder
from judge.protocols.reason import ReasonThenRead
from judge.protocols.scores import ByScores, Hybrid
from judge.protocols.split import SplitMerge

__all__ = [
    "PROTOCOL_NAMES",
    "ByPMI",
    "ByScores",
    "CommitFirst",
    "Hybrid",
    "JudgeLike",
    "OneOrder",
    "Panel",
    "PanelPairwiseVerdict",
    "PanelPointwiseVerdict",
    "ProtocolName",
    "ReasonThenRead",
    "SplitMerge",
    "backends_of",
    "with_protocol",
]
