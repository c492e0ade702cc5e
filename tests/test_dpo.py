"""DPO and its variants: the claims proved with their premises, planted errors refused, dpo_loss.

One real verification of dpo and dpo-variants (the real checker, no cache) is shared by the
tests that read statuses, premises and numeric checks; planted errors go through the checker
one claim at a time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import ROOT

from llmsym.check.chain import Proved, check_claim
from llmsym.derivation import Claim, Step
from llmsym.numeric import dpo_loss
from llmsym.verify.loader import load_module

IDS = ("dpo", "dpo-variants")


def _module(stem: str):
    return load_module(ROOT / "derivations" / f"{stem}.py")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("dpo")))


def _claims(report, ident: str) -> dict[str, dict]:
    return {c["name"]: c for c in report.claims_json(report.derivation(ident))}


def _labels(claim: dict) -> list[tuple[str, str]]:
    return [(p["kind"], p.get("ref") or p.get("label") or "") for p in claim["premises"]]


# --- Statuses, premises, faces -------------------------------------------------------------


def test_every_claim_is_proved_for_all_values(report):
    for ident in IDS:
        d = report.derivation(ident)
        assert d is not None and d.ok, (ident, [(s.claim, s.message) for s in d.steps
                                               if not s.status.ok])
        for name, claim in _claims(report, ident).items():
            assert claim["status"]["kind"] == "proved", (ident, name, claim["label"])
            assert not claim["problems"], (ident, name, claim["problems"])


def test_the_face_shows_the_papers_chain(report):
    face = [c["name"] for c in _claims(report, "dpo").values() if c["on_sheet"]]
    assert face == ["optimum", "dpo_loss"]  # the 4-page face; Appendix A has the whole chain
    defs = [d["name"] for d in report.derivation("dpo").view["definitions"] if d["on_sheet"]]
    assert defs == ["KL-regularised objective"]
    variants = [c["name"] for c in _claims(report, "dpo-variants").values() if c["on_sheet"]]
    assert variants == ["ipo_optimum"]


def test_the_objective_needs_a_distribution_and_says_so(report):
    claims = _claims(report, "dpo")
    for name in ("gibbs", "optimum"):
        assert ("hypothesis", "$\\pi(\\cdot|x)$ is a distribution") in _labels(claims[name])
    assert {w["latex"].split(" :=")[0] for w in claims["gibbs"]["where"]} == {
        r"\pi^{*}\left(\mathbf{y} \middle| \mathbf{x}\right)", r"Z\left(\mathbf{x}\right)"}
    # the maximum rests on Gibbs' inequality, proved elsewhere and cited
    refs = {p["ref"] for p in claims["optimum"]["premises"] if p["kind"] == "reference"}
    assert {"dpo:gibbs", "dpo:normalised"} <= refs
    assert any(r.startswith("gibbs-inequality:") for r in refs)


def test_the_dpo_loss_is_a_proved_expectation_over_the_data_with_z_cancelling(report):
    loss = _claims(report, "dpo")["dpo_loss"]
    assert loss["status"]["kind"] == "proved"
    assert r"\mathbb{E}_{(\mathbf{x}, y_{w}, y_{l}) \sim \mathcal{D}}" in loss["statement"]
    assert r"P_{r_{\boldsymbol{\theta}}}" in loss["statement"]  # Bradley–Terry under r_θ
    assert loss["premises"] == []  # for any policy: nothing about π_θ is assumed
    assert any("r_{\\boldsymbol{\\theta}}" in w["latex"] and "Z" in w["latex"]
               for w in loss["where"])
    assert set(loss["numeric"]) == {"dpo_loss", "z_cancels"}
    # the only stated modelling choice on the way is the Bradley–Terry definition
    d = report.derivation("dpo")
    assert d.counts()["stated"] == 0


def test_the_gradient_states_its_first_order_premise(report):
    grad = _claims(report, "dpo")["gradient"]
    kinds = _labels(grad)
    assert ("reference", "dpo:pair_gradient") in kinds
    assert any(k == "assumption" and "first order" in label for k, label in kinds)


def test_variants_carry_the_informative_label_premise(report):
    claims = _claims(report, "dpo-variants")
    for name in ("cdpo_optimum", "ipo_optimum"):
        assert any("epsilon_{\\mathrm{flip}} < \\frac{1}{2}" in (p["latex"] or "")
                   for p in claims[name]["premises"]), name
        assert claims[name]["where"], name  # the loss is defined where it is shown
    refs = {p["ref"] for p in claims["cdpo_optimum"]["premises"] if p["kind"] == "reference"}
    assert refs == {"dpo-variants:cdpo_slope", "dpo-variants:cdpo_convex"}


def test_numeric_checks_pass_and_are_tied(report):
    for ident in IDS:
        d = report.derivation(ident)
        failed = [(n.name, n.detail) for n in d.numeric if not n.passed]
        assert d.numeric and not failed, failed
    tied = {n.name: n.claim for n in report.derivation("dpo").numeric}
    assert tied == {"gibbs": "gibbs", "maximum": "optimum", "bradley_terry": "bt_optimal",
                    "dpo_loss": "dpo_loss", "z_cancels": "dpo_loss", "gradient": "gradient",
                    "loss_stability": None}


def test_the_face_rules_hold(report):
    from llmsym.sheet.arrange import face_of, face_problems

    assert face_problems(face_of(report, IDS)) == []


# --- Planted errors must fail ----------------------------------------------------------------


def _proved(claim: Claim, module) -> bool:
    from llmsym.notation import Notation

    definitions = tuple((d.lhs, d.rhs) for d in module.DERIVATION.definitions
                        if not sp.sympify(d.lhs).has(Notation))
    outcomes = check_claim(claim, timeout=30, definitions=definitions)
    return all(isinstance(o, Proved) for o in outcomes)


def test_a_partition_function_of_the_response_would_not_cancel():
    m = _module("dpo")
    z_of_response = sp.IndexedBase("Zy", positive=True)
    theta_reward = tuple(m._log_ratio(m.pi_theta[y, m.x], y) + m.beta * sp.log(z_of_response[y])
                         for y in (m.y_w, m.y_l))
    start = -m.E_D(sp.log(m.sigmoid(m.minus(*theta_reward))))
    planted = Claim("planted", "Z(x, y) in place of Z(x)", start=start,
                    steps=(Step(-m.E_D(sp.log(m.sigmoid(m.dpo_margin))), "cancel?", "unfold+sum"),))
    assert not _proved(planted, m)


def test_the_objective_without_normalisation_is_refused():
    m = _module("dpo")
    last = m.gibbs.steps[-1]
    planted = Claim("planted", "no Σπ = 1", start=m.gibbs.steps[-2].expr,
                    steps=(Step(last.expr, last.reason, last.tactic),))
    assert not _proved(planted, m)
    kept = Claim("kept", "with Σπ = 1", start=m.gibbs.steps[-2].expr, steps=(last,))
    assert _proved(kept, m)


def test_a_gradient_with_the_weight_reversed_is_refused():
    m = _module("dpo")
    wrong = m.factors(m.beta, m.sigmoid(m.minus(m.r_hat[m.x, m.y_w], m.r_hat[m.x, m.y_l])),
                      m.score_gap)
    planted = Claim("planted", "σ's argument reversed", start=m.pair_gradient.start,
                    steps=(Step(m.pair_gradient.steps[0].expr, "as proved",
                                "unfold+powsimp+together"),
                           Step(wrong, "reversed", "definition")))
    assert not _proved(planted, m)


def test_the_maximum_in_the_wrong_direction_is_refused():
    m = _module("dpo")
    planted = Claim("planted", "reversed", start=m.optimum.steps[1].expr,
                    steps=(Step(m.beta * sp.log(m.Z[m.x]), "reversed", "nonneg", rel=">="),))
    assert not _proved(planted, m)


def test_the_margin_of_the_flipped_label_is_refused():
    v = _module("dpo_variants")
    wrong = sp.log(v.eps / (1 - v.eps)) / v.beta
    start = sp.Subs(sp.Derivative(v.L_cdpo(v.h), v.h), v.h, wrong)
    planted = Claim("planted", "flipped margin", start=start,
                    steps=(Step(0, "planted", "unfold+doit+together"),))
    assert not _proved(planted, v)


# --- Results agree with the numeric module ---------------------------------------------------


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


def test_a_tied_check_fails_on_a_scaled_formula():
    from llmsym.verify.formula import Formula
    from llmsym.verify.numeric_checks import caught, formula_for

    m = _module("dpo")
    for check in m.DERIVATION.checks:
        if check.claim is None:
            continue
        base = formula_for(m.DERIVATION, check)
        assert caught(check, m.DERIVATION, Formula(sp.Rational(11, 10) * base.expr)), check.name


# --- dpo_loss itself ---------------------------------------------------------------------------


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def test_dpo_loss_values():
    assert float(dpo_loss(0.0, 0.0, 0.0, 0.0)) == pytest.approx(math.log(2.0), rel=1e-15)
    # margin h = (−1 − (−2)) − (−3 − (−1)) = 3, beta = 0.5: −log σ(1.5)
    got = float(dpo_loss(-1.0, -3.0, -2.0, -1.0, beta=0.5))
    assert got == pytest.approx(math.log1p(math.exp(-1.5)), rel=1e-15)


@pytest.mark.parametrize("margin", [-1e5, -1e3, -40.0, 40.0, 1e3, 1e5])
def test_dpo_loss_is_stable_at_extreme_margins(margin):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = float(dpo_loss(margin, 0.0, 0.0, 0.0, beta=1.0))
        smoothed = float(dpo_loss(margin, 0.0, 0.0, 0.0, beta=1.0, label_smoothing=0.1))
    assert got == pytest.approx(_softplus(-margin), rel=1e-15, abs=1e-300)
    expected = 0.9 * _softplus(-margin) + 0.1 * _softplus(margin)
    assert smoothed == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("kwargs", [{"beta": 0.0}, {"beta": -1.0}, {"beta": float("nan")},
                                    {"label_smoothing": -0.1}, {"label_smoothing": 0.6}])
def test_dpo_loss_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        dpo_loss(0.0, 0.0, 0.0, 0.0, **kwargs)
