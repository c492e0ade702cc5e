"""Foundations under the real checker: vectors, matrix products, exp/log and LSE, the chain rule.

Every claim must hold with the premises it is shown with (unit vectors, the largest
logit, the empty prefix), general statements must be proved for every size (the
transpose for every shape, the chain rule for every length), the face must follow its
rules, wrong steps must be refused and the numeric checks must fail on wrong formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

IDS = ("vectors-dot-cosine", "matrix-shapes", "exp-log-rules", "probability-chain-rule")
SIZED = {("matrix-shapes", "associativity"), ("matrix-shapes", "trace_cycle")}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """The four derivations (and the Gibbs lemma they cite), checked cold."""
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    return {(d.id, c["name"]): c for d in result.derivations if d.id in IDS
            for c in result.claims_json(d)}


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"]]


@pytest.fixture(scope="module")
def shapes():
    return derivation_module("matrix_shapes")


@pytest.fixture(scope="module")
def logs():
    return derivation_module("exp_log_rules")


@pytest.fixture(scope="module")
def chain():
    return derivation_module("probability_chain_rule")


# --- The real checker on the real derivations ------------------------------------


def test_every_claim_holds_and_general_ones_for_every_size(result, claims):
    assert result.ok
    for key, c in claims.items():
        assert not c["problems"], key
        expected = "proved_for" if key in SIZED else "proved"
        assert c["status"]["kind"] == expected, (key, c["label"])
    for ident in IDS:
        d = result.derivation(ident)
        assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric if not n.passed]
        assert d.view["examples"], ident
        assert not [s for s in d.steps if s.status.kind is Kind.STATED], ident


def test_sized_claims_are_off_the_face_and_say_so(claims):
    for key in SIZED:
        assert claims[key]["label"] == "proved for d_{sq} = 1..3"
        assert not claims[key]["on_sheet"]


def test_every_tied_check_names_its_claim(result):
    for ident in IDS:
        tied = [n for n in result.derivation(ident).numeric if not n.experiment]
        assert tied, ident


def test_unit_distance_shows_unit_vectors(claims):
    c = claims[("vectors-dot-cosine", "unit_distance")]
    premises = _premises(c)
    assert r"\left\|\mathbf{a}\right\| = 1" in premises
    assert r"\left\|\mathbf{b}\right\| = 1" in premises
    assert c["statement"] == (r"\left\|\mathbf{a} - \mathbf{b}\right\|^{2} = 2 - 2"
                              r" \cos\left(\mathbf{a}, \mathbf{b}\right)")


def test_law_of_cosines_without_extra_parentheses(claims):
    c = claims[("vectors-dot-cosine", "law_of_cosines")]
    assert c["statement"].startswith(r"\left\|\mathbf{a} - \mathbf{b}\right\|^{2} = ")
    assert c["premises"] == []


def test_flops_is_a_stated_convention_and_the_schoolbook_count_is_proved(claims):
    flops = claims[("matrix-shapes", "matmul_flops")]
    assert flops["statement"].endswith("= 2 n_{1} n_{2} n_{3}")
    assert any("FLOPs" in w["latex"] and ":=" in w["latex"] for w in flops["where"])
    school = claims[("matrix-shapes", "schoolbook")]
    assert school["statement"].endswith(r"= n_{1} n_{3} \left(2 n_{2} - 1\right)")
    assert school["status"]["kind"] == "proved"


def test_transpose_is_proved_for_every_shape(claims):
    c = claims[("matrix-shapes", "transpose")]
    # Appendix A only: plain A and B are Chinchilla's fitted constants on the face
    assert c["status"]["kind"] == "proved" and not c["on_sheet"]
    assert c["statement"] == r"\left(A B\right)^{T} = B^{T} A^{T}"
    assert any(r"\mathbb{R}^{n_1 \times n_2}" in w["latex"] for w in c["where"])


def test_lse_bounds_show_what_z_max_is(claims):
    lower = claims[("exp-log-rules", "lse_lower")]
    upper = claims[("exp-log-rules", "lse_upper")]
    assert lower["statement"] == r"z_{\max} \le \operatorname{LSE}\left(\mathbf{z}\right)"
    assert _premises(lower) == [r"{z}_{1} = z_{\max}"]
    assert upper["statement"] == r"\operatorname{LSE}\left(\mathbf{z}\right) \le z_{\max} + \log n"
    assert r"{z}_{j} = z_{\max} + {u}_{j}" in _premises(upper)
    assert {p["ref"] for p in upper["premises"] if p["ref"]} == {
        "gibbs-inequality:gap_above_one", "gibbs-inequality:gap_below_one"}
    assert upper["symbols"]["u"].startswith("gap of a logit below the largest")


def test_chain_rule_is_proved_from_its_log_form(claims):
    rule = claims[("probability-chain-rule", "chain_rule")]
    assert rule["status"]["kind"] == "proved"
    assert [p["ref"] for p in rule["premises"] if p["ref"]] == [
        "probability-chain-rule:log_likelihood"]
    assert "p(x_{<1}) = 1" in _premises(rule)  # inherited from the log form
    assert rule["statement"] == (r"p(x_1, \dots, x_{s}) = \prod_{t=1}^{s} p(x_{t} \mid x_{<t})")


def test_the_face_of_the_foundations(result):
    face = face_of(result, IDS)
    assert face_problems(face) == []
    names = {e["name"] for e in face}
    # the 4-page face keeps one or two entries of each foundation; Appendix A keeps every claim
    assert names == {"law_of_cosines", "matmul_flops", "lse_upper", "log_likelihood"}
    every = {c["name"] for d in result.derivations if d.id in IDS
             for c in d.view.get("claims", [])}
    assert {"unit_distance", "schoolbook", "transpose", "lse_lower", "chain_rule"} <= every


def test_results_evaluate(shapes):
    results = {r.name: r for r in shapes.RESULTS}
    sizes = {shapes.n1: 2, shapes.n2: 3, shapes.n3: 4, shapes.n4: 1}
    assert results["matmul_flops"].expr.subs(sizes) == 48
    assert results["matmul_chain_flops_left"].expr.subs(sizes) == 2 * 2 * 4 * (3 + 1)
    assert results["matmul_chain_flops_right"].expr.subs(sizes) == 2 * 3 * 1 * (2 + 4)


# --- Wrong steps are refused -------------------------------------------------------------


def _refused(start, *steps) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps), timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_transpose_in_the_wrong_order_is_refused(shapes):
    m = shapes
    a, b = sp.MatrixSymbol("A", m.n1, m.n1), sp.MatrixSymbol("B", m.n1, m.n1)
    start = m.matrix(sp.Transpose(sp.MatMul(a, b)))
    assert _refused(start, Step(m.matrix(sp.MatMul(a.T, b.T)), "wrong order", "unfold+sum"))
    assert not _refused(start, Step(m.matrix(sp.MatMul(b.T, a.T)), "right", "unfold+sum"))


def test_a_wrong_schoolbook_count_is_refused(shapes):
    m = shapes
    wrong = Step(2 * m.n1 * m.n2 * m.n3, "the convention is not the count", "unfold+doit")
    assert _refused(m.schoolbook(m.n1, m.n2, m.n3), wrong)


def test_an_lse_bound_without_its_premise_is_refused(logs):
    m = logs
    upper = m.lse_upper
    # LSE(z) <= z_max + log n is false for an arbitrary z_max: without the premise the first
    # step (which rewrites z_j = z_max + u_j) is refused.
    bare = Step(upper.steps[0].expr, "no premise", "expand")
    assert _refused(upper.start, bare)
    too_tight = Step(m.z_max + sp.log(m.n) - sp.Rational(1, 2), "too tight", rel="<=",
                     certificate=upper.steps[-1].certificate)
    assert _refused(upper.steps[-2].expr, too_tight)


def test_a_wrong_chain_rule_is_refused(chain):
    m = chain
    wrong = Step(sp.Product(m.cond(m.t) ** 2, (m.t, 1, m.s)), "squared", "expand")
    assert _refused(m.chain_rule.steps[1].expr, wrong)
    assert not _refused(m.chain_rule.steps[1].expr, m.chain_rule.steps[2])


# --- The numeric checks have teeth -------------------------------------------------------------


def _check(module, name: str):
    return next(c for c in module.DERIVATION.checks if c.name == name)


def _fails(check, formula) -> bool:
    measured = check.run(np.random.default_rng(0), formula)
    return not measured.max_error <= measured.tolerance


def test_flop_check_counts_real_operations(shapes):
    values, mults, adds = shapes.counted_product(np.ones((2, 3)), np.ones((3, 4)))
    assert (mults, adds) == (24, 16) and np.array_equal(values, np.full((2, 4), 3.0))
    check = _check(shapes, "flops")
    assert not _fails(check, Formula(shapes.matmul_flops.end))
    # the schoolbook count is not the convention: the FLOP check must fail on it
    assert _fails(check, Formula(shapes.schoolbook_count.end))
    assert _fails(_check(shapes, "schoolbook"), Formula(shapes.matmul_flops.end))


def test_lse_checks_fail_on_wrong_bounds(logs):
    upper = _check(logs, "lse-upper")
    assert not _fails(upper, Formula(logs.lse_upper.end))
    assert _fails(upper, Formula(logs.z_max + sp.log(logs.n) / 2))
    assert _fails(upper, Formula(logs.z_max + 2 * sp.log(logs.n)))


def test_chain_rule_checks_fail_on_a_wrong_log_form(chain):
    check = _check(chain, "log-likelihood")
    assert not _fails(check, Formula(chain.log_likelihood.end))
    t, s, P = chain.t, chain.s, chain.P
    assert _fails(check, Formula(sp.Sum(sp.log(P[t]), (t, 1, s))))
