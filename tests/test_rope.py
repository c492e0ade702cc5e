"""RoPE: the derivations under the real checker, and the NumPy rope in both conventions."""

from __future__ import annotations

import numpy as np
import pytest

from llmsym.model import PROVED, PROVED_FOR
from llmsym.numeric.rope import interleaved_to_half, rope, rope_frequencies


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.pipeline import Options, verify

    out = verify(Options(ids=("rope", "rope-pairing"), use_cache=False,
                         build_dir=tmp_path_factory.mktemp("build")))
    return {d.id: d for d in out.derivations}


def test_rope_statuses_are_honest(report):
    d = report["rope"]
    assert d.ok, [s.message for s in d.steps if not s.status.ok]
    kinds = {name: st.kind for name, st in d.claim_status.items() if name != "definitions"}
    assert kinds == {"relative_rotation": PROVED, "score_2d": PROVED, "norm_kept": PROVED,
                     "score_d": PROVED_FOR}
    per_step = [s.status.label for s in d.steps if s.claim == "score_d"]
    # the pair-by-pair step holds for every d; writing the matrices out, for d = 2..8
    assert per_step == ["proved for d/2 = 1..4", "proved", "proved for d/2 = 1..4"]


def test_rope_pairing_statuses_are_honest(report):
    d = report["rope-pairing"]
    assert d.ok, [s.message for s in d.steps if not s.status.ok]
    kinds = {name: st.kind for name, st in d.claim_status.items() if name != "definitions"}
    assert kinds == {"complex_form": PROVED, "conjugation": PROVED_FOR,
                     "orthogonal": PROVED_FOR, "checkpoint": PROVED_FOR}


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
    """The negative control: q rotated with one pairing, k with the other."""
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
    # and the scores agree: permuting both q and k changes no dot product
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
