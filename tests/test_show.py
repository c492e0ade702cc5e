"""`llmsym show` reads as math: Unicode formulas wrapped to the terminal, no raw LaTeX, no SymPy
syntax, and a failed step's details (message, tactics tried, residual, point)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import run_cli, user_folder

from llmsym.derivation import Kind, Status
from llmsym.verify.report import StepReport

# LaTeX source: a command (\frac, \left), a line break, an alignment tab, a dollar, an escaped
# brace. (texmath writes a subscript it cannot set in Unicode as _{...} and a long superscript
# as ^(...): that is its plain-text notation, not LaTeX.)
RAW_LATEX = re.compile(r"\\[A-Za-z]+|\\\\|\$|&|\\[{}]")
# SymPy's own syntax: powers as **, constructors as calls.
SYMPY_SYNTAX = re.compile(r"\*\*|\b(Matrix|ImmutableMatrix|Sum|Product|Integral|Piecewise|Symbol|"
                          r"Dummy|Indexed|IndexedBase|Rational|Function|Mul|Add|Pow|Eq|sqrt|"
                          r"Abs|Derivative|Subs|Lambda|Tuple)\(")

PLANTED = """
import sympy as sp
from llmsym.derivation import Claim, Derivation, Step
x = sp.Symbol("x", real=True)
DERIVATION = Derivation(id="user-wrong", title="A wrong square", topic="User", gloss="no",
    claims=(Claim("sq", "square", start=(x + 1) ** 2, steps=(Step(x**2 + 1, "forgot 2x"),)),))
"""


def problems(text: str, cols: int = 100) -> list[str]:
    """The lines that break the rules: too wide, raw LaTeX, or SymPy syntax."""
    return [line for line in text.splitlines()
            if len(line) > cols or RAW_LATEX.search(line) or SYMPY_SYNTAX.search(line)]


def test_every_derivation_shows_as_math_within_100_columns(full_report):
    from llmsym.cli.terminal import chain

    assert full_report.derivations
    for d in full_report.derivations:
        text = chain(full_report, d, cols=100)
        assert text.count("\n") > 5, d.id
        assert problems(text) == [], (d.id, problems(text))


def test_the_rules_catch_what_they_are_for():
    assert problems(r"  = \frac{a}{b}") and problems("  = Matrix([[1, 0], [0, 1]])")
    assert problems("  = x**2 + Sum(x, (i, 1, n))") and problems("x" * 101)
    assert problems("  = eᶜ Σⱼ₌₁ⁿ e^(zⱼ) and log(pᵢ/qᵢ)") == []


def test_the_cli_wraps_to_columns(cache_dir):
    proc = run_cli("show", "softmax-shift", "--build-dir", str(cache_dir), env={"COLUMNS": "60"})
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 60
    assert problems(proc.stdout, 60) == []
    wide = run_cli("show", "softmax-shift", "--build-dir", str(cache_dir), env={"COLUMNS": "100"})
    assert problems(wide.stdout) == [] and "Shift invariance" in wide.stdout
    assert "because" in wide.stdout and "[proved" in wide.stdout


def test_a_failed_step_shows_its_residual_and_point_as_math(tmp_path):
    folder = user_folder(tmp_path, {"wrong.py": PLANTED})
    proc = run_cli("show", "user-wrong", "--derivations", str(folder), "--build-dir",
                   str(tmp_path / "b"), env={"COLUMNS": "100"})
    assert proc.returncode == 1
    out = proc.stdout
    assert "FAILED: false at a random point" in out
    assert "residual: 2x" in out and "at: x = " in out  # (x+1)² − (x²+1) = 2x
    assert "(x + 1)²" in out and problems(out) == []


def test_tactics_tried_are_listed_under_the_step(full_report):
    """A failed link's report, as the checker writes it, shown under its step in the chain."""
    from llmsym.cli.terminal import chain

    d = full_report.derivation("softmax-shift")
    failed = StepReport(index=d.steps[-1].index, claim=d.steps[-1].claim,
                        status=Status(Kind.FAILED), message="no tactic proved the step",
                        tried=["expand", "cancel", "simplify"], residual="exp(c)*x**2 - y[1]",
                        point="c = 0.5, y[1] = 2")
    d.steps.append(failed)
    try:
        text = chain(full_report, d, cols=100)
    finally:
        d.steps.remove(failed)
    assert "FAILED: no tactic proved the step" in text
    assert "tactics tried: expand, cancel, simplify" in text
    assert "residual: x²eᶜ − y₁" in text and "at: c = 0.5, y₁ = 2" in text
    assert problems(text) == []


@pytest.mark.parametrize("cols", [40, 72])
def test_narrow_terminals(full_report, cols):
    from llmsym.cli.terminal import chain

    text = chain(full_report, full_report.derivation("softmax-shift"), cols=cols)
    assert max(len(line) for line in text.splitlines()) <= cols


def test_show_json(cache_dir):
    proc = run_cli("show", "softmax-shift", "--json", "--build-dir", str(cache_dir))
    data = json.loads(proc.stdout)
    assert data["derivation"]["id"] == "softmax-shift"
    assert {c["name"] for c in data["claims"]} and all("premises" in c for c in data["claims"])
