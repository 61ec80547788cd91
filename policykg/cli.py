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
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="turtle", show_default=True,
              help="RDF serialization of the graph written to standard output.")
@click.option("--encoding", default=None, metavar="CODEC",
              help="Read the file in this encoding (e.g. gb18030) instead of detecting it.")
@click.option("--summary", is_flag=True, help="Also print a short summary of what was found (to standard error).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print warnings (numbering gaps, measures with no lead).")
def extract(path: str, fmt: str, encoding: str | None, summary: bool, quiet: bool) -> None:
    """Print the knowledge graph of the plan at PATH.

    The graph uses the policykg ontology: the document and its metadata, every measure with
    its lead and co units, time frame and targets, each linked to the span of text it came
    from. Exit status: 0 on success, 2 when the file cannot be read or holds no plan.
    """
    from policykg.emit import to_graph
    from policykg.pipeline import document_from_path
    from policykg.summary import summarize

    doc = document_from_path(path, encoding=encoding)
    data = to_graph(doc).serialize(format=FORMATS[fmt])
    sys.stdout.write(data if data.endswith("\n") else data + "\n")
    sys.stdout.flush()
    if not quiet:
        for f in doc.findings:
            if f.code != "no-lead":
                click.echo(f"policykg: warning: {path}: {f.message}", err=True)
    if summary:
        click.echo(summarize(doc), err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle", "html"]), default="text",
              show_default=True, help="Report format; turtle is the standard sh:ValidationReport.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the messages.")
@click.option("--fail-on", type=click.Choice(["violation", "warning"]), default="violation", show_default=True,
              help="Exit 1 on violations only, or on warnings too.")
@click.option("--encoding", default=None, metavar="CODEC", help="Read plain-text plans in this encoding.")
def validate(paths: tuple[str, ...], fmt: str, lang: str, fail_on: str, encoding: str | None) -> None:
    """Check plans against the SHACL shapes: every measure has a lead unit and a time frame,
    targets have values and units, documents have a title, a date and measures.

    PATHS are plans (extracted on the way) or graphs in RDF (.ttl .nt .nq .jsonld .rdf).
    The report groups findings by document and names each measure by its number and
    opening words. Exit status: 0 conforms, 1 violations (with --fail-on warning, warnings
    too), 2 a file could not be read (the others are still checked).
    """
    from policykg.report import FORMATTERS
    from policykg.validate import validate_paths

    report = validate_paths(paths, encoding=encoding)
    click.echo(FORMATTERS[fmt](report, lang))
    sys.exit(report.exit_code(fail_on))


if __name__ == "__main__":
    main()
