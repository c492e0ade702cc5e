"""Information theory: Gibbs, cross-entropy/KL, maximum likelihood, the softmax gradient.

The derivations run through the real checker; planted errors must be rejected;
``llmsym.numeric`` entropy, cross_entropy, kl_divergence and cosine_similarity are
tested on known values and on extreme inputs (1e-300, subnormals, exact zeros, 1e±200).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.checker import check_claim
from llmsym.model import ASSUMPTION, DEFINITION, FAILED, PROVED, Claim, Step
from llmsym.numeric import cosine_similarity, cross_entropy, entropy, kl_divergence

ROOT = Path(__file__).resolve().parent.parent
IDS = ("gibbs-inequality", "cross-entropy-kl", "max-likelihood-perplexity", "softmax-gradient")


def _module(stem: str):
    return derivation_module(stem)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from llmsym.pipeline import Options, verify

    build = tmp_path_factory.mktemp("information-build")
    report = verify(Options(ids=IDS, use_cache=False, build_dir=build))
    return {d.id: d for d in report.derivations}


def _statuses(derivation_report, claim: str) -> list[str]:
    return [s.status.kind for s in derivation_report.steps if s.claim == claim]


# --- The derivations ------------------------------------------------------------------------


def test_every_derivation_holds(reports):
    assert set(reports) == set(IDS)
    for ident, rep in reports.items():
        assert rep.ok, (ident, rep.status.label, rep.error)
        failed = [(n.name, n.detail) for n in rep.numeric if not n.passed]
        assert rep.numeric and not failed, (ident, failed)


def test_gibbs_lemma_is_proved_not_assumed(reports):
    """log x <= x - 1 rests on checked series certificates, not on a stated step."""
    rep = reports["gibbs-inequality"]
    for claim in ("gap_above_one", "gap_below_one", "gibbs", "self_divergence"):
        assert set(_statuses(rep, claim)) == {PROVED}, claim
    tactics = [s.tactic for s in rep.steps if s.claim.startswith("gap_")]
    assert sum(t.startswith("certificate") for t in tactics) == 2


def test_cross_entropy_claims_are_proved(reports):
    rep = reports["cross-entropy-kl"]
    for claim in ("decomposition", "minimiser", "one_hot"):
        assert set(_statuses(rep, claim)) == {PROVED}, claim


def test_likelihood_states_only_the_grouping_by_counts(reports):
    rep = reports["max-likelihood-perplexity"]
    kinds = _statuses(rep, "likelihood")
    assert kinds.count(DEFINITION) == 1 and kinds.count(PROVED) == len(kinds) - 1
    assert set(_statuses(rep, "uniform_perplexity")) == {PROVED}
    assert ASSUMPTION not in {s.status.kind for s in rep.steps}


def test_softmax_gradient_is_proved_for_every_n(reports):
    rep = reports["softmax-gradient"]
    assert {s.status.kind for s in rep.steps} == {DEFINITION, PROVED}


def test_a_reversed_gibbs_inequality_is_rejected():
    """KL(p || q) <= sum(p - q) is false; the checker must say so."""
    g = _module("gibbs_inequality")
    p, q, i, n = g.p, g.q, g.i, g.n
    wrong = Claim("wrong", "reversed", start=g.KL(p[i], q[i], i, n),
                  steps=(Step(sp.Sum(p[i] - q[i], (i, 1, n)), "planted", rel="<="),))
    (report,) = check_claim(wrong, derivation="test", first_index=1, seed=0)
    assert report.status.kind == FAILED


def test_a_wrong_certificate_is_rejected():
    """A certificate that is not the difference of the two sides proves nothing."""
    g = _module("gibbs_inequality")
    p, q, i, n = g.p, g.q, g.i, g.n
    wrong = Claim("wrong", "bad certificate", start=g.KL(p[i], q[i], i, n),
                  steps=(Step(sp.Sum(p[i] - q[i], (i, 1, n)), "planted", rel=">=",
                              certificate=sp.Sum(q[i] * g.gibbs_gap(p[i] / q[i]), (i, 1, n))),))
    (report,) = check_claim(wrong, derivation="test", first_index=1, seed=0)
    assert report.status.kind == FAILED


def test_a_wrong_gradient_is_rejected():
    """d/dz_1 (-log s_y) = s_1 + [y = 1] has the wrong sign on the target term."""
    m = _module("softmax_gradient")
    start = m.ce_gradient.steps[1].expr
    wrong = Claim("wrong", "sign flipped", start=start,
                  steps=(Step(m.s(1) + sp.KroneckerDelta(1, m.y), "planted", "unfold+doit+doit"),))
    (report,) = check_claim(wrong, derivation="test", first_index=1, seed=0)
    assert report.status.kind == FAILED


# --- llmsym.numeric: entropy, cross-entropy, KL -----------------------------------------------


def test_known_values():
    p, q = np.array([0.5, 0.25, 0.25]), np.array([0.25, 0.5, 0.25])
    assert entropy(p) == pytest.approx(1.5 * math.log(2), rel=1e-15)
    assert cross_entropy(p, q) == pytest.approx(1.75 * math.log(2), rel=1e-15)
    assert kl_divergence(p, q) == pytest.approx(0.25 * math.log(2), rel=1e-14)
    assert entropy(np.full(8, 1 / 8)) == pytest.approx(math.log(8), rel=1e-15)
    assert cross_entropy([0.0, 1.0, 0.0], q) == pytest.approx(math.log(2), rel=1e-15)


def test_zero_probabilities_follow_0_log_0():
    assert entropy([1.0, 0.0, 0.0]) == 0.0
    assert kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert cross_entropy([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    # the model gives zero mass to an outcome the target needs: infinite loss, not NaN
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
        assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf


@pytest.mark.parametrize("tiny", [1e-300, 5e-324])
def test_extreme_probabilities_stay_finite(tiny):
    p = np.array([1.0 - tiny, tiny])
    q = np.array([tiny, 1.0 - tiny])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        h, hx, kl = float(entropy(p)), float(cross_entropy(p, q)), float(kl_divergence(p, q))
    assert math.isfinite(h) and 0 <= h < 1e-290
    assert hx == pytest.approx(-math.log(tiny), rel=1e-12)
    assert kl == pytest.approx(-math.log(tiny), rel=1e-12)
    assert kl_divergence(q, p) == pytest.approx(-math.log(tiny), rel=1e-12)


def test_no_overflow_where_a_ratio_would():
    """p_i / q_i = 1 / 1e-310 overflows; KL is computed from logarithms instead."""
    p, q = np.array([1.0, 0.0]), np.array([1e-310, 1.0 - 1e-310])
    assert kl_divergence(p, q) == pytest.approx(-math.log(1e-310), rel=1e-12)


def test_kl_is_non_negative_and_zero_on_the_diagonal():
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.full(50, 0.1), size=200)
    q = rng.dirichlet(np.full(50, 0.1), size=200)
    assert np.all(kl_divergence(p, q) >= 0)
    assert np.all(kl_divergence(p, p) == 0)
    decomposition = cross_entropy(p, q) - entropy(p) - kl_divergence(p, q)
    assert np.max(np.abs(decomposition)) < 1e-12


def test_axis_and_broadcasting():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(5), size=(4, 3))  # (4, 3, 5)
    q = rng.dirichlet(np.ones(5))  # one model for every row
    batched = cross_entropy(p, q)
    assert batched.shape == (4, 3)
    assert batched[2, 1] == pytest.approx(float(cross_entropy(p[2, 1], q)))
    assert entropy(np.moveaxis(p, -1, 0), axis=0) == pytest.approx(entropy(p))


@pytest.mark.parametrize(
    ("p", "q", "message"),
    [
        ([0.5, 0.5], [0.2, 0.3, 0.5], "outcomes"),
        ([0.5, 0.6], [0.5, 0.5], "sum to 1"),
        ([1.5, -0.5], [0.5, 0.5], "negative"),
        ([np.nan, 1.0], [0.5, 0.5], "non-finite"),
        (np.full((2, 3), 1 / 3), np.full((4, 3), 1 / 3), "broadcast"),
    ],
)
def test_bad_input_gets_one_clear_error(p, q, message):
    with pytest.raises(ValueError, match=message):
        kl_divergence(p, q)


def test_entropy_rejects_a_scalar():
    with pytest.raises(ValueError, match="scalar"):
        entropy(1.0)


# --- llmsym.numeric: cosine similarity -------------------------------------------------------


def test_cosine_known_values():
    assert cosine_similarity([1.0, 0.0], [0.0, 2.0]) == 0.0
    assert cosine_similarity([1.0, 2.0], [-2.0, -4.0]) == pytest.approx(-1.0)
    assert cosine_similarity([1.0, 1.0], [1.0, 0.0]) == pytest.approx(1 / math.sqrt(2))


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1e150, 1e200, 1e300])
def test_cosine_is_scale_free_for_tiny_and_huge_norms(scale):
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=64), rng.normal(size=64)
    reference = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = float(cosine_similarity(a * scale, b / scale))
    assert got == pytest.approx(reference, abs=1e-14)


def test_cosine_of_a_zero_vector_is_zero_and_results_are_clipped():
    assert cosine_similarity([0.0, 0.0], [1.0, 2.0]) == 0.0
    x = np.full(1000, 0.1)
    assert cosine_similarity(x, x) <= 1.0


def test_cosine_rows():
    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert np.allclose(cosine_similarity(a, [1.0, 0.0]), [1.0, 0.0, 1 / math.sqrt(2)])
    with pytest.raises(ValueError, match="lengths"):
        cosine_similarity(a, [1.0, 0.0, 0.0])
