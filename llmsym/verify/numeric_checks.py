"""Running a derivation's numeric checks, seeded, and recording what they measured.

A check tied to a claim receives that claim's formula (:class:`Formula`) and
compares it with an independent route; an experiment receives only the random
generator. The harness seeds each check, times it, and turns an exception, a
NaN or an error above tolerance into a failed check with a message; it never
reports success for a check that did not run.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np

from ..check.chain import seed_for
from ..derivation import Derivation, Measurement, NumericCheck
from .formula import Formula
from .report import NumericReport


def formula_for(derivation: Derivation, check: NumericCheck) -> Formula | None:
    """The formula a tied check tests: its claim's right side (or left, ``side="start"``)."""
    if check.claim is None:
        return None
    claim = derivation.claim(check.claim)
    expr = claim.end if check.side == "end" else claim.start
    return Formula(expr, f"{derivation.id}:{claim.name}")


def measure(check: NumericCheck, seed: int, formula: Any = None) -> Measurement:
    """Run a check once (RuntimeWarnings silenced: overflow is what some checks show)."""
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return check.run(rng) if check.claim is None else check.run(rng, formula)


def run_check(check: NumericCheck, *, derivation: Derivation, seed: int = 0,
              formula: Any = None) -> NumericReport:
    """Run one check, seeded from its name; a failed report for anything but a clean pass."""
    started = time.perf_counter()
    try:
        formula = formula if formula is not None else formula_for(derivation, check)
        measured = measure(check, seed_for(seed, derivation.id, check.name), formula)
    except Exception as exc:  # a broken check is a failed check, reported by name
        return NumericReport.failed(check.name, check.description, check.claim,
                                    time.perf_counter() - started,
                                    f"raised {type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - started
    if not isinstance(measured, Measurement):
        return NumericReport.failed(check.name, check.description, check.claim, seconds,
                                    f"returned {type(measured).__name__}, not a Measurement")
    error = float(measured.max_error)
    if math.isnan(error) or math.isinf(error):
        return NumericReport(check.name, check.description, False, None, measured.samples,
                             measured.tolerance, seconds, f"max error is {error}: "
                             f"{measured.detail}", check.claim)
    passed = error <= measured.tolerance and measured.samples > 0
    detail = (measured.detail if passed else
              f"error {error:.3g} above tolerance {measured.tolerance:.3g}; {measured.detail}")
    return NumericReport(check.name, check.description, passed, error, measured.samples,
                         measured.tolerance, seconds, detail, check.claim)


def run_checks(derivation: Derivation, seed: int = 0) -> list[NumericReport]:
    """Every numeric check of a derivation, in order."""
    return [run_check(c, derivation=derivation, seed=seed) for c in derivation.checks]


def caught(check: NumericCheck, derivation: Derivation, formula: Formula, seed: int = 0) -> bool:
    """Whether a check fails when handed ``formula`` (a mutant): what ``llmsym mutate`` needs."""
    return not run_check(check, derivation=derivation, seed=seed, formula=formula).passed
