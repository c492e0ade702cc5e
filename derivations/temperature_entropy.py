"""Softmax temperature and entropy: dH/dT = Var_s(z) / T^3 >= 0.

Statement
    With s = softmax(z / T), T > 0, the entropy H(s) satisfies
        dH/dT = (sum_i s_i z_i^2 - (sum_i s_i z_i)^2) / T^3 = sum_i s_i (z_i - mu)^2 / T^3 >= 0,
    mu = sum_i s_i z_i: the entropy never decreases as the temperature rises.

Proved for every n: the sums over i carry a factor 1/sum_j e^{z_j/T} that does not
depend on i, which the ``factor_sum`` tactic takes out of the sum.

Run on its own: ``python derivations/temperature_entropy.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Derivative, Eq, IndexedBase, Sum, Symbol, symbols

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Step
from llmsym.notation import Notation, entropy, softmax

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of logits
i, j = symbols("i j", integer=True, positive=True)  # component indices
z = IndexedBase("z", real=True)  # logits
T = Symbol("T", positive=True)  # temperature
mu = Symbol("mu", real=True)  # the mean of z under s


class s(Notation):  # noqa: N801 - the letter on paper
    """``s(i)``: component i of softmax(z / T), printed s_i.

    Positive, as a quotient of exponentials; that is all the non-negativity test
    below needs to know about it.
    """

    nargs = 1

    @classmethod
    def definition(cls, index):
        return softmax(z[j] / T, j, n, index).doit()

    def _eval_is_positive(self):
        return True

    def _latex(self, printer, exp=None):
        text = "s_{%s}" % printer._print(self.args[0])
        return text if exp is None else "%s^{%s}" % (text, exp)


class entropy_of_s(entropy):  # noqa: N801
    """H(s), the entropy of the tempered softmax, printed as on paper."""

    def _latex(self, printer, exp=None):
        text = r"H\left(\mathbf{s}\right)"
        return text if exp is None else r"%s^{%s}" % (text, exp)


# --- Claims ------------------------------------------------------------------
normalised = Claim(
    "normalised",
    "The weights sum to one",
    start=Sum(s(i), (i, 1, n)),
    steps=(Step(1, "$1/\\sum_j e^{z_j/T}$ does not depend on $i$: take it out of the sum",
                "unfold+factor_sum+sum"),),
    on_sheet=False,
)

weighted_squares = Sum(s(i) * (z[i] - mu) ** 2, (i, 1, n)) / T**3

entropy_rate = Claim(
    "entropy_rate",
    "Entropy never decreases with temperature",
    start=Derivative(entropy_of_s(s(i), i, n), T),
    steps=(
        Step((Sum(s(i) * z[i] ** 2, (i, 1, n)) - Sum(s(i) * z[i], (i, 1, n)) ** 2) / T**3,
             "$\\log s_i = z_i/T - \\operatorname{LSE}(z/T)$ and $\\sum_i s_i = 1$ give"
             " $H = \\operatorname{LSE}(z/T) - \\sum_i s_i z_i / T$; differentiate, with"
             " $\\partial_T \\operatorname{LSE}(z/T) = -\\sum_i s_i z_i / T^2$",
             "unfold+expand_log+factor_sum+sum+doit+factor_sum+sum+cancel"),
        Step(weighted_squares,
             "a variance: with $\\mu = \\sum_i s_i z_i$ and $\\sum_i s_i = 1$ (claim normalised)",
             using=(Eq(Sum(s(i) * z[i], (i, 1, n)), mu), Eq(normalised.start, 1))),
        Step(0, "a sum of squares with weights $s_i > 0$, and $T > 0$", rel=">=",
             certificate=weighted_squares),
    ),
    note="$dH/dT = \\operatorname{Var}_s(z)/T^3$: zero only when all logits are equal, when"
         " $H = \\log n$ at every temperature.",
)

# --- Numeric checks ------------------------------------------------------------------


def check_entropy_rate(rng: np.random.Generator) -> Measurement:
    """H(softmax(z/T)) rises with T, at the rate Var_s(z)/T^3 (central differences)."""
    from llmsym.numeric import entropy as ent
    from llmsym.numeric import softmax as sm

    worst, cases = 0.0, 30
    temps = np.geomspace(1e-2, 1e2, 60)
    for _ in range(cases):
        logits = rng.normal(size=int(rng.integers(2, 20))) * 3

        def h(temp, logits=logits):
            return float(ent(sm(logits, temperature=temp)))

        curve = np.array([h(temp) for temp in temps])
        worst = max(worst, float(np.max(np.maximum(curve[:-1] - curve[1:], 0.0))))
        for temp in temps[::10]:
            step = 1e-5 * temp
            slope = (h(temp + step) - h(temp - step)) / (2 * step)
            weights = sm(logits, temperature=temp)
            rate = (weights @ logits**2 - (weights @ logits) ** 2) / temp**3
            worst = max(worst, abs(slope - rate) / max(1.0, abs(rate)))
    return Measurement(worst, cases, 1e-6,
                       "largest decrease of H between neighbouring T on a grid 1e-2..1e2, and"
                       " |dH/dT (central differences, step 1e-5 T) - Var_s(z)/T^3| relative to"
                       " max(1, rate)")


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
    gloss="The entropy of $\\operatorname{softmax}(z/T)$ grows with $T$ at the rate"
          " $\\operatorname{Var}_s(z)/T^3$, the variance of the logits under the softmax weights.",
    assumptions=("$z$ is a real vector of $n$ logits and $T > 0$;"
                 " $s = \\operatorname{softmax}(z/T)$.",),
    definitions=(
        Definition("tempered softmax", s(i), s.definition(i)),
        Definition("entropy", entropy_of_s(s(i), i, n), entropy.definition(s(i), i, n)),
    ),
    claims=(normalised, entropy_rate),
    checks=(
        NumericCheck("entropy-rate", check_entropy_rate,
                     "Entropy rises with $T$ on a grid, at the rate"
                     " $\\operatorname{Var}_s(z)/T^3$ (central differences)."),
    ),
    notation={T: "temperature", "s_i": "component $i$ of $\\operatorname{softmax}(z/T)$",
              mu: "mean of $z$ under $s$"},
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
