"""Optimisers: gradient descent, SGD's unbiased gradient, Adam's bias correction, AdamW.

Statement
    Gradient descent on L = (a/2)(theta - theta*)^2 shrinks the error by 1 - eta a per step.
    A gradient at a uniformly drawn example (or minibatch) is an unbiased estimate of the
    full gradient. Adam's moment m_t = beta1 m_{t-1} + (1 - beta1) g_t, m_0 = 0, is
    (1 - beta1) sum_s beta1^{t-s} g_s; for a constant gradient it is (1 - beta1^t) g, so the
    bias-corrected m_t / (1 - beta1^t) is exactly g, and each Adam step moves a parameter
    by at most the learning rate. AdamW shrinks the weights by (1 - alpha lambda) before
    the Adam step; for plain SGD this equals L2 regularisation.

Run on its own: ``python derivations/optimisers.py``.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import sympy as sp
from sympy import Abs, Derivative, Eq, IndexedBase, Sum, Symbol, sqrt, symbols

from llmsym.model import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Sizes,
    Step,
)
from llmsym.notation import Expect, Notation

# --- Symbols -------------------------------------------------------------------
theta, theta_star = symbols("theta theta^*", real=True)  # parameter and minimiser
a, eta = symbols("a eta", positive=True)  # curvature and step size
n = Symbol("n", integer=True, positive=True)  # number of training examples
i = Symbol("i", integer=True, positive=True)  # example index
t, s = symbols("t s", integer=True, positive=True)  # step counters
g = IndexedBase("g", real=True)  # per-example (or per-step) gradients
draw = IndexedBase("I")  # the drawn example indices I_1, I_2, ...
g_const = Symbol("g", real=True)  # a constant gradient
beta1 = Symbol("beta_1", positive=True)  # Adam's first-moment decay, in (0, 1)
alpha, eps, lam = symbols("alpha epsilon lambda", positive=True)  # lr, epsilon, decay
m_t, m_prev = symbols("m_t m_{t-1}", real=True)  # Adam's first moment
m_hat, v_hat = Symbol(r"\hat{m}_t", real=True), Symbol(r"\hat{v}_t", positive=True)
grad = Symbol("g_t", real=True)  # the gradient of one step


class ema(Notation):  # noqa: N801 - reads like the maths
    """``ema(beta, t)``: Adam's m_t from the recursion m_s = beta m_{s-1} + (1 - beta) g_s, m_0 = 0.

    Written out only for a concrete t (the recursion has no closed form for a symbolic t
    until it is proved); it prints as ``m_t``.
    """

    nargs = 2

    @classmethod
    def definition(cls, beta, steps):
        moment = sp.Integer(0)
        for step in range(1, int(steps) + 1):
            moment = beta * moment + (1 - beta) * g[step]
        return moment

    def doit(self, **hints):
        return self.definition(*self.args) if self.args[1].is_Integer else self

    def _latex(self, printer, exp=None):
        text = rf"m_{{{printer._print(self.args[1])}}}"
        return text if exp is None else rf"{text}^{{{exp}}}"


# --- Claims --------------------------------------------------------------------
loss = a / 2 * (theta - theta_star) ** 2

gd_quadratic = Claim(
    "gd_quadratic",
    "Gradient descent on a quadratic",
    start=theta - eta * Derivative(loss, theta),
    steps=(Step(theta_star + (1 - eta * a) * (theta - theta_star),
                "differentiate, then collect the distance to $\\theta^*$", "doit"),),
    on_sheet=False,
    note="The error is multiplied by $1 - \\eta a$ at every step: it converges exactly when "
         "$0 < \\eta < 2/a$, fastest at $\\eta = 1/a$. Near a minimum, $a$ is the curvature.",
)

sgd_unbiased = Claim(
    "sgd_unbiased",
    "A random example's gradient is unbiased",
    start=Expect(g[draw[1]]),
    on_sheet=False,
    steps=(
        Step(Sum(g[i] / n, (i, 1, n)),
             "$I_1$ is uniform on $\\{1, \\dots, n\\}$: each example has probability $1/n$",
             "definition"),
        Step(Sum(g[i], (i, 1, n)) / n, "$1/n$ leaves the sum: the full-batch gradient", "sum"),
    ),
    note="$\\frac{1}{n}\\sum_i g_i = \\nabla L(\\theta)$ for $L = \\frac{1}{n}\\sum_i \\ell_i$, "
         "since the gradient of a mean is the mean of the gradients.",
)


def minibatch_instance(size: int) -> tuple[sp.Expr, sp.Expr]:
    """E over all size^2 equally likely pairs (I_1, I_2) of the batch mean, and the full mean."""
    pairs = list(product(range(1, size + 1), repeat=2))
    expectation = sum(((g[p] + g[q]) / 2 for p, q in pairs), sp.Integer(0)) / len(pairs)
    return expectation, sum((g[k] for k in range(1, size + 1)), sp.Integer(0)) / size


sgd_minibatch = Claim(
    "sgd_minibatch",
    "A minibatch gradient is unbiased",
    start=Expect((g[draw[1]] + g[draw[2]]) / 2),
    steps=(Step(Sum(g[i], (i, 1, n)) / n,
                "average over all $n^2$ equally likely pairs $(I_1, I_2)$, drawn with replacement",
                "expand", sizes=Sizes(n, 1, 6), instance=minibatch_instance),),
    on_sheet=False,
    note="Checked for batches of two; larger batches are verified numerically below.",
)

ema_unrolled = Claim(
    "ema_unrolled",
    "Adam's first moment is a weighted sum of past gradients",
    start=ema(beta1, t),
    steps=(Step((1 - beta1) * Sum(beta1 ** (t - s) * g[s], (s, 1, t)),
                "unroll $m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g_t$ from $m_0 = 0$", "expand",
                sizes=Sizes(t, 1, 6)),),
    on_sheet=False,
    note="The weights $(1 - \\beta_1)\\beta_1^{t-s}$ add up to $1 - \\beta_1^t < 1$: "
         "early on $m_t$ is biased towards 0. The second moment $v_t$ is the same with "
         "$\\beta_2$ and $g_s^2$.",
)

ema_constant = Claim(
    "ema_constant",
    "Constant gradient: $m_t = (1 - \\beta_1^t)\\,g$",
    start=beta1 * m_prev + (1 - beta1) * g_const,
    steps=(Step((1 - beta1**t) * g_const, "induction hypothesis $m_{t-1} = (1 - \\beta_1^{t-1}) g$",
                "expand", using=(Eq(m_prev, (1 - beta1 ** (t - 1)) * g_const),)),),
    on_sheet=False,
    note="With the base case $m_0 = 0 = (1 - \\beta_1^0) g$, induction gives "
         "$m_t = (1 - \\beta_1^t) g$ for every $t \\ge 0$.",
)

bias_correction = Claim(
    "bias_correction",
    "Bias correction is exact for a constant gradient",
    start=m_t / (1 - beta1**t),
    steps=(Step(g_const, "$m_t = (1 - \\beta_1^t) g$ by the induction above",
                using=(Eq(m_t, (1 - beta1**t) * g_const),)),),
    note="Likewise $\\hat v_t = v_t / (1 - \\beta_2^t) = g^2$.",
)

adam_step_size = Claim(
    "adam_step_size",
    "Constant gradient: Adam's step $|\\alpha \\hat m_t/(\\sqrt{\\hat v_t} + \\epsilon)|$ "
    "is below $\\alpha$",
    start=alpha * Abs(g_const) / (Abs(g_const) + eps),
    steps=(
        Step(alpha, "$\\alpha - \\alpha|g|/(|g| + \\epsilon) = \\alpha\\epsilon/(|g| + \\epsilon) "
                    "\\ge 0$", rel="<=", certificate=alpha * eps / (Abs(g_const) + eps)),
    ),
    note="Here $\\hat m_t = g$, $\\hat v_t = g^2$; varying gradients can reach "
         "$\\alpha(1 - \\beta_1)/\\sqrt{1 - \\beta_2}$ (Kingma and Ba, section 2.1).",
)

adamw = Claim(
    "adamw",
    "AdamW: decoupled weight decay shrinks, then steps",
    start=theta - alpha * (m_hat / (sqrt(v_hat) + eps) + lam * theta),
    steps=(Step((1 - alpha * lam) * theta - alpha * m_hat / (sqrt(v_hat) + eps),
                "collect $\\theta$", "expand"),),
    on_sheet=False,
    note="The decay $\\lambda\\theta$ bypasses $\\hat m_t$ and $\\hat v_t$. Adding "
         "$\\lambda\\theta$ to the gradient instead (L2 regularisation) would divide it by "
         "$\\sqrt{\\hat v_t} + \\epsilon$ and decay weights with large gradients less.",
)

sgd_l2 = Claim(
    "sgd_l2",
    "For SGD, L2 regularisation is weight decay",
    start=theta - eta * (grad + lam * theta),
    steps=(Step((1 - eta * lam) * theta - eta * grad, "collect $\\theta$", "expand"),),
    on_sheet=False,
    note="The gradient of $\\frac{\\lambda}{2}\\theta^2$ is $\\lambda\\theta$, so with SGD the "
         "two coincide; with Adam they do not (above).",
)

# --- Results -------------------------------------------------------------------
RESULTS = (
    Result("adam_bias_correction", 1 - beta1**t, params=(beta1, t),
           doc="Adam's bias-correction factor 1 - beta^t: m_t / (1 - beta^t) is unbiased",
           claim="ema_constant"),
    Result("gd_quadratic_contraction", 1 - eta * a, params=(eta, a),
           doc="factor by which gradient descent with step eta shrinks the error on a "
               "quadratic of curvature a", claim="gd_quadratic"),
)

# --- Numeric checks --------------------------------------------------------------


def check_gd(rng: np.random.Generator) -> Measurement:
    """GD with complex-step derivatives vs theta* + (1 - eta a)^t (theta_0 - theta*)."""
    from llmsym.numeric.optim import gd_step

    worst, cases = 0.0, 50
    for _ in range(cases):
        curv, target, start = rng.uniform(0.1, 10), rng.normal(), rng.normal() * 10
        lr = rng.uniform(0.01, 1.9) / curv  # inside the stable range 0 < eta < 2/a

        def derivative(x: float, curv=curv, target=target) -> float:
            h = 1e-30  # complex step: f'(x) = Im f(x + ih) / h, no subtractive cancellation
            return (curv / 2 * (complex(x, h) - target) ** 2).imag / h

        point = start
        for step in range(1, 31):
            point = float(gd_step(point, derivative(point), lr))
            closed = target + (1 - lr * curv) ** step * (start - target)
            worst = max(worst, abs(point - closed) / max(1.0, abs(start - target)))
    return Measurement(worst, cases, 1e-12,
                       "30 GD steps with complex-step derivatives vs the closed form")


def _least_squares(rng: np.random.Generator, count: int, dim: int):
    """A random least-squares problem and its per-example gradients at a random point."""
    features, targets = rng.normal(size=(count, dim)), rng.normal(size=count)
    point = rng.normal(size=dim)
    per_example = np.array([x * (x @ point - y) for x, y in zip(features, targets, strict=True)])
    full = features.T @ (features @ point - targets) / count  # gradient of the mean loss
    return per_example, full


def check_sgd(rng: np.random.Generator) -> Measurement:
    """Exact expectation of minibatch gradients over every index tuple vs the full gradient."""
    worst, cases = 0.0, 0
    for _ in range(20):
        count, dim, batch = (int(x) for x in rng.integers(1, (7, 4, 4)))
        per_example, full = _least_squares(rng, count, dim)
        tuples = list(product(range(count), repeat=batch))
        expectation = sum(per_example[list(idx)].mean(axis=0) for idx in tuples) / len(tuples)
        worst = max(worst, float(np.max(np.abs(expectation - full))) / max(1.0, np.abs(full).max()))
        cases += 1
    return Measurement(worst, cases, 1e-12,
                       "mean over all n^B batches (with replacement, B = 1..3) of per-example "
                       "least-squares gradients vs X^T(X theta - y)/n")


def check_adam(rng: np.random.Generator) -> Measurement:
    """Adam run step by step vs the closed forms for m_t, the corrected moments and the step."""
    from llmsym.numeric.optim import AdamState, adam_step

    worst, cases = 0.0, 30
    for _ in range(cases):
        b1, b2 = rng.uniform(0.5, 0.99), rng.uniform(0.9, 0.9999)
        scale = float(10.0 ** rng.uniform(-6, 6)) * rng.choice([-1.0, 1.0])
        grads = rng.normal(size=(40, 3)) * scale
        grads[:, 0] = scale  # a constant gradient in the first coordinate
        theta, state = np.zeros(3), AdamState.zeros(3)
        for step in range(1, 41):
            before = theta
            theta, state = adam_step(theta, grads[step - 1], state, lr=1e-2, beta1=b1, beta2=b2)
            weights = (1 - b1) * b1 ** (step - np.arange(1, step + 1))  # (1-b1) b1^(t-s)
            unrolled = weights @ grads[:step]
            rel = np.abs(state.m - unrolled) / np.abs(grads[:step]).max()
            const = abs(state.m[0] - (1 - b1**step) * scale) / abs(scale)
            corrected = abs(state.m[0] / (1 - b1**step) / scale - 1)
            # The bound |step| <= lr holds for the constant coordinate; a sudden large
            # gradient elsewhere may exceed it, by up to (1 - b1) / sqrt(1 - b2).
            overshoot = max(0.0, abs(float(theta[0] - before[0])) - 1e-2 * (1 + 1e-12))
            worst = max(worst, float(rel.max()), const, corrected, overshoot)
    return Measurement(worst, cases, 1e-12,
                       "40 Adam steps (gradients of scale 1e-6..1e6): m_t vs the unrolled sum, "
                       "m_t vs (1-b1^t)g, m_t/(1-b1^t) vs g, and no step larger than the lr")


def check_adamw(rng: np.random.Generator) -> Measurement:
    """AdamW vs PyTorch's ordering: shrink theta by (1 - lr lambda), then the Adam step."""
    from llmsym.numeric.optim import AdamState, adam_step

    worst, cases = 0.0, 40
    for _ in range(cases):
        lr, decay = rng.uniform(1e-4, 1e-1), rng.uniform(0.0, 0.5)
        theta, state = rng.normal(size=5), AdamState.zeros(5)
        shrunk, plain_state = theta.copy(), AdamState.zeros(5)
        for _ in range(10):
            grad_now = rng.normal(size=5)
            theta, state = adam_step(theta, grad_now, state, lr=lr, weight_decay=decay)
            shrunk = shrunk * (1 - lr * decay)  # decoupled: decay first, independent of grads
            shrunk, plain_state = adam_step(shrunk, grad_now, plain_state, lr=lr)
            worst = max(worst, float(np.max(np.abs(theta - shrunk))))
    return Measurement(worst, cases, 1e-12, "AdamW helper vs decay-then-Adam over 10 steps")


def example_adam_step() -> tuple[str, str]:
    """One Adam step from theta = 1 with gradient 0.5 and the default hyperparameters."""
    from llmsym.numeric.optim import AdamState, adam_step

    theta, state = adam_step(np.array([1.0]), np.array([0.5]), AdamState.zeros(1))
    m1, v1 = float(state.m[0]), float(state.v[0])
    correction = RESULTS[0].expr  # 1 - beta^t
    m_hat1 = m1 / float(correction.subs({beta1: 0.9, t: 1}))
    v_hat1 = v1 / float(correction.subs({beta1: 0.999, t: 1}))
    return ("one Adam step: $\\theta_0 = 1$, $g_1 = 0.5$, $\\alpha = 10^{-3}$, "
            "$\\beta_1 = 0.9$, $\\beta_2 = 0.999$, $\\epsilon = 10^{-8}$",
            rf"m_1 = {m1:.3g},\ v_1 = {v1:.3g},\ \hat m_1 = {m_hat1:.3g},\ "
            rf"\hat v_1 = {v_hat1:.3g},\ \theta_1 = {float(theta[0]):.7f}")


# --- The derivation ----------------------------------------------------------------
DERIVATION = Derivation(
    id="optimisers",
    title="Gradient descent, SGD and Adam",
    topic="Training",
    order=50,
    gloss="Minibatch gradients are unbiased; Adam averages gradients and their squares, "
          "corrects the zero start, and takes steps of about $\\alpha$.",
    assumptions=(
        "$L(\\theta) = \\frac{1}{n}\\sum_{i=1}^n \\ell_i(\\theta)$ with per-example gradients "
        "$g_i = \\nabla \\ell_i(\\theta)$; examples are drawn uniformly, with replacement.",
        "Adam: $0 < \\beta_1, \\beta_2 < 1$, $\\epsilon > 0$, $m_0 = v_0 = 0$; "
        "a constant gradient $g_t = g$ where stated.",
    ),
    definitions=(
        Definition("gradient descent", Symbol(r"\theta_{t}"),
                   Symbol(r"\theta_{t-1}") - eta * Symbol(r"\nabla L(\theta_{t-1})")),
        Definition("Adam moments", m_t, beta1 * m_prev + (1 - beta1) * grad,
                   note="$v_t = \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2$, $m_0 = v_0 = 0$"),
        Definition("bias correction", m_hat, m_t / (1 - beta1**t),
                   note="$\\hat v_t = v_t / (1 - \\beta_2^t)$"),
        Definition("Adam update", Symbol(r"\theta_{t}"),
                   Symbol(r"\theta_{t-1}") - alpha * m_hat / (sqrt(v_hat) + eps)),
    ),
    claims=(gd_quadratic, sgd_unbiased, sgd_minibatch, ema_unrolled, ema_constant,
            bias_correction, adam_step_size, adamw, sgd_l2),
    results=RESULTS,
    checks=(
        NumericCheck("gd", check_gd,
                     "Gradient descent on random quadratics, derivatives by complex step, "
                     "against $\\theta^* + (1 - \\eta a)^t(\\theta_0 - \\theta^*)$."),
        NumericCheck("sgd", check_sgd,
                     "The exact mean of minibatch gradients over all $n^B$ batches equals the "
                     "full least-squares gradient $X^\\top(X\\theta - y)/n$."),
        NumericCheck("adam", check_adam,
                     "Adam run step by step against the unrolled moment, "
                     "$(1 - \\beta_1^t) g$, exact bias correction and the step bound."),
        NumericCheck("adamw", check_adamw,
                     "AdamW against decaying the weights first, then taking a plain Adam step."),
    ),
    notation={alpha: "Adam's learning rate", eta: "the step size of gradient descent",
              beta1: "the decay of Adam's first moment", lam: "the weight-decay coefficient",
              m_hat: "the bias-corrected first moment"},
    sources=("Kingma and Ba, Adam: A Method for Stochastic Optimization, ICLR 2015, "
             "arXiv:1412.6980, Algorithm 1 and section 3.",
             "Loshchilov and Hutter, Decoupled Weight Decay Regularization, ICLR 2019, "
             "arXiv:1711.05101, Algorithm 2 and Proposition 1.",
             "Robbins and Monro, A Stochastic Approximation Method (1951): stochastic gradients."),
    examples=(example_adam_step,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
