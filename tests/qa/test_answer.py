import datetime as dt

import pytest

from policyqa.eval.answers import source_quote, verify_citation
from policyqa.eval.dataset import load_questions
from policyqa.qa.agencies import AgencyDirectory
from policyqa.qa.answer import Answerer
from policyqa.qa.citation import citation_string, sentences
from policyqa.qa.intent import classify_intent
from policyqa.qa.search import Searcher

TODAY = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def directory():
    return AgencyDirectory.load()


@pytest.fixture(scope="module")
def searcher(corpus, lexical_bundle):
    return Searcher(corpus, lexical_bundle, mode="lexical")


@pytest.fixture(scope="module")
def answerer(corpus, directory):
    return Answerer(corpus, directory)


@pytest.mark.parametrize(
    "q,intent",
    [
        ("哪个部门负责社区养老上门服务?", "agency"),
        ("邮轮消费的事归哪里管?", "agency"),
        ("Which agency is responsible for cruise tourism?", "agency"),
        ("我们是做广告的小公司，研发投入大，有什么奖励?", "support"),
        ("Is there a subsidy for computing power?", "support"),
        ("到2025年服务业增加值占比目标是多少?", "fact"),
        ("When does the 2025 measure expire?", "fact"),
        ("上海的服务业发展有什么特点", "general"),
    ],
)
def test_intent(q, intent):
    assert classify_intent(q) == intent


def test_every_printed_agency_is_in_the_directory(corpus, directory):
    printed = {a for c in corpus.clauses for a in c.agencies}
    missing = sorted(a for a in printed if directory.resolve(a) is None)
    assert missing == []


def test_directory_merges_variants_and_knows_english(directory):
    assert directory.resolve("市人才局") is directory.resolve("市人才工作局")
    assert directory.resolve("上海金融监管局") is directory.resolve("金融监管总局上海监管局")
    a = directory.resolve("上海市经济和信息化委员会")
    assert a.name == "市经济信息化委" and a.sources
    assert directory.resolve("shanghai municipal civil affairs bureau").name == "市民政局"
    assert [x.name for x in directory.find_in("what is the Civil Affairs Bureau responsible for")] == ["市民政局"]


def test_directory_full_names_from_the_document_match_its_issuer_list(corpus, directory):
    issuers = set(corpus.document("sw2025-1225").issuers)
    from_doc = [a for a in directory.agencies if dict(a.sources).get("full_name") == "document:004"]
    assert len(from_doc) >= 10
    assert all(a.full_name in issuers for a in from_doc)
    assert all(dict(a.sources).get("english_name") in ("official", "translation") for a in directory.agencies)


def test_agency_answer(answerer, searcher):
    ans = answerer.ask(searcher, "哪个部门负责社区居家养老上门服务?", as_of=TODAY)
    assert ans.answerable and ans.intent == "agency"
    assert ans.agencies[0].name == "市民政局"
    assert ans.citations[0].clause.clause_id in ans.agencies[0].clause_ids
    assert "市民政局" in ans.answer


def test_agency_ranking_puts_the_lead_first(answerer, searcher):
    ans = answerer.ask(searcher, "研发投入奖补政策哪些部门负责", as_of=TODAY)
    top = next(c for c in ans.citations if c.clause.agencies)
    assert ans.agencies[0].name == answerer.directory.canonical(top.clause.agencies[0])
    assert {a.name for a in ans.agencies} == {answerer.directory.canonical(x) for x in top.clause.agencies}


def test_support_answer_warns_about_an_expired_measure(answerer, searcher):
    q = "做广告的小公司研发投入大，有什么奖励"
    now = answerer.ask(searcher, q, as_of=TODAY)
    later = answerer.ask(searcher, q, as_of=dt.date(2029, 1, 1))
    assert now.intent == later.intent == "support"
    c_now = next(c for c in now.citations if c.clause.doc_id == "hfbf2025-5")
    c_later = next(c for c in later.citations if c.clause.doc_id == "hfbf2025-5")
    assert c_now.status.status == "in_force" and c_later.status.status == "expired"
    assert "到期" not in now.answer
    # in 2029 the expired measure is still shown when cited, flagged; current measures rank above it
    assert all("到期" in line for line in later.answer.split("\n") if "沪府办发〔2025〕5号" in line)



def test_plan_period_ended_is_flagged(answerer, searcher):
    ans = answerer.ask(searcher, "十四五规划对广告服务有什么支持", as_of=TODAY)
    plan = [c for c in ans.citations if c.clause.doc_id == "hfbf2021-7"]
    assert plan and all(c.status.status == "plan_ended" for c in plan)


@pytest.mark.parametrize("q", ["我家的猫咪最近不爱吃猫粮怎么办", "宠物狗疫苗接种去哪家医院"])
def test_no_answer(answerer, searcher, q):
    # words the documents never use: the judge refuses, as no_match, with the closest clauses shown
    ans = answerer.ask(searcher, q, as_of=TODAY)
    assert not ans.answerable and ans.message and ans.citations == () and ans.refusal.kind == "no_match"
    # below the fitted model's operating point (0 when nothing matched at all)
    assert ans.confidence is not None and 0 <= ans.confidence < answerer.judge.model_for(ans.evidence).threshold_for("zh")


def test_english_without_a_translator_in_lexical_mode_is_refused_with_a_reason(answerer, searcher):
    ans = answerer.ask(searcher, "Which agency handles home care for the elderly?", as_of=TODAY)
    assert not ans.answerable and "lexical" in ans.message and ans.refusal.kind == "language"


@pytest.fixture(scope="module")
def translating(corpus, lexical_bundle, answerer):
    from policyqa.qa.translate import QueryTranslator, corpus_text

    tr = QueryTranslator(corpus_text(corpus.clauses), vocabulary=answerer.vocabulary)
    return Searcher(corpus, lexical_bundle, mode="lexical", translator=tr)


def test_english_agency_question_is_answered_through_its_translation(answerer, translating):
    ans = answerer.ask(translating, "Which department handles home care for the elderly, such as family care beds?", as_of=TODAY)
    assert ans.answerable and ans.intent == "agency" and ans.mode == "lexical"
    assert "床位" in ans.translation.chinese and ans.agencies[0].name == "市民政局"
    # the highlight is the sentence that shares most with the Chinese terms searched
    assert "床位" in ans.citations[0].highlight.text


@pytest.mark.parametrize(
    "q,kind,detail",
    [
        ("深圳对服务业企业有什么补贴？", "other_place", "深圳"),
        ("Does Beijing give rent subsidies to AI start-ups?", "other_place", "Beijing"),
        ("國務院《關於加快發展養老服務業的若干意見》裡對養老機構有什麼規定？", "other_document", "关于加快发展养老服务业的若干意见"),
        ("首店奖励最多能拿多少钱？", "amount_not_stated", ""),
    ],
)
def test_refusals_name_their_reason(answerer, translating, q, kind, detail):
    ans = answerer.ask(translating, q, as_of=TODAY)
    assert not ans.answerable and ans.refusal.kind == kind and ans.refusal.detail == detail
    assert ans.citations == () and ans.message


@pytest.mark.parametrize(
    "q",
    [
        "2020年上海电子商务交易额有多少？",  # an amount the clause states
        "那个促进服务业创新发展的若干措施，有效期到哪天？",  # a date every document carries
        "《上海市促进服务业创新发展若干措施》对广告业有什么支持？",  # a document that is here
        "浦东新区在服务业上有什么布局？",  # a place the documents name
    ],
)
def test_scope_rules_do_not_refuse_what_the_documents_answer(answerer, translating, q):
    assert answerer.ask(translating, q, as_of=TODAY).answerable


def test_reverse_agency_question(answerer, searcher, corpus):
    ans = answerer.ask(searcher, "市民政局负责哪些事?", as_of=TODAY)
    assert ans.reverse_agency.name == "市民政局"
    expected = {c.clause_id for c in corpus.clauses if "市民政局" in c.agencies}
    assert {c.clause.clause_id for c in ans.citations} == expected
    assert [d for d, _ in ans.reverse_documents] == sorted({corpus.clause(c).doc_id for c in expected}, key=[pd.document.doc_id for pd in corpus.documents].index)


def test_citation_string(corpus):
    c = corpus.clause("hfbf2025-5:2.3.6")
    assert citation_string(c, corpus.document("hfbf2025-5"), corpus) == "《上海市促进服务业创新发展若干措施》（沪府办发〔2025〕5号）二、（三）6."
    p = corpus.clause("hfbf2021-7:3.2.2.p2")
    assert citation_string(p, corpus.document("hfbf2021-7"), corpus).endswith("三、（二）2.第2段")
    s = corpus.clause("sw2025-1225:1.2")
    assert citation_string(s, corpus.document("sw2025-1225"), corpus) == "《关于进一步扩大上海服务消费的若干措施》（2025年12月25日）一、（二）"


def test_sentences_do_not_split_decimals():
    text = "占比达到４．５%左右.第二句。"
    assert [text[s:e] for s, e in sentences(text)] == ["占比达到４．５%左右.", "第二句。"]


def test_source_quote_joins_hard_breaks():
    src = "上海市促进服务业\n\n—１—\n\n 创新发展若干措施"
    assert source_quote(src, 0, len(src)) == "上海市促进服务业创新发展若干措施"


def test_every_citation_of_every_eval_question_checks_out(answerer, searcher, corpus):
    checked = 0
    for q in load_questions():
        ans = answerer.ask(searcher, q.question, as_of=TODAY)
        for c in (*ans.citations, *ans.closest):
            assert c.highlight is not None
            h = c.highlight
            assert c.clause.text[h.start : h.end] == h.text
            assert verify_citation(corpus, c.clause.clause_id, h.text, h.source.start, h.source.end), (q.id, c.clause.clause_id)
            checked += 1
    assert checked > 300


def test_refusal_kinds_are_checked_and_every_kind_has_both_messages():
    from policyqa.qa.answer import REFUSALS, Refusal

    with pytest.raises(ValueError, match="no_match"):
        Refusal("not_a_reason")
    assert Refusal("other_place", "深圳").message(english=False) == "这几份是上海市的政策文件，没有关于深圳的规定。"
    assert all(en and zh for en, zh in REFUSALS.values())


def _prints(directory, clause, name):
    return any(directory.canonical(a) == name for a in clause.agencies)


def test_no_eval_answer_shows_an_agency_beside_a_clause_that_does_not_print_it(answerer, translating, corpus, directory):
    """Every agency of every answer to every eval question is printed by each clause it is shown with, and
    an answer whose best clause lists no agency says so before offering another clause's."""
    checked = 0
    for q in load_questions():
        ans = answerer.ask(translating, q.question, as_of=TODAY)
        for a in ans.agencies:
            assert a.clause_ids, (q.id, a.name)
            for cid in a.clause_ids:
                assert _prints(directory, corpus.clause(cid), a.name), (q.id, a.name, cid)
                checked += 1
        if ans.answerable and ans.intent == "agency" and ans.reverse_agency is None and ans.citations:
            best = ans.citations[0]
            if ans.agencies_source == "best_clause":
                assert all(_prints(directory, best.clause, a.name) for a in ans.agencies), q.id
            elif ans.agencies_source == "cited_clauses":
                # a question asking several things: each part's agencies beside that part's cited clauses
                assert ans.parts, q.id
                cited = {c.clause.clause_id for c in ans.citations}
                assert all(set(a.clause_ids) & cited for a in ans.agencies), q.id
            else:
                assert not best.clause.agencies, q.id
                assert ("未列明责任单位" in ans.answer) or ("names no responsible agency" in ans.answer), q.id
    assert checked > 100


def test_lead_agency_first_and_borrowed_agencies_labelled(corpus, directory):
    from policyqa.qa.compose import lead_order

    c = corpus.clause("hff2026-1:5.16")  # 市发展改革委牵头统筹协调
    assert lead_order(c)[0] == "市发展改革委"
    plain = next(x for x in corpus.clauses if len(x.agencies) > 2 and "牵头" not in x.text)
    assert lead_order(plain) == list(plain.agencies)


def test_agency_answer_when_the_best_clause_lists_none(answerer, corpus, directory):
    from policyqa.qa.search import Hit

    bare = next(c for c in corpus.clauses if not c.agencies and len(c.text) > 40)
    listed = next(c for c in corpus.clauses if len(c.agencies) >= 2)
    passage = lambda c: type("P", (), {"text": c.text})()  # noqa: E731
    hits = [Hit(bare, 0.03, passage(bare), ()), Hit(listed, 0.02, passage(listed), ())]
    found, source, from_best = answerer.composer.agency_answer(hits)
    assert source.clause is listed and not from_best
    assert [a.name for a in found] == [directory.canonical(x) for x in listed.agencies]
    assert all(a.clause_ids == (listed.clause_id,) for a in found)


def test_traditional_and_full_width_questions_are_answered_like_simplified(answerer, searcher):
    simp = answerer.ask(searcher, "哪个部门负责社区居家养老上门服务?", as_of=TODAY)
    trad = answerer.ask(searcher, "哪個部門負責社區居家養老上門服務？", as_of=TODAY)
    assert trad.answerable and trad.intent == "agency"
    assert [a.name for a in trad.agencies] == [a.name for a in simp.agencies]
    assert trad.question.text == "哪个部门负责社区居家养老上门服务?"


def test_a_document_asked_about_by_its_number_is_recognised(answerer, searcher):
    q = answerer.analyse(searcher, "沪府办发[2025]5号是哪天印发的？")
    assert q.documents == ("hfbf2025-5",) and q.about_document_date and "date" in q.asks


def test_rule_modules_do_not_tokenise_or_translate_on_their_own():
    """qa/ reads as a pipeline: only the analysis tokenises and translates the question."""
    import pathlib
    import re as _re

    root = pathlib.Path(__file__).resolve().parents[2] / "qa"
    for name in ("scope.py", "intent.py", "judge.py", "compose.py", "citation.py"):
        src = (root / name).read_text(encoding="utf-8")
        assert not _re.search(r"^from \.translate import|^import jieba", src, _re.M), name
        assert "JiebaTokenizer(" not in src and ".translate(" not in src, name


@pytest.mark.parametrize(
    "q", ["沪府办发[2025]5号是哪天印发的？", "《上海市促进服务业创新发展若干措施》现在还有效吗？", "Is 沪府办发〔2025〕5号 still in force?"]
)
def test_a_document_s_dates_come_from_its_record(answerer, searcher, q):
    ans = answerer.ask(searcher, q, as_of=TODAY)
    assert ans.answerable and ans.citations[0].clause.doc_id == "hfbf2025-5"
    assert ("2028" in ans.answer) and ("沪府办发〔2025〕5号" in ans.answer)


@pytest.mark.parametrize(
    "q,asking,topic",
    [
        ("想在夜市开店，特色美食街区是哪些政府部门牵头？", {"部门", "牵头"}, {"夜市", "美食"}),
        ("邮轮奖励谁管", {"管"}, {"邮轮", "奖励"}),
    ],
)
def test_the_words_asking_who_is_responsible_are_not_the_topic(answerer, searcher, q, asking, topic):
    """A clause answers 'who is responsible' with its printed agency list, not with the words 部门 or 牵头, so the
    judge's coverage reads the question without them; search still reads every token."""
    aq = answerer.analyse(searcher, q)
    assert aq.intent == "agency"
    assert asking <= set(aq.tokens) and not asking & set(aq.topic_tokens)
    assert topic <= set(aq.topic_tokens)


@pytest.mark.parametrize(
    "q",
    [
        "Which government bodies are in charge of chef studios?",
        "Which city agencies handle cruise tourism?",
        "Who decides on the cap on concert tickets?",
        "这事找哪个市级部门？",
    ],
)
def test_who_is_responsible_asked_with_a_modifier_or_a_verb_of_deciding(q):
    from policyqa.qa.intent import CUES

    assert CUES["agency"].search(q)


def test_another_document_is_not_taken_for_one_of_these_by_a_shared_part_of_its_title(answerer, searcher):
    """国务院's 意见 shares most of its title with the city's 实施意见: it is another document, refused as such."""
    q = answerer.analyse(searcher, "国务院《关于推进服务业扩能提质的意见》是哪天印发的？")
    assert q.other_documents and not q.documents
    ans = answerer.ask(searcher, "国务院《关于推进服务业扩能提质的意见》是哪天印发的？", as_of=TODAY)
    assert not ans.answerable and ans.refusal.kind == "other_document"


def test_validity_asked_of_a_document_that_prints_none_is_not_invented(answerer, searcher):
    ans = answerer.ask(searcher, "When do the December 2025 service consumption measures expire?", as_of=TODAY)
    assert not ans.answerable and ans.refusal.kind == "validity_not_stated"
    assert ans.closest and ans.closest[0].clause.doc_id == "sw2025-1225" and "2025-12-25" in ans.message
    # one that prints its validity is answered from its record
    ok = answerer.ask(searcher, "服务业创新发展那份若干措施哪天开始执行，有效期到哪天?", as_of=TODAY)
    assert ok.answerable and "2028" in ok.answer


def test_english_questions_with_dense_evidence_are_judged_by_their_own_model(answerer):
    from policyqa.qa.judge import FEATURES_DENSE, FEATURES_LEXICAL

    judge = answerer.judge
    en = judge.models["dense_en"]  # fitted on English dev questions only, with its own operating point
    assert "english" not in en.features and "rare_missing" in en.features and dict(en.thresholds).keys() == {"en"}
    x = {f: 0.5 for f in (*FEATURES_DENSE, *en.features)}
    assert judge.model_for({**x, "english": 1.0}) is en
    assert judge.model_for({**x, "english": 0.0}) is judge.models["dense"]
    # no dense evidence (lexical mode): the lexical model, whatever the language
    assert judge.model_for({f: 0.5 for f in FEATURES_LEXICAL} | {"english": 1.0}) is judge.models["lexical"]


@pytest.mark.parametrize(
    "q,topic",
    [
        ("培育仲裁机构这件事，是哪些单位负责的？", ["培育", "仲裁", "机构"]),
        ("小区前置仓这块，是哪几个局在管？", ["小区", "前置", "仓"]),
        ("科技创新券归谁管", ["科技", "创新"]),
    ],
)
def test_topic_leaves_out_asking_who_and_pointing_back(answerer, searcher, q, topic):
    # the verb after the department word (负责, 在管) asks who, and 这块/这件事 point back at the topic named:
    # neither is part of what the judge looks for in the clauses (search still uses every token)
    aq = answerer.analyse(searcher, q)
    assert all(t in aq.topic_tokens for t in topic)
    assert not {"负责", "在管", "管", "这块", "这件", "这件事", "归"} & set(aq.topic_tokens)


def test_places_asked_where_no_clause_lists_them_are_refused_as_such(answerer, searcher):
    # the clause sets up the food districts without naming where: the refusal says places, not names
    a = answerer.ask(searcher, "哪些区会建国际美食集聚区？", as_of=TODAY)
    assert not a.answerable and a.refusal.kind == "places_not_stated" and a.closest
    assert "地点" in a.refusal.message(english=False) and "places" in a.refusal.message(english=True)
