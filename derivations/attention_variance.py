"""Why attention divides the scores by sqrt(d_k) (Vaswani et al. 2017, footnote 4).

Main results
    scale_variance      Var[lambda Y] = lambda^2 Var[Y]                       (proved)
    sum_variance        Var[sum_i X_i] = sum_i Var[X_i] for uncorrelated X_i (Bienayme, any d_k)
    score_mean          independent components, mean 0      ⊢  E[q . k] = 0
    score_variance      independent components, mean 0, var 1 ⊢  Var[q . k] = d_k
    scaled_variance     ... ⊢ Var[q . k / sqrt(d_k)] = 1, whatever d_k
    query_offset        per query: E[q . k | q] = mu_k sum_i q_i, the same for every key,
                        which the softmax ignores (shift invariance)
    query_variance      per query: Var[q . k | q] = sigma_k^2 |q|^2
    expected_query_variance   E[sigma_k^2 |q|^2] = d_k sigma_k^2 (sigma_q^2 + mu_q^2)
    saturation          tr J = sum_i s_i (1 - s_i) <= 2 (1 - s_1): a softmax whose largest
                        weight s_1 is near 1 passes almost no gradient

Nothing probabilistic is stated as a step: expectation is linear (the ``expect``
tactic), Var and Cov unfold to their definitions, and every fact beyond
linearity (independence, the moments, uncorrelated terms) is a displayed
hypothesis of the claim that uses it.

Run on its own: ``python derivations/attention_variance.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, IndexedBase, KroneckerDelta, Sum, Symbol, sqrt, symbols

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
    cite,
)
from llmsym.notation import Cov as _Cov
from llmsym.notation import Expect as _Expect
from llmsym.notation import (
    Named,
    Notation,
    deterministic,
    factors,
    group,
    norm,
    softmax,
    terms,
)
from llmsym.notation import Var as _Var

# --- Notation ------------------------------------------------------------------------------


class Vector(IndexedBase):
    """A vector printed bold as a whole (its face symbol) and plain in components: q_i."""

    def _latex(self, printer, **_):
        return self.plain

    @property
    def plain(self) -> str:
        return str(self.label).split("_")[0]


def vector(name: str, bold: str, **assumptions) -> Vector:
    """A real random vector ``name`` printed ``bold`` as a whole."""
    return Vector(Named(name, bold, **assumptions), **assumptions)




class dot(Notation):  # noqa: N801 - named like the operation it prints
    """``dot(a_i, b_i, i, n)`` = sum_{i=1}^n a_i b_i, printed ``a . b`` (bold vectors)."""

    nargs = 4
    bound = (2,)

    @classmethod
    def definition(cls, a, b, i, n):
        return Sum(a * b, (i, 1, n))

    def _latex(self, printer):
        a, b, *_ = self.args
        return r"%s \cdot %s" % tuple(printer._print(x.base.label) for x in (a, b))


class vnorm(norm):  # noqa: N801
    """The Euclidean norm of a bold vector, printed ``‖q‖``."""

    def _latex(self, printer):
        return r"\left\|%s\right\|" % printer._print(self.args[0].base.label)


class Expect(_Expect):  # noqa: N801
    """E[x]: llmsym's expectation, which has no numeric value at a random point (the checker's
    screen skips such points at once instead of trying to evaluate them)."""

    def _eval_evalf(self, prec):
        raise ValueError("an expectation has no value at a random point")


class Var(_Var):  # noqa: N801
    """Var[x] = E[x^2] - E[x]^2."""

    @classmethod
    def definition(cls, x):
        return Expect(x**2) - Expect(x) ** 2


class Cov(_Cov):  # noqa: N801
    """Cov[x, y] = E[x y] - E[x] E[y], symmetric: its arguments are kept in canonical order."""

    @classmethod
    def eval(cls, x, y):
        if sp.default_sort_key(y) < sp.default_sort_key(x):
            return cls(y, x)
        return None

    @classmethod
    def definition(cls, x, y):
        return Expect(x * y) - Expect(x) * Expect(y)


class ExpectGiven(Expect):  # noqa: N801
    """E[x | q]: the expectation over the keys for one fixed query (q is not random in it)."""

    def _latex(self, printer):
        return r"\mathbb{E}\left[%s \,\middle|\, \mathbf{q}\right]" % printer._print(self.args[0])


class VarGiven(Var):  # noqa: N801
    """Var[x | q] = E[x^2 | q] - E[x | q]^2."""

    @classmethod
    def definition(cls, x):
        return ExpectGiven(x**2) - ExpectGiven(x) ** 2

    def _latex(self, printer):
        return r"\operatorname{Var}\left[%s \,\middle|\, \mathbf{q}\right]" % printer._print(
            self.args[0])


class CovGiven(Cov):  # noqa: N801
    """Cov[x, y | q] = E[x y | q] - E[x | q] E[y | q]."""

    @classmethod
    def definition(cls, x, y):
        return ExpectGiven(x * y) - ExpectGiven(x) * ExpectGiven(y)

    def _latex(self, printer):
        x, y = (printer._print(a) for a in self.args)
        return r"\operatorname{Cov}\left[%s, %s \,\middle|\, \mathbf{q}\right]" % (x, y)


# --- Symbols -------------------------------------------------------------------------------
d = Symbol("d_k", integer=True, positive=True)  # dimension of queries and keys
i, j = symbols("i j", integer=True, positive=True)  # component indices
k_index = Symbol("k", integer=True, positive=True)  # a summation index
n = Symbol("n", integer=True, positive=True)  # number of keys one query attends to
q = vector("q", r"\mathbf{q}", real=True)  # a random query
k = vector("k", r"\mathbf{k}", real=True)  # a random key
q_fixed = vector("q_given", r"\mathbf{q}", real=True)  # the query, conditioned on (fixed)
X = IndexedBase("X", real=True)  # random variables with finite variance
Y = Symbol("Y", real=True)  # one random variable
lam = Symbol("lambda", real=True)  # a constant
sigma_k, sigma_q = Symbol("sigma_k", positive=True), Symbol("sigma_q", positive=True)
mu_k, mu_q = Symbol("mu_k", real=True), Symbol("mu_q", real=True)
z = IndexedBase("z", real=True)  # the scores of one query (the softmax's logits)
deterministic(lam, sigma_k, sigma_q, mu_k, mu_q, q_fixed)

# --- Premises ------------------------------------------------------------------------------
INDEPENDENT = Assumption(r"the $2 d_k$ components $q_1, \dots, q_{d_k}, k_1, \dots, k_{d_k}$"
                         " are independent random variables", "independent components")
mean_q = Hypothesis(Eq(Expect(q[i]), 0), "mean 0")
mean_k = Hypothesis(Eq(Expect(k[i]), 0), "mean 0")
var_q = Hypothesis(Eq(Var(q[i]), 1), "variance 1")
var_k = Hypothesis(Eq(Var(k[i]), 1), "variance 1")
indep_product = Hypothesis(Eq(Expect(factors(q[i], k[i])), factors(Expect(q[i]), Expect(k[i]))),
                           "$q_i$ and $k_i$ are independent")
indep_squares = Hypothesis(Eq(Expect(factors(q[i] ** 2, k[i] ** 2)),
                              factors(Expect(q[i] ** 2), Expect(k[i] ** 2))),
                           "$q_i$ and $k_i$ are independent")
uncorrelated = Hypothesis(
    Eq(Expect(X[i] * X[j]), terms(factors(Expect(X[i]), Expect(X[j])),
                                  factors(KroneckerDelta(i, j), Var(X[i])))),
    "the $X_i$ are pairwise uncorrelated: $\\operatorname{Cov}[X_i, X_j] = 0$ for $i \\ne j$"
    " ($\\delta_{ij}$: 1 if $i = j$, else 0)")
key_mean = Hypothesis(Eq(ExpectGiven(k[i]), mu_k),
                      "key components have mean $\\mu_k$, whatever the query")
key_cov = Hypothesis(
    Eq(ExpectGiven(k[i] * k[j]), terms(factors(ExpectGiven(k[i]), ExpectGiven(k[j])),
                                       factors(KroneckerDelta(i, j), sigma_k**2))),
    "key components are uncorrelated, of variance $\\sigma_k^2$, whatever the query:"
    " $\\operatorname{Cov}[k_i, k_j \\mid \\mathbf{q}] = \\delta_{ij} \\sigma_k^2$")
key_var = Hypothesis(
    Eq(ExpectGiven(k[i] ** 2), terms(ExpectGiven(k[i]) ** 2, sigma_k**2)),
    "the same for $j = i$: $\\operatorname{Var}[k_i \\mid \\mathbf{q}] = \\sigma_k^2$")
query_mean = Hypothesis(Eq(Expect(q[i]), mu_q), "query components have mean $\\mu_q$")
query_var = Hypothesis(Eq(Var(q[i]), sigma_q**2), "query components have variance $\\sigma_q^2$")
class iverson(Notation):  # noqa: N801 - Iverson's bracket, as derivation softmax-gradient
    """``iverson(a, b)`` = [a = b]: 1 when a = b, else 0 (Kronecker's delta)."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return KroneckerDelta(a, b)

    def _latex(self, printer):
        a, b = (printer._print(x) for x in self.args)
        return rf"[{a} = {b}]"


def _s(index):
    return softmax(z[k_index], k_index, n, index)


jacobian_cited = cite(
    "softmax-gradient:jacobian",
    Eq(sp.Derivative(_s(i), z[j]), factors(_s(i), iverson(i, j) - _s(j))),
    "the softmax Jacobian: $J_{ii} = s_i (1 - s_i)$")
shift_cited = cite(
    "softmax-shift:shift",
    Eq(softmax(z[j] + Symbol("c", real=True), j, n, i), softmax(z[j], j, n, i)),
    "softmax ignores a constant added to every score")

# --- Definitions -----------------------------------------------------------------------------
TERM = Definition("terms of the score", X[i], factors(q[i], k[i]),
                  note="the $d_k$ products that make up $\\mathbf{q} \\cdot \\mathbf{k}$")
DEFINITIONS = (
    Definition("dot product", dot(q[i], k[i], i, d), dot.definition(q[i], k[i], i, d)),
    TERM,
)


# --- Claims: two facts of probability ---------------------------------------------------------
scale_variance = Claim(
    "scale_variance",
    "A constant factor comes out of the variance squared",
    start=Var(factors(lam, Y)),
    steps=(
        Step(lam**2 * Expect(Y**2) - lam**2 * Expect(Y) ** 2,
             "definition of Var; linearity of $\\mathbb{E}$ ($\\lambda$ is not random)",
             "expect"),
        Step(lam**2 * Var(Y), "definition of Var", "unfold"),
    ),
    on_sheet=False,
)

S = Sum(X[j], (j, 1, d))  # the sum of the d_k terms
i_in_range = Hypothesis(sp.Le(i, d), "$i$ is one of the $d_k$ indices")

row_covariance = Claim(
    "row_covariance",
    "A term is correlated with the sum only through itself",
    given=(i_in_range,),
    start=Cov(X[i], S),
    steps=(
        Step(Expect(Sum(X[i] * X[j], (j, 1, d))) - Expect(X[i]) * Expect(S),
             "definition of Cov; $X_i$ does not depend on $j$", "unfold+sum"),
        Step(Sum(Cov(X[i], X[j]), (j, 1, d)), "linearity of $\\mathbb{E}$; definition of Cov",
             "expect+unfold+sum"),
        Step(Sum(Cov(X[i], X[j]), (j, 1, i - 1)) + Sum(Cov(X[i], X[j]), (j, i, d)),
             "cut the sum before $j = i$", "join_sums"),
        Step(Sum(Cov(X[i], X[j]), (j, 1, i - 1)) + Cov(X[i], X[i])
             + Sum(Cov(X[i], X[j]), (j, i + 1, d)),
             "split off the term $j = i$", "align_sums"),
        Step(Var(X[i]), "the terms are uncorrelated: the sums over $j \\ne i$ vanish;"
             " $\\operatorname{Cov}[X_i, X_i] = \\operatorname{Var}[X_i]$", "doit+sum",
             using=(uncorrelated,)),
    ),
    on_sheet=False,
)

sum_variance = Claim(
    "sum_variance",
    "The variance of a sum of uncorrelated terms is the sum of their variances (Bienaymé)",
    start=Var(Sum(X[i], (i, 1, d))),
    steps=(
        Step(Expect(Sum(X[i] * S, (i, 1, d))) - Expect(S) ** 2,
             "definition of Var; $(\\sum_i X_i)^2 = \\sum_i X_i \\sum_j X_j$", "unfold+sum"),
        Step(Sum(Cov(X[i], S), (i, 1, d)), "linearity of $\\mathbb{E}$; definition of Cov",
             "expect+unfold+sum"),
        Step(Sum(Var(X[i]), (i, 1, d)), "each term is correlated with the sum only through"
             " itself", "sum", using=(row_covariance,)),
    ),
    on_sheet=False,
    note="Pairwise uncorrelated terms are enough; independence is not needed.",
)

# --- Claims: the score of a random query and key (Vaswani et al., footnote 4) ------------------
term_variance = Claim(
    "term_variance",
    "Each term of the score has variance 1",
    start=Var(factors(q[i], k[i])),
    steps=(
        Step(Expect(q[i] ** 2 * k[i] ** 2) - Expect(q[i] * k[i]) ** 2,
             "definition of Var", "unfold"),
        Step(Expect(q[i] ** 2) * Expect(k[i] ** 2) - Expect(q[i]) ** 2 * Expect(k[i]) ** 2,
             "$q_i$ and $k_i$ are independent", "expand", using=(indep_squares, indep_product)),
        Step((Var(q[i]) + Expect(q[i]) ** 2) * (Var(k[i]) + Expect(k[i]) ** 2)
             - Expect(q[i]) ** 2 * Expect(k[i]) ** 2,
             "$\\mathbb{E}[x^2] = \\operatorname{Var}[x] + \\mathbb{E}[x]^2$ (definition of Var)",
             "unfold+expand"),
        Step(sp.Integer(1), "mean 0, variance 1", "expand",
             using=(mean_q, mean_k, var_q, var_k)),
    ),
    on_sheet=False,
)

score_mean = Claim(
    "score_mean",
    "The score has mean 0",
    given=(INDEPENDENT,),
    start=Expect(dot(q[i], k[i], i, d)),
    steps=(
        Step(Sum(Expect(factors(q[i], k[i])), (i, 1, d)), "linearity of $\\mathbb{E}$",
             "expect+sum"),
        Step(Sum(Expect(q[i]) * Expect(k[i]), (i, 1, d)), "$q_i$ and $k_i$ are independent",
             "sum", using=(indep_product,)),
        Step(sp.Integer(0), "mean 0", "sum", using=(mean_q, mean_k)),
    ), on_sheet=False,
)

score_variance = Claim(
    "score_variance",
    "The score has variance $d_k$",
    given=(INDEPENDENT,),
    start=Var(dot(q[i], k[i], i, d)),
    steps=(
        Step(Var(Sum(X[i], (i, 1, d))), "$\\mathbf{q} \\cdot \\mathbf{k} = \\sum_i q_i k_i$,"
             " $X_i = q_i k_i$", "definition"),
        Step(Sum(Var(X[i]), (i, 1, d)),
             "Bienaymé: independent components make the terms $X_i$ uncorrelated",
             "sum", using=(sum_variance,)),
        Step(Sum(Var(factors(q[i], k[i])), (i, 1, d)), "$X_i = q_i k_i$", "definition"),
        Step(d, "each term has variance 1", "sum", using=(term_variance,)),
    ),
    where=(TERM,),
    note="So the score spreads like $\\sqrt{d_k}$: at $d_k = 128$ its standard deviation is"
         " 11.3, enough to push the softmax to a one-hot vector.",
)

scaled_variance = Claim(
    "scaled_variance",
    "Scaled by $1/\\sqrt{d_k}$, the score has variance 1 for every $d_k$",
    given=(INDEPENDENT,),
    start=Var(dot(q[i], k[i], i, d) / sqrt(d)),
    steps=(
        Step(Var(dot(q[i], k[i], i, d)) / d,
             "$\\operatorname{Var}[\\lambda Y] = \\lambda^2 \\operatorname{Var}[Y]$ with"
             " $\\lambda = 1/\\sqrt{d_k}$ (linearity of $\\mathbb{E}$)", "expect"),
        Step(sp.Integer(1), "the score has variance $d_k$", "cancel", using=(score_variance,)),
    ),
    note="This is why $\\operatorname{Attention}(Q, K, V)$ divides $QK^\\top$ by"
         " $\\sqrt{d_k}$.",
)

# --- Claims: one query against many keys -------------------------------------------------------
score_given = dot(q_fixed[i], k[i], i, d)  # the score of one key for the fixed query

query_offset = Claim(
    "query_offset",
    "Per query, every key's score has the same mean",
    start=ExpectGiven(score_given),
    steps=(
        Step(Sum(q_fixed[i] * ExpectGiven(k[i]), (i, 1, d)),
             "linearity of $\\mathbb{E}$; the query is fixed", "expect+sum"),
        Step(mu_k * Sum(q_fixed[i], (i, 1, d)), "key components have mean $\\mu_k$", "sum",
             using=(key_mean,)),
    ),
    on_sheet=False,
    note="The same for every key: the softmax ignores it (shift invariance), so only the spread"
         " of the scores around it matters.",
)

score_row = Sum(q_fixed[j] * k[j], (j, 1, d))  # the score, as a sum over j

query_row = Claim(
    "query_row",
    "Per query, a key component is correlated with the score only through itself",
    given=(i_in_range,),
    start=CovGiven(k[i], score_row),
    steps=(
        Step(ExpectGiven(Sum(q_fixed[j] * k[i] * k[j], (j, 1, d)))
             - ExpectGiven(k[i]) * ExpectGiven(score_row),
             "definition of Cov; $k_i$ does not depend on $j$", "unfold+sum"),
        Step(Sum(q_fixed[j] * CovGiven(k[i], k[j]), (j, 1, d)),
             "linearity of $\\mathbb{E}$ with the query fixed; definition of Cov",
             "expect+unfold+sum"),
        Step(Sum(q_fixed[j] * CovGiven(k[i], k[j]), (j, 1, i - 1))
             + Sum(q_fixed[j] * CovGiven(k[i], k[j]), (j, i, d)),
             "cut the sum before $j = i$", "join_sums"),
        Step(Sum(q_fixed[j] * CovGiven(k[i], k[j]), (j, 1, i - 1))
             + q_fixed[i] * CovGiven(k[i], k[i])
             + Sum(q_fixed[j] * CovGiven(k[i], k[j]), (j, i + 1, d)),
             "split off the term $j = i$", "align_sums"),
        Step(factors(q_fixed[i], sigma_k**2),
             "key components are uncorrelated, of variance $\\sigma_k^2$: the sums over"
             " $j \\ne i$ vanish", "doit+sum", using=(key_cov, key_var)),
    ),
    on_sheet=False,
)

query_variance = Claim(
    "query_variance",
    "Per query, the scores spread over the keys with variance $\\sigma_k^2 \\|\\mathbf{q}\\|^2$",
    start=VarGiven(score_given),
    steps=(
        Step(ExpectGiven(Sum(q_fixed[i] * k[i] * score_row, (i, 1, d)))
             - ExpectGiven(score_row) ** 2,
             "definition of Var; $(\\sum_i q_i k_i)^2 = \\sum_i q_i k_i \\sum_j q_j k_j$",
             "unfold+sum"),
        Step(Sum(q_fixed[i] * CovGiven(k[i], score_row), (i, 1, d)),
             "linearity of $\\mathbb{E}$ with the query fixed; definition of Cov",
             "expect+unfold+sum"),
        Step(Sum(q_fixed[i] * factors(q_fixed[i], sigma_k**2), (i, 1, d)),
             "each key component is correlated with the score only through itself", "sum",
             using=(query_row,)),
        Step(sigma_k**2 * vnorm(q_fixed[i], i, d) ** 2,
             "$\\sum_i q_i^2 = \\|\\mathbf{q}\\|^2$", "unfold+sum"),
    ),
    note="Conditional on the query, the common offset $\\mu_k \\sum_i q_i$ of the scores is the"
         " same for every key and the softmax ignores it (shift invariance, derivation"
         " softmax-shift); what saturates the softmax is this"
         " spread. Scaled by $1/\\sqrt{d_k}$ it is $\\sigma_k^2 \\|\\mathbf{q}\\|^2 / d_k$, whose"
         " mean over queries is $\\sigma_k^2 (\\sigma_q^2 + \\mu_q^2)$ for query components"
         " of mean $\\mu_q$ and variance $\\sigma_q^2$, whatever $d_k$.", on_sheet=False,
)

expected_query_variance = Claim(
    "expected_query_variance",
    "Averaged over queries, the per-query spread is $d_k \\sigma_k^2 (\\sigma_q^2 + \\mu_q^2)$",
    start=Expect(sigma_k**2 * vnorm(q[i], i, d) ** 2),
    steps=(
        Step(sigma_k**2 * Sum(Expect(q[i] ** 2), (i, 1, d)),
             "$\\|\\mathbf{q}\\|^2 = \\sum_i q_i^2$; linearity of $\\mathbb{E}$",
             "unfold+expect+sum"),
        Step(sigma_k**2 * Sum(Var(q[i]) + Expect(q[i]) ** 2, (i, 1, d)),
             "definition of Var", "unfold+sum"),
        Step(factors(d, sigma_k**2, group(sigma_q**2, mu_q**2)),
             "query components have mean $\\mu_q$ and variance $\\sigma_q^2$", "unfold+sum",
             using=(query_mean, query_var)),
    ),
    on_sheet=False,
    note="Divided by $d_k$: $\\sigma_k^2 (\\sigma_q^2 + \\mu_q^2)$, independent of $d_k$."
         " The mean of the keys, $\\mu_k$, does not appear: it only shifts every score of a"
         " query alike.",
)

# --- Claims: why large scores hurt ---------------------------------------------------------
s = [softmax(z[j], j, n, index) for index in (i, 1)]  # s_i and the largest weight s_1

saturation = Claim(
    "saturation",
    "A saturated softmax passes almost no gradient",
    given=(jacobian_cited,),
    start=Sum(factors(s[0], 1 - s[0]), (i, 1, n)),
    steps=(
        Step(Sum(s[0], (i, 1, n)) - Sum(s[0] ** 2, (i, 1, n)), "multiply out", "unfold+sum"),
        Step(1 - Sum(s[0] ** 2, (i, 1, n)), "the weights sum to 1",
             "unfold+factor_sum+sum+cancel"),
        Step(1 - s[1] ** 2 - Sum(s[0] ** 2, (i, 2, n)), "split off the term $i = 1$",
             "align_sums"),
        Step(1 - s[1] ** 2, "drop a sum of squares", "nonneg", rel="<="),
        Step(factors(2, 1 - s[1]), "$2(1 - s_1) - (1 - s_1^2) = (1 - s_1)^2 \\ge 0$",
             rel="<=", certificate=(1 - softmax.definition(z[j], j, n, 1)) ** 2),
    ),
    note="The left side is the trace of the Jacobian $J = \\operatorname{diag}(s) - s s^\\top$"
         " of $s = \\operatorname{softmax}(z)$; $J$ is positive semi-definite, so its trace"
         " bounds its largest eigenvalue: every gradient through the softmax shrinks by at"
         " least the factor $2(1 - s_1)$, $s_1$ its largest weight. Unscaled scores of spread"
         " $\\sqrt{d_k}$ push $s_1$ to 1.", on_sheet=False,
)

# --- Numeric checks ------------------------------------------------------------------------
# Exact routes: a distribution with finitely many values is enumerated, so its moments are
# exact sums over every outcome (no sampling error), computed without the claimed formula.
RADEMACHER = (np.array([-1.0, 1.0]), np.array([0.5, 0.5]))  # mean 0, variance 1
THREE_POINT = (np.array([-np.sqrt(1.5), 0.0, np.sqrt(1.5)]), np.full(3, 1 / 3))  # mean 0, var 1


def two_point(mean: float, sd: float, p: float) -> tuple[np.ndarray, np.ndarray]:
    """A skewed two-point law with the given mean and standard deviation (P(high) = p)."""
    a = np.sqrt((1 - p) / p)
    return np.array([mean - sd / a, mean + sd * a]), np.array([1 - p, p])


def exact_moments(law: tuple[np.ndarray, np.ndarray], dims: int, fn) -> tuple[float, float]:
    """E[f] and Var[f] of ``fn(components)`` over ``dims`` i.i.d. components of ``law``, summed
    over every one of the ``len(values)**dims`` outcomes with its probability."""
    values, probs = law
    index = np.indices((values.size,) * dims).reshape(dims, -1).T
    weights = np.prod(probs[index], axis=1)
    f = fn(values[index])
    mean = float(weights @ f)
    return mean, float(weights @ (f - mean) ** 2)


def check_score_variance(rng: np.random.Generator, formula) -> Measurement:
    """Var[q . k] by exact enumeration of every outcome (independent components, mean 0,
    variance 1: Rademacher for d_k = 1..6, a three-point law for d_k = 1..3) against d_k."""
    worst, cases = 0.0, 0
    for law, dims in ((RADEMACHER, range(1, 7)), (THREE_POINT, range(1, 3))):
        for dim in dims:
            _, var = exact_moments(law, 2 * dim, lambda o, m=dim: np.sum(o[:, :m] * o[:, m:], 1))
            worst = max(worst, abs(float(formula(d_k=dim)) - var) / var)
            cases += 1
    return Measurement(worst, cases, 1e-12, "exact variance of q . k over every outcome"
                       " (Rademacher d_k = 1..6, three-point d_k = 1..2), relative to the claim")


def check_scaled_variance(rng: np.random.Generator, formula) -> Measurement:
    """Var[q . k / sqrt(d_k)] by exact enumeration at d_k = 1..6, against the claim's value."""
    worst = 0.0
    for dim in range(1, 7):
        _, var = exact_moments(RADEMACHER, 2 * dim,
                               lambda o, m=dim: np.sum(o[:, :m] * o[:, m:], 1) / np.sqrt(m))
        worst = max(worst, abs(float(formula()) - var))
    return Measurement(worst, 6, 1e-12, "exact variance of the scaled score, Rademacher"
                       " components, d_k = 1..6, minus the claimed value")


def check_query_variance(rng: np.random.Generator, formula) -> Measurement:
    """Var over keys of q . k for a fixed q, by exact enumeration of skewed two-point keys with
    mean mu_k != 0, against sigma_k^2 |q|^2; the mean square E[(q.k)^2] would be far off."""
    worst, cases = 0.0, 0
    for dim in (1, 3, 5, 8):
        for _ in range(3):
            query = rng.normal(size=dim) + 0.5
            mean, sd, p = float(rng.uniform(-2, 2)), float(rng.uniform(0.3, 2)), 0.2
            _, var = exact_moments(two_point(mean, sd, p), dim, lambda o, v=query: o @ v)
            got = float(formula(sigma_k=sd, q_given=query, d_k=dim))
            worst = max(worst, abs(got - var) / var)
            cases += 1
    return Measurement(worst, cases, 1e-12, "exact variance over two-point keys (mean up to"
                       " +-2, skewed) of q . k for fixed q, d_k in {1, 3, 5, 8}, relative")


def check_expected_query_variance(rng: np.random.Generator, formula) -> Measurement:
    """sigma_k^2 E|q|^2 by exact enumeration of skewed two-point queries, against the claim."""
    worst, cases = 0.0, 0
    for dim in (1, 2, 4, 7):
        mean, sd, sk = float(rng.uniform(-2, 2)), float(rng.uniform(0.3, 2)), 1.7
        expected, _ = exact_moments(two_point(mean, sd, 0.3), dim, lambda o: np.sum(o**2, 1))
        got = float(formula(d_k=dim, sigma_k=sk, sigma_q=sd, mu_q=mean))
        worst = max(worst, abs(got - sk**2 * expected) / (sk**2 * expected))
        cases += 1
    return Measurement(worst, cases, 1e-12, "sigma_k^2 E|q|^2 by exact enumeration of two-point"
                       " query components (mean up to +-2), d_k in {1, 2, 4, 7}, relative")


def _jacobian_trace(logits: np.ndarray, step: float = 1e-5) -> float:
    """tr J of softmax by central differences of llmsym.numeric.softmax."""
    from llmsym.numeric import softmax as sm

    total = 0.0
    for col in range(logits.size):
        e = np.zeros_like(logits)
        e[col] = step
        total += (sm(logits + e)[col] - sm(logits - e)[col]) / (2 * step)
    return total


def check_saturation(rng: np.random.Generator, formula) -> Measurement:
    """The bound 2(1 - s_1) against tr J by finite differences: never below it, and within
    2 % of it once the softmax saturates (so a looser bound fails). Rows put their largest
    logit first, ahead of the rest by a gap of 0 to 10."""
    violation, tightness, cases = 0.0, np.inf, 0
    for gap in (0.0, 1.0, 3.0, 6.0, 8.0, 10.0):
        for _ in range(5):
            logits = rng.normal(size=int(rng.integers(2, 12)))
            logits[0] = logits.max() + gap
            trace = _jacobian_trace(logits)
            bound = float(formula(z=logits, n=logits.size))
            violation = max(violation, (trace - bound) / trace)
            if trace < 2e-3:  # saturated: the largest weight is within about 1e-3 of 1
                tightness = min(tightness, bound / trace - 1)
            cases += 1
    if not np.isfinite(tightness):
        return Measurement(float("inf"), cases, 0.02, "no saturated row was drawn")
    return Measurement(max(violation, tightness), cases, 0.02,
                       f"tr J (central differences) over the bound: worst excess {violation:.1e};"
                       f" on saturated rows the bound exceeds tr J by at most {tightness:.1e}")


def check_saturation_experiment(rng: np.random.Generator) -> Measurement:
    """Experiment: unscaled scores of random unit-variance q, k saturate the softmax over 16
    keys as d_k grows (largest weight -> 1, tr J -> 0); scaled scores do not."""
    keys, trials = 16, 100
    rows = {}
    for dim in (16, 1024):
        scores = np.einsum("tkd,td->tk", rng.standard_normal((trials, keys, dim)),
                           rng.standard_normal((trials, dim)))
        for name, factor in (("unscaled", 1.0), ("scaled", 1 / np.sqrt(dim))):
            w = np.exp(scores * factor - (scores * factor).max(axis=1, keepdims=True))
            w /= w.sum(axis=1, keepdims=True)
            rows[name, dim] = (float(np.median(w.max(axis=1))),
                               float(np.mean(1 - np.sum(w**2, axis=1))))
    ok = rows["unscaled", 1024][0] > 0.99 and rows["scaled", 1024][1] > 0.5
    detail = "; ".join(f"{name} d_k = {dim}: median max weight {mw:.3f}, mean tr J {tr:.3f}"
                       for (name, dim), (mw, tr) in rows.items())
    return Measurement(0.0 if ok else float("inf"), 4 * trials, 0.0, detail)


def example_head_dimension():
    """Standard deviation of the unscaled score at common head sizes (claim score_variance)."""
    cells = ", ".join(f"{dim}: {np.sqrt(dim):.3g}" for dim in (64, 128, 256))
    return ("standard deviation of $\\mathbf{q} \\cdot \\mathbf{k}$ for independent unit-variance,"
            " zero-mean components, by $d_k$; divided by $\\sqrt{d_k}$ it is 1",
            r"\operatorname{sd}[\mathbf{q} \cdot \mathbf{k}] = \sqrt{d_k}:\ " + cells)


# --- The derivation ---------------------------------------------------------------------------
DERIVATION = Derivation(
    id="attention-scaling",
    title="Why attention scales its scores by $1/\\sqrt{d_k}$",
    topic="Attention",
    order=30,
    gloss="A dot product of $d_k$ independent unit-variance terms has variance $d_k$; dividing"
          " by $\\sqrt{d_k}$ keeps the scores of one query from saturating the softmax, whose"
          " gradient vanishes when it saturates.",
    assumptions=(
        "$\\mathbf{q}, \\mathbf{k} \\in \\mathbb{R}^{d_k}$ are random vectors; each claim"
        " displays what it assumes about their components.",
        "$\\mathbb{E}$ is linear; independence, moments and uncorrelatedness are hypotheses.",
    ),
    definitions=DEFINITIONS,
    claims=(scale_variance, row_covariance, sum_variance, term_variance, score_mean, score_variance,
            scaled_variance, query_offset, query_row, query_variance, expected_query_variance,
            saturation),
    checks=(
        NumericCheck("score-variance", check_score_variance,
                     "Var of $\\mathbf{q} \\cdot \\mathbf{k}$ by exact enumeration of every"
                     " outcome (Rademacher and three-point components).",
                     claim="score_variance"),
        NumericCheck("scaled-variance", check_scaled_variance,
                     "Exact variance of the scaled score, $d_k = 1..6$.",
                     claim="scaled_variance"),
        NumericCheck("query-variance", check_query_variance,
                     "Exact variance over skewed keys with non-zero mean, for fixed queries.",
                     claim="query_variance"),
        NumericCheck("expected-query-variance", check_expected_query_variance,
                     "$\\sigma_k^2\\,\\mathbb{E}\\|\\mathbf{q}\\|^2$ by exact enumeration.",
                     claim="expected_query_variance"),
        NumericCheck("saturation-bound", check_saturation,
                     "$2(1 - s_1)$ against the trace of the softmax Jacobian by central"
                     " differences: a bound, and tight when the softmax saturates.",
                     claim="saturation"),
        NumericCheck("saturation", check_saturation_experiment,
                     "Experiment: unscaled scores saturate the softmax over 16 keys at"
                     " $d_k = 1024$; scaled scores do not."),
    ),
    results=(
        Result("score_variance", d, params=(d,),
               doc="variance of q . k for independent zero-mean unit-variance components",
               claim="score_variance"),
        Result("per_query_score_variance", d * sigma_k**2 * (sigma_q**2 + mu_q**2),
               params=(d, sigma_k, sigma_q, mu_q),
               doc="expected variance over keys of the unscaled scores of one query",
               claim="expected_query_variance"),
    ),
    notation={
        X: "random variables with finite variance",
        Y: "a random variable",
        lam: "a constant",
        sigma_k: "standard deviation of each key component",
        sigma_q: "standard deviation of each query component",
        mu_q: "mean of each query component",
        mu_k: "mean of each key component",
    },
    sources=(
        "Vaswani et al., Attention Is All You Need (2017), section 3.2.1 and footnote 4: mean 0"
        " and variance $d_k$ for independent unit-variance components.",
        "Bienaymé (1853); any probability text, e.g. Grimmett and Stirzaker, Probability and"
        " Random Processes, section 3.3: the variance of a sum of uncorrelated variables.",
        "Goodfellow, Bengio and Courville, Deep Learning (2016), section 6.2.2.3: softmax"
        " saturation and vanishing gradients.",
    ),
    examples=(example_head_dimension,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
