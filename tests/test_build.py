"""The real build: LaTeX compiled by latexmk, the PDF read back with poppler."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EPOCH = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01


def llmsym(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "llmsym", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=900,
    )


def pdftotext(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_pdf_names_every_derivation(built, full_report):
    text = pdftotext(built / "llmsym-cheatsheet.pdf")
    for d in full_report.derivations:
        assert " ".join(d.title.split()) in " ".join(text.split()), d.title


def test_tex_is_identical_across_two_runs(built, tmp_path):
    proc = llmsym("build", "--tex-only", "--build-dir", str(tmp_path), env=EPOCH)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "llmsym-cheatsheet.tex").read_bytes() == (
        built / "llmsym-cheatsheet.tex"
    ).read_bytes()


def test_latex_error_keeps_the_previous_pdf(built, tmp_path):
    folder = tmp_path / "b"
    shutil.copytree(built, folder)
    before = (folder / "llmsym-cheatsheet.pdf").read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "badtex.py").write_text(
        "import sympy as sp\nfrom llmsym.model import Claim, Derivation, Step\n"
        "x = sp.Symbol('x', real=True)\n"
        "DERIVATION = Derivation(id='bad-tex', title='Bad', topic='User',\n"
        "    gloss='$\\\\undefinedmacro$',\n"
        "    claims=(Claim('a', 'a', start=x, steps=(Step(x, 'same'),)),))\n"
    )
    proc = llmsym("build", "--derivations", str(bad), "--build-dir", str(folder), env=EPOCH)
    assert proc.returncode == 3
    assert "LaTeX failed" in proc.stderr and "undefinedmacro" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (folder / "llmsym-cheatsheet.pdf").read_bytes() == before
    assert (folder / "llmsym-cheatsheet.log").exists()


def test_without_tex_build_writes_tex_and_says_what_to_install(tmp_path):
    env = {**EPOCH, "PATH": str(Path(sys.executable).parent) + os.pathsep + "/usr/bin/nonexistent"}
    proc = llmsym("build", "--build-dir", str(tmp_path), env=env)
    assert proc.returncode == 3
    assert "texlive" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "llmsym-cheatsheet.tex").exists()
    assert not (tmp_path / "llmsym-cheatsheet.pdf").exists()
