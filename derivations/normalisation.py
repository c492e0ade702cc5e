"""Normalisation layers and the residual stream: LayerNorm, RMSNorm, unrolled sums.

Main results
    ln_invariance    a not constant  ⊢  LN_0(νa + c1) = LN_0(a), for every ν > 0 and real c
    rms_invariance   a ≠ 0  ⊢  RMSNorm_0(νa) = RMSNorm_0(a), for every ν > 0
    ln_is_rms        LN_ε(a) = RMSNorm_ε(a − μ(a)1), for every ε > 0 (the same ε on both sides)
    unrolled         h_{i+1} = h_i + F_i(h_i)  ⊢  h_L = h_l + Σ_{i=l}^{L−1} F_i(h_i), for all l ≤ L
    gradient         the chain rule through each block  ⊢
                     ∂ℒ/∂h_l = ∂ℒ/∂h_L + Σ_{i=l}^{L−1} (∂ℒ/∂h_{i+1}) (∂F_i/∂h_i)

LayerNorm and RMSNorm are written without their learned gain and bias: both apply the
same element-wise affine map afterwards, so the invariances hold before it and
"equal gains" leaves LN = RMSNorm(a − μ1) intact. The subscript is ε: LN_0 is the
layer with ε = 0, where the invariances are exact. The unrolled sums are telescoping
sums, proved for every pair l ≤ L at once; they use only addition, so they hold for
vectors (and for whole s × d residual streams) as they do for numbers.

Run on its own: ``python derivations/normalisation.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Sum, Symbol, sqrt, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Named, Notation, factors, minus, terms, vector_latex

# --- Symbols -------------------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # width of the normalised vector
i, j, k = symbols("i j k", integer=True, positive=True)  # component indices
a = IndexedBase("a", real=True)  # the vector normalised (Ba et al.'s summed inputs)
scale = Named("scale", r"\nu", positive=True)  # a positive scale factor
c = Symbol("c", real=True)  # a constant added to every entry
eps = Symbol("epsilon", positive=True)  # the constant inside the square root


# --- Notation --------------------------------------------------------------------------------
class mean(Notation):  # noqa: N801 - the name readers know
    """``mean(body, j, n)`` = (1/n) Σ_j body_j, printed ``μ(a)``."""

    nargs = 3
    bound = (1,)

    @classmethod
    def definition(cls, body, index, size):
        return Sum(body, (index, 1, size)) / size

    def _latex(self, printer):
        return r"\mu\left(%s\right)" % vector_latex(printer, self.args[0], self.args[1])


class variance(Notation):  # noqa: N801
    """``variance(body, j, n)`` = (1/n) Σ_j (body_j − μ)² (biased), printed ``σ²(a)``."""

    nargs = 3
    bound = (1,)

    @classmethod
    def definition(cls, body, index, size):
        inner = mean(body.xreplace({index: k}), k, size)
        return Sum((body - inner) ** 2, (index, 1, size)) / size

    def _latex(self, printer):
        return r"\sigma^{2}\left(%s\right)" % vector_latex(printer, self.args[0], self.args[1])


class layer_norm(Notation):  # noqa: N801
    """``layer_norm(body, j, n, i, eps)``: component i of LN_eps of (body_j), no gain or bias."""

    nargs = 5
    bound = (1,)

    @classmethod
    def definition(cls, body, index, size, at, epsilon):
        # the same bound index k as variance's inner mean, so the two unfold alike
        return ((body.xreplace({index: at}) - mean(body.xreplace({index: k}), k, size))
                / sqrt(terms(variance(body, index, size), epsilon)))

    def _latex(self, printer):
        body, index, _size, at, epsilon = self.args
        return r"\operatorname{LN}_{%s}\left(%s\right)_{%s}" % (
            printer._print(epsilon), vector_latex(printer, body, index), printer._print(at))


class rms_norm(Notation):  # noqa: N801
    """``rms_norm(body, j, n, i, eps)``: component i of RMSNorm_eps of (body_j), no gain."""

    nargs = 5
    bound = (1,)

    @classmethod
    def definition(cls, body, index, size, at, epsilon):
        return body.xreplace({index: at}) / sqrt(terms(Sum(body**2, (index, 1, size)) / size,
                                                        epsilon))

    def _latex(self, printer):
        body, index, _size, at, epsilon = self.args
        return r"\operatorname{RMSNorm}_{%s}\left(%s\right)_{%s}" % (
            printer._print(epsilon), vector_latex(printer, body, index), printer._print(at))


# --- Premises ------------------------------------------------------------------------------
not_constant = Hypothesis(r"\sigma^{2}(\mathbf{a}) > 0",
                          "$\\mathbf{a}$ is not constant (else $\\mathrm{LN}_0$ is $0/0$)")
not_zero = Hypothesis(r"\mathbf{a} \ne \mathbf{0}",
                      "$\\mathbf{a}$ is not the zero vector (else $\\mathrm{RMSNorm}_0$ is $0/0$)")

# --- Definitions ---------------------------------------------------------------------------
MU = Definition("mean", mean(a[j], j, n), mean.definition(a[j], j, n))
SIGMA2 = Definition("variance", variance(a[j], j, n),
                    Sum((a[j] - mean(a[k], k, n)) ** 2, (j, 1, n)) / n)
DEFINITIONS = (
    MU,
    SIGMA2,
    Definition("LayerNorm", layer_norm(a[j], j, n, i, eps),
               (a[i] - mean(a[k], k, n)) / sqrt(terms(variance(a[j], j, n), eps)),
               on_sheet=True, title="LayerNorm",
               note="$\\mu(\\mathbf{a}) = \\frac{1}{n}\\sum_j a_j$ and $\\sigma^2(\\mathbf{a}) ="
                    " \\frac{1}{n}\\sum_j (a_j - \\mu)^2$ over the $n$ features of one token;"
                    " a learned gain $\\gamma_i$ and bias $\\beta_i$ follow:"
                    " $\\gamma_i \\mathrm{LN}_\\epsilon(\\mathbf{a})_i + \\beta_i$."),
    Definition("RMSNorm", rms_norm(a[j], j, n, i, eps),
               a[i] / sqrt(terms(Sum(a[j] ** 2, (j, 1, n)) / n, eps)),
               on_sheet=True, title="RMSNorm",
               note="No centring and no bias: only a learned gain $g_i$ follows."),
)

# --- Claims: the norms ----------------------------------------------------------------------
shifted = factors(scale, a[j]) + c

shifted_k = factors(scale, a[k]) + c
mu_a = mean(a[k], k, n)  # bound index k throughout, as in the definitions

mean_affine = Claim(
    "mean_affine",
    "The mean follows an affine map",
    start=mean(shifted_k, k, n),
    steps=(Step(terms(scale * mu_a, c), "split the sum; $n$ copies of $c$", "unfold+sum"),),
    on_sheet=False,
)

variance_affine = Claim(
    "variance_affine",
    "The variance scales with the square and ignores the shift",
    start=variance(shifted, j, n),
    steps=(
        Step(Sum((shifted - mean(shifted_k, k, n)) ** 2, (j, 1, n)) / n,
             "definition of $\\sigma^2$", "unfold"),
        Step(Sum(minus(shifted, scale * mu_a + c) ** 2, (j, 1, n)) / n,
             "the mean follows the map", "unfold+sum"),
        Step(scale**2 * variance(a[j], j, n), "$c$ cancels; $\\nu^2$ leaves the sum",
             "unfold+sum"),
    ),
    on_sheet=False,
)

ln_invariance = Claim(
    "ln_invariance",
    "LayerNorm ignores the scale and the offset of its input",
    given=(not_constant,),
    start=layer_norm(shifted, j, n, i, 0),
    steps=(
        Step(terms(scale * a[i], c, -mean(shifted_k, k, n)) / sqrt(variance(shifted, j, n)),
             "definition of LN with $\\epsilon = 0$", "unfold"),
        # a plain sum on the right of minus: minus() and terms() do not parenthesise terms()
        Step(minus(terms(scale * a[i], c), scale * mu_a + c)
             / sqrt(scale**2 * variance(a[j], j, n)),
             "the mean follows the map; the variance scales by $\\nu^2$",
             using=(mean_affine, variance_affine)),
        Step(scale * (a[i] - mu_a) / (scale * sqrt(variance(a[j], j, n))),
             "$\\sqrt{\\nu^2} = \\nu$ for $\\nu > 0$", "expand"),
        Step(layer_norm(a[j], j, n, i, 0), "cancel $\\nu$; definition of LN", "unfold+cancel"),
    ),
    note="With $\\epsilon > 0$ it is only approximate: $\\mathrm{LN}_\\epsilon(\\nu\\mathbf{a})"
         " = \\mathrm{LN}_{\\epsilon/\\nu^2}(\\mathbf{a})$. For $\\nu < 0$ the sign flips.",
    on_sheet=False,
)

rms_invariance = Claim(
    "rms_invariance",
    "RMSNorm ignores the scale of its input",
    given=(not_zero,),
    start=rms_norm(factors(scale, a[j]), j, n, i, 0),
    steps=(
        Step(scale * a[i] / sqrt(scale**2 * Sum(a[j] ** 2, (j, 1, n)) / n),
             "definition of RMSNorm with $\\epsilon = 0$; $\\nu^2$ leaves the sum",
             "unfold+sum"),
        Step(rms_norm(a[j], j, n, i, 0), "$\\sqrt{\\nu^2} = \\nu$: cancel it",
             "unfold+cancel"),
    ),
    note="It is not invariant to a shift $\\mathbf{a} + c\\mathbf{1}$: RMSNorm does not centre.",
    on_sheet=False,
)

centred = a[j] - mu_a

ln_is_rms = Claim(
    "ln_is_rms",
    "LayerNorm is RMSNorm of the centred vector",
    start=layer_norm(a[j], j, n, i, eps),
    steps=(
        Step((a[i] - mu_a) / sqrt(terms(Sum(centred**2, (j, 1, n)) / n, eps)),
             "definitions of LN and $\\sigma^2$", "unfold"),
        Step(rms_norm(centred, j, n, i, eps),
             "definition of RMSNorm applied to $\\mathbf{a} - \\mu(\\mathbf{a})\\mathbf{1}$",
             "unfold"),
    ),
    note="For every $\\epsilon$, the same on both sides (also $\\epsilon = 0$ when $\\mathbf{a}$"
         " is not constant), and equal gains. Zhang and Sennrich drop the centring because the"
         " re-centring invariance adds little in practice.", on_sheet=False,
)

# --- The residual stream -------------------------------------------------------------------
l = Symbol("l", integer=True, nonnegative=True)  # a block index: the stream after l blocks
L = Symbol("L", integer=True, positive=True)  # blocks in the stack (a deeper block index)
h = IndexedBase(Named("h", r"\mathbf{h}"), real=True)  # h_l: the stream after l blocks
f = IndexedBase("f", real=True)  # f_i = F_i(h_i): what block i adds (unfolded form only)
G = IndexedBase("G", real=True)  # G_i = dL/dh_i (unfolded form only)
u = IndexedBase("u", real=True)  # u_i = G_{i+1} dF_i/dh_i (unfolded form only)


class block(Notation):  # noqa: N801
    """``block(i)``: F_i(h_i), what block i adds to the stream (attention or an MLP)."""

    nargs = 1

    @classmethod
    def definition(cls, at):
        return f[at]

    def _latex(self, printer):
        at = printer._print(self.args[0])
        return r"F_{%s}\left(\mathbf{h}_{%s}\right)" % (at, at)


class grad(Notation):  # noqa: N801
    """``grad(i)``: the gradient of the loss with respect to the stream h_i (a row vector)."""

    nargs = 1
    delimited = True

    @classmethod
    def definition(cls, at):
        return G[at]

    def _latex(self, printer):
        return r"\frac{\partial \mathcal{L}}{\partial \mathbf{h}_{%s}}" % printer._print(
            self.args[0])


class through_block(Notation):  # noqa: N801
    """``through_block(i)``: (dL/dh_{i+1}) (dF_i/dh_i), the gradient that passes through the
    branch of block i (a row vector times the block's Jacobian)."""

    nargs = 1
    delimited = True

    @classmethod
    def definition(cls, at):
        return u[at]

    def _latex(self, printer):
        at = printer._print(self.args[0])
        nxt = printer._print(self.args[0] + 1)
        return (r"\frac{\partial \mathcal{L}}{\partial \mathbf{h}_{%s}}"
                r"\frac{\partial F_{%s}}{\partial \mathbf{h}_{%s}}" % (nxt, at, at))


update = Hypothesis(Eq(h[i + 1], terms(h[i], block(i))),
                    "each block adds its output to the stream, for $l \\le i < L$")
backward = Hypothesis(Eq(grad(i), terms(grad(i + 1), through_block(i))),
                      "the chain rule through block $i$: $\\partial\\mathbf{h}_{i+1}/\\partial"
                      "\\mathbf{h}_i = I + \\partial F_i/\\partial \\mathbf{h}_i$")

unrolled = Claim(
    "unrolled",
    "The residual stream is the input plus every block's output",
    start=h[L],
    steps=(
        Step(terms(h[l], Sum(h[i], (i, l + 1, L)) - Sum(h[i], (i, l, L - 1))),
             "the two sums share $\\mathbf{h}_{l+1}, \\dots, \\mathbf{h}_{L-1}$",
             "unfold+align_sums"),
        Step(terms(h[l], Sum(h[i + 1] - h[i], (i, l, L - 1))), "shift the first sum's index",
             "shift_index+align_sums"),
        Step(terms(h[l], Sum(block(i), (i, l, L - 1))), "each block adds $F_i(\\mathbf{h}_i)$",
             "sum", using=(update,)),
    ),
    note="From any block $l$ to any deeper block $L$ (He et al. 2016, eq. 4); at $l = 0$ the"
         " output is the embedding plus the sum of all blocks' outputs. A transformer layer"
         " has two blocks, attention and the MLP.", on_sheet=False,
)

gradient = Claim(
    "gradient",
    "The gradient reaches every block directly",
    start=grad(l),
    steps=(
        Step(terms(grad(L), Sum(grad(i), (i, l, L - 1)) - Sum(grad(i), (i, l + 1, L))),
             "the two sums share $i = l+1, \\dots, L-1$", "unfold+align_sums"),
        Step(terms(grad(L), Sum(grad(i) - grad(i + 1), (i, l, L - 1))),
             "shift the second sum's index", "unfold+shift_index+align_sums"),
        Step(terms(grad(L), Sum(through_block(i), (i, l, L - 1))),
             "the chain rule through each block", "sum", using=(backward,)),
    ),
    note="The first term passes from the top of the stack to block $l$ unchanged, however deep"
         " the stack: He et al. (2016, eq. 5) write the same gradient as"
         " $\\frac{\\partial\\mathcal{L}}{\\partial\\mathbf{h}_L}(1 + \\frac{\\partial}"
         "{\\partial\\mathbf{h}_l}\\sum_{i=l}^{L-1} F_i(\\mathbf{h}_i))$. Gradients are row"
         " vectors; $\\partial F_i/\\partial\\mathbf{h}_i$ is block $i$'s Jacobian.",
    on_sheet=False,
)


# --- Numeric checks ----------------------------------------------------------------------------
def _vector(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(size=int(rng.integers(2, 9))) * rng.choice([0.1, 1.0, 10.0])


def _components(formula, vec: np.ndarray, **kwargs) -> np.ndarray:
    return np.array([float(formula(a=vec, n=vec.size, i=k, **kwargs))
                     for k in range(1, vec.size + 1)])


def check_ln_invariance(rng: np.random.Generator, formula) -> Measurement:
    """LN_0(νa + c1) from the claim's left side against NumPy layer_norm(a, eps=0)."""
    from llmsym.numeric import layer_norm as reference

    worst, cases = 0.0, 12
    for _ in range(cases):
        vec = _vector(rng)
        factor, shift = float(10.0 ** rng.uniform(-2, 2)), float(rng.uniform(-10, 10))
        got = _components(formula, vec, scale=factor, c=shift)
        worst = max(worst, float(np.max(np.abs(got - reference(vec, eps=0.0)))))
    return Measurement(worst, cases, 1e-9, "LN_0(νa + c1) from the formula, ν in 1e-2..1e2,"
                       " |c| <= 10, vs layer_norm(a, eps=0)")


def check_rms_invariance(rng: np.random.Generator, formula) -> Measurement:
    """RMSNorm_0(νa) from the claim's left side against NumPy rms_norm(a, eps=0)."""
    from llmsym.numeric import rms_norm as reference

    worst, cases = 0.0, 30
    for _ in range(cases):
        vec = _vector(rng)
        got = _components(formula, vec, scale=float(10.0 ** rng.uniform(-3, 3)))
        worst = max(worst, float(np.max(np.abs(got - reference(vec, eps=0.0)))))
    return Measurement(worst, cases, 1e-12, "RMSNorm_0(νa) from the formula, ν in 1e-3..1e3,"
                       " vs rms_norm(a, eps=0)")


def check_ln_is_rms(rng: np.random.Generator, formula) -> Measurement:
    """RMSNorm_ε(a − μ1) from the claim's right side against NumPy layer_norm(a, ε)."""
    from llmsym.numeric import layer_norm as reference

    worst, cases = 0.0, 30
    for _ in range(cases):
        vec = _vector(rng) + rng.uniform(-3, 3)
        small = float(10.0 ** rng.uniform(-6, 0))
        got = _components(formula, vec, epsilon=small)
        worst = max(worst, float(np.max(np.abs(got - reference(vec, eps=small)))))
    return Measurement(worst, cases, 1e-12, "RMSNorm_ε(a - μ1) from the formula, ε in 1e-6..1,"
                       " vs layer_norm(a, ε)")


def _stack(rng: np.random.Generator, width: int, depth: int):
    """``depth`` random blocks F(h) = W2 tanh(W1 h) and their Jacobians."""
    blocks, jacobians = [], []
    for _ in range(depth):
        w1 = rng.normal(size=(width, width)) / np.sqrt(width)
        w2 = rng.normal(size=(width, width)) / np.sqrt(width)
        blocks.append(lambda x, w1=w1, w2=w2: w2 @ np.tanh(w1 @ x))
        jacobians.append(lambda x, w1=w1, w2=w2: w2 @ (np.diag(1 - np.tanh(w1 @ x) ** 2) @ w1))
    return blocks, jacobians


def check_unrolled(rng: np.random.Generator, formula) -> Measurement:
    """h_l + Σ_i F_i(h_i) from the claim, the F_i evaluated at the states, against the stream
    computed block by block by llmsym.numeric.residual_stream."""
    from llmsym.numeric import residual_stream

    worst, cases = 0.0, 0
    for _ in range(12):
        width, depth = int(rng.integers(2, 7)), int(rng.integers(1, 7))
        blocks, _ = _stack(rng, width, depth)
        states = residual_stream(rng.normal(size=width), blocks)
        outputs = [blocks[t](states[t]) for t in range(depth)]
        for start in range(depth + 1):
            # formulas read vectors from index 1: state t is passed as h_{t+1} (the identity
            # is the same for every numbering of the blocks)
            got = np.asarray(formula(h=states, f=outputs, l=start + 1, L=depth + 1), dtype=float)
            worst = max(worst, float(np.max(np.abs(got - states[depth]))))
            cases += 1
    return Measurement(worst, cases, 1e-12, "h_l + sum of block outputs from the formula vs the"
                       " stream run block by block (tanh MLP blocks, width 2..6, 1..6 blocks)")


def check_gradient(rng: np.random.Generator, formula) -> Measurement:
    """dL/dh_L + Σ_i (dL/dh_{i+1}) J_i from the claim against central finite differences of the
    loss through the whole stack from block l."""
    from llmsym.numeric import residual_stream, residual_stream_vjp

    worst, cases, step = 0.0, 0, 1e-5
    for _ in range(6):
        width, depth = int(rng.integers(2, 6)), int(rng.integers(1, 6))
        blocks, jacobians = _stack(rng, width, depth)
        weights = rng.normal(size=width)

        def loss(x, weights=weights):
            return float(weights @ np.sin(x))

        states = residual_stream(rng.normal(size=width), blocks)
        top = weights * np.cos(states[depth])  # dL/dh_L
        grads = [residual_stream_vjp(states, jacobians, top, upto=t) for t in range(depth + 1)]
        through = [grads[t + 1] @ jacobians[t](states[t]) for t in range(depth)]
        for start in range(depth + 1):
            fd = np.zeros(width)
            for e in range(width):
                bump = np.zeros(width)
                bump[e] = step
                up = residual_stream(states[start] + bump, blocks[start:])[-1]
                down = residual_stream(states[start] - bump, blocks[start:])[-1]
                fd[e] = (loss(up) - loss(down)) / (2 * step)
            got = np.asarray(formula(G=grads, u=through, l=start + 1, L=depth + 1), dtype=float)
            worst = max(worst, float(np.max(np.abs(got - fd))) / max(1.0, np.abs(fd).max()))
            cases += 1
    return Measurement(worst, cases, 1e-7, "dL/dh_L + sum of (dL/dh_(i+1)) J_i from the formula"
                       " vs central differences of the loss through the stack from block l")


def example_layer_norm() -> tuple[str, str]:
    """LN_0 of (1, 2, 3) and of 2(1, 2, 3) + 5·1, and RMSNorm_0 of (3, 4)."""
    from llmsym.numeric import layer_norm as ln
    from llmsym.numeric import rms_norm as rms

    base = np.array([1.0, 2.0, 3.0])
    one, two = ln(base, eps=0.0), ln(2 * base + 5, eps=0.0)
    if not np.allclose(one, two):
        raise ValueError("LN_0(2a + 5) differs from LN_0(a)")
    cells = ", ".join(f"{x:.4f}" for x in one)
    unit = ", ".join(f"{x:.4f}" for x in rms([3.0, 4.0], eps=0.0))
    return ("LayerNorm ignores scale and offset; RMSNorm of $(3, 4)$",
            rf"\mathrm{{LN}}_0(1, 2, 3) = \mathrm{{LN}}_0(7, 9, 11) = ({cells}),\quad"
            rf" \mathrm{{RMSNorm}}_0(3, 4) = ({unit})")


# --- The derivation ------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="normalisation",
    title="LayerNorm, RMSNorm and the residual stream",
    topic="Normalisation and FFN",
    order=37,
    gloss="LayerNorm forgets the scale and offset of a token's features, RMSNorm only the scale;"
          " the residual stream is the input plus every block's output, so the gradient reaches"
          " every block directly.",
    assumptions=(
        "$\\mathbf{a} \\in \\mathbb{R}^n$ holds the $n$ features of one token; both norms act on"
        " each token separately and are written without their learned gain (and bias).",
        "The residual stream: $\\mathbf{h}_0$ is the embedding output and block $i$ adds"
        " $F_i(\\mathbf{h}_i)$ (attention or an MLP, with a pre-norm inside); $\\mathcal{L}$ is"
        " the loss, a differentiable function of $\\mathbf{h}_L$.",
    ),
    definitions=DEFINITIONS,
    claims=(mean_affine, variance_affine, ln_invariance, rms_invariance, ln_is_rms, unrolled,
            gradient),
    checks=(
        NumericCheck("ln-invariance", check_ln_invariance, "$\\mathrm{LN}_0(\\nu\\mathbf{a}"
                     " + c\\mathbf{1})$ from the formula against NumPy layer_norm of"
                     " $\\mathbf{a}$.", claim="ln_invariance", side="start"),
        NumericCheck("rms-invariance", check_rms_invariance, "$\\mathrm{RMSNorm}_0(\\nu"
                     "\\mathbf{a})$ from the formula against NumPy rms_norm of $\\mathbf{a}$.",
                     claim="rms_invariance", side="start"),
        NumericCheck("ln-is-rms", check_ln_is_rms, "RMSNorm of the centred vector from the"
                     " formula against NumPy layer_norm, $\\epsilon$ from $10^{-6}$ to 1.",
                     claim="ln_is_rms"),
        NumericCheck("unrolled", check_unrolled, "The unrolled sum against the stream run block"
                     " by block.", claim="unrolled"),
        NumericCheck("gradient", check_gradient, "The unrolled gradient against central"
                     " differences of the loss through the stack.", claim="gradient"),
    ),
    notation={
        a: "a real vector $(a_1, \\dots, a_n)$",
        scale: "a positive scale factor",
        l: "a block index: $\\mathbf{h}_l$ is the stream after $l$ blocks",
        h: "the residual stream: $\\mathbf{h}_l$ after $l$ blocks, $\\mathbf{h}_0$ the"
           " embedding output",
        r"\mathcal{L}": "the training loss, a function of the top of the stream",
        r"F_{i}": "block $i$ of the residual stream (attention or an MLP)",
    },
    sources=(
        "Ba, Kiros and Hinton, Layer Normalization, arXiv:1607.06450 (2016), section 3 and"
        " section 5.1 (invariance to re-scaling and re-centring).",
        "Zhang and Sennrich, Root Mean Square Layer Normalization, arXiv:1910.07467 (2019),"
        " section 4 (RMSNorm, re-scaling invariance).",
        "He, Zhang, Ren and Sun, Identity Mappings in Deep Residual Networks, arXiv:1603.05027"
        " (2016), section 3, equations 4 and 5.",
    ),
    examples=(example_layer_norm,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
