from policyqa.qa.scope import (
    PlaceNames,
    missing_amount,
    missing_date,
    other_document,
    personal_procedure,
)


def test_personal_procedure_unless_the_clause_names_it():
    assert personal_procedure("护照快过期了", "推进服务业开放") == "护照"
    assert personal_procedure("人才落户怎么办", "优化人才落户政策") is None
    assert personal_procedure("How do I renew my passport?", "服务业") == "passport"
    # a two-character term inside a longer word is not the procedure (转学 in 转学分)
    q = "学历教育之间能转学分吗"
    assert personal_procedure(q, "服务业") == "转学"
    assert personal_procedure(q, "服务业", {"学历教育", "能转", "学分"}) is None
    assert personal_procedure("失业保险金怎么领", "服务业", {"失业", "保险金", "领"}) == "失业保险金"


def test_amount_asked_but_not_stated():
    assert missing_amount("首店奖励最多能拿多少钱？", ["对首店给予奖励。"])
    assert missing_amount("How much is one voucher worth?", ["发放算力券。"])
    assert not missing_amount("首店奖励最多能拿多少钱？", ["给予最高500万元奖励。"])
    assert not missing_amount("服务业增加值占比多少？", ["占比达到50%。"])  # not money


def test_date_asked_but_not_stated():
    assert missing_date("旅游节什么时候开幕？", ["办好上海旅游节。", "到2027年建成"])
    assert not missing_date("旅游节什么时候开幕？", ["每年9月举办上海旅游节。"])
    assert not missing_date("这份措施哪天印发的？", ["服务业"])  # the document's own date is always known
    assert not missing_date("When does it take effect?", ["服务业"])


def test_other_document_by_title():
    titles = ["上海市促进服务业创新发展若干措施", "关于进一步扩大上海服务消费的若干措施"]
    assert other_document("《关于扩大服务消费的若干政策措施》有哪几条？", titles) == "关于扩大服务消费的若干政策措施"
    assert other_document("《上海市促进服务业创新发展若干措施》有效期？", titles) is None
    assert other_document("《关于进一步扩大上海服务消费若干措施》", titles) is None  # a slip in the title
    assert other_document("没有书名号的问题", titles) is None


def test_place_names_the_documents_never_mention():
    places = PlaceNames("推动浦东新区、长三角一体化和上海服务业发展")
    assert places.foreign("深圳对服务业企业有什么补贴") == ["深圳"]
    assert places.foreign("浦东新区有什么补贴") == []
    assert places.foreign_en("Does Shenzhen give rent subsidies?") == ["Shenzhen"]
    assert places.foreign_en("Does the Hong Kong government fund start-ups?") == ["Hong Kong"]
    # capitalised ordinary words and the city itself are not foreign places
    assert places.foreign_en("What does the Central Activity Zone in Shanghai do?") == []


def test_city_matters_are_whole_words_and_unless_the_clause_names_them():
    from policyqa.qa.scope import city_matter

    assert city_matter("小区垃圾分类找谁投诉", "推进服务业", {"小区", "垃圾分类", "投诉"}) == "垃圾分类"
    assert city_matter("Can I walk my dog in the park?", "公园") == "dog"
    assert city_matter("What is dogma?", "服务业") is None
    assert city_matter("夜间施工噪音扰民", "严格控制夜间施工噪音") == "扰民"


def test_procedure_asked_but_not_described():
    from policyqa.qa.scope import missing_procedure

    assert missing_procedure("绿色餐厅要满足哪些条件？去哪里申报？", ["开展绿色餐厅创建。"])
    assert missing_procedure("How do I apply for the voucher?", ["发放算力券。"])
    assert not missing_procedure("有没有奖励？", ["给予奖励。"])
    assert not missing_procedure("怎么申请？", ["由市商务委受理申请。"])


def test_count_or_share_asked_but_not_stated():
    from policyqa.qa.scope import missing_number, states_count

    assert states_count("建设10个示范区") and states_count("引进三批") and not states_count("到2025年建成")
    assert missing_number("这个年限具体是几年？", ["在一定年限内给予支持。"])
    assert not missing_number("要建几个示范区？", ["建设10个示范区。"])
    assert missing_number("占比要达到多大比例？", ["到2025年明显提升。"])
    assert not missing_number("占比要达到多大比例？", ["占比达到45%左右。"])
    # "which ones" (哪几) and a count in passing (几个商标，…) are not questions after a figure
    assert not missing_number("是哪几个部门在搭？", ["服务业"])
    assert not missing_number("我们有几个商标，能融资吗？", ["服务业"])
