"""``llmsym build``: verify -> arrange -> render -> compile, writing only into the build folder.

Outputs (all written atomically):
  build/llmsym-cheatsheet.tex   the LaTeX source
  build/llmsym-cheatsheet.pdf   the sheet and appendices A-D
  build/llmsym-cheatsheet.log   the LaTeX log of the last compilation
  build/report.json             the verification report
latexmk is skipped when the .tex did not change and its PDF exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import EnvironmentProblem
from ..verify.pipeline import Options, verify

NAME = "llmsym-cheatsheet"


@dataclass
class BuildOutcome:
    ok: bool
    messages: list[str] = field(default_factory=list)
    pdf: Path | None = None
    tex: Path | None = None


def build_date() -> tuple[str, bool]:
    """The date to print, and whether it came from SOURCE_DATE_EPOCH (a reproducible build)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%d"), True
        except ValueError:
            raise EnvironmentProblem(f"SOURCE_DATE_EPOCH={epoch!r} is not an integer") from None
    return datetime.now(tz=timezone.utc).strftime("%Y-%m-%d"), False


def project_commit() -> str:
    """The project's short commit hash, or '' outside a git checkout."""
    from ..resources import PACKAGE_DIR

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=10", "HEAD"],
            cwd=PACKAGE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write to the build folder {folder}: {exc.strerror}"
        ) from None


def build_sheet(opts: Options, paper: str = "a4", tex_only: bool = False) -> BuildOutcome:
    """Verify every derivation and typeset the result; see the module docstring."""
    from .. import __version__
    from .render import render
    from .arrange import BuildInfo, sheet_context
    from ..files import write_atomic
    from .texbuild import INSTALL_HINT, compile_pdf, missing_tools

    started = time.perf_counter()
    _writable(opts.build_dir)
    report = verify(opts)
    date, reproducible = build_date()
    info = BuildInfo(__version__, date, project_commit(), paper, reproducible, report.versions)
    tex_source = render("cheatsheet.tex.j2", sheet_context(report, info))
    outcome = BuildOutcome(report.ok)
    s = report.summary()
    outcome.messages.append(
        f"verified: {s['ok']}/{s['derivations']} derivations hold"
        + ("" if report.ok else " (see `llmsym verify` for the failures)")
    )

    write_atomic(opts.build_dir / "report.json", json.dumps(report.to_json(), indent=1).encode())
    tex = opts.build_dir / f"{NAME}.tex"
    pdf = opts.build_dir / f"{NAME}.pdf"
    unchanged = tex.exists() and tex.read_text() == tex_source
    if not unchanged:
        write_atomic(tex, tex_source.encode())
    outcome.tex = tex
    outcome.messages.append(f"wrote {tex}")
    if tex_only:
        return outcome
    if unchanged and pdf.exists() and opts.use_cache:
        outcome.pdf = pdf
        outcome.messages.append(f"{pdf} is up to date ({time.perf_counter() - started:.1f} s)")
        return outcome
    missing = missing_tools()
    if missing:
        raise EnvironmentProblem(
            f"wrote {tex} but cannot compile it: {', '.join(missing)} not found; {INSTALL_HINT}"
        )
    compiled = compile_pdf(tex, opts.build_dir)
    if not compiled.ok:
        kept = "the previous PDF is kept" if pdf.exists() else "no PDF was written"
        raise EnvironmentProblem(
            f"LaTeX failed on {tex} ({kept}; full log: {compiled.log}):\n{compiled.excerpt}"
        )
    outcome.pdf = compiled.pdf
    outcome.messages.append(f"wrote {compiled.pdf} ({time.perf_counter() - started:.1f} s)")
    return outcome
