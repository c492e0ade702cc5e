"""Low rank: LoRA's parameter count and merged weight; the error of the truncated SVD.

Main results
    lora_params    A (ρ × d_in) and B (d_out × ρ) hold N_LoRA = ρ(d_in + d_out) parameters
    lora_merge     ((W₀ + (α/ρ)BA)x)_o = (W₀x + (α/ρ)B(Ax))_o for every output o and every
                   input width d_in (induction on d_in): merging the update into W₀ computes
                   the same map, so inference costs nothing extra
    residual       M − M_ρ = Σ_{i=ρ+1}^{n} σ_i u_i v_iᵀ (M and its truncated SVD M_ρ)
    svd_error      ‖M − M_ρ‖_F² = Σ_{i=ρ+1}^{n} σ_i², from orthonormal singular vectors

Eckart and Young (1936; Mirsky 1960 for every unitarily invariant norm) show that no matrix
of rank at most ρ is closer to M than M_ρ; here that optimality is checked numerically
against random rank-ρ competitors, while the size of the error is proved. LoRA's scaling is
written α_LoRA (α means other things on the sheet) and the rank ρ.

Run on its own: ``python derivations/low_rank.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Sum, Symbol, symbols

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
    induction_hypothesis,
)
from llmsym.notation import Named, Notation, factors, group, minus, terms, unfold

# --- Symbols ---------------------------------------------------------------------------------
d_in = Named("d_in", r"d_{\mathrm{in}}", integer=True, positive=True)  # input width
d_out = Named("d_out", r"d_{\mathrm{out}}", integer=True, positive=True)  # output width
rank = Named("rank", r"\rho", integer=True, positive=True)  # LoRA's r; the rank kept by the SVD
alpha = Named("lora_alpha", r"\alpha_{\mathrm{LoRA}}", positive=True)  # LoRA's scaling constant
N_lora = Named("N_lora", r"N_{\mathrm{LoRA}}", integer=True, positive=True)
o = Symbol("o", integer=True, positive=True)  # an output coordinate
k, t = symbols("k t", integer=True, positive=True)  # input coordinate; rank index
W0 = IndexedBase(Named("W0", r"\mathbf{W}_{0}"), real=True)
A = IndexedBase(Named("A_lora", r"\mathbf{A}"), real=True)
B = IndexedBase(Named("B_lora", r"\mathbf{B}"), real=True)
x = IndexedBase(Named("x_in", r"\mathbf{x}_{\mathrm{in}}"), real=True)  # an input vector


# --- Notation: the two forms of a LoRA layer ----------------------------------------------------
def _update(row, col):
    """Entry (row, col) of B A: Σ_t B_{row t} A_{t col}."""
    return Sum(B[row, t] * A[t, col], (t, 1, rank))


class merged(Notation):  # noqa: N801
    """``merged(o, width)``: output o of (W₀ + (α/ρ)BA)x for an input of ``width`` entries."""

    nargs = 2

    @classmethod
    def definition(cls, out, width):
        return Sum((W0[out, k] + alpha / rank * _update(out, k)) * x[k], (k, 1, width))

    def _latex(self, printer):
        return (r"\left(\left(\mathbf{W}_0 + \frac{\alpha_{\mathrm{LoRA}}}{\rho}\mathbf{B}"
                r"\mathbf{A}\right)\mathbf{x}\right)_{%s}" % printer._print(self.args[0]))


class unmerged(Notation):  # noqa: N801
    """``unmerged(o, width)``: output o of W₀x + (α/ρ)B(Ax), the update applied to x apart."""

    nargs = 2

    @classmethod
    def definition(cls, out, width):
        down = Sum(A[t, k] * x[k], (k, 1, width))  # (Ax)_t
        return (Sum(W0[out, k] * x[k], (k, 1, width))
                + alpha / rank * Sum(B[out, t] * down, (t, 1, rank)))

    def _latex(self, printer):
        return (r"\left(\mathbf{W}_0\mathbf{x} + \frac{\alpha_{\mathrm{LoRA}}}{\rho}\mathbf{B}"
                r"\left(\mathbf{A}\mathbf{x}\right)\right)_{%s}" % printer._print(self.args[0]))


# --- Definitions -----------------------------------------------------------------------------
D_LORA = Definition("LoRA parameters", N_lora, terms(factors(rank, d_in), factors(d_out, rank)),
                    note="the entries of $\\mathbf{A} \\in \\mathbb{R}^{\\rho \\times"
                         " d_{\\mathrm{in}}}$ and $\\mathbf{B} \\in"
                         " \\mathbb{R}^{d_{\\mathrm{out}} \\times \\rho}$;"
                         " $\\mathbf{W}_0$ is frozen")

# --- Claims: LoRA ------------------------------------------------------------------------------
lora_params = Claim(
    "lora_params",
    "LoRA trains $\\rho(d_{\\mathrm{in}} + d_{\\mathrm{out}})$ parameters",
    start=N_lora,
    steps=(Step(factors(rank, group(d_in, d_out)), "the entries of $\\mathbf{A}$ and"
                " $\\mathbf{B}$", "definition+expand"),),
    where=(D_LORA,),
    note="Against $d_{\\mathrm{in}} d_{\\mathrm{out}}$ for the full matrix: at $d_{\\mathrm{in}} ="
         " d_{\\mathrm{out}} = 4096$ and $\\rho = 8$, 0.39 %. $\\mathbf{B}$ starts at 0, so"
         " training starts from $\\mathbf{W}_0$.",
)

last = d_in + 1  # the input coordinate added in the inductive step
new_column = (W0[o, last] + alpha / rank * _update(o, last)) * x[last]
hypothesis = induction_hypothesis(merged(o, d_in), unmerged(o, d_in))

lora_merge = Claim(
    "lora_merge",
    "The merged weight computes the same map",
    start=merged(o, d_in),
    steps=(Step(unmerged(o, d_in), "by induction on the input width $d_{\\mathrm{in}}$",
                induction=Induction(
                    d_in, 1,
                    base_steps=(Step(unmerged(o, 1), "one input coordinate: distribute",
                                     "unfold+doit+expand+sum"),),
                    step_steps=(
                        Step(merged(o, d_in) + new_column, "split off the last input coordinate",
                             "unfold+align_sums"),
                        Step(unmerged(o, d_in) + new_column, "induction hypothesis",
                             using=(hypothesis,)),
                        Step(unmerged(o, last), "the new coordinate joins every sum",
                             "unfold+align_sums+sum"),
                    ),
                    hypothesis=hypothesis)),),
    note="So the adapter can be folded into $\\mathbf{W}_0$ after training: no extra latency"
         " (Hu et al. 2021, section 4.1); unmerged, the update costs"
         " $\\rho(d_{\\mathrm{in}} + d_{\\mathrm{out}})$ extra multiply-adds per token.",
    on_sheet=False,
)

# --- Eckart–Young: the error of the truncated SVD ------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # singular values: min(rows, columns)
i, j = symbols("i j", integer=True, positive=True)
sigma = IndexedBase(Named("sigma_sv", r"\sigma"), nonnegative=True)  # singular values
# P_i = u_i v_i^T, kept formal: only sums and multiples of them. Not an integer (as sigma is
# not), so mutation never swaps the two labels: their product commutes, an equal mutant.
P = IndexedBase(Symbol("P", real=True, integer=False), real=True)
G = IndexedBase("G", real=True)  # G_ij = <P_i, P_j>_F (unfolded form only)
M = Named("M_full", "M", real=True)
M_r = Named("M_rank", r"M_{\rho}", real=True)


class sv_term(Notation):  # noqa: N801
    """``sv_term(sigma_i, i)``: σ_i u_i v_iᵀ, the i-th term of the SVD."""

    nargs = 2

    @classmethod
    def definition(cls, value, at):
        return value * P[at]

    def _latex(self, printer):
        value, at = (printer._print(a) for a in self.args)
        return r"%s\mathbf{u}_{%s}\mathbf{v}_{%s}^{\top}" % (value, at, at)


class gram(Notation):  # noqa: N801
    """``gram(i, j)``: the Frobenius inner product of u_i v_iᵀ and u_j v_jᵀ."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return G[a, b]

    def _latex(self, printer):
        a, b = (printer._print(v) for v in self.args)
        return (r"\left\langle \mathbf{u}_{%s}\mathbf{v}_{%s}^{\top}, \mathbf{u}_{%s}"
                r"\mathbf{v}_{%s}^{\top}\right\rangle_F" % (a, a, b, b))


class frobenius_sq(Notation):  # noqa: N801
    """``frobenius_sq(X)``: ‖X‖_F², opaque (its value comes from the premises)."""

    nargs = 1
    delimited = True

    @classmethod
    def definition(cls, m):
        return cls(m, evaluate=False)

    def doit(self, **hints):
        return self

    def _eval_evalf(self, prec):
        raise TypeError("a norm of formal matrices has no value at a random point")

    def _latex(self, printer):
        return r"\left\|%s\right\|_F^{2}" % printer._print(self.args[0])


def svd_terms(lo, hi):
    """Σ_{i=lo}^{hi} σ_i u_i v_iᵀ (one notation, not a product: inside the opaque norm,
    mutation could not tell a reordered product from a wrong one)."""
    return Sum(sv_term(sigma[i], i), (i, lo, hi))


D_M = Definition("the SVD", M, svd_terms(1, n),
                 note="$\\sigma_1 \\ge \\dots \\ge \\sigma_n \\ge 0$; the $\\mathbf{u}_i$ are"
                      " orthonormal, and so are the $\\mathbf{v}_i$")
D_MR = Definition("the truncated SVD", M_r, svd_terms(1, rank))

residual = Claim(
    "residual",
    "The truncated SVD leaves the small singular values",
    start=minus(M, M_r),
    steps=(Step(svd_terms(rank + 1, n), "the first $\\rho$ terms cancel",
                "definition+join_sums"),),
    where=(D_M, D_MR),
    on_sheet=False,
)

def _sifted(body_i, body_j):
    """Σ_{i=ρ+1}^{n} body_i Σ_{j=ρ+1}^{n} body_j: the outer factor kept out of the inner sum."""
    return Sum(factors(body_i, Sum(body_j, (j, rank + 1, n))), (i, rank + 1, n))


bilinear = Hypothesis(
    Eq(frobenius_sq(svd_terms(rank + 1, n)), _sifted(sigma[i], factors(sigma[j], gram(i, j)))),
    "the Frobenius inner product is bilinear")
orthonormal = Hypothesis(
    Eq(Sum(factors(sigma[j], gram(i, j)), (j, rank + 1, n)), sigma[i]),
    "orthonormal singular vectors: $\\langle \\mathbf{u}_i\\mathbf{v}_i^\\top, \\mathbf{u}_j"
    "\\mathbf{v}_j^\\top\\rangle_F = (\\mathbf{u}_i^\\top\\mathbf{u}_j)(\\mathbf{v}_i^\\top"
    "\\mathbf{v}_j) = [i = j]$, so only $j = i$ is left, for each $i$ from $\\rho + 1$ to $n$")

svd_error = Claim(
    "svd_error",
    "Eckart–Young: the error of the best rank-$\\rho$ approximation",
    start=frobenius_sq(minus(M, M_r)),
    steps=(
        Step(frobenius_sq(svd_terms(rank + 1, n)), "the residual", "expand",
             using=(residual,)),
        Step(_sifted(sigma[i], factors(sigma[j], gram(i, j))), "expand the square",
             using=(bilinear,)),
        Step(Sum(sigma[i] ** 2, (i, rank + 1, n)), "the singular vectors are orthonormal",
             "unfold+sum", using=(orthonormal,)),
    ),
    where=(D_M, D_MR),
    note="By Eckart and Young (1936) no matrix of rank at most $\\rho$ comes closer to $M$"
         " (checked numerically below); in the spectral norm the error is $\\sigma_{\\rho+1}$"
         " (Mirsky 1960). The kept fraction of $\\|M\\|_F^2$ is"
         " $\\sum_{i \\le \\rho}\\sigma_i^2 / \\sum_i \\sigma_i^2$.", on_sheet=False,
)


# --- Numeric checks ------------------------------------------------------------------------------
def _lora(rng: np.random.Generator):
    """A random LoRA layer: W0, A, B, α and an input, sizes up to 9."""
    d_i, d_o, r = (int(v) for v in rng.integers(1, 10, size=3))
    return (rng.normal(size=(d_o, d_i)), rng.normal(size=(r, d_i)), rng.normal(size=(d_o, r)),
            float(rng.uniform(0.5, 32)), rng.normal(size=d_i))


def check_lora_params(rng: np.random.Generator, formula) -> Measurement:
    """ρ(d_in + d_out) from the claim against the entries of A and B of a NumPy LoRA layer."""
    from llmsym.numeric import lora_forward, lora_trainable_parameters

    worst, cases = 0, 12
    for _ in range(cases):
        w0, a, b, scale, vec = _lora(rng)
        lora_forward(vec[None, :], w0, a, b, alpha=scale)  # the arrays fit together
        counted = lora_trainable_parameters(a, b)
        got = int(formula(rank=a.shape[0], d_in=w0.shape[1], d_out=w0.shape[0]))
        worst = max(worst, abs(got - counted))
    return Measurement(float(worst), cases, 0.0, "entries of A and B of a NumPy LoRA layer vs"
                       " rho(d_in + d_out), exact")


def check_lora_merge(rng: np.random.Generator, formula) -> Measurement:
    """W₀x + (α/ρ)B(Ax) from the claim, every output, against NumPy's merged weight times x."""
    from llmsym.numeric import lora_merged_weight

    worst, cases = 0.0, 0
    for _ in range(10):
        w0, a, b, scale, vec = _lora(rng)
        merged_out = lora_merged_weight(w0, a, b, alpha=scale) @ vec
        for out in range(w0.shape[0]):
            got = float(formula(W0=w0, A_lora=a, B_lora=b, x_in=vec, o=out + 1, lora_alpha=scale,
                                rank=a.shape[0], d_in=w0.shape[1]))
            worst = max(worst, abs(got - merged_out[out]) / max(1.0, abs(merged_out[out])))
            cases += 1
    return Measurement(worst, cases, 1e-12, "the unmerged form from the formula vs NumPy"
                       " (W0 + (alpha/rho) B A) x, every output")


def _svd(rng: np.random.Generator):
    rows, cols = (int(v) for v in rng.integers(2, 9, size=2))
    matrix = rng.normal(size=(rows, cols))
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    return matrix, u, s, vt


def check_residual(rng: np.random.Generator, formula) -> Measurement:
    """Σ_{i>ρ} σ_i u_i v_iᵀ from the claim against M minus NumPy's best rank-ρ approximation."""
    from llmsym.numeric import best_rank_approximation

    worst, cases = 0.0, 12
    for _ in range(cases):
        matrix, u, s, vt = _svd(rng)
        kept = int(rng.integers(1, s.size + 1))
        terms_ = [np.outer(u[:, c], vt[c]) for c in range(s.size)]
        got = np.asarray(formula(sigma_sv=s, P=terms_, rank=kept, n=s.size), dtype=float)
        ref = matrix - best_rank_approximation(matrix, kept)
        worst = max(worst, float(np.max(np.abs(got - ref))))
    return Measurement(worst, cases, 1e-12, "the dropped SVD terms from the formula vs"
                       " M - best_rank_approximation(M, rho)")


def check_svd_error(rng: np.random.Generator, formula) -> Measurement:
    """Σ_{i>ρ} σ_i² from the claim against ‖M − M_ρ‖_F² computed from the matrices, and no
    random rank-ρ competitor (random factors, or M_ρ perturbed) closer to M."""
    from llmsym.numeric import best_rank_approximation

    worst, cases = 0.0, 12
    for _ in range(cases):
        matrix, _, s, _ = _svd(rng)
        kept = int(rng.integers(1, s.size + 1))
        claimed = float(formula(sigma_sv=s, rank=kept, n=s.size))
        best = best_rank_approximation(matrix, kept)
        error = float(np.sum((matrix - best) ** 2))
        worst = max(worst, abs(claimed - error) / max(1.0, error))
        for _ in range(20):  # competitors of rank <= rho
            left = rng.normal(size=(matrix.shape[0], kept))
            right = rng.normal(size=(kept, matrix.shape[1]))
            scale = float(np.sum(matrix * (left @ right)) / np.sum((left @ right) ** 2))
            for other in (scale * left @ right,
                          best + 1e-3 * rng.normal(size=(matrix.shape[0], 1))
                          @ rng.normal(size=(1, matrix.shape[1]))):
                if np.linalg.matrix_rank(other) > kept:
                    other = best_rank_approximation(other, kept)
                beaten = claimed - float(np.sum((matrix - other) ** 2))
                worst = max(worst, beaten / max(1.0, error))
    return Measurement(worst, cases, 1e-10, "sum of the dropped sigma_i^2 from the formula vs"
                       " ||M - M_rho||_F^2 from NumPy matrices; 40 rank-rho competitors each,"
                       " none closer")


def example_lora() -> tuple[str, str]:
    """LoRA on a 4096 × 4096 projection at ρ = 8."""
    got = int(unfold(RESULTS[0].expr).subs({rank: 8, d_in: 4096, d_out: 4096}))
    return ("LoRA of rank $\\rho = 8$ on a $4096 \\times 4096$ projection",
            rf"N_{{\mathrm{{LoRA}}}} = {got:,}".replace(",", "{,}")
            + rf" = {100 * got / 4096**2:.2f}\,\%\text{{ of }} 4096^2")


# --- Results ------------------------------------------------------------------------------------
RESULTS = (
    Result("lora_params", unfold(lora_params.end), params=(d_in, d_out, rank),
           doc="trainable parameters of a rank-r LoRA adapter on a d_out x d_in weight: the"
               " entries of A (r x d_in) and B (d_out x r)",
           units="parameters", claim="lora_params", integer=True),
)

# --- The derivation ------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="low-rank",
    title="LoRA and the best low-rank approximation",
    topic="Low rank",
    order=55,
    gloss="A rank-$\\rho$ update trains $\\rho(d_{\\mathrm{in}} + d_{\\mathrm{out}})$ numbers and"
          " can be merged into the frozen weight; the truncated SVD is the best rank-$\\rho$"
          " approximation, with squared error the sum of the dropped $\\sigma_i^2$.",
    assumptions=(
        "$\\mathbf{W}_0 \\in \\mathbb{R}^{d_{\\mathrm{out}} \\times d_{\\mathrm{in}}}$ is"
        " frozen; LoRA trains $\\mathbf{A} \\in \\mathbb{R}^{\\rho \\times d_{\\mathrm{in}}}$"
        " and $\\mathbf{B} \\in \\mathbb{R}^{d_{\\mathrm{out}} \\times \\rho}$.",
        "$M = \\sum_{i=1}^{n} \\sigma_i\\mathbf{u}_i\\mathbf{v}_i^\\top$ is a singular value"
        " decomposition, $n$ the smaller of $M$'s dimensions.",
    ),
    definitions=(D_LORA, D_M, D_MR),
    claims=(lora_params, lora_merge, residual, svd_error),
    results=RESULTS,
    checks=(
        NumericCheck("lora-params", check_lora_params, "$\\rho(d_{\\mathrm{in}} +"
                     " d_{\\mathrm{out}})$ against the entries of a NumPy LoRA layer's"
                     " $\\mathbf{A}$ and $\\mathbf{B}$.", claim="lora_params"),
        NumericCheck("lora-merge", check_lora_merge, "The unmerged form against NumPy's"
                     " merged weight times $\\mathbf{x}$.", claim="lora_merge"),
        NumericCheck("residual", check_residual, "The dropped SVD terms against $M$ minus"
                     " NumPy's best rank-$\\rho$ approximation.", claim="residual"),
        NumericCheck("svd-error", check_svd_error, "The error against NumPy matrices, and"
                     " random rank-$\\rho$ competitors never closer.", claim="svd_error"),
    ),
    notation={
        d_in: "input width of a weight matrix", d_out: "output width of a weight matrix",
        rank: "a rank: LoRA's $r$, or the number of singular values kept",
        alpha: "LoRA's scaling constant: the update is $(\\alpha_{\\mathrm{LoRA}}/\\rho)"
               "\\mathbf{B}\\mathbf{A}$",
        N_lora: "trainable parameters of a LoRA adapter",
        o: "an output coordinate",
        sigma: "the singular values of $M$, $\\sigma_1 \\ge \\dots \\ge \\sigma_n \\ge 0$",
        M: "a real matrix", M_r: "$M$'s SVD truncated to its $\\rho$ largest singular values",
    },
    sources=(
        "Hu et al., LoRA: Low-Rank Adaptation of Large Language Models, arXiv:2106.09685"
        " (2021), section 4.1: W0 + (alpha/r) BA, B initialised to 0, merging for inference.",
        "Eckart and Young, The approximation of one matrix by another of lower rank,"
        " Psychometrika 1 (1936) 211-218; Mirsky, Symmetric gauge functions and unitarily"
        " invariant norms, Quart. J. Math. 11 (1960) 50-59.",
    ),
    examples=(example_lora,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
