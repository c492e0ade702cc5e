"""RLHF: per-token KL penalty, PPO clipping and GAE proved; the Gibbs optimum cited from DPO.

One real verification of rlhf (which loads dpo for the citation) is shared by the tests.
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


def _module():
    return load_module(ROOT / "derivations" / "rlhf.py")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=("rlhf",), use_cache=False,
                          build_dir=tmp_path_factory.mktemp("rlhf")))


def _claims(report) -> dict[str, dict]:
    return {c["name"]: c for c in report.claims_json(report.derivation("rlhf"))}


def _proved(claim: Claim) -> bool:
    m = _module()
    definitions = tuple((d.lhs, d.rhs) for d in m.DERIVATION.definitions
                        if not sp.sympify(d.lhs).has(Notation))
    return all(isinstance(o, Proved) for o in check_claim(claim, timeout=30,
                                                          definitions=definitions))


def test_every_claim_is_proved(report):
    d = report.derivation("rlhf")
    assert d is not None and d.ok
    for name, claim in _claims(report).items():
        assert claim["status"]["kind"] == "proved", (name, claim["label"], claim["problems"])


def test_the_gibbs_optimum_is_cited_from_dpo_not_repeated(report):
    claim = _claims(report)["expected_reward"]
    refs = [p for p in claim["premises"] if p["kind"] == "reference"]
    assert [p["ref"] for p in refs] == ["dpo:gibbs"]
    # the cited claim's premise comes along, marked with the reference it came through
    inherited = [p for p in claim["premises"] if p.get("via") == "dpo:gibbs"]
    assert any(p["label"] == "$\\pi(\\cdot|x)$ is a distribution" for p in inherited)
    assert not claim["problems"]  # the cited statement is the DPO claim's own


def test_clipping_claims_state_their_regions(report):
    claims = _claims(report)
    above = {p["latex"] for p in claims["clip_above"]["premises"]}
    assert above == {r"\hat{A}_{t} > 0", r"\rho_{t} > \epsilon_{\mathrm{clip}} + 1"}
    below = {p["latex"] for p in claims["clip_below"]["premises"]}
    assert below == {r"\hat{A}_{t} < 0", r"\rho_{t} < 1 - \epsilon_{\mathrm{clip}}"}


def test_gae_recursion_holds_for_every_horizon(report):
    claim = _claims(report)["gae_recursion"]
    assert claim["status"]["kind"] == "proved"
    assert claim["statement"] == r"\hat{A}_{t} = {\delta^{V}}_{t} + \gamma \lambda \hat{A}_{t + 1}"
    # only the summation range is a premise: no size was fixed
    assert all(p["label"] == "range" for p in claim["premises"])
    steps = [s for s in report.derivation("rlhf").steps if s.claim == "gae_unrolled"]
    assert {s.part for s in steps} >= {"base 1", "step 1", "statement"}


def test_numeric_checks_pass(report):
    d = report.derivation("rlhf")
    assert d.numeric and all(n.passed for n in d.numeric), [
        (n.name, n.detail) for n in d.numeric if not n.passed]


def test_the_face_rules_hold(report):
    from llmsym.sheet.arrange import face_of, face_problems

    assert face_problems(face_of(report, ("dpo", "rlhf"))) == []


def test_clipping_in_the_wrong_region_is_refused():
    m = _module()
    planted = Claim("planted", "good action below the region", start=m.clipped_term,
                    given=(m.gains, m.below),
                    steps=(Step(m.factors(1 - m.clip_eps, m.advantage), "wrong region", "unfold"),))
    assert not _proved(planted)


def test_gae_with_a_wrong_discount_is_refused():
    m = _module()
    wrong = m.delta[m.t] + m.gamma * m.A(m.t + 1)  # λ dropped
    planted = Claim("planted", "no λ", start=m.A(m.t),
                    steps=(Step(m.gae_sum, "definition", "unfold"),
                           Step(wrong, "dropped λ", "unfold+align_sums")))
    assert not _proved(planted)


def test_the_per_token_rewards_need_the_autoregressive_policy():
    m = _module()
    last = m.token_rewards.steps[-1]
    other = Hypothesis(sp.Eq(m.pi_seq, 2 * sp.Product(m.pi_tok[m.t], (m.t, 1, m.length))),
                       "a wrong sequence probability")
    planted = Claim("planted", "π(y|x) = 2 Π", start=m.token_rewards.steps[-2].expr,
                    steps=(Step(last.expr, last.reason, "expand_log", using=(other,)),))
    assert not _proved(planted)


def test_every_tied_check_fails_on_a_scaled_formula():
    from llmsym.verify.formula import Formula
    from llmsym.verify.numeric_checks import caught, formula_for

    m = _module()
    for check in m.DERIVATION.checks:
        base = formula_for(m.DERIVATION, check)
        assert caught(check, m.DERIVATION, Formula(sp.Rational(11, 10) * base.expr)), check.name


def test_the_numeric_gae_forms_agree():
    from llmsym.numeric.rlhf import discounted_returns, gae_discounted_sum, gae_recursive

    rng = np.random.default_rng(3)
    rewards, values = rng.normal(size=(4, 9)), rng.normal(size=(4, 10))
    np.testing.assert_allclose(gae_recursive(rewards, values, 0.97, 0.9),
                               gae_discounted_sum(rewards, values, 0.97, 0.9), rtol=1e-12)
    # λ = 1: the advantage is the discounted return minus the value (Schulman et al. 2015, §3)
    returns = discounted_returns(rewards, 0.97, bootstrap=values[:, -1])
    np.testing.assert_allclose(gae_recursive(rewards, values, 0.97, 1.0),
                               returns - values[:, :-1], rtol=1e-12, atol=1e-12)
