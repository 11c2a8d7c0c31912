from policyqa.index.tokenize import BigramTokenizer, JiebaTokenizer, normalize_for_search, user_dictionary


def test_normalisation_folds_full_width():
    assert normalize_for_search("２０２５年ＡＩ") == "2025年ai"


def test_bigrams():
    assert BigramTokenizer().tokenize("养老服务 AI") == ["养老", "老服", "服务", "ai"]


def test_jieba_keeps_user_words_whole_and_drops_question_words():
    plain = JiebaTokenizer().tokenize("哪个部门负责五五购物节?")
    custom = JiebaTokenizer(["五五购物节"]).tokenize("哪个部门负责五五购物节?")
    assert "五五购物节" in custom and "五五购物节" not in plain
    assert "哪个" not in custom


def test_user_dictionary_from_corpus(corpus):
    words = user_dictionary(corpus.clauses)
    assert "市经济信息化委" in words  # an agency
    assert "五五购物节" in words  # a quoted term
    assert "鼓励加大研发力度" in words  # a heading
