"""Gibbs' inequality: log x <= x - 1, hence KL(p || q) >= 0.

Statement
    g(x) = x - 1 - log x >= 0 for every x > 0, with equality only at x = 1;
    for distributions p, q over n outcomes, KL(p || q) >= 0 and KL(p || p) = 0.

The lemma is proved without appeal to convexity. Every x > 0 is e^y or e^{-w}
with y, w >= 0, and in both cases g is an exponential series whose terms are
all non-negative: g(e^y) = sum_{m>=2} y^m/m! and
g(e^{-w}) = e^{-w} sum_{m>=0} w^{m+2}/((m+2) m!). This is the fact that makes
``llmsym.notation.gibbs_gap`` non-negative, which the KL certificates use.

Run on its own: ``python derivations/gibbs_inequality.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Sum, Symbol, exp, factorial, oo

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Step
from llmsym.notation import KL, gibbs_gap

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of outcomes
i = Symbol("i", integer=True, positive=True)  # outcome index
m = Symbol("m", integer=True, positive=True)  # series index
p = IndexedBase("p", positive=True)  # the target distribution
q = IndexedBase("q", positive=True)  # the model distribution
x = Symbol("x", positive=True)
y = Symbol("y", nonnegative=True)  # x = e^y >= 1
w = Symbol("w", nonnegative=True)  # x = e^{-w} <= 1

# --- The lemma: g(x) = x - 1 - log x >= 0 -----------------------------------------
gap_above_one = Claim(
    "gap_above_one",
    "$\\log x \\le x - 1$ for $x = e^y \\ge 1$",
    start=gibbs_gap(exp(y)),
    steps=(
        Step(exp(y) - 1 - y, "definition of $g$; $\\log e^y = y$", "unfold"),
        Step(y**2 / 2,
             "the exponential series: $e^y - 1 - y - y^2/2 = \\sum_{m \\ge 3} y^m / m!$,"
             " a sum of non-negative terms", rel=">=",
             certificate=Sum(y**m / factorial(m), (m, 3, oo))),
    ),
    on_sheet=False,
    note="Positive for $y > 0$: $g(x) > 0$ for $x > 1$.",
)

gap_below_one = Claim(
    "gap_below_one",
    "$\\log x \\le x - 1$ for $x = e^{-w} \\le 1$",
    start=gibbs_gap(exp(-w)),
    steps=(
        Step(exp(-w) - 1 + w, "definition of $g$; $\\log e^{-w} = -w$", "unfold"),
        Step(exp(-w) * w**2 / 2,
             "$1 + (w - 1) e^w = \\sum_{m \\ge 0} w^{m+2} / ((m + 2)\\, m!)$: $g$ is $e^{-w}$"
             " times a series of non-negative terms", rel=">=",
             certificate=Sum(exp(-w) * w ** (m + 2) / ((m + 2) * factorial(m)), (m, 1, oo))),
    ),
    on_sheet=False,
    note="Every $x > 0$ is $e^y$ or $e^{-w}$ with $y, w \\ge 0$: so $g(x) \\ge 0$, and"
         " $g(x) = 0$ only at $x = 1$. This is the fact the certificates $g(q_i/p_i) \\ge 0$ use.",
)

# --- KL divergence --------------------------------------------------------------------
gibbs = Claim(
    "gibbs",
    "Gibbs' inequality",
    start=KL(p[i], q[i], i, n),
    steps=(
        Step(Sum(p[i] - q[i], (i, 1, n)),
             "$\\log x \\le x - 1$ at $x = q_i/p_i$, times $p_i > 0$: the difference is"
             " $\\sum_i p_i\\, g(q_i/p_i) \\ge 0$", rel=">=",
             certificate=Sum(p[i] * gibbs_gap(q[i] / p[i]), (i, 1, n))),
        Step(0, "both distributions sum to one",
             using=(Eq(Sum(p[i], (i, 1, n)), 1), Eq(Sum(q[i], (i, 1, n)), 1))),
    ),
    note="Equality needs $g(q_i/p_i) = 0$ for every $i$, that is $q = p$.",
)

self_divergence = Claim(
    "self_divergence",
    "A distribution has zero divergence from itself",
    start=KL(p[i], p[i], i, n),
    steps=(Step(0, "$\\log(p_i/p_i) = \\log 1 = 0$", "unfold"),),
    on_sheet=False,
)

# --- Numeric checks ---------------------------------------------------------------------


def check_log_bound(rng: np.random.Generator) -> Measurement:
    """g(x) = x - 1 - log x >= 0 at x from 1e-300 to 1e300 and near 1, in 40-digit arithmetic."""
    import mpmath

    xs = np.concatenate([10.0 ** rng.uniform(-300, 300, 400), 1 + rng.normal(0, 1e-6, 100)])
    with mpmath.workdps(40):
        shortfall = max(float(max(1 - mpmath.mpf(float(t)) + mpmath.log(t), 0)) for t in xs)
    return Measurement(shortfall, len(xs), 0.0,
                       "largest value of log x - (x - 1) above 0, in 40-digit arithmetic, at x"
                       " spread over 1e-300..1e300 and within 1e-6 of 1")


def check_kl_nonnegative(rng: np.random.Generator) -> Measurement:
    """KL(p || q) in 50-digit mpmath is never negative, including near-zero probabilities."""
    import mpmath

    worst, cases = 0.0, 300
    with mpmath.workdps(50):
        for _ in range(cases):
            size = int(rng.integers(2, 30))
            p_ = rng.dirichlet(np.full(size, rng.choice([0.05, 1.0])))
            q_ = rng.dirichlet(np.full(size, rng.choice([0.05, 1.0])))
            if rng.random() < 0.2:
                q_ = p_ * (1 + 1e-9 * rng.normal(size=size))  # nearly equal: the hard case
            q_[(rng.random(size) < 0.1) | (q_ == 0)] = 1e-300  # Dirichlet draws can underflow
            p_, q_ = [mpmath.mpf(float(t)) for t in p_], [mpmath.mpf(float(t)) for t in q_]
            sp_, sq_ = mpmath.fsum(p_), mpmath.fsum(q_)
            kl = mpmath.fsum(a / sp_ * mpmath.log((a / sp_) / (b / sq_))
                             for a, b in zip(p_, q_, strict=True) if a > 0)
            worst = max(worst, float(-kl))
    return Measurement(max(worst, 0.0), cases, 0.0,
                       "largest -KL(p||q) over random pairs (normalised exactly in 50-digit"
                       " arithmetic), including q within 1e-9 of p and entries of 1e-300")


# --- The derivation ------------------------------------------------------------------------
DERIVATION = Derivation(
    id="gibbs-inequality",
    title="The Gibbs inequality: KL divergence is never negative",
    topic="Information theory",
    order=20,
    gloss="$\\log x \\le x - 1$, proved by exponential series; summed over outcomes it gives"
          " $\\operatorname{KL}(p \\| q) \\ge 0$, zero only for $q = p$.",
    assumptions=(
        "$p$ and $q$ are probability distributions over $n$ outcomes: $\\sum_i p_i = \\sum_i q_i"
        " = 1$, every $p_i, q_i > 0$ (an outcome with $p_i = 0$ adds nothing to KL and is"
        " dropped).",
    ),
    definitions=(
        Definition("Gibbs gap", gibbs_gap(x), gibbs_gap.definition(x)),
        Definition("KL divergence", KL(p[i], q[i], i, n), KL.definition(p[i], q[i], i, n)),
    ),
    claims=(gap_above_one, gap_below_one, gibbs, self_divergence),
    checks=(
        NumericCheck("log-bound", check_log_bound,
                     "$\\log x \\le x - 1$ for $x$ from $10^{-300}$ to $10^{300}$ and near 1, in"
                     " 40-digit arithmetic."),
        NumericCheck("kl-nonnegative", check_kl_nonnegative,
                     "KL divergence of random pairs, some nearly equal, in 50-digit arithmetic:"
                     " never negative."),
    ),
    notation={"g(x)": "the Gibbs gap $x - 1 - \\log x$", p: "a distribution over $n$ outcomes",
              q: "a second distribution (the model)"},
    sources=(
        "Cover and Thomas, Elements of Information Theory, 2nd ed. (2006), section 2.6: the"
        " information inequality.",
    ),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
