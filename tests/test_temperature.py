"""Softmax temperature, entropy rate and the softmax gradient under the real checker.

The temperature limits are proved for every n through explicit bounds, the entropy rate
dH/dT = Var_q(z)/T^3 and the gradient forms s - e_y and diag(s) - ss^T for every
component; each claim shows its premises, the face follows its rules, wrong steps are
refused, the numeric checks fail on wrong formulas, and llmsym.numeric.softmax behaves
at extreme temperatures.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.numeric import entropy
from llmsym.numeric import softmax as numeric_softmax
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

IDS = ("softmax-temperature", "temperature-entropy", "softmax-gradient")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    return {(d.id, c["name"]): c for d in result.derivations if d.id in IDS
            for c in result.claims_json(d)}


@pytest.fixture(scope="module")
def temperature():
    return derivation_module("softmax_temperature")


@pytest.fixture(scope="module")
def rate():
    return derivation_module("temperature_entropy")


@pytest.fixture(scope="module")
def gradient():
    return derivation_module("softmax_gradient")


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"]]


# --- The derivations ------------------------------------------------------------------------


def test_every_claim_is_proved_for_every_n(result, claims):
    assert result.ok
    for key, c in claims.items():
        assert c["status"]["kind"] == "proved", (key, c["label"])
        assert not c["problems"], key
    for ident in IDS:
        d = result.derivation(ident)
        assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric if not n.passed]
        assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]


def test_the_limits_are_visibly_about_softmax(claims):
    cold = claims[("softmax-temperature", "cold_bound")]
    assert cold["statement"] == (r"1 - \operatorname{softmax}\left(\frac{\mathbf{z}}{T}\right)_{1}"
                                 r" \le \left(n - 1\right) e^{- \frac{\delta}{T}}")
    assert r"{z}_{j} = {z}_{1} - \delta - {w}_{j}" in _premises(cold)
    hot = claims[("softmax-temperature", "hot_bound")]
    assert hot["statement"] == (r"n \operatorname{softmax}\left(\frac{\mathbf{z}}{T}\right)_{i}"
                                r" \ge e^{- \frac{\Delta}{T}}")
    assert r"{z}_{j} = {z}_{i} + \Delta - {w}_{j}" in _premises(hot)
    assert claims[("softmax-temperature", "cold_limit")]["statement"].endswith("= 0")


def test_entropy_rate_is_shown_with_its_definitions(claims):
    c = claims[("temperature-entropy", "entropy_rate")]
    assert c["statement"] == (r"\frac{d}{d T} H\left(\mathbf{q}\right) ="
                              r" \frac{\operatorname{Var}_{\mathbf{q}}(\mathbf{z})}{T^{3}}")
    where = " ".join(w["latex"] for w in c["where"])
    assert r"q_{i} :=" in where and r"\operatorname{Var}_{\mathbf{q}}(\mathbf{z}) :=" in where


def test_gradient_forms_for_every_component(claims):
    ce = claims[("softmax-gradient", "ce_gradient")]
    assert ce["statement"].endswith(
        r"= \operatorname{softmax}\left(\mathbf{z}\right)_{i} - [i = y]")
    assert r"i \leq n" in _premises(ce)
    jac = claims[("softmax-gradient", "jacobian")]
    assert jac["statement"].endswith(
        r"= \operatorname{softmax}\left(\mathbf{z}\right)_{i} \left([i = j] - "
        r"\operatorname{softmax}\left(\mathbf{z}\right)_{j}\right)")
    assert _premises(jac) == [r"j \leq n"]


def test_the_face_follows_its_rules(result):
    face = face_of(result, IDS)
    assert face_problems(face) == []
    assert {"cold_bound", "ce_gradient"} <= {e["name"] for e in face}  # the 4-page face


# --- Wrong steps are refused -----------------------------------------------------------------


def _refused(start, *steps) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps), timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_a_too_fast_cold_rate_is_refused(temperature):
    m = temperature
    last = m.cold_bound.steps[-1]
    wrong = Step(m.factors(m.n - 1, sp.exp(-2 * m.delta / m.T)), "twice the rate", rel="<=",
                 certificate=last.certificate)
    assert _refused(m.cold_bound.steps[-2].expr, wrong)


def test_a_wrong_entropy_rate_is_refused(rate):
    m = rate
    differentiate = m.entropy_rate.steps[1]
    wrong = Step(differentiate.expr * m.T, "Var/T^2", differentiate.tactic)
    assert _refused(m.entropy_rate.steps[0].expr, wrong)


def test_the_gradient_needs_its_premise_and_its_sign(gradient):
    m = gradient
    claim = m.ce_gradient
    before, last = claim.steps[1].expr, claim.steps[2]
    proved = check_claim(Claim("probe", "t", start=before, steps=(last,),
                               given=(m.i_in_range,)), timeout=60)
    assert not any(isinstance(o, Refuted) for o in proved)
    assert _refused(before, last)  # without i <= n the sum over k is not e^{z_i}
    flipped = Step(m.s(m.i) + m.iverson(m.i, m.y), "sign flipped", last.tactic)
    assert _refused(before, flipped)


# --- The numeric checks have teeth ---------------------------------------------------------


def _check(module, name: str):
    return next(c for c in module.DERIVATION.checks if c.name == name)


def _fails(check, formula) -> bool:
    measured = check.run(np.random.default_rng(0), formula)
    return not measured.max_error <= measured.tolerance


def test_bound_checks_need_tight_bounds(temperature):
    m = temperature
    cold = _check(m, "cold")
    assert not _fails(cold, Formula(m.cold_bound.end))
    assert _fails(cold, Formula(2 * (m.n - 1) * sp.exp(-m.delta / m.T)))  # true but loose
    assert _fails(cold, Formula((m.n - 1) * sp.exp(-2 * m.delta / m.T)))  # false
    hot = _check(m, "hot")
    assert not _fails(hot, Formula(m.hot_bound.end))
    assert _fails(hot, Formula(sp.exp(-2 * m.Delta / m.T)))


def test_rate_and_gradient_checks_fail_on_wrong_formulas(rate, gradient):
    check = _check(rate, "entropy-rate")
    assert not _fails(check, Formula(rate.entropy_rate.end))
    assert _fails(check, Formula(rate.entropy_rate.end * rate.T))
    grad = _check(gradient, "gradient")
    assert not _fails(grad, Formula(gradient.ce_gradient.end))
    assert _fails(grad, Formula(gradient.s(gradient.i) + gradient.iverson(gradient.i,
                                                                          gradient.y)))
    jac = _check(gradient, "jacobian")
    assert _fails(jac, Formula(gradient.s(gradient.i) * gradient.iverson(gradient.i,
                                                                         gradient.j)))


# --- llmsym.numeric.softmax with a temperature -------------------------------------------------


@pytest.mark.parametrize("logits", [[2.0, 1.0, 0.5], [1e4, -1e4, 0.0], [-1e4, -1e4 + 1.0]])
def test_cold_softmax_is_one_hot(logits):
    z = np.array(logits)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = numeric_softmax(z, temperature=1e-3)
    assert np.array_equal(out, np.eye(z.size)[np.argmax(z)])


@pytest.mark.parametrize("logits", [[2.0, 1.0, 0.5], [1e4, -1e4, 0.0]])
def test_hot_softmax_is_uniform_within_the_proved_bound(logits):
    z = np.array(logits)
    temp = 1e6
    out = numeric_softmax(z, temperature=temp)
    # hot_bound: n softmax_i >= e^{-Delta/T} with Delta = max z - z_i
    assert np.all(z.size * out >= np.exp(-(z.max() - z) / temp) * (1 - 1e-15))


@pytest.mark.parametrize("temperature", [1e-3, 1e-30, 1e-300])
def test_no_overflow_or_nan_as_t_goes_to_zero(temperature):
    z = np.array([1e4, -1e4, 3.0, 1e4 - 1.0])
    with np.errstate(over="raise", invalid="raise"):
        out = numeric_softmax(z, temperature=temperature)
    assert np.array_equal(out, [1.0, 0.0, 0.0, 0.0])


def test_a_tie_at_the_top_splits_the_weight():
    out = numeric_softmax(np.array([5.0, 5.0, -1.0]), temperature=1e-6)
    assert np.allclose(out, [0.5, 0.5, 0.0])


def test_entropy_rises_with_temperature():
    z = np.random.default_rng(5).normal(size=12) * 3
    temps = np.geomspace(1e-3, 1e3, 200)
    curve = np.array([float(entropy(numeric_softmax(z, temperature=t))) for t in temps])
    assert np.all(np.diff(curve) >= -1e-15)
    assert curve[0] < 1e-6 and curve[-1] == pytest.approx(np.log(z.size), abs=1e-4)


def test_non_positive_temperature_is_refused():
    with pytest.raises(ValueError, match="temperature"):
        numeric_softmax(np.array([1.0, 2.0]), temperature=0.0)


def test_tempered_softmax_notation_unfolds(rate):
    m = rate
    unfolded = m.q.doit()
    assert unfolded == sp.exp(m.z[m.i] / m.T) / sp.Sum(sp.exp(m.z[m.j] / m.T), (m.j, 1, m.n))
