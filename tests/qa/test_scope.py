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
    # capitalised ordinary words and the city itself are not foreign places
    assert places.foreign_en("What does the Central Activity Zone in Shanghai do?") == []
