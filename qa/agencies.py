"""The agency directory: every unit named in the documents, with full Chinese and English names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "agencies.json"


@dataclass(frozen=True)
class Agency:
    name: str  # as printed most often in 责任单位 lists
    aliases: tuple[str, ...]
    full_name: str
    english_name: str
    kind: str
    sources: tuple[tuple[str, str], ...]  # (field, source) e.g. ("full_name", "document:004")

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases, self.full_name)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "full_name": self.full_name,
            "english_name": self.english_name,
            "kind": self.kind,
            "sources": dict(self.sources),
        }


def english_variants(english: str) -> list[str]:
    """'Shanghai Municipal Civil Affairs Bureau' is also asked about as 'Civil Affairs Bureau'."""
    out = [english]
    short = re.sub(r"^(?:the\s+)?shanghai\s+(?:municipal\s+)?", "", english, flags=re.I)
    if short != english and len(short) >= 8:
        out.append(short)
    return out


def _key(name: str) -> str:
    return re.sub(r"[\s()（）]+", "", name).lower()


class AgencyDirectory:
    def __init__(self, agencies: list[Agency]) -> None:
        self.agencies = agencies
        self._index: dict[str, Agency] = {}
        for a in agencies:
            for n in (*a.names, *english_variants(a.english_name)):
                self._index.setdefault(_key(n), a)
        # what find_in looks for, longest first: the same for every question, so listed once, not per question
        # (it was a fifth of a lexical /v1/ask's CPU)
        self._findable: list[tuple[str, int, Agency]] = [
            (n.lower(), len(n), a)
            for n, a in sorted(
                ((n, a) for a in agencies for n in (*a.names, *english_variants(a.english_name)) if n and len(n) >= 3),
                key=lambda x: -len(x[0]),
            )
        ]

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> "AgencyDirectory":
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            [
                Agency(
                    name=d["name"],
                    aliases=tuple(d.get("aliases", ())),
                    full_name=d.get("full_name") or d["name"],
                    english_name=d.get("english_name") or "",
                    kind=d.get("kind", "other"),
                    sources=tuple(sorted(d.get("sources", {}).items())),
                )
                for d in raw
            ]
        )

    def resolve(self, name: str) -> Agency | None:
        """Printed name, alias, full Chinese name or English name (any case) → the one entry."""
        return self._index.get(_key(name))

    def canonical(self, printed: str) -> str:
        a = self.resolve(printed)
        return a.name if a else printed

    def with_printed(self, names) -> "AgencyDirectory":
        """This directory plus an entry, as printed, for every name it cannot resolve: a document added by a user
        may name units the curated data does not know (kind "other", full and English names left to curation)."""
        extra: list[Agency] = []
        seen: set[str] = set()
        for n in names:
            if not n or self.resolve(n) is not None or _key(n) in seen:
                continue
            seen.add(_key(n))
            extra.append(Agency(name=n, aliases=(), full_name=n, english_name="", kind="other", sources=(("name", "printed"),)))
        return AgencyDirectory(self.agencies + extra) if extra else self

    def find_in(self, text: str) -> list[Agency]:
        """Agencies named in a free-text question, longest names first, each once."""
        found: list[Agency] = []
        low = text.lower()
        taken: list[tuple[int, int]] = []
        for n, size, a in self._findable:
            i = low.find(n)
            if i < 0 or any(s < i + size and i < e for s, e in taken):
                continue
            taken.append((i, i + size))
            if a not in found:
                found.append(a)
        return found
