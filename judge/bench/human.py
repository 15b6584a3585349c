"""Human-labelled pairs: several annotators per pair, ties allowed; agreement with people.

Two layouts:

* ``mt-bench-human``: the MT-Bench human judgments as published (Hugging Face
  ``lmsys/mt_bench_human_judgments``, one vote per record: ``question_id``,
  ``model_a``, ``model_b``, ``winner`` ``model_a``/``model_b``/``tie``…, ``judge``,
  ``turn``, ``conversation_a``, ``conversation_b``). Votes are grouped by question,
  model pair (in name order, the vote flipped where the record has them the other way
  round) and turn, and only expert votes (``judge`` ``expert_*``) count as human, as in
  FastChat's ``fastchat/llm_judge/compute_agreement.py``; other votes (authors, GPT-4)
  are skipped and counted. Turn 2 shows both turns' questions as the prompt and both
  turns' answers as each response.
* ``human``: ``prompt``, ``response_a``, ``response_b``, ``labels`` (a list of ``A``,
  ``B`` or ``tie``, one per annotator) and optional ``id``, ``subset``.

Agreement follows ``compute_agreement.py``: judge–human agreement counts every
(judge verdict, human vote) pair of a pair, "with ties" as given and "without ties"
leaving out pairs where either side says tie; human–human agreement counts every two
votes on the same pair. Cohen's kappa is computed over the same vote pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from judge.bench.data import Fields
from judge.metrics import cohen_kappa

VOTES = ("A", "B", "tie")
_MT_VOTE = {"model_a": "A", "model_b": "B"}
_FLIP = {"A": "B", "B": "A", "tie": "tie"}


@dataclass(frozen=True)
class HumanPair:
    """Two responses to one prompt and the annotators' votes between them.

    Attributes:
        id: the pair's identity.
        subset: e.g. ``turn 1`` / ``turn 2`` for MT-Bench.
        prompt: the prompt shown to the judge.
        response_a: response A.
        response_b: response B.
        votes: one per annotator: ``"A"``, ``"B"`` or ``"tie"``.
    """

    id: str
    subset: str
    prompt: str
    response_a: str
    response_b: str
    votes: tuple[str, ...]
    protocol: str = "human"
    completions: int = 2

    @property
    def soft_label(self) -> float:
        """Share of votes for A, ties counted half: the outcome calibration is checked on."""
        return sum({"A": 1.0, "tie": 0.5, "B": 0.0}[v] for v in self.votes) / len(self.votes)


def human_pairs(rows: Iterable[tuple[int, dict[str, Any]]], path: Path) -> list[HumanPair]:
    """Pairs of the ``human`` layout."""
    pairs = []
    for where, record in rows:
        fields = Fields(record, path, where)
        fields.require("prompt", "response_a", "response_b", "labels")
        labels = record["labels"]
        if not isinstance(labels, list) or not labels or any(v not in VOTES for v in labels):
            raise fields.bad(
                f"field 'labels' must be a non-empty list of A, B or tie, got {labels!r}"
            )
        pairs.append(
            HumanPair(
                fields.ident(),
                fields.subset(),
                fields.text("prompt"),
                fields.text("response_a"),
                fields.text("response_b"),
                tuple(labels),
            )
        )
    return pairs


def mt_bench_pairs(
    rows: Iterable[tuple[int, dict[str, Any]]], path: Path
) -> tuple[list[HumanPair], int]:
    """MT-Bench human-judgment pairs, and how many non-expert votes were skipped."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    skipped = 0
    for where, record in rows:
        fields = Fields(record, path, where)
        fields.require(
            "question_id",
            "model_a",
            "model_b",
            "winner",
            "judge",
            "turn",
            "conversation_a",
            "conversation_b",
        )
        if not str(record["judge"]).startswith("expert"):
            skipped += 1
            continue
        vote = _mt_vote(fields)
        flip = str(record["model_a"]) > str(record["model_b"])
        a, b = (
            ("conversation_b", "conversation_a") if flip else ("conversation_a", "conversation_b")
        )
        models = sorted((str(record["model_a"]), str(record["model_b"])))
        key = (record["question_id"], *models, record["turn"])
        group = groups.setdefault(key, {"fields": fields, "a": a, "b": b, "votes": []})
        group["votes"].append(_FLIP[vote] if flip else vote)
    return [_mt_pair(key, g) for key, g in groups.items()], skipped


def _mt_vote(fields: Fields) -> str:
    winner = str(fields.record["winner"])
    if "tie" in winner:  # "tie" and "tie (bothbad)", as compute_agreement.py reads them
        return "tie"
    if winner not in _MT_VOTE:
        raise fields.bad(f"field 'winner' must be model_a, model_b or tie, got {winner!r}")
    return _MT_VOTE[winner]


def _mt_pair(key: tuple[Any, ...], group: dict[str, Any]) -> HumanPair:
    fields: Fields = group["fields"]
    turn = int(key[-1])
    prompt, response_a = _turns(fields, group["a"], turn)
    _, response_b = _turns(fields, group["b"], turn)
    return HumanPair(
        f"{key[0]}:{key[1]}:{key[2]}:turn{turn}",
        f"turn {turn}",
        prompt,
        response_a,
        response_b,
        tuple(group["votes"]),
    )


def _turns(fields: Fields, name: str, turn: int) -> tuple[str, str]:
    messages = fields.record[name]
    if not isinstance(messages, list) or len(messages) < 2 * turn:
        raise fields.bad(f"field {name!r} must list the conversation's messages up to turn {turn}")
    users = [fields.text(name, m.get("content")) for m in messages[: 2 * turn : 2]]
    answers = [fields.text(name, m.get("content")) for m in messages[1 : 2 * turn : 2]]
    if turn == 1:
        return users[0], answers[0]
    label = "\n\n".join
    return (
        label(f"[Turn {k}] {u}" for k, u in enumerate(users, 1)),
        label(f"[Turn {k}] {a}" for k, a in enumerate(answers, 1)),
    )


def agreement(
    judge: Sequence[str], votes: Sequence[Sequence[str]], *, ties: bool
) -> tuple[int, int]:
    """(agreeing, counted) (judge verdict, human vote) pairs, FastChat's way."""
    agree = total = 0
    for verdict, pair_votes in zip(judge, votes, strict=True):
        if not ties and verdict == "tie":
            continue
        for vote in pair_votes:
            if ties or vote != "tie":
                total += 1
                agree += verdict == vote
    return agree, total


def human_human(votes: Sequence[Sequence[str]], *, ties: bool) -> tuple[int, int]:
    """(agreeing, counted) pairs of two human votes on the same pair."""
    agree = total = 0
    for pair_votes in votes:
        for first, second in combinations(pair_votes, 2):
            if ties or (first != "tie" and second != "tie"):
                total += 1
                agree += first == second
    return agree, total


def kappas(judge: Sequence[str], votes: Sequence[Sequence[str]]) -> dict[str, float | None]:
    """Cohen's kappa judge–human and human–human over the vote pairs (ties as a label).

    Human–human pairs are unordered, so each enters in both orders.
    """
    pairs = [(v, h) for v, hs in zip(judge, votes, strict=True) for h in hs]
    people = [(a, b) for hs in votes for a, b in combinations(hs, 2)]
    people += [(b, a) for a, b in people]
    return {
        "kappa": cohen_kappa([p[0] for p in pairs], [p[1] for p in pairs]),
        "human_human_kappa": cohen_kappa([p[0] for p in people], [p[1] for p in people])
        if people
        else None,
    }
