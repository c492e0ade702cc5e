"""FlashAttention under the real checker: both schedules for any number of blocks, the backward
identities, and memory and traffic as Dao et al. state them.

Every claim is proved in general (inductions over blocks and over the value width, no
sized proof); the updates and the cited accounting are displayed premises; wrong steps
are refused; the tied checks fail on wrong formulas, and the backward checks compare
with finite differences, not with the same formulas.
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
from llmsym.verify.numeric_checks import formula_for, run_check

IDS = ("flash-attention",)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    return {c["name"]: c for c in result.claims_json(result.derivation("flash-attention"))}


@pytest.fixture(scope="module")
def fa():
    return derivation_module("flash_attention")


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"]]


# --- The derivation ---------------------------------------------------------------------------


def test_every_claim_is_proved_in_general(result, claims):
    d = result.derivation("flash-attention")
    assert d.ok, [(s.claim, s.part, s.message) for s in d.steps if not s.status.ok]
    for name, c in claims.items():
        assert c["status"]["kind"] == "proved", (name, c["label"])
        assert not c["problems"], (name, c["problems"])
    assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]
    for name in ("normaliser", "numerator", "schedules_agree", "rowsum"):
        assert "statement" in {s.part for s in d.steps if s.claim == name}, name
    assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric if not n.passed]


def test_both_schedules_with_their_updates_displayed(claims):
    agree = claims["schedules_agree"]
    assert agree["statement"] == r"O_{i} = \frac{U_{i}}{\ell_{i}}"
    premises = _premises(agree)
    assert any(p.startswith(r"O_{i + 1} = \frac{\ell_{i} e^{{m}_{i} - {m}_{i + 1}} O_{i}")
               for p in premises)
    assert any(p.startswith(r"U_{i + 1} = e^{{m}_{i} - {m}_{i + 1}} U_{i}") for p in premises)
    output = claims["fa2_output"]
    assert output["statement"] == (
        r"\frac{U_{i}}{\ell_{i}} = \frac{\sum_{j=1}^{{\tilde{n}}_{i}} e^{{z}_{j}}"
        r" {v}_{j}}{\sum_{j=1}^{{\tilde{n}}_{i}} e^{{z}_{j}}}")
    refs = {p["ref"] for p in output["premises"] if p["ref"]}
    assert refs == {"flash-attention:numerator", "flash-attention:normaliser"}


def test_backward_identities(claims):
    recompute = claims["recompute"]
    assert recompute["statement"].startswith(r"e^{{S}_{i,j} - L_{i}} =")
    assert recompute["where"] == [{"latex": r"L_{i} := \operatorname{LSE}\left({S}_{i,k}\right)"}]
    grad_s = claims["grad_S"]
    assert grad_s["statement"].startswith(
        r"\sum_{i=1}^{n} {\mathrm{d}P}_{i} \frac{\partial}{\partial {z}_{j}}")
    assert grad_s["statement"].endswith(
        r"= \operatorname{softmax}\left(\mathbf{z}\right)_{j} \left({\mathrm{d}P}_{j} -"
        r" \sum_{i=1}^{n} \operatorname{softmax}\left(\mathbf{z}\right)_{i} {\mathrm{d}P}_{i}"
        r"\right)")
    assert "softmax-gradient:jacobian" in {p["ref"] for p in grad_s["premises"]}
    assert r"j \leq n" in _premises(grad_s)
    rowsum = claims["rowsum"]
    assert rowsum["statement"] == (
        r"\sum_{j=1}^{n} \operatorname{softmax}\left(\mathbf{z}\right)_{j}"
        r" \mathrm{d}P_{j} = \sum_{c=1}^{d_{v}} {\mathrm{d}O}_{c} O_{c}")
    assert claims["grad_V"]["statement"].endswith(r"= \sum_{i=1}^{n} {P}_{i,1} {\mathrm{d}O}_{i,1}")
    assert claims["grad_P"]["statement"].endswith(
        r"= \sum_{c=1}^{d_{v}} {V}_{1,c} {\mathrm{d}O}_{1,c}")


def test_memory_and_traffic_as_the_papers_state_them(claims):
    assert claims["memory_standard"]["statement"] == (
        r"\frac{M_{\mathrm{SP}}}{s^{2}} = 2 b h B_{\mathrm{el}}")
    assert claims["memory_flash"]["statement"] == r"\frac{M_{\mathrm{LSE}}}{s} = 4 b h"
    lower, upper = claims["io_lower"], claims["io_upper"]
    assert lower["statement"].endswith(r"\ge 12 s^{2} d_{h}^{2}")
    assert upper["statement"].endswith(r"\le 3 s^{2} d_{h} \left(5 d_{h} + 6\right)")
    assert r"M_{\mathrm{sram}} \leq d_{h} s" in _premises(upper)
    for c in (claims["memory_standard"], claims["memory_flash"], lower, upper):
        assert all(p["ref"] is None or p["ref"].startswith("kv-cache-memory:")
                   for p in c["premises"])
    # no ratio resting on byte choices: no claim divides one memory figure by the other
    assert not any(r"M_{\mathrm{SP}}" in c["statement"] and r"M_{\mathrm{LSE}}" in c["statement"]
                   for c in claims.values())


def test_the_face_follows_its_rules(result):
    face = face_of(result, IDS)
    assert face_problems(face) == []
    names = {e["name"] for e in face}
    assert {"fa2_output", "recompute"} <= names  # the 4-page face; Appendix A has the rest


# --- Wrong steps are refused --------------------------------------------------------------------


def _refused(start, *steps) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps), timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_fa1_without_the_old_normaliser_is_refused(fa):
    """Rescaling O_i by e^{m_i - m_{i+1}} alone (forgetting l_i / l_{i+1}) is not FA-2's U/l."""
    i, nxt = fa.i, fa.i + 1
    wrong = (fa.rescale(nxt) * fa.fa_u(i) / fa.fa_ell(i)
             + fa.lift(nxt) * fa.block_pv(nxt)) / fa.fa_ell(nxt)
    assert _refused(wrong, Step(fa.fa_u(nxt) / fa.fa_ell(nxt), "no", "unfold+cancel",
                                using=(fa.u_update,)))


def test_ds_without_the_rowsum_is_refused(fa):
    start = fa.grad_S.steps[0].expr
    assert _refused(start, Step(fa.p_of(fa.j) * fa.dP[fa.j], "dropped D", "unfold+doit+sum"))


def test_traffic_bound_needs_the_sram_premise(fa):
    """Without M_sram <= s d_h the upper bound does not follow."""
    assert _refused(fa.MULTIPLIED, Step(fa.io_upper.end, "no premise", "nonneg", rel="<="))


# --- Numeric checks have teeth -------------------------------------------------------------------

TIED = ["numerator", "output", "recompute", "grad_S", "grad_V", "grad_P", "rowsum"]


@pytest.mark.parametrize("name", TIED)
def test_tied_checks_fail_on_wrong_formulas(fa, name):
    d = fa.DERIVATION
    check = next(c for c in d.checks if c.name == name)
    true = formula_for(d, check)
    assert run_check(check, derivation=d, formula=true).passed
    for factor in (sp.Rational(11, 10), sp.Rational(99, 100)):
        wrong = Formula(factor * true.expr, "mutant")
        assert not run_check(check, derivation=d, formula=wrong).passed, (name, factor)


def test_the_numerator_check_catches_a_missing_rescale(fa):
    """sum_j e^{z_j - mt_b(j)} v_j (each key at its own block's reference) is what FA-2 would hold
    without rescaling; the check must reject it."""
    d = fa.DERIVATION
    check = next(c for c in d.checks if c.name == "numerator")
    stale = Formula(sp.Sum(sp.exp(fa.z[fa.j] - fa.m[fa.j]) * fa.v[fa.j],
                           (fa.j, 1, fa.nb[fa.i])), "no rescale")
    assert not run_check(check, derivation=d, formula=stale).passed


def test_fa2_loop_matches_naive_attention(fa):
    rng = np.random.default_rng(5)
    scores, values = rng.normal(size=11) * 4, rng.normal(size=11)
    bounds = [0, 3, 4, 9, 11]
    refs = np.maximum.accumulate([-np.inf] + [scores[a:b].max() for a, b in
                                              zip(bounds, bounds[1:], strict=False)])
    blocks = np.array([0.0] + [scores[a:b].max() for a, b in zip(bounds, bounds[1:],
                                                                  strict=False)])
    ell, acc = fa._fa2_loop(scores, values, bounds, refs, blocks)[-1]
    weights = np.exp(scores - scores.max())
    assert acc / ell == pytest.approx(weights @ values / weights.sum(), rel=1e-14)
