"""Random points that respect the symbols' assumptions, and evaluation at them.

The checker evaluates both sides of a step at such points before (and after)
trying to prove it: a step false at a point is rejected at once, the point
shown. Unlike SymPy's ``verify_numerically``, values follow each symbol's
assumptions: a ``positive`` symbol gets a positive value, an ``integer`` one
an integer, a symbol with no assumption a complex value, so that an identity
true only for positive reals (``log(ab) = log a + log b``) is caught when the
symbols were not declared positive.

>>> import random, sympy as sp
>>> x = sp.Symbol("x", positive=True)
>>> float(value_for(x, random.Random(0))) > 0
True
"""

from __future__ import annotations

import functools
import random
from typing import Any

import mpmath
import sympy as sp

from .notation import unfold

PRECISION = 40  # decimal digits for evaluation
MAX_SIZE = 5  # integer sizes (sum bounds, dimensions) are drawn from 1..MAX_SIZE


def _atoms(expr: Any) -> frozenset:
    """Free symbols and indexed atoms (``z[i]``) of an expression or matrix."""
    if isinstance(expr, sp.MatrixBase):
        return _atoms_of(sp.ImmutableMatrix(expr))
    return _atoms_of(sp.sympify(expr))


@functools.lru_cache(maxsize=4096)
def _atoms_of(expr: Any) -> frozenset:
    free = set()
    for atom in expr.free_symbols:
        free.add(atom)
    for indexed in expr.atoms(sp.Indexed):
        free.add(indexed)
    # z[i] is an atom here; its base and index symbols are not values to draw.
    bases = {ix.base for ix in expr.atoms(sp.Indexed)} | {
        ix.base.label for ix in expr.atoms(sp.Indexed)
    }
    return frozenset(a for a in free if a not in bases and not isinstance(a, sp.IndexedBase))


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


def size_plan(exprs: list) -> tuple[list, set, set]:
    """The integer symbols in drawing order, the sum bounds, and the free indices."""
    ordered, bounds = _size_symbols(exprs)
    indices = {i for e in exprs for ix in e.atoms(sp.Indexed) for i in ix.indices}
    return ordered, bounds, indices


def draw_sizes(exprs: list, rng: random.Random, plan: tuple | None = None) -> dict:
    """Values for the integer symbols; a free index (the i of softmax_i) stays within 1..n.

    ``plan`` is :func:`size_plan` of the expressions, when the caller draws many times.
    """
    ordered, bounds, indices = plan or size_plan(exprs)
    point: dict = {}
    for sym in ordered:
        point[sym] = value_for(sym, rng)
        if sym not in bounds and bounds and sym in indices:
            top = min(int(point[b]) for b in bounds if b in point)
            point[sym] = sp.Integer(rng.randint(1, top))
    return point


def _expand_sums(expr: Any) -> Any:
    """Write out every sum with integer bounds as an explicit addition (innermost first)."""
    if not expr.has(sp.Sum):
        return expr
    if isinstance(expr, sp.Sum) and len(expr.limits) == 1:
        var, lo, hi = expr.limits[0]
        if lo.is_Integer and hi.is_Integer:
            body = _expand_sums(expr.function)
            terms = [body.xreplace({var: sp.Integer(k)}) for k in range(int(lo), int(hi) + 1)]
            return sp.Add(*terms)
    if isinstance(expr, sp.Sum):
        return expr
    return expr.func(*[_expand_sums(a) for a in expr.args])


def concrete(expr: Any, sizes: dict, unfolded: bool = False) -> Any:
    """``expr`` at fixed sizes, with every (now finite) sum written out."""
    expr = expr if unfolded else unfold(expr)
    if isinstance(expr, sp.MatrixExpr) and not isinstance(expr, sp.MatrixBase):
        expr = expr.doit()  # an unevaluated product of explicit matrices
    if expr.has(sp.Derivative):  # differentiate before a size becomes a number
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit(deep=False))
    if sizes:
        try:
            expr = expr.xreplace(sizes) if not isinstance(expr, sp.MatrixBase) else expr.subs(sizes)
        except ValueError:  # e.g. a size that is also a sum's index (a mutant): let subs decide
            expr = expr.subs(sizes)
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: concrete(e, {}, unfolded=True))
    expr = _expand_sums(expr)
    # What is left needs SymPy's own evaluation; a sum whose bound is not a drawn
    # integer is left alone (no value exists there: the point will be skipped).
    if expr.has(sp.Product, sp.Derivative, sp.Limit, sp.Integral):
        expr = expr.doit()
    return expr



_UNARY = {
    sp.exp: mpmath.exp, sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos,
    sp.tan: mpmath.tan, sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh, sp.tanh: mpmath.tanh,
    sp.Abs: abs, sp.re: mpmath.re, sp.im: mpmath.im, sp.conjugate: mpmath.conj,
    sp.atan: mpmath.atan, sp.asin: mpmath.asin, sp.acos: mpmath.acos, sp.sign: mpmath.sign,
}
_CONSTANTS = {sp.pi: mpmath.pi, sp.E: mpmath.e, sp.I: mpmath.mpc(0, 1)}


class _Unsupported(Exception):
    """A node the direct evaluator does not know; the caller falls back on evalf."""


def _walk(e: Any, env: dict, memo: dict) -> Any:
    """Evaluate a SymPy tree with mpmath, without building any SymPy object."""
    if e in memo:
        return memo[e]
    if e in env:
        value = env[e]
    elif e.is_Integer:
        value = int(e)
    elif e.is_Rational:
        value = mpmath.mpf(e.p) / e.q
    elif e.is_Float:
        value = mpmath.mpf(e)
    elif e in _CONSTANTS:
        value = _CONSTANTS[e]
    elif e.is_Add:
        value = mpmath.fsum(_walk(a, env, memo) for a in e.args)
    elif e.is_Mul:
        value = mpmath.fprod(_walk(a, env, memo) for a in e.args)
    elif e.is_Pow:
        base, power = _walk(e.base, env, memo), _walk(e.exp, env, memo)
        value = mpmath.power(base, power)
    elif e.func in _UNARY and len(e.args) == 1:
        value = _UNARY[e.func](_walk(e.args[0], env, memo))
    elif isinstance(e, (sp.Max, sp.Min)):
        args = [_walk(a, env, memo) for a in e.args]
        value = max(args) if isinstance(e, sp.Max) else min(args)
    else:
        raise _Unsupported(type(e).__name__)
    memo[e] = value
    return value


class Evaluator:
    """A concrete expression (or matrix) evaluated at many points, with mpmath at 40 digits.

    The tree is walked directly (no SymPy object is built per point); an
    unknown node falls back on substitution and ``evalf``.
    """

    def __init__(self, concrete_expr: Any) -> None:
        items = list(concrete_expr) if isinstance(concrete_expr, sp.MatrixBase) else [concrete_expr]
        self.items = [sp.sympify(item) for item in items]

    def _direct(self, values: dict) -> list:
        env = {k: _mp(v) for k, v in values.items()}
        memo: dict = {}
        with mpmath.workdps(PRECISION):
            return [complex(_walk(item, env, memo)) for item in self.items]

    def __call__(self, values: dict) -> list | None:
        """The values at ``values``; None where undefined (a pole, an overflow)."""
        try:
            try:
                nums = self._direct(values)
            except _Unsupported:
                nums = [complex(sp.N(i.xreplace(values), PRECISION)) for i in self.items]
        except (ArithmeticError, ValueError, TypeError, RecursionError):  # undefined here
            return None
        if not all(mpmath.isfinite(x.real) and mpmath.isfinite(x.imag) for x in nums):
            return None
        return nums


def _mp(value: Any) -> Any:
    """A SymPy number as an mpmath one (integers stay integers)."""
    if value.is_Integer:
        return int(value)
    if value.is_Float:
        return mpmath.mpf(value)
    return mpmath.mpc(complex(value))




def paired_points(a: Any, b: Any, rng: random.Random, count: int, memo: dict | None = None):
    """Yield ``(point, value_a, value_b)`` at up to ``count`` points where both are defined.

    ``memo`` keeps the concrete forms per size between calls on the same pair.
    """
    a, b = unfold(a), unfold(b)
    memo = {} if memo is None else memo
    plan = size_plan([a, b])
    found = 0
    for _ in range(count * 4):
        if found >= count:
            return
        sizes = draw_sizes([a, b], rng, plan)
        key = tuple(sorted((str(k), int(v)) for k, v in sizes.items()))
        if key not in memo:
            ca, cb = concrete(a, sizes, unfolded=True), concrete(b, sizes, unfolded=True)
            memo[key] = (Evaluator(ca), Evaluator(cb), sorted(_atoms(ca) | _atoms(cb), key=str))
        fa, fb, atoms = memo[key]
        values = {atom: value_for(atom, rng) for atom in atoms}
        va, vb = fa(values), fb(values)
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
