import json

import pytest
from fastapi.testclient import TestClient

from policyqa.api.app import create_app

from .conftest import make_settings


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "alive"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["mode"] == "lexical"


def test_search(client):
    r = client.post("/v1/search", json={"query": "哪个部门负责社区养老上门服务?", "top_k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "lexical" and len(body["results"]) == 3
    hit = body["results"][0]
    for key in ("clause_id", "doc_id", "doc_title", "doc_number", "section_path", "heading", "text", "agencies", "score", "citation", "span", "highlight"):
        assert key in hit
    h = hit["highlight"]
    assert hit["text"][h["start"] : h["end"]] == h["text"]
    assert hit["doc_status"]["status"] in ("in_force", "expired", "plan_ended", "not_yet")


def test_search_filters(client):
    r = client.post("/v1/search", json={"query": "养老服务", "filters": {"agencies": ["Shanghai Municipal Civil Affairs Bureau"]}})
    assert r.status_code == 200
    assert r.json()["results"] and all("市民政局" in h["agencies"] for h in r.json()["results"])
    r = client.post("/v1/search", json={"query": "服务业", "top_k": 50, "filters": {"in_force_on": "2029-01-01", "doc_ids": ["hfbf2025-5", "hff2026-1"]}})
    docs = {h["doc_id"] for h in r.json()["results"]}
    assert docs == {"hff2026-1"}


def test_ask_agency(client):
    r = client.post("/v1/ask", json={"query": "哪个部门负责社区居家养老上门服务?"})
    body = r.json()
    assert r.status_code == 200 and body["answerable"] and body["intent"] == "agency"
    a = body["agencies"][0]
    assert a["name"] == "市民政局" and a["full_name"] == "上海市民政局" and a["english_name"] and a["clause_ids"]
    assert body["citations"][0]["citation"].startswith("《")


def test_ask_no_answer(client):
    body = client.post("/v1/ask", json={"query": "深圳对服务业企业有什么补贴?"}).json()
    assert body["answerable"] is False and body["message"] and body["citations"] == []
    assert body["refusal"] == {"kind": "other_place", "detail": "深圳"} and body["translation"] is None
    body = client.post("/v1/ask", json={"query": "我家的猫咪最近不爱吃猫粮怎么办?"}).json()
    assert body["answerable"] is False and body["refusal"]["kind"] == "no_match" and body["confidence"] < 0.5


def test_ask_in_english_reports_what_it_searched(client):
    body = client.post("/v1/ask", json={"query": "Which department handles home care for older people, such as family care beds?"}).json()
    assert body["mode"] == "lexical" and body["answerable"] and body["refusal"] is None
    assert body["agencies"][0]["name"] == "市民政局" and body["agencies"][0]["english_name"]
    words = {w["english"]: w["chinese"] for w in body["translation"]["words"]}
    assert "床位" in words["bed"] and "床位" in body["translation"]["searched_as"]


def test_search_in_english_highlights_the_translated_terms(client):
    body = client.post("/v1/search", json={"query": "family care beds", "top_k": 3}).json()
    assert body["translation"]["searched_as"]
    top = body["results"][0]
    assert "床位" in top["text"] and "床位" in top["highlight"]["text"]


def test_english_can_be_switched_off(index_dir):
    with TestClient(create_app(make_settings(index_dir, translate_english=False))) as c:
        body = c.post("/v1/ask", json={"query": "Which department handles family care beds?"}).json()
    assert body["answerable"] is False and body["refusal"]["kind"] == "language" and body["translation"] is None


def test_ask_as_of(client):
    body = client.post("/v1/ask", json={"query": "做广告的小公司研发投入大有什么奖励", "as_of": "2029-01-01"}).json()
    statuses = {c["doc_id"]: c["doc_status"]["status"] for c in body["citations"]}
    assert statuses.get("hfbf2025-5") == "expired"


def test_clause_documents_agencies(client):
    r = client.get("/v1/clauses/hfbf2025-5:2.3.6")
    assert r.status_code == 200 and r.json()["heading"] == "鼓励加大研发力度"
    assert client.get("/v1/clauses/hfbf2025-5%3A2.3.6").json()["clause_id"] == "hfbf2025-5:2.3.6"
    docs = client.get("/v1/documents").json()["documents"]
    assert len(docs) == 5 and {d["status"]["status"] for d in docs} <= {"in_force", "expired", "plan_ended"}
    ags = client.get("/v1/agencies").json()["agencies"]
    assert ags[0]["clause_count"] >= ags[-1]["clause_count"]
    for name in ("市民政局", "上海市民政局", "Shanghai Municipal Civil Affairs Bureau"):
        r = client.get(f"/v1/agencies/{name}")
        assert r.status_code == 200 and r.json()["agency"]["name"] == "市民政局"
        assert all("市民政局" in c["agencies"] for d in r.json()["documents"] for c in d["clauses"])


@pytest.mark.parametrize(
    "path,method,body,status,field",
    [
        ("/v1/search", "post", {"query": ""}, 422, "query"),
        ("/v1/search", "post", {"query": "   \u0000\u0007 "}, 422, "query"),
        ("/v1/search", "post", {"query": "x" * 501}, 422, "query"),
        ("/v1/search", "post", {"query": "ok", "top_k": 0}, 422, "top_k"),
        ("/v1/search", "post", {"query": "ok", "top_k": 51}, 422, "top_k"),
        ("/v1/search", "post", {"query": "ok", "filters": {"in_force_on": "someday"}}, 422, "filters.in_force_on"),
        ("/v1/search", "post", {"query": "ok", "extra": 1}, 422, "extra"),
        ("/v1/search", "post", {}, 422, "query"),
        ("/v1/ask", "post", {"query": 5}, 422, "query"),
        ("/v1/ask", "post", {"query": "ok", "as_of": "2026-13-40"}, 422, "as_of"),
    ],
)
def test_invalid_requests_name_the_field(client, path, method, body, status, field):
    r = getattr(client, method)(path, json=body)
    assert r.status_code == status
    assert r.json()["error"]["field"] == field


def test_lone_surrogate_is_rejected_cleanly(client):
    raw = b'{"query": "\\ud800abc"}'
    r = client.post("/v1/search", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "query"
    assert "Unicode" in r.json()["error"]["message"]


def test_control_characters_are_stripped(client):
    r = client.post("/v1/search", json={"query": "养老\u0000服务\u0007"})
    assert r.status_code == 200 and r.json()["query"] == "养老服务"


def test_malformed_json(client):
    r = client.post("/v1/search", content=b'{"query": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "body"


def test_unknown_things_are_404(client):
    r = client.get("/v1/clauses/nope:1")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_clause"
    r = client.get("/v1/agencies/市不存在局")
    assert r.status_code == 404 and r.json()["error"]["field"] == "name"
    assert client.get("/v1/nothing").status_code == 404


def test_body_too_large(client):
    r = client.post("/v1/search", content=b'{"query": "' + b"a" * 20000 + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["field"] == "body"

    def chunks():  # no Content-Length: the size is counted as the body arrives
        yield b'{"query": "'
        for _ in range(40):
            yield b"a" * 1000
        yield b'"}'

    r = client.post("/v1/search", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413

    def small():
        yield b'{"query": '
        yield '"养老"}'.encode()

    assert client.post("/v1/search", content=small(), headers={"content-type": "application/json"}).status_code == 200


def test_cors(client):
    r = client.options(
        "/v1/ask",
        headers={"Origin": "https://gov.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://gov.example"
    assert "access-control-allow-credentials" not in r.headers
    r = client.options("/v1/ask", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert r.headers.get("access-control-allow-origin") is None


def test_rate_limit(index_dir):
    with TestClient(create_app(make_settings(index_dir, rate_limit=3))) as c:
        codes = [c.post("/v1/search", json={"query": "养老"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.post("/v1/search", json={"query": "养老"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["error"]["code"] == "rate_limited"
        assert c.get("/healthz").status_code == 200  # ops endpoints are not limited
        # a cross-origin widget can read the refusal and when to retry
        r = c.post("/v1/search", json={"query": "养老"}, headers={"Origin": "https://gov.example"})
        assert r.status_code == 429 and r.headers["access-control-allow-origin"] == "https://gov.example"
        assert "retry-after" in r.headers["access-control-expose-headers"].lower()


def test_admin_needs_the_key(client):
    assert client.post("/v1/admin/reindex").status_code == 401
    assert client.post("/v1/admin/reindex", headers={"X-API-Key": "wrong"}).status_code == 401


def test_admin_disabled_without_a_key(index_dir):
    with TestClient(create_app(make_settings(index_dir, admin_api_key=None))) as c:
        r = c.post("/v1/admin/reindex", headers={"X-API-Key": "x"})
        assert r.status_code == 403 and "QA_ADMIN_API_KEY" in r.json()["error"]["message"]


def test_metrics_and_logs(client, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="policyqa.access")
    client.post("/v1/ask", json={"query": "家政服务员工制有什么支持"})
    text = client.get("/metrics").text
    assert "qa_requests_total" in text and 'qa_search_mode_total{endpoint="ask",mode="lexical"}' in text
    assert "qa_ask_answerable_total" in text and "qa_request_seconds_bucket" in text
    entries = [r.msg for r in caplog.records if r.name == "policyqa.access" and isinstance(r.msg, dict) and r.msg["path"] == "/v1/ask"]
    assert entries and "query" not in entries[-1] and entries[-1]["query_len"] == len("家政服务员工制有什么支持")
    assert "testclient" not in json.dumps(entries[-1], ensure_ascii=False)


def test_docs_are_self_hosted(client):
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["paths"]["/v1/ask"]


def test_pages(client):
    assert "<html" in client.get("/").text.lower()
    assert client.get("/widget.js").headers["content-type"].startswith("text/javascript")
    assert 'src="/widget.js"' in client.get("/widget-demo").text


def test_unknown_agency_filter_is_a_4xx_naming_it(client):
    r = client.post("/v1/search", json={"query": "养老服务", "filters": {"agencies": ["市民政局", "市不存在局"]}})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "unknown_agency" and err["field"] == "filters.agencies.1" and "市不存在局" in err["message"]
    # every name a user may know still filters: printed, full and English
    for name in ("市民政局", "上海市民政局", "Shanghai Municipal Civil Affairs Bureau"):
        assert client.post("/v1/search", json={"query": "养老服务", "filters": {"agencies": [name]}}).status_code == 200


def test_ask_two_questions_at_once_reports_each_part(client):
    from policyqa.api.schemas import AskResponse

    body = client.post("/v1/ask", json={"query": "服务型体育消费占比目标是多少？电竞服务消费生态圈又是哪些部门负责？"}).json()
    AskResponse.model_validate(body)
    assert body["answerable"] and [p["answerable"] for p in body["parts"]] == [True, True]
    cited = [c["clause_id"] for c in body["citations"]]
    assert all(p["clause_ids"][0] in cited for p in body["parts"])
    assert "市体育局" in [a["name"] for a in body["agencies"]]
    # one question: no parts
    one = client.post("/v1/ask", json={"query": "哪个部门负责社区居家养老上门服务?"}).json()
    assert one["parts"] == []
