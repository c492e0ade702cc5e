"""Softmax temperature and entropy: dH/dT = Var_q(z) / T^3 >= 0.

Main results
    normalised       sum_i q_i = 1, for q = softmax(z/T)
    entropy_form     H(q) = log S - A/(T S)   (S, A below)
    entropy_rate     d/dT H(q) = Var_q(z) / T^3, Var_q(z) = sum_i q_i z_i^2 - (sum_i q_i z_i)^2
    variance_nonneg  Var_q(z) = sum_i q_i (z_i - mu)^2 >= 0, mu = sum_i q_i z_i

With S = sum_j e^{z_j/T}, A = sum_j z_j e^{z_j/T} and B = sum_j z_j^2 e^{z_j/T}:
H(q) = log S - A/(T S), dS/dT = -A/T^2, dA/dT = -B/T^2, so
dH/dT = (B/S - A^2/S^2)/T^3. Proved for every n.

Run on its own: ``python derivations/temperature_entropy.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Derivative, Eq, IndexedBase, Sum, Symbol, exp, log, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Notation, entropy, softmax

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of logits
i, j = symbols("i j", integer=True, positive=True)  # component indices
z = IndexedBase("z", real=True)  # logits
T = Symbol("T", positive=True)  # temperature
mu = Symbol("mu", real=True)  # the mean of z under q


class qT(Notation):  # noqa: N801 - the letter on paper
    """``qT(i, T)``: component i of softmax(z / T), printed q_i (T is an argument so that
    derivatives in T see it)."""

    nargs = 2

    @classmethod
    def definition(cls, index, temp):
        return softmax(z[j] / temp, j, n, index)

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return "q_{%s}" % printer._print(self.args[0])


class entropy_q(entropy):  # noqa: N801
    """H(q), the entropy of the tempered softmax, printed as on paper."""

    def _latex(self, printer):
        return r"H\left(\mathbf{q}\right)"


class var_q(Notation):  # noqa: N801
    """``var_q(T)``: the variance of the logits under q = softmax(z/T), printed Var_q(z)."""

    nargs = 1

    @classmethod
    def definition(cls, temp):
        return (Sum(qT(i, temp) * z[i] ** 2, (i, 1, n))
                - Sum(qT(i, temp) * z[i], (i, 1, n)) ** 2)

    def _latex(self, printer):
        return r"\operatorname{Var}_{\mathbf{q}}(\mathbf{z})"


q = qT(i, T)
S = Sum(exp(z[j] / T), (j, 1, n))
A = Sum(z[j] * exp(z[j] / T), (j, 1, n))
B = Sum(z[j] ** 2 * exp(z[j] / T), (j, 1, n))

DEF_Q = Definition("tempered softmax", q, softmax(z[j] / T, j, n, i))
DEF_VAR = Definition("variance under q", var_q(T), var_q.definition(T))

# --- Claims ------------------------------------------------------------------
normalised = Claim(
    "normalised",
    "The weights sum to one",
    start=Sum(q, (i, 1, n)),
    steps=(Step(1, "$1/\\sum_j e^{z_j/T}$ does not depend on $i$: take it out of the sum",
                "unfold+factor_sum+sum"),),
    on_sheet=False,
)

entropy_form = Claim(
    "entropy_form",
    "Entropy of the tempered softmax in terms of two sums",
    start=entropy_q(q, i, n),
    steps=(Step(log(S) - A / (T * S),
                "$\\log q_i = z_i/T - \\log S$ and $\\sum_i q_i = 1$, with $S = \\sum_j e^{z_j/T}$,"
                " $A = \\sum_j z_j e^{z_j/T}$", "unfold+expand_log+factor_sum+sum+cancel"),),
    on_sheet=False,
)

entropy_rate = Claim(
    "entropy_rate",
    "Entropy rises with temperature at the rate $\\operatorname{Var}_q(z)/T^3$",
    start=Derivative(entropy_q(q, i, n), T),
    steps=(
        Step(Derivative(log(S) - A / (T * S), T), "$H = \\log S - A/(TS)$", "expand",
             using=(entropy_form,)),
        Step((B / S - A**2 / S**2) / T**3,
             "differentiate: $S' = -A/T^2$, $A' = -B/T^2$ with $B = \\sum_j z_j^2 e^{z_j/T}$",
             "doit+sum+cancel"),
        Step(var_q(T) / T**3, "$B/S = \\sum_i q_i z_i^2$ and $A/S = \\sum_i q_i z_i$",
             "unfold+factor_sum+sum+cancel"),
    ),
    where=(DEF_Q, DEF_VAR),
    note="$\\operatorname{Var}_q(z) \\ge 0$ (next claim): the entropy never decreases as $T$"
         " rises, and is constant only when all logits are equal ($H = \\log n$).", on_sheet=False,
)

variance_nonneg = Claim(
    "variance_nonneg",
    "The variance under $q$ is a weighted sum of squares",
    start=var_q(T),
    steps=(
        Step(Sum(q * (z[i] - mu) ** 2, (i, 1, n)),
             "expand the square with $\\mu = \\sum_i q_i z_i$ and $\\sum_i q_i = 1$",
             "unfold+sum",
             using=(Eq(Sum(q * z[i], (i, 1, n)), mu), normalised)),
        Step(0, "weights $q_i > 0$ times squares", "nonneg", rel=">="),
    ),
    on_sheet=False,
)

# --- Numeric checks ------------------------------------------------------------------


def check_entropy_rate(rng: np.random.Generator, formula) -> Measurement:
    """Var_q(z)/T^3 from the claim against central differences of the numeric H(softmax(z/T))."""
    from llmsym.numeric import entropy as ent
    from llmsym.numeric import softmax as sm

    worst, cases = 0.0, 30
    for _ in range(cases):
        logits = rng.normal(size=int(rng.integers(2, 12))) * 3
        temp = float(10.0 ** rng.uniform(-0.5, 1))

        def h(t, logits=logits):
            return float(ent(sm(logits, temperature=t)))

        step = 1e-4 * temp
        slope = (h(temp + step) - h(temp - step)) / (2 * step)
        rate = float(formula(z=logits, n=logits.size, T=temp))
        worst = max(worst, abs(slope - rate) / max(1e-2, abs(slope)))
    return Measurement(worst, cases, 1e-5,
                       "|dH/dT (central differences of numeric entropy, step 1e-4 T) -"
                       " formula| relative to max(0.01, |dH/dT|)")


def check_variance(rng: np.random.Generator, formula) -> Measurement:
    """Var_q(z) = sum_i q_i z_i^2 - (sum_i q_i z_i)^2 from the claim against NumPy's weighted
    variance."""
    from llmsym.numeric import softmax as sm

    worst, cases = 0.0, 30
    for _ in range(cases):
        logits = rng.normal(size=int(rng.integers(1, 12))) * 3
        temp = float(10.0 ** rng.uniform(-0.5, 1))
        weights = sm(logits, temperature=temp)
        ref = float(np.cov(logits, aweights=weights, bias=True)) if logits.size > 1 else 0.0
        got = float(formula(z=logits, n=logits.size, T=temp))
        worst = max(worst, abs(got - ref) / max(1.0, ref))
    return Measurement(worst, cases, 1e-12,
                       "Var_q(z) from the formula vs numpy.cov with"
                       " aweights = softmax(z/T)")


def example_temperatures():
    """Entropy of the same logits at three temperatures, against its ceiling log n."""
    from llmsym.numeric import entropy as ent
    from llmsym.numeric import softmax as sm

    logits = np.array([2.0, 1.0, 0.5])
    rows = [r"H_{T = %g} = %.3f" % (temp, float(ent(sm(logits, temperature=temp))))
            for temp in (0.25, 1.0, 4.0)]
    return ("entropy (nats) of $\\operatorname{softmax}((2, 1, 0.5)/T)$; the ceiling is"
            " $\\log 3 = %.3f$" % np.log(3), r",\quad ".join(rows))


# --- The derivation ------------------------------------------------------------------------
DERIVATION = Derivation(
    id="temperature-entropy",
    title="Entropy rises with temperature",
    topic="Softmax",
    order=14,
    gloss="The entropy of $q = \\operatorname{softmax}(z/T)$ grows with $T$ at the rate"
          " $\\operatorname{Var}_q(z)/T^3$, the variance of the logits under $q$.",
    assumptions=("$z$ is a real vector of $n$ logits and $T > 0$;"
                 " $q = \\operatorname{softmax}(z/T)$.",),
    definitions=(DEF_Q, DEF_VAR),
    claims=(normalised, entropy_form, entropy_rate, variance_nonneg),
    checks=(
        NumericCheck("entropy-rate", check_entropy_rate, "$\\operatorname{Var}_q(z)/T^3$"
                     " against central differences of the numeric entropy.",
                     claim="entropy_rate"),
        NumericCheck("variance", check_variance, "$\\operatorname{Var}_q(z)$ against NumPy's"
                     " weighted variance.", claim="variance_nonneg", side="start"),
    ),
    notation={mu: "mean of $z$ under $q$"},
    sources=(
        "Ackley, Hinton and Sejnowski, A learning algorithm for Boltzmann machines (1985):"
        " the Boltzmann distribution, whose entropy derivative is a variance (the heat"
        " capacity of statistical mechanics).",
    ),
    examples=(example_temperatures,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
