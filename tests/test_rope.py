"""RoPE: the derivations under the real checker, and the NumPy rope in both layouts.

The proofs must be general (no size-limited status), rest only on the premises they display,
refuse wrong variants of their key steps, and their numeric checks must catch wrong formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Proved, Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.numeric.rope import interleaved_to_half, rope, rope_frequencies
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

IDS = ("rope", "rope-pairing")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    """``{(derivation, claim): claims_json entry}``."""
    return {(d.id, c["name"]): c for d in result.derivations if d.id in IDS
            for c in result.claims_json(d)}


@pytest.fixture(scope="module")
def rope_file():
    return derivation_module("rope")


@pytest.fixture(scope="module")
def pairing_file():
    return derivation_module("rope_pairing")


# --- Statuses and premises -------------------------------------------------------------------


def test_every_claim_is_proved_for_every_size(result, claims):
    assert result.ok, [(d.id, [s.message for s in d.steps if not s.status.ok])
                       for d in result.derivations]
    for key, c in claims.items():
        assert c["status"]["kind"] == "proved", key
        assert not c["problems"], key
    for d in result.derivations:
        assert not [s for s in d.steps if s.status.kind is Kind.PROVED_FOR]
        assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric]


def test_the_block_regrouping_is_an_induction_and_the_score_cites_it(result, claims):
    parts = {s.part for s in result.derivation("rope").steps if s.claim == "blocks"}
    assert {"base 1", "step 1", "step 2", "step 3", "statement"} <= parts
    relative = claims[("rope", "relative")]
    assert [p["ref"] for p in relative["premises"]] == ["rope:blocks"]
    assert relative["statement"] == (
        r"\left\langle R_{\Theta,\mathrm{pos}}\mathbf{q}, R_{\Theta,\mathrm{pos}'}\mathbf{k}"
        r"\right\rangle = \left\langle \mathbf{q}, R_{\Theta,\mathrm{pos}' - \mathrm{pos}}"
        r"\mathbf{k}\right\rangle")
    assert claims[("rope-pairing", "complex_form")]["premises"][0]["ref"] == "rope:blocks"


def test_the_decay_bound_shows_what_it_rests_on(claims):
    premises = claims[("rope", "decay_bound")]["premises"]
    stated = [p for p in premises if p["kind"] == "assumption"]
    assert len(stated) == 1 and "triangle" in stated[0]["label"]
    assert {"rope:increments", "rope:abel", "rope:empty"} <= {p["ref"] for p in premises}
    hypotheses = [p["latex"] for p in premises if p["kind"] == "hypothesis"]
    assert any("h}_{d_{k}/2} = 0" in h for h in hypotheses), hypotheses
    assert any(h.startswith("M = ") for h in hypotheses), hypotheses


def test_the_face_entries_follow_the_rules(result):
    face = face_of(result, IDS)
    names = {e["name"] for e in face}
    assert {"RoPE rotation", "relative"} <= names  # the 4-page face; the rest in Appendix A
    assert face_problems(face) == []
    for e in face:
        assert all(e["symbols"].values()), (e["name"], e["symbols"])


def test_one_index_convention(result):
    """Pairs run 0 .. d_k/2 - 1 with theta_i = 10000^{-2i/d_k}, as in the code (and as the
    sinusoidal encoding counts them)."""
    defs = {x["name"]: x for x in result.derivation("rope").view["definitions"]}
    assert defs["RoPE frequencies"]["latex"] == r"\theta_{i} := 10000^{- \frac{2 i}{d_{k}}}"
    assert r"_{2 i + 1}" in defs["RoPE rotation"]["latex"]


# --- Wrong steps are refused -----------------------------------------------------------------


def _refused(claim: Claim) -> bool:
    outcomes = check_claim(claim, timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_a_score_relative_to_the_sum_of_positions_is_refused(rope_file):
    m = rope_file
    wrong = m.rope_dot(m.q, m.k, 0, m.pos2 + m.pos, m.pairs)
    claim = Claim("wrong", "t", start=m.relative.start,
                  steps=(Step(wrong, "wrong offset", "unfold+trig_sums"),))
    assert _refused(claim)


def test_the_element_wise_form_with_the_wrong_rotate_is_refused(rope_file):
    m = rope_file
    i, q = m.i, m.q
    c, s = sp.cos(m.pos * m.theta(i)), sp.sin(m.pos * m.theta(i))
    flipped = sp.Matrix([q[2 * i] * c + q[2 * i + 1] * s, q[2 * i + 1] * c - q[2 * i] * s])
    claim = Claim("wrong", "t", start=m.with_pair_i,
                  steps=(Step(flipped, "rotate with the wrong sign", "unfold+expand"),))
    assert _refused(claim)
    right = Claim("right", "t", start=m.with_pair_i, steps=m.elementwise_form.steps)
    assert all(isinstance(o, Proved) for o in check_claim(right, timeout=60))


def test_a_permutation_that_swaps_each_pair_is_refused(pairing_file):
    m = pairing_file
    q, i = m.q, m.i
    swapped = sp.MatMul(m.rotation(m.pos * m.theta(i)),
                        sp.ImmutableMatrix([q[2 * i + 1], q[2 * i]]), evaluate=False)
    claim = Claim("wrong", "t", start=m.conjugation.steps[0].expr,
                  steps=(Step(swapped, "wrong permutation", "unfold+expand"),
                         Step(m.conjugation.end, "as in the claim", "unfold+expand")))
    assert _refused(claim)


# --- The numeric checks have teeth -----------------------------------------------------------


def _check(module, name: str):
    return next(c for c in module.DERIVATION.checks if c.name == name)


def test_the_relative_check_catches_a_sign_error(rope_file):
    m = rope_file
    check = _check(m, "relative")
    good = check.run(np.random.default_rng(0), Formula(m.relative.end))
    assert good.max_error <= good.tolerance
    wrong = Formula(m.rope_dot(m.q, m.k, 0, m.pos - m.pos2, m.pairs))
    bad = check.run(np.random.default_rng(0), wrong)
    assert bad.max_error > bad.tolerance


def test_the_conjugation_check_catches_the_interleaved_layout(pairing_file, monkeypatch):
    """If the half-split rope were the interleaved one, the check must fail."""
    import importlib

    numeric_rope = importlib.import_module("llmsym.numeric.rope")  # the module, not the function
    m = pairing_file
    check = _check(m, "conjugation")
    real = numeric_rope.rope
    monkeypatch.setattr(numeric_rope, "rope", lambda x, p, **kw: real(x, p))
    bad = check.run(np.random.default_rng(0), Formula(m.conjugation.end))
    assert bad.max_error > bad.tolerance


def test_experiments_are_labelled_and_confirm_no_formula(result):
    for ident, name in (("rope", "decay"), ("rope-pairing", "mixing")):
        report = next(n for n in result.derivation(ident).numeric if n.name == name)
        assert report.experiment and report.passed


# --- The NumPy rope --------------------------------------------------------------------------


def _score(q, k, m, n, conv_q="interleaved", conv_k="interleaved"):
    return float(rope(q[None], np.array([m]), convention=conv_q)[0]
                 @ rope(k[None], np.array([n]), convention=conv_k)[0])


@pytest.mark.parametrize("convention", ["interleaved", "half"])
def test_score_depends_only_on_position_difference_up_to_1e5(convention):
    rng = np.random.default_rng(0)
    for _ in range(50):
        q, k = rng.normal(size=(2, 64))
        m, n = rng.integers(0, 1000, size=2)
        shift = int(rng.integers(0, 99_000))
        a = _score(q, k, m, n, convention, convention)
        b = _score(q, k, m + shift, n + shift, convention, convention)
        assert abs(a - b) <= 1e-9 * np.linalg.norm(q) * np.linalg.norm(k)


def test_mixing_conventions_breaks_the_relative_property():
    rng = np.random.default_rng(1)
    q, k = rng.normal(size=(2, 64))
    a = _score(q, k, 3, 10, "interleaved", "half")
    b = _score(q, k, 5003, 5010, "interleaved", "half")
    assert abs(a - b) > 1e-2 * np.linalg.norm(q) * np.linalg.norm(k)


def test_permutation_maps_one_convention_onto_the_other_exactly():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 9, 16))
    pos = rng.integers(0, 100_000, size=9)
    half = rope(interleaved_to_half(x), pos, convention="half")
    assert np.array_equal(half, interleaved_to_half(rope(x, pos, convention="interleaved")))
    q, k = x[0], x[1]
    s_int = rope(q, pos) @ rope(k, pos).T
    s_half = (rope(interleaved_to_half(q), pos, convention="half")
              @ rope(interleaved_to_half(k), pos, convention="half").T)
    np.testing.assert_allclose(s_half, s_int, rtol=1e-12, atol=1e-12)


def test_matches_the_complex_form():
    rng = np.random.default_rng(3)
    q, k = rng.normal(size=(2, 32))
    m, n = 12345.0, 678.0
    qc, kc = q[0::2] + 1j * q[1::2], k[0::2] + 1j * k[1::2]
    theta = 10000.0 ** (-np.arange(16) * 2 / 32)
    ref = np.real(np.sum(qc * np.exp(1j * m * theta) * np.conj(kc * np.exp(1j * n * theta))))
    assert abs(_score(q, k, m, n) - ref) <= 1e-10


def test_norms_are_kept_and_position_zero_is_identity():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 8))
    pos = np.array([0, 1, 10, 1000, 99_999])
    out = rope(x, pos, base=500.0, convention="half")
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1),
                               rtol=1e-13)
    assert np.array_equal(out[:, 0], x[:, 0])


def test_frequencies_and_two_dimensions():
    assert rope_frequencies(8, base=10000.0).tolist() == [1.0, 0.1, 0.01, 0.001]
    x = np.array([[1.0, 0.0]])
    for conv in ("interleaved", "half"):  # with d = 2 both pairings are the same
        np.testing.assert_allclose(rope(x, np.array([np.pi / 2]), base=1.0, convention=conv),
                                   [[0.0, 1.0]], atol=1e-15)


def test_bad_inputs_get_one_clear_error():
    with pytest.raises(ValueError, match="even"):
        rope(np.zeros((2, 3)), np.arange(2))
    with pytest.raises(ValueError, match="positions"):
        rope(np.zeros((2, 4)), np.arange(3))
    with pytest.raises(ValueError, match="convention"):
        rope(np.zeros((2, 4)), np.arange(2), convention="neox")


def test_the_frequency_result_uses_the_same_convention(rope_file):
    freq = {r.name: r for r in rope_file.RESULTS}["rope_theta"]
    i, d_k, base = freq.params
    assert freq.expr.subs({i: 1, d_k: 8, base: 10000}) == sp.Rational(1, 10)
    assert float(freq.expr.subs({i: 3, d_k: 8, base: 10000})) == rope_frequencies(8)[3]
