#!/usr/bin/env python3
"""policykg at corpus scale, side by side with rdflib + pySHACL, in one run.

    python bench/run.py                      # 100 and 800 plans
    python bench/run.py --sizes 100,800,8000 --work /tmp/pkbench

For each size N it makes a corpus with ../shared/bench/make_corpus.py, then times, each step
in a process of its own (wall seconds, peak memory of the process and the workers it waits
for):

  extract    policykg extract PLANS... -j 1 and -j 2 (N-Quads, plans/s); the outputs must match
  load       policykg load corpus.nq into a new embedded store
  oxigraph   Oxigraph's own bulk load of the same file (pyoxigraph Store.bulk_load)
  validate   policykg validate --store (the shapes compiled to SPARQL)
  queries    every query of the library on the embedded store, one process
  rdflib     the same file in an rdflib Dataset (default graph = union), pySHACL on it
             (which validates each named graph), and every library query in rdflib's SPARQL

Each policykg step and Oxigraph's bulk load run --repeat times (3 by default; the two
extractions, and the two loads, take turns): the ratios between them use each one's best run,
the ratio to rdflib + pySHACL, which runs once, policykg's slowest. Per-query seconds are the
last run's.

It checks that the findings of the two validations and the answers of the two query engines
agree, prints a table of seconds, ratios and peak memory, and the goals (issue 7) met or
missed and by how much. Exit status: 0 when everything agrees, 1 when something differs (the
goals are reported, not enforced: timings depend on the machine). Results also go to
WORK/results-N.json.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAKE_CORPUS = HERE.parent.parent / "shared" / "bench" / "make_corpus.py"
POLICYKG = str(Path(sys.executable).parent / "policykg")
#: values for the library queries' required parameters (optional ones are left free)
PARAMS = {"indicator": "科学素质", "year": "2025", "unit": "市科协"}
GOALS = {"speedup": 10.0, "load_vs_oxigraph": 2.0, "parallel": 1.8, "memory_mb": 2048}


# -- running a step ----------------------------------------------------------------------------

def run(cmd: list[str], *, stdout=None, env=None) -> dict:
    """Run a command; its wall seconds and peak memory (MB, the largest of the process and
    the children it waited for). Raises on a failing status."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read() if stdout is None else b""
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "status": proc.returncode,
            "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace")}


def best(runs: list[dict]) -> dict:
    """The fastest of several runs of a step, with every run's seconds (`runs`) and the
    slowest (`worst`); the status is the first that is not the best's, if any run failed."""
    b = dict(min(runs, key=lambda r: r["seconds"]))
    b["runs"] = [r["seconds"] for r in runs]
    b["worst"] = max(b["runs"])
    b["peak_mb"] = max(r["peak_mb"] for r in runs)
    failed = [r for r in runs if r["status"] != b["status"]]
    if failed:
        b.update(status=failed[0]["status"], stderr=failed[0]["stderr"])
    return b


def _lines(path: Path) -> int:
    """A file's lines, read a piece at a time. This process stays small because the peak
    memory Linux reports for a child includes this process's own peak (the child starts as
    a copy of it), so one large read here would show in every later step."""
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def step(name: str, *args: str) -> list[str]:
    """This script run as one of its in-process steps."""
    return [sys.executable, str(Path(__file__).resolve()), "--step", name, *args]


# -- the in-process steps ----------------------------------------------------------------------

def _key(term) -> str:
    """A term as compared across engines: numbers by value (17, 17.0 and 1.7E1 are one)."""
    from rdflib import Literal

    if isinstance(term, Literal) and term.datatype is not None and str(term.datatype).startswith(
            "http://www.w3.org/2001/XMLSchema#") and str(term.datatype).rsplit("#", 1)[1] in (
            "integer", "decimal", "double", "float", "long", "int"):
        try:
            return "num:" + format(Decimal(str(term)).normalize(), "f")
        except InvalidOperation:
            pass
    return f"{type(term).__name__}:{term}" + (f"@{term.language}" if getattr(term, "language", None) else "")


def _answer(variables, rows) -> list[list[str]]:
    return sorted([_key(r.get(v)) if r.get(v) is not None else "" for v in variables] for r in rows)


def _bound(store_select, q) -> dict:
    """The query's required parameters, bound (a measure is the first one the store has)."""
    from policykg import querylib

    raw = {}
    for p in q.params:
        if p.optional:
            continue
        if p.name == "measure":
            res = store_select("PREFIX pk: <https://w3id.org/policykg/ontology#> "
                               "SELECT ?m WHERE { ?d pk:hasMeasure ?m } ORDER BY ?m LIMIT 1")
            raw["measure"] = str(res[0])
        else:
            raw[p.name] = PARAMS[p.name]
    return querylib.bind(q, raw)


def step_queries(store_dir: str, out: str) -> None:
    """Every library query on the embedded store: seconds and answer of each."""
    from policykg import querylib
    from policykg.store import EmbeddedStore

    store = EmbeddedStore(store_dir, read_only=True)
    results = {}
    for name, q in sorted(querylib.library().items()):
        params = _bound(lambda text: [r["m"] for r in store.select(text)], q)
        t = time.perf_counter()
        res = store.select(q.text, params, graph=q.graph)
        seconds = time.perf_counter() - t
        results[name] = {"seconds": seconds, "rows": len(res), "answer": _answer(res.variables, res.rows)}
    Path(out).write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")


def _canonical(documents) -> list[list]:
    """The findings of a JSON report (policykg validate --format json), comparable."""
    return sorted([d["document"], f["focus"], f["severity"], f["path"] or "", f["component"], f["shape"],
                   f.get("value") or "", [list(kv) for kv in sorted(f["messages"].items())]]
                  for d in documents for f in d["findings"])


class _deadline:
    """Raise TimeoutError in the block after `seconds` (rdflib's SPARQL is pure Python, so
    the alarm's exception stops it)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self):
        import signal

        def expire(*_):
            raise TimeoutError

        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)


def step_rdflib(nq: str, out: str, timeout: str) -> None:
    """The obvious stack: rdflib parse, pySHACL, rdflib SPARQL; seconds, answers, findings.
    A query still running after `timeout` seconds is stopped."""
    import resource

    from rdflib import Dataset, URIRef

    from policykg import querylib
    from policykg.binding import with_values
    from policykg.emit import bind_prefixes
    from policykg.report import FORMATTERS
    from policykg.validate import validate_graph

    timings = {}
    t = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(nq, format="nquads")
    timings["parse"] = time.perf_counter() - t
    timings["parse_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bind_prefixes(ds)   # as policykg's reports name properties: pk:leadUnit

    t = time.perf_counter()
    report = validate_graph(ds, nq)   # pySHACL on the dataset: each named graph on its own
    timings["validate"] = time.perf_counter() - t
    findings = _canonical(json.loads(FORMATTERS["json"](report, "zh"))["documents"])

    queries, timeout = {}, float(timeout)
    for name, q in sorted(querylib.library().items()):
        params = _bound(lambda text: [r[0] for r in ds.query(text)], q)
        text = with_values(q.text, params)
        target = ds.graph(URIRef(q.graph)) if q.graph else ds
        t = time.perf_counter()
        note, answer, rows = None, None, []
        try:
            with _deadline(timeout):
                try:
                    res = target.query(text)
                    rows = [{str(v): r[str(v)] for v in res.vars if r[str(v)] is not None} for r in res]
                except TypeError:
                    # rdflib cannot ORDER BY a key unbound in some rows (it compares None with a
                    # value); answers are compared as sets, so it runs unordered
                    note = "unordered (rdflib cannot ORDER BY a key unbound in some rows)"
                    res = target.query(re.sub(r"(?m)^ORDER BY[^\n]*$", "", text))
                    rows = [{str(v): r[str(v)] for v in res.vars if r[str(v)] is not None} for r in res]
            answer = _answer([str(v) for v in res.vars], rows)
        except TimeoutError:
            note = f"stopped after {timeout:g} s (counted as {timeout:g} s; the answer is not compared)"
        seconds = time.perf_counter() - t
        queries[name] = {"seconds": seconds, "rows": len(rows), "answer": answer, "note": note}
    timings["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps({"timings": timings, "queries": queries, "findings": findings},
                                    ensure_ascii=False), encoding="utf-8")


def step_oxigraph(nq: str, location: str) -> None:
    import pyoxigraph as ox

    store = ox.Store(location)
    store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
    store.flush()
    print(len(store))


def step_sizes(location: str) -> None:
    """Quads per named graph of an Oxigraph store, as JSON."""
    import pyoxigraph as ox

    store = ox.Store.read_only(location)
    res = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    print(json.dumps({r["g"].value: int(r["n"].value) for r in res}))


STEPS = {"queries": step_queries, "rdflib": step_rdflib, "oxigraph": step_oxigraph, "sizes": step_sizes}


# -- one corpus size ----------------------------------------------------------------------------

def bench(n: int, work: Path, *, baseline: bool = True, query_timeout: float = 300, repeat: int = 1) -> dict:
    corpus = work / f"plans-{n}"
    if not corpus.exists() or len(list(corpus.glob("*.txt"))) != n:
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(n), str(corpus)], check=True, capture_output=True)
    plans = [str(p) for p in sorted(corpus.glob("*.txt"))]
    r: dict = {"plans": n, "repeat": repeat, "steps": {}, "checks": {}}
    s = r["steps"]
    runs: dict[str, list[dict]] = {}

    # Each policykg step and Oxigraph's bulk load run `repeat` times, the two extractions and
    # the two loads taking turns, so that a busy moment of the machine does not fall on one side.
    nq = {jobs: work / f"corpus-{n}-j{jobs}.nq" for jobs in (1, 2)}
    same = True
    for _ in range(repeat):
        for jobs in (1, 2):
            with open(nq[jobs], "wb") as f:
                runs.setdefault(f"extract-j{jobs}", []).append(
                    run([POLICYKG, "extract", "-j", str(jobs), *plans], stdout=f))
        same &= filecmp.cmp(nq[1], nq[2], shallow=False)
    for name in ("extract-j1", "extract-j2"):
        s[name] = best(runs[name])
    r["checks"]["extraction the same on 1 and 2 processes"] = same
    corpus_nq = nq[1]
    r["quads"] = _lines(corpus_nq)

    ours, theirs = work / f"store-{n}", work / f"oxigraph-{n}"
    for _ in range(repeat):
        for d in (ours, theirs):
            shutil.rmtree(d, ignore_errors=True)
        runs.setdefault("load", []).append(run([POLICYKG, "load", "--store", str(ours), str(corpus_nq)]))
        runs.setdefault("oxigraph bulk load", []).append(run(step("oxigraph", str(corpus_nq), str(theirs))))
    s["load"], s["oxigraph bulk load"] = best(runs["load"]), best(runs["oxigraph bulk load"])
    sizes = [json.loads(run(step("sizes", str(d)))["stdout"]) for d in (ours, theirs)]
    reference = {"https://w3id.org/policykg/graph/ontology", "https://w3id.org/policykg/graph/mappings"}
    r["checks"]["the store holds what Oxigraph's bulk load holds"] = (
        {g: n for g, n in sizes[0].items() if g not in reference} == sizes[1])
    s["validate"] = best([run([POLICYKG, "validate", "--store", str(ours), "--format", "json"])
                          for _ in range(repeat)])
    answers = work / f"answers-{n}.json"
    s["queries"] = best([run(step("queries", str(ours), str(answers))) for _ in range(repeat)])
    ours_q = json.loads(answers.read_text(encoding="utf-8"))
    r["query_seconds"] = {k: v["seconds"] for k, v in ours_q.items()}
    for name in ("load", "validate", "queries"):
        if s[name]["status"] not in (0, 1):
            raise SystemExit(f"policykg {name} failed at N={n}:\n{s[name]['stderr'][-2000:]}")
    documents = json.loads(s["validate"]["stdout"])["documents"]
    r["documents"] = len(documents)
    findings = _canonical(documents)
    r["findings"] = len(findings)

    if baseline:
        base = work / f"rdflib-{n}.json"
        s["rdflib + pySHACL"] = run(step("rdflib", str(corpus_nq), str(base), str(query_timeout)))
        if s["rdflib + pySHACL"]["status"] != 0:
            raise SystemExit(f"the rdflib baseline failed at N={n}:\n{s['rdflib + pySHACL']['stderr'][-2000:]}")
        b = json.loads(base.read_text(encoding="utf-8"))
        r["rdflib"] = b["timings"] | {"queries": sum(v["seconds"] for v in b["queries"].values())}
        r["rdflib_query_seconds"] = {k: v["seconds"] for k, v in b["queries"].items()}
        r["checks"]["validation findings identical to pySHACL's"] = findings == b["findings"]
        differing = sorted(k for k in ours_q if b["queries"][k]["answer"] is not None
                           and ours_q[k]["answer"] != b["queries"][k]["answer"])
        r["checks"]["query answers identical to rdflib's"] = not differing
        r["differing_queries"] = differing
        r["rdflib_notes"] = {k: v["note"] for k, v in b["queries"].items() if v.get("note")}
    for v in s.values():
        v.pop("stdout", None)
        v.pop("stderr", None)
    return r


# -- the table -----------------------------------------------------------------------------------

def table(r: dict) -> str:
    s, n = r["steps"], r["plans"]
    lines = [f"\n== {n} plans: {r['documents']} documents, {r['quads']:,} quads, {r['findings']} findings ==",
             f"{'step':34}{'seconds':>10}{'peak MB':>10}   note"]

    def row(name, seconds, mb, note=""):
        lines.append(f"{name:34}{seconds:10.2f}{mb:10.0f}   {note}")

    def spread(step):
        runs = step.get("runs", [])
        return f"; runs {', '.join(f'{x:.1f}' for x in runs)}" if len(runs) > 1 else ""

    for j in (1, 2):
        e = s[f"extract-j{j}"]
        row(f"extract, {j} process{'es' if j > 1 else ''}", e["seconds"], e["peak_mb"],
            f"{n / e['seconds']:.1f} plans/s{spread(e)}")
    row("load (policykg, embedded)", s["load"]["seconds"], s["load"]["peak_mb"],
        f"{r['quads'] / s['load']['seconds']:,.0f} quads/s{spread(s['load'])}")
    row("bulk load (Oxigraph itself)", s["oxigraph bulk load"]["seconds"], s["oxigraph bulk load"]["peak_mb"],
        spread(s["oxigraph bulk load"])[2:])
    row("validate (SPARQL engine)", s["validate"]["seconds"], s["validate"]["peak_mb"], spread(s["validate"])[2:])
    row(f"queries (all {len(r['query_seconds'])})", s["queries"]["seconds"], s["queries"]["peak_mb"],
        f"slowest {max(r['query_seconds'].values()):.2f} s ({max(r['query_seconds'], key=r['query_seconds'].get)})"
        f"{spread(s['queries'])}")
    # against rdflib's single run, policykg's slowest run of each step: the ratio is not helped
    # by taking the best of several on one side only
    ours = sum(s[k].get("worst", s[k]["seconds"]) for k in ("load", "validate", "queries"))
    row(f"policykg: load + validate + queries{' (slowest runs)' if r.get('repeat', 1) > 1 else ''}", ours,
        max(s[k]["peak_mb"] for k in ("load", "validate", "queries")))
    if "rdflib" in r:
        b = r["rdflib"]
        row("rdflib parse", b["parse"], b["parse_peak_mb"])
        row("pySHACL validate", b["validate"], 0, "")
        slowest = max(r["rdflib_query_seconds"], key=r["rdflib_query_seconds"].get)
        row("rdflib queries (all)", b["queries"], 0, f"slowest {r['rdflib_query_seconds'][slowest]:.2f} s ({slowest})")
        theirs = b["parse"] + b["validate"] + b["queries"]
        row("rdflib + pySHACL: the same", theirs, b["peak_mb"])
        r["speedup"] = theirs / ours
    lines.append("")
    for name, ok in r["checks"].items():
        lines.append(f"  [{'ok' if ok else 'DIFFERS'}] {name}")
    if r.get("differing_queries"):
        lines.append(f"      queries answering differently: {', '.join(r['differing_queries'])}")
    by_note: dict[str, list[str]] = {}
    for name, note in r.get("rdflib_notes", {}).items():
        by_note.setdefault(note, []).append(name)
    for note, names in by_note.items():
        lines.append(f"  rdflib, {len(names)} quer{'ies' if len(names) > 1 else 'y'} {note}: {', '.join(names)}")
    lines += ["", "  goals:"] + [f"    {g}" for g in goals(r)]
    return "\n".join(lines)


def goals(r: dict) -> list[str]:
    s = r["steps"]
    out = []

    def judge(name, value, goal, better_high=True, unit="x"):
        met = value >= goal if better_high else value <= goal
        by = "" if met else f" (missed by {goal / value if better_high else value / goal:.2f}x)"
        out.append(f"[{'met' if met else 'MISSED'}] {name}: {value:.2f}{unit}, goal "
                   f"{'>=' if better_high else '<='} {goal:g}{unit}{by}")

    if "speedup" in r:
        judge("load + validate + queries vs rdflib + pySHACL", r["speedup"], GOALS["speedup"])
    judge("load time / Oxigraph bulk load time", s["load"]["seconds"] / s["oxigraph bulk load"]["seconds"],
          GOALS["load_vs_oxigraph"], better_high=False)
    judge("extraction speed-up on 2 processes", s["extract-j1"]["seconds"] / s["extract-j2"]["seconds"],
          GOALS["parallel"])
    peak = max(s[k]["peak_mb"] for k in ("load", "validate", "queries", "extract-j1", "extract-j2"))
    judge(f"peak memory of policykg ({r['quads']:,} quads)", peak, GOALS["memory_mb"], better_high=False, unit=" MB")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,800", help="corpus sizes in plans, comma-separated [100,800]")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "policykg-bench",
                    help="working folder for corpora, stores and results [$TMPDIR/policykg-bench]")
    ap.add_argument("--no-baseline", action="store_true", help="skip rdflib + pySHACL (and the comparisons)")
    ap.add_argument("--query-timeout", type=float, default=300, metavar="S",
                    help="stop an rdflib query after S seconds and count S [300]")
    ap.add_argument("--repeat", type=int, default=3, metavar="R",
                    help="run each policykg step and Oxigraph's bulk load R times; ratios between them use "
                         "the best, the ratio to rdflib + pySHACL (run once) policykg's slowest [3]")
    ap.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.step:
        STEPS[a.step[0]](*a.step[1:])
        return
    if not MAKE_CORPUS.exists():
        raise SystemExit(f"{MAKE_CORPUS}: not found; the bench needs ../shared beside the checkout")
    a.work.mkdir(parents=True, exist_ok=True)
    agreed = True
    for n in (int(x) for x in a.sizes.split(",")):
        r = bench(n, a.work, baseline=not a.no_baseline, query_timeout=a.query_timeout, repeat=max(1, a.repeat))
        print(table(r), flush=True)
        (a.work / f"results-{n}.json").write_text(json.dumps(r, indent=1, ensure_ascii=False), encoding="utf-8")
        agreed &= all(r["checks"].values())
    sys.exit(0 if agreed else 1)


if __name__ == "__main__":
    main()
