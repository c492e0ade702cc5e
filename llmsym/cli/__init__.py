"""The ``llmsym`` command line: list, verify, show, build, calc, export, mutate.

Every command is a thin layer over the engine: it parses options, calls one
function, prints. Imports are lazy, so ``llmsym --help`` never loads SymPy.

Exit statuses: 0 everything held; 1 a check failed; 2 bad input (unknown
id, bad option or config); 3 environment (no TeX, LaTeX error, unwritable
output folder); 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..errors import CHECK_FAILED, INTERRUPTED, OK, EnvironmentProblem, UserError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str, code: int) -> None:
    click.echo(f"llmsym: error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns every user error into one line and a documented exit status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; no output file was left half-written", INTERRUPTED)


def _build_dir(path: str | None) -> Path:
    from ..resources import default_build_dir

    return Path(path) if path else default_build_dir()


derivations_option = click.option(
    "--derivations",
    "extra_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Also load derivation files from DIR (repeatable).",
    metavar="DIR",
)
no_cache_option = click.option("--no-cache", is_flag=True, help="Check everything afresh.")
build_dir_option = click.option(
    "--build-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder [default: the project's build/, or $LLMSYM_BUILD_DIR].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="llmsym")
def main() -> None:
    """Derive, verify and typeset the mathematics of large language models.

    \b
    Typical use:
      llmsym list                      what derivations exist
      llmsym verify                    check every step and numeric test
      llmsym show softmax-shift        one chain, step by step
      llmsym build                     the cheat sheet PDF, into build/

    Exit status: 0 all held, 1 a check failed, 2 bad input,
    3 environment (TeX, permissions), 130 interrupted.
    """


def _options(
    ids=(), extra_dirs=(), no_cache=False, seed=0, timeout=10.0, jobs=None, build_dir=None
):
    from ..verify.pipeline import Options

    opts = Options(
        ids=tuple(ids),
        extra_dirs=tuple(extra_dirs),
        use_cache=not no_cache,
        seed=seed,
        timeout=timeout,
        build_dir=_build_dir(build_dir),
    )
    if jobs:
        opts.jobs = jobs
    return opts


@main.command("list")
@json_option
@derivations_option
@build_dir_option
def list_cmd(as_json: bool, extra_dirs: tuple[str, ...], build_dir: str | None) -> None:
    """List the derivations: id, topic, title and last known status."""
    from ..verify.pipeline import verify

    report = verify(_options(extra_dirs=extra_dirs, build_dir=build_dir))
    rows = [
        {
            "id": d.id,
            "topic": d.topic,
            "title": d.title,
            "status": d.status.label,
            "source": d.source,
        }
        for d in report.derivations
    ]
    if as_json:
        click.echo(
            json.dumps(
                {"derivations": rows, "load_failures": [f.to_json() for f in report.load_failures]},
                indent=2,
            )
        )
    else:
        width = max((len(r["id"]) for r in rows), default=4)
        topic_width = max((len(r["topic"]) for r in rows), default=5)
        for r in rows:
            click.echo(f"{r['id']:<{width}}  {r['topic']:<{topic_width}}  {r['title']}")
        for f in report.load_failures:
            click.echo(f"could not load {f}", err=True)
    sys.exit(OK if not report.load_failures else CHECK_FAILED)


@main.command()
@click.argument("ids", nargs=-1)
@json_option
@derivations_option
@no_cache_option
@click.option("--seed", default=0, show_default=True, help="Seed for the random points and checks.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds allowed per step.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Derivations checked in parallel [default: number of CPUs].",
)
@build_dir_option
def verify(ids, as_json, extra_dirs, no_cache, seed, timeout, jobs, build_dir) -> None:
    """Check every step of the derivations IDS (default: all) and run their numeric checks.

    A step is 'proved' (symbolically, for all values under the stated
    assumptions), 'proved for n = a..b' (for each concrete size only),
    'definition' or 'assumption' (stated, not checked), 'failed' (with the
    residual and the point) or 'timeout'. Exit status 0 only when all hold.
    """
    from ..verify.pipeline import verify as run
    from .terminal import failures, summary_table

    report = run(_options(ids, extra_dirs, no_cache, seed, timeout, jobs, build_dir))
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(summary_table(report))
        problems = failures(report)
        if problems:
            click.echo("\n" + problems, err=True)
    sys.exit(OK if report.ok else CHECK_FAILED)


@main.command()
@click.argument("derivation_id", metavar="ID")
@derivations_option
@no_cache_option
@build_dir_option
def show(derivation_id: str, extra_dirs, no_cache, build_dir) -> None:
    """Show one derivation's chains, step by step, with each step's status."""
    from ..verify.pipeline import verify as run
    from .terminal import chain

    report = run(_options((derivation_id,), extra_dirs, no_cache, build_dir=build_dir))
    for d in report.derivations:
        click.echo(chain(d))
    sys.exit(OK if report.ok else CHECK_FAILED)


@main.command()
@click.option("--tex-only", is_flag=True, help="Write the .tex but do not run LaTeX.")
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"]),
    default="a4",
    show_default=True,
    help="Paper size of the landscape sheet.",
)
@derivations_option
@no_cache_option
@build_dir_option
def build(tex_only: bool, paper: str, extra_dirs, no_cache, build_dir) -> None:
    """Verify, then typeset the cheat sheet and appendices into the build folder.

    The PDF is compiled by latexmk in a fresh temporary folder and moved into
    place only when LaTeX succeeded: a failed build keeps the previous PDF.
    A derivation that does not verify is still typeset, marked as failed, and
    the exit status is 1.
    """
    from ..sheet.build import build_sheet

    outcome = build_sheet(
        _options(extra_dirs=extra_dirs, no_cache=no_cache, build_dir=build_dir),
        paper=paper,
        tex_only=tex_only,
    )
    for line in outcome.messages:
        click.echo(line)
    sys.exit(OK if outcome.ok else CHECK_FAILED)


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["python", "json"]),
    default="python",
    show_default=True,
    help="A standalone Python module, or JSON.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
    help="File to write ('-' for standard output).",
)
@derivations_option
@build_dir_option
def export(fmt: str, output: str, extra_dirs, build_dir) -> None:
    """Export every verified result as plain code or JSON.

    \b
    llmsym export -o llm_formulas.py      # imports only math; no SymPy needed
    llmsym export --format json -o results.json
    """
    from .. import __version__
    from ..reuse.export import json_document, python_module
    from ..verify.pipeline import verify as run
    from ..reuse.results import from_report
    from ..files import write_atomic

    report = run(_options(extra_dirs=extra_dirs, build_dir=build_dir))
    found = from_report(report)
    text = python_module(found, __version__) if fmt == "python" else json_document(found)
    if output == "-":
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(Path(output), text.encode())
        except OSError as exc:
            raise EnvironmentProblem(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"wrote {len(found)} results to {output}", err=True)
    sys.exit(OK if report.ok else CHECK_FAILED)


@main.command()
@click.argument("ids", nargs=-1)
@json_option
@click.option(
    "--sample",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=1.0,
    show_default=True,
    help="Fraction of the mutants to run (a fast smoke test).",
)
@click.option(
    "--seed", default=0, show_default=True, help="Seed for choosing and checking mutants."
)
@derivations_option
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Derivations mutated in parallel [default: number of CPUs].",
)
def mutate(ids, as_json, sample, seed, extra_dirs, jobs) -> None:
    """Plant errors in every checked step and make sure the checker catches each one.

    Operators: flip a sign, drop a term, change an exponent or a constant,
    swap two arguments or indices, move a summation bound, max<->min, exchange
    two symbols of the same kind. Mutants equal to the original are skipped.
    Exit status 1 when a mutant survives.
    """
    from ..verify.pipeline import mutation

    result = mutation(_options(ids, extra_dirs, seed=seed, jobs=jobs), sample=sample)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        ops = ", ".join(f"{k} {v}" for k, v in result["by_operator"].items())
        click.echo(
            f"{result['caught']}/{result['total']} mutants caught "
            f"({result['equivalent_skipped']} equal to the original "
            "or a looser true bound, skipped)"
        )
        click.echo(f"by operator: {ops}")
        for s in result["survivors"]:
            click.echo(
                f"SURVIVED {s['derivation']} step {s['step']} ({s['claim']}) "
                f"{s['operator']}: {s['expression']}",
                err=True,
            )
        for e in result["errors"]:
            click.echo(f"error: {e}", err=True)
    sys.exit(OK if not result["survivors"] and not result["errors"] else CHECK_FAILED)


def _register_calc() -> None:
    from .calc import calc  # imports only click at module level

    main.add_command(calc)


_register_calc()


def run_file(path: str) -> None:
    """``python derivations/x.py``: verify just that file, without the cache."""
    from .checker import check_claims
    from .harness import run_checks
    from .loader import load_file
    from .report import DerivationReport, LoadFailure
    from .terminal import chain
    from .view import build_view

    loaded = load_file(Path(path))
    if isinstance(loaded, LoadFailure):
        _fail(str(loaded), CHECK_FAILED)
    d = loaded.derivation
    report = DerivationReport(
        d.id, d.title, d.topic, str(path), check_claims(d), run_checks(d), build_view(d)
    )
    click.echo(chain(report))
    sys.exit(OK if report.ok else CHECK_FAILED)


if __name__ == "__main__":
    main()
