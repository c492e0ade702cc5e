"""Optimisers and mini-batch gradients: claims proved with their premises, planted errors refused,
tied checks with teeth, the face rules.

One real verification of optimisers and minibatch (no cache) is shared by the tests that read
statuses and premises; planted errors go through the real checker one claim at a time.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import ROOT

from llmsym.check.chain import Proved, check_claim
from llmsym.derivation import Claim, Hypothesis, Step
from llmsym.notation import Notation
from llmsym.verify.loader import load_module

IDS = ("optimisers", "minibatch")


def _module(stem: str):
    return load_module(ROOT / "derivations" / f"{stem}.py")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("opt")))


def _claims(report, ident: str) -> dict[str, dict]:
    return {c["name"]: c for c in report.claims_json(report.derivation(ident))}


def _proved(claim: Claim, module) -> bool:
    definitions = tuple((d.lhs, d.rhs) for d in module.DERIVATION.definitions
                        if not sp.sympify(d.lhs).has(Notation))
    return all(isinstance(o, Proved) for o in check_claim(claim, timeout=30,
                                                          definitions=definitions))


# --- Statuses and premises ------------------------------------------------------------------


def test_every_claim_is_proved_for_all_values(report):
    for ident in IDS:
        d = report.derivation(ident)
        assert d is not None and d.ok, ident
        for name, claim in _claims(report, ident).items():
            assert claim["status"]["kind"] == "proved", (ident, name, claim["label"])


def test_the_face_has_the_updates_and_the_bias_correction(report):
    defs = [d["name"] for d in report.derivation("optimisers").view["definitions"]
            if d["on_sheet"]]
    assert defs == ["Adam"]  # the 4-page face; gradient descent and AdamW in Appendix A
    face = [c["name"] for c in _claims(report, "optimisers").values() if c["on_sheet"]]
    assert face == ["bias_correction"]


def test_bias_correction_rests_on_stationarity_and_beta_below_one(report):
    claims = _claims(report, "optimisers")
    for name in ("moment_bias", "bias_correction"):
        latex = {p["latex"] for p in claims[name]["premises"]}
        assert r"\beta_{1} < 1" in latex, name  # 0 < beta1: the symbol is positive
        assert r"\mathbb{E}\left[{g}_{s}\right] = \bar{g}" in latex, name
        assert r"m_{0} = 0" in latex, name
    # the unrolled moment is an induction, for every t, not a sized proof
    unrolled = [s for s in report.derivation("optimisers").steps if s.claim == "ema_unrolled"]
    assert {s.part for s in unrolled} >= {"base 1", "step 1", "statement"}
    assert all(s.status.kind.value == "proved" for s in unrolled)


def test_minibatch_covariance_is_proved_for_every_batch_size(report):
    claims = _claims(report, "minibatch")
    cov = claims["covariance"]
    assert cov["statement"] == (r"\operatorname{Cov}\left[{\hat{g}}_{i}, {\hat{g}}_{i'}\right]"
                                r" = \frac{{\Sigma}_{i,i'}}{b}")
    assert cov["status"]["kind"] == "proved"  # for every b: no size was fixed
    refs = {p["ref"] for p in cov["premises"] if p["kind"] == "reference"}
    assert refs == {"minibatch:row"}
    latex = {p["latex"] for p in cov["premises"]}
    assert (r"\operatorname{Cov}\left[{g}_{j,i}, {g}_{k,i'}\right] = "
            r"\Sigma_{i,i'} \delta_{j k}") in latex or any(
        "delta_{j k}" in x for x in latex), latex  # independent draws, inherited
    assert any(p["label"] == "$j$ is one of the $b$ draws" for p in cov["premises"])


def test_the_best_step_and_the_noise_scale(report):
    claims = _claims(report, "minibatch")
    step = claims["optimal_step"]
    assert r"\eta_{\max}" in step["statement"] and r"B_{\mathrm{noise}}" in step["statement"]
    assert {w["latex"].split(" :=")[0] for w in step["where"]} >= {
        r"\eta_{\max}", r"B_{\mathrm{noise}}"}
    simple = claims["simple_scale"]
    assert any(p["label"] == "isotropic curvature $H = \\kappa I$" for p in simple["premises"])


def test_numeric_checks_pass_and_are_tied(report):
    for ident in IDS:
        d = report.derivation(ident)
        assert d.numeric and all(n.passed for n in d.numeric), [
            (n.name, n.detail) for n in d.numeric if not n.passed]
        assert all(n.claim for n in d.numeric), ident


def test_the_face_rules_hold(report):
    from llmsym.sheet.arrange import face_of, face_problems

    assert face_problems(face_of(report, IDS)) == []


# --- Planted errors -------------------------------------------------------------------------


def test_the_geometric_sum_needs_beta_below_one():
    m = _module("optimisers")
    step = m.moment_bias.steps[1]
    planted = Claim("planted", "no β₁ < 1", start=m.moment_bias.steps[0].expr,
                    steps=(Step(step.expr, step.reason, step.tactic),))
    assert not _proved(planted, m)
    kept = Claim("kept", "with β₁ < 1", start=m.moment_bias.steps[0].expr,
                 steps=(step,), given=(m.beta1_below_one,))
    assert _proved(kept, m)


def test_a_wrong_bias_is_refused():
    m = _module("optimisers")
    planted = Claim("planted", "wrong power", start=m.moment_bias.steps[0].expr,
                    given=(m.beta1_below_one,),
                    steps=(Step((1 - m.beta1 ** (m.t + 1)) * m.g_bar, "off by one"),))
    assert not _proved(planted, m)


def test_a_covariance_of_sigma_over_b_squared_is_refused():
    m = _module("minibatch")
    planted = Claim("planted", "Σ/b²", start=m.covariance.steps[2].expr,
                    steps=(Step(m.Sigma[m.i, m.i2] / m.b**2, "wrong", "sum"),))
    assert not _proved(planted, m)


def test_a_wrong_noise_scale_is_refused():
    m = _module("minibatch")
    last = m.optimal_step.steps[-1]
    wrong = (m.gHg + m.trHS / m.b) * (m.eta - m.eta_max / (1 + m.B_noise * m.b))
    planted = Claim("planted", "B·b in place of B/b", start=m.optimal_step.steps[-2].expr,
                    steps=(Step(wrong, last.reason, last.tactic),))
    assert not _proved(planted, m)


def test_an_induction_with_a_wrong_hypothesis_is_refused():
    m = _module("optimisers")
    from llmsym.derivation import Induction, induction_hypothesis

    wrong = (1 - m.beta1) * sp.Sum(m.beta1 ** (m.t - m.s + 1) * m.g[m.s], (m.s, 1, m.t))
    ih = induction_hypothesis(m.m(m.t), wrong)
    ind = Induction(m.t, 0, base_steps=(Step(0, "m_0", using=(m.starts_at_zero,)),),
                    step_steps=(Step(m.beta1 * m.m(m.t) + (1 - m.beta1) * m.g[m.t + 1], "update",
                                     using=(m.recursion,)),
                                Step(m.beta1 * wrong + (1 - m.beta1) * m.g[m.t + 1], "IH",
                                     using=(ih,))),
                    hypothesis=ih)
    planted = Claim("planted", "wrong powers", start=m.m(m.t),
                    steps=(Step(wrong, "induction", induction=ind),))
    assert not _proved(planted, m)


def test_hypotheses_are_needed_for_the_moment():
    m = _module("optimisers")
    step = m.moment_sum.steps[-1]
    planted = Claim("planted", "no stationarity", start=m.moment_sum.steps[1].expr,
                    steps=(Step(step.expr, step.reason, step.tactic),))
    assert not _proved(planted, m)
    other = Hypothesis(sp.Eq(m.Expect(m.g[m.s]), 2 * m.g_bar), "a drifting mean")
    planted = Claim("planted", "another mean", start=m.moment_sum.steps[1].expr,
                    steps=(Step(step.expr, step.reason, using=(other,)),))
    assert not _proved(planted, m)


# --- Tied checks have teeth ----------------------------------------------------------------


@pytest.mark.parametrize("stem", ["optimisers", "minibatch"])
def test_every_tied_check_fails_on_a_scaled_formula(stem):
    from llmsym.verify.formula import Formula
    from llmsym.verify.numeric_checks import caught, formula_for

    m = _module(stem)
    for check in m.DERIVATION.checks:
        base = formula_for(m.DERIVATION, check)
        assert caught(check, m.DERIVATION, Formula(sp.Rational(11, 10) * base.expr)), check.name
        assert not caught(check, m.DERIVATION, base), check.name


def test_results_agree_with_the_numeric_references():
    m, mb = _module("optimisers"), _module("minibatch")
    from llmsym.numeric.optim import AdamState, adam_step

    (factor,) = [r for r in m.DERIVATION.results if r.name == "adam_bias_correction"]
    bias = sp.lambdify(factor.params, factor.expr)
    params, state = np.zeros(1), AdamState.zeros(1)
    for step in range(1, 6):  # a constant gradient: m_t = (1 - beta1^t) g exactly
        params, state = adam_step(params, np.array([2.0]), state, beta1=0.8)
        assert float(state.m[0]) == pytest.approx(bias(0.8, step) * 2.0, rel=1e-14)
    (fraction,) = mb.DERIVATION.results
    shrink = sp.lambdify(fraction.params, fraction.expr)
    assert shrink(10.0, 10) == pytest.approx(0.5)
    assert shrink(0.0, 3) == pytest.approx(1.0)
