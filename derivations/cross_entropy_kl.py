"""Cross-entropy is entropy plus KL divergence, and is minimised by the target.

Statement
    For distributions p, q over n outcomes:
        H(p, q) = H(p) + KL(p || q),
        H(p, q) >= H(p), with equality only at q = p,
    so argmin_q H(p, q) = argmin_q KL(p || q) = p; for a one-hot target e_y,
    H(e_y, q) = -log q_y.

The inequality uses the certificate sum_i p_i g(q_i/p_i) >= 0, with
g(x) = x - 1 - log x >= 0 proved in the ``gibbs-inequality`` derivation.

Run on its own: ``python derivations/cross_entropy_kl.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, KroneckerDelta, Sum, Symbol, log

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Step
from llmsym.notation import KL, cross_entropy, entropy, gibbs_gap

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of outcomes
i = Symbol("i", integer=True, positive=True)  # outcome index
p = IndexedBase("p", positive=True)  # the target distribution
q = IndexedBase("q", positive=True)  # the model distribution

NORMALISED = (Eq(Sum(p[i], (i, 1, n)), 1), Eq(Sum(q[i], (i, 1, n)), 1))

# --- Cross-entropy and KL ---------------------------------------------------------
decomposition = Claim(
    "decomposition",
    "Cross-entropy is entropy plus KL divergence",
    start=cross_entropy(p[i], q[i], i, n),
    steps=(
        Step(-Sum(p[i] * log(q[i]), (i, 1, n)), "definition of cross-entropy", "unfold"),
        Step(-Sum(p[i] * log(p[i]), (i, 1, n)) + Sum(p[i] * log(p[i] / q[i]), (i, 1, n)),
             "add and subtract $\\sum_i p_i \\log p_i$; $\\log(p_i/q_i) = \\log p_i - \\log q_i$",
             "sum+expand_log"),
        Step(entropy(p[i], i, n) + KL(p[i], q[i], i, n),
             "definitions of entropy and KL divergence", "unfold"),
    ),
)

minimiser = Claim(
    "minimiser",
    "Cross-entropy is minimised by the target itself",
    start=cross_entropy(p[i], q[i], i, n),
    steps=(
        Step(entropy(p[i], i, n) + Sum(p[i] - q[i], (i, 1, n)),
             "$H(p, q) = H(p) + \\operatorname{KL}(p \\| q)$ and Gibbs: the difference is"
             " $\\sum_i p_i\\, g(q_i/p_i) \\ge 0$", rel=">=",
             certificate=Sum(p[i] * gibbs_gap(q[i] / p[i]), (i, 1, n))),
        Step(entropy(p[i], i, n), "both distributions sum to one", using=NORMALISED),
    ),
    note="Equality exactly at $q = p$: $\\arg\\min_q H(p, q) = \\arg\\min_q"
         " \\operatorname{KL}(p \\| q) = p$.",
)

one_hot = Claim(
    "one_hot",
    "Cross-entropy of a one-hot target",
    start=cross_entropy(KroneckerDelta(i, 1), q[i], i, n),
    steps=(
        Step(-log(q[1]) - Sum(KroneckerDelta(i, 1) * log(q[i]), (i, 2, n)),
             "definition; split off the term $i = 1$", "unfold+align_sums"),
        Step(-log(q[1]), "$\\delta_{i1} = 0$ for $i \\ge 2$", "doit"),
    ),
    note="Number the outcomes so that the target is outcome 1: the loss is $-\\log q_y$.",
)

# --- Numeric checks ------------------------------------------------------------


def random_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two distributions, often with near-zero entries: 1e-300, subnormals, exact zeros in p."""
    size = int(rng.integers(2, 50))
    alpha = rng.choice([0.05, 1.0])  # small alpha: most of the mass on a few outcomes
    p, q = rng.dirichlet(np.full(size, alpha)), rng.dirichlet(np.full(size, alpha))
    tiny = rng.random(size) < 0.2
    p[tiny] = rng.choice([0.0, 1e-300, 5e-324], size=int(tiny.sum()))
    q[rng.random(size) < 0.2] = 1e-300
    return p / p.sum(), q / q.sum()


def _reference(p: np.ndarray, q: np.ndarray) -> tuple[float, float, float, float]:
    """H(p), H(p, q), KL(p || q) with 50-digit mpmath, and the scale sum |p_i log p_i| + ..."""
    import mpmath

    with mpmath.workdps(50):
        h = hx = scale = mpmath.mpf(0)
        for pi, qi in zip(p, q, strict=True):
            if pi == 0:
                continue  # 0 log 0 = 0
            a, b = mpmath.mpf(float(pi)) * mpmath.log(pi), mpmath.mpf(float(pi)) * mpmath.log(qi)
            h, hx, scale = h - a, hx - b, scale + abs(a) + abs(b)
        return float(h), float(hx), float(hx - h), float(scale)


def check_reference(rng: np.random.Generator) -> Measurement:
    """entropy, cross_entropy, kl_divergence against 50-digit mpmath sums on the same inputs."""
    from llmsym.numeric import cross_entropy as ce
    from llmsym.numeric import entropy as ent
    from llmsym.numeric import kl_divergence as kl

    worst, cases = 0.0, 120
    for _ in range(cases):
        p, q = random_pair(rng)
        h, hx, div, scale = _reference(p, q)
        got = (float(ent(p)), float(ce(p, q)), float(kl(p, q)))
        worst = max(worst, max(abs(a - b) for a, b in zip(got, (h, hx, div), strict=True))
                    / (1.0 + scale))
    return Measurement(worst, cases, 1e-13,
                       "float64 entropy, cross-entropy, KL vs 50-digit mpmath, error relative to"
                       " 1 + sum_i |p_i log p_i| + |p_i log q_i| (n <= 50 terms: rounding"
                       " <= n eps); probabilities down to 5e-324 and exact zeros")


def check_decomposition(rng: np.random.Generator) -> Measurement:
    """H(p, q) - H(p) equals KL and is never negative; q = p attains the minimum."""
    from llmsym.numeric import cross_entropy as ce
    from llmsym.numeric import entropy as ent
    from llmsym.numeric import kl_divergence as kl

    worst, cases = 0.0, 200
    for _ in range(cases):
        p, q = random_pair(rng)
        excess = float(ce(p, q) - ent(p))  # no clipping on this route
        scale = 1.0 + abs(float(ce(p, q)))
        worst = max(worst,
                    abs(excess - float(kl(p, q))) / scale,  # the decomposition
                    max(0.0, -excess) / scale,  # Gibbs: H(p, q) >= H(p)
                    abs(float(ce(p, p) - ent(p))) / scale)  # equality at q = p
    return Measurement(worst, cases, 1e-13,
                       "|H(p,q) - H(p) - KL(p||q)|, the shortfall of H(p,q) below H(p), and"
                       " |H(p,p) - H(p)|, each relative to 1 + H(p,q), over random pairs with"
                       " near-zero probabilities")


def example_prediction():
    """A three-way prediction, target outcome 1: loss and perplexity of one token."""
    from llmsym.numeric import cross_entropy as ce

    q = np.array([0.7, 0.2, 0.1])
    loss = float(ce(np.array([1.0, 0.0, 0.0]), q))
    return ("cross-entropy of the prediction $(0.7, 0.2, 0.1)$ for target outcome 1",
            r"H(\mathbf{e}_1, \mathbf{q}) = -\log 0.7 = %.4f \text{ nats}, \quad"
            r" e^{H} = %.4f" % (loss, np.exp(loss)))


# --- The derivation --------------------------------------------------------------
DERIVATION = Derivation(
    id="cross-entropy-kl",
    title="Cross-entropy, entropy and KL divergence",
    topic="Information theory",
    order=21,
    gloss="Cross-entropy is the target's entropy plus its KL divergence from the model; KL is"
          " never negative, so the best model of a distribution is the distribution itself.",
    assumptions=(
        "$p$ and $q$ are probability distributions over $n$ outcomes: $\\sum_i p_i = \\sum_i q_i"
        " = 1$.",
        "Every $p_i > 0$ and $q_i > 0$; an outcome with $p_i = 0$ adds nothing ($0 \\log 0 = 0$)"
        " and is dropped from the sums.",
        "Logarithms are natural: entropies are in nats.",
    ),
    definitions=(
        Definition("entropy", entropy(p[i], i, n), entropy.definition(p[i], i, n)),
        Definition("cross-entropy", cross_entropy(p[i], q[i], i, n),
                   cross_entropy.definition(p[i], q[i], i, n)),
        Definition("KL divergence", KL(p[i], q[i], i, n), KL.definition(p[i], q[i], i, n)),
    ),
    claims=(decomposition, minimiser, one_hot),
    checks=(
        NumericCheck("reference", check_reference,
                     "llmsym.numeric entropy, cross-entropy and KL against 50-digit mpmath, with"
                     " probabilities down to 5e-324 and exact zeros."),
        NumericCheck("decomposition", check_decomposition,
                     "$H(p, q) - H(p) = \\operatorname{KL}(p \\| q) \\ge 0$ over random pairs;"
                     " $q = p$ attains the minimum."),
    ),
    notation={p: "the target distribution (data)", q: "the model distribution"},
    sources=(
        "Cover and Thomas, Elements of Information Theory, 2nd ed. (2006), sections 2.3 and 2.6:"
        " relative entropy and the information inequality.",
        "Goodfellow, Bengio and Courville, Deep Learning (2016), section 3.13: cross-entropy and"
        " KL divergence.",
    ),
    examples=(example_prediction,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
