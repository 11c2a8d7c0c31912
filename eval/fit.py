"""Fit the answer layer's two small models on the dev half only, and store them as JSON data.

    .venv/bin/python -m policyqa.eval.fit            # engine as served (settings: QA_MODE, QA_MODEL…)

* Intent: multinomial logistic regression over the features of `qa.intent.features` → `qa/data/intent.json`.
* Ranking: logistic regression over `qa.rank.hit_features` of the fused top 10 (is this clause one that answers
  the question?), one model per language, on hybrid retrieval of the answerable dev questions → `qa/data/rank.json`,
  with out-of-fold (5-fold by question) figures against the fused order.
* Answerability: logistic regression over `qa.judge` evidence, one model over the lexical features (fitted
  on lexical-mode retrieval) and one adding the dense similarities (fitted on hybrid retrieval, when the
  model is available) → `qa/data/judge.json`. The operating point is chosen on the risk–coverage curve
  of out-of-fold (5-fold, 5 repeats) probabilities on dev: the threshold that refuses most unanswerable
  questions while wrongly refusing at most `MAX_ANSWERABLE_REFUSED` of the answerable ones.

The test half is never read here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

import numpy as np

from policyqa.qa.intent import DEFAULT_PATH as INTENT_PATH
from policyqa.qa.intent import INTENTS, features
from policyqa.qa.judge import DEFAULT_PATH as JUDGE_PATH
from policyqa.qa.judge import FEATURES_DENSE, FEATURES_DENSE_EN, FEATURES_LEXICAL, LinearModel, shares_no_topic_word
from policyqa.qa.rank import DEFAULT_PATH as RANK_PATH
from policyqa.qa.rank import FEATURES as RANK_FEATURES
from policyqa.qa.rank import RankModel, hit_features

from .dataset import Question, load_questions

MAX_ANSWERABLE_REFUSED = 0.04  # on dev, out of fold; the target on unseen questions is ≤ 0.05
C_JUDGE = 0.3  # chosen on dev out of fold among 0.3, 1, 3
C_INTENT = 3.0
C_RANK = 1.0  # chosen on dev out of fold among 0.1, 1, 10 (English hit@1 0.721 / 0.723 / 0.727, Chinese 0.906 / 0.906 / 0.910)


VECTOR_SCALES = (10.0, 20.0, 40.0)  # the question vector's weight against the n-grams, chosen on dev out of fold


def fit_intent(questions: list[Question], normalise, encoder=None) -> dict:
    """The n-gram model; with `encoder` (the dense leg's QueryEncoder) also the n-gram + question-vector model,
    stored beside it and used whenever the service runs that model."""
    import scipy.sparse as sp
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    texts = [normalise(q.question) for q in questions]
    from policyqa.qa.scope import asked_kinds

    X = [{f: 1 for f in features(t, asked_kinds(t))} for t in texts]
    y = np.array([q.intent for q in questions])
    vec = DictVectorizer()
    M = vec.fit_transform(X)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)

    def fit(matrix) -> tuple[LogisticRegression, float]:
        clf = LogisticRegression(C=C_INTENT, max_iter=5000)
        oof = cross_val_predict(clf, matrix, y, cv=cv)
        clf.fit(matrix, y)
        return clf, float(np.mean(oof == y))

    def sparse_weights(clf, classes) -> dict:
        weights = {}
        for j, name in enumerate(vec.feature_names_):
            w = [round(float(clf.coef_[i, j]), 4) for i in range(len(classes))]
            if any(abs(v) >= 1e-4 for v in w):
                weights[name] = w
        return weights

    clf, acc = fit(M)
    classes = list(clf.classes_)
    assert set(classes) == set(INTENTS)
    out = {
        "_comment": "Intent model fitted on the dev half only by policyqa.eval.fit; features in qa.intent.features; "
        "`vector`: the same with the question's embedding, for the model it names.",
        "fitted": dt.date.today().isoformat(),
        "questions": len(questions),
        "cv_accuracy_dev": round(acc, 4),
        "classes": classes,
        "intercept": [round(float(v), 4) for v in clf.intercept_],
        "weights": sparse_weights(clf, classes),
    }
    if encoder is None:
        return out
    V = np.vstack([np.asarray(encoder.encode(t), dtype=np.float64) for t in texts])
    best = None
    for scale in VECTOR_SCALES:
        vclf, vacc = fit(sp.hstack([M, sp.csr_matrix(V * scale)]).tocsr())
        print(f"intent with the question vector ×{scale:g}: dev cross-validated accuracy {vacc:.4f} (n-grams alone {acc:.4f})")
        if best is None or vacc > best[2]:
            best = (scale, vclf, vacc)
    scale, vclf, vacc = best
    if vacc <= acc:
        return out  # the vector does not help on dev: not stored
    n = M.shape[1]
    out["vector"] = {
        "model": encoder.model,
        "dim": encoder.dim,
        "scale": scale,
        "cv_accuracy_dev": round(vacc, 4),
        "intercept": [round(float(v), 4) for v in vclf.intercept_],
        "weights": sparse_weights(vclf, classes),
        # applied to the raw (unit-length) vector, the scale folded in
        "coef": [[round(float(c) * scale, 5) for c in vclf.coef_[i, n:]] for i in range(len(classes))],
    }
    return out


def risk_coverage(p: np.ndarray, answerable: np.ndarray, forced_refusal: np.ndarray) -> list[dict]:
    """For each threshold: share of answerable questions answered, share of unanswerable refused."""
    points = []
    for t in sorted({0.0, *np.round(p, 4).tolist(), 1.01}):
        answered = (p >= t) & ~forced_refusal
        points.append({
            "threshold": float(t),
            "answerable_answered": float(answered[answerable].mean()) if answerable.any() else 0.0,
            "unanswerable_refused": float((~answered)[~answerable].mean()) if (~answerable).any() else 0.0,
        })
    return points


def choose_threshold(points: list[dict], max_refused: float = MAX_ANSWERABLE_REFUSED) -> dict:
    ok = [pt for pt in points if 1 - pt["answerable_answered"] <= max_refused + 1e-9]
    return max(ok, key=lambda pt: (pt["unanswerable_refused"], -pt["threshold"]))


def fit_judge(rows: list[tuple[dict, bool, bool]], names: tuple[str, ...]) -> tuple[LinearModel, dict]:
    """rows: (evidence, answerable, refused by a rule before the model). One threshold per language
    (the `english` feature), each the out-of-fold point with at most MAX_ANSWERABLE_REFUSED of that
    language's answerable questions refused."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold

    X = np.array([[x[f] for f in names] for x, _, _ in rows], float)
    y = np.array([a for _, a, _ in rows], bool)
    forced = np.array([r for _, _, r in rows], bool)
    use = ~forced  # the model only ever sees questions no rule has refused
    mean = X[use].mean(axis=0)
    scale = X[use].std(axis=0)
    scale[scale == 0] = 1.0
    Z = (X - mean) / scale
    oof = np.zeros(len(rows))
    counts = np.zeros(len(rows))
    idx = np.flatnonzero(use)
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=5, random_state=0)
    for tr, te in cv.split(Z[idx], y[idx]):
        clf = LogisticRegression(C=C_JUDGE, max_iter=5000, class_weight="balanced")
        clf.fit(Z[idx][tr], y[idx][tr])
        oof[idx[te]] += clf.predict_proba(Z[idx][te])[:, 1]
        counts[idx[te]] += 1
    oof = np.where(counts > 0, oof / np.maximum(counts, 1), 0.0)
    points = risk_coverage(oof, y, forced)
    chosen = choose_threshold(points)
    english = np.array([bool(x.get("english")) for x, _, _ in rows])
    per_lang = {}
    for lang, mask in (("zh", ~english), ("en", english)):
        if (y[mask]).any() and (~y[mask]).any():
            per_lang[lang] = choose_threshold(risk_coverage(oof[mask], y[mask], forced[mask]))
    clf = LogisticRegression(C=C_JUDGE, max_iter=5000, class_weight="balanced")
    clf.fit(Z[use], y[use])
    model = LinearModel(
        names, tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in scale),
        tuple(round(float(v), 6) for v in clf.coef_[0]), round(float(clf.intercept_[0]), 6), chosen["threshold"],
        tuple(sorted((lang, pt["threshold"]) for lang, pt in per_lang.items())),
    )
    return model, {"questions": len(rows), "oof_operating_point": chosen, "oof_operating_point_by_language": per_lang,
                   "oof_curve": points}


def _first_right(order: list[int], hits_agencies: list[tuple[str, ...]], gold_agencies: list[str]) -> bool:
    first = next((hits_agencies[i] for i in order if hits_agencies[i]), None)
    return first is not None and set(first) == set(gold_agencies)


def fit_ranker(groups: list[dict]) -> tuple[dict[str, RankModel], dict]:
    """groups: one per answerable dev question — its lang, features of its fused top 10, which of them are
    gold, their printed agencies and, for agency questions, the gold agencies. Per language: out-of-fold
    (5-fold by question) hit@1, MRR@10 and agency questions whose first clause with agencies is exactly right,
    fused order against ranked; then the model fitted on all of them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    models, info = {}, {}
    for lang in ("zh", "en"):
        gs = [g for g in groups if g["lang"] == lang]
        if not gs:
            continue
        X = np.array([[x[f] for f in RANK_FEATURES] for g in gs for x in g["x"]], float)
        y = np.array([lab for g in gs for lab in g["y"]], bool)
        qid = np.array([i for i, g in enumerate(gs) for _ in g["x"]])
        pred = np.zeros(len(y))
        for tr, te in GroupKFold(5).split(X, y, qid):
            mean, scale = X[tr].mean(axis=0), X[tr].std(axis=0)
            scale[scale == 0] = 1.0
            clf = LogisticRegression(C=C_RANK, max_iter=5000).fit((X[tr] - mean) / scale, y[tr])
            pred[te] = clf.decision_function((X[te] - mean) / scale)
        figures = {}
        for name, ranked in (("fused", False), ("ranked", True)):
            h1 = mrr = agency = n_agency = 0.0
            pos = 0
            for g in gs:
                n = len(g["x"])
                order = sorted(range(n), key=lambda i: (-pred[pos + i], i)) if ranked else list(range(n))
                pos += n
                first = next((k for k, i in enumerate(order, 1) if g["y"][i]), None)
                h1 += first == 1
                mrr += 1.0 / first if first else 0.0
                if g["gold_agencies"]:
                    n_agency += 1
                    agency += _first_right(order, g["agencies"], g["gold_agencies"])
            figures[name] = {"hit@1": round(h1 / len(gs), 4), "mrr@10": round(mrr / len(gs), 4),
                             "agency_first_right": f"{int(agency)}/{int(n_agency)}"}
        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale[scale == 0] = 1.0
        clf = LogisticRegression(C=C_RANK, max_iter=5000).fit((X - mean) / scale, y)
        models[lang] = RankModel(
            RANK_FEATURES, tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in scale),
            tuple(round(float(v), 6) for v in clf.coef_[0]), round(float(clf.intercept_[0]), 6),
        )
        info[lang] = {"questions": len(gs), "oof": figures}
    return models, info


# Candidate evidence compared out of fold on dev by `--compare` (the features each model keeps are chosen from
# this table on dev, and recorded in qa/judge.py's FEATURES_*).
CANDIDATES = ("missing_sent", "asks", "numbers_missing", "agree", "margin", "rare_missing", "missing1", "year_missing")


def compare(rows: list[tuple[dict, bool, bool]], base: tuple[str, ...], label: str) -> None:
    """Out-of-fold operating point (≤ MAX_ANSWERABLE_REFUSED of answerable refused) for the base features and
    for the base plus each candidate: the share of unanswerable questions refused, overall and by language."""
    have = set(rows[0][0]) if rows else set()
    print(f"{label}: unanswerable refused out of fold on dev at ≤ {MAX_ANSWERABLE_REFUSED:.0%} answerable refused")
    scores: dict[tuple[str, ...], float] = {}

    def one(extra: tuple[str, ...]) -> None:
        _, info = fit_judge(rows, (*base, *extra))
        by = info["oof_operating_point_by_language"]
        scores[extra] = info["oof_operating_point"]["unanswerable_refused"]
        print(f"  {'+'.join(extra) or 'base':26s} all {scores[extra]:.3f}  "
              + "  ".join(f"{lang} {pt['unanswerable_refused']:.3f} (answerable answered {pt['answerable_answered']:.3f})"
                          for lang, pt in sorted(by.items())))

    for extra in ((), *((c,) for c in CANDIDATES if c in have and c not in base)):
        one(extra)
    best = sorted((e for e in scores if e), key=lambda e: -scores[e])[:2]
    if len(best) == 2:  # the two best single additions together
        one((*best[0], *best[1]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev", choices=["dev"], help="fitting reads the dev half only")
    ap.add_argument("--skip-intent", action="store_true")
    ap.add_argument("--skip-rank", action="store_true")
    ap.add_argument("--skip-judge", action="store_true")
    ap.add_argument("--compare", action="store_true", help="compare candidate evidence out of fold; write nothing")
    args = ap.parse_args(argv)

    from policyqa.qa.analysis import normalise
    from policyqa.qa.engine import Engine, EngineConfig
    from policyqa.qa.settings import Settings

    questions = load_questions(split=args.split)
    s = Settings()
    config = s.engine_config() if hasattr(s, "engine_config") else EngineConfig(
        corpus_dir=s.corpus_dir, index_dir=s.index_dir, model=s.model, mode=s.mode, faiss_index=s.faiss_index,
        passage_max_chars=s.passage_max_chars, model_download=s.model_download, translate_english=s.translate_english,
    )
    engine = Engine(config)
    loaded = engine.warm_up(build_if_missing=True)
    answerer, searcher = loaded.answerer, loaded.searcher
    if not args.skip_intent:
        intent = fit_intent(questions, normalise, searcher.query_encoder())
        INTENT_PATH.write_text(json.dumps(intent, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        print(f"intent: dev cross-validated accuracy {intent['cv_accuracy_dev']}"
              f"{', with the question vector ' + str(intent['vector']['cv_accuracy_dev']) if 'vector' in intent else ''} → {INTENT_PATH}")
        answerer.analyser.intent_model = type(answerer.analyser.intent_model).load()
    judge = answerer.judge
    if not args.skip_rank and not args.compare and searcher.dense_available:
        groups = []
        for q in questions:
            if not (q.answerable and q.gold):
                continue
            aq = answerer.analyse(searcher, q.question)
            if aq.reverse_agency:
                continue
            hits = list(searcher.search(aq, top_k=10, mode="hybrid").hits)
            if len(hits) < 2 or any(h.dense_sim is None for h in hits):
                continue
            groups.append({
                "lang": aq.lang, "x": hit_features(aq, hits, judge.coverage), "y": [h.clause.clause_id in q.gold for h in hits],
                "agencies": [h.clause.agencies for h in hits],
                "gold_agencies": list(q.gold_agencies) if q.type == "agency" else [],
            })
        models, info = fit_ranker(groups)
        RANK_PATH.write_text(json.dumps({
            "_comment": "Clause ranking models fitted on the dev half only by policyqa.eval.fit (logistic regression "
            "on standardised qa.rank features of the fused top 10; out-of-fold figures against the fused order).",
            "fitted": dt.date.today().isoformat(),
            "models": {k: m.to_dict() for k, m in models.items()}, "fit": info,
        }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        for lang, i in info.items():
            print(f"ranking, {lang}: {i['questions']} questions, out of fold {i['oof']} → {RANK_PATH}")
        answerer.ranker = type(answerer.ranker)(judge.coverage)
    if args.skip_judge:
        return

    def evidence_rows(mode: str) -> list[tuple[dict, bool, bool]]:
        rows = []
        for q in questions:
            aq = answerer.analyse(searcher, q.question)
            if aq.reverse_agency:
                continue  # answered from the directory, never judged
            result = searcher.search(aq, top_k=10, mode=mode)
            hits = answerer.ranker.rank(aq, result.hits)  # as the answer pipeline orders them (hybrid only)
            # no hits: refused by rule, counted as refused; the language kept so each model's curve sees it
            x, _ = judge.evidence(aq, hits, result.dense_gap, list(result.hits)) if hits else ({**{f: 0.0 for f in (*FEATURES_DENSE, *CANDIDATES)}, "english": float(aq.english)}, ())
            forced = bool(aq.places or aq.other_documents or not hits or shares_no_topic_word(x))
            if mode == "lexical":
                x = {f: v for f, v in x.items() if f not in ("dense1", "dense3", "sent1", "sent3", "dgap", "en_dgap")}
            rows.append((x, q.answerable, forced))
        return rows

    out = {
        "_comment": "Answerability models fitted on the dev half only by policyqa.eval.fit (logistic regression on "
        "standardised evidence; threshold from the out-of-fold risk-coverage curve on dev).",
        "fitted": dt.date.today().isoformat(),
        "max_answerable_refused_dev": MAX_ANSWERABLE_REFUSED,
        "models": {},
        "fit": {},
    }
    lex_rows = evidence_rows("lexical")
    if args.compare:
        compare(lex_rows, FEATURES_LEXICAL, "lexical")
        if searcher.dense_available:
            hy_rows = evidence_rows("hybrid")
            compare(hy_rows, FEATURES_DENSE, "hybrid")
            # the English model's own candidates, from its base without the one it keeps (rare_missing)
            en_base = tuple(f for f in FEATURES_DENSE_EN if f != "rare_missing")
            compare([r for r in hy_rows if r[0].get("english")], en_base, "hybrid, English questions' own model")
        return
    model, info = fit_judge(lex_rows, FEATURES_LEXICAL)
    out["models"]["lexical"] = model.to_dict()
    out["fit"]["lexical"] = info
    print(f"lexical judge: {dict(zip(model.features, model.coef))} thresholds {model.thresholds} → {info['oof_operating_point_by_language']}")
    if searcher.dense_available:
        hy_rows = evidence_rows("hybrid")
        if all("dense1" in x for x, _, forced in hy_rows if not forced):
            model, info = fit_judge(hy_rows, FEATURES_DENSE)
            out["models"]["dense"] = model.to_dict()
            out["fit"]["dense"] = info
            print(f"dense judge: {dict(zip(model.features, model.coef))} thresholds {model.thresholds} → {info['oof_operating_point_by_language']}")
            # English questions' own model (qa/judge.py FEATURES_DENSE_EN), on English dev questions only
            en_rows = [r for r in hy_rows if r[0].get("english")]
            model, info = fit_judge(en_rows, FEATURES_DENSE_EN)
            out["models"]["dense_en"] = model.to_dict()
            out["fit"]["dense_en"] = info
            print(f"dense judge, English: {dict(zip(model.features, model.coef))} thresholds {model.thresholds} → {info['oof_operating_point_by_language']}")
        else:
            print("hits carry no dense_sim: dense judge not fitted")
    JUDGE_PATH.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"written {JUDGE_PATH}")


if __name__ == "__main__":
    main()
