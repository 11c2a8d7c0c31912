"""English answers: composed from structured fields (kind of measure, English title, agencies' English names,
status), each point with its Chinese quote as the authoritative text — and validated against the schema."""

from policyqa.api.schemas import AskResponse, DocumentsResponse
from policyqa.qa.english import kind_of


def test_english_agency_answer(client):
    r = client.post("/v1/ask", json={"query": "Which department is responsible for home care services for the elderly in the community?"})
    body = r.json()
    AskResponse.model_validate(body)
    en = body["answer_en"]
    assert en is not None and en["points"]
    lead = next(a for a in body["agencies"] if a["lead"])
    assert lead["english_name"] and f"Lead agency: {lead['english_name']}" in en["text"]
    assert "authoritative" in en["authoritative"]
    for p in en["points"]:
        clause = client.get(f"/v1/clauses/{p['clause_id']}").json()
        assert p["quote_zh"] in clause["text"]  # the Chinese beside the English is the clause's own words
        assert p["document"], "every seed document has an English title on record"
        assert p["status_en"] == clause["doc_status"]["label_en"]
    # no Chinese sentence is passed off as English: the English text holds no quote
    assert not any(p["quote_zh"] in en["text"] for p in en["points"])


def test_english_support_answer_names_the_kind_of_measure(client):
    body = client.post("/v1/ask", json={"query": "Is there a computing power voucher for start-ups?"}).json()
    AskResponse.model_validate(body)
    en = body["answer_en"]
    if body["answerable"]:
        assert any(p["kind"] == "voucher" for p in en["points"]), en
        assert "voucher" in en["text"].lower()


def test_english_refusal_keeps_its_message(client):
    body = client.post("/v1/ask", json={"query": "How do I apply for a passport in Beijing?"}).json()
    AskResponse.model_validate(body)
    assert not body["answerable"] and body["answer_en"]["text"].startswith(body["message"])


def test_chinese_question_has_no_english_answer(client):
    body = client.post("/v1/ask", json={"query": "哪个部门负责社区养老上门服务？"}).json()
    AskResponse.model_validate(body)
    assert body["answer_en"] is None


def test_documents_carry_english_titles(client):
    docs = DocumentsResponse.model_validate(client.get("/v1/documents").json()).documents
    assert all(d.title_en for d in docs)


def test_kind_of_measure_from_the_quote_first():
    assert kind_of("每年设立一定规模的算力券", "……给予奖励")[0] == "voucher"
    assert kind_of("按规定给予奖励", "")[0] == "reward"
    assert kind_of("推进标准建设", "对符合条件的项目给予补贴")[0] == "subsidy"
    assert kind_of("推进标准建设", "完善统计制度")[0] == "provision"
