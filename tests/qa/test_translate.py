import pytest

from policyqa.qa.translate import QueryTranslator, content_words, glosses, is_english

# A few CC-CEDICT lines' worth of entries, so the rules are tested on data small enough to read.
ENTRIES = [
    ("养老", "to provide for the elderly (family members)/to enjoy a life in retirement"),
    ("床位", "bed (in hospital, hotel, train etc)/berth/bunk"),
    ("家庭", "family/household/CL:戶|户[hu4],個|个[ge4]"),
    ("算力", "computing power"),
    ("券", "bond (i.e. certificate)/certificate/ticket/voucher"),
    ("民政", "civil administration"),
    ("办公室", "office/business premises/bureau/CL:間|间[jian1]"),
    ("公室", "office (abbr.)"),  # a real substring of 办公室, never a word of its own in the text
    ("电竞", "video gaming (as a sport)/e-sports (abbr. for 電子競技|电子竞技[dian4 zi3 jing4 ji4])"),
    ("张", "surname Zhang"),
    ("十四五", "14th Five-Year Plan"),
]
TEXT = "推进社区养老，增加家庭照护床位。发放算力券。市民政局办公室。支持电竞产业。“十四五”时期。"
VOCAB = {"养老", "家庭", "照护", "床位", "算力", "算力券", "民政", "办公室", "电竞", "十四五"}


@pytest.fixture(scope="module")
def tr():
    return QueryTranslator(TEXT, vocabulary=VOCAB, entries=ENTRIES)


def test_is_english():
    assert is_english("Which agency handles elderly care?")
    assert not is_english("哪个部门负责养老?")
    assert not is_english("2025")


def test_glosses_drop_measure_words_surnames_and_asides():
    assert glosses("to provide for the elderly (family members)/to enjoy a life in retirement") == [
        "provide for the elderly", "enjoy a life in retirement"]
    assert glosses("surname Zhang") == [] and glosses("CL:個|个[ge4]") == []


def test_content_words_stem_and_split_hyphens(tr):
    words = content_words("Who handles e-sports and the elderly's beds?", tr._stem)
    assert "esport" in words and "sport" in words and "bed" in words and "who" not in words


def test_translation_keeps_only_words_of_the_documents(tr):
    t = tr.translate("Who provides beds for elderly family members at home?")
    zh = t.chinese
    assert {"养老", "床位", "家庭"} <= set(zh)
    # 公室 occurs in the text only inside 办公室: a substring, not a word of the text
    assert tr.translate("business premises").chinese == ("办公室",)


def test_compounds_are_formed_when_the_documents_use_them(tr):
    t = tr.translate("computing power voucher")
    assert "算力券" in t.chinese and "算力" in t.chinese


def test_numbered_plans_and_closed_hyphen_forms(tr):
    assert "十四五" in tr.translate("the 14th Five-Year Plan").chinese
    assert "电竞" in tr.translate("esports").chinese


def test_nothing_to_translate():
    t = QueryTranslator(TEXT, vocabulary=VOCAB, entries=ENTRIES).translate("hello there")
    assert not t and t.text == ""


def test_options_are_checked():
    with pytest.raises(ValueError, match="min_match"):
        QueryTranslator(TEXT, min_match=0, entries=ENTRIES)
    with pytest.raises(ValueError, match="per_word"):
        QueryTranslator(TEXT, per_word=0, entries=ENTRIES)


def test_the_tenth_plan_is_shiwu():
    t = QueryTranslator(TEXT + "“十五”期间", vocabulary=VOCAB | {"十五"}, entries=ENTRIES)
    assert "十五" in t.translate("during the 10th Five-Year Plan").chinese


def test_real_dictionary_on_the_real_corpus(corpus):
    from policyqa.qa.translate import corpus_text

    t = QueryTranslator(corpus_text(corpus.clauses)).translate("Which agencies support outdoor sports and esports?")
    assert {"户外", "电竞"} <= set(t.chinese)


def test_word_families_porter_keeps_apart_are_looked_up_together():
    # Porter stems consumption → consumpt but consume → consum: the gloss "to consume" must still be found,
    # and found before a gloss that shares only one of two words ("energy consumption")
    entries = [("消费", "to consume"), ("能耗", "energy consumption")]
    t = QueryTranslator("扩大服务消费。降低能耗。", vocabulary={"扩大", "服务", "消费", "降低", "能耗"}, entries=entries)
    assert t.translate("service consumption").terms[0][1][0] == "消费"
    # a short stem is no family: "infra" must not pull in "inform…"
    assert t._related("inform") == set()


def test_contractions_are_not_content_words(tr):
    words = content_words("We're moving; I'd ask; don't the company's beds", tr._stem)
    assert "re" not in words and "d" not in words and "t" not in words and "bed" in words and "compani" in words


def test_confirmed_keeps_renderings_the_dense_clauses_print():
    from policyqa.qa.translate import Translation, confirmed

    t = Translation("service sector", (("servic", ("服务", "业务")), ("sector", ("板块", "区块")), ("loan", ("贷款",))))
    got = confirmed(t, ["支持服务业发展", "扩大服务消费"], fallback=1)
    # printed renderings kept; a word none of whose renderings is printed keeps its first only
    assert got.terms == (("servic", ("服务",)), ("sector", ("板块",)), ("loan", ("贷款",)))
    assert confirmed(t, ["无关"], fallback=0).terms == ()


def test_names_written_in_pinyin_are_searched_as_the_documents_write_them():
    from policyqa.qa.translate import pinyin_names

    entries = [*ENTRIES, ("风险", "risk/hazard"), ("奉贤", "Fengxian suburban district of Shanghai"), ("防范", "to be on guard/to prevent")]
    text = "支持临港新片区和静安区建设专业服务集聚区。奉贤新城。防范风险。"
    vocab = {"临港", "新片区", "静安", "集聚区", "奉贤", "新城", "风险", "防范"}
    names = pinyin_names(vocab, entries)
    # a word the dictionary lacks is known by its pinyin; one it translates only when glossed by its pinyin
    assert names["lingang"] == ["临港"] and names["jingan"] == ["静安"] and names["fengxian"] == ["奉贤"]
    assert "fangfan" not in names and names["fengxian"] != ["风险"]  # 防范 means prevent: CC-CEDICT glosses it, not with its pinyin
    tr = QueryTranslator(text, vocabulary=vocab, entries=entries)
    got = dict(tr.translate("What is planned for Lingang and Jing'an? And Fengxian?").terms)
    assert got["lingang"] == ("临港",) and got["jingan"] == ("静安",) and got["fengxian"] == ("奉贤",)
    assert tr.renders("Lingang") and not tr.renders("Zhangjiang")
    # a place name spelt as the pinyin of a word the documents print is theirs (Fengxian is 奉贤)
    assert tr.spells_printed("Fengxian") and tr.spells_printed("Jing'an") and not tr.spells_printed("Beijing")
    # an apostrophe that is not a contraction joins pinyin syllables; contractions stay grammar
    assert "jingan" in content_words("Jing'an district's plan", tr._stem) and "s" not in content_words("it's", tr._stem)
