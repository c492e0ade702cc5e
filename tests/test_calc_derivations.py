"""The derivations behind issue 16's calculator: architecture-counts, moe-mla-counts,
training-memory, serving.

One verification of the three (and what they cite) from an empty cache is shared by the
tests of this module: every claim proved for all values with the premises it should
show, every numeric check passing, wrong steps refused, the checks failing on wrong
formulas, and the face rules.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llmsym.notation import Named

ROOT = Path(__file__).resolve().parent.parent
MINE = ("architecture-counts", "moe-mla-counts", "training-memory", "serving")
FILES = ("architecture_counts", "moe_mla_counts", "training_memory", "serving")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=MINE, use_cache=True, build_dir=tmp_path_factory.mktemp("b")))


@pytest.fixture(scope="module")
def claims(report):
    out = {}
    for d in report.derivations:
        for c in report.claims_json(d):
            out[(d.id, c["name"])] = c
    return out


def module(stem: str):
    from llmsym.verify.loader import load_module

    return load_module(ROOT / "derivations" / f"{stem}.py")


@pytest.mark.parametrize("ident", MINE)
def test_derivation_holds_with_every_check(report, ident):
    d = next(d for d in report.derivations if d.id == ident)
    assert d.ok, [(s.index, s.message) for s in d.steps if not s.status.ok]
    assert d.numeric and all(n.passed for n in d.numeric), [n.detail for n in d.numeric]


@pytest.mark.parametrize("ident", MINE)
def test_every_claim_is_proved_for_all_values(claims, ident):
    mine = [(name, c) for (owner, name), c in claims.items() if owner == ident]
    assert mine
    for name, c in mine:
        assert c["status"]["kind"] == "proved", (name, c["label"], c["problems"])
        assert not c["problems"], (name, c["problems"])


def _labels(c, kind=None):
    return [f"{p.get('label') or ''} {p.get('text') or ''}" for p in c["premises"]
            if kind is None or p["kind"] == kind]


def test_premises_are_shown(claims):
    window = claims[("architecture-counts", "scores_window")]
    assert any("reaches the window" in label for label in _labels(window))
    active = claims[("moe-mla-counts", "moe_active")]
    assert {p["ref"] for p in active["premises"] if p["kind"] == "reference"} == {
        "moe-mla-counts:moe_params"}
    gpt = claims[("training-memory", "korthikanti")]
    assert len(_labels(gpt, "hypothesis")) == 7
    assert any("16-bit" in label for label in _labels(gpt))
    assert any("K = 12" in (p.get("latex") or "") for p in
               claims[("training-memory", "zero3_adam")]["premises"])
    peak = claims[("training-memory", "peak")]
    assert any("backward pass" in label for label in _labels(peak, "assumption"))
    palm = claims[("serving", "palm")]
    refs = {p["ref"] for p in palm["premises"] if p["kind"] == "reference"}
    assert "training-compute:per_token" in refs  # and its backward = 2 x forward with it
    assert any("backward = 2" in label for label in _labels(palm))
    fits = claims[("serving", "fits")]
    assert any("quotient and remainder" in label for label in _labels(fits))


def test_statements(claims):
    def statement(d, name):
        return claims[(d, name)]["statement"]

    assert statement("training-memory", "korthikanti").replace(" ", "").endswith(
        r"sbd\left(34+\frac{5hs}{d}\right)")
    assert "34 s b d" in statement("training-memory", "korthikanti_selective")
    assert r"\min" in statement("architecture-counts", "window_keys")


def test_face_rules_hold_for_these_derivations(report):
    from llmsym.sheet.arrange import face_of, face_problems

    problems = face_problems(face_of(report, MINE))
    assert not problems, problems


def test_named_symbols_print_alike_across_the_compute_derivations():
    """A keyword is one symbol: the same name and assumptions must print the same LaTeX."""
    seen: dict[tuple, tuple[str, str]] = {}
    for stem in FILES + ("transformer_flops", "transformer_params", "kv_cache_memory",
                         "training_compute", "roofline"):
        mod = module(stem)
        for sym in {s for s in vars(mod).values() if isinstance(s, Named)}:
            key = (sym.name, tuple(sorted(sym._assumptions_orig.items())))
            latex = mod.LATEX[sym.name]
            assert seen.setdefault(key, (latex, stem))[0] == latex, (key, seen[key], stem)


# --- The checks have teeth ---------------------------------------------------------


def _check(stem: str, check: str, claim: str, mutate=None):
    from llmsym.verify.formula import Formula

    mod = module(stem)
    d = mod.DERIVATION
    c = next(c for c in d.checks if c.name == check)
    expr = d.claim(claim).end if c.side == "end" else d.claim(claim).start
    formula = Formula(mutate(expr) if mutate else expr)
    try:
        m = c.run(np.random.default_rng(0), formula)
    except Exception:  # a mutant the check cannot even evaluate also fails it
        return False
    return bool(np.isfinite(m.max_error) and m.max_error <= m.tolerance)


@pytest.mark.parametrize(("stem", "check", "claim"), [
    ("moe_mla_counts", "moe", "moe"),
    ("architecture_counts", "window_keys", "window_keys"),
    ("moe_mla_counts", "mla", "mla"),
    ("moe_mla_counts", "cache_mla", "cache_mla"),
    ("architecture_counts", "model_params", "model_params"),
    ("training_memory", "none", "none"),
    ("training_memory", "korthikanti", "korthikanti"),
    ("training_memory", "zero2", "zero2"),
    ("serving", "step_bytes", "step_bytes"),
    ("serving", "mfu", "mfu"),
])
def test_checks_pass_and_fail_on_a_wrong_formula(stem, check, claim):
    from sympy import Rational

    assert _check(stem, check, claim)
    assert not _check(stem, check, claim, lambda e: Rational(11, 10) * e)


def test_a_cache_of_the_full_window_is_refused():
    """transformers keeps s_w - 1 tokens: a formula claiming s_w keys + 1 fails the check."""
    mod = module("architecture_counts")
    wrong = lambda e: e.xreplace({mod.s_w: mod.s_w + 1})  # noqa: E731
    assert not _check("architecture_counts", "window_keys", "window_keys", wrong)


def test_wrong_steps_are_refused():
    from sympy import Integer

    from llmsym.check.chain import Refuted, check_claim
    from llmsym.derivation import Claim, Step

    mod = module("training_memory")
    wrong = Claim("wrong", "t", start=mod.A_sel, steps=(
        Step(mod.selective.end + Integer(1) * mod.b, "one byte too many", "definition+expand"),))
    outcomes = check_claim(wrong, definitions=tuple((d.lhs, d.rhs) for d in
                                                     mod.DERIVATION.definitions))
    assert any(isinstance(o, Refuted) for o in outcomes), outcomes
