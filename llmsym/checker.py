"""The checker: proves each step of a chain from the one before it.

For every step it

1. evaluates both sides at seeded random points that respect the symbols'
   assumptions, and rejects a false step at once, showing the point;
2. tries the step's own tactic, then the cheap ones (expand, cancel,
   Sum-aware rewrites, expand_log, powsimp, ...), ``simplify`` last, in a
   forked child that is killed at the time limit (reported ``timeout``);
3. evaluates again at fresh points after a symbolic success, a guard
   against a tactic bug.

A step with ``sizes`` is proved for each concrete size and labelled
``proved for n = lo..hi``; a stated step (definition, assumption) is
recorded as such and never counted as proved.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from . import sampling, tactics
from .forked import Outcome, run_forked
from .model import (
    ASSUMPTION,
    DEFINITION,
    FAILED,
    PROVED,
    PROVED_FOR,
    TIMEOUT,
    Claim,
    Derivation,
    Status,
    Step,
)
from .report import StepReport

DEFAULT_TIMEOUT = 10.0
POINTS_BEFORE = 4
POINTS_AFTER = 2
RESIDUAL_CHARS = 300


class StepFailure(Exception):
    """Raised inside the prover with what to report."""

    def __init__(self, message: str, residual: str = "", point: str = "") -> None:
        super().__init__(message)
        self.residual, self.point = residual, point


def seed_for(*parts: Any) -> int:
    """A stable seed from names (not Python's randomised ``hash``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _short(expr: Any) -> str:
    text = str(expr)
    return text if len(text) <= RESIDUAL_CHARS else text[: RESIDUAL_CHARS - 3] + "..."


def _residual(a: Any, b: Any) -> str:
    """The difference in its simplest cheap form, for a failure message."""
    d = tactics.difference(a, b)
    try:
        d = tactics.apply("sum" if d.has(sp.Sum) else "expand", d)
    except Exception:  # a residual is a courtesy; the raw difference will do
        pass
    return _short(d)


def _show_point(point: dict) -> str:
    def fmt(v):
        v = complex(v)
        return f"{v.real:.6g}" if v.imag == 0 else f"{v.real:.4g}{v.imag:+.4g}i"

    return ", ".join(f"{k} = {fmt(v)}" for k, v in sorted(point.items(), key=lambda kv: str(kv[0])))


# ---------------------------------------------------------------------------
# Numeric screening
# ---------------------------------------------------------------------------


def screen(a: Any, b: Any, rel: str, rng: random.Random, points: int,
           memo: dict | None = None) -> None:
    """Raise StepFailure if ``a rel b`` is false at one of ``points`` random points."""
    for point, va, vb in sampling.paired_points(a, b, rng, points, memo):
        if rel == "=":
            ok, err = sampling.close(va, vb)
            if not ok:
                raise StepFailure(
                    f"false at a random point: left = {_fmt(va)}, right = {_fmt(vb)}",
                    residual=_residual(a, b),
                    point=_show_point(point),
                )
        else:
            for x, y in zip(va, vb, strict=True):
                gap = (y - x).real if rel == "<=" else (x - y).real
                if abs(x.imag) > 1e-12 or abs(y.imag) > 1e-12 or gap < -1e-10 * max(1, abs(x)):
                    raise StepFailure(
                        f"'{rel}' false at a random point: left = {_fmt(va)}, right = {_fmt(vb)}",
                        residual=_residual(a, b),
                        point=_show_point(point),
                    )


def _fmt(values: list) -> str:
    shown = [f"{complex(v).real:.10g}" if complex(v).imag == 0 else str(complex(v)) for v in values]
    return shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"


# ---------------------------------------------------------------------------
# Symbolic proof of one link
# ---------------------------------------------------------------------------


def prove_equal(a: Any, b: Any, hint: str, note) -> str:
    """The first tactic that shows ``a = b``; StepFailure with the residual if none."""
    d = tactics.difference(a, b)
    for tactic in tactics.plan(hint, d):
        note(tactic)
        try:
            if tactics.is_zero(tactics.apply(tactic, d)):
                return tactic
        except (sp.PolynomialError, NotImplementedError, TypeError, ValueError, RecursionError):
            continue
    raise StepFailure("no tactic proved the step", residual=_residual(a, b))


def prove_inequality(a: Any, b: Any, step: Step, note) -> str:
    """Show ``a <= b`` (or ``>=``): by a certificate, monotonicity, or non-negativity."""
    gap = tactics.difference(b, a) if step.rel == "<=" else tactics.difference(a, b)
    if step.certificate is not None:
        note("certificate")
        used = prove_equal(gap, tactics.apply("unfold", step.certificate), "auto", note)
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
        for tactic in ("expand", "sum", "cancel"):
            if tactics.nonneg(tactics.apply(tactic, y - x)):
                return "monotone"
    for tactic in ("expand", "sum", "merge_sums", "cancel", "factor", "unfold+merge_sums"):
        note(f"nonneg:{tactic}")
        try:
            if tactics.nonneg(tactics.apply(tactic, gap)):
                return f"nonneg ({tactic})"
        except (sp.PolynomialError, NotImplementedError, TypeError, ValueError):
            continue
    raise StepFailure(
        "the difference is not shown to be non-negative",
        residual=_short(tactics.apply("expand", gap)),
    )


def _sym(expr: Any) -> Any:
    return expr if isinstance(expr, sp.MatrixBase) else sp.sympify(expr)


def _rewrite(expr: Any, using: tuple) -> Any:
    """Apply hypotheses as left-to-right rewrites: on the linearised expression, then
    again once notation is unfolded (a hypothesis may only match one of the two)."""
    if not using:
        return expr
    for prepare in (lambda e: e, lambda e: tactics.apply("unfold", e)):
        expr = tactics.sum_normal(prepare(expr))
        for hyp in using:
            expr = expr.subs(tactics.sum_normal(prepare(hyp.lhs)), hyp.rhs)
    return expr


def prove_link(prev: Any, step: Step, seed: int, note) -> dict:
    """Prove one link ``prev rel step.expr``; a dict for the report."""
    rng = random.Random(seed)
    prev = _sym(prev)
    if step.sizes is not None:
        return _prove_sizes(prev, step, rng, note)
    a, b = _rewrite(prev, step.using), _rewrite(_sym(step.expr), step.using)
    memo: dict = {}  # concrete forms per size, shared by both screenings
    screen(a, b, step.rel, rng, POINTS_BEFORE, memo)
    if step.rel == "=":
        tactic = prove_equal(a, b, step.tactic, note)
        screen(a, b, "=", random.Random(seed + 1), POINTS_AFTER, memo)
    else:
        tactic = prove_inequality(a, b, step, note)
    return {"kind": PROVED, "tactic": tactic}


def _opaque(expr: Any) -> bool:
    """Whether an expression holds notation with no definition (E[.], Var[.])."""
    from .notation import Expect

    return expr.has(Expect)


def _tie_instance(prev: Any, step: Step, k: int, a: Any, b: Any, note) -> None:
    """An instance must be about this step: its sides equal the chain's two lines at size k.

    The previous line is skipped only when it is an opaque quantity (E[.], Var[.])
    that the instance computes by other means.
    """
    sym = step.sizes.symbol
    new_k = sampling.concrete(_rewrite(_sym(step.expr), step.using), {sym: k})
    try:
        prove_equal(new_k, b, step.tactic, note)
    except StepFailure as exc:
        raise StepFailure(
            "the instance's right side is not this step's expression", exc.residual
        ) from None
    if not _opaque(prev):
        prev_k = sampling.concrete(_rewrite(prev, step.using), {sym: k})
        try:
            prove_equal(prev_k, a, step.tactic, note)
        except StepFailure as exc:
            raise StepFailure(
                "the instance's left side is not the previous line", exc.residual
            ) from None


def _prove_sizes(prev: Any, step: Step, rng: random.Random, note) -> dict:
    sizes = step.sizes
    used = set()
    for k in range(sizes.lo, sizes.hi + 1):
        note(f"{sizes.symbol} = {k}")
        if step.instance is not None:
            a, b = step.instance(k)
            _tie_instance(prev, step, k, a, b, note)
        else:
            a = sampling.concrete(_rewrite(prev, step.using), {sizes.symbol: k})
            b = sampling.concrete(_rewrite(_sym(step.expr), step.using), {sizes.symbol: k})
        try:
            screen(a, b, step.rel, rng, 3)
            if step.rel == "=":
                used.add(prove_equal(a, b, step.tactic, note))
            else:
                used.add(prove_inequality(a, b, step, note))
        except StepFailure as exc:
            raise StepFailure(f"at {sizes.symbol} = {k}: {exc}", exc.residual, exc.point) from None
    return {
        "kind": PROVED_FOR,
        "tactic": "+".join(sorted(used)) if len(used) > 1 else used.pop(),
        "var": str(sizes.symbol),
        "lo": sizes.lo,
        "hi": sizes.hi,
    }


# ---------------------------------------------------------------------------
# Steps, claims, derivations
# ---------------------------------------------------------------------------


def attempt(prev: Any, step: Step, seed: int) -> Callable[[Callable[[str], None]], dict]:
    """The work of checking one link, to run in a child process (see :mod:`llmsym.forked`)."""

    def work(note):
        try:
            return prove_link(prev, step, seed, note)
        except StepFailure as exc:
            return {"kind": FAILED, "message": str(exc), "residual": exc.residual,
                    "point": exc.point}

    return work


def stated_report(step: Step, index: int, claim: str) -> StepReport:
    kind = DEFINITION if step.tactic == DEFINITION else ASSUMPTION
    return StepReport(index, claim, Status(kind), tactic=kind)


def step_report(outcome: Outcome, *, index: int, claim: str, timeout: float) -> StepReport:
    """Turn how a child ended into the step's report."""
    tried, seconds = list(outcome.notes), outcome.seconds
    if outcome.kind == "timeout":
        last = tried[-1] if tried else "the first tactic"
        return StepReport(index, claim, Status(TIMEOUT), tactic=tried[-1] if tried else "",
                          seconds=seconds, tried=tried,
                          message=f"stopped after {timeout:g} s while trying {last}")
    if outcome.kind == "error":
        first = outcome.error.strip().splitlines()[0] if outcome.error else "error"
        return StepReport(index, claim, Status(FAILED), seconds=seconds, tried=tried, message=first)
    res = outcome.value
    if res["kind"] == FAILED:
        return StepReport(index, claim, Status(FAILED), seconds=seconds, residual=res["residual"],
                          point=res["point"], tried=tried, message=res["message"])
    status = Status(res["kind"], res.get("var"), res.get("lo"), res.get("hi"))
    return StepReport(index, claim, status, tactic=res["tactic"], seconds=seconds, tried=tried)


def check_step(
    prev: Any, step: Step, *, index: int, claim: str, seed: int, timeout: float = DEFAULT_TIMEOUT
) -> StepReport:
    """Check one link in a child process stopped after ``timeout`` seconds."""
    if step.stated:
        return stated_report(step, index, claim)
    outcome = run_forked(attempt(prev, step, seed), timeout=timeout)
    return step_report(outcome, index=index, claim=claim, timeout=timeout)


@dataclass(frozen=True)
class Link:
    """One link of a chain to check: ``prev rel step.expr``, numbered within its derivation."""

    index: int
    claim: str
    prev: Any
    step: Step
    seed: int


def links(derivation: Derivation, seed: int = 0) -> list[Link]:
    """Every link of every claim, numbered after the definitions."""
    out, index = [], len(derivation.definitions) + 1
    for claim in derivation.claims:
        prev = claim.start
        for offset, step in enumerate(claim.steps):
            out.append(Link(index, claim.name, prev, step,
                            seed_for(seed, derivation.id, claim.name, offset)))
            prev, index = step.expr, index + 1
    return out


def definition_reports(derivation: Derivation) -> list[StepReport]:
    return [StepReport(i + 1, "definitions", Status(DEFINITION), tactic=DEFINITION)
            for i, _ in enumerate(derivation.definitions)]


def check_claim(
    claim: Claim, *, derivation: str, first_index: int, seed: int, timeout: float = DEFAULT_TIMEOUT
) -> list[StepReport]:
    """Check every link of a claim's chain; indices continue from ``first_index``."""
    reports = []
    prev = claim.start
    for offset, step in enumerate(claim.steps):
        reports.append(check_step(prev, step, index=first_index + offset, claim=claim.name,
                                  seed=seed_for(seed, derivation, claim.name, offset),
                                  timeout=timeout))
        prev = step.expr
    return reports


def check_claims(
    derivation: Derivation, *, seed: int = 0, timeout: float = DEFAULT_TIMEOUT
) -> list[StepReport]:
    """Every definition (stated) and every link of a derivation, one after another."""
    return definition_reports(derivation) + [
        check_step(ln.prev, ln.step, index=ln.index, claim=ln.claim, seed=ln.seed, timeout=timeout)
        for ln in links(derivation, seed)
    ]


def failure_message(derivation: Derivation, report: StepReport) -> str:
    """One paragraph naming the derivation, the step, its reason, the tactics and the residual."""
    reason = ""
    if report.claim != "definitions":
        claim = derivation.claim(report.claim)
        offset = report.index - _first_index(derivation, report.claim)
        reason = claim.steps[offset].reason
    lines = [
        f"{derivation.id}: step {report.index} ({report.claim}: {reason}) {report.status.label}"
    ]
    if report.message:
        lines.append(f"  {report.message}")
    if report.tried:
        lines.append(f"  tactics tried: {', '.join(report.tried)}")
    if report.residual:
        lines.append(f"  residual: {report.residual}")
    if report.point:
        lines.append(f"  at: {report.point}")
    return "\n".join(lines)


def _first_index(derivation: Derivation, claim_name: str) -> int:
    index = len(derivation.definitions) + 1
    for claim in derivation.claims:
        if claim.name == claim_name:
            return index
        index += len(claim.steps)
    raise KeyError(claim_name)
