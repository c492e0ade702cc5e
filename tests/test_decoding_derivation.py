"""Decoding under the real checker: greedy under temperature, truncate-and-renormalise (top-k,
top-p, min-p) and GNMT's length penalty; and the NumPy decoding rules against brute force.

Each claim is proved with the premises it is shown with (the kept tokens, the top-p run's
mass, the min-p threshold, α = 0); the face holds exactly one entry of this derivation and
follows its rules; planted errors are refused; the numeric checks fail on wrong formulas;
llmsym.numeric's top_k, top_p and min_p agree with exact rational brute force.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.numeric import (
    beam_length_penalty,
    beam_score,
    greedy,
    min_p,
    temperature_distribution,
    top_k,
    top_p,
)
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

ID = "decoding"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=(ID,), use_cache=False, build_dir=tmp_path_factory.mktemp("build")))


@pytest.fixture(scope="module")
def claims(result):
    return {c["name"]: c for c in result.claims_json(result.derivation(ID))}


@pytest.fixture(scope="module")
def m():
    return derivation_module("decoding")


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"]]


# --- The derivation --------------------------------------------------------------------------


def test_every_claim_is_proved_with_no_stated_step(result, claims):
    assert result.ok
    assert set(claims) == {"greedy", "normalised", "kept", "dropped", "ratio", "top_p_bound",
                           "top_p_lower", "min_p_count", "lp_one", "alpha_zero", "length_slope",
                           "longer_favoured"}
    for name, c in claims.items():
        assert c["status"]["kind"] == "proved", (name, c["label"])
        assert not c["problems"], name
    d = result.derivation(ID)
    assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric if not n.passed]
    assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]


def test_greedy_is_unchanged_by_temperature(claims):
    c = claims["greedy"]
    assert c["statement"] == (r"\operatorname{softmax}\left(\frac{\mathbf{z}}{T}\right)_{i} \le"
                              r" \operatorname{softmax}\left(\frac{\mathbf{z}}{T}\right)_{g}")
    assert _premises(c) == [r"{z}_{i} = {z}_{g} - {w}_{i}"]
    assert c["numeric"] == ["greedy"]


def test_truncation_claims_show_what_is_kept(claims):
    assert _premises(claims["normalised"]) == [r"$\sum_j \kappa_j p_j > 0$"]
    assert claims["normalised"]["statement"] == r"\sum_{i=1}^{n} \tilde{p}_{i} = 1"
    assert _premises(claims["kept"]) == [r"{\kappa}_{i} = 1"]
    assert claims["kept"]["statement"] == (r"\tilde{p}_{i} = \frac{{p}_{i}}{\sum_{j=1}^{n}"
                                           r" {\kappa}_{j} {p}_{j}}")
    assert sorted(claims["kept"]["numeric"]) == ["min-p", "top-k", "top-p"]
    assert _premises(claims["dropped"]) == [r"{\kappa}_{i} = 0"]
    ratio = claims["ratio"]
    assert ratio["statement"] == r"\frac{\tilde{p}_{i}}{\tilde{p}_{l}} = \frac{{p}_{i}}{{p}_{l}}"
    assert _premises(ratio) == [r"{\kappa}_{i} = 1", r"{\kappa}_{l} = 1"]
    assert [w["latex"] for w in ratio["where"]] == [
        r"\tilde{p}_{i} := \frac{{\kappa}_{i} {p}_{i}}{\sum_{j=1}^{n} {\kappa}_{j} {p}_{j}}"]


def test_top_p_and_min_p_bounds_rest_on_their_rules(claims):
    upper = claims["top_p_bound"]
    assert upper["statement"] == (r"\tilde{p}_{i} \le \frac{{\kappa}_{i} {p}_{i}}"
                                  r"{p_{\mathrm{top}}}")
    assert _premises(upper) == [r"\sum_{j=1}^{n} {\kappa}_{j} {p}_{j} = p_{\mathrm{top}}"
                                r" + w_{\mathrm{top}}"]
    lower = claims["top_p_lower"]
    assert lower["statement"].startswith(r"\tilde{p}_{i} \ge")
    assert set(_premises(lower)) == {r"w_{\mathrm{top}} < p_{\mathrm{last}}",
                                     _premises(upper)[0]}
    count = claims["min_p_count"]
    assert count["statement"] == (r"p_{\mathrm{base}} p_{\max} \sum_{j=1}^{n} {\kappa}_{j}"
                                  r" \le 1")
    assert len(_premises(count)) == 3
    assert r"\sum_{j=1}^{n} {p}_{j} = 1" in _premises(count)
    assert r"{\kappa}_{j} = 1 - {\bar{\kappa}}_{j}" in _premises(count)


def test_length_penalty_claims(claims):
    assert claims["lp_one"]["statement"] == r"\operatorname{lp}\left(1\right) = 1"
    assert not claims["lp_one"]["premises"]
    zero = claims["alpha_zero"]
    assert _premises(zero) == [r"\alpha_{\mathrm{lp}} = 0"]
    assert zero["statement"].endswith(r"= \log P(Y)")
    favoured = claims["longer_favoured"]
    assert favoured["statement"].endswith(r"\ge 0")
    assert [p["ref"] for p in favoured["premises"]] == ["decoding:length_slope"]


def test_exactly_one_face_entry_and_it_follows_the_rules(result):
    face = face_of(result, (ID,))
    assert [e["name"] for e in face] == ["ratio"]
    assert face_problems(face) == []


# --- Wrong steps are refused -----------------------------------------------------------------


def _refused(start, *steps, given=()) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps, given=given), timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_ratio_needs_both_tokens_kept(m):
    last = m.ratio.steps[-1]
    before = m.ratio.steps[-2].expr
    assert _refused(before, Step(last.expr, "no premise", "expand"))
    assert _refused(before, Step(last.expr, "one premise", "expand", using=(m.i_kept,)))


def test_wrong_truncation_steps_are_refused(m):
    start = m.ptilde(m.i)
    unnormalised = m.p[m.i] * m.kappa[m.i] / sp.Sum(m.p[m.j], (m.j, 1, m.n))
    assert _refused(start, Step(unnormalised, "divided by the full mass", "definition"))
    sum_start = m.normalised.start
    assert _refused(sum_start, Step(sp.Sum(m.kappa[m.i], (m.i, 1, m.n)) / m.n, "wrong", "sum"))


def test_wrong_bounds_are_refused(m):
    steps = m.top_p_bound.steps
    assert _refused(steps[1].expr, Step(m.kappa[m.i] * m.p[m.i] / (2 * m.p_top), "too tight",
                                        "cancel", rel="<="), given=(m.reaches_p,))
    lower = m.top_p_lower.steps
    assert _refused(lower[1].expr, Step(lower[2].expr, "without the shortest-run premise",
                                        "cancel", rel=">="))
    count = m.min_p_count.steps
    assert _refused(count[0].expr, Step(sp.Sum(m.kappa[m.j] * (m.THRESHOLD - m.w[m.j]),
                                                 (m.j, 1, m.n)), "wrong sign", rel="<="))


def test_greedy_needs_its_premise(m):
    before, monotone = m.greedy.steps[0].expr, m.greedy.steps[2]
    assert _refused(before, Step(monotone.expr, "no premise", "monotone", rel="<="))
    flipped = Step(monotone.expr, "flipped", "monotone", rel=">=")
    assert _refused(m.greedy.steps[1].expr, flipped, given=(m.g_is_max,))


# --- The numeric checks have teeth ---------------------------------------------------------


def _check(module, name: str):
    return next(c for c in module.DERIVATION.checks if c.name == name)


def _fails(check, formula) -> bool:
    measured = check.run(np.random.default_rng(3), formula)
    return not measured.max_error <= measured.tolerance


@pytest.mark.parametrize("name", ["top-k", "top-p", "min-p"])
def test_rule_checks_fail_on_wrong_renormalisations(m, name):
    check = _check(m, name)
    assert not _fails(check, Formula(m.kept.start))
    full_mass = m.p[m.i] * m.kappa[m.i] / sp.Sum(m.p[m.j], (m.j, 1, m.n))
    assert _fails(check, Formula(full_mass))  # not renormalised
    assert _fails(check, Formula(m.p[m.i] / m.KEPT_MASS))  # dropped tokens kept
    squared = m.p[m.i] ** 2 * m.kappa[m.i] / sp.Sum(m.p[m.j] ** 2 * m.kappa[m.j], (m.j, 1, m.n))
    assert _fails(check, Formula(squared))  # sums to one, but the odds change


def test_bound_checks_fail_on_loose_or_wrong_bounds(m):
    upper = _check(m, "top-p-bound")
    assert not _fails(upper, Formula(m.top_p_bound.end))
    assert _fails(upper, Formula(m.kappa[m.i] * m.p[m.i] / (m.p_top * sp.Rational(9, 10))))
    assert _fails(upper, Formula(m.kappa[m.i] * m.p[m.i]))  # divided by 1: false
    lower = _check(m, "top-p-lower")
    assert not _fails(lower, Formula(m.top_p_lower.end))
    assert _fails(lower, Formula(m.kappa[m.i] * m.p[m.i] / (m.p_top + 2 * m.p_last)))  # loose
    assert _fails(lower, Formula(m.kappa[m.i] * m.p[m.i] / m.p_top))  # false
    count = _check(m, "min-p-count")
    assert not _fails(count, Formula(m.min_p_count.start))
    assert _fails(count, Formula(m.p_max * sp.Sum(m.kappa[m.j], (m.j, 1, m.n))))  # no p_base


def test_greedy_and_slope_checks_fail_on_wrong_formulas(m):
    check = _check(m, "greedy")
    assert not _fails(check, Formula(m.greedy.end))
    assert _fails(check, Formula(m.softmax(m.z[m.k], m.k, m.n, m.g)))  # temperature ignored
    slope = _check(m, "length-slope")
    assert not _fails(slope, Formula(m.length_slope.end))
    assert _fails(slope, Formula(-m.alpha * m.log_prob / ((5 + m.length) ** 2)))


# --- llmsym.numeric's decoding rules against exact brute force -------------------------------


def _exact(probs: list[Fraction], kept: list[int]) -> list[Fraction]:
    mass = sum(probs[t] for t in kept)
    return [probs[t] / mass if t in kept else Fraction(0) for t in range(len(probs))]


def _ranking(probs: list[Fraction]) -> list[int]:
    return sorted(range(len(probs)), key=lambda t: (-probs[t], t))


def _random_fractions(rng: np.random.Generator) -> list[Fraction]:
    """Multiples of 1/64 (exact in floating point, so exact ties stay ties), many of them tied."""
    counts = [int(c) for c in rng.integers(1, 9, size=int(rng.integers(1, 8)))]
    return [Fraction(c, 64) for c in [*counts, 64 - sum(counts)]]


def _close(got: np.ndarray, want: list[Fraction]) -> bool:
    return np.allclose(got, [float(x) for x in want], rtol=0, atol=1e-15)


def test_top_k_matches_brute_force():
    rng = np.random.default_rng(11)
    for _ in range(200):
        probs = _random_fractions(rng)
        k = int(rng.integers(1, len(probs) + 2))
        want = _exact(probs, _ranking(probs)[:k])
        assert _close(top_k([float(x) for x in probs], k), want)


def test_top_p_is_the_shortest_prefix_reaching_p():
    rng = np.random.default_rng(12)
    for _ in range(200):
        probs = _random_fractions(rng)
        threshold = Fraction(int(rng.integers(1, 25)), 24)
        order = _ranking(probs)
        size = next(m for m in range(1, len(order) + 1)
                    if sum(probs[t] for t in order[:m]) >= threshold)
        want = _exact(probs, order[:size])
        assert _close(top_p([float(x) for x in probs], float(threshold)), want)


def test_min_p_keeps_tokens_above_the_scaled_maximum():
    rng = np.random.default_rng(13)
    for _ in range(200):
        probs = _random_fractions(rng)
        base = Fraction(int(rng.integers(0, 9)), 8)
        kept = [t for t in range(len(probs)) if probs[t] >= base * max(probs)]
        got = min_p([float(x) for x in probs], float(base))
        assert _close(got, _exact(probs, kept))
        if base:
            assert len(kept) <= 1 / (base * max(probs))  # the proved bound


def test_truncations_sum_to_one_and_keep_the_odds():
    rng = np.random.default_rng(14)
    for _ in range(100):
        probs = rng.dirichlet(np.ones(int(rng.integers(2, 30))) * 0.5)
        for out in (top_k(probs, 3), top_p(probs, 0.7), min_p(probs, 0.2)):
            assert out.sum() == pytest.approx(1.0, abs=1e-12)
            kept = np.flatnonzero(out)
            ratios = out[kept] / probs[kept]  # one common factor: 1/(kept mass)
            assert np.allclose(ratios, 1 / probs[kept].sum(), rtol=1e-12)


def test_greedy_token_survives_every_temperature():
    rng = np.random.default_rng(15)
    for _ in range(100):
        z = rng.normal(size=int(rng.integers(2, 50))) * 3
        for temp in (1e-3, 0.1, 1.0, 10.0, 1e3):
            assert np.argmax(temperature_distribution(z, temp)) == greedy(z)
        assert temperature_distribution(z, 0)[greedy(z)] == 1.0


def test_length_penalty_values():
    for power in (0.0, 0.6, 1.0, 2.5):
        assert beam_length_penalty(1, power) == pytest.approx(1.0, abs=1e-15)
    assert beam_score(-7.5, 12, 0.0) == -7.5
    # (5 + 7)/6 = 2 exactly: the score halves at alpha = 1
    assert beam_score(-4.0, 7, 1.0) == pytest.approx(-2.0, abs=1e-15)


def test_worked_examples_are_computed(m):
    caption, latex = m.example_truncation()
    # top-2 of (0.45, 0.25, ...) is (0.45, 0.25)/0.7; min-p 0.3 keeps p >= 0.135 (three tokens)
    assert "0.643, 0.357, 0, 0, 0" in latex
    assert "(0.529, 0.294, 0.176, 0, 0)" in latex
    caption, latex = m.example_length_penalty()
    short, long_ = -4 / (10 / 6) ** 0.6, -5 / (15 / 6) ** 0.6
    assert f"{short:.3f} < {long_:.3f}" in latex
