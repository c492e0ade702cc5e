"""Why attention divides by sqrt(d_k): the derivation, its stated steps, and its checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.checker import check_claim
from llmsym.model import ASSUMPTION, DEFINITION, FAILED, PROVED, Claim, Step

ROOT = Path(__file__).resolve().parent.parent


def _module():
    return derivation_module("attention_variance")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.pipeline import Options, verify

    build = tmp_path_factory.mktemp("attention-variance-build")
    (rep,) = verify(Options(ids=("attention-scaling",), use_cache=False,
                            build_dir=build)).derivations
    return rep


def test_derivation_holds(report):
    assert report.ok, (report.status.label, report.error)
    assert [n.name for n in report.numeric if n.passed] == ["monte-carlo", "saturation",
                                                             "normal-exact"]


def test_only_probability_facts_are_stated(report):
    """Independence, linearity and Var[cX] = c^2 Var[X] are stated; all algebra is proved."""
    stated = [s for s in report.steps if s.status.kind in (ASSUMPTION, DEFINITION)]
    proved = [s for s in report.steps if s.status.kind == PROVED]
    assert {s.status.kind for s in report.steps} <= {ASSUMPTION, DEFINITION, PROVED}
    assert sum(s.status.kind == ASSUMPTION for s in stated) == 5
    assert len(proved) == 7
    # every claim ends with a proved step: the stated facts are never the conclusion
    last = {}
    for s in report.steps:
        last[s.claim] = s.status.kind
    assert all(kind == PROVED for claim, kind in last.items() if claim != "definitions")


def test_results_match_the_closed_forms():
    m = _module()
    results = {r.name: r for r in m.DERIVATION.results}
    assert set(results) == {"product_variance", "score_variance", "scaled_score_variance"}
    f = sp.lambdify(results["score_variance"].params, results["score_variance"].expr)
    assert f(64, 1.0, 1.0, 0.0, 0.0) == 64.0
    assert f(16, 2.0, 0.5, 1.0, -1.0) == 16 * (1.0 + 4.0 * 1.0 + 0.25 * 1.0)


def test_a_wrong_per_term_variance_is_rejected():
    """Forgetting the cross term sigma_k^2 mu_q^2 must fail the expand step."""
    m = _module()
    wrong_end = m.sigma_q**2 * m.sigma_k**2 + m.sigma_q**2 * m.mu_k**2
    steps = m.term_variance.steps
    wrong = Claim("wrong", "planted", start=steps[2].expr,
                  steps=(Step(wrong_end, "planted", "expand"),))
    (rep,) = check_claim(wrong, derivation="test", first_index=1, seed=0)
    assert rep.status.kind == FAILED


def test_monte_carlo_detects_a_wrong_variance(monkeypatch):
    """The Monte Carlo check is not vacuous: components 10% too wide break the bound."""
    m = _module()
    draw = m._draw
    monkeypatch.setattr(m, "_draw", lambda rng, kind, size, mean, sd: draw(rng, kind, size,
                                                                          mean, 1.1 * sd))
    measured = m.check_monte_carlo(np.random.default_rng(0))
    assert measured.max_error > measured.tolerance


@pytest.mark.parametrize("seed", range(5))
def test_monte_carlo_passes_across_seeds(seed):
    m = _module()
    measured = m.check_monte_carlo(np.random.default_rng(seed))
    assert measured.max_error <= measured.tolerance


def test_unscaled_softmax_saturates_and_scaled_does_not():
    m = _module()
    rng = np.random.default_rng(1)
    small, large = m._saturation(rng, 16), m._saturation(rng, 1024)
    assert large["unscaled"][0] > 0.99 > small["unscaled"][0]
    assert large["unscaled"][1] < 0.35 * small["unscaled"][1]
    assert large["scaled"][1] == pytest.approx(small["scaled"][1], rel=0.15)


def test_saturation_premise_is_enforced(monkeypatch):
    """If the unscaled softmax did not saturate, the check must fail, not pass quietly."""
    m = _module()
    real = m._saturation

    def flat(rng, dim):
        out = real(rng, dim)
        out["unscaled"] = out["scaled"]  # pretend the unscaled scores were scaled
        return out

    monkeypatch.setattr(m, "_saturation", flat)
    assert m.check_saturation(np.random.default_rng(0)).max_error == float("inf")
