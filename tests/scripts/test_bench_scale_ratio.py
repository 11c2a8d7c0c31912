"""scripts/bench_scale.py --ratio: our service and the peer over the same synthetic documents, loaded in turn
by the same client. No timing is asserted (figures come from the benchmark): only that both servers served the
same corpus, answered without errors, and that the ratio is the one of their measured QPS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ratio_serves_both_over_the_same_documents(tmp_path):
    out = tmp_path / "ratio.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_scale.py"), "--sizes", "300", "--ratio", "--runs", "1",
         "--ours-seconds", "1", "--peer-seconds", "1", "--connections", "4", "--workdir", str(tmp_path / "work"),
         "--ratio-out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())["results"]["300"]
    run = result["runs"][0]
    assert run["ours"]["requests"] > 0 and run["peer"]["requests"] > 0
    assert result["errors"] == 0
    assert run["ratio"] == run["ours"]["qps"] / run["peer"]["qps"]
    # one document of 300 clauses: our index has its passages, the peer one paragraph per clause (and title lines)
    assert "| 300 | 4 |" in proc.stdout
    assert "peer ready: {'paragraphs': " in proc.stderr
    paragraphs = int(proc.stderr.split("peer ready: {'paragraphs': ")[1].split("}")[0])
    assert 300 <= paragraphs <= 320
