"""Error bars for evaluations: the standard error, paired differences, pass@k, zero failures.

Main results
    mean_variance       uncorrelated scores of equal variance  ⊢  Var[Z̄] = σ_Z²/n
    bernoulli_variance  a 0/1 score with mean μ has variance μ(1 - μ)
    standard_error      SE of an accuracy over n independent questions: √(μ(1 - μ)/n)
    pair_variance       Var[X_i - Y_i] = σ_X² + σ_Y² - 2 c_XY
    paired              two models on the same questions: Var[X̄ - Ȳ] = (σ_X² + σ_Y² - 2 c_XY)/n
    pass_at_k           the estimator 1 - C(n_s - c_s, k_s)/C(n_s, k_s) is unbiased for
                        pass@k = 1 - (1 - μ)^{k_s} (Chen et al. 2021)
    zero_failures       (1 - φ_95)^n = 1/20 for φ_95 = 1 - 20^{-1/n}
    rule_of_three       φ_95 <= log(20)/n ≈ 3/n

Run on its own: ``python derivations/error_bars.py``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations, product

import numpy as np
from sympy import (
    Eq,
    Indexed,
    IndexedBase,
    KroneckerDelta,
    Le,
    Rational,
    Sum,
    Symbol,
    binomial,
    log,
    sqrt,
)

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
from llmsym.notation import Cov as _Cov
from llmsym.notation import Expect as _Expect
from llmsym.notation import (
    Named,
    Notation,
    deterministic,
    factors,
    gibbs_gap,
    minus,
    random_variables,
    terms,
)
from llmsym.notation import Var as _Var


class Expect(_Expect):  # noqa: N801
    """E[x] with no numeric value at a random point (the checker's screen skips such points at
    once instead of trying to evaluate them; as in attention-scaling)."""

    def _eval_evalf(self, prec):
        raise ValueError("an expectation has no value at a random point")


class Var(_Var):  # noqa: N801
    @classmethod
    def definition(cls, x):
        return Expect(x**2) - Expect(x) ** 2


class Cov(_Cov):  # noqa: N801
    @classmethod
    def definition(cls, x, y):
        return Expect(x * y) - Expect(x) * Expect(y)


# --- Symbols -------------------------------------------------------------------------------------
n = Named("n", "n", integer=True, positive=True)  # questions in the evaluation
i, j = Symbol("i", integer=True, positive=True), Symbol("j", integer=True, positive=True)
mu = Named("p", r"\mu", positive=True)  # the probability that one trial succeeds
# G, not Z (the partition function of DPO on the same face)
Z = IndexedBase(Named("G", "G", real=True), real=True)  # per-question scores
X = IndexedBase(Named("X", "X", real=True), real=True)  # model A's scores
Y = IndexedBase(Named("Y", "Y", real=True), real=True)  # model B's scores
XmY = IndexedBase(Named("XmY", r"(X - Y)", real=True), real=True)  # their differences
var_z = Named("var_z", r"\sigma_{G}^{2}", positive=True)
var_d = Named("var_d", r"\sigma_{X-Y}^{2}", nonnegative=True)
var_x = Named("var_x", r"\sigma_{X}^{2}", nonnegative=True)
var_y = Named("var_y", r"\sigma_{Y}^{2}", nonnegative=True)
cov_xy = Named("cov_xy", r"c_{XY}", real=True)
n_s = Named("n_samples", r"n_{\mathrm{s}}", integer=True, positive=True)
c_s = Named("c_correct", r"c_{\mathrm{s}}", integer=True, nonnegative=True)
k_s = Named("k_budget", r"k_{\mathrm{s}}", integer=True, positive=True)
s_idx = j  # numbers the k-subsets of the samples (s is the sequence length on the face)
# chi, the indicator of a set (F is a kernel's FLOPs on the face)
F = IndexedBase(Named("F", r"\chi", real=True), real=True)  # 1 when the j-th subset all fails
phi95 = Named("phi95", r"\phi_{95}", positive=True)
deterministic(mu, var_z, var_d, var_x, var_y, cov_xy)
random_variables(c_s)


BARS = {"XmY": r"\bar{X} - \bar{Y}"}


class root(Notation):  # noqa: N801
    """A square root printed over its whole argument (SymPy splits √(a/n) into √a/√n)."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return sqrt(x)

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return r"\sqrt{%s}" % printer._print(self.args[0])


class mean_of(Notation):  # noqa: N801
    """``mean_of(body, i, n)``: (1/n) Σ_i body, printed as the bar of the vector(s) in it."""

    nargs = 3
    bound = (1,)

    @classmethod
    def definition(cls, body, index, size):
        return Sum(body, (index, 1, size)) / size

    def _latex(self, printer):
        body = self.args[0]
        names = {ix: BARS.get(str(ix.base.label), r"\bar{%s}" % printer._print(ix.base.label))
                 for ix in body.atoms(Indexed)}
        return printer._print(body.xreplace({k: Symbol(v) for k, v in names.items()}))


class pass_at(Notation):  # noqa: N801
    """pass@k: the probability that at least one of k_s independent samples passes."""

    nargs = 2

    @classmethod
    def definition(cls, p, k):
        return 1 - (1 - p) ** k

    def _latex(self, printer):
        return r"\operatorname{pass@}%s" % printer._print(self.args[1])


class pass_hat(Notation):  # noqa: N801
    """The unbiased estimator of pass@k from n_s samples, c_s of them correct."""

    nargs = 3

    @classmethod
    def definition(cls, n_, c_, k_):
        return 1 - binomial(n_ - c_, k_) / binomial(n_, k_)

    def _latex(self, printer):
        return r"\widehat{\operatorname{pass@}%s}" % printer._print(self.args[2])


# --- Premises ------------------------------------------------------------------------------------
def _uncorrelated(vec, variance, label):
    return Hypothesis(
        Eq(Expect(vec[i] * vec[j]),
           Expect(vec[i]) * Expect(vec[j]) + KroneckerDelta(i, j) * variance),
        label)


z_uncorrelated = _uncorrelated(
    Z, var_z, "the questions are independent (uncorrelated) and every score has variance"
    " $\\sigma_Z^2$ ($\\delta_{ij}$: 1 if $i = j$, else 0)")
d_uncorrelated = _uncorrelated(
    XmY, var_d, "the questions are independent (uncorrelated) and every difference of scores has"
    " variance $\\sigma_{X-Y}^2$")
i_in_range = Hypothesis(Le(i, n), "$i$ is one of the $n$ questions")
zero_one_mean = Hypothesis(Eq(Expect(Z[i]), mu), "each score is 1 with probability $\\mu$")
zero_one_square = Hypothesis(Eq(Expect(Z[i] ** 2), mu), "a 0/1 score equals its square:"
                             " $\\mathbb{E}[G_i^2] = \\mathbb{E}[G_i] = \\mu$")
var_of_x = Hypothesis(Eq(Var(X[i]), var_x), "every question: $\\operatorname{Var}[X_i] ="
                      " \\sigma_X^2$")
var_of_y = Hypothesis(Eq(Var(Y[i]), var_y), "$\\operatorname{Var}[Y_i] = \\sigma_Y^2$")
cov_of_xy = Hypothesis(Eq(Cov(X[i], Y[i]), cov_xy), "$\\operatorname{Cov}[X_i, Y_i] = c_{XY}$")
N_SUBSETS = Named("subsets", r"M_{\mathrm{s}}", integer=True, positive=True)
counting = Hypothesis(
    Eq(binomial(n_s - c_s, k_s), Sum(F[s_idx], (s_idx, 1, N_SUBSETS))),
    "counting: of the $\\binom{n_s}{k_s}$ sets of $k_s$ samples, $\\chi_j = 1$ for those with no"
    " correct sample, which are the $\\binom{n_s - c_s}{k_s}$ sets of $k_s$ wrong ones")
subset_fails = Hypothesis(
    Eq(Expect(F[s_idx]), (1 - mu) ** k_s),
    "the samples are independent, each correct with probability $\\mu$: $k_s$ given samples"
    " all fail with probability $(1 - \\mu)^{k_s}$")
k_le_n = Hypothesis(Le(k_s, n_s), "$k_s \\le n_s$")

# --- Definitions ---------------------------------------------------------------------------------
PASS_HAT = pass_hat(n_s, c_s, k_s)
DEFINITIONS = (
    Definition("score variance", var_z, Var(Z[i]),
               note="The same for every question $i$."),
    Definition("variance of a difference", var_d, Var(XmY[i])),
    Definition("score difference", XmY[i], X[i] - Y[i]),
    Definition("pass@k", pass_at(mu, k_s), pass_at.definition(mu, k_s), on_sheet=False,
               title="pass@k: at least one of $k_s$ samples passes",
               note="For one problem whose samples pass independently with probability $\\mu$;"
                    " a benchmark averages it over problems."),
    Definition("pass@k estimator", PASS_HAT, pass_hat.definition(n_s, c_s, k_s), on_sheet=False,
               title="The pass@k estimator (Chen et al. 2021)",
               note="From $n_s \\ge k_s$ samples of which $c_s$ pass; computed as"
                    " $1 - \\prod_{i = n_s - c_s + 1}^{n_s}(1 - k_s/i)$ to avoid large binomials."),
    Definition("number of sample sets", N_SUBSETS, binomial(n_s, k_s)),
    Definition("zero-failure bound", phi95, 1 - Rational(1, 20) ** (1 / n),
               note="The largest failure rate under which $n$ successes in $n$ trials still have"
                    " probability 5 %."),
)
D_VARZ, D_VARD, D_DIFF, D_PASS, D_PASSHAT, D_M, D_PHI = DEFINITIONS

# --- Claims: the variance of a mean --------------------------------------------------------------


def _cov_terms(entry, first, second):
    """E[a b] - E[a] E[b] written out (Cov is symmetric, and a swapped Cov[b, a] would be an
    equal mutant the mutation test cannot tell apart at random points)."""
    return Expect(entry(first) * second) - Expect(entry(first)) * Expect(second)


def _cov_with_total(entry):
    """A one-argument notation for Cov[a_i, Σ_j a_j] (one argument: no equal 'swapped' mutant),
    unfolding to E[a_i Σ_j a_j] - E[a_i] E[Σ_j a_j]."""
    total = Sum(entry(j), (j, 1, n))

    class cov_total(Notation):  # noqa: N801
        nargs = 1

        @classmethod
        def definition(cls, index):
            return Expect(entry(index) * total) - Expect(entry(index)) * Expect(total)

        def _latex(self, printer):
            return r"\operatorname{Cov}\left[%s, %s\right]" % (
                printer._print(entry(self.args[0])), printer._print(total))

    return cov_total


def _row(name, entry, premise, variance):
    """Cov[a_i, Σ_j a_j] = variance: one question is correlated with the total only through
    itself (``entry(k)`` is the score of question k)."""
    total = Sum(entry(j), (j, 1, n))

    def cov(lo, hi):
        return Sum(_cov_terms(entry, i, entry(j)), (j, lo, hi))

    return Claim(
        name,
        "One question is correlated with the total only through itself",
        given=(i_in_range,),
        start=COV_TOTAL[name](i),
        steps=(
            Step(Expect(Sum(entry(i) * entry(j), (j, 1, n))) - Expect(entry(i)) * Expect(total),
                 "definition of Cov; $a_i$ does not depend on $j$", "unfold+sum"),
            Step(cov(1, n), "linearity of $\\mathbb{E}$", "expect+sum"),
            Step(cov(1, i - 1) + cov(i, n), "cut the sum before $j = i$", "join_sums"),
            Step(cov(1, i - 1) + _cov_terms(entry, i, entry(i)) + cov(i + 1, n),
                 "split off the term $j = i$", "align_sums"),
            Step(variance, "uncorrelated questions: only $j = i$ remains, whose covariance is the"
                 " variance", "definition+doit+sum", using=(premise,)),
        ),
        on_sheet=False,
    )


def _mean_steps(entry, row, variance, cov_total):
    """Var[(1/n) Σ_i a_i] = variance/n, from the row claim."""
    total = Sum(entry(j), (j, 1, n))
    return (
        Step(Expect(Sum(entry(i) * total, (i, 1, n))) / n**2 - Expect(total) ** 2 / n**2,
             "definition of Var; $(\\sum_i a_i)^2 = \\sum_i a_i \\sum_j a_j$",
             "unfold+sum+expect"),
        Step(Sum(cov_total(i), (i, 1, n)) / n**2,
             "linearity of $\\mathbb{E}$; definition of Cov", "expect+unfold+sum"),
        Step(Sum(variance, (i, 1, n)) / n**2, "each question with the total", "sum",
             using=(row,)),
        Step(variance / n, "$n$ equal terms", "sum"),
    )


def _score(k):
    return Z[k]


def _difference(k):
    return XmY[k]


COV_TOTAL = {"row": _cov_with_total(_score), "row_paired": _cov_with_total(_difference)}
row_z = _row("row", _score, z_uncorrelated, var_z)
row_d = _row("row_paired", _difference, d_uncorrelated, var_d)

mean_variance = Claim(
    "mean_variance",
    "The variance of a mean score falls as $1/n$",
    given=(z_uncorrelated,),
    start=Var(mean_of(Z[i], i, n)),
    steps=_mean_steps(_score, row_z, var_z, COV_TOTAL["row"]),
    note="Independent questions are enough (uncorrelated, in fact); the scores need not be 0/1:"
         " graded scores, or the mean of several samples per question, work the same.",
    on_sheet=False,
)

bernoulli_variance = Claim(
    "bernoulli_variance",
    "A 0/1 score with mean $\\mu$ has variance $\\mu(1 - \\mu)$",
    given=(zero_one_mean, zero_one_square),
    start=var_z,
    steps=(
        Step(Expect(Z[i] ** 2) - Expect(Z[i]) ** 2, "definition of $\\sigma_Z^2$ and Var",
             "definition"),
        Step(mu - mu**2, "$\\mathbb{E}[G_i^2] = \\mathbb{E}[G_i] = \\mu$",
             using=(zero_one_square, zero_one_mean)),
        Step(factors(mu, 1 - mu), "factor", "expand"),
    ),
    where=(D_VARZ,),
    on_sheet=False,
)

standard_error = Claim(
    "standard_error",
    "Standard error of an accuracy on $n$ questions",
    given=(z_uncorrelated, zero_one_mean, zero_one_square),
    start=root(Var(mean_of(Z[i], i, n))),
    steps=(
        Step(root(var_z / n), "the variance of the mean", "unfold+expand",
             using=(mean_variance,)),
        Step(root(factors(mu, 1 - mu) / n), "0/1 scores", "unfold+expand",
             using=(bernoulli_variance,)),
    ),
    note="With the observed accuracy $\\hat\\mu$ in place of $\\mu$: 1000 questions at 80 % give"
         " $\\pm 1.3$ points (one standard error); a 95 % interval is about $\\pm 2$ SE. For"
         " small $n$ or $\\hat\\mu$ near 0 or 1, use a Wilson or Beta-posterior interval.",
)

pair_variance = Claim(
    "pair_variance",
    "The variance of a paired difference",
    given=(var_of_x, var_of_y, cov_of_xy),
    start=var_d,
    steps=(
        Step(minus(Var(X[i]) + Var(Y[i]), 2 * Cov(X[i], Y[i])),
             "definitions of $\\sigma_{X-Y}^2$, Var and Cov; linearity of $\\mathbb{E}$",
             "definition+expect+expand"),
        Step(terms(var_x, var_y, -2 * cov_xy), "the per-question moments",
             using=(var_of_x, var_of_y, cov_of_xy)),
    ),
    where=(D_VARD, D_DIFF),
    on_sheet=False,
)

paired = Claim(
    "paired",
    "Two models on the same questions: the paired standard error",
    given=(d_uncorrelated, var_of_x, var_of_y, cov_of_xy),
    start=Var(mean_of(XmY[i], i, n)),
    steps=(*_mean_steps(_difference, row_d, var_d, COV_TOTAL["row_paired"]),
           Step(terms(var_x, var_y, -2 * cov_xy) / n, "the variance of one difference",
                "expand", using=(pair_variance,))),
    note="Models that tend to get the same questions right ($c_{XY} > 0$) have a much smaller"
         " error bar on their difference than two independent evaluations would give.",
    on_sheet=False,
)

# --- Claims: pass@k ------------------------------------------------------------------------------
pass_at_k = Claim(
    "pass_at_k",
    "The pass@k estimator is unbiased",
    given=(counting, subset_fails, k_le_n),
    start=Expect(PASS_HAT),
    steps=(
        Step(Expect(1 - binomial(n_s - c_s, k_s) / N_SUBSETS), "definition of the estimator;"
             " $M_{\\mathrm{s}} = \\binom{n_s}{k_s}$ sets of $k_s$ samples", "definition"),
        Step(Expect(1 - Sum(F[s_idx], (s_idx, 1, N_SUBSETS)) / N_SUBSETS),
             "count the sets of $k_s$ samples with no correct one", "expand",
             using=(counting,)),
        Step(1 - Sum(Expect(F[s_idx]), (s_idx, 1, N_SUBSETS)) / N_SUBSETS,
             "linearity of $\\mathbb{E}$", "expect+sum"),
        Step(1 - Sum((1 - mu) ** k_s, (s_idx, 1, N_SUBSETS)) / N_SUBSETS,
             "each set fails entirely with probability $(1 - \\mu)^{k_s}$", "sum",
             using=(subset_fails,)),
        Step(1 - (1 - mu) ** k_s, "$M_{\\mathrm{s}}$ equal terms", "sum"),
        Step(pass_at(mu, k_s), "definition of pass@k", "definition"),
    ),
    where=(D_PASSHAT, D_PASS, D_M),
    note="The estimator is the fraction of the $\\binom{n_s}{k_s}$ sets of $k_s$ samples that"
         " contain a correct one. The naive $1 - (1 - c_s/n_s)^{k_s}$ is biased low.",
)

# --- Claims: zero failures -----------------------------------------------------------------------
zero_failures = Claim(
    "zero_failures",
    "With failure rate $\\phi_{95}$, $n$ successes in a row have probability 5 %",
    start=(1 - phi95) ** n,
    steps=(Step(Rational(1, 20), "definition of $\\phi_{95}$", "definition+powdenest"),),
    where=(D_PHI,),
    on_sheet=False,
    note="$(1 - \\phi)^n$ falls as $\\phi$ grows: every failure rate above $\\phi_{95}$ makes a"
         " clean run of $n$ less likely than 5 %, so $\\phi_{95}$ is a one-sided 95 % upper"
         " bound after zero failures.",
)

rule_of_three = Claim(
    "rule_of_three",
    "Zero failures in $n$ trials: the 95 % upper bound is about $3/n$",
    start=phi95,
    steps=(
        Step(1 - Rational(1, 20) ** (1 / n), "definition of $\\phi_{95}$", "definition"),
        Step(log(20) / n, "$1 - e^{-x} \\le x$ with $x = \\log(20)/n$:"
             " the difference is $g(20^{-1/n}) \\ge 0$", rel="<=",
             certificate=gibbs_gap(Rational(1, 20) ** (1 / n))),
    ),
    where=(D_PHI,),
    note="$\\log 20 = 2.996$: the rule of three. The bound is tight for large $n$ (the"
         " difference is below $\\log^2(20)/(2n^2)$): 300 clean trials bound the failure rate"
         " by 1 %.",
)

CLAIMS = (row_z, mean_variance, bernoulli_variance, standard_error, pair_variance, row_d, paired,
          pass_at_k, zero_failures, rule_of_three)

# --- Numeric checks ------------------------------------------------------------------------------


def _exact_moments(values: np.ndarray, probs: np.ndarray, size: int) -> float:
    """Variance of the mean of ``size`` independent draws, by enumerating every outcome."""
    picks = np.array(list(product(range(values.size), repeat=size)))
    weights = np.prod(probs[picks], axis=1)
    averages = np.mean(values[picks], axis=1)
    mean = float(weights @ averages)
    return float(weights @ averages**2) - mean**2


def check_mean_variance(rng: np.random.Generator, formula) -> Measurement:
    """σ²/n against the exact variance of the mean of n independent draws (enumerated)."""
    worst, cases = 0.0, 12
    for _ in range(cases):
        values = rng.normal(size=int(rng.integers(2, 4)))
        probs = rng.dirichlet(np.ones(values.size))
        size = int(rng.integers(1, 5))
        one = float(np.sum(probs * values**2) - np.sum(probs * values) ** 2)
        exact = _exact_moments(values, probs, size)
        worst = max(worst, abs(float(formula(var_z=one, n=size)) - exact) / max(one, 1e-300))
    return Measurement(worst, cases, 1e-12, "σ²/n vs the variance of the mean over every"
                       " outcome of n <= 4 independent draws")


def check_standard_error(rng: np.random.Generator, formula) -> Measurement:
    """√(μ(1 - μ)/n) against the standard deviation of Binomial(n, μ)/n from its exact pmf."""
    worst, cases = 0.0, 20
    for _ in range(cases):
        size, chance = int(rng.integers(1, 80)), float(rng.uniform(0.01, 0.99))
        pmf = np.array([math.comb(size, c) * chance**c * (1 - chance) ** (size - c)
                        for c in range(size + 1)])
        acc = np.arange(size + 1) / size
        exact = math.sqrt(float(np.sum(pmf * acc**2) - np.sum(pmf * acc) ** 2))
        worst = max(worst, abs(float(formula(p=chance, n=size)) - exact) / exact)
    return Measurement(worst, cases, 1e-10, "the standard error vs the exact standard deviation"
                       " of an accuracy over n questions (binomial pmf)")


def check_simulated(rng: np.random.Generator) -> Measurement:
    """Experiment: the spread of 2000 simulated evaluations against √(μ(1 - μ)/n)."""
    from llmsym.numeric import binomial_standard_error, simulate_accuracies

    worst = 0.0
    for chance, size in ((0.8, 400), (0.5, 100), (0.97, 400)):
        spread = float(np.std(simulate_accuracies(chance, size, 2000, rng)))
        worst = max(worst, abs(spread / binomial_standard_error(chance, size) - 1))
    return Measurement(worst, 3, 0.05, "standard deviation of 2000 simulated accuracies vs the"
                       " standard error (within 5 %)")


def check_paired(rng: np.random.Generator, formula) -> Measurement:
    """(σ_X² + σ_Y² - 2c_XY)/n against the exact variance of the mean difference of paired 0/1
    scores (every outcome of n <= 3 questions enumerated)."""
    worst, cases = 0.0, 12
    cells = np.array([(x_, y_) for x_ in (0.0, 1.0) for y_ in (0.0, 1.0)])
    for _ in range(cases):
        joint = rng.dirichlet(np.full(4, 0.5))
        size = int(rng.integers(1, 4))
        ex, ey = joint @ cells[:, 0], joint @ cells[:, 1]
        vx, vy = joint @ cells[:, 0] ** 2 - ex**2, joint @ cells[:, 1] ** 2 - ey**2
        cxy = joint @ (cells[:, 0] * cells[:, 1]) - ex * ey
        exact = _exact_moments(cells[:, 0] - cells[:, 1], joint, size)
        got = float(formula(var_x=vx, var_y=vy, cov_xy=cxy, n=size))
        worst = max(worst, abs(got - exact) / max(exact, 1e-12))
    return Measurement(worst, cases, 1e-10, "paired variance vs enumeration of every outcome of"
                       " n <= 3 questions of two correlated 0/1 scores")


def check_pass_at_k(rng: np.random.Generator, formula) -> Measurement:
    """1 - (1 - μ)^k against the exact expectation of llmsym.numeric.pass_at_k (product form)
    over c ~ Binomial(n, μ)."""
    from llmsym.numeric import pass_at_k as estimate

    worst, cases = 0.0, 20
    for _ in range(cases):
        size = int(rng.integers(1, 40))
        budget = int(rng.integers(1, size + 1))
        chance = float(rng.uniform(0.01, 0.9))
        expected = sum(math.comb(size, c) * chance**c * (1 - chance) ** (size - c)
                       * estimate(size, c, budget) for c in range(size + 1))
        worst = max(worst, abs(float(formula(p=chance, k_budget=budget)) - expected))
    return Measurement(worst, cases, 1e-12, "pass@k vs the expected estimate over the binomial"
                       " number of correct samples")


def check_counting(rng: np.random.Generator) -> Measurement:
    """Experiment: the estimator is the fraction of all k-subsets of the samples that contain a
    correct one (every subset enumerated), for n <= 9."""
    from llmsym.numeric import pass_at_k as estimate

    worst, cases = 0.0, 0
    for size in range(1, 10):
        for correct in range(size + 1):
            for budget in range(1, size + 1):
                subsets = list(combinations(range(size), budget))
                hit = Fraction(sum(any(x < correct for x in sub) for sub in subsets), len(subsets))
                worst = max(worst, abs(float(hit) - estimate(size, correct, budget)))
                cases += 1
    return Measurement(worst, cases, 1e-12, "pass_at_k vs the fraction of enumerated k-subsets"
                       " holding a correct sample")


def check_zero_failures(rng: np.random.Generator, formula) -> Measurement:
    """1/20 against (1 - φ)^n with φ the exact bound from llmsym.numeric."""
    from llmsym.numeric import zero_failure_upper_bound

    worst = 0.0
    for size in (1, 3, 30, 300, 3000):
        got = (1 - zero_failure_upper_bound(size)) ** size
        worst = max(worst, abs(float(formula()) - got))
    return Measurement(worst, 5, 1e-12, "(1 - φ_95)^n at the exact bound vs the claimed 1/20")


def check_rule_of_three(rng: np.random.Generator, formula) -> Measurement:
    """log(20)/n against the exact bound: never below it, and within log²(20)/(2n²)."""
    from llmsym.numeric import zero_failure_upper_bound

    worst = 0.0
    for size in (1, 2, 5, 10, 30, 100, 300, 1000, 10**4):
        exact = zero_failure_upper_bound(size)
        gap = float(formula(n=size)) - exact
        worst = max(worst, -gap / exact, gap * size**2 / (math.log(20) ** 2 / 2) - 1)
    return Measurement(max(worst, 0.0), 9, 0.0, "log(20)/n - exact bound: >= 0 and at most"
                       " log²(20)/(2n²)")


# --- Results and examples ------------------------------------------------------------------------
RESULTS = (
    Result("binomial_standard_error", sqrt(mu * (1 - mu) / n), params=(mu, n),
           doc="standard error of an accuracy p measured on n independent questions",
           claim="standard_error"),
)


def example_standard_error() -> tuple[str, str]:
    from llmsym.numeric import binomial_standard_error

    return ("an accuracy of 80 % on 1000 questions",
            r"\mathrm{SE} = \sqrt{0.8 \cdot 0.2 / 1000} = %.4f" % binomial_standard_error(0.8,
                                                                                        1000))


def example_pass_at_k() -> tuple[str, str]:
    from llmsym.numeric import pass_at_k as estimate

    return ("pass@10 from 200 samples with 10 correct",
            r"1 - \binom{190}{10}/\binom{200}{10} = %.4f" % estimate(200, 10, 10))


# --- The derivation ------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="error-bars",
    title="Error bars for evaluations: standard errors, paired differences, pass@k, zero failures",
    topic="Error bars for evaluations",
    order=86,
    gloss="An accuracy on $n$ independent questions is uncertain by $\\sqrt{\\mu(1 - \\mu)/n}$;"
          " comparing two models on the same questions removes their shared variance; pass@k"
          " has an unbiased estimator; a clean run of $n$ bounds the failure rate by about"
          " $3/n$.",
    assumptions=(
        "Questions are drawn independently from a large pool; $G_i$ is the score of question"
        " $i$ (1 right, 0 wrong, or any graded score).",
    ),
    definitions=DEFINITIONS,
    claims=CLAIMS,
    results=RESULTS,
    checks=(
        NumericCheck("mean-variance", check_mean_variance, "The variance of the mean of"
                     " enumerated independent draws.", claim="mean_variance"),
        NumericCheck("standard-error", check_standard_error, "The exact standard deviation of a"
                     " binomial accuracy.", claim="standard_error"),
        NumericCheck("simulated", check_simulated, "Experiment: simulated evaluations."),
        NumericCheck("paired", check_paired, "Enumerated paired 0/1 scores.", claim="paired"),
        NumericCheck("pass-at-k", check_pass_at_k, "The exact expectation of the estimator over"
                     " the binomial number of correct samples.", claim="pass_at_k"),
        NumericCheck("counting", check_counting, "Experiment: the estimator counts k-subsets."),
        NumericCheck("zero-failures", check_zero_failures, "(1 - φ_95)^n at the exact bound.",
                     claim="zero_failures"),
        NumericCheck("rule-of-three", check_rule_of_three, "log(20)/n against the exact bound.",
                     claim="rule_of_three"),
    ),
    notation={
        Z: "the scores of the $n$ questions of an evaluation",
        X: "the scores of model A on the questions",
        Y: "the scores of model B on the same questions",
        XmY: "the differences of the two models' scores, question by question",
        var_z: "the variance of one question's score",
        var_d: "the variance of one question's score difference $X_i - Y_i$",
        var_x: "the variance of model A's score on a question",
        var_y: "the variance of model B's score on a question",
        cov_xy: "the covariance of the two models' scores on a question",
        n_s: "samples generated for one problem",
        c_s: "samples among them that pass",
        k_s: "samples a user may try (the $k$ of pass@$k$), $k_s \\le n_s$",
        F: "1 when the $j$-th set of $k_s$ samples has no correct sample, else 0",
        N_SUBSETS: "the number of sets of $k_s$ samples, $\\binom{n_s}{k_s}$",
        phi95: "the 95 % upper bound on the failure rate after $n$ clean trials",
    },
    sources=(
        "Miller, Adding Error Bars to Evals: A Statistical Approach to Language Model"
        " Evaluations, arXiv:2411.00640 (2024), sections 2-4: the standard error of a mean"
        " score and paired differences.",
        "Chen et al., Evaluating Large Language Models Trained on Code, arXiv:2107.03374 (2021),"
        " section 2.1 and figure 3: pass@k and its unbiased estimator.",
        "Hanley and Lippman-Hand, If nothing goes wrong, is everything all right?, JAMA"
        " 249(13):1743 (1983): the rule of three.",
    ),
    examples=(example_standard_error, example_pass_at_k),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
