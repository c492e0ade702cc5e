"""Information theory: entropy bounds, conditional entropy, mutual information, bits and nats.

Main results
    entropy_nonneg       p_i = e^{-xi_i}, xi_i >= 0 (every p_i <= 1)  ⊢  H(p) >= 0, through
                         H(p) >= sum_i p_i (1 - p_i), zero only for a point mass
    entropy_gap          sum p = 1  ⊢  H(p) = log n - KL(p || u), u the uniform distribution
    entropy_max          sum p = 1  ⊢  H(p) <= log n     (equality only at p = u)
    chain_rule           H(X, Y) = H(X) + H(Y | X)
    mi_entropy           I(X; Y) = H(X) - H(X | Y)
    mi_nonneg            sum_y p(y) = 1  ⊢  I(X; Y) >= 0
    bits                 H_bits(p) = H(p) / log 2

X and Y take n_X and n_Y values with joint probabilities p(x, y) > 0 (a cell of
probability 0 adds nothing: 0 log 0 = 0); p(x) = sum_y p(x, y) and
p(y) = sum_x p(x, y) are the marginals. I(X; Y) is the KL divergence of the joint
from the product of the marginals. Every table sum is taken row by row (x outer):
each identity is first proved for one row x, with single sums over y, then summed.

Run on its own: ``python derivations/information_theory.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, IndexedBase, Sum, Symbol, exp, log, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import KL, Named, Notation, entropy, factors, gibbs_gap, minus, terms

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of outcomes
i = Symbol("i", integer=True, positive=True)  # outcome index
p = IndexedBase("p", positive=True)  # a distribution over n outcomes
xi = IndexedBase("xi", nonnegative=True)  # surprisal xi_i = -log p_i
n_x, n_y = symbols("n_X n_Y", integer=True, positive=True)  # values of X and of Y
x, y = symbols("x y", integer=True, positive=True)  # a value of X, of Y
P = IndexedBase("p_xy", positive=True)  # the joint table p(x, y)
# the marginal of Y as its own vector, defined below as sum_x p(x, y): its sum over y is then
# a single sum (SymPy would merge sum_y sum_x into one two-index sum the tactics cannot split)
R = IndexedBase(Named("p_Y", r"p_{Y}", positive=True))

# --- Notation: a joint distribution, row by row -----------------------------------------


class joint(Notation):  # noqa: N801
    """``joint(x, y)``: p(x, y), the probability that X = x and Y = y."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return P[a, b]

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        a, b = (printer._print(v) for v in self.args)
        return rf"p({a}, {b})"


class marginal_x(Notation):  # noqa: N801
    """``marginal_x(x, n_Y)``: p(x) = sum_y p(x, y)."""

    nargs = 2

    @classmethod
    def definition(cls, a, size):
        return Sum(joint(a, y), (y, 1, size))

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return rf"p({printer._print(self.args[0])})"


class marginal_y(Notation):  # noqa: N801
    """``marginal_y(y, n_X)``: p(y), the marginal of Y (the vector p_Y := sum_x p(x, y))."""

    nargs = 2

    @classmethod
    def definition(cls, b, size):
        return R[b]

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return rf"p({printer._print(self.args[0])})"


def px(a=x):
    return marginal_x(a, n_y)


def py(b=y):
    return marginal_y(b, n_x)


def _row_body(kind: str, a):
    """One cell's term of a row sum of kind ``kind`` (see :class:`Row`)."""
    pxy = joint(a, y)
    return {
        "joint": -factors(pxy, log(pxy)),
        "y_given_x": -factors(pxy, log(pxy / px(a))),
        "x_given_y": -factors(pxy, log(pxy / py(y))),
        "info": factors(pxy, log(pxy / (px(a) * py(y)))),
        "gap": factors(pxy, gibbs_gap(px(a) * py(y) / pxy)),
    }[kind]


class Row(Notation):
    """One row x of a table sum: a single sum over y, printed as that sum.

    Kinds: ``joint`` -sum_y p log p; ``y_given_x`` -sum_y p log(p/p(x));
    ``x_given_y`` -sum_y p log(p/p(y)); ``info`` sum_y p log(p/(p(x)p(y)));
    ``gap`` sum_y p g(p(x)p(y)/p), non-negative term by term (Gibbs).
    """

    nargs = 1
    kind = ""

    @classmethod
    def definition(cls, a):
        return Sum(_row_body(cls.kind, a), (y, 1, n_y))

    def _latex(self, printer):
        body = _row_body(self.kind, self.args[0])
        if body.could_extract_minus_sign():  # -sum_y p log(...), as papers write it
            return "- " + printer._print(Sum(-body, (y, 1, n_y)))
        return printer._print(Sum(body, (y, 1, n_y)))


class Table(Notation):
    """An information measure of (X, Y): the sum over x of its rows, printed by its name."""

    nargs = 0
    kind = ""
    name = ""

    @classmethod
    def definition(cls):
        return Sum(ROWS[cls.kind](x), (x, 1, n_x))

    def _latex(self, printer):
        return self.name


class row_gap(Row):  # noqa: N801
    kind = "gap"
    nonnegative_by = ("gibbs-inequality:gap_above_one", "gibbs-inequality:gap_below_one")

    def _eval_is_nonnegative(self):
        """Each term p(x, y) g(p(x)p(y)/p(x, y)) is a positive weight times a Gibbs gap."""
        b = sp.Dummy("y", integer=True, positive=True)
        pxy = joint(self.args[0], b)
        term = pxy * gibbs_gap(px(self.args[0]) * py(b) / pxy)
        return True if term.is_nonnegative else None


ROWS = {kind: type(f"row_{kind}", (Row,), {"kind": kind})
        for kind in ("joint", "y_given_x", "x_given_y", "info")}
ROWS["gap"] = row_gap
TABLES = {kind: type(f"table_{kind}", (Table,), {"kind": kind, "name": name})
          for kind, name in (("joint", "H(X, Y)"), ("y_given_x", r"H(Y \mid X)"),
                             ("x_given_y", r"H(X \mid Y)"), ("info", "I(X; Y)"))}


def row_of(kind: str, a=x):
    return ROWS[kind](a)


def measure(kind: str):
    return TABLES[kind]()


class entropy_x(Notation):  # noqa: N801
    """H(X) = -sum_x p(x) log p(x)."""

    nargs = 0

    @classmethod
    def definition(cls):
        return -Sum(factors(px(), log(px())), (x, 1, n_x))

    def _latex(self, printer):
        return "H(X)"


class entropy_bits(Notation):  # noqa: N801
    """``entropy_bits(p_i, i, n)`` = -sum_i p_i log_2 p_i."""

    nargs = 3
    bound = (1,)

    @classmethod
    def definition(cls, body, index, size):
        return -Sum(body * log(body, 2), (index, 1, size))

    def _latex(self, printer):
        return r"H_{\mathrm{bits}}\left(\mathbf{p}\right)"


# --- Premises and definitions ------------------------------------------------------------
p_sums_to_one = Hypothesis(Eq(Sum(p[i], (i, 1, n)), 1), "$p$ is a distribution")
surprisal = Hypothesis(Eq(p[i], exp(-xi[i])), "every $p_i \\le 1$ (as in a distribution):"
                       " $p_i = e^{-\\xi_i}$ with surprisal $\\xi_i \\ge 0$")
cells_positive = Hypothesis("$p(x, y) > 0$ for every $x, y$", "every pair has positive"
                            " probability (a cell of probability 0 drops out: $0 \\log 0 = 0$)")
marginal_sums_to_one = Hypothesis(Eq(Sum(py(), (y, 1, n_y)), 1), "$p(x, y)$ is a joint"
                                  " distribution: the marginal of $Y$ sums to one")

DEFINITIONS = (
    Definition("marginal of X", px(), px().definition(x, n_y)),
    Definition("marginal of Y", R[y], Sum(joint(x, y), (x, 1, n_x))),
    Definition("joint entropy", measure("joint"), Sum(row_of("joint"), (x, 1, n_x))),
    Definition("conditional entropy", measure("y_given_x"), Sum(row_of("y_given_x"),
                                                                  (x, 1, n_x)),
               on_sheet=False, title="Conditional entropy"),
    Definition("conditional entropy of X", measure("x_given_y"), Sum(row_of("x_given_y"),
                                                                       (x, 1, n_x))),
    Definition("mutual information", measure("info"), Sum(row_of("info"), (x, 1, n_x)),
               on_sheet=False, title="Mutual information: the KL divergence of $p(x, y)$ from"
                                    " $p(x)p(y)$"),
    Definition("entropy of X", entropy_x(), entropy_x.definition()),
    Definition("entropy in bits", entropy_bits(p[i], i, n), entropy_bits.definition(p[i], i, n)),
)

# --- Claims: bounds on entropy -----------------------------------------------------------
entropy_nonneg = Claim(
    "entropy_nonneg",
    "Entropy is never negative, zero only for a point mass",
    given=(surprisal,),
    start=entropy(p[i], i, n),
    steps=(
        Step(Sum(p[i] * (1 - p[i]), (i, 1, n)), "entropy is at least the Gini impurity",
             rel=">=", certificate=Sum(p[i] * gibbs_gap(p[i]), (i, 1, n))),
        Step(Sum(exp(-xi[i]) * (1 - exp(-xi[i])), (i, 1, n)), "$p_i = e^{-\\xi_i}$", "expand",
             using=(surprisal,)),
        Step(0, "$1 - e^{-\\xi} = e^{-\\xi}(\\xi + g(e^{\\xi})) \\ge 0$ for $\\xi \\ge 0$",
             rel=">=", certificate=Sum(exp(-2 * xi[i]) * (xi[i] + gibbs_gap(exp(xi[i]))),
                                       (i, 1, n))),
    ),
    note="The middle line $\\sum_i p_i(1 - p_i)$ vanishes only when every $p_i \\in \\{0, 1\\}$:"
         " for a distribution, only for a point mass, whose entropy is 0.", on_sheet=False,
)

uniform = 1 / n

entropy_gap = Claim(
    "entropy_gap",
    "Entropy is $\\log n$ minus the divergence from uniform",
    given=(p_sums_to_one,),
    start=entropy(p[i], i, n),
    steps=(Step(minus(log(n), KL(p[i], uniform, i, n)),
                "$\\operatorname{KL}(p \\| u) = \\sum_i p_i \\log(n p_i) = \\log n - H(p)$ when"
                " $\\sum_i p_i = 1$", "unfold+sum+expand_log", using=(p_sums_to_one,)),),
    on_sheet=False,
)

entropy_max = Claim(
    "entropy_max",
    "Entropy is at most $\\log n$, attained only by the uniform distribution",
    given=(p_sums_to_one,),
    start=entropy(p[i], i, n),
    steps=(
        Step(minus(log(n), KL(p[i], uniform, i, n)), "entropy is $\\log n$ minus the divergence"
             " from uniform", "expand", using=(entropy_gap,)),
        Step(minus(log(n), Sum(p[i] - uniform, (i, 1, n))),
             "Gibbs: $\\operatorname{KL}(p \\| u) - \\sum_i (p_i - 1/n) = \\sum_i p_i\\,"
             " g(1/(n p_i)) \\ge 0$", rel="<=",
             certificate=Sum(p[i] * gibbs_gap(uniform / p[i]), (i, 1, n))),
        Step(log(n), "$\\sum_i p_i = 1 = \\sum_i 1/n$", "sum", using=(p_sums_to_one,)),
    ),
    note="$H(p) = \\log n - \\operatorname{KL}(p \\| u)$ with $u_i = 1/n$, and KL vanishes only"
         " at $p = u$ (gibbs-inequality).",
)

# --- Claims: joint distributions, row by row -------------------------------------------
row_chain = Claim(
    "row_chain",
    "One row of the joint entropy",
    start=row_of("joint"),
    steps=(Step(-factors(px(), log(px())) + row_of("y_given_x"),
                "$\\log p(x, y) = \\log p(x) + \\log(p(x, y)/p(x))$ and $\\sum_y p(x, y) = p(x)$",
                "expand_log+unfold+sum"),),
    on_sheet=False,
)

chain_rule = Claim(
    "chain_rule",
    "Chain rule of entropy",
    given=(cells_positive,),
    start=measure("joint"),
    steps=(
        Step(Sum(row_of("joint"), (x, 1, n_x)), "row by row", "unfold"),
        Step(Sum(-factors(px(), log(px())) + row_of("y_given_x"), (x, 1, n_x)),
             "each row", "expand", using=(row_chain,)),
        Step(terms(entropy_x(), measure("y_given_x")), "split the sum: definitions of $H(X)$"
             " and $H(Y \\mid X)$", "unfold+sum"),
    ),
    note="The uncertainty of the pair is that of $X$ plus what remains of $Y$ once $X$ is"
         " known; by induction, $H(X_1, \\dots, X_s) = \\sum_t H(X_t \\mid X_{<t})$.",
    on_sheet=False,
)

row_info = Claim(
    "row_info",
    "One row of the mutual information",
    start=row_of("info"),
    steps=(Step(-factors(px(), log(px())) - row_of("x_given_y"),
                "$\\log \\frac{p(x, y)}{p(x)p(y)} = \\log\\frac{p(x, y)}{p(y)} - \\log p(x)$ and"
                " $\\sum_y p(x, y) = p(x)$", "expand_log+unfold+sum"),),
    on_sheet=False,
)

mi_entropy = Claim(
    "mi_entropy",
    "Mutual information is the entropy that $Y$ removes from $X$",
    given=(cells_positive,),
    start=measure("info"),
    steps=(
        Step(Sum(row_of("info"), (x, 1, n_x)), "row by row", "unfold"),
        Step(Sum(-factors(px(), log(px())) - row_of("x_given_y"), (x, 1, n_x)), "each row",
             "expand", using=(row_info,)),
        Step(minus(entropy_x(), measure("x_given_y")), "split the sum: definitions of $H(X)$"
             " and $H(X \\mid Y)$", "unfold+sum"),
    ),
    note="Symmetrically $I(X; Y) = H(Y) - H(Y \\mid X)$.", on_sheet=False,
)

row_gibbs = Claim(
    "row_gibbs",
    "One row of the mutual information as Gibbs gaps",
    start=row_of("info"),
    steps=(Step(terms(row_of("gap"), px(), -px() * Sum(py(), (y, 1, n_y))),
                "$p\\, g(p(x)p(y)/p) = p(x)p(y) - p + p \\log\\frac{p}{p(x)p(y)}$",
                "unfold+expand_log+sum"),),
    on_sheet=False,
)

mi_nonneg = Claim(
    "mi_nonneg",
    "Mutual information is never negative",
    given=(cells_positive, marginal_sums_to_one),
    start=measure("info"),
    steps=(
        Step(Sum(row_of("info"), (x, 1, n_x)), "row by row", "unfold"),
        Step(Sum(row_of("gap"), (x, 1, n_x)), "each row as Gibbs gaps, with"
             " $\\sum_y p(y) = 1$", "sum", using=(row_gibbs, marginal_sums_to_one)),
        Step(0, "each row is a sum of $p(x, y)\\, g(\\cdot) \\ge 0$", "nonneg", rel=">="),
    ),
    note="Zero only when $p(x, y) = p(x)p(y)$ everywhere: independence. Hence"
         " $H(X \\mid Y) \\le H(X)$: conditioning never increases entropy on average.",
    on_sheet=False,
)

bits = Claim(
    "bits",
    "Bits are nats divided by $\\log 2$",
    start=entropy_bits(p[i], i, n),
    steps=(Step(entropy(p[i], i, n) / log(2), "$\\log_2 a = \\log a / \\log 2$", "unfold+sum"),),
    note="A fair coin has 1 bit $= \\log 2 \\approx 0.693$ nats of entropy.", on_sheet=False,
)

# --- Numeric checks ------------------------------------------------------------------


def _distribution(rng: np.random.Generator) -> np.ndarray:
    size = int(rng.integers(1, 30))
    p_ = rng.dirichlet(np.full(size, rng.choice([0.2, 1.0, 20.0]))) + 1e-12
    return p_ / p_.sum()


def _table(rng: np.random.Generator) -> np.ndarray:
    rows, cols = (int(v) for v in rng.integers(1, 6, size=2))
    t = rng.dirichlet(np.full(rows * cols, rng.choice([0.3, 1.0]))).reshape(rows, cols) + 1e-12
    if rng.random() < 0.25:  # independent: I = 0
        t = np.outer(rng.dirichlet(np.ones(rows)), rng.dirichlet(np.ones(cols))) + 1e-12
    return t / t.sum()


def check_nonneg(rng: np.random.Generator, formula) -> Measurement:
    """H(p) from the claim's left side against numeric entropy, and never negative."""
    from llmsym.numeric import entropy as ent

    worst, cases = 0.0, 30
    for _ in range(cases):
        p_ = _distribution(rng)
        got = float(formula(p=p_, n=p_.size))
        worst = max(worst, abs(got - float(ent(p_))) / max(1.0, got), -got)
    return Measurement(max(worst, 0.0), cases, 1e-13,
                       "H(p) from the formula vs numeric entropy, and -H (never positive)")


def check_max(rng: np.random.Generator, formula) -> Measurement:
    """log n from the claim: never below the numeric entropy, equal to it at uniform p."""
    from llmsym.numeric import entropy as ent

    worst, cases = 0.0, 30
    for case in range(cases):
        p_ = _distribution(rng) if case % 3 else np.full(int(rng.integers(1, 1000)), 0.0)
        if case % 3 == 0:
            p_ += 1.0 / p_.size
        bound = float(formula(n=p_.size))
        h = float(ent(p_))
        worst = max(worst, (h - bound) / max(1.0, bound))
        if case % 3 == 0:
            worst = max(worst, abs(h - bound) / max(1.0, bound))
    return Measurement(max(worst, 0.0), cases, 1e-13,
                       "how far numeric H(p) exceeds log n, and |H(u) - log n| at uniform u")


def _tied_table_check(name: str, reference):
    def check(rng: np.random.Generator, formula) -> Measurement:
        worst, cases = 0.0, 30
        for _ in range(cases):
            t = _table(rng)
            got = float(formula(p_xy=t, p_Y=t.sum(axis=0), n_X=t.shape[0], n_Y=t.shape[1]))
            ref = float(reference(t))
            worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
        return Measurement(worst, cases, 1e-12,
                           f"{name} from the formula vs llmsym.numeric.joint_info on random"
                           " joint tables up to 5 x 5 (a quarter independent)")

    return check


def _chain_reference(t: np.ndarray) -> float:
    from llmsym.numeric import joint_entropy

    return joint_entropy(t)


def _mi_reference(t: np.ndarray) -> float:
    from llmsym.numeric import mutual_information

    return mutual_information(t)


def check_bits(rng: np.random.Generator, formula) -> Measurement:
    """H(p)/log 2 from the claim against joint_entropy(..., unit="bits") of a one-row table."""
    from llmsym.numeric import joint_entropy

    worst, cases = 0.0, 30
    for _ in range(cases):
        p_ = _distribution(rng)
        ref = joint_entropy(p_[None, :], unit="bits")
        worst = max(worst, abs(float(formula(p=p_, n=p_.size)) - ref) / max(1.0, ref))
    return Measurement(worst, cases, 1e-13,
                       "H(p)/log 2 from the formula vs numeric entropy in bits")


def example_die() -> tuple[str, str]:
    """A fair die and a fair coin, in bits and nats."""
    from llmsym.numeric import joint_entropy

    die = joint_entropy(np.full((1, 6), 1 / 6), unit="bits")
    coin = joint_entropy(np.full((1, 2), 1 / 2), unit="bits")
    return ("entropy of a fair die and of a fair coin",
            rf"H(\text{{die}}) = \log_2 6 = {die:.3f}\ \text{{bits}} = {die * np.log(2):.3f}"
            rf"\ \text{{nats}},\quad H(\text{{coin}}) = {coin:.0f}\ \text{{bit}}")


def example_channel() -> tuple[str, str]:
    """A fair bit sent through a channel that flips it with probability 0.1."""
    from llmsym.numeric import conditional_entropy, mutual_information

    flip = 0.1
    t = 0.5 * np.array([[1 - flip, flip], [flip, 1 - flip]])
    return ("a fair bit $X$ through a channel that flips it with probability 0.1",
            rf"I(X; Y) = 1 - H_2(0.1) = {mutual_information(t, unit='bits'):.3f}\ \text{{bits}},"
            rf"\quad H(X \mid Y) = {conditional_entropy(t, unit='bits'):.3f}\ \text{{bits}}")


# --- The derivation ------------------------------------------------------------------------
DERIVATION = Derivation(
    id="information-theory",
    title="Information theory: entropy bounds, conditional entropy, mutual information",
    topic="Information theory",
    order=24,
    gloss="$0 \\le H(p) \\le \\log n$; the entropy of a pair splits into a part and what remains"
          " of the other; mutual information is what one variable tells about the other, never"
          " negative.",
    assumptions=(
        "$p$ is a distribution over $n$ outcomes; $X, Y$ take $n_X, n_Y$ values with joint"
        " probabilities $p(x, y) > 0$ and marginals $p(x) = \\sum_y p(x, y)$,"
        " $p(y) = \\sum_x p(x, y)$.",
        "Logarithms are natural (nats) unless written $\\log_2$ (bits).",
    ),
    definitions=DEFINITIONS,
    claims=(entropy_nonneg, entropy_gap, entropy_max, row_chain, chain_rule,
            row_info, mi_entropy, row_gibbs, mi_nonneg, bits),
    checks=(
        NumericCheck("nonneg", check_nonneg, "$H(p)$ against the numeric entropy; never"
                     " negative.", claim="entropy_nonneg", side="start"),
        NumericCheck("max", check_max, "$\\log n$ above the numeric entropy, equal at"
                     " uniform.", claim="entropy_max"),
        NumericCheck("chain-rule", _tied_table_check("H(X) + H(Y|X)", _chain_reference),
                     "$H(X) + H(Y \\mid X)$ against the numeric joint entropy.",
                     claim="chain_rule"),
        NumericCheck("mi-entropy", _tied_table_check("H(X) - H(X|Y)", _mi_reference),
                     "$H(X) - H(X \\mid Y)$ against the numeric mutual information.",
                     claim="mi_entropy"),
        NumericCheck("mi", _tied_table_check("I(X;Y)", _mi_reference),
                     "$I(X; Y)$ against the numeric mutual information.", claim="mi_nonneg",
                     side="start"),
        NumericCheck("bits", check_bits, "$H(p)/\\log 2$ against the numeric entropy in bits.",
                     claim="bits"),
    ),
    notation={xi: "surprisal of an outcome, $\\xi_i = -\\log p_i$", n_x: "number of values of"
              " $X$", n_y: "number of values of $Y$", P: "the joint distribution $p(x, y)$",
              R: "the marginal distribution of $Y$, $p(y) = \\sum_x p(x, y)$"},
    sources=(
        "Shannon, A Mathematical Theory of Communication (1948), section 6: entropy and its"
        " bounds.",
        "Cover and Thomas, Elements of Information Theory, 2nd ed. (2006), sections 2.2-2.6:"
        " joint and conditional entropy, the chain rule, mutual information, and"
        " $H(X) \\le \\log |\\mathcal{X}|$.",
    ),
    examples=(example_die, example_channel),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
