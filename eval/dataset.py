"""The hand-labelled question set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

TYPES = ("agency", "support", "fact", "general", "multi", "unanswerable", "procedure")
INTENTS = ("agency", "support", "fact", "general")
# Labels a question's writer may give that the service has no intent for: blind batch 20's writer was offered
# 'procedure' (how to apply). Such questions load and are measured on everything else; intent accuracy leaves
# them out and says how many it left out (eval/answers.py).
OTHER_INTENTS = ("procedure",)
SPLITS = ("dev", "test", "blind")  # blind: batches run once, after the last change, reported apart
LANGS = ("zh", "en")
DEFAULT_PATH = Path(__file__).resolve().parent / "questions.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    lang: str
    type: str
    intent: str
    persona: str
    answerable: bool
    gold: tuple[str, ...]
    gold_agencies: tuple[str, ...]
    split: str
    note: str = ""


def load_questions(path: Path = DEFAULT_PATH, split: str = "all") -> list[Question]:
    if split not in (*SPLITS, "all"):
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}, all")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            q = Question(
                id=d["id"],
                question=d["question"],
                lang=d["lang"],
                type=d["type"],
                intent=d["intent"],
                persona=d.get("persona", ""),
                answerable=bool(d["answerable"]),
                gold=tuple(d["gold"]),
                gold_agencies=tuple(d.get("gold_agencies", [])),
                split=d["split"],
                note=d.get("note", ""),
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}:{n}: bad question record ({exc})") from None
        for field, allowed in (("type", TYPES), ("intent", INTENTS + OTHER_INTENTS), ("split", SPLITS), ("lang", LANGS)):
            if getattr(q, field) not in allowed:
                raise ValueError(f"{path}:{n}: {field} {getattr(q, field)!r} not one of {', '.join(allowed)}")
        if split == "all" or q.split == split:
            out.append(q)
    return out
