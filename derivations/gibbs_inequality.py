"""Gibbs' inequality: log x <= x - 1, hence KL(p || q) >= 0, with equality only at q = p.

Main results
    gap_above_one    g(e^k) >= k^2/2 for k >= 0, where g(x) = x - 1 - log x
    gap_below_one    g(e^-k) >= e^-k k^2/2 for k >= 0
    gibbs            sum p = sum q = 1  ⊢  KL(p || q) >= 0
    kl_as_gaps       sum p = sum q = 1  ⊢  KL(p || q) = sum_i p_i g(q_i/p_i)
    self_divergence  KL(p || p) = 0

The lemma is proved without appeal to convexity. Every x > 0 is e^k or e^{-k}
with k >= 0, and in both cases g is an exponential series whose terms are
all non-negative: g(e^k) - k^2/2 = sum_{m>=3} k^m/m! and
g(e^{-k}) - e^{-k} k^2/2 = e^{-k} sum_{m>=1} k^{m+2}/((m+2) m!). So g(x) > 0
unless x = 1, and by kl_as_gaps KL(p || q) = 0 exactly when q_i = p_i for every i.

Run on its own: ``python derivations/gibbs_inequality.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, IndexedBase, Sum, Symbol, exp, factorial, oo

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import KL, Notation, factors, gibbs_gap

# --- Notation ----------------------------------------------------------------------


class series(Notation):  # noqa: N801 - reads as the maths
    """``series(body, m, lo)``: the convergent series sum_{m=lo}^oo body, non-negative when its
    terms are.

    A certificate: the checker proves it equal to the gap (SymPy sums it in closed
    form), and its non-negativity is read off its terms, as for a finite sum.
    """

    nargs = 3
    bound = (1,)

    @classmethod
    def definition(cls, body, m, lo):
        return Sum(body, (m, lo, oo))

    def _eval_is_nonnegative(self):
        body, m, lo = self.args
        term = body.xreplace({m: sp.Dummy("m", integer=True, positive=True) + lo - 1})
        return True if term.is_nonnegative else None

    def _latex(self, printer):
        body, m, lo = self.args
        return r"\sum_{%s=%s}^{\infty} %s" % (printer._print(m), printer._print(lo),
                                             printer._print(body))


# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of outcomes
i = Symbol("i", integer=True, positive=True)  # outcome index
m = Symbol("m", integer=True, positive=True)  # series index
p = IndexedBase("p", positive=True)  # the target distribution
q = IndexedBase("q", positive=True)  # the model distribution
x = Symbol("x", positive=True)
kappa = Symbol("kappa", nonnegative=True)  # |log x|: x = e^kappa >= 1 or x = e^-kappa <= 1

# --- Premises ------------------------------------------------------------------------
p_sums_to_one = Hypothesis(Eq(Sum(p[i], (i, 1, n)), 1), "$p$ is a distribution")
q_sums_to_one = Hypothesis(Eq(Sum(q[i], (i, 1, n)), 1), "$q$ is a distribution")
NORMALISED = (p_sums_to_one, q_sums_to_one)

# --- The lemma: g(x) = x - 1 - log x >= min(1, x) (log x)^2 / 2 ----------------------
gap_above_one = Claim(
    "gap_above_one",
    "$\\log x \\le x - 1$ for $x = e^{\\kappa} \\ge 1$, with room $\\kappa^2/2$",
    start=gibbs_gap(exp(kappa)),
    steps=(
        Step(exp(kappa) - 1 - kappa, "definition of $g$; $\\log e^{\\kappa} = \\kappa$", "unfold"),
        Step(kappa**2 / 2 + series(kappa**m / factorial(m), m, 3),
             "the exponential series $e^{\\kappa} = \\sum_{m \\ge 0} \\kappa^m/m!$",
             "unfold+doit"),
        Step(kappa**2 / 2, "a series of non-negative terms", "nonneg", rel=">="),
    ),
    on_sheet=False,
    note="Positive for $\\kappa > 0$: $g(x) > 0$ for $x > 1$.",
)

gap_below_one = Claim(
    "gap_below_one",
    "$\\log x \\le x - 1$ for $x = e^{-\\kappa} \\le 1$, with room $e^{-\\kappa}\\kappa^2/2$",
    start=gibbs_gap(exp(-kappa)),
    steps=(
        Step(exp(-kappa) - 1 + kappa, "definition of $g$; $\\log e^{-\\kappa} = -\\kappa$",
             "unfold"),
        Step(exp(-kappa) * (kappa**2 / 2
                            + series(kappa ** (m + 2) / ((m + 2) * factorial(m)), m, 1)),
             "$1 + (\\kappa - 1)e^{\\kappa} = \\sum_{m \\ge 0} \\kappa^{m+2} / ((m + 2)\\, m!)$"
             " from the exponential series", "unfold+doit"),
        Step(exp(-kappa) * kappa**2 / 2, "$e^{-\\kappa}$ times a series of non-negative terms",
             "nonneg", rel=">="),
    ),
    on_sheet=False,
    note="Every $x > 0$ is $e^{\\kappa}$ or $e^{-\\kappa}$ with $\\kappa \\ge 0$: so"
         " $g(x) \\ge \\min(1, x)(\\log x)^2/2 \\ge 0$, and $g(x) = 0$ only at $x = 1$.",
)

# --- KL divergence --------------------------------------------------------------------
gibbs = Claim(
    "gibbs",
    "Gibbs' inequality",
    given=NORMALISED,
    start=KL(p[i], q[i], i, n),
    steps=(
        Step(Sum(p[i] - q[i], (i, 1, n)),
             "$\\log x \\le x - 1$ at $x = q_i/p_i$, times $p_i > 0$: the difference is"
             " $\\sum_i p_i\\, g(q_i/p_i) \\ge 0$", rel=">=",
             certificate=Sum(p[i] * gibbs_gap(q[i] / p[i]), (i, 1, n))),
        Step(0, "both distributions sum to one", "sum", using=NORMALISED),
    ),
    note="Equality only at $q = p$ (next entry). Without $\\sum_i q_i = 1$ it can fail:"
         " $p = (1)$, $q = (2)$ gives $-\\log 2$.",
)

kl_as_gaps = Claim(
    "kl_as_gaps",
    "KL divergence is a sum of Gibbs gaps: zero only at $q = p$",
    given=NORMALISED,
    start=KL(p[i], q[i], i, n),
    steps=(
        Step(Sum(p[i] * gibbs_gap(q[i] / p[i]), (i, 1, n)) + Sum(p[i] - q[i], (i, 1, n)),
             "$p_i\\, g(q_i/p_i) = q_i - p_i + p_i \\log(p_i/q_i)$", "unfold+sum+expand_log"),
        Step(Sum(factors(p[i], gibbs_gap(q[i] / p[i])), (i, 1, n)),
             "both distributions sum to one", "unfold+sum", using=NORMALISED),
    ),
    note="Each $p_i\\, g(q_i/p_i) \\ge 0$, and $g(x) > 0$ for $x \\ne 1$ (the room"
         " $\\kappa^2/2$, $e^{-\\kappa}\\kappa^2/2$ above): $\\operatorname{KL}(p \\| q) = 0"
         " \\iff q = p$.", on_sheet=False,
)

self_divergence = Claim(
    "self_divergence",
    "A distribution has zero divergence from itself",
    start=KL(p[i], p[i], i, n),
    steps=(Step(0, "$\\log(p_i/p_i) = \\log 1 = 0$", "unfold"),),
    on_sheet=False,
)

# --- Numeric checks ---------------------------------------------------------------------


def _mp_gap(value) -> float:
    """g(x) = x - 1 - log x in 50-digit arithmetic, for an mpmath number x."""
    import mpmath

    return value - 1 - mpmath.log(value)


def _room_check(sign: int):
    """g(e^{sign t}) (mpmath) is at least the claimed room, and the room is tight as t -> 0."""

    def check(rng: np.random.Generator, formula) -> Measurement:
        import mpmath

        ts = np.concatenate([10.0 ** rng.uniform(-4, 1.5, 40), [1e-6, 1e-3]])
        worst = 0.0
        with mpmath.workdps(50):
            for t in ts:
                gap = _mp_gap(mpmath.exp(sign * mpmath.mpf(float(t))))
                room = float(formula(kappa=float(t)))
                worst = max(worst, float((room - gap) / gap))  # the bound must hold
                if t < 1e-2:
                    worst = max(worst, float(abs(gap - room) / gap) - 2 * float(t))  # tight
        return Measurement(max(worst, 0.0), len(ts), 1e-12,
                           "how far the room exceeds g (50-digit mpmath), relative; and for"
                           " t < 0.01, |g - room|/g beyond 2t")

    return check


def _pair(rng: np.random.Generator, near: bool) -> tuple[np.ndarray, np.ndarray]:
    size = int(rng.integers(2, 30))
    p_ = rng.dirichlet(np.full(size, rng.choice([0.3, 1.0]))) + 1e-12
    p_ /= p_.sum()
    if near:
        q_ = p_ * (1 + 1e-3 * rng.normal(size=size))
    else:
        q_ = rng.dirichlet(np.full(size, rng.choice([0.3, 1.0]))) + 1e-12
    return p_, q_ / q_.sum()


def _mp_kl(p_: np.ndarray, q_: np.ndarray) -> float:
    import mpmath

    with mpmath.workdps(50):
        return float(mpmath.fsum(mpmath.mpf(float(a)) * mpmath.log(mpmath.mpf(float(a))
                                                                   / mpmath.mpf(float(b)))
                                 for a, b in zip(p_, q_, strict=True)))


def check_kl(rng: np.random.Generator, formula) -> Measurement:
    """KL(p || q) from the claim's left side against 50-digit mpmath, and never negative."""
    worst, cases = 0.0, 40
    for case in range(cases):
        p_, q_ = _pair(rng, near=case % 4 == 0)
        got = float(formula(p=p_, q=q_, n=p_.size))
        ref = _mp_kl(p_, q_)
        worst = max(worst, abs(got - ref) / max(1e-3, ref), -ref)
    return Measurement(worst, cases, 1e-9,
                       "KL from the formula vs 50-digit mpmath (relative to max(1e-3, KL)),"
                       " and -KL (never positive); some q within 1e-3 of p")


def check_gaps(rng: np.random.Generator, formula) -> Measurement:
    """sum_i p_i g(q_i/p_i) from the claim against 50-digit mpmath KL(p || q)."""
    worst, cases = 0.0, 40
    for case in range(cases):
        p_, q_ = _pair(rng, near=case % 4 == 0)
        got = float(formula(p=p_, q=q_, n=p_.size))
        ref = _mp_kl(p_, q_)
        worst = max(worst, abs(got - ref) / max(1e-3, ref))
    return Measurement(worst, cases, 1e-9,
                       "sum_i p_i g(q_i/p_i) from the formula vs 50-digit mpmath KL, relative to"
                       " max(1e-3, KL); some q within 1e-3 of p")


# --- The derivation ------------------------------------------------------------------------
DERIVATION = Derivation(
    id="gibbs-inequality",
    title="The Gibbs inequality: KL divergence is never negative",
    topic="Information theory",
    order=20,
    gloss="$\\log x \\le x - 1$, proved by exponential series; summed over outcomes it gives"
          " $\\operatorname{KL}(p \\| q) \\ge 0$, zero only for $q = p$.",
    assumptions=(
        "$p$ and $q$ are probability distributions over $n$ outcomes with every $p_i, q_i > 0$"
        " (an outcome with $p_i = 0$ adds nothing to KL and is dropped).",
    ),
    definitions=(
        Definition("Gibbs gap", gibbs_gap(x), gibbs_gap.definition(x)),
        Definition("KL divergence", KL(p[i], q[i], i, n), KL.definition(p[i], q[i], i, n)),
    ),
    claims=(gap_above_one, gap_below_one, gibbs, kl_as_gaps, self_divergence),
    checks=(
        NumericCheck("room-above", _room_check(+1), "$g(e^{\\kappa}) \\ge \\kappa^2/2$ in"
                     " 50-digit arithmetic, tight as $\\kappa \\to 0$.", claim="gap_above_one"),
        NumericCheck("room-below", _room_check(-1), "$g(e^{-\\kappa}) \\ge"
                     " e^{-\\kappa}\\kappa^2/2$ in 50-digit arithmetic, tight as"
                     " $\\kappa \\to 0$.", claim="gap_below_one"),
        NumericCheck("kl", check_kl, "KL from the formula against 50-digit mpmath; never"
                     " negative.", claim="gibbs", side="start"),
        NumericCheck("gaps", check_gaps, "$\\sum_i p_i\\, g(q_i/p_i)$ against 50-digit KL.",
                     claim="kl_as_gaps"),
    ),
    notation={x: "a positive real number", kappa: "$|\\log x|$, the distance of $x > 0$ from 1"
              " on a log scale"},
    sources=(
        "Cover and Thomas, Elements of Information Theory, 2nd ed. (2006), section 2.6: the"
        " information inequality and its equality case.",
    ),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
