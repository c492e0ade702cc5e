"""Tactics: the rewrites the checker uses to show that a difference is zero.

A tactic name is a transform or a ``+``-joined pipeline of transforms
(``"unfold+sum"``); it proves ``a = b`` when the pipeline turns ``a - b`` into
a literal ``0`` (every entry, for a matrix). Nothing here is numeric: a zero
is a symbolic zero, so a success is a proof under the symbols' assumptions.

Inequalities use :func:`nonneg`, a structural test (sums of non-negative
terms, products of non-negative factors, even powers, exponentials) that
falls back on SymPy's assumptions system.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> proves("expand", (x + 1) ** 2, x**2 + 2 * x + 1)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp
from sympy.simplify.simplify import factor_sum

from .notation import Notation, unfold

# ---------------------------------------------------------------------------
# Sum-aware rewriting
# ---------------------------------------------------------------------------

_CANON: list[Any] = []


def _canon(body: Any) -> Any:
    """The canonical index for a sum of ``body``: one per nesting height.

    A sum whose body holds sums of height h gets the index of height h + 1, so
    renaming an outer index can never capture an inner one, and equal sums
    get equal names wherever they stand.
    """
    height = max((1 + _height(s.function) for s in body.atoms(sp.Sum)), default=0)
    while len(_CANON) <= height:
        _CANON.append(sp.Dummy(f"k{len(_CANON)}", integer=True))
    return _CANON[height]


def _height(body: Any) -> int:
    return max((1 + _height(s.function) for s in body.atoms(sp.Sum)), default=0)


def _sum_parts(s: sp.Sum) -> list[Any]:
    """Split one single-index Sum over its summand's terms, constants factored out."""
    ((var, lo, hi),) = s.limits
    body = sp.expand(s.function)
    parts = []
    for term in sp.Add.make_args(body):
        inner, outer = [], []
        for f in sp.Mul.make_args(term):
            (inner if f.has(var) else outer).append(f)
        coeff = sp.Mul(*outer)
        if inner:
            summand = sp.Mul(*inner)
            k = _canon(summand)  # the split-off sum may be lower than the one it came from
            parts.append(coeff * sp.Sum(summand.xreplace({var: k}), (k, lo, hi)))
        else:
            parts.append(coeff * (hi - lo + 1))
    return parts


def sum_normal(expr: Any) -> Any:
    """Linearise sums: expand summands, split over ``+``, pull constant factors out,
    rename every dummy index to a canonical name (one per nesting height), then collect
    equal sums.

    ``Sum(a*x_i + y_i) - a*Sum(x_j)`` becomes ``Sum(y_k)``.
    """
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(sum_normal)

    def visit(e):
        if isinstance(e, sp.Sum) and len(e.limits) == 1:
            ((var, lo, hi),) = e.limits
            body = visit(e.function)
            k = _canon(body)
            return sp.Add(*_sum_parts(sp.Sum(body.xreplace({var: k}), (k, lo, hi))))
        if isinstance(e, sp.Sum):  # nested sums: normalise the innermost first
            inner = sp.Sum(visit(e.function), e.limits[0])
            return visit(sp.Sum(visit(inner), *e.limits[1:]))
        if e.args and not isinstance(e, (sp.Indexed, sp.IndexedBase)):
            return e.func(*[visit(a) for a in e.args])
        return e

    return sp.expand(visit(expr))


def merge_sums(expr: Any) -> Any:
    """Combine sums over the same range into one sum (inverse of splitting)."""
    expr = sum_normal(expr)
    groups: dict[tuple, list] = {}
    rest = []
    for term in sp.Add.make_args(expr):
        coeff, sums = [], []
        for f in sp.Mul.make_args(term):
            (sums if isinstance(f, sp.Sum) else coeff).append(f)
        if len(sums) == 1:
            ((var, lo, hi),) = sums[0].limits
            groups.setdefault((lo, hi), []).append((var, sp.Mul(*coeff) * sums[0].function))
        else:
            rest.append(term)
    merged = []
    for (lo, hi), parts in groups.items():
        # one index higher than every sum inside any of the bodies: no capture
        k = _canon(sp.Add(*[body for _, body in parts]))
        body = sp.Add(*[body.xreplace({var: k}) for var, body in parts])
        merged.append(sp.Sum(body, (k, lo, hi)))
    return sp.Add(*merged, *rest)


def align_sums(expr: Any) -> Any:
    """Split off leading terms so that sums of one body start at the same index.

    ``Sum(f_j, (j, 1, n)) - Sum(f_j, (j, 2, n))`` becomes ``f_1``: the sum from 1
    is written ``f_1 + Sum(f_j, (j, 2, n))`` first.
    """
    expr = sum_normal(expr)
    sums = [s for s in expr.atoms(sp.Sum) if len(s.limits) == 1]
    if len(sums) < 2:
        return expr
    top = {}
    for s in sums:
        _, lo, hi = s.limits[0]
        for other in sums:
            gap = other.limits[0][1] - lo
            if other.limits[0][2] == hi and gap.is_Integer and 0 < gap <= 16:
                top[s] = max(top.get(s, lo), other.limits[0][1])
    swap = {}
    for s, start in top.items():
        var, lo, hi = s.limits[0]
        head = sp.Add(*[s.function.subs(var, lo + k) for k in range(int(start - lo))])
        swap[s] = head + sp.Sum(s.function, (var, start, hi))
    return sum_normal(expr.xreplace(swap))


def _one_sum(term: Any) -> tuple[Any, sp.Sum] | None:
    """``c * Sum(f, (k, lo, hi))`` -> ``(c, Sum)``; None unless exactly one single-index Sum."""
    sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum) and len(f.limits) == 1]
    if len(sums) != 1:
        return None
    return sp.Mul(*[f for f in sp.Mul.make_args(term) if f is not sums[0]]), sums[0]


def _join_adjacent(add: sp.Add) -> Any:
    terms = list(add.args)
    joined = True
    while joined:
        joined = False
        for x, y in ((x, y) for x in range(len(terms)) for y in range(len(terms)) if x != y):
            left, right = _one_sum(terms[x]), _one_sum(terms[y])
            if left is None or right is None or left[0] != right[0]:
                continue
            (var, lo, mid), (var2, mid2, hi) = left[1].limits[0], right[1].limits[0]
            adjacent = sp.expand(mid2 - mid - 1) == 0
            if var == var2 and left[1].function == right[1].function and adjacent:
                terms[x] = left[0] * sp.Sum(left[1].function, (var, lo, hi))
                del terms[y]
                joined = True
                break
    return sp.Add(*terms)


def join_sums(expr: Any) -> Any:
    """Sums of one summand over adjacent ranges become one sum (concatenating two blocks).

    ``Sum(f_k, (k, 1, a)) + Sum(f_k, (k, a + 1, a + b))`` becomes ``Sum(f_k, (k, 1, a + b))``,
    in every sum of terms, numerators and denominators alike.
    """
    expr = sum_normal(expr)
    return expr.replace(lambda e: isinstance(e, sp.Add) and e.has(sp.Sum), _join_adjacent)


# ---------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------


_unfold = unfold


def _trig(e: Any) -> Any:
    e = sp.expand(sp.expand_trig(sp.expand(e)))
    return e if e == 0 else sp.trigsimp(e)


def _matrixwise(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(e):
        if isinstance(e, sp.MatrixBase):
            return e.applyfunc(fn)
        return fn(e)

    return apply


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "expand": sp.expand,
    "cancel": lambda e: sp.cancel(sp.expand(e)),
    "together": lambda e: sp.cancel(sp.together(e)),
    "factor": sp.factor,
    "expand_log": lambda e: sp.expand(sp.expand_log(sp.expand(e), deep=True)),
    "powsimp": lambda e: sp.expand(sp.powsimp(sp.expand(e), combine="exp")),
    "powdenest": lambda e: sp.expand(sp.powdenest(e)),
    "trig": _trig,
    "complex": lambda e: sp.expand(sp.expand_complex(e)),
    "sum": sum_normal,
    "merge_sums": merge_sums,
    "align_sums": align_sums,
    "join_sums": join_sums,
    "factor_sum": lambda e: sp.expand(factor_sum(e)),
    "doit": lambda e: sp.expand(e.doit()),
    "unfold": _unfold,
    "simplify": sp.simplify,
    # merge sums over one range, then drop each sum whose summand ``trig`` reduces to 0
    "trig_sums": lambda e: sp.expand(merge_sums(e).replace(
        lambda x: isinstance(x, sp.Sum) and _trig(x.function) == 0, lambda x: sp.S.Zero)),
}

# Tried in this order after the step's own tactic; ``simplify`` comes last.
FALLBACKS = (
    "expand",
    "cancel",
    "sum",
    "expand_log",
    "sum+expand_log",
    "powsimp",
    "sum+powsimp",
    "align_sums",
    "together",
    "trig",
    "unfold+sum",
    "unfold+sum+expand_log",
    "unfold+cancel",
    "unfold+sum+powsimp",
    "doit+sum",
    "simplify",
    "unfold+simplify",
)


def known(tactic: str) -> bool:
    return tactic == "auto" or all(part in TRANSFORMS for part in tactic.split("+"))


def apply(tactic: str, expr: Any) -> Any:
    """Run a tactic pipeline on an expression (entry-wise on a matrix)."""
    for part in tactic.split("+"):
        expr = _matrixwise(TRANSFORMS[part])(expr)
    return expr


def is_zero(expr: Any) -> bool:
    """A literal symbolic zero (every entry of a matrix)."""
    if isinstance(expr, sp.MatrixBase):
        return all(x == 0 for x in expr)
    return sp.sympify(expr) == 0


def difference(a: Any, b: Any) -> Any:
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        return sp.Matrix(a) - sp.Matrix(b)
    return a - b


def proves(tactic: str, a: Any, b: Any) -> bool:
    """Whether ``tactic`` turns ``a - b`` into zero."""
    return is_zero(apply(tactic, difference(a, b)))


def plan(hint: str, expr: Any) -> list[str]:
    """The order in which to try tactics: the hint, then the fallbacks that apply."""
    order = [] if hint == "auto" else [hint]
    has_notation = expr.has(Notation)
    for t in FALLBACKS:
        if t in order:
            continue
        if t.startswith("unfold") and not has_notation:
            continue
        if t.startswith("sum") and not expr.has(sp.Sum):
            continue
        order.append(t)
    return order


# ---------------------------------------------------------------------------
# Non-negativity
# ---------------------------------------------------------------------------


def nonneg(e: Any, depth: int = 0) -> bool:
    """A sufficient, structural test that ``e >= 0`` under the assumptions.

    True only when shown; False means "not shown", not "negative".
    """
    e = sp.sympify(e)
    if e.is_nonnegative:
        return True
    if depth > 12:  # a guard: -(-x) rebuilt forever would otherwise recurse without end
        return False
    if isinstance(e, sp.Add):
        return all(nonneg(t, depth + 1) for t in e.args)
    if isinstance(e, sp.Mul):
        coeff, rest = e.as_coeff_Mul()
        if coeff < 0:
            return nonpos(rest, depth + 1)
        return all(nonneg(f, depth + 1) for f in sp.Mul.make_args(rest))
    if isinstance(e, sp.Pow):
        base, power = e.args
        if power.is_integer and power.is_even and base.is_extended_real:
            return True
        return nonneg(base, depth + 1) and power.is_extended_real is True
    if isinstance(e, sp.exp):
        return e.args[0].is_extended_real is True
    if isinstance(e, sp.Sum) and len(e.limits) == 1:
        var, lo, hi = e.limits[0]
        # the index's sign as the lower bound shows it, and nothing more
        sign = {"positive": True} if lo.is_positive else {}
        if lo.is_nonnegative and not lo.is_positive:
            sign = {"nonnegative": True}
        k = sp.Dummy("k", integer=True, **sign)
        return nonneg(e.function.xreplace({var: k}), depth + 1)
    return False


def nonpos(e: Any, depth: int = 0) -> bool:
    """``e <= 0`` shown structurally: a product with one non-positive factor, or a sum of them."""
    e = sp.sympify(e)
    if e.is_nonpositive:
        return True
    if depth > 12:
        return False
    if isinstance(e, sp.Add):
        return all(nonpos(t, depth + 1) for t in e.args)
    if isinstance(e, sp.Mul):
        coeff, rest = e.as_coeff_Mul()
        if coeff < 0:
            return nonneg(rest, depth + 1)
        factors = sp.Mul.make_args(rest)
        signs = [(nonneg(f, depth + 1), nonpos(f, depth + 1)) for f in factors]
        if all(p or n for p, n in signs):
            return sum(1 for p, _ in signs if not p) % 2 == 1
    return False


_INCREASING = (sp.exp, sp.log)


def monotone_args(a: Any, b: Any) -> tuple[Any, Any] | None:
    """For ``f(x)`` vs ``f(y)`` with ``f`` increasing (exp, log): the arguments.

    ``1`` counts as ``exp(0)``.
    """

    def as_exp(e):
        return sp.exp(0, evaluate=False) if e == 1 else e

    a, b = as_exp(a), as_exp(b)
    for f in _INCREASING:
        if isinstance(a, f) and isinstance(b, f):
            return a.args[0], b.args[0]
    return None
