"""Why attention divides the scores by sqrt(d_k).

Statement
    For q, k in R^{d_k} with independent components of means mu_q, mu_k and
    variances sigma_q^2, sigma_k^2:
        E[q_i k_i]   = mu_q mu_k,
        Var[q_i k_i] = sigma_q^2 sigma_k^2 + sigma_q^2 mu_k^2 + sigma_k^2 mu_q^2,
        Var[q . k]   = d_k Var[q_i k_i],
    so with zero means Var[q . k / sqrt(d_k)] = sigma_q^2 sigma_k^2, which is 1 for
    unit variances whatever d_k. Unscaled scores spread like sqrt(d_k) and saturate
    the softmax.

Expectations of abstract random variables are beyond SymPy: the algebra is
carried by the moment symbols, and each probabilistic fact (independence,
linearity, the assumed moments) is a stated step. The per-term identities are
checked again by exact integration against Normal densities (sympy.stats), and
the whole statement by Monte Carlo.

Run on its own: ``python derivations/attention_variance.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Sum, Symbol, sqrt

from llmsym.model import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Step,
)
from llmsym.notation import Expect, Notation, Variance, vector_latex

# --- Notation ----------------------------------------------------------------


class Mean(Expect):  # noqa: N801
    """E[x], printable also when raised to a power (``E[x]^2``)."""

    def _latex(self, printer, exp=None):
        text = r"\mathbb{E}\left[%s\right]" % printer._print(self.args[0])
        return text if exp is None else r"%s^{%s}" % (text, exp)


class Var(Variance):  # noqa: N801
    """Var[x], printable also when raised to a power."""

    def _latex(self, printer, exp=None):
        text = r"\operatorname{Var}\left[%s\right]" % printer._print(self.args[0])
        return text if exp is None else r"%s^{%s}" % (text, exp)


class dot(Notation):  # noqa: N801 - named like the operation it prints
    """``dot(a_i, b_i, i, n)``: the dot product sum_{i=1}^n a_i b_i, printed ``a . b``."""

    nargs = 4

    @classmethod
    def definition(cls, a, b, i, n):
        return Sum(a * b, (i, 1, n))

    def _latex(self, printer):
        a, b, i, _n = self.args
        return r"%s \cdot %s" % (vector_latex(printer, a, i), vector_latex(printer, b, i))


# --- Symbols -----------------------------------------------------------------
d = Symbol("d_k", integer=True, positive=True)  # head dimension
i = Symbol("i", integer=True, positive=True)  # component index
q = IndexedBase("q", real=True)  # query
k = IndexedBase("k", real=True)  # key
sigma_q, sigma_k = Symbol("sigma_q", positive=True), Symbol("sigma_k", positive=True)
mu_q, mu_k = Symbol("mu_q", real=True), Symbol("mu_k", real=True)

TERM_VARIANCE = sigma_q**2 * sigma_k**2 + sigma_q**2 * mu_k**2 + sigma_k**2 * mu_q**2
MOMENTS = (
    Eq(Mean(q[i]), mu_q),
    Eq(Mean(k[i]), mu_k),
    Eq(Mean(q[i] ** 2), sigma_q**2 + mu_q**2),
    Eq(Mean(k[i] ** 2), sigma_k**2 + mu_k**2),
)
score = dot(q[i], k[i], i, d)

# --- Claims ------------------------------------------------------------------
term_mean = Claim(
    "term_mean",
    "Mean of one term",
    start=Mean(q[i] * k[i]),
    steps=(
        Step(Mean(q[i]) * Mean(k[i]),
             "$q_i$ and $k_i$ are independent, so the mean of the product factorises",
             "assumption"),
        Step(mu_q * mu_k, "the assumed means", using=MOMENTS[:2]),
    ),
    on_sheet=False,
)

term_variance = Claim(
    "term_variance",
    "Variance of one term",
    start=Var(q[i] * k[i]),
    steps=(
        Step(Mean(q[i] ** 2 * k[i] ** 2) - Mean(q[i] * k[i]) ** 2,
             "$\\operatorname{Var}[X] = \\mathbb{E}[X^2] - \\mathbb{E}[X]^2$", "definition"),
        Step(Mean(q[i] ** 2) * Mean(k[i] ** 2) - Mean(q[i]) ** 2 * Mean(k[i]) ** 2,
             "independence: $\\mathbb{E}[q_i^2 k_i^2] = \\mathbb{E}[q_i^2]\\,\\mathbb{E}[k_i^2]$"
             " and $\\mathbb{E}[q_i k_i] = \\mathbb{E}[q_i]\\,\\mathbb{E}[k_i]$", "assumption"),
        Step((sigma_q**2 + mu_q**2) * (sigma_k**2 + mu_k**2) - mu_q**2 * mu_k**2,
             "the assumed moments; $\\mathbb{E}[x^2] = \\sigma^2 + \\mu^2$", using=MOMENTS),
        Step(TERM_VARIANCE, "expand: $\\mu_q^2 \\mu_k^2$ cancels", "expand"),
    ),
    note="With zero means this is $\\sigma_q^2 \\sigma_k^2$; non-zero means only add variance.",
)

score_mean = Claim(
    "score_mean",
    "Mean of the score",
    start=Mean(score),
    steps=(
        Step(d * Mean(q[i] * k[i]),
             "linearity of $\\mathbb{E}$; the $d_k$ terms are identically distributed",
             "assumption"),
        Step(d * mu_q * mu_k, "the mean of one term (claim term_mean)",
             using=(Eq(term_mean.start, term_mean.end),)),
    ),
    on_sheet=False,
    note="Zero when either vector has zero-mean components.",
)

score_variance = Claim(
    "score_variance",
    "Variance of the score grows like $d_k$",
    start=Var(score),
    steps=(
        Step(d * Var(q[i] * k[i]),
             "the $d_k$ terms are independent and identically distributed: the variance of"
             " their sum is the sum of their variances", "assumption"),
        Step(d * TERM_VARIANCE, "the variance of one term (claim term_variance)",
             using=(Eq(term_variance.start, term_variance.end),)),
    ),
    on_sheet=False,
)

scaled_variance = Claim(
    "scaled_variance",
    "Scaled scores keep unit-order variance (zero means)",
    start=Var(score / sqrt(d)),
    steps=(
        Step(Var(score) / d,
             "$\\operatorname{Var}[cX] = c^2 \\operatorname{Var}[X]$ with $c = 1/\\sqrt{d_k}$"
             " (linearity of $\\mathbb{E}$)", "assumption"),
        Step(TERM_VARIANCE, "the variance of the score (claim score_variance); $d_k$ cancels",
             using=(Eq(score_variance.start, score_variance.end),)),
        Step(sigma_q**2 * sigma_k**2, "zero means", using=(Eq(mu_q, 0), Eq(mu_k, 0))),
    ),
    note="Independent of $d_k$: equal to 1 for unit variances. Unscaled, the variance is"
         " $d_k \\sigma_q^2 \\sigma_k^2$ and the softmax saturates as $d_k$ grows.",
)

# --- Numeric checks ------------------------------------------------------------

MC_DRAWS = 2000  # score samples per (distribution, d_k)
MC_SIZES = (16, 64, 256, 1024)
Z_BOUND = 6.0  # standard errors; P(|Z| > 6) ~ 2e-9 per case, so no flaky seeds


def _draw(rng: np.random.Generator, kind: str, size: tuple[int, int], mean: float,
          sd: float) -> np.ndarray:
    """Independent components: Gaussian, or Rademacher (+-1 with equal probability)."""
    if kind == "gaussian":
        return mean + sd * rng.standard_normal(size)
    return mean + sd * (2.0 * rng.integers(0, 2, size=size, dtype=np.int8) - 1.0)


MC_CASES = (  # kind, mu_q, sigma_q, mu_k, sigma_k
    ("gaussian", 0.0, 1.0, 0.0, 1.0),
    ("rademacher", 0.0, 1.0, 0.0, 1.0),
    ("gaussian", 0.5, 1.5, -1.0, 0.5),
)


def check_monte_carlo(rng: np.random.Generator) -> Measurement:
    """Sample variance of q . k against d_k (sigma_q^2 sigma_k^2 + ...), relative error.

    The bound is Z_BOUND standard errors of the noisiest case (the standard error of a
    sample variance, from the spread of the squared deviations); quieter cases get at
    most ~1.3 times their own Z_BOUND standard errors.
    """
    worst, noisiest, details = 0.0, 0.0, []
    for kind, mq, sq, mk, sk in MC_CASES:
        per_term = sq**2 * sk**2 + sq**2 * mk**2 + sk**2 * mq**2  # the claimed Var[q_i k_i]
        for dim in MC_SIZES:
            scores = np.einsum("nd,nd->n", _draw(rng, kind, (MC_DRAWS, dim), mq, sq),
                               _draw(rng, kind, (MC_DRAWS, dim), mk, sk))
            claimed = dim * per_term
            squares = (scores - scores.mean()) ** 2
            noisiest = max(noisiest, squares.std(ddof=1) / np.sqrt(MC_DRAWS) / claimed)
            worst = max(worst, abs(scores.var(ddof=1) - claimed) / claimed)
            if dim == MC_SIZES[-1]:
                details.append(f"{kind} mu=({mq:g},{mk:g}): Var[q.k/sqrt(d)] = "
                               f"{scores.var(ddof=1) / dim:.3f} vs {per_term:.3f}")
    cases = len(MC_CASES) * len(MC_SIZES)
    return Measurement(
        worst, cases * MC_DRAWS, Z_BOUND * noisiest,
        f"max relative error of the sample variance vs d_k Var[q_i k_i] over {cases} cases of"
        f" {MC_DRAWS} draws, d_k in {MC_SIZES}; bound {Z_BOUND:g} standard errors"
        f" ({Z_BOUND * noisiest:.3f}); at d_k = 1024: " + "; ".join(details))


SATURATION_KEYS, SATURATION_TRIALS = 16, 200


def _softmax_rows(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _saturation(rng: np.random.Generator, dim: int) -> dict[str, tuple[float, float]]:
    """Median largest weight and mean Jacobian norm |diag(s) - s s^T|_F, unscaled and scaled."""
    query = rng.standard_normal((SATURATION_TRIALS, 1, dim))
    keys = rng.standard_normal((SATURATION_TRIALS, SATURATION_KEYS, dim))
    scores = np.sum(query * keys, axis=-1)
    out = {}
    for name, factor in (("unscaled", 1.0), ("scaled", 1.0 / np.sqrt(dim))):
        s = _softmax_rows(scores * factor)
        jac = s[:, :, None] * np.eye(SATURATION_KEYS) - s[:, :, None] * s[:, None, :]
        out[name] = (float(np.median(s.max(axis=-1))),
                     float(np.linalg.norm(jac, axis=(1, 2)).mean()))
    return out


def check_saturation(rng: np.random.Generator) -> Measurement:
    """Unscaled softmax saturates as d_k grows (max weight -> 1, gradient -> 0); scaled does not.

    The error is the drift of the scaled Jacobian norm from d_k = 16 to 1024; the premise,
    that the unscaled softmax does saturate, must hold or the check fails outright.
    """
    small, large = _saturation(rng, MC_SIZES[0]), _saturation(rng, MC_SIZES[-1])
    unscaled_max = large["unscaled"][0]
    unscaled_ratio = large["unscaled"][1] / small["unscaled"][1]
    scaled_drift = abs(large["scaled"][1] / small["scaled"][1] - 1.0)
    detail = (f"{SATURATION_KEYS} keys, d_k {MC_SIZES[0]} -> {MC_SIZES[-1]}: unscaled median max"
              f" weight {small['unscaled'][0]:.3f} -> {unscaled_max:.4f} (premise >= 0.99),"
              f" Jacobian norm x{unscaled_ratio:.2f} (premise <= x0.35); scaled max weight"
              f" {small['scaled'][0]:.3f} -> {large['scaled'][0]:.3f}, Jacobian norm drift"
              f" {scaled_drift:.3f} (bound 0.15, ~8 standard errors)")
    if unscaled_max < 0.99 or unscaled_ratio > 0.35:
        return Measurement(float("inf"), 2 * SATURATION_TRIALS, 0.15,
                           "the unscaled softmax did not saturate: " + detail)
    return Measurement(scaled_drift, 2 * SATURATION_TRIALS, 0.15, detail)


def check_normal_exact(rng: np.random.Generator) -> Measurement:
    """sympy.stats integrates the per-term moments against zero-mean Normal densities, exactly.

    Zero means keep the integrals cheap (about 0.3 s); the general-mean formula is
    checked by the Monte Carlo check, whose third case has non-zero means.
    """
    from sympy import expand, lambdify, stats

    qn, kn = stats.Normal("Q", 0, sigma_q), stats.Normal("K", 0, sigma_k)
    zero_means = {mu_q: 0, mu_k: 0}
    gaps = [expand(stats.E(qn * kn) - term_mean.end.subs(zero_means)),
            expand(stats.variance(qn * kn) - term_variance.end.subs(zero_means))]
    at = lambdify((sigma_q, sigma_k), gaps, "numpy")
    points = rng.uniform(0.1, 3.0, size=(100, 2))
    worst = max(float(np.max(np.abs(at(*p)))) for p in points)
    return Measurement(
        worst, len(points), 1e-12,
        "E[q_i k_i] and Var[q_i k_i] by exact integration (sympy.stats, zero-mean Normal "
        f"components) minus the claims; symbolic differences {gaps[0]}, {gaps[1]}")


def example_head_dimension():
    """How far unscaled scores spread at common head sizes (the result score_variance)."""
    from sympy import lambdify

    spread = lambdify((d, sigma_q, sigma_k, mu_q, mu_k), sqrt(d * TERM_VARIANCE))
    cells = ", ".join(r"%d: %.3g" % (dim, spread(dim, 1.0, 1.0, 0.0, 0.0))
                      for dim in (64, 128, 256))
    return ("standard deviation of $q \\cdot k$ for unit-variance, zero-mean components, by"
            " $d_k$; after dividing by $\\sqrt{d_k}$ it is 1",
            r"\operatorname{sd}[q \cdot k] \text{ at } d_k = " + cells)


# --- Results and the derivation ---------------------------------------------------

DERIVATION = Derivation(
    id="attention-scaling",
    title="Why attention scales its scores",
    topic="Attention",
    order=30,
    gloss="A dot product of $d_k$ independent terms has variance proportional to $d_k$;"
          " dividing by $\\sqrt{d_k}$ keeps the scores, and the softmax, in a usable range.",
    assumptions=(
        "$q, k \\in \\mathbb{R}^{d_k}$ are random vectors; all $2 d_k$ components are"
        " independent.",
        "The components of $q$ have mean $\\mu_q$ and variance $\\sigma_q^2$; those of $k$ have"
        " mean $\\mu_k$ and variance $\\sigma_k^2$ (zero means and unit variances in the usual"
        " argument).",
        "$\\mathbb{E}$ is linear, and the expectation of a product of independent variables is"
        " the product of their expectations.",
    ),
    definitions=(
        Definition("dot product", score, score.definition(*score.args)),
        Definition("variance", Var(Symbol("X")),
                   Mean(Symbol("X") ** 2) - Mean(Symbol("X")) ** 2),
    ),
    claims=(term_mean, term_variance, score_mean, score_variance, scaled_variance),
    checks=(
        NumericCheck("monte-carlo", check_monte_carlo,
                     "Sample variance of $q \\cdot k$ for Gaussian and Rademacher components,"
                     " $d_k \\in \\{16, 64, 256, 1024\\}$, within 6 standard errors of the claim."),
        NumericCheck("saturation", check_saturation,
                     "Softmax over 16 keys: unscaled scores saturate as $d_k$ grows (largest"
                     " weight near 1, Jacobian near 0); scaled scores do not."),
        NumericCheck("normal-exact", check_normal_exact,
                     "Per-term mean and variance for zero-mean Normal components by exact"
                     " integration (sympy.stats)."),
    ),
    results=(
        Result("product_variance", TERM_VARIANCE, params=(sigma_q, sigma_k, mu_q, mu_k),
               doc="variance of the product of independent q_i and k_i", claim="term_variance"),
        Result("score_variance", d * TERM_VARIANCE, params=(d, sigma_q, sigma_k, mu_q, mu_k),
               doc="variance of the unscaled attention score q . k", claim="score_variance"),
        Result("scaled_score_variance", sigma_q**2 * sigma_k**2, params=(sigma_q, sigma_k),
               doc="variance of q . k / sqrt(d_k) for zero-mean components, any d_k",
               claim="scaled_variance"),
    ),
    notation={d: "key and query dimension", q: "a query vector", k: "a key vector",
              sigma_q: "standard deviation of each query component",
              mu_q: "mean of each query component"},
    sources=(
        "Vaswani et al., Attention Is All You Need (2017), section 3.2.1 and footnote 4:"
        " the variance argument for the $1/\\sqrt{d_k}$ scale.",
        "Goodman, On the exact variance of products, JASA 55 (1960): the variance of a product"
        " of independent variables.",
    ),
    examples=(example_head_dimension,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
