"""RoPE in real code: the complex form, and the interleaved and half-split pairings.

Statement
    Interleaved pairs (x_{2j-1}, x_{2j}) read as complex numbers x~_j = x_{2j-1} + i x_{2j}:
    the RoPE score is Re sum_j q~_j conj(k~_j) e^{i(m - n) theta_j} (RoFormer, original LLaMA).
    Half-split pairs (x_j, x_{j+d/2}) (``rotate_half`` in Hugging Face transformers) give the
    rotation R^half = P R^int P^T, with P the permutation that lists odd then even coordinates;
    P^T P = I, so <R^half_m P q, R^half_n P k> = <R^int_m q, R^int_n k>: a checkpoint moves
    between the two conventions by permuting the rows of W_q and W_k.

Run on its own: ``python derivations/rope_pairing.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import (
    I,
    ImmutableMatrix,
    IndexedBase,
    Sum,
    Symbol,
    conjugate,
    cos,
    exp,
    re,
    sin,
    symbols,
    zeros,
)
from sympy.core.symbol import Str

from llmsym.model import Claim, Derivation, Measurement, NumericCheck, Sizes, Step
from llmsym.notation import Notation

# --- Symbols ---------------------------------------------------------------
m, n = symbols("m n", real=True)  # positions
half = Symbol("d/2", integer=True, positive=True)  # number of rotated pairs
j = Symbol("j", integer=True, positive=True)  # pair index
q, k = IndexedBase("q", real=True), IndexedBase("k", real=True)  # query and key
x, y = IndexedBase("x", real=True), IndexedBase("y", real=True)  # any two vectors
th = IndexedBase("theta", positive=True)  # frequencies theta_j


# --- The matrices, for a concrete d = 2 h ----------------------------------------
def r_interleaved(angle, h: int) -> ImmutableMatrix:
    """Rotate (x_{2j-1}, x_{2j}) by ``angle * theta_j``."""
    out = zeros(2 * h, 2 * h)
    for p in range(h):
        c, s = cos(angle * th[p + 1]), sin(angle * th[p + 1])
        out[2 * p, 2 * p], out[2 * p, 2 * p + 1] = c, -s
        out[2 * p + 1, 2 * p], out[2 * p + 1, 2 * p + 1] = s, c
    return ImmutableMatrix(out)


def r_half(angle, h: int) -> ImmutableMatrix:
    """Rotate (x_j, x_{j+h}) by ``angle * theta_j``, as ``x cos + rotate_half(x) sin`` does."""
    out = zeros(2 * h, 2 * h)
    for p in range(h):
        c, s = cos(angle * th[p + 1]), sin(angle * th[p + 1])
        out[p, p], out[p, p + h] = c, -s
        out[p + h, p], out[p + h, p + h] = s, c
    return ImmutableMatrix(out)


def permutation(h: int) -> ImmutableMatrix:
    """P: (P x)_j = x_{2j-1} and (P x)_{h+j} = x_{2j}; odd coordinates first, then even."""
    out = zeros(2 * h, 2 * h)
    for p in range(h):
        out[p, 2 * p] = 1
        out[h + p, 2 * p + 1] = 1
    return ImmutableMatrix(out)


def col(v: IndexedBase, h: int) -> ImmutableMatrix:
    return ImmutableMatrix([v[r] for r in range(1, 2 * h + 1)])


def _dot(a: ImmutableMatrix, b: ImmutableMatrix):
    return (a.T * b)[0]


# name -> (value for a concrete h, LaTeX)
FORMS = {
    "PRP": (lambda a, b, h: _dot(col(x, h), permutation(h) * r_interleaved(a, h)
                                 * permutation(h).T * col(y, h)),
            r"\mathbf{x}^\top P R^{\mathrm{int}}_{\Theta,A} P^\top \mathbf{y}"),
    "Rhalf": (lambda a, b, h: _dot(col(x, h), r_half(a, h) * col(y, h)),
              r"\mathbf{x}^\top R^{\mathrm{half}}_{\Theta,A} \mathbf{y}"),
    "PtP": (lambda a, b, h: _dot(permutation(h) * col(x, h), permutation(h) * col(y, h)),
            r"\left\langle P\mathbf{x}, P\mathbf{y}\right\rangle"),
    "dot": (lambda a, b, h: _dot(col(x, h), col(y, h)),
            r"\left\langle \mathbf{x}, \mathbf{y}\right\rangle"),
    "half_on_P": (lambda a, b, h: _dot(r_half(a, h) * permutation(h) * col(q, h),
                                       r_half(b, h) * permutation(h) * col(k, h)),
                  r"\left\langle R^{\mathrm{half}}_{\Theta,A} P\mathbf{q}, "
                  r"R^{\mathrm{half}}_{\Theta,B} P\mathbf{k}\right\rangle"),
    "int": (lambda a, b, h: _dot(r_interleaved(a, h) * col(q, h), r_interleaved(b, h) * col(k, h)),
            r"\left\langle R^{\mathrm{int}}_{\Theta,A}\mathbf{q}, "
            r"R^{\mathrm{int}}_{\Theta,B}\mathbf{k}\right\rangle"),
}


class form(Notation):  # noqa: N801
    """``form(name, a, b, d/2)``: one of FORMS at angles a, b; explicit once d/2 is a number."""

    nargs = 4

    def doit(self, **hints):
        name, a, b, h = self.args
        if not (isinstance(name, Str) and h.is_Integer):
            return self  # a symbolic d/2 (or a malformed form): nothing to write out
        return FORMS[name.name][0](a, b, int(h))

    def _eval_is_commutative(self):
        return True

    def _latex(self, printer):
        name, a, b, _ = self.args
        return (FORMS[name.name][1].replace("A", printer._print(a))
                .replace("B", printer._print(b)))


def F(name: str, a=0, b=0):  # noqa: N802 - a short constructor for the chains
    return form(Str(name), a, b, half)


class pair_score(Notation):  # noqa: N801
    """``pair_score(j)`` = <R(m theta_j) q^(j), R(n theta_j) k^(j)> for interleaved pair j."""

    nargs = 1

    @classmethod
    def definition(cls, idx):
        a, b = m * th[idx], n * th[idx]
        qa = (q[2 * idx - 1] * cos(a) - q[2 * idx] * sin(a), q[2 * idx - 1] * sin(a)
              + q[2 * idx] * cos(a))
        kb = (k[2 * idx - 1] * cos(b) - k[2 * idx] * sin(b), k[2 * idx - 1] * sin(b)
              + k[2 * idx] * cos(b))
        return qa[0] * kb[0] + qa[1] * kb[1]

    def _latex(self, printer):
        p = printer._print(self.args[0])
        return (rf"\left\langle R(m\theta_{{{p}}})\mathbf{{q}}^{{({p})}}, "
                rf"R(n\theta_{{{p}}})\mathbf{{k}}^{{({p})}}\right\rangle")


class ctilde(Notation):  # noqa: N801
    """``ctilde(x, j)`` = x_{2j-1} + i x_{2j}: interleaved pair j read as a complex number."""

    nargs = 2

    def doit(self, **hints):
        v, idx = self.args
        return v[2 * idx - 1] + I * v[2 * idx] if isinstance(v, IndexedBase) else self

    def _latex(self, printer):
        return rf"\tilde{{{printer._print(self.args[0])}}}_{{{printer._print(self.args[1])}}}"


# --- Claims ----------------------------------------------------------------
phase = ctilde(q, j) * conjugate(ctilde(k, j)) * exp(I * (m - n) * th[j])

complex_form = Claim(
    "complex_form",
    "Interleaved RoPE is complex multiplication",
    start=Sum(pair_score(j), (j, 1, half)),
    steps=(
        Step(Sum(re(phase), (j, 1, half)),
             "$\\mathrm{Re}\\,(a + ib)(c - id)e^{i\\phi}$ written out is the pair score",
             "unfold+trig+complex+sum"),
        Step(re(Sum(phase, (j, 1, half))), "the real part of a sum is the sum of the real parts",
             "unfold+complex+sum"),
    ),
    note="The left side is the RoPE score, a sum over pairs (derivation rope). "
         "Pair $j$ of $\\mathbf{q}$ read as $\\tilde q_j = q_{2j-1} + i q_{2j}$ is multiplied by "
         "$e^{i m \\theta_j}$, which is how the original LLaMA code applies RoPE.",
)

conjugation = Claim(
    "conjugation",
    "Half-split RoPE is interleaved RoPE conjugated by a permutation",
    start=F("PRP", m),
    steps=(Step(F("Rhalf", m), "explicit $d \\times d$ matrices", "expand",
                sizes=Sizes(half, 1, 4)),),
    note="For all $\\mathbf{x}, \\mathbf{y}$, so $P R^{\\mathrm{int}}_{\\Theta,m} P^\\top = "
         "R^{\\mathrm{half}}_{\\Theta,m}$: both rotate pair $j$ by $m\\theta_j$, the pairs "
         "just sit at different coordinates.",
)

orthogonal = Claim(
    "orthogonal",
    "A permutation keeps dot products",
    start=F("PtP"),
    steps=(Step(F("dot"), "$P^\\top P = I$: the same products, summed in another order",
                "expand", sizes=Sizes(half, 1, 4)),),
    on_sheet=False,
)

checkpoint = Claim(
    "checkpoint",
    "Converting a checkpoint keeps every score",
    start=F("half_on_P", m, n),
    steps=(
        Step(F("int", m, n),
             "$R^{\\mathrm{half}} P = P R^{\\mathrm{int}}$ (conjugation), then $P^\\top P = I$; "
             "explicit matrices", "expand", sizes=Sizes(half, 1, 4)),
    ),
    note="With $\\mathbf{q} = W_q \\mathbf{x}$, $P\\mathbf{q} = (P W_q)\\mathbf{x}$: permuting the "
         "rows of $W_q$ and $W_k$ (per head) moves weights trained with one pairing to code using "
         "the other, and every attention score is unchanged.",
)


# --- Numeric checks ----------------------------------------------------------
def _random_inputs(rng: np.random.Generator) -> tuple:
    dim = 2 * int(rng.integers(1, 33))
    return dim, rng.normal(size=(3, 7, dim)), rng.integers(0, 100_001, size=7).astype(float)


def check_permutation(rng: np.random.Generator) -> Measurement:
    """rope(P x, half) == P rope(x, interleaved), bit for bit, with an index-built P."""
    from llmsym.numeric.rope import rope

    mismatches, cases = 0, 100
    for _ in range(cases):
        dim, vecs, pos = _random_inputs(rng)
        perm = np.concatenate([np.arange(0, dim, 2), np.arange(1, dim, 2)])  # P as an index
        left = rope(vecs[..., perm], pos, convention="half")
        right = rope(vecs, pos, convention="interleaved")[..., perm]
        mismatches += not np.array_equal(left, right)
    return Measurement(float(mismatches), cases, 0.0,
                       "rope(Px, half) vs P rope(x, interleaved), exact equality, positions up "
                       "to 1e5")


def _scores(vecs: np.ndarray, pos: np.ndarray, conv_q: str, conv_k: str) -> np.ndarray:
    from llmsym.numeric.rope import rope

    return (rope(vecs[0], pos, convention=conv_q)
            @ rope(vecs[1], pos, convention=conv_k).T)


def check_relative_and_mixing(rng: np.random.Generator) -> Measurement:
    """Shifting all positions keeps the scores in either convention; mixing them does not."""
    worst, broken, cases = 0.0, 0, 100
    for _ in range(cases):
        dim, vecs, pos = _random_inputs(rng)
        dim = max(dim, 4)  # with d = 2 both conventions coincide
        vecs = rng.normal(size=(2, 7, dim))
        shift = float(rng.integers(1, 100_001 - int(pos.max()) + 1))
        scale = np.linalg.norm(vecs[0], axis=1)[:, None] * np.linalg.norm(vecs[1], axis=1)
        for conv in ("interleaved", "half"):
            gap = _scores(vecs, pos + shift, conv, conv) - _scores(vecs, pos, conv, conv)
            worst = max(worst, float(np.abs(gap / scale).max()))
        mixed = _scores(vecs, pos + shift, "interleaved", "half") - _scores(
            vecs, pos, "interleaved", "half")
        broken += float(np.abs(mixed / scale).max()) > 1e-3
    if broken < cases * 0.9:  # the negative control must fail: mixing breaks relativity
        return Measurement(float("inf"), cases, 1e-9,
                           f"mixing conventions kept the scores in {cases - broken} cases")
    return Measurement(worst, cases, 1e-9,
                       f"scores at positions p + c vs p (c up to 1e5), both conventions; mixing "
                       f"conventions changed the scores in {broken}/{cases} cases")


# --- The derivation ----------------------------------------------------------
DERIVATION = Derivation(
    id="rope-pairing",
    title="RoPE: complex form and the two pairings",
    topic="Position encodings",
    order=41,
    gloss="Interleaved RoPE is multiplication of complex pairs by $e^{im\\theta_j}$; the "
          "half-split pairing of Hugging Face is the same rotation after a fixed permutation, so "
          "checkpoints convert by permuting the rows of $W_q$ and $W_k$.",
    assumptions=(
        "$d$ is even; interleaved pair $j$ is $(x_{2j-1}, x_{2j})$, half-split pair $j$ is "
        "$(x_j, x_{j+d/2})$; both rotate pair $j$ by $m\\theta_j$.",
        "$P$ lists the odd coordinates, then the even ones: $(P\\mathbf{x})_j = x_{2j-1}$, "
        "$(P\\mathbf{x})_{d/2+j} = x_{2j}$.",
    ),
    claims=(complex_form, conjugation, orthogonal, checkpoint),
    checks=(
        NumericCheck("permutation", check_permutation,
                     "rope with the half pairing on $P\\mathbf{x}$ equals $P$ applied to the "
                     "interleaved rope of $\\mathbf{x}$, exactly, at positions up to $10^5$."),
        NumericCheck("relative", check_relative_and_mixing,
                     "Scores survive a shift of every position by up to $10^5$ to 1e-9 in both "
                     "conventions; rotating q with one pairing and k with the other breaks this "
                     "(negative control)."),
    ),
    notation={
        r"R^{\mathrm{int}}_{\Theta,m}, R^{\mathrm{half}}_{\Theta,m}":
            "RoPE rotation with interleaved or half-split pairs",
        "P": "the permutation from interleaved to half-split layout",
        r"\tilde{q}_j": "interleaved pair $j$ as a complex number $q_{2j-1} + i q_{2j}$",
    },
    sources=(
        "Su et al., RoFormer, arXiv:2104.09864 (2021), section 3.4.2 (complex form).",
        "Touvron et al., LLaMA, arXiv:2302.13971 (2023); reference code applies RoPE as a "
        "complex product of interleaved pairs.",
        "Hugging Face transformers, modeling_llama.py: rotate_half and apply_rotary_pos_emb "
        "(half-split pairs); convert_llama_weights_to_hf.py permutes the rows of W_q and W_k.",
    ),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
