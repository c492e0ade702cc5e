"""A claim's checked expression as a plain function: what a tied numeric check receives.

A numeric check that confirms a claim must test *that claim's* formula, so it
receives :class:`Formula`, built from the very expression the checker proved
(notation unfolded), and compares its value with an independent route.
``llmsym mutate`` builds formulas from mutated expressions (see :func:`mutants`)
and requires the check to fail on each.

Arguments are keywords named like the symbols (``str(symbol)``). A vector
(``IndexedBase``) is passed as a sequence and read 1-based, as the formula
writes it: ``z[1]`` is the first entry (index 0 of a list or array is an error, not
its last entry). Any other indexable object receives the index minus one.

>>> import sympy as sp
>>> x, y = sp.symbols("x y", positive=True)
>>> f = Formula(x**2 + y)
>>> f.params, f(x=3, y=1)
(('x', 'y'), 10)
"""

from __future__ import annotations

import functools
import random
from typing import Any

import sympy as sp

from ..notation import unfold


class OneBased:
    """A sequence (or NumPy array) read with 1-based indices: ``v[1]`` is ``seq[0]``."""

    def __init__(self, values: Any) -> None:
        self.values = values

    def __getitem__(self, index: Any) -> Any:
        import numpy as np

        indices = index if isinstance(index, tuple) else (index,)
        plain = isinstance(self.values, (list, tuple, np.ndarray))
        if plain and any(int(i) < 1 for i in indices):  # would wrap round to the end
            raise IndexError(f"entry {index} of a vector indexed from 1")
        if isinstance(index, tuple):
            return self.values[tuple(int(i) - 1 for i in index)]
        return self.values[int(index) - 1]

    def __len__(self) -> int:
        return len(self.values)


def _max(*args: Any) -> Any:
    import numpy as np

    return functools.reduce(np.maximum, args)


def _min(*args: Any) -> Any:
    import numpy as np

    return functools.reduce(np.minimum, args)


def _erf(x: Any) -> Any:
    import math

    import numpy as np

    return np.vectorize(math.erf, otypes=[float])(x) if np.ndim(x) else math.erf(x)


def _erfc(x: Any) -> Any:
    import math

    import numpy as np

    return np.vectorize(math.erfc, otypes=[float])(x) if np.ndim(x) else math.erfc(x)


class Formula:
    """A SymPy expression called with keyword arguments; vectors are read 1-based."""

    def __init__(self, expr: Any, label: str = "") -> None:
        if isinstance(expr, sp.MatrixBase):  # a labelled matrix prints by name: plain here
            expr = sp.ImmutableMatrix(expr).applyfunc(unfold)
        elif isinstance(expr, sp.Basic) and expr.atoms(sp.MatrixBase):
            expr = expr.xreplace({m: sp.ImmutableMatrix(m) for m in expr.atoms(sp.MatrixBase)})
        self.expr = unfold(expr) if not isinstance(expr, sp.MatrixBase) else expr
        if isinstance(self.expr, sp.MatrixExpr) and not isinstance(self.expr, sp.MatrixBase):
            self.expr = self.expr.doit()
        self.label = label
        items = list(self.expr) if isinstance(self.expr, sp.MatrixBase) else [self.expr]
        symbols, vectors = set(), set()
        for item in items:
            item = sp.sympify(item)
            vectors |= {ix.base for ix in item.atoms(sp.Indexed)}
            symbols |= {s for s in item.free_symbols if isinstance(s, sp.Symbol)}
        symbols -= {v.label for v in vectors}
        self._args = sorted(symbols, key=str) + sorted(vectors, key=str)
        self.params = tuple(str(a.label if isinstance(a, sp.IndexedBase) else a)
                            for a in self._args)
        self._vectors = {str(v.label) for v in vectors}
        # NumPy's printer (mpmath's would turn rationals into mpf, which NumPy refuses)
        self._fn = sp.lambdify(self._args, self.expr,
                               modules=[{"Max": _max, "Min": _min, "erf": _erf, "erfc": _erfc},
                                        "numpy", "math"])

    def __call__(self, **kwargs: Any) -> Any:
        missing = [p for p in self.params if p not in kwargs]
        if missing:
            raise TypeError(f"formula {self.label or self.expr}: missing {', '.join(missing)}")
        args = [OneBased(kwargs[p]) if p in self._vectors else kwargs[p] for p in self.params]
        return self._fn(*args)

    def __repr__(self) -> str:
        return f"Formula({self.expr})"


# ---------------------------------------------------------------------------
# Mutated formulas, for ``llmsym mutate``
# ---------------------------------------------------------------------------


def _scaled(e: Any) -> list[Any]:
    return [sp.Rational(11, 10) * e]


def _dropped(e: Any) -> list[Any]:
    out = []
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Add) and len(node.args) > 1:
            out += [e.xreplace({node: node - t}) for t in node.args]
    return out


def _swapped(e: Any) -> list[Any]:
    out = []
    free = sorted((s for s in e.free_symbols if isinstance(s, sp.Symbol)), key=str)
    for k, a in enumerate(free):
        for b in free[k + 1:]:
            if (a.is_integer, a.is_positive) == (b.is_integer, b.is_positive):
                out.append(e.xreplace({a: b, b: a}))
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Function) and len(node.args) >= 2:
            args = list(node.args)
            args[0], args[1] = args[1], args[0]
            try:
                out.append(e.xreplace({node: node.func(*args)}))
            except (TypeError, ValueError):
                continue
    return out


OPERATORS = {"scale_1.1": _scaled, "drop_term": _dropped, "swap_args": _swapped}


def mutants(expr: Any, per_operator: int = 3, seed: int = 0) -> list[tuple[str, Any]]:
    """Mutated versions of a formula, ``per_operator`` at most of each kind, none equal to it.

    Equality is judged at random points (a swap of two symbols of a symmetric
    formula is no mutant).
    """
    from ..check.points import close, paired_points

    base = unfold(expr)
    rng = random.Random(seed)
    out = []
    for name, op in OPERATORS.items():
        found = []
        for m in op(base):
            if m == base or any(m == f for _, f in found):
                continue
            try:
                pairs = list(paired_points(base, m, random.Random(1), 3))
                same = bool(pairs) and all(close(va, vb, 1e-9)[0] for _, va, vb in pairs)
            except Exception:  # not comparable: keep it, the check must still fail
                same = False
            if not same:
                found.append((name, m))
        rng.shuffle(found)
        out += found[:per_operator]
    return out
