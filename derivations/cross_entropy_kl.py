"""Cross-entropy is entropy plus KL divergence, and is minimised by the target.

Main results
    decomposition   H(p, q) = H(p) + KL(p || q)
    minimiser       sum p = sum q = 1  ⊢  H(p, q) >= H(p)   (= at q = p: min_q H(p, q) = H(p))
    at_target       H(p, p) = H(p)
    one_hot         y <= n  ⊢  H(e_y, q) = -log q_y

The inequality uses the certificate sum_i p_i g(q_i/p_i) >= 0, with
g(x) = x - 1 - log x >= 0 proved in the ``gibbs-inequality`` derivation (which
also shows that equality needs q = p).

Run on its own: ``python derivations/cross_entropy_kl.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, KroneckerDelta, Le, Sum, Symbol, log

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import KL, Notation, cross_entropy, entropy, factors, gibbs_gap, terms

# --- Notation ----------------------------------------------------------------------


class one_hot(Notation):  # noqa: N801 - the name readers know
    """``one_hot(i, y)``: component i of the one-hot vector e_y, that is [i = y]."""

    nargs = 2

    @classmethod
    def definition(cls, i, y):
        return KroneckerDelta(i, y)

    def _latex(self, printer):
        return r"\mathbf{e}_{%s}" % printer._print(self.args[1])


# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of outcomes
i = Symbol("i", integer=True, positive=True)  # outcome index
y = Symbol("y", integer=True, positive=True)  # the target outcome
p = IndexedBase("p", positive=True)  # the target distribution
q = IndexedBase("q", positive=True)  # the model distribution

# --- Premises ------------------------------------------------------------------------
NORMALISED = (Hypothesis(Eq(Sum(p[i], (i, 1, n)), 1), "$p$ is a distribution"),
              Hypothesis(Eq(Sum(q[i], (i, 1, n)), 1), "$q$ is a distribution"))
target_in_range = Hypothesis(Le(y, n), "the target is one of the $n$ outcomes")

# --- Definitions (printed on the face) -------------------------------------------
DEFINITIONS = (
    Definition("entropy", entropy(p[i], i, n), -Sum(factors(p[i], log(p[i])), (i, 1, n)),
               on_sheet=False, title="Entropy (nats)"),
    Definition("cross-entropy", cross_entropy(p[i], q[i], i, n),
               -Sum(factors(p[i], log(q[i])), (i, 1, n)), on_sheet=False,
               title="Cross-entropy"),
    Definition("KL divergence", KL(p[i], q[i], i, n),
               Sum(factors(p[i], log(p[i] / q[i])), (i, 1, n)), on_sheet=True,
               title="KL divergence"),
)

# --- Claims ---------------------------------------------------------
decomposition = Claim(
    "decomposition",
    "Cross-entropy is entropy plus KL divergence",
    start=cross_entropy(p[i], q[i], i, n),
    steps=(
        Step(-Sum(p[i] * log(q[i]), (i, 1, n)), "definition of cross-entropy", "unfold"),
        Step(-Sum(p[i] * log(p[i]), (i, 1, n)) + Sum(p[i] * log(p[i] / q[i]), (i, 1, n)),
             "add and subtract $\\sum_i p_i \\log p_i$; $\\log(p_i/q_i) = \\log p_i - \\log q_i$",
             "sum+expand_log"),
        Step(terms(entropy(p[i], i, n), KL(p[i], q[i], i, n)),
             "definitions of entropy and KL divergence", "unfold"),
    ),
    note="Holds for any positive $p, q$; with distributions, $H(p)$ is the part no model can"
         " remove.",
)

minimiser = Claim(
    "minimiser",
    "Cross-entropy is minimised by the target: $\\min_q H(p, q) = H(p)$",
    given=NORMALISED,
    start=cross_entropy(p[i], q[i], i, n),
    steps=(
        Step(terms(entropy(p[i], i, n), KL(p[i], q[i], i, n)), "cross-entropy is entropy plus"
             " KL", "unfold", using=(decomposition,)),
        Step(terms(entropy(p[i], i, n), Sum(p[i] - q[i], (i, 1, n))),
             "Gibbs: $\\operatorname{KL}(p \\| q) - \\sum_i (p_i - q_i) ="
             " \\sum_i p_i\\, g(q_i/p_i) \\ge 0$", rel=">=",
             certificate=Sum(p[i] * gibbs_gap(q[i] / p[i]), (i, 1, n))),
        Step(entropy(p[i], i, n), "both distributions sum to one", "sum", using=NORMALISED),
    ),
    note="Attained at $q = p$ ($H(p, p) = H(p)$) and only there (gibbs-inequality):"
         " $\\arg\\min_q H(p, q) = \\arg\\min_q \\operatorname{KL}(p \\| q) = p$.", on_sheet=False,
)

at_target = Claim(
    "at_target",
    "The target attains the minimum",
    start=cross_entropy(p[i], p[i], i, n),
    steps=(Step(entropy(p[i], i, n), "both are $-\\sum_i p_i \\log p_i$", "unfold"),),
    on_sheet=False,
)

one_hot_target = Claim(
    "one_hot",
    "Cross-entropy of a one-hot target is $-\\log q_y$",
    given=(target_in_range,),
    start=cross_entropy(one_hot(i, y), q[i], i, n),
    steps=(
        Step(-log(q[y]), "definition of cross-entropy with $(\\mathbf{e}_y)_i = [i = y]$: only"
             " the term $i = y$ is left", "unfold+doit"),
    ),
    note="The loss of one token with target $y$: the negative log-probability the model gives"
         " it.",
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
    """Experiment: llmsym.numeric entropy, cross_entropy, kl_divergence against 50-digit mpmath."""
    from llmsym.numeric import cross_entropy as ce
    from llmsym.numeric import entropy as ent
    from llmsym.numeric import kl_divergence as kl

    worst, cases = 0.0, 40
    for _ in range(cases):
        p_, q_ = random_pair(rng)
        h, hx, div, scale = _reference(p_, q_)
        got = (float(ent(p_)), float(ce(p_, q_)), float(kl(p_, q_)))
        worst = max(worst, max(abs(a - b) for a, b in zip(got, (h, hx, div), strict=True))
                    / (1.0 + scale))
    return Measurement(worst, cases, 1e-13,
                       "float64 entropy, cross-entropy, KL vs 50-digit mpmath, error relative to"
                       " 1 + sum_i |p_i log p_i| + |p_i log q_i| (n <= 50 terms: rounding"
                       " <= n eps); probabilities down to 5e-324 and exact zeros")


def positive_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two distributions with every entry positive (the symbolic formulas take logs of all)."""
    size = int(rng.integers(1, 30))
    alpha = rng.choice([0.3, 1.0])
    p_, q_ = (rng.dirichlet(np.full(size, alpha)) + 1e-9 for _ in range(2))
    return p_ / p_.sum(), q_ / q_.sum()


def check_decomposition(rng: np.random.Generator, formula) -> Measurement:
    """H(p) + KL(p || q) from the claim against llmsym.numeric.cross_entropy(p, q)."""
    from llmsym.numeric import cross_entropy as ce

    worst, cases = 0.0, 40
    for _ in range(cases):
        p_, q_ = positive_pair(rng)
        ref = float(ce(p_, q_))
        worst = max(worst, abs(float(formula(p=p_, q=q_, n=p_.size)) - ref) / max(1.0, ref))
    return Measurement(worst, cases, 1e-12,
                       "H(p) + KL(p||q) from the formula vs numeric cross-entropy")


def check_minimum(rng: np.random.Generator, formula) -> Measurement:
    """H(p) from the claim: equals numeric H(p, p), and no random q gets below it."""
    from llmsym.numeric import cross_entropy as ce

    worst, cases = 0.0, 40
    for _ in range(cases):
        p_, _ = positive_pair(rng)
        bound = float(formula(p=p_, n=p_.size))
        rivals = [positive_pair(rng)[1] for _ in range(3)] if p_.size > 1 else []
        rivals = [q_ for q_ in rivals if q_.size == p_.size]
        rivals += [p_ * (1 + 1e-4 * rng.normal(size=p_.size))]
        rivals = [q_ / q_.sum() for q_ in rivals]
        worst = max(worst, abs(bound - float(ce(p_, p_))) / max(1.0, bound))
        for q_ in rivals:
            worst = max(worst, (bound - float(ce(p_, q_))) / max(1.0, bound))
    return Measurement(max(worst, 0.0), cases, 1e-12,
                       "|H(p) - H(p, p)| and how far H(p) from the formula exceeds H(p, q) for"
                       " random q and q within 1e-4 of p (never)")


def check_one_hot(rng: np.random.Generator, formula) -> Measurement:
    """-log q_y from the claim against llmsym.numeric.cross_entropy(e_y, q)."""
    from llmsym.numeric import cross_entropy as ce

    worst, cases = 0.0, 40
    for _ in range(cases):
        _, q_ = positive_pair(rng)
        target = int(rng.integers(1, q_.size + 1))
        ref = float(ce(np.eye(q_.size)[target - 1], q_))
        worst = max(worst, abs(float(formula(q=q_, y=target)) - ref) / max(1.0, ref))
    return Measurement(worst, cases, 1e-13,
                       "-log q_y from the formula vs numeric cross-entropy of the one-hot target")


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
        "$p$ and $q$ are probability distributions over $n$ outcomes.",
        "Every $p_i > 0$ and $q_i > 0$; an outcome with $p_i = 0$ adds nothing ($0 \\log 0 = 0$)"
        " and is dropped from the sums.",
        "Logarithms are natural: entropies are in nats.",
    ),
    definitions=DEFINITIONS,
    claims=(decomposition, minimiser, at_target, one_hot_target),
    checks=(
        NumericCheck("reference", check_reference, "Experiment: llmsym.numeric entropy,"
                     " cross-entropy and KL against 50-digit mpmath, with probabilities down to"
                     " 5e-324 and exact zeros."),
        NumericCheck("decomposition", check_decomposition, "$H(p) + \\operatorname{KL}(p \\| q)$"
                     " against the numeric cross-entropy.", claim="decomposition"),
        NumericCheck("minimum", check_minimum, "$H(p)$ equals $H(p, p)$ and no random $q$ gets"
                     " below it.", claim="minimiser"),
        NumericCheck("one-hot", check_one_hot, "$-\\log q_y$ against the numeric cross-entropy"
                     " of the one-hot target.", claim="one_hot"),
    ),
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
