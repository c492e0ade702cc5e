"""Rules of exponentials and logarithms, and the bounds of log-sum-exp.

Statement
    For a, b > 0 and real x, y, k: log(ab) = log a + log b, log(a/b) = log a - log b,
    log a^k = k log a, e^{x+y} = e^x e^y, and log_b a = log a / log b (b != 1).
    For real z_1..z_n with maximum m: m <= LSE(z) <= m + log n.

Run on its own: ``python derivations/exp_log_rules.py``.
"""

from __future__ import annotations

import mpmath
import numpy as np
from sympy import Eq, IndexedBase, Mul, Sum, Symbol, exp, log, symbols

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Step
from llmsym.notation import Notation, gibbs_gap, logsumexp

# --- Symbols -------------------------------------------------------------------
a, b = symbols("a b", positive=True)  # positive numbers (b != 1 for a base)
x, y, k = symbols("x y k", real=True)  # real exponents
n = Symbol("n", integer=True, positive=True)  # vector length
j = Symbol("j", integer=True, positive=True)  # component index
z = IndexedBase("z", real=True)  # logits
u = IndexedBase("u", nonpositive=True)  # u_j = z_j - m <= 0
m = Symbol("m", real=True)  # the maximum logit


class log_base(Notation):  # noqa: N801 - reads like the maths
    """``log_base(a, b)``: the exponent y with b^y = a, printed ``log_b a``.

    It has no formula to unfold: it is defined as the inverse of y -> b^y, and the
    claim below derives the formula.
    """

    nargs = 2

    def doit(self, **hints):
        return self

    def _latex(self, printer, exp=None):
        value, base = (printer._print(t) for t in self.args)
        text = rf"\log_{{{base}}} {value}"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


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
    start=log_base(a, b),
    steps=(
        Step(y, "let $y = \\log_b a$, the exponent with $b^y = a$", "definition"),
        Step(log(b**y) / log(b), "$\\log b^y = y \\log b$; divide by $\\log b \\ne 0$",
             "expand_log"),
        Step(log(a) / log(b), "$a = b^y$", using=(Eq(a, b**y),)),
    ),
    on_sheet=False,
    note="Hence $\\log_2 x = \\log x / \\log 2$: bits are nats divided by $\\log 2$.",
)

lse_lower = Claim(
    "lse_lower",
    "Log-sum-exp is at least the maximum",
    start=logsumexp(z[j], j, n),
    steps=(
        Step(log(exp(z[1]) + Sum(exp(z[j]), (j, 2, n))),
             "definition of LSE; split off the term $j = 1$", "unfold+align_sums"),
        Step(log(exp(z[1]), evaluate=False), "$\\log$ is increasing and $e^{z_j} > 0$",
             "monotone", rel=">="),
        Step(m, "$\\log e^{z_1} = z_1$, the maximum", using=(Eq(z[1], m),)),
    ),
    note="Equality is approached when one logit dominates all the others.",
)

# 1 - e^u = e^u (e^{-u} - 1) = e^u (-u + g(e^{-u})) with g(t) = t - 1 - log t >= 0:
# non-negative term by term because u <= 0, a form the checker can see.
_ONE_MINUS_EXP_U = exp(u[j]) * (-u[j] + gibbs_gap(exp(-u[j])))
_SUM_EXP_U = Sum(exp(u[j]), (j, 1, n))

lse_upper = Claim(
    "lse_upper",
    "Log-sum-exp exceeds the maximum by at most $\\log n$",
    start=logsumexp(z[j], j, n),
    steps=(
        Step(logsumexp(m + u[j], j, n),
             "write $z_j = m + u_j$ with $u_j = z_j - m \\le 0$", "definition"),
        Step(m + log(_SUM_EXP_U), "factor $e^m$ out of the sum; $\\log e^m = m$",
             "unfold+sum+expand_log"),
        Step(m + log(n),
             "with $\\rho = \\frac{1}{n}\\sum_j e^{u_j}$: $-\\log\\rho = g(\\rho) + (1 - \\rho)$ "
             "and $1 - e^{u_j} = e^{u_j}(-u_j + g(e^{-u_j}))$, where "
             "$g(t) = t - 1 - \\log t \\ge 0$ and $u_j \\le 0$",
             rel="<=",
             certificate=gibbs_gap(_SUM_EXP_U / n) + Sum(_ONE_MINUS_EXP_U, (j, 1, n)) / n),
    ),
    note="Equality when all logits are equal; $g \\ge 0$ is Gibbs' inequality.",
)

# --- Numeric checks --------------------------------------------------------------


def check_rules(rng: np.random.Generator) -> Measurement:
    """NumPy's log/exp identities against 50-digit mpmath, over 20 orders of magnitude."""
    worst, cases = 0.0, 150
    with mpmath.workdps(50):
        for _ in range(cases):
            pa, pb = 10.0 ** rng.uniform(-10, 10, size=2)
            power, s, t = rng.uniform(-20, 20), rng.uniform(-300, 300), rng.uniform(-300, 300)
            base = float(rng.choice([2.0, 10.0, rng.uniform(0.05, 20.0)]))
            pairs = (
                (np.log(pa) + np.log(pb), mpmath.log(mpmath.mpf(pa) * mpmath.mpf(pb))),
                (np.log(pa) - np.log(pb), mpmath.log(mpmath.mpf(pa) / mpmath.mpf(pb))),
                (power * np.log(pa), mpmath.log(mpmath.power(mpmath.mpf(pa), mpmath.mpf(power)))),
                (np.exp(s) * np.exp(t), mpmath.exp(mpmath.mpf(s) + mpmath.mpf(t))),
                (np.log(pa) / np.log(base), mpmath.log(mpmath.mpf(pa), mpmath.mpf(base))),
            )
            for got, ref in pairs:
                worst = max(worst, abs(float(got) - float(ref)) / max(1.0, abs(float(ref))))
    return Measurement(worst, cases, 1e-13,
                       "NumPy's right-hand sides vs mpmath's left-hand sides at 50 digits")


def _lse_reference(row: np.ndarray) -> float:
    """log(sum(exp(row))) at 50 digits, independent of NumPy."""
    with mpmath.workdps(50):
        return float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row)))


def check_lse_bounds(rng: np.random.Generator) -> Measurement:
    """max <= LSE <= max + log n on random, tied and extreme logits, LSE from mpmath."""
    worst, cases = 0.0, 100
    for case in range(cases):
        size = int(rng.integers(1, 40))
        row = rng.normal(size=size) * float(rng.choice([0.01, 1.0, 30.0]))
        row += float(rng.choice([-1000.0, 0.0, 1000.0]))
        if case % 5 == 0:
            row[:] = row[0]  # all tied: the upper bound is attained
        value, top = _lse_reference(row), float(np.max(row))
        slack = 4e-16 * (1.0 + abs(top) + np.log(size))  # a few ulps of the values compared
        worst = max(worst, top - value - slack, value - top - np.log(size) - slack, 0.0)
    return Measurement(worst, cases, 0.0,
                       "largest violation of max <= LSE <= max + log n (0 means none); "
                       "vectors of length 1..39, ties included")


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
    gloss="Logarithms turn products into sums; log-sum-exp is a smooth maximum, "
          "never more than $\\log n$ above the true one.",
    assumptions=(
        "$a, b > 0$; a base $b \\ne 1$; $x, y, k$ real; $\\log$ is the natural logarithm.",
        "$z \\in \\mathbb{R}^n$ with maximum $m$, placed (after reordering) at $j = 1$.",
    ),
    definitions=(
        Definition("log-sum-exp", logsumexp(z[j], j, n), logsumexp.definition(z[j], j, n)),
        Definition("Gibbs gap", gibbs_gap(x), gibbs_gap.definition(x),
                   note="non-negative for $x > 0$ (the gibbs-inequality derivation)"),
    ),
    claims=(log_product, log_quotient, log_power, exp_sum, change_of_base, lse_lower, lse_upper),
    checks=(
        NumericCheck("rules", check_rules,
                     "Each rule's right side in NumPy against its left side in 50-digit mpmath."),
        NumericCheck("lse_bounds", check_lse_bounds,
                     "$\\max z \\le \\operatorname{LSE}(z) \\le \\max z + \\log n$ with LSE "
                     "from 50-digit mpmath, on random, tied and $\\pm 1000$ logits."),
    ),
    notation={m: "the largest logit, $\\max_j z_j$", "\\log": "the natural logarithm"},
    sources=("Boyd and Vandenberghe, Convex Optimization (2004), section 3.1.5: log-sum-exp "
             "bounds.",),
    examples=(example_lse,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
