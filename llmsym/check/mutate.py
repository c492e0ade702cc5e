"""Mutation testing of the checker: plant errors in every step and make sure each is caught.

Operators (each applied wherever it fits in a step's expression):

- ``flip_sign``    negate one term of a sum (or the whole expression);
- ``drop_term``    remove one term of a sum;
- ``exponent``     raise an exponent by one;
- ``constant``     change a numeric constant or coefficient;
- ``swap_args``    swap the first two arguments of a function (``KL(p, q) -> KL(q, p)``);
- ``swap_index``   replace an index by another (``z_i -> z_j``);
- ``sum_bound``    move a summation bound by one;
- ``max_min``      replace a max by a min (and back);
- ``swap_symbols`` exchange two symbols of the same kind (``q <-> k``);
- ``reverse_bounds`` swap a sum's bounds, so its range runs backwards for most sizes
  (the summation convention must be applied consistently to catch it);
- ``log_argument`` move a logarithm's argument by -1000, so it can be negative
  (``monotone`` must not accept ``log`` of a possibly negative argument);
- ``untie_instance`` double both sides an ``instance=`` computes (an instance not
  tied to the chain must be refused).

A mutant that is mathematically equal to the original (e.g. swapping the
arguments of a product) is not a mutant: it is detected at random points and
skipped; so is a looser bound at the end of an inequality chain (``S >= 1``
mutated to ``S >= -1`` is still true). A real mutant is *caught* when the checker
refuses the link into it or the link out of it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from ..derivation import Derivation, Step

MAX_PER_STEP = 14


@dataclass
class Mutant:
    derivation: str
    claim: str
    step: int
    operator: str
    expression: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "derivation": self.derivation,
            "claim": self.claim,
            "step": self.step,
            "operator": self.operator,
            "expression": str(self.expression)[:300],
        }


@dataclass
class MutationReport:
    total: int = 0
    caught: int = 0
    equivalent: int = 0
    survivors: list[Mutant] = field(default_factory=list)
    by_operator: dict[str, int] = field(default_factory=dict)

    def merge(self, other: MutationReport) -> None:
        self.total += other.total
        self.caught += other.caught
        self.equivalent += other.equivalent
        self.survivors += other.survivors
        for k, v in other.by_operator.items():
            self.by_operator[k] = self.by_operator.get(k, 0) + v

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "caught": self.caught,
            "equivalent_skipped": self.equivalent,
            "by_operator": dict(sorted(self.by_operator.items())),
            "survivors": [m.to_json() for m in self.survivors],
        }


# ---------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------


def _flip_sign(e: Any) -> Iterator[Any]:
    yield -e
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Add):
            for t in node.args:
                yield e.xreplace({node: node - 2 * t})


def _drop_term(e: Any) -> Iterator[Any]:
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Add) and len(node.args) > 1:
            for t in node.args:
                yield e.xreplace({node: node - t})


def _exponent(e: Any) -> Iterator[Any]:
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Pow):
            yield e.xreplace({node: sp.Pow(node.base, node.exp + 1)})
        if isinstance(node, sp.exp):
            yield e.xreplace({node: sp.exp(2 * node.args[0])})


def _constant(e: Any) -> Iterator[Any]:
    protected = {b for s in e.atoms(sp.Sum) for lim in s.limits for b in lim[1:]}
    protected |= {i for ix in e.atoms(sp.Indexed) for i in ix.indices}
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Number) and node not in protected and node not in (-1, 0):
            yield e.xreplace({node: node + 1})
        if isinstance(node, sp.Mul):
            yield e.xreplace({node: 2 * node})


def _swap_args(e: Any) -> Iterator[Any]:
    for node in sp.preorder_traversal(e):
        if (
            isinstance(node, sp.Function)
            and len(node.args) >= 2
            and not isinstance(node, (sp.Max, sp.Min))
        ):
            args = list(node.args)
            args[0], args[1] = args[1], args[0]
            try:
                yield e.xreplace({node: node.func(*args)})
            except (TypeError, ValueError):
                continue


def _swap_index(e: Any) -> Iterator[Any]:
    indexed = sorted(e.atoms(sp.Indexed), key=str)
    symbols = sorted({i for ix in indexed for i in ix.indices if isinstance(i, sp.Symbol)}, key=str)
    for ix in indexed:
        for k, idx in enumerate(ix.indices):
            for other in [s for s in symbols if s != idx] + [idx + 1]:
                new = list(ix.indices)
                new[k] = other
                yield e.xreplace({ix: ix.base[tuple(new)]})


def _sum_bound(e: Any) -> Iterator[Any]:
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Sum):
            var, lo, hi = node.limits[0]
            rest = node.limits[1:]
            yield e.xreplace({node: sp.Sum(node.function, (var, lo + 1, hi), *rest)})
            yield e.xreplace({node: sp.Sum(node.function, (var, lo, hi + 1), *rest)})


def _max_min(e: Any) -> Iterator[Any]:
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Max):
            yield e.xreplace({node: sp.Min(*node.args)})
        elif isinstance(node, sp.Min):
            yield e.xreplace({node: sp.Max(*node.args)})


def _reverse_bounds(e: Any) -> Iterator[Any]:
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Sum) and len(node.limits) == 1:
            var, lo, hi = node.limits[0]
            yield e.xreplace({node: sp.Sum(node.function, (var, hi, lo))})


def _log_argument(e: Any) -> Iterator[Any]:
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.log):
            yield e.xreplace({node: sp.log(node.args[0] - 1000)})


def _kind(s: Any) -> tuple:
    return (type(s).__name__, s.is_integer, s.is_positive, s.is_real)


def _swap_symbols(e: Any) -> Iterator[Any]:
    atoms = sorted(e.free_symbols | {ix.base for ix in e.atoms(sp.Indexed)}, key=str)
    atoms = [a for a in atoms if not (isinstance(a, sp.Symbol) and a.is_integer)]
    for a_i, a in enumerate(atoms):
        for b in atoms[a_i + 1 :]:
            if _kind(a) == _kind(b):
                yield e.xreplace({a: b, b: a})


OPERATORS = {
    "flip_sign": _flip_sign,
    "drop_term": _drop_term,
    "exponent": _exponent,
    "constant": _constant,
    "swap_args": _swap_args,
    "swap_index": _swap_index,
    "sum_bound": _sum_bound,
    "max_min": _max_min,
    "swap_symbols": _swap_symbols,
    "reverse_bounds": _reverse_bounds,
    "log_argument": _log_argument,
}


def mutants_of(expr: Any, rng: random.Random, limit: int = MAX_PER_STEP) -> list[tuple[str, Any]]:
    """Distinct mutants of an expression (entry-wise for a matrix), at most ``limit``."""
    found: dict[str, tuple[str, Any]] = {}
    if isinstance(expr, sp.MatrixBase):
        for pos in range(min(len(expr), 4)):
            for op, m in mutants_of(expr[pos], rng, limit):
                mutated = sp.Matrix(expr)
                mutated[pos] = m
                found.setdefault(str(mutated), (op, sp.ImmutableMatrix(mutated)))
    else:
        expr = sp.sympify(expr)
        for name, op in OPERATORS.items():
            try:
                for m in op(expr):
                    if m != expr:
                        found.setdefault(str(m), (name, m))
            except (TypeError, ValueError, AttributeError, IndexError):
                continue
    picked = list(found.values())
    # Keep every operator represented before filling up with the rest.
    by_op: dict[str, list] = {}
    for op, m in picked:
        by_op.setdefault(op, []).append((op, m))
    ordered = []
    while any(by_op.values()) and len(ordered) < limit:
        for op in sorted(by_op):
            if by_op[op] and len(ordered) < limit:
                ordered.append(by_op[op].pop(rng.randrange(len(by_op[op]))))
    return ordered


# ---------------------------------------------------------------------------
# Running the checker on mutants
# ---------------------------------------------------------------------------


def _equivalent(a: Any, b: Any) -> bool:
    """Whether two expressions agree at random points (then: is it a proof too)."""
    from . import points

    rng = random.Random(1)
    try:
        values = list(points.paired_points(a, b, rng, 4))
    except Exception:  # a mutant SymPy cannot even evaluate is not equal to anything
        return False
    if not values:
        return False
    try:
        return all(points.close(va, vb, 1e-9)[0] for _, va, vb in values)
    except ValueError:  # different shapes: a matrix mutant of another size
        return False


def _weaker(original: Any, mutant: Any, rel: str) -> bool:
    """For an inequality line, whether the mutant is implied by the original (a looser bound).

    ``a >= b`` with ``b`` replaced by something no larger is still true; such a
    change is not an error for the checker to catch.
    """
    from . import points

    if rel == "=":
        return False
    try:
        values = list(points.paired_points(original, mutant, random.Random(2), 6))
    except Exception:  # not evaluable: certainly not shown to be a looser bound
        return False
    if not values:
        return False
    looser = (
        (lambda o, m: m.real <= o.real + 1e-12)
        if rel == ">="
        else (lambda o, m: m.real >= o.real - 1e-12)
    )
    return all(looser(o, m) for _, vo, vm in values for o, m in zip(vo, vm, strict=True))


def _accepted(link: Any, timeout: float) -> bool:
    from .chain import Refuted, check_link

    found = check_link(link, timeout)
    return not isinstance(found, (Refuted, str))


def _equal_under_premises(ln: Any, mutant: Any, timeout: float) -> bool:
    """Whether the checker proves the mutated line equal to the original one from the link's own
    premises: such a mutant is an equivalent line, not an error the checker missed."""
    original = ln.step.expr
    probe = replace(ln, prev=original, step=Step(mutant, "the same line", using=ln.step.using))
    try:
        return _accepted(probe, timeout)
    except Exception:  # a probe the checker cannot even set up proves nothing
        return False


def _untied(step: Step) -> Step:
    """The step with an instance whose two sides are doubled: no longer the chain's lines."""
    inner = step.instance

    def doubled(k):
        left, right = inner(k)
        return 2 * left, 2 * right

    return replace(step, instance=doubled)


def mutate_links(d: Derivation, seed: int, timeout: float, sample: float) -> MutationReport:
    """Every mutant of every checked link of a derivation (a ``sample`` fraction of them).

    A mutant of a step's line is caught when the checker refuses the link into it
    or the link out of it.
    """
    from .chain import links

    out = MutationReport()
    rng = random.Random(f"{seed}/{d.id}")
    all_links = [ln for ln in links(d, seed) if not ln.stated and ln.claim != "definitions"]
    following = {}
    for a, b in zip(all_links, all_links[1:], strict=False):
        if a.claim == b.claim and a.part.split(" ")[0] == b.part.split(" ")[0]:
            following[id(a)] = b
    for ln in all_links:
        step = ln.step
        candidates = list(mutants_of(step.expr, rng))
        if step.instance is not None:
            candidates.append(("untie_instance", None))
        for op, m in candidates:
            if sample < 1.0 and rng.random() > sample:
                continue
            if op == "untie_instance":
                mutated = replace(ln, step=_untied(step))
            else:
                original = (step.expr if isinstance(step.expr, sp.MatrixBase)
                            else sp.sympify(step.expr))
                last = id(ln) not in following
                if _equivalent(original, m) or (last and _weaker(original, m, step.rel)):
                    out.equivalent += 1
                    continue
                mutated = replace(ln, step=replace(step, expr=m))
            out.total += 1
            out.by_operator[op] = out.by_operator.get(op, 0) + 1
            caught = not _accepted(mutated, timeout)
            nxt = following.get(id(ln))
            if not caught and nxt is not None and op != "untie_instance":
                caught = not _accepted(replace(nxt, prev=m), timeout)
            if not caught and op != "untie_instance" and _equal_under_premises(ln, m, timeout):
                out.equivalent += 1  # e.g. a delta sum's bound moved past the one term it keeps
                out.total -= 1
                out.by_operator[op] -= 1
                continue
            if caught:
                out.caught += 1
            else:
                out.survivors.append(Mutant(d.id, ln.claim, ln.index, op, m if m is not None
                                            else "instance with both sides doubled"))
    return out
