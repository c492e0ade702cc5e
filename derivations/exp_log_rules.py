"""Rules of exponentials and logarithms, and the bounds of log-sum-exp.

Main results
    log_product, log_quotient, log_power, exp_sum   the rules, for a, b > 0 and real x, y, k
    change_of_base    b^y = a  ⊢  y = log a / log b  (so log_b a = log a / log b)
    lse_lower         z_1 = z_max  ⊢  z_max <= LSE(z)
    lse_upper         z_j = z_max + u_j with every u_j <= 0  ⊢  LSE(z) <= z_max + log n

Together: max_j z_j <= LSE(z) <= max_j z_j + log n, with equality on the right
when all logits are equal. The premises say what z_max is: a logit (z_1, after
relabelling) that no logit exceeds.

Run on its own: ``python derivations/exp_log_rules.py``.
"""

from __future__ import annotations

import mpmath
import numpy as np
from sympy import Eq, IndexedBase, Mul, Sum, Symbol, exp, log, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Named, gibbs_gap, held, logsumexp, terms

# --- Symbols -------------------------------------------------------------------
a, b = symbols("a b", positive=True)  # positive numbers (b != 1 for a base)
x, y, k = symbols("x y k", real=True)  # real exponents
n = Symbol("n", integer=True, positive=True)  # vector length
j = Symbol("j", integer=True, positive=True)  # component index
z = IndexedBase("z", real=True)  # logits
u = IndexedBase("u", nonpositive=True)  # u_j = z_j - z_max <= 0
z_max = Named("z_max", r"z_{\max}", real=True)  # the largest logit

# --- Premises ------------------------------------------------------------------------
max_at_one = Hypothesis(Eq(z[1], z_max), "the largest logit is $z_1$ (after relabelling)")
below_max = Hypothesis(Eq(z[j], z_max + u[j]),
                       "no logit exceeds $z_{\\max}$: $z_j = z_{\\max} + u_j$ with $u_j \\le 0$")
power_is_a = Hypothesis(Eq(b**y, a), "$y$ is the exponent that takes $b$ to $a$")

# --- Claims --------------------------------------------------------------------

log_product = Claim(
    "log_product",
    "Logarithm of a product",
    start=log(a * b),
    steps=(Step(log(a) + log(b), "$\\log$ turns products of positive numbers into sums",
                "expand_log"),),
    on_sheet=False,
)

log_quotient = Claim(
    "log_quotient",
    "Logarithm of a quotient",
    start=log(a / b),
    steps=(Step(log(a) - log(b), "the product rule with $1/b$, and $\\log(1/b) = -\\log b$",
                "expand_log"),),
    on_sheet=False,
)

log_power = Claim(
    "log_power",
    "Logarithm of a power",
    start=log(a**k),
    steps=(Step(k * log(a), "$a^k = e^{k \\log a}$ for $a > 0$ and real $k$", "expand_log"),),
    on_sheet=False,
)

exp_sum = Claim(
    "exp_sum",
    "Exponential of a sum",
    start=exp(x + y),
    steps=(Step(Mul(exp(x), exp(y), evaluate=False), "the functional equation of $\\exp$",
                "expand"),),
    on_sheet=False,
)

change_of_base = Claim(
    "change_of_base",
    "Change of base",
    given=(power_is_a,),
    start=y,
    steps=(
        Step(log(b**y) / log(b), "$\\log b^y = y \\log b$; divide by $\\log b \\ne 0$"
             " ($b \\ne 1$)", "expand_log"),
        Step(log(a) / log(b), "$b^y = a$", "expand", using=(power_is_a,)),
    ),
    on_sheet=False,
    note="So $\\log_b a = \\log a / \\log b$; in particular $\\log_2 x = \\log x / \\log 2$:"
         " bits are nats divided by $\\log 2$.",
)

with held():  # keep the line that says log e^{z_1} = z_1
    log_exp_z1 = log(exp(z[1]))

lse_lower = Claim(
    "lse_lower",
    "Log-sum-exp is at least the largest logit",
    given=(max_at_one,),
    start=z_max,
    steps=(
        Step(log_exp_z1, "$z_1 = z_{\\max}$ and $\\log e^{z_1} = z_1$", "expand",
             using=(max_at_one,)),
        Step(log(exp(z[1]) + Sum(exp(z[j]), (j, 2, n))),
             "$\\log$ is increasing and the other terms $e^{z_j}$ are positive", "monotone",
             rel="<="),
        Step(logsumexp(z[j], j, n), "split off the term $j = 1$; definition of LSE",
             "unfold+align_sums"),
    ),
    note="Equality is approached when one logit dominates all the others.", on_sheet=False,
)

# 1 - e^u = e^u (e^{-u} - 1) = e^u (-u + g(e^{-u})) with g(t) = t - 1 - log t >= 0:
# non-negative term by term because u <= 0, a form the checker can see.
_ONE_MINUS_EXP_U = exp(u[j]) * (-u[j] + gibbs_gap(exp(-u[j])))
_SUM_EXP_U = Sum(exp(u[j]), (j, 1, n))

lse_upper = Claim(
    "lse_upper",
    "Log-sum-exp exceeds the largest logit by at most $\\log n$",
    given=(below_max,),
    start=logsumexp(z[j], j, n),
    steps=(
        Step(logsumexp(z_max + u[j], j, n), "$z_j = z_{\\max} + u_j$", "expand",
             using=(below_max,)),
        Step(z_max + log(_SUM_EXP_U), "factor $e^{z_{\\max}}$ out of the sum;"
             " $\\log e^{z_{\\max}} = z_{\\max}$", "unfold+sum+expand_log"),
        Step(terms(z_max, log(n)),
             "with $\\rho = \\frac{1}{n}\\sum_j e^{u_j}$: $-\\log\\rho = g(\\rho) + (1 - \\rho)$"
             " and $1 - e^{u_j} = e^{u_j}(-u_j + g(e^{-u_j}))$, where"
             " $g(t) = t - 1 - \\log t \\ge 0$ and $u_j \\le 0$",
             rel="<=",
             certificate=gibbs_gap(_SUM_EXP_U / n) + Sum(_ONE_MINUS_EXP_U, (j, 1, n)) / n),
    ),
    note="Equality when all logits are equal ($u = 0$); $g \\ge 0$ is Gibbs' inequality.",
)

# --- Numeric checks --------------------------------------------------------------


def _rule_check(claim: str, reference, arguments):
    """A check of one rule: the claim's right side against mpmath's value of its left side."""

    def check(rng: np.random.Generator, formula) -> Measurement:
        worst, cases = 0.0, 30
        with mpmath.workdps(50):
            for _ in range(cases):
                values = arguments(rng)
                got = float(formula(**values))
                ref = float(reference(**{key: mpmath.mpf(v) for key, v in values.items()}))
                worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
        return Measurement(worst, cases, 1e-13,
                           f"{claim}: the right side in float64 vs the left side in 50-digit"
                           " mpmath, arguments over 20 orders of magnitude")

    return check


def _positive_pair(rng: np.random.Generator) -> dict:
    pa, pb = 10.0 ** rng.uniform(-10, 10, size=2)
    return {"a": float(pa), "b": float(pb)}


def _power(rng: np.random.Generator) -> dict:
    return {"a": float(10.0 ** rng.uniform(-10, 10)), "k": float(rng.uniform(-20, 20))}


def _reals(rng: np.random.Generator) -> dict:
    s, t = rng.uniform(-300, 300, size=2)
    return {"x": float(s), "y": float(t)}


def _base(rng: np.random.Generator) -> dict:
    base = float(rng.choice([2.0, 10.0, rng.uniform(0.05, 0.9), rng.uniform(1.1, 20.0)]))
    return {"a": float(10.0 ** rng.uniform(-10, 10)), "b": base}


def _lse_reference(row: np.ndarray) -> float:
    """log(sum(exp(row))) at 50 digits, independent of NumPy."""
    with mpmath.workdps(50):
        return float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row)))


def _logits(rng: np.random.Generator, case: int) -> np.ndarray:
    """Random logits of length 1..39 at scales 0.01..30 around 0 or +-1000; every 4th all tied."""
    size = int(rng.integers(1, 40))
    row = rng.normal(size=size) * float(rng.choice([0.01, 1.0, 30.0]))
    row += float(rng.choice([-1000.0, 0.0, 1000.0]))
    if case % 4 == 0:
        row[:] = row[0]  # all tied: the upper bound is attained
    return row


def check_lse_upper(rng: np.random.Generator, formula) -> Measurement:
    """z_max + log n from the claim: never below mpmath's LSE, and equal to it at ties."""
    worst, cases = 0.0, 40
    for case in range(cases):
        row = _logits(rng, case)
        bound = float(formula(z_max=float(np.max(row)), n=row.size))
        value = _lse_reference(row)
        slack = 4e-16 * (1.0 + abs(value))  # a few ulps of the values compared
        worst = max(worst, value - bound - slack)  # the bound must hold
        if case % 4 == 0:
            worst = max(worst, abs(bound - value) - slack)  # and be attained at ties
    return Measurement(max(worst, 0.0), cases, 0.0,
                       "how far LSE (50-digit mpmath) exceeds z_max + log n, and the gap at"
                       " all-tied logits (both 0 within a few ulps); logits near 0 and +-1000")


def check_lse_lower(rng: np.random.Generator, formula) -> Measurement:
    """LSE(z) from the claim (float64) against mpmath's LSE, and never below max z."""
    worst, cases = 0.0, 40
    for case in range(cases):
        row = _logits(rng, case) / 10.0  # float64 exp of the plain formula: stay below 700
        got = float(formula(z=row, n=row.size))
        value = _lse_reference(row)
        worst = max(worst, abs(got - value) / max(1.0, abs(value)),
                    float(np.max(row)) - got - 4e-16 * (1.0 + abs(value)))
    return Measurement(max(worst, 0.0), cases, 1e-13,
                       "LSE from the formula vs 50-digit mpmath (relative), and how far max z"
                       " exceeds it (never)")


def example_lse() -> tuple[str, str]:
    """The bounds for the logits (1000, 999, 998)."""
    from llmsym.numeric.softmax import logsumexp as lse

    row = np.array([1000.0, 999.0, 998.0])
    return ("log-sum-exp of large logits, no overflow",
            rf"1000 \le \operatorname{{LSE}}(1000, 999, 998) = {float(lse(row)):.4f} "
            rf"\le 1000 + \log 3 = {1000 + np.log(3):.4f}")


# --- The derivation ----------------------------------------------------------------
DERIVATION = Derivation(
    id="exp-log-rules",
    title="Exponentials, logarithms and log-sum-exp",
    topic="Foundations",
    order=3,
    gloss="Logarithms turn products into sums; log-sum-exp is a smooth maximum, at least the"
          " largest logit and never more than $\\log n$ above it.",
    assumptions=(
        "$a, b > 0$; a base $b \\ne 1$; $x, y, k$ real; $\\log$ is the natural logarithm.",
        "$z \\in \\mathbb{R}^n$; $z_{\\max}$ is its largest entry, placed at $j = 1$ after"
        " relabelling.",
    ),
    definitions=(
        Definition("log-sum-exp", logsumexp(z[j], j, n), logsumexp.definition(z[j], j, n)),
        Definition("Gibbs gap", gibbs_gap(x), gibbs_gap.definition(x),
                   note="non-negative for $x > 0$ (the gibbs-inequality derivation)"),
    ),
    claims=(log_product, log_quotient, log_power, exp_sum, change_of_base, lse_lower, lse_upper),
    checks=(
        NumericCheck("log-product", _rule_check(
            "log(ab)", lambda a, b: mpmath.log(a * b), _positive_pair),
            "$\\log a + \\log b$ against 50-digit $\\log(ab)$.", claim="log_product"),
        NumericCheck("log-quotient", _rule_check(
            "log(a/b)", lambda a, b: mpmath.log(a / b), _positive_pair),
            "$\\log a - \\log b$ against 50-digit $\\log(a/b)$.", claim="log_quotient"),
        NumericCheck("log-power", _rule_check(
            "log(a^k)", lambda a, k: mpmath.log(mpmath.power(a, k)), _power),
            "$k\\log a$ against 50-digit $\\log(a^k)$.", claim="log_power"),
        NumericCheck("exp-sum", _rule_check(
            "exp(x + y)", lambda x, y: mpmath.exp(x + y), _reals),
            "$e^x e^y$ against 50-digit $e^{x+y}$.", claim="exp_sum"),
        NumericCheck("change-of-base", _rule_check(
            "log_b a", lambda a, b: mpmath.log(a, b), _base),
            "$\\log a / \\log b$ against mpmath's $\\log_b a$.", claim="change_of_base"),
        NumericCheck("lse-lower", check_lse_lower,
                     "LSE from the formula against 50-digit mpmath, never below $\\max z$.",
                     claim="lse_lower"),
        NumericCheck("lse-upper", check_lse_upper,
                     "$z_{\\max} + \\log n$ never below 50-digit LSE, and equal to it at ties,"
                     " on logits near 0 and $\\pm 1000$.", claim="lse_upper"),
    ),
    notation={z_max: "the largest logit, $\\max_j z_j$",
              u: "gap of a logit below the largest, $u_j = z_j - z_{\\max} \\le 0$",
              a: "a positive number", b: "a positive base ($b \\ne 1$)",
              "\\log": "the natural logarithm"},
    sources=("Boyd and Vandenberghe, Convex Optimization (2004), section 3.1.5: log-sum-exp "
             "bounds.",),
    examples=(example_lse,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
