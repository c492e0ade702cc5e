"""The gradient of the cross-entropy loss through softmax, and the softmax Jacobian.

Statement
    With s = softmax(z) and a target outcome y:
        d/dz_i [-log s_y] = s_i - [i = y],
        d s_i / d z_k   = s_i ([i = k] - s_k),  i.e.  J = diag(s) - s s^T.

Differentiating sum_{j=1}^n e^{z_j} by z_i leaves SymPy a Kronecker delta it can
resolve only when it knows 1 <= i <= n. Softmax permutes with its input and LSE
is invariant under permutations, so we differentiate by z_1 (any component,
relabelled): then every step is proved for symbolic n, with no size limit.

Run on its own: ``python derivations/softmax_gradient.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sympy import Derivative, IndexedBase, KroneckerDelta, Sum, Symbol, exp, log, symbols

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Step
from llmsym.notation import logsumexp, softmax

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of classes (vocabulary size)
i, j = symbols("i j", integer=True, positive=True)  # component indices
y = Symbol("y", integer=True, positive=True)  # the target class
z = IndexedBase("z", real=True)  # logits




def s(index):
    """softmax(z)_index."""
    return softmax(z[j], j, n, index)


# --- Claims ------------------------------------------------------------------
ce_gradient = Claim(
    "ce_gradient",
    "Gradient of the cross-entropy loss through softmax",
    start=Derivative(-log(s(y)), z[1]),
    steps=(
        Step(Derivative(logsumexp(z[j], j, n) - z[y], z[1]),
             "$-\\log \\operatorname{softmax}(z)_y = \\operatorname{LSE}(z) - z_y$",
             "unfold+expand_log"),
        Step(Derivative(logsumexp(z[j], j, n), z[1]) - KroneckerDelta(1, y),
             "linearity; $\\partial z_y / \\partial z_1 = [y = 1]$", "doit"),
        Step(s(1) - KroneckerDelta(1, y),
             "$\\partial \\operatorname{LSE}(z) / \\partial z_1 = e^{z_1} / \\sum_j e^{z_j}$:"
             " only the term $j = 1$ depends on $z_1$", "unfold+doit+doit"),
    ),
    note="For every component (relabel it $z_1$): $\\nabla_z (-\\log s_y) = s - e_y$, the"
         " prediction minus the one-hot target. Bounded by 1 in every component; zero only"
         " when the model puts all its mass on $y$.",
)

jacobian = Claim(
    "jacobian",
    "The softmax Jacobian",
    start=Derivative(s(i), z[1]),
    steps=(
        Step(KroneckerDelta(1, i) * exp(z[i]) / Sum(exp(z[j]), (j, 1, n))
             - exp(z[i]) * exp(z[1]) / Sum(exp(z[j]), (j, 1, n)) ** 2,
             "quotient rule: $\\partial_1 e^{z_i} = [i = 1]\\, e^{z_i}$ and"
             " $\\partial_1 \\sum_j e^{z_j} = e^{z_1}$", "unfold+doit+doit"),
        Step(s(i) * (KroneckerDelta(1, i) - s(1)), "factor out $s_i$", "unfold+cancel"),
    ),
    note="Column 1 of the Jacobian; by relabelling, every column: $\\partial s_i / \\partial z_k"
         " = s_i([i = k] - s_k)$, i.e. $J = \\operatorname{diag}(s) - s s^\\top$, symmetric with"
         " rows summing to zero.",
)

# --- Numeric checks ----------------------------------------------------------------

STEP = 1e-4  # central differences: truncation ~ STEP^2 |f'''|, rounding ~ eps |f| / STEP


def _random_logits(rng: np.random.Generator) -> np.ndarray:
    """Logits of moderate size, or with entries near +-1e4 (a saturated softmax)."""
    size = int(rng.integers(1, 30))
    logits = rng.normal(size=size) * 3
    if rng.random() < 0.3:
        logits[rng.integers(size)] += rng.choice([-1e4, 1e4])
    return logits


def _central_difference(f: Callable[[np.ndarray], np.ndarray], at: np.ndarray) -> np.ndarray:
    """Columns d f / d at_k by central differences with step STEP."""
    cols = []
    for col in range(at.size):
        e = np.zeros_like(at)
        e[col] = STEP
        cols.append((f(at + e) - f(at - e)) / (2 * STEP))
    return np.array(cols).T


def check_gradient(rng: np.random.Generator) -> Measurement:
    """softmax(z) - e_y against central differences of LSE(z) - z_y (llmsym.numeric)."""
    from llmsym.numeric import logsumexp as lse
    from llmsym.numeric import softmax as sm

    worst, cases = 0.0, 200
    for _ in range(cases):
        logits = _random_logits(rng)
        target = int(rng.integers(logits.size))
        claimed = sm(logits) - np.eye(logits.size)[target]
        numeric = _central_difference(lambda v, t=target: np.atleast_1d(lse(v) - v[t]), logits)
        worst = max(worst, float(np.max(np.abs(claimed - numeric[0]))))
    return Measurement(worst, cases, 1e-6,
                       "max |softmax(z) - e_y - central difference of LSE(z) - z_y|, step 1e-4,"
                       " logits up to +-1e4 (rounding eps*1e4/1e-4 ~ 2e-8, truncation ~1e-8)")


def check_jacobian(rng: np.random.Generator) -> Measurement:
    """diag(s) - s s^T against central differences of llmsym.numeric.softmax."""
    from llmsym.numeric import softmax as sm

    worst, cases = 0.0, 200
    for _ in range(cases):
        logits = _random_logits(rng)
        probs = sm(logits)
        claimed = np.diag(probs) - np.outer(probs, probs)
        worst = max(worst, float(np.max(np.abs(claimed - _central_difference(sm, logits)))))
    return Measurement(worst, cases, 1e-7,
                       "max |diag(s) - s s^T - central differences of softmax|, step 1e-4"
                       " (outputs in [0, 1]: rounding ~eps/1e-4 ~ 2e-12, truncation ~1e-8)")


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
        " class is $y \\in \\{1, \\dots, n\\}$.",
        "Indices range over $1..n$; $[i = y]$ is $\\delta_{iy}$. Softmax permutes with its"
        " input, so differentiating by $z_1$ loses no generality: any component can be"
        " relabelled $z_1$.",
    ),
    definitions=(
        Definition("softmax", s(i), softmax.definition(z[j], j, n, i)),
        Definition("log-sum-exp", logsumexp(z[j], j, n), logsumexp.definition(z[j], j, n)),
    ),
    claims=(ce_gradient, jacobian),
    checks=(
        NumericCheck("gradient", check_gradient,
                     "$s - e_y$ against central differences of the loss, logits up to"
                     " $\\pm 10^4$."),
        NumericCheck("jacobian", check_jacobian,
                     "$\\operatorname{diag}(s) - s s^\\top$ against central differences of"
                     " softmax."),
    ),
    notation={z: "logits", y: "the target class"},
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
