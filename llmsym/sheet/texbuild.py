"""Compiling LaTeX with latexmk, safely.

The document is compiled in a fresh temporary folder inside the output
folder; the PDF replaces the previous one with an atomic rename only when
LaTeX succeeded. On an error the log is kept beside the PDF and the lines
that matter are returned; the previous PDF stays as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LATEXMK = [
    "latexmk",
    "-pdf",
    "-interaction=nonstopmode",
    "-halt-on-error",
    "-file-line-error",
    "-no-shell-escape",
]
INSTALL_HINT = (
    "install TeX Live: sudo apt-get install texlive-latex-base texlive-latex-recommended "
    "texlive-latex-extra texlive-fonts-recommended lmodern latexmk (or run `make pdf`)"
)


@dataclass
class Compiled:
    """How a compilation went: the PDF on success, the log excerpt otherwise."""

    ok: bool
    pdf: Path | None
    log: Path | None
    excerpt: str = ""


def missing_tools() -> list[str]:
    return [tool for tool in ("latexmk", "pdflatex") if shutil.which(tool) is None]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file and a rename: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def log_excerpt(log_text: str, context: int = 3) -> str:
    """The error lines of a LaTeX log (``file:line: message`` and ``!`` lines) with context."""
    lines = log_text.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if re.match(r"^(\./)?[^:\s]+\.tex:\d+: ", line) or line.startswith("!"):
            picked += lines[i : i + context + 1]
            if len(picked) > 30:
                break
    return "\n".join(picked) if picked else "\n".join(lines[-15:])


def compile_pdf(tex: Path, out_dir: Path, timeout: float = 300.0) -> Compiled:
    """Compile ``tex`` into ``out_dir/<stem>.pdf``; keep ``<stem>.log`` beside it."""
    stem = tex.stem
    env = dict(os.environ)
    env.setdefault("FORCE_SOURCE_DATE", "1")  # \today and PDF dates from SOURCE_DATE_EPOCH
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".latex-") as work:
        work_dir = Path(work)
        shutil.copyfile(tex, work_dir / tex.name)
        try:
            proc = subprocess.run(
                LATEXMK + [tex.name],
                cwd=work_dir,
                env=env,
                timeout=timeout,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                stdin=subprocess.DEVNULL,
            )
            failed, output = proc.returncode != 0, proc.stdout
        except subprocess.TimeoutExpired:
            failed, output = True, f"latexmk did not finish within {timeout:g} s"
        log_file = work_dir / f"{stem}.log"
        log_text = log_file.read_text(errors="replace") if log_file.exists() else output
        kept_log = out_dir / f"{stem}.log"
        write_atomic(kept_log, log_text.encode())
        pdf = work_dir / f"{stem}.pdf"
        if failed or not pdf.exists():
            return Compiled(False, None, kept_log, log_excerpt(log_text))
        target = out_dir / f"{stem}.pdf"
        os.replace(pdf, target)  # same file system: atomic
        return Compiled(True, target, kept_log)
