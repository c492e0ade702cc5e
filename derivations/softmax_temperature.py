"""Softmax temperature: one-hot as T -> 0+, uniform as T -> oo, for every n.

Main results
    cold_bound   z_j = z_1 - delta - w_j (j >= 2; w_j >= 0, delta > 0)
                 ⊢  1 - softmax(z/T)_1 <= (n - 1) e^{-delta/T}
    hot_bound    z_j = z_i + Delta - w_j (all j; w_j >= 0)  ⊢  n softmax(z/T)_i >= e^{-Delta/T}
    cold_limit   lim_{T -> 0+} (n - 1) e^{-delta/T} = 0

Both limits follow for every n from these bounds: when z_1 leads every other logit by
at least delta > 0, 0 <= 1 - softmax(z/T)_1 <= (n - 1) e^{-delta/T} -> 0, so
softmax(z/T) -> e_1 as T -> 0+; when no logit exceeds another by more than Delta,
every n softmax(z/T)_i >= e^{-Delta/T} -> 1, and since the n weights sum to 1 each
tends to 1/n as T -> oo. (SymPy cannot take the limit of a sum of symbolic length,
so the limits are shown through these bounds, which hold at every T > 0.)

Run on its own: ``python derivations/softmax_temperature.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Limit, Sum, Symbol, exp, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import factors, gibbs_gap, minus, softmax, terms

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of logits
i, j = symbols("i j", integer=True, positive=True)  # component indices
z = IndexedBase("z", real=True)  # logits
w = IndexedBase("w", nonnegative=True)  # slack in each premise
T = Symbol("T", positive=True)  # temperature
delta = Symbol("delta", positive=True)  # the lead of the top logit
Delta = Symbol("Delta", nonnegative=True)  # a bound on the spread of the logits

# --- Premises --------------------------------------------------------------------
top_leads = Hypothesis(Eq(z[j], z[1] - delta - w[j]),
                       "for $j = 2, \\dots, n$: $z_1$ leads every other logit by at least"
                       " $\\delta$ ($w_j \\ge 0$)")
spread = Hypothesis(Eq(z[j], terms(z[i], Delta, -w[j])),
                    "for every $j$: no logit exceeds $z_i$ by more than $\\Delta$ ($w_j \\ge 0$)")

# --- Claims ------------------------------------------------------------------
S_rest = Sum(exp((z[j] - z[1]) / T), (j, 2, n))  # the other logits, relative to the top one

cold_bound = Claim(
    "cold_bound",
    "As $T \\to 0^+$ the top logit takes all the weight",
    given=(top_leads,),
    start=minus(1, softmax(z[j] / T, j, n, 1)),
    steps=(
        Step(Sum(exp(z[j] / T), (j, 2, n)) / (exp(z[1] / T) + Sum(exp(z[j] / T), (j, 2, n))),
             "definition of softmax; split off the term $j = 1$", "unfold+align_sums+together"),
        Step(S_rest / (1 + S_rest), "divide above and below by $e^{z_1/T}$", "sum+cancel"),
        Step(S_rest, "the denominator is at least 1", rel="<=",
             certificate=S_rest**2 / (1 + S_rest)),
        Step(Sum(exp((-delta - w[j]) / T), (j, 2, n)), "$z_j - z_1 = -\\delta - w_j$", "expand",
             using=(top_leads,)),
        Step(factors(n - 1, exp(-delta / T)),
             "each term is at most $e^{-\\delta/T}$: $1 - e^{-x} = e^{-x}(x + g(e^{x}))$ with"
             " $x = w_j/T \\ge 0$ and $g \\ge 0$", rel="<=",
             certificate=Sum(exp(-delta / T) * exp(-w[j] / T)
                             * (w[j] / T + gibbs_gap(exp(w[j] / T))), (j, 2, n))),
    ),
    note="So $0 \\le 1 - \\operatorname{softmax}(z/T)_1 \\le (n - 1)e^{-\\delta/T} \\to 0$:"
         " $\\lim_{T \\to 0^+} \\operatorname{softmax}(z/T) = \\mathbf{e}_1$ for every $n$.",
)

cold_limit = Claim(
    "cold_limit",
    "The bound vanishes as $T \\to 0^+$",
    start=Limit(factors(n - 1, exp(-delta / T)), T, 0, "+"),
    steps=(Step(0, "$e^{-\\delta/T} \\to 0$ for $\\delta > 0$; $n$ is fixed", "unfold+doit"),),
    on_sheet=False,
)

S_all = Sum(exp(-w[j] / T), (j, 1, n))

hot_bound = Claim(
    "hot_bound",
    "As $T \\to \\infty$ softmax becomes uniform",
    given=(spread,),
    start=factors(n, softmax(z[j] / T, j, n, i)),
    steps=(
        Step(n * exp(z[i] / T) / Sum(exp(z[j] / T), (j, 1, n)), "definition of softmax",
             "unfold"),
        Step(n * exp(z[i] / T) / Sum(exp((z[i] + Delta - w[j]) / T), (j, 1, n)),
             "$z_j = z_i + \\Delta - w_j$", "unfold+expand", using=(spread,)),
        Step(n * exp(-Delta / T) / S_all, "$e^{(z_i + \\Delta)/T}$ leaves the sum", "sum+cancel"),
        Step(exp(-Delta / T),
             "$\\sum_j e^{-w_j/T} \\le n$: $1 - e^{-x} = e^{-x}(x + g(e^{x}))$ with"
             " $x = w_j/T \\ge 0$", rel=">=",
             certificate=exp(-Delta / T) / S_all
             * Sum(exp(-w[j] / T) * (w[j] / T + gibbs_gap(exp(w[j] / T))), (j, 1, n))),
    ),
    note="Every weight is at least $e^{-\\Delta/T}/n \\to 1/n$; as the $n$ weights sum to 1,"
         " each tends to $1/n$: at high temperature the model samples uniformly.", on_sheet=False,
)

# --- Numeric checks ------------------------------------------------------------------


def _mp_tail(logits: np.ndarray, temp: float) -> float:
    """1 - softmax(z/T)_1 = sum_{j>=2} softmax(z/T)_j in 50-digit arithmetic."""
    import mpmath

    with mpmath.workdps(50):
        e = [mpmath.exp((mpmath.mpf(float(v)) - mpmath.mpf(float(logits[0]))) / temp)
             for v in logits]
        return float(mpmath.fsum(e[1:]) / mpmath.fsum(e))


def check_cold(rng: np.random.Generator, formula) -> Measurement:
    """(n - 1) e^{-delta/T} from the claim: above 1 - softmax_1 (mpmath), tight when every
    other logit sits exactly delta below the top."""
    worst, cases = 0.0, 40
    for case in range(cases):
        size, lead = int(rng.integers(2, 30)), float(rng.uniform(0.1, 3.0))
        temp = float(10.0 ** rng.uniform(-1.5, 0.5))
        logits = rng.normal(size=size) * 3
        logits[0] = float(np.max(logits[1:])) + lead
        if case % 2 == 0:  # the extreme case: all others exactly `lead` below
            logits[1:] = logits[0] - lead
        bound = float(formula(n=size, T=temp, delta=lead))
        tail = _mp_tail(logits, temp)
        worst = max(worst, (tail - bound) / tail)  # the bound must hold
        if case % 2 == 0:  # tail = b / (1 + b): tight up to the factor 1 + b
            worst = max(worst, abs(tail * (1 + bound) / bound - 1))
    return Measurement(max(worst, 0.0), cases, 1e-12,
                       "how far 1 - softmax_1 (50-digit) exceeds the bound, relative; and at"
                       " the extreme logits |tail (1 + b)/b - 1|")


def check_hot(rng: np.random.Generator, formula) -> Measurement:
    """e^{-Delta/T} from the claim: below n softmax(z/T)_i, and nearly attained for many logits
    all Delta above z_i."""
    from llmsym.numeric import softmax as sm

    worst, cases = 0.0, 40
    for case in range(cases):
        size, temp = int(rng.integers(2, 400)), float(10.0 ** rng.uniform(-1, 2))
        logits = rng.uniform(-2, 2, size=size)
        target = int(rng.integers(size))
        spread_ = float(np.max(logits) - logits[target])
        if case % 2 == 0:  # the extreme case: 999 other logits exactly Delta above z_i
            spread_, size, target = float(rng.uniform(0.01, 3)), 1000, 0
            logits = np.concatenate([[0.0], np.full(size - 1, spread_)])
        bound = float(formula(Delta=spread_, T=temp))
        scaled = size * float(sm(logits, temperature=temp)[target])
        worst = max(worst, (bound - scaled) / bound)  # the bound must hold
        if case % 2 == 0:  # ratio n/(n - 1 + e^{-Delta/T}) lies in [1, n/(n - 1)]
            worst = max(worst, scaled / bound - 1 - 1.0 / (size - 1))
    return Measurement(max(worst, 0.0), cases, 1e-12,
                       "how far e^{-Delta/T} exceeds n softmax(z/T)_i (numeric softmax),"
                       " relative; and at n = 1000 extreme logits how far the ratio exceeds"
                       " n/(n - 1)")


def check_stability(rng: np.random.Generator) -> Measurement:
    """Experiment: no NaN or inf as T -> 0+, logits up to +-1e4 at T down to 1e-300."""
    from llmsym.numeric import softmax as sm

    bad, cases = 0, 0
    for temperature in (1e-3, 1e-100, 1e-300):
        for _ in range(10):
            logits = rng.normal(size=int(rng.integers(2, 40))) * 10 + rng.choice([-1e4, 1e4])
            top = int(np.argmax(logits))
            logits[top] += 0.1
            out = sm(logits, temperature=temperature)
            cases += 1
            ok = np.all(np.isfinite(out)) and abs(out.sum() - 1.0) < 1e-12
            bad += not (ok and out[top] == 1.0)
    return Measurement(float(bad), cases, 0.0,
                       "outputs that are not finite, do not sum to 1, or do not put weight 1 on"
                       " the maximum, at T in {1e-3, 1e-100, 1e-300} (|z/T| <= 1e304)")


def example_temperatures():
    """The same logits near both limits."""
    from llmsym.numeric import softmax as sm

    logits = np.array([2.0, 1.0, 0.5])
    rows = [r"T = %g:\ (%s)" % (temp, ", ".join(f"{v:.3f}" for v in sm(logits, temperature=temp)))
            for temp in (0.05, 1.0, 100.0)]
    return ("softmax of the logits $(2, 1, 0.5)$ at $T = 0.05, 1, 100$", r";\quad ".join(rows))


# --- The derivation ------------------------------------------------------------------------
DERIVATION = Derivation(
    id="softmax-temperature",
    title="Softmax temperature",
    topic="Softmax",
    order=13,
    gloss="Dividing the logits by $T$ interpolates between arg-max ($T \\to 0^+$) and uniform"
          " sampling ($T \\to \\infty$), with explicit rates for every $n$.",
    assumptions=("$z$ is a real vector of $n$ logits and $T > 0$.",),
    definitions=(
        Definition("tempered softmax", softmax(z[j] / T, j, n, i),
                   softmax.definition(z[j] / T, j, n, i)),
    ),
    claims=(cold_bound, cold_limit, hot_bound),
    checks=(
        NumericCheck("cold", check_cold, "$(n - 1)e^{-\\delta/T}$ above $1 -"
                     " \\operatorname{softmax}(z/T)_1$ (50-digit), tight at the extreme logits.",
                     claim="cold_bound"),
        NumericCheck("hot", check_hot, "$e^{-\\Delta/T}$ below $n\\operatorname{softmax}(z/T)_i$,"
                     " nearly attained for 1000 logits.", claim="hot_bound"),
        NumericCheck("stability", check_stability, "Experiment: no overflow or NaN for logits"
                     " up to $\\pm 10^4$ at $T$ down to $10^{-300}$."),
    ),
    notation={w: "slack of a logit in a premise, $w_j \\ge 0$",
              delta: "how far the top logit $z_1$ leads every other logit",
              Delta: "how far any logit may exceed $z_i$ (at most the spread"
                     " $\\max_j z_j - \\min_j z_j$)"},
    sources=(
        "Hinton, Vinyals and Dean, Distilling the Knowledge in a Neural Network (2015),"
        " section 2: softmax with a temperature.",
    ),
    examples=(example_temperatures,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
