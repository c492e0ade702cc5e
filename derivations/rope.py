"""Rotary position embedding (RoPE): the attention score depends only on the offset.

Main results (pairs i = 0 .. d_k/2 - 1, coordinates 0 .. d_k - 1, as in the code)
    blocks        sum_r u_r v_r = sum_i (u_{2i} v_{2i} + u_{2i+1} v_{2i+1}), every even
                  length, by induction on the number of pairs
    pair          <R(pos theta_i) q^(i), R(pos' theta_i) k^(i)> = <q^(i), R((pos' - pos)
                  theta_i) k^(i)>: the two-dimensional identity, for one pair
    relative      <R_{Theta,pos} q, R_{Theta,pos'} k> = <q, R_{Theta,pos'-pos} k> for every
                  even d_k: the score is the sum of the pair scores, each pair by the 2-D
                  identity (RoFormer section 3.4.1)
    elementwise   R_{Theta,pos} q = q (.) cos(pos theta) + rotate(q) (.) sin(pos theta), pair
                  by pair (RoFormer section 3.4.2)
    abel          summation by parts, every number of pairs
    decay_bound   |sum_i h_i e^{i(pos-pos')theta_i}| <= M sum_i |S_{i+1}| (RoFormer 3.4.3),
                  with the triangle inequality as a displayed premise

The frequencies theta_i = 10000^{-2i/d_k} are a notation here; no proof uses their values,
so the identities hold for any frequencies (NTK-scaled, YaRN, Llama 3 scaling).

Run on its own: ``python derivations/rope.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import (
    Abs,
    Eq,
    I,
    ImmutableMatrix,
    IndexedBase,
    MatMul,
    Matrix,
    Sum,
    Symbol,
    cos,
    exp,
    floor,
    pi,
    sin,
)

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
    cite,
    induction_hypothesis,
)
from llmsym.latex import to_latex
from llmsym.notation import Named, Notation, factors, labelled, terms

# --- Symbols -----------------------------------------------------------------------
pos = Named("pos", r"\mathrm{pos}", real=True)  # position of the query
pos2 = Named("pos2", r"\mathrm{pos}'", real=True)  # position of the key
pairs = Named("pairs", r"d_{k}/2", integer=True, positive=True)  # coordinate pairs
d_k = Symbol("d_k", integer=True, positive=True)  # query/key dimension, even
i = Symbol("i", integer=True, nonnegative=True)  # pair index, 0 .. d_k/2 - 1
r = Symbol("r", integer=True, nonnegative=True)  # coordinate index, 0 .. d_k - 1
q = IndexedBase(Named("query", r"\mathbf{q}", real=True))  # q_0 .. q_{d_k - 1}
k = IndexedBase(Named("key", r"\mathbf{k}", real=True))  # a key
u, v = IndexedBase("u", real=True), IndexedBase("v", real=True)  # any two real vectors
h = IndexedBase("h", complex=True)  # complex pair products h_i (RoFormer 3.4.3)
S = IndexedBase("S", complex=True)  # partial sums S_j of the phases
g = IndexedBase("g", nonnegative=True)  # slack: M - |h_{i+1} - h_i| >= 0
M = Symbol("M", real=True)  # a bound on the steps |h_{i+1} - h_i|
base = Symbol("base", positive=True)  # the base of the frequencies (10000 in RoFormer)

BASE = 10000  # RoFormer section 3.3 (and Vaswani et al. 2017, section 3.5)


# --- Notation ------------------------------------------------------------------------
def _wrap(printer, e) -> str:
    """An angle factor, parenthesised when it is a sum (``(pos' - pos) theta_i``)."""
    text = printer._print(e)
    return rf"\left({text}\right)" if e.is_Add else text


class theta(Notation):  # noqa: N801 - reads like the paper
    """``theta(i)`` = theta_i = 10000^{-2i/d_k}, the frequency of pair i (radians per position)."""

    nargs = 1

    @classmethod
    def definition(cls, idx):
        return BASE ** (-2 * idx / d_k)

    def _latex(self, printer):
        return rf"\theta_{{{printer._print(self.args[0])}}}"


def rotation(angle) -> ImmutableMatrix:
    """R(a), the rotation of the plane by the angle a."""
    return ImmutableMatrix([[cos(angle), -sin(angle)], [sin(angle), cos(angle)]])


def pair_of(x, idx) -> ImmutableMatrix:
    """Pair ``idx`` of a vector: (x_{2i}, x_{2i+1})."""
    return ImmutableMatrix([x[2 * idx], x[2 * idx + 1]])


def _rotated(x, a, idx) -> tuple:
    """Pair ``idx`` of x rotated by the angle a theta_idx, written out."""
    c, s = cos(a * theta(idx)), sin(a * theta(idx))
    x0, x1 = x[2 * idx], x[2 * idx + 1]
    return c * x0 - s * x1, s * x0 + c * x1


class pair_dot(Notation):  # noqa: N801
    """``pair_dot(x, y, a, b, i)`` = <R(a theta_i) x^(i), R(b theta_i) y^(i)>, pair i only."""

    nargs = 5

    @classmethod
    def definition(cls, x, y, a, b, idx):
        (x0, x1), (y0, y1) = _rotated(x, a, idx), _rotated(y, b, idx)
        return x0 * y0 + x1 * y1

    def _latex(self, printer):
        x, y, a, b, idx = self.args
        p = printer._print(idx)

        def side(vec, angle):
            text = rf"{printer._print(vec)}^{{({p})}}"
            if angle == 0:
                return text
            return rf"R\left({_wrap(printer, angle)}\,\theta_{{{p}}}\right){text}"

        return rf"\left\langle {side(x, a)}, {side(y, b)}\right\rangle"


class rope_dot(Notation):  # noqa: N801
    """``rope_dot(x, y, a, b, d_k/2)`` = <R_{Theta,a} x, R_{Theta,b} y>.

    R_{Theta,a} is block diagonal, so the dot product of the two rotated vectors is the
    sum of the pair scores; claim ``blocks`` proves that regrouping for every length.
    """

    nargs = 5

    @classmethod
    def definition(cls, x, y, a, b, count):
        return Sum(pair_dot(x, y, a, b, i), (i, 0, count - 1))

    def _latex(self, printer):
        x, y, a, b, _ = self.args
        left = printer._print(x)
        if a != 0:
            left = rf"R_{{\Theta,{printer._print(a)}}}{left}"
        right = rf"R_{{\Theta,{printer._print(b)}}}{printer._print(y)}"
        return rf"\left\langle {left}, {right}\right\rangle"


def _elementwise(x, a, coord):
    """x_r cos(a theta_{r//2}) + rotate(x)_r sin(a theta_{r//2}) (RoFormer's equation 34).

    rotate(x)_r = -(-1)^r x_{r+(-1)^r}, that is (-x_1, x_0, -x_3, x_2, ...), 0-based.
    """
    angle = a * theta(floor(coord / 2))
    return x[coord] * cos(angle) - (-1) ** coord * x[coord + (-1) ** coord] * sin(angle)


class rope_coord(Notation):  # noqa: N801
    """``rope_coord(x, a, r)`` = (R_{Theta,a} x)_r, coordinate r of the rotated vector."""

    nargs = 3

    @classmethod
    def definition(cls, x, a, coord):
        return _elementwise(x, a, coord)

    def _latex(self, printer):
        x, a, coord = (printer._print(e) for e in self.args)
        return rf"\left(R_{{\Theta,{a}}}{x}\right)_{{{coord}}}"


class elementwise(Notation):  # noqa: N801
    """``elementwise(x, a, r)`` = (x (.) cos(a theta) + rotate(x) (.) sin(a theta))_r."""

    nargs = 3

    @classmethod
    def definition(cls, x, a, coord):
        return _elementwise(x, a, coord)

    def _latex(self, printer):
        x, a, coord = (printer._print(e) for e in self.args)
        return (rf"\left({x} \odot \cos\left({a}\,\boldsymbol{{\theta}}\right) + "
                rf"\operatorname{{rotate}}\left({x}\right) \odot "
                rf"\sin\left({a}\,\boldsymbol{{\theta}}\right)\right)_{{{coord}}}")


class paren(Notation):  # noqa: N801
    """``paren(x)`` = x, printed in parentheses (a sum of terms as the body of a sum)."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return x

    def _latex(self, printer):
        return rf"\left({printer._print(self.args[0])}\right)"


class cis(Notation):  # noqa: N801
    """``cis(x)`` = e^{i x}, printed with an upright i (the pair index is an italic i)."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return exp(I * x)

    def _latex(self, printer):
        return rf"e^{{\mathrm{{i}}\,{_wrap(printer, self.args[0])}}}"


def column(*entries) -> ImmutableMatrix:
    """A column of expressions, printed as a pmatrix like the explicit matrices beside it."""
    body = r" \\ ".join(to_latex(e) for e in entries)
    return labelled(Matrix(entries), rf"\begin{{pmatrix}}{body}\end{{pmatrix}}")


# --- Definitions ------------------------------------------------------------------------
with_pair_i = MatMul(rotation(pos * theta(i)), pair_of(q, i), evaluate=False)

DEFINITIONS = (
    Definition("RoPE frequencies", theta(i), BASE ** (-2 * i / d_k), on_sheet=False,
               title="RoPE frequencies",
               note="$i = 0, \\dots, d_k/2 - 1$. RoFormer counts from 1: "
                    "$\\theta_i = 10000^{-2(i-1)/d}$, $i = 1, \\dots, d/2$, the same numbers."),
    Definition("RoPE rotation", column(rope_coord(q, pos, 2 * i), rope_coord(q, pos, 2 * i + 1)),
               with_pair_i, on_sheet=True, title="RoPE rotation",
               note="$R_{\\Theta,\\mathrm{pos}} = \\operatorname{diag}(R(\\mathrm{pos}\\,"
                    "\\theta_0), \\dots, R(\\mathrm{pos}\\,\\theta_{d_k/2-1}))$ turns pair $i$, "
                    "$(q_{2i}, q_{2i+1})$, by the angle $\\mathrm{pos}\\,\\theta_i$; queries and "
                    "keys are rotated, values are not."),
)

# --- Claims: the score is relative -----------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of pairs in claim blocks
coordinate_sum = Sum(u[r] * v[r], (r, 0, 2 * n - 1))
pair_sum = Sum(paren(terms(u[2 * i] * v[2 * i], u[2 * i + 1] * v[2 * i + 1])), (i, 0, n - 1))
last_pair = terms(u[2 * n] * v[2 * n], u[2 * n + 1] * v[2 * n + 1])
_regroup_ih = induction_hypothesis(coordinate_sum, pair_sum)

blocks = Claim(
    "blocks",
    "A dot product is the sum of its pair products",
    start=coordinate_sum,
    steps=(Step(pair_sum, "by induction on the number of pairs $n$", induction=Induction(
        n, 1,
        base_steps=(Step(pair_sum.xreplace({n: 1}), "one pair: coordinates 0 and 1",
                         "unfold+doit"),),
        step_steps=(
            Step(terms(coordinate_sum, last_pair), "split off the last two coordinates",
                 "unfold+align_sums"),
            Step(terms(pair_sum, last_pair), "induction hypothesis", "unfold+expand",
                 using=(_regroup_ih,)),
            Step(pair_sum.xreplace({n: n + 1}), "the last pair joins the sum",
                 "unfold+align_sums"),
        ),
        hypothesis=_regroup_ih)),),
    on_sheet=False,
    note="With $u = R_{\\Theta,\\mathrm{pos}}\\mathbf{q}$ and $v = R_{\\Theta,\\mathrm{pos}'}"
         "\\mathbf{k}$, whose pair $i$ is pair $i$ of $\\mathbf{q}$ or $\\mathbf{k}$ turned by "
         "$R(\\mathrm{pos}\\,\\theta_i)$ or $R(\\mathrm{pos}'\\theta_i)$ (the rotation is block "
         "diagonal), this writes the RoPE score as the sum of the pair scores.",
)

relative = Claim(
    "relative",
    "RoPE scores depend only on the offset $\\mathrm{pos}' - \\mathrm{pos}$",
    given=(cite("rope:blocks", "", "the score is the sum of the pair scores"),),
    start=rope_dot(q, k, pos, pos2, pairs),
    steps=(
        Step(Sum(pair_dot(q, k, pos, pos2, i), (i, 0, pairs - 1)),
             "$R_{\\Theta,\\mathrm{pos}}$ is block diagonal: the score is the sum of the "
             "$d_k/2$ pair scores (the regrouping, with $u = R_{\\Theta,\\mathrm{pos}}"
             "\\mathbf{q}$ and $v = R_{\\Theta,\\mathrm{pos}'}\\mathbf{k}$)", "unfold"),
        Step(rope_dot(q, k, 0, pos2 - pos, pairs),
             "in every pair $R(a)^\\top R(b) = R(b - a)$: $\\cos a \\cos b + \\sin a \\sin b = "
             "\\cos(b - a)$, $\\cos a \\sin b - \\sin a \\cos b = \\sin(b - a)$; the pair "
             "scores add up again", "unfold+trig_sums"),
    ),
    note="For every even $d_k$ and any real positions: the proof never writes a $d_k \\times "
         "d_k$ matrix, and never uses the values of $\\theta_i$, so scaled frequencies (NTK, "
         "YaRN) keep the property.",
)

elementwise_form = Claim(
    "elementwise",
    "Element-wise form: $R_{\\Theta,\\mathrm{pos}}\\mathbf{q} = \\mathbf{q} \\odot "
    "\\cos(\\mathrm{pos}\\,\\boldsymbol{\\theta}) + \\operatorname{rotate}(\\mathbf{q}) \\odot "
    "\\sin(\\mathrm{pos}\\,\\boldsymbol{\\theta})$",
    start=with_pair_i,
    steps=(Step(Matrix([elementwise(q, pos, 2 * i), elementwise(q, pos, 2 * i + 1)]),
                "coordinates $2i$ and $2i + 1$ of the element-wise form: "
                "$\\lfloor 2i/2 \\rfloor = \\lfloor (2i+1)/2 \\rfloor = i$, "
                "$\\operatorname{rotate}(\\mathbf{q})_{2i} = -q_{2i+1}$, "
                "$\\operatorname{rotate}(\\mathbf{q})_{2i+1} = q_{2i}$", "unfold+expand"),),
    where=(r"\cos(\mathrm{pos}\,\boldsymbol{\theta}) = (\cos \mathrm{pos}\,\theta_0, "
           r"\cos \mathrm{pos}\,\theta_0, \cos \mathrm{pos}\,\theta_1, \cos \mathrm{pos}\,"
           r"\theta_1, \dots)",
           r"\operatorname{rotate}(\mathbf{q}) = (-q_1, q_0, -q_3, q_2, \dots)"),
    note="Pair $i$ of the block rotation, for every $i$, equals pair $i$ of the element-wise "
         "form: two multiplications by precomputed $\\cos$ and $\\sin$ tables, no matrix "
         "(RoFormer section 3.4.2).", on_sheet=False,
)

# --- Claims: long-term decay (RoFormer section 3.4.3) -------------------------------------
abel_lhs = Sum(factors(h[i], S[i + 1] - S[i]), (i, 0, pairs - 1))
abel_rest = Sum(factors(S[i + 1], h[i + 1] - h[i]), (i, 0, pairs - 1))
abel_general = terms(factors(h[pairs], S[pairs]), -factors(h[0], S[0]), -abel_rest)
_abel_ih = induction_hypothesis(abel_lhs, abel_general)
_step_h = factors(h[pairs], S[pairs + 1] - S[pairs])

abel = Claim(
    "abel",
    "Summation by parts",
    start=abel_lhs,
    steps=(Step(abel_general, "by induction on the number of terms", induction=Induction(
        pairs, 1,
        base_steps=(Step(abel_general.xreplace({pairs: 1}), "one term, written out",
                         "unfold+doit+expand"),),
        step_steps=(
            Step(terms(abel_lhs, _step_h), "split off the last term", "unfold+align_sums"),
            Step(terms(abel_general, _step_h), "induction hypothesis", "unfold+expand",
                 using=(_abel_ih,)),
            Step(abel_general.xreplace({pairs: pairs + 1}),
                 "$h_n S_n + h_n(S_{n+1} - S_n) = h_{n+1}S_{n+1} - S_{n+1}(h_{n+1} - h_n)$; "
                 "the last term joins the sum", "unfold+align_sums"),
        ),
        hypothesis=_abel_ih)),),
    on_sheet=False,
    note="Abel's discrete integration by parts, for any complex sequences $h$ and $S$.",
)

phase = cis((pos - pos2) * theta(i))
j = Symbol("j", integer=True, nonnegative=True)
partial_sums = Definition("partial sums", S[j], Sum(cis((pos - pos2) * theta(r)), (r, 0, j - 1)))
tail_zero = Hypothesis(Eq(h[pairs], 0), "RoFormer sets $h_{d_k/2} = 0$")
slack = Hypothesis(Eq(M, Abs(h[i + 1] - h[i]) + g[i]),
                   "$M \\ge |h_{i+1} - h_i|$ for every $i$ (e.g. the largest), $g_i \\ge 0$")

increments = Claim(
    "increments",
    "The partial sums grow by one phase",
    start=S[i + 1],
    steps=(Step(terms(S[i], phase), "definition of $S$: the sum up to $i$ is the sum up to "
                "$i - 1$ and its last term", "definition+align_sums"),),
    on_sheet=False,
)

empty = Claim(
    "empty",
    "The first partial sum is empty",
    start=S[0],
    steps=(Step(0, "definition of $S$: a sum over no terms", "definition+doit"),),
    on_sheet=False,
)
triangle_lhs = Abs(abel_rest)

decay_bound = Claim(
    "decay_bound",
    "The long-term decay bound of RoFormer",
    start=Abs(Sum(factors(h[i], phase), (i, 0, pairs - 1))),
    steps=(
        Step(Abs(abel_lhs), "$e^{\\mathrm{i}(\\mathrm{pos} - \\mathrm{pos}')\\theta_i} = "
             "S_{i+1} - S_i$", "unfold+expand", using=(increments,)),
        Step(Abs(abel_general), "summation by parts", "unfold+expand", using=(abel,)),
        Step(triangle_lhs, "$h_{d_k/2} = 0$ and $S_0 = 0$", "unfold+expand",
             using=(tail_zero, empty)),
        Step(Sum(factors(Abs(S[i + 1]), Abs(h[i + 1] - h[i])), (i, 0, pairs - 1)),
             "triangle inequality $|\\sum_i a_i| \\le \\sum_i |a_i|$", "assumption", rel="<="),
        Step(Sum(M * Abs(S[i + 1]), (i, 0, pairs - 1)), "each $|h_{i+1} - h_i| \\le M$",
             "nonneg", rel="<=", using=(slack,)),
        Step(M * Sum(Abs(S[i + 1]), (i, 0, pairs - 1)), "$M$ does not depend on $i$",
             "unfold+sum"),
    ),
    on_sheet=False,
    note="With $h_i = \\tilde q_i \\overline{\\tilde k_i}$ the score is the real part of the left "
         "side (derivation rope-pairing). RoFormer's figure 2 shows the mean "
         "$\\frac{2}{d_k}\\sum_j |S_j|$ falling with the distance $|\\mathrm{pos} - "
         "\\mathrm{pos}'|$; that is an observation (experiment decay below), not a theorem.",
)


# --- Numeric checks -------------------------------------------------------------------------
class FromZero:
    """A vector read 0-based by a formula that the harness reads 1-based.

    The harness hands ``formula`` sequences read 1-based (``v[1]`` is the first entry);
    these formulas index from 0 like the code, so ``v[0]`` must be the first entry.
    """

    def __init__(self, values) -> None:
        self.values = values

    def __getitem__(self, index):
        return self.values[int(index) + 1]

    def __len__(self) -> int:
        return len(self.values)


def _frequencies(dim: int) -> np.ndarray:
    """theta_i = 10000^{-2i/d}, written here independently of llmsym.numeric."""
    return np.power(10000.0, -2.0 * np.arange(dim // 2) / dim)


def check_relative(rng: np.random.Generator, formula) -> Measurement:
    """<q, R_{pos'-pos} k> from the claim's right side against NumPy RoPE at pos and pos'."""
    from llmsym.numeric.rope import rope

    worst, cases = 0.0, 40
    for _ in range(cases):
        half = int(rng.integers(1, 17))
        x, y = rng.normal(size=(2, 2 * half))
        at, to = rng.uniform(0, 5000, size=2)
        got = float(formula(query=FromZero(x), key=FromZero(y), pos=at, pos2=to, pairs=half,
                            d_k=2 * half))
        ref = float(rope(x[None], np.array([at]))[0] @ rope(y[None], np.array([to]))[0])
        worst = max(worst, abs(got - ref) / (np.linalg.norm(x) * np.linalg.norm(y)))
    return Measurement(worst, cases, 1e-9,
                       "score <q, R_{pos'-pos} k> vs rope(q, pos) . rope(k, pos'), d_k up to 32, "
                       "positions up to 5000, relative to |q||k|")


def check_elementwise(rng: np.random.Generator, formula) -> Measurement:
    """Pair i of the element-wise form against coordinates 2i, 2i + 1 of NumPy RoPE."""
    from llmsym.numeric.rope import rope

    worst, cases = 0.0, 60
    for _ in range(cases):
        half = int(rng.integers(1, 33))
        x, at, idx = rng.normal(size=2 * half), float(rng.uniform(-5000, 5000)), \
            int(rng.integers(0, half))
        got = np.asarray(formula(query=FromZero(x), pos=at, i=idx, d_k=2 * half),
                         dtype=float).ravel()
        ref = rope(x[None], np.array([at]))[0][2 * idx:2 * idx + 2]
        worst = max(worst, float(np.max(np.abs(got - ref))) / np.linalg.norm(x))
    return Measurement(worst, cases, 1e-11,
                       "coordinates 2i, 2i+1 of q (.) cos + rotate(q) (.) sin vs rope(q, pos), "
                       "d_k up to 64, |pos| up to 5000")


def check_abel(rng: np.random.Generator, formula) -> Measurement:
    """h_n S_n - h_0 S_0 - sum S_{i+1}(h_{i+1} - h_i) against sum h_i (S_{i+1} - S_i)."""
    worst, cases = 0.0, 60
    for _ in range(cases):
        n = int(rng.integers(1, 40))
        hv = rng.normal(size=n + 1) + 1j * rng.normal(size=n + 1)
        sv = rng.normal(size=n + 1) + 1j * rng.normal(size=n + 1)
        got = complex(formula(h=FromZero(hv), S=FromZero(sv), pairs=n))
        ref = complex(np.sum(hv[:n] * np.diff(sv)))
        worst = max(worst, abs(got - ref) / max(1.0, float(np.sum(np.abs(hv) * np.abs(sv)))))
    return Measurement(worst, cases, 1e-12,
                       "summation by parts vs the direct sum with np.diff, random complex "
                       "sequences of 1..39 terms")


def _decay_curve(dim: int, distances: np.ndarray) -> np.ndarray:
    """RoFormer's figure 2: the mean of |S_j|, j = 1..d/2, at each relative distance."""
    phases = np.exp(1j * np.outer(distances, _frequencies(dim)))
    return np.abs(np.cumsum(phases, axis=1)).mean(axis=1)


def check_decay(rng: np.random.Generator) -> Measurement:
    """Experiment: the mean |S_j| for d_k = 128 falls with the distance (RoFormer, figure 2)."""
    curve = _decay_curve(128, np.arange(0, 1001, dtype=float))
    near, far = float(curve[:11].mean()), float(curve[-100:].mean())
    ratio = far / near
    return Measurement(0.0 if ratio < 0.25 else float("inf"), curve.size, 0.0,
                       f"mean |S_j| is {curve[0]:.1f} at distance 0, {near:.1f} on average over "
                       f"0..10 and {far:.2f} over 901..1000 (d_k = 128): it falls, though not "
                       f"monotonically")


def example_theta() -> tuple[str, str]:
    from llmsym.numeric.rope import rope_frequencies

    freqs = rope_frequencies(128)
    longest = 2 * np.pi / freqs[-1]
    return ("RoPE frequencies for $d_k = 128$: fastest and slowest pair, and the longest "
            "wavelength in positions",
            rf"\theta_0 = {freqs[0]:g},\ \theta_{{63}} = {freqs[-1]:.3g},\ "
            rf"2\pi/\theta_{{63}} \approx " + f"{longest:,.0f}".replace(",", "{,}"))


def example_rotation() -> tuple[str, str]:
    from llmsym.numeric.rope import rope

    out = rope(np.array([[1.0, 0.0, 1.0, 0.0]]), np.array([1.0]))[0]
    return ("$\\mathbf{q} = (1, 0, 1, 0)$ at position 1 with $d_k = 4$: pair 0 turns by "
            "1 radian, pair 1 by $\\theta_1 = 0.01$",
            r"R_{\Theta,1}\mathbf{q} = (" + ", ".join(f"{x:.4f}" for x in out) + ")")


# --- Results ------------------------------------------------------------------------------
_frequency = base ** (-2 * i / d_k)
RESULTS = (
    Result("rope_theta", _frequency, params=(i, d_k, base),
           doc="RoPE frequency theta_i = base^(-2i/d_k) of pair i = 0 .. d_k/2 - 1 "
               "(RoFormer and Llama 2 use base 10000, Llama 3 500000)",
           units="radians per position"),
    Result("rope_wavelength", 2 * pi / _frequency, params=(i, d_k, base),
           doc="positions per full turn of pair i, 2 pi / theta_i", units="positions"),
)

# --- The derivation ------------------------------------------------------------------------
DERIVATION = Derivation(
    id="rope",
    title="Rotary position embedding is relative",
    topic="Positions",
    order=40,
    gloss="RoPE turns each pair of query and key coordinates by an angle proportional to the "
          "position, so the attention score sees only the offset between the two positions.",
    assumptions=(
        "Queries and keys are real vectors of even length $d_k$; coordinates are "
        "$0, \\dots, d_k - 1$ and pair $i$ is $(x_{2i}, x_{2i+1})$, $i = 0, \\dots, d_k/2 - 1$ "
        "(the interleaved pairing; derivation rope-pairing treats the half-split one).",
        "Positions are integers in practice; every identity holds for real positions.",
    ),
    definitions=DEFINITIONS + (partial_sums,),
    claims=(blocks, relative, elementwise_form, abel, increments, empty,
            decay_bound),
    checks=(
        NumericCheck("relative", check_relative, "$\\langle \\mathbf{q}, R_{\\Theta,\\mathrm{pos}'"
                     " - \\mathrm{pos}}\\mathbf{k}\\rangle$ from the claim against the NumPy "
                     "rope applied at both positions.", claim="relative"),
        NumericCheck("elementwise", check_elementwise, "The element-wise form from the claim "
                     "against coordinates $2i, 2i+1$ of the NumPy rope.", claim="elementwise"),
        NumericCheck("abel", check_abel, "Summation by parts from the claim against the direct "
                     "sum.", claim="abel"),
        NumericCheck("decay", check_decay, "Experiment: RoFormer's figure 2, the mean "
                     "$|S_j|$ against the distance, $d_k = 128$."),
    ),
    results=RESULTS,
    notation={
        pairs: "number of coordinate pairs of a query or key ($d_k$ is even)",
        n: "number of coordinate pairs of two vectors $u, v$ of length $2n$",
        h: "$h_i = \\tilde q_i \\overline{\\tilde k_i}$, the complex product of pair $i$",
        S: "partial sums of the phases, $S_j = \\sum_{r < j} e^{\\mathrm{i}(\\mathrm{pos} - "
           "\\mathrm{pos}')\\theta_r}$",
        M: "a bound on every $|h_{i+1} - h_i|$",
    },
    sources=(
        "Su et al., RoFormer: Enhanced Transformer with Rotary Position Embedding, "
        "arXiv:2104.09864 (2021): section 3.2 (the rotation), 3.3 ($\\theta_i = "
        "10000^{-2(i-1)/d}$), 3.4.1 (relative score), 3.4.2 (element-wise form, equation 34), "
        "3.4.3 (long-term decay by Abel summation, figure 2).",
    ),
    examples=(example_theta, example_rotation),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
