"""Scaled dot-product attention and multi-head attention (Vaswani et al. 2017, section 3.2).

Main results
    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V and
    MultiHead(Q, K, V) = Concat(H_1, ..., H_h) W^O, H_i = Attention(Q W_i^Q, K W_i^K, V W_i^V),
    as definitions on the face.
    concat_heads     Concat(H_1, ..., H_h) W^O = sum_i H_i W^O_i, W^O_i the i-th block of d_v
                     rows of W^O: for every number of heads h (induction on h), every number of
                     tokens and every width (each entry is proved for symbolic sizes)
    rows_sum_to_one  each row of attention weights sums to 1
    convex_lower/upper  each output coordinate lies between the smallest and the largest
                     value of its column
    projection_params   with d_k = d_v = d/h the four projections hold 4 d^2 weights, any h

Run on its own: ``python derivations/multi_head_attention.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, Function, IndexedBase, MatMul, MatrixSymbol, Sum, Symbol, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Induction,
    Measurement,
    NumericCheck,
    Result,
    Step,
    induction_hypothesis,
)
from llmsym.notation import Notation, factors, softmax

# --- Symbols -------------------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # keys one query attends to
i, j = symbols("i j", integer=True, positive=True)  # head index; key index
seq = Symbol("s", integer=True, positive=True)  # tokens
h = Symbol("h", integer=True, positive=True)  # heads
d = Symbol("d", integer=True, positive=True)  # model width
d_k, d_v = symbols("d_k d_v", integer=True, positive=True)  # query/key and value widths of a head
score = IndexedBase("z", real=True)  # one query's scores q . k_j / sqrt(d_k): softmax's logits
weight = IndexedBase("a", positive=True)  # one query's attention weights
w = IndexedBase("w", nonnegative=True)  # distances of values from a bound
lo, top = symbols("mu M", real=True)  # the smallest and the largest value in a column

# entries of the concatenated heads C = Concat(H_1, ..., H_h) (s x h d_v) and of W^O (h d_v x d)
C, W = IndexedBase("C", real=True), IndexedBase("W", real=True)
r, c, t = symbols("r c t", integer=True, positive=True)  # row, column, inner index of an entry


class attention_weights(sp.MatrixExpr):  # noqa: N801 - for display in the definitions
    """softmax(Q K^T / sqrt(d_k)), the softmax taken along each row."""

    @property
    def shape(self):
        return (self.args[0].shape[0], self.args[1].shape[0])

    def _latex(self, printer):
        q, k = (printer._print(x) for x in self.args[:2])
        width = printer._print(self.args[0].shape[1])
        return rf"\operatorname{{softmax}}\left(\frac{{{q} {k}^\top}}{{\sqrt{{{width}}}}}\right)"


# --- Notation: the two sides of the block identity, entry (r, c) ----------------------------
class concat_times_wo(Notation):  # noqa: N801
    """Entry (r, c) of Concat(H_1, ..., H_h) W^O: the product over all h d_v columns of the
    concatenation. Printed as the matrix; the proof is about every entry at once."""

    nargs = 1

    @classmethod
    def definition(cls, heads):
        return Sum(C[r, t] * W[t, c], (t, 1, heads * d_v))

    def _latex(self, printer):
        return r"\operatorname{Concat}(H_1, \dots, H_{%s})\, W^O" % printer._print(self.args[0])


class head_times_block(Notation):  # noqa: N801
    """Entry (r, c) of H_i W^O_i: head i holds the columns (i-1) d_v + 1 .. i d_v of the
    concatenation, and W^O_i the same rows of W^O; their product sums over those indices."""

    nargs = 1

    @classmethod
    def definition(cls, head):
        return Sum(C[r, t] * W[t, c], (t, (head - 1) * d_v + 1, head * d_v))

    def doit(self, **hints):
        # A bare symbol is the index of a sum over heads: kept folded, so the sum over heads
        # never becomes a double sum whose inner range depends on the outer index (llmsym's
        # sum normal form does not rename such bounds); head 1, head h + 1 and any other
        # expression unfold. Folding only ever makes less provable.
        if isinstance(self.args[0], Symbol):
            return self
        return super().doit(**hints)

    def _latex(self, printer):
        return r"H_{%s} W^O_{%s}" % ((printer._print(self.args[0]),) * 2)


BLOCKS = (r"H_i = \text{columns } (i-1)d_v + 1, \dots, i\,d_v \text{ of }"
          r" \operatorname{Concat}(H_1, \dots, H_h)",
          r"W^O_i = \text{rows } (i-1)d_v + 1, \dots, i\,d_v \text{ of } W^O"
          r" \in \mathbb{R}^{h d_v \times d}")

# --- Claims ----------------------------------------------------------------------------------
rows_sum_to_one = Claim(
    "rows_sum_to_one",
    "Each row of attention weights sums to one",
    start=Sum(softmax(score[j], j, n, i), (i, 1, n)),
    steps=(Step(1, "unfold softmax; the denominator does not depend on $i$, so it leaves the sum",
                "unfold+factor_sum+sum"),),
    on_sheet=False,
    note="Row $r$ of $QK^\\top/\\sqrt{d_k}$ holds the scores $z_j = q_r \\cdot k_j / \\sqrt{d_k}$"
         " of one query against the $n$ keys.",
)

weights_sum_to_one = Hypothesis(Eq(Sum(weight[i], (i, 1, n)), 1),
                                "a row of attention weights sums to 1")

convex_lower = Claim(
    "convex_lower",
    "Attention output is at least the smallest value",
    start=Sum(weight[i] * (lo + w[i]), (i, 1, n)),
    steps=(
        Step(lo + Sum(weight[i] * w[i], (i, 1, n)), "split the sum; $\\sum_i a_i = 1$",
             using=(weights_sum_to_one,)),
        Step(lo, "$a_i > 0$ and $w_i \\ge 0$", rel=">="),
    ),
    on_sheet=False,
    note="Write each value of a column as $v_i = \\mu + w_i$, $\\mu = \\min_i v_i$, $w_i \\ge 0$;"
         " $a_i$ are one row of attention weights.",
)

convex_upper = Claim(
    "convex_upper",
    "Attention output is at most the largest value",
    start=Sum(weight[i] * (top - w[i]), (i, 1, n)),
    steps=(
        Step(top - Sum(weight[i] * w[i], (i, 1, n)), "split the sum; $\\sum_i a_i = 1$",
             using=(weights_sum_to_one,)),
        Step(top, "$a_i > 0$ and $w_i \\ge 0$", rel="<="),
    ),
    on_sheet=False,
    note="Here $v_i = M - w_i$ with $M = \\max_i v_i$. Together: each output row is a convex"
         " combination of the value rows.",
)

heads_hypothesis = induction_hypothesis(concat_times_wo(h), Sum(head_times_block(i), (i, 1, h)))

concat_heads = Claim(
    "concat_heads",
    "Concatenate-then-project is a sum over heads",
    start=concat_times_wo(h),
    steps=(Step(Sum(head_times_block(i), (i, 1, h)), "by induction on the number of heads $h$",
                induction=Induction(
                    h, 1,
                    base_steps=(Step(head_times_block(1),
                                     "one head: $H_1$ is the whole concatenation", "unfold"),),
                    step_steps=(
                        Step(concat_times_wo(h) + head_times_block(h + 1),
                             "the sum over the $(h+1) d_v$ columns splits after column $h d_v$:"
                             " the first $h$ heads, then head $h+1$", "unfold+join_sums"),
                        Step(Sum(head_times_block(i), (i, 1, h)) + head_times_block(h + 1),
                             "induction hypothesis", using=(heads_hypothesis,)),
                        Step(Sum(head_times_block(i), (i, 1, h + 1)),
                             "head $h+1$ joins the sum", "align_sums"),
                    ),
                    hypothesis=heads_hypothesis)),),
    where=BLOCKS,
    note="Proved for entry $(r, c)$ with every size symbolic: any number of tokens $s$, heads"
         " $h$, head width $d_v$ and model width $d$. Each head can be projected on its own and"
         " the results added.", on_sheet=False,
)

projection_params = Claim(
    "projection_params",
    "Parameters of the four projections",
    given=(Hypothesis(Eq(d_k, d / h), "$d_k = d/h$"), Hypothesis(Eq(d_v, d / h), "$d_v = d/h$")),
    start=factors(h, 3, d, d_k) + factors(h, d_v, d),
    steps=(Step(4 * d**2, "$d_k = d_v = d/h$", "unfold+expand",
                using=(Eq(d_k, d / h), Eq(d_v, d / h))),),
    on_sheet=False,
    note="$W^Q_i, W^K_i \\in \\mathbb{R}^{d \\times d_k}$ and $W^V_i \\in \\mathbb{R}^{d \\times"
         " d_v}$ for each of the $h$ heads, and $W^O \\in \\mathbb{R}^{h d_v \\times d}$; no"
         " biases. The count does not depend on $h$.",
)

score_flops = Claim(
    "score_flops",
    "Splitting into heads does not change the cost of the scores",
    given=(Hypothesis(Eq(d_k, d / h), "$d_k = d/h$"),),
    start=factors(h, 2, seq**2, d_k),
    steps=(Step(2 * seq**2 * d, "$d_k = d/h$", "unfold+expand", using=(Eq(d_k, d / h),)),),
    on_sheet=False,
    note="$h$ products $QK^\\top$ of $(s \\times d_k)(d_k \\times s)$ at $2s^2d_k$ FLOPs each"
         " (2 per multiply-accumulate) cost as much as one full-width head.",
)

# --- Results ---------------------------------------------------------------------------------
RESULTS = (
    Result("mha_projection_params", 4 * d**2, params=(d,),
           doc="weights of W^Q, W^K, W^V and W^O in multi-head attention with d_k = d_v = d/h,"
               " no biases", units="parameters", claim="projection_params", integer=True),
)


# --- Numeric checks ----------------------------------------------------------------------------
def check_concat(rng: np.random.Generator, formula) -> Measurement:
    """Entry (r, c) of Concat(H_1..H_h) W^O from the claim's left side, against NumPy's sum over
    heads of H_i @ W^O_i (each head times its own block of d_v rows), random shapes."""
    worst, cases = 0.0, 0
    for _ in range(6):
        heads, width = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        tokens, model = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        blocks = [rng.normal(size=(tokens, width)) for _ in range(heads)]
        w_out = rng.normal(size=(heads * width, model))
        by_heads = sum(blocks[x] @ w_out[x * width:(x + 1) * width] for x in range(heads))
        concat = np.concatenate(blocks, axis=1)
        for row in range(1, tokens + 1):
            for col in range(1, model + 1):
                got = float(formula(C=concat, W=w_out, h=heads, d_v=width, r=row, c=col))
                worst = max(worst, abs(got - by_heads[row - 1, col - 1]))
                cases += 1
    return Measurement(worst, cases, 1e-12, "every entry of Concat(H_1..H_h) W^O vs NumPy's"
                       " sum of H_i @ W^O_i, 1..5 heads of width 1..4, 1..4 tokens")


def _attention_rows(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Attention one query at a time, with explicit exponentials (no library softmax)."""
    weights = np.empty((q.shape[0], k.shape[0]))
    for row in range(q.shape[0]):
        scores = np.array([float(q[row] @ k[col]) for col in range(k.shape[0])])
        scores /= np.sqrt(q.shape[1])
        e = np.exp(scores - scores.max())
        weights[row] = e / e.sum()
    return weights, weights @ v


def check_rows_and_convexity(rng: np.random.Generator) -> Measurement:
    """Experiment: rows of the weights sum to 1; outputs stay within each value column's range."""
    worst, cases = 0.0, 60
    for _ in range(cases):
        tokens, width, dv = (int(x) for x in rng.integers(1, (12, 9, 6)))
        scale = float(rng.choice([0.1, 1.0, 30.0]))  # 30: nearly one-hot weights
        q, k = rng.normal(size=(tokens, width)) * scale, rng.normal(size=(tokens, width)) * scale
        v = rng.normal(size=(tokens, dv)) * float(10.0 ** rng.uniform(-3, 3))
        weights, out = _attention_rows(q, k, v)
        span = np.abs(v).max()
        below = np.max(v.min(axis=0) - out) / span
        above = np.max(out - v.max(axis=0)) / span
        worst = max(worst, float(np.max(np.abs(weights.sum(axis=1) - 1))), below, above, 0.0)
    return Measurement(worst, cases, 1e-13,
                       "row sums minus 1, and excursions outside [min, max] of each value column")


def _mha_loop(x, wq, wk, wv, wo, heads):
    """Multi-head attention as in the paper: per-head attention, concatenate, project."""
    dk, dv = wq.shape[1] // heads, wv.shape[1] // heads
    outs = [_attention_rows(x @ wq[:, i * dk:(i + 1) * dk], x @ wk[:, i * dk:(i + 1) * dk],
                            x @ wv[:, i * dv:(i + 1) * dv])[1] for i in range(heads)]
    return np.concatenate(outs, axis=1) @ wo


def _mha_batched(x, wq, wk, wv, wo, heads):
    """The same with reshaped tensors and einsum, and the projection as a sum over heads."""
    tokens = x.shape[0]
    q, k, v = ((x @ w).reshape(tokens, heads, -1).transpose(1, 0, 2) for w in (wq, wk, wv))
    scores = np.einsum("hqd,hkd->hqk", q, k) / np.sqrt(q.shape[-1])
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    per_head = np.einsum("hqk,hkd->hqd", weights, v)
    blocks = wo.reshape(heads, -1, wo.shape[1])  # W^O_i: the i-th block of d_v rows
    return np.einsum("hqd,hdm->qm", per_head, blocks)


def check_multi_head(rng: np.random.Generator) -> Measurement:
    """Experiment: the paper's per-head loop with concatenation against a batched einsum that
    sums H_i W^O_i over heads."""
    worst, cases = 0.0, 20
    for _ in range(cases):
        heads = int(rng.integers(1, 5))
        model = heads * int(rng.integers(1, 5))
        tokens = int(rng.integers(1, 8))
        x = rng.normal(size=(tokens, model))
        wq, wk, wv, wo = (rng.normal(size=(model, model)) / np.sqrt(model) for _ in range(4))
        a, b = _mha_loop(x, wq, wk, wv, wo, heads), _mha_batched(x, wq, wk, wv, wo, heads)
        worst = max(worst, float(np.max(np.abs(a - b))) / max(1.0, float(np.abs(a).max())))
    return Measurement(worst, cases, 1e-12,
                       "two multi-head implementations (1..4 heads, d up to 16)")


def example_three_tokens() -> tuple[str, str]:
    """Attention over three tokens with d_k = 2, computed with NumPy."""
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    weights, out = _attention_rows(q, q, v)

    def matrix(x: np.ndarray) -> str:
        rows = [" & ".join(f"{val:.3f}" for val in row) for row in x]
        return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}"

    return ("three tokens, $Q = K$ with rows $(1,0), (0,1), (1,1)$, $V$ with rows"
            " $(1,0), (0,1), (0.5,0.5)$",
            rf"\operatorname{{softmax}}\!\left(\tfrac{{QK^\top}}{{\sqrt 2}}\right) = "
            rf"{matrix(weights)},\quad \text{{output}} = {matrix(out)}")


# --- The derivation ------------------------------------------------------------------------------
# bold: plain V is the vocabulary size and K the optimizer-state bytes elsewhere on the sheet
Q, K = MatrixSymbol(r"\mathbf{Q}", seq, d_k), MatrixSymbol(r"\mathbf{K}", seq, d_k)
V = MatrixSymbol(r"\mathbf{V}", seq, d_v)
X_Q, X_K, X_V = (MatrixSymbol(rf"\mathbf{{{name}}}", seq, d) for name in ("Q", "K", "V"))
head_i = Function("Attention")(MatMul(X_Q, MatrixSymbol("W^Q_i", d, d_k)),
                               MatMul(X_K, MatrixSymbol("W^K_i", d, d_k)),
                               MatMul(X_V, MatrixSymbol("W^V_i", d, d_v)))

DERIVATION = Derivation(
    id="multi-head-attention",
    title="Scaled dot-product and multi-head attention",
    topic="Attention",
    order=34,
    gloss="Attention averages value rows with softmax weights; multi-head attention runs $h$"
          " narrower heads in parallel and mixes them with $W^O$, which is the same as projecting"
          " each head with its own block of $W^O$ and adding.",
    assumptions=(
        "$\\mathbf{Q}, \\mathbf{K} \\in \\mathbb{R}^{s \\times d_k}$,"
        " $\\mathbf{V} \\in \\mathbb{R}^{s \\times d_v}$: one row per"
        " token; softmax acts on each row.",
        "$h$ heads; in the usual configuration $d_k = d_v = d/h$;"
        " $W^O \\in \\mathbb{R}^{h d_v \\times d}$ has row blocks $W^O_1, \\dots, W^O_h$ of $d_v$"
        " rows each.",
    ),
    definitions=(
        Definition("scaled dot-product attention", Function("Attention")(Q, K, V),
                   MatMul(attention_weights(Q, K), V), on_sheet=True,
                   title="Scaled dot-product attention",
                   note="$s \\times s$ weights times $s \\times d_v$ values: an $s \\times d_v$"
                        " output. A causal model adds $-\\infty$ above the diagonal first."),
        Definition("multi-head attention", Function("MultiHead")(X_Q, X_K, X_V),
                   concat_times_wo(h), on_sheet=True, title="Multi-head attention",
                   note="with $H_i = \\operatorname{Attention}(\\mathbf{Q}W^Q_i, \\mathbf{K}W^K_i,"
                        " \\mathbf{V}W^V_i)$,"
                        " $W^Q_i, W^K_i \\in \\mathbb{R}^{d \\times d_k}$,"
                        " $W^V_i \\in \\mathbb{R}^{d \\times d_v}$."),
        Definition("head", Symbol("H_i"), head_i, note="the output of head $i$"),
    ),
    claims=(rows_sum_to_one, convex_lower, convex_upper, concat_heads, projection_params,
            score_flops),
    results=RESULTS,
    checks=(
        NumericCheck("concat", check_concat,
                     "Every entry of $\\operatorname{Concat}(H_1, \\dots, H_h) W^O$ against"
                     " NumPy's sum over heads of $H_i W^O_i$, random shapes.",
                     claim="concat_heads", side="start"),
        NumericCheck("rows_convex", check_rows_and_convexity,
                     "Experiment: attention one query at a time; every row of weights sums to 1"
                     " and every output lies within its value column's range."),
        NumericCheck("multi_head", check_multi_head,
                     "Experiment: a per-head loop with concatenation against a batched einsum"
                     " that sums $H_i W^O_i$."),
    ),
    notation={d_v: "dimension of the values of one head", Q: "queries, one row per token",
              K: "keys, one row per token", V: "values, one row per token",
              "H_{i}": "the output of head $i$",
              weight: "one row of attention weights", w: "distances of values from a bound",
              lo: "the smallest value in a column", top: "the largest value in a column"},
    remarks=("The block identity is proved for a generic entry $(r, c)$ with symbolic sizes, by"
             " induction on $h$: the columns of head $h+1$ come after those of the first $h$"
             " heads, so the sum over all $(h+1)d_v$ columns splits into the first $h d_v$ and the"
             " last $d_v$.",),
    sources=("Vaswani et al., Attention Is All You Need, NeurIPS 2017, arXiv:1706.03762, "
             "sections 3.2.1 and 3.2.2.",),
    examples=(example_three_tokens,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
