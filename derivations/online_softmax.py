"""Online softmax (Milakov and Gimelshein 2018): one pass, exact, and no overflow.

Main results
    The pass reads the logits z_1, z_2, ... once and keeps two numbers:
        m_i = max(m_{i-1}, z_i)                                  (running maximum)
        l_i = l_{i-1} e^{m_{i-1} - m_i} + e^{z_i - m_i}           (running normaliser)
    from m_0 = -inf, l_0 = 0.
    exact        l_i = sum_{j<=i} e^{z_j - m_i}, for every i, by induction (for ANY
                 sequence of references m_i: the maximum is a choice, not a condition)
    softmax      e^{z_j - m_i} / l_i = softmax(z_1..z_i)_j
    no_overflow  m_i = max(z_1..z_i) >= z_j  ⊢  e^{z_j - m_i} <= 1: no exponential the
                 pass evaluates exceeds 1, so nothing overflows in float32 or bf16

Run on its own: ``python derivations/online_softmax.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, IndexedBase, Max, Sum, Symbol, exp, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Induction,
    Measurement,
    NumericCheck,
    Step,
    induction_hypothesis,
)
from llmsym.notation import Named, Notation, factors, softmax, terms

# --- Notation ----------------------------------------------------------------------------


class maxof(Notation):  # noqa: N801 - the name readers know
    """max(a, b), printed with its arguments in the order given (SymPy sorts Max's)."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return Max(a, b)

    def _latex(self, printer):
        return r"\max\left(%s, %s\right)" % tuple(printer._print(x) for x in self.args)


class running_normaliser(Notation):  # noqa: N801
    """``running_normaliser(z, m, i)``: l_i of the pass, from l_0 = 0 and
    l_t = l_{t-1} e^{m_{t-1} - m_t} + e^{z_t - m_t}, printed ``l_i``.

    For a concrete i it is the recurrence written out (so random points evaluate it); for a
    symbolic i it stays as it is, and the recurrence enters a proof only as the displayed
    hypotheses ``l_0 = 0`` and the update.
    """

    nargs = 3

    @classmethod
    def definition(cls, logits, refs, steps):
        total = sp.Integer(0)
        for t in range(1, int(steps) + 1):
            total = total * exp(refs[t - 1] - refs[t]) + exp(logits[t] - refs[t])
        return total

    def doit(self, **hints):
        steps = self.args[2]
        if steps.is_Integer and steps >= 0:
            return self.definition(*self.args)
        return self

    def _eval_evalf(self, prec):
        # a symbolic count has no value at a random point: the screen skips the point at once
        raise ValueError("the running normaliser is written out only for a concrete count")

    def _latex(self, printer):
        return r"\ell_{%s}" % printer._print(self.args[2])


# --- Symbols -------------------------------------------------------------------------------
i = Symbol("i", integer=True, nonnegative=True)  # logits read so far
j, k = symbols("j k", integer=True, positive=True)  # logit indices
z = IndexedBase("z", real=True)  # the logits, read in order
m = IndexedBase("m", real=True)  # the running reference: the running maximum in practice
ell_shown = IndexedBase(Named("ell", r"\ell", nonnegative=True), nonnegative=True)  # in defs
m_now = Symbol("m_i", real=True)  # the running maximum after i logits, in the bound


def ell(step):
    """The running normaliser after ``step`` logits."""
    return running_normaliser(z, m, step)


# --- Premises ------------------------------------------------------------------------------
empty = Hypothesis(Eq(ell(0), 0), "the pass starts from $\\ell_0 = 0$")
recurrence = Hypothesis(
    Eq(ell(i + 1), terms(factors(ell(i), exp(m[i] - m[i + 1])), exp(z[i + 1] - m[i + 1]))),
    "the update of the running normaliser, for each $i \\ge 0$")
below_max = Hypothesis(sp.Ge(m_now, z[j]), "$m_i = \\max(z_1, \\dots, z_i)$ and $j \\le i$")

# --- Definitions (on the face: the algorithm) ----------------------------------------------
DEFINITIONS = (
    Definition("running maximum", m[i], maxof(m[i - 1], z[i]), on_sheet=False,
               title="Online softmax: running maximum",
               note="$m_0 = -\\infty$; after the last logit $z_n$, $m_n = \\max_j z_j$."),
    Definition("running normaliser", ell_shown[i],
               terms(factors(ell_shown[i - 1], exp(m[i - 1] - m[i])), exp(z[i] - m[i])),
               on_sheet=False, title="Online softmax: running normaliser",
               note="$\\ell_0 = 0$: the old sum is rescaled to the new maximum, then the new"
                    " term is added; $\\operatorname{softmax}(z)_j = e^{z_j - m_n} / \\ell_n$."),
)

# --- Claims ----------------------------------------------------------------------------------
normaliser = Sum(exp(z[j] - m[i]), (j, 1, i))
hypothesis = induction_hypothesis(ell(i), normaliser)

exact = Claim(
    "exact",
    "The running normaliser is exact after every logit",
    start=ell(i),
    steps=(Step(normaliser, "by induction on $i$", induction=Induction(
        i, 0,
        base_steps=(Step(0, "the empty state", using=(empty,)),),
        step_steps=(
            Step(terms(factors(ell(i), exp(m[i] - m[i + 1])), exp(z[i + 1] - m[i + 1])),
                 "the update", using=(recurrence,)),
            Step(terms(factors(normaliser, exp(m[i] - m[i + 1])), exp(z[i + 1] - m[i + 1])),
                 "induction hypothesis", using=(hypothesis,)),
            Step(Sum(exp(z[j] - m[i + 1]), (j, 1, i)) + exp(z[i + 1] - m[i + 1]),
                 "$e^{z_j - m_i} e^{m_i - m_{i+1}} = e^{z_j - m_{i+1}}$: the old reference"
                 " cancels", "sum+powsimp"),
            Step(Sum(exp(z[j] - m[i + 1]), (j, 1, i + 1)), "the new term joins the sum",
                 "align_sums"),
        ),
        hypothesis=hypothesis)),),
    note="True for any sequence of references $m_i$; the maximum is chosen only so that no"
         " exponential exceeds 1.",
)

result = Claim(
    "softmax",
    "Softmax from the running state",
    start=exp(z[j] - m[i]) / ell(i),
    steps=(
        Step(exp(z[j] - m[i]) / Sum(exp(z[k] - m[i]), (k, 1, i)),
             "the running normaliser is exact", "sum", using=(exact,)),
        Step(softmax(z[k], k, i, j), "$e^{-m_i}$ cancels; definition of softmax",
             "unfold+sum+cancel"),
    ),
    note="The softmax of the first $i$ logits, component $j \\le i$; at $i = n$ the softmax of"
         " the whole row, after a single pass.", on_sheet=False,
)

no_overflow = Claim(
    "no_overflow",
    "No exponential exceeds 1",
    given=(below_max,),
    start=exp(z[j] - m_now),
    steps=(
        Step(1, "$e^{z_j - m_i} \\le e^0 = 1$: $\\exp$ is increasing and $z_j - m_i \\le 0$",
             "monotone", rel="<="),
    ),
    note="So every term of $\\ell_i$ lies in $(0, 1]$ and $\\ell_i \\le i$; the rescaling"
         " factor $e^{m_{i-1} - m_i}$ is at most 1 too, since $m_i \\ge m_{i-1}$. The naive"
         " $\\sum_j e^{z_j}$ overflows float32 once a logit exceeds 88.7.", on_sheet=False,
)


# --- Numeric checks ---------------------------------------------------------------------------
def _mp_softmax(row: np.ndarray) -> np.ndarray:
    """A 50-digit softmax with mpmath, independent of NumPy."""
    import mpmath

    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(float(x))) for x in row]
        total = mpmath.fsum(e)
        return np.array([float(x / total) for x in e])


def _stream(row: np.ndarray, references: np.ndarray | None = None):
    """The recurrence run left to right (plain Python): the references m_1..m_n (the running
    maximum unless given) and the normalisers l_1..l_n."""
    ms, ells = [], []
    m_prev, ell_prev = -np.inf, 0.0
    for t, x in enumerate(row):
        m_now = max(m_prev, x) if references is None else references[t]
        rescale = np.exp(m_prev - m_now) if ell_prev else 0.0
        ell_prev = ell_prev * rescale + np.exp(x - m_now)
        m_prev = m_now
        ms.append(m_now)
        ells.append(ell_prev)
    return np.array(ms), np.array(ells)


def check_exact(rng: np.random.Generator, formula) -> Measurement:
    """l_i from the recurrence against the claim's sum_{j<=i} e^{z_j - m_i}, at every i, for the
    running maximum (logits near +-1000) and for arbitrary references (moderate logits)."""
    worst, cases = 0.0, 0
    for trial in range(30):
        size = int(rng.integers(1, 25))
        if trial % 2:
            row = rng.normal(size=size) * 3
            refs = row.max() + rng.normal(size=size)  # any references, not the maximum
        else:
            row = rng.normal(size=size) * rng.choice([1.0, 30.0]) + rng.choice([-1e3, 0, 1e3])
            refs = None
        ms, ells = _stream(row, refs)
        for t in range(1, size + 1):
            got = float(formula(z=row, m=ms, i=t))
            worst = max(worst, abs(got - ells[t - 1]) / ells[t - 1])
            cases += 1
    return Measurement(worst, cases, 1e-13, "the recurrence's l_i vs the closed form at every"
                       " prefix; running maximum with logits near +-1000, or arbitrary references")


def check_softmax(rng: np.random.Generator, formula) -> Measurement:
    """e^{z_j - m_n}/l_n from one streaming pass (plain Python) against the claim's softmax_j
    evaluated from the formula (logits within +-60, where float64 e^{z_j} is finite)."""
    worst, cases = 0.0, 0
    for _ in range(30):
        row = rng.normal(size=int(rng.integers(1, 20))) * rng.choice([1.0, 10.0])
        row += rng.choice([-20.0, 0.0, 20.0])
        ms, ells = _stream(row)
        n = row.size
        streamed = np.exp(row - ms[-1]) / ells[-1]
        claimed = np.array([formula(z=row, i=n, j=t) for t in range(1, n + 1)], dtype=float)
        worst = max(worst, float(np.max(np.abs(streamed - claimed))))
        cases += 1
    return Measurement(worst, cases, 1e-14, "one streaming pass e^{z_j - m_n}/l_n vs the claimed"
                       " softmax_j, logits near 0 and +-20, scaled by up to 10")


def check_no_overflow(rng: np.random.Generator) -> Measurement:
    """Experiment: in float32 the pass stays finite at logits near +-1000 and every exponent it
    takes is <= 0, while the naive sum of e^{z_j} overflows."""
    broken, overflowed, cases = 0, 0, 40
    for case in range(cases):  # half the rows near +1000 (e^z overflows), half near -1000
        row = (rng.normal(size=16) * 5 + (1e3 if case % 2 else -1e3)).astype(np.float32)
        m_prev, ell_prev = np.float32(-np.inf), np.float32(0)
        for x in row:
            m_now = max(m_prev, x)
            exponents = [x - m_now] + ([m_prev - m_now] if ell_prev else [])
            broken += any(e > 0 for e in exponents)
            rescale = np.exp(m_prev - m_now) if ell_prev else np.float32(0)
            ell_prev = ell_prev * rescale + np.exp(x - m_now)
            m_prev = m_now
        broken += not np.isfinite(ell_prev)
        with np.errstate(over="ignore"):
            overflowed += not np.isfinite(np.sum(np.exp(row)))
    ok = broken == 0 and overflowed == cases // 2  # every row near +1000, none near -1000
    return Measurement(0.0 if ok else float("inf"), cases, 0.0,
                       f"float32 rows near +-1000: {broken} positive exponents or non-finite"
                       f" normalisers in the pass; naive sum non-finite on {overflowed}/{cases}")


def check_library(rng: np.random.Generator) -> Measurement:
    """Experiment: llmsym.numeric.online_softmax (blocks of 1..7, masked entries) against
    50-digit mpmath softmax."""
    from llmsym.numeric.attention import online_softmax

    worst, cases = 0.0, 40
    for _ in range(cases):
        row = rng.normal(size=int(rng.integers(1, 30))) * rng.choice([1.0, 100.0])
        row += rng.choice([-1e3, 0.0, 1e3])
        seen = rng.random(row.size) >= 0.2
        seen[int(rng.integers(row.size))] = True
        masked = np.where(seen, row, -np.inf)
        streamed = online_softmax(masked, block_size=int(rng.integers(1, 8)))
        reference = np.zeros(row.size)
        reference[seen] = _mp_softmax(row[seen])
        worst = max(worst, float(np.max(np.abs(streamed - reference))))
    return Measurement(worst, cases, 1e-14, "online_softmax vs mpmath, logits near 0 and +-1000,"
                       " x100, 20 % masked")


def example_pass():
    """The running state over the logits (1, 3, 2)."""
    row = np.array([1.0, 3.0, 2.0])
    ms, ells = _stream(row)
    steps = ", ".join(f"(m_{t + 1}, \\ell_{t + 1}) = ({mm:g}, {ll:.4f})"
                      for t, (mm, ll) in enumerate(zip(ms, ells, strict=True)))
    return ("the running maximum and normaliser over the logits $(1, 3, 2)$", steps)


# --- The derivation ----------------------------------------------------------------------------
DERIVATION = Derivation(
    id="online-softmax",
    title="Online softmax: one exact pass",
    topic="Attention",
    order=35,
    gloss="Keeping a running maximum and a normaliser rescaled to it computes softmax exactly in"
          " one pass over the logits, and no exponential ever exceeds 1.",
    assumptions=(
        "The logits $z_1, \\dots, z_n$ are real and read once, in order; $m_i$, $\\ell_i$ are"
        " the state after $i$ of them.",
    ),
    definitions=DEFINITIONS,
    claims=(exact, result, no_overflow),
    checks=(
        NumericCheck("exact", check_exact,
                     "The recurrence's $\\ell_i$ against $\\sum_{j \\le i} e^{z_j - m_i}$ at every"
                     " prefix, for the running maximum and for arbitrary references.",
                     claim="exact"),
        NumericCheck("softmax", check_softmax,
                     "$e^{z_j - m_n}/\\ell_n$ after one pass against the claimed softmax.",
                     claim="softmax"),
        NumericCheck("no-overflow", check_no_overflow,
                     "Experiment: the pass in float32 at logits near $\\pm 1000$ takes no"
                     " positive exponent and stays finite; the naive sum overflows."),
        NumericCheck("library", check_library,
                     "Experiment: llmsym.numeric.online_softmax (any block size, masked"
                     " entries) against 50-digit mpmath softmax."),
    ),
    notation={
        m: "a constant subtracted from every logit (in practice the largest logit)",
        ell_shown: "running normaliser: the sum of $e^{z_j - m}$ over the logits read so far",
        m_now: "the largest of the first $i$ logits",
    },
    sources=(
        "Milakov and Gimelshein, Online normalizer calculation for softmax, arXiv:1805.02867"
        " (2018), algorithm 3 and its proof of correctness.",
        "Dao et al., FlashAttention, arXiv:2205.14135 (2022), section 3.1: the same"
        " recurrence over blocks.",
    ),
    examples=(example_pass,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
