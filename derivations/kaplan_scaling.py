"""Kaplan et al.'s scaling laws: L(N), L(D), L(N, D), and the compute-efficient model size.

Statement
    Kaplan et al. (2020) fit the test loss of a model of N_ne non-embedding
    parameters trained on D tokens as
        L(N_ne, D) = [(N_c / N_ne)^{a_N / a_D} + D_c / D]^{a_D},
    built so that with unlimited data it is L(N) = (N_c / N_ne)^{a_N} and with an
    unlimited model L(D) = (D_c / D)^{a_D} (both limits are proved). The
    overfitting penalty L(N_ne, D) / L(N) = [1 + (N_ne / N_c)^{a_N / a_D} D_c / D]^{a_D}
    depends on N_ne^{a_N / a_D} / D only. With the loss after S steps
    L = (N_c / N_ne)^{a_N} + (S_c / S)^{a_S}, the cheapest way to reach a loss
    (least N_ne S) puts (S_c / S)^{a_S} = (a_N / a_S)(N_c / N_ne)^{a_N}; with the fitted
    L(C_min) = (C_c / C_min)^{a_C} this gives the compute-efficient size
        N_ne = N_c (1 + a_N / a_S)^{1/a_N} (C_min / C_c)^{a_C / a_N}:  N_ne ~ C_min^{a_C/a_N}.
    Every constant is FITTED (Kaplan et al. 2020, section 1.2 and table 2).

Run on its own: ``python derivations/kaplan_scaling.py``.
"""

import math

import numpy as np
from sympy import Derivative, Eq, Limit, Lt, Symbol, log, oo

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
from llmsym.notation import Named, Notation, factors, held, terms, unfold

# --- Symbols -----------------------------------------------------------------
LATEX = {"nonembedding_params": r"N_{\mathrm{ne}}", "train_tokens": "D", "N_c": "N_{c}",
         "D_c": "D_{c}", "alpha_N": r"\alpha_{N}", "alpha_D": r"\alpha_{D}",
         "alpha_S": r"\alpha_{S}", "S_c": "S_{c}", "alpha_C": r"\alpha_{C}", "C_c": "C_{c}",
         "compute_min": r"C_{\min}", "steps": "S"}
N = Named("nonembedding_params", LATEX["nonembedding_params"], integer=True, positive=True)
D = Named("train_tokens", LATEX["train_tokens"], integer=True, positive=True)
N_c, D_c, alpha_N, alpha_D, alpha_S, S_c, alpha_C, C_c, C_min, S = (
    Named(name, LATEX[name], positive=True) for name in (
        "N_c", "D_c", "alpha_N", "alpha_D", "alpha_S", "S_c", "alpha_C", "C_c", "compute_min",
        "steps"))
ell = Symbol(r"\mathcal{L}_{0}", positive=True)  # a loss level
v = Symbol("v", positive=True)  # the step term (S_c/S)^alpha_S of the loss

# Kaplan et al. 2020: eqs. (1.1)-(1.3), (1.6) and table 2 (the L(N, D) fit); S in steps,
# C in PF-days. Every one of these is an estimate from their training runs.
FIT_N = {N_c: 8.8e13, alpha_N: 0.076}
FIT_D = {D_c: 5.4e13, alpha_D: 0.095}
FIT_ND = {N_c: 6.4e13, D_c: 1.8e13, alpha_N: 0.076, alpha_D: 0.103}
FIT_S = {S_c: 2.1e3, alpha_S: 0.76}
FIT_C = {C_c: 3.1e8, alpha_C: 0.050}


class ratio(Notation):  # noqa: N801
    """``a / b`` printed as one fraction, as written."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return a / b

    def _latex(self, printer) -> str:
        return r"\frac{%s}{%s}" % tuple(printer._print(x) for x in self.args)


class lim_inf(Notation):  # noqa: N801
    """``lim_inf(expr, x)``: the limit of ``expr`` as ``x`` grows without bound (``x`` bound)."""

    nargs = 2
    bound = (1,)

    @classmethod
    def definition(cls, expr, var):
        return Limit(expr, var, oo)

    def doit(self, **hints):
        return Limit(unfold(self.args[0]), self.args[1], oo).doit()

    def _latex(self, printer) -> str:
        return r"\lim_{%s \to \infty} %s" % (printer._print(self.args[1]),
                                              printer._print(self.args[0]))


class KaplanLoss(Notation):  # noqa: N801
    """``KaplanLoss(n, d)``: the fitted loss [(N_c/n)^(aN/aD) + D_c/d]^aD."""

    nargs = 2

    @classmethod
    def definition(cls, n, d):
        return ((N_c / n) ** (alpha_N / alpha_D) + D_c / d) ** alpha_D

    def _latex(self, printer) -> str:
        return r"\mathcal{L}(%s, %s)" % tuple(printer._print(a) for a in self.args)


# --- Definitions -------------------------------------------------------------------
LAW = Definition("Kaplan loss", KaplanLoss(N, D),
                 terms(ratio(N_c, N) ** (alpha_N / alpha_D), ratio(D_c, D)) ** alpha_D,
                 "FITTED (Kaplan et al. 2020, eq. 1.5); with unlimited data it is "
                 "$(N_c/N_{\\mathrm{ne}})^{\\alpha_N}$, with an unlimited model "
                 "$(D_c/D)^{\\alpha_D}$", on_sheet=True, title="Kaplan's scaling law")

# --- Premises ------------------------------------------------------------------
U = ratio(N_c, N) ** alpha_N  # the parameter term of the loss
ONE_PLUS = terms(1, ratio(alpha_N, alpha_S))
LOSS_NS = Hypothesis(Eq(ell, terms(U, ratio(S_c, S) ** alpha_S)),
                     "the loss $\\mathcal{L}_0$ after $S$ steps of a model of $N_{\\mathrm{ne}}$ "
                     "parameters (FITTED, Kaplan et al. eq. 1.6)")
INSIDE = Hypothesis(Lt(v, ell), "the step term is part of the loss: $0 < v < \\mathcal{L}_0$")
SPLIT = Hypothesis(Eq(ratio(S_c, S) ** alpha_S, factors(ratio(alpha_N, alpha_S), U)),
                   "the cheapest split of the loss $\\mathcal{L}_0$ (least "
                   "$N_{\\mathrm{ne}}S$, claim split)")
LOSS_C = Hypothesis(Eq(ell, ratio(C_c, C_min) ** alpha_C),
                    "the loss reached with compute $C_{\\min}$ spent efficiently (FITTED, "
                    "Kaplan et al. eq. 1.3)")

# --- Claims ------------------------------------------------------------------
data_limit = Claim(
    "data_limit",
    "With unlimited data: $L(N) = (N_c/N_{\\mathrm{ne}})^{\\alpha_N}$",
    start=lim_inf(KaplanLoss(N, D), D),
    steps=(Step(U, "$D_c/D \\to 0$; the bracket is continuous", "unfold+doit"),),
    note="Kaplan et al.'s $L(N)$ (eq. 1.1); FITTED $N_c \\approx 8.8 \\cdot 10^{13}$, "
    "$\\alpha_N \\approx 0.076$ ($N_{\\mathrm{ne}}$ counts the layers' weight matrices).",
    on_sheet=False,
)

model_limit = Claim(
    "model_limit",
    "With an unlimited model: $L(D) = (D_c/D)^{\\alpha_D}$",
    start=lim_inf(KaplanLoss(N, D), N),
    steps=(Step(ratio(D_c, D) ** alpha_D, "$(N_c/N_{\\mathrm{ne}})^{\\alpha_N/\\alpha_D} \\to 0$",
                "unfold+doit"),),
    on_sheet=False,
    note="Kaplan et al.'s $L(D)$ (eq. 1.2), early-stopped; FITTED $D_c \\approx 5.4 \\cdot "
    "10^{13}$ tokens, $\\alpha_D \\approx 0.095$.",
)

overfit = Claim(
    "overfit",
    "The overfitting penalty depends on $N_{\\mathrm{ne}}^{\\alpha_N/\\alpha_D}/D$ only",
    start=ratio(KaplanLoss(N, D), U),
    steps=(
        Step(terms(1, factors(ratio(N, N_c) ** (alpha_N / alpha_D), ratio(D_c, D))) ** alpha_D,
             "divide the bracket by $(N_c/N_{\\mathrm{ne}})^{\\alpha_N/\\alpha_D}$",
             "unfold+powsimp"),
    ),
    note="So a fixed penalty needs $D \\propto N_{\\mathrm{ne}}^{\\alpha_N/\\alpha_D}$: "
    "$N_{\\mathrm{ne}}^{0.74}$ with the $L(N, D)$ fit ($\\alpha_N = 0.076$, $\\alpha_D = 0.103$, "
    "FITTED).", on_sheet=False,
)

cost_of_split = Derivative(-log(ell - v) / alpha_N - log(v) / alpha_S, v)
split = Claim(
    "split",
    "The cheapest way to a given loss",
    start=cost_of_split.subs(v, ell * alpha_N / (alpha_N + alpha_S)),
    steps=(Step(0, "differentiate; at $v = \\mathcal{L}_0\\alpha_N/(\\alpha_N + \\alpha_S)$ both "
                "terms are $(\\alpha_N + \\alpha_S)/(\\alpha_N\\alpha_S\\mathcal{L}_0)$",
                "doit+cancel"),),
    on_sheet=False,
    note="With $v = (S_c/S)^{\\alpha_S}$ and "
    "$\\mathcal{L}_0 - v = (N_c/N_{\\mathrm{ne}})^{\\alpha_N}$, "
    "$\\log(N_{\\mathrm{ne}}S)$ is this function of $v$ plus a constant: stationary at "
    "$v = (\\alpha_N/\\alpha_S)(\\mathcal{L}_0 - v)$.",
)

convex = Claim(
    "convex",
    "and that split is the minimum",
    start=Derivative(-log(ell - v) / alpha_N - log(v) / alpha_S, (v, 2)),
    steps=(
        Step(1 / (alpha_N * (ell - v) ** 2) + 1 / (alpha_S * v**2), "differentiate twice",
             "doit"),
        Step(0, "a sum of positive terms", "nonneg", rel=">=", using=(INSIDE,)),
    ),
    on_sheet=False,
    note="On $0 < v < \\mathcal{L}_0$, where both terms of the loss are positive.",
)

frontier = Claim(
    "frontier",
    "On the compute-efficient frontier",
    given=(LOSS_NS, SPLIT),
    start=U,
    steps=(
        Step(ratio(terms(U, factors(ratio(alpha_N, alpha_S), U)), ONE_PLUS),
             "multiply and divide by $1 + \\alpha_N/\\alpha_S$", "unfold+cancel"),
        Step(ratio(terms(U, ratio(S_c, S) ** alpha_S), ONE_PLUS),
             "the cheapest split", "unfold+cancel", using=(SPLIT,)),
        Step(ratio(ell, ONE_PLUS), "the loss after $S$ steps",
             "unfold+cancel", using=(LOSS_NS,)),
    ),
    on_sheet=False,
    note="The loss is $1 + \\alpha_N/\\alpha_S \\approx 1.1$ times that of the converged "
    "model of the same size (Kaplan et al. eq. 6.5).",
)

with held():  # the alpha_N-th power and its root, as the reason says
    ROOT = N_c * U ** (-1 / alpha_N)

allocation = Claim(
    "allocation",
    "The compute-efficient model size: $N_{\\mathrm{ne}} \\propto C_{\\min}^{\\alpha_C/\\alpha_N}$",
    given=(LOSS_C,),
    start=N,
    steps=(
        Step(ROOT, "$N_{\\mathrm{ne}} = N_c ((N_c/N_{\\mathrm{ne}})^{\\alpha_N})^{-1/\\alpha_N}$",
             "unfold+powdenest"),
        Step(N_c * ratio(ell, ONE_PLUS) ** (-1 / alpha_N),
             "on the frontier", "unfold+powdenest", using=(frontier,)),
        Step(N_c * ratio(ratio(C_c, C_min) ** alpha_C, ONE_PLUS)
             ** (-1 / alpha_N), "the loss that compute $C_{\\min}$ reaches", "unfold+powdenest",
             using=(LOSS_C,)),
        Step(factors(N_c, ONE_PLUS ** (1 / alpha_N),
                     ratio(C_min, C_c) ** (alpha_C / alpha_N)),
             "split the power", "unfold+powdenest"),
    ),
    note="FITTED $\\alpha_C \\approx 0.050$, $\\alpha_N \\approx 0.076$: "
    "$N_{\\mathrm{ne}} \\propto C_{\\min}^{0.66}$; Kaplan et al. quote 0.73 from a direct fit "
    "of their frontier. Hoffmann et al. (Chinchilla) later found about 0.5.", on_sheet=False,
)


# --- Numeric checks ----------------------------------------------------------


def _law(n, d, fit):
    """Kaplan's L(N, D) in 50-digit arithmetic, from the fitted constants."""
    import mpmath

    with mpmath.workdps(50):
        a_n, a_d = mpmath.mpf(fit[alpha_N]), mpmath.mpf(fit[alpha_D])
        return (mpmath.power(mpmath.mpf(fit[N_c]) / n, a_n / a_d)
                + mpmath.mpf(fit[D_c]) / d) ** a_d


def _fits(rng: np.random.Generator, count: int = 8) -> list[dict]:
    """The published L(N, D) fit and random ones."""
    extra = [{N_c: float(10 ** rng.uniform(10, 15)), D_c: float(10 ** rng.uniform(10, 15)),
              alpha_N: float(rng.uniform(0.03, 0.4)), alpha_D: float(rng.uniform(0.03, 0.4))}
             for _ in range(count)]
    return [FIT_ND, *extra]


def _kwargs(fit: dict, **more) -> dict:
    return {str(k): float(val) for k, val in fit.items()} | more


def _call(formula, values: dict) -> float:
    return float(formula(**{k: values[k] for k in formula.params}))


def check_data_limit(rng: np.random.Generator, formula) -> Measurement:
    """The law at D = 10^60 D_c (50 digits) against the formula."""
    worst, cases = 0.0, 0
    for fit in _fits(rng):
        for n in 10.0 ** rng.uniform(6, 12, size=3):
            at_limit = float(_law(int(n), 1e60 * fit[D_c], fit))
            got = _call(formula, _kwargs(fit, nonembedding_params=int(n)))
            worst, cases = max(worst, abs(got / at_limit - 1)), cases + 1
    return Measurement(worst, cases, 1e-12, "the law at D = 1e60 D_c in 50-digit mpmath vs "
                       "(N_c/N)^alpha_N, the published fit and random fits")


def check_model_limit(rng: np.random.Generator, formula) -> Measurement:
    worst, cases = 0.0, 0
    for fit in _fits(rng):
        for d in 10.0 ** rng.uniform(6, 12, size=3):
            # (N_c/N)^(a_N/a_D) = 1e-40: far beyond any size, far below D_c/D
            huge = int(fit[N_c]) * 10 ** math.ceil(40 * fit[alpha_D] / fit[alpha_N])
            at_limit = float(_law(huge, int(d), fit))
            got = _call(formula, _kwargs(fit, train_tokens=int(d)))
            worst, cases = max(worst, abs(got / at_limit - 1)), cases + 1
    return Measurement(worst, cases, 1e-12, "the law where (N_c/N)^(alpha_N/alpha_D) = 1e-40, "
                       "in 50-digit mpmath, vs (D_c/D)^alpha_D")


def check_overfit(rng: np.random.Generator, formula) -> Measurement:
    """L(N, D) / L(N) computed from the law in 50 digits against the formula."""
    import mpmath

    worst, cases = 0.0, 0
    for fit in _fits(rng):
        for n, d in zip(10.0 ** rng.uniform(6, 12, size=3), 10.0 ** rng.uniform(6, 14, size=3),
                        strict=True):
            with mpmath.workdps(50):
                want = _law(int(n), int(d), fit) / mpmath.power(
                    mpmath.mpf(fit[N_c]) / int(n), mpmath.mpf(fit[alpha_N]))
            got = _call(formula, _kwargs(fit, nonembedding_params=int(n), train_tokens=int(d)))
            worst, cases = max(worst, abs(got / float(want) - 1)), cases + 1
    return Measurement(worst, cases, 1e-12, "L(N, D)/L(N) from the law in mpmath vs the formula")


def _golden(fn, lo: float, hi: float, steps: int = 90) -> float:
    ratio_ = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    for _ in range(steps):
        c, d = b - ratio_ * (b - a), a + ratio_ * (b - a)
        if fn(c) < fn(d):
            b = d
        else:
            a = c
    return (a + b) / 2


def check_frontier(rng: np.random.Generator, formula) -> Measurement:
    """Search the cheapest (N, S) reaching a loss: N S least on L(N, S) = l."""
    worst, cases = 0.0, 0
    for _ in range(12):
        fit = {N_c: float(10 ** rng.uniform(10, 15)), S_c: float(10 ** rng.uniform(2, 4)),
               alpha_N: float(rng.uniform(0.03, 0.4)), alpha_S: float(rng.uniform(0.2, 1.0))}
        loss = float(rng.uniform(1.5, 4.0))

        def log_cost(w, fit=fit, loss=loss):  # log(N S) with the step term w = (S_c/S)^a_S
            n = fit[N_c] * (loss - w) ** (-1 / fit[alpha_N])
            s = fit[S_c] * w ** (-1 / fit[alpha_S])
            return math.log(n) + math.log(s)

        w = _golden(log_cost, 1e-12 * loss, loss * (1 - 1e-12))
        parameter_term = loss - w  # (N_c/N)^a_N at the cheapest point
        got = _call(formula, _kwargs(fit) | {str(ell): loss})
        worst, cases = max(worst, abs(got / parameter_term - 1)), cases + 1
    return Measurement(worst, cases, 1e-6, "golden-section search for the least N S on a level "
                       "set of L(N, S) vs the frontier's parameter term")


def check_allocation(rng: np.random.Generator, formula) -> Measurement:
    """Solve frontier loss = L(C_min) for N by bisection in log N; compare with the formula."""
    worst, cases = 0.0, 0
    fits = [{**FIT_N, **FIT_S, **FIT_C}] + [
        {N_c: float(10 ** rng.uniform(10, 15)), alpha_N: float(rng.uniform(0.03, 0.3)),
         alpha_S: float(rng.uniform(0.2, 1.0)), C_c: float(10 ** rng.uniform(5, 10)),
         alpha_C: float(rng.uniform(0.02, 0.2))} for _ in range(8)]
    for fit in fits:
        for budget in 10.0 ** rng.uniform(-8, 2, size=2):
            target = (fit[C_c] / budget) ** fit[alpha_C]

            def gap(log_n, fit=fit, target=target):
                return (1 + fit[alpha_N] / fit[alpha_S]) * math.exp(
                    fit[alpha_N] * (math.log(fit[N_c]) - log_n)) - target

            lo, hi = -200.0, 400.0  # the frontier loss falls as N grows: bisect its root
            for _ in range(200):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
            want = math.exp((lo + hi) / 2)
            got = _call(formula, _kwargs(fit, compute_min=budget))
            worst, cases = max(worst, abs(got / want - 1)), cases + 1
    return Measurement(worst, cases, 1e-9, "bisection for the N whose frontier loss equals "
                       "L(C_min) vs the formula: Kaplan's fits and random ones")


def example_kaplan():
    exponent = FIT_C[alpha_C] / FIT_N[alpha_N]
    overfit_exp = FIT_ND[alpha_N] / FIT_ND[alpha_D]
    return ("Kaplan et al.'s FITTED exponents: what the proved relations give",
            rf"N_{{\mathrm{{ne}}}} \propto C_{{\min}}^{{{exponent:.2f}}}\ "
            rf"(\alpha_C/\alpha_N = 0.050/0.076),\quad D \propto N_{{\mathrm{{ne}}}}^"
            rf"{{{overfit_exp:.2f}}}\ \text{{for a fixed overfitting penalty}}")


# --- The derivation ------------------------------------------------------------
CONSTANTS = (N_c, D_c, alpha_N, alpha_D)

DERIVATION = Derivation(
    id="kaplan-scaling",
    title="Kaplan's scaling laws and the compute-efficient model size",
    topic="Scaling",
    order=91,
    gloss="Power laws in non-embedding parameters, data and compute; their FITTED constants "
    "are estimates, what follows from the laws is proved: the limits, the overfitting "
    "penalty, and $N_{\\mathrm{ne}} \\propto C_{\\min}^{\\alpha_C/\\alpha_N}$.",
    assumptions=(
        "The loss follows Kaplan et al.'s fitted power laws (eqs. 1.1-1.6) with positive "
        "constants; $N_{\\mathrm{ne}}$ counts non-embedding parameters, $D$ tokens, $S$ "
        "optimiser steps at a large batch, $C_{\\min}$ compute spent efficiently.",
        "The compute-efficient frontier reaches each loss at the least $N_{\\mathrm{ne}}S$: at "
        "a fixed loss the critical batch is fixed (Kaplan et al. eq. 1.4), so compute is "
        "proportional to $N_{\\mathrm{ne}}S$.",
    ),
    definitions=(LAW,),
    claims=(data_limit, model_limit, overfit, split, convex, frontier, allocation),
    results=(
        Result("kaplan_loss", unfold(LAW.rhs), (N, D, *CONSTANTS),
               "Kaplan et al.'s L(N, D) (pass FITTED N_c, D_c, alpha_N, alpha_D)",
               units="nats per token", claim="overfit"),
        Result("kaplan_params_for_compute", unfold(allocation.end),
               (C_min, N_c, alpha_N, alpha_S, C_c, alpha_C),
               "compute-efficient non-embedding parameters for compute C_min (PF-days with "
               "Kaplan's C_c)", units="parameters", claim="allocation"),
    ),
    checks=(
        NumericCheck("data_limit", check_data_limit, "The law at $D = 10^{60}D_c$ in 50-digit "
                     "mpmath equals $(N_c/N_{\\mathrm{ne}})^{\\alpha_N}$.", claim="data_limit"),
        NumericCheck("model_limit", check_model_limit, "The law where $(N_c/N_{\\mathrm{ne}})^"
                     "{\\alpha_N/\\alpha_D} = 10^{-40}$ equals $(D_c/D)^{\\alpha_D}$.",
                     claim="model_limit"),
        NumericCheck("overfit", check_overfit, "$\\mathcal{L}(N_{\\mathrm{ne}}, D)/L(N)$ from "
                     "the law in mpmath equals the penalty formula.", claim="overfit"),
        NumericCheck("frontier", check_frontier, "A golden-section search for the least "
                     "$N_{\\mathrm{ne}}S$ on a level set of the loss lands on the frontier.",
                     claim="frontier"),
        NumericCheck("allocation", check_allocation, "Bisection for the model size whose "
                     "frontier loss equals $L(C_{\\min})$ agrees with the formula.",
                     claim="allocation"),
    ),
    notation={
        N_c: "parameter scale of Kaplan's laws (FITTED)",
        D_c: "token scale of Kaplan's laws (FITTED)",
        alpha_N: "Kaplan's parameter exponent (FITTED)",
        alpha_D: "Kaplan's data exponent (FITTED)",
        alpha_S: "Kaplan's step exponent (FITTED)", S_c: "step scale (FITTED)",
        alpha_C: "Kaplan's compute exponent (FITTED)", C_c: "compute scale (FITTED)",
        C_min: "training compute spent efficiently (at a batch well below the critical one)",
        S: "optimiser steps", ell: "a loss level", v: "the step term of the loss",
    },
    sources=(
        "Kaplan et al. 2020, Scaling Laws for Neural Language Models (arXiv 2001.08361): "
        "eqs. (1.1)-(1.3) $\\alpha_N \\approx 0.076$, $N_c \\approx 8.8 \\cdot 10^{13}$, "
        "$\\alpha_D \\approx 0.095$, $D_c \\approx 5.4 \\cdot 10^{13}$, $\\alpha_C^{\\min} "
        "\\approx 0.050$, $C_c^{\\min} \\approx 3.1 \\cdot 10^8$ PF-days; eq. (1.5) and table 2 "
        "($\\alpha_N = 0.076$, $\\alpha_D = 0.103$); eq. (1.6) $\\alpha_S \\approx 0.76$, "
        "$S_c \\approx 2.1 \\cdot 10^3$; eq. (1.7) $N \\propto C_{\\min}^{\\alpha_C^{\\min}/"
        "\\alpha_N}$ and section 6.1 ($N \\propto C_{\\min}^{0.73}$ fitted directly).",
    ),
    examples=(example_kaplan,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
