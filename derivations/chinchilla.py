"""Chinchilla: the compute-optimal split of a training budget between parameters and tokens.

Statement
    Hoffmann et al. fit the loss of a model of N parameters trained on D tokens
    as L^(N, D) = E + A / N^a_H + B / D^b_H (printed alpha_H, beta_H: on this sheet
    alpha is Adam's step size and beta the KL strength). On the budget C = 6ND
    the loss is convex in log N; its stationary point, the minimum, is
        N_opt = G (C/6)^{b_H/(a_H+b_H)},  D_opt = G^{-1} (C/6)^{a_H/(a_H+b_H)},
    G = (a_H A / (b_H B))^{1/(a_H+b_H)}. The constants are FITTED: approach 3's
    published values E = 1.69, A = 406.4, B = 410.7, a_H = 0.34, b_H = 0.28
    disagree with the paper's approaches 1 and 2, and Besiroglu et al. (2024)
    could not reproduce them (their refit: E = 1.8172, A = 482.01, B = 2085.43,
    a_H = 0.3478, b_H = 0.3658).

Run on its own: ``python derivations/chinchilla.py``.
"""

import math

import numpy as np
from sympy import Derivative, Eq, Symbol, exp

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
from llmsym.notation import Named, Notation, factors, held, terms, unfold

# --- Symbols -----------------------------------------------------------------
# Named like the keywords of the exported functions (llmsym calc passes A, B, alpha, beta).
LATEX = {"E": "E", "A": "A", "B": "B", "alpha": r"\alpha_{\mathrm{H}}",
         "beta": r"\beta_{\mathrm{H}}", "compute": "C", "params": r"N_{\mathrm{opt}}"}
E, A, B, alpha, beta = (Named(name, LATEX[name], positive=True)
                        for name in ("E", "A", "B", "alpha", "beta"))
C = Named("compute", LATEX["compute"], positive=True)  # the budget in FLOPs
N_opt = Named("params", LATEX["params"], positive=True)
N, D = Symbol("N", positive=True), Symbol("D", positive=True)  # parameters, tokens
x = Symbol("x", real=True)  # x = log N
D_opt = Symbol(r"D_{\mathrm{opt}}", positive=True)

# Hoffmann et al. 2022, approach 3, as published (rounded); and Besiroglu et al. 2024's refit
FIT = {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}
REFIT = {E: 1.8172, A: 482.01, B: 2085.43, alpha: 0.3478, beta: 0.3658}


class ratio(Notation):  # noqa: N801
    """``a / b`` printed as one fraction, as written."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return a / b

    def _latex(self, printer) -> str:
        return r"\frac{%s}{%s}" % tuple(printer._print(x) for x in self.args)


class Lhat(Notation):  # noqa: N801 - the paper's name
    """``Lhat(n, d)``: the fitted loss E + A/n^alpha + B/d^beta."""

    nargs = 2

    @classmethod
    def definition(cls, n, d):
        return E + A / n**alpha + B / d**beta

    def _latex(self, printer) -> str:
        return r"\hat{L}(%s, %s)" % tuple(printer._print(a) for a in self.args)


class G(Notation):  # noqa: N801 - the paper's name
    """The constant ``G = (alpha A / (beta B))^(1/(alpha + beta))``."""

    nargs = 4

    @classmethod
    def definition(cls, a, b, al, be):
        return (al * a / (be * b)) ** (1 / (al + be))

    def _latex(self, printer) -> str:
        return "G"


g = G(A, B, alpha, beta)
S = alpha + beta

# --- Definitions -------------------------------------------------------------------
LOSS = Definition("Chinchilla loss", Lhat(N, D),
                  terms(E, ratio(A, N**alpha), ratio(B, D**beta)),
                  "FITTED to training runs (Hoffmann et al. 2022, approach 3); not a law of "
                  "nature: other fits give other constants", on_sheet=True,
                  title="Chinchilla's parametric loss")
G_DEF = Definition("G", g, (factors(alpha, A) / factors(beta, B)) ** (1 / S))

# --- Premises ------------------------------------------------------------------
BUDGET = Assumption(Eq(D, C / (6 * N)), "the budget $C = 6ND$ (training-compute: "
                    "$6N_{\\mathrm{mat}}D$ plus attention, rounded)")
FIRST_ORDER = Hypothesis(Eq(N_opt ** S, alpha * A / (beta * B) * (C / 6) ** beta),
                         "$N_{\\mathrm{opt}}$ is where the derivative of the loss along the "
                         "budget vanishes (the minimum: the loss is convex in $\\log N$)")
OPT_BUDGET = Hypothesis(Eq(D_opt, C / (6 * N_opt)), "$D_{\\mathrm{opt}}$ spends the rest of "
                        "the budget: $C = 6N_{\\mathrm{opt}}D_{\\mathrm{opt}}$")


# --- Claims ------------------------------------------------------------------
first_order = Claim(
    "first_order",
    "Stationarity along the budget",
    start=Derivative(Lhat(N, ratio(C, 6 * N)), N),
    steps=(
        Step(-alpha * A * N ** (-alpha - 1) + beta * B * 6**beta * C ** (-beta) * N ** (beta - 1),
             "substitute $D = C/(6N)$ and differentiate", "unfold+doit+powsimp"),
        Step(N ** (-alpha - 1) * (beta * B * (6 / C) ** beta * N ** S - alpha * A),
             "factor $N^{-\\alpha_{\\mathrm{H}} - 1}$", "powsimp"),
    ),
    on_sheet=False,
    note="Zero exactly when $N^{\\alpha_{\\mathrm{H}}+\\beta_{\\mathrm{H}}} = "
    "\\frac{\\alpha_{\\mathrm{H}} A}{\\beta_{\\mathrm{H}} B}(C/6)^{\\beta_{\\mathrm{H}}}$.",
)

minimum = Claim(
    "minimum",
    "The stationary point is the minimum",
    start=Derivative(E + A * exp(-alpha * x) + B * 6**beta * C ** (-beta) * exp(beta * x), (x, 2)),
    steps=(
        Step(alpha**2 * A * exp(-alpha * x) + beta**2 * B * 6**beta * C ** (-beta) * exp(beta * x),
             "the loss along the budget in $x = \\log N$; differentiate twice", "doit+expand"),
        Step(0, "a sum of positive terms", "nonneg", rel=">="),
    ),
    on_sheet=False,
    note="Convex in $\\log N$, so its only stationary point is the global minimum.",
)

with held():  # lines kept as written, as their reasons say
    ROOT_OF_POWER = (N_opt ** S) ** (1 / S)
    SPLIT = (C / 6) ** (alpha / S) * (C / 6) ** (beta / S) / (g * (C / 6) ** (beta / S))

n_opt = Claim(
    "n_opt",
    "Compute-optimal parameters",
    given=(FIRST_ORDER,),
    start=N_opt,
    steps=(
        Step(ROOT_OF_POWER, "$N_{\\mathrm{opt}} > 0$", "powdenest"),
        Step((alpha * A / (beta * B) * (C / 6) ** beta) ** (1 / S),
             "the first-order condition", "powdenest", using=(FIRST_ORDER,)),
        Step(factors(g, (C / 6) ** (beta / S)), "split the power; definition of $G$",
             "unfold+powdenest"),
    ),
    where=(G_DEF,),
    note="Hoffmann et al. write $a = \\beta_{\\mathrm{H}}/(\\alpha_{\\mathrm{H}} + "
    "\\beta_{\\mathrm{H}})$: 0.45 with approach 3's FITTED exponents, 0.51 with Besiroglu et "
    "al.'s refit, about 0.5 by approaches 1 and 2.",
)

stationary = Claim(
    "stationary",
    "The root is stationary",
    start=(beta * B * (6 / C) ** beta * N ** S - alpha * A).subs(N, n_opt.end),
    steps=(Step(0, "$(G(C/6)^{\\beta_{\\mathrm{H}}/(\\alpha_{\\mathrm{H}}+\\beta_{\\mathrm{H}})})"
                   "^{\\alpha_{\\mathrm{H}}+\\beta_{\\mathrm{H}}} = \\frac{\\alpha_{\\mathrm{H}} A}"
                   "{\\beta_{\\mathrm{H}} B}(C/6)^{\\beta_{\\mathrm{H}}}$", "unfold+powdenest"),),
    on_sheet=False,
    note="The bracket of the derivative vanishes at $N_{\\mathrm{opt}}$: the first-order "
    "condition has this solution.",
)

d_opt = Claim(
    "d_opt",
    "Compute-optimal tokens",
    given=(OPT_BUDGET,),
    start=D_opt,
    steps=(
        Step(C / (6 * N_opt), "the rest of the budget", "cancel", using=(OPT_BUDGET,)),
        Step(C / (6 * g * (C / 6) ** (beta / S)), "$N_{\\mathrm{opt}}$", "cancel",
             using=(n_opt,)),
        Step(SPLIT, "$C/6 = (C/6)^{\\alpha_{\\mathrm{H}}/(\\alpha_{\\mathrm{H}}+"
             "\\beta_{\\mathrm{H}})}(C/6)^{\\beta_{\\mathrm{H}}/(\\alpha_{\\mathrm{H}}+"
             "\\beta_{\\mathrm{H}})}$", "powdenest"),
        Step((C / 6) ** (alpha / S) / g, "cancel", "cancel"),
    ),
    where=(G_DEF,),
    note="Approach 3's FITTED exponents give $D_{\\mathrm{opt}} \\propto C^{0.55}$; with them "
    "the Gopher budget gives 32B parameters and 3T tokens, which is NOT the 70B-parameter, "
    "1.4T-token Chinchilla (chosen by approaches 1 and 2; Besiroglu et al.'s refit agrees "
    "with it).",
)

tokens_per_param = Claim(
    "tokens_per_param",
    "Tokens per parameter at the optimum",
    start=ratio(d_opt.end, n_opt.end),
    steps=(Step((C / 6) ** ((alpha - beta) / S) / g**2, "divide the two powers",
                "unfold+powsimp"),),
    on_sheet=False,
    note="Constant in $C$ only if $\\alpha_{\\mathrm{H}} = \\beta_{\\mathrm{H}}$; the familiar "
    "\"20 tokens per parameter\" is approaches 1 and 2's ratio near $10^{23}$ FLOPs.",
)

tokens_for_params = Claim(
    "tokens_for_params",
    "The compute-optimal data for a given model size",
    given=(Hypothesis(Eq(C, 6 * (N_opt / g) ** (S / beta)), "$N_{\\mathrm{opt}} = G(C/6)^{"
                      "\\beta_{\\mathrm{H}}/(\\alpha_{\\mathrm{H}}+\\beta_{\\mathrm{H}})}$ solved "
                      "for $C$"),),
    start=d_opt.end,
    steps=(
        Step(((N_opt / g) ** (S / beta)) ** (alpha / S) / g,
             "the budget of a compute-optimal model of $N_{\\mathrm{opt}}$ parameters",
             "unfold+powsimp", using=(Eq(C, 6 * (N_opt / g) ** (S / beta)),)),
        Step((N_opt / g) ** (alpha / beta) / g, "multiply the exponents", "unfold+powdenest"),
    ),
    on_sheet=False,
)


# --- Numeric checks ----------------------------------------------------------


def _argmin(fn, lo: float, hi: float, steps: int = 90) -> float:
    """Golden-section search for the minimiser of a unimodal ``fn`` on [lo, hi]."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    for _ in range(steps):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if fn(c) < fn(d):
            b = d
        else:
            a = c
    return (a + b) / 2


def _fits(rng: np.random.Generator, count: int = 12) -> list[dict]:
    """The published fit, the refit, and random fits (a != b exponents)."""
    random_fits = [{E: 1.0, A: float(rng.uniform(50, 1000)), B: float(rng.uniform(50, 3000)),
                    alpha: float(rng.uniform(0.1, 0.6)), beta: float(rng.uniform(0.1, 0.6))}
                   for _ in range(count)]
    return [FIT, REFIT, *random_fits]


def _numeric_optimum(fit: dict, budget: float) -> tuple[float, float]:
    """(N, D) minimising the fitted loss along C = 6ND, found by search over log N."""
    a_, b_, al, be = fit[A], fit[B], fit[alpha], fit[beta]

    def loss(log_n: float) -> float:
        return a_ * math.exp(-al * log_n) + b_ * (6 * math.exp(log_n) / budget) ** be

    n = math.exp(_argmin(loss, 0.0, math.log(budget / 6)))
    return n, budget / (6 * n)


def _compare(rng, formula, pick) -> tuple[float, int]:
    worst, cases = 0.0, 0
    for fit in _fits(rng):
        for budget in 10.0 ** rng.uniform(15, 26, size=2):
            n, d = _numeric_optimum(fit, budget)
            kwargs = {"compute": budget, "A": fit[A], "B": fit[B], "alpha": fit[alpha],
                      "beta": fit[beta], "params": n}
            want = pick(n, d)
            got = float(formula(**{k: kwargs[k] for k in formula.params}))
            worst, cases = max(worst, abs(got / want - 1)), cases + 1
    return worst, cases


def check_n_opt(rng: np.random.Generator, formula) -> Measurement:
    worst, cases = _compare(rng, formula, lambda n, d: n)
    return Measurement(worst, cases, 1e-6, "golden-section minimiser of the loss along C = 6ND "
                       "vs N_opt: the published fit, the refit and 12 random fits")


def check_d_opt(rng: np.random.Generator, formula) -> Measurement:
    worst, cases = _compare(rng, formula, lambda n, d: d)
    return Measurement(worst, cases, 1e-6, "the numerical minimiser's D = C/(6N) vs D_opt")


def check_tokens_for_params(rng: np.random.Generator, formula) -> Measurement:
    worst, cases = _compare(rng, formula, lambda n, d: d)
    return Measurement(worst, cases, 1e-6, "D of the numerical optimum vs the formula at its N")


def _closed_form(expr, fit: dict, budget: float) -> float:
    return float(unfold(expr).xreplace({**fit, C: budget}))


def example_published():
    budget = 5.76e23  # the Gopher / Chinchilla training budget
    rows = []
    for label, fit in (("approach 3 as published", FIT), ("Besiroglu et al.'s refit", REFIT)):
        n = _closed_form(n_opt.end, fit, budget)
        d = _closed_form(d_opt.end, fit, budget)
        rows.append(rf"\text{{{label}: }} N_{{\mathrm{{opt}}}} \approx {n / 1e9:.0f}\cdot 10^9,"
                    rf"\ D_{{\mathrm{{opt}}}} \approx {d / 1e12:.1f}\cdot 10^{{12}}")
    return ("FITTED constants at the Gopher budget $C = 5.76 \\cdot 10^{23}$ FLOPs. The first "
            "line is what approach 3's published constants imply, not a Chinchilla-optimal "
            "model: those constants disagree with approaches 1-2 and could not be reproduced; "
            "the trained Chinchilla has 70B parameters and 1.4T tokens.",
            r";\quad ".join(rows))


# --- The derivation ------------------------------------------------------------
FIT_ARGS = (A, B, alpha, beta)

DERIVATION = Derivation(
    id="chinchilla",
    title="Chinchilla: compute-optimal parameters and tokens",
    topic="Scaling",
    order=90,
    gloss="Minimising the FITTED loss $E + A/N^{\\alpha_{\\mathrm{H}}} + "
    "B/D^{\\beta_{\\mathrm{H}}}$ on the budget $C = 6ND$ splits compute as "
    "$N \\propto C^{\\beta_{\\mathrm{H}}/(\\alpha_{\\mathrm{H}}+\\beta_{\\mathrm{H}})}$, "
    "$D \\propto C^{\\alpha_{\\mathrm{H}}/(\\alpha_{\\mathrm{H}}+\\beta_{\\mathrm{H}})}$; which "
    "split depends on the fit.",
    assumptions=(
        "The loss follows Hoffmann et al.'s parametric fit with positive constants; the "
        "constants are estimates, and the exponents are printed $\\alpha_{\\mathrm{H}}$, "
        "$\\beta_{\\mathrm{H}}$ because $\\alpha$ and $\\beta$ mean Adam's step size and the KL "
        "strength elsewhere on this sheet.",
        "Training compute is $C = 6ND$ with $N$ all parameters (training-compute: "
        "$6N_{\\mathrm{mat}}D$ plus the attention term, exactly).",
    ),
    definitions=(LOSS, G_DEF),
    claims=(first_order, minimum, n_opt, stationary, d_opt, tokens_per_param,
            tokens_for_params),
    results=(
        Result("chinchilla_params", unfold(n_opt.end), (C, *FIT_ARGS),
               "compute-optimal parameters for a budget of C FLOPs (pass a FITTED A, B, alpha, "
               "beta)", units="parameters", claim="n_opt"),
        Result("chinchilla_tokens", unfold(d_opt.end), (C, *FIT_ARGS),
               "compute-optimal training tokens for a budget of C FLOPs", units="tokens",
               claim="d_opt"),
        Result("chinchilla_tokens_for_params", unfold(tokens_for_params.end), (N_opt, *FIT_ARGS),
               "training tokens that make a model of N parameters compute-optimal",
               units="tokens", claim="tokens_for_params"),
    ),
    checks=(
        NumericCheck("n_opt", check_n_opt, "A golden-section search along $C = 6ND$ finds "
                     "$N_{\\mathrm{opt}}$ to 1e-6, for the published fit, the refit and 12 "
                     "random fits over $C = 10^{15..26}$.", claim="n_opt"),
        NumericCheck("d_opt", check_d_opt, "The same search's $D = C/(6N)$ equals "
                     "$D_{\\mathrm{opt}}$.", claim="d_opt"),
        NumericCheck("tokens_for_params", check_tokens_for_params, "At the searched optimum's "
                     "$N$, the formula gives its $D$.", claim="tokens_for_params"),
    ),
    notation={
        E: "irreducible loss (FITTED)", A: "scale of the parameter term (FITTED)",
        B: "scale of the data term (FITTED)",
        alpha: "exponent of the parameter term of Chinchilla's loss (FITTED)",
        beta: "exponent of the data term of Chinchilla's loss (FITTED)",
        N_opt: "compute-optimal parameters for a budget $C$",
        D_opt: "compute-optimal training tokens for a budget $C$",
    },
    sources=(
        "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models (arXiv "
        "2203.15556), section 3.3 and appendix D.2: approach 3, $E = 1.69$, $A = 406.4$, "
        "$B = 410.7$, $\\alpha = 0.34$, $\\beta = 0.28$; eq. (4) for $G$, $a$, $b$.",
        "Besiroglu, Erdil, Barnett and You 2024, Chinchilla Scaling: A replication attempt "
        "(arXiv 2404.10102), table 1: $E = 1.8172$, $A = 482.01$, $B = 2085.43$, "
        "$\\alpha = 0.3478$, $\\beta = 0.3658$.",
    ),
    examples=(example_published,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
