"""Floating-point formats from their bit layout, bf16 rounding, and summation in low precision.

**Formats.** A binary format with e exponent bits and m stored mantissa bits
has bias ``2^(e-1) - 1``; a pattern (sign s, exponent field E, fraction F)
is ``(-1)^s (1 + F/2^m) 2^(E - bias)`` when E > 0 (normal) and
``(-1)^s (F/2^m) 2^(1 - bias)`` when E = 0 (subnormal). IEEE 754-2019 (§3.3–3.4,
Table 3.5) reserves E = all ones for infinities (F = 0) and NaNs; FP8 E4M3
(Micikevicius et al. 2022, arXiv:2209.05433, §3, Table 1) has no infinities
and only F = all ones as NaN there, which extends its range to 448, while
E5M2 follows the IEEE rules (max 57344). bfloat16 is the top half of a
float32 (1/8/7 bits; Kalamkar et al. 2019, arXiv:1905.12322).

:func:`decode_bits` implements those rules; :func:`format_constants` reads the
four constants off the bit patterns that define them, and
:func:`numpy_format_constants` reads them from ``np.finfo`` for comparison.

**Summation.** :func:`naive_sum` adds left to right, rounding every partial sum
to the chosen dtype (error at most about ``(n - 1) u Σ|x_i|``, u = 2^-(m+1));
:func:`kahan_sum` carries the rounding error of each addition in a
compensation term (Kahan 1965, CACM 8(1):40; bound ``(2u + O(n u²)) Σ|x_i|``,
Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., §4.3).
:func:`exact_sum` is the exact rational sum of the inputs.

>>> format_constants(FP16).max_finite, format_constants(FP8_E4M3).max_finite
(65504.0, 448.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BF16",
    "FP8_E4M3",
    "FP8_E5M2",
    "FP16",
    "FP32",
    "FP64",
    "FloatFormat",
    "FormatConstants",
    "decode_bits",
    "exact_sum",
    "format_constants",
    "kahan_sum",
    "loss_scale_round_trip",
    "naive_sum",
    "numpy_format_constants",
    "round_to_bfloat16",
    "softmax_in_dtype",
]


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point layout: 1 sign bit, ``exponent_bits``, ``mantissa_bits`` stored.

    ``infinities=False`` is the E4M3 convention: the all-ones exponent holds
    ordinary numbers, except that an all-ones fraction there is NaN.
    """

    name: str
    exponent_bits: int
    mantissa_bits: int
    infinities: bool = True

    def __post_init__(self) -> None:
        if not (2 <= self.exponent_bits <= 11 and 1 <= self.mantissa_bits <= 52):
            raise ValueError(
                f"{self.name}: need 2..11 exponent bits and 1..52 mantissa bits, "
                f"got {self.exponent_bits} and {self.mantissa_bits}"
            )

    @property
    def bias(self) -> int:
        return 2 ** (self.exponent_bits - 1) - 1

    @property
    def total_bits(self) -> int:
        return 1 + self.exponent_bits + self.mantissa_bits


FP64 = FloatFormat("fp64", 11, 52)
FP32 = FloatFormat("fp32", 8, 23)
FP16 = FloatFormat("fp16", 5, 10)
BF16 = FloatFormat("bf16", 8, 7)
FP8_E4M3 = FloatFormat("fp8_e4m3", 4, 3, infinities=False)
FP8_E5M2 = FloatFormat("fp8_e5m2", 5, 2)


class FormatConstants(NamedTuple):
    """The extremes of a format: largest finite, 2^-m, smallest normal, smallest subnormal."""

    max_finite: float
    epsilon: float
    smallest_normal: float
    smallest_subnormal: float


def _pattern(fmt: FloatFormat, exponent: int, fraction: int) -> int:
    return (exponent << fmt.mantissa_bits) | fraction


def decode_bits(bits: ArrayLike, fmt: FloatFormat) -> np.ndarray:
    """The float64 value of each bit pattern (unsigned integers below ``2^total_bits``).

    Every finite value of these formats is exactly a float64, so nothing is rounded.

    >>> decode_bits([0x3C00, 0x7BFF, 0x0001, 0x7C00], FP16).tolist()
    [1.0, 65504.0, 5.960464477539063e-08, inf]
    """
    bits = np.asarray(bits)
    if bits.dtype.kind not in "ui" or np.any(bits < 0) or np.any(bits >> fmt.total_bits):
        raise ValueError(f"bits must be integers in [0, 2^{fmt.total_bits}) for {fmt.name}")
    bits = bits.astype(np.uint64)
    m, all_ones = fmt.mantissa_bits, 2**fmt.exponent_bits - 1
    sign = np.where((bits >> np.uint64(fmt.exponent_bits + m)) & np.uint64(1), -1.0, 1.0)
    exponent = ((bits >> np.uint64(m)) & np.uint64(all_ones)).astype(np.int64)
    fraction = (bits & np.uint64(2**m - 1)).astype(np.int64)
    with np.errstate(over="ignore"):  # the reserved exponent of fp64 overflows; replaced below
        normal = np.ldexp((fraction + 2**m).astype(np.float64), exponent - fmt.bias - m)
    subnormal = np.ldexp(fraction.astype(np.float64), 1 - fmt.bias - m)
    value = np.where(exponent == 0, subnormal, normal)
    top = exponent == all_ones
    if fmt.infinities:
        value = np.where(top, np.where(fraction == 0, np.inf, np.nan), value)
    else:
        value = np.where(top & (fraction == 2**m - 1), np.nan, value)
    return sign * value


def format_constants(fmt: FloatFormat) -> FormatConstants:
    """The four constants of ``fmt``, decoded from the bit patterns that define them.

    >>> format_constants(BF16).epsilon, format_constants(FP8_E5M2).max_finite
    (0.0078125, 57344.0)
    """
    m, all_ones = fmt.mantissa_bits, 2**fmt.exponent_bits - 1
    if fmt.infinities:  # largest exponent below the reserved one, all fraction bits set
        largest = _pattern(fmt, all_ones - 1, 2**m - 1)
    else:  # the reserved exponent holds numbers; only its all-ones fraction is NaN
        largest = _pattern(fmt, all_ones, 2**m - 2)
    one, after_one = _pattern(fmt, fmt.bias, 0), _pattern(fmt, fmt.bias, 1)
    values = decode_bits(np.array([largest, one, after_one, _pattern(fmt, 1, 0),
                                   _pattern(fmt, 0, 1)], dtype=np.uint64), fmt)
    return FormatConstants(
        max_finite=float(values[0]),
        epsilon=float(values[2] - values[1]),
        smallest_normal=float(values[3]),
        smallest_subnormal=float(values[4]),
    )


def numpy_format_constants(dtype: type | np.dtype) -> FormatConstants:
    """The same four constants as NumPy reports them (``np.finfo``), as Python floats.

    >>> numpy_format_constants(np.float16).smallest_subnormal
    5.960464477539063e-08
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"numpy_format_constants needs a floating dtype, got {dtype}")
    info = np.finfo(dtype)
    return FormatConstants(float(info.max), float(info.eps), float(info.smallest_normal),
                           float(info.smallest_subnormal))


def round_to_bfloat16(x: ArrayLike) -> np.ndarray:
    """Round float32 values to bfloat16 (round to nearest, ties to even); float32 result.

    The low 16 bits of each float32 are dropped after adding ``0x7FFF`` plus
    the lowest kept bit: more than half an ulp rounds up, less rounds down, an
    exact half goes to the even neighbour. A carry may ripple into the exponent
    (up to infinity). NaN stays NaN. Inputs must be exactly float32 values: a
    float64 rounded to float32 first could be rounded twice.

    >>> round_to_bfloat16(np.float32([1 + 2**-8, 1 + 3 * 2**-8, 3.4e38])).tolist()
    [1.0, 1.015625, inf]
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"round_to_bfloat16 needs real numbers, got dtype {x.dtype}")
    x32 = x.astype(np.float32)
    with np.errstate(invalid="ignore"):
        exact = (x32.astype(x.dtype) == x) | np.isnan(x)
    if not np.all(exact):
        raise ValueError("round_to_bfloat16 needs values exactly representable in float32 "
                         "(pass a float32 array); rounding to float32 first could round twice")
    bits = x32.view(np.uint32).astype(np.uint64)
    lowest_kept = (bits >> np.uint64(16)) & np.uint64(1)
    rounded = ((bits + np.uint64(0x7FFF) + lowest_kept) >> np.uint64(16)) << np.uint64(16)
    out = (rounded & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x32), np.float32(np.nan), out)


def _in_dtype(values: ArrayLike, dtype: type | np.dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float16, float32 or float64, got {dtype}")
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"values must be a 1-D array, got shape {values.shape}")
    with np.errstate(over="ignore"):
        return values.astype(dtype)


def naive_sum(values: ArrayLike, dtype: type | np.dtype = np.float32) -> np.floating:
    """Left-to-right sum with every partial sum rounded to ``dtype`` (not NumPy's pairwise sum).

    Inputs are first rounded to ``dtype``; compare with :func:`exact_sum` of the
    rounded inputs to see the summation error alone. Overflow gives ±inf.

    >>> float(naive_sum([2048.0, 1.0, 1.0], np.float16))  # 2049 is not a float16
    2048.0
    """
    terms = _in_dtype(values, dtype)
    total = terms.dtype.type(0)
    with np.errstate(over="ignore", invalid="ignore"):
        for term in terms:
            total = total + term
    return total


def kahan_sum(values: ArrayLike, dtype: type | np.dtype = np.float32) -> np.floating:
    """Kahan's compensated sum, every operation rounded to ``dtype``.

    >>> float(kahan_sum([2048.0, 1.0, 1.0], np.float16))
    2050.0
    """
    terms = _in_dtype(values, dtype)
    total = compensation = terms.dtype.type(0)
    with np.errstate(over="ignore", invalid="ignore"):
        for term in terms:
            corrected = term - compensation
            new_total = total + corrected
            # (new_total - total) is what was really added; minus corrected leaves its error.
            compensation = (new_total - total) - corrected
            total = new_total
    return total


def exact_sum(values: ArrayLike) -> Fraction:
    """The exact sum of the given floating-point values, as a fraction.

    >>> exact_sum([0.1, 0.2]) == Fraction(0.1) + Fraction(0.2)
    True
    """
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype.kind not in "fiu":
        raise ValueError("exact_sum needs a 1-D array of real numbers")
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise ValueError("exact_sum needs finite values")
    return sum((Fraction(v.item()) for v in values), Fraction(0))


def softmax_in_dtype(
    logits: ArrayLike, dtype: type | np.dtype, subtract_max: bool = True
) -> np.ndarray:
    """Softmax of a vector with every operation in ``dtype``, with or without the max shift.

    Without the shift, ``exp(z)`` overflows float16 for z above about 11.09
    (ln 65504) and the result is NaN; with it, every exponent is <= 0.

    >>> softmax_in_dtype([12.0, 12.0], np.float16, subtract_max=False).tolist()
    [nan, nan]
    >>> softmax_in_dtype([12.0, 12.0], np.float16).tolist()
    [0.5, 0.5]
    """
    z = _in_dtype(logits, dtype)
    if z.size == 0:
        raise ValueError("softmax_in_dtype needs at least one logit")
    with np.errstate(over="ignore", invalid="ignore"):
        if subtract_max:
            z = z - np.max(z)
        e = np.exp(z)
        return e / naive_sum(e, z.dtype)


def loss_scale_round_trip(
    gradients: ArrayLike, dtype: type | np.dtype, scale: float = 1.0
) -> np.ndarray:
    """Gradients multiplied by ``scale``, stored in ``dtype``, then unscaled in float64.

    Values below the format's smallest subnormal flush to 0 unless the scale
    lifts them into range (Micikevicius et al. 2017, arXiv:1710.03740, §3.2);
    too large a scale overflows to inf.

    >>> tiny = [2.0**-30]  # below half the smallest float16 subnormal (2^-25)
    >>> loss_scale_round_trip(tiny, np.float16), loss_scale_round_trip(tiny, np.float16, 2.0**10)
    (array([0.]), array([9.31322575e-10]))
    """
    if not (isinstance(scale, (int, float)) and scale > 0 and np.isfinite(scale)):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    grads = np.asarray(gradients, dtype=np.float64)
    stored = _in_dtype(grads.ravel() * scale, dtype).reshape(grads.shape)
    return stored.astype(np.float64) / scale
