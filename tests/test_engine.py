"""The engine's guarantees (issue 12): each soundness class closed, each completeness addition
working, files validated at load, premises collected, statuses inherited through citations."""

from __future__ import annotations

import textwrap

import pytest
import sympy as sp
from sympy import Eq, Ge, IndexedBase, Lt, Sum, Symbol, exp, log, symbols, tanh

from llmsym.check.chain import Proved, Refuted, check_claim
from llmsym.derivation import (
    Assumption,
    Claim,
    Derivation,
    Hypothesis,
    Induction,
    Kind,
    PremiseKind,
    Sizes,
    Step,
    induction_hypothesis,
)
from llmsym.notation import Expect, Var, deterministic, held

n, k, j, i, t, s = symbols("n k j i t s", integer=True, positive=True)
w = Symbol("w", integer=True, positive=True)
x = Symbol("x", real=True)
beta = Symbol("beta", positive=True)
p, q = IndexedBase("p", positive=True), IndexedBase("q", positive=True)
u = IndexedBase("u", real=True)


def proved(claim: Claim, **kw) -> bool:
    return all(isinstance(o, Proved) for o in check_claim(claim, timeout=20, **kw))


def refused(claim: Claim) -> bool:
    return any(isinstance(o, Refuted) or o == "timeout" for o in check_claim(claim, timeout=20))


# --- soundness class 1: sums whose bounds cross ---------------------------------------------


def test_ten_minus_n_is_not_proved_nonnegative_for_every_n():
    claim = Claim("c", "t", start=Sum(1, (k, n, 10)),
                  steps=(Step(11 - n, "count"), Step(0, "nonneg", rel=">=")))
    assert refused(claim)


def test_a_sum_whose_range_can_run_backwards_is_not_nonnegative():
    claim = Claim("c", "t", start=Sum(exp(u[k]), (k, 3, n)),
                  steps=(Step(0, "a sum of exponentials", rel=">="),))
    assert refused(claim)


def test_the_same_bound_holds_once_the_range_is_a_premise():
    claim = Claim("c", "t", start=Sum(1, (k, w, n)), given=(Hypothesis(Ge(n, w), "n >= w"),),
                  steps=(Step(n - w + 1, "count"), Step(0, "nonneg", rel=">=")))
    assert proved(claim)


def test_sizes_beyond_five_are_sampled():
    # 20 - n >= 0 holds for n = 1..5 only at the small sizes the sampler used to draw
    claim = Claim("c", "t", start=20 - n, steps=(Step(0, "wrong beyond 20", rel=">="),))
    assert refused(claim)


# --- soundness class 2: monotone log ----------------------------------------------------------


def test_monotone_log_needs_a_positive_argument():
    claim = Claim("c", "t", start=log(x + 1000), steps=(Step(log(x + 1001), "m", rel="<="),))
    assert refused(claim)


def test_monotone_log_with_a_positive_argument():
    claim = Claim("c", "t", start=log(beta + 1000),
                  steps=(Step(log(beta + 1001), "m", "monotone", rel="<="),))
    assert proved(claim)


# --- soundness class 3: instances tied to the chain ------------------------------------------


def test_an_instance_with_an_opaque_left_side_is_refused():
    claim = Claim("c", "t", start=Expect(u[1] * n),
                  steps=(Step(n * 7, "wrong moment", sizes=Sizes(n, 1, 3),
                              instance=lambda size: (7 * size, 7 * size)),))
    assert refused(claim)


def test_a_tied_instance_is_accepted():
    claim = Claim("c", "t", start=Sum(k, (k, 1, n)),
                  steps=(Step(n * (n + 1) / 2, "Gauss", sizes=Sizes(n, 1, 4),
                              instance=lambda size: (sum(range(1, size + 1)),
                                                     sp.Rational(size * (size + 1), 2))),))
    outcomes = check_claim(claim, timeout=20)
    assert [o.status.kind for o in outcomes] == [Kind.PROVED_FOR]


# --- completeness ---------------------------------------------------------------------------


def test_hyperbolic_functions_rewrite_into_exponentials():
    assert proved(Claim("c", "t", start=tanh(x),
                        steps=(Step((exp(2 * x) - 1) / (exp(2 * x) + 1), "definition"),)))


def test_the_last_term_of_a_sum_splits_off():
    assert proved(Claim("c", "t", start=Sum(p[k], (k, 1, n + 1)),
                        steps=(Step(Sum(p[k], (k, 1, n)) + p[n + 1], "split"),)))


def test_geometric_sums_close_given_beta_below_one():
    claim = Claim("c", "t", start=Sum(beta ** (t - s), (s, 1, t)),
                  given=(Hypothesis(Lt(beta, 1), "beta < 1"),),
                  steps=(Step((1 - beta**t) / (1 - beta), "geometric sum"),))
    assert proved(claim)


def test_a_hypothesis_reaches_the_terms_of_a_sum():
    claim = Claim("c", "t", start=Sum(p[j] * x, (j, 1, n)),
                  steps=(Step(Sum(q[j] ** 2 * x, (j, 1, n)), "p_j = q_j^2",
                              using=(Eq(p[j], q[j] ** 2),)),))
    assert proved(claim)


def test_points_keep_the_sign_of_a_symbol_a_hypothesis_removed():
    a, b, r = symbols("a b r", real=True)
    pos = Symbol("y", positive=True)
    # sqrt(y^2) = y needs y > 0; after y = a - b the points must keep a - b > 0
    claim = Claim("c", "t", start=sp.sqrt(pos**2) + r,
                  steps=(Step(a - b + r, "y = a - b", using=(Eq(pos, a - b),)),))
    assert proved(claim)


def test_a_line_can_be_kept_as_written():
    c = Symbol("c", real=True)
    with held():
        line = exp(c) * exp(u[i]) / (exp(c) * Sum(exp(u[j]), (j, 1, n)))
    assert line != exp(u[i]) / Sum(exp(u[j]), (j, 1, n))
    assert proved(Claim("c", "t", start=exp(u[i] + c) / Sum(exp(u[j] + c), (j, 1, n)),
                        steps=(Step(line, "factor", "sum"),)))


def test_linearity_of_expectation_proves_var_of_a_scaled_variable():
    X, c = Symbol("X", real=True), Symbol("c", positive=True)
    deterministic(c)
    assert proved(Claim("c", "t", start=Var(c * X),
                        steps=(Step(c**2 * Var(X), "linearity", "unfold+expect"),)))


def test_induction_proves_a_statement_for_every_n():
    ih = induction_hypothesis(Sum(k, (k, 1, n)), n * (n + 1) / 2)
    ind = Induction(n, 1, base_steps=(Step(1, "one term", "doit"),), step_steps=(
        Step(Sum(k, (k, 1, n)) + (n + 1), "split off the last term", "align_sums"),
        Step(n * (n + 1) / 2 + (n + 1), "induction hypothesis", using=(ih,))), hypothesis=ih)
    assert proved(Claim("c", "t", start=Sum(k, (k, 1, n)),
                        steps=(Step(n * (n + 1) / 2, "induction", induction=ind),)))


def test_a_wrong_inductive_step_is_refused():
    ih = induction_hypothesis(Sum(k, (k, 1, n)), n * n)
    ind = Induction(n, 1, base_steps=(Step(1, "one term", "doit"),), step_steps=(
        Step(Sum(k, (k, 1, n)) + (n + 1), "split off the last term", "align_sums"),
        Step(n * n + (n + 1), "induction hypothesis", using=(ih,))), hypothesis=ih)
    assert refused(Claim("c", "t", start=Sum(k, (k, 1, n)),
                         steps=(Step(n * n, "induction", induction=ind),)))


def test_a_definition_step_must_unfold_a_declared_definition():
    N, L, d = symbols("N L d", positive=True)
    defs = ((N, 12 * L * d**2),)
    good = Claim("c", "t", start=6 * N, steps=(Step(72 * L * d**2, "N = 12Ld^2", "definition"),))
    bad = Claim("c", "t", start=6 * N, steps=(Step(70 * L * d**2, "N = 12Ld^2", "definition"),))
    assert proved(good, definitions=defs)
    assert not all(isinstance(o, Proved) for o in check_claim(bad, timeout=20,
                                                              definitions=defs))


# --- load-time validation --------------------------------------------------------------------


def test_a_misspelt_tactic_is_an_error_when_the_file_loads():
    with pytest.raises(ValueError, match="unknown tactic 'expnad' .did you mean 'expand'"):
        Step(x, "typo", "unfold+expnad")


def test_matrix_shapes_must_agree_along_a_chain():
    with pytest.raises(ValueError, match="claim 'm', step 1: a 2x1 matrix follows a 2x2 matrix"):
        Claim("m", "t", start=sp.eye(2), steps=(Step(sp.Matrix([1, 2]), "shape"),))


def test_a_check_citing_an_unknown_claim_is_an_error():
    from llmsym.derivation import NumericCheck

    claim = Claim("real", "t", start=x, steps=(Step(x, "same", "expand"),))
    with pytest.raises(ValueError, match="cites unknown claim 'rael' .did you mean 'real'"):
        Derivation("d", "t", "t", "", (claim,),
                   checks=(NumericCheck("c", lambda rng, f: None, "", claim="rael"),))


def test_a_user_file_that_fails_to_import_is_reported_as_such(tmp_path):
    from llmsym.errors import UserError
    from llmsym.verify.pipeline import Options, verify

    (tmp_path / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    with pytest.raises(UserError, match="boom at import"):
        verify(Options(ids=("broken",), extra_dirs=(str(tmp_path),),
                       build_dir=tmp_path / "build"))


# --- premises and statuses --------------------------------------------------------------------


def _premises(claim: Claim, *others: Claim):
    from llmsym.verify.view import premises_of

    d = Derivation("d", "t", "t", "", (*others, claim))
    return premises_of(claim, d)


def test_every_hypothesis_and_stated_step_becomes_a_premise():
    h = Hypothesis(Eq(u[1], 0), "u_1 = 0")
    claim = Claim("c", "t", start=exp(u[1]) + x, steps=(
        Step(1 + x, "u_1 = 0", using=(h,)),
        Step(x + 1, "an assumed step", "assumption")),
        given=(Assumption("independence", "q and k independent"),))
    found = _premises(claim)
    kinds = [(p.kind, p.label) for p in found]
    assert (PremiseKind.ASSUMPTION, "q and k independent") in kinds
    assert (PremiseKind.HYPOTHESIS, "u_1 = 0") in kinds
    assert (PremiseKind.ASSUMPTION, "an assumed step") in kinds


def test_a_hypothesis_equal_to_another_claims_statement_is_a_reference():
    first = Claim("first", "t", start=x + x, steps=(Step(2 * x, "collect", "expand"),))
    second = Claim("second", "t", start=3 * (x + x),
                   steps=(Step(6 * x, "by first", using=(Eq(x + x, 2 * x, evaluate=False),)),))
    (found,) = _premises(second, first)
    assert found.kind is PremiseKind.REFERENCE and found.ref == "d:first"


def _folder(tmp_path, body: str):
    folder = tmp_path / "derivs"
    folder.mkdir()
    (folder / "pair.py").write_text(textwrap.dedent(body))
    return folder


PAIR = '''
from sympy import Eq, Symbol, Sum, symbols
from llmsym.derivation import Claim, Derivation, Hypothesis, Sizes, Step, cite
x = Symbol("x", positive=True)
n, k = symbols("n k", integer=True, positive=True)
base = Claim("base", "a proved-for claim", start=Sum(k, (k, 1, n)),
             steps=(Step(n * (n + 1) / 2, "Gauss", sizes=Sizes(n, 1, 3)),))
user = Claim("user", "cites base", start=2 * Sum(k, (k, 1, n)),
             steps=(Step(n * (n + 1), "by base", using=(base,)),),
             given=(Hypothesis(Eq(x, 1), "x = 1"),))
DERIVATION = Derivation("pair-test", "t", "Test", "", (base, user),
                        notation={x: "a number"})
'''


def test_a_claim_is_no_stronger_than_the_claim_it_cites(tmp_path):
    from llmsym.verify.pipeline import Options, verify

    folder = _folder(tmp_path, PAIR)
    report = verify(Options(ids=("pair-test",), extra_dirs=(str(folder),),
                            build_dir=tmp_path / "build", use_cache=False))
    d = report.derivation("pair-test")
    assert d.own_status("user").kind is Kind.PROVED
    state = report.claim_state("pair-test", "user")
    assert state.status.label == "proved for n = 1..3"
    claims = {c["name"]: c for c in report.claims_json(d)}
    user = claims["user"]
    assert user["status"]["kind"] == "proved_for"
    refs = [p for p in user["premises"] if p["kind"] == "reference"]
    assert refs and refs[0]["ref"] == "pair-test:base"
    assert set(user) >= {"name", "title", "number", "on_sheet", "statement", "premises", "where",
                         "symbols", "status", "numeric"}


def test_a_delta_sum_over_a_range_that_may_run_backwards_is_not_sifted():
    """Sum_{k=2}^{i-1} delta_ik f_k is -f_1 at i = 1 (a reversed range is minus a sum): the
    checker must not accept 0 for it, which SymPy's own sifting gives."""
    f = IndexedBase("f", real=True)
    claim = Claim("c", "t", start=Sum(sp.KroneckerDelta(i, k) * f[k], (k, 2, i - 1)),
                  steps=(Step(0, "sift", "doit"),))
    assert refused(claim)


def test_relation_deltas_are_constants_inside_an_expectation():
    X = Symbol("Xr", real=True)
    a, b = Symbol("ar", real=True), Symbol("br", real=True)
    deterministic(a, b)
    claim = Claim("c", "t", start=Expect(a * X), given=(Hypothesis(Ge(a, b), "a >= b"),),
                  steps=(Step(a * Expect(X), "linearity", "expect"),))
    assert proved(claim)


def test_a_named_symbol_cannot_print_two_ways():
    """SymPy takes two symbols of one name and equal assumptions for one: printing differs never."""
    from llmsym.notation import Named

    Named("llmsym_test_twice", "u", positive=True)
    Named("llmsym_test_twice", "u", positive=True)  # the same spelling again is fine
    with pytest.raises(ValueError, match="already prints as"):
        Named("llmsym_test_twice", "v", positive=True, finite=True)  # positive implies finite
