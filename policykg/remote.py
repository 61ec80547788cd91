"""Any SPARQL 1.1 server as a store: queries through SPARQLWrapper, loads through the Graph
Store Protocol (when the server has one) or SPARQL Update, always into a staging graph that
replaces the document's graph in one `MOVE`.

Credentials come from the environment (POLICYKG_USER, POLICYKG_PASSWORD, POLICYKG_AUTH) or the
config file (POLICYKG_CONFIG, else ~/.config/policykg/config.toml), never from the command
line, and are never echoed. Transient failures (refused or dropped connections, 429, 502–504)
are retried with exponential backoff; a server that stays down ends in ServerUnavailableError.

Parameters are bound as in the embedded store (binding.py).
"""
from __future__ import annotations

import contextlib
import json
import os
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from SPARQLWrapper import JSON

from policykg.binding import strip_comments, with_values
from policykg.load import ServerUnavailableError
from policykg.store import GraphPayload, Results, Store, StoreError, staging_graph

TRANSIENT_STATUS = {429, 502, 503, 504}
BATCH_TRIPLES = 20000   # triples per Graph Store request when a graph is sent in parts
UPDATE_BATCH = 500      # triples per INSERT DATA (Virtuoso compiles each into SQL, and limits its size)


@dataclass(frozen=True)
class ServerConfig:
    query: str
    update: str | None = None
    graph_store: str | None = None
    user: str | None = None
    password: str | None = None
    auth: str | None = None          # basic | digest | None (as the server asks)
    retries: int = 3
    timeout: float = 60.0

    def __repr__(self) -> str:  # never show the password
        return f"ServerConfig(query={self.query!r}, update={self.update!r}, graph_store={self.graph_store!r})"


def config_path() -> Path:
    if os.environ.get("POLICYKG_CONFIG"):
        return Path(os.environ["POLICYKG_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "policykg" / "config.toml"


def server_config(query: str, *, update: str | None = None, graph_store: str | None = None,
                  retries: int | None = None) -> ServerConfig:
    """The settings for one server: command-line URLs first, then the config file's
    [servers."QUERY-URL"] table, with credentials from the environment before the file."""
    section: dict = {}
    path = config_path()
    if path.exists():
        try:
            section = tomllib.loads(path.read_text(encoding="utf-8")).get("servers", {}).get(query, {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise StoreError(f"{path}: not a valid TOML config file: {e}") from None
    auth = os.environ.get("POLICYKG_AUTH") or section.get("auth")
    if auth not in (None, "basic", "digest"):
        raise StoreError(f"auth must be basic or digest, not {auth!r}")
    return ServerConfig(
        query=query, update=update or section.get("update"), graph_store=graph_store or section.get("graph_store"),
        user=os.environ.get("POLICYKG_USER") or section.get("user"),
        password=os.environ.get("POLICYKG_PASSWORD") or section.get("password"), auth=auth,
        retries=retries if retries is not None else int(section.get("retries", 3)))


# -- answers ----------------------------------------------------------------------------------

def _term(b: dict) -> Node:
    t = b["type"]
    if t == "uri":
        return URIRef(b["value"])
    if t == "bnode":
        return BNode(b["value"])
    if "xml:lang" in b:
        return Literal(b["value"], lang=b["xml:lang"])
    dt = b.get("datatype")
    value = b["value"]
    if dt == str(XSD.boolean) and value in ("1", "0"):   # Virtuoso writes booleans as 1 and 0
        value = "true" if value == "1" else "false"
    return Literal(value, datatype=URIRef(dt) if dt and dt != str(XSD.string) else None)


class RemoteStore(Store):
    def __init__(self, config: ServerConfig):
        import requests

        self.config = config
        self.location = config.query
        self._session = requests.Session()
        self._auth = None

    # transport -----------------------------------------------------------------------------
    def _credentials_auth(self, challenge: str):
        from requests.auth import HTTPBasicAuth, HTTPDigestAuth

        c = self.config
        if not (c.user and c.password):
            return None
        kind = c.auth or ("digest" if challenge.lower().startswith("digest") else "basic")
        return HTTPDigestAuth(c.user, c.password) if kind == "digest" else HTTPBasicAuth(c.user, c.password)

    def _retry(self, attempt: int) -> bool:
        """After failed attempt number `attempt` (from 0): whether another remains; if so,
        wait the backoff (0.5 s, 1 s, 2 s, …) first."""
        if attempt >= self.config.retries:
            return False
        time.sleep(0.5 * 2 ** attempt)
        return True

    def _request(self, method: str, url: str, **kw):
        """One HTTP request with retries on transient failures and auth as the server asks
        (answering the server's first challenge is not counted as a retry)."""
        import requests

        attempt, challenged = 0, False
        while True:
            try:
                r = self._session.request(method, url, auth=self._auth, timeout=self.config.timeout, **kw)
            except (requests.ConnectionError, requests.Timeout) as e:
                if not self._retry(attempt):
                    raise ServerUnavailableError(f"cannot reach the SPARQL server at {url} ({type(e).__name__}) "
                                                 f"after {attempt + 1} attempt(s); is it running?") from None
                attempt += 1
                continue
            if r.status_code == 401 and self._auth is None and not challenged:
                challenged = True
                self._auth = self._credentials_auth(r.headers.get("WWW-Authenticate", ""))
                if self._auth is None:
                    raise StoreError(f"{url} asks for credentials: set POLICYKG_USER and POLICYKG_PASSWORD, "
                                     f"or user and password in {config_path()}")
                continue
            if r.status_code in TRANSIENT_STATUS:
                if not self._retry(attempt):
                    raise ServerUnavailableError(f"{url} answered HTTP {r.status_code} after {attempt + 1} attempt(s)")
                attempt += 1
                continue
            if r.status_code in (401, 403):
                raise StoreError(f"{url} refused the credentials (HTTP {r.status_code})")
            if r.status_code >= 400:
                raise StoreError(f"{url} answered HTTP {r.status_code}: {r.text.strip()[:300]}")
            return r

    # queries -------------------------------------------------------------------------------
    def _query(self, query: str, params, fmt: str, graph: str | None = None):
        from SPARQLWrapper import DIGEST, POST, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        # SPARQLWrapper tells queries from updates by their words, comments included.
        text = strip_comments(with_values(query, params))
        attempt = 0
        while True:
            sw = SPARQLWrapper(self.config.query)
            sw.setMethod(POST)   # form-encoded: Virtuoso never answers a query sent as the raw body
            sw.setQuery(text)
            if graph is not None:
                sw.addDefaultGraph(graph)
            sw.setReturnFormat(fmt)
            sw.setTimeout(int(self.config.timeout))
            if self.config.user and self.config.password and self.config.auth:
                sw.setCredentials(self.config.user, self.config.password)
                if self.config.auth == "digest":
                    sw.setHTTPAuth(DIGEST)
            try:
                response = sw.query().response
                limit = response.headers.get("X-SPARQL-MaxRows")   # Virtuoso's ResultSetMaxRows
                return response.read(), int(limit) if limit and limit.isdigit() else None
            except SPARQLWrapperException as e:
                raise StoreError(f"{self.config.query} rejected the query: {str(e).strip()[:400]}") from None
            except OSError as e:   # urllib's URLError, HTTPError, refused connections
                code = getattr(e, "code", None)
                if code is not None and code not in TRANSIENT_STATUS:
                    raise StoreError(f"{self.config.query} answered HTTP {code}: {e}") from None
                if not self._retry(attempt):
                    raise ServerUnavailableError(
                        f"cannot reach the SPARQL server at {self.config.query} ({getattr(e, 'reason', e)}) after "
                        f"{attempt + 1} attempt(s); is it running?") from None
                attempt += 1

    def select(self, query: str, params: Mapping[str, Node] | None = None, *, graph: str | None = None) -> Results:
        raw, limit = self._query(query, params, JSON, graph)
        try:
            data = json.loads(raw)
        except ValueError:
            raise StoreError(f"{self.config.query} did not answer with SPARQL JSON results: {raw[:200]!r}") from None
        if "boolean" in data:
            return Results(["ask"], [{"ask": Literal(bool(data["boolean"]))}])
        variables = data["head"]["vars"]
        rows = [{k: _term(v) for k, v in b.items()} for b in data["results"]["bindings"]]
        return Results(variables, rows, truncated=limit if limit is not None and len(rows) >= limit else None)

    def graph(self, name: str) -> Graph:
        """The whole graph, in pages: a server cuts long answers at its row limit (Virtuoso's
        ResultSetMaxRows, 10,000 as packaged) without saying so, so the pages are checked
        against the graph's count."""
        import pyoxigraph as ox

        from policykg.export import server_quads

        res = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}")
        expected = int(res.rows[0]["n"]) if res.rows else 0
        quads = server_quads(self, name, expected, {})
        nt = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES) or b""
        return Graph().parse(data=nt, format="nt")

    # updates -------------------------------------------------------------------------------
    def update(self, text: str) -> None:
        if not self.config.update:
            raise StoreError(f"{self.config.query}: no update endpoint; give --update-endpoint URL")
        self._request("POST", self.config.update, data={"update": text},
                      headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})

    def _send(self, staging: URIRef, payload: GraphPayload) -> None:
        lines = payload.ntriples.splitlines(keepends=True)
        has_bnodes = b"_:" in payload.ntriples
        # blank nodes must arrive in one request
        size = len(lines) if has_bnodes else BATCH_TRIPLES if self.config.graph_store else UPDATE_BATCH
        parts = [b"".join(lines[i:i + size]) for i in range(0, len(lines), size)] or [b""]
        if self.config.graph_store:
            for i, part in enumerate(parts):
                self._request("PUT" if i == 0 else "POST", self.config.graph_store, params={"graph": str(staging)},
                              data=part, headers={"Content-Type": "application/n-triples; charset=utf-8"})
        else:
            self.update(f"DROP SILENT GRAPH <{staging}>")
            for part in parts:
                body = f"GRAPH <{staging}> {{\n{part.decode('utf-8')}\n}}"
                # Virtuoso refuses blank nodes in INSERT DATA; a template with an empty WHERE
                # takes them (each request mints its own, which is why they travel in one).
                self.update(f"INSERT {{ {body} }} WHERE {{}}" if has_bnodes else f"INSERT DATA {{ {body} }}")

    def replace_graphs(self, payloads: list[GraphPayload]) -> None:
        """Each graph through a staging graph of its own load (so that two loaders of one
        document cannot move each other's triples) and one MOVE. Servers differ on whether a
        request of several operations is atomic (Virtuoso's is not), so each MOVE is a request
        of its own: a file of several graphs is replaced graph by graph."""
        for p in payloads:
            staging = staging_graph(str(p.graph), unique=True)
            try:
                self._send(staging, p)
            except StoreError:
                self._forget(staging)
                raise
            self.update(f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{p.graph}>")

    def _forget(self, staging: URIRef) -> None:
        """Drop a staging graph after a failed upload, if the server still answers."""
        with contextlib.suppress(StoreError):
            self.update(f"DROP SILENT GRAPH <{staging}>")

    def close(self) -> None:
        self._session.close()
