"""The benchmark runs end to end on a small corpus, and what it checks holds there: the same
extraction on one and two processes, the store holding what Oxigraph's own bulk load holds,
pySHACL's findings and rdflib's answers equal to policykg's. (Its timings are for bench/, not
for tests.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


def test_bench_agrees_with_rdflib_and_pyshacl_on_a_small_corpus(tmp_path):
    r = subprocess.run([sys.executable, str(BENCH), "--sizes", "5", "--work", str(tmp_path), "--query-timeout", "120",
                        "--repeat", "2"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    results = json.loads((tmp_path / "results-5.json").read_text(encoding="utf-8"))
    assert results["checks"] == {
        "extraction the same on 1 and 2 processes": True,
        "the store holds what Oxigraph's bulk load holds": True,
        "validation findings identical to pySHACL's": True,
        "query answers identical to rdflib's": True,
    }
    assert results["findings"] > 0 and results["documents"] > 1
    assert len(results["query_seconds"]) == len(list((BENCH.parents[1] / "queries").glob("*.rq")))
    for step in ("extract-j1", "extract-j2", "load", "oxigraph bulk load", "validate", "queries"):
        runs = results["steps"][step]["runs"]
        assert len(runs) == 2 and results["steps"][step]["seconds"] == min(runs), step
    assert "goals:" in r.stdout and "rdflib + pySHACL: the same" in r.stdout
