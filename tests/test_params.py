"""Exact parameter counts: the closed form, the counting decoder, and published totals."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from llmsym.numeric.transformer import Decoder, DecoderConfig, random_config
from llmsym.presets import load_preset
from llmsym.verify.formula import Formula

ROOT = Path(__file__).resolve().parent.parent

PUBLISHED = {
    "gpt2": 124_439_808,
    "llama-2-7b": 6_738_415_616,
    "llama-3-8b": 8_030_261_248,
    "tinyllama-1.1b": 1_100_048_384,
}


@pytest.fixture(scope="module")
def params():
    spec = importlib.util.spec_from_file_location("params_test_transformer_params",
                                                  ROOT / "derivations" / "transformer_params.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("preset", "count"), sorted(PUBLISHED.items()))
def test_published_totals(params, preset, count):
    config = load_preset(preset)
    assert params.exact(params.TOTAL, **params.param_sizes(config)) == count
    assert config.params_published == count


def test_sum_of_array_sizes(params):
    rng = np.random.default_rng(4)
    for _ in range(40):
        config = random_config(rng)
        counted = Decoder(config, rng).param_count
        assert counted == params.exact(params.TOTAL, **params.param_sizes(config))


def test_the_three_counts_of_gpt2(params):
    n = params.param_sizes(load_preset("gpt2"))
    ne = params.exact(params.NE.rhs, **n)
    assert ne == 12 * 12 * 768**2  # Kaplan's 12 L d^2 for d_ff = 4d, MHA
    assert ne + 768 * 50257 == 123_532_032  # N_mat: the LM head multiplies
    assert params.exact(params.TOTAL, **n) / ne == pytest.approx(1.465, abs=1e-3)


def test_a_wrong_norm_count_is_caught(params):
    """Counting one vector per LayerNorm (forgetting the shift) misses 2L + 1 vectors of d."""
    config = DecoderConfig(n_layers=3, d_model=8, n_heads=2, n_kv_heads=2, d_ff=16,
                           vocab_size=11, norm="layernorm")
    counted = Decoder(config, np.random.default_rng(0)).param_count
    wrong = dict(params.param_sizes(config), norm_vectors=1)
    assert counted - params.exact(params.TOTAL, **wrong) == (2 * 3 + 1) * 8


@pytest.mark.parametrize(("check", "claim"), [("check_layer", "layer"), ("check_params", "params"),
                                              ("check_variants", "variants"),
                                              ("check_published", "total")])
def test_checks_pass_on_the_claim_and_fail_on_a_wrong_one(params, check, claim):
    end = params.DERIVATION.claim(claim).end
    assert getattr(params, check)(np.random.default_rng(0), Formula(end)).max_error == 0
    for wrong in (end + params.d, end * 11 / 10):
        bad = getattr(params, check)(np.random.default_rng(0), Formula(wrong))
        assert bad.max_error > bad.tolerance
