"""`policykg serve`: the embedded store as a SPARQL 1.1 endpoint, through Oxigraph's own HTTP
server (the `oxigraph` package, the same engine and on-disk format as pyoxigraph), which has a
query page for the browser. The default graph is the union of the named graphs, as for every
store policykg uses.
"""
from __future__ import annotations

import ipaddress
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click

from policykg.store import SERVER_FILE, StoreError, default_store_dir


def oxigraph_binary() -> str:
    """The `oxigraph` command installed beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise StoreError("the oxigraph server is not installed (pip install oxigraph)")
    return found


def command(store: Path, host: str, port: int, *, writable: bool) -> list[str]:
    return [oxigraph_binary(), "serve" if writable else "serve-read-only", "--location", str(store),
            "--bind", f"{host}:{port}", "--union-default-graph"]


def serve(store_dir: str | None, host: str, port: int, *, writable: bool = False) -> int:
    store = Path(store_dir) if store_dir else default_store_dir()
    if not (store / "CURRENT").exists():
        raise StoreError(f"{store}: no store here; load documents first (policykg load PATH... --store {store})")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    click.echo(f"policykg: serving {store} {'read-write' if writable else 'read-only'} at {base}/", err=True)
    click.echo(f"  query page {base}/  ·  SPARQL queries {base}/query"
               + (f"  ·  updates {base}/update  ·  graph store {base}/store" if writable else ""), err=True)
    if not loopback:
        click.echo(f"policykg: warning: listening on {host}, reachable from other machines", err=True)
    click.echo("  Ctrl-C stops it.", err=True)
    proc = subprocess.Popen(command(store, host, port, writable=writable))
    marker = store / SERVER_FILE   # tells `policykg load` the store is being read
    marker.write_text(json.dumps({"pid": proc.pid, "url": base + "/", "writable": writable}), encoding="utf-8")

    def stop(signum, frame):  # Ctrl-C and SIGTERM stop the server (which may ignore SIGINT when in background)
        proc.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        code = proc.wait()
    finally:
        marker.unlink(missing_ok=True)
    if code not in (0, -signal.SIGINT, -signal.SIGTERM, 130, 143):
        raise StoreError(f"the oxigraph server stopped with status {code} (is port {port} in use, "
                         "or the store held by another process?)")
    return 0
