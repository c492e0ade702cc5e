"""Rotary position embedding: the score depends on positions only through their difference.

Statement
    2-D: R(a) is the rotation by the angle a. R(m theta)^T R(n theta) = R((n - m) theta), so
    <R(m theta) q, R(n theta) k> = <q, R((n - m) theta) k>, and rotations preserve norms.
    d dimensions: R_{Theta,m} is block diagonal with blocks R(m theta_j), j = 1..d/2,
    theta_j = base^{-2(j-1)/d}. The score is the sum of the d/2 two-dimensional scores, hence
    <R_{Theta,m} q, R_{Theta,n} k> = <q, R_{Theta,n-m} k>; in complex form it is
    Re sum_j q~_j conj(k~_j) e^{i(m - n) theta_j} with q~_j = q_{2j-1} + i q_{2j}.

Run on its own: ``python derivations/rope.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import (
    Add,
    ImmutableMatrix,
    IndexedBase,
    Mul,
    Pow,
    Sum,
    Symbol,
    cos,
    diag,
    pi,
    sin,
    symbols,
)

from llmsym.latex import LlmLatexPrinter
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
from llmsym.notation import Notation, labelled

# --- Symbols ---------------------------------------------------------------
theta = Symbol("theta", positive=True)  # the 2-D frequency
m, n = symbols("m n", real=True)  # positions (integers in practice; any reals here)
q1, q2, k1, k2 = symbols("q_1 q_2 k_1 k_2", real=True)  # a 2-D query and key
half = Symbol("d/2", integer=True, positive=True)  # number of rotated pairs
j = Symbol("j", integer=True, positive=True)  # pair index
q, k = IndexedBase("q", real=True), IndexedBase("k", real=True)  # d-dim query and key
th = IndexedBase("theta", positive=True)  # frequencies theta_j
i_freq, d, base = symbols("i d base", positive=True)  # for the frequency formula


def rotation(angle) -> ImmutableMatrix:
    """R(angle), the 2-D rotation: (x, y) -> (x cos a - y sin a, x sin a + y cos a)."""
    return ImmutableMatrix([[cos(angle), -sin(angle)], [sin(angle), cos(angle)]])


def pair(x: IndexedBase, idx) -> ImmutableMatrix:
    """Pair ``idx`` of a vector in the interleaved convention: (x_{2j-1}, x_{2j})."""
    return ImmutableMatrix([x[2 * idx - 1], x[2 * idx]])


def block_rotation(angle_of, pairs: int) -> ImmutableMatrix:
    """R_{Theta, .}: block diagonal, block j rotating by ``angle_of(j)``."""
    return ImmutableMatrix(diag(*[rotation(angle_of(p)) for p in range(1, pairs + 1)]))


def vector(x: IndexedBase, size: int) -> ImmutableMatrix:
    return ImmutableMatrix([x[r] for r in range(1, size + 1)])


# --- Notation ----------------------------------------------------------------
shown = labelled  # an explicit matrix printed by its name, e.g. R(m theta)^T R(n theta)


def _angle(angle, printer) -> str:
    """An angle in LaTeX, with the offset written n - m (SymPy would print -m + n)."""
    if angle == n - m:
        return "n - m"
    return printer._print(angle.xreplace({n - m: Symbol("(n - m)")}))


def _rot(angle, printer) -> str:
    return rf"R\left({_angle(angle, printer)}\right)"


class score2(Notation):  # noqa: N801
    """``score2(a, b)`` = <R(a) q, R(b) k> for the 2-D query (q_1, q_2) and key (k_1, k_2)."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        qv, kv = ImmutableMatrix([q1, q2]), ImmutableMatrix([k1, k2])
        return ((rotation(a) * qv).T * (rotation(b) * kv))[0]

    def _latex(self, printer):
        a, b = self.args
        left = r"\mathbf{q}" if a == 0 else _rot(a, printer) + r"\mathbf{q}"
        return rf"\left\langle {left}, {_rot(b, printer)}\mathbf{{k}}\right\rangle"


class pair_score(Notation):  # noqa: N801
    """``pair_score(a, b, j)`` = <R(a) q^(j), R(b) k^(j)>, pair j of the d-dim query and key."""

    nargs = 3

    @classmethod
    def definition(cls, a, b, idx):
        return ((rotation(a) * pair(q, idx)).T * (rotation(b) * pair(k, idx)))[0]

    def _latex(self, printer):
        a, b, idx = self.args
        sup = printer._print(idx)
        left = rf"\mathbf{{q}}^{{({sup})}}"
        left = left if a == 0 else _rot(a, printer) + left
        return rf"\left\langle {left}, {_rot(b, printer)}\mathbf{{k}}^{{({sup})}}\right\rangle"


class rope_score(Notation):  # noqa: N801
    """``rope_score(a, b, d/2)`` = <R_{Theta,a} q, R_{Theta,b} k>; explicit once d/2 is a number."""

    nargs = 3

    def doit(self, **hints):
        a, b, pairs = self.args
        if not pairs.is_Integer:
            return self
        size = 2 * int(pairs)
        rot_a = block_rotation(lambda p: a * th[p], int(pairs))
        rot_b = block_rotation(lambda p: b * th[p], int(pairs))
        return ((rot_a * vector(q, size)).T * (rot_b * vector(k, size)))[0]

    def _latex(self, printer):
        a, b, _ = self.args
        left = r"\mathbf{q}" if a == 0 else rf"R_{{\Theta, {_angle(a, printer)}}}\mathbf{{q}}"
        return rf"\left\langle {left}, R_{{\Theta, {_angle(b, printer)}}}\mathbf{{k}}\right\rangle"


# --- Claims: two dimensions --------------------------------------------------
def _label_rot(angle) -> str:
    return _rot(angle, LlmLatexPrinter())


relative_rotation = Claim(
    "relative_rotation",
    "Rotations compose by angle difference",
    start=shown(rotation(m * theta).T * rotation(n * theta),
                _label_rot(m * theta) + r"^{\top} " + _label_rot(n * theta)),
    steps=(Step(shown(rotation((n - m) * theta), _label_rot((n - m) * theta)),
                "$\\cos a \\cos b + \\sin a \\sin b = \\cos(b - a)$ and "
                "$\\cos a \\sin b - \\sin a \\cos b = \\sin(b - a)$", "trig"),),
    on_sheet=False,
)

score_2d = Claim(
    "score_2d",
    "The score depends only on $n - m$",
    start=score2(m * theta, n * theta),
    steps=(
        Step(score2(0, (n - m) * theta),
             "$\\langle R_1 q, R_2 k\\rangle = q^\\top R_1^\\top R_2 k$ and "
             "$R(m\\theta)^\\top R(n\\theta) = R((n - m)\\theta)$", "unfold+trig"),
    ),
)

norm_kept = Claim(
    "norm_kept",
    "Rotations keep norms",
    start=shown(((rotation(m * theta) * ImmutableMatrix([q1, q2])).T
                 * (rotation(m * theta) * ImmutableMatrix([q1, q2]))),
                r"\lVert " + _label_rot(m * theta) + r"\mathbf{q} \rVert^2"),
    steps=(Step(shown(ImmutableMatrix([q1**2 + q2**2]), r"\lVert \mathbf{q} \rVert^2"),
                "$\\cos^2 + \\sin^2 = 1$: here $\\lVert \\mathbf{q} \\rVert^2 = q_1^2 + q_2^2$",
                "trig"),),
    on_sheet=False,
)

# --- Claims: d dimensions ----------------------------------------------------
score_d = Claim(
    "score_d",
    "RoPE in d dimensions is relative",
    start=rope_score(m, n, half),
    steps=(
        Step(Sum(pair_score(m * th[j], n * th[j], j), (j, 1, half)),
             "$R_{\\Theta,m}$ is block diagonal: the score is the sum of the $d/2$ pair scores "
             "(explicit $d \\times d$ matrices)", "unfold+expand", sizes=Sizes(half, 1, 4)),
        Step(Sum(pair_score(0, (n - m) * th[j], j), (j, 1, half)),
             "the two-dimensional identity in every pair, for any $\\theta_j$", "unfold+trig+sum"),
        Step(rope_score(0, n - m, half), "block diagonal again (explicit matrices)",
             "unfold+expand", sizes=Sizes(half, 1, 4)),
    ),
    note="The middle step holds for every $d$; the two steps that write the block-diagonal "
         "matrix out are checked for $d = 2, 4, 6, 8$.",
)

# --- Numeric checks ----------------------------------------------------------
def _frequencies(dim: int) -> np.ndarray:
    """theta_j = 10000^{-2(j-1)/d}, written out here independently of llmsym.numeric."""
    return np.power(10000.0, -2.0 * np.arange(dim // 2) / dim)


def _as_complex(x: np.ndarray, convention: str) -> np.ndarray:
    """The d/2 pairs of x as complex numbers, in either pairing."""
    if convention == "interleaved":
        return x[0::2] + 1j * x[1::2]
    return x[: x.size // 2] + 1j * x[x.size // 2:]


def check_relative(rng: np.random.Generator) -> Measurement:
    """<rope(q, m), rope(k, n)> against the complex form at m - n, positions up to 1e5."""
    from llmsym.numeric.rope import rope

    worst, cases = 0.0, 200
    for _ in range(cases):
        dim = 2 * int(rng.integers(1, 33))
        x, y = rng.normal(size=dim), rng.normal(size=dim)
        pm, pn = rng.integers(0, 100_001, size=2).astype(float)
        conv = str(rng.choice(["interleaved", "half"]))
        got = float(rope(x[None], np.array([pm]), convention=conv)[0]
                    @ rope(y[None], np.array([pn]), convention=conv)[0])
        ref = np.real(np.sum(_as_complex(x, conv) * np.conj(_as_complex(y, conv))
                             * np.exp(1j * (pm - pn) * _frequencies(dim))))
        worst = max(worst, abs(got - ref) / (np.linalg.norm(x) * np.linalg.norm(y)))
    return Measurement(worst, cases, 1e-9,
                       "rope scores (both conventions, d up to 64, positions up to 1e5) vs "
                       "Re sum q~ conj(k~) e^{i(m-n)theta}, relative to |q||k|")


def check_norm(rng: np.random.Generator) -> Measurement:
    """Rotated vectors keep their norms at positions up to 1e5."""
    from llmsym.numeric.rope import rope

    worst, cases = 0.0, 100
    for _ in range(cases):
        x = rng.normal(size=(5, 2 * int(rng.integers(1, 33))))
        pos = rng.integers(0, 100_001, size=5).astype(float)
        rotated = rope(x, pos, convention=str(rng.choice(["interleaved", "half"])))
        gap = np.abs(np.linalg.norm(rotated, axis=1) - np.linalg.norm(x, axis=1))
        worst = max(worst, float((gap / np.linalg.norm(x, axis=1)).max()))
    return Measurement(worst, cases, 1e-12, "norms of rope(x) vs x, positions up to 1e5")


def example_theta():
    freqs = _frequencies(128)
    return ("frequencies for $d = 128$, base $10^4$: fastest and slowest, and the longest "
            "wavelength",
            rf"\theta_1 = {freqs[0]:g},\ \theta_{{64}} = {freqs[-1]:.3g},\ "
            rf"2\pi/\theta_{{64}} \approx " + f"{2 * np.pi / freqs[-1]:,.0f}".replace(",", "{,}"))


# --- The derivation ----------------------------------------------------------
def frequency(index):
    """theta_index = base^{-2 (index - 1) / d}, kept unevaluated so it prints as in the papers."""
    exponent = Mul(-2, Add(index, -1, evaluate=False), Pow(d, -1, evaluate=False), evaluate=False)
    return Pow(base, exponent, evaluate=False)


rope_theta = frequency(i_freq)

DERIVATION = Derivation(
    id="rope",
    title="Rotary position embedding is relative",
    topic="Position encodings",
    order=40,
    gloss="RoPE rotates each pair of query and key coordinates by an angle proportional to the "
          "position, so the attention score depends on the positions only through their "
          "difference.",
    assumptions=(
        "Queries and keys are real; $d$ is even and pair $j$ is $(x_{2j-1}, x_{2j})$ "
        "(interleaved; derivation rope-pairing treats the half-split pairing).",
        "Positions $m, n$ are integers in practice; the identities hold for any real $m, n$ "
        "and any frequencies $\\theta_j > 0$.",
    ),
    definitions=(
        Definition("R", Symbol(r"R\left(a\right)"), rotation(Symbol("a"))),
        Definition("theta_j", th[j], frequency(j),
                   note="$j = 1..d/2$, base 10000 by default."),
        Definition("R_Theta", Symbol(r"R_{\Theta,m}"),
                   Symbol(r"\operatorname{diag}\left(R(m\theta_1), \dots, "
                          r"R(m\theta_{d/2})\right)")),
    ),
    claims=(relative_rotation, score_2d, norm_kept, score_d),
    checks=(
        NumericCheck("relative", check_relative,
                     "rope scores at positions up to $10^5$ equal the complex form at $m - n$ to "
                     "1e-9 (relative), both conventions."),
        NumericCheck("norm", check_norm, "rope keeps norms to 1e-12 at positions up to $10^5$."),
    ),
    results=(
        Result("rope_theta", rope_theta, params=(i_freq, d, base),
               doc="RoPE frequency of pair $i = 1..d/2$ (radians per position)",
               units="rad/token", claim="score_d"),
        Result("rope_wavelength", 2 * pi / rope_theta, params=(i_freq, d, base),
               doc="positions per full turn of pair $i$", units="tokens", claim="score_d"),
    ),
    notation={
        r"R\left(a\right)": "rotation of the plane by the angle $a$",
        r"R_{\Theta,m}": "block-diagonal RoPE rotation at position $m$",
        r"\theta_j": "frequency of pair $j$",
    },
    sources=(
        "Su et al., RoFormer: Enhanced Transformer with Rotary Position Embedding, "
        "arXiv:2104.09864 (2021), sections 3.2 and 3.4.",
    ),
    examples=(example_theta,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
