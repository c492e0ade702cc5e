"""The build refuses a face that breaks its rules: each rule is broken once by a user derivation
added to the shipped ones, and the real ``llmsym build`` must fail, naming the symbol and both
uses; a user derivation that keeps the rules builds."""

from __future__ import annotations

import pytest
from conftest import run_cli, user_folder, warm_copy

HEADER = """
import sympy as sp
from llmsym.derivation import Claim, Derivation, Step
from llmsym.notation import Named
"""

# n is "number of entries of a vector" on page 1; here it would mean something else
TWO_MEANINGS = HEADER + """
n = sp.Symbol("n", integer=True, positive=True)
DERIVATION = Derivation(id="user-apples", title="Apples", topic="User", gloss="",
    claims=(Claim("twice", "Twice the apples", start=n + n,
        steps=(Step(2 * n, "add", "expand"),)),),
    notation={n: "number of apples in a basket"})
"""

NO_MEANING = HEADER + """
w = sp.Symbol("w_{\\\\mathrm{apple}}", positive=True)
DERIVATION = Derivation(id="user-weight", title="Weight", topic="User", gloss="",
    claims=(Claim("twice", "Twice the weight", start=w + w,
        steps=(Step(2 * w, "add", "expand"),)),))
"""

# V is the vocabulary size on page 1; a matrix called V borrowing that meaning is refused
WRONG_KIND = HEADER + """
s = sp.Symbol("s", integer=True, positive=True)
V = sp.MatrixSymbol("V", s, s)
DERIVATION = Derivation(id="user-matrix", title="Matrix", topic="User", gloss="",
    claims=(Claim("twice", "Twice a matrix", start=V + V,
        steps=(Step(2 * V, "add", "expand"),)),))
"""

KEPT = HEADER + """
n = sp.Symbol("n", integer=True, positive=True)
DERIVATION = Derivation(id="user-double", title="Doubling", topic="User", gloss="",
    claims=(Claim("twice", "Twice the length", start=n + n,
        steps=(Step(2 * n, "add", "expand"),)),))
"""


@pytest.mark.parametrize(("source", "expected"), [
    (TWO_MEANINGS, ["face symbol $n$ means", "number of apples in a basket",
                    "number of entries of a vector"]),
    (NO_MEANING, [r"face symbol $w_{\mathrm{apple}}$ has no meaning"]),
    (WRONG_KIND, ["$V$ here is a matrix, not the page-1 table's $V$"]),
], ids=["two meanings", "no meaning", "wrong kind"])
def test_a_face_that_breaks_a_rule_fails_the_build(source, expected, tmp_path, cache_dir,
                                                  full_report):
    folder = user_folder(tmp_path, {"user.py": source})
    build = warm_copy(cache_dir, tmp_path / "build")
    proc = run_cli("build", "--tex-only", "--derivations", str(folder), "--build-dir", str(build))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the face breaks its rules" in proc.stderr
    for text in expected:
        assert text in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (build / "llmsym-cheatsheet.tex").exists()


def test_a_face_that_keeps_the_rules_builds(tmp_path, cache_dir, full_report):
    folder = user_folder(tmp_path, {"user.py": KEPT})
    build = warm_copy(cache_dir, tmp_path / "build")
    proc = run_cli("build", "--tex-only", "--derivations", str(folder), "--build-dir", str(build))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Twice the length" in (build / "llmsym-cheatsheet.tex").read_text()
