"""Softmax temperature: the limits (proved for n = 1..6), the entropy rate, the numerics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.checker import check_claim
from llmsym.model import DEFINITION, FAILED, PROVED, PROVED_FOR, Claim, Sizes, Step
from llmsym.numeric import entropy
from llmsym.numeric import softmax as numeric_softmax

ROOT = Path(__file__).resolve().parent.parent


def _module(stem: str):
    return derivation_module(stem)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from llmsym.pipeline import Options, verify

    build = tmp_path_factory.mktemp("temperature-build")
    report = verify(Options(ids=("softmax-temperature", "temperature-entropy"),
                            use_cache=False, build_dir=build))
    return {d.id: d for d in report.derivations}


def test_both_derivations_hold(reports):
    for ident, rep in reports.items():
        assert rep.ok, (ident, rep.status.label, rep.error)
        assert rep.numeric and all(n.passed for n in rep.numeric), ident


def test_limits_are_labelled_proved_for_n_1_to_6(reports):
    """SymPy cannot take a limit of a sum of symbolic length: the label must say so."""
    rep = reports["softmax-temperature"]
    claims = rep.claim_status
    for name in ("cold_limit", "cold_rest", "hot_limit"):
        status = claims[name]
        assert status.kind == PROVED_FOR and (status.lo, status.hi) == (1, 6), name
        assert status.label == "proved for n = 1..6"
    assert claims["cold_form"].kind == PROVED
    assert rep.status.label == "proved for n = 1..6"


def test_entropy_rate_is_proved_for_every_n(reports):
    rep = reports["temperature-entropy"]
    assert {s.status.kind for s in rep.steps} == {DEFINITION, PROVED}


def test_a_wrong_limit_is_rejected():
    """lim_{T -> oo} softmax(z/T)_i = 1/(n + 1) is false for every n."""
    m = _module("softmax_temperature")
    wrong = Claim("wrong", "planted", start=m.hot_limit.start,
                  steps=(Step(1 / (m.n + 1), "planted", "doit", sizes=Sizes(m.n, 1, 3)),))
    (rep,) = check_claim(wrong, derivation="test", first_index=1, seed=0)
    assert rep.status.kind == FAILED


def test_a_wrong_entropy_rate_is_rejected():
    """Var/T^2 instead of Var/T^3: the differentiation step must fail."""
    m = _module("temperature_entropy")
    right = m.entropy_rate.steps[0].expr
    wrong = Claim("wrong", "planted", start=m.entropy_rate.start,
                  steps=(Step(right * m.T, "planted", m.entropy_rate.steps[0].tactic),))
    (rep,) = check_claim(wrong, derivation="test", first_index=1, seed=0)
    assert rep.status.kind == FAILED


# --- llmsym.numeric.softmax with a temperature -------------------------------------------------


@pytest.mark.parametrize("logits", [[2.0, 1.0, 0.5], [1e4, -1e4, 0.0], [-1e4, -1e4 + 1.0]])
def test_cold_softmax_is_one_hot(logits):
    z = np.array(logits)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = numeric_softmax(z, temperature=1e-3)
    assert np.array_equal(out, np.eye(z.size)[np.argmax(z)])


@pytest.mark.parametrize("logits", [[2.0, 1.0, 0.5], [1e4, -1e4, 0.0]])
def test_hot_softmax_is_uniform(logits):
    z = np.array(logits)
    out = numeric_softmax(z, temperature=1e6)
    bound = np.expm1(np.ptp(z) / 1e6) / z.size  # n s_i lies within e^{+-spread/T}
    assert np.max(np.abs(out - 1 / z.size)) <= bound + 1e-16


@pytest.mark.parametrize("temperature", [1e-3, 1e-30, 1e-300])
def test_no_overflow_or_nan_as_t_goes_to_zero(temperature):
    z = np.array([1e4, -1e4, 3.0, 1e4 - 1.0])
    with np.errstate(over="raise", invalid="raise"):
        out = numeric_softmax(z, temperature=temperature)
    assert np.array_equal(out, [1.0, 0.0, 0.0, 0.0])


def test_a_tie_at_the_top_splits_the_weight():
    out = numeric_softmax(np.array([5.0, 5.0, -1.0]), temperature=1e-6)
    assert np.allclose(out, [0.5, 0.5, 0.0])


def test_extreme_temperature_below_1e_305():
    # z/T alone would overflow to inf - inf = NaN; the maximum is subtracted first.
    out = numeric_softmax(np.array([1e4, -1e4]), temperature=1e-306)
    assert out.tolist() == [1.0, 0.0]


def test_entropy_rises_with_temperature():
    z = np.random.default_rng(5).normal(size=12) * 3
    temps = np.geomspace(1e-3, 1e3, 200)
    curve = np.array([float(entropy(numeric_softmax(z, temperature=t))) for t in temps])
    assert np.all(np.diff(curve) >= -1e-15)
    assert curve[0] < 1e-6 and curve[-1] == pytest.approx(np.log(z.size), abs=1e-4)


def test_non_positive_temperature_is_refused():
    with pytest.raises(ValueError, match="temperature"):
        numeric_softmax(np.array([1.0, 2.0]), temperature=0.0)


def test_tempered_softmax_notation_unfolds():
    m = _module("temperature_entropy")
    unfolded = m.s(m.i).doit()
    assert unfolded == sp.exp(m.z[m.i] / m.T) / sp.Sum(sp.exp(m.z[m.j] / m.T), (m.j, 1, m.n))
