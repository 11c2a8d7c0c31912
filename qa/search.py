"""Hybrid search: keyword legs and a dense leg fused by reciprocal rank, results merged per clause."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from policyqa.corpus import Clause, Corpus, Passage, PassageTable
from policyqa.index.clause_tokens import clause_index_text
from policyqa.index.store import IndexBundle

from .analysis import QueryEncoder, normalise
from .status import document_status
from .translate import QueryTranslator, Translation, confirmed, is_english

if TYPE_CHECKING:
    from .analysis import AnalysedQuestion

log = logging.getLogger(__name__)

MODES = ("auto", "hybrid", "lexical", "dense")
# the filter masks a searcher keeps (the least recently used go first): at most this many bytes of them —
# a mask is a byte per passage — and never more than _MASKS_KEPT
_MASK_CACHE_BYTES = 32 << 20
_MASKS_KEPT = 256
# a document filter sets its runs of passages one slice each while they are fewer than one per this many
# passages (a slice costs Python about what reading that many passages' document numbers does); beyond,
# one pass over every passage's document number is cheaper
_PASSAGES_PER_SLICE = 1000


def parse_mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in MODES:
        raise ValueError(f"unknown mode {value!r}; choose one of {', '.join(MODES)}")
    return mode


# An English question's confirmed Chinese renderings, searched by the dense leg as a second query (only English
# questions with a translation have it; weight 0 or absent = not run). The weight was chosen on dev English
# questions among 0.25, 0.5, 1, 1.5 (0.5: best hit@1 and MRR@10, hit@5 unchanged).
TRANSLATED_LEG = "dense-translation"


@dataclass(frozen=True)
class FusionConfig:
    """Reciprocal rank fusion: score = Σ weight_leg / (k + rank_leg). Tuned on the dev half only."""

    # Chosen on the dev half with the bundled multilingual-e5-small and sentence vectors
    # (scripts/tune_fusion.py): one configuration for both languages, best hit@5 + MRR@10 over all dev
    # questions. The dense leg weighs as much as both keyword legs together; k=10 rewards top ranks.
    k: int = 10
    weights: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"bm25-jieba": 0.5, "bm25-bigram": 1.0, "dense": 1.5, TRANSLATED_LEG: 0.5}
        )
    )
    depth: int = 60  # passages each leg contributes (at least 3 × top_k)
    # an English question's dictionary renderings are kept where the dense leg's best clauses print them
    # (qa/translate.py `confirmed`); 0 = every rendering, as in lexical mode
    confirm_depth: int = 10
    # English questions: every leg weighs the same. Across languages the model's similarities are compressed
    # (best cosines of answerable and unanswerable English questions differ by 0.01), so its rank order is no
    # surer than the keyword legs' reading of the dictionary translation, or than the model reading that
    # translation (Chinese against Chinese). Chosen on the dev half's 299 answerable English questions
    # (`scripts/tune_fusion.py --english`, a grid over k and the four weights): against the weights
    # above, hit@1 0.676 → 0.722, MRR@10 0.774 → 0.795, hit@5 0.910 → 0.903, multi-clause recall@10
    # 0.886 → 0.875, and an agency question's right clause first 0.688 → 0.779. None = the same as Chinese.
    weights_en: Mapping[str, float] | None = field(
        default_factory=lambda: MappingProxyType(
            {"bm25-jieba": 1.0, "bm25-bigram": 1.0, "dense": 1.0, TRANSLATED_LEG: 1.0}
        )
    )

    # English questions in hybrid mode: the fused order of the best `rerank_depth` clauses is refined by the
    # question's cosine to each clause's closest sentence (score + sentence_weight_en × cosine). Fused from
    # ranks, a long clause touching many topics collects partial matches of a dictionary translation's many
    # renderings in every keyword leg and outranks the clause about the one thing asked; its closest
    # sentence is further from the question than that clause's. Chosen on the dev half's 412 answerable
    # English questions among 0.3/0.5/1/2 (and a reciprocal-rank leg of the same cosines, no better): hit@1
    # 0.692 → 0.701, MRR@10 0.777 → 0.784, an agency question's first clause with agencies right 91 → 95 of
    # 111. Chinese questions lost two of those, so they keep the fused order.
    sentence_weight_en: float = 0.3
    rerank_depth: int = 10

    def weights_for(self, english: bool) -> Mapping[str, float]:
        return self.weights_en if english and self.weights_en is not None else self.weights


@dataclass(frozen=True)
class SearchFilters:
    doc_ids: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()  # printed names; a clause matches if it lists any of them
    in_force_on: dt.date | None = None

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.agencies or self.in_force_on)


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float
    passage: Passage  # the best-matching passage of the clause
    ranks: tuple[tuple[str, int], ...]  # (leg, clause rank in that leg)
    # evidence for the answer layer: each leg's raw score of the clause's best passage (BM25 score,
    # dense cosine), and the cosine of the question to the clause's closest passage, computed for every
    # hit whenever the dense leg ran (None in lexical mode)
    leg_scores: tuple[tuple[str, float], ...] = ()
    dense_sim: float | None = None
    sentence_sim: float | None = None  # cosine of the question to the clause's closest sentence


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: str  # the mode actually used: hybrid | lexical | dense
    hits: tuple[Hit, ...]
    notice: str | None = None  # e.g. why the dense leg is not available
    translation: Translation | None = None  # the Chinese terms an English question was searched as
    # how far the dense leg's best passage stands above the mean of its top `depth` (None: the leg did not
    # run): a question the documents answer has one or a few passages clearly closer than the rest
    dense_gap: float | None = None

    @property
    def matched(self) -> str:
        """What a clause's sentences are matched against for the highlight: the question, or the
        Chinese terms an English question was searched as."""
        return self.translation.text if self.translation else self.query


class Searcher:
    """Search over a loaded index. Thread-safe: it holds no per-request state."""

    def __init__(
        self,
        corpus: Corpus,
        bundle: IndexBundle,
        *,
        mode: str = "auto",
        fusion: FusionConfig | None = None,
        dense_unavailable_reason: str | None = None,
        translator: QueryTranslator | None = None,
    ) -> None:
        self.corpus = corpus
        self.bundle = bundle
        self.fusion = fusion or FusionConfig()
        self.default_mode = parse_mode(mode)
        self.dense_unavailable_reason = dense_unavailable_reason or (
            None if bundle.dense else "the index has no dense vectors"
        )
        self.translator = translator
        # per passage position: its clause (the passages of a persisted index are never made for this)
        passages = bundle.passages
        clause_ids = passages.clause_ids if isinstance(passages, PassageTable) else [p.clause_id for p in passages]
        self._clause_of = [corpus.clause(c) for c in clause_ids]
        # a clause's passage positions: positions sorted by clause number, cut where the number changes
        # (arrays, not one small array per clause: start-up and memory grow with the corpus)
        number: dict[str, int] = {}
        of_passage = np.fromiter((number.setdefault(c, len(number)) for c in clause_ids), dtype=np.int64, count=len(clause_ids))
        self._clause_number = number
        self._by_clause = np.argsort(of_passage, kind="stable")
        self._clause_bounds = np.searchsorted(of_passage[self._by_clause], np.arange(len(number) + 1))
        # fusion works on clause numbers: per passage position its clause's number (-1: a clause the corpus
        # does not hold), and per number the clause
        has_clause = np.fromiter((c is not None for c in self._clause_of), dtype=bool, count=len(self._clause_of))
        self._passage_clause = np.where(has_clause, of_passage, -1)
        self._clause_by_number = [self._clause_of[p] for p in self._by_clause[self._clause_bounds[:-1]].tolist()]
        # filters become boolean masks over passage positions, applied inside each leg's search: a
        # document number per passage, and each printed agency's passage positions
        self._documents = [pd.document for pd in corpus.documents]
        self._doc_number = {d.doc_id: i for i, d in enumerate(self._documents)}
        self._passage_doc = np.fromiter(
            (self._doc_number.get(c.doc_id, -1) if c is not None else -1 for c in self._clause_of),
            dtype=np.int32, count=len(self._clause_of),
        )
        # each document's passages as runs of consecutive positions [lo, hi): one run per document in every
        # index this package builds (passages follow the corpus, a staged add included), several wherever
        # an index orders them otherwise; a document filter fills its runs, never looks at every passage
        d = self._passage_doc
        lo = np.flatnonzero(np.concatenate(([True], d[1:] != d[:-1]))) if len(d) else np.zeros(0, dtype=np.int64)
        hi = np.append(lo[1:], len(d))
        by_doc = np.argsort(d[lo], kind="stable")
        self._run_lo, self._run_hi = lo[by_doc], hi[by_doc]
        self._doc_runs = np.searchsorted(d[lo][by_doc], np.arange(len(self._documents) + 1))  # document i: runs [r[i], r[i+1])
        agency_positions: dict[str, list[int]] = {}
        for i, clause in enumerate(self._clause_of):
            for a in clause.agencies if clause is not None else ():
                agency_positions.setdefault(a, []).append(i)
        self._agency_positions = {a: np.asarray(v, dtype=np.int64) for a, v in agency_positions.items()}
        # masks of recent filters (a searcher serves one corpus and index: a new index gets a new searcher)
        self._masks: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._masks_kept = max(1, min(_MASKS_KEPT, _MASK_CACHE_BYTES // max(1, len(self._clause_of))))
        self._masks_lock = threading.Lock()
        self._warned = False
        # clauses none of whose passages has a vector yet (a staged add: index/store.py)
        pending = getattr(bundle.dense, "pending", None)
        self._no_vectors: frozenset[str] = frozenset()
        if pending is not None and len(clause_ids):
            waiting = np.add.reduceat(pending[self._by_clause].astype(np.int64), self._clause_bounds[:-1])
            names = list(number)
            self._no_vectors = frozenset(names[i] for i in np.flatnonzero(waiting == np.diff(self._clause_bounds)))

    @property
    def dense_available(self) -> bool:
        return self.bundle.dense is not None

    def query_encoder(self) -> QueryEncoder | None:
        """The dense leg's encoder, for evidence computed from the question's vector (intent)."""
        dense = self.bundle.dense
        if dense is None:
            return None
        d = dense.encoder.describe()
        return QueryEncoder(f"{d['backend']}|{d['model']}", int(d["dimension"]), dense.encode_query)

    def resolve_mode(self, requested: str | None = None) -> tuple[str, str | None]:
        """The mode to use and, when it differs from what was asked, why."""
        mode = parse_mode(requested) if requested else self.default_mode
        if mode == "auto":
            return ("hybrid", None) if self.dense_available else ("lexical", self._unavailable())
        if mode in ("hybrid", "dense") and not self.dense_available:
            return "lexical", self._unavailable(f"{mode} search was asked for, but ")
        return mode, None

    def _unavailable(self, prefix: str = "") -> str:
        """What a person reading an answer is told: a sentence, never an exception. The technical reason goes to
        the log (once) and stays on ``dense_unavailable_reason`` for operators and the evaluation."""
        if not self._warned:
            log.warning(f"{prefix}dense retrieval is unavailable ({self.dense_unavailable_reason}); using lexical mode")
            self._warned = True
        if prefix:
            return f"{prefix[0].upper()}{prefix[1:]}the language model is not available on this server, so keyword search was used instead."
        return (
            "The language model is not available on this server, so these results come from keyword search only "
            "(questions in English or worded unlike the documents match less well)."
        )

    def legs(self, mode: str) -> list[str]:
        keyword = [b.name for b in self.bundle.keyword.values()]
        if mode == "lexical":
            return keyword
        if mode == "dense":
            return ["dense"]
        return keyword + ["dense"]

    def _leg_results(self, leg: str, query: str, depth: int, qvec=None, where=None, mask=None):
        # filters applied inside the index: ``where`` for backends that take a filter expression (Milvus),
        # ``mask`` (allowed passage positions) for the embedded ones (bm25s, FAISS)
        extra = {"where": where} if where is not None else ({"mask": mask} if mask is not None else {})
        if leg == TRANSLATED_LEG:
            return self.bundle.dense.search(query, depth, **extra)
        if leg == "dense":
            if qvec is None:
                return self.bundle.dense.search(query, depth, **extra)
            return self.bundle.dense.search_vector(qvec, depth, **extra)
        backend = next(b for b in self.bundle.keyword.values() if b.name == leg)
        return backend.search(query, depth, **extra)

    def _filter_in_index(self, filters: SearchFilters, legs: list[str]):
        """The filters as one the index applies (document and agency; a date becomes the documents in
        force then), when every leg's backend takes one (Milvus); else None, and ``mask`` serves."""
        backends = [self.bundle.dense if leg == "dense" else next(b for b in self.bundle.keyword.values() if b.name == leg) for leg in legs]
        if not filters or not all(getattr(b, "filters_in_index", False) for b in backends):
            return None
        from policyqa.index.milvus_store import PassageFilter

        doc_ids = set(filters.doc_ids) if filters.doc_ids else {pd.document.doc_id for pd in self.corpus.documents}
        if filters.in_force_on is not None:
            doc_ids = {d for d in doc_ids if (doc := self.corpus.document(d)) and document_status(doc, filters.in_force_on).current}
        # a document no passage belongs to: a filter that matches nothing, kept as one
        return PassageFilter(tuple(sorted(doc_ids)) or ("",), tuple(filters.agencies))

    def mask(self, filters: SearchFilters) -> np.ndarray | None:
        """The passage positions the filters allow (None: no filter), read-only: the same array serves every
        request with these filters until the searcher is replaced."""
        if not filters:
            return None
        key = (frozenset(filters.doc_ids), frozenset(filters.agencies), filters.in_force_on)
        with self._masks_lock:
            allowed = self._masks.get(key)
            if allowed is not None:
                self._masks.move_to_end(key)
                return allowed
        allowed = self._make_mask(filters)
        allowed.flags.writeable = False  # shared between requests and legs
        with self._masks_lock:
            self._masks[key] = allowed
            while len(self._masks) > self._masks_kept:
                self._masks.popitem(last=False)
        return allowed

    def _make_mask(self, filters: SearchFilters) -> np.ndarray:
        """The mask, in time proportional to what it allows: a document's passages are runs of positions, an
        agency's are precomputed; a date filter asks each document's status once."""
        n = len(self._clause_of)
        docs = None  # document numbers allowed (None: any document)
        if filters.doc_ids or filters.in_force_on is not None:
            docs = range(len(self._documents))
            if filters.doc_ids:
                docs = [self._doc_number[d] for d in dict.fromkeys(filters.doc_ids) if d in self._doc_number]
            if filters.in_force_on is not None:
                docs = [i for i in docs if document_status(self._documents[i], filters.in_force_on).current]
        by_doc = None
        if docs is not None:
            runs = [j for i in docs for j in range(self._doc_runs[i], self._doc_runs[i + 1])]
            if len(runs) * _PASSAGES_PER_SLICE < n:
                by_doc = np.zeros(n, dtype=bool)
                for j in runs:
                    by_doc[self._run_lo[j] : self._run_hi[j]] = True
            else:  # most documents (a date filter): one pass over the passages' document numbers
                ok = np.zeros(len(self._documents) + 1, dtype=bool)  # the last slot: passages of no known document
                ok[list(docs)] = True
                by_doc = ok[self._passage_doc]
        if not filters.agencies:
            return by_doc
        positions = [p for a in dict.fromkeys(filters.agencies) if (p := self._agency_positions.get(a)) is not None]
        positions = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
        if by_doc is not None:
            positions = positions[by_doc[positions]]
        allowed = np.zeros(n, dtype=bool)
        allowed[positions] = True
        return allowed

    def _top_texts(self, idx, n: int) -> list[str]:
        """The texts (with headings) of the first ``n`` distinct clauses of a leg's passage positions."""
        out: dict[str, str] = {}
        for i in idx:
            c = self._clause_of[i]
            if c is not None and c.clause_id not in out:
                out[c.clause_id] = clause_index_text(c.section_path, c.heading, c.text)
                if len(out) >= n:
                    break
        return list(out.values())

    def _positions(self, clause_id: str) -> np.ndarray | None:
        """The passage positions of one clause, in order (None: a clause with no passage)."""
        n = self._clause_number.get(clause_id)
        if n is None:
            return None
        return self._by_clause[self._clause_bounds[n] : self._clause_bounds[n + 1]]

    def _dense_sims(self, qvec, clause_id: str) -> tuple[float | None, float | None]:
        """(question ↔ closest passage, question ↔ closest sentence) of a clause, exact cosines."""
        dense = self.bundle.dense
        if qvec is None or dense is None:
            return None, None
        positions = self._positions(clause_id)
        if positions is None:
            return None, None
        # a passage whose vector is still pending (a staged add) gives no evidence either way: None, as
        # in lexical mode, never a cosine of 0 (the judge then uses its lexical model for this clause)
        with_vectors = getattr(dense, "with_vectors", None)
        if with_vectors is not None:
            positions = with_vectors(positions)
        if not len(positions):
            return None, None
        own = dense.similarities(qvec, positions)
        return round(float(own.max()), 6), round(float(dense.sentence_similarities(qvec, positions, own).max()), 6)

    def search(
        self,
        query: str | AnalysedQuestion,
        top_k: int = 10,
        filters: SearchFilters | None = None,
        mode: str | None = None,
    ) -> SearchResult:
        # an analysed question (qa/analysis.py) brings its normalised text and translation: not re-derived
        # a raw string (/v1/search, eval) is normalised the same way: traditional → simplified, full-width → half
        analysed = None if isinstance(query, str) else query
        query = normalise(query) if analysed is None else analysed.text
        used, notice = self.resolve_mode(mode)
        filters = filters or SearchFilters()
        # the keyword legs cannot match English words against Chinese text: they search its translation,
        # the dense leg (a multilingual model) reads the question itself
        if analysed is not None:
            english = analysed.lang == "en"
            translation = analysed.translation
        else:
            english = is_english(query)
            translation = self.translator.translate(query) if self.translator and english else None
        keyword_query = translation.text if translation else query
        legs = self.legs(used)
        # filters are applied inside each leg's index — as an expression the backend evaluates (Milvus) or as a
        # mask over passage positions (bm25s, FAISS) — so each leg contributes the best passages the filters
        # allow, a few times more than asked for
        where = self._filter_in_index(filters, legs)
        mask = self.mask(filters) if where is None else None
        depth = max(self.fusion.depth, 3 * top_k)
        qvec = self.bundle.dense.encode_query(query) if "dense" in legs and query.strip() else None
        weights = self.fusion.weights_for(english)
        k = self.fusion.k
        # clauses are numbers here (the passage → clause-number array, read as Python ints in one call per
        # leg), never looked up per passage: a few dict operations per ranked passage. Fused scores are the
        # same float sums in the same leg order as ever.
        scores: dict[int, float] = {}
        placed: list[tuple[str, dict[int, tuple[int, float, int]]]] = []  # leg → clause → (rank, raw score, passage)
        first: dict[str, tuple] = {}
        dense_gap = None
        # an English question in hybrid mode: the model's own results refine what the keyword legs search
        english_hybrid = bool(translation) and "dense" in legs and len(legs) > 1
        if english_hybrid and self.fusion.confirm_depth:
            # the dense leg first: the translation's renderings are kept where its best clauses print them
            first["dense"] = self._leg_results("dense", query, depth, qvec, where=where, mask=mask)
            texts = self._top_texts(first["dense"][0], self.fusion.confirm_depth)
            translation = confirmed(translation, texts)
            keyword_query = translation.text
        if english_hybrid and weights.get(TRANSLATED_LEG, 0.0) > 0 and keyword_query.strip():
            # the model reads the Chinese renderings too: Chinese against Chinese, its similarities are sharper
            # than across languages (dev English: hit@1 0.688 → 0.731, MRR@10 0.778 → 0.803)
            legs = [*legs, TRANSLATED_LEG]
        for leg in legs:
            idx, leg_scores = first.get(leg) or self._leg_results(
                leg, query if leg == "dense" else keyword_query, depth, qvec, where=where, mask=mask
            )
            idx = np.asarray(idx, dtype=np.int64)
            weight = weights.get(leg, 1.0)
            if leg == "dense" and len(leg_scores):
                dense_gap = round(float(leg_scores[0]) - float(np.mean(leg_scores)), 6)
            mine: dict[int, tuple[int, float, int]] = {}
            for i, number, raw_score in zip(idx.tolist(), self._passage_clause[idx].tolist(), np.asarray(leg_scores).tolist()):
                if number < 0 or number in mine:
                    continue  # a passage of no known clause, or a clause ranked already by a better passage
                rank = len(mine) + 1
                mine[number] = (rank, raw_score, i)
                if weight > 0:
                    scores[number] = scores.get(number, 0.0) + weight / (k + rank)
            placed.append((leg, mine))
        by_number = self._clause_by_number
        if "dense" in legs and len(legs) > 1 and self._no_vectors:
            # a clause whose vectors are still being computed cannot be ranked by the dense leg: its fused
            # score is taken over the legs that could rank it, scaled to the weight of all of them (the mean
            # of its weighted reciprocal ranks over its legs, as for every other clause) — otherwise a
            # just-added document would lose to any clause the dense leg also ranks, whatever its keywords
            kw = sum(weights.get(leg, 1.0) for leg in legs if not leg.startswith("dense"))
            full = kw + sum(weights.get(leg, 1.0) for leg in legs if leg.startswith("dense"))
            for n in scores:
                if by_number[n].clause_id in self._no_vectors and kw > 0:
                    scores[n] *= full / kw
        pool: list[int] = list(scores)
        if len(pool) > top_k > 0:  # only clauses scoring at least the top_k-th best can be among the top_k
            kth = sorted(scores.values(), reverse=True)[top_k - 1]
            pool = [n for n in pool if scores[n] >= kth]
        sims: dict[int, tuple[float | None, float | None]] = {}
        if english_hybrid and self.fusion.sentence_weight_en > 0 and qvec is not None and top_k > 0:
            depth_r = max(top_k, self.fusion.rerank_depth)
            if len(scores) > depth_r:
                kth = sorted(scores.values(), reverse=True)[depth_r - 1]
                pool = [n for n in scores if scores[n] >= kth]
            else:
                pool = list(scores)
            pool = sorted(pool, key=lambda n: (-scores[n], by_number[n].order, by_number[n].clause_id))[:depth_r]
            sims = {n: self._dense_sims(qvec, by_number[n].clause_id) for n in pool}
            known = [ss for _, ss in sims.values() if ss is not None]
            for n in pool:
                # a clause whose vectors are still being computed takes the others' mean: neither helped nor hurt
                ss = sims[n][1] if sims[n][1] is not None else (sum(known) / len(known) if known else 0.0)
                scores[n] += self.fusion.sentence_weight_en * ss
        ordered = sorted(pool, key=lambda n: (-scores[n], by_number[n].order, by_number[n].clause_id))[: max(top_k, 0)]
        hits = []
        for n in ordered:
            ranks, raw, best = [], [], None
            for leg, mine in placed:
                got = mine.get(n)
                if got is None:
                    continue
                ranks.append((leg, got[0]))
                raw.append((leg, got[1]))
                if best is None or got[0] < best[0]:
                    best = got
            clause = by_number[n]
            hits.append(Hit(
                clause, round(scores[n], 6), self.bundle.passages[best[2]], tuple(ranks), tuple(sorted(raw)),
                *(sims[n] if n in sims else self._dense_sims(qvec, clause.clause_id)),
            ))
        hits = tuple(hits)
        return SearchResult(query, used, hits, notice, translation, dense_gap)
