"""Chinchilla: the compute-optimal split of a training budget between parameters and tokens.

Statement
    Minimise the fitted loss L(N, D) = E + A / N^alpha + B / D^beta subject to
    the budget C = 6 N D. With G = (alpha A / (beta B))^{1/(alpha + beta)},
        N_opt = G (C/6)^{beta/(alpha+beta)},   D_opt = G^{-1} (C/6)^{alpha/(alpha+beta)},
    and the stationary point is the minimum: in x = log N the loss is convex.
    Evaluated with Hoffmann et al.'s approach-3 fit E = 1.69, A = 406.4,
    B = 410.7, alpha = 0.34, beta = 0.28.

Run on its own: ``python derivations/chinchilla.py``.
"""

import math

import numpy as np
from sympy import Derivative, Eq, Symbol, exp, symbols

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Named, Notation, unfold

# --- Symbols -----------------------------------------------------------------
LATEX = {"params": r"N_{\mathrm{opt}}", "compute": "C"}


E, A, B, alpha, beta = symbols("E A B alpha beta", positive=True)  # the fitted loss
C = Named("compute", LATEX["compute"], positive=True)  # the budget in FLOPs
N, x = Symbol("N", positive=True), Symbol("x", real=True)  # parameters, x = log N
N_opt, D_opt = (
    Named("params", LATEX["params"], positive=True),
    Symbol(r"D_{\mathrm{opt}}", positive=True),
)

FIT = {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}  # Hoffmann et al. 2022, approach 3


class G(Notation):  # noqa: N801 - the paper's name
    """The constant ``G = (alpha A / (beta B))^(1/(alpha + beta))``."""

    nargs = 4

    @classmethod
    def definition(cls, a, b, al, be):
        return (al * a / (be * b)) ** (1 / (al + be))

    def _latex(self, printer) -> str:
        return "G"


g = G(A, B, alpha, beta)


def loss_on_budget(n):
    """L(n, C / (6 n)): the loss along the budget constraint."""
    return E + A / n**alpha + B / (C / (6 * n)) ** beta


# --- Claims ------------------------------------------------------------------
first_order = Claim(
    "first_order",
    "Stationarity along the budget",
    start=Derivative(loss_on_budget(N), N),
    steps=(
        Step(
            -alpha * A * N ** (-alpha - 1) + beta * B * 6**beta * C ** (-beta) * N ** (beta - 1),
            "substitute $D = C/(6N)$ and differentiate",
            "doit+powsimp",
        ),
        Step(
            N ** (-alpha - 1) * (beta * B * (6 / C) ** beta * N ** (alpha + beta) - alpha * A),
            "factor $N^{-\\alpha - 1}$",
            "powsimp",
        ),
    ),
    on_sheet=False,
    note="Zero exactly when $N^{\\alpha+\\beta} = \\frac{\\alpha A}{\\beta B}(C/6)^\\beta$.",
)

root = (alpha * A / (beta * B) * (C / 6) ** beta) ** (1 / (alpha + beta))

n_opt = Claim(
    "n_opt",
    "Compute-optimal parameters",
    start=N_opt,
    steps=(
        Step(root, "the positive root of the first-order condition", "definition"),
        Step(
            g * (C / 6) ** (beta / (alpha + beta)),
            "split the power; definition of $G$",
            "unfold+powdenest",
        ),
    ),
)

stationary = Claim(
    "stationary",
    "The root is stationary",
    start=(beta * B * (6 / C) ** beta * N ** (alpha + beta) - alpha * A).subs(N, n_opt.end),
    steps=(
        Step(
            0,
            "$(G(C/6)^{\\beta/(\\alpha+\\beta)})^{\\alpha+\\beta} = "
            "\\frac{\\alpha A}{\\beta B}(C/6)^\\beta$",
            "unfold+powdenest",
        ),
    ),
    on_sheet=False,
    note="The bracket of the derivative vanishes at $N_{\\mathrm{opt}}$.",
)

d_opt = Claim(
    "d_opt",
    "Compute-optimal tokens",
    start=D_opt,
    steps=(
        Step(C / (6 * N_opt), "the budget $C = 6ND$ at $N_{\\mathrm{opt}}$", "definition"),
        Step(
            C / (6 * g * (C / 6) ** (beta / (alpha + beta))),
            "$N_{\\mathrm{opt}}$ above",
            "expand",
            using=(Eq(N_opt, n_opt.end),),
        ),
        Step(
            (C / 6) ** (alpha / (alpha + beta)) / g,
            "$1 - \\beta/(\\alpha+\\beta) = \\alpha/(\\alpha+\\beta)$",
            "unfold+simplify",
        ),
    ),
    note="So $N_{\\mathrm{opt}} \\propto C^{0.45}$ and $D_{\\mathrm{opt}} \\propto C^{0.55}$ "
    "with the approach-3 exponents.",
)

minimum = Claim(
    "minimum",
    "The stationary point is the minimum",
    start=Derivative(E + A * exp(-alpha * x) + B * 6**beta * C ** (-beta) * exp(beta * x), (x, 2)),
    steps=(
        Step(
            alpha**2 * A * exp(-alpha * x) + beta**2 * B * 6**beta * C ** (-beta) * exp(beta * x),
            "the loss along the budget in $x = \\log N$; differentiate twice",
            "doit",
        ),
        Step(0, "a sum of positive terms", "nonneg", rel=">="),
    ),
    on_sheet=False,
    note="Convex in $\\log N$, so its only stationary point is the global minimum.",
)

tokens_for_params = Claim(
    "tokens_for_params",
    "The compute-optimal data for a given model size",
    start=d_opt.end,
    steps=(
        Step(
            ((N_opt / g) ** ((alpha + beta) / beta)) ** (alpha / (alpha + beta)) / g,
            "invert $N_{\\mathrm{opt}}$: $C/6 = (N/G)^{(\\alpha+\\beta)/\\beta}$",
            "unfold+powdenest",
            using=(Eq(C, 6 * (N_opt / g) ** ((alpha + beta) / beta)),),
        ),
        Step((N_opt / g) ** (alpha / beta) / g, "multiply the exponents", "unfold+powdenest"),
    ),
    on_sheet=False,
)


# --- Numeric checks ----------------------------------------------------------


def _argmin_log(fn, lo: float, hi: float, steps: int = 200) -> float:
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


def check_minimiser(rng: np.random.Generator) -> Measurement:
    """Minimise L(N, C/(6N)) numerically over log N and compare with N_opt and D_opt."""
    n_formula = _lambda(n_opt.end)
    d_formula = _lambda(d_opt.end)
    worst, cases = 0.0, 0
    fits = [FIT] + [
        {
            E: 1.0,
            A: float(rng.uniform(50, 1000)),
            B: float(rng.uniform(50, 1000)),
            alpha: float(rng.uniform(0.1, 0.6)),
            beta: float(rng.uniform(0.1, 0.6)),
        }
        for _ in range(20)
    ]
    for fit in fits:
        for budget in 10.0 ** rng.uniform(15, 26, size=3):
            a_, b_, al, be = fit[A], fit[B], fit[alpha], fit[beta]

            def loss(log_n, a_=a_, b_=b_, al=al, be=be, budget=budget):
                return a_ * math.exp(-al * log_n) + b_ * (6 * math.exp(log_n) / budget) ** be

            n_num = math.exp(_argmin_log(loss, 0.0, math.log(budget / 6)))
            n_cf, d_cf = n_formula(budget, fit), d_formula(budget, fit)
            worst = max(worst, abs(n_num / n_cf - 1), abs(budget / (6 * n_num) / d_cf - 1))
            cases += 1
    return Measurement(
        worst,
        cases,
        1e-6,
        "golden-section minimiser of the loss along C = 6ND vs N_opt and D_opt, "
        "the published fit and 20 random fits",
    )


def _lambda(expr):
    """A float function of (C, fit) for a closed form, for the numeric check only."""
    import sympy as sp

    fn = sp.lambdify((C, A, B, alpha, beta), unfold(expr), "math")
    return lambda budget, fit: fn(budget, fit[A], fit[B], fit[alpha], fit[beta])


def example_published():
    budget = 5.76e23  # the Gopher / Chinchilla training budget
    n = _lambda(n_opt.end)(budget, FIT)
    d = _lambda(d_opt.end)(budget, FIT)
    return (
        "Approach-3 fit at $C = 5.76 \\cdot 10^{23}$ FLOPs",
        rf"N_{{\mathrm{{opt}}}} \approx {n / 1e9:.1f}\cdot 10^9,\quad "
        rf"D_{{\mathrm{{opt}}}} \approx {d / 1e9:.0f}\cdot 10^9",
    )


# --- The derivation ------------------------------------------------------------
FIT_ARGS = (A, B, alpha, beta)

DERIVATION = Derivation(
    id="chinchilla",
    title="Chinchilla: compute-optimal parameters and tokens",
    topic="Scaling",
    order=90,
    gloss="Minimising $E + A/N^\\alpha + B/D^\\beta$ on the budget $C = 6ND$ splits compute "
    "as $N \\propto C^{\\beta/(\\alpha+\\beta)}$, $D \\propto C^{\\alpha/(\\alpha+\\beta)}$.",
    assumptions=(
        "The loss follows Hoffmann et al.'s parametric fit "
        "$L(N, D) = E + A/N^\\alpha + B/D^\\beta$ "
        "with positive constants.",
        "Training compute is $C = 6ND$ (training-compute, attention term neglected).",
    ),
    definitions=(Definition("G", g, G.definition(A, B, alpha, beta)),),
    claims=(first_order, n_opt, stationary, d_opt, minimum, tokens_for_params),
    results=(
        Result(
            "chinchilla_params",
            unfold(n_opt.end),
            (C, *FIT_ARGS),
            "compute-optimal parameters for a budget of C FLOPs",
            units="parameters",
            claim="stationary",
        ),
        Result(
            "chinchilla_tokens",
            unfold(d_opt.end),
            (C, *FIT_ARGS),
            "compute-optimal training tokens for a budget of C FLOPs",
            units="tokens",
            claim="d_opt",
        ),
        Result(
            "chinchilla_tokens_for_params",
            unfold(tokens_for_params.end),
            (N_opt, *FIT_ARGS),
            "training tokens that make a model of N parameters compute-optimal",
            units="tokens",
            claim="tokens_for_params",
        ),
    ),
    checks=(
        NumericCheck(
            "minimiser",
            check_minimiser,
            "A golden-section search along $C = 6ND$ finds the closed-form optimum to "
            "1e-6 (the minimum is flat), for the published fit and 20 random fits "
            "over $C = 10^{15..26}$.",
        ),
    ),
    notation={
        alpha: "exponent of the parameter term",
        beta: "exponent of the data term",
        C: "training compute in FLOPs",
        N_opt: "compute-optimal parameters",
    },
    sources=(
        "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models (arXiv "
        "2203.15556), section 3.3 and appendix D.2: approach 3, $E = 1.69$, $A = 406.4$, "
        "$B = 410.7$, $\\alpha = 0.34$, $\\beta = 0.28$.",
    ),
    examples=(example_published,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
