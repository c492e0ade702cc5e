"""Online softmax (Milakov and Gimelshein): the derivation under the real checker, and the code.

The recurrence is on the face; the running normaliser is exact after every logit (induction,
the update and the empty start displayed as premises); softmax follows from the final
state; no exponential exceeds 1. Wrong steps are refused and the tied checks fail on
wrong formulas. llmsym.numeric.online_softmax and merge are tested against independent
references.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Proved, Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.numeric.attention import merge, online_softmax
from llmsym.numeric.softmax import softmax
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula
from llmsym.verify.numeric_checks import formula_for, run_check

IDS = ("online-softmax",)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    return {c["name"]: c for c in result.claims_json(result.derivation("online-softmax"))}


@pytest.fixture(scope="module")
def online():
    return derivation_module("online_softmax")


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"]]


# --- The derivation ---------------------------------------------------------------------------


def test_every_claim_is_proved_in_general(result, claims):
    d = result.derivation("online-softmax")
    assert d.ok, [(s.claim, s.part, s.message) for s in d.steps if not s.status.ok]
    for name, c in claims.items():
        assert c["status"]["kind"] == "proved", (name, c["label"])
        assert not c["problems"], name
    assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]
    assert {s.part for s in d.steps if s.claim == "exact"} >= {"base 1", "step 1", "statement"}
    assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric if not n.passed]


def test_the_recurrence_is_displayed_and_its_exactness_is_on_the_face(result):
    face = face_of(result, IDS)
    assert face_problems(face) == []
    assert "exact" in {e["name"] for e in face}
    by_name = {d["name"]: {"statement": d["latex"]}
               for d in result.derivation("online-softmax").view["definitions"]}
    assert by_name["running maximum"]["statement"] == (
        r"{m}_{i} := \max\left({m}_{i - 1}, {z}_{i}\right)")
    assert by_name["running normaliser"]["statement"] == (
        r"{\ell}_{i} := {\ell}_{i - 1} e^{{m}_{i - 1} - {m}_{i}} + e^{{z}_{i} - {m}_{i}}")


def test_exactness_shows_its_premises(claims):
    exact = claims["exact"]
    assert exact["statement"] == r"\ell_{i} = \sum_{j=1}^{i} e^{{z}_{j} - {m}_{i}}"
    assert _premises(exact) == [
        r"\ell_{0} = 0",
        r"\ell_{i + 1} = \ell_{i} e^{{m}_{i} - {m}_{i + 1}} + e^{{z}_{i + 1} - {m}_{i + 1}}"]
    result = claims["softmax"]
    assert result["statement"] == (r"\frac{e^{{z}_{j} - {m}_{i}}}{\ell_{i}} ="
                                   r" \operatorname{softmax}\left(\mathbf{z}\right)_{j}")
    assert [p["ref"] for p in result["premises"]][0] == "online-softmax:exact"
    bound = claims["no_overflow"]
    assert bound["statement"] == r"e^{{z}_{j} - m_{i}} \le 1"
    assert _premises(bound) == [r"m_{i} \geq {z}_{j}"]


# --- Wrong steps are refused --------------------------------------------------------------------


def _outcomes(start, *steps):
    return check_claim(Claim("probe", "t", start=start, steps=steps), timeout=60)


def test_the_update_must_rescale_the_old_sum(online):
    """Adding e^{z_{i+1} - m_{i+1}} without rescaling l_i is not the sum over i + 1 logits."""
    z, m, i, j = online.z, online.m, online.i, online.j
    no_rescale = online.normaliser + sp.exp(z[i + 1] - m[i + 1])
    outcomes = _outcomes(no_rescale, Step(sp.Sum(sp.exp(z[j] - m[i + 1]), (j, 1, i + 1)),
                                          "forgot the rescale", "sum+powsimp+align_sums"))
    assert any(isinstance(o, Refuted) for o in outcomes)


def test_join_sums_rejects_ranges_that_do_not_meet():
    a, b = sp.symbols("n_a n_b", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    s = sp.IndexedBase("s", real=True)
    gap = sp.Sum(sp.exp(s[j]), (j, 1, a)) + sp.Sum(sp.exp(s[j]), (j, a + 2, a + b))
    outcomes = _outcomes(gap, Step(sp.Sum(sp.exp(s[j]), (j, 1, a + b)), "concatenate",
                                   "join_sums"))
    assert any(isinstance(o, Refuted) for o in outcomes)
    split = sp.Sum(s[j], (j, 1, a)) + sp.Sum(s[j], (j, a + 1, a + b))
    outcomes = _outcomes(split, Step(sp.Sum(s[j], (j, 1, a + b)), "concatenate", "join_sums"))
    assert all(isinstance(o, Proved) for o in outcomes)


def test_no_overflow_needs_the_maximum(online):
    """Without m_i >= z_j the bound e^{z_j - m_i} <= 1 is refused."""
    outcomes = _outcomes(sp.exp(online.z[online.j] - online.m_now),
                         Step(sp.exp(0), "no premise", "monotone", rel="<="))
    assert any(isinstance(o, Refuted) for o in outcomes)


# --- Numeric checks have teeth -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exact", "softmax"])
def test_tied_checks_fail_on_wrong_formulas(online, name):
    d = online.DERIVATION
    check = next(c for c in d.checks if c.name == name)
    true = formula_for(d, check)
    assert run_check(check, derivation=d, formula=true).passed
    for factor in (sp.Rational(11, 10), sp.Rational(99, 100)):
        wrong = Formula(factor * true.expr, "mutant")
        assert not run_check(check, derivation=d, formula=wrong).passed, (name, factor)


def test_the_exact_check_catches_a_normaliser_without_rescaling(online):
    """sum_j e^{z_j - m_j} (each term at its own running maximum) is what a pass without the
    rescale would hold; the check must reject it."""
    d = online.DERIVATION
    check = next(c for c in d.checks if c.name == "exact")
    z, m, i, j = online.z, online.m, online.i, online.j
    stale = Formula(sp.Sum(sp.exp(z[j] - m[j]), (j, 1, i)), "no rescale")
    assert not run_check(check, derivation=d, formula=stale).passed


def test_stream_helper_is_the_recurrence(online):
    row = np.array([1.0, 3.0, 2.0])
    ms, ells = online._stream(row)
    assert ms.tolist() == [1.0, 3.0, 3.0]
    np.testing.assert_allclose(ells, [1.0, np.exp(-2) + 1, np.exp(-2) + 1 + np.exp(-1)],
                               rtol=1e-15)


# --- llmsym.numeric.online_softmax and merge ------------------------------------------------------


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
    assert online_softmax(z, block_size=2).tolist() == [[0.0, 0.0, 0.0], [0.5, 0.0, 0.5]]


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
