"""Staged adds on a running service (tiny local model for the dense leg): searchable at once through the
keyword legs, dense vectors completed in the background, superseded by newer changes."""

import threading
from pathlib import Path

import pytest

from policyqa.api.schemas import AskRequest, ReadyResponse, SearchRequest
from policyqa.api.service import QAService
from policyqa.corpus import default_corpus_dir
from policyqa.index.store import current_version, load_index
from policyqa.qa.engine import Engine, EngineConfig

WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"
GZ = "gz_suifubangui2022-13_jujia-yanglao.html"  # 居家社区养老服务管理办法 (Guangzhou)
MD = next(p.name for p in WILD.glob("*.md"))
QUERY = "居家社区养老服务 星级评定补贴"
QUESTION = "广州市居家社区养老服务组织的星级评定补贴怎么申请？"


class Gate:
    """Holds every passage encoding until opened: stage 2 waits, stage 1 must not encode at all."""

    def __init__(self, encoder):
        self.open = threading.Event()
        self.calls = 0
        self._real = encoder.encode_passages
        encoder.encode_passages = self

    def __call__(self, texts):
        self.calls += 1
        assert self.open.wait(120), "stage 2 never released"
        return self._real(texts)


@pytest.fixture
def service(tmp_path, tiny_model):
    cfg = EngineConfig(
        corpus_dir=default_corpus_dir(), index_dir=tmp_path / "index", data_dir=tmp_path / "var", model=str(tiny_model),
        mode="hybrid",
    )
    svc = QAService(Engine(cfg), watch_seconds=0)
    svc.warm_up()
    yield svc
    gate = getattr(svc, "_gate", None)
    if gate is not None:
        gate.open.set()
    svc.engine.wait_for_vectors(60)


def _gate(svc) -> Gate:
    svc._gate = Gate(svc.engine.embedder())
    return svc._gate


def _add(svc, name):
    return svc.add_documents([(name, (WILD / name).read_bytes())])


def _on_disk(svc):
    cfg = svc.engine.config
    return load_index(cfg.index_dir, svc.engine._load_corpus(), embedder=svc.engine.embedder())


def test_a_new_document_is_searchable_before_its_vectors_and_complete_after(service):
    gate = _gate(service)
    before = service.engine.loaded.version
    out = _add(service, GZ)
    doc = out["documents"][0]
    assert gate.calls == 0  # stage 1 encodes nothing
    assert doc["status"] == "added" and doc["vectors"] == "pending"
    assert out["passages_awaiting_vectors"] > 0
    ready = ReadyResponse.model_validate(service.ready())
    assert ready.passages_awaiting_vectors == out["passages_awaiting_vectors"]
    loaded = service.engine.loaded
    assert loaded.version != before and current_version(service.engine.config.index_dir) == loaded.version

    # keyword legs find it; the dense leg never returns a passage without a vector
    hits = service.search(SearchRequest(query=QUERY, top_k=5))["results"]
    assert hits[0]["doc_id"] == doc["doc_id"]
    dense_hits = loaded.searcher.search(QUERY, top_k=50, mode="dense").hits
    assert dense_hits and all(h.clause.doc_id != doc["doc_id"] for h in dense_hits)
    hybrid = loaded.searcher.search(QUERY, top_k=10).hits
    assert all(h.dense_sim is None for h in hybrid if h.clause.doc_id == doc["doc_id"])
    assert all(leg != "dense" for h in hybrid if h.clause.doc_id == doc["doc_id"] for leg, _ in h.ranks)

    # the answer path: the best clause has no dense evidence, so the judge decides with its lexical model,
    # on the features lexical mode gives it (agreement among the keyword legs, not diluted by the dense leg)
    answerer, searcher = loaded.answerer, loaded.searcher
    q = answerer.analyse(searcher, QUESTION)
    hits = list(searcher.search(q, top_k=10).hits)
    assert hits[0].clause.doc_id == doc["doc_id"] and hits[0].dense_sim is None
    assert any(h.dense_sim is not None for h in searcher.search(q, top_k=100).hits)  # the dense leg ran
    x, _ = answerer.judge.evidence(q, hits)
    assert "dense1" not in x and answerer.judge.model_for(x) is answerer.judge.models["lexical"]
    lexical_hits = list(searcher.search(q, top_k=10, mode="lexical").hits)
    assert lexical_hits[0].clause.clause_id == hits[0].clause.clause_id
    assert x["agree"] == answerer.judge.evidence(q, lexical_hits)[0]["agree"]
    ans = service.ask(AskRequest(query=QUESTION))  # (answered or refused: the tiny model's cosines mean little)
    cited = ans["citations"] + ans["closest"]
    assert cited[0]["doc_id"] == doc["doc_id"]
    for c in cited:  # every citation resolves
        assert service.clause(c["clause_id"])["clause_id"] == c["clause_id"]

    # stage 2: vectors computed in the background, the complete version saved and swapped in
    gate.open.set()
    assert service.engine.wait_for_vectors(120)
    done = service.engine.loaded
    assert done.version != loaded.version and done.vectors_pending == 0 and service.engine.vectors_error is None
    assert current_version(service.engine.config.index_dir) == done.version
    assert service.ready()["passages_awaiting_vectors"] == 0
    assert _on_disk(service).dense.pending is None
    assert any(h.clause.doc_id == doc["doc_id"] for h in done.searcher.search(QUERY, top_k=50, mode="dense").hits)


def test_a_removal_while_vectors_are_computed_does_not_resurrect_the_document(service):
    gate = _gate(service)
    doc_id = _add(service, GZ)["documents"][0]["doc_id"]
    assert service.engine.vectors_pending
    removed = service.remove_document(doc_id)
    assert removed["passages_awaiting_vectors"] == 0  # what remains has every vector
    gate.open.set()
    assert service.engine.wait_for_vectors(120)
    loaded = service.engine.loaded
    assert doc_id not in {pd.document.doc_id for pd in loaded.corpus.documents}
    assert current_version(service.engine.config.index_dir) == loaded.version
    assert doc_id not in _on_disk(service).manifest["documents"]
    assert all(h["doc_id"] != doc_id for h in service.search(SearchRequest(query=QUERY, top_k=5))["results"])


def test_a_second_add_while_vectors_are_computed_keeps_both(service):
    gate = _gate(service)
    first = _add(service, GZ)["documents"][0]["doc_id"]
    second_out = _add(service, MD)
    second = second_out["documents"][0]["doc_id"]
    assert second_out["documents"][0]["vectors"] == "pending"
    assert {first, second} <= service.engine.loaded.pending_documents()
    gate.open.set()
    assert service.engine.wait_for_vectors(120)
    loaded = service.engine.loaded
    assert loaded.vectors_pending == 0
    assert {first, second} <= {pd.document.doc_id for pd in loaded.corpus.documents}
    assert {first, second} <= set(_on_disk(service).manifest["documents"])
    assert current_version(service.engine.config.index_dir) == loaded.version


def test_a_reindex_while_vectors_are_computed_supersedes_them(service):
    gate = _gate(service)
    doc_id = _add(service, GZ)["documents"][0]["doc_id"]
    staged = service.engine.loaded.version
    timer = threading.Timer(1.0, gate.open.set)  # the reindex embeds too: release the model shortly
    timer.start()
    out = service.reindex()
    timer.join()
    assert service.engine.wait_for_vectors(120)
    loaded = service.engine.loaded
    assert out["version"] != staged and loaded.vectors_pending == 0
    assert doc_id in {pd.document.doc_id for pd in loaded.corpus.documents}
    assert current_version(service.engine.config.index_dir) == loaded.version


def test_a_version_left_pending_is_completed_on_the_next_start(service, tmp_path):
    gate = _gate(service)
    doc_id = _add(service, GZ)["documents"][0]["doc_id"]
    pending_version = service.engine.loaded.version
    # a second worker (or a restart) on the same folders loads the staged version and completes it
    other = QAService(Engine(service.engine.config), watch_seconds=0)
    other._gate = gate
    gate.open.set()
    other.warm_up()
    assert other.engine.loaded.version in (pending_version, current_version(service.engine.config.index_dir))
    assert other.engine.wait_for_vectors(120) and service.engine.wait_for_vectors(120)
    assert _on_disk(other).dense.pending is None
    assert doc_id in _on_disk(other).manifest["documents"]
