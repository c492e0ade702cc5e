"""Random points that respect the symbols' assumptions, and evaluation at them.

The checker evaluates both sides of a step at such points before (and after)
trying to prove it: a step false at a point is rejected at once, the point
shown. Unlike SymPy's ``verify_numerically``, values follow each symbol's
assumptions: a ``positive`` symbol gets a positive value, an ``integer`` one
an integer, a symbol with no assumption a complex value, so that an identity
true only for positive reals (``log(ab) = log a + log b``) is caught when the
symbols were not declared positive.

>>> import sympy as sp
>>> x = sp.Symbol("x", positive=True)
>>> pt = random_point(sp.log(x), __import__("random").Random(0))
>>> float(pt[x]) > 0
True
"""

from __future__ import annotations

import random
from typing import Any

import mpmath
import sympy as sp

from .notation import unfold

PRECISION = 40  # decimal digits for evaluation
MAX_SIZE = 5  # integer sizes (sum bounds, dimensions) are drawn from 1..MAX_SIZE


def _atoms(expr: Any) -> set:
    """Free symbols and indexed atoms (``z[i]``) of an expression or matrix."""
    expr = sp.sympify(expr) if not isinstance(expr, sp.MatrixBase) else expr
    free = set()
    for atom in expr.free_symbols:
        free.add(atom)
    for indexed in expr.atoms(sp.Indexed):
        free.add(indexed)
    # z[i] is an atom here; its base and index symbols are not values to draw.
    bases = {ix.base for ix in expr.atoms(sp.Indexed)} | {
        ix.base.label for ix in expr.atoms(sp.Indexed)
    }
    return {a for a in free if a not in bases and not isinstance(a, sp.IndexedBase)}


def value_for(atom: Any, rng: random.Random) -> Any:
    """A random SymPy number consistent with ``atom``'s assumptions."""
    if atom.is_integer:
        if atom.is_positive:
            return sp.Integer(rng.randint(1, MAX_SIZE))
        if atom.is_nonnegative:
            return sp.Integer(rng.randint(0, MAX_SIZE))
        if atom.is_negative:
            return sp.Integer(-rng.randint(1, MAX_SIZE))
        return sp.Integer(rng.randint(-MAX_SIZE, MAX_SIZE))
    if atom.is_positive:
        x = rng.uniform(0.2, 3.0)
    elif atom.is_negative:
        x = -rng.uniform(0.2, 3.0)
    elif atom.is_nonnegative:
        x = rng.uniform(0.0, 3.0)
    elif atom.is_nonpositive:
        x = -rng.uniform(0.0, 3.0)
    elif atom.is_extended_real:
        x = rng.uniform(-3.0, 3.0)
    else:
        return sp.Float(rng.uniform(-2, 2), PRECISION) + sp.I * sp.Float(
            rng.uniform(-2, 2), PRECISION
        )
    return sp.Float(x, PRECISION)


def _size_symbols(exprs: list) -> tuple[list, set]:
    """Integer symbols of the expressions, sum bounds first, and the set of bounds."""
    ints, bounds = set(), set()
    for e in exprs:
        ints |= {a for a in _atoms(e) if isinstance(a, sp.Symbol) and a.is_integer}
        bounds |= {b for s in e.atoms(sp.Sum) for (_, _, b) in s.limits if isinstance(b, sp.Symbol)}
    ordered = sorted(ints & bounds, key=str) + sorted(ints - bounds, key=str)
    return ordered, bounds


def _is_index(sym: Any, exprs: list) -> bool:
    return any(sym in ix.indices for e in exprs for ix in e.atoms(sp.Indexed))


def draw_sizes(exprs: list, rng: random.Random) -> dict:
    """Values for the integer symbols; a free index (the i of softmax_i) stays within 1..n."""
    ordered, bounds = _size_symbols(exprs)
    point: dict = {}
    for sym in ordered:
        point[sym] = value_for(sym, rng)
        if sym not in bounds and bounds and _is_index(sym, exprs):
            top = min(int(point[b]) for b in bounds if b in point)
            point[sym] = sp.Integer(rng.randint(1, top))
    return point


def concrete(expr: Any, sizes: dict) -> Any:
    """``expr`` at fixed sizes, with every (now finite) sum expanded."""
    expr = unfold(expr)
    return (expr.subs(sizes) if sizes else expr).doit()


def random_point(expr: Any, rng: random.Random) -> dict:
    """A full assignment for ``expr``: sizes first, then every remaining atom."""
    expr = unfold(expr)
    point = draw_sizes([expr], rng)
    for atom in sorted(_atoms(concrete(expr, point)), key=str):
        point[atom] = value_for(atom, rng)
    return point


def numeric_value(concrete_expr: Any, values: dict) -> list | None:
    """A concrete expression (or matrix) at ``values``; None where undefined."""
    items = list(concrete_expr) if isinstance(concrete_expr, sp.MatrixBase) else [concrete_expr]
    out = []
    for item in items:
        val = sp.sympify(item).xreplace(values)
        try:
            num = complex(sp.N(val, PRECISION))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return None
        if not (mpmath.isfinite(num.real) and mpmath.isfinite(num.imag)):
            return None
        out.append(num)
    return out


def evaluate(expr: Any, point: dict) -> list | None:
    """``expr`` at ``point`` (sizes substituted first, sums expanded)."""
    sizes = {k: v for k, v in point.items() if isinstance(k, sp.Symbol) and k.is_integer}
    rest = {k: v for k, v in point.items() if k not in sizes}
    return numeric_value(concrete(expr, sizes), rest)


def paired_points(a: Any, b: Any, rng: random.Random, count: int):
    """Yield ``(point, value_a, value_b)`` at up to ``count`` points where both are defined."""
    a, b = unfold(a), unfold(b)
    memo: dict = {}
    found = 0
    for _ in range(count * 4):
        if found >= count:
            return
        sizes = draw_sizes([a, b], rng)
        key = tuple(sorted((str(k), int(v)) for k, v in sizes.items()))
        if key not in memo:
            ca, cb = concrete(a, sizes), concrete(b, sizes)
            memo[key] = (ca, cb, sorted(_atoms(ca) | _atoms(cb), key=str))
        ca, cb, atoms = memo[key]
        values = {atom: value_for(atom, rng) for atom in atoms}
        va, vb = numeric_value(ca, values), numeric_value(cb, values)
        if va is None or vb is None:
            continue  # a pole or an overflow: draw another point
        found += 1
        yield {**sizes, **values}, va, vb


def close(a: list, b: list, rtol: float = 1e-10) -> tuple[bool, float]:
    """Whether two evaluations agree, and the largest scaled difference."""
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        scale = max(1.0, abs(x), abs(y))
        worst = max(worst, abs(x - y) / scale)
    return worst <= rtol, worst
