"""Conservative DPO and IPO: where the optimal log-ratio margin lies.

Statement
    Write h = log(π_θ(y_w)/π_ref(y_w)) − log(π_θ(y_l)/π_ref(y_l)) for the log-ratio margin of
    a preference pair. DPO's loss −log σ(βh) decreases for every h, so on a single pair it
    pushes h to +∞. If labels are flipped with probability ε (conservative DPO, i.e. label
    smoothing) the loss (1 − ε)(−log σ(βh)) + ε(−log σ(−βh)) is strictly convex with its
    minimum at h = (1/β) log((1 − ε)/ε). IPO's squared loss (h − 1/(2τ))² has, under the
    same noise, its minimum at h = (1 − 2ε)/(2τ): finite even for clean labels.

Run on its own: ``python derivations/dpo_variants.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Derivative, Subs, Symbol, log

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Notation, sigmoid

# --- Symbols ---------------------------------------------------------------
h = Symbol("h", real=True)  # log-ratio margin of the pair
beta = Symbol("beta", positive=True)  # DPO's KL strength
eps = Symbol("epsilon", positive=True)  # probability that a label is flipped
tau = Symbol("tau", positive=True)  # IPO's regularisation strength


def _power(tex: str, exp) -> str:
    return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"


class L_cdpo(Notation):  # noqa: N801
    """L_ε(h) = −(1 − ε) log σ(βh) − ε log σ(−βh): DPO when labels flip with probability ε."""

    nargs = 1

    @classmethod
    def definition(cls, margin):
        return -(1 - eps) * log(sigmoid(beta * margin)) - eps * log(sigmoid(-beta * margin))

    def _latex(self, printer, exp=None):
        margin = printer._print(self.args[0])
        return _power(rf"\mathcal{{L}}_{{\epsilon}}\left({margin}\right)", exp)


class L_ipo(Notation):  # noqa: N801
    """L_IPO(h) = (h − 1/(2τ))²: IPO's loss for one pair labelled y_w ≻ y_l."""

    nargs = 1

    @classmethod
    def definition(cls, margin):
        return (margin - 1 / (2 * tau)) ** 2

    def _latex(self, printer, exp=None):
        margin = printer._print(self.args[0])
        return _power(rf"\mathcal{{L}}_{{\mathrm{{IPO}}}}\left({margin}\right)", exp)


cdpo_margin = log((1 - eps) / eps) / beta  # the claimed minimiser
ipo_margin = (1 - 2 * eps) / (2 * tau)

# --- Claims ----------------------------------------------------------------
cdpo_slope = Claim(
    "cdpo_slope",
    "Slope of the conservative DPO loss",
    start=Derivative(L_cdpo(h), h),
    steps=(
        Step(-(1 - eps) * beta * sigmoid(-beta * h) + eps * beta * sigmoid(beta * h),
             "$\\frac{d}{dx} \\log \\sigma(x) = \\sigma(-x)$", "unfold+doit+cancel"),
        Step(beta * (sigmoid(beta * h) - (1 - eps)), "$\\sigma(-x) = 1 - \\sigma(x)$",
             "unfold+cancel"),
    ),
    on_sheet=False,
    note="At $\\epsilon = 0$ the slope is $-\\beta \\sigma(-\\beta h) < 0$ for every $h$: "
         "plain DPO keeps pushing the margin up.",
)

cdpo_convex = Claim(
    "cdpo_convex",
    "The conservative DPO loss is convex",
    start=Derivative(L_cdpo(h), (h, 2)),
    steps=(
        Step(beta**2 * sigmoid(beta * h) * sigmoid(-beta * h),
             "differentiate the slope; $\\sigma'(x) = \\sigma(x) \\sigma(-x)$",
             "unfold+doit+cancel"),
        Step(0, "$\\sigma > 0$", "nonneg", rel=">="),
    ),
    on_sheet=False,
    note="Strictly positive, in fact: a stationary point is the unique minimiser.",
)

cdpo_optimum = Claim(
    "cdpo_optimum",
    "Conservative DPO: the optimal margin",
    start=Subs(Derivative(L_cdpo(h), h), h, cdpo_margin),
    steps=(
        Step(beta * (sigmoid(log((1 - eps) / eps)) - (1 - eps)),
             "the slope (claim cdpo_slope) at "
             "$h = \\frac{1}{\\beta} \\log \\frac{1 - \\epsilon}{\\epsilon}$",
             "unfold+doit+cancel"),
        Step(0, "$\\sigma(\\log x) = x/(1 + x) = 1 - \\epsilon$ for "
                "$x = (1 - \\epsilon)/\\epsilon$", "unfold+together"),
    ),
    on_sheet=False,  # the sheet keeps IPO's entry; the gloss there states this margin
    note="With labels flipped with probability $\\epsilon$ the loss is minimised at "
         "$h^* = \\frac{1}{\\beta} \\log \\frac{1 - \\epsilon}{\\epsilon}$ (it is convex), "
         "which grows without bound as $\\epsilon \\to 0$.",
)

ipo_optimum = Claim(
    "ipo_optimum",
    "IPO: the optimal margin is finite",
    start=(1 - eps) * L_ipo(h) + eps * L_ipo(-h),
    steps=(
        Step((h - ipo_margin) ** 2 + eps * (1 - eps) / tau**2,
             "expand both squares and complete the square in $h$", "unfold+expand"),
    ),
    note="Minimised at $h^* = (1 - 2\\epsilon)/(2\\tau)$, which is $1/(2\\tau)$ for clean labels "
         "($\\epsilon = 0$), where DPO's optimum is at infinity.",
)

# --- Numeric checks ------------------------------------------------------------


def golden_section(f, lo: float, hi: float, iters: int = 200) -> float:
    """The minimiser of a unimodal f on [lo, hi] by golden-section search (no derivatives)."""
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
        if b - a < 1e-12 * max(1.0, abs(a)):
            break
    return (a + b) / 2.0


def check_cdpo_minimiser(rng: np.random.Generator) -> Measurement:
    """Golden-section search on llmsym's dpo_loss with label smoothing vs (1/β) log((1 − ε)/ε)."""
    from llmsym.numeric.dpo import dpo_loss

    worst, cases = 0.0, 40
    for _ in range(cases):
        b = float(np.exp(rng.uniform(np.log(0.05), np.log(2.0))))
        e = float(np.exp(rng.uniform(np.log(1e-4), np.log(0.45))))

        def loss(margin: float, b=b, e=e) -> float:
            return float(dpo_loss(margin, 0.0, 0.0, 0.0, beta=b, label_smoothing=e))

        found = golden_section(loss, -500.0, 500.0)
        claimed = np.log((1 - e) / e) / b
        worst = max(worst, abs(found - claimed) / max(1.0, abs(claimed)))
    return Measurement(worst, cases, 1e-5,
                       "argmin of the label-smoothed dpo_loss vs the closed form")


def check_ipo_vs_dpo(rng: np.random.Generator) -> Measurement:
    """Gradient descent on a softmax policy's logits for one pair: IPO's margin settles at
    (1 − 2ε)/(2τ); DPO's (clean labels) keeps growing."""
    worst, cases, dpo_runs, dpo_growing = 0.0, 12, 0, 0
    for case in range(cases):
        size = int(rng.integers(2, 6))
        log_ref = rng.normal(size=size)
        log_ref -= np.log(np.exp(log_ref).sum())
        w, l = rng.choice(size, size=2, replace=False)
        t, e, b = (float(rng.uniform(lo, hi)) for lo, hi in ((0.1, 2.0), (0.0, 0.4), (0.1, 1.0)))

        def margin(logits: np.ndarray, w=w, l=l, log_ref=log_ref) -> float:
            log_p = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
            return (log_p[w] - log_ref[w]) - (log_p[l] - log_ref[l])

        def ipo(logits: np.ndarray, t=t, e=e) -> float:
            m = margin(logits)
            return (1 - e) * (m - 1 / (2 * t)) ** 2 + e * (-m - 1 / (2 * t)) ** 2

        def dpo(logits: np.ndarray, b=b) -> float:
            return float(np.logaddexp(0.0, -b * margin(logits)))

        found = _descend(ipo, np.zeros(size), rate=0.2, steps=60)
        worst = max(worst, abs(margin(found) - (1 - 2 * e) / (2 * t)) / max(1.0, 1 / (2 * t)))
        if case % 3 == 0:  # DPO on every third pair: slow to run, and its margin only grows
            early = _descend(dpo, np.zeros(size), rate=1.0, steps=40)
            late = _descend(dpo, early, rate=1.0, steps=120)
            dpo_runs += 1
            dpo_growing += margin(late) > margin(early) + 0.5 / b
    if dpo_growing < dpo_runs:
        return Measurement(float("inf"), cases, 1e-8, "DPO's margin stopped growing on some pair")
    return Measurement(worst, cases, 1e-8, "IPO margin after descent vs (1 − 2ε)/(2τ); "
                       "DPO margin still growing on every pair it was run on")


def _descend(f, x: np.ndarray, rate: float, steps: int) -> np.ndarray:
    """Plain gradient descent with central-difference gradients."""
    x = x.copy()
    eye = np.eye(x.size)
    for _ in range(steps):
        grad = np.array([(f(x + 1e-6 * u) - f(x - 1e-6 * u)) / 2e-6 for u in eye])
        x -= rate * grad
    return x


def example_margins():
    from llmsym.numeric.dpo import dpo_loss

    def smoothed(margin: float) -> float:
        return float(dpo_loss(margin, 0.0, 0.0, 0.0, beta=0.1, label_smoothing=0.1))

    found = golden_section(smoothed, -500.0, 500.0)
    ipo = float(ipo_margin.subs({eps: 0.1, tau: 0.1}))
    return ("Optimal margins, $\\beta = 0.1$, $\\epsilon = 0.1$, $\\tau = 0.1$ "
            "(cDPO by golden-section search on dpo_loss)",
            r"h^*_{\mathrm{cDPO}} = %.3f,\quad h^*_{\mathrm{IPO}} = %.3f" % (found, ipo))


# --- The derivation ----------------------------------------------------------
DERIVATION = Derivation(
    id="dpo-variants",
    title="Conservative DPO and IPO",
    topic="Alignment",
    order=61,
    gloss="DPO drives the log-ratio margin of a pair to infinity; label smoothing stops it at "
          "$\\frac{1}{\\beta}\\log\\frac{1-\\epsilon}{\\epsilon}$, IPO's squared loss at "
          "$\\frac{1-2\\epsilon}{2\\tau}$.",
    assumptions=(
        "$h = \\log\\frac{\\pi_\\theta(y_w)}{\\pi_{\\mathrm{ref}}(y_w)} - "
        "\\log\\frac{\\pi_\\theta(y_l)}{\\pi_{\\mathrm{ref}}(y_l)}$ is the log-ratio margin "
        "of one pair; the policy can reach any real $h$.",
        "Each label is flipped with probability $\\epsilon \\in (0, 1/2)$ (cDPO), "
        "or $\\epsilon \\in [0, 1/2)$ for IPO; $\\beta, \\tau > 0$.",
    ),
    definitions=(
        Definition("cDPO loss", L_cdpo(h), L_cdpo.definition(h)),
        Definition("IPO loss", L_ipo(h), L_ipo.definition(h)),
    ),
    claims=(cdpo_slope, cdpo_convex, cdpo_optimum, ipo_optimum),
    checks=(
        NumericCheck("cdpo_minimiser", check_cdpo_minimiser,
                     "Golden-section search on the label-smoothed dpo_loss finds "
                     "$\\frac{1}{\\beta}\\log\\frac{1-\\epsilon}{\\epsilon}$."),
        NumericCheck("ipo_vs_dpo", check_ipo_vs_dpo,
                     "Gradient descent on softmax logits: IPO's margin converges to "
                     "$(1-2\\epsilon)/(2\\tau)$ while DPO's keeps growing."),
    ),
    results=(
        Result("cdpo_optimal_margin", cdpo_margin, (beta, eps),
               doc="log-ratio margin minimising DPO with label smoothing $\\epsilon$",
               units="nats", claim="cdpo_optimum"),
        Result("ipo_optimal_margin", ipo_margin, (tau, eps),
               doc="log-ratio margin minimising IPO's loss with labels flipped with "
                   "probability $\\epsilon$ ($1/(2\\tau)$ for clean labels)",
               units="nats", claim="ipo_optimum"),
    ),
    notation={
        h: "log-ratio margin of a preference pair",
        eps: "probability that a preference label is flipped (label smoothing)",
        tau: "IPO's regularisation strength",
    },
    remarks=(
        "cDPO's loss is the cross-entropy between the smoothed label $(1 - \\epsilon, \\epsilon)$ "
        "and $(\\sigma(\\beta h), \\sigma(-\\beta h))$, hence minimised where $\\sigma(\\beta h) = "
        "1 - \\epsilon$.",
        "Both optima are per pair; with several pairs sharing parameters they are targets the "
        "policy may not reach simultaneously.",
    ),
    sources=(
        "Mitchell, A note on DPO with noisy preferences and relationship to IPO (2023): cDPO",
        "Azar et al., A General Theoretical Paradigm to Understand Learning from Human Preferences "
        "(2023), arXiv:2310.12036: the IPO loss",
        "Rafailov et al., Direct Preference Optimization (2023), arXiv:2305.18290",
    ),
    examples=(example_margins,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
