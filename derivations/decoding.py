"""Decoding strategies: greedy, top-k, top-p (nucleus), min-p, and beam search's length penalty.

A truncation rule keeps a set K of tokens, written as an indicator vector κ (κ_i = 1 when
token i is kept, else 0), and samples from the renormalised distribution
p̃_i = p_i κ_i / Σ_j κ_j p_j. The rules differ only in K: top-k keeps the k most probable
tokens (Fan et al. 2018), top-p the shortest run of most probable tokens whose mass reaches
p_top (Holtzman et al. 2020), min-p the tokens with p_i ≥ p_base max_j p_j (Nguyen et al. 2024).

Main results
    greedy          z_i = z_g - w_i (w_i ≥ 0)  ⊢  softmax(z/T)_i ≤ softmax(z/T)_g for every T > 0:
                    temperature never changes the greedy (argmax) token
    normalised      K non-empty  ⊢  Σ_i p̃_i = 1
    kept, dropped   κ_i = 1  ⊢  p̃_i = p_i / Σ_j κ_j p_j;   κ_i = 0  ⊢  p̃_i = 0
    ratio           κ_i = κ_l = 1  ⊢  p̃_i / p̃_l = p_i / p_l: kept tokens keep their odds
    top_p_bound     Σ_j κ_j p_j = p_top + w_top (w_top ≥ 0)  ⊢  p̃_i ≤ κ_i p_i / p_top
    top_p_lower     ... and the run is the shortest, w_top < p_last  ⊢
                    p̃_i ≥ κ_i p_i / (p_top + p_last)
    min_p_count     kept tokens have p_i ≥ p_base p_max  ⊢  p_base p_max Σ_j κ_j ≤ 1:
                    min-p keeps at most 1/(p_base max p) tokens
    lp_one          GNMT's length penalty lp(|Y|) = (5 + |Y|)^α/6^α has lp(1) = 1
    alpha_zero      α = 0  ⊢  log P(Y)/lp(|Y|) = log P(Y): no length normalisation
    length_slope    ∂/∂|Y| [log P(Y)/lp(|Y|)] = -α log P(Y)/((|Y| + 5) lp(|Y|))
    longer_favoured ... ≥ 0: at equal log-probability the longer hypothesis scores higher

Run on its own: ``python derivations/decoding.py``.
"""

from __future__ import annotations

import math

import numpy as np
from sympy import Derivative, Eq, IndexedBase, Lt, Sum, Symbol, exp, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Named, Notation, held, logsumexp, softmax, terms

# --- Symbols -------------------------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # vocabulary size
i, j, k = symbols("i j k", integer=True, positive=True)  # tokens; j, k summation indices
tok_l = Named("l", "l", integer=True, positive=True)  # a second token
g = Named("g", "g", integer=True, positive=True)  # the greedy token
z = IndexedBase("z", real=True)  # logits
T = Symbol("T", positive=True)  # temperature
w = IndexedBase("w", nonnegative=True)  # slack: how far each logit (or kept p_i) is from its bound
p = IndexedBase("p", positive=True)  # the model's next-token distribution
kappa = IndexedBase(Named("kappa", r"\kappa"), nonnegative=True)  # 1 when a token is kept
kappa_bar = IndexedBase(Named("kappa_bar", r"\bar{\kappa}"), nonnegative=True)  # 1 when dropped
p_top = Named("p_top", r"p_{\mathrm{top}}", positive=True)  # top-p's mass threshold
w_top = Named("w_top", r"w_{\mathrm{top}}", nonnegative=True)  # kept mass beyond p_top
p_last = Named("p_last", r"p_{\mathrm{last}}", positive=True)  # top-p's last kept probability
p_base = Named("p_base", r"p_{\mathrm{base}}", positive=True)  # min-p's relative threshold
p_max = Named("p_max", r"p_{\max}", positive=True)  # the largest probability, max_j p_j
length = Named("length", r"|Y|", positive=True)  # tokens in a beam hypothesis
alpha = Named("alpha_lp", r"\alpha_{\mathrm{lp}}", nonnegative=True)  # GNMT's length exponent
log_prob = Named("log_prob", r"\log P(Y)", nonpositive=True)  # log P(Y | X) of a hypothesis

KEPT_MASS = Sum(kappa[j] * p[j], (j, 1, n))

# --- Notation ------------------------------------------------------------------------------------


class ptilde(Notation):  # noqa: N801 - the letter on paper
    """``ptilde(i)``: the truncated, renormalised distribution p_i κ_i / Σ_j κ_j p_j."""

    nargs = 1

    @classmethod
    def definition(cls, index):
        return p[index] * kappa[index] / KEPT_MASS

    def _eval_is_nonnegative(self):
        return True

    def _latex(self, printer):
        return r"\tilde{p}_{%s}" % printer._print(self.args[0])


class lp(Notation):  # noqa: N801 - GNMT's name
    """``lp(L, α)``: GNMT's length penalty (5 + L)^α / 6^α, printed lp(L)."""

    nargs = 2

    @classmethod
    def definition(cls, size, power):
        return (5 + size) ** power / 6**power

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return r"\operatorname{lp}\left(%s\right)" % printer._print(self.args[0])


class over(Notation):  # noqa: N801
    """``over(a, b)``: a/b printed as one fraction, as written (SymPy would cancel or reflow)."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return a / b

    def _latex(self, printer):
        return r"\frac{%s}{%s}" % tuple(printer._print(x) for x in self.args)


# --- Premises ------------------------------------------------------------------------------------
g_is_max = Hypothesis(Eq(z[i], z[g] - w[i]),
                      "$z_g$ is the largest logit: $z_i = z_g - w_i$ with $w_i \\ge 0$")
nonempty = Hypothesis("\\sum_j \\kappa_j p_j > 0",
                      "the rule keeps at least one token (each of top-$k$, top-$p$ and min-$p$"
                      " keeps the most probable one)")
i_kept = Hypothesis(Eq(kappa[i], 1), "token $i$ is kept")
l_kept = Hypothesis(Eq(kappa[tok_l], 1), "token $l$ is kept")
i_dropped = Hypothesis(Eq(kappa[i], 0), "token $i$ is dropped")
reaches_p = Hypothesis(Eq(KEPT_MASS, p_top + w_top),
                       "top-$p$: the kept mass reaches $p_{\\mathrm{top}}$,"
                       " $\\sum_j \\kappa_j p_j = p_{\\mathrm{top}} + w_{\\mathrm{top}}$ with"
                       " $w_{\\mathrm{top}} \\ge 0$")
shortest_run = Hypothesis(Lt(w_top, p_last),
                          "top-$p$ keeps the shortest run: without its last token, of probability"
                          " $p_{\\mathrm{last}}$, the run has mass"
                          " $p_{\\mathrm{top}} + w_{\\mathrm{top}} - p_{\\mathrm{last}}"
                          " < p_{\\mathrm{top}}$")
above_threshold = Hypothesis(
    Eq(kappa[j] * p[j], kappa[j] * (p_base * p_max + w[j])),
    "min-$p$: a kept token has $p_j \\ge p_{\\mathrm{base}} p_{\\max}$, written"
    " $\\kappa_j p_j = \\kappa_j (p_{\\mathrm{base}} p_{\\max} + w_j)$ with $w_j \\ge 0$")
at_most_one = Hypothesis(Eq(kappa[j], 1 - kappa_bar[j]),
                         "$\\kappa_j \\le 1$: $\\kappa_j = 1 - \\bar{\\kappa}_j$ with"
                         " $\\bar{\\kappa}_j \\ge 0$")
p_sums = Hypothesis(Eq(Sum(p[j], (j, 1, n)), 1), "$p$ is a distribution")
alpha_zero_premise = Hypothesis(Eq(alpha, 0), "$\\alpha_{\\mathrm{lp}} = 0$")

# --- Definitions ---------------------------------------------------------------------------------
D_TILDE = Definition("truncated distribution", ptilde(i), ptilde.definition(i),
                     note="Sampling from $\\tilde{p}$ is sampling from $p$ conditioned on the"
                          " kept set.")
with held():
    LP_SHOWN = terms(5, length) ** alpha / 6**alpha
D_LP = Definition("length penalty", lp(length, alpha), LP_SHOWN,
                  note="Wu et al. 2016 (GNMT), section 7; typical $\\alpha_{\\mathrm{lp}}$ lies"
                       " in $[0.6, 0.7]$.")
DEFINITIONS = (D_TILDE, D_LP)

# --- Claims: greedy decoding ---------------------------------------------------------------------
LSE_T = logsumexp(z[k] / T, k, n)

greedy = Claim(
    "greedy",
    "Temperature never changes the greedy token",
    given=(g_is_max,),
    start=softmax(z[k] / T, k, n, i),
    steps=(
        Step(exp(z[i] / T - LSE_T), "softmax is the exponential of the log-softmax", "unfold"),
        Step(exp((z[g] - w[i]) / T - LSE_T), "$z_i = z_g - w_i$", "expand", using=(g_is_max,)),
        Step(exp(z[g] / T - LSE_T), "$\\exp$ is increasing and $w_i/T \\ge 0$", "monotone",
             rel="<="),
        Step(softmax(z[k] / T, k, n, g), "the same, for $g$", "unfold"),
    ),
    note="So for every $T > 0$ the most probable token of $\\operatorname{softmax}(z/T)$ is"
         " $g = \\arg\\max_i z_i$, the token greedy decoding emits; as $T \\to 0^+$ sampling"
         " becomes greedy decoding.", on_sheet=False,
)

# --- Claims: truncation and renormalisation ------------------------------------------------------
with held():  # keep the two sums apart: the line whose reason is that they are equal
    mass_over_mass = Sum(kappa[i] * p[i], (i, 1, n)) / KEPT_MASS

normalised = Claim(
    "normalised",
    "A truncated distribution sums to one",
    given=(nonempty,),
    start=Sum(ptilde(i), (i, 1, n)),
    steps=(
        Step(mass_over_mass, "definition of $\\tilde{p}$; the kept mass does not depend on $i$:"
             " take it out of the sum", "definition+sum"),
        Step(1, "the same sum above and below, and it is positive", "sum+cancel"),
    ),
    on_sheet=False,
)

kept = Claim(
    "kept",
    "A kept token is divided by the kept mass",
    given=(i_kept,),
    start=ptilde(i),
    steps=(
        Step(p[i] * kappa[i] / KEPT_MASS, "definition of $\\tilde{p}$", "definition"),
        Step(p[i] / KEPT_MASS, "$\\kappa_i = 1$", "expand", using=(i_kept,)),
    ),
    on_sheet=False,
)

dropped = Claim(
    "dropped",
    "A dropped token gets no probability",
    given=(i_dropped,),
    start=ptilde(i),
    steps=(
        Step(p[i] * kappa[i] / KEPT_MASS, "definition of $\\tilde{p}$", "definition"),
        Step(0, "$\\kappa_i = 0$", "expand", using=(i_dropped,)),
    ),
    on_sheet=False,
)

ratio_unfolded = over(over(p[i] * kappa[i], KEPT_MASS), over(p[tok_l] * kappa[tok_l], KEPT_MASS))

ratio = Claim(
    "ratio",
    "Top-$k$, top-$p$, min-$p$: truncate, then renormalise",
    given=(i_kept, l_kept),
    start=ptilde(i) / ptilde(tok_l),
    steps=(
        Step(ratio_unfolded, "definition of $\\tilde{p}$", "definition+unfold"),
        Step(p[i] * kappa[i] / (p[tok_l] * kappa[tok_l]), "the kept mass cancels", "unfold+sum"),
        Step(p[i] / p[tok_l], "$\\kappa_i = \\kappa_l = 1$", "expand", using=(i_kept, l_kept)),
    ),
    where=(D_TILDE,),
    note="$\\sum_i \\tilde{p}_i = 1$ when a token is kept; dropped tokens get 0. Top-$k$ keeps"
         " the $k$ most probable tokens; top-$p$ the shortest run of most probable tokens whose"
         " mass is $\\ge p_{\\mathrm{top}}$; min-$p$ those with"
         " $p_i \\ge p_{\\mathrm{base}} \\max_j p_j$.",
)

top_p_bound = Claim(
    "top_p_bound",
    "Top-$p$ inflates a kept probability by at most $1/p_{\\mathrm{top}}$",
    given=(reaches_p,),
    start=ptilde(i),
    steps=(
        Step(p[i] * kappa[i] / KEPT_MASS, "definition of $\\tilde{p}$", "definition"),
        Step(p[i] * kappa[i] / (p_top + w_top), "the kept mass is"
             " $p_{\\mathrm{top}} + w_{\\mathrm{top}}$", "expand", using=(reaches_p,)),
        Step(kappa[i] * p[i] / p_top, "$w_{\\mathrm{top}} \\ge 0$", "cancel", rel="<=",
             certificate=kappa[i] * p[i] * w_top / (p_top * (p_top + w_top))),
    ),
    note="Equality when the kept run has mass exactly $p_{\\mathrm{top}}$; a smaller"
         " $p_{\\mathrm{top}}$ keeps fewer tokens and reweights them more.", on_sheet=False,
)

top_p_lower = Claim(
    "top_p_lower",
    "Top-$p$ inflates a kept probability by at least $1/(p_{\\mathrm{top}} +"
    " p_{\\mathrm{last}})$",
    given=(shortest_run,),
    start=ptilde(i),
    steps=(
        Step(p[i] * kappa[i] / KEPT_MASS, "definition of $\\tilde{p}$", "definition"),
        Step(p[i] * kappa[i] / (p_top + w_top), "the kept mass is"
             " $p_{\\mathrm{top}} + w_{\\mathrm{top}}$", "expand", using=(reaches_p,)),
        Step(kappa[i] * p[i] / (p_top + p_last),
             "$w_{\\mathrm{top}} < p_{\\mathrm{last}}$: the run is the shortest", "cancel",
             rel=">="),
    ),
    note="With the upper bound: $\\kappa_i p_i/(p_{\\mathrm{top}} + p_{\\mathrm{last}}) \\le"
         " \\tilde{p}_i \\le \\kappa_i p_i/p_{\\mathrm{top}}$, because the kept mass lies in"
         " $[p_{\\mathrm{top}}, p_{\\mathrm{top}} + p_{\\mathrm{last}})$.", on_sheet=False,
)

THRESHOLD = p_base * p_max
min_p_count = Claim(
    "min_p_count",
    "Min-$p$ keeps at most $1/(p_{\\mathrm{base}} \\max_j p_j)$ tokens",
    start=p_base * p_max * Sum(kappa[j], (j, 1, n)),
    steps=(
        Step(Sum(kappa[j] * THRESHOLD, (j, 1, n)), "bring the threshold into the sum", "sum"),
        Step(Sum(kappa[j] * (THRESHOLD + w[j]), (j, 1, n)), "$w_j \\ge 0$", "nonneg",
             rel="<="),
        Step(KEPT_MASS, "kept tokens are above the threshold", "sum",
             using=(above_threshold,)),
        Step(Sum(p[j], (j, 1, n)), "$\\kappa_j \\le 1$: the kept mass is at most the total",
             "sum", rel="<=", using=(at_most_one,),
             certificate=Sum(kappa_bar[j] * p[j], (j, 1, n))),
        Step(1, "$p$ sums to 1", "expand", using=(p_sums,)),
    ),
    note="$\\sum_j \\kappa_j$ is the number of kept tokens: a confident model ($p_{\\max}$"
         " near 1) keeps few, a flat one many (Nguyen et al. 2024).", on_sheet=False,
)

# --- Claims: beam search's length penalty --------------------------------------------------------
SCORE = log_prob / lp(length, alpha)

lp_one = Claim(
    "lp_one",
    "The length penalty is 1 for one token",
    start=lp(1, alpha),
    steps=(Step(1, "$(5 + 1)^{\\alpha_{\\mathrm{lp}}} = 6^{\\alpha_{\\mathrm{lp}}}$", "unfold"),),
    on_sheet=False,
)

alpha_zero = Claim(
    "alpha_zero",
    "With $\\alpha_{\\mathrm{lp}} = 0$ the score is the log-probability",
    given=(alpha_zero_premise,),
    start=SCORE,
    steps=(
        Step(log_prob / LP_SHOWN, "definition of lp", "unfold"),
        Step(log_prob, "$\\alpha_{\\mathrm{lp}} = 0$ and $x^0 = 1$", "expand",
             using=(alpha_zero_premise,)),
    ),
    note="Plain beam search: every extra token lowers $\\log P(Y) \\le 0$, so it favours"
         " short hypotheses.", on_sheet=False,
)

SLOPE = -alpha * log_prob / ((5 + length) * lp(length, alpha))
length_slope = Claim(
    "length_slope",
    "How the score changes with the length",
    start=Derivative(SCORE, length),
    steps=(
        Step(-alpha * log_prob * 6**alpha / (5 + length) ** (alpha + 1),
             "definition of lp; differentiate $(5 + |Y|)^{-\\alpha_{\\mathrm{lp}}}$",
             "unfold+doit+powsimp+cancel"),
        Step(SLOPE, "definition of lp", "unfold+powsimp+cancel"),
    ),
    on_sheet=False,
)

longer_favoured = Claim(
    "longer_favoured",
    "At equal log-probability the longer hypothesis scores higher",
    start=Derivative(SCORE, length),
    steps=(
        Step(SLOPE, "the slope", "expand", using=(length_slope,)),
        Step(0, "$\\alpha_{\\mathrm{lp}} \\ge 0$, $-\\log P(Y) \\ge 0$, lengths and lp positive",
             "nonneg", rel=">="),
    ),
    note="This offsets the fall of $\\log P(Y)$ as tokens are added; $\\alpha_{\\mathrm{lp}}$"
         " sets how much.", on_sheet=False,
)

CLAIMS = (greedy, normalised, kept, dropped, ratio, top_p_bound, top_p_lower, min_p_count, lp_one,
          alpha_zero, length_slope, longer_favoured)

# --- Numeric checks ------------------------------------------------------------------------------
# The kept sets are computed here from the rules' definitions, by code written apart from
# llmsym.numeric.decoding (counting ranks, trying every prefix), and the renormalised formula is
# then compared with the reference implementations top_k, top_p and min_p.


def _distribution(rng: np.random.Generator) -> np.ndarray:
    """A random next-token distribution, sometimes with a tie (equal entries stay equal)."""
    size = int(rng.integers(2, 13))
    probs = rng.dirichlet(np.full(size, rng.choice([0.2, 1.0, 5.0])))
    if rng.random() < 0.3:
        probs[int(rng.integers(size))] = probs[int(rng.integers(size))]
        probs = probs / probs.sum()
    return probs


def _ranked(probs: np.ndarray) -> list[int]:
    """Tokens by decreasing probability, ties by increasing index, by counting who is ahead."""
    ahead = [sum(1 for b in range(len(probs)) if probs[b] > probs[a]
                 or (probs[b] == probs[a] and b < a)) for a in range(len(probs))]
    return [ahead.index(r) for r in range(len(probs))]


def _kept_top_k(probs: np.ndarray, size: int) -> np.ndarray:
    kept = np.zeros(len(probs))
    kept[_ranked(probs)[:size]] = 1.0
    return kept


def _kept_top_p(probs: np.ndarray, threshold: float) -> np.ndarray:
    """The shortest prefix of the ranking whose mass (math.fsum) is at least the threshold."""
    order = _ranked(probs)
    for m in range(1, len(order) + 1):
        if math.fsum(probs[order[:m]]) >= threshold:
            break
    kept = np.zeros(len(probs))
    kept[order[:m]] = 1.0
    return kept


def _kept_min_p(probs: np.ndarray, base: float) -> np.ndarray:
    top = max(float(x) for x in probs)
    return np.array([1.0 if float(x) >= base * top else 0.0 for x in probs])


def _far_from_prefix_masses(probs: np.ndarray, threshold: float) -> bool:
    """No prefix mass within 1e-9 of the threshold: the rule is not decided by rounding."""
    masses = np.cumsum(np.sort(probs)[::-1])
    return bool(np.all(np.abs(masses - threshold) > 1e-9))


def _rule_cases(rng: np.random.Generator, rule: str, cases: int):
    """(probs, parameter, kept indicator from the definition, reference output) per case."""
    from llmsym.numeric import min_p as ref_min_p
    from llmsym.numeric import top_k as ref_top_k
    from llmsym.numeric import top_p as ref_top_p

    out = []
    while len(out) < cases:
        probs = _distribution(rng)
        if rule == "top-k":
            size = int(rng.integers(1, len(probs) + 1))
            out.append((probs, size, _kept_top_k(probs, size), ref_top_k(probs, size)))
        elif rule == "top-p":
            threshold = float(rng.uniform(0.05, 1.0))
            if _far_from_prefix_masses(probs, threshold):
                out.append((probs, threshold, _kept_top_p(probs, threshold),
                            ref_top_p(probs, threshold)))
        else:
            base = float(rng.uniform(0.0, 1.0))
            if np.all(np.abs(probs - base * probs.max()) > 1e-12):
                out.append((probs, base, _kept_min_p(probs, base), ref_min_p(probs, base)))
    return out


def _check_rule(rule: str):
    def run(rng: np.random.Generator, formula) -> Measurement:
        worst, cases = 0.0, 15
        for probs, _, kept_ind, reference in _rule_cases(rng, rule, cases):
            got = np.array([formula(p=probs, kappa=kept_ind, n=len(probs), i=t)
                            for t in range(1, len(probs) + 1)], dtype=float)
            worst = max(worst, float(np.max(np.abs(got - reference))))
        return Measurement(worst, cases, 1e-12,
                           f"p_i κ_i / Σ_j κ_j p_j with κ from the definition of {rule} vs"
                           f" llmsym.numeric's {rule.replace('-', '_')}")

    run.__doc__ = (f"The claimed p̃ with the {rule} kept set (computed from its definition) against"
                   f" the reference implementation, on random distributions with ties.")
    return run


def check_ratio(rng: np.random.Generator, formula) -> Measurement:
    """p_i / p_l (the claim's right side) against the ratio of the reference outputs of top-k,
    top-p and min-p for every pair of kept tokens."""
    worst, pairs = 0.0, 0
    for rule in ("top-k", "top-p", "min-p"):
        for probs, _, _, reference in _rule_cases(rng, rule, 5):
            kept_tokens = [t for t in range(len(probs)) if reference[t] > 0]
            for a in kept_tokens:
                for b in kept_tokens:
                    got = float(formula(p=probs, i=a + 1, l=b + 1))
                    worst = max(worst, abs(got / (reference[a] / reference[b]) - 1))
                    pairs += 1
    return Measurement(worst, pairs, 1e-12, "p_i/p_l vs the ratio of the renormalised outputs"
                       " of top_k, top_p and min_p, over every kept pair")


def check_top_p_bound(rng: np.random.Generator, formula) -> Measurement:
    """κ_i p_i / p_top (the claim's bound) above llmsym.numeric.top_p's output, and equal to it
    where the kept run has mass exactly p_top (dyadic distributions)."""
    from llmsym.numeric import top_p as ref_top_p

    worst, cases = 0.0, 0
    for probs, threshold, kept_ind, reference in _rule_cases(rng, "top-p", 20):
        bound = np.array([formula(p=probs, kappa=kept_ind, p_top=threshold, i=t)
                          for t in range(1, len(probs) + 1)], dtype=float)
        worst = max(worst, float(np.max((reference - bound) / np.maximum(reference, 1e-300))))
        cases += 1
    for probs, threshold in (([0.5, 0.25, 0.125, 0.125], 0.75), ([0.25] * 4, 0.5),
                             ([0.0625, 0.5, 0.1875, 0.25], 0.9375)):
        probs = np.array(probs)
        kept_ind = _kept_top_p(probs, threshold)
        reference = ref_top_p(probs, threshold)
        for t in np.flatnonzero(kept_ind):
            tight = float(formula(p=probs, kappa=kept_ind, p_top=threshold, i=int(t) + 1))
            worst = max(worst, abs(reference[t] / tight - 1))
        cases += 1
    return Measurement(max(worst, 0.0), cases, 1e-12, "relative excess of top_p's output over"
                       " the bound; at runs of mass exactly p_top, |output/bound - 1|")


def check_top_p_lower(rng: np.random.Generator, formula) -> Measurement:
    """κ_i p_i / (p_top + p_last) (the claim's bound) below llmsym.numeric.top_p's output, and
    nearly equal to it when p_top lies just above the mass of the run without its last token."""
    from llmsym.numeric import top_p as ref_top_p

    def gap(probs: np.ndarray, threshold: float, kept_ind: np.ndarray, reference) -> float:
        last = float(min(probs[kept_ind > 0]))
        bound = np.array([formula(p=probs, kappa=kept_ind, p_top=threshold, p_last=last, i=t)
                          for t in range(1, len(probs) + 1)], dtype=float)
        kept_at = kept_ind > 0
        return float(np.max(reference[kept_at] / bound[kept_at] - 1))

    worst, cases = 0.0, 0
    for probs, threshold, kept_ind, reference in _rule_cases(rng, "top-p", 20):
        worst = max(worst, -gap(probs, threshold, kept_ind, reference))  # must be >= 0
        cases += 1
    for probs, before in (([0.5, 0.25, 0.125, 0.125], 0.5), ([0.25] * 4, 0.75),
                          ([0.0625, 0.5, 0.1875, 0.25], 0.75)):
        probs, threshold = np.array(probs), before + 1e-12  # just past the shorter run
        kept_ind = _kept_top_p(probs, threshold)
        worst = max(worst, abs(gap(probs, threshold, kept_ind, ref_top_p(probs, threshold))))
        cases += 1
    return Measurement(max(worst, 0.0), cases, 1e-10, "relative shortfall of top_p's output"
                       " below the bound; where the run without its last token has mass"
                       " p_top - 1e-12, |output/bound - 1|")


def check_min_p_count(rng: np.random.Generator, formula) -> Measurement:
    """p_base p_max Σ_j κ_j (the claim's left side) with κ the support of llmsym.numeric.min_p:
    at most 1, equal to 1 for a uniform distribution with p_base = 1; the support must match
    the definition p_i ≥ p_base max_j p_j."""
    from llmsym.numeric import min_p as ref_min_p

    worst, cases = 0.0, 0
    for probs, base, kept_ind, reference in _rule_cases(rng, "min-p", 20):
        support = (reference > 0).astype(float)
        if not np.array_equal(support, kept_ind):
            return Measurement(float("inf"), cases + 1, 1e-12, "min_p's support differs from"
                               " the definition")
        value = float(formula(p_base=base, p_max=float(probs.max()), kappa=support,
                              n=len(probs)))
        worst = max(worst, value - 1.0)
        cases += 1
    for size in range(1, 9):
        probs = np.full(size, 1.0 / size)
        support = (ref_min_p(probs, 1.0) > 0).astype(float)
        value = float(formula(p_base=1.0, p_max=1.0 / size, kappa=support, n=size))
        worst = max(worst, abs(value - 1.0))
        cases += 1
    return Measurement(max(worst, 0.0), cases, 1e-12, "p_base p_max (kept count) - 1 on random"
                       " distributions (must be <= 0), and |... - 1| for uniform ones, p_base = 1")


def check_greedy(rng: np.random.Generator, formula) -> Measurement:
    """softmax(z/T)_g (the claim's right side) at g = llmsym.numeric.greedy(z) against the largest
    entry of llmsym.numeric.temperature_distribution(z, T), whose argmax must also be g."""
    from llmsym.numeric import greedy as ref_greedy
    from llmsym.numeric import temperature_distribution

    worst, cases = 0.0, 25
    for _ in range(cases):
        logits = rng.normal(size=int(rng.integers(2, 20))) * 2
        temp = float(10.0 ** rng.uniform(-1.3, 1.7))
        top = int(ref_greedy(logits)) + 1
        tempered = temperature_distribution(logits, temp)
        if int(np.argmax(tempered)) + 1 != top:
            return Measurement(float("inf"), cases, 1e-12, "the tempered argmax moved")
        got = float(formula(z=logits, T=temp, n=logits.size, g=top))
        worst = max(worst, abs(got / tempered.max() - 1))
    return Measurement(worst, cases, 1e-12, "softmax(z/T)_g from the formula vs the largest"
                       " tempered probability, T from 0.05 to 50")


def check_length_slope(rng: np.random.Generator, formula) -> Measurement:
    """The claimed slope against a central difference of llmsym.numeric.beam_score in |Y|."""
    from llmsym.numeric import beam_score

    worst, cases, step = 0.0, 30, 1e-4
    for _ in range(cases):
        logp = -float(rng.uniform(0.1, 60.0))
        size = float(rng.integers(1, 200))
        power = float(rng.uniform(0.05, 1.5))
        numeric = (float(beam_score(logp, size + step, power))
                   - float(beam_score(logp, size - step, power))) / (2 * step)
        got = float(formula(log_prob=logp, length=size, alpha_lp=power))
        worst = max(worst, abs(got - numeric) / abs(numeric))
    return Measurement(worst, cases, 1e-6, "slope from the formula vs a central difference"
                       " (step 1e-4) of beam_score, relative")


# --- Worked examples ---------------------------------------------------------------------------
EXAMPLE_PROBS = (0.45, 0.25, 0.15, 0.1, 0.05)


def example_truncation() -> tuple[str, str]:
    from llmsym.numeric import min_p as ref_min_p
    from llmsym.numeric import top_k as ref_top_k
    from llmsym.numeric import top_p as ref_top_p

    probs = np.array(EXAMPLE_PROBS)

    def row(values: np.ndarray) -> str:
        return "(%s)" % ", ".join(f"{v:.3f}".rstrip("0").rstrip(".") if v else "0"
                                  for v in values)

    return (
        "the three rules on one distribution",
        r"p = %s:\ \text{top-}k{=}2 \to %s,\ \text{top-}p{=}0.8 \to %s,\ "
        r"\text{min-}p{=}0.3 \to %s"
        % (row(probs), row(ref_top_k(probs, 2)), row(ref_top_p(probs, 0.8)),
           row(ref_min_p(probs, 0.3))),
    )


def example_length_penalty() -> tuple[str, str]:
    from llmsym.numeric import beam_score

    short, long_ = float(beam_score(-4.0, 5, 0.6)), float(beam_score(-5.0, 10, 0.6))
    return (
        "beam scores: 5 tokens with $\\log P = -4$ against 10 tokens with $\\log P = -5$",
        r"\alpha_{\mathrm{lp}} = 0:\ -4 > -5;\quad \alpha_{\mathrm{lp}} = 0.6:\ "
        r"%.3f < %.3f" % (short, long_),
    )


# --- The derivation ----------------------------------------------------------------------------
DERIVATION = Derivation(
    id="decoding",
    title="Decoding strategies: greedy, top-k, top-p, min-p and beam length penalty",
    topic="Decoding",
    order=16,
    gloss="Greedy decoding emits the most probable token, and temperature never changes which"
          " one it is. Top-$k$, top-$p$ and min-$p$ keep a set of tokens and renormalise: the"
          " result sums to one and kept tokens keep their odds. Beam search divides the"
          " log-probability by GNMT's length penalty so that longer hypotheses can compete.",
    assumptions=(
        "$p$ is the model's next-token distribution over $n$ tokens, with $p_i > 0$; $z$ its"
        " logits and $T > 0$ a temperature.",
        "$\\kappa_i \\in \\{0, 1\\}$ marks the tokens a rule keeps (the identities hold for any"
        " weights $\\kappa_i \\ge 0$ with a positive kept mass).",
        "$\\log P(Y) = \\log P(Y \\mid X) \\le 0$ is the log-probability of a beam hypothesis"
        " $Y$ of $|Y| > 0$ tokens, and $\\alpha_{\\mathrm{lp}} \\ge 0$.",
    ),
    definitions=DEFINITIONS,
    claims=CLAIMS,
    checks=(
        NumericCheck("greedy", check_greedy, "The tempered distribution of llmsym.numeric keeps"
                     " its argmax at the greedy token.", claim="greedy"),
        NumericCheck("top-k", _check_rule("top-k"), "$\\tilde{p}$ with the top-$k$ set against"
                     " llmsym.numeric's top_k.", claim="kept", side="start"),
        NumericCheck("top-p", _check_rule("top-p"), "$\\tilde{p}$ with the shortest prefix of mass"
                     " $\\ge p_{\\mathrm{top}}$ against top_p.", claim="kept", side="start"),
        NumericCheck("min-p", _check_rule("min-p"), "$\\tilde{p}$ with the min-$p$ set against"
                     " min_p.", claim="kept", side="start"),
        NumericCheck("ratio", check_ratio, "Odds of kept tokens in the outputs of top_k, top_p"
                     " and min_p.", claim="ratio"),
        NumericCheck("top-p-bound", check_top_p_bound, "top_p's output under"
                     " $\\kappa_i p_i/p_{\\mathrm{top}}$, tight at runs of mass exactly"
                     " $p_{\\mathrm{top}}$.", claim="top_p_bound"),
        NumericCheck("top-p-lower", check_top_p_lower, "top_p's output above"
                     " $\\kappa_i p_i/(p_{\\mathrm{top}} + p_{\\mathrm{last}})$, nearly equal"
                     " when the shorter run falls just short of $p_{\\mathrm{top}}$.",
                     claim="top_p_lower"),
        NumericCheck("min-p-count", check_min_p_count, "The support of min_p and the bound on"
                     " its size.", claim="min_p_count", side="start"),
        NumericCheck("length-slope", check_length_slope, "A central difference of beam_score"
                     " in $|Y|$.", claim="length_slope"),
    ),
    notation={
        g: "the greedy token, $\\arg\\max_i z_i$ (the most probable token)",
        tok_l: "a second token (an index in $1..n$)",
        kappa: "$\\kappa_i = 1$ when the rule keeps token $i$, else 0 (top-$k$: the $k$ most"
               " probable; top-$p$: the fewest most probable with mass at least the threshold;"
               " min-$p$: those with $p_i$ at least a set fraction of $\\max_j p_j$)",
        kappa_bar: "$1 - \\kappa_j$: 1 when token $j$ is dropped",
        w: "slack: how far a logit lies below the largest, or a kept probability above the"
           " min-$p$ threshold ($\\ge 0$)",
        p_top: "top-$p$'s threshold: the kept tokens' least total probability",
        w_top: "kept mass beyond $p_{\\mathrm{top}}$",
        p_last: "the smallest probability top-$p$ keeps (the last token of its run)",
        p_base: "min-$p$'s relative threshold, in $(0, 1]$",
        p_max: "the largest probability, $\\max_j p_j$",
        length: "the number of tokens of a beam hypothesis $Y$",
        alpha: "GNMT's length-penalty exponent",
        log_prob: "$\\log P(Y \\mid X)$, the log-probability of hypothesis $Y$",
    },
    sources=(
        "Holtzman, Buys, Du, Forbes and Choi, The Curious Case of Neural Text Degeneration,"
        " ICLR 2020, arXiv:1904.09751, section 3.1: top-p (nucleus) sampling, the smallest set"
        " with mass at least p, renormalised.",
        "Fan, Lewis and Dauphin, Hierarchical Neural Story Generation, arXiv:1805.04833 (2018),"
        " section 5.4: top-k sampling.",
        "Nguyen et al., Turning Up the Heat: Min-p Sampling for Creative and Coherent LLM"
        " Outputs, arXiv:2407.01082 (2024), section 3: keep tokens with"
        " P(x) >= p_base max P.",
        "Wu et al., Google's Neural Machine Translation System, arXiv:1609.08144 (2016),"
        " section 7: lp(Y) = (5 + |Y|)^α/(5 + 1)^α and the score log P(Y|X)/lp(Y) (without"
        " the coverage penalty).",
    ),
    examples=(example_truncation, example_length_penalty),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
