"""Information theory under the real checker: Gibbs, cross-entropy/KL, maximum likelihood,
entropy bounds, conditional entropy and mutual information; and the NumPy references.

Each claim is proved with the premises it is shown with (distributions sum to one, the
target is an outcome, every outcome occurs); the counting step of maximum likelihood is
proved by induction, not stated; the face follows its rules; planted errors are refused;
the numeric checks fail on wrong formulas. ``llmsym.numeric`` entropy, cross_entropy,
kl_divergence and cosine_similarity are tested on known values and extreme inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.numeric import cosine_similarity, cross_entropy, entropy, kl_divergence
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

IDS = ("gibbs-inequality", "cross-entropy-kl", "max-likelihood-perplexity", "information-theory")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    return {(d.id, c["name"]): c for d in result.derivations if d.id in IDS
            for c in result.claims_json(d)}


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"]]


def _refs(claim: dict) -> set[str]:
    return {p["ref"] for p in claim["premises"] if p["ref"]}


NORMALISED = [r"\sum_{i=1}^{n} {p}_{i} = 1", r"\sum_{i=1}^{n} {q}_{i} = 1"]
GAPS = {"gibbs-inequality:gap_above_one", "gibbs-inequality:gap_below_one"}

# --- The derivations ------------------------------------------------------------------------


def test_every_claim_is_proved_with_no_stated_step(result, claims):
    assert result.ok
    for key, c in claims.items():
        assert c["status"]["kind"] == "proved", (key, c["label"])
        assert not c["problems"], key
    for ident in IDS:
        d = result.derivation(ident)
        assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric if not n.passed]
        assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]


def test_gibbs_shows_normalisation_and_its_equality_case(claims):
    gibbs = claims[("gibbs-inequality", "gibbs")]
    assert _premises(gibbs)[:2] == NORMALISED and _refs(gibbs) == GAPS
    gaps = claims[("gibbs-inequality", "kl_as_gaps")]
    assert _premises(gaps)[:2] == NORMALISED
    assert gaps["statement"].endswith(
        r"= \sum_{i=1}^{n} {p}_{i} g\left(\frac{{q}_{i}}{{p}_{i}}\right)")


def test_the_gibbs_lemma_is_proved_by_series(result):
    steps = [s for s in result.derivation("gibbs-inequality").steps
             if s.claim.startswith("gap_")]
    assert all(s.status.kind is Kind.PROVED for s in steps)
    assert sum(s.tactic == "unfold+doit" for s in steps) == 2  # the exponential series


def test_cross_entropy_minimiser_and_one_hot_premises(claims):
    minimiser = claims[("cross-entropy-kl", "minimiser")]
    assert _premises(minimiser)[:2] == NORMALISED
    assert "cross-entropy-kl:decomposition" in _refs(minimiser)
    assert minimiser["statement"] == (r"H\left(\mathbf{p}, \mathbf{q}\right) \ge"
                                      r" H\left(\mathbf{p}\right)")
    one_hot = claims[("cross-entropy-kl", "one_hot")]
    assert _premises(one_hot) == [r"y \leq n"]
    assert one_hot["statement"] == (r"H\left(\mathbf{e}_{y}, \mathbf{q}\right) ="
                                    r" - \log{\left({q}_{y} \right)}")


def test_likelihood_counts_tokens_by_a_checked_induction(result, claims):
    like = claims[("max-likelihood-perplexity", "likelihood")]
    assert {"max-likelihood-perplexity:token_loss",
            "max-likelihood-perplexity:counting"} <= _refs(like)
    assert r"{y}_{t} \leq n" in _premises(like)  # inherited from the token lemma
    assert r"{\hat{p}}_{j} > 0" in _premises(like)
    assert any(r"[{y}_{t} = j]" in w["latex"] for w in like["where"])
    counting = [s for s in result.derivation("max-likelihood-perplexity").steps
                if s.claim == "counting"]
    parts = {s.part.split()[0] for s in counting if s.part}
    assert {"base", "step"} <= parts
    assert all(s.status.kind is Kind.PROVED for s in counting)
    optimum = claims[("max-likelihood-perplexity", "mle_optimum")]
    assert r"\sum_{j=1}^{n} {q}_{j} = 1" in _premises(optimum)


def test_information_theory_statements(claims):
    def c(name):
        return claims[("information-theory", name)]

    assert c("entropy_max")["statement"] == r"H\left(\mathbf{p}\right) \le \log n"
    assert _premises(c("entropy_max"))[0] == r"\sum_{i=1}^{n} {p}_{i} = 1"
    assert c("entropy_nonneg")["statement"] == r"H\left(\mathbf{p}\right) \ge 0"
    assert c("chain_rule")["statement"] == r"H(X, Y) = H(X) + H(Y \mid X)"
    assert c("mi_entropy")["statement"] == r"I(X; Y) = H(X) - H(X \mid Y)"
    assert c("mi_nonneg")["statement"] == r"I(X; Y) \ge 0"
    assert r"\sum_{y=1}^{n_{Y}} p(y) = 1" in _premises(c("mi_nonneg"))
    assert c("bits")["statement"] == (r"H_{\mathrm{bits}}\left(\mathbf{p}\right) ="
                                      r" \frac{H\left(\mathbf{p}\right)}{\log 2}")


def test_the_face_follows_its_rules_and_carries_the_definitions(result):
    face = face_of(result, IDS)
    assert face_problems(face) == []
    defs = {e["name"] for e in face if e["kind"] == "definition"}
    assert {"KL divergence", "perplexity"} <= defs  # the 4-page face; the rest in Appendix A
    every = {x["name"] for d in result.derivations if d.id in IDS
             for x in d.view["definitions"]}
    assert {"entropy", "cross-entropy", "conditional entropy", "mutual information"} <= every


# --- Wrong steps are refused -----------------------------------------------------------------


def _refused(start, *steps, given=()) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps, given=given),
                           timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_a_reversed_gibbs_inequality_is_refused():
    g = derivation_module("gibbs_inequality")
    p, q, i, n = g.p, g.q, g.i, g.n
    assert _refused(g.KL(p[i], q[i], i, n), Step(sp.Sum(p[i] - q[i], (i, 1, n)), "reversed",
                                                 rel="<="))


def test_a_wrong_certificate_is_refused():
    g = derivation_module("gibbs_inequality")
    p, q, i, n = g.p, g.q, g.i, g.n
    wrong = Step(sp.Sum(p[i] - q[i], (i, 1, n)), "bad certificate", rel=">=",
                 certificate=sp.Sum(q[i] * g.gibbs_gap(p[i] / q[i]), (i, 1, n)))
    assert _refused(g.KL(p[i], q[i], i, n), wrong)


def test_the_counting_step_cannot_be_stated_as_a_definition():
    m = derivation_module("max_likelihood")
    lhs = sp.Sum(m.at_token(m.t, m.n, m.LOSS), (m.t, 1, m.N))
    rhs = sp.Sum(m.count(m.j, m.N) * m.LOSS, (m.j, 1, m.n))
    # "definition" unfolds declared definitions only; swapping the two sums is not one
    outcomes = check_claim(Claim("probe", "t", start=lhs,
                                 steps=(Step(rhs, "group by outcome", "definition"),)),
                           timeout=60)
    assert not all(o.status.kind is Kind.PROVED for o in outcomes)


def test_a_wrong_chain_rule_of_entropy_is_refused():
    m = derivation_module("information_theory")
    wrong = Step(m.terms(m.entropy_x(), m.measure("x_given_y")), "wrong conditional", "unfold")
    assert _refused(m.chain_rule.steps[2].expr, wrong)


# --- The numeric checks have teeth -------------------------------------------------------------


def _check(module, name: str):
    return next(c for c in module.DERIVATION.checks if c.name == name)


def _fails(check, formula) -> bool:
    measured = check.run(np.random.default_rng(0), formula)
    return not measured.max_error <= measured.tolerance


def test_checks_fail_on_wrong_formulas():
    ce = derivation_module("cross_entropy_kl")
    check = _check(ce, "decomposition")
    assert not _fails(check, Formula(ce.decomposition.end))
    assert _fails(check, Formula(ce.entropy(ce.p[ce.i], ce.i, ce.n)))  # KL dropped
    mle = derivation_module("max_likelihood")
    like = _check(mle, "likelihood")
    assert not _fails(like, Formula(mle.likelihood.end))
    assert _fails(like, Formula(mle.cross_entropy(mle.q[mle.j], mle.p_hat[mle.j], mle.j,
                                                  mle.n)))  # arguments swapped
    info = derivation_module("information_theory")
    chain = _check(info, "chain-rule")
    assert not _fails(chain, Formula(info.chain_rule.end))
    assert _fails(chain, Formula(info.entropy_x()))


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
