"""Why attention divides by sqrt(d_k), under the real checker.

Vaswani's footnote 4 from its premises (independent components, mean 0, variance 1),
with Var[cX] = c^2 Var[X] and Bienaymé proved for any d_k rather than assumed; the
per-query spread sigma_k^2 |q|^2; the saturation bound on the softmax Jacobian. Each
claim shows its premises, the face follows its rules, wrong steps are refused and the
tied numeric checks fail on wrong formulas (x1.1, and E[(q.k)^2] in place of Var[q.k]).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.notation import Cov, Expect, Var
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula
from llmsym.verify.numeric_checks import formula_for, run_check

IDS = ("attention-scaling",)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    return {c["name"]: c for c in result.claims_json(result.derivation("attention-scaling"))}


@pytest.fixture(scope="module")
def av():
    return derivation_module("attention_variance")


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"]]


# --- The derivation ---------------------------------------------------------------------------


def test_every_claim_is_proved_in_general(result, claims):
    d = result.derivation("attention-scaling")
    assert d.ok, [(s.claim, s.message) for s in d.steps if not s.status.ok]
    for name, c in claims.items():
        assert c["status"]["kind"] == "proved", (name, c["label"])
        assert not c["problems"], name
    # nothing probabilistic is stated: every link is checked
    assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]
    assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric if not n.passed]


def test_vaswani_footnote_with_its_premises(claims):
    var = claims["score_variance"]
    assert var["on_sheet"]
    assert var["statement"] == (r"\operatorname{Var}\left[\mathbf{q} \cdot \mathbf{k}\right]"
                                r" = d_{k}")
    premises = _premises(var)
    assert any("independent" in p for p in premises)  # the displayed assumption
    for fact in (r"\mathbb{E}\left[{q}_{i}\right] = 0", r"\mathbb{E}\left[{k}_{i}\right] = 0",
                 r"\operatorname{Var}\left[{q}_{i}\right] = 1",
                 r"\operatorname{Var}\left[{k}_{i}\right] = 1"):
        assert fact in premises, fact
    # Bienaymé and the per-term variance are references, with their own premises inherited
    refs = {p["ref"] for p in var["premises"] if p["ref"]}
    assert {"attention-scaling:sum_variance", "attention-scaling:term_variance"} <= refs
    assert any(r"\delta_{i j}" in p for p in premises)  # the terms are uncorrelated
    assert var["where"] == [{"latex": r"{X}_{i} := {q}_{i} {k}_{i}"}]
    mean = claims["score_mean"]
    assert mean["statement"].endswith("= 0")
    scaled = claims["scaled_variance"]
    assert scaled["statement"].endswith("= 1")


def test_probability_facts_are_proved_not_assumed(claims):
    scale = claims["scale_variance"]
    assert scale["statement"] == (r"\operatorname{Var}\left[\lambda Y\right] = \lambda^{2}"
                                  r" \operatorname{Var}\left[Y\right]")
    assert scale["premises"] == []
    bienayme = claims["sum_variance"]
    assert bienayme["statement"] == (
        r"\operatorname{Var}\left[\sum_{i=1}^{d_{k}} {X}_{i}\right] = \sum_{i=1}^{d_{k}}"
        r" \operatorname{Var}\left[{X}_{i}\right]")
    assert (r"\mathbb{E}\left[{X}_{i} {X}_{j}\right] = \mathbb{E}\left[{X}_{i}\right]"
            r" \mathbb{E}\left[{X}_{j}\right] + \delta_{i j}"
            r" \operatorname{Var}\left[{X}_{i}\right]") in _premises(bienayme)


def test_per_query_view_and_saturation(claims):
    per_query = claims["query_variance"]
    assert per_query["statement"].endswith(
        r"= \sigma_{k}^{2} \left\|\mathbf{q}\right\|^{2}")
    assert any(r"\delta_{i j} \sigma_{k}^{2}" in p for p in _premises(per_query))
    mean = claims["expected_query_variance"]
    assert mean["statement"].endswith(
        r"= d_{k} \sigma_{k}^{2} \left(\sigma_{q}^{2} + \mu_{q}^{2}\right)")
    saturation = claims["saturation"]
    assert r"\le 2 \left(1 -" in saturation["statement"]
    assert saturation["premises"][0]["ref"] == "softmax-gradient:jacobian"
    assert all(p.get("via") == "softmax-gradient:jacobian" for p in saturation["premises"][1:])


def test_the_face_follows_its_rules(result):
    face = face_of(result, IDS)
    assert face_problems(face) == []
    assert {"score_variance", "scaled_variance"} <= {e["name"] for e in face}


# --- Wrong steps are refused --------------------------------------------------------------------


def _refused(start, *steps) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps), timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_a_wrong_term_variance_is_refused(av):
    """E[q^2 k^2] - E[qk]^2 with the means' term dropped (E[(qk)^2] in place of Var) fails."""
    q, k, i = av.q, av.k, av.i
    line = (Var(q[i]) + Expect(q[i]) ** 2) * (Var(k[i]) + Expect(k[i]) ** 2)
    assert _refused(Var(q[i] * k[i]),
                    Step(Expect(q[i] ** 2 * k[i] ** 2), "forgot the squared mean", "unfold"))
    assert _refused(line - Expect(q[i]) ** 2 * Expect(k[i]) ** 2,
                    Step(Var(q[i]) * Var(k[i]) + 1, "wrong expansion", "unfold+expand"))


def test_variance_of_a_sum_needs_uncorrelated_terms(av):
    """Without the uncorrelated premise the step to sum Var[X_i] is refused."""
    X, i, j, d = av.X, av.i, av.j, av.d
    s = sp.Sum(X[j], (j, 1, d))
    assert _refused(Cov(X[i], s), Step(Var(X[i]), "no premise", "expect+unfold+sum"))
    assert _refused(Var(sp.Sum(X[i], (i, 1, d))),
                    Step(sp.Sum(Var(X[i]), (i, 1, d)), "no premise", "unfold+expect+sum"))


def test_a_constant_factor_does_not_come_out_unsquared(av):
    assert _refused(Var(av.lam * av.Y), Step(av.lam * Var(av.Y), "wrong power", "expect"))


# --- Numeric checks have teeth ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["score-variance", "scaled-variance", "query-variance",
                                  "expected-query-variance", "saturation-bound"])
def test_tied_checks_fail_on_a_formula_five_percent_off(av, name):
    d = av.DERIVATION
    check = next(c for c in d.checks if c.name == name)
    true = formula_for(d, check)
    assert run_check(check, derivation=d, formula=true).passed
    for factor in (sp.Rational(105, 100), sp.Rational(95, 100)):
        wrong = Formula(factor * true.expr, "mutant")
        assert not run_check(check, derivation=d, formula=wrong).passed, (name, factor)


def test_the_exact_route_tells_the_variance_from_the_mean_square(av):
    """For keys of non-zero mean, E[(q.k)^2 | q] = sigma_k^2 |q|^2 + mu_k^2 (sum_i q_i)^2 is far
    from the exact variance over keys, which the claim's formula matches."""
    d = av.DERIVATION
    check = next(c for c in d.checks if c.name == "query-variance")
    qf, i = av.q_fixed, av.i
    mean_square = (av.sigma_k**2 * sp.Sum(qf[i] ** 2, (i, 1, av.d))
                   + av.mu_k**2 * sp.Sum(qf[i], (i, 1, av.d)) ** 2)
    query = np.random.default_rng(3).normal(size=4) + 1.0
    mean, sd = 1.5, 0.7
    _, var = av.exact_moments(av.two_point(mean, sd, 0.2), 4, lambda o: o @ query)
    wrong = float(Formula(mean_square)(sigma_k=sd, mu_k=mean, q_given=query, d_k=4))
    assert abs(wrong - var) / var > 0.5
    right = float(formula_for(d, check)(sigma_k=sd, q_given=query, d_k=4))
    assert right == pytest.approx(var, rel=1e-12)


def test_exact_enumeration_matches_known_moments(av):
    """Two Rademacher products: Var[q1 k1 + q2 k2] = 2; a skewed two-point law has its moments."""
    _, var = av.exact_moments(av.RADEMACHER, 4, lambda o: o[:, 0] * o[:, 2] + o[:, 1] * o[:, 3])
    assert var == pytest.approx(2.0, abs=1e-15)
    mean, var = av.exact_moments(av.two_point(0.3, 1.7, 0.2), 1, lambda o: o[:, 0])
    assert (mean, var) == pytest.approx((0.3, 1.7**2), rel=1e-12)


def test_saturation_experiment_shows_the_unscaled_softmax_saturating(av):
    measured = av.check_saturation_experiment(np.random.default_rng(1))
    assert measured.max_error == 0.0, measured.detail
    largest = float(measured.detail.split("unscaled d_k = 1024: median max weight ")[1][:5])
    assert largest > 0.99
