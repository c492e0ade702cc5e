"""Bayesian thinking: Bayes' rule, Beta-Binomial conjugacy, Laplace's rule, MAP as L2.

Main results
    bayes_rule      p(θ_i | D) = p(D | θ_i) p(θ_i) / Σ_j p(D | θ_j) p(θ_j), from the definitions
                    of conditional and marginal probability
    conjugate       prior Beta(α_0, β_0), k successes in n independent trials  ⊢  the
                    posterior is Beta(α_0 + k, β_0 + n - k)
    posterior_mean  E[μ | D] = (α_0 + k)/(α_0 + β_0 + n)
    laplace         uniform prior (α_0 = β_0 = 1)  ⊢  P(next trial succeeds | D) = (k + 1)/(n + 2)
    map_l2          Gaussian prior N(0, σ_p² I)  ⊢  -log p(θ | D) = -log p(D | θ) + ‖θ‖²/(2σ_p²)
                    + const: the most probable θ minimises the L2-regularised loss

The Beta integral ∫_0^1 μ^{a-1} (1 - μ)^{b-1} dμ = B(a, b) = Γ(a)Γ(b)/Γ(a + b) (Euler) and
Γ(x + 1) = xΓ(x) are shown as premises where they are used.

Run on its own: ``python derivations/bayes.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Sum, Symbol, exp, gamma, log, pi, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Named, Notation, factors, norm, terms

# --- Symbols ---------------------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of candidate parameter values
i, j = symbols("i j", integer=True, positive=True)
PRIOR = IndexedBase(Named("prior", r"p(\boldsymbol{\theta})", positive=True), positive=True)
# nonnegative (a datum may be impossible under some θ_i); also keeps the likelihood and the prior
# apart for the mutation test, which swaps symbols of one kind
LIK = IndexedBase(Named("lik", r"p(\mathcal{D} \mid \boldsymbol{\theta})", nonnegative=True),
                  nonnegative=True)
mu = Symbol("mu", positive=True)  # the success probability of one trial, in (0, 1)
n_tr = Named("trials", r"n_{\mathrm{tr}}", integer=True, positive=True)
k_tr = Named("successes", r"k_{\mathrm{tr}}", integer=True, nonnegative=True)
alpha0 = Named("alpha0", r"\alpha_{0}", positive=True)
beta0 = Named("beta0", r"\beta_{0}", positive=True)
evidence_mu = Named("evidence_mu", r"p(\mathcal{D})", positive=True)
post_mean = Named("post_mean", r"\mathbb{E}[\mu \mid \mathcal{D}]", positive=True)
N = Symbol("N", integer=True, positive=True)  # number of parameters
theta = IndexedBase(Named("theta", r"\boldsymbol{\theta}"), real=True)
sigma_p = Named("sigma_prior", r"\sigma_{\mathrm{p}}", positive=True)
lik_theta = Named("lik_theta", r"p(\mathcal{D} \mid \boldsymbol{\theta})", positive=True)
prior_theta = Named("prior_theta", r"p(\boldsymbol{\theta})", positive=True)
post_theta = Named("post_theta", r"p(\boldsymbol{\theta} \mid \mathcal{D})", positive=True)
evidence = Named("evidence", r"p(\mathcal{D})", positive=True)

# --- Notation: probabilities over candidate parameter values -----------------------------------


class _Table(Notation):
    """A probability of the candidate value θ_i, printed as readers write it."""

    nargs = 1
    text = ""

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return self.text % printer._print(self.args[0])


class prior_(_Table):  # noqa: N801
    text = r"p(\boldsymbol{\theta}_{%s})"

    @classmethod
    def definition(cls, index):
        return PRIOR[index]


class lik_(_Table):  # noqa: N801
    text = r"p(\mathcal{D} \mid \boldsymbol{\theta}_{%s})"

    @classmethod
    def definition(cls, index):
        return LIK[index]


class joint_(_Table):  # noqa: N801
    """p(θ_i, D) = p(D | θ_i) p(θ_i): the product rule (definition of p(D | θ_i))."""

    text = r"p(\boldsymbol{\theta}_{%s}, \mathcal{D})"

    @classmethod
    def definition(cls, index):
        return lik_(index) * prior_(index)


class marginal_(Notation):  # noqa: N801
    """p(D) = Σ_j p(θ_j, D): the law of total probability."""

    nargs = 0

    @classmethod
    def definition(cls):
        return Sum(joint_(j), (j, 1, n))

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return r"p(\mathcal{D})"


class post_(_Table):  # noqa: N801
    """p(θ_i | D) = p(θ_i, D)/p(D): the definition of conditional probability."""

    text = r"p(\boldsymbol{\theta}_{%s} \mid \mathcal{D})"

    @classmethod
    def definition(cls, index):
        return joint_(index) / marginal_()


class beta_fn(Notation):  # noqa: N801
    """Euler's Beta function B(a, b) = Γ(a)Γ(b)/Γ(a + b)."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return gamma(a) * gamma(b) / gamma(a + b)

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return r"B\left(%s, %s\right)" % tuple(printer._print(v) for v in self.args)


class beta_pdf(Notation):  # noqa: N801
    """The Beta(a, b) density at μ: μ^{a-1}(1 - μ)^{b-1}/B(a, b)."""

    nargs = 3

    @classmethod
    def definition(cls, x, a, b):
        return x ** (a - 1) * (1 - x) ** (b - 1) / beta_fn(a, b)

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return r"\operatorname{Beta}\left(%s; %s, %s\right)" % tuple(
            printer._print(v) for v in self.args)


# --- Premises ----------------------------------------------------------------------------------
A_POST = alpha0 + k_tr
B_POST = terms(beta0, n_tr, -k_tr)
LIKELIHOOD = factors(mu**k_tr, (1 - mu) ** (n_tr - k_tr))
independent_trials = Hypothesis(
    r"p(\mathcal{D} \mid \mu) = \mu^{k_{\mathrm{tr}}} (1 - \mu)^{n_{\mathrm{tr}} -"
    r" k_{\mathrm{tr}}}",
    "the data are $n_{\\mathrm{tr}}$ independent trials, $k_{\\mathrm{tr}} \\le"
    " n_{\\mathrm{tr}}$ of them successes, each a success with probability $\\mu$")
euler_evidence = Hypothesis(
    Eq(evidence_mu, beta_fn(A_POST, B_POST) / beta_fn(alpha0, beta0)),
    "the evidence $\\int_0^1 \\operatorname{Beta}(\\mu; \\alpha_0, \\beta_0)\\, p(\\mathcal{D}"
    " \\mid \\mu)\\, d\\mu$, by Euler's integral $\\int_0^1 \\mu^{a-1}(1 - \\mu)^{b-1} d\\mu"
    " = B(a, b)$")
euler_mean = Hypothesis(
    Eq(post_mean, beta_fn(A_POST + 1, B_POST) / beta_fn(A_POST, B_POST)),
    "$\\mathbb{E}[\\mu \\mid \\mathcal{D}] = \\int_0^1 \\mu \\operatorname{Beta}(\\mu; a, b)"
    "\\, d\\mu$ with the posterior's $a, b$, by Euler's integral")
gamma_a = Hypothesis(Eq(gamma(A_POST + 1), A_POST * gamma(A_POST)),
                     "$\\Gamma(x + 1) = x\\Gamma(x)$")
gamma_ab = Hypothesis(Eq(gamma(alpha0 + beta0 + n_tr + 1),
                         (alpha0 + beta0 + n_tr) * gamma(alpha0 + beta0 + n_tr)),
                      "$\\Gamma(x + 1) = x\\Gamma(x)$")
uniform_a = Hypothesis(Eq(alpha0, 1), "a uniform prior: $\\alpha_0 = 1$")
uniform_b = Hypothesis(Eq(beta0, 1), "and $\\beta_0 = 1$")
bayes_density = Hypothesis(Eq(post_theta, lik_theta * prior_theta / evidence),
                           "Bayes' rule for densities")

# --- Definitions ---------------------------------------------------------------------------------
GAUSS_PRIOR = factors((2 * pi * sigma_p**2) ** (-N / 2),
                      exp(-norm(theta[i], i, N) ** 2 / (2 * sigma_p**2)))
DEFINITIONS = (
    Definition("conditional probability", post_(i), joint_(i) / marginal_(),
               on_sheet=False, title="Conditional probability",
               note="With the product rule $p(\\boldsymbol{\\theta}_i, \\mathcal{D}) ="
                    " p(\\mathcal{D} \\mid \\boldsymbol{\\theta}_i)\\, p(\\boldsymbol{\\theta}_i)$"
                    " and the marginal $p(\\mathcal{D}) = \\sum_j p(\\boldsymbol{\\theta}_j,"
                    " \\mathcal{D})$."),
    Definition("product rule", joint_(i), lik_(i) * prior_(i)),
    Definition("law of total probability", marginal_(), Sum(joint_(j), (j, 1, n))),
    Definition("Beta density", beta_pdf(mu, alpha0, beta0), beta_pdf.definition(mu, alpha0, beta0),
               on_sheet=False, title="Beta distribution",
               note="$B(a, b) = \\Gamma(a)\\Gamma(b)/\\Gamma(a + b)$; Beta(1, 1) is uniform on"
                    " $(0, 1)$."),
    Definition("Gaussian prior", prior_theta, GAUSS_PRIOR,
               note="Independent $\\mathcal{N}(0, \\sigma_{\\mathrm{p}}^2)$ on each of the $N$"
                    " parameters."),
)
D_COND, D_PRODUCT, D_TOTAL, D_BETA, D_GAUSS = DEFINITIONS

# --- Claims ------------------------------------------------------------------------------------
bayes_rule = Claim(
    "bayes_rule",
    "Bayes' rule: posterior = likelihood $\\times$ prior / evidence",
    start=post_(i),
    steps=(
        Step(joint_(i) / marginal_(), "definition of conditional probability", "definition"),
        Step(lik_(i) * prior_(i) / marginal_(), "product rule", "definition"),
        Step(lik_(i) * prior_(i) / Sum(lik_(j) * prior_(j), (j, 1, n)),
             "law of total probability", "definition"),
    ),
    where=(D_COND,),
    note="Over $n$ candidate parameter values $\\boldsymbol{\\theta}_i$; with densities the sum"
         " is an integral. The evidence does not depend on $i$: the posterior is proportional to"
         " likelihood times prior.",
)

with_evidence = factors(beta_pdf(mu, alpha0, beta0), LIKELIHOOD) / evidence_mu
conjugate = Claim(
    "conjugate",
    "Beta-Binomial conjugacy: the posterior is Beta($\\alpha_0 + k_{\\mathrm{tr}}$, $\\beta_0 +"
    " n_{\\mathrm{tr}} - k_{\\mathrm{tr}}$)",
    given=(independent_trials,),
    start=with_evidence,
    steps=(
        Step(factors(beta_pdf(mu, alpha0, beta0), LIKELIHOOD)
             / (beta_fn(A_POST, B_POST) / beta_fn(alpha0, beta0)),
             "the evidence, by Euler's integral", "expand", using=(euler_evidence,)),
        Step(mu ** (A_POST - 1) * (1 - mu) ** (B_POST - 1) / beta_fn(A_POST, B_POST),
             "$B(\\alpha_0, \\beta_0)$ cancels; add the exponents", "unfold+powsimp"),
        Step(beta_pdf(mu, A_POST, B_POST), "the Beta density", "unfold"),
    ),
    where=(D_BETA,),
    note="Bayes' rule with prior $\\operatorname{Beta}(\\mu; \\alpha_0, \\beta_0)$ and likelihood"
         " $\\mu^{k_{\\mathrm{tr}}}(1 - \\mu)^{n_{\\mathrm{tr}} - k_{\\mathrm{tr}}}$: each"
         " success adds one to $\\alpha$, each failure one to $\\beta$.", on_sheet=False,
)

posterior_mean = Claim(
    "posterior_mean",
    "The posterior mean of a success probability",
    given=(independent_trials,),
    start=post_mean,
    steps=(
        Step(beta_fn(A_POST + 1, B_POST) / beta_fn(A_POST, B_POST),
             "the mean of $\\operatorname{Beta}(a, b)$ is $B(a + 1, b)/B(a, b)$", "expand",
             using=(euler_mean,)),
        Step(A_POST / terms(alpha0, beta0, n_tr), "$\\Gamma(x + 1) = x\\Gamma(x)$, twice;"
             " $k_{\\mathrm{tr}}$ cancels", "unfold+cancel", using=(gamma_a, gamma_ab)),
    ),
    note="The prior acts like $\\alpha_0$ earlier successes and $\\beta_0$ earlier failures."
         " $P(\\text{next trial succeeds} \\mid \\mathcal{D}) = \\mathbb{E}[\\mu \\mid"
         " \\mathcal{D}]$.", on_sheet=False,
)

laplace = Claim(
    "laplace",
    "Laplace's rule of succession",
    given=(independent_trials, uniform_a, uniform_b),
    start=post_mean,
    steps=(
        Step(A_POST / terms(alpha0, beta0, n_tr), "the posterior mean", "unfold",
             using=(posterior_mean,)),
        Step((k_tr + 1) / (n_tr + 2), "uniform prior $\\alpha_0 = \\beta_0 = 1$", "unfold+cancel",
             using=(uniform_a, uniform_b)),
    ),
    note="After $k_{\\mathrm{tr}}$ successes in $n_{\\mathrm{tr}}$ trials the next succeeds with"
         " probability $(k_{\\mathrm{tr}} + 1)/(n_{\\mathrm{tr}} + 2)$: never 0 or 1 (10 of 10"
         " gives $11/12$).", on_sheet=False,
)

map_l2 = Claim(
    "map_l2",
    "MAP with a Gaussian prior is L2-regularised maximum likelihood",
    given=(bayes_density,),
    start=-log(post_theta),
    steps=(
        Step(-log(lik_theta * prior_theta / evidence), "Bayes' rule", "expand",
             using=(bayes_density,)),
        Step(terms(-log(lik_theta), -log(prior_theta), log(evidence)),
             "$\\log$ of a product and a quotient", "expand_log"),
        Step(terms(-log(lik_theta), norm(theta[i], i, N) ** 2 / (2 * sigma_p**2),
                   N / 2 * log(2 * pi * sigma_p**2), log(evidence)),
             "the Gaussian prior", "definition+expand_log"),
    ),
    where=(D_GAUSS,),
    note="The last two terms do not depend on $\\boldsymbol{\\theta}$: the MAP estimate"
         " minimises $-\\log p(\\mathcal{D} \\mid \\boldsymbol{\\theta}) +"
         " \\|\\boldsymbol{\\theta}\\|^2/(2\\sigma_{\\mathrm{p}}^2)$, maximum likelihood with an"
         " L2 penalty of strength $1/(2\\sigma_{\\mathrm{p}}^2)$; a flat prior"
         " ($\\sigma_{\\mathrm{p}} \\to \\infty$) gives maximum likelihood back.",
)

CLAIMS = (bayes_rule, conjugate, posterior_mean, laplace, map_l2)

# --- Numeric checks ----------------------------------------------------------------------------


def check_bayes_rule(rng: np.random.Generator, formula) -> Measurement:
    """The posterior from the formula against rejection sampling: draw θ from the prior and a
    datum from its likelihood, keep the draws whose datum is the one observed, count θ."""
    worst, cases = 0.0, 0
    for _ in range(3):
        size, outcomes = int(rng.integers(2, 6)), int(rng.integers(2, 4))
        prior = rng.dirichlet(np.full(size, 3.0))
        table = rng.dirichlet(np.ones(outcomes), size=size)  # p(x | θ_i), one row per θ_i
        observed = int(rng.integers(outcomes))
        draws = 100_000
        which = rng.choice(size, size=draws, p=prior)
        datum = (rng.random(draws)[:, None] > np.cumsum(table, axis=1)[which]).sum(axis=1)
        kept = which[datum == observed]
        counted = np.bincount(kept, minlength=size) / kept.size
        claimed = np.array([formula(prior=prior, lik=table[:, observed], n=size, i=t + 1)
                            for t in range(size)], dtype=float)
        worst = max(worst, float(np.max(np.abs(claimed - counted))))
        cases += size
    return Measurement(worst, cases, 0.01, "posterior from the formula vs the frequency of"
                       " each θ among 100,000 simulated (θ, datum) pairs with the observed datum")


def _grid_posterior(a0: float, b0: float, k: int, trials: int):
    from llmsym.numeric import beta_pdf as beta_density
    from llmsym.numeric import binomial_likelihood, grid_posterior

    grid = np.linspace(0.0, 1.0, 4001)
    return grid, grid_posterior(grid, beta_density(grid, a0, b0),
                                binomial_likelihood(grid, k, trials))


def _prior_and_data(rng: np.random.Generator):
    trials = int(rng.integers(1, 30))
    return (float(rng.uniform(1, 5)), float(rng.uniform(1, 5)),
            int(rng.integers(0, trials + 1)), trials)


def check_conjugate(rng: np.random.Generator, formula) -> Measurement:
    """Beta(α0 + k, β0 + n - k) from the formula against prior × likelihood normalised
    numerically on a grid (llmsym.numeric.grid_posterior), at interior points."""
    worst, cases = 0.0, 0
    for _ in range(10):
        a0, b0, k, trials = _prior_and_data(rng)
        grid, density = _grid_posterior(a0, b0, k, trials)
        for point in rng.uniform(0.02, 0.98, size=4):
            got = float(formula(mu=float(point), alpha0=a0, beta0=b0, successes=k, trials=trials))
            ref = float(np.interp(point, grid, density))
            worst = max(worst, abs(got - ref) / max(1.0, float(density.max())))
            cases += 1
    return Measurement(worst, cases, 2e-4, "the Beta posterior density vs the grid posterior"
                       " (4001 points, trapezoid normalisation), relative to its peak")


def check_posterior_mean(rng: np.random.Generator, formula) -> Measurement:
    """(α0 + k)/(α0 + β0 + n) against ∫ μ prior(μ) likelihood(μ) dμ / ∫ prior likelihood dμ,
    integrated by mpmath's tanh-sinh quadrature (exact to far below the tolerance, even where
    the integrand's slope is unbounded at 0 or 1, which a uniform grid is not)."""
    import mpmath

    worst, cases = 0.0, 12
    for _ in range(cases):
        a0, b0, k, trials = _prior_and_data(rng)

        def weight(mu, a0=a0, b0=b0, k=k, trials=trials):
            return mu ** (a0 - 1) * (1 - mu) ** (b0 - 1) * mu**k * (1 - mu) ** (trials - k)

        ref = float(mpmath.quad(lambda mu: mu * weight(mu), [0, 1]) / mpmath.quad(weight, [0, 1]))
        got = float(formula(alpha0=a0, beta0=b0, successes=k, trials=trials))
        worst = max(worst, abs(got - ref))
    return Measurement(worst, cases, 1e-7, "posterior mean vs the mean of prior x likelihood,"
                       " integrated numerically")


def check_laplace(rng: np.random.Generator, formula) -> Measurement:
    """(k + 1)/(n + 2) against simulation: draw μ uniformly, run n trials, keep the runs with k
    successes, and average the chance that the next trial succeeds."""
    worst, cases = 0.0, 0
    draws = 200_000
    for trials in (1, 3, 8):
        chance = rng.random(draws)
        successes = (rng.random((draws, trials)) < chance[:, None]).sum(axis=1)
        for k in {0, trials // 2, trials}:
            kept = chance[successes == k]
            next_success = float(np.mean(rng.random(kept.size) < kept))
            worst = max(worst, abs(float(formula(successes=k, trials=trials)) - next_success))
            cases += 1
    return Measurement(worst, cases, 0.012, "Laplace's rule vs the simulated frequency of a"
                       " success after k of n, with μ drawn uniformly (200,000 runs)")


def _gaussian(x: np.ndarray, mean: np.ndarray | float, sd: float) -> np.ndarray:
    return np.exp(-((x - mean) ** 2) / (2 * sd**2)) / np.sqrt(2 * np.pi * sd**2)


def check_map_l2(rng: np.random.Generator, formula) -> Measurement:
    """The decomposition against -log(likelihood × prior / evidence) with the prior a product of
    one-dimensional normal densities (linear regression with Gaussian noise)."""
    worst, cases = 0.0, 20
    for _ in range(cases):
        size, dim = int(rng.integers(2, 8)), int(rng.integers(1, 5))
        features, params = rng.normal(size=(size, dim)), rng.normal(size=dim)
        targets = features @ rng.normal(size=dim) + rng.normal(size=size)
        sd_prior, evid = float(rng.uniform(0.3, 3)), float(rng.uniform(1e-3, 1.0))
        lik = float(np.prod(_gaussian(targets, features @ params, 1.0)))
        prior = float(np.prod(_gaussian(params, 0.0, sd_prior)))
        ref = -np.log(lik * prior / evid)
        got = float(formula(lik_theta=lik, theta=params, N=dim, sigma_prior=sd_prior,
                            evidence=evid))
        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
    return Measurement(worst, cases, 1e-12, "-log posterior decomposed vs computed from a product"
                       " of normal densities")


def check_ridge(rng: np.random.Generator) -> Measurement:
    """Experiment: the ridge solution (XᵀX + I/σ_p²)⁻¹Xᵀy (unit noise) zeroes the gradient of
    -log p(D | θ) - log p(θ), taken by central differences of the densities."""
    worst, cases = 0.0, 10
    for _ in range(cases):
        size, dim = int(rng.integers(3, 10)), int(rng.integers(1, 4))
        features, targets = rng.normal(size=(size, dim)), rng.normal(size=size)
        sd_prior = float(rng.uniform(0.3, 3))
        ridge = np.linalg.solve(features.T @ features + np.eye(dim) / sd_prior**2,
                                features.T @ targets)

        def neg_log_post(w, features=features, targets=targets, sd_prior=sd_prior):
            return -(np.sum(np.log(_gaussian(targets, features @ w, 1.0)))
                     + np.sum(np.log(_gaussian(w, 0.0, sd_prior))))

        step = 1e-5
        grad = [(neg_log_post(ridge + step * e) - neg_log_post(ridge - step * e)) / (2 * step)
                for e in np.eye(dim)]
        worst = max(worst, float(np.max(np.abs(grad))))
    return Measurement(worst, cases, 1e-6, "gradient of the negative log posterior at the ridge"
                       " solution (central differences)")


def example_laplace() -> tuple[str, str]:
    """Nine successes in ten trials under a uniform prior."""
    from llmsym.numeric import beta_binomial_posterior, laplace_rule

    a_post, b_post = beta_binomial_posterior(1, 1, successes=9, trials=10)
    return ("9 successes in 10 trials, uniform prior",
            rf"\operatorname{{Beta}}(1, 1) \to \operatorname{{Beta}}({a_post}, {b_post}),\quad"
            rf" P(\text{{next succeeds}}) = 10/12 = {laplace_rule(9, 10):.3f}")


# --- The derivation -------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="bayes",
    title="Bayesian thinking: Bayes' rule, conjugacy, Laplace's rule, MAP as L2",
    topic="Bayesian thinking",
    order=87,
    gloss="The posterior is likelihood times prior, normalised; a Beta prior stays Beta after"
          " success/failure data, and a Gaussian prior turns maximum likelihood into L2"
          " regularisation.",
    assumptions=(
        "$\\mathcal{D}$ is the observed data; $\\boldsymbol{\\theta}_1, \\dots,"
        " \\boldsymbol{\\theta}_n$ are candidate parameter values with prior probabilities"
        " $p(\\boldsymbol{\\theta}_i) > 0$.",
        "For a success probability $\\mu \\in (0, 1)$: $n_{\\mathrm{tr}}$ independent trials,"
        " $k_{\\mathrm{tr}}$ of them successes.",
    ),
    definitions=DEFINITIONS,
    claims=CLAIMS,
    checks=(
        NumericCheck("bayes-rule", check_bayes_rule, "The posterior against rejection sampling"
                     " of (θ, datum) pairs.", claim="bayes_rule"),
        NumericCheck("conjugate", check_conjugate, "The Beta posterior against a numerically"
                     " normalised grid posterior.", claim="conjugate"),
        NumericCheck("posterior-mean", check_posterior_mean, "The posterior mean against the"
                     " mean of prior times likelihood, integrated by quadrature.",
                     claim="posterior_mean"),
        NumericCheck("laplace", check_laplace, "Laplace's rule against simulated trials with a"
                     " uniformly drawn success probability.", claim="laplace"),
        NumericCheck("map-l2", check_map_l2, "The decomposition against products of normal"
                     " densities.", claim="map_l2"),
        NumericCheck("ridge", check_ridge, "Experiment: the ridge solution is the MAP estimate."),
    ),
    notation={
        PRIOR: "the prior: the probability of a parameter value before the data",
        LIK: "the likelihood: the probability of the data $\\mathcal{D}$ under a parameter"
             " value",
        n_tr: "number of independent trials (questions of an evaluation)",
        k_tr: "number of successes among the trials",
        alpha0: "first parameter of a Beta prior (prior successes)",
        beta0: "second parameter of a Beta prior (prior failures)",
        evidence_mu: "the evidence: the probability of the data $\\mathcal{D}$, averaged over the"
                     " prior",
        post_mean: "the posterior mean of $\\mu$: the probability that the next trial succeeds",
        sigma_p: "standard deviation of a Gaussian prior on each parameter",
        lik_theta: "the likelihood: the probability of the data $\\mathcal{D}$ under a parameter"
                   " value",
        prior_theta: "the prior: the probability of a parameter value before the data",
        post_theta: "the posterior: the probability of a parameter value given the data",
    },
    sources=(
        "Bayes, An Essay towards solving a Problem in the Doctrine of Chances (1763); Laplace,"
        " Mémoire sur la probabilité des causes par les événements (1774): the rule of"
        " succession.",
        "Gelman et al., Bayesian Data Analysis, 3rd ed. (2013), sections 1.3, 2.1 and 2.4: Bayes'"
        " rule, the Beta-Binomial model and its posterior mean.",
        "Bishop, Pattern Recognition and Machine Learning (2006), section 3.3.1 (eq. 3.55):"
        " MAP with a Gaussian prior is regularised least squares.",
    ),
    examples=(example_laplace,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
