"""The commands that read, verify and typeset: list, verify, show, build, export, mutate.

Each one parses its options, calls one engine function and prints through
:class:`~llmsym.cli.output.Output` (results on stdout, messages on stderr, a
progress line on a terminal). Nothing here imports SymPy at module level.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import CHECK_FAILED, OK, EnvironmentProblem, UserError
from .options import (
    build_dir_option,
    check_folders,
    check_timeout,
    common_options,
    complete_ids,
    derivations_option,
    ids_argument,
    jobs_option,
    json_option,
    quiet_option,
    seed_option,
    timeout_option,
    verbose_option,
)
from .output import Output

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def build_folder(path: str | None) -> Path:
    from ..resources import default_build_dir

    return Path(path) if path else default_build_dir()


def make_options(out: Output, verb: str, ids=(), extra_dirs=(), no_cache=False, seed=0,
                 timeout=None, jobs=None, build_dir=None) -> Any:
    """Pipeline options from the common command-line options, checked (exit 2 if bad)."""
    from ..verify.pipeline import DEFAULT_TIMEOUT, Options

    check_timeout(timeout)
    check_folders(tuple(extra_dirs))
    opts = Options(ids=tuple(ids), extra_dirs=tuple(extra_dirs), use_cache=not no_cache,
                   seed=seed, timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
                   build_dir=build_folder(build_dir), progress=out.progress(verb))
    if jobs:
        opts.jobs = jobs
    return opts


def run_verification(out: Output, opts: Any, verb: str = "verifying") -> Any:
    """The pipeline with a progress line, and its warnings printed."""
    from ..verify.pipeline import verify

    out.status(f"{verb}: loading the derivation files", force=True)
    report = verify(opts)
    out.clear()
    warn(out, report)
    return report


def warn(out: Output, report: Any) -> None:
    for warning in report.warnings:
        out.problem(f"llmsym: warning: {warning}")


def finish(ok: bool) -> None:
    sys.exit(OK if ok else CHECK_FAILED)


# ---------------------------------------------------------------------------
# list
# ---------------------------------------------------------------------------


def _prose(text: str) -> str:
    """A title's ``$...$`` math as Unicode (as written, if texmath cannot read it)."""
    from ..texmath import prose_to_text

    try:
        return prose_to_text(text)
    except Exception:  # a listing never fails on a title
        return text


@click.command("list", context_settings=CONTEXT)
@json_option
@derivations_option
@build_dir_option
@seed_option
@timeout_option
@quiet_option
def list_cmd(as_json: bool, extra_dirs: tuple[str, ...], build_dir: str | None, seed: int,
             timeout: float | None, quiet: bool) -> None:
    """List the derivations: id, topic, title and cached status, without proving anything.

    The status is the one the check cache holds for this version of the file
    ('unverified' when there is none: run `llmsym verify`).
    """
    from .catalogue import catalogue

    out = Output(quiet=quiet)
    check_timeout(timeout)
    check_folders(extra_dirs)
    entries, failures = catalogue(extra_dirs, build_folder(build_dir), seed, timeout)
    if as_json:
        out.result(json.dumps({"derivations": [e.to_json() for e in entries],
                               "load_failures": [f.to_json() for f in failures]}, indent=2))
    else:
        wid = max((len(e.id) for e in entries), default=4)
        wtop = max((len(e.topic) for e in entries), default=5)
        wst = max((len(e.status or "unverified") for e in entries), default=10)
        for e in entries:
            out.result(f"{e.id:<{wid}}  {e.topic:<{wtop}}  {e.status or 'unverified':<{wst}}"
                       f"  {_prose(e.title)}")
        for f in failures:
            out.problem(f"could not load {f}")
    finish(not failures)


# ---------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------


@click.command(context_settings=CONTEXT)
@ids_argument
@json_option
@common_options
def verify(ids, as_json, extra_dirs, no_cache, build_dir, seed, timeout, jobs, quiet,
           verbose) -> None:
    """Check every step of the derivations IDS (default: all) and run their numeric checks.

    A step is 'proved' (symbolically, for all values under the stated
    assumptions), 'proved for n = a..b' (for each concrete size only),
    'definition' or 'stated' (a premise, shown with its claim), 'failed'
    (with the residual and the point) or 'timeout'. Exit status 0 only when
    all hold.
    """
    from .terminal import failures, steps_table, summary_table

    out = Output(quiet, verbose)
    opts = make_options(out, "verified", ids, extra_dirs, no_cache, seed, timeout, jobs, build_dir)
    report = run_verification(out, opts)
    if as_json:
        out.result(json.dumps(report.to_json(), indent=2))
    else:
        table = summary_table(report)
        out.result(table.splitlines()[-1] if quiet else table)
        if verbose:
            for d in report.derivations:
                out.detail(f"{d.id}:\n{steps_table(d)}")
    problems = failures(report)
    if problems:
        out.problem("\n" + problems)
    finish(report.ok)


# ---------------------------------------------------------------------------
# show
# ---------------------------------------------------------------------------


@click.command(context_settings=CONTEXT)
@click.argument("derivation_id", metavar="ID", shell_complete=complete_ids)
@json_option
@common_options
def show(derivation_id: str, as_json, extra_dirs, no_cache, build_dir, seed, timeout, jobs,
         quiet, verbose) -> None:
    """Show one derivation as math: its claims, premises, steps, statuses and any failure.

    Formulas are printed in Unicode and wrapped to the terminal's width
    ($COLUMNS). A failed step shows the tactics tried, the residual and the
    point where it was false. Exit status 1 if the derivation does not hold.
    """
    from .terminal import chain

    out = Output(quiet, verbose)
    opts = make_options(out, "verified", (derivation_id,), extra_dirs, no_cache, seed, timeout,
                        jobs, build_dir)
    report = run_verification(out, opts)
    d = report.derivation(derivation_id)
    if as_json:
        out.result(json.dumps({"schema": report.to_json()["schema"],
                               "derivation": d.to_json(with_view=True),
                               "claims": report.claims_json(d)}, indent=2))
    else:
        out.result(chain(report, d))
    for f in report.load_failures:
        out.problem(f"could not load {f}")
    finish(report.ok)


# ---------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------


@click.command(context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "all"]), default="all",
              show_default=True, help="What to build: the PDF sheet, the HTML page, or both.")
@click.option("--tex-only", is_flag=True, help="Write the .tex but do not run LaTeX.")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
              help="Paper size of the landscape sheet.")
@common_options
def build(fmt: str, tex_only: bool, paper: str, extra_dirs, no_cache, build_dir, seed, timeout,
          jobs, quiet, verbose) -> None:
    """Verify, then typeset the cheat sheet and appendices into the build folder.

    The PDF is compiled by latexmk in a temporary folder and moved into place
    only when LaTeX succeeded. It counts as up to date only when it was
    compiled successfully from the same inputs; after a failed or interrupted
    compilation the previous PDF is kept, known to be stale, and the next build
    compiles again. A derivation that does not verify is still typeset, marked
    as failed, and the exit status is 1.
    """
    from ..sheet.build import FORMATS, build_sheet
    from .terminal import summary_table

    out = Output(quiet, verbose)
    opts = make_options(out, "verified", (), extra_dirs, no_cache, seed, timeout, jobs, build_dir)
    formats = FORMATS if fmt == "all" else (fmt,)
    out.status("build: loading the derivation files", force=True)
    outcome = build_sheet(opts, paper=paper, tex_only=tex_only, formats=formats,
                          say=lambda text: out.status(f"build: {text}", force=True))
    out.clear()
    for line in outcome.messages:
        out.info(line)
    warn(out, outcome.report)
    out.detail(summary_table(outcome.report))
    finish(outcome.ok)


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------


def output_path(output: str) -> Path:
    """The file to write: its folder must exist and it must not be a folder (exit 2)."""
    path = Path(output)
    if output.endswith(("/", "\\")) or path.is_dir():
        raise UserError(f"option --output: {output} is a folder; give a file name")
    if not path.parent.is_dir():
        raise UserError(f"option --output: the folder {path.parent} does not exist")
    return path


@click.command(context_settings=CONTEXT)
@ids_argument
@click.option("--format", "fmt", type=click.Choice(["python", "json"]), default="python",
              show_default=True, help="A standalone Python module, or JSON.")
@click.option("-o", "--output", metavar="FILE", default="-", show_default=True,
              help="File to write ('-' for standard output); its folder must exist.")
@common_options
def export(ids, fmt: str, output: str, extra_dirs, no_cache, build_dir, seed, timeout, jobs,
           quiet, verbose) -> None:
    """Export the verified results of IDS (default: all) as a typed Python module or JSON.

    The module imports only math and numbers, checks its arguments and carries
    each result's premises and status in its docstring.

    \b
    llmsym export -o llm_formulas.py
    llmsym export kv-cache-memory --format json -o results.json
    """
    from .. import __version__
    from ..files import write_atomic
    from ..reuse.export import json_document, python_module
    from ..reuse.results import from_report

    out = Output(quiet, verbose)
    target = None if output == "-" else output_path(output)
    opts = make_options(out, "verified", ids, extra_dirs, no_cache, seed, timeout, jobs, build_dir)
    report = run_verification(out, opts)
    found = from_report(report)
    if not found:
        raise UserError("no results to export: the derivations define none")
    text = python_module(found, __version__) if fmt == "python" else \
        json_document(found, __version__)
    if target is None:
        from .output import echo

        echo(text, nl=False)
    else:
        try:
            write_atomic(target, text.encode())
        except OSError as exc:
            raise EnvironmentProblem(f"cannot write {output}: {exc.strerror}") from None
        out.info(f"wrote {len(found)} results to {output}")
    finish(report.ok)


# ---------------------------------------------------------------------------
# mutate
# ---------------------------------------------------------------------------


def _mutation_text(out: Output, result: dict[str, Any]) -> None:
    ops = ", ".join(f"{k} {v}" for k, v in result["by_operator"].items())
    out.result(f"{result['caught']}/{result['total']} mutants caught "
               f"({result['equivalent_skipped']} equal to the original "
               "or a looser true bound, skipped)")
    num = result["numeric"]
    out.result(f"numeric: {num['caught']}/{num['total']} mutated formulas caught by the"
               " checks tied to their claims")
    out.detail(f"by operator: {ops}")
    for s in result["survivors"]:
        out.problem(f"SURVIVED {s['derivation']} step {s['step']} ({s['claim']}) "
                    f"{s['operator']}: {s['expression']}")
    for s in num["survivors"]:
        out.problem(f"SURVIVED {s['derivation']} check {s['check']} ({s['claim']})"
                    f" {s['operator']}: {s['formula']}")
    for name in num["untested"]:
        out.problem(f"UNTESTED {name}: no mutant of its formula could be made")
    for e in result["errors"]:
        out.problem(f"error: {e}")


@click.command(context_settings=CONTEXT)
@ids_argument
@json_option
@click.option("--sample", type=click.FloatRange(0.0, 1.0, min_open=True), default=1.0,
              show_default=True, help="Fraction of the mutants to run (a fast smoke test).")
@derivations_option
@seed_option
@timeout_option
@jobs_option
@quiet_option
@verbose_option
def mutate(ids, as_json, sample, extra_dirs, seed, timeout, jobs, quiet, verbose) -> None:
    """Plant errors in every checked step and formula; the checker must catch each one.

    Operators: flip a sign, drop a term, change an exponent or a constant,
    swap two arguments or indices, move a summation bound, max<->min, exchange
    two symbols of the same kind. Mutants equal to the original are skipped.
    Exit status 1 when a mutant survives.
    """
    from ..verify.mutation import mutation

    out = Output(quiet, verbose)
    opts = make_options(out, "mutated", ids, extra_dirs, True, seed, timeout, jobs, None)
    out.status("mutate: loading the derivation files", force=True)
    result = mutation(opts, sample=sample)
    out.clear()
    if as_json:
        out.result(json.dumps(result, indent=2))
    else:
        _mutation_text(out, result)
    bad = result["survivors"] or result["errors"] or result["numeric"]["survivors"] or \
        result["numeric"]["untested"]
    finish(not bad)
