"""Calibration measures in NumPy: expected calibration error, Brier score and its decomposition.

**Bins.** ``n_bins = M`` equal-width bins; bin m (m = 1..M) is the interval
``((m - 1)/M, m/M]``, open on the left and closed on the right, with the edges
the float64 numbers ``m/M``. A value exactly on an edge ``m/M`` therefore
belongs to bin m, the bin *below* the edge: 0.5 with M = 2 is in the first bin,
1.0 in the last. For the Brier decomposition, whose forecasts may be 0, the
first bin is closed on the left, ``[0, 1/M]``.

Sources: ECE, Naeini, Cooper, Hauskrecht 2015 (AAAI) and Guo et al. 2017
(arXiv:1706.04599, §2, eq. 3); Brier score, Brier 1950 (Monthly Weather Review
78:1); its reliability–resolution–uncertainty partition, Murphy 1973 (J. Appl.
Meteor. 12:595); the two within-bin terms that make the partition exact when a
bin holds different forecasts, Stephenson, Coelho, Jolliffe 2008 (Weather and
Forecasting 23:752).

>>> import numpy as np
>>> conf = np.array([0.9, 0.9, 0.6, 0.6])
>>> correct = np.array([1, 0, 1, 1])
>>> round(expected_calibration_error(conf, correct, n_bins=10), 12)  # (2·0.4 + 2·0.4)/4
0.4
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BrierDecomposition",
    "equal_width_bin",
    "brier_decomposition",
    "brier_score",
    "expected_calibration_error",
]


def _check_n_bins(n_bins: int) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")


def equal_width_bin(values: ArrayLike, n_bins: int) -> np.ndarray:
    """The 0-based bin of each value in [0, 1]: bin i is ``(i/M, (i + 1)/M]`` (bin 0 holds 0).

    >>> equal_width_bin([0.0, 0.1, 0.5, 0.50001, 1.0], 2).tolist()
    [0, 0, 0, 1, 1]
    """
    _check_n_bins(n_bins)
    values = np.asarray(values, dtype=np.float64)
    if np.any(np.isnan(values)) or np.any(values < 0) or np.any(values > 1):
        raise ValueError("equal_width_bin: values must lie in [0, 1]")
    upper_edges = np.arange(1, n_bins + 1, dtype=np.float64) / n_bins
    upper_edges[-1] = 1.0  # M/M is exactly 1 in float64 anyway; stated for the reader
    # side="left": the first upper edge >= value, so an edge value stays in the bin below it.
    return np.searchsorted(upper_edges, values, side="left")


def _outcomes(correct: ArrayLike, n: int, name: str) -> np.ndarray:
    correct = np.asarray(correct)
    if correct.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) like the forecasts, got {correct.shape}")
    if correct.dtype == bool:
        return correct.astype(np.float64)
    values = correct.astype(np.float64)
    if not np.all((values == 0) | (values == 1)):
        raise ValueError(f"{name} must hold 0/1 or booleans")
    return values


def _forecasts(values: ArrayLike, name: str, allow_zero: bool) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {values.shape}")
    low_ok = values >= 0 if allow_zero else values > 0
    if np.any(np.isnan(values)) or not np.all(low_ok & (values <= 1)):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must lie in {interval}")
    return values


def expected_calibration_error(confidence: ArrayLike, correct: ArrayLike, n_bins: int) -> float:
    """ECE = Σ_m (|B_m|/n) |acc(B_m) - conf(B_m)| over M equal-width bins of (0, 1].

    ``confidence`` is the probability the model gave its own prediction (in
    (0, 1]; a confidence of 0 is rejected, it has no bin), ``correct`` whether
    the prediction was right (0/1 or bool). Empty bins contribute nothing.
    An exact edge m/M belongs to the bin below it (see the module docstring).

    >>> expected_calibration_error([1.0, 1.0], [True, False], n_bins=5)
    0.5
    """
    _check_n_bins(n_bins)
    confidence = _forecasts(confidence, "confidence", allow_zero=False)
    correct = _outcomes(correct, confidence.size, "correct")
    bins = equal_width_bin(confidence, n_bins)
    conf_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(bins, weights=correct, minlength=n_bins)
    # |acc - conf| weighted by |B_m|/n is |Σ correct - Σ confidence| / n: no division by |B_m|.
    return float(np.sum(np.abs(acc_sum - conf_sum)) / confidence.size)


def brier_score(forecast: ArrayLike, outcome: ArrayLike) -> float:
    """Mean squared error ``(1/n) Σ (f_i - o_i)²`` of probability forecasts of a binary event.

    For K classes, pass one-vs-rest columns flattened, or sum this over classes
    (Brier's original score sums over the K classes).

    >>> brier_score([0.75, 0.25], [1, 0])  # (0.25² + 0.25²)/2
    0.0625
    """
    forecast = _forecasts(forecast, "forecast", allow_zero=True)
    outcome = _outcomes(outcome, forecast.size, "outcome")
    return float(np.mean((forecast - outcome) ** 2))


class BrierDecomposition(NamedTuple):
    """The terms of ``brier = reliability - resolution + uncertainty + wbv - wbc``."""

    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    within_bin_variance: float
    within_bin_covariance: float


def brier_decomposition(
    forecast: ArrayLike, outcome: ArrayLike, n_bins: int | None = None
) -> BrierDecomposition:
    """Murphy's partition of the Brier score, computed bin by bin.

    With bins k of size n_k, mean forecast f̄_k and observed frequency ō_k,
    and ō the overall frequency:

    - reliability ``(1/n) Σ_k n_k (f̄_k - ō_k)²``,
    - resolution ``(1/n) Σ_k n_k (ō_k - ō)²``,
    - uncertainty ``ō (1 - ō)``,
    - within-bin variance ``(1/n) Σ_k Σ_{i∈k} (f_i - f̄_k)²``,
    - within-bin covariance ``(2/n) Σ_k Σ_{i∈k} (f_i - f̄_k)(o_i - ō_k)``.

    ``n_bins=None`` makes each distinct forecast value its own bin (Murphy's
    setting): the two within-bin terms are then 0 and the three-term identity
    is exact. With ``n_bins = M`` the bins are those of the module docstring.

    >>> d = brier_decomposition([0.2, 0.2, 0.7, 0.7], [0, 1, 1, 1])
    >>> [round(v, 6) for v in d[:4]]
    [0.215, 0.09, 0.0625, 0.1875]
    """
    forecast = _forecasts(forecast, "forecast", allow_zero=True)
    outcome = _outcomes(outcome, forecast.size, "outcome")
    if n_bins is None:
        _, bins = np.unique(forecast, return_inverse=True)
    else:
        bins = equal_width_bin(forecast, n_bins)
    n = forecast.size
    count = np.bincount(bins).astype(np.float64)
    used = count > 0
    mean_f = np.bincount(bins, weights=forecast)[used] / count[used]
    mean_o = np.bincount(bins, weights=outcome)[used] / count[used]
    base_rate = float(np.mean(outcome))
    dev_f = forecast - np.bincount(bins, weights=forecast)[bins] / count[bins]
    dev_o = outcome - np.bincount(bins, weights=outcome)[bins] / count[bins]
    return BrierDecomposition(
        brier=brier_score(forecast, outcome),
        reliability=float(np.sum(count[used] * (mean_f - mean_o) ** 2) / n),
        resolution=float(np.sum(count[used] * (mean_o - base_rate) ** 2) / n),
        uncertainty=base_rate * (1.0 - base_rate),
        within_bin_variance=float(np.sum(dev_f**2) / n),
        within_bin_covariance=float(2.0 * np.sum(dev_f * dev_o) / n),
    )
