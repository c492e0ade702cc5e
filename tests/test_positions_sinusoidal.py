"""Sinusoidal encodings and their Fourier view under the real checker, with their NumPy helpers.

General proofs only (every d), premises that say what each claim rests on, one index
convention shared with RoPE, face entries that follow the rules, wrong steps refused and
numeric checks that fail on wrong formulas or a broken encoding.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Proved, Refuted, check_claim
from llmsym.derivation import Claim, Step
from llmsym.numeric.position_shift import position_shift_matrix
from llmsym.numeric.positions import sinusoid_frequencies, sinusoidal_encoding
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

IDS = ("sinusoidal-positions", "fourier-positions")
ALL = ("rope", "rope-pairing") + IDS


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """The four position derivations, cold (the dot product cites rope's regrouping)."""
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=ALL, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    return {(d.id, c["name"]): c for d in result.derivations if d.id in IDS
            for c in result.claims_json(d)}


@pytest.fixture(scope="module")
def sinusoid():
    return derivation_module("sinusoidal_positions")


@pytest.fixture(scope="module")
def fourier():
    return derivation_module("fourier_positions")


def test_every_claim_is_proved_for_every_width(result, claims):
    assert result.ok
    for key, c in claims.items():
        assert c["status"]["kind"] == "proved", key
        assert not c["problems"], key
    for ident in IDS:
        d = result.derivation(ident)
        assert all(s.status.ok for s in d.steps)
        assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric]
        assert d.view["examples"]


def test_the_dot_product_rests_on_the_regrouping_only(claims):
    dot = claims[("sinusoidal-positions", "dot")]
    assert [p["ref"] for p in dot["premises"]] == ["rope:blocks"]
    assert dot["statement"].endswith(
        r"= \sum_{i=0}^{d/2 - 1} \cos{\left(\left(\mathrm{pos} - \mathrm{pos}'\right) "
        r"\omega_{i} \right)}")
    for name in ("shift", "coordinates"):
        assert claims[("sinusoidal-positions", name)]["premises"] == []
    for name in ("phasor", "ladder", "wavelengths", "ends"):
        assert claims[("fourier-positions", name)]["premises"] == []


def test_the_face_of_the_positions_topic(result):
    face = face_of(result, ALL)
    assert face_problems(face) == []
    assert {e["derivation"] for e in face} == {"rope", "sinusoidal-positions"}  # 4-page face
    topics = {d.view["topic"] for d in result.derivations if d.id in ALL}
    assert topics == {"Positions"}
    defs = {e["name"]: e["statement"] for e in face if e["kind"] == "definition"}
    assert r"\sin{\left(\mathrm{pos} \omega_{i} \right)}" in defs["sinusoidal encoding"]
    every = {x["name"]: x["latex"] for d in result.derivations if d.id in ALL
             for x in d.view["definitions"]}  # Appendix A
    assert every["frequencies"] == r"\omega_{i} := 10000^{- \frac{2 i}{d}}"
    assert every["RoPE frequencies"] == r"\theta_{i} := 10000^{- \frac{2 i}{d_{k}}}"


def test_wavelengths_where_line_defines_lambda(claims):
    where = [w["latex"] for w in claims[("fourier-positions", "wavelengths")]["where"]]
    assert where == [r"\lambda_{i} := \frac{2 \pi}{\omega_{i}}"]


# --- Wrong steps are refused -----------------------------------------------------------------


def _outcomes(start, *steps) -> list:
    return check_claim(Claim("probe", "t", start=start, steps=steps), timeout=60)


def test_the_inverse_rotation_is_refused(sinusoid):
    m = sinusoid
    block, pair = m.shift.end.args
    wrong = sp.MatMul(block.T, pair, evaluate=False)
    assert any(isinstance(o, Refuted) for o in _outcomes(m.shift.start,
                                                         Step(wrong, "wrong", "unfold+trig")))
    assert all(isinstance(o, Proved) for o in _outcomes(m.shift.start, *m.shift.steps))


def test_a_wrong_ladder_ratio_is_refused(fourier):
    m = fourier
    wrong = Step(m.BASE ** (-1 / m.d), "half the exponent", "unfold+powsimp")
    assert any(isinstance(o, Refuted) for o in _outcomes(m.ladder.start, wrong))


def test_a_phase_of_the_wrong_sign_is_refused(fourier):
    m = fourier
    wrong = m.factors(m.cis((m.pos - m.pos2) * m.omega(m.i)), m.phasor(m.pos, m.i))
    assert any(isinstance(o, Refuted) for o in _outcomes(m.phasor_shift.start,
                                                         Step(wrong, "wrong", "unfold+powsimp")))


# --- The numeric checks have teeth -----------------------------------------------------------


def _check(module, name: str):
    return next(c for c in module.DERIVATION.checks if c.name == name)


def test_the_shift_check_catches_swapped_sin_and_cos(sinusoid, monkeypatch):
    positions = importlib.import_module("llmsym.numeric.positions")
    check = _check(sinusoid, "shift")
    formula = Formula(sinusoid.shift.end)
    good = check.run(np.random.default_rng(0), formula)
    assert good.max_error <= good.tolerance
    real = positions.sinusoidal_encoding
    monkeypatch.setattr(positions, "sinusoidal_encoding",
                        lambda pos, d, base=10000.0: real(pos, d, base)[:, ::-1])
    broken = check.run(np.random.default_rng(0), formula)
    assert broken.max_error > broken.tolerance


def test_the_wavelength_check_reads_the_spectrum(fourier):
    check = _check(fourier, "wavelengths")
    good = check.run(np.random.default_rng(1), Formula(fourier.wavelengths.end))
    assert good.samples > 10 and good.max_error <= good.tolerance
    # a wavelength off by one octave of the ladder (i -> i + 1) is seen in the spectrum
    shifted = Formula(fourier.wavelengths.end.xreplace({fourier.i: fourier.i + 1}))
    bad = check.run(np.random.default_rng(1), shifted)
    assert bad.max_error > bad.tolerance


def test_the_dot_check_catches_a_missing_pair(sinusoid):
    m = sinusoid
    check = _check(m, "dot")
    one_short = Formula(sp.Sum(sp.cos((m.pos - m.pos2) * m.omega(m.i)), (m.i, 0, m.half - 2)))
    bad = check.run(np.random.default_rng(2), one_short)
    assert bad.max_error > bad.tolerance


# --- The NumPy helpers -----------------------------------------------------------------------


def test_the_encoding_is_the_papers_formula():
    enc = sinusoidal_encoding([0, 1, 7], 6)
    for row, pos in zip(enc, (0, 1, 7), strict=True):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert row[2 * i] == pytest.approx(np.sin(angle), abs=1e-15)
            assert row[2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-15)


def test_the_shift_matrix_moves_encodings_and_is_orthogonal():
    rng = np.random.default_rng(3)
    shift = position_shift_matrix(37.5, 16)
    starts = rng.uniform(0, 1000, size=5)
    np.testing.assert_allclose(sinusoidal_encoding(starts, 16) @ shift.T,
                               sinusoidal_encoding(starts + 37.5, 16), atol=1e-12)
    np.testing.assert_allclose(shift.T @ shift, np.eye(16), atol=1e-14)
    with pytest.raises(ValueError, match="integer"):
        position_shift_matrix(1.0, 4.5)


def test_frequencies_form_the_ladder_and_results_agree(sinusoid):
    freqs = sinusoid_frequencies(512)
    np.testing.assert_allclose(freqs[1:] / freqs[:-1], 10000 ** (-2 / 512), rtol=1e-13)
    assert freqs[0] == 1.0 and 2 * np.pi / freqs[-1] < 2 * np.pi * 10000
    result = {r.name: r for r in sinusoid.RESULTS}["sinusoid_frequency"]
    i, d = result.params
    assert result.expr.subs({i: 1, d: 4}) == sp.Rational(1, 100)
    with pytest.raises(ValueError, match="even"):
        sinusoid_frequencies(5)
