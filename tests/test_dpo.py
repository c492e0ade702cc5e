"""DPO: the derivations checked by the real checker, planted errors rejected, and dpo_loss."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.checker import check_claim
from llmsym.model import ASSUMPTION, DEFINITION, FAILED, PROVED, PROVED_FOR, Claim, Step
from llmsym.numeric import dpo_loss

ROOT = Path(__file__).resolve().parent.parent


def _module(stem: str):
    return derivation_module(stem)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.pipeline import Options, verify

    build = tmp_path_factory.mktemp("dpo-build")
    return verify(Options(ids=("dpo", "dpo-variants"), use_cache=False, build_dir=build))


def _kinds(derivation_report) -> dict[str, list]:
    kinds: dict[str, list] = {}
    for step in derivation_report.steps:
        kinds.setdefault(step.claim, []).append(step.status)
    return kinds


# --- The chains ---------------------------------------------------------------------------


def test_both_derivations_hold(report):
    assert report.ok, [(d.id, d.status.label) for d in report.derivations]
    assert {d.id for d in report.derivations} == {"dpo", "dpo-variants"}
    for d in report.derivations:
        failed = [(n.name, n.detail) for n in d.numeric if not n.passed]
        assert d.numeric and not failed, failed


def test_dpo_statuses_are_honest(report):
    (dpo,) = [d for d in report.derivations if d.id == "dpo"]
    kinds = _kinds(dpo)
    for claim in ("gibbs", "normalised", "optimum", "reward", "gradient"):
        assert [s.kind for s in kinds[claim]] == [PROVED] * len(kinds[claim]), claim
    (lagrange,) = kinds["lagrange"]
    assert (lagrange.kind, lagrange.var, lagrange.lo, lagrange.hi) == (PROVED_FOR, "n", 2, 6)
    assert dpo.status.label == "proved for n = 2..6"
    assert [s.kind for s in kinds["preference"]] == [ASSUMPTION, PROVED, PROVED]
    assert [s.kind for s in kinds["dpo_loss"]] == [DEFINITION]
    assert {n.name for n in dpo.numeric} == {
        "maximiser", "gibbs_identity", "bradley_terry", "gradient", "loss_stability"}


def test_variants_are_proved(report):
    (variants,) = [d for d in report.derivations if d.id == "dpo-variants"]
    steps = [s for s in variants.steps if s.claim != "definitions"]
    assert steps and all(s.status.kind == PROVED for s in steps)


def test_sheet_shows_the_optimum_the_loss_and_its_gradient():
    dpo = _module("dpo").DERIVATION
    assert [c.name for c in dpo.claims if c.on_sheet] == ["gibbs", "dpo_loss", "gradient"]
    assert dpo.topic == "Alignment" and 60 <= dpo.order <= 69
    variants = _module("dpo_variants").DERIVATION
    assert [c.name for c in variants.claims if c.on_sheet] == ["ipo_optimum"]
    assert variants.topic == "Alignment" and 60 <= variants.order <= 69


# --- Planted errors must fail ----------------------------------------------------------------


def _check(start, *steps):
    claim = Claim("planted", "planted", start=start, steps=tuple(steps))
    return check_claim(claim, derivation="test", first_index=1, seed=0, timeout=10.0)


def test_gradient_with_the_wrong_weight_is_rejected():
    m = _module("dpo")
    wrong = (-m.beta * m.sigmoid(m.minus(m.rhat(m.theta, m.y_w), m.rhat(m.theta, m.y_l)))
             * m.minus(m.grad(sp.log(m.policy(m.theta, m.y_w)), m.theta),
                       m.grad(sp.log(m.policy(m.theta, m.y_l)), m.theta)))
    (rep,) = _check(m.grad(m.L_dpo(m.theta), m.theta), Step(wrong, "sigma's argument flipped"))
    assert rep.status.kind == FAILED


def test_gibbs_rewrite_needs_the_normalisation():
    m = _module("dpo")
    last = m.gibbs.steps[-1]
    (rep,) = _check(m.gibbs.steps[-2].expr, Step(last.expr, "no using", last.tactic))
    assert rep.status.kind == FAILED
    (rep,) = _check(m.gibbs.steps[-2].expr, last)
    assert rep.status.kind == PROVED


def test_kl_bound_in_the_wrong_direction_is_rejected():
    m = _module("dpo")
    start = m.optimum.steps[1].expr  # beta log Z - beta sum pi g(pi*/pi)
    (rep,) = _check(start, Step(m.beta * sp.log(m.Z), "reversed", "nonneg", rel=">="))
    assert rep.status.kind == FAILED


def test_wrong_cdpo_margin_is_rejected():
    v = _module("dpo_variants")
    wrong = sp.log(v.eps / (1 - v.eps)) / v.beta
    start = sp.Subs(sp.Derivative(v.L_cdpo(v.h), v.h), v.h, wrong)
    (rep,) = _check(start, Step(0, "planted: the margin of the flipped label"))
    assert rep.status.kind == FAILED


# --- Results agree with the numeric module ------------------------------------------------


def _result(module, name):
    (res,) = [r for r in module.DERIVATION.results if r.name == name]
    return sp.lambdify(res.params, res.expr, "math")


def test_results_match_dpo_loss():
    m, v = _module("dpo"), _module("dpo_variants")
    pair_loss, weight = _result(m, "dpo_pair_loss"), _result(m, "dpo_gradient_weight")
    for h, beta in [(-3.0, 0.1), (0.0, 1.0), (2.5, 0.7)]:
        assert pair_loss(h, beta) == pytest.approx(float(dpo_loss(h, 0.0, 0.0, 0.0, beta=beta)))
        step = 1e-6
        slope = (float(dpo_loss(h + step, 0.0, 0.0, 0.0, beta=beta))
                 - float(dpo_loss(h - step, 0.0, 0.0, 0.0, beta=beta))) / (2 * step)
        assert weight(h, beta) == pytest.approx(-slope, rel=1e-7)
    margin = _result(v, "cdpo_optimal_margin")
    for beta, eps in [(0.1, 0.1), (0.5, 0.01), (2.0, 0.3)]:
        best = margin(beta, eps)
        losses = [float(dpo_loss(best + d, 0.0, 0.0, 0.0, beta=beta, label_smoothing=eps))
                  for d in (-1e-3, 0.0, 1e-3)]
        assert losses[1] < losses[0] and losses[1] < losses[2]
    assert _result(v, "ipo_optimal_margin")(0.25, 0.0) == pytest.approx(2.0)


# --- dpo_loss ---------------------------------------------------------------------------------


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def test_dpo_loss_values():
    assert float(dpo_loss(0.0, 0.0, 0.0, 0.0)) == pytest.approx(math.log(2.0), rel=1e-15)
    # margin h = (−1 − (−2)) − (−3 − (−1)) = 3, beta = 0.5: −log σ(1.5)
    got = float(dpo_loss(-1.0, -3.0, -2.0, -1.0, beta=0.5))
    assert got == pytest.approx(math.log1p(math.exp(-1.5)), rel=1e-15)


@pytest.mark.parametrize("margin", [-1e5, -1e3, -40.0, 40.0, 1e3, 1e5])
def test_dpo_loss_is_stable_at_extreme_margins(margin):
    beta = 1.0
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        got = float(dpo_loss(margin, 0.0, 0.0, 0.0, beta=beta))
        smoothed = float(dpo_loss(margin, 0.0, 0.0, 0.0, beta=beta, label_smoothing=0.1))
    assert math.isfinite(got) and math.isfinite(smoothed)
    assert got == pytest.approx(_softplus(-beta * margin), rel=1e-15, abs=1e-300)
    expected = 0.9 * _softplus(-beta * margin) + 0.1 * _softplus(beta * margin)
    assert smoothed == pytest.approx(expected, rel=1e-14)


def test_label_smoothing_mixes_the_two_labels():
    rng = np.random.default_rng(0)
    h, beta, eps = rng.normal(size=50) * 5, 0.3, 0.2
    smoothed = dpo_loss(h, 0.0, 0.0, 0.0, beta=beta, label_smoothing=eps)
    clean = dpo_loss(h, 0.0, 0.0, 0.0, beta=beta)
    flipped = dpo_loss(0.0, h, 0.0, 0.0, beta=beta)
    np.testing.assert_allclose(smoothed, (1 - eps) * clean + eps * flipped, rtol=1e-14)


def test_dpo_loss_broadcasts():
    chosen = np.zeros((3, 1))
    rejected = np.linspace(-1.0, 1.0, 4)
    out = dpo_loss(chosen, rejected, 0.0, np.zeros(4), beta=0.1)
    assert out.shape == (3, 4)
    assert np.all(np.diff(out, axis=1) > 0)  # a likelier rejected response: smaller margin
    assert dpo_loss([0.0, 1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]).shape == (2,)
    assert dpo_loss(0.0, 0.0, 0.0, 0.0).shape == ()


@pytest.mark.parametrize("kwargs", [{"beta": 0.0}, {"beta": -1.0}, {"beta": float("nan")},
                                    {"label_smoothing": -0.1}, {"label_smoothing": 0.6}])
def test_dpo_loss_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        dpo_loss(0.0, 0.0, 0.0, 0.0, **kwargs)


def test_docstring_examples_run():
    import doctest

    from llmsym.numeric import dpo as module

    outcome = doctest.testmod(module)
    assert outcome.attempted >= 4 and outcome.failed == 0
