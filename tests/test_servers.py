"""The test servers start, take a graph with Chinese text, survive a crash and stop by pid."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from SPARQLWrapper import JSON, SPARQLWrapper

from servers import Server, _override_ini, running, start_oxigraph, start_virtuoso

GRAPH = "http://example.org/g/规划"
LABEL = "十四五规划 中文标签"
NT = f'<http://example.org/plan> <http://www.w3.org/2000/01/rdf-schema#label> "{LABEL}"@zh .\n'


def gone(pid: int) -> bool:
    """True when no process (not even a zombie) has this pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def labels(server: Server) -> list[tuple[str, str | None]]:
    """The labels in GRAPH, read through SPARQLWrapper as JSON."""
    sparql = SPARQLWrapper(server.query_url)
    sparql.setQuery(f"SELECT ?o WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}")
    sparql.setReturnFormat(JSON)
    bindings = sparql.query().convert()["results"]["bindings"]
    return [(b["o"]["value"], b["o"].get("xml:lang")) for b in bindings]


@pytest.mark.parametrize("start", [start_oxigraph, start_virtuoso], ids=["oxigraph", "virtuoso"])
def test_round_trip_crash_and_stop(start: Callable[[Path], Server], tmp_path: Path) -> None:
    with running(start, tmp_path / "db") as server:
        response = requests.put(
            server.graph_store_url,
            params={"graph": GRAPH},
            data=NT.encode("utf-8"),
            headers={"Content-Type": "application/n-triples"},
            auth=server.requests_auth(),
            timeout=30,
        )
        assert response.status_code == 201, response.text
        assert labels(server) == [(LABEL, "zh")]

        crashed = server.pid
        server.stop(kill=True)
        assert gone(crashed)
        server = server.restart()
        assert server.pid != crashed
        assert labels(server) == [(LABEL, "zh")]  # committed data survives SIGKILL

        server.stop()
        assert gone(server.pid)
        assert not server.is_running


def test_ini_override_keeps_comments_and_repeated_keys() -> None:
    text = "[A]\n; comment\nKey = 1\nKey = 2\n[B]\nOther = x\n"
    assert _override_ini(text, {"A": {"Key": "9", "New": "n"}, "C": {"K": "v"}}) == (
        "[A]\n; comment\nKey = 9\nKey = 9\nNew = n\n[B]\nOther = x\n[C]\nK = v\n"
    )
