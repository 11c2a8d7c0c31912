"""Answerability: do the clauses found answer the question? A calibrated decision from the evidence.

Features come from the retrieved clauses, never from lists of topics: how much of the question's
(IDF-weighted) wording the best clauses contain, how much of it the documents never use at all, the dense
model's similarity of the question to the best clauses, whether the retrieval legs agree on the best
clause, the fused-score margin, and whether the kind of information asked for (a sum, a share, a count,
a date, a procedure) is printed in the best clauses. A logistic regression over them is fitted on the
dev half only (`python -m policyqa.eval.fit`) and stored as JSON coefficients in `qa/data/judge.json`,
one model for when dense similarities are available and one for when they are not; its operating point
is chosen on dev's risk–coverage curve.

Two general rules decide alone (a reviewer can check them without seeing any question): a question
naming a place the (Shanghai) documents never mention, or a 《document》 that is not one of them.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from policyqa.corpus import Corpus
from policyqa.corpus.rules import normalize
from policyqa.index.clause_tokens import ClauseTokens, clause_index_text
from policyqa.index.tokenize import Tokenizer

from .analysis import AnalysedQuestion
from .citation import best_sentences
from .rank import RankModel, asked_of, lacks_asked
from .scope import YEAR, missing_kinds
from .search import Hit

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "judge.json"
_HAS_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_NUMBER = re.compile(r"(?<![0-9.])[0-9]{2,}(?![0-9.])")

# The features the models use, chosen on dev out of fold (`python -m policyqa.eval.fit --compare`: a candidate
# joins a model when it raises the share of unanswerable questions refused at the operating point by at least
# two questions). Also computed and reported with every answer, but left out because they did not:
# `agree` (legs agreeing on the best clause), `margin` (fused-score margin), `rare_missing` (the rarest
# question word no best clause has; kept by the English model, below), `missing_sent` (the asked kind read only in the best-matching sentences),
# and in the lexical model only, `numbers_missing` (numbers the question names that no best clause prints)
# and `missing1` (the asked kind not printed by the best clause itself: hybrid 0.736 → 0.757, lexical −1
# question). With batch 19 in dev (2,717 questions) a figure asked for that no best clause prints in a
# segment (between commas) holding the question's most specific word was tried: Chinese hybrid 0.893 → 0.895,
# English and lexical unchanged per language — not kept. Tried and removed: the share of an English question's topic words whose renderings the
# dense leg's best clauses print (hybrid English 0.523 → 0.500 out of fold with batch 7 in dev).
_BASE = ("cov1", "cov3", "unknown", "missing", "english", "matched1", "matched3")
# `year_missing`: a figure asked for a named year that no best clause prints (lexical 0.707 → 0.736)
# `missing1` joined it with batches 16–18 in dev (2,557 questions, the ranking stage in place: Chinese 0.810 →
# 0.865 at ≤ 4 % answerable refused, English 0.698 → 0.701; `rare_missing` as well: English 0.740 alone, but
# 0.698 with `missing1`, so left out)
FEATURES_LEXICAL = (*_BASE, "year_missing", "missing1")
# `dgap`: the dense leg's best passage above the mean of its top 60 (a peaked ranking: the question is about
# something the documents say); `en_dgap`, the same for English questions only, because a cross-language
# similarity is compressed (English dev questions: best cosines 0.79 answerable vs 0.78 not; Chinese 0.90 vs
# 0.88) and needs its own slope. Out of fold on dev they raised English refusals 0.516 → 0.613 at the same
# answerable answered, Chinese unchanged.
# `numbers_missing` and `year_missing` joined the dense model when batches 8 and 9 were in dev (1,117
# questions; out of fold at the operating point: English 0.769 → 0.785, Chinese 0.862 → 0.867): the blind
# batches ask for a named year's figure (2035年…目标是多少, the plan's 2025 target) more often than the
# first dev questions did, and the dense similarity of such a question to a clause about the same figure
# for another year is high.
FEATURES_DENSE = (*_BASE, "missing1", "dense1", "dense3", "dgap", "en_dgap", "numbers_missing", "year_missing")
# English questions in hybrid mode get a model of their own (the `dense_en` model, fitted on English dev
# questions only): their evidence differs in kind — the keyword legs see only a dictionary translation and
# the similarities are cross-language — so every feature needs its own slope, not only an offset and the gap.
# `rare_missing` (the rarest translated topic word that no best clause prints: an off-topic question's
# distinctive word, 'hotpot', 'weather') joins it. Out of fold on the 432 English dev questions, unanswerable
# refused at ≤ 4 % answerable refused: one model for both languages 0.785, English alone with the same
# features 0.792, with `rare_missing` 0.823 (`agree` 0.792, `margin` 0.785, `rare_missing` and `asks`
# 0.831 — one feature kept; `--compare` prints this table). For Chinese the shared model stays (Chinese alone: 0.857
# against 0.867 shared).
# `missing_sent` (the asked kind not printed in the two sentences of each best clause that match the question
# best) joined it with batches 16–18 in dev (789 answerable and 290 unanswerable English dev questions):
# 0.776 → 0.792; `agree`, `margin` 0.779–0.782; the translated question's dense similarity to the best clauses
# (`dense-translation` leg) 0.776–0.779, not kept.
FEATURES_DENSE_EN = (*(f for f in FEATURES_DENSE if f not in ("english", "en_dgap")), "rare_missing", "missing_sent")

# a missing kind → the refusal kind that says so
KIND_REFUSAL = {
    "amount": "amount_not_stated",
    "share": "figure_not_stated",
    "count": "figure_not_stated",
    "date": "date_not_stated",
    "procedure": "procedure_not_stated",
    "contact": "contact_not_stated",
    "names": "names_not_stated",
    "places": "places_not_stated",
    "outcome": "figure_not_stated",
    "agency": "agency_not_stated",
}


@dataclass(frozen=True)
class LinearModel(RankModel):
    """The same standardised logistic model as the ranking stage's, with the operating point it answers at."""

    threshold: float  # answer when P(answerable) ≥ threshold
    # per language (zh / en), when fitted: the two reach the judge through different evidence (an English
    # question's keyword legs see only its dictionary translation), so each gets its own operating point
    thresholds: tuple[tuple[str, float], ...] = ()

    def threshold_for(self, lang: str) -> float:
        return dict(self.thresholds).get(lang, self.threshold)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "threshold": self.threshold, "thresholds": dict(self.thresholds)}

    @classmethod
    def from_dict(cls, d: dict) -> "LinearModel":
        base = RankModel.from_dict(d)
        return cls(base.features, base.mean, base.scale, base.coef, base.intercept, float(d["threshold"]),
                   tuple(sorted((k, float(v)) for k, v in d.get("thresholds", {}).items())))


def _topic_terms(q: AnalysedQuestion) -> list[tuple[str, tuple[str, ...]]]:
    """An English question's translated terms without those that only ask who is responsible (their words
    are not among `topic_words`); all of them when that would leave none."""
    terms = list(q.translation.terms) if q.translation else []
    topic = set(q.topic_words)
    kept = [(en, zh) for en, zh in terms if set(en.split()) & topic]
    return kept or terms


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    probability: float  # P(the clauses found answer the question); 0 for a rule's refusal
    refusal_kind: str | None = None
    refusal_detail: str = ""
    evidence: dict[str, float] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # kinds asked for that the best clauses do not state


def shares_no_topic_word(x: dict[str, float]) -> bool:
    """The search's best clauses print not one word of the question's topic (a greeting, 'who are you',
    天气咋样): they were found on similarity alone, and nothing in them is about what was asked. Decides alone,
    as the place and document rules do; on the labelled questions every such question is unanswerable. Read
    on the search's own top three (`matched3_found`), before the ranking model reorders them: that model
    favours a clause printing the question's words, so for 你能做什么 it lifts one printing 做 from tenth
    place, which says nothing about whether the documents are about the question."""
    return x.get("matched3_found", x["matched3"]) == 0.0


def _fallback_models() -> dict[str, LinearModel]:
    """Used only until `qa/data/judge.json` is fitted: coverage alone, the old calibrated floor (0.15); the
    other features (the similarities among them) unused."""

    def model(names: tuple[str, ...]) -> LinearModel:
        coef = tuple(8.0 if f == "cov1" else (-2.0 if f == "missing" else 0.0) for f in names)
        return LinearModel(names, (0.0,) * len(names), (1.0,) * len(names), coef, -8.0 * 0.15, 0.5)

    return {"lexical": model(FEATURES_LEXICAL), "dense": model(FEATURES_DENSE)}


class Judge:
    """Built once per corpus; thread-safe (no per-request state)."""

    def __init__(
        self, corpus: Corpus, tokenizer: Tokenizer, path: Path = DEFAULT_PATH, clause_tokens: ClauseTokens | None = None
    ) -> None:
        """``clause_tokens``: what the index build persisted (the same tokenizer over the same texts), so
        start-up does not tokenise every clause again."""
        self.corpus = corpus
        if clause_tokens is not None:
            self._clause_tokens = clause_tokens
            df = clause_tokens.document_frequencies()
        else:
            self._clause_tokens: dict[str, frozenset[str]] = {}
            df: Counter[str] = Counter()
            for c in corpus.clauses:
                toks = frozenset(tokenizer.tokenize(clause_index_text(c.section_path, c.heading, c.text)))
                self._clause_tokens[c.clause_id] = toks
                df.update(toks)
        n = len(self._clause_tokens)
        self._idf = {t: math.log(1 + n / d) for t, d in df.items()}
        self._idf_unknown = math.log(1 + n)
        self.models = _fallback_models()
        if path.exists():
            raw = json.loads(path.read_text(encoding="utf-8"))
            self.models = {k: LinearModel.from_dict(v) for k, v in raw["models"].items()}

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every token the keyword tokenizer finds in the corpus."""
        return frozenset(self._idf)

    # --- evidence ---------------------------------------------------------------------------------

    def coverage(self, q: AnalysedQuestion, clause_id: str, text: str) -> float:
        """IDF-weighted share of the question's words that the clause (with its headings) contains.
        Words the corpus never uses weigh most, so a question about passports cannot be 'covered'."""
        if q.translation:
            return self._coverage_translated(q, clause_id)
        toks = self._topic_set(q)
        if not toks:
            return 0.0
        have = self._clause_tokens.get(clause_id, frozenset())
        total = got = 0.0
        for t in toks:
            w = self._idf.get(t, self._idf_unknown)
            total += w
            if t in have:
                got += w
            elif t not in self._idf and _HAS_CJK.search(t):
                # a word the corpus never uses (餐厅 for 餐饮): half credit for the characters it shares
                got += 0.5 * w * sum(ch in text for ch in t) / len(t)
        return got / total

    def _coverage_translated(self, q: AnalysedQuestion, clause_id: str) -> float:
        """Each English word counts once, found when any of its Chinese renderings is in the clause,
        weighted by the IDF of the rendering found (else of the rarest)."""
        have = self._clause_tokens.get(clause_id, frozenset())
        rendering = dict(q.rendering_tokens)
        total = got = 0.0
        for _, renderings in _topic_terms(q):
            best_w, found = 0.0, False
            for zh in renderings:
                toks = rendering.get(zh) or (zh,)
                w = max(self._idf.get(t, self._idf_unknown) for t in toks)
                if all(t in have for t in toks):
                    if not found or w > best_w:
                        best_w, found = w, True
                elif not found:
                    best_w = max(best_w, w)
            total += best_w
            got += best_w if found else 0.0
        return got / total if total else 0.0

    def _topic_set(self, q: AnalysedQuestion) -> set[str]:
        """A Chinese question's topic words, less single characters the documents never use as a word: in
        everyday speech those are adverbs and particles (很, 上, 老), not a topic the documents lack (a
        colloquial 我们有栋老写字楼空置率很高 had looked off the subject). Tried and not kept (2,717 dev
        questions): leaving out as well the longer unknown words jieba's dictionary tags as verbs, adverbs or
        pronouns (帮忙, 出钱, 不会) — out of fold, unanswerable refused fell (lexical Chinese 0.889 → 0.867, hybrid
        0.899 → 0.895)."""
        return {t for t in q.topic_tokens if len(t) > 1 or t in self._idf}

    def unknown_share(self, q: AnalysedQuestion) -> float:
        """Share of the question the documents never use: IDF mass of unknown Chinese words, or the share
        of English content words with no rendering in the documents."""
        if q.english:
            if not q.topic_words:
                return 1.0
            translated = {w for en, _ in (q.translation.terms if q.translation else ()) for w in en.split()}
            return sum(w not in translated for w in q.topic_words) / len(q.topic_words)
        toks = self._topic_set(q)
        if not toks:
            return 1.0
        total = sum(self._idf.get(t, self._idf_unknown) for t in toks)
        unknown = sum(self._idf_unknown for t in toks if t not in self._idf and _HAS_CJK.search(t))
        return unknown / total

    def matched(self, q: AnalysedQuestion, clause_ids: list[str]) -> tuple[float, float]:
        """(IDF mass of the question's words found in the clauses, in units of an unknown word's IDF;
        the largest IDF among its words found in none of them, same unit). A question whose one specific
        word the documents never print has little matched mass and a large missing word."""
        if q.translation:
            kept = {zh for _, renderings in _topic_terms(q) for zh in renderings}
            toks = {t for zh, toks in q.rendering_tokens if zh in kept for t in toks}
        else:
            toks = self._topic_set(q)
        have = frozenset().union(*(self._clause_tokens.get(c, frozenset()) for c in clause_ids)) if clause_ids else frozenset()
        got = sum(self._idf[t] for t in toks if t in have and t in self._idf)
        missing = [self._idf.get(t, self._idf_unknown) for t in toks if t not in have and (_HAS_CJK.search(t) or q.english)]
        return got / self._idf_unknown, (max(missing) / self._idf_unknown if missing else 0.0)

    def evidence(
        self, q: AnalysedQuestion, hits: list[Hit], dense_gap: float | None = None, found: list[Hit] | None = None
    ) -> tuple[dict[str, float], tuple[str, ...]]:
        """``dense_gap``: `SearchResult.dense_gap` of the search that found ``hits``; ``found``: the search's
        own order when ``hits`` were reordered by the ranking model (qa/rank.py)."""
        top = hits[:3]
        covs = [self.coverage(q, h.clause.clause_id, h.clause.text) for h in top]
        m1, miss1 = self.matched(q, [hits[0].clause.clause_id])
        m3, miss3 = self.matched(q, [h.clause.clause_id for h in top])
        legs = {leg for h in hits for leg, _ in h.ranks}
        if getattr(hits[0], "dense_sim", None) is None:
            # no dense evidence for the best clause (lexical mode, or its vectors are still being computed
            # after a staged add): the lexical model decides, on the features it was fitted on — agreement
            # among the keyword legs, as in lexical mode, not diluted by a dense leg that could not rank it
            legs.discard("dense")
        best_ranks = dict(hits[0].ranks)
        agree = sum(best_ranks.get(leg, 99) <= 3 for leg in legs) / len(legs) if legs else 0.0
        s1 = hits[0].score
        s2 = hits[1].score if len(hits) > 1 else 0.0
        asked = asked_of(q)
        texts = [normalize(h.clause.text) for h in top]
        top_text = "\n".join(texts)
        # a year that names a document ('the 2025 measures') says which document, not which year a figure is for
        nums = set(_NUMBER.findall(q.text)) - q.document_years
        missing = tuple(missing_kinds(asked, texts, q.text))
        if "agency" in asked and not any(h.clause.agencies for h in top):
            missing += ("agency",)  # who is responsible, asked of clauses that name no responsible unit
        # the same, asked of the best clause alone: the kind is often printed by a neighbour about something else
        missing1 = lacks_asked(asked, hits[0].clause, q.text, texts[0])
        # a figure or date asked for a named year (2019年…多少, by 2030) that none of the best clauses prints
        years = set(YEAR.findall(q.text)) - q.document_years if asked & {"amount", "share", "count", "date"} else set()
        year_missing = bool(years) and not any(y in top_text for y in years)
        # the same, read only in the sentences that match the question best (two per clause): a figure
        # printed elsewhere in a long clause is usually about something else
        sents = [normalize(t) for h in top for t in best_sentences(h.clause, q.keyword_text, 2)]
        missing_sent = missing_kinds(asked, sents, q.text) if asked else []
        # numbers the question names (a year, a line number) that none of the best clauses prints
        nums_missing = sum(n not in top_text for n in nums) / len(nums) if nums else 0.0
        dense = [d for h in top if (d := getattr(h, "dense_sim", None)) is not None]
        x = {
            "cov1": covs[0],
            "cov3": max(covs),
            "unknown": self.unknown_share(q),
            "agree": agree,
            "margin": (s1 - s2) / s1 if s1 > 0 else 0.0,
            "missing": float(bool(missing)),
            "asks": float(bool(asked)),
            "english": float(q.english),
            "missing_sent": float(bool(missing_sent)),
            "numbers_missing": nums_missing,
            "matched1": m1,
            "matched3": m3,
            # the search's own top three: the same clauses as `top` unless the ranking brought another up
            "matched3_found": m3 if found is None or {h.clause.clause_id for h in found[:3]} == {h.clause.clause_id for h in top}
            else self.matched(q, [h.clause.clause_id for h in found[:3]])[0],
            "rare_missing": miss3,
            "missing1": float(missing1),
            "year_missing": float(year_missing),
        }
        if dense and getattr(hits[0], "dense_sim", None) is not None:
            x["dense1"] = float(hits[0].dense_sim)
            x["dense3"] = float(max(dense))
            sent = [d for h in top if (d := getattr(h, "sentence_sim", None)) is not None]
            if sent:
                x["sent1"] = float(sent[0]) if getattr(hits[0], "sentence_sim", None) is not None else 0.0
                x["sent3"] = float(max(sent))
            if dense_gap is not None:
                x["dgap"] = float(dense_gap)
                x["en_dgap"] = float(dense_gap) * float(q.english)
        return x, missing

    # --- the decision -----------------------------------------------------------------------------

    def judge(
        self, q: AnalysedQuestion, hits: list[Hit], dense_gap: float | None = None, found: list[Hit] | None = None
    ) -> Verdict:
        if q.places:
            return Verdict(False, 0.0, "other_place", q.places[0])
        if q.other_documents:
            return Verdict(False, 0.0, "other_document", q.other_documents[0])
        if not hits:
            return Verdict(False, 0.0, "no_match")
        x, missing = self.evidence(q, hits, dense_gap, found)
        if shares_no_topic_word(x):
            return Verdict(False, 0.0, "no_match", "", x, missing)
        model = self.model_for(x)
        p = model.probability(x)
        if p >= model.threshold_for(q.lang):
            return Verdict(True, round(p, 4), None, "", x, missing)
        kind = KIND_REFUSAL[missing[0]] if missing else "no_match"
        return Verdict(False, round(p, 4), kind, "", x, missing)

    def model_for(self, x: dict[str, float]) -> LinearModel:
        """The dense model when every feature it reads is in the evidence (the dense leg ranked the best
        clause) — for an English question its own, when fitted — else the lexical one."""
        names = ("dense_en", "dense") if x.get("english") else ("dense",)
        for name in names:
            model = self.models.get(name)
            if model is not None and all(f in x for f in model.features):
                return model
        return self.models["lexical"]
