"""Conservative DPO and IPO: where the optimal log-ratio margin lies.

Main results
    cdpo_slope     L_eps'(D) = beta (sigma(beta D) - (1 - eps)) for the label-smoothed loss
    cdpo_convex    L_eps''(D) = beta^2 sigma(beta D) sigma(-beta D) >= 0
    cdpo_optimum   0 < eps < 1/2  ⊢  the slope vanishes at D* = (1/beta) log((1 - eps)/eps) > 0,
                   the minimiser (convexity); it grows without bound as eps -> 0
    ipo_optimum    (1 - eps) L_IPO(D) + eps L_IPO(-D) = (D - (1 - 2 eps)/(2 tau))^2
                   + eps (1 - eps)/tau^2: IPO's optimal margin is finite, even for clean labels

D is the log-ratio margin of a pair, log(pi_theta(y_w|x)/pi_ref(y_w|x)) -
log(pi_theta(y_l|x)/pi_ref(y_l|x)); eps is the probability that a label is flipped.

Run on its own: ``python derivations/dpo_variants.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Derivative, Lt, Rational, Subs, Symbol, log

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Result,
    Step,
)
from llmsym.notation import Named, Notation, factors, sigmoid, terms

# --- Symbols ---------------------------------------------------------------
h = Named("margin", r"h_{\pi}", real=True)  # log-ratio margin of the pair (Azar et al.)
beta = Symbol("beta", positive=True)  # DPO's KL strength
eps = Named("epsilon_flip", r"\epsilon_{\mathrm{flip}}", positive=True)  # label-flip probability
tau = Symbol("tau", positive=True)  # IPO's regularisation strength


class L_cdpo(Notation):  # noqa: N801
    """L_eps(D) = -(1 - eps) log sigma(beta D) - eps log sigma(-beta D): DPO when labels flip
    with probability eps (label smoothing)."""

    nargs = 1

    @classmethod
    def definition(cls, margin):
        return terms(-(1 - eps) * log(sigmoid(factors(beta, margin))),
                     -eps * log(sigmoid(-factors(beta, margin))))

    def _latex(self, printer):
        return rf"\mathcal{{L}}_{{\mathrm{{cDPO}}}}\left({printer._print(self.args[0])}\right)"


class L_ipo(Notation):  # noqa: N801
    """L_IPO(D) = (D - 1/(2 tau))^2: IPO's loss for one pair labelled y_w ≻ y_l."""

    nargs = 1

    @classmethod
    def definition(cls, margin):
        return (margin - 1 / (2 * tau)) ** 2

    def _latex(self, printer):
        return rf"\mathcal{{L}}_{{\mathrm{{IPO}}}}\left({printer._print(self.args[0])}\right)"


cdpo_margin = log((1 - eps) / eps) / beta  # the claimed minimiser
ipo_margin = (1 - 2 * eps) / (2 * tau)

# --- Premises and definitions ------------------------------------------------
informative = Hypothesis(Lt(eps, Rational(1, 2)),
                         "labels are flipped less often than not: $\\epsilon_{\\mathrm{flip}} < "
                         "1/2$")
DEFINITIONS = (
    Definition("cDPO loss", L_cdpo(h), L_cdpo.definition(h)),
    Definition("IPO loss", L_ipo(h), L_ipo.definition(h)),
)
D_CDPO, D_IPO = DEFINITIONS

# --- Claims ----------------------------------------------------------------
cdpo_slope = Claim(
    "cdpo_slope",
    "Slope of the conservative DPO loss",
    start=Derivative(L_cdpo(h), h),
    steps=(
        Step(-(1 - eps) * beta * sigmoid(-beta * h) + eps * beta * sigmoid(beta * h),
             "$\\frac{d}{du} \\log \\sigma(u) = \\sigma(-u)$", "unfold+doit+together"),
        Step(beta * (sigmoid(beta * h) - (1 - eps)), "$\\sigma(-u) = 1 - \\sigma(u)$",
             "unfold+together"),
    ),
    on_sheet=False,
    where=(D_CDPO,),
    note="At $\\epsilon_{\\mathrm{flip}} = 0$ the slope is $-\\beta \\sigma(-\\beta h_\\pi) < "
         "0$ for every "
         "$h_\\pi$: plain DPO keeps pushing the margin up.",
)

cdpo_convex = Claim(
    "cdpo_convex",
    "The conservative DPO loss is convex",
    start=Derivative(L_cdpo(h), (h, 2)),
    steps=(
        Step(beta**2 * sigmoid(beta * h) * sigmoid(-beta * h),
             "differentiate the slope; $\\sigma'(u) = \\sigma(u) \\sigma(-u)$",
             "unfold+doit+together"),
        Step(0, "$\\sigma > 0$", "nonneg", rel=">="),
    ),
    on_sheet=False,
    note="Strictly positive, in fact: a stationary point is the unique minimiser.",
)

cdpo_optimum = Claim(
    "cdpo_optimum",
    "Conservative DPO: the optimal margin is finite",
    given=(informative,),
    start=Subs(Derivative(L_cdpo(h), h), h, cdpo_margin),
    steps=(
        Step(beta * (sigmoid(log((1 - eps) / eps)) - (1 - eps)),
             "the slope at $h_\\pi^* = \\frac{1}{\\beta} \\log \\frac{1 - "
             "\\epsilon_{\\mathrm{flip}}}"
             "{\\epsilon_{\\mathrm{flip}}}$", "unfold+doit+together", using=(cdpo_slope,)),
        Step(0, "$\\sigma(\\log u) = u/(1 + u) = 1 - \\epsilon_{\\mathrm{flip}}$ for "
                "$u = (1 - \\epsilon_{\\mathrm{flip}})/\\epsilon_{\\mathrm{flip}}$; the loss is "
                "convex, so this is its minimum",
             "unfold+together", using=(cdpo_convex,)),
    ),
    where=(D_CDPO,),
    note="With labels flipped with probability $\\epsilon_{\\mathrm{flip}}$ the loss is "
         "minimised at "
         "$h_\\pi^* = \\frac{1}{\\beta} \\log \\frac{1 - "
         "\\epsilon_{\\mathrm{flip}}}{\\epsilon_{\\mathrm{flip}}}$, positive for "
         "$\\epsilon_{\\mathrm{flip}} < 1/2$ and unbounded as $\\epsilon_{\\mathrm{flip}} \\to "
         "0$ (Mitchell 2023).", on_sheet=False,
)

ipo_optimum = Claim(
    "ipo_optimum",
    "IPO: the optimal margin is finite, even for clean labels",
    given=(informative,),
    start=terms((1 - eps) * L_ipo(h), eps * L_ipo(-h)),
    steps=(
        Step(terms((h - ipo_margin) ** 2, eps * (1 - eps) / tau**2),
             "expand both squares and complete the square in $h_\\pi$", "unfold+cancel"),
    ),
    where=(D_IPO,),
    note="Minimised at $h_\\pi^* = (1 - 2\\epsilon_{\\mathrm{flip}})/(2\\tau)$, positive for "
         "$\\epsilon_{\\mathrm{flip}} < 1/2$ "
         "and $1/(2\\tau)$ for clean labels, where DPO's optimum is at infinity (Azar et al.).",
)

# --- Numeric checks ------------------------------------------------------------


def golden_section(f, lo: float, hi: float, iters: int = 120) -> float:
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


def check_cdpo_slope(rng: np.random.Generator, formula) -> Measurement:
    """beta(sigma(beta D) - (1 - eps)) from the claim against central differences of the
    label-smoothed llmsym.numeric.dpo_loss, and its zero against a golden-section minimiser."""
    from llmsym.numeric.dpo import dpo_loss

    worst, cases = 0.0, 8
    for _ in range(cases):
        b = float(np.exp(rng.uniform(np.log(0.05), np.log(2.0))))
        e = float(np.exp(rng.uniform(np.log(1e-3), np.log(0.45))))

        def loss(margin: float, b=b, e=e) -> float:
            return float(dpo_loss(margin, 0.0, 0.0, 0.0, beta=b, label_smoothing=e))

        for margin in rng.normal(size=3) * 10 / b:
            step = 1e-5 * max(1.0, abs(margin))
            numeric = (loss(margin + step) - loss(margin - step)) / (2 * step)
            got = float(formula(margin=margin, beta=b, epsilon_flip=e))
            worst = max(worst, abs(got - numeric) / max(1.0, abs(numeric)) / 1e3)
        found = golden_section(loss, -200.0 / b, 200.0 / b)
        worst = max(worst, abs(float(formula(margin=found, beta=b, epsilon_flip=e))) / b)
    return Measurement(worst, cases, 1e-8, "slope vs central differences of dpo_loss "
                       "(scaled by 1e-3, their accuracy); slope at the golden-section minimiser")


def check_ipo(rng: np.random.Generator, formula) -> Measurement:
    """The completed square from the claim against the expected IPO loss under label noise,
    each per-pair loss computed from log-probabilities as in Azar et al."""
    worst, cases = 0.0, 40
    for _ in range(cases):
        t, e = float(rng.uniform(0.05, 2.0)), float(rng.uniform(0.0, 0.49))
        logps = rng.normal(size=4) * 3  # log pi_theta(y_w), log pi_theta(y_l), refs
        margin = (logps[0] - logps[2]) - (logps[1] - logps[3])
        clean = (margin - 1 / (2 * t)) ** 2
        flipped = (-margin - 1 / (2 * t)) ** 2  # the pair read the other way round
        expected = (1 - e) * clean + e * flipped
        got = float(formula(margin=margin, tau=t, epsilon_flip=e))
        worst = max(worst, abs(got - expected) / max(1.0, expected))
    return Measurement(worst, cases, 1e-12, "completed square vs the expected IPO loss")


def example_margins():
    from llmsym.numeric.dpo import dpo_loss

    def smoothed(margin: float) -> float:
        return float(dpo_loss(margin, 0.0, 0.0, 0.0, beta=0.1, label_smoothing=0.1))

    found = golden_section(smoothed, -500.0, 500.0)
    ipo = float(ipo_margin.subs({eps: 0.1, tau: 0.1}))
    return ("Optimal margins, $\\beta = 0.1$, $\\epsilon_{\\mathrm{flip}} = 0.1$, $\\tau = 0.1$ "
            "(cDPO by golden-section search on dpo_loss)",
            r"h^{*}_{\mathrm{cDPO}} = %.3f,\quad h^{*}_{\mathrm{IPO}} = %.3f" % (found, ipo))


# --- The derivation ----------------------------------------------------------
DERIVATION = Derivation(
    id="dpo-variants",
    title="Conservative DPO and IPO",
    topic="Alignment",
    order=61,
    gloss="DPO drives the log-ratio margin of a pair to infinity; label smoothing stops it at "
          "$\\frac{1}{\\beta}\\log\\frac{1-\\epsilon_{\\mathrm{flip}}}"
          "{\\epsilon_{\\mathrm{flip}}}$, IPO's squared loss at "
          "$\\frac{1-2\\epsilon_{\\mathrm{flip}}}{2\\tau}$.",
    assumptions=(
        "$h_\\pi = \\log\\frac{\\pi_\\theta(y_w|x)}{\\pi_{\\mathrm{ref}}(y_w|x)} - "
        "\\log\\frac{\\pi_\\theta(y_l|x)}{\\pi_{\\mathrm{ref}}(y_l|x)}$ is the log-ratio "
        "margin of one pair; the policy can reach any real $h_\\pi$.",
        "Each label is flipped with probability $\\epsilon_{\\mathrm{flip}} \\in (0, 1/2)$; "
        "$\\beta, \\tau > 0$.",
    ),
    definitions=DEFINITIONS,
    claims=(cdpo_slope, cdpo_convex, cdpo_optimum, ipo_optimum),
    checks=(
        NumericCheck("cdpo_slope", check_cdpo_slope, "The slope against central differences of "
                     "the label-smoothed dpo_loss, and zero at its golden-section minimiser.",
                     claim="cdpo_slope"),
        NumericCheck("ipo", check_ipo, "The completed square against the expected IPO loss "
                     "under label noise.", claim="ipo_optimum"),
    ),
    results=(
        Result("cdpo_optimal_margin", cdpo_margin, (beta, eps),
               doc="log-ratio margin minimising DPO with label smoothing "
                   "$\\epsilon_{\\mathrm{flip}}$",
               units="nats", claim="cdpo_optimum"),
        Result("ipo_optimal_margin", ipo_margin, (tau, eps),
               doc="log-ratio margin minimising IPO's loss with labels flipped with "
                   "probability $\\epsilon_{\\mathrm{flip}}$ ($1/(2\\tau)$ for clean labels)",
               units="nats", claim="ipo_optimum"),
    ),
    notation={
        h: "the log-ratio margin of a preference pair",
        eps: "the probability that a preference label is flipped (label smoothing)",
        tau: "IPO's regularisation strength",
    },
    remarks=(
        "cDPO's loss is the cross-entropy between the smoothed label $(1 - "
        "\\epsilon_{\\mathrm{flip}}, \\epsilon_{\\mathrm{flip}})$ "
        "and $(\\sigma(\\beta h_\\pi), \\sigma(-\\beta h_\\pi))$, hence minimised where "
        "$\\sigma(\\beta h_\\pi) = 1 - \\epsilon_{\\mathrm{flip}}$.",
        "Both optima are per pair; with several pairs sharing parameters they are targets the "
        "policy may not reach simultaneously.",
    ),
    sources=(
        "Mitchell, A note on DPO with noisy preferences and relationship to IPO (2023): cDPO.",
        "Azar et al., A General Theoretical Paradigm to Understand Learning from Human Preferences "
        "(2023), arXiv:2310.12036: the IPO loss.",
        "Rafailov et al., Direct Preference Optimization (2023), arXiv:2305.18290.",
    ),
    examples=(example_margins,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
