"""FLOPs, KV cache, training, roofline, Chinchilla: the real checker and the counting decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.numeric.transformer import (
    Counter,
    Decoder,
    DecoderConfig,
    Traffic,
    flash_attention_io,
    random_config,
    standard_attention_io,
)

ROOT = Path(__file__).resolve().parent.parent
MINE = ("transformer-flops", "transformer-params", "kv-cache-memory", "training-compute",
        "roofline", "chinchilla")


def load(stem: str):
    return derivation_module(stem)


@pytest.fixture(scope="module")
def flops():
    return load("transformer_flops")


@pytest.mark.parametrize("ident", MINE)
def test_derivation_verifies(reports, ident):
    report = reports[ident]
    assert report.ok, report.status.label
    assert all(s.status.ok for s in report.steps)
    assert all(n.passed for n in report.numeric)
    checked = [s for s in report.steps if s.status.kind not in ("definition", "assumption")]
    assert checked and all(s.status.kind == "proved" for s in checked)


def test_headline_claims_are_on_the_sheet(reports):
    on_sheet = {c["name"] for d in MINE for c in reports[d].view["claims"] if c["on_sheet"]}
    for name in ("forward", "forward_causal", "decode", "params", "kv_cache", "total",
                 "adam_bytes", "crossover", "n_opt", "d_opt", "flash_io"):
        assert name in on_sheet


def sizes(config: DecoderConfig, **extra: int) -> dict[str, int]:
    return dict(n_layers=config.n_layers, d_model=config.d_model, n_heads=config.n_heads,
                n_kv_heads=config.n_kv_heads, d_head=config.d_head, d_ff=config.d_ff,
                vocab_size=config.vocab_size, ffn_matrices=3 if config.ffn == "swiglu" else 2,
                bias=int(config.bias), **extra)


def test_counted_forward_equals_closed_forms(flops):
    rng = np.random.default_rng(7)
    for _ in range(25):
        config = random_config(rng)
        model = Decoder(config, rng)
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        tokens = rng.integers(0, config.vocab_size, size=(batch, seq))
        full, useful = Counter(), Counter()
        model.forward(tokens, full)
        model.forward(tokens, useful, useful_only=True)
        n = sizes(config, batch=batch, seq=seq)
        assert full.flops == flops.exact(flops.forward.end, **n)
        assert useful.flops == flops.exact(flops.forward_causal.end, **n)
        assert sum(full.elements.values()) == flops.exact(flops.elementwise.end, **n)


def test_a_wrong_closed_form_is_caught(flops):
    """Counting attention as s^2/2 per product (instead of s(s+1)/2) disagrees with the count."""
    wrong = flops.forward_causal.end.xreplace({flops.s + 1: flops.s})
    config = DecoderConfig(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_ff=12, vocab_size=9)
    counter = Counter()
    Decoder(config, np.random.default_rng(0)).forward(np.zeros((2, 5), int), counter,
                                                      useful_only=True)
    n = sizes(config, batch=2, seq=5)
    assert counter.flops == flops.exact(flops.forward_causal.end, **n)
    assert counter.flops != flops.exact(wrong, **n)


def test_numeric_checks_report_a_planted_error(flops, monkeypatch):
    """The numeric check fails when the claim it compares with is wrong."""
    from llmsym.model import Claim, Step

    planted = Claim("forward", "planted", start=flops.F_fwd,
                    steps=(Step(flops.forward.end + flops.b, "one FLOP too many per sequence"),))
    monkeypatch.setattr(flops, "forward", planted)
    measured = flops.check_forward(np.random.default_rng(1))
    assert measured.max_error > measured.tolerance


def test_decode_step_matches_the_full_forward_pass():
    rng = np.random.default_rng(3)
    for _ in range(10):
        config = random_config(rng)
        model = Decoder(config, rng)
        tokens = rng.integers(0, config.vocab_size, size=(2, 6))
        full = model.forward(tokens, Counter())
        _, cache = model.prefill(tokens[:, :5], "fp32", Counter())
        last = model.decode_step(tokens[:, 5], cache, Counter())
        assert np.max(np.abs(last - full[:, -1])) < 1e-4
        assert cache.length == 6


def test_flash_attention_computes_attention_and_counts_its_traffic():
    kv = load("kv_cache_memory")
    rng = np.random.default_rng(5)
    q, k, v = rng.normal(size=(3, 24, 4))
    plain, fast = Traffic(), Traffic()
    out = standard_attention_io(q, k, v, plain)
    flash = flash_attention_io(q, k, v, 6, 4, fast)  # B_c = 6: M = 4 d B_c = 96
    assert np.allclose(out, flash, atol=1e-12)
    assert plain.total == kv.exact(kv.standard_io.end, seq=24, d_head=4)
    assert fast.total == kv.exact(kv.flash_io.end, seq=24, d_head=4, sram_elements=96)


def test_kv_cache_of_llama3_8b():
    kv = load("kv_cache_memory")
    got = kv.exact(kv.kv_cache.end, n_layers=32, n_kv_heads=8, d_head=128, seq=8192, batch=1,
                   bytes_per_element=2)
    assert got == 2**30  # 1 GiB in bf16


def test_training_is_three_forward_passes():
    mod = load("training_compute")
    assert mod.check_backward(np.random.default_rng(2)).max_error == 0
    assert sp.expand(mod.per_token.end - (6 * mod.N + 12 * mod.L * mod.s * mod.h * mod.d_h)) == 0


def test_chinchilla_published_fit():
    ch = load("chinchilla")
    fit = ch.FIT
    n = ch._lambda(ch.n_opt.end)(5.76e23, fit)
    d = ch._lambda(ch.d_opt.end)(5.76e23, fit)
    assert 6 * n * d == pytest.approx(5.76e23, rel=1e-12)
    exponent = fit[ch.beta] / (fit[ch.alpha] + fit[ch.beta])
    assert exponent == pytest.approx(0.4516, abs=1e-4)


def test_roofline_crossover_check_passes():
    roof = load("roofline")
    assert roof.check_crossover(np.random.default_rng(11)).max_error == 0
