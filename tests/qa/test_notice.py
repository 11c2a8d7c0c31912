"""What a person is told when the language model cannot load: a sentence, with no exception text and no hub
warning — nothing is fetched, so nothing may say it tried."""

import logging
import subprocess
import sys

from policyqa.qa.search import Searcher


def test_a_model_not_on_this_machine_fails_quietly_and_the_notice_is_a_sentence(corpus, lexical_bundle, caplog, tmp_path):
    code = """
import logging, sys
logging.basicConfig(level=logging.DEBUG)
from policyqa.index.embedding import EmbedderUnavailable, make_encoder
enc = make_encoder("example-org/a-model-nobody-has", allow_download=False)
try:
    enc.warm_up()
except EmbedderUnavailable as exc:
    print("REASON", exc)
assert "torch" not in sys.modules, "torch imported to find no model"
"""
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    reason = out.stdout.split("REASON", 1)[1].strip()
    assert "neither a local folder nor in the local model cache" in reason
    for noise in ("huggingface.co", "couldn't connect", "Connection", "HTTPSConnectionPool"):
        assert noise not in out.stderr and noise not in out.stdout, noise

    caplog.set_level(logging.WARNING)
    s = Searcher(corpus, lexical_bundle, mode="auto", dense_unavailable_reason=f"cannot load embedding model: FileNotFoundError: {reason}")
    notices = {s.search(q, 3).notice for q in ("社区养老", "首店", "算力券")}
    assert len(notices) == 1
    notice = notices.pop()
    assert notice.startswith("The language model is not available") and "Error" not in notice and "huggingface" not in notice
    # the technical reason is logged for the operator, once
    logged = [r.getMessage() for r in caplog.records if "dense retrieval is unavailable" in r.getMessage()]
    assert len(logged) == 1 and "FileNotFoundError" in logged[0]
