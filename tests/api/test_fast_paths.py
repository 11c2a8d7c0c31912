"""The hot endpoints' cheap paths keep their contract: responses validate against their models (the
endpoints no longer validate them on every request), short lexical questions are answered on the event
loop and long ones in a worker thread, and the in-memory rate limiter starts no thread per request."""

import asyncio
import threading

import pytest
from fastapi.testclient import TestClient

from policyqa.api.app import INLINE_MAX_CHARS, LONG_QUESTIONS_AT_ONCE, create_app
from policyqa.api.limits import Limits
from policyqa.api.schemas import AskResponse, SearchResponse

from .conftest import make_settings

LONG = "请问上海市对社区养老服务机构、家庭照护床位和长者食堂有哪些补贴政策，" * 10  # over INLINE_MAX_CHARS

QUESTIONS = [
    "哪个部门负责社区养老上门服务?",
    "深圳对服务业企业有什么补贴?",  # refused: another place
    "我家的猫咪最近不爱吃猫粮怎么办?",  # refused: no match
    "Which department handles home care for older people?",  # English: translation and answer_en
    "沪府办发〔2025〕5号什么时候失效?",
    LONG,
]


@pytest.mark.parametrize("query", QUESTIONS)
def test_search_and_ask_responses_match_their_models(client, query):
    r = client.post("/v1/search", json={"query": query, "top_k": 5})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    SearchResponse.model_validate(r.json())
    r = client.post("/v1/ask", json={"query": query})
    assert r.status_code == 200
    AskResponse.model_validate(r.json())
    assert b"\\u" not in r.content  # UTF-8 text, not escapes, as before


def test_filtered_search_response_matches_its_model(client):
    r = client.post("/v1/search", json={"query": "服务业", "top_k": 50, "filters": {"in_force_on": "2029-01-01", "doc_ids": ["hff2026-1"]}})
    assert r.status_code == 200 and SearchResponse.model_validate(r.json()).results


def test_short_lexical_questions_run_on_the_loop_long_ones_in_a_thread(index_dir):
    assert len(LONG) > INLINE_MAX_CHARS
    app = create_app(make_settings(index_dir))
    service = app.state.service
    seen: list[bool] = []

    def on_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    for name in ("search", "ask"):
        real = getattr(service, name)

        def recording(req, real=real):
            seen.append(on_loop())
            return real(req)

        setattr(service, name, recording)
    with TestClient(app) as c:
        for path in ("/v1/search", "/v1/ask"):
            assert c.post(path, json={"query": "养老服务补贴"}).status_code == 200
            assert c.post(path, json={"query": LONG}).status_code == 200
    assert seen == [True, False, True, False]


def test_long_questions_compute_one_at_a_time_and_short_ones_pass_them(index_dir):
    """Long questions queue for one worker thread among themselves (LONG_QUESTIONS_AT_ONCE), so they never
    hold more than that share of the process; a short question does not wait behind them."""
    from concurrent.futures import ThreadPoolExecutor

    assert LONG_QUESTIONS_AT_ONCE == 1
    app = create_app(make_settings(index_dir))
    service = app.state.service
    real = service.ask
    lock, release = threading.Lock(), threading.Event()
    running, peak = [0], [0]

    def held(req):
        if len(req.query) <= INLINE_MAX_CHARS:
            return real(req)
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            release.wait(30)  # held until the short question below has been answered
            return real(req)
        finally:
            with lock:
                running[0] -= 1

    service.ask = held
    with TestClient(app) as c, ThreadPoolExecutor(3) as pool:
        longs = [pool.submit(c.post, "/v1/ask", json={"query": LONG + str(i)}) for i in range(3)]
        for _ in range(300):  # the first long question is in its thread
            if running[0]:
                break
            threading.Event().wait(0.01)
        short = c.post("/v1/ask", json={"query": "养老服务补贴"})
        assert short.status_code == 200  # answered while a long question holds its thread
        with lock:
            assert running[0] == 1  # the other two wait for it, not beside it
        release.set()
        assert [f.result().status_code for f in longs] == [200, 200, 200]
    assert peak[0] == 1


def test_memory_rate_limits_start_no_thread_per_request(monkeypatch):
    """The stock memory storage of `limits` starts a timer thread for nearly every request."""
    limits = Limits("memory://", per_minute=1000)
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self), real_start(self))[1])
    for i in range(200):
        limits.check_request(f"198.51.100.{i % 50}")
        threading.Event().wait(0.002)  # requests spaced out, as they arrive: the stock timer would have ended
    assert started == []
    # and the limit still holds
    small = Limits("memory://", per_minute=3)
    for _ in range(3):
        small.check_request("203.0.113.9")
    with pytest.raises(Exception, match="more than 3 requests"):
        small.check_request("203.0.113.9")


def test_log_lines_are_json_with_the_traceback_and_any_value_as_text():
    import json
    import logging
    import sys
    from pathlib import Path

    from policyqa.api.app import JsonFormatter

    f = JsonFormatter()
    line = json.loads(f.format(logging.LogRecord("policyqa.access", logging.INFO, __file__, 1,
                                                 {"path": "/v1/search", "status": 200, "where": Path("/srv/qa")}, None, None)))
    assert line["logger"] == "policyqa.access" and line["status"] == 200 and line["where"] == "/srv/qa"
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("policyqa.api", logging.ERROR, __file__, 1, "unhandled %s", ("error",), sys.exc_info())
    line = json.loads(f.format(record))
    assert line["message"] == "unhandled error" and "ValueError: boom" in line["exception"]
