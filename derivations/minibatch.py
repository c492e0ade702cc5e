"""Mini-batch gradients: unbiased, covariance Σ/b, the gradient noise scale and the best step.

Main results
    unbiased         E[g_{j,i}] = gbar_i for each draw  ⊢  E[ghat_i] = gbar_i
    covariance       Cov[g_{j,i}, g_{k,i'}] = δ_{jk} Σ_{ii'} (independent draws)  ⊢
                     Cov[ghat_i, ghat_{i'}] = Σ_{ii'}/b, for every batch size b
    expected_change  the quadratic model of the loss  ⊢
                     E[ΔL] = -η‖gbar‖² + (η²/2)(gbarᵀHgbar + tr(HΣ)/b)
    optimal_step     its slope in η vanishes exactly at η_max/(1 + B_noise/b)
    simple_scale     H = κI  ⊢  B_noise = tr Σ / ‖gbar‖² (the simple noise scale)

The draws are independent and identically distributed: the b examples of a batch are
drawn uniformly with replacement from the data (or from the data distribution). Without
replacement the covariance carries the extra factor (n - b)/(n - 1). McCandlish et al.
(2018, section 2) derive the noise scale and the best step size this way.

Run on its own: ``python derivations/minibatch.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Derivative, Eq, IndexedBase, KroneckerDelta, Le, Sum, Symbol, symbols

from llmsym.derivation import (
    Assumption,
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Result,
    Step,
)
from llmsym.notation import Cov, Expect, Named, deterministic, factors, held, terms

# --- Symbols -------------------------------------------------------------------
b = Symbol("b", integer=True, positive=True)  # batch size: examples per gradient estimate
N = Symbol("N", integer=True, positive=True)  # number of parameters (coordinates of θ)
j, k = symbols("j k", integer=True, positive=True)  # draws within the batch
i, i2 = Symbol("i", integer=True, positive=True), Symbol("i'", integer=True, positive=True)
g = IndexedBase("g", real=True)  # g[j, i]: coordinate i of the j-th drawn example's gradient
g_hat = IndexedBase(Named("g_hat", r"\hat{g}"), real=True)  # the mini-batch gradient
g_bar = IndexedBase(Named("g_bar", r"\bar{g}"), real=True)  # the full (expected) gradient
Sigma = IndexedBase(Named("Sigma", r"\Sigma"), real=True)  # covariance of one example's gradient
H = IndexedBase("H", real=True)  # the Hessian of the loss at θ
kappa = Symbol("kappa", positive=True)  # the curvature when H = κI
eta = Symbol("eta", positive=True)  # the step size (learning rate)
gHg = Named("gHg", r"\bar{g}^{\top} H \bar{g}", positive=True)
trHS = Named("trHS", r"\operatorname{tr}(H\Sigma)", nonnegative=True)
trS = Named("trS", r"\operatorname{tr}\Sigma", nonnegative=True)
B_noise = Named("B_noise", r"B_{\mathrm{noise}}", nonnegative=True)
eta_max = Named("eta_max", r"\eta_{\max}", positive=True)
deterministic(g_bar, Sigma, H, kappa, eta)

# --- Premises --------------------------------------------------------------------
draw_mean = Hypothesis(Eq(Expect(g[j, i]), g_bar[i]),
                       "each drawn example's gradient has mean $\\bar g$")
independent = Hypothesis(
    Eq(Cov(g[j, i], g[k, i2]), KroneckerDelta(j, k) * Sigma[i, i2]),
    "the draws are independent (with replacement), each with covariance $\\Sigma$: draws "
    "$j \\ne k$ are uncorrelated ($\\delta_{jk}$: 1 if $j = k$, else 0)")
within_batch = Hypothesis(Le(j, b), "$j$ is one of the $b$ draws")
within_coordinates = Hypothesis(Le(i, N), "$i$ is one of the $N$ coordinates")
quadratic_model = Assumption(
    r"\mathcal{L}(\boldsymbol{\theta} - \eta\hat g) - \mathcal{L}(\boldsymbol{\theta}) = "
    r"-\eta\,\bar g^{\top}\hat g + \tfrac{\eta^2}{2}\,\hat g^{\top} H \hat g",
    "the loss is quadratic near $\\theta$, with gradient $\\bar g$ and Hessian $H$")
isotropic = Hypothesis(Eq(H[i, i2], kappa * KroneckerDelta(i, i2)),
                       "isotropic curvature $H = \\kappa I$")

# --- Definitions -------------------------------------------------------------------
mean_of_draws = factors(1 / b, Sum(g[j, i], (j, 1, b)))
G_NORM = Named("g_norm2", r"\|\bar{g}\|^{2}", positive=True)
DEFINITIONS = (
    Definition("mini-batch gradient", g_hat[i], mean_of_draws, on_sheet=False,
               title="Mini-batch gradient",
               note="The average of the gradients of $b$ examples drawn at random."),
    Definition("noise scale", B_noise, trHS / gHg),
    Definition("largest step", eta_max, G_NORM / gHg),
    Definition("squared norm of the gradient", G_NORM, Sum(g_bar[i] ** 2, (i, 1, N))),
    Definition("curvature along the gradient", gHg,
               Sum(Sum(factors(H[i, i2], g_bar[i], g_bar[i2]), (i2, 1, N)), (i, 1, N))),
    Definition("trace of H Sigma", trHS,
               Sum(Sum(factors(H[i, i2], Sigma[i, i2]), (i2, 1, N)), (i, 1, N)),
               note="$H$ and $\\Sigma$ are symmetric, so this is $\\operatorname{tr}(H\\Sigma)$."),
    Definition("trace of Sigma", trS, Sum(Sigma[i, i], (i, 1, N))),
)
D_GHAT, D_BNOISE, D_ETAMAX, D_NORM, D_GHG, D_TRHS, D_TRS = DEFINITIONS

# --- Claims -----------------------------------------------------------------------------
unbiased = Claim(
    "unbiased",
    "The mini-batch gradient is unbiased",
    start=Expect(g_hat[i]),
    steps=(
        Step(Sum(Expect(g[j, i]), (j, 1, b)) / b, "definition of $\\hat g$; linearity of "
             "$\\mathbb{E}$", "definition+expect+sum"),
        Step(Sum(g_bar[i], (j, 1, b)) / b, "each draw has mean $\\bar g$", using=(draw_mean,)),
        Step(g_bar[i], "$b$ equal terms", "sum"),
    ),
    where=(D_GHAT,), on_sheet=False,
)

one_draw = Claim(
    "one_draw",
    "Only the draw itself survives a Kronecker delta",
    given=(within_batch,),
    start=Sum(KroneckerDelta(j, k), (k, 1, b)),
    steps=(
        Step(Sum(KroneckerDelta(j, k), (k, 1, j - 1)) + Sum(KroneckerDelta(j, k), (k, j, b)),
             "cut the sum before $k = j$", "join_sums"),
        Step(1, "no $k < j$ equals $j$; $k = j$ lies in $j..b$ once", "doit+sum"),
    ),
    on_sheet=False,
)

others = Sum(g[k, i2], (k, 1, b))  # the whole batch at coordinate i'
with held():
    delta_outside = Sigma[i, i2] * Sum(KroneckerDelta(j, k), (k, 1, b))

row = Claim(
    "row",
    "One draw is correlated with the batch only through itself",
    start=Cov(g[j, i], others),
    steps=(
        Step(Expect(Sum(g[j, i] * g[k, i2], (k, 1, b))) - Expect(g[j, i]) * Expect(others),
             "definition of Cov; $g_{j,i}$ does not depend on $k$", "unfold+sum"),
        Step(Sum(Cov(g[j, i], g[k, i2]), (k, 1, b)), "linearity of $\\mathbb{E}$; definition "
             "of Cov", "expect+unfold+sum"),
        Step(Sum(KroneckerDelta(j, k) * Sigma[i, i2], (k, 1, b)), "independent draws",
             using=(independent,)),
        Step(delta_outside, "$\\Sigma_{ii'}$ does not depend on $k$", "sum"),
        Step(Sigma[i, i2], "only $k = j$ is left", using=(one_draw,)),
    ),
    on_sheet=False,
)

covariance = Claim(
    "covariance",
    "The covariance of the mini-batch gradient is $\\Sigma/b$",
    start=Cov(g_hat[i], g_hat[i2]),
    steps=(
        Step(Expect(Sum(g[j, i] * others, (j, 1, b)) / b**2)
             - Expect(Sum(g[j, i], (j, 1, b)) / b) * Expect(others / b),
             "definitions of Cov and $\\hat g$", "definition+sum"),
        Step(Sum(Cov(g[j, i], others), (j, 1, b)) / b**2,
             "linearity of $\\mathbb{E}$; definition of Cov", "expect+unfold+sum"),
        Step(Sum(Sigma[i, i2], (j, 1, b)) / b**2, "each draw with the batch", using=(row,)),
        Step(Sigma[i, i2] / b, "$b$ equal terms", "sum"),
    ),
    where=(D_GHAT,),
    note="For every batch size $b$: the noise of the estimate falls as $1/b$. Without "
         "replacement from $n$ examples it is $\\frac{\\Sigma}{b}\\cdot\\frac{n - b}{n - 1}$.",
)

unbiased_other = Claim(
    "unbiased_other",
    "The mini-batch gradient is unbiased (coordinate $i'$)",
    start=Expect(g_hat[i2]),
    steps=(
        Step(Sum(Expect(g[j, i2]), (j, 1, b)) / b, "definition of $\\hat g$; linearity of "
             "$\\mathbb{E}$", "definition+expect+sum"),
        Step(Sum(g_bar[i2], (j, 1, b)) / b, "each draw has mean $\\bar g$",
             using=(Hypothesis(Eq(Expect(g[j, i2]), g_bar[i2]), draw_mean.label),)),
        Step(g_bar[i2], "$b$ equal terms", "sum"),
    ),
    on_sheet=False,
    note="The same claim at a second coordinate, so that a rewrite can use it there.",
)

second_moment = Claim(
    "second_moment",
    "The second moments of the mini-batch gradient",
    start=Expect(g_hat[i] * g_hat[i2]),
    steps=(
        Step(Cov(g_hat[i], g_hat[i2]) + Expect(g_hat[i]) * Expect(g_hat[i2]),
             "definition of Cov", "unfold"),
        Step(terms(g_bar[i] * g_bar[i2], Sigma[i, i2] / b),
             "$\\hat g$ is unbiased, with covariance $\\Sigma/b$",
             using=(covariance, unbiased, unbiased_other)),
    ),
    on_sheet=False,
)

H_E = Sum(Sum(H[i, i2] * Expect(g_hat[i] * g_hat[i2]), (i2, 1, N)), (i, 1, N))

quadratic_form = Claim(
    "quadratic_form",
    "The expected curvature term",
    start=H_E,
    steps=(
        Step(Sum(Sum(H[i, i2] * terms(g_bar[i] * g_bar[i2], Sigma[i, i2] / b), (i2, 1, N)),
                 (i, 1, N)), "the second moments of $\\hat g$", using=(second_moment,)),
        Step(terms(gHg, trHS / b), "definitions of $\\bar g^{\\top} H \\bar g$ and "
             "$\\operatorname{tr}(H\\Sigma)$", "definition+sum"),
    ),
    on_sheet=False,
)

change = terms(-eta * Sum(g_bar[i] * g_hat[i], (i, 1, N)),
               eta**2 / 2 * Sum(Sum(H[i, i2] * g_hat[i] * g_hat[i2], (i2, 1, N)), (i, 1, N)))
expected = terms(-eta * G_NORM, eta**2 / 2 * (gHg + trHS / b))

expected_change = Claim(
    "expected_change",
    "Expected loss change of one mini-batch step",
    given=(quadratic_model,),
    start=Expect(change),
    steps=(
        # a plain sum here: swapping the terms of an expectation line could not be told apart
        Step(-eta * Sum(g_bar[i] * Expect(g_hat[i]), (i, 1, N)) + eta**2 / 2 * H_E,
             "linearity of $\\mathbb{E}$", "expect+sum"),
        Step(terms(-eta * Sum(g_bar[i] * g_bar[i], (i, 1, N)), eta**2 / 2 * (gHg + trHS / b)),
             "$\\hat g$ is unbiased; the expected curvature term",
             using=(unbiased, quadratic_form)),
        Step(expected, "definition of $\\|\\bar g\\|^2$", "definition+sum"),
    ),
    on_sheet=False,
    note="The start is $\\mathbb{E}[\\mathcal{L}(\\theta - \\eta\\hat g) - "
         "\\mathcal{L}(\\theta)]$ under the quadratic model: the mini-batch noise adds "
         "$\\eta^2\\operatorname{tr}(H\\Sigma)/(2b)$ to the loss, and nothing to the "
         "first-order gain.",
)

with held():
    solved = (gHg + trHS / b) * (eta - G_NORM / (gHg + trHS / b))

optimal_step = Claim(
    "optimal_step",
    "The best step size for batch size $b$",
    start=Derivative(expected, eta),
    steps=(
        Step(-G_NORM + eta * (gHg + trHS / b), "differentiate in $\\eta$", "doit"),
        Step(solved, "factor out $\\bar g^{\\top} H \\bar g + "
             "\\operatorname{tr}(H\\Sigma)/b > 0$", "cancel"),
        Step((gHg + trHS / b) * (eta - eta_max / terms(1, B_noise / b)),
             "divide by $\\bar g^{\\top} H \\bar g$: definitions of $\\eta_{\\max}$ and "
             "$B_{\\mathrm{noise}}$", "definition+cancel"),
    ),
    where=(D_ETAMAX, D_BNOISE, D_NORM),
    note="The slope of the expected loss change is zero at "
         "$\\eta_{\\mathrm{opt}} = \\eta_{\\max}/(1 + B_{\\mathrm{noise}}/b)$, a minimum "
         "since the factor in front is positive: a batch much larger than $B_{\\mathrm{noise}}$ "
         "buys little, a much smaller one forces a proportionally smaller step.", on_sheet=False,
)

sift_sigma = Claim(
    "sift_sigma",
    "A Kronecker delta keeps the diagonal of $\\Sigma$",
    given=(within_coordinates,),
    start=Sum(KroneckerDelta(i, i2) * Sigma[i, i2], (i2, 1, N)),
    steps=(
        Step(Sum(KroneckerDelta(i, i2) * Sigma[i, i2], (i2, 1, i - 1))
             + Sum(KroneckerDelta(i, i2) * Sigma[i, i2], (i2, i, N)),
             "cut the sum before $i' = i$", "join_sums"),
        Step(Sigma[i, i], "only the term $i' = i$ is left", "doit+sum"),
    ),
    on_sheet=False,
)

sift_grad = Claim(
    "sift_grad",
    "A Kronecker delta keeps one coordinate of $\\bar g$",
    given=(within_coordinates,),
    start=Sum(KroneckerDelta(i, i2) * g_bar[i2], (i2, 1, N)),
    steps=(
        Step(Sum(KroneckerDelta(i, i2) * g_bar[i2], (i2, 1, i - 1))
             + Sum(KroneckerDelta(i, i2) * g_bar[i2], (i2, i, N)),
             "cut the sum before $i' = i$", "join_sums"),
        Step(g_bar[i], "only the term $i' = i$ is left", "doit+sum"),
    ),
    on_sheet=False,
)

with held():  # the inner sums are the lemmas' own left sides, so the rewrite finds them
    isotropic_sums = (Sum(kappa * sift_sigma.start, (i, 1, N))
                      / Sum(kappa * g_bar[i] * sift_grad.start, (i, 1, N)))
    isotropic_ratio = (Sum(kappa * Sigma[i, i], (i, 1, N))
                       / Sum(kappa * g_bar[i] * g_bar[i], (i, 1, N)))

simple_scale = Claim(
    "simple_scale",
    "With isotropic curvature the noise scale is $\\operatorname{tr}\\Sigma/"
    "\\|\\bar g\\|^2$",
    start=B_noise,
    steps=(
        Step(Sum(Sum(H[i, i2] * Sigma[i, i2], (i2, 1, N)), (i, 1, N))
             / Sum(Sum(H[i, i2] * g_bar[i] * g_bar[i2], (i2, 1, N)), (i, 1, N)),
             "definitions of $B_{\\mathrm{noise}}$, $\\operatorname{tr}(H\\Sigma)$ and "
             "$\\bar g^{\\top} H \\bar g$", "definition+sum"),
        Step(isotropic_sums, "$H_{ii'} = \\kappa\\delta_{ii'}$", "doit+sum", using=(isotropic,)),
        Step(isotropic_ratio, "a Kronecker delta keeps the term $i' = i$",
             using=(sift_sigma, sift_grad)),
        Step(trS / G_NORM, "cancel $\\kappa$; definitions of $\\operatorname{tr}\\Sigma$ and "
             "$\\|\\bar g\\|^2$", "definition+cancel"),
    ),
    where=(D_BNOISE, D_TRS, D_NORM),
    note="McCandlish et al.'s simple noise scale $B_{\\mathrm{simple}}$, which needs only the "
         "gradient's mean and covariance; with other curvature it approximates "
         "$B_{\\mathrm{noise}}$.", on_sheet=False,
)

# --- Numeric checks -------------------------------------------------------------------


def _problem(rng: np.random.Generator):
    """Per-example gradients of a small random least-squares problem at a random point."""
    count, dim = int(rng.integers(2, 6)), int(rng.integers(1, 4))
    features, targets = rng.normal(size=(count, dim)), rng.normal(size=count)
    point = rng.normal(size=dim)
    return features * (features @ point - targets)[:, None]  # row n: ∇ of (xᵀθ - y)²/2


def check_unbiased(rng: np.random.Generator, formula) -> Measurement:
    """gbar_i from the claim against the exact mean over every batch of b draws."""
    from llmsym.numeric.minibatch import exact_minibatch_moments

    worst, cases = 0.0, 20
    for _ in range(cases):
        grads, size = _problem(rng), int(rng.integers(1, 4))
        mean, _ = exact_minibatch_moments(grads, size, replace=True)
        full = grads.mean(axis=0)
        got = np.array([formula(g_bar=full, i=c + 1) for c in range(full.size)], dtype=float)
        worst = max(worst, float(np.max(np.abs(got - mean))) / max(1.0, np.abs(mean).max()))
    return Measurement(worst, cases, 1e-12,
                       "exact mean of the mini-batch gradient over all n^b batches vs the claim")


def check_covariance(rng: np.random.Generator, formula) -> Measurement:
    """Sigma_ii'/b from the claim against the exact covariance over every batch, for i <= i'.

    Sigma is handed over with its lower triangle scrambled: the claim reads Sigma at (i, i'),
    so a formula that read (i', i) would be caught although Sigma itself is symmetric."""
    from llmsym.numeric.minibatch import exact_minibatch_moments, per_example_covariance

    worst, cases = 0.0, 20
    for _ in range(cases):
        grads, size = _problem(rng), int(rng.integers(1, 5))
        _, cov = exact_minibatch_moments(grads, size, replace=True)
        sigma = per_example_covariance(grads)
        dim = sigma.shape[0]
        lower = np.tril_indices(dim, -1)
        sigma[lower] = rng.normal(size=len(lower[0])) * 10
        for r in range(dim):
            for c in range(r, dim):
                got = float(formula(Sigma=sigma, b=size, i=r + 1, **{"i'": c + 1}))
                worst = max(worst, abs(got - cov[r, c]) / max(1.0, np.abs(cov).max()))
    return Measurement(worst, cases, 1e-12, "exact covariance over all n^b batches (with "
                       "replacement, b = 1..4) vs Σ/b, Σ the per-example covariance")


def _hessian(rng: np.random.Generator, dim: int) -> np.ndarray:
    root = rng.normal(size=(dim, dim))
    return root @ root.T + 0.1 * np.eye(dim)


def check_expected_change(rng: np.random.Generator, formula) -> Measurement:
    """The claim's expected change against the exact average over every batch."""
    from llmsym.numeric.minibatch import expected_quadratic_loss_change, per_example_covariance

    worst, cases = 0.0, 20
    for _ in range(cases):
        grads, size = _problem(rng), int(rng.integers(1, 4))
        hess, lr = _hessian(rng, grads.shape[1]), float(rng.uniform(0.01, 1.0))
        full, sigma = grads.mean(axis=0), per_example_covariance(grads)
        exact = expected_quadratic_loss_change(grads, hess, lr, size, replace=True)
        got = float(formula(eta=lr, b=size, g_norm2=full @ full, gHg=full @ hess @ full,
                            trHS=float(np.sum(hess * sigma))))
        worst = max(worst, abs(got - exact) / max(1.0, abs(exact)))
    return Measurement(worst, cases, 1e-12, "E[ΔL] of one step over every batch (quadratic "
                       "loss) vs -η‖ḡ‖² + η²/2 (ḡᵀHḡ + tr(HΣ)/b)")


def check_optimal_step(rng: np.random.Generator, formula) -> Measurement:
    """The claim's slope against the exact expected change's slope in η (a central difference,
    exact for a quadratic), and its zero against a golden-section minimiser."""
    from llmsym.numeric.minibatch import (
        expected_quadratic_loss_change,
        gradient_noise_scale,
        per_example_covariance,
    )

    worst, cases = 0.0, 12
    for _ in range(cases):
        grads, size = _problem(rng), int(rng.integers(1, 4))
        if np.linalg.norm(grads.mean(axis=0)) < 1e-3:
            continue
        hess = _hessian(rng, grads.shape[1])
        full, sigma = grads.mean(axis=0), per_example_covariance(grads)
        curv = float(full @ hess @ full)
        trace_hs = float(np.sum(hess * sigma))
        args = {"b": size, "gHg": curv, "trHS": trace_hs, "eta_max": full @ full / curv,
                "B_noise": trace_hs / curv}
        gradient_noise_scale(grads)  # the reference accepts the problem (G != 0)
        for lr in rng.uniform(0.01, 2.0, size=3):
            step = 1e-3
            slope = (expected_quadratic_loss_change(grads, hess, lr + step, size)
                     - expected_quadratic_loss_change(grads, hess, lr - step, size)) / (2 * step)
            got = float(formula(eta=float(lr), **args))
            worst = max(worst, abs(got - slope) / max(1.0, abs(slope)))
    return Measurement(worst, cases, 1e-8, "slope in η of the exact E[ΔL] (central difference of "
                       "a quadratic) vs the claim's factored slope")


def check_simple_scale(rng: np.random.Generator, formula) -> Measurement:
    """tr Σ / ‖gbar‖² from the claim against llmsym.numeric.gradient_noise_scale."""
    from llmsym.numeric.minibatch import gradient_noise_scale, per_example_covariance

    worst, cases = 0.0, 30
    for _ in range(cases):
        grads = _problem(rng)
        full = grads.mean(axis=0)
        if full @ full < 1e-6:
            continue
        got = float(formula(trS=float(np.trace(per_example_covariance(grads))),
                            g_norm2=full @ full))
        ref = gradient_noise_scale(grads)
        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
    return Measurement(worst, cases, 1e-12, "tr Σ/‖ḡ‖² vs gradient_noise_scale")


def example_noise_scale() -> tuple[str, str]:
    """B_simple and the best step of a small least-squares problem."""
    from llmsym.numeric.minibatch import gradient_noise_scale

    grads = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [-1.0, 1.0]])
    scale = gradient_noise_scale(grads)
    shrink = float(RESULTS[0].expr.subs({B_noise: scale, b: 8}))
    return ("the simple noise scale of four per-example gradients (rows of "
            "$[1, 0; 0, 2; 3, 1; -1, 1]$), and the best step at $b = 8$",
            rf"B_{{\mathrm{{simple}}}} = {scale:.3f},\quad \eta_{{\mathrm{{opt}}}}(8) = "
            rf"{shrink:.3f}\,\eta_{{\max}}")


# --- Results ------------------------------------------------------------------------------
RESULTS = (
    Result("optimal_step_fraction", 1 / (1 + B_noise / b), params=(B_noise, b),
           doc="eta_opt(b) / eta_max = 1/(1 + B_noise/b): the fraction of the noiseless best "
               "step that a batch of b examples affords", claim="optimal_step"),
)

# --- The derivation -------------------------------------------------------------------
DERIVATION = Derivation(
    id="minibatch",
    title="Mini-batch gradients and the gradient noise scale",
    topic="Optimisation",
    order=52,
    gloss="Averaging $b$ independent gradients keeps the mean and divides the covariance by "
          "$b$; the quadratic model then says how large a step that noise allows.",
    assumptions=(
        "$\\theta$ has $N$ coordinates; $g_{j,i}$ is coordinate $i$ of the gradient of the "
        "$j$-th example drawn; the $b$ draws are independent and identically distributed "
        "(uniform with replacement from the data, or from the data distribution), with mean "
        "$\\bar g = \\nabla\\mathcal{L}(\\theta)$ and covariance $\\Sigma$.",
        "For the step size: the loss is quadratic near $\\theta$ with Hessian $H$, and "
        "$\\bar g^{\\top} H \\bar g > 0$ (McCandlish et al.'s model).",
    ),
    definitions=DEFINITIONS,
    claims=(unbiased, one_draw, row, covariance, unbiased_other, second_moment, quadratic_form,
            expected_change, optimal_step, sift_sigma, sift_grad, simple_scale),
    results=RESULTS,
    checks=(
        NumericCheck("unbiased", check_unbiased, "The exact mean over every batch against "
                     "$\\bar g$.", claim="unbiased"),
        NumericCheck("covariance", check_covariance, "The exact covariance over every batch "
                     "against $\\Sigma/b$.", claim="covariance"),
        NumericCheck("expected_change", check_expected_change, "The exact expected loss change "
                     "over every batch against the closed form.", claim="expected_change"),
        NumericCheck("optimal_step", check_optimal_step, "The slope of the exact expected loss "
                     "change in $\\eta$ against the factored form.", claim="optimal_step"),
        NumericCheck("simple_scale", check_simple_scale, "$\\operatorname{tr}\\Sigma/"
                     "\\|\\bar g\\|^2$ against llmsym.numeric.gradient_noise_scale.",
                     claim="simple_scale"),
    ),
    notation={
        g: "a stochastic gradient: $g_t$ the one used at step $t$, $g_j$ that of the $j$-th "
           "example of a mini-batch",
        g_hat: "the mini-batch gradient: the mean of $b$ drawn examples' gradients",
        g_bar: "the mean gradient: $\\mathbb{E}[g]$, the same at every step or draw",
        Sigma: "the covariance matrix of one drawn example's gradient",
        i2: "an index (a component)",
        H: "the Hessian of the loss at $\\theta$",
        kappa: "the curvature when the Hessian is $\\kappa I$",
        gHg: "the curvature along the mean gradient",
        trHS: "the gradient noise weighted by the curvature",
        trS: "the total variance of one example's gradient",
        G_NORM: "the squared length of the mean gradient",
        B_noise: "the gradient noise scale $\\operatorname{tr}(H\\Sigma)/"
                 "(\\bar g^{\\top} H \\bar g)$",
        eta_max: "the best step without noise, $\\|\\bar g\\|^2/(\\bar g^{\\top} H \\bar g)$",
    },
    sources=(
        "McCandlish, Kaplan, Amodei and the OpenAI Dota Team, An Empirical Model of Large-Batch "
        "Training (2018), arXiv:1812.06162, section 2: the quadratic model, B_noise, "
        "B_simple and the optimal step.",
        "Robbins and Monro (1951) and Bottou, Curtis and Nocedal, Optimization Methods for "
        "Large-Scale Machine Learning (2018), section 4: unbiased stochastic gradients and "
        "their variance.",
    ),
    examples=(example_noise_scale,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
