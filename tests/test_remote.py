"""SPARQL 1.1 servers as stores, for real: an Oxigraph server and a Virtuoso server started on
127.0.0.1 by the tests (tests/servers.py) and stopped by their process id.

The same seed plans loaded into each, through the Graph Store Protocol and through SPARQL
Update, give the same answers to every library query as the embedded store; reloading
replaces; a server killed in the middle of a batch leaves each document wholly old or wholly
new, and the command says which documents did not load.
"""
from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Literal

from conftest import extracted, plan_versions, same_graph
from servers import Server, running, start_oxigraph
from policykg import querylib
from policykg.emit import PK
from policykg.remote import RemoteStore, ServerConfig, server_config
from policykg.store import ONTOLOGY_GRAPH, MAPPINGS_GRAPH

POLICYKG = str(Path(sys.executable).parent / "policykg")
NUMERIC = {f"http://www.w3.org/2001/XMLSchema#{t}" for t in ("integer", "decimal", "int", "long", "double",
                                                             "nonNegativeInteger")}


def endpoint_args(server: Server, via: str) -> list[str]:
    args = ["--endpoint", server.query_url, "--update-endpoint", server.update_url]
    return args + (["--graph-store", server.graph_store_url] if via == "gsp" else [])


def credentials_env(server: Server) -> dict[str, str]:
    env = dict(os.environ)
    for k in ("POLICYKG_USER", "POLICYKG_PASSWORD", "POLICYKG_AUTH", "POLICYKG_CONFIG"):
        env.pop(k, None)
    if server.user:
        env.update(POLICYKG_USER=server.user, POLICYKG_PASSWORD=server.password or "")
    return env


def policykg(*args, env=None, check=True) -> subprocess.CompletedProcess:
    r = subprocess.run([POLICYKG, *map(str, args)], capture_output=True, text=True, env=env, timeout=600)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def remote(server: Server) -> RemoteStore:
    return RemoteStore(ServerConfig(query=server.query_url, update=server.update_url,
                                    graph_store=server.graph_store_url, user=server.user,
                                    password=server.password, auth=server.auth, retries=1))


def normal(term):
    """A term as a value: stores may differ in the lexical form of a number (17 / 17.0) and in
    writing xsd:string explicitly."""
    if isinstance(term, Literal):
        if term.datatype is not None and str(term.datatype) in NUMERIC:
            return ("number", Decimal(str(term)).normalize())
        if term.datatype is not None and str(term.datatype) != "http://www.w3.org/2001/XMLSchema#string":
            return ("literal", str(term), str(term.datatype))
        return ("literal", str(term), term.language)
    return ("iri", str(term))


def answer(store, q, params):
    res = store.select(q.text, querylib.bind(q, params), graph=q.graph)
    return res.variables, [tuple(normal(r.get(v)) if v in r else None for v in res.variables) for r in res.rows]


def example_params(seed_store) -> dict[str, dict[str, str]]:
    """Parameters for each library query that needs some, taken from the seeds."""
    measure = str(seed_store.select("PREFIX pk: <https://w3id.org/policykg/ontology#> SELECT ?m WHERE "
                                    "{ ?d pk:hasMeasure ?m } ORDER BY ?m LIMIT 1").rows[0]["m"])
    doc = measure.split("/measure/")[0]
    values = {"unit": "市科技局", "year": "2025", "indicator": "科学素质", "from": "2021", "to": "2025",
              "measure": measure, "doc": doc, "issuer": "人民政府", "role": "pk:LeadRole",
              "basis": "pk:ListOrderLead"}
    out = {}
    for name, q in querylib.library().items():
        out[name] = {p.name: values[p.name] for p in q.params if not p.optional or p.name in values}
        missing = [p.name for p in q.params if not p.optional and p.name not in values]
        assert not missing, f"give {name}'s parameters {missing} an example value here"
    return out


@pytest.fixture(params=["gsp", "update"])
def loaded_oxigraph(request, oxigraph_server, seed_paths):
    policykg("load", *endpoint_args(oxigraph_server, request.param), *seed_paths, env=credentials_env(oxigraph_server))
    return oxigraph_server


@pytest.fixture(scope="session", params=["gsp", "update"])
def loaded_virtuoso(request, virtuoso_server, seed_paths):
    policykg("load", *endpoint_args(virtuoso_server, request.param), *seed_paths,
             env=credentials_env(virtuoso_server))
    return virtuoso_server


def check_same_answers(server: Server, seed_store):
    store = remote(server)
    examples = example_params(seed_store)
    for name, q in querylib.library().items():
        for params in (examples[name], {}) if examples[name] and all(p.optional for p in q.params) else (examples[name],):
            expected = answer(seed_store, q, params)
            got = answer(store, q, params)
            assert got[0] == expected[0], name
            assert got[1] == expected[1], f"{name} {params}: {server.name} differs from the embedded store"


def check_graphs(server: Server, seed_paths):
    store = remote(server)
    sizes = store.graph_sizes()
    for p in seed_paths:
        _, g = extracted(str(p))
        iri = str(next(g.subjects(PK.hasMeasure, None)))
        assert sizes[iri] == len(g), (server.name, p.name)
        assert same_graph(store.graph(iri), g), (server.name, p.name)
    assert sizes[str(ONTOLOGY_GRAPH)] > 0 and sizes[str(MAPPINGS_GRAPH)] > 10_000   # past Virtuoso's row limit
    assert len(store.graph(str(MAPPINGS_GRAPH))) == sizes[str(MAPPINGS_GRAPH)]


def test_oxigraph_server_holds_each_document_whole(loaded_oxigraph, seed_paths):
    check_graphs(loaded_oxigraph, seed_paths)


def test_oxigraph_server_gives_the_embedded_answers_to_every_library_query(loaded_oxigraph, seed_store):
    check_same_answers(loaded_oxigraph, seed_store)


def test_virtuoso_holds_each_document_whole(loaded_virtuoso, seed_paths):
    check_graphs(loaded_virtuoso, seed_paths)


def test_virtuoso_gives_the_embedded_answers_to_every_library_query(loaded_virtuoso, seed_store):
    check_same_answers(loaded_virtuoso, seed_store)


@pytest.mark.parametrize("which", ["oxigraph", "virtuoso"])
def test_loading_again_replaces_on_a_server(which, request, seed_paths):
    server = request.getfixturevalue(f"{which}_server")
    env = credentials_env(server)
    policykg("load", *endpoint_args(server, "gsp"), seed_paths[0], seed_paths[3], env=env)
    before = remote(server).graph_sizes()
    policykg("load", *endpoint_args(server, "update"), seed_paths[0], seed_paths[3], env=env)
    policykg("load", *endpoint_args(server, "gsp"), seed_paths[0], seed_paths[3], env=env)
    after = remote(server).graph_sizes()
    assert {g: n for g, n in after.items() if g in before} == before


@pytest.mark.parametrize("which", ["oxigraph", "virtuoso"])
def test_parameters_cannot_change_the_query_on_a_server(which, request, seed_paths, seed_store):
    server = request.getfixturevalue(f"{which}_server")
    policykg("load", *endpoint_args(server, "gsp"), seed_paths[0], env=credentials_env(server))
    q = querylib.parse("# name: w\n# param: w string\nPREFIX pk: <https://w3id.org/policykg/ontology#>\n"
                       "SELECT DISTINCT ?r WHERE { ?r pk:writtenAs ?w } ORDER BY ?r", "test", "w")
    store = remote(server)
    assert len(store.select(q.text, querylib.bind(q, {"w": "市科技局"}))) > 0
    for evil in ['市科技局" } INSERT DATA { <x:a> <x:b> <x:c> } #', '"}} UNION { ?r ?p ?o }',
                 '市科技局\\u0022) } UNION { ?r ?p ?o } #', '市科技局\n}', '市科技局\\', "市科技局' }"]:
        assert store.select(q.text, querylib.bind(q, {"w": evil})).rows == [], (which, evil)
    assert not store.select("ASK { <x:a> <x:b> <x:c> }").rows[0]["ask"]


def test_validate_endpoint_finds_what_the_files_give(loaded_oxigraph, seed_paths):
    from policykg.validate import validate_paths, validate_store

    def findings(report):
        return sorted((f.document, f.focus, f.component, f.severity) for d in report.documents for f in d.findings)

    assert findings(validate_store(remote(loaded_oxigraph))) == findings(validate_paths(seed_paths))


@pytest.mark.parametrize("via", ["gsp", "update"])
def test_a_server_killed_mid_batch_leaves_each_document_whole(tmp_path, seed_paths, via):
    old, new = plan_versions(tmp_path, seed_paths)
    with running(start_oxigraph, tmp_path / "ox") as server:
        env = credentials_env(server)
        policykg("load", *endpoint_args(server, via), *old, env=env)
        proc = subprocess.Popen([POLICYKG, "load", "-v", "--retries", "1", *endpoint_args(server, via),
                                 *[str(p) for _ in range(8) for p in new]],
                                stderr=subprocess.PIPE, text=True, env=env)
        lines, killed = [], False
        for line in proc.stderr:
            lines.append(line)
            if not killed and sum(x.startswith("loaded ") for x in lines) == 3:
                server.stop(kill=True)
                killed = True
        proc.wait(timeout=120)
        assert killed, "".join(lines)
        assert proc.returncode == 2
        summary = "".join(lines)
        not_loaded = [x for x in lines if x.startswith("  not loaded: ")]
        assert not_loaded and "cannot reach the SPARQL server" in summary
        done = sum(x.startswith(f"loaded {tmp_path}") for x in lines)   # one line per file written
        assert done >= 3 and done + len(not_loaded) == 8 * len(new)
        server = server.restart()
        store = remote(server)
        fresh = 0
        for p_old, p_new in zip(old, new, strict=True):
            _, g_old = extracted(str(p_old))
            _, g_new = extracted(str(p_new))
            iri = str(next(g_old.subjects(PK.hasMeasure, None)))
            g = store.graph(iri)
            assert same_graph(g, g_old) or same_graph(g, g_new), p_old.name
            fresh += same_graph(g, g_new)
        assert done <= fresh < len(new)   # those loaded before the kill are new, the last ones old


def test_a_server_that_is_down_is_a_clear_error_and_every_file_is_listed(tmp_path, seed_paths):
    from servers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    r = policykg("load", "--retries", "1", "--endpoint", url + "/query", "--update-endpoint", url + "/update",
                 *seed_paths[:2], check=False)
    assert r.returncode == 2
    assert f"cannot reach the SPARQL server at {url}/update" in r.stderr
    assert all(f"not loaded: {p}" in r.stderr for p in seed_paths[:2])
    r = policykg("query", "--retries", "0", "--endpoint", url + "/query", "documents", check=False)
    assert r.returncode == 2 and f"cannot reach the SPARQL server at {url}/query" in r.stderr


def test_wrong_or_missing_credentials_are_a_clear_error_never_echoed(virtuoso_server, seed_paths, tmp_path):
    env = credentials_env(virtuoso_server)
    env["POLICYKG_PASSWORD"] = "not-the-Password-123"
    r = policykg("load", *endpoint_args(virtuoso_server, "gsp"), seed_paths[3], env=env, check=False)
    assert r.returncode == 2 and "refused the credentials (HTTP 401)" in r.stderr
    assert "not-the-Password-123" not in r.stderr + r.stdout
    env = credentials_env(virtuoso_server)
    env.pop("POLICYKG_USER"), env.pop("POLICYKG_PASSWORD")
    env["POLICYKG_CONFIG"] = str(tmp_path / "none.toml")
    r = policykg("load", *endpoint_args(virtuoso_server, "update"), seed_paths[3], env=env, check=False)
    assert r.returncode == 2 and "asks for credentials" in r.stderr


def test_credentials_and_urls_from_the_config_file(virtuoso_server, seed_paths, tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[servers."{virtuoso_server.query_url}"]\nupdate = "{virtuoso_server.update_url}"\n'
                   f'graph_store = "{virtuoso_server.graph_store_url}"\nuser = "{virtuoso_server.user}"\n'
                   f'password = "{virtuoso_server.password}"\nauth = "digest"\n', encoding="utf-8")
    env = credentials_env(virtuoso_server)
    env.pop("POLICYKG_USER"), env.pop("POLICYKG_PASSWORD")
    env["POLICYKG_CONFIG"] = str(cfg)
    r = policykg("load", "--endpoint", virtuoso_server.query_url, seed_paths[3], env=env)
    assert "1 document(s)" in r.stderr
    monkeypatch.setenv("POLICYKG_CONFIG", str(cfg))
    config = server_config(virtuoso_server.query_url)
    assert (config.update, config.graph_store, config.auth) == (virtuoso_server.update_url,
                                                                virtuoso_server.graph_store_url, "digest")
    r = policykg("query", "--endpoint", virtuoso_server.query_url, "documents", "--format", "csv", env=env)
    _, g = extracted(str(seed_paths[3]))
    assert str(next(g.subjects(PK.hasMeasure, None))) in r.stdout


def test_the_password_is_not_in_the_config_repr():
    c = ServerConfig(query="http://x/sparql", user="u", password="secret-pw")
    assert "secret-pw" not in repr(c)
