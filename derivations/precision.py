"""Numerical precision: IEEE format constants from the bit layout, overflow, loss scaling, sums.

Main results
    A binary format with n_e exponent bits and n_m stored mantissa bits has bias
    2^{n_e-1} - 1, and a normal pattern (exponent field E_f, fraction field F_f) is worth
    v(E_f, F_f) = (1 + F_f 2^{-n_m}) 2^{E_f - (2^{n_e-1} - 1)}.
    max_finite        v(2^{n_e} - 2, 2^{n_m} - 1) = (2 - 2^{-n_m}) 2^{2^{n_e-1} - 1}
                      (IEEE: the all-ones exponent holds only inf and NaN)
    e4m3_max          v(2^{n_e} - 1, 2^{n_m} - 2) = (2 - 2^{1-n_m}) 2^{2^{n_e-1}}
                      (FP8 E4M3 has no infinities: 448)
    epsilon           v(b, 1) - v(b, 0) = 2^{-n_m}: the gap from 1 to the next number
    smallest_normal   v(1, 0) = 2^{2 - 2^{n_e-1}}
    spacing           v(E_f, F_f + 1) - v(E_f, F_f) = 2^{-n_m} 2^{E_f - bias}
    rounding          x >= 2^{E_f - bias}  ⊢  half the spacing <= 2^{-n_m-1} x: rounding to
                      nearest errs by at most the unit roundoff u = 2^{-n_m-1}, relatively
    overflow          log v(2^{n_e} - 2, 2^{n_m} - 1) = (2^{n_e-1} - 1) log 2 + log(2 - 2^{-n_m}):
                      e^z overflows fp16 beyond z = 11.09, float32 and bf16 beyond 88.72
    loss_scale        fl(S g) = S g (1 + δ)  ⊢  the unscaled gradient has relative error δ:
                      the scale moves g into range and costs no accuracy
    naive_error       the naive sum's error is the sum of its additions' rounding errors
    naive_bound       |err_k| <= u A (first order)  ⊢  |ŝ_n - Σ a| <= (n - 1) u A

Kahan's compensated sum, whose error bound 2u A + O(n u²) A (Higham 1993) does not grow
with n, is compared with the naive sum by experiment (float16 and float32 against exact
rational sums); its bound is cited, not proved here.

Run on its own: ``python derivations/precision.py``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from sympy import Abs, Eq, Ge, IndexedBase, Sum, Symbol, log

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Result,
    Step,
)
from llmsym.notation import Named, Notation, factors, minus, terms

# --- Symbols -------------------------------------------------------------------------------
n_e = Named("exponent_bits", r"n_{e}", integer=True, positive=True)
n_m = Named("mantissa_bits", r"n_{m}", integer=True, positive=True)
E_f = Named("exponent_field", r"E_{\mathrm{f}}", integer=True, nonnegative=True)
F_f = Named("fraction_field", r"F_{\mathrm{f}}", integer=True, nonnegative=True)
x = Symbol("x", positive=True)  # a positive real number to be rounded
n = Symbol("n", integer=True, positive=True)  # number of summands
k = Symbol("k", integer=True, positive=True)  # the k-th addition
a = IndexedBase("a", real=True)  # the summands a_1..a_n
s_hat = IndexedBase(Named("s_hat", r"\hat{s}"), real=True)  # computed partial sums
err = IndexedBase(Named("err", r"\mathrm{err}"), real=True)  # rounding error of addition k
u = Named("u_round", r"u_{\mathrm{r}}", positive=True)  # unit roundoff 2^{-n_m-1}
# the l1 norm, not A (Chinchilla's fitted constant on the same face)
A = Named("abs_sum", r"\|a\|_{1}", positive=True)  # sum of |a_i|
grad = Named("grad", r"\nabla_{w}", positive=True)  # one gradient entry (magnitude)
S = Named("loss_scale", r"S_{\mathrm{loss}}", positive=True)  # the loss scale
y_st = Named("stored", r"\hat{y}", positive=True)  # the fp16 number stored for S * grad
delta = Named("delta_r", r"\delta_{\mathrm{r}}", real=True)  # relative rounding error
omega = IndexedBase(Named("omega", r"\omega"), nonnegative=True)  # slack of a bound

BIAS = 2 ** (n_e - 1) - 1


class fp_value(Notation):  # noqa: N801
    """``fp_value(E, F)``: the value of a normal bit pattern with exponent field E and fraction
    field F, (1 + F 2^{-n_m}) 2^{E - bias}, printed v(E, F)."""

    nargs = 2

    @classmethod
    def definition(cls, exponent, fraction):
        return (1 + fraction / 2**n_m) * 2 ** (exponent - BIAS)

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return r"v\left(%s, %s\right)" % tuple(printer._print(x) for x in self.args)


class group(Notation):  # noqa: N801
    """An expression printed as written, in parentheses (SymPy would reorder 2 - 2^{-n_m})."""

    nargs = 1

    @classmethod
    def definition(cls, body):
        return body

    def _latex(self, printer):
        return r"\left(%s\right)" % printer._print(self.args[0])


TOP_E = 2**n_e - 2  # the largest exponent field below the reserved all-ones one
TOP_F = 2**n_m - 1  # all fraction bits set

# --- Premises ----------------------------------------------------------------------------------
ieee_reserved = Hypothesis(
    r"E_{\mathrm{f}} \le 2^{n_{e}} - 2 \text{ for finite numbers}",
    "IEEE 754: the all-ones exponent field holds only $\\pm\\infty$ and NaN")
e4m3_layout = Hypothesis(
    r"E_{\mathrm{f}} = 2^{n_{e}} - 1,\ F_{\mathrm{f}} = 2^{n_{m}} - 1 \text{ is NaN}",
    "FP8 E4M3: no infinities; the all-ones exponent holds numbers, only its all-ones"
    " fraction is NaN")
in_binade = Hypothesis(Ge(x, 2 ** (E_f - BIAS)),
                       "$x$ lies in the binade of $v(E_{\\mathrm{f}}, \\cdot)$, at or above"
                       " $2^{E_{\\mathrm{f}} - (2^{n_e - 1} - 1)}$")
rounding_model = Hypothesis(Eq(y_st, factors(S, grad, 1 + delta)),
                            "storing $S_{\\mathrm{loss}}\\nabla_{w}$ in half precision rounds it"
                            " with relative error $\\delta_{\\mathrm{r}}$ ($|\\delta_{\\mathrm{r}}|"
                            " \\le u_{\\mathrm{r}}$ in the normal range)")
first_partial = Hypothesis(Eq(s_hat[1], a[1]), "the naive sum starts from $\\hat s_1 = a_1$")

# --- Definitions --------------------------------------------------------------------------------
D_VALUE = Definition(
    "value of a normal pattern", fp_value(E_f, F_f),
    factors(group(terms(1, factors(F_f, 2**-n_m))), 2 ** minus(E_f, BIAS)),
    on_sheet=False, title="Binary floating point: the value of a normal bit pattern",
    note="$n_e$ exponent bits, $n_m$ stored mantissa bits, bias $2^{n_e - 1} - 1$; the sign"
         " bit multiplies by $\\pm 1$. Exponent field $E_{\\mathrm{f}} = 0$ holds zero and the"
         " subnormals $F_{\\mathrm{f}} 2^{-n_m} 2^{2 - 2^{n_e - 1}}$.")
D_ERR = Definition("rounding error of an addition", err[k],
                   minus(minus(s_hat[k], s_hat[k - 1]), a[k]),
                   note="$\\hat s_k = \\mathrm{fl}(\\hat s_{k-1} + a_k)$: what the $k$-th"
                        " addition lost or gained by rounding.")
D_A = Definition("sum of magnitudes", A, Sum(Abs(a[k]), (k, 1, n)))
D_U = Definition("unit roundoff", u, 2 ** (-n_m - 1))
DEFINITIONS = (D_VALUE, D_ERR, D_A, D_U)

# --- Claims: the constants of a format -----------------------------------------------------------
max_finite = Claim(
    "max_finite",
    "Largest finite number (IEEE: the all-ones exponent is reserved)",
    given=(ieee_reserved,),
    start=fp_value(TOP_E, TOP_F),
    steps=(
        Step(factors(1 + (2**n_m - 1) / 2**n_m, 2 ** (TOP_E - BIAS)),
             "value of the pattern", "unfold"),
        Step(factors(group(2 - 2**-n_m), 2 ** (2 ** (n_e - 1) - 1)),
             "$1 + (2^{n_m} - 1)2^{-n_m} = 2 - 2^{-n_m}$;"
             " $2^{n_e} - 2 - (2^{n_e - 1} - 1) = 2^{n_e - 1} - 1$", "unfold+expand+powsimp"),
    ),
    where=(D_VALUE,),
    note="fp32 ($n_e = 8$, $n_m = 23$): $3.40 \\times 10^{38}$; fp16 (5, 10): 65504;"
         " bf16 (8, 7): $3.39 \\times 10^{38}$; FP8 E5M2 (5, 2): 57344.",
)

e4m3_max = Claim(
    "e4m3_max",
    "Largest FP8 E4M3 number: no infinities",
    given=(e4m3_layout,),
    start=fp_value(2**n_e - 1, 2**n_m - 2),
    steps=(
        Step(factors(1 + (2**n_m - 2) / 2**n_m, 2 ** (2**n_e - 1 - BIAS)),
             "value of the pattern", "unfold"),
        Step(factors(group(2 - 2 ** (1 - n_m)), 2 ** (2 ** (n_e - 1))),
             "$1 + (2^{n_m} - 2)2^{-n_m} = 2 - 2^{1 - n_m}$;"
             " $2^{n_e} - 1 - (2^{n_e - 1} - 1) = 2^{n_e - 1}$", "unfold+expand+powsimp"),
    ),
    where=(D_VALUE,),
    note="E4M3 ($n_e = 4$, $n_m = 3$): $1.75 \\cdot 2^8 = 448$, against 240 had it kept"
         " IEEE's reserved exponent. E5M2 keeps the IEEE rule (57344, with infinities).",
    on_sheet=False,
)

epsilon = Claim(
    "epsilon",
    "Machine epsilon: the gap from 1 to the next number",
    start=minus(fp_value(BIAS, 1), fp_value(BIAS, 0)),
    steps=(
        Step(minus(1 + 2**-n_m, 1), "$v(2^{n_e - 1} - 1, F_{\\mathrm{f}}) = 1 + F_{\\mathrm{f}}"
             " 2^{-n_m}$: the exponent cancels the bias", "unfold+expand"),
        Step(2**-n_m, "subtract", "unfold+expand"),
    ),
    where=(D_VALUE,),
    note="fp32 $2^{-23} \\approx 1.19 \\times 10^{-7}$, fp16 $2^{-10} \\approx 9.8 \\times"
         " 10^{-4}$, bf16 $2^{-7} \\approx 7.8 \\times 10^{-3}$: bf16 trades precision for"
         " fp32's range.",
)

smallest_normal = Claim(
    "smallest_normal",
    "Smallest normal number",
    start=fp_value(1, 0),
    steps=(Step(2 ** (2 - 2 ** (n_e - 1)), "exponent field 1, fraction 0", "unfold+expand"),),
    where=(D_VALUE,),
    note="fp32 and bf16 $2^{-126}$, fp16 $2^{-14} \\approx 6.1 \\times 10^{-5}$; below it the"
         " subnormals reach down to $2^{2 - 2^{n_e - 1} - n_m}$ (fp16: $2^{-24}$).", on_sheet=False,
)

spacing = Claim(
    "spacing",
    "Neighbours in one binade are $2^{-n_m}$ apart, relative to its start",
    start=minus(fp_value(E_f, F_f + 1), fp_value(E_f, F_f)),
    steps=(Step(factors(2**-n_m, 2 ** (E_f - BIAS)), "the fraction rises by one unit",
                "unfold+expand+powsimp"),),
    where=(D_VALUE,),
    on_sheet=False,
)

rounding = Claim(
    "rounding",
    "Rounding to nearest errs by at most $u_{\\mathrm{r}} = 2^{-n_m - 1}$, relatively",
    given=(in_binade,),
    start=spacing.start / 2,
    steps=(
        Step(factors(2 ** (-n_m - 1), 2 ** (E_f - BIAS)), "half the spacing", "expand+powsimp",
             using=(spacing,)),
        Step(factors(2 ** (-n_m - 1), x), "$x \\ge 2^{E_{\\mathrm{f}} - (2^{n_e - 1} - 1)}$",
             "nonneg", rel="<="),
    ),
    note="A real $x$ in a binade lies between two neighbours $2^{-n_m} 2^{E_{\\mathrm{f}} -"
         " \\mathrm{bias}}$ apart (spacing), so the nearest is at most half that away; relative"
         " to $x$ this is at most $u_{\\mathrm{r}}$ (half of machine epsilon).", on_sheet=False,
)

overflow = Claim(
    "overflow",
    "$e^{z}$ overflows beyond $\\log x_{\\max}$: fp16 at $z \\approx 11.09$",
    given=(ieee_reserved,),
    start=log(fp_value(TOP_E, TOP_F)),
    steps=(
        Step(log(factors(group(2 - 2**-n_m), 2 ** (2 ** (n_e - 1) - 1))),
             "the largest finite number", "unfold+expand+powsimp", using=(max_finite,)),
        Step(terms(factors(2 ** (n_e - 1) - 1, log(2)), log(group(2 - 2**-n_m))),
             "$\\log(ab) = \\log a + \\log b$", "unfold+expand_log"),
    ),
    where=(D_VALUE,),
    note="fp16: $15 \\log 2 + \\log(2 - 2^{-10}) = 11.09$; fp32 and bf16: 88.72. Naive"
         " softmax overflows fp16 once a logit exceeds 11.09; after subtracting the largest"
         " logit every exponent is $\\le 0$ (softmax-shift), so $e^{z_j - m} \\le 1$.",
    on_sheet=False,
)

loss_scale = Claim(
    "loss_scale",
    "Loss scaling moves a gradient into range and costs no accuracy",
    start=minus(y_st / S, grad) / grad,
    steps=(
        Step(minus(factors(S, grad, 1 + delta) / S, grad) / grad,
             "the stored value", "expand", using=(rounding_model,)),
        Step(delta, "$S_{\\mathrm{loss}}$ cancels", "unfold+expand"),
    ),
    note="The unscaled gradient $\\hat y/S_{\\mathrm{loss}}$ (computed in fp32, exactly for a"
         " power-of-two scale) has the relative error of one rounding. Without the scale, an"
         " fp16 gradient below $2^{-25}$ is stored as 0 (relative error 1); with"
         " $S_{\\mathrm{loss}}$ lifting it into the normal range, at most"
         " $u_{\\mathrm{r}} = 2^{-11}$. Too large a scale overflows to $\\infty$ instead.",
    on_sheet=False,
)

# --- Claims: naive summation -------------------------------------------------------------------
naive_error = Claim(
    "naive_error",
    "The naive sum's error is the sum of its rounding errors",
    given=(first_partial,),
    start=minus(s_hat[n], Sum(a[k], (k, 1, n))),
    steps=(
        Step(minus(minus(s_hat[n], s_hat[1]), Sum(a[k], (k, 2, n))),
             "split off $a_1 = \\hat s_1$", "unfold+align_sums", using=(first_partial,)),
        Step(minus(Sum(minus(s_hat[k], s_hat[k - 1]), (k, 2, n)), Sum(a[k], (k, 2, n))),
             "telescope: $\\hat s_n - \\hat s_1 = \\sum_{k=2}^{n}(\\hat s_k - \\hat s_{k-1})$",
             "unfold+sum+shift_index+align_sums"),
        Step(Sum(err[k], (k, 2, n)), "definition of $\\mathrm{err}_k$", "definition+sum"),
    ),
    where=(D_ERR,), on_sheet=False,
)

per_step = Hypothesis(
    Eq(Abs(err[k]), u * A - omega[k]),
    "to first order in $u_{\\mathrm{r}}$, each addition errs by at most"
    " $u_{\\mathrm{r}} \\|a\\|_1$:"
    " $|\\mathrm{err}_k| \\le u_{\\mathrm{r}} |\\hat s_{k-1} + a_k|$ and every partial sum is"
    " at most $\\|a\\|_1$ up to a factor $1 + O(u_{\\mathrm{r}})$")

naive_bound = Claim(
    "naive_bound",
    "The naive sum errs by at most $(n - 1) u_{\\mathrm{r}} \\sum_i |a_i|$, to first order",
    given=(first_partial, per_step),
    start=Abs(minus(s_hat[n], Sum(a[k], (k, 1, n)))),
    steps=(
        Step(Abs(Sum(err[k], (k, 2, n))), "the error is the sum of the rounding errors",
             "expand", using=(naive_error,)),
        Step(Sum(Abs(err[k]), (k, 2, n)), "triangle inequality", "assumption", rel="<="),
        Step(Sum(u * A - omega[k], (k, 2, n)), "each addition errs by at most"
             " $u_{\\mathrm{r}} \\|a\\|_1$", "sum", using=(per_step,)),
        Step(factors(n - 1, u, A), "$n - 1$ additions; drop the slack $\\omega_k \\ge 0$",
             rel="<=", certificate=Sum(omega[k], (k, 2, n))),
    ),
    where=(D_A, D_U),
    note="Higham (1993): $|\\hat s_n - \\sum_i a_i| \\le (n - 1)u_{\\mathrm{r}} \\sum_i |a_i|"
         " + O(u_{\\mathrm{r}}^2)$; the bound is attained (numeric check). Kahan's compensated"
         " sum errs by at most $(2u_{\\mathrm{r}} + O(n u_{\\mathrm{r}}^2)) \\sum_i |a_i|$,"
         " independent of $n$ to first order (cited; compared by experiment).",
)

CLAIMS = (max_finite, e4m3_max, epsilon, smallest_normal, spacing, rounding, overflow,
          loss_scale, naive_error, naive_bound)

# --- Numeric checks ------------------------------------------------------------------------
SMALL_FORMATS = [(e_bits, m_bits) for e_bits in range(2, 6) for m_bits in range(1, 5)]


def _decoded(e_bits: int, m_bits: int, infinities: bool = True) -> np.ndarray:
    """Every value of a small format, decoded from all of its bit patterns."""
    from llmsym.numeric import FloatFormat, decode_bits

    fmt = FloatFormat(f"e{e_bits}m{m_bits}", e_bits, m_bits, infinities)
    return decode_bits(np.arange(2 ** fmt.total_bits, dtype=np.uint64), fmt)


def _all_half() -> np.ndarray:
    return np.arange(2**16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(float)


def _rel(got, ref) -> float:
    return abs(float(got) - float(ref)) / abs(float(ref))


def check_max_finite(rng: np.random.Generator, formula) -> Measurement:
    """The closed form against the largest finite value among all decoded patterns (small
    formats, and every float16 pattern as NumPy reads it), and against np.finfo."""
    worst, cases = 0.0, 0
    for e_bits, m_bits in SMALL_FORMATS:
        values = _decoded(e_bits, m_bits)
        largest = np.max(values[np.isfinite(values)])
        worst = max(worst, _rel(formula(exponent_bits=e_bits, mantissa_bits=m_bits), largest))
        cases += 1
    half = _all_half()
    worst = max(worst, _rel(formula(exponent_bits=5, mantissa_bits=10),
                            np.max(half[np.isfinite(half)])))
    for dtype, e_bits, m_bits in ((np.float32, 8, 23), (np.float64, 11, 52)):
        worst = max(worst, _rel(formula(exponent_bits=e_bits, mantissa_bits=m_bits),
                                np.finfo(dtype).max))
    return Measurement(worst, cases + 3, 1e-15, "closed form vs the largest finite value of"
                       " every bit pattern (16 small formats, all float16 patterns) and"
                       " np.finfo(float32/float64).max")


def check_e4m3(rng: np.random.Generator, formula) -> Measurement:
    """The closed form against the largest decoded value of small formats without infinities,
    and against E4M3's published maximum 448."""
    worst, cases = _rel(formula(exponent_bits=4, mantissa_bits=3), 448.0), 1
    for e_bits, m_bits in SMALL_FORMATS:
        if m_bits < 2:
            continue  # one fraction bit: the only all-ones-exponent number would be NaN's twin
        values = _decoded(e_bits, m_bits, infinities=False)
        largest = np.max(values[np.isfinite(values)])
        worst = max(worst, _rel(formula(exponent_bits=e_bits, mantissa_bits=m_bits), largest))
        cases += 1
    return Measurement(worst, cases, 1e-15, "closed form vs the largest value of every pattern"
                       " (no infinities), and vs 448 (Micikevicius et al. 2022)")


def check_epsilon(rng: np.random.Generator, formula) -> Measurement:
    """2^{-n_m} against np.nextafter(1, 2) - 1 in float16/32/64 and the smallest decoded value
    above 1 in small formats."""
    worst, cases = 0.0, 0
    for dtype, m_bits in ((np.float16, 10), (np.float32, 23), (np.float64, 52)):
        one = dtype(1)
        gap = float(np.nextafter(one, dtype(2)) - one)
        worst = max(worst, _rel(formula(mantissa_bits=m_bits), gap))
        cases += 1
    for e_bits, m_bits in SMALL_FORMATS:
        values = _decoded(e_bits, m_bits)
        above = values[np.isfinite(values) & (values > 1)]
        if above.size:
            worst = max(worst, _rel(formula(mantissa_bits=m_bits), np.min(above) - 1))
            cases += 1
    return Measurement(worst, cases, 0.0, "2^-n_m vs nextafter(1) - 1 (float16/32/64) and the"
                       " next decoded value above 1 (small formats)")


def check_smallest_normal(rng: np.random.Generator, formula) -> Measurement:
    """2^{2 - 2^{n_e-1}} against np.finfo(...).smallest_normal."""
    worst = 0.0
    for dtype, e_bits in ((np.float16, 5), (np.float32, 8), (np.float64, 11)):
        worst = max(worst, _rel(formula(exponent_bits=e_bits), np.finfo(dtype).smallest_normal))
    return Measurement(worst, 3, 0.0, "closed form vs np.finfo(float16/32/64).smallest_normal")


def check_rounding(rng: np.random.Generator, formula) -> Measurement:
    """The bound 2^{-n_m-1} x against exact rounding errors of float16 and float32 (Fractions),
    at random x and just below the midpoints where the bound is nearly attained."""
    worst_ratio, cases = 0.0, 0
    for dtype, m_bits in ((np.float16, 10), (np.float32, 23)):
        for _ in range(60):
            binade = float(2.0 ** int(rng.integers(-10, 10)))
            if rng.random() < 0.5:  # just below a midpoint: the error is half a spacing
                steps = int(rng.integers(0, 4))
                xv = binade * (1 + (2 * steps + 1) * 2.0 ** (-m_bits - 1)) * (1 - 2.0**-45)
            else:
                xv = binade * float(rng.uniform(1, 2))
            error = abs(Fraction(float(dtype(xv))) - Fraction(xv))
            bound = Fraction(float(formula(mantissa_bits=m_bits, x=xv)))
            worst_ratio = max(worst_ratio, float(error / bound))
            cases += 1
    miss = max(0.0, worst_ratio - 1.0) + max(0.0, 0.99 - worst_ratio)
    return Measurement(miss, cases, 0.0, f"largest exact rounding error / bound ="
                       f" {worst_ratio:.5f} (float16, float32): never above 1, and attained"
                       " within 1 %")


def check_overflow(rng: np.random.Generator, formula) -> Measurement:
    """log x_max against the float16 and float32 values where NumPy's exp first overflows."""
    miss = 0.0
    half = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16)  # every finite z >= 0
    with np.errstate(over="ignore"):
        finite = np.isfinite(np.exp(half))
    below, above = float(half[finite].max()), float(half[~finite].min())
    threshold = float(formula(exponent_bits=5, mantissa_bits=10))
    miss = max(miss, below - threshold, threshold - above)
    z32 = np.float32(88.0) + np.arange(0, 2**17, dtype=np.float32) * np.float32(2**-17 * 1.5)
    with np.errstate(over="ignore"):
        finite32 = np.isfinite(np.exp(z32))
    threshold32 = float(formula(exponent_bits=8, mantissa_bits=23))
    miss = max(miss, float(z32[finite32].max()) - threshold32,
               threshold32 - float(z32[~finite32].min()))
    return Measurement(max(miss, 0.0), 2, 0.0, f"float16 exp is finite up to z = {below} and"
                       f" overflows from {above}; the formula gives {threshold:.5f} (float32:"
                       f" {threshold32:.5f})")


def check_naive_softmax(rng: np.random.Generator) -> Measurement:
    """Experiment: float16 softmax without the max shift is NaN once a logit passes 11.09; with
    the shift it matches float64."""
    from llmsym.numeric import softmax_in_dtype

    broken, worst, cases = 0, 0.0, 40
    for _ in range(cases):
        z = rng.normal(size=int(rng.integers(2, 20)))
        z += float(rng.uniform(11.2, 60)) - z.max()  # the largest logit above 11.2: e^z overflows
        with np.errstate(all="ignore"):
            naive = softmax_in_dtype(z, np.float16, subtract_max=False)
        broken += not np.all(np.isfinite(naive))
        shifted = softmax_in_dtype(z, np.float16).astype(float)
        exact = np.exp(z.astype(np.float16).astype(float) - z.astype(np.float16).max())
        worst = max(worst, float(np.max(np.abs(shifted - exact / exact.sum()))))
    ok = broken == cases and worst < 4e-3
    return Measurement(0.0 if ok else float("inf"), cases, 0.0, f"naive float16 softmax"
                       f" non-finite on {broken}/{cases} rows with logits above 11.2; shifted"
                       f" within {worst:.1e} of float64")


def check_loss_scale(rng: np.random.Generator, formula) -> Measurement:
    """The claimed relative error δ (exact, from the float16 value stored for S g) against the
    measured error of llmsym.numeric.loss_scale_round_trip, for gradients far below fp16's
    range and power-of-two scales."""
    from llmsym.numeric import loss_scale_round_trip

    worst, cases = 0.0, 0
    while cases < 60:
        g = float(rng.uniform(1, 2) * 2.0 ** int(rng.integers(-40, -20)))
        scale = 2.0 ** int(rng.integers(12, 30))
        scaled = Fraction(g) * Fraction(scale)
        if not 2.0**-14 <= float(scaled) <= 6e4:
            continue
        delta_r = (Fraction(float(np.float16(float(scaled)))) - scaled) / scaled
        if delta_r == 0:
            continue
        measured = (Fraction(float(loss_scale_round_trip([g], np.float16, scale)[0]))
                    - Fraction(g)) / Fraction(g)
        got = float(formula(delta_r=float(delta_r)))
        worst = max(worst, abs(got - float(measured)) / float(abs(measured)))
        cases += 1
    return Measurement(worst, cases, 1e-12, "relative error of the fp16 round trip of S g,"
                       " unscaled, vs the claimed δ (the rounding of S g alone)")


def check_underflow(rng: np.random.Generator) -> Measurement:
    """Experiment: gradients in [2^-40, 2^-26) vanish in float16 unscaled, and come back within
    u = 2^-11 when scaled by 2^30."""
    from llmsym.numeric import loss_scale_round_trip

    g = rng.uniform(1, 2, size=200) * 2.0 ** rng.integers(-40, -26, size=200)
    lost = loss_scale_round_trip(g, np.float16)
    kept = loss_scale_round_trip(g, np.float16, 2.0**30)
    worst = float(np.max(np.abs(kept - g) / g))
    ok = np.all(lost == 0) and worst <= 2.0**-11
    flushed = int(np.sum(lost == 0))
    return Measurement(0.0 if ok else float("inf"), g.size, 0.0, f"unscaled: {flushed}/{g.size}"
                       f" flushed to 0; scaled by 2^30: relative error at most {worst:.2e}"
                       " <= 2^-11")


def _adversarial(m_bits: int, count: int) -> np.ndarray:
    """1 followed by terms just under half a unit in the last place of 1: each addition rounds
    back to 1 and loses almost u."""
    return np.array([1.0] + [2.0 ** (-m_bits - 1) * (1 - 2.0**-8)] * (count - 1))


def check_naive_bound(rng: np.random.Generator, formula) -> Measurement:
    """(n - 1) u A against exact errors of left-to-right float16/float32 sums: never exceeded,
    and nearly attained by the adversarial input."""
    from llmsym.numeric import exact_sum, naive_sum

    top, attained = 0.0, 1.0
    for dtype, m_bits in ((np.float16, 10), (np.float32, 23)):
        unit = 2.0 ** (-m_bits - 1)
        for trial in range(16):
            count = int(rng.integers(2, 40))
            terms_ = (_adversarial(m_bits, count) if trial % 2 else
                      rng.normal(size=count) * 10.0 ** float(rng.uniform(-2, 2)))
            terms_ = terms_.astype(dtype)
            error = abs(Fraction(float(naive_sum(terms_, dtype))) - exact_sum(terms_))
            abs_total = float(exact_sum(np.abs(terms_)))
            bound = float(formula(n=count, u_round=unit, abs_sum=abs_total))
            ratio = float(error) / bound
            top = max(top, ratio)
            if trial % 2:
                attained = min(attained, ratio)
    miss = max(0.0, top - 1.0) + max(0.0, 0.95 - attained)
    return Measurement(miss, 64, 0.0, f"exact error / bound: at most {top:.4f} over random and"
                       f" adversarial sums, at least {attained:.4f} on the adversarial ones")


def check_kahan(rng: np.random.Generator) -> Measurement:
    """Experiment: Kahan's errors stay within (2u + 2 n u^2) A (Higham 1993) in float16 and
    float32, where the naive sum of the adversarial input errs by about (n - 1) u."""
    from llmsym.numeric import exact_sum, kahan_sum, naive_sum

    worst, naive_worse, cases = 0.0, 0, 0
    for dtype, m_bits in ((np.float16, 10), (np.float32, 23)):
        unit = 2.0 ** (-m_bits - 1)
        for trial in range(10):
            count = int(rng.integers(40, 160))
            terms_ = (_adversarial(m_bits, count) if trial % 2 else
                      rng.uniform(0, 1, size=count)).astype(dtype)
            exact = exact_sum(terms_)
            abs_total = float(exact_sum(np.abs(terms_)))
            bound = (2 * unit + 2 * count * unit**2) * abs_total
            kahan = abs(float(Fraction(float(kahan_sum(terms_, dtype))) - exact))
            naive = abs(float(Fraction(float(naive_sum(terms_, dtype))) - exact))
            worst = max(worst, kahan / bound)
            naive_worse += trial % 2 and naive > 10 * bound
            cases += 1
    ok = worst <= 1.0 and naive_worse == 10
    return Measurement(0.0 if ok else float("inf"), cases, 0.0, f"Kahan error / (2u + 2nu^2)A"
                       f" at most {worst:.3f}; the naive sum exceeds 10x that bound on"
                       f" {naive_worse}/10 adversarial inputs")


# --- Results and worked examples ---------------------------------------------------------------
RESULTS = (
    Result("ieee_max_finite", (2 - 2**-n_m) * 2 ** (2 ** (n_e - 1) - 1),
           params=(n_e, n_m), doc="largest finite number of an IEEE binary format with the given"
           " exponent and stored mantissa bits (all-ones exponent reserved for inf/NaN)",
           claim="max_finite"),
    Result("ieee_epsilon", 2**-n_m, params=(n_m,), doc="machine epsilon: the gap from 1 to the"
           " next representable number, 2^-mantissa_bits", claim="epsilon"),
)

FORMATS = (("fp32", 8, 23), ("fp16", 5, 10), ("bf16", 8, 7), ("FP8 E5M2", 5, 2))


def example_formats() -> tuple[str, str]:
    """The constants of the common formats, from the closed forms."""
    rows = []
    for name, e_bits, m_bits in FORMATS:
        top = float(RESULTS[0].expr.subs({n_e: e_bits, n_m: m_bits}))
        eps = float(RESULTS[1].expr.subs(n_m, m_bits))
        rows.append(rf"\text{{{name}}}: {top:.4g},\ 2^{{-{m_bits}}} = {eps:.3g}")
    return ("largest finite number and machine epsilon by format", r";\quad ".join(rows))


def example_sum() -> tuple[str, str]:
    """Summing 0.1 four thousand times in float16."""
    from llmsym.numeric import kahan_sum, naive_sum

    terms_ = np.full(4000, 0.1)
    exact = float(np.float16(0.1)) * 4000
    return ("adding $0.1$ four thousand times in float16 (exact: %.1f)" % exact,
            r"\text{naive} = %g,\quad \text{Kahan} = %g" % (
                float(naive_sum(terms_, np.float16)), float(kahan_sum(terms_, np.float16))))


# --- The derivation -------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="precision",
    title="Numerical precision: format constants, overflow, loss scaling, summation",
    topic="Numerical precision",
    order=80,
    gloss="A format's range and precision follow from its bit counts; half precision overflows"
          " $e^z$ at $z \\approx 11$, loses tiny gradients unless the loss is scaled, and a"
          " long naive sum loses $n u_{\\mathrm{r}}$ of accuracy.",
    assumptions=(
        "Binary floating point with round to nearest; $n_e \\ge 2$ exponent bits, $n_m \\ge 1$"
        " stored mantissa bits, bias $2^{n_e - 1} - 1$ (IEEE 754-2019, section 3.4).",
        "Rounding errors are stated for results in the normal range (no overflow or"
        " underflow).",
    ),
    definitions=DEFINITIONS,
    claims=CLAIMS,
    results=RESULTS,
    checks=(
        NumericCheck("max-finite", check_max_finite, "The largest finite value of every bit"
                     " pattern, and np.finfo.", claim="max_finite"),
        NumericCheck("e4m3-max", check_e4m3, "The largest value of every pattern without"
                     " infinities, and E4M3's 448.", claim="e4m3_max"),
        NumericCheck("epsilon", check_epsilon, "np.nextafter(1) - 1 and decoded patterns.",
                     claim="epsilon"),
        NumericCheck("smallest-normal", check_smallest_normal, "np.finfo smallest_normal.",
                     claim="smallest_normal"),
        NumericCheck("rounding", check_rounding, "Exact rounding errors of float16 and float32:"
                     " the bound holds and is attained.", claim="rounding"),
        NumericCheck("overflow", check_overflow, "Where NumPy's float16 and float32 exp first"
                     " overflow.", claim="overflow"),
        NumericCheck("naive-softmax", check_naive_softmax, "Experiment: float16 softmax without"
                     " the shift is NaN above 11.09."),
        NumericCheck("loss-scale", check_loss_scale, "The measured round-trip error of scaled"
                     " tiny gradients against the claimed $\\delta_{\\mathrm{r}}$.",
                     claim="loss_scale"),
        NumericCheck("underflow", check_underflow, "Experiment: tiny gradients vanish unscaled"
                     " and survive scaled."),
        NumericCheck("naive-bound", check_naive_bound, "Exact errors of float16/float32 naive"
                     " sums: the bound holds and is nearly attained.", claim="naive_bound"),
        NumericCheck("kahan", check_kahan, "Experiment: Kahan's sum within its cited bound where"
                     " the naive sum is far outside it."),
    ),
    notation={
        n_e: "exponent bits of a binary floating-point format",
        n_m: "stored mantissa (fraction) bits of a binary floating-point format",
        E_f: "the exponent field of a bit pattern, an integer in $0..2^{n_e} - 1$",
        F_f: "the fraction field of a bit pattern, an integer in $0..2^{n_m} - 1$",
        x: "a real number (the argument of a scalar function)",
        s_hat: "the partial sums of a naive floating-point sum, $\\hat s_k ="
               " \\mathrm{fl}(\\hat s_{k-1} + a_k)$",
        err: "the rounding error of the $k$-th addition of a naive sum",
        u: "unit roundoff $2^{-n_m - 1}$: the largest relative error of rounding to nearest",
        A: "the sum of the magnitudes of the summands, $\\sum_i |a_i|$",
        grad: "one entry of a gradient, too small for half precision",
        S: "the loss scale: the loss (so every gradient) is multiplied by it",
        y_st: "the half-precision number stored for $S_{\\mathrm{loss}}\\nabla_w$",
        delta: "the relative error of one rounding, $|\\delta_{\\mathrm{r}}| \\le"
               " u_{\\mathrm{r}}$ in the normal range",
        omega: "slack of a bound in a premise, $\\omega_k \\ge 0$",
        a: "a real vector $(a_1, \\dots, a_n)$",
    },
    sources=(
        "IEEE Standard for Floating-Point Arithmetic, IEEE 754-2019, sections 3.3-3.4 and"
        " table 3.5: binary formats, bias, reserved exponent.",
        "Kalamkar et al., A Study of BFLOAT16 for Deep Learning Training, arXiv:1905.12322"
        " (2019): the 1/8/7 layout.",
        "Micikevicius et al., FP8 Formats for Deep Learning, arXiv:2209.05433 (2022), section 3"
        " and table 1: E4M3 without infinities (max 448), E5M2 (max 57344).",
        "Micikevicius et al., Mixed Precision Training, arXiv:1710.03740 (2017), section 3.2:"
        " loss scaling.",
        "Higham, The accuracy of floating point summation, SIAM J. Sci. Comput. 14(4) (1993),"
        " and Accuracy and Stability of Numerical Algorithms, 2nd ed. (2002), sections 2.2 and"
        " 4.2-4.3: the rounding model, the naive and compensated summation bounds.",
        "Kahan, Further remarks on reducing truncation errors, CACM 8(1):40 (1965).",
    ),
    examples=(example_formats, example_sum),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
