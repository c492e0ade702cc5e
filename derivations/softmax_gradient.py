"""The gradient of the cross-entropy loss through softmax, and the softmax Jacobian.

Main results
    log_softmax   -log softmax(z)_y = LSE(z) - z_y
    ce_gradient   i <= n  ⊢  d/dz_i [-log softmax(z)_y] = softmax(z)_i - [i = y]
    jacobian      j <= n  ⊢  d softmax(z)_i / d z_j = softmax(z)_i ([i = j] - softmax(z)_j)

For every component i (and j): as vectors, grad_z(-log s_y) = s - e_y and
J = diag(s) - s s^T, with s = softmax(z). Differentiating sum_{k=1}^n e^{z_k} by
z_i leaves sum_k [i = k] e^{z_k}, which is e^{z_i} exactly when 1 <= i <= n: that
is the premise each claim shows.

Run on its own: ``python derivations/softmax_gradient.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sympy import Derivative, IndexedBase, KroneckerDelta, Le, Sum, Symbol, exp, log, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Notation, factors, logsumexp, minus, softmax

# --- Notation ----------------------------------------------------------------------


class iverson(Notation):  # noqa: N801 - Iverson's bracket
    """``iverson(a, b)`` = [a = b]: 1 when a = b, else 0 (Kronecker's delta)."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return KroneckerDelta(a, b)

    def _latex(self, printer):
        a, b = (printer._print(x) for x in self.args)
        return rf"[{a} = {b}]"


# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of classes (vocabulary size)
i, j, k = symbols("i j k", integer=True, positive=True)  # component indices
y = Symbol("y", integer=True, positive=True)  # the target class
z = IndexedBase("z", real=True)  # logits


def s(index):
    """softmax(z)_index (the summation index k is bound inside)."""
    return softmax(z[k], k, n, index)


S = Sum(exp(z[k]), (k, 1, n))

# --- Premises --------------------------------------------------------------------
i_in_range = Hypothesis(Le(i, n), "$z_i$ is one of the $n$ logits")
j_in_range = Hypothesis(Le(j, n), "$z_j$ is one of the $n$ logits")

# --- Claims ------------------------------------------------------------------
log_softmax = Claim(
    "log_softmax",
    "Negative log-softmax is log-sum-exp minus the logit",
    start=-log(s(y)),
    steps=(Step(minus(logsumexp(z[k], k, n), z[y]),
                "$\\log(e^{z_y}/S) = z_y - \\log S$", "unfold+expand_log"),),
    on_sheet=False,
)

ce_gradient = Claim(
    "ce_gradient",
    "Gradient of the cross-entropy through softmax: $\\operatorname{softmax}(z) - e_y$",
    given=(i_in_range,),
    start=Derivative(-log(s(y)), z[i]),
    steps=(
        Step(Derivative(minus(logsumexp(z[k], k, n), z[y]), z[i]),
             "$-\\log \\operatorname{softmax}(z)_y = \\operatorname{LSE}(z) - z_y$", "expand",
             using=(log_softmax,)),
        Step(Derivative(logsumexp(z[k], k, n), z[i]) - KroneckerDelta(i, y),
             "linearity; $\\partial z_y / \\partial z_i = [i = y]$", "doit"),
        Step(minus(s(i), iverson(i, y)),
             "$\\partial \\log S/\\partial z_i = \\sum_k [i = k] e^{z_k}/S = e^{z_i}/S$ for"
             " $1 \\le i \\le n$", "unfold+doit+doit"),
    ),
    note="As a vector: $\\nabla_z(-\\log s_y) = s - \\mathbf{e}_y$ with"
         " $s = \\operatorname{softmax}(z)$: prediction minus one-hot target, each component in"
         " $(-1, 1)$, zero only when all the mass is on $y$.",
)

jacobian = Claim(
    "jacobian",
    "The softmax Jacobian: $\\operatorname{diag}(s) - s s^\\top$",
    given=(j_in_range,),
    start=Derivative(s(i), z[j]),
    steps=(
        Step(KroneckerDelta(i, j) * exp(z[i]) / S - exp(z[i]) * exp(z[j]) / S**2,
             "quotient rule: $\\partial_j e^{z_i} = [i = j]\\, e^{z_i}$ and"
             " $\\partial_j S = e^{z_j}$ for $1 \\le j \\le n$", "unfold+doit+doit"),
        Step(factors(s(i), iverson(i, j) - s(j)), "factor out"
             " $\\operatorname{softmax}(z)_i$", "unfold+cancel"),
    ),
    note="As a matrix: $J = \\operatorname{diag}(s) - s s^\\top$, symmetric, rows summing to"
         " zero; when $s$ saturates to one-hot, $J \\to 0$ and gradients vanish.", on_sheet=False,
)

# --- Numeric checks ----------------------------------------------------------------

STEP = 1e-4  # central differences: truncation ~ STEP^2 |f'''|, rounding ~ eps |f| / STEP


def _random_logits(rng: np.random.Generator) -> np.ndarray:
    """Logits of moderate size, or with one entry near +-100 (a saturated softmax)."""
    size = int(rng.integers(1, 12))
    logits = rng.normal(size=size) * 3
    if rng.random() < 0.3:
        logits[rng.integers(size)] += rng.choice([-100.0, 100.0])
    return logits


def _central_difference(f: Callable[[np.ndarray], np.ndarray], at: np.ndarray) -> np.ndarray:
    """Columns d f / d at_k by central differences with step STEP."""
    cols = []
    for col in range(at.size):
        e = np.zeros_like(at)
        e[col] = STEP
        cols.append((f(at + e) - f(at - e)) / (2 * STEP))
    return np.array(cols).T


def check_gradient(rng: np.random.Generator, formula) -> Measurement:
    """softmax(z)_i - [i = y] from the claim, every i, against central differences of the
    numeric LSE(z) - z_y."""
    from llmsym.numeric import logsumexp as lse

    worst, cases = 0.0, 20
    for _ in range(cases):
        logits = _random_logits(rng)
        target = int(rng.integers(1, logits.size + 1))
        numeric = _central_difference(
            lambda v, t=target: np.atleast_1d(lse(v) - v[t - 1]), logits)[0]
        shift = float(np.max(logits))  # the formula is the plain quotient: keep exp in range
        got = [float(formula(z=logits - shift, n=logits.size, i=c, y=target))
               for c in range(1, logits.size + 1)]
        worst = max(worst, float(np.max(np.abs(np.array(got) - numeric))))
    return Measurement(worst, cases, 1e-7,
                       "max |formula - central difference of LSE(z) - z_y| over every component,"
                       " step 1e-4")


def check_jacobian(rng: np.random.Generator, formula) -> Measurement:
    """softmax_i ([i = j] - softmax_j) from the claim, every (i, j), against central
    differences of the numeric softmax."""
    from llmsym.numeric import softmax as sm

    worst, cases = 0.0, 15
    for _ in range(cases):
        logits = _random_logits(rng)
        numeric = _central_difference(sm, logits)
        shifted = logits - float(np.max(logits))
        got = np.array([[float(formula(z=shifted, n=logits.size, i=r, j=c))
                         for c in range(1, logits.size + 1)]
                        for r in range(1, logits.size + 1)])
        worst = max(worst, float(np.max(np.abs(got - numeric))))
    return Measurement(worst, cases, 1e-7,
                       "max |formula - central differences of numeric softmax| over every"
                       " entry, step 1e-4")


def example_gradient():
    """The gradient for the logits (2, 1, 0.5) and target class 1."""
    from llmsym.numeric import softmax as sm

    grad = sm(np.array([2.0, 1.0, 0.5])) - np.array([1.0, 0.0, 0.0])
    return ("gradient of the loss for logits $(2, 1, 0.5)$ and target class 1",
            r"\nabla_z (-\log s_1) = (%s)" % ", ".join(f"{g:.3f}" for g in grad))


# --- The derivation ------------------------------------------------------------------
DERIVATION = Derivation(
    id="softmax-gradient",
    title="Gradient of the softmax cross-entropy",
    topic="Information theory",
    order=23,
    gloss="Through softmax, the gradient of the cross-entropy loss is the prediction minus the"
          " one-hot target; the Jacobian of softmax is $\\operatorname{diag}(s) - s s^\\top$.",
    assumptions=(
        "$z$ is a real vector of $n$ logits, $s = \\operatorname{softmax}(z)$, and the target"
        " class is $y$.",
        "$[a = b]$ is 1 when $a = b$ and 0 otherwise (Kronecker's $\\delta_{ab}$).",
    ),
    definitions=(
        Definition("softmax", s(i), softmax.definition(z[k], k, n, i)),
        Definition("log-sum-exp", logsumexp(z[k], k, n), logsumexp.definition(z[k], k, n)),
        Definition("Iverson bracket", iverson(i, j), KroneckerDelta(i, j)),
    ),
    claims=(log_softmax, ce_gradient, jacobian),
    checks=(
        NumericCheck("gradient", check_gradient, "$\\operatorname{softmax}(z)_i - [i = y]$ for"
                     " every $i$ against central differences of the loss.",
                     claim="ce_gradient"),
        NumericCheck("jacobian", check_jacobian, "$\\operatorname{softmax}(z)_i([i = j] -"
                     " \\operatorname{softmax}(z)_j)$ for every $(i, j)$ against central"
                     " differences of softmax.", claim="jacobian"),
    ),
    sources=(
        "Goodfellow, Bengio and Courville, Deep Learning (2016), section 6.2.2.3: softmax units"
        " and the gradient of the log-likelihood.",
        "Bishop, Pattern Recognition and Machine Learning (2006), section 4.3.4: the gradient"
        " of the multiclass cross-entropy.",
    ),
    examples=(example_gradient,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
