from policyqa.qa.analysis import PlaceNames, normalise
from policyqa.qa.scope import (
    asked_kinds,
    doc_number_key,
    missing_kinds,
    other_document,
    same_doc_number,
    states,
    states_count,
)


def test_asked_kinds_are_interrogatives_not_topics():
    assert asked_kinds("首店奖励最多能拿多少钱？") == {"amount"}
    assert asked_kinds("How much is one voucher worth? How much money can we get?") == {"amount"}
    assert asked_kinds("旅游节什么时候开幕？") == {"date"}
    assert asked_kinds("占比要达到多大比例？") == {"share"}
    assert asked_kinds("要建几个示范区？") == {"count"}
    assert asked_kinds("绿色餐厅要满足哪些条件？去哪里申报？") == {"procedure"}
    # a topic word asks for nothing: 收费 and 比例 name what the question is about
    assert asked_kinds("养老机构收费有什么规定") == frozenset()
    assert asked_kinds("比例原则是怎么体现的") == frozenset()
    # "which ones" (哪几) and a count in passing are not questions after a figure
    assert "count" not in asked_kinds("是哪几个部门在搭？")
    # English money words ask for a sum as the Chinese ones do; 'how much' before another noun does not
    assert asked_kinds("How much reward do platforms get for issuing coupons?") == {"amount"}
    assert asked_kinds("What fee is charged for the certification?") == {"amount"}
    assert asked_kinds("How much land will the new parks use?") == frozenset()
    # what a list contains is asked like the names on it; a list as the topic asks nothing of the kind
    assert asked_kinds("认可清单里具体有哪些证书？") == {"names"}
    assert asked_kinds("What does the negative list include?") == {"names"}
    assert asked_kinds("Which data categories are on Shanghai's negative list?") == {"names"}
    assert "names" not in asked_kinds("负面清单是什么时候发布的")


def test_missing_kinds_reads_what_the_clauses_print():
    assert missing_kinds(frozenset({"amount"}), ["对首店给予奖励。"]) == ["amount"]
    assert missing_kinds(frozenset({"amount"}), ["给予最高500万元奖励。"]) == []
    assert missing_kinds(frozenset({"date"}), ["办好上海旅游节。", "到2027年建成"]) == ["date"]
    assert missing_kinds(frozenset({"date"}), ["每年9月举办上海旅游节。"]) == []
    assert missing_kinds(frozenset({"date"}), ["到2027年建成"], "哪一年建成？") == []  # a year answers 哪一年
    assert missing_kinds(frozenset({"share"}), ["占比达到45%左右。"]) == []
    assert missing_kinds(frozenset({"procedure"}), ["由市商务委受理申请。"]) == []
    assert states_count("建设10个示范区") and states_count("引进三批") and not states_count("到2025年建成")
    # 一批 ('a batch of') says some, not how many; 十一批 counts
    assert not states_count("建设一批零碳园区") and states_count("已认定十一批")
    # a list is answered by its printed items, not by the announcement that it exists
    assert missing_kinds(frozenset({"names"}), ["动态发布境外职业资格认可清单。"]) == ["names"]
    assert missing_kinds(frozenset({"names"}), ["认可清单包括特许金融分析师、注册会计师等证书。"]) == []


def test_other_document_by_title():
    titles = ["上海市促进服务业创新发展若干措施", "关于进一步扩大上海服务消费的若干措施"]
    assert other_document("《关于扩大服务消费的若干政策措施》有哪几条？", titles) == "关于扩大服务消费的若干政策措施"
    assert other_document("《上海市促进服务业创新发展若干措施》有效期？", titles) is None
    assert other_document("《关于进一步扩大上海服务消费若干措施》", titles) is None  # a slip in the title
    assert other_document("没有书名号的问题", titles) is None


def test_document_numbers_in_any_bracket():
    printed = doc_number_key("沪府办发〔2025〕5号")
    assert printed == ("沪府办发", "2025", "5")
    for asked in ("沪府办发[2025]5号是哪天发的", "沪府办发(2025)5号", "是沪府办发〔2025〕5号吗"):
        assert same_doc_number(doc_number_key(asked), printed), asked
    assert not same_doc_number(doc_number_key("沪府发〔2025〕5号"), printed)


def test_normalise_traditional_and_full_width():
    assert normalise("哪個部門負責社區養老上門服務？") == "哪个部门负责社区养老上门服务?"
    assert normalise("２０２５年ＡＩ") == "2025年AI"
    assert normalise("Which agency?") == "Which agency?"


def test_place_names_the_documents_never_mention():
    places = PlaceNames("推动浦东新区、长三角一体化和上海服务业发展")
    assert places.foreign("深圳对服务业企业有什么补贴") == ["深圳"]
    assert places.foreign("浦东新区有什么补贴") == []
    # a word jieba may tag as a place but the dictionary does not gloss as a name is not a place
    assert places.foreign("社会治安综合治理归哪个部门") == []
    assert places.foreign_en("Does Shenzhen give rent subsidies?") == ["Shenzhen"]
    assert places.foreign_en("Does the Hong Kong government fund start-ups?") == ["Hong Kong"]
    # capitalised ordinary words and the city itself are not foreign places
    assert places.foreign_en("What does the Central Activity Zone in Shanghai do?") == []
    assert places.foreign_en("Can I pay with a Visa card at the night market?") == []


def test_asked_kinds_follow_grammar_not_listed_measure_words():
    # any measure word after 几 / any 多少 that is not money asks for a number; 哪几 asks "which ones"
    assert asked_kinds("到2027年养老床位要达到多少张？") == {"count"}
    assert asked_kinds("要培育几座示范园？") == {"count"}
    # money words before 多少 ask for a sum, not a count
    assert asked_kinds("新型学徒制补贴标准每人多少") == {"amount"}
    assert asked_kinds("What's the interest subsidy rate on these loans?") == {"share"}
    assert asked_kinds("博物馆一般开到晚上几点？") == {"date"}
    assert asked_kinds("算力券咋申请") == {"procedure"}
    assert asked_kinds("How do I renew my work permit here?") == {"procedure"}
    assert asked_kinds("What's the phone number to apply?") >= {"contact"}
    assert asked_kinds("哪个部门负责社区养老上门服务？") == {"agency"}


def test_states_reads_printed_forms():
    assert missing_kinds(frozenset({"contact"}), ["详询12345市民服务热线。"]) == []
    assert missing_kinds(frozenset({"contact"}), ["优化服务流程。"]) == ["contact"]
    assert missing_kinds(frozenset({"date"}), ["受理后5个工作日内办结。"]) == []
    # a bare year is no hour, day or time limit
    assert missing_kinds(frozenset({"date"}), ["到2027年建成"], "几点开放？") == ["date"]


def test_indefinite_ji_asks_for_no_number():
    # 几 is 'several' where that part of the question does not ask: before a comma that leads to the question
    # proper, beside another question word, or in 这几/前几/好几/十几
    assert "count" not in asked_kinds("我们引进了几家配套企业，有奖励吗？")
    assert "count" not in asked_kinds("前后几份文件里分别怎么说的？")
    assert "date" not in asked_kinds("这几年的文件里是怎么提的？")
    assert "count" not in asked_kinds("好几个区都在试点，效果怎样")
    # …and asks "how many" where it does
    assert asked_kinds("一共批了几家？都是哪几家？") == {"count"}
    assert asked_kinds("零碳园区建几个") == {"count"}


def test_money_words_and_procedure_nouns():
    # a money word after 多少, a fund's size, registered capital: a sum is asked
    assert asked_kinds("认定以后有多少奖励？") == {"amount"}
    assert asked_kinds("外商独资医院的注册资本最低是多少?") == {"amount"}
    assert asked_kinds("How big is the industry mother fund in total?") == {"amount"}
    # 消费 (consumption) and 评价 (evaluation) are not money
    assert asked_kinds("信息消费新品要培育多少个？") == {"count"}
    assert asked_kinds("服务质量评价指标有多少项？") == {"count"}
    # 流程 / 手续 / 步骤 with a question word ask for the procedure
    assert asked_kinds("购物节商家报名参加的流程是啥?") == {"procedure"}


def test_nouns_of_procedure_and_contact_ask_only_with_a_question_word():
    # 流程优化 (streamlining) and "upgrading the website" name a topic; 流程是啥 and "what is the website" ask
    assert asked_kinds("办境外投资备案，流程优化归哪几家管？") == {"agency"}
    assert "contact" not in asked_kinds("Who is responsible for upgrading the city's promotion website and app?")
    assert asked_kinds("申请要哪些手续") == {"procedure"}
    assert asked_kinds("申报网站是什么") == {"contact"}
    assert asked_kinds("What is the website for applying?") == {"contact"}


def test_who_asked_with_a_verb_of_running_or_as_a_choice():
    assert asked_kinds("顶级赛事是哪家在管？") == {"agency"}
    assert asked_kinds("这事谁在抓") == {"agency"}
    assert asked_kinds("是教委负责还是外办？") == {"agency"}
    assert "agency" not in asked_kinds("哪家银行利率低")


def test_english_asks_read_through_contractions_rates_and_where_to():
    assert asked_kinds("What's the website to apply to the culture fund?") == {"contact"}
    assert asked_kinds("What is the reward per cruise call?") == {"amount"}
    assert asked_kinds("What are the subsidy amounts under the elderly care measures?") == {"amount"}
    assert asked_kinds("Where do I report construction noise at night?") == {"procedure"}
    assert asked_kinds("What criteria must a restaurant meet to be certified green?") == {"procedure"}
    assert asked_kinds("在哪里下载人才目录？") == {"contact"}
    # a support question names no kind of detail
    assert asked_kinds("What support is there for small companies?") == frozenset()


def test_named_organisations_are_asked_for_only_with_a_question_word():
    assert asked_kinds("Which firms were picked for the overseas investment pilot?") == {"names"}
    assert asked_kinds("Which companies are currently on the no-disturbance list?") == {"names"}
    assert asked_kinds("国际医疗旅游试点具体是哪几家医院?") == {"names"}
    assert asked_kinds("示范区有名单吗") == {"names"}
    # who may apply is a condition, not a list of names; a list as a topic asks nothing of it
    assert asked_kinds("Which companies can apply for the subsidy?") == frozenset()
    assert "names" not in asked_kinds("重点商标保护名录是哪个单位负责？")
    # answered only by a clause that prints names of organisations
    assert missing_kinds(frozenset({"names"}), ["支持保险机构开展一码通赔服务。"]) == ["names"]
    assert missing_kinds(frozenset({"names"}), ["首批试点为瑞金医院、华山医院和中山医院。"]) == []


def test_a_document_named_by_its_year_and_kind():
    import datetime as dt

    from policyqa.qa.scope import documents_by_year_and_kind

    docs = [
        ("a", "关于进一步扩大服务消费的若干措施", dt.date(2025, 12, 25)),
        ("b", "促进服务业创新发展若干措施", dt.date(2025, 3, 12)),
        ("c", "促进服务消费提质扩容的实施方案", dt.date(2024, 3, 1)),
        ("d", "关于推进服务业扩能提质的实施意见", dt.date(2026, 5, 25)),
    ]
    assert documents_by_year_and_kind("When do the December 2025 measures expire?", docs) == ["a"]
    assert documents_by_year_and_kind("Is the 2024 plan still valid?", docs) == ["c"]
    assert documents_by_year_and_kind("2026年的实施意见有效期到什么时候", docs) == ["d"]
    # two 2025 measures: the year alone does not say which; no kind word: no document
    assert documents_by_year_and_kind("Are the 2025 measures still in force?", docs) == []
    assert documents_by_year_and_kind("What happened in 2024?", docs) == []


def test_a_document_named_by_a_distinctive_part_of_its_title():
    from policyqa.qa.scope import documents_by_title_part

    titles = [("a", "上海市促进服务业创新发展若干措施"), ("b", "本市促进服务消费提质扩容的实施方案"), ("c", "关于进一步扩大上海服务消费的若干措施")]
    assert documents_by_title_part("服务业创新发展那份若干措施哪天开始执行？", titles) == ["a"]
    assert documents_by_title_part("服务消费提质扩容那个方案什么时候印发的", titles) == ["b"]
    # a part shared by two titles, or no kind word, names none
    assert documents_by_title_part("促进服务的若干措施哪天发的", titles) == []
    assert documents_by_title_part("服务业创新发展有什么新政策", titles) == []


def test_more_english_and_mixed_asks():
    assert asked_kinds("What's the per-apprentice subsidy?") == {"amount"}
    assert asked_kinds("市民夜校怎么报名,fee多少?") == {"amount", "procedure"}
    assert asked_kinds("先导产业母基金规模有多大?") == {"amount"}
    assert asked_kinds("Where do I apply for the vouchers? Is there a website?") == {"contact", "procedure"}
    assert asked_kinds("How do I take part in the plate auction?") == {"procedure"}
    # a standard named is not a standard stated
    assert missing_kinds(frozenset({"procedure"}), ["完善人才目录和认定标准。"]) == ["procedure"]


def test_an_indirect_question_after_a_preposition_is_the_topic():
    # the opening word asks; "the cap on how many tickets" names what the cap is about
    assert asked_kinds("Who decides on relaxing the cap on how many tickets concerts can sell?") == {"agency"}
    assert asked_kinds("Which agency sets rules for how long a permit is valid?") == {"agency"}
    # asked outright, the same words ask for a number or a sum
    assert asked_kinds("How many tickets can a big concert sell?") == {"count"}
    assert asked_kinds("Tell me how many tickets a concert can sell") == {"count"}
    # 'about how much' is also 'roughly how much': still a sum
    assert asked_kinds("What do I get, about how much subsidy per bed?") == {"amount"}


def test_which_ones_asks_a_list_like_which():
    # 哪几 is the plural interrogative 哪些 is: a list's contents asked either way
    assert asked_kinds("试点名单里都有哪几家企业？") == asked_kinds("试点名单里都有哪些企业？") == {"names"}


def test_a_year_that_names_a_document_is_not_a_figures_year():
    import datetime as dt

    from policyqa.qa.scope import document_years, signed_kinds

    signed = signed_kinds([
        ("m2025", "上海市促进服务业创新发展的若干措施", dt.date(2025, 4, 1)),
        ("o2026", "关于推进服务业扩能提质的实施意见", dt.date(2026, 1, 5)),
        ("p2021", "上海市服务业发展“十四五”规划", dt.date(2021, 6, 1)),
    ])
    years, spans = document_years("“沙盒”式监管试点，2025年的措施和2026年的意见里分别由哪些部门负责？", signed)
    assert years == {"2025", "2026"} and len(spans) == 2
    assert document_years("Under the 2025 service industry measures, who publishes the list?", signed)[0] == {"2025"}
    # a year no document of that kind was signed in is a figure's year: the 2021 plan's 2025 target
    assert document_years("十四五规划里2025年服务进出口总额目标是多少？", signed)[0] == frozenset()
    assert document_years("What was the 2025 target in the plan?", signed)[0] == frozenset()


def test_whether_a_figure_is_set_asks_for_it():
    assert asked_kinds("独立康复病区设置有没有床位数要求？") == {"count"}
    assert asked_kinds("服务外包有没有具体的比例要求？") == {"share"}
    assert asked_kinds("Is there a fixed percentage for outsourcing?") == {"share"}
    assert asked_kinds("有没有补贴？") == frozenset()


def test_qualifications_as_a_topic_ask_no_procedure():
    assert "procedure" not in asked_kinds("Which agencies publish the list of recognised overseas professional qualifications?")
    assert "procedure" in asked_kinds("What qualifications do I need to open a clinic?")
    assert "procedure" in asked_kinds("Does my firm qualify for the reward?")


def test_a_figures_year_beside_a_document_kind_is_still_a_figures_year():
    import datetime as dt

    from policyqa.qa.scope import document_years, signed_kinds

    signed = signed_kinds([("p2024", "上海市提振服务消费实施方案", dt.date(2024, 5, 1))])
    assert document_years("2024年目标在方案里是多少？", signed)[0] == frozenset()
    assert document_years("What was the 2024 target in the plan?", signed)[0] == frozenset()
    assert document_years("2024年消费方案里体育消费目标是多少", signed)[0] == {"2024"}


def test_named_places_are_asked_for_and_stated_only_by_a_list_of_places():
    assert "places" in asked_kinds("要培育国际美食集聚区，具体在哪些区？")
    assert "places" in asked_kinds("Which districts are the new gourmet areas going to be in?")
    # 国家 as 'national', and a district as the body responsible, ask no place
    assert "places" not in asked_kinds("这个措施是依据哪个国家文件出的？")
    assert "places" not in asked_kinds("Which departments and district governments are in charge of it?")
    assert states("places", "强化临港新片区、长三角生态绿色一体化发展示范区、虹桥国际开放枢纽等区域的引擎作用")
    assert not states("places", "培育一批国际美食集聚区，打造特色街区")


def test_who_received_a_reward_which_app_and_a_target_are_asked_details():
    assert "names" in asked_kinds("Which HR service firms have received the reward so far?")
    assert "contact" in asked_kinds("消费券在哪个app领？")
    assert "count" in asked_kinds("What's the tourism revenue target for 2035?")
    # the plan's targets, asked as a whole, are its text: no figure asked
    assert "count" not in asked_kinds("What are the targets of the plan?")


def test_when_asks_a_date_only_as_a_question_word():
    assert "date" in asked_kinds("Is it still in force? When does it expire?")
    assert "date" in asked_kinds("When and where is the expo held?")
    assert "date" not in asked_kinds("Is there support both when our software gets used and when clients buy it?")
    assert "date" not in asked_kinds("What benefits do we get when it comes to consumer promotion?")


def test_certified_restaurants_and_the_full_list_ask_for_names():
    assert "names" in asked_kinds("Which restaurants have been certified as green restaurants so far?")
    assert "names" in asked_kinds("Can I see the full list of talent categories?")
    assert "amount" in asked_kinds("How big is the city's special fund for creative industries?")


def test_whether_a_target_was_reached_asks_an_outcome():
    assert "outcome" in asked_kinds("Did Shanghai actually reach 1,000 regional HQs by 2025?")
    assert "outcome" in asked_kinds("2025年上海实际认定了多少家跨国公司地区总部")
    assert "outcome" in asked_kinds("这个政策批下来了吗？")
    assert "outcome" not in asked_kinds("到2025年服务业增加值目标是多少？")
    # a year's reported figure states one; a target for a year does not
    assert states("outcome", "2020年,全市服务业增加值达到2.8万亿元")
    assert not states("outcome", "到2025年,服务业增加值达到3.5万亿元")


def test_na_typed_for_which_before_a_department_word_is_read_as_which():
    from policyqa.qa.analysis import _na_for_which

    assert _na_for_which("科技创新券由那个部门负责") == "科技创新券由哪个部门负责"
    # 'that department', in a question asked with another word, stays
    assert _na_for_which("那个部门负责的事有哪些") == "那个部门负责的事有哪些"


def test_is_x_eligible_asks_whether_x_is_covered_not_the_procedure():
    assert "procedure" not in asked_kinds("Is my tech consulting firm eligible for the sci-tech performance loan?")
    assert "procedure" not in asked_kinds("Are law firms eligible, and what would we get out of it?")
    for q in ("What are the eligibility criteria for the fund?", "Who is eligible for the rent subsidy?",
              "What makes a company eligible?"):
        assert "procedure" in asked_kinds(q), q


def test_where_the_asker_comes_from_is_not_what_is_asked_about(corpus):
    from policyqa.index.tokenize import JiebaTokenizer, user_dictionary
    from policyqa.qa.agencies import AgencyDirectory
    from policyqa.qa.analysis import Analyser, asker_origin

    assert asker_origin("我在成都开了三家川菜馆，今年打算来上海开第一家门店", "成都")
    assert asker_origin("我是从广州过来的餐饮老板", "广州")
    assert asker_origin("we're a Shenzhen firm moving to Shanghai", "Shenzhen")
    assert not asker_origin("杭州有没有类似上海这种算力券", "杭州")
    assert not asker_origin("Does the subsidy cover companies registered in Suzhou?", "Suzhou")
    analyser = Analyser(corpus, AgencyDirectory.load(), JiebaTokenizer(user_dictionary(corpus.clauses)))
    # named with the documents' own city: judged on the evidence, not refused for naming the other place
    assert analyser.analyse("我在成都开了三家川菜馆，今年打算来上海开第一家门店，有奖励吗").places == ()
    # the other place as the subject, even beside Shanghai, or alone, still decides
    assert analyser.analyse("杭州有没有类似上海这种算力券").places == ("杭州",)
    assert analyser.analyse("我在成都开了三家川菜馆，成都有奖励吗").places == ("成都",)


def test_requests_to_list_reward_sizes_and_what_has_been_done_ask_details():
    assert "names" in asked_kinds("Can you list the companies that have received Shanghai Brand certification?")
    assert "amount" in asked_kinds("How big is the reward for a benchmark application scenario?")
    assert "amount" in asked_kinds("Whats the max amount of the R&D reward?")  # 'whats' as typed in a chat
    assert "outcome" in asked_kinds("How many trade-type headquarters had actually been recognised by the end of 2025?")
    # the asker's own situation in the perfect passive asks nothing
    assert "outcome" not in asked_kinds("Our company has been recognised as a regional HQ. What help can we get?")
    assert "count" in asked_kinds("how many service industry demo zones should be created by 2025?")
    # an indirect question as the second object of a preposition, after a sentence saying who asks, is the topic
    assert "date" not in asked_kinds(
        "We operate cruise lines. Is there any reward based on number of voyages or how long ships stay in port?")
    assert "date" in asked_kinds("What is the reward for ships and how long is the stay?")


def test_kind_nouns_are_form_not_topic_when_that_kind_is_asked():
    from policyqa.qa.scope import without_form_words

    text = "By 2025, what share of Shanghai's GDP should the service sector make up?"
    assert "share" not in without_form_words(text, asked_kinds(text))
    # not asked as a share: 'share' is the topic
    assert without_form_words("Can firms share data across borders?", asked_kinds("Can firms share data across borders?")) == \
        "Can firms share data across borders?"


def test_an_outcome_asked_for_a_year_needs_a_report_of_that_year():
    from policyqa.qa.scope import states_outcome

    report = "2020年,全市服务业增加值达到28307.54亿元,占全市生产总值比重为73.1%。"
    target = "到2025年,服务业增加值占全市生产总值比重达到75%左右。"
    assert states_outcome(report) and states_outcome(report, "2020年服务业增加值实际达到多少？")
    # the 2020 report does not say what was reached in 2025; a target for 2025 is not a result
    assert not states_outcome(report, "2025年服务业增加值实际达到多少？")
    assert not states_outcome(target, "到2025年实际达到了吗？")
    assert states_outcome("截至2025年底,已累计认定跨国公司地区总部1000家。", "Did Shanghai actually reach 1,000 HQs by 2025?")
    assert missing_kinds(frozenset({"outcome"}), [report, target], "2025年实际认定了多少家？") == ["outcome"]


def test_the_documents_own_period_is_not_the_date_of_what_it_provides_for():
    own = "本措施自2025年3月20日起实施,有效期至2028年3月19日.本措施涉及的具体政策有明确执行期限的,从其规定."
    assert not states("date", own, "What's the deadline to apply for the vouchers?")
    assert states("date", "消费季活动于2025年5月1日启动,持续至6月30日。", "消费季什么时候开始?")
    # only that sentence goes: a date in the sentence before it still counts
    assert states("date", "首批券于2025年5月1日发放.本措施自2025年3月20日起实施.", "券什么时候发?")


def test_kinds_are_read_in_the_sentences_that_ask():
    told = "I read the city would relax how many tickets can be sold. Which departments are behind that?"
    assert asked_kinds(told) == {"agency"}
    # no statement, or no question mark: every sentence counts
    assert asked_kinds("邮轮靠港有奖励吗?另外一年想接待多少邮轮游客") >= {"count"}
    assert asked_kinds("How many tickets can be sold. Which departments") >= {"count"}
    # 'No. 5' and decimals end no sentence
    assert asked_kinds("When was the notice (2025 No. 5) issued?") == {"date"}


def test_a_recommendation_asks_for_names_unless_it_asks_for_a_policy():
    assert asked_kinds("Can you recommend a good hotpot place near the Bund?") == {"names"}
    assert asked_kinds("帮我推荐个外滩附近好吃的小笼包店") == {"names"}
    assert asked_kinds("Can you recommend a policy that supports small ad agencies?") == frozenset()
    assert asked_kinds("推荐一下适合小微企业的扶持政策") == frozenset()


def test_how_many_already_exist_asks_an_outcome():
    assert "outcome" in asked_kinds("上海现在已经有几家外商独资医院开业了？")
    assert "outcome" in asked_kinds("已经落地的外商独资医院有哪几家？")
    assert "outcome" in asked_kinds("How many demonstration zones have been set up so far?")
    # a target asked is not an outcome
    assert "outcome" not in asked_kinds("到2027年要认定多少家绿色餐厅？")
