"""Scaled dot-product attention and multi-head attention, with their shapes.

Statement
    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V maps Q, K in R^{s x d_k} and V in
    R^{s x d_v} to R^{s x d_v}. Each row of the weights sums to 1, so each output row is a
    convex combination of the rows of V and every output coordinate lies between the
    smallest and the largest value in its column. Concatenating h heads and multiplying by
    W^O equals summing head_i W^O_i over the row blocks W^O_i of W^O. With
    d_k = d_v = d_model / h the projections hold 4 d_model^2 parameters, for any h.

Run on its own: ``python derivations/multi_head_attention.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, Function, IndexedBase, MatMul, MatrixSymbol, Sum, Symbol, sqrt, symbols

from llmsym.model import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Sizes,
    Step,
)
from llmsym.notation import Notation, softmax

# --- Symbols -------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of keys (sequence length)
i, j = symbols("i j", integer=True, positive=True)  # key indices
seq = Symbol("s", integer=True, positive=True)  # tokens
h = Symbol("h", integer=True, positive=True)  # heads
d_k, d_v, d_model = symbols("d_k d_v d_model", integer=True, positive=True)
score = IndexedBase("s", real=True)  # one query's scores q . k_j
weight = IndexedBase("a", positive=True)  # one query's attention weights
w = IndexedBase("w", nonnegative=True)  # distances of values from a bound
mu, top = symbols("mu M", real=True)  # the smallest and the largest value in a column

Q, K = MatrixSymbol("Q", seq, d_k), MatrixSymbol("K", seq, d_k)
V = MatrixSymbol("V", seq, d_v)


class row_softmax(sp.MatrixExpr):  # noqa: N801 - the name readers know
    """softmax applied to each row of a matrix; for display in the definitions."""

    @property
    def shape(self):
        return self.args[0].shape

    def _latex(self, printer):
        return rf"\operatorname{{softmax}}\left({printer._print(self.args[0])}\right)"


# --- Heads for the block identity ---------------------------------------------------
TOKENS, WIDTH, MODEL = 2, 2, 3  # s, d_v and d_model of the concrete check


def _head(index: int) -> sp.Matrix:
    """Head ``index`` as a TOKENS x WIDTH matrix of real symbols."""
    return sp.Matrix(TOKENS, WIDTH, lambda r, c: Symbol(f"h{index}_{r + 1}{c + 1}", real=True))


def _w_out(heads: int) -> sp.Matrix:
    """W^O, (heads * WIDTH) x MODEL, of real symbols."""
    return sp.Matrix(heads * WIDTH, MODEL, lambda r, c: Symbol(f"w_{r + 1}_{c + 1}", real=True))


class _HeadsNotation(Notation):
    """A multi-head expression in the number of heads, written out once it is concrete."""

    nargs = 1

    def doit(self, **hints):
        heads = self.args[0]
        return sp.ImmutableMatrix(self.explicit(int(heads))) if heads.is_Integer else self


class concat_then_project(_HeadsNotation):  # noqa: N801
    """Concat(H_1, ..., H_h) W^O: the heads side by side, times the output projection."""

    @staticmethod
    def explicit(heads: int) -> sp.Matrix:
        return sp.Matrix.hstack(*[_head(k) for k in range(1, heads + 1)]) * _w_out(heads)

    def _latex(self, printer):
        return rf"\operatorname{{Concat}}(H_1, \dots, H_{{{printer._print(self.args[0])}}})\, W^O"


class sum_of_heads(_HeadsNotation):  # noqa: N801
    """sum_i H_i W^O_i, W^O_i the i-th block of WIDTH rows of W^O."""

    @staticmethod
    def explicit(heads: int) -> sp.Matrix:
        w_out = _w_out(heads)
        blocks = (_head(k) * w_out[(k - 1) * WIDTH:k * WIDTH, :] for k in range(1, heads + 1))
        return sum(blocks, sp.zeros(TOKENS, MODEL))

    def _latex(self, printer):
        return rf"\sum_{{i=1}}^{{{printer._print(self.args[0])}}} H_i W^O_i"


# --- Claims --------------------------------------------------------------------

rows_sum_to_one = Claim(
    "rows_sum_to_one",
    "Each row of attention weights sums to one",
    start=Sum(softmax(score[j] / sqrt(d_k), j, n, i), (i, 1, n)),
    steps=(Step(1, "unfold softmax; the denominator does not depend on $i$, so it leaves the sum",
                "unfold+factor_sum+sum"),),
    note="Row $r$ of $QK^\\top/\\sqrt{d_k}$ holds the scores $s_j = q_r \\cdot k_j / \\sqrt{d_k}$ "
         "of one query against the $n$ keys.",
)

WEIGHTS_SUM_TO_ONE = (Eq(Sum(weight[i], (i, 1, n)), 1),)

convex_lower = Claim(
    "convex_lower",
    "Attention output is at least the smallest value",
    start=Sum(weight[i] * (mu + w[i]), (i, 1, n)),
    steps=(
        Step(mu + Sum(weight[i] * w[i], (i, 1, n)), "split the sum; $\\sum_i a_i = 1$",
             using=WEIGHTS_SUM_TO_ONE),
        Step(mu, "$a_i > 0$ and $w_i \\ge 0$", rel=">="),
    ),
    on_sheet=False,
    note="Write each value of a column as $v_i = \\mu + w_i$, $\\mu = \\min_i v_i$, $w_i \\ge 0$; "
         "$a_i$ are one row of attention weights.",
)

convex_upper = Claim(
    "convex_upper",
    "Attention output is at most the largest value",
    start=Sum(weight[i] * (top - w[i]), (i, 1, n)),
    steps=(
        Step(top - Sum(weight[i] * w[i], (i, 1, n)), "split the sum; $\\sum_i a_i = 1$",
             using=WEIGHTS_SUM_TO_ONE),
        Step(top, "$a_i > 0$ and $w_i \\ge 0$", rel="<="),
    ),
    on_sheet=False,
    note="Here $v_i = M - w_i$ with $M = \\max_i v_i$. Together: each output row is a convex "
         "combination of the value rows.",
)

concat_heads = Claim(
    "concat_heads",
    "Concatenate-then-project is a sum over heads",
    start=concat_then_project(h),
    steps=(Step(sum_of_heads(h), "multiply the block row $[H_1 \\cdots H_h]$ by the block "
                "column of the $W^O_i$", "expand", sizes=Sizes(h, 1, 6)),),
    note=f"Checked with ${TOKENS}$ tokens, $d_v = {WIDTH}$, $d_{{\\mathrm{{model}}}} = {MODEL}$: "
         "each head can be projected on its own and the results added.",
)

projection_params = Claim(
    "projection_params",
    "Parameters of the four projections",
    start=h * 3 * d_model * d_k + h * d_v * d_model,
    steps=(Step(4 * d_model**2, "$d_k = d_v = d_{\\mathrm{model}}/h$", "expand",
                using=(Eq(d_k, d_model / h), Eq(d_v, d_model / h))),),
    on_sheet=False,
    note="$W^Q_i, W^K_i \\in \\mathbb{R}^{d_{\\mathrm{model}} \\times d_k}$ and "
         "$W^V_i \\in \\mathbb{R}^{d_{\\mathrm{model}} \\times d_v}$ for each of the $h$ heads, "
         "and $W^O \\in \\mathbb{R}^{h d_v \\times d_{\\mathrm{model}}}$; no biases. "
         "The count does not depend on $h$.",
)

score_flops = Claim(
    "score_flops",
    "Splitting into heads does not change the cost of the scores",
    start=h * 2 * seq**2 * d_k,
    steps=(Step(2 * seq**2 * d_model, "$d_k = d_{\\mathrm{model}}/h$", "expand",
                using=(Eq(d_k, d_model / h),)),),
    on_sheet=False,
    note="$h$ products $QK^\\top$ of $(s \\times d_k)(d_k \\times s)$ at $2s^2d_k$ FLOPs each cost "
         "as much as one full-width head.",
)

# --- Results -------------------------------------------------------------------
RESULTS = (
    Result("mha_projection_params", 4 * d_model**2, params=(d_model,),
           doc="weights of W^Q, W^K, W^V and W^O in multi-head attention with "
               "d_k = d_v = d_model / h, no biases", units="parameters",
           claim="projection_params", integer=True),
)

# --- Numeric checks --------------------------------------------------------------


def _attention_rows(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Attention one query at a time, with explicit exponentials (no library softmax)."""
    weights = np.empty((q.shape[0], k.shape[0]))
    for r in range(q.shape[0]):
        scores = np.array([float(q[r] @ k[c]) for c in range(k.shape[0])]) / np.sqrt(q.shape[1])
        e = np.exp(scores - scores.max())
        weights[r] = e / e.sum()
    return weights, weights @ v


def check_rows_and_convexity(rng: np.random.Generator) -> Measurement:
    """Rows of the weights sum to 1; outputs stay within each value column's range."""
    worst, cases = 0.0, 200
    for _ in range(cases):
        tokens, width, dv = (int(x) for x in rng.integers(1, (12, 9, 6)))
        scale = float(rng.choice([0.1, 1.0, 30.0]))  # 30: nearly one-hot weights
        q, k = rng.normal(size=(tokens, width)) * scale, rng.normal(size=(tokens, width)) * scale
        v = rng.normal(size=(tokens, dv)) * float(10.0 ** rng.uniform(-3, 3))
        weights, out = _attention_rows(q, k, v)
        if weights.shape != (tokens, tokens) or out.shape != (tokens, dv):
            return Measurement(float("inf"), cases, 0.0, f"shapes {weights.shape}, {out.shape}")
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
    """Per-head loop + concat + W^O vs batched einsum + sum over heads; parameter count."""
    worst, cases = 0.0, 40
    for _ in range(cases):
        heads = int(rng.integers(1, 5))
        model = heads * int(rng.integers(1, 5))
        tokens = int(rng.integers(1, 8))
        x = rng.normal(size=(tokens, model))
        wq, wk, wv, wo = (rng.normal(size=(model, model)) / np.sqrt(model) for _ in range(4))
        a, b = _mha_loop(x, wq, wk, wv, wo, heads), _mha_batched(x, wq, wk, wv, wo, heads)
        if a.shape != (tokens, model) or wq.size + wk.size + wv.size + wo.size != 4 * model**2:
            return Measurement(float("inf"), cases, 0.0, "wrong output shape or parameter count")
        worst = max(worst, float(np.max(np.abs(a - b))) / max(1.0, float(np.abs(a).max())))
    return Measurement(worst, cases, 1e-12,
                       "two multi-head implementations (1..4 heads, d_model up to 16)")


def example_three_tokens() -> tuple[str, str]:
    """Attention over three tokens with d_k = 2, computed with NumPy."""
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    weights, out = _attention_rows(q, k, v)

    def matrix(x: np.ndarray) -> str:
        rows = [" & ".join(f"{val:.3f}" for val in row) for row in x]
        return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}"

    return ("three tokens, $Q = K$ with rows $(1,0), (0,1), (1,1)$, $V$ with rows "
            "$(1,0), (0,1), (0.5,0.5)$",
            rf"\operatorname{{softmax}}\!\left(\tfrac{{QK^\top}}{{\sqrt 2}}\right) = "
            rf"{matrix(weights)},\quad \text{{output}} = {matrix(out)}")


# --- The derivation ----------------------------------------------------------------
_head_i = Function("Attention")(MatMul(Q, MatrixSymbol("W^Q_i", d_k, d_k)),
                                MatMul(K, MatrixSymbol("W^K_i", d_k, d_k)),
                                MatMul(V, MatrixSymbol("W^V_i", d_v, d_v)))

DERIVATION = Derivation(
    id="multi-head-attention",
    title="Scaled dot-product and multi-head attention",
    topic="Attention",
    order=34,
    gloss="Attention averages value rows with softmax weights; multi-head attention runs "
          "$h$ narrower heads in parallel and mixes them with $W^O$.",
    assumptions=(
        "$Q, K \\in \\mathbb{R}^{s \\times d_k}$, $V \\in \\mathbb{R}^{s \\times d_v}$: one row "
        "per token; softmax acts on each row.",
        "$h$ heads with $d_k = d_v = d_{\\mathrm{model}}/h$; "
        "$W^O \\in \\mathbb{R}^{h d_v \\times d_{\\mathrm{model}}}$ has row blocks "
        "$W^O_1, \\dots, W^O_h$ of $d_v$ rows each.",
    ),
    definitions=(
        Definition("scaled dot-product attention", Function("Attention")(Q, K, V),
                   MatMul(row_softmax(MatMul(Q, K.T) / sqrt(d_k)), V),
                   note="$s \\times s$ weights times $s \\times d_v$ values: "
                        "an $s \\times d_v$ output"),
        Definition("head", Symbol("H_i"), _head_i,
                   note="with the input projections of head $i$"),
        Definition("multi-head attention", Symbol(r"\operatorname{MultiHead}(Q, K, V)"),
                   concat_then_project(h)),
    ),
    claims=(rows_sum_to_one, convex_lower, convex_upper, concat_heads, projection_params,
            score_flops),
    results=RESULTS,
    checks=(
        NumericCheck("rows_convex", check_rows_and_convexity,
                     "Attention one query at a time: every row of weights sums to 1 and every "
                     "output lies within its value column's range, even for near one-hot "
                     "weights."),
        NumericCheck("multi_head", check_multi_head,
                     "A per-head loop with concatenation against a batched einsum that sums "
                     "$H_i W^O_i$; output shapes and the $4d_{\\mathrm{model}}^2$ parameters."),
    ),
    notation={seq: "the number of tokens", h: "the number of heads",
              d_model: "the model width", "W^O": "the output projection"},
    remarks=("The block identity is checked entry-wise with fixed small sizes. Each output "
             "entry uses one row of the heads and one column of $W^O$, so more tokens or model "
             "columns only repeat the same identity, and narrower heads are the same identity "
             "with zero columns.",),
    sources=("Vaswani et al., Attention Is All You Need, NeurIPS 2017, arXiv:1706.03762, "
             "sections 3.2.1 and 3.2.2.",),
    examples=(example_three_tokens,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
