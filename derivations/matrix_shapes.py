"""Matrix products: shapes, FLOPs, transposes, associativity, and the trace.

Statement
    An (m x k)(k x n) product is m x n and costs 2mkn FLOPs (one multiply and one add per
    term of each of the mn dot products). (AB)^T = B^T A^T; (AB)C = A(BC), but the two
    orders cost 2mn(k + p) and 2kp(m + n) FLOPs; tr(AB) = tr(BA), hence tr(ABC) = tr(CAB).

Run on its own: ``python derivations/matrix_shapes.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import MatMul, Sum, Symbol, Trace, Transpose, symbols
from sympy.core.symbol import Str

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
from llmsym.notation import Notation

# --- Symbols -------------------------------------------------------------------
m, k, n, p = symbols("m k n p", integer=True, positive=True)  # matrix dimensions
i, j, l = symbols("i j l", integer=True, positive=True)  # row, column, inner index
d = Symbol("d", integer=True, positive=True)  # the size of the square matrices checked


class EntryMatrix(sp.MatrixSymbol):
    """A named matrix that ``doit`` writes out as real symbols once its shape is concrete.

    ``A`` with shape d x d prints as ``A``; at d = 2, ``doit`` gives the matrix of
    ``a_11, a_12, a_21, a_22``, so the checker can prove an identity entry by entry.
    """

    def doit(self, **hints):
        rows, cols = self.shape
        if not (rows.is_Integer and cols.is_Integer):
            return self
        name = self.name.lower()
        return sp.ImmutableMatrix(rows, cols,
                                  lambda r, c: Symbol(f"{name}_{r + 1}{c + 1}", real=True))

    @property
    def free_symbols(self):
        """The size symbols: random points then draw a size, and ``doit`` writes the entries."""
        return set().union(*(dim.free_symbols for dim in self.shape))


class EntryVector(EntryMatrix):
    """A named column vector of length ``size``; its one column is not an argument to vary."""

    def __new__(cls, name, size):
        return sp.MatrixExpr.__new__(cls, Str(str(name)), sp.sympify(size))

    @property
    def shape(self):
        return (self.args[1], sp.S.One)


A, B = (EntryMatrix(name, d, d) for name in "AB")  # square d x d; see PADDING
x = EntryVector("x", d)  # a column of C
AB_entry, A_entry, B_entry = sp.IndexedBase("(AB)"), sp.IndexedBase("A"), sp.IndexedBase("B")


class flops(Notation):  # noqa: N801 - the name readers know
    """``flops(m, k, n)``: the FLOPs of an (m x k)(k x n) product, 2 per multiply-add."""

    nargs = 3

    @classmethod
    def definition(cls, rows, inner, cols):
        return Sum(Sum(Sum(2, (l, 1, inner)), (j, 1, cols)), (i, 1, rows))

    def _latex(self, printer, exp=None):
        rows, inner, cols = (printer._print(arg) for arg in self.args)
        text = rf"\operatorname{{FLOPs}}({rows} \times {inner} \cdot {inner} \times {cols})"
        return text if exp is None else rf"{text}^{{{exp}}}"


PADDING = "Checked entry-wise for $d \\times d$ matrices; zero padding covers smaller shapes."
PADDING_REMARK = (
    "Identities of matrices are checked entry by entry for $d \\times d$ matrices of "
    "independent symbols. A rectangular product is the top-left block of the product of the "
    "matrices padded with zeros to $d \\times d$, so every shape with all dimensions at most "
    "$d$ is covered; associativity is checked for a vector $x$, which covers each column of "
    "a matrix $C$.")

# --- Claims --------------------------------------------------------------------

matmul_flops = Claim(
    "matmul_flops",
    "A matrix product costs 2mkn FLOPs",
    start=flops(m, k, n),
    steps=(Step(2 * m * k * n, "count the terms of the triple sum", "unfold+doit"),),
    note="The result is $m \\times n$; each of its $mn$ entries is a dot product of length $k$: "
         "$k$ multiplications and $k$ additions.",
)

left_first = Claim(
    "left_first",
    "Cost of $(AB)C$",
    start=flops(m, k, n) + flops(m, n, p),
    steps=(Step(2 * m * n * (k + p), "$AB$ is $m \\times n$; add the two counts", "unfold+doit"),),
    on_sheet=False,
    note="Dividing the difference of the two costs by $2mknp$ leaves $1/k + 1/p - 1/m - 1/n$: "
         "$(AB)C$ is cheaper exactly when $1/k + 1/p < 1/m + 1/n$. For a vector "
         "($p = 1$) and square $A, B$, $A(Bx)$ wins by a factor of about $n/2$.",
)

right_first = Claim(
    "right_first",
    "Cost of $A(BC)$",
    start=flops(k, n, p) + flops(m, k, p),
    steps=(Step(2 * k * p * (m + n), "$BC$ is $k \\times p$; add the two counts", "unfold+doit"),),
    on_sheet=False,
)

transpose = Claim(
    "transpose",
    "Transpose of a product",
    start=Transpose(MatMul(A, B)),
    steps=(Step(MatMul(B.T, A.T), "entry $(i, j)$ of both sides is $\\sum_l A_{jl} B_{li}$",
                "expand", sizes=Sizes(d, 1, 5)),),
    note=PADDING,
)

associativity = Claim(
    "associativity",
    "Products associate",
    start=MatMul(MatMul(A, B, evaluate=False), x, evaluate=False),
    steps=(Step(MatMul(A, MatMul(B, x, evaluate=False), evaluate=False),
                "entry $i$ of both sides is $\\sum_{l, q} A_{il} B_{lq} x_q$", "expand",
                sizes=Sizes(d, 1, 4)),),
    on_sheet=False,
    note=PADDING + " Column by column it gives $(AB)C = A(BC)$.",
)

trace_cycle = Claim(
    "trace_cycle",
    "The trace of a product does not depend on the order of the two factors",
    start=Trace(MatMul(A, B)),
    steps=(Step(Trace(MatMul(B, A)), "both are $\\sum_{i, l} A_{il} B_{li}$", "doit+sum",
                sizes=Sizes(d, 1, 6)),),
    on_sheet=False,
    note=PADDING + " With $A := AB$ and $B := C$ it gives the cyclic rule "
                   "$\\operatorname{tr}(ABC) = \\operatorname{tr}(CAB)$; only cyclic shifts: "
                   "$\\operatorname{tr}(ABC) \\ne \\operatorname{tr}(BAC)$ in general.",
)

# --- Results -------------------------------------------------------------------
RESULTS = (
    Result("matmul_flops", 2 * m * k * n, params=(m, k, n),
           doc="FLOPs of an (m x k)(k x n) matrix product, 2 per multiply-add",
           units="FLOPs", claim="matmul_flops", integer=True),
    Result("matmul_chain_flops_left", 2 * m * n * (k + p), params=(m, k, n, p),
           doc="FLOPs of (AB)C with A m x k, B k x n, C n x p", units="FLOPs",
           claim="left_first", integer=True),
    Result("matmul_chain_flops_right", 2 * k * p * (m + n), params=(m, k, n, p),
           doc="FLOPs of A(BC) with A m x k, B k x n, C n x p", units="FLOPs",
           claim="right_first", integer=True),
)

# --- Numeric checks --------------------------------------------------------------


def counted_matmul(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    """The schoolbook product of x and y, and the number of scalar * and + it performed."""
    rows, inner = x.shape
    inner_y, cols = y.shape
    if inner != inner_y:
        raise ValueError(f"shapes {x.shape} and {y.shape} do not chain")
    out, ops = np.zeros((rows, cols)), 0
    for r in range(rows):
        for c in range(cols):
            acc = 0.0
            for t in range(inner):
                acc = acc + x[r, t] * y[t, c]
                ops += 2  # one multiplication, one addition
            out[r, c] = acc
    return out, ops


def check_flop_count(rng: np.random.Generator) -> Measurement:
    """Operations counted in a schoolbook product (and chains) against 2mkn, 2mn(k+p), 2kp(m+n)."""
    worst, cases = 0, 12
    for _ in range(cases):
        rows, inner, cols, last = (int(x) for x in rng.integers(1, 7, size=4))
        x, y, z = (rng.normal(size=s) for s in ((rows, inner), (inner, cols), (cols, last)))
        xy, ops_xy = counted_matmul(x, y)
        if xy.shape != (rows, cols) or not np.allclose(xy, x @ y, rtol=1e-12, atol=1e-12):
            return Measurement(float("inf"), cases, 0.0, "the schoolbook product is wrong")
        _, ops_xy_z = counted_matmul(xy, z)
        yz, ops_yz = counted_matmul(y, z)
        _, ops_x_yz = counted_matmul(x, yz)
        worst = max(worst, abs(ops_xy - 2 * rows * inner * cols),
                    abs(ops_xy + ops_xy_z - 2 * rows * cols * (inner + last)),
                    abs(ops_yz + ops_x_yz - 2 * inner * last * (rows + cols)))
    return Measurement(float(worst), cases, 0.0,
                       "exact operation counts of a schoolbook product (checked against numpy @) "
                       "vs the closed forms")


def check_identities(rng: np.random.Generator) -> Measurement:
    """(AB)^T = B^T A^T, (AB)C = A(BC), tr(ABC) = tr(CAB) on random rectangular matrices."""
    worst, cases = 0.0, 200
    for _ in range(cases):
        rows, inner, cols, last = (int(x) for x in rng.integers(1, 40, size=4))
        x, y = rng.normal(size=(rows, inner)), rng.normal(size=(inner, cols))
        z, w = rng.normal(size=(cols, last)), rng.normal(size=(cols, rows))
        scale = np.linalg.norm(x) * np.linalg.norm(y)
        worst = max(worst, float(np.max(np.abs((x @ y).T - y.T @ x.T))) / scale)
        worst = max(worst, float(np.max(np.abs((x @ y) @ z - x @ (y @ z))))
                    / (scale * np.linalg.norm(z)))
        by_terms = np.einsum("il,lq,qi->", x, y, w)  # sum of A_il B_lq C_qi, no product formed
        worst = max(worst, abs(float(np.trace(w @ x @ y) - by_terms)) / (scale * np.linalg.norm(w)))
    return Measurement(worst, cases, 1e-13,
                       "random rectangular float64 matrices up to 39 x 39; errors relative to "
                       "the product of Frobenius norms")


def _sci(value: int) -> str:
    """An integer in LaTeX scientific notation, 3 significant digits."""
    mantissa, exponent = f"{value:.2e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def example_chain() -> tuple[str, str]:
    """(AB)x against A(Bx) for 4096 x 4096 matrices and a vector, from the results."""
    sizes = {m: 4096, k: 4096, n: 4096, p: 1}
    left, right = (int(r.expr.subs(sizes)) for r in RESULTS[1:])
    return ("the two orders of $ABx$ with $A, B \\in \\mathbb{R}^{4096 \\times 4096}$",
            rf"(AB)x:\ {_sci(left)}\ \text{{FLOPs}}, \qquad A(Bx):\ {_sci(right)}\ \text{{FLOPs}}")


# --- The derivation ----------------------------------------------------------------
DERIVATION = Derivation(
    id="matrix-shapes",
    title="Matrix products: shapes and cost",
    topic="Foundations",
    order=2,
    gloss="An $(m \\times k)(k \\times n)$ product is $m \\times n$ and costs $2mkn$ FLOPs; "
          "associativity is free, but the order of a chain decides its cost.",
    assumptions=(
        "$A \\in \\mathbb{R}^{m \\times k}$, $B \\in \\mathbb{R}^{k \\times n}$, "
        "$C \\in \\mathbb{R}^{n \\times p}$; for the trace, $B \\in \\mathbb{R}^{k \\times m}$.",
        "FLOPs count 2 per multiply-add (the convention of PyTorch's FlopCounterMode).",
    ),
    definitions=(
        Definition("matrix product", AB_entry[i, j], Sum(A_entry[i, l] * B_entry[l, j], (l, 1, k)),
                   note="for $1 \\le i \\le m$ and $1 \\le j \\le n$: $AB$ is $m \\times n$"),
        Definition("FLOPs of a product", flops(m, k, n), flops.definition(m, k, n)),
    ),
    claims=(matmul_flops, left_first, right_first, transpose, associativity, trace_cycle),
    results=RESULTS,
    checks=(
        NumericCheck("flop_count", check_flop_count,
                     "Scalar operations counted in a schoolbook product, and in both orders of a "
                     "chain, equal $2mkn$, $2mn(k+p)$ and $2kp(m+n)$ exactly."),
        NumericCheck("identities", check_identities,
                     "Transpose, associativity and cyclic trace on random rectangular matrices."),
    ),
    notation={d: "the size of the square matrices an identity was checked for"},
    remarks=(PADDING_REMARK,),
    sources=("Golub and Van Loan, Matrix Computations (4th ed., 2013), sections 1.1 and 1.2.",),
    examples=(example_chain,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
