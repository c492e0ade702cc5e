"""Online softmax: the state of a block of scores, and how two blocks merge.

Statement
    A block of scores s_j (j in the block) with reference m_a is summarised by
    l_a = sum_j e^{s_j - m_a} and, for attention, o_a = sum_j e^{s_j - m_a} v_j / l_a.
    For blocks a = (s_1..s_{n_a}) and b = (s_{n_a+1}..s_{n_a+n_b}) and ANY reference r,
        l_a e^{m_a - r} + l_b e^{m_b - r} = sum_{j=1}^{n_a+n_b} e^{s_j - r},
    so with m = max(m_a, m_b), l = l_a e^{m_a - m} + l_b e^{m_b - m} and
    o = (l_a e^{m_a - m} o_a + l_b e^{m_b - m} o_b) / l, the merged state gives exactly
    the softmax and the attention output of the concatenation. Choosing the maximum
    as reference only keeps every exponent <= 0.

Run on its own: ``python derivations/online_softmax.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Max, Sum, Symbol, exp, symbols
from sympy.core.symbol import Str

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Notation, softmax

# --- Symbols ---------------------------------------------------------------
n_a, n_b = symbols("n_a n_b", integer=True, positive=True)  # block lengths
i, j, k = symbols("i j k", integer=True, positive=True)  # score indices
s = IndexedBase("s", real=True)  # scores of the concatenation, block a first
v = IndexedBase("v", real=True)  # one coordinate of the value vectors
u = IndexedBase("u", nonpositive=True)  # u_j = s_j - m_a <= 0 inside block a
m_a, m_b = symbols("m_a m_b", real=True)  # the blocks' references (their maxima in practice)
r = Symbol("r", real=True)  # any common reference
m = Symbol("m", real=True)  # the merged reference: max(m_a, m_b) in practice, any real works
delta_a = Symbol("delta_a", nonnegative=True)  # max(m_a, m_b) - m_a
N = n_a + n_b  # length of the concatenation


# --- Notation: the state of a block ------------------------------------------
class BlockNotation(Notation):
    """A statistic of the block ``s_lo..s_hi`` with reference ``ref``, printed with its label."""

    nargs = 4
    symbol = ""

    def _eval_is_commutative(self):
        return True

    def _latex(self, printer):
        return rf"{self.symbol}_{{{self.args[0]}}}"


class ell(BlockNotation):  # noqa: N801 - the letter of the papers
    """``ell(label, lo, hi, ref)`` = sum_{j=lo}^{hi} e^{s_j - ref}, the block's normaliser."""

    symbol = r"\ell"

    @classmethod
    def definition(cls, label, lo, hi, ref):
        return Sum(exp(s[j] - ref), (j, lo, hi))


class out(BlockNotation):  # noqa: N801
    """``out(label, lo, hi, ref)`` = the block's softmax-weighted mean of ``v``."""

    symbol = "o"

    @classmethod
    def definition(cls, label, lo, hi, ref):
        return Sum(exp(s[j] - ref) * v[j], (j, lo, hi)) / Sum(exp(s[j] - ref), (j, lo, hi))


ell_a, ell_b = ell(Str("a"), 1, n_a, m_a), ell(Str("b"), n_a + 1, N, m_b)
o_a, o_b = out(Str("a"), 1, n_a, m_a), out(Str("b"), n_a + 1, N, m_b)
w_a, w_b = ell_a * exp(m_a - m), ell_b * exp(m_b - m)  # each block's weight after rescaling


def sum_over(body, lo, hi):
    """``sum_{j=lo}^{hi} body``."""
    return Sum(body, (j, lo, hi))


# --- Claims ----------------------------------------------------------------
ell_merge = Claim(
    "ell_merge",
    "Merging normalisers, for any reference",
    start=ell_a * exp(m_a - r) + ell_b * exp(m_b - r),
    steps=(
        Step(sum_over(exp(s[j] - r), 1, n_a) + sum_over(exp(s[j] - r), n_a + 1, N),
             "unfold $\\ell_a, \\ell_b$; $e^{s_j - m_a} e^{m_a - r} = e^{s_j - r}$: "
             "each block's own reference cancels", "unfold+sum"),
        Step(sum_over(exp(s[j] - r), 1, N),
             "the ranges $1..n_a$ and $n_a+1..n_a+n_b$ make up the concatenation", "join_sums"),
    ),
    note="Nothing ties $r$, $m_a$ or $m_b$ to a maximum: this is shift invariance. "
         "Implementations take $r = m = \\max(m_a, m_b)$.",
)

softmax_merge = Claim(
    "softmax_merge",
    "The merged state gives the softmax of the concatenation",
    start=exp(s[i] - m) / (w_a + w_b),
    steps=(
        Step(softmax(s[j], j, N, i),
             "merged normaliser with $r = m$ (previous claim), cancel $e^{-m}$; definition of "
             "softmax", "unfold+join_sums+cancel"),
    ),
    on_sheet=False,
)

output_merge = Claim(
    "output_merge",
    "Merging attention outputs",
    start=(w_a * o_a + w_b * o_b) / (w_a + w_b),
    steps=(
        Step(sum_over(exp(s[j] - m) * v[j], 1, N) / sum_over(exp(s[j] - m), 1, N),
             "unfold: $\\ell_a o_a e^{m_a - m} = \\sum_{j=1}^{n_a} e^{s_j - m} v_j$, likewise for "
             "$b$; in numerator and denominator the two ranges make up the concatenation",
             "unfold+join_sums+cancel"),
        Step(Sum(softmax(s[k], k, N, j) * v[j], (j, 1, N)),
             "shift invariance: cancel $e^{-m}$; definition of softmax", "unfold+sum+cancel"),
    ),
    note="Here $m = \\max(m_a, m_b)$, though any real $m$ gives the same result. "
         "Applied to every coordinate of $v$: merging the states of two blocks of keys gives "
         "the attention output over all their keys, exactly.",
)

no_overflow = Claim(
    "no_overflow",
    "With the maximum as reference no exponent is positive",
    start=exp(u[j]) * exp(m_a - Max(m_a, m_b)),
    steps=(
        Step(exp(u[j] - delta_a),
             "$\\max(m_a, m_b) = m_a + \\delta_a$ with $\\delta_a = \\max(0, m_b - m_a) \\ge 0$",
             "powsimp", using=(Eq(Max(m_a, m_b), m_a + delta_a),)),
        Step(exp(0), "$\\exp$ is increasing, $u_j \\le 0$ and $\\delta_a \\ge 0$", "monotone",
             rel="<="),
        Step(1, "$e^0 = 1$", "expand"),
    ),
    note="$u_j = s_j - m_a \\le 0$ is the exponent inside block $a$ (its maximum is $m_a$); "
         "after rescaling by $e^{m_a - m}$ it is $s_j - m \\le 0$. Likewise for block $b$.",
    on_sheet=False,
)


# --- Numeric checks ----------------------------------------------------------
def _mp_attention(scores: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """50-digit softmax of ``scores`` and the weighted mean of ``values``, with mpmath."""
    import mpmath

    with mpmath.workdps(50):
        weights = [mpmath.exp(mpmath.mpf(float(x))) for x in scores]
        total = mpmath.fsum(weights)
        p = [w / total for w in weights]
        mean = [mpmath.fsum(pj * mpmath.mpf(float(x)) for pj, x in zip(p, col, strict=True))
                for col in values.T]
        return np.array([float(x) for x in p]), np.array([float(x) for x in mean])


def _extreme_row(rng: np.random.Generator, size: int) -> np.ndarray:
    """Scores of mixed scale: standard or x100, shifted by -1000, 0 or 1000, some masked (-inf)."""
    offset = rng.choice([-1000.0, 0.0, 1000.0])
    row = rng.normal(size=size) * rng.choice([1.0, 100.0]) + offset
    row[rng.random(size) < 0.2] = -np.inf
    row[rng.integers(size)] = offset  # at least one visible score
    return row


def check_streaming(rng: np.random.Generator) -> Measurement:
    """One streaming pass (any chunk size) against the 50-digit softmax."""
    from llmsym.numeric.attention import online_softmax

    worst, cases = 0.0, 120
    for _ in range(cases):
        row = _extreme_row(rng, int(rng.integers(1, 40)))
        reference, _ = _mp_attention(row, np.zeros((row.size, 0)))
        streamed = online_softmax(row, block_size=int(rng.integers(1, 8)))
        worst = max(worst, float(np.max(np.abs(streamed - reference))))
    return Measurement(worst, cases, 1e-14,
                       "online_softmax (chunks of 1..7) vs mpmath, logits near 0 and +-1000, "
                       "x100, with -inf entries")


def _state(scores: np.ndarray, values: np.ndarray) -> tuple:
    """The state (m, l, o) of one block, straight from its definition."""
    mx = scores.max()
    e = np.exp(scores - mx)
    return np.array(mx), np.array(e.sum()), (e @ values) / e.sum()


def check_merge(rng: np.random.Generator) -> Measurement:
    """Split a row into random blocks, merge their states left to right, compare with mpmath."""
    from llmsym.numeric.attention import merge

    worst, cases = 0.0, 120
    for _ in range(cases):
        size = int(rng.integers(2, 40))
        row = _extreme_row(rng, size)
        row[~np.isfinite(row)] = -2000.0  # every block non-empty here; empty ones: flash-attention
        values = rng.normal(size=(size, 3))
        cuts = np.sort(rng.choice(np.arange(1, size), size=int(rng.integers(0, size - 1)),
                                  replace=False))
        states = [_state(row[a:b], values[a:b])
                  for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
        total = states[0]
        for st in states[1:]:
            total = merge(total, st)
        _, mean = _mp_attention(row, values)
        worst = max(worst, float(np.max(np.abs(total[2] - mean))))
    return Measurement(worst, cases, 1e-13,
                       "states of random blocks merged in sequence vs the 50-digit attention "
                       "output of the whole row")


def example_merge():
    from llmsym.numeric.attention import merge

    a, b = np.array([1.0, 3.0]), np.array([2.0, 0.0])
    values = np.array([[1.0], [0.0], [0.0], [1.0]])
    mm, ll, oo = merge(_state(a, values[:2]), _state(b, values[2:]))
    return ("merging the blocks (1, 3) and (2, 0) with values (1, 0, 0, 1)",
            rf"m = {mm:g},\ \ell = {ll:.4f},\ o = {oo[0]:.4f}")


# --- Results -----------------------------------------------------------------
ell_a_, ell_b_ = symbols("ell_a ell_b", positive=True)
o_a_, o_b_ = symbols("o_a o_b", real=True)
m_max = Max(m_a, m_b)
merged_ell = ell_a_ * exp(m_a - m_max) + ell_b_ * exp(m_b - m_max)

# --- The derivation ----------------------------------------------------------
DERIVATION = Derivation(
    id="online-softmax",
    title="Online softmax: merging blocks",
    topic="Attention",
    order=35,
    gloss="A block of scores is summarised by (max, normaliser, output); two summaries merge "
          "exactly, so softmax and attention can be computed in one streaming pass.",
    assumptions=(
        "Scores $s_1..s_{n_a+n_b}$ are real; block $a$ holds the first $n_a$, block $b$ the "
        "next $n_b$; $v_j$ is one coordinate of the value of key $j$.",
        "$m_a$, $m_b$ and $r$ are any real references; in practice $m_a, m_b$ are the block "
        "maxima and the merged reference is $m = \\max(m_a, m_b)$.",
        "The state of block $a$ is $(m_a, \\ell_a, o_a)$; $\\ell_b$, $o_b$ likewise over "
        "$n_a+1..n_a+n_b$.",
        "For the bound: $m_a$ is the maximum of block $a$, so $u_j = s_j - m_a \\le 0$.",
    ),
    definitions=(
        Definition("ell_a", ell_a, ell.definition(*ell_a.args)),
        Definition("o_a", o_a, out.definition(*o_a.args)),
    ),
    claims=(ell_merge, softmax_merge, output_merge, no_overflow),
    checks=(
        NumericCheck("streaming", check_streaming,
                     "One streaming pass (online softmax) matches 50-digit softmax to 1e-14, "
                     "for logits near $\\pm 1000$, scaled by 100, with masked entries."),
        NumericCheck("merge", check_merge,
                     "Merging the states of random blocks gives the attention output of the whole "
                     "row to 1e-13 (mpmath reference)."),
    ),
    results=(
        Result("merged_normaliser", merged_ell, params=(ell_a_, ell_b_, m_a, m_b),
               doc="the normaliser of two merged blocks, relative to $\\max(m_a, m_b)$",
               claim="ell_merge"),
        Result("merged_output",
               (ell_a_ * exp(m_a - m_max) * o_a_ + ell_b_ * exp(m_b - m_max) * o_b_) / merged_ell,
               params=(o_a_, o_b_, ell_a_, ell_b_, m_a, m_b),
               doc="the attention output of two merged blocks (one value coordinate)",
               claim="output_merge"),
    ),
    notation={s: "attention scores of one query, block $a$ then block $b$",
              v: "one coordinate of the value vectors",
              "m_a": "reference of block $a$, in practice its maximum score",
              r"\ell_a": "normaliser of block $a$: $\\sum_j e^{s_j - m_a}$",
              "o_a": "normalised output of block $a$"},
    sources=(
        "Milakov and Gimelshein, Online normalizer calculation for softmax, arXiv:1805.02867 "
        "(2018).",
        "Dao et al., FlashAttention, arXiv:2205.14135 (2022), section 3.1.",
    ),
    remarks=(
        "The pair $(m, \\ell)$ stands for the number $\\ell e^{m}$; changing the reference "
        "$m \\to m + c$ and $\\ell \\to \\ell e^{-c}$ changes nothing, which is why any $r$ works "
        "above. The maximum is chosen only so that no exponent is positive (no overflow) and the "
        "largest term is exactly $e^0 = 1$.",
    ),
    examples=(example_merge,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
