"""Softmax shift invariance, the log-sum-exp shift, and why the stable softmax cannot overflow.

Statement
    softmax(z + c1) = softmax(z) and LSE(z + c1) = LSE(z) + c for every real c;
    with m = max_j z_j, softmax(z) = softmax(z - m1), every exponent z_j - m <= 0,
    and the denominator sum_j e^{z_j - m} >= 1.

Run on its own: ``python derivations/softmax_shift.py``.
"""

import numpy as np
from sympy import Eq, IndexedBase, Sum, Symbol, exp, log, symbols

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Step
from llmsym.notation import logsumexp, softmax

# --- Symbols ---------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # vector length
i, j = symbols("i j", integer=True, positive=True)  # component indices
z = IndexedBase("z", real=True)  # logits
u = IndexedBase("u", nonpositive=True)  # shifted logits u_j = z_j - m
c = Symbol("c", real=True)  # the shift
m = Symbol("m", real=True)  # the maximum logit

# --- Claims ----------------------------------------------------------------
shift = Claim(
    "shift",
    "Shift invariance",
    start=softmax(z[j] + c, j, n, i),
    steps=(
        Step(exp(z[i] + c) / Sum(exp(z[j] + c), (j, 1, n)), "definition of softmax", "unfold"),
        Step(
            exp(c) * exp(z[i]) / Sum(exp(c) * exp(z[j]), (j, 1, n)), "$e^{a+b} = e^a e^b$", "expand"
        ),
        Step(
            exp(c) * exp(z[i]) / (exp(c) * Sum(exp(z[j]), (j, 1, n))),
            "$e^c$ does not depend on $j$: factor it out of the sum",
            "sum",
        ),
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
        Step(
            c + log(Sum(exp(z[j]), (j, 1, n))),
            "$\\log(ab) = \\log a + \\log b$ for $a, b > 0$, and $\\log e^c = c$",
            "expand_log",
        ),
        Step(c + logsumexp(z[j], j, n), "definition of LSE", "unfold"),
    ),
)

stable = Claim(
    "stable",
    "The stable form subtracts the maximum",
    start=softmax(z[j] - m, j, n, i),
    steps=(
        Step(
            exp(-m) * exp(z[i]) / (exp(-m) * Sum(exp(z[j]), (j, 1, n))),
            "shift invariance with $c = -m$: unfold, split the exponent, factor $e^{-m}$ out",
            "unfold+sum",
        ),
        Step(softmax(z[j], j, n, i), "cancel $e^{-m}$; definition of softmax", "unfold+cancel"),
    ),
)

exponent_bound = Claim(
    "exponent_bound",
    "No term can overflow",
    start=exp(u[j]),
    steps=(
        Step(exp(0), "$\\exp$ is increasing and $u_j = z_j - m \\le 0$", "monotone", rel="<="),
        Step(1, "$e^0 = 1$", "expand"),
    ),
    note="Every exponent is at most 0, so every term lies in (0, 1].",
)

denominator_bound = Claim(
    "denominator_bound",
    "The denominator is at least one",
    start=Sum(exp(u[j]), (j, 1, n)),
    steps=(
        Step(exp(u[1]) + Sum(exp(u[j]), (j, 2, n)), "split off the term $j = 1$", "align_sums"),
        Step(
            1 + Sum(exp(u[j]), (j, 2, n)),
            "the maximum sits at $j = 1$, so $u_1 = 0$",
            using=(Eq(u[1], 0),),
        ),
        Step(1, "a sum of exponentials is non-negative", "nonneg", rel=">="),
    ),
    note="So the division never divides by a number below 1, and no underflow to 0/0 occurs.",
)

# --- Numeric checks ----------------------------------------------------------


def _mp_softmax(row: np.ndarray, unshift: float = 0.0) -> np.ndarray:
    """A 50-digit reference softmax of ``row - unshift`` with mpmath, independent of NumPy."""
    import mpmath

    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(float(x)) - mpmath.mpf(unshift)) for x in row]
        total = mpmath.fsum(e)
        return np.array([float(x / total) for x in e])


def check_overflow(rng: np.random.Generator) -> Measurement:
    """Logits near +-1000: the naive formula overflows, the stable one matches mpmath."""
    from llmsym.numeric import softmax as stable_softmax

    worst, naive_broken, cases = 0.0, 0, 200
    for _ in range(cases):
        size = int(rng.integers(2, 40))
        row = rng.normal(size=size) * 5 + rng.choice([-1000.0, 0.0, 1000.0])
        with np.errstate(over="ignore", invalid="ignore"):
            naive = np.exp(row) / np.sum(np.exp(row))
        naive_broken += not np.all(np.isfinite(naive))
        worst = max(worst, float(np.max(np.abs(stable_softmax(row) - _mp_softmax(row)))))
    if naive_broken == 0:  # the premise of the check: the naive form must break here
        return Measurement(float("inf"), cases, 1e-15, "the naive softmax never overflowed")
    return Measurement(
        worst,
        cases,
        1e-15,
        f"stable softmax vs 50-digit mpmath; naive softmax non-finite on {naive_broken}/{cases}",
    )


def check_shift(rng: np.random.Generator) -> Measurement:
    """softmax(z + c) = softmax(z) and LSE(z + c) = LSE(z) + c, against mpmath."""
    import mpmath

    from llmsym.numeric import logsumexp as lse
    from llmsym.numeric import softmax as stable_softmax

    worst, cases = 0.0, 100
    for _ in range(cases):
        shift_by = float(rng.uniform(-500, 500))
        shifted = rng.normal(size=int(rng.integers(1, 30))) * 3 + shift_by
        # The reference removes the shift in exact arithmetic: softmax(z + c) vs softmax(z).
        worst = max(
            worst, float(np.max(np.abs(stable_softmax(shifted) - _mp_softmax(shifted, shift_by))))
        )
        with mpmath.workdps(50):
            terms = (mpmath.exp(mpmath.mpf(float(x)) - shift_by) for x in shifted)
            ref = mpmath.log(mpmath.fsum(terms)) + shift_by  # LSE(z) + c
        worst = max(worst, abs(float(lse(shifted)) - float(ref)) / max(1.0, abs(float(ref))))
    return Measurement(
        worst,
        cases,
        1e-14,
        "NumPy softmax/LSE of shifted logits vs mpmath: LSE(z) + c and softmax(z)",
    )


def example_softmax():
    from llmsym.numeric import softmax as stable_softmax

    p = stable_softmax(np.array([2.0, 1.0, 0.5]))
    return (
        "softmax of the logits (2, 1, 0.5)",
        r"\operatorname{softmax}(2, 1, 0.5) = (%s)" % ", ".join(f"{x:.3f}" for x in p),
    )


# --- The derivation ----------------------------------------------------------
DERIVATION = Derivation(
    id="softmax-shift",
    title="Softmax is shift invariant",
    topic="Softmax",
    order=10,
    gloss=(
        "Adding the same constant to every logit changes nothing; subtracting the maximum "
        "makes softmax safe in floating point."
    ),
    assumptions=(
        "$z$ is a real vector of length $n \\ge 1$ and $c$ a real constant.",
        "$m = \\max_j z_j$, attained (after reordering) at $j = 1$; $u_j = z_j - m$.",
    ),
    definitions=(
        Definition("softmax", softmax(z[j], j, n, i), softmax.definition(z[j], j, n, i)),
        Definition("logsumexp", logsumexp(z[j], j, n), logsumexp.definition(z[j], j, n)),
    ),
    claims=(shift, lse_shift, stable, exponent_bound, denominator_bound),
    checks=(
        NumericCheck(
            "overflow",
            check_overflow,
            "Logits near $\\pm 1000$: naive softmax overflows; the stable form matches "
            "50-digit mpmath to 1e-15.",
        ),
        NumericCheck(
            "shift",
            check_shift,
            "Softmax and LSE of logits shifted by up to 500 against mpmath of the "
            "unshifted logits.",
        ),
    ),
    notation={
        z: "logits, a real vector of length $n$",
        c: "a constant added to every logit",
        m: "the largest logit, $\\max_j z_j$",
    },
    sources=(
        "Goodfellow, Bengio and Courville, Deep Learning (2016), section 4.1: the stable softmax.",
    ),
    examples=(example_softmax,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
