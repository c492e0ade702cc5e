"""The basics of LLM maths: the derivations under the real checker, and their NumPy helpers.

Covers vectors, matrix products, exp/log rules, the chain rule of probability, the
optimisers, multi-head attention and sinusoidal positions: every derivation must hold,
the statuses must be honest (size-limited steps say so), wrong variants of key steps
must be rejected, and the numeric checks must catch a broken implementation.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from llmsym.model import ASSUMPTION, DEFINITION, PROVED, PROVED_FOR, Step

ROOT = Path(__file__).resolve().parent.parent
IDS = ("vectors-dot-cosine", "matrix-shapes", "exp-log-rules", "probability-chain-rule",
       "optimisers", "multi-head-attention", "sinusoidal-positions")
FILES = {"vectors-dot-cosine": "vectors_dot_cosine", "matrix-shapes": "matrix_shapes",
         "exp-log-rules": "exp_log_rules", "probability-chain-rule": "probability_chain_rule",
         "optimisers": "optimisers", "multi-head-attention": "multi_head_attention",
         "sinusoidal-positions": "sinusoidal_positions"}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The seven derivations checked once, cold, by the real pipeline."""
    from llmsym.pipeline import Options, verify

    out = verify(Options(ids=IDS, use_cache=False, build_dir=tmp_path_factory.mktemp("build")))
    assert out.ok, [(d.id, d.error, [s.message for s in d.steps if not s.status.ok],
                     [n.detail for n in d.numeric if not n.passed]) for d in out.derivations]
    return {d.id: d for d in out.derivations}


def load(ident: str):
    """The Derivation object of one of the files."""
    from llmsym.loader import load_file

    return load_file(ROOT / "derivations" / f"{FILES[ident]}.py").derivation


def step_labels(report, ident: str, claim: str) -> list[str]:
    return [s.status.label for s in report[ident].steps if s.claim == claim]


# --- The real checker on the real derivations ------------------------------------


def test_every_basic_derivation_holds(report):
    assert set(report) == set(IDS)
    for d in report.values():
        assert d.ok and not d.error
        assert d.numeric and all(n.passed for n in d.numeric)
        assert d.view["examples"], f"{d.id} has no worked example"


def test_size_limited_steps_say_so(report):
    assert step_labels(report, "matrix-shapes", "transpose") == ["proved for d = 1..5"]
    assert step_labels(report, "matrix-shapes", "associativity") == ["proved for d = 1..4"]
    assert step_labels(report, "matrix-shapes", "trace_cycle") == ["proved for d = 1..6"]
    assert step_labels(report, "probability-chain-rule", "chain_rule") == [
        "proved", "proved for T = 1..6", "proved"]
    assert step_labels(report, "optimisers", "sgd_minibatch") == ["proved for n = 1..6"]
    assert step_labels(report, "optimisers", "ema_unrolled") == ["proved for t = 1..6"]
    assert step_labels(report, "multi-head-attention", "concat_heads") == ["proved for h = 1..6"]
    assert report["matrix-shapes"].status.kind == PROVED_FOR


def test_symbolic_claims_are_proved_for_every_size(report):
    for ident, claim in [("vectors-dot-cosine", "law_of_cosines"),
                         ("vectors-dot-cosine", "unit_distance"),
                         ("exp-log-rules", "lse_lower"),
                         ("probability-chain-rule", "log_likelihood"),
                         ("optimisers", "ema_constant"), ("optimisers", "bias_correction"),
                         ("multi-head-attention", "rows_sum_to_one"),
                         ("sinusoidal-positions", "dot_offset")]:
        assert report[ident].claim_status[claim].kind == PROVED, (ident, claim)
    assert report["sinusoidal-positions"].status.kind == PROVED
    upper = [s for s in report["exp-log-rules"].steps if s.claim == "lse_upper"]
    assert upper[-1].tactic.startswith("certificate")


def test_stated_steps_are_only_definitions(report):
    stated = [(d.id, s.claim) for d in report.values() for s in d.steps
              if s.claim != "definitions" and s.status.kind in (DEFINITION, ASSUMPTION)]
    assert sorted(stated) == sorted([("exp-log-rules", "change_of_base"),
                                     ("exp-log-rules", "lse_upper"),
                                     ("optimisers", "sgd_unbiased")])


def test_results_evaluate():
    flops = {r.name: r for r in load("matrix-shapes").results}
    m, k, n, p = sp.symbols("m k n p", integer=True, positive=True)
    assert flops["matmul_flops"].expr.subs({m: 2, k: 3, n: 4}) == 48
    assert flops["matmul_chain_flops_left"].expr.subs({m: 8, k: 8, n: 8, p: 1}) == 2 * 8 * 8 * 9
    adam = {r.name: r for r in load("optimisers").results}["adam_bias_correction"]
    beta, t = adam.params
    assert adam.expr.subs({beta: sp.Rational(9, 10), t: 2}) == sp.Rational(19, 100)
    freq = {r.name: r for r in load("sinusoidal-positions").results}["sinusoid_frequency"]
    i, d = freq.params
    assert freq.expr.subs({i: 1, d: 4}) == sp.Rational(1, 100)


# --- Wrong steps are rejected ----------------------------------------------------------


def _rejects(start, step: Step) -> bool:
    from llmsym.checker import StepFailure, prove_link

    try:
        prove_link(start, step, random.Random(0).randrange(10**6), lambda _: None)
    except StepFailure:
        return True
    return False


def test_wrong_matrix_identities_are_rejected():
    shapes = load("matrix-shapes")
    transpose = shapes.claim("transpose")
    A, B = transpose.start.arg.args  # (AB)^T
    wrong = Step(sp.MatMul(A.T, B.T), "wrong order", "expand", sizes=transpose.steps[0].sizes)
    assert _rejects(transpose.start, wrong)
    trace = shapes.claim("trace_cycle")
    A, B = trace.start.arg.args
    assert not _rejects(trace.start, trace.steps[0])
    d = trace.steps[0].sizes.symbol
    assert _rejects(trace.start, Step(sp.Trace(sp.MatMul(A, A)), "wrong", "expand",
                                      sizes=type(trace.steps[0].sizes)(d, 1, 3)))


def test_wrong_adam_and_position_steps_are_rejected():
    opt = load("optimisers")
    unrolled = opt.claim("ema_unrolled")
    good = unrolled.steps[0]
    beta = sp.Symbol("beta_1", positive=True)
    wrong_expr = good.expr.subs(beta, beta**2)  # the wrong weights
    assert _rejects(unrolled.start, Step(wrong_expr, "wrong", "expand", sizes=good.sizes))
    constant = opt.claim("ema_constant")
    t = sp.Symbol("t", integer=True, positive=True)
    g = sp.Symbol("g", real=True)
    beta1 = sp.Symbol("beta_1", positive=True)
    off_by_one = Step((1 - beta1 ** (t + 1)) * g, "wrong", "expand", using=constant.steps[0].using)
    assert _rejects(constant.start, off_by_one)
    shift = load("sinusoidal-positions").claim("shift")
    flipped = shift.steps[0].expr.args[0].T  # the transposed (inverse) rotation
    assert _rejects(shift.start, Step(sp.MatMul(flipped, shift.steps[0].expr.args[1],
                                                evaluate=False), "wrong", "trig"))


def test_a_false_lse_bound_is_rejected():
    claim = load("exp-log-rules").claim("lse_upper")
    last = claim.steps[-1]
    n = sp.Symbol("n", integer=True, positive=True)
    m = sp.Symbol("m", real=True)
    too_tight = Step(m + sp.log(n) - sp.Rational(1, 2), "wrong", rel="<=",
                     certificate=last.certificate)
    assert _rejects(claim.steps[-2].expr, too_tight)


# --- The numeric checks catch broken implementations -------------------------------


def test_adam_check_catches_a_missing_bias_correction(monkeypatch):
    import llmsym.numeric.optim as optim

    check = next(c for c in load("optimisers").checks if c.name == "adam")
    assert check.run(np.random.default_rng(3)).max_error < 1e-12

    def no_correction(theta, grad, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                      weight_decay=0.0):
        m = beta1 * state.m + (1 - beta1) * grad
        v = beta2 * state.v + (1 - beta2) * grad**2
        return theta - lr * m / (np.sqrt(v) + eps), optim.AdamState(m, v, state.t + 1)

    monkeypatch.setattr(optim, "adam_step", no_correction)
    broken = check.run(np.random.default_rng(3))
    assert broken.max_error > broken.tolerance


def test_position_check_catches_swapped_sin_and_cos(monkeypatch):
    import llmsym.numeric.positions as positions

    check = next(c for c in load("sinusoidal-positions").checks if c.name == "shift")
    real = positions.sinusoidal_encoding
    monkeypatch.setattr(positions, "sinusoidal_encoding",
                        lambda pos, d, base=10000.0: real(pos, d, base)[:, ::-1])
    broken = check.run(np.random.default_rng(0))
    assert broken.max_error > broken.tolerance


# --- The NumPy helpers ---------------------------------------------------------------


def test_adam_first_step_by_hand():
    from llmsym.numeric.optim import AdamState, adam_step

    theta, state = adam_step(np.array([1.0, -2.0]), np.array([0.5, -4.0]), AdamState.zeros(2),
                             lr=1e-3)
    # m_1 = 0.1 g, v_1 = 0.001 g^2; corrected: g and g^2; step = lr * g / (|g| + eps)
    assert np.allclose(state.m, [0.05, -0.4]) and np.allclose(state.v, [0.00025, 0.016])
    expected = np.array([1.0 - 1e-3 * 0.5 / (0.5 + 1e-8), -2.0 + 1e-3 * 4.0 / (4.0 + 1e-8)])
    assert np.allclose(theta, expected, rtol=0, atol=1e-15) and state.t == 1


def test_adamw_decays_even_with_zero_gradient():
    from llmsym.numeric.optim import AdamState, adam_step

    theta, _ = adam_step(np.array([2.0]), np.array([0.0]), AdamState.zeros(1), lr=0.1,
                         weight_decay=0.5)
    assert theta[0] == pytest.approx(2.0 * (1 - 0.1 * 0.5), abs=1e-15)
    plain, _ = adam_step(np.array([2.0]), np.array([0.0]), AdamState.zeros(1), lr=0.1)
    assert plain[0] == 2.0


def test_gd_step():
    from llmsym.numeric.optim import gd_step

    assert gd_step(np.array([1.0, 2.0]), np.array([0.5, -1.0]), 0.1).tolist() == [0.95, 2.1]


def test_sinusoidal_encoding_layout():
    from llmsym.numeric.positions import sinusoid_frequencies, sinusoidal_encoding

    pe = sinusoidal_encoding(np.arange(5), 8)
    assert pe.shape == (5, 8)
    assert pe[0].tolist() == [0.0, 1.0] * 4
    freqs = sinusoid_frequencies(8)
    assert freqs[0] == 1.0 and np.allclose(freqs[1:] / freqs[:-1], 10000 ** (-2 / 8))
    assert np.allclose(pe[3, 2:4], [np.sin(3 * freqs[1]), np.cos(3 * freqs[1])])
    assert np.allclose(np.sum(pe**2, axis=1), 4.0)  # each pair has norm 1
    with pytest.raises(ValueError):
        sinusoid_frequencies(7)
