"""Plain-Python code for a closed form: what ``llmsym export`` writes and ``calc`` runs.

The code uses only the standard ``math`` module. A result declared
``integer`` (a count of FLOPs, bytes or parameters) is written as
``numerator // denominator`` over integer polynomials, so a count of 10^24
stays exact instead of passing through a float.

>>> import sympy as sp
>>> s = sp.Symbol("s", integer=True, positive=True)
>>> python_expression(s * (s + 1) / 2, integer=True)
'(s**2 + s) // 2'
>>> python_expression(sp.exp(s) / 2, integer=False)
'(1/2)*math.exp(s)'
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter


class _Printer(PythonCodePrinter):
    """``math.``-qualified calls, and exact integers where asked."""

    def _print_Max(self, expr):
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)


def python_expression(expr: Any, integer: bool = False) -> str:
    """A Python expression for ``expr`` in its free symbols' names."""
    printer = _Printer({"fully_qualified_modules": True, "standard": "python3"})
    if integer:
        num, den = sp.fraction(sp.together(sp.expand(expr)))
        num, den = sp.expand(num), sp.expand(den)
        if den == 1:
            return printer.doprint(num)
        return f"({printer.doprint(num)}) // {printer.doprint(den)}"
    return printer.doprint(expr)
