"""Direct preference optimisation: from the KL-regularised objective to the DPO loss.

Main results (Rafailov et al. 2023), for a prompt x whose responses y form a finite set
    gibbs             sum_y pi(y|x) = 1  ⊢  J_x(pi) = beta log Z(x) - beta KL(pi ‖ pi*)
    optimum           sum_y pi(y|x) = 1  ⊢  J_x(pi) <= J_x(pi*): pi* maximises J
    preference        Bradley–Terry under the reward of pi*: Z(x) cancels
    dpo_loss          for ANY policy pi_theta, the Bradley–Terry negative log-likelihood of
                      r_theta = beta log(pi_theta/pi_ref) + beta log Z(x) over the data set is
                      -E_D[log sigma(beta log pi_theta(y_w|x)/pi_ref(y_w|x) - ...)], because
                      y_w and y_l answer the same prompt x and Z(x) cancels
    implicit_optimum  pi_theta is the Gibbs optimum of r_theta (why fitting r_theta is
                      fitting the policy)
    gradient          grad L_DPO = -beta E_D[sigma(rhat(y_l) - rhat(y_w)) (grad log pi_theta(y_w|x)
                      - grad log pi_theta(y_l|x))]

E_{(x, y_w, y_l) ~ D}[.] is the average over the triples of a finite preference data set D,
written out as a sum, so the checker and the numeric checks see the same expression.

Run on its own: ``python derivations/dpo.py``.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from sympy import Eq, IndexedBase, Sum, Symbol, exp, log

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
from llmsym.notation import KL, Named, Notation, factors, gibbs_gap, held, minus, sigmoid

# --- Notation: functions on finite sets, the data-set average, the gradient -----------------
# Table, DataMean and nabla are general; they should move to llmsym.notation.


class Entry(sp.Indexed):
    """A value ``f[a, b]`` of a :class:`Table`: ``f(a, b)``, or ``f(a | b)`` if conditional."""

    def _latex(self, printer, exp=None):
        head = printer._print(self.base.label)
        args = [printer._print(a) for a in self.indices]
        if getattr(self.base, "conditional", False) and len(args) == 2:
            inner = rf"{args[0]} \middle| {args[1]}"
        else:
            inner = ", ".join(args)
        text = rf"{head}\left({inner}\right)"
        return text if exp is None else rf"{text}^{{{exp}}}"


class Table(IndexedBase):
    """A function on a finite set stored as an IndexedBase: random points and NumPy can read
    it like a vector, while the sheet prints its values as ``f(a, b)``."""

    conditional = False

    def __getitem__(self, index, **kw_args):
        indices = index if isinstance(index, tuple) else (index,)
        return Entry(self, *indices)


class Conditional(Table):
    """A conditional distribution ``p[y, x]``, printed ``p(y | x)``."""

    conditional = True


n = Symbol("n", integer=True, positive=True)  # responses to a prompt, numbered 1..n
y = Named("response", r"\mathbf{y}", integer=True, positive=True)  # a response (one of n)
y2 = Named("response2", r"\mathbf{y}'", integer=True, positive=True)  # another response
x = Named("prompt", r"\mathbf{x}", integer=True, positive=True)  # a prompt
y_w = Symbol("y_w", integer=True, positive=True)  # the preferred response
y_l = Symbol("y_l", integer=True, positive=True)  # the rejected response
beta = Symbol("beta", positive=True)  # strength of the KL penalty
theta = Named("theta", r"\boldsymbol{\theta}", real=True)  # one coordinate of the parameters

pi = Conditional(Named("pi", r"\pi"), positive=True)  # any policy
pi_ref = Conditional(Named("pi_ref", r"\pi_{\mathrm{ref}}"), positive=True)
pi_star = Conditional(Named("pi_star", r"\pi^{*}"), positive=True)  # the Gibbs optimum
pi_theta = Conditional(Named("pi_theta", r"\pi_{\boldsymbol{\theta}}"), positive=True)
r = Table(Named("r", "r"), real=True)  # the reward r(x, y)
r_theta = Table(Named("r_theta", r"r_{\boldsymbol{\theta}}"), real=True)
r_hat = Table(Named("r_hat", r"\hat{r}_{\boldsymbol{\theta}}"), real=True)
Z = Table(Named("Z", "Z"), positive=True)  # partition function Z(x)
a_tab = Table(Named("a", "a"), real=True)  # log pi_theta(y|x) at theta = 0, to first order
phi_tab = Table(Named("phi", r"\varphi"), real=True)  # its slope in theta

# The data set D: M triples (x_k, y_w,k, y_l,k), as three integer columns.
M = Named("n_pairs", r"|\mathcal{D}|", integer=True, positive=True)
k = Symbol("k", integer=True, positive=True)
D_X = IndexedBase("x_data", integer=True, positive=True)
D_W = IndexedBase("yw_data", integer=True, positive=True)
D_L = IndexedBase("yl_data", integer=True, positive=True)


class DataMean(Notation):  # noqa: N801 - the reader's E_D
    """``DataMean(body, x, y_w, y_l)``: E over the triples of the finite data set D,
    (1/|D|) sum_k body(x_k, y_w,k, y_l,k)."""

    nargs = 4
    delimited = True

    @classmethod
    def definition(cls, body, prompt, chosen, rejected):
        row = {prompt: D_X[k], chosen: D_W[k], rejected: D_L[k]}
        return Sum(body.xreplace(row), (k, 1, M)) / M

    def _latex(self, printer):
        body, *triple = (printer._print(a) for a in self.args)
        return (r"\mathbb{E}_{(%s) \sim \mathcal{D}}\left[%s\right]" % (", ".join(triple), body))


def E_D(body):  # noqa: N802
    """E_{(x, y_w, y_l) ~ D}[body]."""
    return DataMean(body, x, y_w, y_l)


class nabla(Notation):  # noqa: N801
    """``nabla(body, theta)``: the derivative along ``theta``, evaluated when unfolded (no
    ``doit`` on the finite sums around it, which SymPy would try to sum in closed form)."""

    nargs = 2

    @classmethod
    def definition(cls, body, param):
        return sp.diff(body, param)

    def _latex(self, printer):
        body, param = self.args
        inner = printer._print(body)
        if isinstance(body, (sp.Add, minus)):
            inner = rf"\left[{inner}\right]"
        return rf"\nabla_{{{printer._print(param)}}} {inner}"


# --- Notation particular to this derivation ----------------------------------------------


class J(Notation):  # noqa: N801
    """J_x(pi) = sum_y pi(y|x) r(x, y) - beta KL(pi(.|x) ‖ pi_ref(.|x)) for a policy table."""

    nargs = 2

    @classmethod
    def definition(cls, policy, prompt):
        return (Sum(policy[y, prompt] * r[prompt, y], (y, 1, n))
                - beta * KL(policy[y, prompt], pi_ref[y, prompt], y, n))

    def _latex(self, printer):
        policy, prompt = self.args
        return rf"J_{{{printer._print(prompt)}}}\left({printer._print(policy.label)}\right)"


class preference(Notation):  # noqa: N801
    """P_r(y_w ≻ y_l | x): the probability that ``chosen`` is preferred, under reward ``reward``."""

    nargs = 4

    @classmethod
    def definition(cls, reward, chosen, rejected, prompt):
        return sigmoid(minus(reward[prompt, chosen], reward[prompt, rejected]))

    def _latex(self, printer):
        reward, chosen, rejected, prompt = self.args
        return (r"P_{%s}\left(%s \succ %s \middle| %s\right)"
                % (printer._print(reward.label), printer._print(chosen),
                   printer._print(rejected), printer._print(prompt)))


class policy(Notation):  # noqa: N801
    """pi_theta(y|x) along one parameter coordinate theta, written to first order at the point of
    interest: log pi_theta(y|x) = a[y, x] + theta phi[y, x]. The value a + theta phi and the slope
    phi are arbitrary, so every differentiable policy has this form to first order, which is all
    a gradient sees; the premise says so where the gradient is claimed."""

    nargs = 3

    @classmethod
    def definition(cls, param, response, prompt):
        return exp(a_tab[response, prompt] + param * phi_tab[response, prompt])

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        _param, response, prompt = (printer._print(v) for v in self.args)
        return rf"\pi_{{\boldsymbol{{\theta}}}}\left({response} \middle| {prompt}\right)"


class Ldpo(Notation):  # noqa: N801
    """L_DPO(pi_theta) = -E_D[log sigma(beta log(pi_theta(y_w|x)/pi_ref(y_w|x)) - ...)]."""

    nargs = 1

    @classmethod
    def definition(cls, param):
        return -E_D(log(sigmoid(minus(_log_ratio(policy(param, y_w, x), y_w),
                                      _log_ratio(policy(param, y_l, x), y_l)))))

    def _latex(self, printer):
        return r"\mathcal{L}_{\mathrm{DPO}}\left(\pi_{\boldsymbol{\theta}}\right)"


def _log_ratio(value, response):
    """beta log(value / pi_ref(response | x))."""
    return beta * log(value / pi_ref[response, x])


# --- Definitions -----------------------------------------------------------------------------
DEFINITIONS = (
    Definition("KL-regularised objective", J(pi, x), J.definition(pi, x), on_sheet=True,
               title="KL-regularised objective (RLHF)",
               note="Per prompt: the expected reward of $\\pi$ minus $\\beta$ times its KL "
                    "divergence from the reference policy (Rafailov et al., eq. 3)."),
    Definition("Bradley–Terry", preference(r, y_w, y_l, x), preference.definition(r, y_w, y_l, x),
               on_sheet=False, title="Bradley–Terry preferences",
               note="The probability that $y_w$ is preferred to $y_l$ under the reward $r$."),
    Definition("optimal policy", pi_star[y, x], factors(pi_ref[y, x], exp(r[x, y] / beta)) / Z[x]),
    Definition("reparametrised reward", r_theta[x, y],
               _log_ratio(pi_theta[y, x], y) + beta * log(Z[x])),
    Definition("implicit reward", r_hat[x, y], _log_ratio(policy(theta, y, x), y)),
    Definition("DPO loss", Ldpo(theta), Ldpo.definition(theta)),
    Definition("partition function", Z[x],
               Sum(factors(pi_ref[y2, x], exp(r[x, y2] / beta)), (y2, 1, n))),
)
D_J, D_BT, D_STAR, D_RTHETA, D_RHAT, D_LOSS, D_Z = DEFINITIONS

# --- Premises -----------------------------------------------------------------------------------
is_distribution = Hypothesis(Eq(Sum(pi[y, x], (y, 1, n)), 1),
                             "$\\pi(\\cdot|x)$ is a distribution")
first_order = Assumption(
    r"\log\pi_{\boldsymbol{\theta}}(y|x) = a(y, x) + \theta\,\varphi(y, x)",
    "to first order in one coordinate $\\theta$ of the parameters: any differentiable policy, "
    "as a gradient sees only value and slope")
theta_is_distribution = Hypothesis(Eq(Sum(pi_theta[y2, x], (y2, 1, n)), 1),
                                   "$\\pi_\\theta(\\cdot|x)$ is a distribution")

# --- The optimal policy ------------------------------------------------------------------------
with held():  # e^{r/β} kept in the denominator, as the reason reads
    tilted = pi[y, x] * log(pi[y, x] / (pi_ref[y, x] * exp(r[x, y] / beta)))
    split = (beta * log(Z[x]) * Sum(pi[y, x], (y, 1, n))
             - beta * Sum(pi[y, x] * log(pi[y, x] / pi_star[y, x]), (y, 1, n)))

gibbs = Claim(
    "gibbs",
    "The objective is $\\beta\\log Z(x)$ minus a KL divergence",
    given=(is_distribution,),
    start=J(pi, x),
    steps=(
        Step(Sum(pi[y, x] * r[x, y], (y, 1, n))
             - beta * Sum(pi[y, x] * log(pi[y, x] / pi_ref[y, x]), (y, 1, n)),
             "definitions of $J$ and of KL", "unfold"),
        Step(-beta * Sum(tilted, (y, 1, n)),
             "one sum, with $r(x, y)/\\beta = \\log e^{r(x, y)/\\beta}$", "sum+expand_log"),
        Step(split, "$\\pi_{\\mathrm{ref}}(y|x) e^{r(x, y)/\\beta} = Z(x)\\pi^*(y|x)$; split the "
             "sum",
             "definition+expand_log+sum"),
        Step(beta * log(Z[x]) - beta * KL(pi[y, x], pi_star[y, x], y, n),
             "$\\pi(\\cdot|x)$ is a distribution; definition of KL", "unfold+sum",
             using=(is_distribution,)),
    ),
    where=(D_STAR, D_Z),
    note="For every distribution $\\pi(\\cdot|x)$ with full support; nothing else is assumed "
         "about $\\pi$ (Rafailov et al., appendix A.1).", on_sheet=False,
)

normalised = Claim(
    "normalised",
    "$\\pi^*$ is a distribution",
    start=Sum(pi_star[y, x], (y, 1, n)),
    steps=(Step(1, "definitions of $\\pi^*$ and $Z(x)$: the numerator summed is $Z(x)$",
                "definition+sum"),),
    on_sheet=False,
)

with held():
    kl_as_gap = beta * log(Z[x]) - beta * Sum(pi[y, x] * gibbs_gap(pi_star[y, x] / pi[y, x]),
                                              (y, 1, n))
    at_optimum = beta * log(Z[x]) * Sum(pi_star[y, x], (y, 1, n))

optimum = Claim(
    "optimum",
    "$\\pi^*$ maximises the objective",
    given=(is_distribution,),
    start=J(pi, x),
    steps=(
        Step(beta * log(Z[x]) - beta * KL(pi[y, x], pi_star[y, x], y, n),
             "the objective as $\\beta \\log Z(x)$ minus a KL divergence", using=(gibbs,)),
        Step(kl_as_gap, "regroup the KL divergence with $g(u) = u - 1 - \\log u$, using "
             "$\\sum_y \\pi^*(y|x) = \\sum_y \\pi(y|x) = 1$", "unfold+sum",
             using=(normalised, is_distribution)),
        Step(beta * log(Z[x]), "$g \\ge 0$ on $(0, \\infty)$ (Gibbs' inequality)", "nonneg",
             rel="<="),
        Step(at_optimum, "$\\pi^*$ is a distribution", using=(normalised,)),
        Step(J(pi_star, x), "definition of $J$ at $\\pi^*$: "
             "$\\log(\\pi^*/\\pi_{\\mathrm{ref}}) = r/\\beta - \\log Z(x)$",
             "definition+expand_log+sum"),
    ),
    where=(D_STAR, D_Z),
    note="Equality only at $\\pi = \\pi^*$ ($g(u) = 0$ only at $u = 1$), so $\\pi^*$ is the "
         "unique maximiser and $J_x(\\pi^*) = \\beta \\log Z(x)$.",
)

reward = Claim(
    "reward",
    "The reward in terms of its optimal policy",
    start=r[x, y],
    steps=(Step(_log_ratio(pi_star[y, x], y) + beta * log(Z[x]),
                "take $\\beta\\log$ of $\\pi^*(y|x)/\\pi_{\\mathrm{ref}}(y|x) = "
                "e^{r(x, y)/\\beta}/Z(x)$", "definition+expand_log"),),
    on_sheet=False,
    note="Rafailov et al., eq. 5: any reward is $\\beta\\log$ of its optimal policy's ratio, "
         "plus a function of the prompt alone.",
)

with held():
    both_rewards = sigmoid(minus(_log_ratio(pi_star[y_w, x], y_w) + beta * log(Z[x]),
                                 _log_ratio(pi_star[y_l, x], y_l) + beta * log(Z[x])))

bt_optimal = Claim(
    "bt_optimal",
    "Bradley–Terry through the optimal policy: $Z(x)$ cancels",
    start=preference(r, y_w, y_l, x),
    steps=(
        Step(sigmoid(minus(r[x, y_w], r[x, y_l])), "Bradley–Terry", "unfold"),
        Step(both_rewards, "the reward in terms of $\\pi^*$, for $y_w$ and for $y_l$",
             "definition+expand_log"),
        Step(sigmoid(minus(_log_ratio(pi_star[y_w, x], y_w), _log_ratio(pi_star[y_l, x], y_l))),
             "$y_w$ and $y_l$ answer the same prompt: $\\beta\\log Z(x)$ cancels", "unfold+sum"),
    ),
    where=(D_STAR,),
    note="The preference probability sees $\\pi^*$ only through likelihood ratios "
         "(Rafailov et al., eq. 6).", on_sheet=False,
)

# --- For any policy: the DPO loss ------------------------------------------------------------
with held():
    theta_rewards = sigmoid(minus(_log_ratio(pi_theta[y_w, x], y_w) + beta * log(Z[x]),
                                  _log_ratio(pi_theta[y_l, x], y_l) + beta * log(Z[x])))
dpo_margin = minus(_log_ratio(pi_theta[y_w, x], y_w), _log_ratio(pi_theta[y_l, x], y_l))

dpo_loss = Claim(
    "dpo_loss",
    "The DPO loss is the Bradley–Terry loss of $r_\\theta$, for any policy",
    start=-E_D(log(preference(r_theta, y_w, y_l, x))),
    steps=(
        Step(-E_D(log(sigmoid(minus(r_theta[x, y_w], r_theta[x, y_l])))), "Bradley–Terry",
             "unfold"),
        Step(-E_D(log(theta_rewards)), "definition of $r_\\theta$", "definition"),
        Step(-E_D(log(sigmoid(dpo_margin))), "$y_w$ and $y_l$ answer the same prompt $x$: "
             "$\\beta\\log Z(x)$ cancels in every triple", "unfold+sum"),
    ),
    where=(D_RTHETA,),
    note="Fitting the reward model $r_\\theta$ by maximum likelihood (Rafailov et al., eq. 2) is "
         "minimising this loss over $\\pi_\\theta$ (eq. 7); $Z(x)$ never has to be computed.",
)

with held():
    reweighted = (pi_ref[y, x] * pi_theta[y, x] * Z[x] / pi_ref[y, x]
                  / Sum(pi_ref[y2, x] * pi_theta[y2, x] * Z[x] / pi_ref[y2, x], (y2, 1, n)))
    factored = pi_theta[y, x] * Z[x] / (Z[x] * Sum(pi_theta[y2, x], (y2, 1, n)))

implicit_optimum = Claim(
    "implicit_optimum",
    "Every policy is the optimal policy of its own reward $r_\\theta$",
    given=(theta_is_distribution,),
    start=(pi_ref[y, x] * exp(r_theta[x, y] / beta)
           / Sum(pi_ref[y2, x] * exp(r_theta[x, y2] / beta), (y2, 1, n))),
    steps=(
        Step(reweighted, "definition of $r_\\theta$: $e^{r_\\theta(x, y)/\\beta} = "
             "Z(x)\\pi_\\theta(y|x)/\\pi_{\\mathrm{ref}}(y|x)$", "definition+powsimp"),
        Step(factored, "cancel $\\pi_{\\mathrm{ref}}$; $Z(x)$ leaves the sum", "sum+cancel"),
        Step(pi_theta[y, x], "$\\pi_\\theta(\\cdot|x)$ is a distribution", "cancel",
             using=(theta_is_distribution,)),
    ),
    on_sheet=False,
    note="So the optimal policy of the reward $r_\\theta$ is $\\pi_\\theta$ itself "
         "(Rafailov et al., Theorem 1): optimising over policies loses no reward model.",
)

rhat_gap = minus(r_hat[x, y_l], r_hat[x, y_w])
# a plain difference: printed "∇log π_θ(y_w|x) − ∇log π_θ(y_l|x)", in brackets inside products
score_gap = nabla(log(policy(theta, y_w, x)), theta) - nabla(log(policy(theta, y_l, x)), theta)
pair_loss_argument = sigmoid(minus(_log_ratio(policy(theta, y_w, x), y_w),
                                   _log_ratio(policy(theta, y_l, x), y_l)))

pair_gradient = Claim(
    "pair_gradient",
    "Gradient of one triple's log-likelihood",
    given=(first_order,),
    start=nabla(log(pair_loss_argument), theta),
    steps=(
        Step(factors(beta, sigmoid(minus(_log_ratio(policy(theta, y_l, x), y_l),
                                         _log_ratio(policy(theta, y_w, x), y_w))), score_gap),
             "chain rule with $\\frac{d}{du}\\log\\sigma(u) = \\sigma(-u)$; $\\pi_{\\mathrm{ref}}$ "
             "does not depend on $\\theta$", "unfold+powsimp+together"),
        Step(factors(beta, sigmoid(rhat_gap), score_gap), "definition of $\\hat r_\\theta$",
             "definition"),
    ),
    on_sheet=False,
)

gradient = Claim(
    "gradient",
    "Gradient of the DPO loss",
    given=(first_order,),
    start=nabla(Ldpo(theta), theta),
    steps=(
        Step(-E_D(nabla(log(pair_loss_argument), theta)),
             "the data do not depend on $\\theta$: the gradient of the average is the average "
             "of the gradients", "unfold+sum"),
        Step(-beta * E_D(factors(sigmoid(rhat_gap), score_gap)), "the gradient of one triple",
             "unfold+sum", using=(pair_gradient,)),
    ),
    where=(D_LOSS, D_RHAT),
    note="Each triple is weighted by $\\sigma(\\hat r_\\theta(x, y_l) - \\hat r_\\theta(x, y_w))$: "
         "heavily when the implicit reward ranks it wrongly (Rafailov et al., section 4).",
    on_sheet=False,
)

# --- Numeric checks ------------------------------------------------------------------------


def _log_softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    top = z.max(axis=axis, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=axis, keepdims=True))


def _problem(rng: np.random.Generator):
    """A reference policy over ``size`` responses for ``prompts`` prompts, rewards and β.
    Tables are indexed [response, prompt] (rewards: [prompt, response]), 1-based by Formula."""
    size, prompts = int(rng.integers(2, 12)), int(rng.integers(1, 4))
    log_ref = _log_softmax(rng.normal(size=(size, prompts)) * rng.choice([1.0, 6.0]))
    b = float(np.exp(rng.uniform(np.log(0.05), np.log(5.0))))
    rewards = rng.normal(size=(prompts, size)) * rng.choice([1.0, 4.0]) * b
    return log_ref, rewards, b


def _objective(p: np.ndarray, log_ref: np.ndarray, rewards: np.ndarray, b: float) -> float:
    """J(p) = Σ p r - β Σ p log(p/π_ref) for one prompt, straight from the definition."""
    return float(p @ rewards - b * (p @ (np.log(p) - log_ref)))


def _optimum(log_ref: np.ndarray, rewards: np.ndarray, b: float):
    """The closed form: log Z(x) per prompt and π* as a [response, prompt] table."""
    from llmsym.numeric.softmax import logsumexp

    logits = log_ref + rewards.T / b
    log_z = np.array([float(logsumexp(logits[:, c])) for c in range(logits.shape[1])])
    return log_z, np.exp(logits - log_z)


def mirror_ascent(log_ref: np.ndarray, rewards: np.ndarray, b: float, iters: int = 200):
    """Maximise J on the simplex by exponentiated-gradient ascent; returns log π.

    Each step multiplies π by exp(step · ∂J/∂π) with ∂J/∂π = r - β(log(π/π_ref) + 1) and
    renormalises: the iteration knows the gradient of J, not its maximiser.
    """
    step = 0.7 / b
    log_p = np.full(log_ref.shape, -np.log(log_ref.size))
    for _ in range(iters):
        new = _log_softmax(log_p + step * (rewards - b * (log_p - log_ref + 1.0)))
        if np.max(np.abs(new - log_p)) < 1e-14:
            return new
        log_p = new
    return log_p


def check_gibbs(rng: np.random.Generator, formula) -> Measurement:
    """β log Z(x) - β KL(π‖π*) from the claim against J(π) from its definition, random π."""
    worst, cases = 0.0, 40
    for _ in range(cases):
        log_ref, rewards, b = _problem(rng)
        log_z, star = _optimum(log_ref, rewards, b)
        policy_table = np.exp(_log_softmax(rng.normal(size=log_ref.shape) * 3))
        prompt = int(rng.integers(1, log_ref.shape[1] + 1))
        got = float(formula(beta=b, Z=np.exp(log_z), prompt=prompt, pi=policy_table,
                            pi_star=star, n=log_ref.shape[0]))
        ref = _objective(policy_table[:, prompt - 1], log_ref[:, prompt - 1],
                         rewards[prompt - 1], b)
        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
    return Measurement(worst, cases, 1e-11, "the claim's right side vs J(π) from its definition")


def check_maximum(rng: np.random.Generator, formula) -> Measurement:
    """J_x(π*) from the claim against the maximum of J found by mirror ascent."""
    worst, cases = 0.0, 20
    for _ in range(cases):
        log_ref, rewards, b = _problem(rng)
        _, star = _optimum(log_ref, rewards, b)
        prompt = int(rng.integers(1, log_ref.shape[1] + 1))
        column = log_ref[:, prompt - 1]
        found = np.exp(mirror_ascent(column, rewards[prompt - 1], b))
        best = _objective(found, column, rewards[prompt - 1], b)
        got = float(formula(beta=b, prompt=prompt, pi_star=star, pi_ref=np.exp(log_ref),
                            r=rewards, n=log_ref.shape[0]))
        worst = max(worst, abs(got - best) / max(1.0, abs(best)))
    return Measurement(worst, cases, 1e-9, "J(π*) vs the maximum of J found by mirror ascent")


def check_bradley_terry(rng: np.random.Generator, formula) -> Measurement:
    """σ(β log π*(y_w)/π_ref(y_w) - ...) with π* found by mirror ascent, against the
    Bradley–Terry probability of the true rewards."""
    worst, pairs = 0.0, 0
    for _ in range(12):
        log_ref, rewards, b = _problem(rng)
        found = np.column_stack([mirror_ascent(log_ref[:, c], rewards[c], b)
                                 for c in range(log_ref.shape[1])])
        for _ in range(8):
            prompt = int(rng.integers(1, log_ref.shape[1] + 1))
            w, lose = (int(v) for v in rng.integers(1, log_ref.shape[0] + 1, size=2))
            got = float(formula(beta=b, prompt=prompt, y_w=w, y_l=lose, pi_star=np.exp(found),
                                pi_ref=np.exp(log_ref)))
            margin = rewards[prompt - 1, w - 1] - rewards[prompt - 1, lose - 1]
            worst = max(worst, abs(got - 1 / (1 + np.exp(-margin))))
            pairs += 1
    return Measurement(worst, pairs, 1e-9, "preference probability through the numerical "
                       "maximiser vs σ(r(x, y_w) - r(x, y_l))")


def _data_set(rng: np.random.Generator, log_ref: np.ndarray):
    size, prompts = log_ref.shape
    count = int(rng.integers(1, 12))
    xs = rng.integers(1, prompts + 1, size=count)
    ws = rng.integers(1, size + 1, size=count)
    ls = rng.integers(1, size + 1, size=count)
    return count, xs, ws, ls


def check_dpo_loss(rng: np.random.Generator, formula) -> Measurement:
    """-E_D[log σ(β log-ratio margin)] from the claim against llmsym.numeric.dpo_loss."""
    from llmsym.numeric.dpo import dpo_loss as reference

    worst, cases = 0.0, 30
    for _ in range(cases):
        log_ref, _, b = _problem(rng)
        log_pol = _log_softmax(rng.normal(size=log_ref.shape) * 3)
        count, xs, ws, ls = _data_set(rng, log_ref)
        got = float(formula(beta=b, pi_theta=np.exp(log_pol), pi_ref=np.exp(log_ref),
                            x_data=xs, yw_data=ws, yl_data=ls, n_pairs=count))
        ref = float(np.mean(reference(log_pol[ws - 1, xs - 1], log_pol[ls - 1, xs - 1],
                                      log_ref[ws - 1, xs - 1], log_ref[ls - 1, xs - 1], beta=b)))
        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
    return Measurement(worst, cases, 1e-12, "the DPO loss over random data sets vs dpo_loss")


def check_z_cancels(rng: np.random.Generator, formula) -> Measurement:
    """The Bradley–Terry loss of r_θ = β log(π_θ/π_ref) + β log Z(x), any Z(x) > 0 per prompt,
    from the claim's left side, against dpo_loss (which never sees Z)."""
    from llmsym.numeric.dpo import dpo_loss as reference

    worst, cases = 0.0, 30
    for _ in range(cases):
        log_ref, _, b = _problem(rng)
        log_pol = _log_softmax(rng.normal(size=log_ref.shape) * 3)
        log_z = rng.normal(size=log_ref.shape[1]) * 5
        rewards = (b * (log_pol - log_ref) + b * log_z).T  # [prompt, response]
        count, xs, ws, ls = _data_set(rng, log_ref)
        got = float(formula(r_theta=rewards, x_data=xs, yw_data=ws, yl_data=ls, n_pairs=count))
        ref = float(np.mean(reference(log_pol[ws - 1, xs - 1], log_pol[ls - 1, xs - 1],
                                      log_ref[ws - 1, xs - 1], log_ref[ls - 1, xs - 1], beta=b)))
        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
    return Measurement(worst, cases, 1e-12, "Bradley–Terry loss of r_θ with random Z(x) vs "
                       "dpo_loss")


def _five_point(f, step: float = 1e-3) -> float:
    """f'(0) by the five-point stencil."""
    return (8 * (f(step) - f(-step)) - (f(2 * step) - f(-2 * step))) / (12 * step)


def check_gradient(rng: np.random.Generator, formula) -> Measurement:
    """The claim's gradient against five-point finite differences of llmsym.numeric.dpo_loss
    averaged over a random data set, log pi_theta(y|x) = a(y, x) + theta phi(y, x)."""
    from llmsym.numeric.dpo import dpo_loss as reference

    worst, cases = 0.0, 20
    for _ in range(cases):
        size, prompts = int(rng.integers(2, 8)), int(rng.integers(1, 4))
        log_ref = _log_softmax(rng.normal(size=(size, prompts)))
        offset, slope = rng.normal(size=(size, prompts)), rng.normal(size=(size, prompts))
        b, at = float(rng.uniform(0.05, 2.0)), float(rng.uniform(-2, 2))
        count, xs, ws, ls = _data_set(rng, log_ref)

        def loss(shift: float, xs=xs, ws=ws, ls=ls, log_ref=log_ref, b=b, at=at,
                 offset=offset, slope=slope):
            log_pol = offset + (at + shift) * slope
            return float(np.mean(reference(log_pol[ws - 1, xs - 1], log_pol[ls - 1, xs - 1],
                                           log_ref[ws - 1, xs - 1], log_ref[ls - 1, xs - 1],
                                           beta=b)))

        implicit = (b * (offset + at * slope - log_ref)).T  # r̂[prompt, response]
        got = float(formula(theta=at, beta=b, r_hat=implicit, a=offset, phi=slope, x_data=xs,
                            yw_data=ws, yl_data=ls, n_pairs=count))
        numeric = _five_point(loss)
        worst = max(worst, abs(got - numeric) / max(1.0, abs(numeric)))
    return Measurement(worst, cases, 1e-8, "gradient formula vs finite differences of dpo_loss")


def _mp_loss(logps: np.ndarray, b: float):
    with mpmath.workdps(50):
        v = [mpmath.mpf(float(u)) for u in logps]
        return mpmath.log1p(mpmath.exp(-mpmath.mpf(b) * ((v[0] - v[2]) - (v[1] - v[3]))))


def check_loss_stability(rng: np.random.Generator) -> Measurement:
    """Experiment: llmsym.numeric.dpo_loss at margins up to ±1e5 against 50-digit mpmath, where
    the textbook -log σ overflows."""
    from llmsym.numeric.dpo import dpo_loss as reference

    worst, naive_broken, cases = 0.0, 0, 100
    for _ in range(cases):
        b = float(rng.uniform(0.01, 1.0))
        logps = -rng.exponential(20.0, size=4)
        logps[2] += rng.choice([0.0, -1e5, 1e5]) / b
        got = float(reference(*logps, beta=b))
        ref = _mp_loss(logps, b)
        with np.errstate(over="ignore", divide="ignore"):
            h = (logps[0] - logps[2]) - (logps[1] - logps[3])
            naive = -np.log(1.0 / (1.0 + np.exp(-b * h)))
        naive_broken += not np.isfinite(naive)
        worst = max(worst, abs(got - float(ref)) / max(float(abs(ref)), 1e-290))
    if naive_broken == 0:
        return Measurement(float("inf"), cases, 1e-10, "no margin broke the naive -log σ")
    return Measurement(worst, cases, 1e-10,
                       f"relative error vs mpmath; the naive -log σ is inf on {naive_broken}")


def example_loss():
    from llmsym.numeric import dpo_loss as reference

    value = float(reference(-12.0, -15.0, -13.0, -14.0, beta=0.1))
    return ("DPO loss of one triple, $\\beta = 0.1$, log-ratios $+1$ (chosen) and $-1$ (rejected)",
            r"-\log\sigma(0.1 \cdot 2) = %.4f" % value)


# --- Results ------------------------------------------------------------------------------------
ref_prob = Symbol("pi_ref_y", positive=True)
reward_y = Symbol("r_y", real=True)
margin = Symbol("h", real=True)

# --- The derivation -----------------------------------------------------------------------------
DERIVATION = Derivation(
    id="dpo",
    title="DPO from the KL-regularised objective",
    topic="Alignment",
    order=60,
    gloss="Reward minus $\\beta\\,\\mathrm{KL}$ is maximised by $\\pi^* \\propto "
          "\\pi_{\\mathrm{ref}} e^{r/\\beta}$; any policy is that optimum for its own reward "
          "$r_\\theta$, and under Bradley–Terry $Z(x)$ cancels, leaving a logistic loss on "
          "log-probability ratios.",
    assumptions=(
        "Each prompt $x$ has a finite set of $n$ responses $y$; $\\pi(\\cdot|x)$ and "
        "$\\pi_{\\mathrm{ref}}(\\cdot|x)$ are distributions on it with full support; the reward "
        "$r(x, y)$ is real and $\\beta > 0$. The penalty is the reverse KL.",
        "$\\mathcal{D}$ is a finite data set of triples (prompt, preferred, rejected response); "
        "$\\mathbb{E}_{(x, y_w, y_l) \\sim \\mathcal{D}}$ is the average over it.",
        "$\\pi_\\theta$ is differentiable in the parameters $\\theta$; the gradient is taken "
        "one coordinate at a time, where $\\log\\pi_\\theta(y|x) = a(y, x) + "
        "\\theta\\varphi(y, x)$ to first order; $\\pi_{\\mathrm{ref}}$ is frozen.",
    ),
    definitions=DEFINITIONS,
    claims=(gibbs, normalised, optimum, reward, bt_optimal, dpo_loss, implicit_optimum,
            pair_gradient, gradient),
    checks=(
        NumericCheck("gibbs", check_gibbs, "$\\beta \\log Z(x) - \\beta\\,\\mathrm{KL}(\\pi \\| "
                     "\\pi^*)$ against $J_x(\\pi)$ from its definition.", claim="gibbs"),
        NumericCheck("maximum", check_maximum, "$J_x(\\pi^*)$ against the maximum found by "
                     "mirror ascent on the simplex.", claim="optimum"),
        NumericCheck("bradley_terry", check_bradley_terry, "The preference probability through "
                     "the numerically found maximiser against the true Bradley–Terry "
                     "probability.", claim="bt_optimal"),
        NumericCheck("dpo_loss", check_dpo_loss, "The DPO loss over random data sets against "
                     "llmsym.numeric.dpo_loss.", claim="dpo_loss"),
        NumericCheck("z_cancels", check_z_cancels, "The Bradley–Terry loss of $r_\\theta$ with "
                     "random $Z(x)$ against dpo_loss.", claim="dpo_loss", side="start"),
        NumericCheck("gradient", check_gradient, "The gradient against five-point finite "
                     "differences of dpo_loss.", claim="gradient"),
        NumericCheck("loss_stability", check_loss_stability, "Experiment: dpo_loss at margins "
                     "up to $\\pm 10^5$ against 50-digit mpmath."),
    ),
    results=(
        Result("optimal_policy_weight", ref_prob * exp(reward_y / beta),
               (ref_prob, reward_y, beta),
               doc="unnormalised optimal policy $\\pi_{\\mathrm{ref}}(y|x) e^{r(x, y)/\\beta}$: "
                   "divide by its sum over $y$", units="probability (unnormalised)",
               claim="gibbs"),
        Result("dpo_pair_loss", log(1 + exp(-beta * margin)), (margin, beta),
               doc="DPO loss $-\\log\\sigma(\\beta h)$ of a triple with log-ratio margin $h$ "
                   "(llmsym.numeric.dpo_loss is the overflow-free version)",
               units="nats", claim="dpo_loss"),
        Result("dpo_gradient_weight", beta / (1 + exp(beta * margin)), (margin, beta),
               doc="$\\beta \\sigma(-\\beta h)$, the weight of "
                   "$\\nabla\\log\\pi_\\theta(y_w|x) - \\nabla\\log\\pi_\\theta(y_l|x)$ "
                   "in minus the gradient of the loss", claim="gradient"),
    ),
    notation={
        x: "a prompt",
        y: "a response to the prompt: a sequence of tokens, one of $n$",
        y2: "a response to the prompt (summation index)",
        y_w: "the preferred (chosen) response",
        y_l: "the rejected response",
        pi: "a policy: a distribution $\\pi(y|x)$ over the responses to a prompt",
        pi_ref: "the frozen reference policy (the SFT model)",
        pi_star: "the optimal policy $\\pi_{\\mathrm{ref}}(y|x) e^{r(x, y)/\\beta}/Z(x)$",
        pi_theta: "the policy being trained, with parameters $\\theta$",
        r: "the reward $r(x, y)$ of response $y$ to prompt $x$",
        r_theta: "the reward a policy implies: $\\beta\\log(\\pi_\\theta/\\pi_{\\mathrm{ref}}) "
                 "+ \\beta\\log Z(x)$",
        r_hat: "the implicit reward $\\beta\\log(\\pi_\\theta(y|x)/\\pi_{\\mathrm{ref}}(y|x))$",
        Z: "the partition function $Z(x) = \\sum_y \\pi_{\\mathrm{ref}}(y|x) e^{r(x, y)/\\beta}$",
        M: "the number of triples in the data set $\\mathcal{D}$",
    },
    remarks=(
        "KL $\\ge 0$ enters through $g(u) = u - 1 - \\log u \\ge 0$, which the gibbs-inequality "
        "derivation proves; the optimum claim cites it.",
        "The reparametrised reward $r_\\theta$ differs from the implicit reward "
        "$\\hat r_\\theta$ by $\\beta\\log Z(x)$, a function of the prompt alone: Bradley–Terry "
        "cannot tell them apart, which is why DPO never needs $Z(x)$.",
    ),
    sources=(
        "Rafailov et al., Direct Preference Optimization: Your Language Model is Secretly a "
        "Reward Model (2023), arXiv:2305.18290: eqs. 2-7, section 4 (the gradient), Theorem 1 "
        "and appendices A.1 (the optimal policy) and A.2 (the loss under Bradley–Terry).",
        "Bradley and Terry, Rank analysis of incomplete block designs (1952), Biometrika 39.",
    ),
    examples=(example_loss,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
