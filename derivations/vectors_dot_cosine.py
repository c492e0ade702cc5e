"""Vectors: the dot product, its angle, and cosine similarity.

Statement
    In the plane, a = r_a (cos alpha, sin alpha) and b = r_b (cos beta, sin beta) give
    a.b = r_a r_b cos(alpha - beta) = |a| |b| cos(theta). For real n-vectors
    |a - b|^2 = |a|^2 + |b|^2 - 2 a.b (the law of cosines); cosine similarity does
    not change when a is scaled by c > 0; for unit vectors |a - b|^2 = 2 - 2 cos(a, b).

Run on its own: ``python derivations/vectors_dot_cosine.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, IndexedBase, Sum, Symbol, cos, sin, sqrt, symbols

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Step
from llmsym.notation import Notation, vector_latex

# --- Notation ----------------------------------------------------------------


def _vector(printer, body, index) -> str:
    """A vector in bold, in parentheses when it is a sum such as ``a - b``."""
    text = vector_latex(printer, body, index)
    return rf"\left({text}\right)" if isinstance(body, sp.Add) else text


class dot(Notation):  # noqa: N801 - the name readers know
    """``dot(a_i, b_i, i, n)`` = sum_i a_i b_i, printed ``a . b``."""

    nargs = 4

    @classmethod
    def definition(cls, a, b, i, n):
        return Sum(a * b, (i, 1, n))

    def _latex(self, printer, exp=None):
        a, b, i, _n = self.args
        left, right = (_vector(printer, v, i) for v in (a, b))
        text = rf"{left} \cdot {right}"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


class norm(Notation):  # noqa: N801
    """``norm(a_i, i, n)`` = sqrt(sum_i a_i^2), the Euclidean length ``|a|``."""

    nargs = 3

    @classmethod
    def definition(cls, a, i, n):
        return sqrt(Sum(a**2, (i, 1, n)))

    def _latex(self, printer, exp=None):
        a, i, _n = self.args
        text = rf"\left\|{vector_latex(printer, a, i)}\right\|"
        return text if exp is None else f"{text}^{{{exp}}}"


class cos_sim(Notation):  # noqa: N801
    """``cos_sim(a_i, b_i, i, n)`` = a.b / (|a| |b|), the cosine similarity."""

    nargs = 4

    @classmethod
    def definition(cls, a, b, i, n):
        return dot.definition(a, b, i, n) / (norm.definition(a, i, n) * norm.definition(b, i, n))

    def _latex(self, printer, exp=None):
        a, b, i, _n = self.args
        left, right = (vector_latex(printer, v, i) for v in (a, b))
        name = r"\cos" if exp is None else rf"\cos^{{{exp}}}"
        return rf"{name}\left({left}, {right}\right)"


# --- Symbols -------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # dimension
i = Symbol("i", integer=True, positive=True)  # component index
a, b = IndexedBase("a", real=True), IndexedBase("b", real=True)  # two real vectors
c = Symbol("c", positive=True)  # a positive scale
r_a, r_b = symbols("r_a r_b", positive=True)  # lengths of two plane vectors
alpha, beta = symbols("alpha beta", real=True)  # their directions

# --- Claims --------------------------------------------------------------------

polar_dot = Claim(
    "polar_dot",
    "In the plane the dot product is $|a||b|\\cos\\theta$",
    start=r_a * cos(alpha) * r_b * cos(beta) + r_a * sin(alpha) * r_b * sin(beta),
    steps=(
        Step(r_a * r_b * cos(alpha - beta),
             "$\\cos(\\alpha - \\beta) = \\cos\\alpha\\cos\\beta + \\sin\\alpha\\sin\\beta$",
             "trig"),
    ),
    on_sheet=False,
    note="With $a = r_a(\\cos\\alpha, \\sin\\alpha)$ and $b = r_b(\\cos\\beta, \\sin\\beta)$ "
         "the left side is $a_1 b_1 + a_2 b_2$, and $\\theta = \\alpha - \\beta$ is the angle "
         "from $b$ to $a$. Any two vectors of $\\mathbb{R}^n$ lie in a plane through 0, so the "
         "same holds in every dimension.",
)

polar_norm = Claim(
    "polar_norm",
    "The length of $r(\\cos\\alpha, \\sin\\alpha)$ is $r$",
    start=sqrt((r_a * cos(alpha)) ** 2 + (r_a * sin(alpha)) ** 2),
    steps=(Step(r_a, "$\\cos^2 + \\sin^2 = 1$ and $\\sqrt{r^2} = r$ for $r > 0$", "trig"),),
    on_sheet=False,
)

def sum_i(body):
    """The sum over the components, i = 1..n."""
    return Sum(body, (i, 1, n))


UNIT = (Eq(sum_i(a[i] ** 2), 1), Eq(sum_i(b[i] ** 2), 1))  # |a| = |b| = 1

law_of_cosines = Claim(
    "law_of_cosines",
    "Squared distance from lengths and the dot product",
    start=norm(a[i] - b[i], i, n) ** 2,
    steps=(
        Step(sum_i(a[i] ** 2) + sum_i(b[i] ** 2) - 2 * sum_i(a[i] * b[i]),
             "definition of the norm; expand the square and split the sum", "unfold+sum"),
        Step(norm(a[i], i, n) ** 2 + norm(b[i], i, n) ** 2 - 2 * dot(a[i], b[i], i, n),
             "definitions of the norm and the dot product", "unfold+sum"),
    ),
    note="With $a \\cdot b = |a||b|\\cos\\theta$ this is the law of cosines of the "
         "triangle $0, a, b$.",
)

scale_invariance = Claim(
    "scale_invariance",
    "Cosine similarity ignores positive scaling",
    start=cos_sim(c * a[i], b[i], i, n),
    steps=(
        Step(c * sum_i(a[i] * b[i]) / (c * sqrt(sum_i(a[i] ** 2)) * sqrt(sum_i(b[i] ** 2))),
             "definition of cosine similarity; $c$ leaves the sums, $\\sqrt{c^2} = c$ for "
             "$c > 0$, and the two factors $c$ cancel", "unfold+sum"),
        Step(cos_sim(a[i], b[i], i, n), "cancel $c$; definition of cosine similarity",
             "unfold+cancel"),
    ),
    on_sheet=False,
    note="For $c < 0$ the sign flips: $\\cos(c a, b) = -\\cos(a, b)$.",
)

unit_distance = Claim(
    "unit_distance",
    "For unit vectors distance and cosine carry the same information",
    start=norm(a[i] - b[i], i, n) ** 2,
    steps=(
        Step(sum_i(a[i] ** 2) + sum_i(b[i] ** 2) - 2 * sum_i(a[i] * b[i]),
             "the law of cosines above", "unfold+sum"),
        Step(2 - 2 * sum_i(a[i] * b[i]) / (sqrt(sum_i(a[i] ** 2)) * sqrt(sum_i(b[i] ** 2))),
             "$|a|^2 = |b|^2 = 1$, so dividing by $|a||b| = 1$ changes nothing", using=UNIT),
        Step(2 - 2 * cos_sim(a[i], b[i], i, n), "definition of cosine similarity", "unfold"),
    ),
    note="So nearest neighbours by Euclidean distance and by cosine similarity coincide "
         "for normalised embeddings.",
)

# --- Numeric checks --------------------------------------------------------------


def _angle_kahan(x: np.ndarray, y: np.ndarray) -> float:
    """The angle between x and y as 2 atan2(|x^ - y^|, |x^ + y^|), without a dot product."""
    ux, uy = x / np.linalg.norm(x), y / np.linalg.norm(y)
    return 2.0 * float(np.arctan2(np.linalg.norm(ux - uy), np.linalg.norm(ux + uy)))


def check_angle(rng: np.random.Generator) -> Measurement:
    """a.b against |a||b|cos(theta), theta from atan2 (2-D) or Kahan's formula (any n)."""
    worst, cases = 0.0, 300
    for case in range(cases):
        dim = 2 if case % 3 == 0 else int(rng.integers(2, 12))
        x, y = rng.normal(size=dim) * rng.uniform(0.1, 10), rng.normal(size=dim)
        if dim == 2:
            theta = np.arctan2(x[1], x[0]) - np.arctan2(y[1], y[0])
        else:
            theta = _angle_kahan(x, y)
        expected = np.linalg.norm(x) * np.linalg.norm(y) * np.cos(theta)
        dot_xy = sum(float(p) * float(q) for p, q in zip(x, y, strict=True))
        worst = max(worst, abs(dot_xy - expected) / (np.linalg.norm(x) * np.linalg.norm(y)))
    return Measurement(worst, cases, 1e-12,
                       "component sum a.b vs |a||b|cos(theta), theta from directions, not from a.b")


def check_cosine(rng: np.random.Generator) -> Measurement:
    """Law of cosines, scale invariance and the unit-vector distance on random vectors."""
    worst, cases = 0.0, 300
    for _ in range(cases):
        dim = int(rng.integers(2, 64))
        x, y = rng.normal(size=dim), rng.normal(size=dim)
        scale = float(10.0 ** rng.uniform(-6, 6))
        size = float(x @ x + y @ y)
        worst = max(worst, abs(float(np.sum((x - y) ** 2)) - (size - 2 * float(x @ y))) / size)
        reference = np.cos(_angle_kahan(x, y))  # the cosine of the angle, no dot product used
        scaled = scale * x
        cos_scaled = float(scaled @ y) / (np.linalg.norm(scaled) * np.linalg.norm(y))
        worst = max(worst, abs(cos_scaled - reference))
        ux, uy = x / np.linalg.norm(x), y / np.linalg.norm(y)
        worst = max(worst, abs(float(np.sum((ux - uy) ** 2)) - (2 - 2 * reference)))
    return Measurement(worst, cases, 1e-12,
                       "|a-b|^2 by components vs |a|^2+|b|^2-2a.b; cos(ca, b) and 2-2cos "
                       "vs the cosine of Kahan's angle")


def example_cosine() -> tuple[str, str]:
    """Cosine similarity of (1, 2, 2) and (2, 0, 1), exactly and in degrees."""
    from llmsym.latex import to_latex

    x, y = sp.Matrix([1, 2, 2]), sp.Matrix([2, 0, 1])
    exact = x.dot(y) / (x.norm() * y.norm())
    angle = _angle_kahan(np.array([1.0, 2.0, 2.0]), np.array([2.0, 0.0, 1.0]))
    return ("cosine similarity of two 3-vectors",
            rf"\cos\big((1, 2, 2), (2, 0, 1)\big) = {to_latex(exact)} \approx {float(exact):.4f},"
            rf"\quad \theta \approx {np.degrees(angle):.1f}^\circ")


# --- The derivation ----------------------------------------------------------------
DERIVATION = Derivation(
    id="vectors-dot-cosine",
    title="Dot product, angle and cosine similarity",
    topic="Foundations",
    order=1,
    gloss="The dot product measures length times length times the cosine of the angle; "
          "cosine similarity keeps only the angle.",
    assumptions=(
        "$a, b \\in \\mathbb{R}^n$; cosine similarity needs $a, b \\ne 0$.",
        "Unit vectors: $|a| = |b| = 1$ (used only in the last claim).",
    ),
    definitions=(
        Definition("dot product", dot(a[i], b[i], i, n), dot.definition(a[i], b[i], i, n)),
        Definition("norm", norm(a[i], i, n), norm.definition(a[i], i, n)),
        Definition("cosine similarity", cos_sim(a[i], b[i], i, n),
                   dot(a[i], b[i], i, n) / (norm(a[i], i, n) * norm(b[i], i, n))),
    ),
    claims=(polar_dot, polar_norm, law_of_cosines, scale_invariance, unit_distance),
    checks=(
        NumericCheck("angle", check_angle,
                     "$a \\cdot b$ summed by components against $|a||b|\\cos\\theta$, with "
                     "$\\theta$ from the vectors' directions (atan2 in 2-D, Kahan's formula in "
                     "$n$-D)."),
        NumericCheck("cosine", check_cosine,
                     "Law of cosines, scale invariance (scales $10^{\\pm 6}$) and "
                     "$|a-b|^2 = 2 - 2\\cos$ for unit vectors, on random vectors of length 2..63."),
    ),
    notation={a: "a real vector $(a_1, \\dots, a_n)$", c: "a positive scale factor",
              r"\theta": "the angle between two vectors"},
    sources=("Strang, Introduction to Linear Algebra (5th ed., 2016), section 1.2.",
             "Kahan, How futile are mindless assessments of roundoff (2006): the angle formula "
             "$2\\arctan(|\\hat a - \\hat b| / |\\hat a + \\hat b|)$."),
    examples=(example_cosine,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
