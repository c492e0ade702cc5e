"""Matrix products: shapes, FLOPs, transposes, associativity, and the trace.

Main results
    matmul_flops      FLOPs(n1 x n2 . n2 x n3) = 2 n1 n2 n3, counting 2 per multiply-accumulate
    schoolbook        the schoolbook product performs n1 n3 (2 n2 - 1) scalar operations
    convention_gap    the convention counts n1 n3 more: one addition into zero per entry
    left_first        FLOPs of (AB)C = 2 n1 n3 (n2 + n4)
    right_first       FLOPs of A(BC) = 2 n2 n4 (n1 + n3)
    transpose         (AB)^T = B^T A^T, entry by entry, for every shape
    associativity     (AB)x = A(Bx)           (checked for sizes 1..3)
    trace_cycle       tr(AB) = tr(BA)          (checked for sizes 1..3)

"2 per multiply-accumulate" is a convention (PyTorch's FlopCounterMode, Kaplan et
al.): an entry of an (n1 x n2)(n2 x n3) product takes n2 multiplications and
n2 - 1 additions, so the schoolbook count is n1 n3 (2 n2 - 1). The numeric checks
count the operations NumPy's own matrix product performs on counting scalars.

The transpose identity is proved for symbolic shapes: SymPy writes the entry
(r, c) of each side as its defining sum, and the two sums agree.

Run on its own: ``python derivations/matrix_shapes.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import IndexedBase, MatMul, Sum, Symbol, Trace, Transpose, symbols
from sympy.core.symbol import Str
from sympy.matrices.expressions.matexpr import MatrixElement

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Sizes,
    Step,
)
from llmsym.notation import Notation, factors, minus, terms

# --- Symbols -------------------------------------------------------------------
n1, n2, n3, n4 = symbols("n_1 n_2 n_3 n_4", integer=True, positive=True)  # matrix dimensions
i, j, l = symbols("i j l", integer=True, positive=True)  # row, column, inner index
row, col = symbols("r c", integer=True, nonnegative=True)  # a generic entry (0-based)
d = Symbol("d_{sq}", integer=True, positive=True)  # size of the square matrices of sized checks


class matrix(Notation):  # noqa: N801 - reads as the matrix it prints
    """A matrix expression compared entry by entry: unfolds to its generic entry (r, c).

    Printed as the matrix expression itself. SymPy writes the entry of a product or a
    transpose of matrix symbols as its defining sum (``(AB)_{rc} = sum_l A_{rl} B_{lc}``);
    entries of the matrix symbols become indexed symbols, so the checker can evaluate
    them at random points. Two matrices whose generic entries agree for all ``r, c`` and
    all shapes are equal.
    """

    nargs = 1

    @classmethod
    def definition(cls, m):
        entry = m[row, col]
        return entry.replace(lambda e: isinstance(e, MatrixElement),
                             lambda e: IndexedBase(str(e.parent.name), real=True)[e.i, e.j])

    def _latex(self, printer):
        return printer._print(self.args[0])


class EntryMatrix(sp.MatrixSymbol):
    """A named square matrix that ``doit`` writes out as real symbols once its size is concrete
    (for the claims checked size by size)."""

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


A = sp.MatrixSymbol("A", n1, n2)
B = sp.MatrixSymbol("B", n2, n3)
As, Bs = (EntryMatrix(name, d, d) for name in "AB")  # square d x d, for the sized claims
x = EntryVector("x", d)


class flops(Notation):  # noqa: N801 - the name readers know
    """``flops(n1, n2, n3)``: FLOPs of an (n1 x n2)(n2 x n3) product, 2 per multiply-accumulate."""

    nargs = 3

    @classmethod
    def definition(cls, rows, inner, cols):
        return Sum(Sum(Sum(2, (l, 1, inner)), (j, 1, cols)), (i, 1, rows))

    def _latex(self, printer):
        rows, inner, cols = (printer._print(arg) for arg in self.args)
        return rf"\operatorname{{FLOPs}}({rows} \times {inner} \cdot {inner} \times {cols})"


class schoolbook(Notation):  # noqa: N801
    """Scalar operations of the schoolbook product: per entry, n2 multiplications and n2 - 1
    additions (the products of a row and a column summed pairwise)."""

    nargs = 3

    @classmethod
    def definition(cls, rows, inner, cols):
        per_entry = Sum(1, (l, 1, inner)) + Sum(1, (l, 2, inner))
        return Sum(Sum(per_entry, (j, 1, cols)), (i, 1, rows))

    def _latex(self, printer):
        rows, inner, cols = (printer._print(arg) for arg in self.args)
        return (rf"\operatorname{{ops}}_{{\mathrm{{school}}}}"
                rf"({rows} \times {inner} \cdot {inner} \times {cols})")


DEF_FLOPS = Definition("FLOPs of a product", flops(n1, n2, n3), flops.definition(n1, n2, n3),
                       note="two per multiply-accumulate, the convention of PyTorch's"
                            " FlopCounterMode")
DEF_SCHOOLBOOK = Definition("schoolbook operations", schoolbook(n1, n2, n3),
                            schoolbook.definition(n1, n2, n3),
                            note="per entry $n_2$ multiplications and $n_2 - 1$ additions")
SHAPES = r"A \in \mathbb{R}^{n_1 \times n_2},\ B \in \mathbb{R}^{n_2 \times n_3}"

# --- Claims --------------------------------------------------------------------

matmul_flops = Claim(
    "matmul_flops",
    "A matrix product costs $2n_1n_2n_3$ FLOPs",
    start=flops(n1, n2, n3),
    steps=(Step(factors(2, n1, n2, n3), "count the terms of the triple sum", "unfold+doit"),),
    where=(DEF_FLOPS,),
    note="The product is $n_1 \\times n_3$; each entry is a dot product of length $n_2$. "
         "Two FLOPs per multiply-accumulate is a convention (claim schoolbook gives the"
         " operations actually performed).",
)

schoolbook_count = Claim(
    "schoolbook",
    "The schoolbook product performs $n_1n_3(2n_2 - 1)$ operations",
    start=schoolbook(n1, n2, n3),
    steps=(Step(factors(n1, n3, 2 * n2 - 1), "count: $n_2 + (n_2 - 1)$ per entry, $n_1n_3$"
                " entries", "unfold+doit"),),
    where=(DEF_SCHOOLBOOK,), on_sheet=False,
)

convention_gap = Claim(
    "convention_gap",
    "The FLOP convention counts one addition more per entry",
    start=minus(flops(n1, n2, n3), schoolbook(n1, n2, n3)),
    steps=(Step(n1 * n3, "$2n_1n_2n_3 - n_1n_3(2n_2 - 1)$", "unfold+doit"),),
    on_sheet=False,
    note="The convention counts the first product of each entry as an addition into zero;"
         " the difference is small next to $2n_1n_2n_3$ when $n_2$ is large.",
)

left_first = Claim(
    "left_first",
    "Cost of $(AB)C$",
    start=terms(flops(n1, n2, n3), flops(n1, n3, n4)),
    steps=(Step(factors(2, n1, n3, n2 + n4), "$AB$ is $n_1 \\times n_3$; add the two counts",
                "unfold+doit"),),
    on_sheet=False,
    note="With $C \\in \\mathbb{R}^{n_3 \\times n_4}$. Dividing the difference of the two"
         " orders' costs by $2n_1n_2n_3n_4$ leaves $1/n_2 + 1/n_4 - 1/n_1 - 1/n_3$: $(AB)C$ is"
         " cheaper exactly when $1/n_2 + 1/n_4 < 1/n_1 + 1/n_3$. For a vector ($n_4 = 1$) and"
         " square $A, B$, $A(Bx)$ wins by a factor of about $n/2$.",
)

right_first = Claim(
    "right_first",
    "Cost of $A(BC)$",
    start=terms(flops(n2, n3, n4), flops(n1, n2, n4)),
    steps=(Step(factors(2, n2, n4, n1 + n3), "$BC$ is $n_2 \\times n_4$; add the two counts",
                "unfold+doit"),),
    on_sheet=False,
)

transpose = Claim(
    "transpose",
    "Transpose of a product",
    start=matrix(Transpose(MatMul(A, B))),
    steps=(Step(matrix(MatMul(B.T, A.T)),
                "entry $(r, c)$ of both sides is $\\sum_{l} A_{cl} B_{lr}$", "unfold+sum"),),
    where=(SHAPES,),
    note="Proved entry by entry for every shape $n_1, n_2, n_3$.",
    on_sheet=False,  # plain A and B are Chinchilla's fitted constants on the face
)

associativity = Claim(
    "associativity",
    "Products associate",
    start=MatMul(MatMul(As, Bs, evaluate=False), x, evaluate=False),
    steps=(Step(MatMul(As, MatMul(Bs, x, evaluate=False), evaluate=False),
                "entry $r$ of both sides is $\\sum_{l, q} A_{rl} B_{lq} x_q$", "expand",
                sizes=Sizes(d, 1, 3)),),
    on_sheet=False,
    note="Checked for square $A, B$ of sizes 1..3 (a rectangular product is a block of a"
         " square one padded with zeros); column by column it gives $(AB)C = A(BC)$.",
)

trace_cycle = Claim(
    "trace_cycle",
    "The trace of a product does not depend on the order of the two factors",
    start=Trace(MatMul(As, Bs)),
    steps=(Step(Trace(MatMul(Bs, As)), "both are $\\sum_{r, l} A_{rl} B_{lr}$", "doit+sum",
                sizes=Sizes(d, 1, 3)),),
    on_sheet=False,
    note="Checked for square matrices of sizes 1..3. With $A := AB$ and $B := C$ it gives the"
         " cyclic rule $\\operatorname{tr}(ABC) = \\operatorname{tr}(CAB)$; only cyclic shifts:"
         " $\\operatorname{tr}(ABC) \\ne \\operatorname{tr}(BAC)$ in general.",
)

# --- Results -------------------------------------------------------------------
RESULTS = (
    Result("matmul_flops", 2 * n1 * n2 * n3, params=(n1, n2, n3),
           doc="FLOPs of an (n_1 x n_2)(n_2 x n_3) matrix product, 2 per multiply-accumulate",
           units="FLOPs", claim="matmul_flops", integer=True),
    Result("matmul_chain_flops_left", 2 * n1 * n3 * (n2 + n4), params=(n1, n2, n3, n4),
           doc="FLOPs of (AB)C with A n_1 x n_2, B n_2 x n_3, C n_3 x n_4", units="FLOPs",
           claim="left_first", integer=True),
    Result("matmul_chain_flops_right", 2 * n2 * n4 * (n1 + n3), params=(n1, n2, n3, n4),
           doc="FLOPs of A(BC) with A n_1 x n_2, B n_2 x n_3, C n_3 x n_4", units="FLOPs",
           claim="right_first", integer=True),
)

# --- Numeric checks --------------------------------------------------------------


class Counted:
    """A float that counts the multiplications and additions performed on it."""

    __slots__ = ("value",)
    multiplications = 0
    additions = 0

    def __init__(self, value: float) -> None:
        self.value = value

    def __mul__(self, other: Counted) -> Counted:
        Counted.multiplications += 1
        return Counted(self.value * other.value)

    def __add__(self, other: Counted | float) -> Counted:
        Counted.additions += 1
        return Counted(self.value + (other.value if isinstance(other, Counted) else other))

    __radd__ = __add__


def counted_product(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int, int]:
    """NumPy's own matrix product of x and y on counting scalars: (result, *, +)."""
    wrap = np.vectorize(Counted, otypes=[object])
    Counted.multiplications = Counted.additions = 0
    out = wrap(x) @ wrap(y)
    values = np.array([[c.value for c in r] for r in out], dtype=float).reshape(out.shape)
    return values, Counted.multiplications, Counted.additions


def _shapes(rng: np.random.Generator, count: int) -> list[tuple[int, ...]]:
    """Random dimensions 1..6, with a 1 in some of them (vectors, inner dimension 1)."""
    return [tuple(int(v) for v in rng.integers(1, 7, size=4)) for _ in range(count)]


def check_flops(rng: np.random.Generator, formula) -> Measurement:
    """2 n1 n2 n3 from the claim against 2 x the multiply-accumulates NumPy's product performs."""
    worst, cases = 0.0, 12
    for a, b, c, _ in _shapes(rng, cases):
        x, y = rng.normal(size=(a, b)), rng.normal(size=(b, c))
        values, mults, _adds = counted_product(x, y)
        if not np.allclose(values, x @ y, rtol=1e-12, atol=1e-12):
            return Measurement(float("inf"), cases, 0.0, "the counted product is wrong")
        worst = max(worst, abs(float(formula(n_1=a, n_2=b, n_3=c)) - 2 * mults))
    return Measurement(worst, cases, 0.0,
                       "2 n1 n2 n3 from the formula vs twice the multiplications (each one"
                       " accumulated) NumPy's matmul performs on counting scalars")


def check_schoolbook(rng: np.random.Generator, formula) -> Measurement:
    """n1 n3 (2 n2 - 1) from the claim against the * and + NumPy's product performs."""
    worst, cases = 0.0, 12
    for a, b, c, _ in _shapes(rng, cases):
        _, mults, adds = counted_product(rng.normal(size=(a, b)), rng.normal(size=(b, c)))
        worst = max(worst, abs(float(formula(n_1=a, n_2=b, n_3=c)) - (mults + adds)))
    return Measurement(worst, cases, 0.0,
                       "n1 n3 (2 n2 - 1) from the formula vs multiplications + additions counted"
                       " in NumPy's matmul on counting scalars")


def check_gap(rng: np.random.Generator, formula) -> Measurement:
    """n1 n3 from the claim against 2 x multiplications - (multiplications + additions)."""
    worst, cases = 0.0, 12
    for a, b, c, _ in _shapes(rng, cases):
        _, mults, adds = counted_product(rng.normal(size=(a, b)), rng.normal(size=(b, c)))
        worst = max(worst, abs(float(formula(n_1=a, n_3=c)) - (2 * mults - mults - adds)))
    return Measurement(worst, cases, 0.0,
                       "n1 n3 from the formula vs (2 per multiply) - (operations counted)")


def _chain_check(order: str):
    def check(rng: np.random.Generator, formula) -> Measurement:
        worst, cases = 0.0, 8
        for a, b, c, e in _shapes(rng, cases):
            x, y, z = (rng.normal(size=s) for s in ((a, b), (b, c), (c, e)))
            if order == "left":
                xy, m1, _ = counted_product(x, y)
                _, m2, _ = counted_product(xy, z)
            else:
                yz, m1, _ = counted_product(y, z)
                _, m2, _ = counted_product(x, yz)
            got = float(formula(n_1=a, n_2=b, n_3=c, n_4=e))
            worst = max(worst, abs(got - 2 * (m1 + m2)))
        return Measurement(worst, cases, 0.0,
                           f"the {order}-first chain cost from the formula vs twice the"
                           " multiplications counted in both NumPy products")

    return check


def check_identities(rng: np.random.Generator) -> Measurement:
    """Experiment: (AB)^T = B^T A^T, (AB)C = A(BC), tr(ABC) = tr(CAB) on random float matrices."""
    worst, cases = 0.0, 60
    for _ in range(cases):
        a, b, c, e = (int(v) for v in rng.integers(1, 40, size=4))
        x, y = rng.normal(size=(a, b)), rng.normal(size=(b, c))
        z, w = rng.normal(size=(c, e)), rng.normal(size=(c, a))
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
    sizes = {n1: 4096, n2: 4096, n3: 4096, n4: 1}
    left, right = (int(r.expr.subs(sizes)) for r in RESULTS[1:])
    return ("the two orders of $ABx$ with $A, B \\in \\mathbb{R}^{4096 \\times 4096}$",
            rf"(AB)x:\ {_sci(left)}\ \text{{FLOPs}}, \qquad A(Bx):\ {_sci(right)}\ \text{{FLOPs}}")


# --- The derivation ----------------------------------------------------------------
DERIVATION = Derivation(
    id="matrix-shapes",
    title="Matrix products: shapes and cost",
    topic="Foundations",
    order=2,
    gloss="An $(n_1 \\times n_2)(n_2 \\times n_3)$ product is $n_1 \\times n_3$ and costs"
          " $2n_1n_2n_3$ FLOPs by convention; associativity is free, but the order of a chain"
          " decides its cost.",
    assumptions=(
        "$A \\in \\mathbb{R}^{n_1 \\times n_2}$, $B \\in \\mathbb{R}^{n_2 \\times n_3}$,"
        " $C \\in \\mathbb{R}^{n_3 \\times n_4}$.",
        "FLOPs count 2 per multiply-accumulate (the convention of PyTorch's FlopCounterMode);"
        " the schoolbook product performs one addition fewer per entry.",
    ),
    definitions=(DEF_FLOPS, DEF_SCHOOLBOOK),
    claims=(matmul_flops, schoolbook_count, convention_gap, left_first, right_first, transpose,
            associativity, trace_cycle),
    results=RESULTS,
    checks=(
        NumericCheck("flops", check_flops, "$2n_1n_2n_3$ against twice the multiplications"
                     " NumPy's matrix product performs on counting scalars.",
                     claim="matmul_flops"),
        NumericCheck("schoolbook", check_schoolbook, "$n_1n_3(2n_2 - 1)$ against the"
                     " multiplications and additions NumPy's product performs.",
                     claim="schoolbook"),
        NumericCheck("gap", check_gap, "$n_1n_3$ against the counted difference.",
                     claim="convention_gap"),
        NumericCheck("left-first", _chain_check("left"), "$(AB)C$ from counted products.",
                     claim="left_first"),
        NumericCheck("right-first", _chain_check("right"), "$A(BC)$ from counted products.",
                     claim="right_first"),
        NumericCheck("identities", check_identities, "Experiment: transpose, associativity and"
                     " cyclic trace on random rectangular matrices."),
    ),
    notation={n1: "rows of $A$", n2: "columns of $A$, rows of $B$", n3: "columns of $B$",
              n4: "columns of $C$", d: "size of the square matrices a sized claim was checked"
              " for"},
    sources=("Golub and Van Loan, Matrix Computations (4th ed., 2013), sections 1.1 and 1.2.",
             "Kaplan et al., Scaling Laws for Neural Language Models (2020), section 2.1:"
             " 2 FLOPs per multiply-accumulate."),
    examples=(example_chain,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
