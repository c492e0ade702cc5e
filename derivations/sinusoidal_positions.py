"""Sinusoidal position encodings: a shift by k is a rotation that does not depend on p.

Statement
    PE(p)_{2i} = sin(p w_i), PE(p)_{2i+1} = cos(p w_i), w_i = 10000^{-2i/d}. Each pair
    (sin, cos) of PE(p + k) is a fixed 2 x 2 rotation M_k of the same pair of PE(p), with
    M_k depending on k and w_i only; M_k^T M_k = I; and PE(p) . PE(p + k) = sum_i cos(k w_i)
    depends on the offset k only.

Run on its own: ``python derivations/sinusoidal_positions.py``.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from sympy import ImmutableMatrix, IndexedBase, MatMul, Sum, Symbol, cos, pi, sin, symbols

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Notation

# --- Symbols -------------------------------------------------------------------
p, k = symbols("p k", real=True)  # a position and an offset
omega = Symbol("omega", positive=True)  # one frequency w_i
w = IndexedBase("omega", positive=True)  # all frequencies w_0 .. w_{n-1}
i = Symbol("i", integer=True, nonnegative=True)  # frequency index
half = Symbol("n", integer=True, positive=True)  # n = d/2 frequency pairs
d_model = Symbol("d_model", integer=True, positive=True)  # the encoding width d


def pair(position) -> ImmutableMatrix:
    """The (sin, cos) pair of one frequency at ``position``."""
    return ImmutableMatrix([sin(position * omega), cos(position * omega)])


def rotation(offset) -> ImmutableMatrix:
    """M_k: the rotation taking the pair at p to the pair at p + offset."""
    c, s = cos(offset * omega), sin(offset * omega)
    return ImmutableMatrix([[c, s], [-s, c]])


def sum_pairs(body):
    """The sum over the n = d/2 frequency pairs, i = 0..n-1."""
    return Sum(body, (i, 0, half - 1))


class pe_dot(Notation):  # noqa: N801 - reads like the maths
    """``pe_dot(p, k, n)``: PE(p) . PE(p + k), summed over the n frequency pairs."""

    nargs = 3

    @classmethod
    def definition(cls, position, offset, pairs):
        body = (sin(position * w[i]) * sin((position + offset) * w[i])
                + cos(position * w[i]) * cos((position + offset) * w[i]))
        return Sum(body, (i, 0, pairs - 1))

    def _latex(self, printer, exp=None):
        position, offset, _ = (printer._print(x) for x in self.args)
        text = rf"PE({position}) \cdot PE({position} + {offset})"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


# --- Claims --------------------------------------------------------------------

shift = Claim(
    "shift",
    "A shift of the position is a rotation of each pair",
    start=pair(p + k),
    steps=(Step(MatMul(rotation(k), pair(p), evaluate=False),
                "$\\sin(a + b)$ and $\\cos(a + b)$ expanded, $a = p\\omega_i$, $b = k\\omega_i$",
                "trig"),),
    note="The matrix depends on $k$ and $\\omega_i$ but not on $p$: $PE(p + k)$ is a linear "
         "function of $PE(p)$, the same for every $p$ (block-diagonal, one block per "
         "frequency).",
)

orthogonal = Claim(
    "orthogonal",
    "The shift matrix is a rotation",
    start=MatMul(rotation(k).T, rotation(k), evaluate=False),
    steps=(Step(sp.eye(2), "$\\cos^2 + \\sin^2 = 1$", "trig"),),
    on_sheet=False,
    note="So shifting preserves the norm of each pair: $|PE(p)|^2 = d/2$ for every $p$.",
)

dot_offset = Claim(
    "dot_offset",
    "The dot product of two encodings depends only on their offset",
    start=pe_dot(p, k, half),
    steps=(Step(sum_pairs(cos(k * w[i])),
                "pair by pair, $\\sin a \\sin b + \\cos a \\cos b = \\cos(b - a)$ with "
                "$b - a = k\\omega_i$", "unfold+trig_sums"),),
    note="Even in $k$: it cannot tell $p + k$ from $p - k$.",
)

frequency = 10000 ** (-2 * i / d_model)

# --- Results -------------------------------------------------------------------
RESULTS = (
    Result("sinusoid_frequency", frequency, params=(i, d_model),
           doc="angular frequency w_i = 10000^(-2i/d) of pair i of a sinusoidal position "
               "encoding", units="radians per position"),
    Result("sinusoid_wavelength", 2 * pi * 10000 ** (2 * i / d_model), params=(i, d_model),
           doc="wavelength 2 pi / w_i of pair i, in positions", units="positions"),
)

# --- Numeric checks --------------------------------------------------------------


def _reference_encoding(position: float, width: int) -> np.ndarray:
    """PE(position) element by element with math, as written in the paper."""
    out = np.empty(width)
    for dim in range(width):
        angle = position / 10000 ** (2 * (dim // 2) / width)
        out[dim] = math.sin(angle) if dim % 2 == 0 else math.cos(angle)
    return out


def _block_rotation(offset: float, freqs: np.ndarray) -> np.ndarray:
    """The block-diagonal M_k built from the frequencies and the offset only."""
    mat = np.zeros((2 * freqs.size, 2 * freqs.size))
    for idx, f in enumerate(freqs):
        c, s = math.cos(offset * f), math.sin(offset * f)
        mat[2 * idx:2 * idx + 2, 2 * idx:2 * idx + 2] = [[c, s], [-s, c]]
    return mat


def check_shift(rng: np.random.Generator) -> Measurement:
    """PE(p + k) against M_k PE(p), and the helper against the paper's formula."""
    from llmsym.numeric.positions import sinusoid_frequencies, sinusoidal_encoding

    worst, cases = 0.0, 60
    for _ in range(cases):
        width = 2 * int(rng.integers(1, 33))
        start, offset = float(rng.integers(0, 10000)), float(rng.integers(-1000, 1000))
        enc = sinusoidal_encoding([start, start + offset], width)
        rotated = _block_rotation(offset, sinusoid_frequencies(width)) @ enc[0]
        worst = max(worst, float(np.max(np.abs(enc[1] - rotated))),
                    float(np.max(np.abs(enc[0] - _reference_encoding(start, width)))))
    return Measurement(worst, cases, 1e-9,
                       "positions up to 10^4, offsets up to +-10^3, widths 2..64; "
                       "errors are absolute (entries lie in [-1, 1])")


def check_dot_offset(rng: np.random.Generator) -> Measurement:
    """PE(p) . PE(p + k) for many p with the same k vs sum_i cos(k w_i)."""
    from llmsym.numeric.positions import sinusoid_frequencies, sinusoidal_encoding

    worst, cases = 0.0, 30
    for _ in range(cases):
        width, offset = 2 * int(rng.integers(1, 129)), float(rng.integers(-500, 500))
        starts = rng.integers(0, 5000, size=8).astype(float)
        here = sinusoidal_encoding(starts, width)
        there = sinusoidal_encoding(starts + offset, width)
        dots = np.einsum("pd,pd->p", here, there)
        expected = float(np.sum(np.cos(offset * sinusoid_frequencies(width))))
        worst = max(worst, float(np.max(np.abs(dots - expected))) / width)
    return Measurement(worst, cases, 1e-11,
                       "dot products of the encodings of 8 random positions and the same positions "
                       "shifted by k, vs sum of cos(k w_i); error per dimension")


def example_encoding() -> tuple[str, str]:
    """PE(1) for d = 4."""
    from llmsym.numeric.positions import sinusoidal_encoding

    values = ", ".join(f"{x:.4f}" for x in sinusoidal_encoding([1], 4)[0])
    return ("the encoding of position 1 with $d = 4$ ($\\omega_0 = 1$, $\\omega_1 = 0.01$)",
            rf"PE(1) = (\sin 1, \cos 1, \sin 0.01, \cos 0.01) = ({values})")


# --- The derivation ----------------------------------------------------------------
_pe = IndexedBase("PE")

DERIVATION = Derivation(
    id="sinusoidal-positions",
    title="Sinusoidal position encodings",
    topic="Position encodings",
    order=45,
    gloss="Each pair of coordinates turns at its own frequency, so moving $k$ positions "
          "rotates every pair by a fixed angle: relative offsets are linear maps.",
    assumptions=(
        "$d$ even, $n = d/2$ pairs $i = 0, \\dots, n - 1$; positions $p$ and offsets $k$ "
        "real (integers in practice).",
    ),
    definitions=(
        Definition("even coordinates", _pe[p, 2 * i], sin(p * w[i])),
        Definition("odd coordinates", _pe[p, 2 * i + 1], cos(p * w[i])),
        Definition("frequencies", w[i], frequency),
        Definition("dot product of encodings", pe_dot(p, k, half),
                   pe_dot.definition(p, k, half)),
    ),
    claims=(shift, orthogonal, dot_offset),
    results=RESULTS,
    checks=(
        NumericCheck("shift", check_shift,
                     "$PE(p + k)$ against the block rotation $M_k$ applied to $PE(p)$; the "
                     "NumPy encoding against the paper's formula evaluated element by element."),
        NumericCheck("dot_offset", check_dot_offset,
                     "$PE(p) \\cdot PE(p + k)$ for 8 random $p$ against "
                     "$\\sum_i \\cos(k\\omega_i)$."),
    ),
    notation={omega: "the frequency $\\omega_i$ of one pair", p: "a position",
              k: "an offset between positions", half: "the number of pairs, $d/2$"},
    remarks=("The wavelengths $2\\pi/\\omega_i = 2\\pi \\cdot 10000^{2i/d}$ grow geometrically, "
             "by the factor $10000^{2/d}$, from $2\\pi$ to $2\\pi \\cdot 10000^{1 - 2/d}$.",),
    sources=("Vaswani et al., Attention Is All You Need, NeurIPS 2017, arXiv:1706.03762, "
             "section 3.5.",),
    examples=(example_encoding,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
