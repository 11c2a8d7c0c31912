import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from policyqa.api.app import create_app
from policyqa.qa.settings import Settings


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, lexical_bundle):
    from policyqa.index.store import save_index

    d = tmp_path_factory.mktemp("index")
    save_index(lexical_bundle, d)
    return d


def make_settings(index_dir, **kw):
    # a fresh data dir: votes and uploads made by tests never land in the checkout's var/
    data_dir = Path(tempfile.mkdtemp(prefix="qa-api-data-"))
    base = dict(index_dir=index_dir, mode="lexical", rate_limit=0, admin_api_key="s3cret", cors_origins=["https://gov.example"],
                data_dir=data_dir)
    base.update(kw)
    return Settings(**base)


@pytest.fixture(scope="session")
def client(index_dir):
    with TestClient(create_app(make_settings(index_dir))) as c:
        yield c
