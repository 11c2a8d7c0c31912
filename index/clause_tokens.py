"""Every clause's keyword tokens (with its section path and heading), computed by the index build and
persisted with it, so a worker's start-up reads two arrays instead of tokenising every clause again (the
judge's coverage and IDF come from these; at 10k clauses re-tokenising took most of a minute).

Stored as CSR: ``vocab.json`` (token strings), ``indptr.npy`` (clause i owns ``ids[indptr[i]:indptr[i+1]]``)
and ``ids.npy`` (sorted token numbers per clause), clauses in corpus order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .tokenize import JiebaTokenizer, Tokenizer


def clause_index_text(section_path: Iterable[str], heading: str | None, text: str) -> str:
    """What the judge tokenises for a clause: its section path, heading and text."""
    return "\n".join([*section_path, heading or "", text])


class ClauseTokens:
    def __init__(self, clause_ids: list[str], vocab: list[str], indptr: np.ndarray, ids: np.ndarray) -> None:
        if len(indptr) != len(clause_ids) + 1 or int(indptr[-1]) != len(ids):
            raise ValueError(f"clause tokens: {len(indptr)} offsets for {len(clause_ids)} clauses and {len(ids)} tokens")
        self.vocab = vocab
        self.indptr = indptr
        self.ids = ids
        # a clause id printed twice: the later one wins, as in a dict built clause by clause
        self._row = {cid: i for i, cid in enumerate(clause_ids)}

    @classmethod
    def build(cls, clauses, tokenizer: Tokenizer, *, reuse: dict[str, frozenset[str]] | None = None) -> "ClauseTokens":
        """``reuse``: clause id → tokens an earlier build found for the same text (a staged add, index/store.py)."""
        number: dict[str, int] = {}
        rows: list[np.ndarray] = []
        reuse = reuse or {}
        for c in clauses:
            got = reuse.get(c.clause_id)
            toks = set(got) if got is not None else set(tokenizer.tokenize(clause_index_text(c.section_path, c.heading, c.text)))
            rows.append(np.fromiter(sorted(number.setdefault(t, len(number)) for t in toks), dtype=np.int32, count=len(toks)))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=indptr[1:])
        ids = np.concatenate(rows) if rows else np.empty(0, dtype=np.int32)
        return cls([c.clause_id for c in clauses], list(number), indptr, ids)

    @classmethod
    def from_passages(cls, clauses, passages, texts: list[str], table, tokenizer: JiebaTokenizer) -> "ClauseTokens":
        """The same token sets as ``build``, without cutting most clauses again: a clause's tokens are the
        union of its passages' (``table``: the jieba leg's tokens of ``texts``, each passage's index text)
        whenever the clause's text and its passages' are made of the same jieba pieces (``pieces``) — they
        are unless a passage boundary splits a run of CJK characters, or the clause is a heading without
        passages; those are cut as ``build`` cuts them."""
        indptr, leg_ids = table.indptr, table.ids
        extra: dict[str, int] | None = None  # token → number, for tokens only a clause cut here has
        rows: list[np.ndarray] = []
        j, n = 0, len(passages)
        for c in clauses:
            k = j
            if c.kind != "section":  # indexable(): heading-only sections have no passages
                while k < n and passages[k].clause_id == c.clause_id and passages[k].index == k - j:
                    k += 1
            own = clause_index_text(c.section_path, c.heading, c.text)
            if k > j and tokenizer.pieces(own) == set().union(*(tokenizer.pieces(texts[i]) for i in range(j, k))):
                rows.append(np.unique(leg_ids[indptr[j] : indptr[k]]))
            else:
                if extra is None:
                    extra = {t: i for i, t in enumerate(table.vocab)}
                toks = set(tokenizer.tokenize(own))
                rows.append(np.unique(np.fromiter((extra.setdefault(t, len(extra)) for t in toks), dtype=np.int32, count=len(toks))))
            j = k
        vocab = table.vocab if extra is None else list(extra)
        flat = np.concatenate(rows) if rows else np.empty(0, dtype=np.int32)
        used = np.unique(flat)  # the clause vocabulary: tokens some clause has, in the leg's order
        ids = np.searchsorted(used, flat).astype(np.int32)  # renumbered; each row stays sorted
        out = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=out[1:])
        return cls([c.clause_id for c in clauses], [vocab[i] for i in used.tolist()], out, ids)

    def __len__(self) -> int:
        return len(self._row)

    def get(self, clause_id: str, default: frozenset[str] = frozenset()) -> frozenset[str]:
        i = self._row.get(clause_id)
        if i is None:
            return default
        # one slice read as Python ints (the ids may be memory-mapped: indexing it element by element costs
        # a numpy scalar and a memmap wrapper per token, ~580 of them per question judged)
        vocab = self.vocab
        return frozenset([vocab[j] for j in self.ids[int(self.indptr[i]) : int(self.indptr[i + 1])].tolist()])

    def document_frequencies(self) -> dict[str, int]:
        """Token → number of clause rows that contain it."""
        df = np.bincount(self.ids, minlength=len(self.vocab))
        return {t: int(d) for t, d in zip(self.vocab, df.tolist()) if d}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "indptr.npy", self.indptr)
        np.save(folder / "ids.npy", self.ids)

    @classmethod
    def load(cls, folder: Path, clause_ids: list[str]) -> "ClauseTokens":
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        return cls(clause_ids, vocab, np.load(folder / "indptr.npy"), np.load(folder / "ids.npy", mmap_mode="r"))
