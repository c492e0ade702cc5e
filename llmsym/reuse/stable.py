"""Numerically stable code for results that contain ``log(1 + e^u)`` or ``1/(1 + e^u)``.

A verified formula printed as written can overflow where its value is an
ordinary number: the DPO loss ``log(1 + e^{-βh})`` at ``h = -1000`` asks for
``e^{1000}``, although the loss is just 1000. Before a result is turned into
code, these shapes are rewritten into functions that never overflow:

- ``log(1 + e^u)``          → ``softplus(u) = max(u, 0) + log1p(e^{-|u|})``
- ``log(1 / (1 + e^u))``    → ``-softplus(u)`` (a log-sigmoid)
- ``1 / (1 + e^u)``         → ``sigmoid(-u)``, computed from the side where e^x ≤ 1

Both are exact identities, so the rewritten expression is the verified one.
The plain-Python helpers (:mod:`.stable_helpers`, no SymPy) are written into
exported modules; NumPy versions serve ``Result.__call__``.

>>> import sympy as sp
>>> h, b = sp.symbols("h beta", real=True)
>>> stable_python(sp.log(1 + sp.exp(-b * h)))
'_softplus(-beta*h)'
>>> round(helper_scope()["_softplus"](1000.0), 6)
1000.0
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from .stable_helpers import HELPERS, helper_scope, numpy_functions

__all__ = ["HELPERS", "Sigmoid", "Softplus", "helper_scope", "numpy_functions", "rewrite",
           "stable_python"]


class Softplus(sp.Function):
    """``log(1 + e^x)``, printed as a call to the stable helper."""


class Sigmoid(sp.Function):
    """``1 / (1 + e^-x)``, printed as a call to the stable helper."""


def _one_plus_exp(e: Any) -> Any:
    """``u`` when ``e`` is ``1 + e^u``, else None."""
    if isinstance(e, sp.Add) and len(e.args) == 2:
        a, b = e.args
        if a == 1 and isinstance(b, sp.exp):
            return b.args[0]
        if b == 1 and isinstance(a, sp.exp):
            return a.args[0]
    return None


def rewrite(expr: Any) -> Any:
    """``expr`` with every overflowing shape replaced by Softplus/Sigmoid (an identity)."""
    if isinstance(expr, sp.log):
        arg = expr.args[0]
        u = _one_plus_exp(arg)
        if u is not None:
            return Softplus(rewrite(u))
        if isinstance(arg, sp.Pow) and arg.exp == -1 and _one_plus_exp(arg.base) is not None:
            return -Softplus(rewrite(_one_plus_exp(arg.base)))
    if isinstance(expr, sp.Pow) and expr.exp == -1 and _one_plus_exp(expr.base) is not None:
        return Sigmoid(-rewrite(_one_plus_exp(expr.base)))
    if isinstance(expr, sp.Basic) and expr.args and not expr.is_Atom:
        args = [rewrite(a) for a in expr.args]
        if any(a is not b for a, b in zip(args, expr.args, strict=True)):
            return expr.func(*args)
    return expr


class _Printer(PythonCodePrinter):
    """``math.``-qualified calls, ``max``/``min`` built in, the stable helpers by name."""

    def _print_Max(self, expr):
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Softplus(self, expr):
        return "_softplus(%s)" % self._print(expr.args[0])

    def _print_Sigmoid(self, expr):
        return "_sigmoid(%s)" % self._print(expr.args[0])


def stable_python(expr: Any) -> str | None:
    """Stable plain-Python code for ``expr``, or None when it has no overflowing shape."""
    rewritten = rewrite(expr)
    if rewritten == expr:
        return None
    return _Printer({"fully_qualified_modules": True, "standard": "python3"}).doprint(rewritten)
