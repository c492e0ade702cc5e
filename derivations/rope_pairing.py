"""RoPE in real code: the complex form, and the interleaved and half-split pairings.

Main results (pairs i = 0 .. d_k/2 - 1, coordinates 0 .. d_k - 1)
    complex_form   <R_{Theta,pos} q, R_{Theta,pos'} k> = sum_i Re q~_i conj(k~_i)
                   e^{i (pos - pos') theta_i}, q~_i = q_{2i} + i q_{2i+1}: interleaved RoPE is
                   complex multiplication (RoFormer 3.4.2, the original LLaMA code)
    conjugation    R^half Pi x and Pi R^int x agree at coordinates i and i + d_k/2, for every
                   pair i and every even d_k: Pi R^int Pi^T = R^half, with (Pi x)_i = x_{2i},
                   (Pi x)_{d_k/2 + i} = x_{2i+1} (odd positions first)
                   (so permuting the rows of W_q and W_k converts a checkpoint)

Run on its own: ``python derivations/rope_pairing.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import (
    I,
    ImmutableMatrix,
    IndexedBase,
    MatMul,
    Matrix,
    Sum,
    Symbol,
    conjugate,
    cos,
    exp,
    floor,
    sin,
)

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Step,
    cite,
)
from llmsym.latex import to_latex
from llmsym.notation import Named, Notation, factors, labelled

# --- Symbols (as in derivation rope) ------------------------------------------------------
pos = Named("pos", r"\mathrm{pos}", real=True)  # position of the query
pos2 = Named("pos2", r"\mathrm{pos}'", real=True)  # position of the key
pairs = Named("pairs", r"d_{k}/2", integer=True, positive=True)  # coordinate pairs
d_k = Symbol("d_k", integer=True, positive=True)  # query/key dimension, even
i = Symbol("i", integer=True, nonnegative=True)  # pair index, 0 .. d_k/2 - 1
q = IndexedBase(Named("query", r"\mathbf{q}", real=True))  # q_0 .. q_{d_k - 1}
k = IndexedBase(Named("key", r"\mathbf{k}", real=True))  # a key

BASE = 10000  # RoFormer section 3.3


# --- Notation (the RoPE notation of derivation rope, and the pairings) ---------------------
def _wrap(printer, e) -> str:
    text = printer._print(e)
    return rf"\left({text}\right)" if e.is_Add else text


class theta(Notation):  # noqa: N801
    """``theta(i)`` = theta_i = 10000^{-2i/d_k} (derivation rope, definition RoPE frequencies)."""

    nargs = 1

    @classmethod
    def definition(cls, idx):
        return BASE ** (-2 * idx / d_k)

    def _latex(self, printer):
        return rf"\theta_{{{printer._print(self.args[0])}}}"


def rotation(angle) -> ImmutableMatrix:
    """R(a), the rotation of the plane by the angle a."""
    return ImmutableMatrix([[cos(angle), -sin(angle)], [sin(angle), cos(angle)]])


def _turned(first, second, angle, part):
    """Row ``part`` of R(angle) (first, second)."""
    if part == 0:
        return cos(angle) * first - sin(angle) * second
    return sin(angle) * first + cos(angle) * second


class pair_dot(Notation):  # noqa: N801
    """``pair_dot(x, y, a, b, i)`` = <R(a theta_i) x^(i), R(b theta_i) y^(i)>, pair i."""

    nargs = 5

    @classmethod
    def definition(cls, xv, yv, a, b, idx):
        return sum(_turned(xv[2 * idx], xv[2 * idx + 1], a * theta(idx), p)
                   * _turned(yv[2 * idx], yv[2 * idx + 1], b * theta(idx), p) for p in (0, 1))

    def _latex(self, printer):
        xv, yv, a, b, idx = self.args
        p = printer._print(idx)

        def side(vec, angle):
            text = rf"{printer._print(vec)}^{{({p})}}"
            if angle == 0:
                return text
            return rf"R\left({_wrap(printer, angle)}\,\theta_{{{p}}}\right){text}"

        return rf"\left\langle {side(xv, a)}, {side(yv, b)}\right\rangle"


class rope_dot(Notation):  # noqa: N801
    """``rope_dot(x, y, a, b, d_k/2)`` = <R_{Theta,a} x, R_{Theta,b} y> (interleaved pairs)."""

    nargs = 5

    @classmethod
    def definition(cls, xv, yv, a, b, count):
        return Sum(pair_dot(xv, yv, a, b, i), (i, 0, count - 1))

    def _latex(self, printer):
        xv, yv, a, b, _ = self.args
        left = printer._print(xv)
        if a != 0:
            left = rf"R_{{\Theta,{printer._print(a)}}}{left}"
        right = rf"R_{{\Theta,{printer._print(b)}}}{printer._print(yv)}"
        return rf"\left\langle {left}, {right}\right\rangle"


class cis(Notation):  # noqa: N801
    """``cis(x)`` = e^{i x}, printed with an upright i (the pair index is an italic i)."""

    nargs = 1

    @classmethod
    def definition(cls, arg):
        return exp(I * arg)

    def _latex(self, printer):
        return rf"e^{{\mathrm{{i}}\,{_wrap(printer, self.args[0])}}}"


class ctilde(Notation):  # noqa: N801
    """``ctilde(x, i)`` = x_{2i} + i x_{2i+1}: interleaved pair i read as a complex number."""

    nargs = 2

    @classmethod
    def definition(cls, vec, idx):
        return vec[2 * idx] + I * vec[2 * idx + 1]

    def _latex(self, printer):
        vec, idx = self.args
        letter = {"query": "q", "key": "k"}.get(vec.label.name, vec.label.name)
        return rf"\tilde{{{letter}}}_{{{printer._print(idx)}}}"


class real_part(Notation):  # noqa: N801
    """``real_part(z)`` = Re z = (z + conj z)/2, printed as the papers print it."""

    nargs = 1

    @classmethod
    def definition(cls, z):
        return (z + conjugate(z)) / 2

    def _latex(self, printer):
        return rf"\operatorname{{Re}}\left({printer._print(self.args[0])}\right)"


def _coordinate(vec, a, coord):
    """(R_{Theta,a} x)_r, interleaved: derivation rope's element-wise form."""
    angle = a * theta(floor(coord / 2))
    return vec[coord] * cos(angle) - (-1) ** coord * vec[coord + (-1) ** coord] * sin(angle)


def _at(part, printer) -> str:
    """The coordinate of half-split pair i: ``i`` or ``i + d_k/2``."""
    return "i" if part == 0 else rf"i + {printer._print(pairs)}"


class perm(Notation):  # noqa: N801
    """``perm(x, i, part)`` = (Pi x)_i = x_{2i} (part 0), (Pi x)_{i + d_k/2} = x_{2i+1} (part 1)."""

    nargs = 3

    @classmethod
    def definition(cls, vec, idx, part):
        return vec[2 * idx + part]

    def _latex(self, printer):
        vec, _, part = self.args
        return rf"\left(\Pi {printer._print(vec)}\right)_{{{_at(part, printer)}}}"


class half_of_perm(Notation):  # noqa: N801
    """``half_of_perm(x, a, i, part)`` = (R^half_{Theta,a} Pi x) at coordinate i or i + d_k/2."""

    nargs = 4

    @classmethod
    def definition(cls, vec, a, idx, part):
        first, second = perm(vec, idx, 0), perm(vec, idx, 1)
        return _turned(first, second, a * theta(idx), part)

    def _latex(self, printer):
        vec, a, _, part = self.args
        return (rf"\left(R^{{\mathrm{{half}}}}_{{\Theta,{printer._print(a)}}}\Pi "
                rf"{printer._print(vec)}\right)_{{{_at(part, printer)}}}")


class perm_of_int(Notation):  # noqa: N801
    """``perm_of_int(x, a, i, part)`` = (Pi R^int_{Theta,a} x) at coordinate i or i + d_k/2."""

    nargs = 4

    @classmethod
    def definition(cls, vec, a, idx, part):
        return _coordinate(vec, a, 2 * idx + part)

    def _latex(self, printer):
        vec, a, _, part = self.args
        return (rf"\left(\Pi R^{{\mathrm{{int}}}}_{{\Theta,{printer._print(a)}}}"
                rf"{printer._print(vec)}\right)_{{{_at(part, printer)}}}")


def column(*entries) -> ImmutableMatrix:
    """A column printed as a pmatrix, like the explicit matrices beside it."""
    body = r" \\ ".join(to_latex(e) for e in entries)
    return labelled(Matrix(entries), rf"\begin{{pmatrix}}{body}\end{{pmatrix}}")


# --- Definitions ---------------------------------------------------------------------------
PI_TEXT = r"(\Pi\mathbf{q})_{i} = q_{2i},\ (\Pi\mathbf{q})_{i + d_{k}/2} = q_{2i+1}"
HALF_TEXT = (r"\left(R^{\mathrm{half}}_{\Theta,\mathrm{pos}}\mathbf{y}\right)_{i,\ i + d_{k}/2} "
             r"= R(\mathrm{pos}\,\theta_i)\,(y_{i}, y_{i + d_{k}/2})")
PAIR_TEXT = (r"\tilde{q}_{i} = q_{2i} + \mathrm{i}\,q_{2i+1},\ "
             r"\tilde{k}_{i} = k_{2i} + \mathrm{i}\,k_{2i+1}")

DEFINITIONS = (
    Definition("permutation", column(perm(q, i, 0), perm(q, i, 1)),
               column(q[2 * i], q[2 * i + 1]),
               note="$\\Pi$ lists the even coordinates, then the odd ones: "
                    "$\\Pi(q_0, q_1, q_2, q_3) = (q_0, q_2, q_1, q_3)$; the same for keys."),
    Definition("half-split rotation", column(half_of_perm(q, pos, i, 0),
                                             half_of_perm(q, pos, i, 1)),
               MatMul(rotation(pos * theta(i)), column(perm(q, i, 0), perm(q, i, 1)),
                      evaluate=False),
               note="Half-split pair $i$ is $(y_i, y_{i + d_k/2})$, here of $y = \\Pi\\mathbf{q}$; "
                    "it turns by $\\mathrm{pos}\\,\\theta_i$, as $\\mathbf{y}\\cos + "
                    "\\operatorname{rotate\\_half}(\\mathbf{y})\\sin$ does in Hugging Face "
                    "transformers."),
)

# --- Claims -------------------------------------------------------------------------------
phase = cis((pos - pos2) * theta(i))
product = factors(ctilde(q, i), conjugate(ctilde(k, i)), phase)
# derivation rope's claim blocks: a dot product is the sum of its pair products
blocks = cite("rope:blocks", "", "a dot product is the sum of its pair products")

complex_form = Claim(
    "complex_form",
    "Interleaved RoPE is complex multiplication",
    given=(blocks,),
    start=rope_dot(q, k, pos, pos2, pairs),
    steps=(
        Step(Sum(pair_dot(q, k, pos, pos2, i), (i, 0, pairs - 1)),
             "the score is the sum of the pair scores", "unfold"),
        Step(Sum(real_part(product), (i, 0, pairs - 1)),
             "$\\mathrm{Re}\\,(a + \\mathrm{i}b)(c - \\mathrm{i}d)e^{\\mathrm{i}\\phi}$ written "
             "out (with $\\mathrm{Re}\\,z = (z + \\bar z)/2$ and $\\cos$, $\\sin$ as "
             "exponentials) is the score of one pair", "unfold+rewrite_exp+merge_sums"),
    ),
    where=(PAIR_TEXT,),
    note="Pair $i$ of $\\mathbf{q}$, read as $\\tilde q_i$, is multiplied by "
         "$e^{\\mathrm{i}\\,\\mathrm{pos}\\,\\theta_i}$, pair $i$ of $\\mathbf{k}$ by "
         "$e^{\\mathrm{i}\\,\\mathrm{pos}'\\theta_i}$; the conjugate leaves the phase of the "
         "difference. This is how the original LLaMA code applies RoPE.", on_sheet=False,
)

conjugation = Claim(
    "conjugation",
    "Half-split RoPE is interleaved RoPE conjugated by a permutation, "
    "$\\Pi R^{\\mathrm{int}}_{\\Theta,\\mathrm{pos}}\\Pi^\\top = "
    "R^{\\mathrm{half}}_{\\Theta,\\mathrm{pos}}$",
    start=Matrix([half_of_perm(q, pos, i, 0), half_of_perm(q, pos, i, 1)]),
    steps=(
        Step(MatMul(rotation(pos * theta(i)), column(q[2 * i], q[2 * i + 1]), evaluate=False),
             "definition of $R^{\\mathrm{half}}$ (pair $(i, i + d_k/2)$ turns by $\\mathrm{pos}\\,"
             "\\theta_i$) and of $\\Pi$", "unfold+expand"),
        Step(Matrix([perm_of_int(q, pos, i, 0), perm_of_int(q, pos, i, 1)]),
             "definition of $R^{\\mathrm{int}}_{\\Theta,\\mathrm{pos}} = "
             "R_{\\Theta,\\mathrm{pos}}$ (derivation rope: pair $(2i, 2i + 1)$ turns by "
             "$\\mathrm{pos}\\,\\theta_i$) and of $\\Pi$", "unfold+expand"),
    ),
    where=(PI_TEXT, HALF_TEXT),
    note="For every pair $i$ and every even $d_k$, so $R^{\\mathrm{half}}_{\\Theta,\\mathrm{pos}}"
         "\\Pi = \\Pi R^{\\mathrm{int}}_{\\Theta,\\mathrm{pos}}$, and $\\Pi R^{\\mathrm{int}}"
         "\\Pi^\\top = R^{\\mathrm{half}}$ since $\\Pi^\\top\\Pi = I$. Both layouts turn the "
         "same pairs by the same angles; the pairs sit at other coordinates. Hence "
         "$\\langle R^{\\mathrm{half}}\\Pi\\mathbf{q}, R^{\\mathrm{half}}\\Pi\\mathbf{k}\\rangle = "
         "\\langle \\Pi R^{\\mathrm{int}}\\mathbf{q}, \\Pi R^{\\mathrm{int}}\\mathbf{k}\\rangle = "
         "\\langle R^{\\mathrm{int}}\\mathbf{q}, R^{\\mathrm{int}}\\mathbf{k}\\rangle$: with "
         "$\\mathbf{q} = W_q\\mathbf{x}$, permuting the rows of $W_q$ and $W_k$ by $\\Pi$ (per "
         "head) converts a checkpoint between the layouts and keeps every attention score.",
    on_sheet=False,
)

# --- Numeric checks -------------------------------------------------------------------------
class FromZero:
    """A vector read 0-based by a formula that the harness reads 1-based (``v[0]`` first)."""

    def __init__(self, values) -> None:
        self.values = values

    def __getitem__(self, index):
        return self.values[int(index) + 1]

    def __len__(self) -> int:
        return len(self.values)


def check_complex_form(rng: np.random.Generator, formula) -> Measurement:
    """Re sum q~ conj(k~) e^{i(pos - pos')theta} from the claim against NumPy RoPE scores."""
    from llmsym.numeric.rope import rope

    worst, cases = 0.0, 40
    for _ in range(cases):
        half = int(rng.integers(1, 17))
        qv, kv = rng.normal(size=(2, 2 * half))
        at, to = rng.uniform(0, 5000, size=2)
        got = complex(formula(query=FromZero(qv), key=FromZero(kv), pos=at, pos2=to, pairs=half,
                              d_k=2 * half))
        ref = float(rope(qv[None], np.array([at]))[0] @ rope(kv[None], np.array([to]))[0])
        worst = max(worst, abs(got - ref) / (np.linalg.norm(qv) * np.linalg.norm(kv)))
    return Measurement(worst, cases, 1e-9,
                       "complex form vs rope(q, pos) . rope(k, pos'), d_k up to 32, positions up "
                       "to 5000, relative to |q||k|")


def check_conjugation(rng: np.random.Generator, formula) -> Measurement:
    """(Pi R^int x) at i, i + d_k/2 from the claim against NumPy half-split RoPE of Pi x."""
    from llmsym.numeric.rope import interleaved_to_half, rope

    worst, cases = 0.0, 60
    for _ in range(cases):
        half = int(rng.integers(1, 33))
        xv, at, idx = rng.normal(size=2 * half), float(rng.uniform(-5000, 5000)), \
            int(rng.integers(0, half))
        got = np.asarray(formula(query=FromZero(xv), pos=at, i=idx, d_k=2 * half),
                         dtype=float).ravel()
        half_split = rope(interleaved_to_half(xv)[None], np.array([at]), convention="half")[0]
        ref = half_split[[idx, idx + half]]
        worst = max(worst, float(np.max(np.abs(got - ref))) / np.linalg.norm(xv))
    return Measurement(worst, cases, 1e-11,
                       "coordinates i, i + d_k/2 of the claim vs rope(Pi x, half), Pi from "
                       "interleaved_to_half, d_k up to 64, |pos| up to 5000")


def _score(qv, kv, at: float, to: float, conv_k: str) -> float:
    """q rotated interleaved at ``at``, k rotated with ``conv_k`` at ``to``, dotted."""
    from llmsym.numeric.rope import rope

    return float(rope(qv[None], np.array([at]))[0]
                 @ rope(kv[None], np.array([to]), convention=conv_k)[0])


def check_mixing(rng: np.random.Generator) -> Measurement:
    """Experiment: q with one layout and k with the other is no longer relative."""
    broken, cases = 0, 50
    for _ in range(cases):
        qv, kv = rng.normal(size=(2, 2 * int(rng.integers(2, 33))))
        at, to = (float(v) for v in rng.integers(0, 5000, size=2))
        shift = float(rng.integers(100, 5000))  # a real shift (0 would change nothing)
        same = abs(_score(qv, kv, at + shift, to + shift, "interleaved")
                   - _score(qv, kv, at, to, "interleaved"))
        mixed = abs(_score(qv, kv, at + shift, to + shift, "half")
                    - _score(qv, kv, at, to, "half"))
        scale = np.linalg.norm(qv) * np.linalg.norm(kv)
        # float noise is ~1e-15 of the scale: a mixed change above 1e-8 is a real one
        broken += same / scale < 1e-9 and mixed / scale > 1e-8
    return Measurement(0.0 if broken == cases else float("inf"), cases, 0.0,
                       f"a common shift kept the interleaved score and changed the mixed one in "
                       f"{broken}/{cases} cases")


def example_permutation() -> tuple[str, str]:
    from llmsym.numeric.rope import interleaved_to_half

    order = interleaved_to_half(np.arange(8))
    return ("$\\Pi$ for $d_k = 8$: where each coordinate of the interleaved layout goes",
            r"\Pi(x_0, \dots, x_7) = (" + ", ".join(f"x_{int(c)}" for c in order) + ")")


# --- The derivation ----------------------------------------------------------------------------
DERIVATION = Derivation(
    id="rope-pairing",
    title="RoPE: complex form and the two pairings",
    topic="Positions",
    order=41,
    gloss="Interleaved RoPE multiplies complex pairs by $e^{\\mathrm{i}\\,\\mathrm{pos}\\,"
          "\\theta_i}$; the half-split layout of Hugging Face is the same rotation after a fixed "
          "permutation, so checkpoints convert by permuting the rows of $W_q$ and $W_k$.",
    assumptions=(
        "$d_k$ is even; coordinates are $0, \\dots, d_k - 1$; interleaved pair $i$ is "
        "$(x_{2i}, x_{2i+1})$, half-split pair $i$ is $(x_i, x_{i + d_k/2})$; both turn pair "
        "$i$ by $\\mathrm{pos}\\,\\theta_i$ (derivation rope).",
    ),
    definitions=DEFINITIONS,
    claims=(complex_form, conjugation),
    checks=(
        NumericCheck("complex_form", check_complex_form, "The complex form from the claim "
                     "against the NumPy rope at both positions.", claim="complex_form"),
        NumericCheck("conjugation", check_conjugation, "$\\Pi R^{\\mathrm{int}}\\mathbf{x}$ "
                     "from the claim against the NumPy half-split rope of $\\Pi\\mathbf{x}$.",
                     claim="conjugation"),
        NumericCheck("mixing", check_mixing, "Experiment: rotating $\\mathbf{q}$ with one layout "
                     "and $\\mathbf{k}$ with the other breaks the relative property."),
    ),
    notation={
        pairs: "number of coordinate pairs of a query or key ($d_k$ is even)",
    },
    sources=(
        "Su et al., RoFormer, arXiv:2104.09864 (2021), section 3.4.2 (the complex form).",
        "Touvron et al., LLaMA, arXiv:2302.13971 (2023); its reference code applies RoPE as a "
        "complex product of interleaved pairs.",
        "Hugging Face transformers, modeling_llama.py: rotate_half and apply_rotary_pos_emb "
        "(half-split pairs); convert_llama_weights_to_hf.py permutes the rows of W_q and W_k.",
    ),
    examples=(example_permutation,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
