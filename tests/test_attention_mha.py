"""Scaled dot-product and multi-head attention under the real checker.

Attention and MultiHead are face definitions; Concat(H_1..H_h) W^O = sum_i H_i W^O_i is
proved for every number of heads and every size (induction on h, a generic entry with
symbolic sizes), not for h <= 6 at fixed shapes; a wrong split is refused and the tied
check fails on wrong formulas.
"""

from __future__ import annotations

import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula
from llmsym.verify.numeric_checks import formula_for, run_check

IDS = ("multi-head-attention",)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def mha():
    return derivation_module("multi_head_attention")


def test_every_claim_is_proved_in_general(result):
    d = result.derivation("multi-head-attention")
    assert d.ok, [(s.claim, s.part, s.message) for s in d.steps if not s.status.ok]
    claims = {c["name"]: c for c in result.claims_json(d)}
    for name, c in claims.items():
        assert c["status"]["kind"] == "proved", (name, c["label"])
    assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]
    concat = claims["concat_heads"]
    assert not concat["on_sheet"]  # Appendix A: the face keeps the two definitions
    assert concat["statement"] == (r"\operatorname{Concat}(H_1, \dots, H_{h})\, W^O ="
                                   r" \sum_{i=1}^{h} H_{i} W^O_{i}")
    assert len(concat["where"]) == 2 and concat["premises"] == []
    assert {s.part for s in d.steps if s.claim == "concat_heads"} >= {
        "base 1", "step 1", "step 2", "step 3", "statement"}


def test_definitions_on_the_face(result):
    face = face_of(result, IDS)
    assert face_problems(face) == []
    by_name = {e["name"]: e for e in face}
    assert by_name["scaled dot-product attention"]["statement"] == (
        r"\operatorname{Attention}{\left(\mathbf{Q},\mathbf{K},\mathbf{V} \right)} :="
        r" \operatorname{softmax}\left(\frac{\mathbf{Q} \mathbf{K}^\top}{\sqrt{d_{k}}}\right)"
        r" \mathbf{V}")
    assert by_name["multi-head attention"]["statement"].startswith(
        r"\operatorname{MultiHead}{\left(\mathbf{Q},\mathbf{K},\mathbf{V} \right)} :="
        r" \operatorname{Concat}")


def test_a_split_that_skips_a_column_is_refused(mha):
    """Splitting the columns after h d_v + 1 instead of h d_v loses the identity."""
    C, W, r, c, t, h, d_v = mha.C, mha.W, mha.r, mha.c, mha.t, mha.h, mha.d_v
    full = sp.Sum(C[r, t] * W[t, c], (t, 1, (h + 1) * d_v))
    wrong = (sp.Sum(C[r, t] * W[t, c], (t, 1, h * d_v))
             + sp.Sum(C[r, t] * W[t, c], (t, h * d_v + 2, (h + 1) * d_v)))
    outcomes = check_claim(Claim("probe", "t", start=full,
                                 steps=(Step(wrong, "skip one", "join_sums"),)), timeout=60)
    assert any(isinstance(o, Refuted) for o in outcomes)


def test_the_concat_check_has_teeth(mha):
    d = mha.DERIVATION
    check = next(x for x in d.checks if x.name == "concat")
    true = formula_for(d, check)
    assert run_check(check, derivation=d, formula=true).passed
    for factor in (sp.Rational(11, 10), sp.Rational(99, 100)):
        assert not run_check(check, derivation=d,
                             formula=Formula(factor * true.expr, "mutant")).passed
    # the columns of the last head left out: sum over the first (h - 1) d_v columns only
    short = true.expr.xreplace({mha.h: mha.h - 1})
    assert not run_check(check, derivation=d, formula=Formula(short, "short")).passed
