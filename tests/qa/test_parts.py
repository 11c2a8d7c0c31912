"""Questions asking several things at once: found by the grammar of asking, each part answered on its own."""

import datetime as dt

import pytest

from policyqa.qa.agencies import AgencyDirectory
from policyqa.qa.analysis import MAX_PARTS, MAX_PARTS_CHARS, normalise, question_parts
from policyqa.qa.answer import Answerer
from policyqa.qa.search import Searcher

TODAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize(
    "text,parts",
    [
        ("服务型体育消费占比目标是多少？电竞服务消费生态圈又是哪些部门负责？", ("服务型体育消费占比目标是多少?", "电竞服务消费生态圈又是哪些部门负责?")),
        (
            "What is the 2027 target for cruise passengers, and which agencies are handling cruise consumption?",
            ("What is the 2027 target for cruise passengers", "which agencies are handling cruise consumption?"),
        ),
        ("开餐饮首店有没有奖励，另外全市计划引进多少家？", ("开餐饮首店有没有奖励", "全市计划引进多少家?")),
        # one question, with a preamble and a thank-you: one part
        ("我们是做广告的小公司，研发投入大，有什么奖励？谢谢！", ()),
        ("I run a small ad agency. We spend a lot on R&D. Is there any reward?", ()),
        # a follow-up too short to be searched alone stays with its question
        ("首店奖励有吗？多少？", ()),
        ("", ()),
    ],
)
def test_question_parts(text, parts):
    assert question_parts(normalise(text)) == parts


def test_parts_are_bounded():
    many = "？".join(f"第{i}项服务消费目标是多少" for i in range(12)) + "？"
    parts = question_parts(normalise(many))
    assert len(parts) == MAX_PARTS and parts[-1].count("?") == 12 - MAX_PARTS + 1
    # a text longer than MAX_PARTS_CHARS is not split at all (each part would be searched again)
    long = "？".join(f"第{i}项服务消费目标是多少" for i in range(40)) + "？"
    assert len(normalise(long)) > MAX_PARTS_CHARS and question_parts(normalise(long)) == ()


@pytest.fixture(scope="module")
def searcher(corpus, lexical_bundle):
    return Searcher(corpus, lexical_bundle, mode="lexical")


@pytest.fixture(scope="module")
def answerer(corpus):
    return Answerer(corpus, AgencyDirectory.load())


def test_two_answered_parts_give_both_answers_and_both_clauses(answerer, searcher):
    first, second = "服务型体育消费占比目标是多少？", "电竞服务消费生态圈又是哪些部门负责？"
    a1, a2 = (answerer.ask(searcher, q, as_of=TODAY) for q in (first, second))
    assert a1.answerable and a2.answerable
    both = answerer.ask(searcher, first + second, as_of=TODAY)
    assert both.answerable and len(both.parts) == 2 and both.refusal is None
    cited = [c.clause.clause_id for c in both.citations]
    assert a1.citations[0].clause.clause_id in cited and a2.citations[0].clause.clause_id in cited
    # the agency part's agencies, each beside clauses that print it, every one of them cited
    assert {a.name for a in a2.agencies} <= {a.name for a in both.agencies}
    for a in both.agencies:
        assert any(answerer.directory.canonical(x) == a.name for cid in a.clause_ids for x in answerer.corpus.clause(cid).agencies)
        assert a.clause_ids[0] in cited
    assert both.answer.count("（") >= 2 and a2.agencies[0].name in both.answer
    assert both.confidence == min(a1.confidence, a2.confidence)


def test_a_part_the_documents_do_not_answer_is_named_in_the_refusal(answerer, searcher):
    q = "海外仓建设有补贴吗？一平米补多少钱？"
    ans = answerer.ask(searcher, q, as_of=TODAY)
    assert not ans.answerable and len(ans.parts) == 2 and ans.parts[0].answerable and not ans.parts[1].answerable
    assert ans.refusal.kind == ans.parts[1].refusal.kind == "amount_not_stated"
    assert "一平米补多少钱" in ans.message
    # the answered part's clauses are offered as the closest
    assert ans.parts[0].citations[0].clause.clause_id in [c.clause.clause_id for c in ans.closest]


def test_a_named_documents_dates_are_answered_from_its_record_not_split(answerer, searcher):
    ans = answerer.ask(searcher, "《上海市促进服务业创新发展若干措施》现在还有效吗？有效期到哪天？", as_of=TODAY)
    assert ans.answerable and ans.parts == () and ans.confidence == 1.0 and "2028" in ans.answer
