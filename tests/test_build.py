"""The real build: LaTeX compiled by latexmk, the PDF read back with poppler, and a PDF that is
called up to date only when it was compiled, successfully, from the very same inputs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EPOCH, run_cli, warm_copy

from llmsym.errors import EnvironmentProblem
from llmsym.sheet.build import compile_tex, pdf_inputs, stamp_path

DOC = r"""\documentclass{article}
\usepackage[paper=%s]{geometry}
\begin{document}
%s
\end{document}
"""


def pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def page_size(pdf: Path) -> str:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return next(line for line in info.splitlines() if line.startswith("Page size:"))


def write(tex: Path, body: str, paper: str = "a4paper") -> dict:
    source = DOC % (paper, body)
    tex.write_text(source)
    return pdf_inputs(source, paper)


# --- the stamp: a PDF is current only if compiled successfully from these inputs --------------


def test_compiled_once_then_up_to_date_then_recompiled_when_an_input_changes(tmp_path):
    tex = tmp_path / "doc.tex"
    inputs = write(tex, "First.")
    pdf, compiled = compile_tex(tex, inputs)
    assert compiled and "First." in pdftotext(pdf)
    assert stamp_path(pdf).exists() and (pdf.stat().st_mode & 0o044) == 0o044
    assert compile_tex(tex, inputs) == (pdf, False)
    assert compile_tex(tex, inputs, use_cache=False) == (pdf, True)  # --no-cache compiles
    letter = write(tex, "First.", "letterpaper")
    assert compile_tex(tex, letter) == (pdf, True)
    assert "612 x 792" in page_size(pdf)


def test_a_replaced_pdf_is_not_up_to_date(tmp_path):
    tex = tmp_path / "doc.tex"
    inputs = write(tex, "Original.")
    pdf, _ = compile_tex(tex, inputs)
    shutil.copy(pdf, tmp_path / "keep.pdf")
    pdf.write_bytes(pdf.read_bytes() + b"\n%tampered\n")
    assert compile_tex(tex, inputs) == (pdf, True)


def test_a_latex_error_keeps_the_old_pdf_marks_it_stale_and_the_next_build_compiles(tmp_path):
    tex = tmp_path / "doc.tex"
    pdf, _ = compile_tex(tex, write(tex, "Good text."))
    before = pdf.read_bytes()
    broken = write(tex, r"Broken \undefinedmacro text.")
    for _ in range(2):  # the second attempt compiles again: it never says "up to date"
        with pytest.raises(EnvironmentProblem) as failed:
            compile_tex(tex, broken)
        assert "undefinedmacro" in str(failed.value) and "out of date" in str(failed.value)
        assert pdf.read_bytes() == before and not stamp_path(pdf).exists()
    assert list(tmp_path.glob(".latex-*")) == []
    assert compile_tex(tex, write(tex, "Fixed text.")) == (pdf, True)
    assert "Fixed text." in pdftotext(pdf)


def test_without_tex_nothing_is_claimed(tmp_path, monkeypatch):
    tex = tmp_path / "doc.tex"
    inputs = write(tex, "Text.")
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    with pytest.raises(EnvironmentProblem, match="latexmk, pdflatex not found; install TeX"):
        compile_tex(tex, inputs)
    assert not (tmp_path / "doc.pdf").exists()


# --- the whole sheet --------------------------------------------------------------------------


def test_pdf_names_every_derivation(built, full_report):
    text = " ".join(pdftotext(built / "llmsym-cheatsheet.pdf").replace("\u2019", "'").split())
    for d in full_report.derivations:
        words = max(d.title.split("$")[::2], key=len).strip()  # the longest stretch of prose
        assert " ".join(words.split()) in text, (d.id, words)


def test_the_build_records_what_the_pdf_was_compiled_from(built):
    assert stamp_path(built / "llmsym-cheatsheet.pdf").exists()
    for name in ("llmsym-cheatsheet.tex", "llmsym-cheatsheet.pdf", "report.json"):
        assert (built / name).stat().st_mode & 0o044 == 0o044, name


def test_tex_is_identical_across_two_runs(built, tmp_path, cache_dir):
    folder = warm_copy(cache_dir, tmp_path / "again")
    proc = run_cli("build", "--tex-only", "--build-dir", str(folder), env=EPOCH)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "llmsym-cheatsheet.tex").read_bytes() == (
        built / "llmsym-cheatsheet.tex").read_bytes()


def test_an_unchanged_rebuild_is_up_to_date_and_another_paper_is_not(built, tmp_path):
    folder = tmp_path / "b"
    shutil.copytree(built, folder)
    same = run_cli("build", "--build-dir", str(folder), env=EPOCH)
    assert same.returncode == 0 and "is up to date" in same.stderr, same.stderr
    letter = run_cli("build", "--paper", "letter", "--build-dir", str(folder), env=EPOCH)
    assert letter.returncode == 0 and "wrote" in letter.stderr and "up to date" not in letter.stderr
    assert "792 x 612" in page_size(folder / "llmsym-cheatsheet.pdf")


def test_latex_error_in_a_user_derivation_keeps_the_previous_pdf_twice(built, tmp_path):
    folder = tmp_path / "b"
    shutil.copytree(built, folder)
    before = (folder / "llmsym-cheatsheet.pdf").read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "badtex.py").write_text(
        "import sympy as sp\nfrom llmsym.derivation import Claim, Derivation, Step\n"
        "x = sp.Symbol('x', real=True)\n"
        "DERIVATION = Derivation(id='bad-tex', title='Bad', topic='User',\n"
        "    gloss='$\\\\undefinedmacro$',\n"  # x: the page-1 table's real number
        "    claims=(Claim('a', 'a', start=x, steps=(Step(x, 'same'),)),))\n"
    )
    for _ in range(2):
        proc = run_cli("build", "--derivations", str(bad), "--build-dir", str(folder), env=EPOCH)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert "LaTeX failed" in proc.stderr and "undefinedmacro" in proc.stderr
        assert "Traceback" not in proc.stderr and "up to date" not in proc.stderr
        assert (folder / "llmsym-cheatsheet.pdf").read_bytes() == before
    assert (folder / "llmsym-cheatsheet.log").exists()


def test_without_tex_build_writes_tex_and_says_what_to_install(built, tmp_path, cache_dir):
    folder = warm_copy(cache_dir, tmp_path / "b")
    env = {**EPOCH, "PATH": str(Path(sys.executable).parent) + os.pathsep + "/nonexistent"}
    proc = run_cli("build", "--build-dir", str(folder), env=env)
    assert proc.returncode == 3
    assert "texlive" in proc.stderr and "Traceback" not in proc.stderr
    assert (folder / "llmsym-cheatsheet.tex").exists()
    assert not (folder / "llmsym-cheatsheet.pdf").exists()
