"""Activations and the feed-forward block: GELU, SiLU/Swish, GLU, SwiGLU and its width.

Main results
    gelu_derivative   d/dx GELU(x) = Φ(x) + x φ(x), with GELU(x) = x Φ(x)
    silu_derivative   d/dx SiLU(x) = σ(x) (1 + x (1 − σ(x))), with SiLU(x) = x σ(x)
    swiglu_params     a bias-free SwiGLU FFN (W, V: d × d_ff; W₂: d_ff × d) has 3 d d_ff
                      parameters
    gelu_params       a bias-free GELU FFN of width 4d has 8 d² parameters
    equal_params      N_SwiGLU − N_GELU = 3d (d_ff − 8d/3): the two match iff d_ff = 8d/3

Φ and φ are the standard normal distribution function and density; σ is the
logistic function. GELU weights its input by the probability that a standard normal
variable lies below it; SiLU (Swish with β = 1) by the logistic function instead.
A SwiGLU FFN has three matrices where a GELU FFN has two, so keeping the parameter
count of the usual d_ff = 4d block takes d_ff = 8d/3 (Shazeer 2020; LLaMA rounds it up
to a multiple of 256).

Run on its own: ``python derivations/activations_ffn.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Derivative, Rational, Symbol, erf, exp, pi, sqrt

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Step,
)
from llmsym.notation import Named, Notation, factors, group, minus, sigmoid, terms, unfold

# --- Notation --------------------------------------------------------------------------------


class normal_cdf(Notation):  # noqa: N801 - the name readers know
    """Φ(x) = P(Z ≤ x) for Z ~ N(0, 1) = (1 + erf(x/√2))/2."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return (1 + erf(x / sqrt(2))) / 2

    def _latex(self, printer):
        return r"\Phi\left(%s\right)" % printer._print(self.args[0])


class normal_pdf(Notation):  # noqa: N801
    """φ(x) = e^{-x²/2}/√(2π), the standard normal density."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return exp(-x**2 / 2) / sqrt(2 * pi)

    def _latex(self, printer):
        return r"\varphi\left(%s\right)" % printer._print(self.args[0])


class gelu(Notation):  # noqa: N801
    """GELU(x) = x Φ(x)."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return x * normal_cdf.definition(x)

    def _latex(self, printer):
        return r"\operatorname{GELU}\left(%s\right)" % printer._print(self.args[0])


class silu(Notation):  # noqa: N801
    """SiLU(x) = x σ(x), Swish with β = 1."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return x * sigmoid.definition(x)

    def _latex(self, printer):
        return r"\operatorname{SiLU}\left(%s\right)" % printer._print(self.args[0])




# --- Symbols ---------------------------------------------------------------------------------
x = Symbol("x", real=True)  # the argument of an activation
d = Named("d_model", "d", integer=True, positive=True)  # model width
d_ff = Named("d_ff", "d_{ff}", integer=True, positive=True)  # hidden width of the FFN
N_swiglu = Named("N_swiglu", r"N_{\mathrm{SwiGLU}}", integer=True, positive=True)
N_gelu = Named("N_gelu", r"N_{\mathrm{GELU}}", integer=True, positive=True)

# --- Definitions -----------------------------------------------------------------------------
SWIGLU_FORM = (r"\mathrm{FFN}_{\mathrm{SwiGLU}}(\mathbf{a}) = \big(\operatorname{SiLU}"
               r"(\mathbf{a}W) \otimes \mathbf{a}V\big)W_2,\ W, V \in \mathbb{R}^{d \times"
               r" d_{ff}},\ W_2 \in \mathbb{R}^{d_{ff} \times d}")
GELU_FORM = (r"\mathrm{FFN}_{\mathrm{GELU}}(\mathbf{a}) = \operatorname{GELU}(\mathbf{a}"
             r"W_1)W_2,\ W_1 \in \mathbb{R}^{d \times 4d},\ W_2 \in \mathbb{R}^{4d \times d}")
DEFINITIONS = (
    Definition("GELU", gelu(x), factors(x, normal_cdf(x)), on_sheet=True, title="GELU",
               note="$\\Phi(x) = \\frac{1}{2}(1 + \\operatorname{erf}(x/\\sqrt 2))$, the"
                    " standard normal distribution function. Often approximated by"
                    " $\\frac{x}{2}(1 + \\tanh[\\sqrt{2/\\pi}(x + 0.044715x^3)])$."),
    Definition("SiLU", silu(x), factors(x, sigmoid(x)), on_sheet=False,
               title="SiLU (Swish)",
               note="$\\sigma$ the logistic function. A gated linear unit multiplies two"
                    " projections, one through a gate: $\\mathrm{GLU}(\\mathbf{a}) ="
                    " (\\mathbf{a}W + b) \\otimes \\sigma(\\mathbf{a}V + c)$; SwiGLU uses"
                    " SiLU as the gate."),
    Definition("SwiGLU FFN parameters", N_swiglu,
               terms(factors(d, d_ff), factors(d, d_ff), factors(d_ff, d)),
               note="the entries of $W$, $V$ and $W_2$ (no biases)"),
    Definition("GELU FFN parameters", N_gelu, terms(4 * d**2, 4 * d**2),
               note="the entries of $W_1$ and $W_2$ at hidden width $4d$ (no biases)"),
)
D_SWIGLU, D_GELU = DEFINITIONS[2:]

# --- Claims ----------------------------------------------------------------------------------
gelu_derivative = Claim(
    "gelu_derivative",
    "The slope of GELU",
    start=Derivative(gelu(x), x),
    steps=(
        Step(terms(normal_cdf(x), factors(x, normal_pdf(x))),
             "product rule; $\\Phi' = \\varphi$ (differentiate $\\operatorname{erf}$)",
             "unfold+doit+expand"),
    ),
    note="$\\varphi(x) = e^{-x^2/2}/\\sqrt{2\\pi}$. The slope is $\\frac{1}{2}$ at 0, exceeds 1"
         " just above 0 and dips below 0 for $x < 0$ (minimum $-0.17$ at $x \\approx -0.75$):"
         " GELU is not monotone.", on_sheet=False,
)

silu_derivative = Claim(
    "silu_derivative",
    "The slope of SiLU",
    start=Derivative(silu(x), x),
    steps=(
        Step(factors(sigmoid(x), group(1, factors(x, group(1, -sigmoid(x))))),
             "product rule; $\\sigma' = \\sigma(1 - \\sigma)$", "unfold+doit+together+expand"),
    ),
    note="Like GELU, SiLU is smooth, unbounded above and not monotone (minimum $-0.278$ at"
         " $x \\approx -1.28$).", on_sheet=False,
)

swiglu_params = Claim(
    "swiglu_params",
    "A SwiGLU FFN has $3dd_{ff}$ parameters",
    start=N_swiglu,
    steps=(Step(factors(3, d, d_ff), "the three matrices, $d \\times d_{ff}$ each",
                "definition+expand"),),
    where=(SWIGLU_FORM,), on_sheet=False,
)

gelu_params = Claim(
    "gelu_params",
    "A GELU FFN of width $4d$ has $8d^2$ parameters",
    start=N_gelu,
    steps=(Step(8 * d**2, "two matrices of $4d^2$ entries", "definition+expand"),),
    where=(GELU_FORM,),
    on_sheet=False,
)

equal_params = Claim(
    "equal_params",
    "Same parameters as a $4d$ GELU FFN iff $d_{ff} = 8d/3$",
    start=minus(N_swiglu, N_gelu),
    steps=(
        Step(minus(factors(3, d, d_ff), 8 * d**2), "the two counts", "expand",
             using=(swiglu_params, gelu_params)),
        Step(factors(3, d, group(d_ff, -Rational(8, 3) * d)), "factor out $3d$", "expand"),
    ),
    where=(SWIGLU_FORM, GELU_FORM),
    note="Since $3d > 0$ the difference vanishes exactly at $d_{ff} = 8d/3$ (Shazeer 2020)."
         " LLaMA takes $\\frac{2}{3}\\cdot 4d$ rounded up to a multiple of 256: 11008 at"
         " $d = 4096$.",
)


# --- Numeric checks ----------------------------------------------------------------------------
def _mp_slope(function, at: float) -> float:
    """The derivative of an mpmath function at ``at``, by mpmath's own numerical
    differentiation at 40 digits (independent of SymPy and of NumPy)."""
    import mpmath

    with mpmath.workdps(40):
        return float(mpmath.diff(function, mpmath.mpf(at)))


def _in_mpmath(formula):
    """The formula handed to a check, evaluated with mpmath throughout. A workaround: the
    engine's Formula prints rational constants as mpmath numbers but calls NumPy's exp, which
    refuses them (e^{-x^2/2} fails); the expression is the one handed to the check."""
    import sympy as sp

    return sp.lambdify([x], formula.expr, modules="mpmath")


def check_gelu_derivative(rng: np.random.Generator, formula) -> Measurement:
    """Φ(x) + xφ(x) from the claim against mpmath's derivative of x Φ(x) (mpmath.ncdf)."""
    import mpmath

    claimed = _in_mpmath(formula)
    worst, points = 0.0, rng.uniform(-6, 6, size=20)
    for at in points:
        slope = _mp_slope(lambda t: t * mpmath.ncdf(t), float(at))
        worst = max(worst, abs(float(claimed(float(at))) - slope))
    return Measurement(worst, points.size, 1e-13, "Φ(x) + xφ(x) from the formula vs mpmath's"
                       " derivative of x·ncdf(x), x in -6..6")


def check_silu_derivative(rng: np.random.Generator, formula) -> Measurement:
    """σ(x)(1 + x(1 − σ(x))) from the claim against central differences of NumPy silu."""
    from llmsym.numeric import silu as silu_reference

    worst, step = 0.0, 1e-5
    points = rng.uniform(-12, 12, size=30)
    for at in points:
        slope = float(silu_reference(at + step) - silu_reference(at - step)) / (2 * step)
        worst = max(worst, abs(float(formula(x=float(at))) - slope))
    return Measurement(worst, points.size, 1e-8, "σ(x)(1 + x(1 - σ(x))) from the formula vs"
                       " central differences of llmsym.numeric.silu, x in -12..12")


def _swiglu_weights(rng: np.random.Generator, width: int, hidden: int):
    """The three matrices of a SwiGLU FFN, used once on a random token to check their shapes."""
    from llmsym.numeric import swiglu_ffn

    w_gate, w_up = rng.normal(size=(width, hidden)), rng.normal(size=(width, hidden))
    w_down = rng.normal(size=(hidden, width))
    out = swiglu_ffn(rng.normal(size=(2, width)), w_gate, w_up, w_down)
    if out.shape != (2, width):
        raise ValueError(f"swiglu_ffn returned shape {out.shape}")
    return w_gate, w_up, w_down


def _gelu_weights(rng: np.random.Generator, width: int):
    from llmsym.numeric import gelu_ffn

    w_in, w_out = rng.normal(size=(width, 4 * width)), rng.normal(size=(4 * width, width))
    if gelu_ffn(rng.normal(size=(2, width)), w_in, w_out).shape != (2, width):
        raise ValueError("gelu_ffn changed the shape of its input")
    return w_in, w_out


def check_swiglu_params(rng: np.random.Generator, formula) -> Measurement:
    """3 d d_ff from the claim against the entries of the arrays a SwiGLU FFN runs with."""
    worst, cases = 0, 12
    for _ in range(cases):
        width, hidden = int(rng.integers(1, 40)), int(rng.integers(1, 90))
        counted = sum(w.size for w in _swiglu_weights(rng, width, hidden))
        worst = max(worst, abs(int(formula(d_model=width, d_ff=hidden)) - counted))
    return Measurement(float(worst), cases, 0.0, "entries of W, V, W2 of a NumPy SwiGLU FFN"
                       " (run once) vs 3 d d_ff, exact")


def check_equal_params(rng: np.random.Generator, formula) -> Measurement:
    """3d(d_ff − 8d/3) from the claim against counted SwiGLU minus counted 4d GELU arrays."""
    worst, cases = 0.0, 12
    for _ in range(cases):
        width, hidden = int(rng.integers(1, 40)), int(rng.integers(1, 120))
        swiglu = sum(w.size for w in _swiglu_weights(rng, width, hidden))
        plain = sum(w.size for w in _gelu_weights(rng, width))
        worst = max(worst, abs(float(formula(d_model=width, d_ff=hidden)) - (swiglu - plain)))
    return Measurement(worst, cases, 1e-9, "counted SwiGLU parameters minus counted 4d GELU"
                       " parameters vs 3d(d_ff - 8d/3)")


def check_approximations(rng: np.random.Generator) -> Measurement:
    """Experiment: the tanh form stays within 5e-4 of GELU, x σ(1.702 x) within 0.021."""
    from llmsym.numeric import gelu as exact
    from llmsym.numeric import gelu_tanh
    from llmsym.numeric import sigmoid as logistic

    grid = np.linspace(-8, 8, 4001)
    tanh_gap = float(np.max(np.abs(gelu_tanh(grid) - exact(grid))))
    sigmoid_gap = float(np.max(np.abs(grid * logistic(1.702 * grid) - exact(grid))))
    ok = tanh_gap < 5e-4 and sigmoid_gap < 0.021
    return Measurement(0.0 if ok else float("inf"), grid.size, 0.0,
                       f"max |tanh form - GELU| = {tanh_gap:.1e}, max |x σ(1.702x) - GELU| ="
                       f" {sigmoid_gap:.3f} on -8..8")


def example_llama_width() -> tuple[str, str]:
    """LLaMA-7B's SwiGLU block against the 4d GELU block it replaces."""
    width, hidden = 4096, 11008
    swiglu = int(RESULTS[0].expr.subs({d: width, d_ff: hidden}))
    plain = 8 * width**2
    return ("LLaMA-7B: $d = 4096$, $d_{ff} = 11008$ ($8d/3 \\approx 10923$, rounded up to a"
            " multiple of 256)",
            rf"3dd_{{ff}} = {swiglu:,}".replace(",", "{,}")
            + rf" \text{{ vs }} 8d^2 = {plain:,}".replace(",", "{,}")
            + rf"\ (+{100 * (swiglu / plain - 1):.2f}\,\%)")


# --- Results ------------------------------------------------------------------------------------
RESULTS = (
    Result("swiglu_ffn_params", unfold(swiglu_params.end), params=(d, d_ff),
           doc="parameters of a bias-free SwiGLU FFN: three d_model x d_ff matrices",
           units="parameters", claim="swiglu_params", integer=True),
)

# --- The derivation ------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="activations-ffn",
    title="GELU, SiLU and the SwiGLU feed-forward block",
    topic="Normalisation and FFN",
    order=38,
    gloss="GELU and SiLU weight their input by a smooth gate; a SwiGLU block has three"
          " matrices, so $d_{ff} = 8d/3$ keeps the parameters of the usual $4d$ block.",
    assumptions=(
        "The FFN acts on each token's $d$ features separately; counts are of bias-free"
        " weight matrices.",
    ),
    definitions=DEFINITIONS,
    claims=(gelu_derivative, silu_derivative, swiglu_params, gelu_params, equal_params),
    results=RESULTS,
    checks=(
        NumericCheck("gelu-derivative", check_gelu_derivative, "$\\Phi(x) + x\\varphi(x)$"
                     " against mpmath's derivative of $x\\Phi(x)$.", claim="gelu_derivative"),
        NumericCheck("silu-derivative", check_silu_derivative, "The SiLU slope against central"
                     " differences of NumPy SiLU.", claim="silu_derivative"),
        NumericCheck("swiglu-params", check_swiglu_params, "$3dd_{ff}$ against the entries of"
                     " a NumPy SwiGLU FFN's matrices.", claim="swiglu_params"),
        NumericCheck("equal-params", check_equal_params, "The difference against counted"
                     " SwiGLU and $4d$ GELU arrays.", claim="equal_params"),
        NumericCheck("approximations", check_approximations, "Experiment: the tanh and"
                     " sigmoid approximations of GELU."),
    ),
    notation={
        N_swiglu: "parameters of a bias-free SwiGLU FFN",
        N_gelu: "parameters of a bias-free GELU FFN of hidden width $4d$",
        r"\Phi": "the standard normal distribution function",
        r"\varphi": "the standard normal density",
    },
    sources=(
        "Hendrycks and Gimpel, Gaussian Error Linear Units (GELUs), arXiv:1606.08415 (2016),"
        " section 2: GELU, its tanh and sigmoid approximations, SiLU.",
        "Ramachandran, Zoph and Le, Searching for Activation Functions, arXiv:1710.05941"
        " (2017): Swish.",
        "Dauphin, Fan, Auli and Grangier, Language Modeling with Gated Convolutional Networks,"
        " arXiv:1612.08083 (2016), section 3: GLU.",
        "Shazeer, GLU Variants Improve Transformer, arXiv:2002.05202 (2020), section 2:"
        " FFN_SwiGLU and d_ff = 8d/3 at equal parameters.",
        "Touvron et al., LLaMA, arXiv:2302.13971 (2023), section 2: SwiGLU with 2/3 4d.",
    ),
    examples=(example_llama_width,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
