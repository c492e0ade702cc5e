"""Sinusoidal position encodings: a shift is a rotation, and dot products see only offsets.

Main results (frequencies i = 0 .. d/2 - 1, coordinates 0 .. d - 1, as in the paper)
    coordinates   PE(pos)_{2i} = sin(pos w_i), PE(pos)_{2i+1} = cos(pos w_i), w_i = 10000^{-2i/d}
    shift         (PE(pos')_{2i}, PE(pos')_{2i+1}) = R((pos' - pos) w_i)^T (PE(pos)_{2i},
                  PE(pos)_{2i+1}) for every i: PE(pos') = R(pos' - pos) PE(pos), one
                  block-diagonal rotation that depends on the offset only (Vaswani et al. 2017,
                  section 3.5)
    dot           <PE(pos), PE(pos')> = sum_i cos((pos - pos') w_i): depends on pos - pos' only

Run on its own: ``python derivations/sinusoidal_positions.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import (
    ImmutableMatrix,
    MatMul,
    Matrix,
    Sum,
    Symbol,
    cos,
    floor,
    pi,
    sin,
)

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Step,
    cite,
)
from llmsym.latex import to_latex
from llmsym.notation import Named, Notation, labelled, terms

# --- Symbols -----------------------------------------------------------------------------
pos = Named("pos", r"\mathrm{pos}", real=True)  # a position
pos2 = Named("pos2", r"\mathrm{pos}'", real=True)  # a second position
d = Symbol("d", integer=True, positive=True)  # the encoding width (model width), even
half = Named("pe_pairs", r"d/2", integer=True, positive=True)  # frequencies of the encoding
i = Symbol("i", integer=True, nonnegative=True)  # frequency index, 0 .. d/2 - 1

BASE = 10000  # Vaswani et al. 2017, section 3.5


# --- Notation --------------------------------------------------------------------------------
class omega(Notation):  # noqa: N801
    """``omega(i)`` = w_i = 10000^{-2i/d}, the angular frequency of pair i (radians/position)."""

    nargs = 1

    @classmethod
    def definition(cls, idx):
        return BASE ** (-2 * idx / d)

    def _latex(self, printer):
        return rf"\omega_{{{printer._print(self.args[0])}}}"


class pe(Notation):  # noqa: N801
    """``pe(pos, r)`` = PE(pos)_r: sin(pos w_{r//2}) at even r, cos(pos w_{r//2}) at odd r.

    Written for every r at once as sin(pos w_{r//2} + (pi/2)(r - 2 floor(r/2))).
    """

    nargs = 2

    @classmethod
    def definition(cls, position, coord):
        return sin(position * omega(floor(coord / 2)) + pi / 2 * (coord - 2 * floor(coord / 2)))

    def _latex(self, printer):
        position, coord = (printer._print(e) for e in self.args)
        return rf"PE\left({position}\right)_{{{coord}}}"


class pe_dot(Notation):  # noqa: N801
    """``pe_dot(a, b, d/2)`` = <PE(a), PE(b)>, summed pair by pair (derivation rope, blocks)."""

    nargs = 3

    @classmethod
    def definition(cls, a, b, count):
        return Sum(terms(pe(a, 2 * i) * pe(b, 2 * i), pe(a, 2 * i + 1) * pe(b, 2 * i + 1)),
                   (i, 0, count - 1))

    def _latex(self, printer):
        a, b, _ = (printer._print(e) for e in self.args)
        return rf"\left\langle PE\left({a}\right), PE\left({b}\right)\right\rangle"


class paren(Notation):  # noqa: N801
    """``paren(x)`` = x, printed in parentheses (a sum of terms as the body of a sum)."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return x

    def _latex(self, printer):
        return rf"\left({printer._print(self.args[0])}\right)"


def block(angle) -> ImmutableMatrix:
    """R(a)^T: what moves a (sin, cos) pair forward by the angle a."""
    return ImmutableMatrix([[cos(angle), sin(angle)], [-sin(angle), cos(angle)]])


def column(*entries) -> ImmutableMatrix:
    """A column printed as a pmatrix, like the explicit matrices beside it."""
    body = r" \\ ".join(to_latex(e) for e in entries)
    return labelled(Matrix(entries), rf"\begin{{pmatrix}}{body}\end{{pmatrix}}")


def pair(position) -> ImmutableMatrix:
    return column(pe(position, 2 * i), pe(position, 2 * i + 1))


# --- Definitions ----------------------------------------------------------------------------
DEFINITIONS = (
    Definition("sinusoidal encoding", pair(pos),
               column(sin(pos * omega(i)), cos(pos * omega(i))), on_sheet=True,
               title="Sinusoidal position encoding",
               note="For $i = 0, \\dots, d/2 - 1$: the even coordinates carry sines, the odd ones "
                    "cosines, one frequency per pair. The encoding is added to the token "
                    "embedding."),
    Definition("frequencies", omega(i), BASE ** (-2 * i / d), on_sheet=False,
               title="Sinusoidal frequencies",
               note="Wavelengths $2\\pi/\\omega_i$ from $2\\pi$ (at $i = 0$) towards "
                    "$2\\pi \\cdot 10000$ (derivation fourier-positions)."),
)

# --- Claims ------------------------------------------------------------------------------------
# derivation rope's claim blocks: a dot product is the sum of its pair products
blocks = cite("rope:blocks", "", "a dot product is the sum of its pair products")

coordinates = Claim(
    "coordinates",
    "The encoding, coordinate by coordinate",
    start=pair(pos),
    steps=(Step(column(sin(pos * omega(i)), cos(pos * omega(i))),
                "$\\lfloor 2i/2 \\rfloor = \\lfloor (2i + 1)/2 \\rfloor = i$; "
                "$\\sin(x + \\pi/2) = \\cos x$", "unfold"),),
    on_sheet=False,
    note="The one formula used for every coordinate $r$ in the proofs, "
         "$\\sin(\\mathrm{pos}\\,\\omega_{\\lfloor r/2 \\rfloor} + \\frac{\\pi}{2}(r - "
         "2\\lfloor r/2 \\rfloor))$, is the definition above.",
)

SHIFT_TEXT = (r"\mathcal{R}(a) = \operatorname{diag}\left(R(a\,\omega_0)^\top, \dots, "
              r"R(a\,\omega_{d/2-1})^\top\right),\ R(a) = \begin{pmatrix}\cos a & -\sin a"
              r" \\ \sin a & \cos a\end{pmatrix}")

shift = Claim(
    "shift",
    "A shift is one rotation per frequency: $PE(\\mathrm{pos}') = \\mathcal{R}(\\mathrm{pos}' - "
    "\\mathrm{pos})\\,PE(\\mathrm{pos})$",
    start=pair(pos2),
    steps=(Step(MatMul(block((pos2 - pos) * omega(i)),
                       ImmutableMatrix([pe(pos, 2 * i), pe(pos, 2 * i + 1)]), evaluate=False),
                "angle sums with $a = \\mathrm{pos}\\,\\omega_i$ and $b = (\\mathrm{pos}' - "
                "\\mathrm{pos})\\omega_i$: $\\sin(a + b) = \\sin a \\cos b + \\cos a \\sin b$, "
                "$\\cos(a + b) = \\cos a \\cos b - \\sin a \\sin b$", "unfold+rewrite_exp"),),
    where=(SHIFT_TEXT,),
    note="Pair $i$ of $PE(\\mathrm{pos}')$ is pair $i$ of $PE(\\mathrm{pos})$ turned by "
         "$(\\mathrm{pos}' - \\mathrm{pos})\\omega_i$, for every $i$ at once: the "
         "block-diagonal $\\mathcal{R}$ depends on the offset and the frequencies only, so one "
         "fixed linear map takes every position to the one $k$ places further (Vaswani et al.'s "
         "$PE_{pos+k}$ as a linear function of $PE_{pos}$).", on_sheet=False,
)

dot = Claim(
    "dot",
    "Dot products of encodings depend only on the offset",
    given=(blocks,),
    start=pe_dot(pos, pos2, half),
    steps=(
        Step(Sum(paren(terms(sin(pos * omega(i)) * sin(pos2 * omega(i)),
                             cos(pos * omega(i)) * cos(pos2 * omega(i)))), (i, 0, half - 1)),
             "the dot product is the sum of the pair products; definition of $PE$", "unfold",
             ),
        Step(Sum(cos((pos - pos2) * omega(i)), (i, 0, half - 1)),
             "$\\sin a \\sin b + \\cos a \\cos b = \\cos(a - b)$ in every pair",
             "unfold+trig_sums"),
    ),
    note="At $\\mathrm{pos}' = \\mathrm{pos}$ every term is 1: $\\lVert PE(\\mathrm{pos}) "
         "\\rVert^2 = d/2$ at every position. Even in $\\mathrm{pos} - \\mathrm{pos}'$: the dot "
         "product cannot tell a token "
         "$k$ places before from one $k$ places after. Attention on $x + PE$ mixes this term with "
         "the content terms, unlike RoPE.", on_sheet=False,
)

# --- Results ------------------------------------------------------------------------------------
frequency = BASE ** (-2 * i / d)
RESULTS = (
    Result("sinusoid_frequency", frequency, params=(i, d),
           doc="angular frequency w_i = 10000^(-2i/d) of pair i = 0 .. d/2 - 1 of a sinusoidal "
               "position encoding", units="radians per position"),
    Result("sinusoid_wavelength", 2 * pi / frequency, params=(i, d),
           doc="wavelength 2 pi / w_i of pair i, in positions", units="positions"),
)


# --- Numeric checks ---------------------------------------------------------------------------
def check_shift(rng: np.random.Generator, formula) -> Measurement:
    """R((pos' - pos) w_i)^T on pair i of PE(pos), from the claim, against PE(pos') in NumPy."""
    from llmsym.numeric.positions import sinusoidal_encoding

    worst, cases = 0.0, 80
    for _ in range(cases):
        width = 2 * int(rng.integers(1, 65))
        at, by = float(rng.uniform(0, 10_000)), float(rng.uniform(-1000, 1000))
        idx = int(rng.integers(0, width // 2))
        got = np.asarray(formula(pos=at, pos2=at + by, i=idx, d=width), dtype=float).ravel()
        ref = sinusoidal_encoding([at + by], width)[0][2 * idx:2 * idx + 2]
        worst = max(worst, float(np.max(np.abs(got - ref))))
    return Measurement(worst, cases, 1e-9,
                       "positions up to 1e4, offsets up to +-1e3, d up to 128, against "
                       "sinusoidal_encoding(pos'); absolute error (entries lie in [-1, 1])")


def check_dot(rng: np.random.Generator, formula) -> Measurement:
    """sum_i cos((pos - pos') w_i) from the claim against the NumPy dot product of encodings."""
    from llmsym.numeric.positions import sinusoidal_encoding

    worst, cases = 0.0, 60
    for _ in range(cases):
        width = 2 * int(rng.integers(1, 65))
        at, other = (float(v) for v in rng.uniform(0, 5000, size=2))
        got = float(formula(pos=at, pos2=other, pe_pairs=width // 2, d=width))
        enc = sinusoidal_encoding([at, other], width)
        worst = max(worst, abs(got - float(enc[0] @ enc[1])) / width)
    return Measurement(worst, cases, 1e-11,
                       "PE(pos) . PE(pos') in NumPy vs the claim, positions up to 5000, d up to "
                       "128; error per dimension")


def check_paper_formula(rng: np.random.Generator) -> Measurement:
    """Experiment: llmsym.numeric's encoding against the paper's formula, element by element."""
    import math

    from llmsym.numeric.positions import sinusoidal_encoding

    worst, cases = 0.0, 30
    for _ in range(cases):
        width, at = 2 * int(rng.integers(1, 33)), float(rng.integers(0, 10_000))
        enc = sinusoidal_encoding([at], width)[0]
        for coord in range(width):
            angle = at / 10000 ** (2 * (coord // 2) / width)
            paper = math.sin(angle) if coord % 2 == 0 else math.cos(angle)
            worst = max(worst, abs(enc[coord] - paper))
    return Measurement(worst, cases, 1e-9,
                       "PE[pos, 2i] = sin(pos/10000^(2i/d)), PE[pos, 2i+1] = cos(...) written out "
                       "with math, vs sinusoidal_encoding")


def example_encoding() -> tuple[str, str]:
    from llmsym.numeric.positions import sinusoidal_encoding

    values = ", ".join(f"{v:.4f}" for v in sinusoidal_encoding([1], 4)[0])
    return ("the encoding of position 1 with $d = 4$ ($\\omega_0 = 1$, $\\omega_1 = 0.01$)",
            rf"PE(1) = (\sin 1, \cos 1, \sin 0.01, \cos 0.01) = ({values})")


def example_dot() -> tuple[str, str]:
    from llmsym.numeric.positions import sinusoidal_encoding

    enc = sinusoidal_encoding([0, 1, 10, 100, 1000], 512)
    dots = ", ".join(f"{enc[0] @ row:.1f}" for row in enc)
    return ("$\\langle PE(0), PE(\\mathrm{pos}')\\rangle$ for $\\mathrm{pos}' = 0, 1, 10, 100, "
            "1000$ with "
            "$d = 512$: largest at $\\mathrm{pos}' = 0$ ($= d/2$), smaller far away",
            rf"({dots})")


# --- The derivation ---------------------------------------------------------------------------
DERIVATION = Derivation(
    id="sinusoidal-positions",
    title="Sinusoidal position encodings",
    topic="Positions",
    order=45,
    gloss="Each pair of coordinates turns at its own frequency, so moving $k$ positions "
          "turns every pair by a fixed angle: relative offsets are linear maps, and dot products "
          "of encodings see only the offset.",
    assumptions=(
        "$d$ is even; coordinates are $0, \\dots, d - 1$ and pair $i$ is $(PE_{2i}, "
        "PE_{2i+1})$, $i = 0, \\dots, d/2 - 1$, as in the paper (the same index convention as "
        "RoPE, derivation rope).",
        "Positions and offsets are integers in practice; every identity holds for reals.",
    ),
    definitions=DEFINITIONS,
    claims=(coordinates, shift, dot),
    results=RESULTS,
    checks=(
        NumericCheck("shift", check_shift, "$\\mathcal{R}(\\mathrm{pos}' - \\mathrm{pos})"
                     "PE(\\mathrm{pos})$ from the claim, pair by pair, against the NumPy "
                     "encoding at $\\mathrm{pos}'$.", claim="shift"),
        NumericCheck("dot", check_dot, "$\\sum_i \\cos((\\mathrm{pos} - \\mathrm{pos}')"
                     "\\omega_i)$ from the claim against the NumPy dot product.", claim="dot"),
        NumericCheck("paper", check_paper_formula, "Experiment: the NumPy encoding against the "
                     "paper's formula written out element by element."),
    ),
    notation={half: "number of frequencies of the encoding ($d$ is even)"},
    sources=("Vaswani et al., Attention Is All You Need, NeurIPS 2017, arXiv:1706.03762, "
             "section 3.5: the encoding, its frequencies, and the linear map for a fixed offset.",),
    examples=(example_encoding, example_dot),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
