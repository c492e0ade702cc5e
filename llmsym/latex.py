"""LaTeX for formulas: the printer every formula on the sheet goes through.

Formulas are printed from the very SymPy objects the checker proved, through
:class:`LlmLatexPrinter`; notation classes in :mod:`llmsym.notation` carry their
own ``_latex``. (Prose is escaped in the sheet layer, which imports no SymPy.)

>>> import sympy as sp
>>> to_latex(sp.Symbol("d_k") ** sp.Rational(1, 2))
'\\\\sqrt{d_{k}}'
>>> m, m_a = sp.symbols("m m_a")
>>> to_latex(sp.exp(m_a - m)), to_latex(sp.log(m))
('e^{m_{a} - m}', '\\\\log m')
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

REL_LATEX = {"=": "=", "<=": r"\le", ">=": r"\ge", "<": "<", ">": ">", "!=": r"\ne"}


class LlmLatexPrinter(LatexPrinter):
    """SymPy's printer with the conventions of LLM papers.

    - ``log`` is the natural log, printed ``\\log`` (``\\log n`` for a plain argument);
    - ``Max``/``Min`` print as ``\\max``/``\\min``;
    - a sum starts with a positive term when it has one (``m_a - m``, not ``-m + m_a``);
    - finite sums keep their limits under and over the sigma.
    """

    printmethod = "_latex"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        defaults = {"ln_notation": False, "mul_symbol": None, "fold_short_frac": False}
        defaults.update(settings or {})
        super().__init__(defaults)

    def _print_Add(self, expr, order=None):
        terms = self._as_ordered_terms(expr, order=order)
        first = next((k for k, t in enumerate(terms) if not _negative(t)), 0)
        terms = terms[first:] + terms[:first]
        text = ""
        for k, term in enumerate(terms):
            if k == 0:
                pass
            elif _negative(term):
                text += " - "
                term = -term
            else:
                text += " + "
            piece = self._print(term)
            if self._needs_add_brackets(term) or (k and _sum_like(term)):
                piece = r"\left(%s\right)" % piece
            text += piece
        return text

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1 and _sum_like(rest):  # -(a + b) kept in order: keep its brackets
            return r"- \left(%s\right)" % self._print(rest)
        ones = [a for a in expr.args if a == 1]
        if ones:  # a line kept unevaluated (``held``) may carry factors of 1
            rest = [a for a in expr.args if a != 1]
            if not rest:
                return "1"
            if len(rest) == 1:
                return self._print(rest[0])
            expr = sp.Mul(*rest, evaluate=False)
        return super()._print_Mul(expr)

    def _print_Sum(self, expr):
        text = super()._print_Sum(expr)
        body = expr.function
        if not isinstance(body, sp.Add) and getattr(body, "precedence", None) == \
                sp.printing.precedence.PRECEDENCE["Add"]:  # a sum kept in order (``terms``)
            inner = self._print(body)
            text = text[: len(text) - len(inner)] + r"\left(%s\right)" % inner
        return text

    def _print_log(self, expr, exp=None):
        arg = expr.args[0]
        if arg.is_Symbol or (arg.is_Integer and arg > 0):
            text = r"\log %s" % self._print(arg)
            return text if exp is None else r"\log^{%s} %s" % (exp, self._print(arg))
        return super()._print_log(expr, exp)

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


def _sum_like(term: Any) -> bool:
    """A sum printed in a fixed order (``terms``, ``minus``): it needs brackets after a minus."""
    from sympy.printing.precedence import PRECEDENCE

    return not isinstance(term, sp.Add) and getattr(term, "precedence", None) == PRECEDENCE["Add"]


def _negative(term: Any) -> bool:
    return term.could_extract_minus_sign()


_PRINTER = LlmLatexPrinter()


def to_latex(expr: Any) -> str:
    """LaTeX for a SymPy expression, matrix or relation, in llmsym's notation."""
    if isinstance(expr, str):
        return expr
    return _PRINTER.doprint(sp.sympify(expr) if not isinstance(expr, sp.MatrixBase) else expr)


def relation_latex(lhs: Any, rel: str, rhs: Any) -> str:
    """``lhs \\le rhs`` and friends."""
    return f"{to_latex(lhs)} {REL_LATEX[rel]} {to_latex(rhs)}"
