"""Online softmax and FlashAttention: the real checker on the derivations, and the code."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from llmsym.checker import check_claim
from llmsym.model import FAILED, PROVED, PROVED_FOR, Claim, Step
from llmsym.numeric.attention import merge, online_softmax
from llmsym.numeric.softmax import softmax


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.pipeline import Options, verify

    out = verify(Options(ids=("online-softmax", "flash-attention"), use_cache=False,
                         build_dir=tmp_path_factory.mktemp("build")))
    return {d.id: d for d in out.derivations}


def _kinds(derivation) -> dict[str, str]:
    return {name: status.kind for name, status in derivation.claim_status.items()
            if name != "definitions"}


def test_online_softmax_derivation_is_proved_in_general(report):
    d = report["online-softmax"]
    assert d.ok, [s.message for s in d.steps if not s.status.ok]
    assert set(_kinds(d).values()) == {PROVED}
    assert {c.name for c in d.numeric if c.passed} == {"streaming", "merge"}


def test_flash_attention_statuses_are_honest(report):
    d = report["flash-attention"]
    assert d.ok, [s.message for s in d.steps if not s.status.ok]
    kinds = _kinds(d)
    assert kinds.pop("schedules_exact") == PROVED_FOR  # the unrolled loop: concrete T only
    assert set(kinds.values()) == {PROVED}
    loop = [s for s in d.steps if s.claim == "schedules_exact"]
    assert [s.status.label for s in loop] == ["proved for T = 1..3"]


def test_join_sums_rejects_ranges_that_do_not_meet():
    """The concatenation step must fail when the second block skips an index."""
    a, b = sp.symbols("n_a n_b", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    s = sp.IndexedBase("s", real=True)
    gap = sp.Sum(sp.exp(s[j]), (j, 1, a)) + sp.Sum(sp.exp(s[j]), (j, a + 2, a + b))
    claim = Claim("gap", "planted gap", start=gap,
                  steps=(Step(sp.Sum(sp.exp(s[j]), (j, 1, a + b)), "concatenate", "join_sums"),))
    (rep,) = check_claim(claim, derivation="test", first_index=1, seed=0)
    assert rep.status.kind == FAILED


def test_join_sums_proves_adjacent_ranges():
    a, b = sp.symbols("n_a n_b", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    s = sp.IndexedBase("s", real=True)
    split = sp.Sum(s[j], (j, 1, a)) + sp.Sum(s[j], (j, a + 1, a + b))
    claim = Claim("join", "join", start=split,
                  steps=(Step(sp.Sum(s[j], (j, 1, a + b)), "concatenate", "join_sums"),))
    (rep,) = check_claim(claim, derivation="test", first_index=1, seed=0)
    assert rep.status.kind == PROVED and rep.tactic == "join_sums"


@pytest.mark.parametrize("block", [1, 3, 7, 100])
def test_online_softmax_matches_softmax_on_extreme_logits(block):
    rng = np.random.default_rng(block)
    z = rng.normal(size=(6, 33)) * 100 + np.array([[-1000.0], [0.0], [1000.0]] * 2)
    z[rng.random(z.shape) < 0.2] = -np.inf
    z[:, 0] = 5.0  # every row sees something
    got = online_softmax(z, block_size=block)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, softmax(z), atol=1e-15, rtol=1e-13)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-14)


def test_online_softmax_of_a_fully_masked_row_is_zero():
    z = np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 0.0]])
    got = online_softmax(z, block_size=2)
    assert got.tolist() == [[0.0, 0.0, 0.0], [0.5, 0.0, 0.5]]


@pytest.mark.parametrize("block", [1, 2])
def test_leading_masked_entries_need_the_guard(block):
    """The running max starts at -inf; without the guard e^{-inf - (-inf)} is NaN for good."""
    z = np.array([-np.inf, -np.inf, 1.0, 2.0])
    np.testing.assert_allclose(online_softmax(z, block_size=block), softmax(z), rtol=1e-15)


def test_online_softmax_rejects_bad_block_size():
    with pytest.raises(ValueError, match="block_size"):
        online_softmax(np.zeros(3), block_size=0)


def _state(scores: np.ndarray, values: np.ndarray):
    m = scores.max()
    e = np.exp(scores - m)
    return np.array(m), np.array(e.sum()), e @ values / e.sum()


def test_merge_is_exact_associative_and_commutative():
    rng = np.random.default_rng(0)
    scores, values = rng.normal(size=9) * 30, rng.normal(size=(9, 2))
    a, b, c = (_state(scores[x], values[x]) for x in (slice(0, 2), slice(2, 5), slice(5, 9)))
    whole = _state(scores, values)
    for merged in (merge(merge(a, b), c), merge(a, merge(b, c)), merge(c, merge(b, a))):
        np.testing.assert_allclose(merged[0], whole[0], rtol=0, atol=0)
        np.testing.assert_allclose(merged[1], whole[1], rtol=1e-14)
        np.testing.assert_allclose(merged[2], whole[2], rtol=1e-13, atol=1e-15)


def test_empty_state_is_the_identity_and_never_nan():
    empty = (np.array(-np.inf), np.array(0.0), np.zeros(2))
    a = (np.array(3.0), np.array(1.5), np.array([0.25, -1.0]))
    for merged in (merge(a, empty), merge(empty, a)):
        assert [x.tolist() for x in merged] == [x.tolist() for x in a]
    m, ell, o = merge(empty, empty)
    assert m == -np.inf and ell == 0.0 and o.tolist() == [0.0, 0.0]
