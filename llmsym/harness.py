"""The numeric harness: runs a derivation's NumPy checks, seeded, and records what they measured.

Each :class:`~llmsym.model.NumericCheck` compares a claim with an independent
implementation or experiment and returns a :class:`~llmsym.model.Measurement`.
The harness seeds it, times it, and turns an exception, a NaN or an error
above tolerance into a failed check with a message; it never reports success
for a check that did not run.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .checker import seed_for
from .model import Derivation, Measurement, NumericCheck
from .report import NumericReport


def run_check(check: NumericCheck, *, derivation: str, seed: int = 0) -> NumericReport:
    """Run one check with ``numpy.random.default_rng`` seeded from its name."""
    rng = np.random.default_rng(seed_for(seed, derivation, check.name))
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow is what some checks show
            measured = check.run(rng)
    except Exception as exc:  # a broken check is a failed check, reported by name
        return NumericReport(
            check.name,
            check.description,
            False,
            None,
            0,
            None,
            time.perf_counter() - started,
            f"raised {type(exc).__name__}: {exc}",
        )
    seconds = time.perf_counter() - started
    if not isinstance(measured, Measurement):
        return NumericReport(
            check.name,
            check.description,
            False,
            None,
            0,
            None,
            seconds,
            f"returned {type(measured).__name__}, not a Measurement",
        )
    error = float(measured.max_error)
    if math.isnan(error) or math.isinf(error):
        return NumericReport(
            check.name,
            check.description,
            False,
            None,
            measured.samples,
            measured.tolerance,
            seconds,
            f"max error is {error}: {measured.detail}",
        )
    passed = error <= measured.tolerance and measured.samples > 0
    detail = (
        measured.detail
        if passed
        else f"error {error:.3g} above tolerance {measured.tolerance:.3g}; {measured.detail}"
    )
    return NumericReport(
        check.name,
        check.description,
        passed,
        error,
        measured.samples,
        measured.tolerance,
        seconds,
        detail,
    )


def run_checks(derivation: Derivation, seed: int = 0) -> list[NumericReport]:
    """Every numeric check of a derivation, in order."""
    return [run_check(c, derivation=derivation.id, seed=seed) for c in derivation.checks]
