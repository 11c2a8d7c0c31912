"""Place detection skips the part-of-speech tagger when no word it could report occurs in the question;
the places found are the same as when it always runs."""

import random

from policyqa.qa.analysis import PlaceNames

TEXT = "推动浦东新区、长三角一体化和上海服务业发展"

QUESTIONS = [
    "深圳对服务业企业有什么补贴",
    "北京和广州的人才政策有什么不同",
    "苏州工业园区的企业能申请吗",
    "浦东新区有什么补贴",
    "长宁区的养老服务",
    "社会治安综合治理归哪个部门",
    "新疆维吾尔自治区的企业",
    "哪个部门负责社区养老上门服务",
    "",
]


def always_tagging(places: PlaceNames) -> PlaceNames:
    places._may_tag_place = lambda query: True  # what foreign did before the pre-check
    return places


def test_same_places_as_always_tagging():
    rng = random.Random(7)
    noise = ["".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n)) for n in (5, 30, 120, 500) for _ in range(5)]
    quick, full = PlaceNames(TEXT), always_tagging(PlaceNames(TEXT))
    for q in QUESTIONS + noise:
        assert quick.foreign(q) == full.foreign(q), q
    assert quick.foreign("深圳对服务业企业有什么补贴") == ["深圳"]


def test_the_tagger_runs_only_when_a_place_word_occurs():
    places = PlaceNames(TEXT)
    tagger = places._posseg()
    calls = []
    real = tagger.lcut
    places._pos = type("Counting", (), {"lcut": lambda self, q, **kw: (calls.append(q), real(q, **kw))[1],
                                        "tokenizer": tagger.tokenizer,
                                        "word_tag_tab": tagger.word_tag_tab,
                                        "makesure_userdict_loaded": tagger.makesure_userdict_loaded})()
    assert places.foreign("哪个部门负责社区养老上门服务") == [] and calls == []
    assert places.foreign("杭州有什么补贴") == ["杭州"] and calls == ["杭州有什么补贴"]
