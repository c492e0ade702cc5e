"""Compiling LaTeX with latexmk, safely.

The document is compiled in a fresh temporary folder inside the output folder
(``.latex-<pid>-*``); the PDF replaces the previous one with an atomic rename
only when LaTeX succeeded. On an error the log is kept beside the PDF and the
lines that matter are returned; the previous PDF stays as it was.

latexmk runs in its own process group: when llmsym is interrupted (Ctrl-C,
SIGTERM, SIGHUP) the whole group is killed and the temporary folder removed.
A folder left by a llmsym that was killed outright (``kill -9``) names a
process that no longer exists, and the next compilation removes it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..files import write_atomic

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
    "texlive-latex-extra texlive-fonts-recommended lmodern latexmk"
)
WORK_PREFIX = ".latex-"
ORPHAN_AGE = 600.0  # seconds after which a work folder without a process id is debris


@dataclass
class Compiled:
    """How a compilation went: the PDF on success, the log excerpt otherwise."""

    ok: bool
    pdf: Path | None
    log: Path | None
    excerpt: str = ""


def missing_tools() -> list[str]:
    return [tool for tool in ("latexmk", "pdflatex") if shutil.which(tool) is None]


def toolchain() -> dict[str, str]:
    """Where latexmk and pdflatex are: part of what makes a PDF up to date."""
    return {tool: shutil.which(tool) or "" for tool in ("latexmk", "pdflatex")}


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphans(out_dir: Path) -> list[Path]:
    """Delete work folders whose llmsym is gone (killed outright); the folders removed."""
    removed = []
    for folder in out_dir.glob(WORK_PREFIX + "*"):
        if not folder.is_dir():
            continue
        pid_text = folder.name[len(WORK_PREFIX):].split("-", 1)[0]
        if pid_text.isdigit():
            orphan = not _alive(int(pid_text))
        else:  # a folder from an older llmsym: debris once it is old enough
            orphan = time.time() - folder.stat().st_mtime > ORPHAN_AGE
        if orphan:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_latexmk(name: str, cwd: Path, timeout: float) -> tuple[bool, str]:
    """Run latexmk on ``name`` in ``cwd``; (succeeded, its output). Killed with llmsym."""
    env = dict(os.environ)
    env.setdefault("FORCE_SOURCE_DATE", "1")  # \today and PDF dates from SOURCE_DATE_EPOCH
    proc = subprocess.Popen(LATEXMK + [name], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return False, f"latexmk did not finish within {timeout:g} s"
    except BaseException:  # Ctrl-C, SIGTERM, SIGHUP: LaTeX stops with us
        _kill_group(proc)
        raise
    return proc.returncode == 0, output


def compile_pdf(tex: Path, out_dir: Path, timeout: float = 300.0) -> Compiled:
    """Compile ``tex`` into ``out_dir/<stem>.pdf``; keep ``<stem>.log`` beside it."""
    stem = tex.stem
    remove_orphans(out_dir)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f"{WORK_PREFIX}{os.getpid()}-") as work:
        work_dir = Path(work)
        shutil.copyfile(tex, work_dir / tex.name)
        ok, output = run_latexmk(tex.name, work_dir, timeout)
        log_file = work_dir / f"{stem}.log"
        log_text = log_file.read_text(errors="replace") if log_file.exists() else output
        kept_log = out_dir / f"{stem}.log"
        write_atomic(kept_log, log_text.encode())
        pdf = work_dir / f"{stem}.pdf"
        if not ok or not pdf.exists():
            return Compiled(False, None, kept_log, log_excerpt(log_text))
        os.chmod(pdf, 0o666 & ~_umask())
        target = out_dir / f"{stem}.pdf"
        os.replace(pdf, target)  # same file system: atomic
        return Compiled(True, target, kept_log)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
