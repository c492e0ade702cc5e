"""Exact parameter counts: the closed form, the counting decoder, and published totals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import derivation_module

from llmsym.calc import load_preset
from llmsym.numeric.transformer import Decoder, DecoderConfig, random_config

ROOT = Path(__file__).resolve().parent.parent


def load(stem: str):
    return derivation_module(stem)


PUBLISHED = {
    "gpt2": 124_439_808,
    "llama-2-7b": 6_738_415_616,
    "llama-3-8b": 8_030_261_248,
    "mistral-7b": 7_241_732_096,
    "tinyllama-1.1b": 1_100_048_384,
}


@pytest.fixture(scope="module")
def params():
    return load("transformer_params")


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


def test_a_wrong_norm_count_is_caught(params):
    """Counting one vector per LayerNorm (forgetting the shift) misses 2L + 1 vectors of d."""
    config = DecoderConfig(n_layers=3, d_model=8, n_heads=2, n_kv_heads=2, d_ff=16,
                           vocab_size=11, norm="layernorm")
    counted = Decoder(config, np.random.default_rng(0)).param_count
    wrong = dict(params.param_sizes(config), norm_vectors=1)
    assert counted - params.exact(params.TOTAL, **wrong) == (2 * 3 + 1) * 8


def test_numeric_checks_pass(params):
    assert params.check_counted(np.random.default_rng(0)).max_error == 0
    assert params.check_published(np.random.default_rng(0)).max_error == 0
