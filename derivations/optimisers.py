"""Optimisers: gradient descent, SGD, Adam and AdamW; Adam's bias correction in expectation.

Main results
    definitions      the GD/SGD, Adam and AdamW updates (face)
    ema_unrolled     m_0 = 0, m_t = beta1 m_{t-1} + (1 - beta1) g_t  ⊢
                     m_t = (1 - beta1) sum_{s=1}^t beta1^{t-s} g_s, for every t (induction)
    moment_bias      E[g_s] = gbar for every s (stationary), 0 < beta1 < 1  ⊢
                     E[m_t] = (1 - beta1^t) gbar: the moment is biased towards 0
    bias_correction  ⊢ E[m_t / (1 - beta1^t)] = gbar: the corrected moment is unbiased
    adamw            decoupled weight decay shrinks theta by (1 - eta lambda), then steps

Kingma and Ba (section 3) argue the bias correction exactly this way: unroll the moving
average, take expectations under a stationary gradient distribution, and sum the geometric
weights. The constant-gradient case is the special case g_s = gbar.

Run on its own: ``python derivations/optimisers.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Abs, Derivative, Eq, IndexedBase, Lt, Sum, Symbol, sqrt

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Induction,
    Measurement,
    NumericCheck,
    Result,
    Step,
    induction_hypothesis,
)
from llmsym.notation import (
    Expect,
    Named,
    Notation,
    deterministic,
    factors,
    held,
    minus,
    terms,
    unfold,
)

# --- Symbols -------------------------------------------------------------------
t = Symbol("t", integer=True, positive=True)  # the step number
s = Symbol("s", integer=True, positive=True)  # an earlier step (summation index)
theta = IndexedBase(Named("theta", r"\boldsymbol{\theta}"), real=True)  # parameters θ_t
g = IndexedBase("g", real=True)  # the gradient used at each step
m_hat = IndexedBase(Named("m_hat", r"\hat{m}"), real=True)  # bias-corrected first moment
v_hat = IndexedBase(Named("v_hat", r"\hat{v}"), positive=True)  # bias-corrected second moment
eta = Symbol("eta", positive=True)  # the learning rate
beta1 = Symbol("beta_1", positive=True)  # decay of the first moment, 0 < beta1 < 1
eps = Symbol("epsilon", positive=True)  # Adam's constant in the denominator
lam = Named("weight_decay", r"\lambda_{\mathrm{wd}}", positive=True)  # weight-decay coefficient
g_bar = Named("g_bar", r"\bar{g}", real=True)  # the mean gradient, the same at every step
grad_loss = Named("grad_loss", r"\nabla\mathcal{L}", real=True)  # ∇L at θ_{t-1} (AdamW claim)
u = Named("adam_direction", r"u_{t}", real=True)  # m̂_t / (√v̂_t + ε), Adam's direction
# a one-dimensional quadratic loss (a/2)(θ - θ*)^2, for gradient descent's contraction
w, w_star = Named("w", r"\boldsymbol{\theta}", real=True), Named("w_star",
                                                                  r"\boldsymbol{\theta}^{*}",
                                                                  real=True)
a = Symbol("a", positive=True)  # curvature of the quadratic
deterministic(beta1, g_bar, eta, eps, lam)


class first_moment(Notation):  # noqa: N801 - reads like the maths
    """``first_moment(g, beta, t)``: Adam's m_t (m_0 = 0, m_s = beta m_{s-1} + (1 - beta) g_s).

    For a concrete t it is the recursion written out (so random points can evaluate it);
    for a symbolic t it stays as it is: the recursion then enters a proof only as the
    displayed hypotheses ``m_0 = 0`` and ``m_{t+1} = beta m_t + (1 - beta) g_{t+1}``.
    It prints ``m_t``; ``g`` is an argument so that E[.] treats it as random.
    """

    nargs = 3

    @classmethod
    def definition(cls, grads, beta, steps):
        moment = sp.Integer(0)
        for step in range(1, int(steps) + 1):
            moment = beta * moment + (1 - beta) * grads[step]
        return moment

    def doit(self, **hints):
        if self.args[2].is_Integer and self.args[2] >= 0:
            return unfold(self.definition(*self.args))
        return self

    def _latex(self, printer):
        return rf"m_{{{printer._print(self.args[2])}}}"


def m(step):
    """Adam's first moment m_step."""
    return first_moment(g, beta1, step)


# --- Premises --------------------------------------------------------------------
starts_at_zero = Hypothesis(Eq(m(0), 0), "Adam starts its moments at zero")
recursion = Hypothesis(Eq(m(t + 1), beta1 * m(t) + (1 - beta1) * g[t + 1]),
                       "Adam's update of its first moment (Algorithm 1)")
stationary = Hypothesis(Eq(Expect(g[s]), g_bar),
                        "stationary gradients: the same mean $\\bar g$ at every step")
beta1_below_one = Hypothesis(Lt(beta1, 1), "$0 < \\beta_1 < 1$")

# --- Definitions -------------------------------------------------------------------
correction = 1 - beta1**t
DEFINITIONS = (
    Definition("gradient descent", theta[t], theta[t - 1] - eta * g[t], on_sheet=False,
               title="Gradient descent and SGD",
               note="Gradient descent takes $g_t = \\nabla\\mathcal{L}(\\theta_{t-1})$; SGD "
                    "the gradient of a random mini-batch, an unbiased estimate of it (52)."),
    Definition("Adam", theta[t], theta[t - 1] - eta * m_hat[t] / terms(sqrt(v_hat[t]), eps),
               on_sheet=True, title="Adam (Kingma and Ba, Algorithm 1)",
               note="$m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g_t$, "
                    "$v_t = \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2$, $m_0 = v_0 = 0$; "
                    "$\\hat m_t = m_t/(1 - \\beta_1^t)$, $\\hat v_t = v_t/(1 - \\beta_2^t)$."),
    Definition("AdamW", theta[t],
               theta[t - 1] - eta * terms(m_hat[t] / terms(sqrt(v_hat[t]), eps),
                                          lam * theta[t - 1]),
               on_sheet=False, title="AdamW (decoupled weight decay)",
               note="The decay $\\lambda_{\\mathrm{wd}}\\theta_{t-1}$ bypasses the moments; "
                    "PyTorch scales it by "
                    "the learning rate, as here."),
    Definition("bias-corrected moment", m_hat[t], m(t) / correction),
)
M_HAT = DEFINITIONS[3]

# --- Claims -----------------------------------------------------------------------------
unrolled = (1 - beta1) * Sum(beta1 ** (t - s) * g[s], (s, 1, t))
hypothesis = induction_hypothesis(m(t), unrolled)
by_induction = Induction(
    t, 0,
    base_steps=(Step(0, "$m_0 = 0$", using=(starts_at_zero,)),),
    step_steps=(
        Step(beta1 * m(t) + (1 - beta1) * g[t + 1], "Adam's update", using=(recursion,)),
        Step(beta1 * unrolled + (1 - beta1) * g[t + 1], "induction hypothesis",
             using=(hypothesis,)),
        Step((1 - beta1) * Sum(beta1 ** (t + 1 - s) * g[s], (s, 1, t + 1)),
             "$\\beta_1 \\cdot \\beta_1^{t-s} = \\beta_1^{t+1-s}$; the new gradient is the term "
             "$s = t + 1$", "align_sums"),
    ),
    hypothesis=hypothesis,
)

ema_unrolled = Claim(
    "ema_unrolled",
    "Adam's first moment is a weighted sum of past gradients",
    start=m(t),
    steps=(Step(unrolled, "induction on $t$", induction=by_induction),),
    on_sheet=False,
    note="The weights $(1 - \\beta_1)\\beta_1^{t-s}$ decay geometrically into the past. The "
         "second moment $v_t$ is the same sum with $\\beta_2$ and $g_s^2$.",
)

moment_sum = Claim(
    "moment_sum",
    "The expected moment weighs the mean gradient",
    start=Expect(m(t)),
    steps=(
        Step(Expect(unrolled), "the moment unrolled", using=(ema_unrolled,)),
        Step((1 - beta1) * Sum(beta1 ** (t - s) * Expect(g[s]), (s, 1, t)),
             "linearity of $\\mathbb{E}$", "expect+sum"),
        Step((1 - beta1) * Sum(beta1 ** (t - s) * g_bar, (s, 1, t)),
             "stationarity: $\\mathbb{E}[g_s] = \\bar g$", using=(stationary,)),
    ),
    on_sheet=False,
)

with held():  # the closed form of the geometric sum, before (1 - beta1) cancels
    geometric_line = (1 - beta1) * g_bar * (1 - beta1**t) / (1 - beta1)

moment_bias = Claim(
    "moment_bias",
    "Adam's moment is biased towards zero",
    given=(beta1_below_one,),
    start=Expect(m(t)),
    steps=(
        Step((1 - beta1) * Sum(beta1 ** (t - s) * g_bar, (s, 1, t)),
             "the expected moment as a weighted sum", using=(moment_sum,)),
        Step(geometric_line, "geometric sum: $\\sum_{s=1}^{t} \\beta_1^{t-s} = "
             "(1 - \\beta_1^t)/(1 - \\beta_1)$, as $\\beta_1 \\ne 1$", "geometric+together"),
        Step(factors(correction, g_bar), "cancel $1 - \\beta_1 > 0$", "unfold+cancel"),
    ),
    note="Kingma and Ba, section 3. Early on ($\\beta_1^t$ near 1) $m_t$ is far below the "
         "mean gradient because it started at $m_0 = 0$. A constant gradient $g_s = \\bar g$ is "
         "the special case where $m_t$ itself equals $(1 - \\beta_1^t)\\bar g$.", on_sheet=False,
)

with held():
    unbiased_line = factors(correction, g_bar) / correction

bias_correction = Claim(
    "bias_correction",
    "Bias correction makes the moment unbiased",
    start=Expect(m_hat[t]),
    steps=(
        Step(Expect(m(t)) / correction, "definition of $\\hat m_t$; linearity of $\\mathbb{E}$",
             "definition+expect"),
        Step(unbiased_line, "the bias of $m_t$", using=(moment_bias,)),
        Step(g_bar, "cancel $1 - \\beta_1^t > 0$", "unfold+cancel"),
    ),
    where=(M_HAT,),
    note="Likewise $\\mathbb{E}[\\hat v_t] = \\mathbb{E}[g^2]$ when the second moments of the "
         "gradients are stationary.",
)

step_bound = Claim(
    "step_bound",
    "Constant gradient: Adam's step is at most the learning rate",
    start=eta * Abs(g_bar) / (Abs(g_bar) + eps),
    steps=(
        Step(eta, "$\\eta - \\eta|\\bar g|/(|\\bar g| + \\epsilon) = "
                  "\\eta\\epsilon/(|\\bar g| + \\epsilon) \\ge 0$",
             rel="<=", certificate=eta * eps / (Abs(g_bar) + eps)),
    ),
    on_sheet=False,
    note="With $g_s = \\bar g$ for every $s$, $\\hat m_t = \\bar g$ and $\\hat v_t = \\bar g^2$: "
         "the step is $\\eta|\\bar g|/(|\\bar g| + \\epsilon)$. Varying gradients can reach "
         "$\\eta(1 - \\beta_1)/\\sqrt{1 - \\beta_2}$ (Kingma and Ba, section 2.1).",
)

adamw = Claim(
    "adamw",
    "AdamW shrinks the weights, then takes the Adam step",
    start=theta[t - 1] - eta * (u + lam * theta[t - 1]),
    steps=(Step(minus(factors(1 - eta * lam, theta[t - 1]), factors(eta, u)),
                "collect $\\theta_{t-1}$", "unfold+expand"),),
    on_sheet=False,
    note="$u_t = \\hat m_t/(\\sqrt{\\hat v_t} + \\epsilon)$. The decay never passes through "
         "$\\hat m_t$ or $\\hat v_t$; adding $\\lambda_{\\mathrm{wd}}\\theta$ to the gradient "
         "instead "
         "(L2 regularisation) would divide it by $\\sqrt{\\hat v_t} + \\epsilon$.",
)

sgd_l2 = Claim(
    "sgd_l2",
    "For plain gradient descent, L2 regularisation is weight decay",
    start=theta[t - 1] - eta * (grad_loss + lam * theta[t - 1]),
    steps=(Step((1 - eta * lam) * theta[t - 1] - eta * grad_loss, "collect $\\theta_{t-1}$",
                "expand"),),
    on_sheet=False,
    note="The gradient of $\\frac{\\lambda_{\\mathrm{wd}}}{2}\\|\\theta\\|^2$ is "
         "$\\lambda_{\\mathrm{wd}}\\theta$; with Adam the "
         "two differ (Loshchilov and Hutter, Proposition 1).",
)

quadratic = a / 2 * (w - w_star) ** 2
gd_quadratic = Claim(
    "gd_quadratic",
    "Gradient descent on a quadratic contracts by $1 - \\eta a$",
    start=w - eta * Derivative(quadratic, w),
    steps=(Step(w_star + (1 - eta * a) * (w - w_star),
                "differentiate, then collect the distance to $\\theta^*$", "doit"),),
    on_sheet=False,
    note="The error is multiplied by $1 - \\eta a$ each step: it shrinks exactly when "
         "$0 < \\eta < 2/a$, fastest at $\\eta = 1/a$.",
)

# --- Numeric checks -------------------------------------------------------------------


def _adam_moments(grads: np.ndarray, b1: float) -> np.ndarray:
    """m_1..m_T of llmsym.numeric's Adam run on gradient sequences (last axis: time)."""
    from llmsym.numeric.optim import AdamState, adam_step

    shape = grads.shape[:-1]
    params, state = np.zeros(shape), AdamState.zeros(shape)
    out = np.empty_like(grads)
    for step in range(grads.shape[-1]):
        params, state = adam_step(params, grads[..., step], state, lr=1e-3, beta1=b1)
        out[..., step] = state.m
    return out


def check_unrolled(rng: np.random.Generator, formula) -> Measurement:
    """(1 - b1) sum_s b1^(t-s) g_s from the claim against the m_t of a NumPy Adam run."""
    worst, cases = 0.0, 12
    for _ in range(cases):
        b1 = float(rng.uniform(0.5, 0.99))
        grads = rng.normal(size=int(rng.integers(2, 25))) * 10.0 ** rng.uniform(-3, 3)
        moments = _adam_moments(grads, b1)
        for step in (1, grads.size // 2 + 1, grads.size):
            got = float(formula(beta_1=b1, t=step, g=grads))
            worst = max(worst, abs(got - moments[step - 1]) / np.abs(grads).max())
    return Measurement(worst, cases, 1e-12,
                       "unrolled moment vs m_t of llmsym.numeric.adam_step, 1 to 25 steps")


def _exact_expectations(rng: np.random.Generator, b1: float, steps: int, mean: float):
    """E[m_t] and E[m_t / (1 - b1^t)], t = 1..steps, exactly: every sequence of gradients drawn
    from step-dependent two-point distributions that share the mean, run through Adam."""
    grid = np.array(np.meshgrid(*[[0, 1]] * steps, indexing="ij")).reshape(steps, -1).T
    low = mean - rng.uniform(0.5, 3.0, size=steps)  # each step its own distribution
    high = mean + rng.uniform(0.5, 3.0, size=steps)
    p_high = (mean - low) / (high - low)  # so that E[g_s] = mean at every step
    grads = np.where(grid == 1, high, low)
    weights = np.prod(np.where(grid == 1, p_high, 1 - p_high), axis=1)
    moments = _adam_moments(grads, b1)
    expected = weights @ moments
    corrected = expected / (1 - b1 ** np.arange(1, steps + 1))
    return expected, corrected


def check_moment_bias(rng: np.random.Generator, formula) -> Measurement:
    """(1 - b1^t) gbar from the claim against E[m_t] computed exactly over all 2^T runs."""
    worst, cases = 0.0, 6
    for _ in range(cases):
        b1, steps, mean = float(rng.uniform(0.5, 0.95)), int(rng.integers(3, 9)), rng.normal()
        expected, _ = _exact_expectations(rng, b1, steps, mean)
        for step in range(1, steps + 1):
            got = float(formula(beta_1=b1, t=step, g_bar=mean))
            worst = max(worst, abs(got - expected[step - 1]) / max(1.0, abs(mean)))
    return Measurement(worst, cases, 1e-12, "E[m_t] over every gradient sequence of 3..8 steps "
                       "(two-point laws, step-dependent, common mean) run through Adam")


def check_bias_correction(rng: np.random.Generator, formula) -> Measurement:
    """gbar from the claim against the exact E[m_t / (1 - b1^t)] of Adam's runs."""
    worst, cases = 0.0, 6
    for _ in range(cases):
        b1, steps, mean = float(rng.uniform(0.5, 0.95)), int(rng.integers(3, 9)), rng.normal()
        _, corrected = _exact_expectations(rng, b1, steps, mean)
        got = float(formula(g_bar=mean))
        worst = max(worst, float(np.max(np.abs(corrected - got))) / max(1.0, abs(mean)))
    return Measurement(worst, cases, 1e-12,
                       "exact E[m_t/(1 - b1^t)] of Adam runs vs the mean gradient, every t")


def check_adamw(rng: np.random.Generator, formula) -> Measurement:
    """(1 - eta lambda) theta - eta u from the claim against llmsym.numeric's AdamW step."""
    from llmsym.numeric.optim import AdamState, adam_step

    worst, cases = 0.0, 40
    for _ in range(cases):
        lr, decay, b1, b2 = (float(rng.uniform(lo, hi)) for lo, hi in
                             ((1e-4, 0.1), (0.0, 0.5), (0.5, 0.99), (0.9, 0.9999)))
        epsilon = float(10.0 ** rng.uniform(-8, -2))
        state = AdamState(rng.normal(size=3), rng.uniform(0.1, 2.0, size=3), 7)
        params, grad_now = rng.normal(size=3), rng.normal(size=3)
        got_params, new = adam_step(params, grad_now, state, lr=lr, beta1=b1, beta2=b2,
                                    eps=epsilon, weight_decay=decay)
        direction = (new.m / (1 - b1**8)) / (np.sqrt(new.v / (1 - b2**8)) + epsilon)
        ours = formula(eta=lr, weight_decay=decay, theta=[params], t=2,
                       adam_direction=direction)
        worst = max(worst, float(np.max(np.abs(np.asarray(ours, dtype=float) - got_params))))
    return Measurement(worst, cases, 1e-13, "the decoupled update vs adam_step(weight_decay=λ)")


def check_gd(rng: np.random.Generator, formula) -> Measurement:
    """theta* + (1 - eta a)(theta - theta*) against a GD step with a complex-step derivative."""
    from llmsym.numeric.optim import gd_step

    worst, cases = 0.0, 40
    for _ in range(cases):
        curv, target, start = rng.uniform(0.1, 10), rng.normal(), rng.normal() * 10
        lr = rng.uniform(0.01, 1.9) / curv
        step = 1e-30  # complex step: f'(x) = Im f(x + ih) / h, no cancellation
        slope = (curv / 2 * (complex(start, step) - target) ** 2).imag / step
        got = float(formula(w=start, w_star=target, eta=lr, a=curv))
        worst = max(worst, abs(got - float(gd_step(start, slope, lr))) / max(1.0, abs(start)))
    return Measurement(worst, cases, 1e-13, "one GD step, derivative by complex step")


def example_adam_step() -> tuple[str, str]:
    """One Adam step from theta = 1 with gradient 0.5 and the default hyperparameters."""
    from llmsym.numeric.optim import AdamState, adam_step

    params, state = adam_step(np.array([1.0]), np.array([0.5]), AdamState.zeros(1))
    m1, v1 = float(state.m[0]), float(state.v[0])
    factor = RESULTS[0].expr  # 1 - beta^t
    m_hat1 = m1 / float(factor.subs({beta1: 0.9, t: 1}))
    v_hat1 = v1 / float(factor.subs({beta1: 0.999, t: 1}))
    return ("one Adam step: $\\theta_0 = 1$, $g_1 = 0.5$, $\\eta = 10^{-3}$, "
            "$\\beta_1 = 0.9$, $\\beta_2 = 0.999$, $\\epsilon = 10^{-8}$",
            rf"m_1 = {m1:.3g},\ v_1 = {v1:.3g},\ \hat m_1 = {m_hat1:.3g},\ "
            rf"\hat v_1 = {v_hat1:.3g},\ \theta_1 = {float(params[0]):.7f}")


# --- Results ------------------------------------------------------------------------------
RESULTS = (
    Result("adam_bias_correction", correction, params=(beta1, t),
           doc="the factor 1 - beta^t by which Adam's moment is biased: m_t / (1 - beta^t) is "
               "unbiased", claim="moment_bias"),
    Result("gd_quadratic_contraction", 1 - eta * a, params=(eta, a),
           doc="factor by which a gradient-descent step of size eta shrinks the error on a "
               "quadratic of curvature a", claim="gd_quadratic"),
)

# --- The derivation -------------------------------------------------------------------
DERIVATION = Derivation(
    id="optimisers",
    title="Gradient descent, SGD, Adam and AdamW",
    topic="Optimisation",
    order=50,
    gloss="Adam averages gradients and their squares from a zero start; dividing by "
          "$1 - \\beta^t$ removes exactly the bias that start causes, in expectation.",
    assumptions=(
        "$\\theta_t$ are the parameters after $t$ updates; $g_t$ is the gradient used at step "
        "$t$ (of the full loss for gradient descent, of a mini-batch for SGD and Adam).",
        "Adam: $0 < \\beta_1, \\beta_2 < 1$, $\\epsilon > 0$, $m_0 = v_0 = 0$. The bias claims "
        "treat the gradients as random with a common mean $\\bar g$ (stationarity); "
        "nothing else about their law is assumed.",
    ),
    definitions=DEFINITIONS,
    claims=(ema_unrolled, moment_sum, moment_bias, bias_correction, step_bound, adamw, sgd_l2,
            gd_quadratic),
    results=RESULTS,
    checks=(
        NumericCheck("unrolled", check_unrolled, "The unrolled moment against $m_t$ of a NumPy "
                     "Adam run.", claim="ema_unrolled"),
        NumericCheck("moment_bias", check_moment_bias, "$(1 - \\beta_1^t)\\bar g$ against "
                     "$\\mathbb{E}[m_t]$ computed exactly over every gradient sequence.",
                     claim="moment_bias"),
        NumericCheck("bias_correction", check_bias_correction, "$\\bar g$ against the exact "
                     "$\\mathbb{E}[m_t/(1 - \\beta_1^t)]$ of Adam runs.", claim="bias_correction"),
        NumericCheck("adamw", check_adamw, "The decoupled update against "
                     "llmsym.numeric's AdamW step.", claim="adamw"),
        NumericCheck("gd", check_gd, "One gradient-descent step on a quadratic, derivative by "
                     "complex step.", claim="gd_quadratic"),
    ),
    notation={
        g: "a stochastic gradient: $g_t$ the one used at step $t$, $g_j$ that of the $j$-th "
           "example of a mini-batch",
        m_hat: "Adam's bias-corrected first moment $m_t/(1 - \\beta_1^t)$, where $m_0 = 0$, "
               "$m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g_t$",
        v_hat: "Adam's bias-corrected second moment $v_t/(1 - \\beta_2^t)$, where $v_0 = 0$, "
               "$v_t = \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2$",
        beta1: "decay rate of Adam's first moment",
        lam: "the weight-decay coefficient",
        g_bar: "the mean gradient: $\\mathbb{E}[g]$, the same at every step or draw",
        r"m_{t}": "Adam's first moment: $m_0 = 0$, $m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g_t$",
        grad_loss: "the gradient of the loss at $\\theta_{t-1}$",
        u: "Adam's direction $\\hat m_t/(\\sqrt{\\hat v_t} + \\epsilon)$",
        w_star: "the minimiser of the quadratic",
        a: "the curvature of a one-dimensional quadratic loss",
    },
    sources=(
        "Kingma and Ba, Adam: A Method for Stochastic Optimization, ICLR 2015, arXiv:1412.6980: "
        "Algorithm 1 (the update), section 2.1 (step size), section 3 (bias correction).",
        "Loshchilov and Hutter, Decoupled Weight Decay Regularization, ICLR 2019, "
        "arXiv:1711.05101: Algorithm 2 and Proposition 1 (with the learning rate multiplying the "
        "decay, as in PyTorch's AdamW).",
        "Robbins and Monro, A Stochastic Approximation Method (1951): stochastic gradients.",
    ),
    examples=(example_adam_step,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
