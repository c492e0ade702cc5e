"""FLOPs, KV cache, training compute, roofline and scaling: closed forms against counted runs.

The derivation files are imported for their claims and numeric checks; the checks are
fed the claims' own formulas (as ``llmsym verify`` does) and wrong formulas must fail.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from llmsym.numeric.transformer import (
    Counter,
    Decoder,
    DecoderConfig,
    Traffic,
    random_config,
    standard_attention_io,
)
from llmsym.verify.formula import Formula

ROOT = Path(__file__).resolve().parent.parent


def load(stem: str):
    spec = importlib.util.spec_from_file_location(f"flops_test_{stem}",
                                                  ROOT / "derivations" / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def flops():
    return load("transformer_flops")


@pytest.fixture(scope="module")
def kv():
    return load("kv_cache_memory")


def sizes(model, **extra: int) -> dict[str, int]:
    c = model.config
    return dict(n_layers=c.n_layers, d_model=c.d_model, n_heads=c.n_heads,
                n_kv_heads=c.n_kv_heads, d_head=c.d_head, d_ff=c.d_ff,
                vocab_size=c.vocab_size, ffn_matrices=3 if c.ffn == "swiglu" else 2,
                bias=int(c.bias), **extra)


def in_sizes(flops, expr, **values) -> int:
    """A claim's closed form with N_mat written out, at integer sizes."""
    return flops.exact(flops._in_sizes(expr), **values)


def test_counted_forward_equals_closed_forms(flops):
    rng = np.random.default_rng(7)
    for _ in range(25):
        model = Decoder(random_config(rng), rng)
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        tokens = rng.integers(0, model.config.vocab_size, size=(batch, seq))
        full, useful = Counter(), Counter()
        model.forward(tokens, full)
        model.forward(tokens, useful, useful_only=True)
        n = sizes(model, batch=batch, seq=seq)
        assert full.flops == in_sizes(flops, flops.forward.end, **n)
        assert useful.flops == in_sizes(flops, flops.forward_causal.end, **n)
        assert sum(full.elements.values()) == in_sizes(flops, flops.elementwise.end, **n)


def test_matrix_params_from_arrays_equals_the_definition(flops):
    rng = np.random.default_rng(8)
    for _ in range(20):
        model = Decoder(random_config(rng), rng)
        assert flops.matrix_params(model) == flops.exact(flops.N_MAT.rhs, **sizes(model))


@pytest.mark.parametrize(("check", "claim"), [("check_forward", "forward"),
                                              ("check_causal", "forward_causal"),
                                              ("check_decode", "decode"),
                                              ("check_elementwise", "elementwise")])
def test_checks_pass_on_the_claim_and_fail_on_a_wrong_one(flops, check, claim):
    end = flops.DERIVATION.claim(claim).end
    good = getattr(flops, check)(np.random.default_rng(1), Formula(end))
    assert good.max_error == 0 and good.samples > 0
    for wrong in (end + 1, end * 11 / 10):
        bad = getattr(flops, check)(np.random.default_rng(1), Formula(wrong))
        assert bad.max_error > bad.tolerance


def test_causal_counts_the_diagonal(flops):
    """Counting attention as s^2/2 per product (instead of s(s+1)/2) disagrees with the count."""
    wrong = flops._in_sizes(flops.forward_causal.end).xreplace({flops.s + 1: flops.s})
    config = DecoderConfig(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_ff=12, vocab_size=9)
    model = Decoder(config, np.random.default_rng(0))
    counter = Counter()
    model.forward(np.zeros((2, 5), int), counter, useful_only=True)
    n = sizes(model, batch=2, seq=5)
    assert counter.flops == in_sizes(flops, flops.forward_causal.end, **n)
    assert counter.flops != flops.exact(wrong, **n)


def test_decode_step_matches_the_full_forward_pass():
    rng = np.random.default_rng(3)
    for _ in range(10):
        model = Decoder(random_config(rng), rng)
        tokens = rng.integers(0, model.config.vocab_size, size=(2, 6))
        full = model.forward(tokens, Counter())
        _, cache = model.prefill(tokens[:, :5], "fp32", Counter())
        last = model.decode_step(tokens[:, 5], cache, Counter())
        assert np.max(np.abs(last - full[:, -1])) < 1e-4
        assert cache.length == 6


def test_flash_attention_algorithm_1_counts_its_initialisation(kv):
    from llmsym.numeric import attention

    rng = np.random.default_rng(5)
    q, k, v = rng.normal(size=(3, 24, 4))
    out, moved = kv.flash_attention_algorithm1(q, k, v, 6, 4)  # M = 4 d B_c = 96
    assert np.allclose(out, attention(q * 2.0, k, v), atol=1e-12)
    assert moved == int(kv.exact(kv.flash_io.end, seq=24, d_head=4, sram_elements=96))
    # the three initial writes (O, l, m) are part of the count: 24 * 4 + 2 * 24
    assert moved - 24 * 4 - 2 * 24 == 2 * 24 * 4 + (24 // 6) * (3 * 24 * 4 + 4 * 24)
    plain = Traffic()
    standard_attention_io(q, k, v, plain)
    assert plain.total == int(kv.exact(kv.standard_io.end, seq=24, d_head=4))


def test_kv_cache_of_llama3_8b(kv):
    got = kv.exact(kv.kv_cache.end, n_layers=32, n_kv_heads=8, d_head=128, seq=8192, batch=1,
                   bytes_per_element=2)
    assert got == 2**30  # 1 GiB in bf16


def test_attention_share_example_is_a_share():
    training = load("training_compute")
    caption, latex = training.example_share()
    assert r"\rho_{\mathrm{attn}} = 13.3\%" in latex  # GPT-2 small at s = 1024
    assert "15.3" in latex  # the ratio, named as such


def test_roofline_crossover_returns_the_measured_batch():
    roof = load("roofline")
    measured = roof.check_crossover(np.random.default_rng(11), Formula(roof.crossover.end))
    assert measured.max_error < 1e-9
    scaled = roof.check_crossover(np.random.default_rng(11), Formula(roof.crossover.end * 2))
    assert scaled.max_error > scaled.tolerance


def test_chinchilla_published_fit_and_refit():
    ch = load("chinchilla")
    budget = 5.76e23
    n = ch._closed_form(ch.n_opt.end, ch.FIT, budget)
    d = ch._closed_form(ch.d_opt.end, ch.FIT, budget)
    assert 6 * n * d == pytest.approx(budget, rel=1e-12)
    assert n == pytest.approx(32.2e9, rel=0.01) and d == pytest.approx(2.98e12, rel=0.01)
    n_refit = ch._closed_form(ch.n_opt.end, ch.REFIT, budget)
    assert 60e9 < n_refit < 80e9  # Besiroglu et al.'s refit lands near the trained 70B


def test_kaplan_exponents():
    kap = load("kaplan_scaling")
    assert kap.FIT_C[kap.alpha_C] / kap.FIT_N[kap.alpha_N] == pytest.approx(0.658, abs=1e-3)
    assert kap.FIT_ND[kap.alpha_N] / kap.FIT_ND[kap.alpha_D] == pytest.approx(0.738, abs=1e-3)
