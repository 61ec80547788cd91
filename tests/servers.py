"""Start real SPARQL 1.1 servers (Oxigraph, Virtuoso) on 127.0.0.1 for the tests and stop them by process id.

Each server runs as a child of the test process, in the foreground, with its data, log and configuration in
one folder (a pytest tmp dir). ``stop()`` signals the pid (SIGTERM, then SIGKILL after a timeout) and reaps
it; ``restart()`` starts again on the same folder and ports. The ``running()`` context manager and the
``oxigraph_server`` / ``virtuoso_server`` fixtures stop every server started inside them, even when a test
fails or restarts a server; as a last resort the children get SIGTERM when the test process dies.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
START_TIMEOUT = 120.0  # seconds; a first Virtuoso start creates the database (about 2 s here, 4-6 s with Conductor)
STOP_TIMEOUT = 30.0  # seconds between SIGTERM and SIGKILL (the Debian init script waits as long)
VIRTUOSO_INI = (
    Path("/etc/virtuoso-opensource-7/virtuoso.ini"),  # the packaged ini, as debconf left it
    Path("/usr/share/virtuoso-opensource-7/virtuoso.ini"),  # the pristine copy postinst starts from
)
VIRTUOSO_USER = VIRTUOSO_PASSWORD = "dba"  # what a database created by virtuoso-t itself starts with
ASK = "ASK {}"

_live: dict[int, subprocess.Popen[bytes]] = {}  # every server this process started and has not reaped


class ServerError(RuntimeError):
    """A server could not be found, started or stopped."""


@dataclass
class Server:
    """A running SPARQL server: where to send queries, updates and graphs, and how to stop it."""

    name: str
    pid: int
    query_url: str
    update_url: str
    graph_store_url: str
    user: str | None
    password: str | None
    auth: str | None
    data_dir: Path
    log_file: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    _relaunch: Callable[[], Server] | None = field(default=None, repr=False, compare=False)

    @property
    def is_running(self) -> bool:
        """True while the process exists and is not a zombie."""
        return self._proc.poll() is None if self._proc is not None else _alive(self.pid)

    def stop(self, kill: bool = False) -> None:
        """Stop the server by pid: SIGTERM then SIGKILL after STOP_TIMEOUT, or SIGKILL at once if ``kill``."""
        if self._proc is not None and self._proc.returncode is not None:
            return  # stopped and reaped before: the pid may belong to another process by now
        _stop_pid(self.pid, self._proc, kill=kill)

    def restart(self) -> Server:
        """Stop the server if it still runs, start it again on the same data dir and ports, return the new one."""
        if self._relaunch is None:
            raise ServerError(f"{self.name} server {self.pid} was not started by this module")
        self.stop()
        return self._relaunch()

    def requests_auth(self) -> Any:
        """The ``requests`` auth object for the update and graph store endpoints (None without auth)."""
        import requests.auth

        if self.auth == "digest":
            return requests.auth.HTTPDigestAuth(self.user or "", self.password or "")
        if self.auth == "basic":
            return requests.auth.HTTPBasicAuth(self.user or "", self.password or "")
        return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_oxigraph(data_dir: Path) -> Server:
    """Start ``oxigraph serve`` on a free port, its store in ``data_dir/store``, the default graph being the union."""
    return _launch_oxigraph(Path(data_dir), free_port())


def start_virtuoso(data_dir: Path, settings: Mapping[str, Mapping[str, str]] | None = None) -> Server:
    """Start ``virtuoso-t`` on two free ports with a private copy of the packaged ini and its database in ``data_dir``.

    Everything else is as packaged, e.g. ``[SPARQL] ResultSetMaxRows = 10000`` (longer SELECT answers are cut
    silently). ``settings`` overrides more ini keys as ``{section: {key: value}}``; the web UI (Conductor) is not
    installed unless ``{"Parameters": {"VADInstallDir": "/usr/share/virtuoso-opensource-7/vad/"}}``. Queries need
    no auth; updates and the graph store need HTTP digest auth as dba/dba (basic auth is refused).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    sql_port = http_port = free_port()
    while http_port == sql_port:
        http_port = free_port()
    ini = _write_virtuoso_ini(data_dir, sql_port, http_port, settings or {})
    return _launch_virtuoso(data_dir, ini)


@contextmanager
def running(start: Callable[[Path], Server], data_dir: Path) -> Iterator[Server]:
    """Start a server for the block; at its end stop it and every other server started meanwhile (restarts too)."""
    before = set(_live)
    try:
        yield start(data_dir)
    finally:
        stop_all(exclude=before)


def stop_all(exclude: set[int] | frozenset[int] = frozenset()) -> None:
    """Stop every server this process started and still runs, except the pids in ``exclude``."""
    for pid, proc in list(_live.items()):
        if pid not in exclude:
            _stop_pid(pid, proc)


@pytest.fixture
def oxigraph_server(tmp_path: Path) -> Iterator[Server]:
    """A fresh Oxigraph server per test, stopped afterwards whatever happened."""
    with running(start_oxigraph, tmp_path / "oxigraph") as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One Virtuoso server for the whole run (it takes seconds to start); tests must not stop it.

    Tests that kill or restart Virtuoso start their own with ``running(start_virtuoso, tmp_path)``.
    """
    with running(start_virtuoso, tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


# -- Oxigraph ---------------------------------------------------------------------------------------------------------


def _oxigraph_binary() -> str:
    beside = Path(sys.executable).parent / "oxigraph"  # pip installs the binary into the venv's bin/
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise ServerError("oxigraph is not installed: pip install oxigraph (it ships the `oxigraph` binary)")
    return found


def _launch_oxigraph(data_dir: Path, port: int) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "oxigraph.log"
    cmd = [
        _oxigraph_binary(),
        "serve",
        "--location",
        str(data_dir / "store"),
        "--bind",
        f"{HOST}:{port}",
        "--union-default-graph",
    ]
    base = f"http://{HOST}:{port}"
    server = Server(
        name="oxigraph",
        pid=0,
        query_url=f"{base}/query",
        update_url=f"{base}/update",
        graph_store_url=f"{base}/store",
        user=None,
        password=None,
        auth=None,
        data_dir=data_dir,
        log_file=log,
        _relaunch=lambda: _launch_oxigraph(data_dir, port),
    )
    return _spawn(server, cmd, cwd=data_dir)


# -- Virtuoso ---------------------------------------------------------------------------------------------------------


def _virtuoso_binary() -> str:
    found = shutil.which("virtuoso-t")
    if not found:
        raise ServerError("virtuoso-t is not installed: apt-get install virtuoso-opensource")
    return found


def _write_virtuoso_ini(
    data_dir: Path, sql_port: int, http_port: int, settings: Mapping[str, Mapping[str, str]]
) -> Path:
    """Copy the packaged ini with every file, both ports, DirsAllowed and VADInstallDir moved to ``data_dir``."""
    packaged = next((p for p in VIRTUOSO_INI if p.exists()), None)
    if packaged is None:
        raise ServerError(f"no packaged virtuoso.ini in {', '.join(map(str, VIRTUOSO_INI))}")
    d = data_dir.resolve()
    overrides: dict[str, dict[str, str]] = {
        "Database": {
            "DatabaseFile": f"{d}/virtuoso.db",
            "ErrorLogFile": f"{d}/virtuoso.log",
            "LockFile": f"{d}/virtuoso.lck",
            "TransactionFile": f"{d}/virtuoso.trx",
            "xa_persistent_file": f"{d}/virtuoso.pxa",
        },
        "TempDatabase": {"DatabaseFile": f"{d}/virtuoso-temp.db", "TransactionFile": f"{d}/virtuoso-temp.trx"},
        "Parameters": {
            "ServerPort": str(sql_port),
            "DirsAllowed": f"., {d}, /usr/share/virtuoso-opensource-7/vad",
            "VADInstallDir": f"{d}/vad/",  # empty: a new database skips installing Conductor (about 2 s)
        },
        "HTTPServer": {"ServerPort": str(http_port)},
        "URIQA": {"DefaultHost": f"localhost:{http_port}"},
    }
    for section, values in settings.items():
        overrides.setdefault(section, {}).update(values)
    (data_dir / "vad").mkdir(exist_ok=True)
    ini = data_dir / "virtuoso.ini"
    ini.write_text(_override_ini(packaged.read_text(encoding="utf-8"), overrides), encoding="utf-8")
    return ini


def _override_ini(text: str, overrides: Mapping[str, Mapping[str, str]]) -> str:
    """Set ``overrides`` in an ini text line by line, keeping comments and the repeated keys Virtuoso allows."""
    missing = {section: dict(values) for section, values in overrides.items()}  # not yet seen in the text
    out: list[str] = []
    section = ""

    def add_missing() -> None:  # keys the section lacked go at its end
        out.extend(f"{key} = {value}" for key, value in missing.pop(section, {}).items())

    for line in text.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        entry = re.match(r"\s*([\w.]+)\s*=", line)
        if header:
            add_missing()
            section = header.group(1).strip()
        elif entry and entry.group(1) in overrides.get(section, {}):
            line = f"{entry.group(1)} = {overrides[section][entry.group(1)]}"
            missing.get(section, {}).pop(entry.group(1), None)
        out.append(line)
    add_missing()
    for name, values in missing.items():  # sections the ini lacked
        out.append(f"[{name}]")
        out.extend(f"{key} = {value}" for key, value in values.items())
    return "\n".join(out) + "\n"


def _ini_port(ini: Path, section: str) -> int:
    current = None
    for line in ini.read_text(encoding="utf-8").splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
        elif current == section and (m := re.match(r"\s*ServerPort\s*=\s*(\d+)", line)):
            return int(m.group(1))
    raise ServerError(f"no [{section}] ServerPort in {ini}")


def _launch_virtuoso(data_dir: Path, ini: Path) -> Server:
    # A stale virtuoso.lck left by SIGKILL is harmless (the lock is an fcntl lock on it), so nothing to clean.
    http = _ini_port(ini, "HTTPServer")
    base = f"http://{HOST}:{http}"
    server = Server(
        name="virtuoso",
        pid=0,
        query_url=f"{base}/sparql",
        update_url=f"{base}/sparql-auth",
        graph_store_url=f"{base}/sparql-graph-crud-auth",
        user=VIRTUOSO_USER,
        password=VIRTUOSO_PASSWORD,
        auth="digest",
        data_dir=data_dir,
        log_file=data_dir / "virtuoso.log",
        _relaunch=lambda: _launch_virtuoso(data_dir, ini),
    )
    # +foreground keeps virtuoso-t in this process (no fork), so the pid we hold is the server's.
    cmd = [_virtuoso_binary(), "+configfile", str(ini), "+foreground"]
    return _spawn(server, cmd, cwd=data_dir, console=data_dir / "virtuoso.console.log")


# -- processes --------------------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies (Linux), so no server outlives a run."""
    with suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(server: Server, cmd: list[str], cwd: Path, console: Path | None = None) -> Server:
    """Run ``cmd`` as a child, wait until its SPARQL endpoint answers, return ``server`` with the pid set."""
    port = urllib.parse.urlsplit(server.query_url).port
    if port is not None and _listening(port):  # else another server would answer our readiness probe
        raise ServerError(f"port {port} for {server.name} in {server.data_dir} is already taken")
    out_path = console or server.log_file or cwd / "server.log"
    with out_path.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    _live[proc.pid] = proc
    server.pid, server._proc = proc.pid, proc
    started = time.monotonic()
    try:
        _wait_ready(server, proc, started)
    except BaseException:
        _stop_pid(proc.pid, proc, kill=True)
        raise
    return server


def _listening(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((HOST, port)) == 0


def _wait_ready(server: Server, proc: subprocess.Popen[bytes], started: float) -> None:
    url = f"{server.query_url}?{urllib.parse.urlencode({'query': ASK})}"
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    delay = 0.02
    while True:
        if proc.poll() is not None:
            raise ServerError(f"{server.name} exited with {proc.returncode} while starting:\n{_tail(server)}")
        with suppress(OSError), urllib.request.urlopen(request, timeout=5) as response:  # OSError: refused, 5xx
            if response.status == 200:
                return
        if time.monotonic() - started > START_TIMEOUT:
            raise ServerError(
                f"{server.name} did not answer {server.query_url} in {START_TIMEOUT:g} s:\n{_tail(server)}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def _tail(server: Server, lines: int = 40) -> str:
    """The last lines of the server's logs, for error messages."""
    parts = []
    for path in dict.fromkeys(p for p in (server.log_file, server.data_dir / "virtuoso.console.log") if p):
        if path.exists():
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path} ---\n" + "\n".join(text))
    return "\n".join(parts) or "(no log)"


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (for processes we hold no Popen of)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _stop_pid(
    pid: int, proc: subprocess.Popen[bytes] | None, kill: bool = False, timeout: float = STOP_TIMEOUT
) -> None:
    """Signal ``pid`` (SIGTERM, SIGKILL after ``timeout``; SIGKILL at once if ``kill``) and wait until it is gone."""
    alive = proc.poll() is None if proc is not None else _alive(pid)  # poll() also reaps a child that died
    try:
        if alive:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
            if not _wait_gone(pid, proc, timeout):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                if not _wait_gone(pid, proc, 10.0):
                    raise ServerError(f"process {pid} survived SIGKILL")
    finally:
        if proc is None or proc.returncode is not None:
            _live.pop(pid, None)


def _wait_gone(pid: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    if proc is not None:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


atexit.register(stop_all)
