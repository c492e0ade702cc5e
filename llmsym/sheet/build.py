"""``llmsym build``: verify once, then build each output format, writing only into the build folder.

Outputs (all written atomically, readable by others):
  build/report.json                 the verification report
  build/llmsym-cheatsheet.tex       the LaTeX source
  build/llmsym-cheatsheet.pdf       the sheet and its appendices
  build/llmsym-cheatsheet.log       the LaTeX log of the last compilation
  build/llmsym-cheatsheet.pdf.stamp what the PDF was compiled from (written after success)
  build/llmsym-cheatsheet.html      the sheet as one self-contained web page (MathML, inline SVG)
  build/llmsym-cheatsheet.html.stamp what the page was written from

Each format is one target function in :data:`TARGETS` (``pdf`` and ``html``). A
PDF is up to date only when its stamp matches the inputs of this build (the .tex,
the paper, the llmsym version, the TeX toolchain) and the PDF on disk is the one
the stamp describes; the page likewise, from its own inputs. The stamp is removed before LaTeX
starts, so a failed or interrupted compilation leaves the previous PDF in
place but stale, and the next build compiles again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import EnvironmentProblem, UserError
from ..files import write_atomic
from ..verify.pipeline import Options, verify

NAME = "llmsym-cheatsheet"
FORMATS = ("pdf", "html")


@dataclass
class BuildOutcome:
    ok: bool
    messages: list[str] = field(default_factory=list)
    pdf: Path | None = None
    tex: Path | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    report: Any = None


@dataclass
class Job:
    """What every target receives: the report, what the header says, where to write."""

    report: Any
    info: Any
    opts: Options
    paper: str
    tex_only: bool
    started: float
    say: Callable[[str], None]


def build_date() -> tuple[str, bool]:
    """The date to print, and whether it came from SOURCE_DATE_EPOCH (a reproducible build)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%d"), True
        except (ValueError, OverflowError, OSError):
            raise UserError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix time in seconds") from None
    return datetime.now(tz=timezone.utc).strftime("%Y-%m-%d"), False


def project_commit() -> str:
    """The project's short commit hash, or '' outside a git checkout (an installed wheel)."""
    from ..resources import PACKAGE_DIR

    if not (PACKAGE_DIR.parent / ".git").exists():
        return ""
    try:
        out = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=PACKAGE_DIR,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def writable(folder: Path) -> None:
    """Create ``folder`` if needed; exit 3 with one line if it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write to the build folder {folder}: {exc.strerror or exc}") from None


def check_formats(formats: tuple[str, ...]) -> None:
    for fmt in formats:
        if fmt not in TARGETS:
            raise UserError(f"unknown format {fmt!r}; choose from {', '.join(TARGETS)}")


def build_sheet(opts: Options, paper: str = "a4", tex_only: bool = False,
                formats: tuple[str, ...] = FORMATS,
                say: Callable[[str], None] | None = None) -> BuildOutcome:
    """Verify every derivation and build each format; see the module docstring.

    ``say`` receives progress notes ("compiling the PDF") for a progress line.
    """
    from .. import __version__
    from .arrange import BuildInfo

    started = time.perf_counter()
    date, reproducible = build_date()  # bad input is reported before any work
    check_formats(formats)
    writable(opts.build_dir)
    report = verify(opts)
    info = BuildInfo(__version__, date, project_commit(), paper, reproducible, report.versions)
    outcome = BuildOutcome(report.ok, report=report)
    s = report.summary()
    outcome.messages.append(
        f"verified: {s['ok']}/{s['derivations']} derivations hold"
        + ("" if report.ok else " (see `llmsym verify` for the failures)"))
    write_atomic(opts.build_dir / "report.json", json.dumps(report.to_json(), indent=1).encode())
    job = Job(report, info, opts, paper, tex_only, started, say or (lambda text: None))
    for fmt in formats:
        TARGETS[fmt](job, outcome)
    return outcome


# ---------------------------------------------------------------------------
# The PDF
# ---------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf_inputs(tex_source: str, paper: str) -> dict[str, Any]:
    """Everything the PDF depends on beyond the .tex's own inputs (TeX Live's files)."""
    from .. import __version__
    from .texbuild import toolchain

    return {"tex": _sha256(tex_source.encode()), "paper": paper, "llmsym": __version__,
            "toolchain": toolchain()}


def stamp_path(pdf: Path) -> Path:
    return pdf.with_name(pdf.name + ".stamp")


def up_to_date(pdf: Path, inputs: dict[str, Any]) -> bool:
    """The PDF exists, is the one last compiled successfully, from these very inputs."""
    try:
        stamp = json.loads(stamp_path(pdf).read_text())
        return stamp.get("inputs") == inputs and stamp.get("pdf") == _sha256(pdf.read_bytes())
    except (OSError, ValueError, AttributeError):
        return False


def mark_stale(pdf: Path) -> None:
    try:
        stamp_path(pdf).unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise EnvironmentProblem(f"cannot update {stamp_path(pdf)}: {exc.strerror}") from None


def write_stamp(pdf: Path, inputs: dict[str, Any]) -> None:
    stamp = {"inputs": inputs, "pdf": _sha256(pdf.read_bytes())}
    write_atomic(stamp_path(pdf), (json.dumps(stamp, indent=1, sort_keys=True) + "\n").encode())


def build_pdf(job: Job, outcome: BuildOutcome) -> None:
    """The LaTeX source, then the PDF when its inputs changed (or ``--no-cache``)."""
    from .arrange import sheet_context
    from .render import render

    folder = job.opts.build_dir
    tex_source = render("cheatsheet.tex.j2", sheet_context(job.report, job.info))
    tex = folder / f"{NAME}.tex"
    if not tex.exists() or tex.read_text() != tex_source:
        write_atomic(tex, tex_source.encode())
    outcome.tex = tex
    outcome.messages.append(f"wrote {tex}")
    if job.tex_only:
        return
    pdf, compiled = compile_tex(tex, pdf_inputs(tex_source, job.paper), job.opts.use_cache,
                                job.say)
    outcome.pdf = outcome.outputs["pdf"] = pdf
    took = f"({time.perf_counter() - job.started:.1f} s)"
    outcome.messages.append(f"wrote {pdf} {took}" if compiled else f"{pdf} is up to date {took}")


def compile_tex(tex: Path, inputs: dict[str, Any], use_cache: bool = True,
                say: Callable[[str], None] = lambda text: None) -> tuple[Path, bool]:
    """The PDF of ``tex`` beside it, compiled unless its stamp shows it is current.

    Returns ``(pdf, compiled)``. Raises EnvironmentProblem (exit 3) without TeX
    or on a LaTeX error; the previous PDF is then kept, and known to be stale.
    """
    from .texbuild import INSTALL_HINT, compile_pdf, missing_tools

    pdf = tex.with_suffix(".pdf")
    if use_cache and up_to_date(pdf, inputs):
        return pdf, False
    missing = missing_tools()
    if missing:
        raise EnvironmentProblem(
            f"wrote {tex} but cannot compile it: {', '.join(missing)} not found; {INSTALL_HINT}")
    mark_stale(pdf)  # from here until the stamp is written, the old PDF is not current
    say("compiling the PDF with latexmk")
    compiled = compile_pdf(tex, tex.parent)
    if not compiled.ok:
        kept = ("the previous PDF is kept but is out of date; the next build compiles again"
                if pdf.exists() else "no PDF was written")
        raise EnvironmentProblem(
            f"LaTeX failed on {tex} ({kept}; full log: {compiled.log}):\n{compiled.excerpt}")
    write_stamp(compiled.pdf, inputs)
    return compiled.pdf, True


# ---------------------------------------------------------------------------
# The web page
# ---------------------------------------------------------------------------


def build_html(job: Job, outcome: BuildOutcome) -> None:
    """The web page ``build/llmsym-cheatsheet.html``, skipped when its stamp shows it current."""
    from .html import build_html as write_page

    write_page(job, outcome)


# The formats `llmsym build --format` knows.
TARGETS: dict[str, Callable[[Job, BuildOutcome], None]] = {
    "pdf": build_pdf,
    "html": build_html,
}
