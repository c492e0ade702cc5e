"""Vectors: the dot product, its angle, and cosine similarity.

Main results
    polar_dot         in the plane, a.b = |a| |b| cos(alpha - beta): the angle formula is a theorem
    law_of_cosines    |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, for real n-vectors
    scale_invariance  cos(lambda a, b) = cos(a, b) for lambda > 0
    unit_distance     |a| = |b| = 1  ⊢  |a - b|^2 = 2 - 2 cos(a, b)

In the plane the angle formula is proved from polar coordinates; in R^n (n > 2) the
angle between two vectors is *defined* by cos(theta) = a.b / (|a| |b|) (the
Cauchy-Schwarz inequality makes it lie in [-1, 1]), which is what cosine
similarity computes. The checks compare with Kahan's angle formula, which never
forms a dot product.

Run on its own: ``python derivations/vectors_dot_cosine.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, IndexedBase, Sum, Symbol, cos, sin, sqrt, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Named, Notation, factors, norm, terms, vector_latex

# --- Notation ----------------------------------------------------------------


class dot(Notation):  # noqa: N801 - the name readers know
    """``dot(a_i, b_i, i, n)`` = sum_i a_i b_i, printed ``a . b``."""

    nargs = 4
    bound = (2,)

    @classmethod
    def definition(cls, a, b, i, n):
        return Sum(a * b, (i, 1, n))

    def _latex(self, printer):
        a, b, i, _n = self.args
        left, right = (vector_latex(printer, v, i) for v in (a, b))
        left, right = (rf"\left({t}\right)" if isinstance(v, sp.Add) else t
                       for t, v in ((left, a), (right, b)))
        return rf"{left} \cdot {right}"


class cos_sim(Notation):  # noqa: N801
    """``cos_sim(a_i, b_i, i, n)`` = a.b / (|a| |b|), the cosine similarity."""

    nargs = 4
    bound = (2,)

    @classmethod
    def definition(cls, a, b, i, n):
        return dot.definition(a, b, i, n) / (norm.definition(a, i, n) * norm.definition(b, i, n))

    def _latex(self, printer):
        a, b, i, _n = self.args
        left, right = (vector_latex(printer, v, i) for v in (a, b))
        return rf"\cos\left({left}, {right}\right)"


# --- Symbols -------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # dimension
i = Symbol("i", integer=True, positive=True)  # component index
# bold, as vectors are printed (plain b is the batch size on the face); two real vectors
a, b = (IndexedBase(Named(f"{x}_vec", rf"\mathbf{{{x}}}", real=True), real=True) for x in "ab")
lam = Symbol("lambda", positive=True)  # a positive scale
r_a, r_b = symbols("r_a r_b", positive=True)  # lengths of two plane vectors
alpha, beta = symbols("alpha beta", real=True)  # their directions

# --- Premises --------------------------------------------------------------------
unit_a = Hypothesis(Eq(norm(a[i], i, n), 1), "$\\mathbf{a}$ is a unit vector")
unit_b = Hypothesis(Eq(norm(b[i], i, n), 1), "$\\mathbf{b}$ is a unit vector")

# --- Definitions ------------------------------------------------------------------
DEFINITIONS = (
    Definition("dot product", dot(a[i], b[i], i, n), dot.definition(a[i], b[i], i, n)),
    Definition("Euclidean norm", norm(a[i], i, n), norm.definition(a[i], i, n)),
    Definition("cosine similarity", cos_sim(a[i], b[i], i, n),
               dot(a[i], b[i], i, n) / (norm(a[i], i, n) * norm(b[i], i, n)),
               note="for $\\mathbf{a}, \\mathbf{b} \\ne 0$; in $\\mathbb{R}^n$ it defines"
                    " the angle: $\\cos\\theta = \\cos(\\mathbf{a}, \\mathbf{b})$"),
)

# --- Claims --------------------------------------------------------------------

polar_dot = Claim(
    "polar_dot",
    "In the plane the dot product is $\\|a\\|\\|b\\|\\cos\\theta$",
    start=terms(factors(r_a, r_b, cos(alpha), cos(beta)), factors(r_a, r_b, sin(alpha), sin(beta))),
    steps=(
        Step(r_a * r_b * cos(alpha - beta),
             "$\\cos(\\alpha - \\beta) = \\cos\\alpha\\cos\\beta + \\sin\\alpha\\sin\\beta$",
             "trig"),
    ),
    on_sheet=False,
    note="With $a = r_a(\\cos\\alpha, \\sin\\alpha)$ and $b = r_b(\\cos\\beta, \\sin\\beta)$ "
         "the left side is $a_1 b_1 + a_2 b_2$ and $\\theta = \\alpha - \\beta$ is the angle "
         "between them. In $\\mathbb{R}^n$ the same formula is the definition of the angle.",
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


law_of_cosines = Claim(
    "law_of_cosines",
    "Squared distance from lengths and the dot product",
    start=norm(a[i] - b[i], i, n) ** 2,
    steps=(
        Step(sum_i(a[i] ** 2) + sum_i(b[i] ** 2) - 2 * sum_i(a[i] * b[i]),
             "definition of the norm; expand the square and split the sum", "unfold+sum"),
        Step(terms(norm(a[i], i, n) ** 2, norm(b[i], i, n) ** 2, -2 * dot(a[i], b[i], i, n)),
             "definitions of the norm and the dot product", "unfold+sum"),
    ),
    note="The law of cosines of the triangle $0, \\mathbf{a}, \\mathbf{b}$ once"
         " $\\mathbf{a} \\cdot \\mathbf{b} = \\|\\mathbf{a}\\|\\|\\mathbf{b}\\|\\cos\\theta$.",
)

scale_invariance = Claim(
    "scale_invariance",
    "Cosine similarity ignores positive scaling",
    start=cos_sim(factors(lam, a[i]), b[i], i, n),
    steps=(
        Step(lam * sum_i(a[i] * b[i]) / (lam * sqrt(sum_i(a[i] ** 2)) * sqrt(sum_i(b[i] ** 2))),
             "definition of cosine similarity; $\\lambda$ leaves the sums and"
             " $\\sqrt{\\lambda^2} = \\lambda$ for $\\lambda > 0$", "unfold+sum"),
        Step(cos_sim(a[i], b[i], i, n), "cancel $\\lambda$; definition of cosine similarity",
             "unfold+cancel"),
    ),
    on_sheet=False,
    note="For $\\lambda < 0$ the sign flips: $\\cos(\\lambda a, b) = -\\cos(a, b)$.",
)

unit_distance = Claim(
    "unit_distance",
    "For unit vectors, distance and cosine carry the same information",
    given=(unit_a, unit_b),
    start=norm(a[i] - b[i], i, n) ** 2,
    steps=(
        Step(terms(norm(a[i], i, n) ** 2, norm(b[i], i, n) ** 2, -2 * dot(a[i], b[i], i, n)),
             "law of cosines", using=(law_of_cosines,)),
        Step(terms(norm(a[i], i, n) ** 2, norm(b[i], i, n) ** 2,
                   -factors(2, norm(a[i], i, n), norm(b[i], i, n), cos_sim(a[i], b[i], i, n))),
             "$\\mathbf{a} \\cdot \\mathbf{b} = \\|\\mathbf{a}\\|\\|\\mathbf{b}\\|"
             "\\cos(\\mathbf{a}, \\mathbf{b})$ (definition of cosine similarity)",
             "unfold+cancel"),
        Step(2 - 2 * cos_sim(a[i], b[i], i, n), "$\\|\\mathbf{a}\\| = \\|\\mathbf{b}\\| = 1$",
             "expand", using=(unit_a, unit_b)),
    ),
    note="So nearest neighbours by Euclidean distance and by cosine similarity coincide for"
         " normalised embeddings.", on_sheet=False,
)

# --- Numeric checks --------------------------------------------------------------


def _angle_kahan(x: np.ndarray, y: np.ndarray) -> float:
    """The angle between x and y as 2 atan2(|x^ - y^|, |x^ + y^|), without a dot product."""
    ux, uy = x / np.linalg.norm(x), y / np.linalg.norm(y)
    return 2.0 * float(np.arctan2(np.linalg.norm(ux - uy), np.linalg.norm(ux + uy)))


def check_polar(rng: np.random.Generator, formula) -> Measurement:
    """r_a r_b cos(alpha - beta) from the claim against the component sum a_1 b_1 + a_2 b_2."""
    worst, cases = 0.0, 40
    for _ in range(cases):
        ra, rb = rng.uniform(0.1, 10, size=2)
        al, be = rng.uniform(-np.pi, np.pi, size=2)
        x, y = ra * np.array([np.cos(al), np.sin(al)]), rb * np.array([np.cos(be), np.sin(be)])
        got = float(formula(r_a=ra, r_b=rb, alpha=al, beta=be))
        worst = max(worst, abs(got - float(x[0] * y[0] + x[1] * y[1])) / (ra * rb))
    return Measurement(worst, cases, 1e-13,
                       "r_a r_b cos(alpha - beta) vs a_1 b_1 + a_2 b_2 of the two plane vectors,"
                       " relative to r_a r_b")


def check_law_of_cosines(rng: np.random.Generator, formula) -> Measurement:
    """|a|^2 + |b|^2 - 2 a.b from the claim against NumPy's squared distance sum((a - b)^2)."""
    worst, cases = 0.0, 40
    for _ in range(cases):
        dim = int(rng.integers(1, 40))
        x, y = rng.normal(size=dim) * rng.uniform(0.1, 5), rng.normal(size=dim)
        got = float(formula(a_vec=x, b_vec=y, n=dim))
        worst = max(worst, abs(got - float(np.sum((x - y) ** 2))) / float(x @ x + y @ y))
    return Measurement(worst, cases, 1e-13,
                       "|a|^2 + |b|^2 - 2 a.b from the formula vs sum((a - b)^2), relative to"
                       " |a|^2 + |b|^2")


def check_scale(rng: np.random.Generator, formula) -> Measurement:
    """cos(lambda a, b) from the claim against the cosine of Kahan's angle of (a, b)."""
    worst, cases = 0.0, 40
    for _ in range(cases):
        dim = int(rng.integers(2, 40))
        x, y = rng.normal(size=dim), rng.normal(size=dim)
        scale = float(10.0 ** rng.uniform(-6, 6))
        got = float(formula(a_vec=x, b_vec=y, n=dim, **{"lambda": scale}))
        worst = max(worst, abs(got - np.cos(_angle_kahan(x, y))))
    return Measurement(worst, cases, 1e-12,
                       "cos(lambda a, b) from the formula, lambda in 1e-6..1e6, vs cos of Kahan's"
                       " angle 2 atan2(|a^ - b^|, |a^ + b^|), which uses no dot product")


def check_unit_distance(rng: np.random.Generator, formula) -> Measurement:
    """2 - 2 cos(a, b) from the claim against |a - b|^2 of normalised vectors."""
    worst, cases = 0.0, 40
    for _ in range(cases):
        dim = int(rng.integers(1, 40))
        x, y = rng.normal(size=dim), rng.normal(size=dim)
        x, y = x / np.linalg.norm(x), y / np.linalg.norm(y)
        got = float(formula(a_vec=x, b_vec=y, n=dim))
        worst = max(worst, abs(got - float(np.sum((x - y) ** 2))))
    return Measurement(worst, cases, 1e-13,
                       "2 - 2 cos(a, b) from the formula vs sum((a - b)^2) for unit vectors")


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
    gloss="Squared distance is fixed by the lengths and the dot product; for unit vectors it"
          " is $2 - 2\\cos$, so distance and cosine similarity rank neighbours alike.",
    assumptions=(
        "$\\mathbf{a}, \\mathbf{b} \\in \\mathbb{R}^n$; cosine similarity needs"
        " $\\mathbf{a}, \\mathbf{b} \\ne 0$.",
        "In the plane $\\mathbf{a} \\cdot \\mathbf{b} = \\|\\mathbf{a}\\|\\|\\mathbf{b}\\|"
        "\\cos\\theta$ is proved (claim polar_dot); in $\\mathbb{R}^n$ it defines the angle.",
    ),
    definitions=DEFINITIONS,
    claims=(polar_dot, polar_norm, law_of_cosines, scale_invariance, unit_distance),
    checks=(
        NumericCheck("polar", check_polar, "$r_a r_b\\cos(\\alpha - \\beta)$ against the"
                     " component sum of two plane vectors.", claim="polar_dot"),
        NumericCheck("law-of-cosines", check_law_of_cosines,
                     "$\\|a\\|^2 + \\|b\\|^2 - 2a \\cdot b$ against NumPy's"
                     " $\\sum_i (a_i - b_i)^2$.", claim="law_of_cosines"),
        NumericCheck("scale", check_scale, "$\\cos(\\lambda a, b)$ for $\\lambda$ in"
                     " $10^{\\pm 6}$ against the cosine of Kahan's angle, which forms no dot"
                     " product.", claim="scale_invariance", side="start"),
        NumericCheck("unit-distance", check_unit_distance, "$2 - 2\\cos(a, b)$ against"
                     " $\\sum_i (a_i - b_i)^2$ for normalised random vectors.",
                     claim="unit_distance"),
    ),
    notation={a: "a real vector $(a_1, \\dots, a_n)$", b: "a second real vector",
              lam: "a positive scale factor", r"\theta": "the angle between two vectors"},
    sources=("Strang, Introduction to Linear Algebra (5th ed., 2016), section 1.2: dot"
             " product, length and angle.",
             "Kahan, How futile are mindless assessments of roundoff (2006): the angle formula "
             "$2\\arctan(\\|\\hat a - \\hat b\\| / \\|\\hat a + \\hat b\\|)$."),
    examples=(example_cosine,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
