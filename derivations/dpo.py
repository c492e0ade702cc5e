"""Direct preference optimisation: from the KL-regularised objective to the DPO loss.

Statement
    For one prompt with n candidate responses, J(π) = Σ_y π(y) r(y) − β KL(π ‖ π_ref)
    satisfies J(π) = β log Z − β KL(π ‖ π*) with π*(y) = π_ref(y) e^{r(y)/β} / Z, so π* is
    the unique maximiser and J(π*) = β log Z. Solving for the reward, r = β log(π*/π_ref)
    + β log Z; under Bradley–Terry the partition function Z cancels from every preference
    probability, which gives the DPO loss −log σ(r̂(y_w) − r̂(y_l)) with the implicit reward
    r̂ = β log(π_θ/π_ref), and its gradient −β σ(r̂(y_l) − r̂(y_w)) ∇(log π_θ(y_w) − log π_θ(y_l)).

Run on its own: ``python derivations/dpo.py``.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps
from sympy import Eq, IndexedBase, Sum, Symbol, exp, log
from sympy.printing.precedence import PRECEDENCE

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
from llmsym.notation import KL, Expect, Notation, gibbs_gap, sigmoid, vector_latex

# --- Printing: functions on the response set --------------------------------


class Name(Symbol):
    """A symbol whose LaTeX is fixed here (``pi_ref`` prints as a braced π_ref)."""

    TEX = {"pi": r"\pi", "pi_ref": r"{\pi_{\mathrm{ref}}}", "r": "r"}

    def _latex(self, printer, exp=None):
        tex = self.TEX[self.name]
        return tex if exp is None else f"{tex}^{{{exp}}}"


class Value(sp.Indexed):
    """``f[y]`` printed as ``f(y)``: the value of a function on the response set."""

    def _latex(self, printer, exp=None):
        tex = rf"{printer._print(self.base.label)}\left({printer._print(self.indices[0])}\right)"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


class Fn(IndexedBase):
    """A function of the response, stored as an Indexed so the checker can sum and sample it."""

    def __getitem__(self, index):
        return Value(self, index)


def _power(tex: str, exp) -> str:
    return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"


class minus(Notation):  # noqa: N801
    """a − b, printed in that order (SymPy sorts terms, which would put y_l first)."""

    nargs = 2
    precedence = PRECEDENCE["Add"]  # parenthesised inside products, like a sum

    @classmethod
    def definition(cls, a, b):
        return a - b

    def _latex(self, printer, exp=None):
        left, right = (rf"\left({printer._print(x)}\right)" if isinstance(x, sp.Add)
                       else printer._print(x) for x in self.args)
        return _power(f"{left} - {right}", exp)


# --- Symbols ---------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of candidate responses
y = Symbol("y", integer=True, positive=True)  # a response
y2 = Symbol("y'", integer=True, positive=True)  # a second summation index
# Labels of two responses: no assumptions, so the checker never draws them as sizes.
y_w = Symbol("y_w")  # the preferred (chosen) response
y_l = Symbol("y_l")  # the rejected response
pi = Fn(Name("pi", positive=True))  # any policy with full support
pi_ref = Fn(Name("pi_ref", positive=True))  # the reference policy
r = Fn(Name("r", real=True))  # the reward
beta = Symbol("beta", positive=True)  # KL strength
Z = Symbol("Z", positive=True)  # partition function
theta = Symbol("theta", real=True)  # one coordinate of the policy's parameters


# --- Notation ----------------------------------------------------------------


def _policy_tex(printer, p, index) -> str:
    """``π`` for ``π[y]``, ``π^*`` for ``π*(y)``: a policy named without its argument."""
    if isinstance(p, optimal):
        return r"\pi^{*}"
    return vector_latex(printer, p, index)


class optimal(Notation):  # noqa: N801 - the reader's π*
    """π*(y) = π_ref(y) e^{r(y)/β} / Z, the Gibbs (softmax) tilt of the reference."""

    nargs = 1

    @classmethod
    def definition(cls, index):
        return pi_ref[index] * exp(r[index] / beta) / Z

    def _eval_is_positive(self):
        return True

    def _latex(self, printer, exp=None):
        return _power(rf"\pi^{{*}}\left({printer._print(self.args[0])}\right)", exp)


class kl(KL):  # noqa: N801
    """KL(p ‖ q) that names π* as such (``KL(π ‖ π^*)``)."""

    def _latex(self, printer, exp=None):
        p, q, index, _n = self.args
        tex = r"\operatorname{KL}\left(%s \,\middle\|\, %s\right)" % (
            _policy_tex(printer, p, index), _policy_tex(printer, q, index))
        return _power(tex, exp)


class J(Notation):  # noqa: N801
    """J(π) = Σ_y π(y) r(y) − β KL(π ‖ π_ref): expected reward with a KL penalty."""

    nargs = 3

    @classmethod
    def definition(cls, p, index, size):
        return Sum(p * r[index], (index, 1, size)) - beta * kl(p, pi_ref[index], index, size)

    def _latex(self, printer, exp=None):
        return _power(rf"J\left({_policy_tex(printer, self.args[0], self.args[1])}\right)", exp)


class stationary(Expect):  # noqa: N801
    """π^L(y): the stationary point of the Lagrangian as ``sympy.solve`` finds it.

    Opaque, like E[.]: it has no definition to unfold; the instance computes it.
    """

    def _latex(self, printer, exp=None):
        return _power(rf"\pi^{{\mathcal{{L}}}}\left({printer._print(self.args[0])}\right)", exp)


class preferred(Notation):  # noqa: N801
    """P(y_w ≻ y_l), the probability that y_w is preferred: a modelling assumption says what."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return cls(a, b, evaluate=False)

    def doit(self, **hints):
        return self

    def _latex(self, printer, exp=None):
        a, b = (printer._print(x) for x in self.args)
        return _power(rf"P\left({a} \succ {b}\right)", exp)


def _numbers(args, prec) -> list | None:
    """The arguments as mpmath numbers, or None when one is not a number."""
    if not all(a.is_number for a in args):
        return None
    return [mpmath.mpmathify(complex(a.evalf(prec_to_dps(prec)))) for a in args]


class policy(sp.Function):  # noqa: N801
    """π_θ(y): the trained policy's probability of response y, a smooth function of θ.

    Symbolically it is arbitrary. Only when the checker screens a step at a random
    numeric point does it take the values of a fixed test function,
    π_θ(y) = exp(sin(θ + y)), so that the screening means something.
    """

    nargs = 2
    is_positive = True

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        return policy_slope(*self.args)

    def _eval_evalf(self, prec):
        values = _numbers(self.args, prec)
        if values is None:
            return None
        with mpmath.workprec(prec):
            return sp.Expr._from_mpmath(mpmath.exp(mpmath.sin(values[0] + values[1])), prec)

    def _latex(self, printer, exp=None):
        return _power(rf"\pi_{{\theta}}\left({printer._print(self.args[1])}\right)", exp)


class policy_slope(sp.Function):  # noqa: N801
    """∂π_θ(y)/∂θ, the derivative of :class:`policy` (of its test function when screened)."""

    nargs = 2

    def _eval_evalf(self, prec):
        values = _numbers(self.args, prec)
        if values is None:
            return None
        with mpmath.workprec(prec):
            angle = values[0] + values[1]
            return sp.Expr._from_mpmath(mpmath.cos(angle) * mpmath.exp(mpmath.sin(angle)), prec)

    def _latex(self, printer, exp=None):
        response = printer._print(self.args[1])
        return _power(rf"\partial_{{\theta}} \pi_{{\theta}}\left({response}\right)", exp)


class rhat(Notation):  # noqa: N801
    """r̂_θ(y) = β log(π_θ(y)/π_ref(y)), the implicit reward of the policy."""

    nargs = 2

    @classmethod
    def definition(cls, param, response):
        return beta * log(policy(param, response) / pi_ref[response])

    def _latex(self, printer, exp=None):
        return _power(rf"\hat{{r}}_{{\theta}}\left({printer._print(self.args[1])}\right)", exp)


class L_dpo(Notation):  # noqa: N801
    """L_DPO(π_θ) = −log σ(r̂_θ(y_w) − r̂_θ(y_l)): the loss of one preference pair."""

    nargs = 1

    @classmethod
    def definition(cls, param):
        return -log(sigmoid(minus(rhat(param, y_w), rhat(param, y_l))))

    def _latex(self, printer, exp=None):
        return _power(r"\mathcal{L}_{\mathrm{DPO}}\left(\pi_{\theta}\right)", exp)


class grad(Notation):  # noqa: N801
    """∇_θ f: the derivative along one coordinate θ of the parameters."""

    nargs = 2

    @classmethod
    def definition(cls, body, param):
        return sp.Derivative(body, param)

    def _latex(self, printer, exp=None):
        body, param = self.args
        inner = printer._print(body)
        if isinstance(body, (sp.Add, sp.Mul, minus)):
            inner = rf"\left[{inner}\right]"
        return _power(rf"\nabla_{{{printer._print(param)}}} {inner}", exp)


# --- The optimal policy -------------------------------------------------------
def _ratio(top, bottom):
    """top/bottom kept as written (SymPy would move e^{r/β} to the numerator as e^{-r/β})."""
    return sp.Mul(top, sp.Pow(bottom, -1, evaluate=False), evaluate=False)


is_distribution = Eq(Sum(pi[y], (y, 1, n)), 1)
optimal_is_distribution = Eq(Sum(optimal(y), (y, 1, n)), 1)
partition = Eq(Sum(pi_ref[y] * exp(r[y] / beta), (y, 1, n)), Z)

normalised = Claim(
    "normalised",
    "$\\pi^*$ is a distribution",
    start=Sum(optimal(y), (y, 1, n)),
    steps=(
        Step(Sum(pi_ref[y] * exp(r[y] / beta), (y, 1, n)) / Z,
             "definition of $\\pi^*$; $Z$ does not depend on $y$", "unfold+sum"),
        Step(1, "definition of $Z$", using=(partition,)),
    ),
    on_sheet=False,
)

gibbs = Claim(
    "gibbs",
    "Optimal policy of KL-regularised reward maximisation",
    start=J(pi[y], y, n),
    steps=(
        Step(Sum(pi[y] * r[y], (y, 1, n))
             - beta * Sum(pi[y] * log(pi[y] / pi_ref[y]), (y, 1, n)),
             "definitions of $J$ and of KL", "unfold"),
        Step(-beta * Sum(pi[y] * log(_ratio(pi[y], pi_ref[y] * exp(r[y] / beta))), (y, 1, n)),
             "one sum, with $r(y)/\\beta = \\log e^{r(y)/\\beta}$", "sum"),
        Step(beta * log(Z) * Sum(pi[y], (y, 1, n))
             - beta * Sum(pi[y] * log(pi[y] / optimal(y)), (y, 1, n)),
             "$\\pi_{\\mathrm{ref}}(y) e^{r(y)/\\beta} = Z \\pi^*(y)$; split the sum",
             "unfold+sum"),
        Step(beta * log(Z) - beta * kl(pi[y], optimal(y), y, n),
             "$\\pi$ is a distribution; definition of KL", "unfold+sum", using=(is_distribution,)),
    ),
    note="Here $\\pi^*(y) = \\pi_{\\mathrm{ref}}(y) e^{r(y)/\\beta}/Z$ with "
         "$Z = \\sum_y \\pi_{\\mathrm{ref}}(y) e^{r(y)/\\beta}$: as $\\mathrm{KL} \\ge 0$ with "
         "equality only at $\\pi = \\pi^*$, $\\pi^*$ is the unique maximiser and "
         "$J(\\pi^*) = \\beta \\log Z$.",
)

optimum = Claim(
    "optimum",
    "The maximum is attained at $\\pi^*$",
    start=beta * log(Z) - beta * kl(pi[y], optimal(y), y, n),
    steps=(
        Step(beta * log(Z) - beta * (Sum(pi[y] * log(pi[y] / optimal(y)), (y, 1, n))
                                     + Sum(optimal(y), (y, 1, n)) - Sum(pi[y], (y, 1, n))),
             "definition of KL, plus $\\sum_y \\pi^*(y) - \\sum_y \\pi(y) = 1 - 1$ "
             "(claim normalised)", "unfold+sum", using=(is_distribution, optimal_is_distribution)),
        Step(beta * log(Z) - beta * Sum(pi[y] * gibbs_gap(optimal(y) / pi[y]), (y, 1, n)),
             "regroup with $g(x) = x - 1 - \\log x$", "unfold+sum"),
        Step(beta * log(Z), "$g \\ge 0$ on $(0, \\infty)$, so KL $\\ge 0$ (Gibbs' inequality)",
             "nonneg", rel="<="),
        Step(beta * log(Z) * Sum(optimal(y), (y, 1, n)), "$\\pi^*$ is a distribution",
             using=(optimal_is_distribution,)),
        Step(J(optimal(y), y, n), "definition of $J$ at $\\pi^*$: "
             "$\\log(\\pi^*/\\pi_{\\mathrm{ref}}) = r/\\beta - \\log Z$", "unfold+sum"),
    ),
    on_sheet=False,
    note="$g(x) = 0$ only at $x = 1$, so equality holds only at $\\pi = \\pi^*$.",
)


def lagrange_instance(k: int) -> tuple[sp.Expr, sp.Expr]:
    """Solve the Lagrange conditions for k responses; return (π^L(1), the closed form at n = k).

    The stationarity equations ∂/∂p_i [J(p) − λ(Σ p − 1)] = 0 are solved for p, then the
    constraint Σ p = 1 for λ (plain symbols a_i = π_ref(i), r_i keep ``solve`` fast).
    ``solve`` is asked not to check its roots: a p(λ) that does not satisfy the
    stationarity equations is rejected here, and a wrong λ would break the equality
    with the closed form that the checker proves.
    """
    lam = Symbol("lambda", real=True)
    p = sp.symbols(f"p1:{k + 1}", positive=True)
    a = sp.symbols(f"a1:{k + 1}", positive=True)
    rewards = sp.symbols(f"r1:{k + 1}", real=True)
    lagrangian = (sum(p[i] * rewards[i] - beta * p[i] * log(p[i] / a[i]) for i in range(k))
                  - lam * (sum(p) - 1))
    stationarity = [sp.diff(lagrangian, x) for x in p]
    (p_of_lam,) = sp.solve(stationarity, p, dict=True, check=False, simplify=False)
    constraint = sum(p_of_lam.values()) - 1
    (lam_star,) = sp.solve(constraint, lam, check=False, simplify=False)
    if any(sp.expand(sp.expand_log(eq.subs(p_of_lam))) != 0 for eq in stationarity):
        raise ValueError(f"sympy.solve returned a non-stationary point at n = {k}")
    back = {**{a[i]: pi_ref[i + 1] for i in range(k)}, **{rewards[i]: r[i + 1] for i in range(k)}}
    solved = p_of_lam[p[0]].subs(lam, lam_star).xreplace(back)
    partition_k = sum(pi_ref[i] * exp(r[i] / beta) for i in range(1, k + 1))
    return solved, pi_ref[1] * exp(r[1] / beta) / partition_k


K_LAGRANGE = 6

lagrange = Claim(
    "lagrange",
    "Cross-check: the Lagrange conditions",
    start=stationary(1),
    steps=(
        Step(pi_ref[1] * exp(r[1] / beta) / Sum(pi_ref[y2] * exp(r[y2] / beta), (y2, 1, n)),
             "solve $\\partial_{\\pi(y)} [J(\\pi) - \\lambda (\\sum_y \\pi(y) - 1)] = 0$ "
             "for $\\pi$, then $\\sum_y \\pi(y) = 1$ for $\\lambda$, with sympy.solve",
             "expand", sizes=Sizes(n, 2, K_LAGRANGE), instance=lagrange_instance),
    ),
    on_sheet=False,
    note="$\\pi^{\\mathcal{L}}$ is the stationary point of the Lagrangian of $J$ under "
         "$\\sum_y \\pi(y) = 1$; any response can be labelled 1, so it is $\\pi^*$.",
)


# --- From the optimal policy to the DPO loss ------------------------------------

reward = Claim(
    "reward",
    "The reward in terms of its optimal policy",
    start=r[y],
    steps=(
        Step(beta * log(optimal(y) / pi_ref[y]) + beta * log(Z),
             "take $\\beta \\log$ of $\\pi^*(y)/\\pi_{\\mathrm{ref}}(y) = e^{r(y)/\\beta}/Z$",
             "unfold+expand_log"),
    ),
    on_sheet=False,
)


def _implied(response):
    return beta * log(optimal(response) / pi_ref[response]) + beta * log(Z)


preference = Claim(
    "preference",
    "Bradley–Terry through the optimal policy: $Z$ cancels",
    start=preferred(y_w, y_l),
    steps=(
        Step(sigmoid(minus(r[y_w], r[y_l])), "the Bradley–Terry model", "assumption"),
        Step(sigmoid(minus(_implied(y_w), _implied(y_l))),
             "the reward in terms of $\\pi^*$ (claim reward), for $y_w$ and $y_l$",
             "unfold+expand_log"),
        Step(sigmoid(minus(beta * log(optimal(y_w) / pi_ref[y_w]),
                           beta * log(optimal(y_l) / pi_ref[y_l]))),
             "$\\beta \\log Z$ cancels", "unfold+expand"),
    ),
    on_sheet=False,
    note="The preference probability depends on $\\pi^*$ only through likelihood ratios: "
         "replacing $\\pi^*$ by $\\pi_\\theta$ and maximising the likelihood gives the DPO loss.",
)

dpo_loss_claim = Claim(
    "dpo_loss",
    "The DPO loss",
    start=L_dpo(theta),
    steps=(
        Step(-log(sigmoid(minus(beta * log(policy(theta, y_w) / pi_ref[y_w]),
                                beta * log(policy(theta, y_l) / pi_ref[y_l])))),
             "negative log-likelihood of $y_w \\succ y_l$ under Bradley–Terry with the implicit "
             "reward $\\hat r_\\theta = \\beta \\log(\\pi_\\theta/\\pi_{\\mathrm{ref}})$ "
             "in place of $r$", "definition"),
    ),
    note="One preference pair; average over the data. With $\\pi_\\theta = \\pi^*$ it is the "
         "negative log-likelihood under the true reward, $Z$ having cancelled.",
)

gradient = Claim(
    "gradient",
    "Gradient of the DPO loss",
    start=grad(L_dpo(theta), theta),
    steps=(
        Step(-sigmoid(minus(rhat(theta, y_l), rhat(theta, y_w)))
             * grad(minus(rhat(theta, y_w), rhat(theta, y_l)), theta),
             "definition of $\\mathcal{L}_{\\mathrm{DPO}}$; chain rule with "
             "$\\frac{d}{dx} \\log \\sigma(x) = \\sigma(-x)$", "unfold+doit+cancel"),
        Step(-beta * sigmoid(minus(rhat(theta, y_l), rhat(theta, y_w)))
             * minus(grad(log(policy(theta, y_w)), theta), grad(log(policy(theta, y_l)), theta)),
             "$\\nabla_\\theta \\hat r_\\theta(y) = \\beta \\nabla_\\theta \\log \\pi_\\theta(y)$: "
             "$\\pi_{\\mathrm{ref}}$ does not depend on $\\theta$", "unfold+doit+expand"),
    ),
    note="$\\hat r_\\theta(y) = \\beta \\log(\\pi_\\theta(y)/\\pi_{\\mathrm{ref}}(y))$. "
         "Each pair is weighted by $\\sigma(\\hat r_\\theta(y_l) - \\hat r_\\theta(y_w))$: "
         "heavily when the implicit reward ranks it wrongly.",
)

# --- Numeric checks ---------------------------------------------------------------


def _log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max()
    return z - m - np.log(np.exp(z - m).sum())


def _objective(log_p: np.ndarray, log_ref: np.ndarray, rewards: np.ndarray, b: float) -> float:
    """J(π) = Σ π r − β Σ π log(π/π_ref), straight from the definition."""
    p = np.exp(log_p)
    return float(p @ rewards - b * (p @ (log_p - log_ref)))


def mirror_ascent(log_ref: np.ndarray, rewards: np.ndarray, b: float, step: float,
                  iters: int = 400) -> np.ndarray:
    """Maximise J on the simplex by exponentiated-gradient (mirror) ascent; returns log π.

    Each step multiplies π by exp(step · ∂J/∂π), ∂J/∂π = r − β(log(π/π_ref) + 1), and
    renormalises: the iteration knows the gradient of J, not its maximiser.
    """
    log_p = np.full(log_ref.shape, -np.log(log_ref.size))  # start from the uniform policy
    for _ in range(iters):
        new = _log_softmax(log_p + step * (rewards - b * (log_p - log_ref + 1.0)))
        if np.max(np.abs(new - log_p)) < 1e-15:
            return new
        log_p = new
    return log_p


def _random_problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """A random reference policy (some probabilities tiny), rewards and β."""
    size = int(rng.integers(2, 30))
    log_ref = _log_softmax(rng.normal(size=size) * rng.choice([1.0, 10.0]))
    b = float(np.exp(rng.uniform(np.log(0.05), np.log(5.0))))
    rewards = rng.normal(size=size) * rng.choice([1.0, 5.0]) * b
    return log_ref, rewards, b


def check_maximiser(rng: np.random.Generator) -> Measurement:
    """Mirror ascent's maximiser is π* = π_ref e^{r/β}/Z, and J there is β log Z."""
    from llmsym.numeric.softmax import logsumexp

    worst, cases = 0.0, 60
    for _ in range(cases):
        log_ref, rewards, b = _random_problem(rng)
        log_found = mirror_ascent(log_ref, rewards, b, step=float(rng.uniform(0.2, 0.9)) / b)
        log_z = float(logsumexp(log_ref + rewards / b))
        closed = np.exp(log_ref + rewards / b - log_z)
        value = _objective(log_found, log_ref, rewards, b)
        worst = max(worst, float(np.max(np.abs(np.exp(log_found) - closed))),
                    abs(value - b * log_z) / max(1.0, abs(b * log_z)))
    return Measurement(worst, cases, 1e-8,
                       "mirror ascent vs the closed-form π*; J at its maximiser vs β log Z")


def check_gibbs_identity(rng: np.random.Generator) -> Measurement:
    """J(π) = β log Z − β KL(π ‖ π*) at random policies, each side from its definition."""
    from llmsym.numeric.softmax import logsumexp

    worst, cases = 0.0, 200
    for _ in range(cases):
        log_ref, rewards, b = _random_problem(rng)
        log_p = _log_softmax(rng.normal(size=log_ref.size) * 3)
        log_z = float(logsumexp(log_ref + rewards / b))
        kl_star = float(np.exp(log_p) @ (log_p - (log_ref + rewards / b - log_z)))
        value = _objective(log_p, log_ref, rewards, b)
        worst = max(worst, abs(value - (b * log_z - b * kl_star)) / max(1.0, abs(value)))
    return Measurement(worst, cases, 1e-12, "J(π) vs β log Z − β KL(π‖π*) at random π")


def check_bradley_terry(rng: np.random.Generator) -> Measurement:
    """The implicit reward β log(π/π_ref) of the numerically found maximiser gives the
    Bradley–Terry likelihood of the true reward on random pairs (β log Z cancels)."""
    from llmsym.numeric.dpo import log_sigmoid

    worst, pairs = 0.0, 0
    for _ in range(40):
        log_ref, rewards, b = _random_problem(rng)
        implicit = b * (mirror_ascent(log_ref, rewards, b, step=0.5 / b) - log_ref)
        w, l = rng.integers(0, log_ref.size, size=(2, 50))
        true_ll = log_sigmoid(rewards[w] - rewards[l])
        implied_ll = log_sigmoid(implicit[w] - implicit[l])
        worst = max(worst, float(np.max(np.abs(true_ll - implied_ll))))
        pairs += w.size
    return Measurement(worst, pairs, 1e-9,
                       "log σ(r̂(y_w) − r̂(y_l)) of the mirror-ascent π* vs log σ(r(y_w) − r(y_l))")


def _five_point(f, step: float = 1e-3) -> float:
    """f'(0) by the five-point stencil: error O(step⁴) plus rounding ~ |f|·1e-16/step."""
    return (8 * (f(step) - f(-step)) - (f(2 * step) - f(-2 * step))) / (12 * step)


def _softmax_pair(rng: np.random.Generator, extreme: bool):
    """A softmax policy π_θ = softmax(Xθ), a reference, a pair (w, l) and β."""
    size, dim = int(rng.integers(2, 8)), int(rng.integers(1, 5))
    features, weights = rng.normal(size=(size, dim)), rng.normal(size=dim)
    log_ref = _log_softmax(rng.normal(size=size))
    if extreme:  # log-ratio margins near ±1e5: the loss is ~β|h| or ~0
        log_ref = log_ref + rng.choice([-1e5, 1e5], size=size)
    chosen, rejected = rng.choice(size, size=2, replace=False)
    return features, weights, log_ref, int(chosen), int(rejected), float(rng.uniform(0.05, 2.0))


def check_gradient(rng: np.random.Generator) -> Measurement:
    """−β σ(r̂_l − r̂_w)(∇log π_θ(y_w) − ∇log π_θ(y_l)) vs finite differences of dpo_loss."""
    from llmsym.numeric.dpo import dpo_loss

    worst, cases = 0.0, 60
    for case in range(cases):
        features, weights, log_ref, w, l, b = _softmax_pair(rng, extreme=case % 3 == 0)

        def loss(theta: np.ndarray, features=features, log_ref=log_ref, w=w, l=l, b=b) -> float:
            log_p = _log_softmax(features @ theta)
            return float(dpo_loss(log_p[w], log_p[l], log_ref[w], log_ref[l], beta=b))

        log_p = _log_softmax(features @ weights)
        score = features - np.exp(log_p) @ features  # row y: ∇θ log softmax(Xθ)_y
        r_hat = b * (log_p - log_ref)
        weight = np.exp(-np.logaddexp(0.0, r_hat[w] - r_hat[l]))  # σ(r̂_l − r̂_w)
        formula = -b * weight * (score[w] - score[l])
        numeric = np.array([_five_point(lambda t, e=e, at=weights: loss(at + t * e))
                            for e in np.eye(weights.size)])
        scale = max(1.0, float(np.max(np.abs(formula))))
        worst = max(worst, float(np.max(np.abs(formula - numeric))) / scale)
    return Measurement(worst, cases, 1e-6, "gradient formula vs finite differences of dpo_loss")


def _mp_loss(logps: np.ndarray, b: float, eps: float):
    """The label-smoothed DPO loss in 50-digit arithmetic, from the float inputs exactly."""
    with mpmath.workdps(50):
        x = [mpmath.mpf(float(v)) for v in logps]
        margin = mpmath.mpf(b) * ((x[0] - x[2]) - (x[1] - x[3]))
        return ((1 - mpmath.mpf(eps)) * mpmath.log1p(mpmath.exp(-margin))
                + mpmath.mpf(eps) * mpmath.log1p(mpmath.exp(margin)))


def check_loss_stability(rng: np.random.Generator) -> Measurement:
    """dpo_loss at margins up to ±1e5, with label smoothing, against 50-digit mpmath."""
    from llmsym.numeric.dpo import dpo_loss

    worst, naive_broken, cases = 0.0, 0, 400
    for _ in range(cases):
        b, eps = float(rng.uniform(0.01, 1.0)), float(rng.choice([0.0, rng.uniform(0.0, 0.5)]))
        logps = -rng.exponential(20.0, size=4)
        logps[2] += rng.choice([0.0, -1e5, 1e5]) / b  # push β·margin to about ±1e5
        got = float(dpo_loss(*logps, beta=b, label_smoothing=eps))
        ref = _mp_loss(logps, b, eps)
        with np.errstate(over="ignore", divide="ignore"):
            h = (logps[0] - logps[2]) - (logps[1] - logps[3])
            naive = -np.log(1.0 / (1.0 + np.exp(-b * h)))
        naive_broken += not np.isfinite(naive)
        worst = max(worst, abs(got - float(ref)) / max(float(abs(ref)), 1e-290))
    if naive_broken == 0:  # the premise: the textbook formula must break on these inputs
        return Measurement(float("inf"), cases, 1e-10, "no margin broke the naive -log σ")
    return Measurement(worst, cases, 1e-10,
                       f"relative error vs mpmath; naive -log σ is inf on {naive_broken}/{cases}")


def example_loss():
    from llmsym.numeric import dpo_loss

    value = float(dpo_loss(-12.0, -15.0, -13.0, -14.0, beta=0.1))
    return ("DPO loss, $\\beta = 0.1$, log-ratios $+1$ (chosen) and $-1$ (rejected)",
            r"-\log\sigma(0.1 \cdot 2) = %.4f" % value)


# --- Results --------------------------------------------------------------------
ref_prob = Symbol("pi_ref_y", positive=True)
reward_y = Symbol("r_y", real=True)
margin = Symbol("h", real=True)

# --- The derivation ----------------------------------------------------------
DERIVATION = Derivation(
    id="dpo",
    title="DPO from the KL-regularised objective",
    topic="Alignment",
    order=60,
    gloss="Reward minus $\\beta\\,\\mathrm{KL}(\\pi \\| \\pi_{\\mathrm{ref}})$ is maximised by "
          "$\\pi^*(y) = \\pi_{\\mathrm{ref}}(y) e^{r(y)/\\beta}/Z$, "
          "$Z = \\sum_y \\pi_{\\mathrm{ref}}(y) e^{r(y)/\\beta}$; under Bradley–Terry $Z$ cancels, "
          "leaving a logistic loss on log-probability ratios.",
    assumptions=(
        "One prompt with a finite set of $n$ responses; $\\pi$ and $\\pi_{\\mathrm{ref}}$ are "
        "distributions on it with full support, $r$ is real and $\\beta > 0$.",
        "The penalty is the reverse KL, $\\mathrm{KL}(\\pi \\| \\pi_{\\mathrm{ref}}) = "
        "\\sum_y \\pi(y) \\log(\\pi(y)/\\pi_{\\mathrm{ref}}(y))$.",
        "Preferences follow Bradley–Terry: $P(y_w \\succ y_l) = \\sigma(r(y_w) - r(y_l))$.",
        "$\\pi_\\theta$ is differentiable in each parameter coordinate $\\theta$; "
        "$\\pi_{\\mathrm{ref}}$ is frozen.",
    ),
    definitions=(
        Definition("partition function", Z, Sum(pi_ref[y] * exp(r[y] / beta), (y, 1, n))),
        Definition("optimal policy", optimal(y), optimal.definition(y)),
        Definition("objective", J(pi[y], y, n), J.definition(pi[y], y, n)),
        Definition("implicit reward", rhat(theta, y), rhat.definition(theta, y)),
    ),
    claims=(gibbs, normalised, optimum, lagrange, reward, preference, dpo_loss_claim, gradient),
    checks=(
        NumericCheck("maximiser", check_maximiser,
                     "Mirror ascent on the simplex finds $\\pi^*$ to 1e-8, and "
                     "$J = \\beta \\log Z$ there."),
        NumericCheck("gibbs_identity", check_gibbs_identity,
                     "$J(\\pi) = \\beta \\log Z - \\beta \\mathrm{KL}(\\pi \\| \\pi^*)$ "
                     "at random $\\pi$."),
        NumericCheck("bradley_terry", check_bradley_terry,
                     "The implicit reward of the numerical maximiser gives the true Bradley–Terry "
                     "likelihood on random pairs."),
        NumericCheck("gradient", check_gradient,
                     "The gradient formula against five-point finite differences for a "
                     "softmax policy, margins up to $\\pm 10^5$ included."),
        NumericCheck("loss_stability", check_loss_stability,
                     "dpo_loss at margins up to $\\pm 10^5$ against 50-digit mpmath: "
                     "no inf, no NaN."),
    ),
    results=(
        Result("optimal_policy_weight", ref_prob * exp(reward_y / beta),
               (ref_prob, reward_y, beta),
               doc="unnormalised optimal policy $\\pi_{\\mathrm{ref}}(y) e^{r(y)/\\beta}$: "
                   "divide by its sum over $y$", units="probability (unnormalised)",
               claim="gibbs"),
        Result("dpo_pair_loss", log(1 + exp(-beta * margin)), (margin, beta),
               doc="DPO loss $-\\log\\sigma(\\beta h)$ of a pair with log-ratio margin $h$ "
                   "(llmsym.numeric.dpo_loss is the overflow-free version)",
               units="nats", claim="dpo_loss"),
        Result("dpo_gradient_weight", beta / (1 + exp(beta * margin)), (margin, beta),
               doc="$\\beta \\sigma(-\\beta h)$, the weight of "
                   "$\\nabla\\log\\pi_\\theta(y_w) - \\nabla\\log\\pi_\\theta(y_l)$ "
                   "in minus the gradient of the loss", claim="gradient"),
    ),
    notation={
        pi[y]: "a policy: a distribution over the $n$ responses to one prompt",
        pi_ref[y]: "the frozen reference policy (the SFT model)",
        r[y]: "the reward of response $y$",
        beta: "strength of the KL penalty",
        Z: "partition function $\\sum_y \\pi_{\\mathrm{ref}}(y) e^{r(y)/\\beta}$",
        optimal(y): "the optimal policy $\\pi_{\\mathrm{ref}} e^{r/\\beta}/Z$",
        y_w: "the preferred (chosen) response",
        y_l: "the rejected response",
        rhat(theta, y): "implicit reward $\\beta \\log(\\pi_\\theta(y)/\\pi_{\\mathrm{ref}}(y))$",
        theta: "a coordinate of the trained policy's parameters",
    },
    remarks=(
        "KL $\\ge 0$ is reproved here with the certificate $g(x) = x - 1 - \\log x \\ge 0$, "
        "whose non-negativity (and $g(x) = 0$ only at $x = 1$) the gibbs-inequality "
        "derivation proves.",
        "The Lagrange cross-check is proved for each $n = 2..6$ only; the Gibbs rewrite holds "
        "for every $n$.",
        "The implicit reward differs from $r$ by $\\beta \\log Z$, a constant per prompt, which "
        "is why DPO never needs $Z$.",
    ),
    sources=(
        "Rafailov et al., Direct Preference Optimization: Your Language Model is Secretly a "
        "Reward Model (2023), arXiv:2305.18290: section 4 and appendices A.1 (the optimal "
        "policy), A.2 (the loss under Bradley–Terry) and A.4 (the gradient)",
        "Bradley and Terry, Rank analysis of incomplete block designs (1952), Biometrika 39",
    ),
    examples=(example_loss,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
