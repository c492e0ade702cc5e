"""Softmax temperature: one-hot as T -> 0+, uniform as T -> oo.

Statement
    With s = softmax(z / T), T > 0:
        as T -> 0+, s tends to the one-hot vector of the largest logit (when it is unique);
        as T -> oo, s tends to the uniform distribution 1/n.
    (The entropy in between rises with T: derivation temperature-entropy.)

Dividing by the largest exponential is proved for every n. SymPy's ``limit`` cannot
take the limit of a sum of symbolic length, so the limits themselves are proved for
each n = 1..6 and labelled so.

Run on its own: ``python derivations/softmax_temperature.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import IndexedBase, Limit, Sum, Symbol, exp, oo, symbols

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Sizes, Step
from llmsym.notation import softmax

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of logits
i, j = symbols("i j", integer=True, positive=True)  # component indices
z = IndexedBase("z", real=True)  # logits
u = IndexedBase("u", negative=True)  # u_j = z_j - z_1 < 0 for j >= 2: z_1 is the unique maximum
T = Symbol("T", positive=True)  # temperature
SIZES = Sizes(n, 1, 6)


# --- Claims ------------------------------------------------------------------
cold_form = Claim(
    "cold_form",
    "The largest logit's weight",
    start=softmax(z[j] / T, j, n, 1),
    steps=(
        Step(exp(z[1] / T) / (exp(z[1] / T) + Sum(exp(z[j] / T), (j, 2, n))),
             "split off the term $j = 1$", "unfold+align_sums"),
        Step(1 / (1 + Sum(exp((z[j] - z[1]) / T), (j, 2, n))), "divide by $e^{z_1/T}$",
             "sum+cancel"),
    ),
    on_sheet=False,
    note="With $z_1$ the largest logit, every exponent $(z_j - z_1)/T$ is negative.",
)

cold_limit = Claim(
    "cold_limit",
    "As $T \\to 0^+$ the largest logit takes all the weight",
    start=Limit(1 / (1 + Sum(exp(u[j] / T), (j, 2, n))), T, 0, "+"),
    steps=(Step(1, "$e^{u_j/T} \\to 0$ for $u_j = z_j - z_1 < 0$ (claim cold_form)", "doit",
                sizes=SIZES),),
    note="Hence $\\operatorname{softmax}(z/T) \\to e_1$, the one-hot vector of the unique"
         " maximum $z_1$ (the other weights are shown to vanish in claim cold_rest).",
)

cold_rest = Claim(
    "cold_rest",
    "As $T \\to 0^+$ every other logit's weight vanishes",
    start=Limit(exp(u[i] / T) / (1 + Sum(exp(u[j] / T), (j, 2, n))), T, 0, "+"),
    steps=(Step(0, "the numerator tends to 0, the denominator to 1", "doit", sizes=SIZES),),
    on_sheet=False,
    note="Component $i \\ge 2$ of $\\operatorname{softmax}(z/T)$, divided above and below by"
         " $e^{z_1/T}$ as in claim cold_form.",
)

hot_limit = Claim(
    "hot_limit",
    "As $T \\to \\infty$ softmax becomes uniform",
    start=Limit(exp(z[i] / T) / Sum(exp(z[j] / T), (j, 1, n)), T, oo),
    steps=(Step(1 / n, "every $e^{z_j/T} \\to 1$", "doit", sizes=SIZES),),
    note="Whatever the logits: at high temperature the model samples uniformly.",
)

# --- Numeric checks ------------------------------------------------------------------


def _logits(rng: np.random.Generator) -> np.ndarray:
    """Random logits with a unique maximum at least 0.1 above the rest; some near +-1e4."""
    size = int(rng.integers(2, 40))
    logits = rng.normal(size=size) * rng.choice([1.0, 10.0])
    if rng.random() < 0.3:
        logits = logits + rng.choice([-1e4, 1e4])
    top = int(np.argmax(logits))
    rest = np.delete(logits, top)
    logits[top] = max(logits[top], rest.max() + 0.1)
    return logits


def check_limits(rng: np.random.Generator) -> Measurement:
    """softmax(z, temperature=T) at T = 1e-3 is one-hot, at T = 1e6 uniform (llmsym.numeric)."""
    from llmsym.numeric import softmax as sm

    worst, cases = 0.0, 300
    for _ in range(cases):
        logits = _logits(rng)
        size = logits.size
        cold = sm(logits, temperature=1e-3)
        hot = sm(logits, temperature=1e6)
        # cold: the runner-up is >= 0.1 below, so its weight is <= e^{-100}
        worst = max(worst, float(np.max(np.abs(cold - np.eye(size)[np.argmax(logits)]))))
        # hot: n s_i lies between e^{-spread/T} and e^{spread/T}, spread = max z - min z
        bound = np.expm1(np.ptp(logits) / 1e6) / size + 1e-15
        worst = max(worst, float(np.max(np.abs(hot - 1.0 / size))) - bound, 0.0)
    return Measurement(worst, cases, 1e-12,
                       "cold (T = 1e-3): max |s - e_argmax| (the runner-up is >= 0.1 below, so"
                       " <= e^-100); hot (T = 1e6): how far |s_i - 1/n| exceeds"
                       " (e^{spread/T} - 1)/n; logits up to +-1e4")


def check_stability(rng: np.random.Generator) -> Measurement:
    """No NaN or inf as T -> 0+: logits up to +-1e4 at T down to 1e-300."""
    from llmsym.numeric import softmax as sm

    bad, cases = 0, 0
    for temperature in (1e-3, 1e-10, 1e-100, 1e-300):
        for _ in range(50):
            logits = _logits(rng)
            out = sm(logits, temperature=temperature)
            cases += 1
            ok = np.all(np.isfinite(out)) and abs(out.sum() - 1.0) < 1e-12
            bad += not (ok and out[np.argmax(logits)] == 1.0)
    return Measurement(float(bad), cases, 0.0,
                       "outputs that are not finite, do not sum to 1, or do not put weight 1 on"
                       " the maximum, at T in {1e-3, 1e-10, 1e-100, 1e-300} (|z/T| <= 1e304)")


def example_temperatures():
    """The same logits near both limits."""
    from llmsym.numeric import softmax as sm

    logits = np.array([2.0, 1.0, 0.5])
    rows = [r"T = %g:\ (%s)" % (temp, ", ".join(f"{w:.3f}" for w in sm(logits, temperature=temp)))
            for temp in (0.05, 1.0, 100.0)]
    return ("softmax of the logits $(2, 1, 0.5)$ at $T = 0.05, 1, 100$", r";\quad ".join(rows))


# --- The derivation ------------------------------------------------------------------------
DERIVATION = Derivation(
    id="softmax-temperature",
    title="Softmax temperature",
    topic="Softmax",
    order=13,
    gloss="Dividing the logits by $T$ interpolates between arg-max ($T \\to 0^+$) and uniform"
          " sampling ($T \\to \\infty$).",
    assumptions=(
        "$z$ is a real vector of $n$ logits and $T > 0$; $s = \\operatorname{softmax}(z/T)$.",
        "For the limit $T \\to 0^+$: $z_1$ is the unique largest logit (after relabelling), and"
        " $u_j = z_j - z_1 < 0$ for $j \\ge 2$.",
    ),
    definitions=(
        Definition("tempered softmax", softmax(z[j] / T, j, n, i),
                   softmax.definition(z[j] / T, j, n, i)),
    ),
    claims=(cold_form, cold_limit, cold_rest, hot_limit),
    checks=(
        NumericCheck("limits", check_limits,
                     "llmsym.numeric.softmax at $T = 10^{-3}$ is one-hot and at $T = 10^6$"
                     " uniform, within the bounds the limits give."),
        NumericCheck("stability", check_stability,
                     "No overflow or NaN for logits up to $\\pm 10^4$ at $T$ down to"
                     " $10^{-300}$."),
    ),
    notation={T: "temperature", u: "gap of a logit below the maximum, $z_j - z_1$"},
    sources=(
        "Hinton, Vinyals and Dean, Distilling the Knowledge in a Neural Network (2015),"
        " section 2: softmax with a temperature.",
    ),
    examples=(example_temperatures,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
