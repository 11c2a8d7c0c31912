"""The widget's settings endpoint and its "was this helpful?" votes: stored in the registry database, counted
in /metrics, exported by administrators — with the question only when query logging is on."""

import csv
import io

import pytest
from fastapi.testclient import TestClient

from policyqa.api.app import create_app
from policyqa.api.schemas import ClientConfig, FeedbackExport, FeedbackResponse
from policyqa.ingest.registry import Registry

from .conftest import make_settings

VOTE = {"query": "哪个部门负责社区养老上门服务？", "helpful": True, "lang": "zh", "intent": "agency", "answerable": True,
        "clause_ids": ["hfbf2024-5:2.4.10"]}


@pytest.fixture
def make_client(index_dir, tmp_path):
    clients = []

    def make(**kw):
        c = TestClient(create_app(make_settings(index_dir, data_dir=tmp_path / "data", **kw)))
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def test_config_gives_the_contact(make_client):
    c = make_client(contact_text="12345热线", contact_url="tel:12345")
    cfg = ClientConfig.model_validate(c.get("/v1/config").json())
    assert cfg.contact.text == "12345热线" and cfg.contact.url == "tel:12345" and cfg.feedback
    c2 = make_client(contact_url="javascript:alert(1)")
    assert c2.get("/v1/config").json()["contact"]["url"] is None  # only tel:, mailto: and http(s): links


def test_vote_without_query_logging_keeps_no_question(make_client, tmp_path):
    c = make_client(log_queries=False, feedback_salt=None)
    r = c.post("/v1/feedback", json=VOTE)
    assert r.status_code == 201
    assert FeedbackResponse.model_validate(r.json()).question_kept == "nothing"
    c.post("/v1/feedback", json={**VOTE, "helpful": False})
    rows = Registry.in_dir(tmp_path / "data").feedback()
    assert [r["helpful"] for r in rows] == [True, False]
    assert all(r["question"] is None and r["question_sha256"] is None for r in rows)
    assert rows[0]["clause_ids"] == ["hfbf2024-5:2.4.10"]
    metrics = c.get("/metrics").text
    assert 'qa_feedback_total{helpful="true"} 1.0' in metrics and 'qa_feedback_total{helpful="false"} 1.0' in metrics
    assert 'qa_feedback_stored{helpful="true"} 1.0' in metrics


def test_salted_hash_counts_repeats_without_the_text(make_client, tmp_path):
    c = make_client(log_queries=False, feedback_salt="pepper")
    assert c.post("/v1/feedback", json=VOTE).json()["question_kept"] == "salted_hash"
    c.post("/v1/feedback", json=VOTE)
    rows = Registry.in_dir(tmp_path / "data").feedback()
    assert rows[0]["question"] is None and rows[0]["question_sha256"] == rows[1]["question_sha256"]
    assert VOTE["query"] not in str(rows)


def test_export_with_query_logging_on(make_client):
    c = make_client(log_queries=True)
    assert c.post("/v1/feedback", json=VOTE).json()["question_kept"] == "text"
    assert c.get("/v1/admin/feedback").status_code == 401
    r = c.get("/v1/admin/feedback", headers={"X-API-Key": "s3cret"})
    export = FeedbackExport.model_validate(r.json())
    assert export.helpful == 1 and export.votes[0].question == VOTE["query"]
    r = c.get("/v1/admin/feedback", params={"format": "csv"}, headers={"X-API-Key": "s3cret"})
    assert r.headers["content-type"].startswith("text/csv")
    row = next(csv.DictReader(io.StringIO(r.text)))
    assert row["question"] == VOTE["query"] and row["helpful"] == "True"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VOTE, "helpful": "maybe"}, "helpful"),
        ({**VOTE, "query": ""}, "query"),
        ({**VOTE, "lang": "fr"}, "lang"),
        ({**VOTE, "clause_ids": ["x"] * 21}, "clause_ids"),
        ({**VOTE, "extra": 1}, "extra"),
    ],
)
def test_bad_votes_name_the_field(make_client, body, field):
    r = make_client().post("/v1/feedback", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == field


def test_stored_questions_are_forgotten_after_the_retention_period(make_client, tmp_path):
    import datetime as dt

    from sqlalchemy import update

    from policyqa.ingest.registry import feedback

    c = make_client(log_queries=True)
    assert c.post("/v1/feedback", json=VOTE).status_code == 201
    assert c.post("/v1/feedback", json={**VOTE, "helpful": False}).status_code == 201
    registry = Registry.in_dir(tmp_path / "data")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    with registry.engine.begin() as conn:  # the first vote was given 40 days ago
        conn.execute(update(feedback).where(feedback.c.id == 1).values(created_at=old))
    make_client(log_queries=True, log_retention_days=30)  # pruned at start
    rows = {r["id"]: r for r in Registry.in_dir(tmp_path / "data").feedback()}
    assert rows[1]["question"] is None and rows[1]["question_sha256"] is None and rows[1]["helpful"] is True
    assert rows[2]["question"] == VOTE["query"]  # recent: kept
