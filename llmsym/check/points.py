"""Random points that respect the symbols' assumptions, and evaluation at them.

The checker evaluates both sides of a link at such points before (and after)
trying to prove it: a link false at a point is rejected at once, the point
shown. Values follow each symbol's assumptions: a ``positive`` symbol gets a
positive value, an ``integer`` one an integer, a symbol with no assumption a
complex value, so that an identity true only for positive reals
(``log(ab) = log a + log b``) is caught when the symbols were not declared positive.

Integer sizes are drawn mostly from 1..5 and sometimes from 6..16, so that
sums whose bounds can cross (``Sum(f, (k, 3, n))`` at ``n = 1``, or ``10 - n``
past ``n = 10``) are met. Sums follow one convention everywhere in llmsym, the
one SymPy's own summation rules use (Karr's): ``Sum(f, (k, a, b))`` with
``b < a`` is ``-Sum(f, (k, b + 1, a - 1))``, so ``Sum(f, (k, a, a - 1)) = 0``.

Expressions are evaluated directly, sums and indexed entries included, with
mpmath at 40 digits; no SymPy object is built per point.

>>> import random, sympy as sp
>>> x = sp.Symbol("x", positive=True)
>>> float(value_for(x, random.Random(0))) > 0
True
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from typing import Any

import mpmath
import sympy as sp

from ..notation import Expect, Notation, unfold

PRECISION = 40  # decimal digits for evaluation
SMALL_SIZE = 5  # most integer sizes are drawn from 1..SMALL_SIZE
LARGE_SIZE = 16  # and some from SMALL_SIZE + 1..LARGE_SIZE, where sum bounds cross
LARGE_SHARE = 0.3


def value_for(atom: Any, rng: random.Random) -> Any:
    """A random SymPy number consistent with ``atom``'s assumptions."""
    return _number(_draw(atom, rng))


def _draw(atom: Any, rng: random.Random) -> Any:
    """A random value (int, mpf or mpc) consistent with ``atom``'s assumptions."""
    if atom.is_integer:
        size = rng.randint(1, SMALL_SIZE if rng.random() > LARGE_SHARE else LARGE_SIZE)
        if atom.is_positive:
            return size
        if atom.is_nonnegative:
            return size - 1
        if atom.is_negative:
            return -size
        if atom.is_nonpositive:
            return 1 - size
        return rng.choice((-1, 1)) * (size - 1)
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
        return mpmath.mpc(rng.uniform(-2, 2), rng.uniform(-2, 2))
    return mpmath.mpf(x)


def _number(value: Any) -> Any:
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, mpmath.mpc):
        return sp.Float(value.real, PRECISION) + sp.I * sp.Float(value.imag, PRECISION)
    return sp.Float(value, PRECISION)


# ---------------------------------------------------------------------------
# Direct evaluation
# ---------------------------------------------------------------------------

_UNARY = {
    sp.exp: mpmath.exp, sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos,
    sp.tan: mpmath.tan, sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh, sp.tanh: mpmath.tanh,
    sp.Abs: abs, sp.re: mpmath.re, sp.im: mpmath.im, sp.conjugate: mpmath.conj,
    sp.atan: mpmath.atan, sp.asin: mpmath.asin, sp.acos: mpmath.acos, sp.sign: mpmath.sign,
    sp.sqrt: mpmath.sqrt, sp.factorial: mpmath.factorial, sp.erf: mpmath.erf,
    sp.gamma: mpmath.gamma, sp.floor: mpmath.floor, sp.ceiling: mpmath.ceil,
    sp.asinh: mpmath.asinh, sp.acosh: mpmath.acosh, sp.atanh: mpmath.atanh,
    sp.erfc: mpmath.erfc,
}
_CONSTANTS = {sp.pi: mpmath.pi, sp.E: mpmath.e, sp.I: mpmath.mpc(0, 1),
              sp.oo: mpmath.inf, sp.EulerGamma: mpmath.euler}
_RELATIONS = {sp.StrictLessThan: lambda a, b: a < b, sp.LessThan: lambda a, b: a <= b,
              sp.StrictGreaterThan: lambda a, b: a > b, sp.GreaterThan: lambda a, b: a >= b,
              sp.Equality: lambda a, b: a == b, sp.Unequality: lambda a, b: a != b}
MAX_TERMS = 4000  # a sum longer than this is not evaluated (the point is skipped)


class Unsupported(Exception):
    """A node the direct evaluator does not know; the caller falls back on SymPy."""


class Undefined(Exception):
    """No value at this point (a pole, a log of zero, a sum too long)."""


class Point:
    """Values at one random point: symbols drawn up front, indexed entries on first use."""

    def __init__(self, values: dict, rng: random.Random) -> None:
        self.values = values
        self.rng = rng

    def entry(self, indexed: Any, index: tuple) -> Any:
        """The value of ``indexed`` (e.g. ``z[j]``, which carries its base's assumptions) at
        the integer ``index``."""
        key = (indexed.base, index)
        if key not in self.values:
            self.values[key] = _draw(indexed, self.rng)
        return self.values[key]

    def shown(self) -> dict[str, Any]:
        """The values, named as a reader writes them (``z[3]``, ``n``)."""
        out = {}
        for key, value in self.values.items():
            if isinstance(key, tuple):
                base, index = key
                out[f"{base}[{', '.join(map(str, index))}]"] = value
            else:
                out[str(key)] = value
        return out


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, mpmath.mpf) and value == int(value):
        return int(value)
    raise Undefined("a sum bound or an index is not an integer here")


def _karr(lo: int, hi: int) -> tuple[range, int]:
    """The indices to add and the sign, in the convention of SymPy's summation rules."""
    if hi >= lo:
        return range(lo, hi + 1), 1
    return range(hi + 1, lo), -1


def evaluate(e: Any, point: Point, bound: dict | None = None) -> Any:
    """The value of a SymPy expression at ``point`` (sums and indexed entries included)."""
    bound = bound or {}
    if e in bound:
        return bound[e]
    if e.is_Integer:
        return int(e)
    if e.is_Rational:
        return mpmath.mpf(e.p) / e.q
    if e.is_Float:
        return mpmath.mpf(e)
    if e in _CONSTANTS:
        return _CONSTANTS[e]
    if e.is_Symbol:
        if e in point.values:
            return point.values[e]
        raise Unsupported(f"no value for {e}")
    if e.is_Add:
        return mpmath.fsum(evaluate(a, point, bound) for a in e.args)
    if e.is_Mul:
        out = mpmath.mpf(1)
        for a in e.args:
            out = out * evaluate(a, point, bound)
        return out
    if e.is_Pow:
        base, power = evaluate(e.base, point, bound), evaluate(e.exp, point, bound)
        if base == 0 and (power.real if hasattr(power, "real") else power) < 0:
            raise Undefined("division by zero")
        if isinstance(base, int) and isinstance(power, int) and power >= 0:
            return base**power
        return mpmath.power(base, power)
    if isinstance(e, sp.Indexed):
        index = tuple(_int(evaluate(i, point, bound)) for i in e.indices)
        return point.entry(e, index)
    if isinstance(e, (sp.Sum, sp.Product)):
        return _series(e, point, bound)
    if isinstance(e, Expect):  # an expectation of random symbols has no value at a point
        raise Undefined("an expectation")
    if isinstance(e, Notation):  # one that unfolds only once its sizes are numbers
        return evaluate(_unfolded_at(e, point, bound), point, bound)
    if e.func in _UNARY and len(e.args) == 1:
        x = evaluate(e.args[0], point, bound)
        if e.func is sp.log and x == 0:
            raise Undefined("log of zero")
        return _UNARY[e.func](x)
    if isinstance(e, (sp.Max, sp.Min)):
        args = [evaluate(a, point, bound) for a in e.args]
        if any(isinstance(a, mpmath.mpc) and a.imag != 0 for a in args):
            raise Undefined("max/min of complex values")
        return max(args) if isinstance(e, sp.Max) else min(args)
    if isinstance(e, sp.KroneckerDelta):
        a, b = (evaluate(x, point, bound) for x in e.args)
        return 1 if a == b else 0
    if isinstance(e, sp.binomial):
        n, k = (evaluate(x, point, bound) for x in e.args)
        return mpmath.binomial(n, k)
    if isinstance(e, sp.Piecewise):
        for expr, cond in e.args:
            if cond is sp.true or _truth(cond, point, bound):
                return evaluate(expr, point, bound)
        raise Undefined("no branch of a piecewise applies")
    raise Unsupported(type(e).__name__)


def _unfolded_at(e: Any, point: Point, bound: dict) -> Any:
    """A notation with its integer-valued arguments made numbers, unfolded (memoised)."""
    args = []
    for a in e.args:
        try:
            value = evaluate(a, point, bound)
        except (Unsupported, Undefined):
            args.append(a)
            continue
        args.append(sp.Integer(value) if isinstance(value, int) else a)
    found = _unfold_concrete(e.func, tuple(args))
    if isinstance(found, Notation) and found.func is e.func:
        raise Unsupported(type(e).__name__)
    return found


@functools.lru_cache(maxsize=4096)
def _unfold_concrete(func: Any, args: tuple) -> Any:
    return unfold(func(*args))


def _truth(cond: Any, point: Point, bound: dict) -> bool:
    if cond in (sp.true, sp.false):
        return bool(cond)
    if type(cond) in _RELATIONS:
        a, b = (evaluate(x, point, bound) for x in cond.args)
        return bool(_RELATIONS[type(cond)](a, b))
    if isinstance(cond, sp.And):
        return all(_truth(c, point, bound) for c in cond.args)
    if isinstance(cond, sp.Or):
        return any(_truth(c, point, bound) for c in cond.args)
    if isinstance(cond, sp.Not):
        return not _truth(cond.args[0], point, bound)
    raise Unsupported(type(cond).__name__)


def _series(e: Any, point: Point, bound: dict) -> Any:
    """A finite sum or product, innermost limit first, in SymPy's convention for reversed ranges."""
    body, limits = e.function, list(e.limits)
    is_sum = isinstance(e, sp.Sum)

    def run(level: int, env: dict) -> Any:
        if level < 0:
            return evaluate(body, point, env)
        var, lo, hi = limits[level]
        lo, hi = _int(evaluate(lo, point, env)), _int(evaluate(hi, point, env))
        indices, sign = _karr(lo, hi)
        if len(indices) > MAX_TERMS:
            raise Undefined("a sum too long to evaluate")
        acc: Any = 0 if is_sum else mpmath.mpf(1)
        for k in indices:
            value = run(level - 1, {**env, var: k})
            acc = acc + value if is_sum else acc * value
        if sign < 0:
            return -acc if is_sum else 1 / acc
        return acc

    # limits are written innermost first: the last one is the outermost
    return run(len(limits) - 1, dict(bound))


# ---------------------------------------------------------------------------
# Points for a pair of expressions
# ---------------------------------------------------------------------------


def atoms(expr: Any) -> list:
    """Free symbols and the bases of indexed entries of an expression or matrix."""
    items = list(expr) if isinstance(expr, sp.MatrixBase) else [sp.sympify(expr)]
    free: set = set()
    for item in items:
        free |= _item_atoms(item)
    return sorted(free, key=str)


@functools.lru_cache(maxsize=4096)
def _item_atoms(item: Any) -> frozenset:
    free = {s for s in item.free_symbols if isinstance(s, sp.Symbol)}
    return frozenset(free - {ix.base.label for ix in item.atoms(sp.Indexed)})


def _bounds(exprs: list) -> set:
    out: set = set()
    for e in exprs:
        for item in (list(e) if isinstance(e, sp.MatrixBase) else [e]):
            for s in sp.sympify(item).atoms(sp.Sum, sp.Product):
                for _, lo, hi in s.limits:
                    out |= lo.free_symbols | hi.free_symbols
    return out


def _free_indices(exprs: list) -> set:
    out: set = set()
    for e in exprs:
        for item in (list(e) if isinstance(e, sp.MatrixBase) else [e]):
            for ix in sp.sympify(item).atoms(sp.Indexed):
                out |= {i for i in ix.indices if isinstance(i, sp.Symbol)}
    return out


def draw_point(symbols: list, bounds: set, indices: set, rng: random.Random) -> Point:
    """Values for the symbols; a free index (the i of softmax_i) stays within 1..its size."""
    values: dict = {}
    for sym in sorted(symbols, key=lambda s: (s not in bounds, str(s))):
        values[sym] = _draw(sym, rng)
    sizes = [values[b] for b in bounds if b in values and isinstance(values[b], int)]
    top = min(sizes) if sizes else None
    for sym in symbols:
        if sym in indices and sym not in bounds and top is not None and top >= 1:
            if sym.is_integer and (sym.is_positive or sym.is_nonnegative):
                values[sym] = rng.randint(1, top)
    return Point(values, rng)


def values_of(expr: Any, point: Point) -> list:
    """The complex values of an expression or of a matrix's entries at ``point``."""
    items = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    with mpmath.workdps(PRECISION):
        out = []
        for item in items:
            value = evaluate(item, point)
            value = mpmath.mpc(value) if not isinstance(value, int) else mpmath.mpc(value)
            if not (mpmath.isfinite(value.real) and mpmath.isfinite(value.imag)):
                raise Undefined("not finite")
            out.append(complex(value))
        return out


def _fallback(expr: Any, point: Point) -> list:
    """SymPy's own evaluation, for nodes the direct evaluator does not know (derivatives...)."""
    subs = {k: _number(v) for k, v in point.values.items() if not isinstance(k, tuple)}
    items = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    out = []
    for item in items:
        concrete = unfold(item.xreplace({k: v for k, v in subs.items() if k.is_integer}))
        concrete = write_out_sums(concrete)
        if concrete.has(sp.Derivative, sp.Limit, sp.Integral):
            concrete = concrete.doit()
        entries = {ix: _number(point.entry(ix, tuple(int(i) for i in ix.indices)))
                   for ix in concrete.atoms(sp.Indexed) if all(i.is_Integer for i in ix.indices)}
        value = sp.N(concrete.xreplace(entries).xreplace(subs), PRECISION)
        out.append(complex(value))
    return out


def _value(expr: Any, point: Point) -> list | None:
    try:
        try:
            return values_of(expr, point)
        except Unsupported:
            return _fallback(expr, point)
    except (Undefined, ArithmeticError, ValueError, TypeError, RecursionError, OverflowError):
        return None


def evaluable(expr: Any) -> Any:
    """An expression ready for :func:`paired_points`: notation unfolded, products of explicit
    matrices multiplied out, derivatives taken."""
    return _explicit(unfold(expr))


def paired_points(a: Any, b: Any, rng: random.Random, count: int,
                  constraints: tuple = (), pins: tuple = (),
                  ready: bool = False) -> Iterator[tuple[dict, list, list]]:
    """Yield ``(point, values_a, values_b)`` at up to ``count`` points where both are defined.

    ``constraints`` are ``(expr, strict)`` pairs: ``expr`` must be positive (``strict``) or
    non-negative at a point for it to count (the sign of a symbol that a hypothesis
    rewrote away, say). ``pins`` are hypotheses ``(atom, expr)`` the point is made to
    satisfy (``p[1] = c``: the entry p_1 takes the value of c wherever it is met).
    """
    if not ready:
        a, b = evaluable(a), evaluable(b)
    constraints = tuple((unfold(c), strict) for c, strict in constraints)
    pins = tuple((lhs, unfold(rhs)) for lhs, rhs in pins)
    exprs = [a, b, *(c for c, _ in constraints), *(r for _, r in pins)]
    symbols = sorted({s for e in exprs for s in atoms(e)}, key=str)
    bounds, indices = _bounds(exprs), _free_indices(exprs)
    found = 0
    for _ in range(count * 6):
        if found >= count:
            return
        point = draw_point(symbols, bounds, indices, rng)
        if not _pin(point, pins):
            continue
        if not all(_holds(c, strict, point) for c, strict in constraints):
            continue
        va, vb = _value(a, point), _value(b, point)
        if va is None or vb is None:
            continue  # a pole or an overflow: draw another point
        found += 1
        yield point.shown(), va, vb


def _pin(point: Point, pins: tuple) -> bool:
    """Give each pinned atom the value of its expression; False if one has no value here."""
    for lhs, rhs in pins:
        value = _value(rhs, point)
        if value is None or len(value) != 1:
            return False
        number = value[0]
        number = mpmath.mpf(number.real) if number.imag == 0 else mpmath.mpc(number)
        if isinstance(lhs, sp.Indexed):
            point.values[(lhs.base, tuple(int(i) for i in lhs.indices))] = number
        else:
            point.values[lhs] = number
    return True


def _explicit(expr: Any) -> Any:
    """Once per pair of lines, not per point: an unevaluated product of explicit matrices
    multiplied out, and derivatives taken (the evaluator then needs no SymPy per point)."""
    if isinstance(expr, sp.MatrixExpr) and not isinstance(expr, sp.MatrixBase):
        return expr.doit()
    if not isinstance(expr, sp.MatrixBase) and expr.has(sp.Derivative, sp.Subs):
        try:
            return expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)),
                                lambda e: e.doit())
        except (ValueError, TypeError, NotImplementedError):
            return expr
    return expr


def _holds(constraint: Any, strict: bool, point: Point) -> bool:
    value = _value(constraint, point)
    return value is not None and all(
        abs(v.imag) < 1e-12 and (v.real > 0 if strict else v.real >= 0) for v in value)


def close(a: list, b: list, rtol: float = 1e-10) -> tuple[bool, float]:
    """Whether two evaluations agree, and the largest scaled difference."""
    if len(a) != len(b):
        raise ValueError("values of different shapes")
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        scale = max(1.0, abs(x), abs(y))
        worst = max(worst, abs(x - y) / scale)
    return worst <= rtol, worst


# ---------------------------------------------------------------------------
# Concrete sizes (for steps proved for each size)
# ---------------------------------------------------------------------------


def write_out_sums(expr: Any) -> Any:
    """Every sum with integer bounds as an explicit addition (innermost first), in SymPy's
    convention for reversed ranges."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(write_out_sums)
    if not expr.has(sp.Sum):
        return expr
    if isinstance(expr, sp.Sum) and len(expr.limits) == 1:
        var, lo, hi = expr.limits[0]
        if lo.is_Integer and hi.is_Integer:
            body = write_out_sums(expr.function)
            indices, sign = _karr(int(lo), int(hi))
            return sign * sp.Add(*[body.xreplace({var: sp.Integer(k)}) for k in indices])
    if isinstance(expr, sp.Sum):
        inner = sp.Sum(expr.function, *expr.limits[:-1]) if len(expr.limits) > 1 else None
        if inner is not None:
            return write_out_sums(sp.Sum(write_out_sums(inner), expr.limits[-1]))
        return expr
    return expr.func(*[write_out_sums(a) for a in expr.args])


def concrete(expr: Any, sizes: dict, unfolded: bool = False) -> Any:
    """``expr`` at fixed sizes, with every (now finite) sum written out."""
    expr = expr if unfolded else unfold(expr)
    if isinstance(expr, sp.MatrixExpr) and not isinstance(expr, sp.MatrixBase):
        expr = expr.doit()  # an unevaluated product of explicit matrices
    if not isinstance(expr, sp.MatrixBase) and expr.has(sp.Derivative):
        # differentiate before a size becomes a number
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit(deep=False))
    if sizes:
        try:
            expr = expr.xreplace(sizes) if not isinstance(expr, sp.MatrixBase) else expr.subs(sizes)
        except ValueError:  # e.g. a size that is also a sum's index (a mutant): let subs decide
            expr = expr.subs(sizes)
    if sizes:
        expr = unfold(expr)  # a notation may unfold further once its size is a number
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: concrete(e, {}, unfolded=True))
    expr = write_out_sums(expr)
    if expr.has(sp.Product, sp.Derivative, sp.Limit, sp.Integral):
        expr = expr.doit()
    return expr
