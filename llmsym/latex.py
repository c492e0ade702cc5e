"""LaTeX output: the formula printer and prose escaping.

Formulas on the sheet are printed from the very SymPy objects the checker
proved, through :class:`LlmLatexPrinter`; notation classes in
:mod:`llmsym.notation` carry their own ``_latex``. Prose (glosses, reasons,
assumptions) is plain text with ``$...$`` for inline math: the text between
the dollars is escaped with PyLaTeX's ``escape_latex``, the math is kept.

>>> import sympy as sp
>>> to_latex(sp.Symbol("d_k") ** sp.Rational(1, 2))
'\\\\sqrt{d_{k}}'
>>> prose("cost 100% of $x^2$ & more")
'cost 100\\\\% of $x^2$ \\\\& more'
"""

from __future__ import annotations

import re
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

REL_LATEX = {"=": "=", "<=": r"\le", ">=": r"\ge"}


class LlmLatexPrinter(LatexPrinter):
    """SymPy's printer with the conventions of LLM papers.

    - ``log`` is the natural log, printed ``\\log`` (never ``\\ln``);
    - ``Max``/``Min`` print as ``\\max``/``\\min``;
    - finite sums keep their limits under and over the sigma.
    """

    printmethod = "_latex"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        defaults = {"ln_notation": False, "mul_symbol": None, "fold_short_frac": False}
        defaults.update(settings or {})
        super().__init__(defaults)

    def _print_Max(self, expr, exp=None):
        args = ", ".join(self._print(a) for a in expr.args)
        text = r"\max\left(%s\right)" % args
        return text if exp is None else r"%s^{%s}" % (text, exp)

    def _print_Min(self, expr, exp=None):
        args = ", ".join(self._print(a) for a in expr.args)
        text = r"\min\left(%s\right)" % args
        return text if exp is None else r"%s^{%s}" % (text, exp)

    def _print_ImmutableDenseMatrix(self, expr):
        return self._print_matrix(expr)

    def _print_matrix(self, expr):
        rows = [" & ".join(self._print(x) for x in expr.row(r)) for r in range(expr.rows)]
        return r"\begin{pmatrix}%s\end{pmatrix}" % r" \\ ".join(rows)


_PRINTER = LlmLatexPrinter()


def to_latex(expr: Any) -> str:
    """LaTeX for a SymPy expression, matrix or relation, in llmsym's notation."""
    if isinstance(expr, str):
        return expr
    return _PRINTER.doprint(sp.sympify(expr) if not isinstance(expr, sp.MatrixBase) else expr)


def relation_latex(lhs: Any, rel: str, rhs: Any) -> str:
    """``lhs \\le rhs`` and friends."""
    return f"{to_latex(lhs)} {REL_LATEX[rel]} {to_latex(rhs)}"


_MATH = re.compile(r"(\$[^$]+\$)")


def prose(text: str) -> str:
    """Escape prose for LaTeX, leaving ``$...$`` math untouched."""
    from pylatex.utils import escape_latex

    parts = _MATH.split(text)
    return "".join(p if p.startswith("$") and p.endswith("$") else escape_latex(p) for p in parts)


def plain(text: str) -> str:
    """Prose for a terminal: drop the math dollars, keep the content."""
    return text.replace("$", "")
