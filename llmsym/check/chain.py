"""The checker: proves each link of a chain from the line before it.

For every link it

1. prepares both lines: hypotheses the step uses are applied as rewrite rules
   (first as written, so that one about ``p_j`` meets the ``p_j`` inside a sum
   over ``j``, then on the normalised form), relations the claim is given
   (``n >= w``) are built in by substitution (``n = w + δ``, ``δ >= 0``), and, for
   a link whose tactic is ``definition``, the derivation's declared definitions
   are unfolded;
2. evaluates both lines at seeded random points that respect the symbols'
   assumptions (and the sign of any symbol a hypothesis rewrote away), and
   rejects a false link at once, showing the point;
3. tries the step's own tactic, then the cheap ones (expand, cancel, Sum-aware
   rewrites, expand_log, powsimp, ...), ``simplify`` last;
4. evaluates again at fresh points after a symbolic success, a guard against a
   tactic bug.

A step with ``sizes`` is proved for each concrete size (``proved for n = a..b``);
one with an ``instance`` must agree with both lines of the chain at each size.
An induction is checked as its base chain and its inductive chain. A stated
step (``tactic="assumption"``) is not checked: it is a premise of its claim.
Each link runs in a forked worker that is killed at the time limit (the
pipeline's job); this module only says what to run and what came of it.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from ..derivation import Claim, Derivation, Kind, Premise, Status, Step
from ..notation import Notation, deterministic
from . import points, tactics

DEFAULT_TIMEOUT = 10.0  # seconds per link; the CLI and the pipeline use this one constant
POINTS_BEFORE = 2  # random points before a proof is attempted
POINTS_AFTER = 1  # and after one of llmsym's own transforms succeeded: a guard against its bug
# SymPy's algebra is trusted without a second look; llmsym's sum and probability rewrites are not
_TRUSTED = {"expand", "cancel", "together", "factor", "expand_log", "powsimp", "powdenest",
            "trig", "complex", "doit", "unfold", "simplify", "rewrite_exp", "definition"}
RESIDUAL_CHARS = 300


def seed_for(*parts: Any) -> int:
    """A stable seed from names (not Python's randomised ``hash``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


# ---------------------------------------------------------------------------
# What a check found
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Proved:
    """The link holds for all values; ``tactic`` is what showed it."""

    tactic: str

    @property
    def status(self) -> Status:
        return Status(Kind.PROVED)


@dataclass(frozen=True)
class ProvedFor:
    """The link holds for each size ``var = lo..hi``."""

    tactic: str
    var: str
    lo: int
    hi: int

    @property
    def status(self) -> Status:
        return Status(Kind.PROVED_FOR, self.var, self.lo, self.hi)


@dataclass(frozen=True)
class Refuted:
    """The link is false at ``point``, or no tactic could show it (``residual``)."""

    message: str
    residual: str = ""
    point: str = ""

    @property
    def status(self) -> Status:
        return Status(Kind.FAILED)


Outcome = Proved | ProvedFor | Refuted


class StepFailure(Exception):
    """Raised inside the prover with what to report."""

    def __init__(self, message: str, residual: str = "", point: str = "") -> None:
        super().__init__(message)
        self.residual, self.point = residual, point


# ---------------------------------------------------------------------------
# Links: the one place that numbers steps
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One link to check: ``prev rel step.expr``.

    ``index`` is the step's number in its derivation (definitions first, then the
    steps of each claim in order); ``part`` tells the links of an induction
    apart (``base 1``, ``base end``, ``step 2``, ...).
    """

    derivation: str
    claim: str
    index: int
    offset: int
    prev: Any
    step: Step
    seed: int
    given: tuple[Premise, ...] = ()
    definitions: tuple[tuple[Any, Any], ...] = ()
    part: str = ""

    @property
    def stated(self) -> bool:
        return self.step.stated


def step_numbers(derivation: Derivation) -> dict[tuple[str, int], int]:
    """``(claim, offset) -> index``: each step's number (definitions are numbered first)."""
    numbers, index = {}, len(derivation.definitions) + 1
    for claim in derivation.claims:
        for offset, _ in enumerate(claim.steps):
            numbers[(claim.name, offset)] = index
            index += 1
    return numbers


def definition_links(derivation: Derivation, seed: int = 0) -> list[Link]:
    """A definition of a notation must agree with the rule the checker unfolds it by."""
    out = []
    for k, d in enumerate(derivation.definitions, start=1):
        if sp.sympify(d.lhs).has(Notation) if not isinstance(d.lhs, sp.MatrixBase) else False:
            out.append(Link(derivation.id, "definitions", k, k - 1, d.lhs,
                            Step(d.rhs, f"definition of {d.name}", "unfold"),
                            seed_for(seed, derivation.id, "definitions", k)))
    return out


def links(derivation: Derivation, seed: int = 0) -> list[Link]:
    """Every link of every claim (an induction gives several), numbered by :func:`step_numbers`."""
    numbers = step_numbers(derivation)
    defs = tuple((d.lhs, d.rhs) for d in derivation.definitions
                 if not (not isinstance(d.lhs, sp.MatrixBase) and sp.sympify(d.lhs).has(Notation)))
    out = definition_links(derivation, seed)
    for claim in derivation.claims:
        prev = claim.start
        for offset, step in enumerate(claim.steps):
            index = numbers[(claim.name, offset)]
            base = Link(derivation.id, claim.name, index, offset, prev, step,
                        seed_for(seed, derivation.id, claim.name, offset), claim.given, defs)
            out += _induction_links(base) if step.induction is not None else [base]
            prev = step.expr
    return out


def _induction_links(link: Link) -> list[Link]:
    """The base chain and the inductive chain of an induction, each closed by a link to the
    statement at ``var = base`` and at ``var + 1``."""
    ind = link.step.induction
    var, out = ind.var, []
    for name, at, steps in (("base", sp.Integer(ind.base), ind.base_steps),
                            ("step", var + 1, ind.step_steps)):
        prev = sp.sympify(link.prev).xreplace({var: at})
        for k, step in enumerate(steps, start=1):
            out.append(replace(link, prev=prev, step=step, part=f"{name} {k}",
                               seed=seed_for(link.seed, name, k)))
            prev = step.expr
        target = sp.sympify(link.step.expr).xreplace({var: at})
        closing = Step(target, f"the statement at {var} = {sp.sstr(at)}", "auto", link.step.rel
                       if steps[-1].rel == "=" else "=")
        out.append(replace(link, prev=prev, step=closing, part=f"{name} end",
                           seed=seed_for(link.seed, name, "end")))
    # the statement itself, screened at random points, and its hypothesis checked against it
    out.append(replace(link, part="statement", seed=seed_for(link.seed, "statement")))
    return out


def _check_induction(link: Link) -> None:
    """The hypothesis must be the statement at ``var``; the statement must survive random
    points (an inductive chain that proves a false statement has a wrong hypothesis)."""
    ind = link.step.induction
    stated = ind.hypothesis.statement
    if not (ind.hypothesis.is_rewrite and _same(stated.lhs, link.prev)
            and _same(stated.rhs, link.step.expr)):
        raise StepFailure("the induction hypothesis is not the statement at "
                          f"{ind.var}: it must be {sp.sstr(link.prev)} = {sp.sstr(link.step.expr)}")
    if not ind.var.is_integer:
        raise StepFailure(f"an induction needs an integer variable, not {ind.var}")
    given_rules = tuple(p for p in link.given if p.is_rewrite)
    statement = replace(link.step, induction=None, using=given_rules, tactic="auto")
    prepared = prepare(link.prev, statement, link.given, link.definitions)
    screen(prepared, link.step.rel, random.Random(link.seed), POINTS_BEFORE + 2)


def _same(a: Any, b: Any) -> bool:
    return sp.srepr(sp.sympify(a)) == sp.srepr(sp.sympify(b))


# ---------------------------------------------------------------------------
# Preparing a link: hypotheses, relations, definitions
# ---------------------------------------------------------------------------


def _sym(expr: Any) -> Any:
    return sp.ImmutableMatrix(expr) if isinstance(expr, sp.MatrixBase) else sp.sympify(expr)


def rewrite_rules(step: Step) -> list[tuple[Any, Any]]:
    """The equations a step uses, as ``(lhs, rhs)`` rewrite rules."""
    rules = []
    for item in step.using:
        if isinstance(item, Claim):
            if item.relation == "=":
                rules.append((item.start, item.end))
        elif isinstance(item, Premise) and item.is_rewrite:
            rules.append(tuple(item.statement.args))
    return rules


def _apply(expr: Any, rules: list) -> Any:
    """Hypotheses as left-to-right rewrites: as written (bound indices keep their names, so
    a rule about ``p_j`` reaches the ``p_j`` in a sum over ``j``), then on the linearised
    expression, then once notation is unfolded."""
    if not rules:
        return expr
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: _apply(e, rules))
    def literal(e):
        for lhs, rhs in rules:
            e = e.xreplace({lhs: rhs}) if not isinstance(lhs, sp.Add) else e.subs(lhs, rhs)
        return e

    expr = literal(expr)
    if expr.has(Notation):  # once more with notation unfolded, indices still as written
        expr = literal(tactics.unfold(expr))
    if not expr.has(sp.Sum, Notation) and not any(
            sp.sympify(lhs).has(sp.Sum, Notation) for lhs, _ in rules):
        return expr.subs(rules)  # no sums to line up: done
    for prepare in (lambda e: e, tactics.unfold):
        expr = tactics.sum_normal(prepare(expr))
        for lhs, rhs in rules:
            expr = expr.subs(tactics.sum_normal(prepare(lhs)), rhs)
    return expr


def _eliminated(rules: list, before: list, after: list) -> tuple[tuple[Any, bool], ...]:
    """Signs a point must respect for a symbol a hypothesis rewrote away: ``(expr, strict)``."""
    if not any(isinstance(lhs, sp.Symbol) and (lhs.is_positive or lhs.is_nonnegative)
               for lhs, _ in rules):
        return ()
    gone = set().union(*(points.atoms(e) for e in before)) - set().union(
        *(points.atoms(e) for e in after))
    out = []
    for lhs, rhs in rules:
        if lhs in gone and isinstance(lhs, sp.Symbol):
            if lhs.is_positive:
                out.append((rhs, True))
            elif lhs.is_nonnegative:
                out.append((rhs, False))
    return tuple(out)


def _bound_indices(exprs: list) -> set:
    """The summation indices of some expressions (with notation unfolded)."""
    out: set = set()
    for e in exprs:
        for item in (list(e) if isinstance(e, sp.MatrixBase) else [e]):
            for s in tactics.unfold(item).atoms(sp.Sum, sp.Product):
                out |= {lim[0] for lim in s.limits}
    return out


def _differentiated(e: Any) -> Any:
    """Derivatives taken, where SymPy can."""
    if not e.has(sp.Derivative, sp.Subs):
        return e
    try:
        return e.replace(lambda x: isinstance(x, (sp.Derivative, sp.Subs)), lambda x: x.doit())
    except (ValueError, TypeError, NotImplementedError):
        return e


def _atom(e: Any) -> bool:
    """A symbol or a vector entry at fixed integer indices: what a point can be made to obey."""
    if isinstance(e, sp.Symbol):
        return True
    return isinstance(e, sp.Indexed) and all(i.is_Integer for i in e.indices)


def relation_substitution(given: tuple[Premise, ...], bound: set = frozenset()) -> dict:
    """Relations between symbols as substitutions that build them in.

    ``a >= b`` (``a`` a symbol) becomes ``a = b + δ`` with ``δ >= 0`` (``> 0`` when
    strict; an integer when both sides are), so a proof for every ``δ`` is a proof
    for every ``a >= b``, and random points respect the relation. A positive ``x``
    below a positive constant ``c`` becomes ``x = c/(1 + δ)``, ``δ > 0``, which keeps
    both facts.
    """
    subs: dict = {}
    for p in given:
        if not p.is_formula or p.is_rewrite:
            continue
        rel = p.statement
        if not isinstance(rel, (sp.GreaterThan, sp.StrictGreaterThan, sp.LessThan,
                                sp.StrictLessThan)):
            continue  # True, Ne, ...: a premise the checker does not build in
        if bound & {i for side in rel.args for ix in side.atoms(sp.Indexed)
                    for i in ix.free_symbols - {ix.base.label}}:
            continue  # m >= z_j for each j: j is a sum's index here, not one entry
        big, small = _ordered(rel)
        strict = isinstance(rel, (sp.StrictGreaterThan, sp.StrictLessThan))
        integer = bool(big.is_integer and small.is_integer)
        if isinstance(big, sp.Symbol) and big not in subs:
            delta = deterministic(sp.Symbol(f"δ_{big}", integer=integer or None,
                                            positive=strict or None, nonnegative=True))
            subs[big] = small + delta
        elif isinstance(small, sp.Symbol) and small not in subs:
            delta = deterministic(sp.Symbol(f"δ_{small}", integer=integer or None,
                                            positive=True))
            if small.is_positive and big.is_number and big.is_positive and strict:
                subs[small] = big / (1 + delta)
            else:
                delta = deterministic(sp.Symbol(f"δ_{small}", integer=integer or None,
                                                positive=strict or None, nonnegative=True))
                subs[small] = big - delta
    for _ in range(len(subs)):  # chained relations (i >= r + 1, n >= i): compose them
        subs = {k: sp.sympify(v).xreplace(subs) for k, v in subs.items()}
    return subs


def _ordered(rel: Any) -> tuple[Any, Any]:
    """``(larger, smaller)`` of an inequality."""
    if isinstance(rel, (sp.GreaterThan, sp.StrictGreaterThan)):
        return rel.lhs, rel.rhs
    if isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
        return rel.rhs, rel.lhs
    raise ValueError(f"not an inequality between symbols: {rel}")


@dataclass
class Prepared:
    """Both lines of a link, ready to screen and prove."""

    a: Any
    b: Any
    constraints: tuple[tuple[Any, bool], ...] = ()
    relations: dict = field(default_factory=dict)
    pins: tuple[tuple[Any, Any], ...] = ()  # hypotheses a random point must satisfy
    evaluable: tuple | None = None  # both lines ready to evaluate (filled by the first screen)


def prepare(prev: Any, step: Step, given: tuple[Premise, ...] = (),
            definitions: tuple = ()) -> Prepared:
    """Apply a link's hypotheses, relations and definitions to its two lines."""
    token = tactics.DEFINITIONS.set(definitions)
    try:
        before = [_sym(prev), _sym(step.expr)]
        premises = given + tuple(u for u in step.using if isinstance(u, Premise))
        relations = relation_substitution(premises, _bound_indices(before)) if any(
            p.is_formula and not p.is_rewrite for p in premises) else {}
        rules = rewrite_rules(step)
        a, b = (_apply(e, rules) for e in before)
        if relations:  # built into notation too: unfold it, and apply the hypotheses again
            a, b = (_apply(tactics.unfold(e), rules) for e in (a, b))
        constraints = _eliminated(rules, before, [a, b])
        if definitions and "definition" in step.tactic.split("+"):
            # only a link that says it unfolds definitions sees them unfolded: a definition
            # may also fix a default (theta_j = 10000^...) that other links keep general;
            # the hypotheses apply again to what the definitions bring in
            a, b = (_apply(tactics.apply("definition", e), rules) for e in (a, b))
        if relations:
            # derivatives first: a relation n = w + δ must not move the variable of d/dw
            a, b = (_differentiated(e).xreplace(relations) if not isinstance(e, sp.MatrixBase)
                    else e.subs(relations) for e in (a, b))
            constraints = tuple((sp.sympify(c).xreplace(relations), s) for c, s in constraints)
        pins = tuple((lhs, rhs) for lhs, rhs in rules if _atom(lhs))
        if relations:
            pins = tuple((lhs.xreplace(relations), sp.sympify(rhs).xreplace(relations))
                         for lhs, rhs in pins)
        return Prepared(a, b, constraints, relations, pins)
    finally:
        tactics.DEFINITIONS.reset(token)


# ---------------------------------------------------------------------------
# Screening at random points
# ---------------------------------------------------------------------------


def _short(expr: Any) -> str:
    text = str(expr)
    return text if len(text) <= RESIDUAL_CHARS else text[: RESIDUAL_CHARS - 3] + "..."


def _residual(a: Any, b: Any) -> str:
    """The difference in its simplest cheap form, for a failure message."""
    d = tactics.difference(a, b)
    try:
        d = tactics.apply("sum" if tactics._has(d, sp.Sum) else "expand", d)
    except Exception:  # a residual is a courtesy; the raw difference will do
        pass
    return _short(d)


def _show_point(point: dict, relations: dict) -> str:
    def fmt(v):
        v = complex(v)
        return f"{v.real:.6g}" if v.imag == 0 else f"{v.real:.4g}{v.imag:+.4g}i"

    shown = dict(point)
    for sym, expr in relations.items():  # the related symbol's own value, not just δ
        try:
            shown[str(sym)] = complex(expr.xreplace(
                {s: points._number(point[str(s)]) for s in expr.free_symbols
                 if str(s) in point}).evalf())
        except (TypeError, KeyError, ValueError):
            continue
    return ", ".join(f"{k} = {fmt(v)}" for k, v in sorted(shown.items()))


def _fmt(values: list) -> str:
    shown = [f"{complex(v).real:.10g}" if complex(v).imag == 0 else str(complex(v)) for v in values]
    return shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"


def screen(link: Prepared, rel: str, rng: random.Random, count: int) -> None:
    """Raise StepFailure if ``a rel b`` is false at one of ``count`` random points."""
    a, b = link.a, link.b
    if link.evaluable is None:  # notation unfolded and derivatives taken once per link
        link.evaluable = points.evaluable(a), points.evaluable(b)
    ea, eb = link.evaluable
    for point, va, vb in points.paired_points(ea, eb, rng, count, link.constraints, link.pins,
                                              ready=True):
        if rel == "=":
            ok, _ = points.close(va, vb)
            if not ok:
                raise StepFailure(
                    f"false at a random point: left = {_fmt(va)}, right = {_fmt(vb)}",
                    residual=_residual(a, b), point=_show_point(point, link.relations))
            continue
        for x, y in zip(va, vb, strict=True):
            gap = (y - x).real if rel == "<=" else (x - y).real
            if abs(x.imag) > 1e-12 or abs(y.imag) > 1e-12 or gap < -1e-10 * max(1, abs(x)):
                raise StepFailure(
                    f"'{rel}' false at a random point: left = {_fmt(va)}, right = {_fmt(vb)}",
                    residual=_residual(a, b), point=_show_point(point, link.relations))


# ---------------------------------------------------------------------------
# Symbolic proof of one link
# ---------------------------------------------------------------------------

_EXPECTED = (sp.PolynomialError, NotImplementedError, TypeError, ValueError, RecursionError,
             AttributeError, IndexError)


def prove_equal(a: Any, b: Any, hint: str, note) -> str:
    """The first tactic that shows ``a = b``; StepFailure with the residual if none."""
    d = tactics.difference(a, b)
    for tactic in tactics.plan(hint, d):
        note(tactic)
        try:
            if tactics.is_zero(tactics.apply(tactic, d)):
                return tactic
        except _EXPECTED:
            continue
    raise StepFailure("no tactic proved the step", residual=_residual(a, b))


def prove_inequality(a: Any, b: Any, step: Step, note) -> str:
    """Show ``a <= b`` (or ``>=``): by a certificate, monotonicity, or non-negativity."""
    gap = tactics.difference(b, a) if step.rel == "<=" else tactics.difference(a, b)
    if step.certificate is not None:
        note("certificate")
        hint = step.tactic if step.tactic not in ("monotone", "nonneg", "certificate") else "auto"
        used = prove_equal(gap, tactics.apply("unfold", step.certificate), hint, note)
        if not tactics.nonneg(step.certificate):
            raise StepFailure(
                "the certificate is not shown to be non-negative", residual=_short(step.certificate)
            )
        return f"certificate ({used})"
    lower, upper = (a, b) if step.rel == "<=" else (b, a)
    args = tactics.monotone_args(lower, upper)
    if args is not None:
        note("monotone")
        x, y = args
        for tactic in ("expand", "sum", "peel", "cancel"):
            if tactics.nonneg(tactics.apply(tactic, y - x)):
                return "monotone"
    for tactic in ("expand", "sum", "merge_sums", "peel", "cancel", "factor", "unfold+merge_sums",
                   "unfold+peel"):
        note(f"nonneg:{tactic}")
        try:
            if tactics.nonneg(tactics.apply(tactic, gap)):
                return f"nonneg ({tactic})"
        except _EXPECTED:
            continue
    raise StepFailure(
        "the difference is not shown to be non-negative",
        residual=_short(tactics.apply("expand", gap)),
    )


def _prove(prepared: Prepared, step: Step, seed: int, note) -> str:
    rng = random.Random(seed)
    screen(prepared, step.rel, rng, POINTS_BEFORE)
    if step.rel == "=":
        try:
            tactic = prove_equal(prepared.a, prepared.b, step.tactic, note)
        except StepFailure:
            restored = _restore_signs(prepared, step)
            if restored is None:
                raise
            tactic = prove_equal(*restored, step.tactic, note) + " (sign kept)"
    else:
        tactic = prove_inequality(prepared.a, prepared.b, step, note)
    if not set(tactic.split(" ")[0].split("+")) <= _TRUSTED:
        screen(prepared, step.rel, random.Random(seed + 1), POINTS_AFTER)
    return tactic


def _restore_signs(prepared: Prepared, step: Step) -> tuple[Any, Any] | None:
    """Both lines with each expression a hypothesis put in place of a signed symbol replaced
    by a fresh symbol of that sign (``a = xy``, ``a > 0``: prove with ``xy`` as a positive
    number), so that tactics needing the sign can use it."""
    if not prepared.constraints:
        return None
    back = {}
    for lhs, rhs in rewrite_rules(step):
        if isinstance(lhs, sp.Symbol) and (lhs.is_positive or lhs.is_nonnegative):
            back[sp.sympify(rhs)] = sp.Dummy(str(lhs), positive=lhs.is_positive or None,
                                             nonnegative=True)
    if not back:
        return None
    return tuple(e.subs(back) if not isinstance(e, sp.MatrixBase) else e
                 for e in (prepared.a, prepared.b))


def _prove_sizes(link: Link, note) -> ProvedFor:
    step, sizes = link.step, link.step.sizes
    rng = random.Random(link.seed)
    used = set()
    for k in range(sizes.lo, sizes.hi + 1):
        note(f"{sizes.symbol} = {k}")
        at = {sizes.symbol: k}
        prepared = prepare(link.prev, step, link.given, link.definitions)
        a, b = (points.concrete(e, at) for e in (prepared.a, prepared.b))
        try:
            if step.instance is not None:
                a, b = _tied_instance(step, k, a, b, note)
            case = Prepared(a, b, prepared.constraints, prepared.relations, prepared.pins)
            screen(case, step.rel, rng, 3)
            if step.rel == "=":
                used.add(prove_equal(a, b, step.tactic, note))
            else:
                used.add(prove_inequality(a, b, step, note))
        except StepFailure as exc:
            raise StepFailure(f"at {sizes.symbol} = {k}: {exc}", exc.residual, exc.point) from None
    tactic = "+".join(sorted(used)) if len(used) > 1 else used.pop()
    return ProvedFor(tactic, str(sizes.symbol), sizes.lo, sizes.hi)


def _tied_instance(step: Step, k: int, prev_k: Any, new_k: Any, note) -> tuple[Any, Any]:
    """An instance must be about this link: its two sides equal the chain's two lines at size k.

    Both sides are compared, always: an instance whose left side is an opaque
    quantity (E[.]) that the chain never ties to anything proves nothing here.
    """
    left, right = step.instance(k)
    for mine, chain_line, which in ((right, new_k, "right side is not this step's line"),
                                    (left, prev_k, "left side is not the previous line")):
        try:
            prove_equal(_sym(mine), chain_line, step.tactic, note)
        except StepFailure as exc:
            raise StepFailure(f"the instance's {which} at size {k}", exc.residual) from None
    return _sym(left), _sym(right)


def prove_link(link: Link, note) -> Outcome:
    """Prove one link; a :class:`Proved`, :class:`ProvedFor` or :class:`Refuted`."""
    token = tactics.DEFINITIONS.set(link.definitions)
    try:
        if link.part == "statement":
            note("induction: hypothesis and statement")
            _check_induction(link)
            return Proved("induction")
        if link.step.sizes is not None:
            return _prove_sizes(link, note)
        prepared = prepare(link.prev, link.step, link.given, link.definitions)
        return Proved(_prove(prepared, link.step, link.seed, note))
    except StepFailure as exc:
        return Refuted(str(exc), exc.residual, exc.point)
    finally:
        tactics.DEFINITIONS.reset(token)


def attempt(link: Link):
    """The work of checking one link, to run in a forked worker (see :mod:`.forked`)."""
    return lambda note: prove_link(link, note)


def check_link(link: Link, timeout: float = DEFAULT_TIMEOUT) -> Outcome | str:
    """Check one link in a forked child (tests and single files); ``"timeout"`` if stopped."""
    from .forked import run_forked

    ran = run_forked(attempt(link), timeout=timeout)
    if ran.kind == "ok":
        return ran.value
    if ran.kind == "timeout":
        return "timeout"
    return Refuted(ran.error.strip().splitlines()[0] if ran.error else "error")


def check_claim(claim: Claim, *, derivation: str = "test", seed: int = 0,
                timeout: float = DEFAULT_TIMEOUT, definitions: tuple = ()) -> list[Outcome | str]:
    """Every link of one claim, checked in turn (stated links are skipped)."""
    d = Derivation(derivation, "t", "t", "", (claim,))
    found = []
    for ln in links(d, seed):
        if not ln.stated:
            found.append(check_link(replace(ln, definitions=definitions), timeout))
    return found
