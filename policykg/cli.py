"""The policykg command. Each command is a thin wrapper over one library call; errors become
messages that name the file, and exit codes (0 ok, 2 error)."""
from __future__ import annotations

import sys

import click

from policykg import __version__
from policykg.errors import PolicyKGError

FORMATS = {"turtle": "turtle", "ttl": "turtle", "nt": "nt", "ntriples": "nt", "jsonld": "json-ld", "json-ld": "json-ld"}


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PolicyKGError as e:
            click.echo(f"policykg: error: {e}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policykg")
def main() -> None:
    """Turn Chinese government policy plans (实施方案, 实施意见, 行动计划) into a knowledge graph."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS) + ["nq"]), default=None,
              help="RDF serialization of the graph written to standard output [default: turtle for one "
                   "plan; several plans are written as N-Quads (nq), each document in its graph].")
@click.option("--encoding", default=None, metavar="CODEC",
              help="Read the file in this encoding (e.g. gb18030) instead of detecting it.")
@click.option("--summary", is_flag=True, help="Also print a short summary of what was found (to standard error).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print warnings (numbering gaps, measures with no lead).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="With several plans: extract in this many processes [default: one per core].")
def extract(paths, fmt: str | None, encoding: str | None, summary: bool, quiet: bool, jobs: int | None) -> None:
    """Print the knowledge graph of the plan at PATH.

    The graph uses the policykg ontology: the document and its metadata, every measure with
    its lead and co units, time frame and targets, each linked to the span of text it came
    from. Several PATHS are written as one N-Quads stream, each document in the graph its
    IRI names, in the order given: what `policykg load` of the same files makes of them. A
    document given again (the same 文号) is written once, as its last file has it, with a
    warning; a file that cannot be read is reported and the others are still written.
    Exit status: 0 on success, 2 when a file cannot be read or holds no plan.
    """
    if len(paths) > 1 or fmt == "nq":
        if fmt not in (None, "nq"):
            raise click.UsageError(f"several plans are written as N-Quads (--format nq), not {fmt}")
        sys.exit(_extract_nquads(paths, encoding, jobs))
    from policykg.emit import to_graph
    from policykg.pipeline import document_from_path
    from policykg.summary import summarize

    path = paths[0]
    doc = document_from_path(path, encoding=encoding)
    data = to_graph(doc).serialize(format=FORMATS[fmt or "turtle"])
    sys.stdout.write(data if data.endswith("\n") else data + "\n")
    sys.stdout.flush()
    if not quiet:
        for f in doc.findings:
            if f.code != "no-lead":
                click.echo(f"policykg: warning: {path}: {f.message}", err=True)
    if summary:
        click.echo(summarize(doc), err=True)


def _extract_nquads(paths, encoding: str | None, jobs: int | None) -> int:
    """Every plan's graph as N-Quads on standard output; the exit status. Graphs are spooled
    to a temporary file first, so that a document given twice is written as its last file
    has it, as `policykg load` of the same files leaves it."""
    import shutil
    import tempfile

    from policykg.load import default_jobs, payload_stream
    from policykg.store import nquads

    out = sys.stdout.buffer
    failed, last, first_file = 0, {}, {}
    with tempfile.TemporaryFile() as spool:
        for payloads, info in payload_stream(paths, jobs=jobs or default_jobs(), encoding=encoding):
            if payloads is None:
                click.echo(f"policykg: error: {info.error}", err=True)
                failed += 1
                continue
            for p in payloads:
                g = str(p.graph)
                if g in first_file:
                    click.echo(f"policykg: warning: {info.path}: the same document as {first_file[g]} (<{g}>); "
                               "its graph is the one from the last file", err=True)
                first_file.setdefault(g, info.path)
                data = nquads(p)
                last[g] = (spool.tell(), len(data))
                spool.write(data)
        for offset, size in sorted(last.values()):
            spool.seek(offset)
            shutil.copyfileobj(_Limited(spool, size), out)
    out.flush()
    return 2 if failed else 0


class _Limited:
    """The next `size` bytes of a file, for copyfileobj."""

    def __init__(self, f, size: int):
        self.f, self.left = f, size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option("--encoding", default=None, metavar="CODEC",
              help="Read the file in this encoding (e.g. gb18030) instead of detecting it.")
@click.option("--blocks", is_flag=True,
              help="Print the blocks instead: start, end, kind, page and locator, tab-separated.")
def read(path: str, encoding: str | None, blocks: bool) -> None:
    """Print the text of the document at PATH as policykg reads it.

    This is the text every span of the graph points into (oa:start and oa:end count its
    characters from 0): for a plain-text plan, the file as decoded; for an HTML page, a Word
    file or a PDF, the text its reader makes, one paragraph or table row (| a | b |) a line.
    Its SHA-256 digest (as UTF-8) is the graph's pk:textSha256. Exit status: 0, or 2 when
    the file cannot be read.
    """
    from policykg.loaders import read_text
    from policykg.source import read_source

    text = read_text(read_source(path, encoding=encoding))
    if blocks:
        for b in text.blocks:
            sys.stdout.write(f"{b.start}\t{b.end}\t{b.kind}\t{b.page or ''}\t{b.locator or ''}\n")
    else:
        sys.stdout.write(text.string if text.string.endswith("\n") else text.string + "\n")
    for note in text.notes:
        click.echo(f"policykg: note: {path}: {note}", err=True)


# -- stores ------------------------------------------------------------------------------------

def store_options(f):
    """--store DIR for the embedded store, or --endpoint URL (and its update / graph-store URLs)."""
    f = click.option("--retries", type=click.IntRange(0, 10), default=None,
                     help="Retries on transient server errors, with exponential backoff (default 3).")(f)
    f = click.option("--graph-store", "graph_store", metavar="URL", default=None,
                     help="The server's SPARQL 1.1 Graph Store Protocol URL, used for loads when given.")(f)
    f = click.option("--update-endpoint", "update_endpoint", metavar="URL", default=None,
                     help="The server's SPARQL Update URL, where it differs from --endpoint.")(f)
    f = click.option("--endpoint", metavar="URL", default=None,
                     help="Use this SPARQL 1.1 server instead of the embedded store. Credentials come from "
                          "POLICYKG_USER / POLICYKG_PASSWORD or the config file, never from the command line.")(f)
    f = click.option("--store", "store_dir", metavar="DIR", default=None, type=click.Path(file_okay=False),
                     help="The embedded store's folder [default: $POLICYKG_STORE or "
                          "~/.local/share/policykg/store].")(f)
    return f


def open_store(store_dir, endpoint, update_endpoint, graph_store, retries, *, read_only: bool):
    from policykg.store import EmbeddedStore, default_store_dir

    if endpoint:
        if store_dir:
            raise click.UsageError("give --store or --endpoint, not both")
        from policykg.remote import RemoteStore, server_config

        return RemoteStore(server_config(endpoint, update=update_endpoint, graph_store=graph_store, retries=retries))
    if update_endpoint or graph_store:
        raise click.UsageError("--update-endpoint and --graph-store go with --endpoint")
    return EmbeddedStore(store_dir or default_store_dir(), read_only=read_only)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@store_options
@click.option("--encoding", default=None, metavar="CODEC", help="Read plain-text plans in this encoding.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar [default: when standard error is a terminal].")
@click.option("--verbose", "-v", is_flag=True, help="Print a line per file as it is loaded.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Extract plans in this many processes [default: one per core; plans are extracted "
                   "in-process when there are fewer than 8].")
def load(paths, store_dir, endpoint, update_endpoint, graph_store, retries, encoding, progress, verbose,
         jobs) -> None:
    """Load plans and RDF files into the store, each document in its own named graph.

    PATHS are plans (extracted on the way) or RDF files (.ttl .nt .nq .trig .jsonld .rdf).
    Loading a document again replaces its graph as a whole; a failure leaves the old graph.
    The ontology and the mapping tables (as SKOS) are refreshed in graphs of their own.
    New documents go into the embedded store in bulk, many at a time; a load that fails or
    is killed leaves the store as it was. Exit status: 0 all loaded, 2 some file could not be
    read or written (the others are loaded; the summary lists the failures).
    """
    from policykg.load import default_jobs, load_paths

    show = progress if progress is not None else (sys.stderr.isatty() and len(paths) > 1)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(paths), unit="file", file=sys.stderr, dynamic_ncols=True)

    def step(info):
        line = info.error or f"loaded {info.path}: {info.documents} document(s), {info.triples} triples"
        if bar is None:
            if verbose:
                click.echo(line, err=True)
            return
        bar.update(1)
        if verbose:
            bar.write(line, file=sys.stderr)   # above the bar, on standard error like the bar

    with open_store(store_dir, endpoint, update_endpoint, graph_store, retries, read_only=False) as store:
        report = load_paths(store, paths, encoding=encoding, on_file=step, jobs=jobs or default_jobs())
    if bar is not None:
        bar.close()
    click.echo(report.summary(), err=True)
    sys.exit(2 if report.failures else 0)


@main.command()
@click.option("--unresolved", is_flag=True,
              help="Only the names policykg could not place in a division, as written, to extend the tables.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@store_options
def actors(unresolved, fmt, store_dir, endpoint, update_endpoint, graph_store, retries) -> None:
    """List the units in the store: each real unit once, with its full name, its kind
    (mappings/unit_types.tsv), its division (mappings/jurisdictions.tsv), the measures it
    leads and shares and the documents that name it.

    A name is resolved within its plan's division (市科技局 in a Weihai plan is 威海市科学技术局);
    --unresolved lists those that could not be, as written, so a user can add the row a table
    lacks. This runs the library query `actors`. Exit status: 0, or 2 on an error.
    """
    from policykg import querylib

    q = querylib.find("actors")
    bound = querylib.bind(q, {"unresolved": "true"} if unresolved else {})
    with open_store(store_dir, endpoint, update_endpoint, graph_store, retries, read_only=True) as store:
        res = store.select(q.text, bound)
    click.echo(querylib.format_results(res, fmt))


@main.command()
@click.argument("query", required=False)
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter of the query, bound as an RDF term of its declared type (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--list", "list_", is_flag=True, help="List the library's queries with their descriptions.")
@store_options
def query(query, params, fmt, list_, store_dir, endpoint, update_endpoint, graph_store, retries) -> None:
    """Run QUERY, the name of a library query (queries/NAME.rq) or a .rq file of your own,
    against the embedded store or --endpoint.

    Exit status: 0 answered (for a `*-violation` check: and found nothing), 1 a check found
    something, 2 an error.
    """
    from policykg import querylib

    if list_:
        for q in querylib.library().values():
            ps = " ".join(f"[{p.name}={p.type}]" if p.optional else f"{p.name}={p.type}" for p in q.params)
            click.echo(f"{q.name}{'  ' + ps if ps else ''}\n    {q.description}")
        return
    if not query:
        raise click.UsageError("name a query (policykg query --list shows them) or a .rq file")
    q = querylib.find(query)
    raw = {}
    for p in params:
        name, eq, value = p.partition("=")
        if not eq:
            raise click.UsageError(f"--param {p!r}: write NAME=VALUE")
        raw[name.strip()] = value
    bound = querylib.bind(q, raw)
    with open_store(store_dir, endpoint, update_endpoint, graph_store, retries, read_only=True) as store:
        res = store.select(q.text, bound, graph=q.graph)
    click.echo(querylib.format_results(res, fmt))
    if res.truncated:
        click.echo(f"policykg: warning: the server cut the answer at {res.truncated} rows (its result limit); "
                   "narrow the query with --param or raise the limit (Virtuoso: ResultSetMaxRows)", err=True)
    sys.exit(1 if q.is_check and res.rows else 0)


@main.command()
@click.option("--store", "store_dir", metavar="DIR", default=None, type=click.Path(file_okay=False),
              help="The embedded store's folder [default: $POLICYKG_STORE or ~/.local/share/policykg/store].")
@click.option("--bind", "host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7878, show_default=True, type=click.IntRange(1, 65535))
@click.option("--writable", is_flag=True, help="Accept SPARQL updates and Graph Store writes too.")
def serve(store_dir, host, port, writable) -> None:
    """Serve the embedded store as a SPARQL 1.1 endpoint, with a query page for the browser.

    Read-only unless --writable. While it runs, it holds the store: load through the server
    (--endpoint .../query --update-endpoint .../update) or stop it first.
    """
    from policykg.serve import serve as run

    sys.exit(run(store_dir, host, port, writable=writable))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle", "html"]), default="text",
              show_default=True, help="Report format; turtle is the standard sh:ValidationReport.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the messages.")
@click.option("--fail-on", type=click.Choice(["violation", "warning"]), default="violation", show_default=True,
              help="Exit 1 on violations only, or on warnings too.")
@click.option("--encoding", default=None, metavar="CODEC", help="Read plain-text plans in this encoding.")
@click.option("--engine", type=click.Choice(["sparql", "pyshacl"]), default=None,
              help="sparql: the shapes compiled to SPARQL, one query per constraint over the whole store (fast); "
                   "pyshacl: each document's graph through pySHACL, the reference; both find the same. "
                   "[default: sparql for the store, pyshacl for PATHS; with sparql, PATHS are checked in an "
                   "in-memory Oxigraph store, which writes numbers in canonical form (18.0 as 18)]")
@store_options
def validate(paths, fmt, lang, fail_on, encoding, engine, store_dir, endpoint, update_endpoint, graph_store,
             retries) -> None:
    """Check plans against the SHACL shapes: every measure has a lead unit and a time frame,
    targets have values and units, documents have a title, a date and measures.

    PATHS are plans (extracted on the way) or graphs in RDF (.ttl .nt .nq .jsonld .rdf).
    Without PATHS, the documents loaded in the store are checked (--store DIR, the default
    store, or --endpoint URL). The report groups findings by document and names each
    measure by its number and opening words. Exit status: 0 conforms, 1 violations (with
    --fail-on warning, warnings too), 2 a file or the store could not be read (the other
    files are still checked).
    """
    from policykg.report import FORMATTERS
    from policykg.validate import validate_paths, validate_store

    if paths and (store_dir or endpoint):
        raise click.UsageError("give PATHS, or --store / --endpoint to check what is loaded, not both")
    if paths:
        report = validate_paths(paths, encoding=encoding, engine=engine or "pyshacl")
    else:
        with open_store(store_dir, endpoint, update_endpoint, graph_store, retries, read_only=True) as store:
            report = validate_store(store, engine=engine or "sparql")
    click.echo(FORMATTERS[fmt](report, lang))
    sys.exit(report.exit_code(fail_on))


@main.command()
@store_options
@click.option("--format", "fmt", type=click.Choice(["nq"]), required=True,   # policykg.export.FORMATS
              help="nq: N-Quads, one triple and its graph a line (the format every bulk loader reads).")
@click.option("--out", "out_dir", metavar="DIR", default=None, type=click.Path(path_type=str),
              help="Write numbered files DIR/policykg-000001.nq, ... instead of standard output "
                   "(DIR is made if missing).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --out: quads per file [default: 1,000,000].")
@click.option("--gzip", "compress", is_flag=True, help="With --out: gzip the files (policykg-000001.nq.gz).")
@click.option("--force", is_flag=True,
              help="With --out: replace the files of an earlier export in DIR (without it, they are an error).")
def export(store_dir, endpoint, update_endpoint, graph_store, retries, fmt, out_dir, chunk_size, compress,
           force) -> None:
    """Write the whole store as N-Quads, for loading into another triple store.

    Every named graph (each document's, the ontology's, the mappings') is written, each quad
    naming its graph; staging graphs of unfinished loads are not, nor (from --endpoint) the
    server's own graphs such as Virtuoso's virtrdf#. The quads stream to standard output, or
    with --out DIR to numbered files of at most --chunk-size quads, except that the quads
    sharing a blank node (the ontology's OWL lists) stay in one file. The files take their
    names only when all are written, and a summary goes to standard error. A server is read
    graph by graph in pages, each graph checked against its count.

    \b
    To bulk-load the files:
      Virtuoso (DIR on the server's machine, listed in DirsAllowed of its virtuoso.ini;
      the third argument is unused, every quad naming its graph), in isql-vt:
        ld_dir('/abs/DIR', '*.nq', 'http://example/default');   (or '*.nq.gz')
        rdf_loader_run();
        checkpoint;
        SELECT ll_file, ll_error FROM DB.DBA.load_list WHERE ll_error IS NOT NULL;
      QLever:  qlever-index -i NAME -F nq -f DIR/policykg-000001.nq -f DIR/policykg-000002.nq ...
               (gzipped: zcat DIR/*.nq.gz | qlever-index -i NAME -F nq -f -)
      Oxigraph:  oxigraph load --location STORE --file DIR/policykg-*.nq

    Exit status: 0, or 2 when the store cannot be read or the files cannot be written (a
    failed export leaves DIR as it was).
    """
    import os

    from policykg.export import CHUNK_SIZE, export_chunks, export_nquads

    if out_dir is None and (chunk_size or compress or force):
        raise click.UsageError("--chunk-size, --gzip and --force go with --out DIR (for standard output, pipe "
                               "through gzip)")
    with open_store(store_dir, endpoint, update_endpoint, graph_store, retries, read_only=True) as store:
        if out_dir is not None:
            report = export_chunks(store, out_dir, chunk_size or CHUNK_SIZE, compress=compress, force=force)
            click.echo(f"policykg: {report.summary()}", err=True)
            return
        stdout = sys.stdout.buffer
        try:
            report = export_nquads(store, stdout)
        except BrokenPipeError:   # the reader went away (policykg export ... | head): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
            sys.exit(1)
    if report.skipped:
        click.echo(f"policykg: {report.summary()}", err=True)


if __name__ == "__main__":
    main()
