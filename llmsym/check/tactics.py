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
from contextvars import ContextVar
from typing import Any

import sympy as sp
from sympy.simplify.simplify import factor_sum

from ..derivation import TRANSFORMS as TACTIC_NAMES
from ..notation import Expect, Notation, is_random, unfold

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
        if isinstance(e, sp.Sum):  # several limits (SymPy merges nested sums into one)
            return _multi_sum(visit(e.function), e.limits)
        if e.args and not isinstance(e, (sp.Indexed, sp.IndexedBase)):
            return e.func(*[visit(a) for a in e.args])
        return e

    return sp.expand(visit(expr))


def _multi_sum(body: Any, limits: tuple) -> Any:
    """A sum over several limits, linearised: canonical indices (innermost lowest), split over
    the terms of its body, factors free of every index pulled out. Kept as one multi-limit
    sum (rebuilding nested sums would make SymPy merge them again, without end)."""
    height = max((1 + _height(s.function) for s in body.atoms(sp.Sum)), default=0)
    while len(_CANON) <= height + len(limits):
        _CANON.append(sp.Dummy(f"k{len(_CANON)}", integer=True))
    # every index renamed at once: an inner bound may name an outer index (j from i + 1)
    renamed = {var: _CANON[height + level] for level, (var, _, _) in enumerate(limits)}
    new_limits = [(renamed[var], lo.xreplace(renamed), hi.xreplace(renamed))
                  for var, lo, hi in limits]
    body = sp.expand(body.xreplace(renamed))
    variables = {lim[0] for lim in new_limits}
    parts = []
    for term in sp.Add.make_args(body):
        inner = [f for f in sp.Mul.make_args(term) if f.free_symbols & variables]
        outer = [f for f in sp.Mul.make_args(term) if not f.free_symbols & variables]
        separate = _separated(inner, new_limits)
        parts.append(sp.Mul(*outer) * (separate if separate is not None
                                       else sp.Sum(sp.Mul(*inner), *new_limits)))
    return sp.Add(*parts)


def _separated(factors: list, limits: list) -> Any:
    """``sum_i sum_j a_i b_j`` as ``(sum_i a_i)(sum_j b_j)`` when every factor names one index
    and no bound names another index (else None); each single sum in canonical form."""
    variables = [var for var, _, _ in limits]
    if any((lo.free_symbols | hi.free_symbols) & set(variables) for _, lo, hi in limits):
        return None
    groups: dict[Any, list] = {var: [] for var in variables}
    for f in factors:
        names = f.free_symbols & set(variables)
        if len(names) != 1:
            return None
        groups[names.pop()].append(f)
    # an index no factor names counts its range: hi - lo + 1 (Karr's convention, as SymPy's)
    return sp.Mul(*(sum_normal(sp.Sum(sp.Mul(*groups[var]), (var, lo, hi))) if groups[var]
                    else hi - lo + 1 for var, lo, hi in limits))


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
    """Split off leading and trailing terms so that sums of one body run over one range.

    ``Sum(f_j, (j, 1, n)) - Sum(f_j, (j, 2, n))`` becomes ``f_1``, and
    ``Sum(f_j, (j, 1, n + 1)) - Sum(f_j, (j, 1, n))`` becomes ``f_{n+1}``: each sum is
    written as the terms outside the common range plus the sum over it. This holds
    for every range in the convention of SymPy's summation rules (used throughout).
    """
    expr = sum_normal(expr)
    sums = [s for s in expr.atoms(sp.Sum) if len(s.limits) == 1]
    if len(sums) < 2:
        return expr
    groups: dict[Any, list] = {}
    for s in sums:
        groups.setdefault(s.function, []).append(s)
    swap = {}
    for body, group in groups.items():
        if len(group) < 2:
            continue
        var = group[0].limits[0][0]
        los = [s.limits[0][1] for s in group]
        his = [s.limits[0][2] for s in group]
        lo = _extreme(los, max)
        hi = _extreme(his, min)
        if lo is None or hi is None:
            continue
        for s in group:
            _, a, b = s.limits[0]
            head = [body.xreplace({var: a + k}) for k in range(int(lo - a))]
            tail = [body.xreplace({var: hi + 1 + k}) for k in range(int(b - hi))]
            swap[s] = sp.Add(*head) + sp.Sum(body, (var, lo, hi)) + sp.Add(*tail)
    return sum_normal(expr.xreplace(swap)) if swap else expr


def _extreme(values: list, pick: Callable) -> Any:
    """The largest (or smallest) of bounds that differ by small integers; None otherwise."""
    first = values[0]
    gaps = [sp.expand(v - first) for v in values]
    if not all(g.is_Integer and abs(int(g)) <= 16 for g in gaps):
        return None
    return first + pick(int(g) for g in gaps)


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


def _shift_of(s: sp.Sum) -> Any:
    """The integer c such that the sum's entries read ``x[k + c]``; None if they disagree."""
    var = s.limits[0][0]
    shifts = set()
    for ix in s.function.atoms(sp.Indexed):
        for index in ix.indices:
            if index.has(var):
                c = sp.expand(index - var)
                if not c.is_Integer:
                    return None
                shifts.add(int(c))
    return shifts.pop() if len(shifts) == 1 else None


def shift_index(expr: Any) -> Any:
    """Re-index sums so their entries read ``x[k]``: ``Sum(x[k + 1], (k, 0, n - 1))`` becomes
    ``Sum(x[k], (k, 1, n))`` (a change of variable, valid for every range)."""
    def shifted(s):
        c = _shift_of(s)
        if not c:
            return s
        var, lo, hi = s.limits[0]
        return sp.Sum(s.function.xreplace({var: var - c}), (var, lo + c, hi + c))

    expr = sum_normal(expr)
    return sum_normal(expr.replace(
        lambda e: isinstance(e, sp.Sum) and len(e.limits) == 1, shifted))


def _independent(limits) -> bool:
    variables = {lim[0] for lim in limits}
    return all(not (lo.free_symbols | hi.free_symbols) & variables for _, lo, hi in limits)


def swap_sums(expr: Any) -> Any:
    """Exchange the order of a double sum whose ranges do not depend on each other, into one
    canonical order (the index met first in the summand outermost)."""
    def flat(e):
        limits, body = [], e
        while isinstance(body, sp.Sum):
            limits = list(body.limits) + limits
            body = body.function
        return body, limits

    def canonical(e):
        body, limits = flat(e)
        if len(limits) < 2 or not _independent(limits):
            return e
        text = sp.srepr(body)
        order = sorted(limits, key=lambda lim: text.find(f"Symbol('{lim[0]}'"))
        out = body
        for lim in reversed(order):  # the first index ends outermost
            out = sp.Sum(out, lim)
        return out

    return sum_normal(expr.replace(lambda e: isinstance(e, sp.Sum), canonical))


def peel(expr: Any) -> Any:
    """A sum minus its own first or last term becomes the sum over the rest:
    ``Sum(f_j, (j, 1, n)) - f_1`` is ``Sum(f_j, (j, 2, n))``."""
    expr = sum_normal(expr)
    terms = list(sp.Add.make_args(expr))
    for t, term in enumerate(terms):
        found = _one_sum(term)
        if found is None:
            continue
        coeff, s = found
        var, lo, hi = s.limits[0]
        for edge, rest in ((lo, (var, lo + 1, hi)), (hi, (var, lo, hi - 1))):
            value = coeff * s.function.xreplace({var: edge})
            for u, other in enumerate(terms):
                if u != t and sp.expand(other + value) == 0:
                    kept = [x for v, x in enumerate(terms) if v not in (t, u)]
                    return sp.Add(*kept, coeff * sp.Sum(s.function, rest))
    return expr


# ---------------------------------------------------------------------------
# Definitions of the derivation being checked (for the ``definition`` tactic)
# ---------------------------------------------------------------------------

DEFINITIONS: ContextVar[tuple] = ContextVar("definitions", default=())


def unfold_definitions(e: Any) -> Any:
    """Notation unfolded, then each declared definition ``lhs -> rhs`` applied.

    A definition whose left side is a symbol (``N``) replaces it as it stands; one
    whose left side is a call or an entry (``Var(X)``, ``m[t]``) matches any argument
    in place of its symbols.
    """
    for _ in range(8):  # to a fixpoint: a definition may use another, in any order
        before = e = unfold(e)
        for lhs, rhs in DEFINITIONS.get():
            if isinstance(lhs, sp.Symbol):
                e = e.xreplace({lhs: rhs})
                continue
            wilds = {s: sp.Wild(f"w_{s}") for s in lhs.free_symbols
                     if isinstance(s, sp.Symbol) and not _is_label(s, lhs)}
            e = e.replace(lhs.xreplace(wilds), rhs.xreplace(wilds))
        if e == before:
            break
    return unfold(e)


def _is_label(s: Any, lhs: Any) -> bool:
    """Whether ``s`` names an indexed base of ``lhs`` (``m`` in ``m[t]``), not an argument."""
    return any(s == ix.base.label for ix in lhs.atoms(sp.Indexed))


# ---------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------


def _trig(e: Any) -> Any:
    e = sp.expand(sp.expand_trig(sp.expand(e)))
    return e if e == 0 else sp.trigsimp(e)


def _matrixwise(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(e):
        if isinstance(e, sp.MatrixBase):
            return e.applyfunc(fn)
        return fn(e)

    return apply


_HYPERBOLIC = (sp.tanh, sp.sinh, sp.cosh, sp.coth, sp.sech, sp.csch)


def rewrite_exp(e: Any) -> Any:
    """Hyperbolic functions (and sigmoid-like notation once unfolded) as exponentials."""
    return sp.expand(sp.powsimp(sp.expand(e.rewrite(sp.exp)), combine="exp"))


def _geometric_term(s: sp.Sum) -> Any:
    """``Sum(c r^(a k + b), (k, lo, hi))`` in closed form when ``r^a != 1`` is shown."""
    (var, lo, hi), body = s.limits[0], sp.powsimp(sp.expand(s.function), combine="exp")
    coeff, rest = [], []
    for f in sp.Mul.make_args(body):
        (rest if f.has(var) else coeff).append(f)
    if len(rest) != 1 or not isinstance(rest[0], sp.Pow):
        return s
    base, power = rest[0].args
    if base.has(var):
        return s
    a, b = sp.Poly(power, var).all_coeffs() if sp.Poly(power, var).degree() == 1 else (None, None)
    if a is None or not (a.is_integer and a.is_nonzero):
        return s
    ratio = base**a
    if sp.factor(sp.together(ratio - 1)).is_nonzero is not True:
        return s  # at r^a = 1 the closed form has no value: not this rule
    first = base ** (a * lo + b)
    return sp.Mul(*coeff) * first * (1 - ratio ** (hi - lo + 1)) / (1 - ratio)


def geometric(e: Any) -> Any:
    """Geometric sums in closed form: ``Sum_{k=lo}^{hi} c r^{ak+b}`` with ``r^a`` shown ``!= 1``.

    The rule holds in the convention of SymPy's summation rules for every range.
    """
    e = sum_normal(e)
    return sp.expand(e.replace(lambda x: isinstance(x, sp.Sum) and len(x.limits) == 1,
                               _geometric_term))


def _linear(x: Any) -> Any:
    """E[x] expanded by linearity: sums split, factors free of random symbols pulled out."""
    x = sp.expand(x)
    out = []
    for term in sp.Add.make_args(x):
        if isinstance(term, sp.Sum):
            out.append(sp.Sum(_linear(term.function), *term.limits))
            continue
        const, rand = [], []
        for f in sp.Mul.make_args(term):
            (rand if is_random(f) else const).append(f)
        inner = sp.Mul(*rand)
        if isinstance(inner, sp.Sum) and len(rand) == 1:
            out.append(sp.Mul(*const) * sp.Sum(_linear(inner.function), *inner.limits))
        else:
            out.append(sp.Mul(*const) * (Expect(inner) if rand else 1))
    return sp.Add(*out)


def expect(e: Any) -> Any:
    """Linearity of expectation: ``E[a X + b Y + c] = a E[X] + b E[Y] + c`` and
    ``E[Sum_i X_i] = Sum_i E[X_i]`` (finite sums), with ``a, b, c`` free of random symbols.

    Random symbols are those declared with :func:`llmsym.notation.random_variables`.
    """
    e = unfold(e)
    return sp.expand(e.replace(lambda x: isinstance(x, Expect), lambda x: _linear(x.args[0])))


def _square_sum(p: sp.Pow) -> Any:
    base, power = p.args
    if not (isinstance(base, sp.Sum) and power == 2 and len(base.limits) == 1):
        return p
    var, lo, hi = base.limits[0]
    other = sp.Dummy(f"{var}'", integer=True)
    return sp.Sum(sp.Sum(base.function * base.function.xreplace({var: other}),
                         (other, lo, hi)), (var, lo, hi))


def square_sums(e: Any) -> Any:
    """``(Sum_i a_i)^2 = Sum_i Sum_j a_i a_j``: a squared finite sum as a double sum."""
    return e.replace(lambda x: isinstance(x, sp.Pow) and isinstance(x.base, sp.Sum),
                     _square_sum)


def _doit(e: Any) -> Any:
    """SymPy's ``doit``, except on a sum with a Kronecker delta whose range may run backwards:
    SymPy sifts it as if an empty range were the only other case, which disagrees with the
    summation convention used everywhere else (a reversed range is minus a sum)."""
    held = {}
    for s in e.atoms(sp.Sum):
        if s.has(sp.KroneckerDelta) and not all(
                (hi.is_infinite or nonneg(sp.expand(hi - lo + 1))) for _, lo, hi in s.limits):
            held[s] = sp.Dummy("held_sum")
    if not held:
        return e.doit()
    back = {v: k for k, v in held.items()}
    return e.xreplace(held).doit().xreplace(back)


_TRANSFORMS: dict[str, Callable[[Any], Any]] = {
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
    "split_last": align_sums,
    "shift_index": shift_index,
    "swap_sums": swap_sums,
    "peel": peel,
    "join_sums": join_sums,
    "factor_sum": lambda e: sp.expand(factor_sum(e)),
    "doit": lambda e: sp.expand(_doit(e)),
    "unfold": unfold,
    "definition": unfold_definitions,
    "simplify": sp.simplify,
    "rewrite_exp": rewrite_exp,
    "geometric": geometric,
    "expect": expect,
    "square_sums": square_sums,
    # merge sums over one range, then drop each sum whose summand ``trig`` reduces to 0
    "trig_sums": lambda e: sp.expand(merge_sums(e).replace(
        lambda x: isinstance(x, sp.Sum) and _trig(x.function) == 0, lambda x: sp.S.Zero)),
}
assert set(_TRANSFORMS) == set(TACTIC_NAMES), "llmsym.derivation.TRANSFORMS is out of date"
TRANSFORMS = _TRANSFORMS

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
    "shift_index+align_sums",
    "swap_sums",
    "together",
    "trig",
    "rewrite_exp+together",
    "rewrite_exp+cancel",
    "unfold+rewrite_exp+together",
    "expect+sum",
    "doit+together",
    "unfold+doit+together",
    "unfold+sum",
    "unfold+sum+expand_log",
    "unfold+cancel",
    "unfold+sum+powsimp",
    "unfold+align_sums",
    "geometric+together",
    "unfold+geometric+together",
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
    """A literal symbolic zero (every entry of a matrix; a zero matrix expression)."""
    if isinstance(expr, sp.MatrixBase):
        return all(x == 0 for x in expr)
    if isinstance(expr, sp.ZeroMatrix):
        return True
    return sp.sympify(expr) == 0


def difference(a: Any, b: Any) -> Any:
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        return sp.Matrix(a) - sp.Matrix(b)
    return a - b


def proves(tactic: str, a: Any, b: Any) -> bool:
    """Whether ``tactic`` turns ``a - b`` into zero."""
    return is_zero(apply(tactic, difference(a, b)))


def _has(expr: Any, *kinds: Any) -> bool:
    items = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    return any(sp.sympify(i).has(*kinds) for i in items)


def plan(hint: str, expr: Any) -> list[str]:
    """The order in which to try tactics: the hint, then the fallbacks that apply."""
    order = [] if hint in ("auto", "definition") else [hint]
    if hint == "definition":
        order += ["definition", "definition+sum", "definition+expect+sum", "definition+cancel",
                  "definition+expand_log", "definition+simplify"]
        return order
    has_notation = _has(expr, Notation)
    has_sum = _has(expr, sp.Sum)
    has_hyperbolic = _has(expr, *_HYPERBOLIC)
    has_expect = _has(expr, Expect)
    has_derivative = _has(expr, sp.Derivative)
    for t in FALLBACKS:
        if t in order:
            continue
        if t.startswith("unfold") and not has_notation:
            continue
        if (t.startswith("sum") or "geometric" in t or "align" in t or "swap" in t) \
                and not has_sum:
            continue
        if "rewrite_exp" in t and not has_hyperbolic:
            continue
        if "doit" in t and t != "doit+sum" and not has_derivative:
            continue
        if t.startswith("expect") and not has_expect:
            continue
        order.append(t)
    return order


# ---------------------------------------------------------------------------
# Signs
# ---------------------------------------------------------------------------


def nonneg(e: Any, depth: int = 0) -> bool:
    """A sufficient, structural test that ``e >= 0`` under the assumptions.

    True only when shown; False means "not shown", not "negative". A sum of
    non-negative terms is non-negative only when its range is not reversed
    (``hi - lo + 1 >= 0`` shown): in the summation convention used throughout, a
    reversed sum is minus a sum.
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
        if not (hi.is_infinite and hi.is_extended_positive) and \
                not nonneg(sp.expand(hi - lo + 1), depth + 1):
            return False
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


def positive(e: Any, depth: int = 0) -> bool:
    """A sufficient, structural test that ``e > 0``: positive symbols, exponentials,
    sums of non-negative terms with a positive one, products of positive factors."""
    e = sp.sympify(e)
    if e.is_positive:
        return True
    if depth > 12:
        return False
    if isinstance(e, sp.Add):
        return all(nonneg(t) for t in e.args) and any(positive(t, depth + 1) for t in e.args)
    if isinstance(e, sp.Mul):
        return all(positive(f, depth + 1) for f in e.args)
    if isinstance(e, sp.Pow):
        return positive(e.base, depth + 1) and e.exp.is_extended_real is True
    if isinstance(e, sp.exp):
        return e.args[0].is_extended_real is True
    return False


_INCREASING = (sp.exp, sp.log)


def monotone_args(a: Any, b: Any) -> tuple[Any, Any] | None:
    """For ``f(x)`` vs ``f(y)`` with ``f`` increasing (exp, log): the arguments.

    ``1`` counts as ``exp(0)``. For ``log`` the smaller argument must be shown
    positive (log is increasing on the positive reals only); otherwise None.
    """

    def as_exp(e):
        return sp.exp(0, evaluate=False) if e == 1 else e

    a, b = as_exp(a), as_exp(b)
    # a real number x is log(e^x): compare it with a logarithm on the other side
    if isinstance(b, sp.log) and not isinstance(a, sp.log) and a.is_extended_real:
        a = sp.log(sp.exp(a, evaluate=False), evaluate=False)
    if isinstance(a, sp.log) and not isinstance(b, sp.log) and b.is_extended_real:
        b = sp.log(sp.exp(b, evaluate=False), evaluate=False)
    for f in _INCREASING:
        if isinstance(a, f) and isinstance(b, f):
            if f is sp.log and not positive(a.args[0]):
                return None
            return a.args[0], b.args[0]
    return None
