"""Split long clauses into passages small enough to embed, along Chinese sentence boundaries."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import overload

import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from .records import Clause, Passage

# Sentence ends first (。 and the ASCII '.' the conversion of 001/002 left), then clause breaks.
SENTENCE_SEPARATORS = ["\n", "。", ".", "！", "？", "；", ";", "，", ",", "、", ""]
DEFAULT_MAX_CHARS = 400


def make_splitter(max_chars: int = DEFAULT_MAX_CHARS) -> RecursiveCharacterTextSplitter:
    if max_chars < 50:
        raise ValueError(f"max_chars must be at least 50, got {max_chars}")
    return RecursiveCharacterTextSplitter(
        separators=SENTENCE_SEPARATORS,
        chunk_size=max_chars,
        chunk_overlap=0,
        keep_separator="end",
        strip_whitespace=False,
        length_function=len,
    )


def split_clause(clause: Clause, splitter: RecursiveCharacterTextSplitter) -> list[Passage]:
    """Passages that together cover the clause text exactly, each with its own source span."""
    pieces = [clause.text] if len(clause.text) <= splitter._chunk_size else splitter.split_text(clause.text)
    passages: list[Passage] = []
    pos = 0
    for piece in pieces:
        start = clause.text.index(piece, pos)
        end = start + len(piece)
        pos = end
        if not piece.strip():
            continue
        passages.append(
            Passage(
                passage_id=f"{clause.clause_id}#{len(passages)}",
                clause_id=clause.clause_id,
                doc_id=clause.doc_id,
                index=len(passages),
                text=piece,
                section_path=clause.section_path,
                heading=clause.heading,
                agencies=clause.agencies,
                span=clause.source_span(start, end),
                text_start=start,
            )
        )
    return passages


def split_passages(clauses: list[Clause] | tuple[Clause, ...], max_chars: int = DEFAULT_MAX_CHARS) -> list[Passage]:
    splitter = make_splitter(max_chars)
    return [p for c in clauses for p in split_clause(c, splitter)]


class PassageTable(Sequence[Passage]):
    """The passages of a persisted index, rebuilt from their clauses and character ranges instead of by
    splitting every clause again at start-up. A passage record is made when it is asked for (a hit);
    ``clause_ids`` gives what a searcher needs per position without making any."""

    def __init__(self, clauses: Sequence[Clause], clause_ids: Sequence[str], index: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        n = len(clause_ids)
        if not len(clauses) == len(index) == len(start) == len(end) == n:
            raise ValueError(f"passage table: {len(clauses)} clauses, {n} ids, {len(index)}/{len(start)}/{len(end)} ranges")
        self._clauses = clauses
        self.clause_ids = clause_ids
        self._index, self._start, self._end = index, start, end

    @classmethod
    def of(cls, by_id: Callable[[str], Clause | None], passage_ids: Sequence[str], start: np.ndarray, end: np.ndarray) -> "PassageTable":
        """Passages named ``<clause id>#<n>`` over the clauses ``by_id`` finds, each ``text[start:end]`` of
        its clause; ``ValueError`` names the first that does not fit (a clause missing, a range outside it)."""
        clause_ids, index, clauses = [], np.empty(len(passage_ids), dtype=np.int32), []
        start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
        if len(start) != len(passage_ids) or len(end) != len(passage_ids):
            raise ValueError(f"passage table: {len(passage_ids)} ids for {len(start)}/{len(end)} ranges")
        lengths = np.empty(len(passage_ids), dtype=np.int64)
        for i, pid in enumerate(passage_ids):
            cid, sep, k = pid.rpartition("#")
            clause = by_id(cid) if sep and k.isdigit() else None
            if clause is None:
                raise ValueError(f"passage {pid!r} names no clause of the corpus")
            clause_ids.append(cid)
            clauses.append(clause)
            index[i] = int(k)
            lengths[i] = len(clause.text)
        bad = np.flatnonzero((start < 0) | (end <= start) | (end > lengths))
        if len(bad):
            i = int(bad[0])
            raise ValueError(f"passage {passage_ids[i]!r}: range {int(start[i])}..{int(end[i])} outside its clause")
        return cls(clauses, clause_ids, index, start.astype(np.int32), end.astype(np.int32))

    @staticmethod
    def ranges(passages: Sequence[Passage]) -> tuple[np.ndarray, np.ndarray]:
        """Each passage's character range within its clause text, as two arrays (what ``of`` reads back)."""
        if isinstance(passages, PassageTable):
            return passages._start, passages._end
        start = np.fromiter((p.text_start for p in passages), dtype=np.int32, count=len(passages))
        end = np.fromiter((p.text_start + len(p.text) for p in passages), dtype=np.int32, count=len(passages))
        return start, end

    def __len__(self) -> int:
        return len(self.clause_ids)

    @overload
    def __getitem__(self, i: int) -> Passage: ...
    @overload
    def __getitem__(self, i: slice) -> list[Passage]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        c, k, s, e = self._clauses[i], int(self._index[i]), int(self._start[i]), int(self._end[i])
        return Passage(
            passage_id=f"{c.clause_id}#{k}", clause_id=c.clause_id, doc_id=c.doc_id, index=k, text=c.text[s:e],
            section_path=c.section_path, heading=c.heading, agencies=c.agencies, span=c.source_span(s, e), text_start=s,
        )

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self)))

    def clause_of(self, i: int) -> Clause:
        return self._clauses[i]
