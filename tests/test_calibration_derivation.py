"""Calibration under the real checker: ECE from bin counts, temperature scaling keeps the order of
the probabilities (so the argmax and the accuracy), Murphy's decomposition of the Brier score.

Each claim is proved with the premises it is shown with (0/1 outcomes for the Brier score; a
lead Δ > 0 of one logit over another for the order); wrong steps are refused; the numeric checks
fail on wrong formulas; the decomposition holds exactly (rational arithmetic) on forecasts grouped
by value, and the ECE of llmsym.numeric agrees with a per-prediction loop.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.numeric import brier_decomposition, expected_calibration_error
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

ID = "calibration"
ZERO_ONE = r"{o}_{m,t}^{2} = {o}_{m,t}"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=(ID,), use_cache=False, build_dir=tmp_path_factory.mktemp("b")))


@pytest.fixture(scope="module")
def claims(report):
    return {c["name"]: c for c in report.claims_json(report.derivation(ID))}


@pytest.fixture(scope="module")
def mod():
    return derivation_module("calibration")


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"] if not p["ref"]]


def _refs(claim: dict) -> set[str]:
    return {p["ref"] for p in claim["premises"] if p["ref"]}


# --- The claims --------------------------------------------------------------------------------


def test_every_claim_is_proved_with_no_stated_step(report, claims):
    d = report.derivation(ID)
    assert d.ok
    assert set(claims) == {"ece_counts", "ratio", "order", "bin", "murphy"}
    for name, c in claims.items():
        assert c["status"]["kind"] == "proved", name
        assert not c["problems"], name
    assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]
    assert len(d.numeric) == 7 and all(n.passed for n in d.numeric), \
        [n.detail for n in d.numeric if not n.passed]
    assert sum(1 for n in d.numeric if not n.experiment) == 6


def test_order_rests_on_the_lead_of_one_logit(claims):
    c = claims["order"]
    assert c["statement"] == (
        r"\frac{\operatorname{softmax}\left(\frac{\mathbf{z}}{T}\right)_{i}}"
        r"{\operatorname{softmax}\left(\frac{\mathbf{z}}{T}\right)_{j}}"
        r" \ge 1 + \frac{\Delta_{ij}}{T}")
    assert _premises(c) == [r"{z}_{i} - {z}_{j} = \Delta_{ij}"]
    # e^x >= 1 + x through Gibbs' gap g(e^x) >= 0, proved elsewhere
    assert _refs(c) == {"calibration:ratio", "gibbs-inequality:gap_above_one",
                        "gibbs-inequality:gap_below_one"}
    ratio = claims["ratio"]
    assert ratio["statement"].endswith(r"= e^{\frac{{z}_{i} - {z}_{j}}{T}}")
    assert ratio["premises"] == []


def test_ece_claim_needs_no_premise(claims):
    c = claims["ece_counts"]
    assert c["premises"] == []
    assert c["statement"].startswith(r"\mathrm{ECE} = ")


def test_murphy_rests_on_zero_one_outcomes_through_the_bin_identity(claims):
    b = claims["bin"]
    assert _premises(b) == [ZERO_ONE]
    c = claims["murphy"]
    assert c["statement"] == r"\mathrm{BS} = \mathrm{REL} - \mathrm{RES} + \mathrm{UNC}"
    assert _premises(c) == [ZERO_ONE]  # inherited from the bin claim
    assert _refs(c) == {"calibration:bin"}
    where = [w["latex"] for w in c["where"]]
    assert len(where) == 5 and where[0].startswith(r"\mathrm{BS} := ")
    assert any(w.startswith(r"\mathrm{UNC} := ") for w in where)


def test_one_face_entry_and_the_face_rules_hold(report, claims):
    face = face_of(report, (ID,))
    assert [e["name"] for e in face] == ["order"]
    assert face_problems(face) == []
    assert [n for n, c in claims.items() if c["on_sheet"]] == ["order"]
    symbols = face[0]["symbols"]
    assert symbols[r"\Delta_{ij}"] and symbols["T"] == "softmax temperature"
    assert not any("predictions" in (m or "") for m in symbols.values())


# --- Wrong steps are refused ---------------------------------------------------------------------


def _refused(start, *steps, given=(), definitions=()) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps, given=given),
                           timeout=60, definitions=definitions)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_temperature_multiplying_is_refused(mod):
    wrong = Step(sp.exp((mod.z[mod.i] - mod.z[mod.j]) * mod.T), "T multiplies", "unfold+cancel")
    assert _refused(mod.P_I / mod.P_J, wrong)


def test_a_bound_above_the_ratio_is_refused(mod):
    wrong = Step(1 + 2 * mod.gap / mod.T, "too strong", rel=">=",
                 certificate=mod.gibbs_gap(sp.exp(mod.gap / mod.T)))
    assert _refused(sp.exp(mod.gap / mod.T), wrong)


def test_ece_without_the_bin_weights_is_refused(mod):
    m = mod.m
    wrong = Step(sp.Sum(sp.Abs(mod.acc(m) - mod.conf(m)), (m, 1, mod.M)) / mod.M,
                 "an unweighted mean over bins", "unfold+together+sum")
    assert _refused(mod.ece(), wrong)


def test_resolution_with_the_wrong_sign_is_refused(mod):
    defs = tuple((d.lhs, d.rhs) for d in mod.DEFINITIONS if isinstance(d.lhs, sp.Symbol))
    start = sp.Sum(mod.BIN_PARTS, (mod.m, 1, mod.M)) / mod.n_pred
    wrong = Step(mod.rel + mod.res + mod.unc, "resolution added", "definition+cancel")
    assert _refused(start, wrong, definitions=defs)


def test_the_bin_identity_needs_zero_one_outcomes(mod):
    # without o^2 = o the step that uses it is false at random real outcomes
    first = mod.bin_brier.steps[0]
    no_premise = Step(mod.bin_brier.steps[1].expr, "o^2 = o not assumed", "unfold+sum")
    assert _refused(mod.BIN, first, no_premise)
    assert not _refused(mod.BIN, *mod.bin_brier.steps, given=(mod.zero_one,))


# --- The numeric checks have teeth ---------------------------------------------------------------


def _check(mod, name: str):
    return next(c for c in mod.DERIVATION.checks if c.name == name)


def _fails(check, expr) -> bool:
    measured = check.run(np.random.default_rng(0), Formula(expr))
    return not measured.max_error <= measured.tolerance


def test_checks_pass_on_the_claims_and_fail_on_wrong_formulas(mod):
    m, t, M, size, o, p_hat = mod.m, mod.t, mod.M, mod.size, mod.o, mod.p_hat
    gap_sum = sp.Sum(o[m, t] - p_hat[m, t], (t, 1, size(m)))
    cross = (1 - 2 * mod.o_bar) * size(m) * (mod.freq(m) - mod.o_bar)
    cases = {
        "ece-definition": (mod.ece_counts.start, [
            sp.Sum(sp.Abs(mod.acc(m) - mod.conf(m)), (m, 1, M)) / M,          # unweighted
            sp.Sum(size(m) * (mod.acc(m) - mod.conf(m)) ** 2, (m, 1, M)) / mod.n_pred]),
        "ece-counts": (mod.ece_counts.end, [
            sp.Abs(sp.Sum(gap_sum, (m, 1, M))) / mod.n_pred,                  # signs cancel
            sp.Sum(sp.Abs(gap_sum) / size(m), (m, 1, M)) / M]),
        "ratio": (mod.ratio.end, [sp.exp(mod.z[mod.i] - mod.z[mod.j]),
                                  sp.exp((mod.z[mod.j] - mod.z[mod.i]) / mod.T)]),
        "order": (mod.order.end, [sp.Integer(1), 1 + mod.gap / (2 * mod.T),    # too loose
                                  1 + mod.gap / mod.T + (mod.gap / mod.T) ** 2]),  # false
        "bin-brier": (mod.bin_brier.end, [
            mod.BIN_PARTS.doit() - cross,                                     # no cross term
            size(m) * (mod.f[m] - mod.freq(m)) ** 2 + size(m) * mod.o_bar * (1 - mod.o_bar)]),
        "murphy": (mod.murphy.end, [mod.rel + mod.res + mod.unc, mod.rel - mod.res,
                                    mod.res - mod.rel + mod.unc]),
    }
    for name, (right, wrongs) in cases.items():
        check = _check(mod, name)
        assert not _fails(check, right), name
        for wrong in wrongs:
            assert _fails(check, wrong), (name, wrong)


# --- Independent computations --------------------------------------------------------------------


def _ece_by_loop(confidence, correct, n_bins: int) -> float:
    """Guo et al.'s eq. 3, prediction by prediction: each one adds its share of its bin's gap."""
    total = 0.0
    for b in range(n_bins):
        members = [k for k, c in enumerate(confidence) if b / n_bins < c <= (b + 1) / n_bins]
        if members:
            acc = sum(correct[k] for k in members) / len(members)
            conf = sum(confidence[k] for k in members) / len(members)
            total += len(members) / len(confidence) * abs(acc - conf)
    return total


def test_numeric_ece_agrees_with_a_loop_over_predictions():
    rng = np.random.default_rng(5)
    for _ in range(30):
        size, n_bins = int(rng.integers(1, 80)), int(rng.integers(1, 20))
        confidence = rng.uniform(0.01, 1.0, size=size)
        correct = (rng.random(size) < confidence ** 2).astype(float)
        got = expected_calibration_error(confidence, correct, n_bins)
        assert got == pytest.approx(_ece_by_loop(confidence, correct, n_bins), abs=1e-12)


def test_murphy_holds_exactly_for_forecasts_grouped_by_value():
    """The claim, in exact rational arithmetic: forecasts that take a few values, 0/1 outcomes."""
    rng = np.random.default_rng(8)
    for _ in range(25):
        levels = [Fraction(int(v), 20) for v in rng.integers(0, 21, size=int(rng.integers(1, 6)))]
        forecasts = [levels[int(k)] for k in rng.integers(0, len(levels), size=40)]
        outcomes = [int(v) for v in rng.integers(0, 2, size=40)]
        n = len(forecasts)
        brier = sum((f - o) ** 2 for f, o in zip(forecasts, outcomes, strict=True)) / n
        base = Fraction(sum(outcomes), n)
        rel = res = Fraction(0)
        for value in set(forecasts):
            group = [o for f, o in zip(forecasts, outcomes, strict=True) if f == value]
            freq = Fraction(sum(group), len(group))
            rel += len(group) * (value - freq) ** 2 / n
            res += len(group) * (freq - base) ** 2 / n
        assert brier == rel - res + base * (1 - base)
        d = brier_decomposition([float(f) for f in forecasts], outcomes)
        assert (d.reliability, d.resolution, d.uncertainty) == pytest.approx(
            (float(rel), float(res), float(base * (1 - base))), abs=1e-12)


def test_temperature_never_moves_the_argmax():
    from llmsym.numeric import softmax

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(500, 12)) * 4
    top = np.argmax(logits, axis=1)
    for temp in (0.05, 0.3, 1.0, 3.0, 50.0):
        probs = softmax(logits, temperature=temp)
        assert np.array_equal(np.argmax(probs, axis=1), top)
    # the confidence does move: softer at T > 1
    assert np.all(softmax(logits, temperature=3.0).max(axis=1)
                  <= softmax(logits).max(axis=1) + 1e-15)
