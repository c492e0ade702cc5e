"""Softmax is shift invariant, and the stable softmax cannot overflow.

Main results
    shift               softmax(z + c1) = softmax(z), for every real c
    lse_shift           LSE(z + c1) = LSE(z) + c
    stable              softmax(z - m1) = softmax(z), for any m (take m = max_j z_j)
    exponent_bound      m >= z_j  ⊢  e^{z_j - m} <= 1: no term can overflow
    denominator_bound   z_1 = m   ⊢  sum_j e^{z_j - m} >= 1: the division is safe

Each claim lists what it rests on (``given=`` or ``using=``); nothing else is
assumed. This file is the model to copy: symbols with their meanings, then
definitions, then claims (statement, premises, a chain of steps with reasons),
then the numeric checks tied to claims, then the derivation.

Run on its own: ``python derivations/softmax_shift.py``.
"""

import numpy as np
from sympy import Eq, Ge, IndexedBase, Sum, Symbol, exp, log, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import held, logsumexp, softmax

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # vector length
i, j = symbols("i j", integer=True, positive=True)  # component indices
z = IndexedBase("z", real=True)  # logits
c = Symbol("c", real=True)  # the shift
m = Symbol("m", real=True)  # the reference subtracted: in practice the largest logit

# --- Premises ------------------------------------------------------------------
m_is_max = Hypothesis(Ge(m, z[j]), "m is at least every logit (m = max_j z_j)")
max_at_one = Hypothesis(Eq(z[1], m), "the largest logit is z_1 (after reordering)")

# --- Definitions ----------------------------------------------------------------
DEFINITIONS = (
    Definition("softmax", softmax(z[j], j, n, i), softmax.definition(z[j], j, n, i),
               on_sheet=True, title="Softmax"),
    Definition("log-sum-exp", logsumexp(z[j], j, n), logsumexp.definition(z[j], j, n),
               on_sheet=True, title="Log-sum-exp"),
)

# --- Claims ------------------------------------------------------------------------
with held():  # keep e^c visible in the line whose reason is that it factors out
    factored = exp(c) * exp(z[i]) / (exp(c) * Sum(exp(z[j]), (j, 1, n)))

shift = Claim(
    "shift",
    "Shift invariance",
    start=softmax(z[j] + c, j, n, i),
    steps=(
        Step(exp(z[i] + c) / Sum(exp(z[j] + c), (j, 1, n)), "definition of softmax", "unfold"),
        Step(factored, "$e^{a+b} = e^a e^b$; $e^c$ does not depend on $j$: factor it out",
             "sum"),
        Step(exp(z[i]) / Sum(exp(z[j]), (j, 1, n)), "cancel $e^c > 0$", "cancel"),
        Step(softmax(z[j], j, n, i), "definition of softmax", "unfold"),
    ),
)

lse_shift = Claim(
    "lse_shift",
    "Log-sum-exp shifts with its argument",
    start=logsumexp(z[j] + c, j, n),
    steps=(
        Step(log(Sum(exp(z[j] + c), (j, 1, n))), "definition of LSE", "unfold"),
        Step(log(exp(c) * Sum(exp(z[j]), (j, 1, n))), "factor $e^c$ out of the sum", "sum"),
        Step(c + log(Sum(exp(z[j]), (j, 1, n))),
             "$\\log(ab) = \\log a + \\log b$ for $a, b > 0$, and $\\log e^c = c$", "expand_log"),
        Step(c + logsumexp(z[j], j, n), "definition of LSE", "unfold"),
    ), on_sheet=False,
)

stable = Claim(
    "stable",
    "The stable form subtracts the maximum",
    start=softmax(z[j] - m, j, n, i),
    steps=(
        Step(softmax(z[j], j, n, i), "shift invariance with $c = -m$", "unfold+sum+cancel"),
    ),
    note="True for every $m$; $m = \\max_j z_j$ is the choice that makes it safe (below).",
)

exponent_bound = Claim(
    "exponent_bound",
    "No term can overflow",
    given=(m_is_max,),
    start=exp(z[j] - m),
    steps=(
        Step(exp(0), "$\\exp$ is increasing and $z_j - m \\le 0$", "monotone", rel="<="),
        Step(1, "$e^0 = 1$", "expand"),
    ),
    note="Every term of the stable softmax lies in $(0, 1]$.", on_sheet=True,
)

denominator_bound = Claim(
    "denominator_bound",
    "The denominator is at least one",
    start=Sum(exp(z[j] - m), (j, 1, n)),
    steps=(
        Step(exp(z[1] - m) + Sum(exp(z[j] - m), (j, 2, n)), "split off the term $j = 1$",
             "align_sums"),
        Step(1 + Sum(exp(z[j] - m), (j, 2, n)), "$z_1 = m$", using=(max_at_one,)),
        Step(1, "a sum of exponentials is non-negative", "nonneg", rel=">="),
    ),
    note="So the stable softmax never divides by a number below 1, and cannot produce 0/0.",
    on_sheet=True,
)

# --- Numeric checks ------------------------------------------------------------------


def _mp_softmax(row: np.ndarray, unshift: float = 0.0) -> np.ndarray:
    """A 50-digit reference softmax of ``row - unshift`` with mpmath, independent of NumPy."""
    import mpmath

    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(float(x)) - mpmath.mpf(unshift)) for x in row]
        total = mpmath.fsum(e)
        return np.array([float(x / total) for x in e])


def check_stable(rng: np.random.Generator, formula) -> Measurement:
    """The stable form e^{z_i - m} / sum_j e^{z_j - m}, evaluated in float64 with m = max z at
    logits near +-1000, against 50-digit mpmath softmax of the unshifted logits."""
    worst, cases = 0.0, 100
    for _ in range(cases):
        row = rng.normal(size=int(rng.integers(2, 30))) * 5 + rng.choice([-1000.0, 0.0, 1000.0])
        got = np.array([formula(z=row, m=float(row.max()), n=row.size, i=k)
                        for k in range(1, row.size + 1)], dtype=float)
        worst = max(worst, float(np.max(np.abs(got - _mp_softmax(row)))))
    return Measurement(worst, cases, 1e-15,
                       "stable softmax formula in float64 vs 50-digit mpmath softmax, logits"
                       " near -1000, 0 and 1000")


def check_naive_overflows(rng: np.random.Generator) -> Measurement:
    """Experiment: the unshifted formula overflows at the same logits (why the shift matters)."""
    broken, cases = 0, 100
    for _ in range(cases):
        row = rng.normal(size=int(rng.integers(2, 30))) * 5 + rng.choice([-1000.0, 1000.0])
        with np.errstate(over="ignore", invalid="ignore"):
            naive = np.exp(row) / np.sum(np.exp(row))
        broken += not np.all(np.isfinite(naive))
    return Measurement(0.0 if broken else float("inf"), cases, 0.0,
                       f"naive softmax non-finite on {broken}/{cases} rows of logits near"
                       " -1000 or 1000")


def check_shift(rng: np.random.Generator, formula) -> Measurement:
    """softmax(z + c1)_i from the claim's left side, against mpmath softmax(z)_i."""
    worst, cases = 0.0, 100
    for _ in range(cases):
        shift_by = float(rng.uniform(-30, 30))
        row = rng.normal(size=int(rng.integers(1, 30))) * 3
        got = np.array([formula(z=row, c=shift_by, n=row.size, i=k)
                        for k in range(1, row.size + 1)], dtype=float)
        worst = max(worst, float(np.max(np.abs(got - _mp_softmax(row)))))
    return Measurement(worst, cases, 1e-13, "softmax(z + c1) from the formula vs 50-digit"
                       " mpmath softmax(z), shifts up to 30")


def check_lse_shift(rng: np.random.Generator, formula) -> Measurement:
    """c + LSE(z) from the claim's right side, against mpmath log sum e^{z_j + c}."""
    import mpmath

    worst, cases = 0.0, 100
    for _ in range(cases):
        shift_by = float(rng.uniform(-30, 30))
        row = rng.normal(size=int(rng.integers(1, 30))) * 3
        got = float(formula(z=row, c=shift_by, n=row.size))
        with mpmath.workdps(50):
            ref = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(x)) + shift_by)
                                         for x in row))
        worst = max(worst, abs(got - float(ref)) / max(1.0, abs(float(ref))))
    return Measurement(worst, cases, 1e-14, "c + LSE(z) from the formula vs 50-digit mpmath"
                       " LSE(z + c1)")


def example_softmax():
    from llmsym.numeric import softmax as stable_softmax

    p = stable_softmax(np.array([2.0, 1.0, 0.5]))
    return (
        "softmax of the logits (2, 1, 0.5)",
        r"\operatorname{softmax}(2, 1, 0.5) = (%s)" % ", ".join(f"{x:.3f}" for x in p),
    )


# --- The derivation ---------------------------------------------------------------------
DERIVATION = Derivation(
    id="softmax-shift",
    title="Softmax is shift invariant",
    topic="Softmax",
    order=10,
    gloss=(
        "Adding the same constant to every logit changes nothing; subtracting the maximum "
        "makes softmax safe in floating point."
    ),
    assumptions=("$z$ is a real vector of length $n \\ge 1$ and $c$, $m$ real constants.",),
    definitions=DEFINITIONS,
    claims=(shift, lse_shift, stable, exponent_bound, denominator_bound),
    checks=(
        NumericCheck("stable", check_stable, "The stable form in float64 at logits near"
                     " $\\pm 1000$ against 50-digit mpmath.", claim="stable", side="start"),
        NumericCheck("naive-overflows", check_naive_overflows, "Experiment: the unshifted form"
                     " overflows at the same logits."),
        NumericCheck("shift", check_shift, "$\\operatorname{softmax}(z + c\\mathbf{1})$ against"
                     " 50-digit mpmath softmax of $z$.", claim="shift", side="start"),
        NumericCheck("lse-shift", check_lse_shift, "$c + \\operatorname{LSE}(z)$ against 50-digit"
                     " mpmath.", claim="lse_shift"),
    ),
    notation={m: "a constant subtracted from every logit (in practice the largest logit)"},
    sources=(
        "Goodfellow, Bengio and Courville, Deep Learning (2016), section 4.1: the stable softmax.",
    ),
    examples=(example_softmax,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
