"""The hand-written backward pass of the counting decoder: correct, and counted honestly."""

from __future__ import annotations

import numpy as np
import pytest

from llmsym.numeric.transformer import Counter, Decoder, DecoderConfig, random_config
from llmsym.numeric.transformer_backward import (
    finite_difference_gap,
    linear_backward,
    loss_and_grads,
    loss_of,
)


def _case(rng, config=None):
    config = config or random_config(rng)
    model = Decoder(config, rng)
    batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
    tokens, targets = (rng.integers(0, config.vocab_size, size=(batch, seq)) for _ in range(2))
    return model, tokens, targets


def test_gradients_agree_with_finite_differences():
    rng = np.random.default_rng(0)
    for _ in range(12):
        model, tokens, targets = _case(rng)
        loss, grads = loss_and_grads(model, tokens, targets, Counter(), Counter())
        assert loss == pytest.approx(loss_of(model, tokens, targets), abs=1e-12)
        assert finite_difference_gap(model, tokens, targets, grads, rng) < 1e-4


def test_a_wrong_gradient_is_caught_by_finite_differences():
    rng = np.random.default_rng(1)
    model = Decoder(DecoderConfig(n_layers=1, d_model=8, n_heads=2, n_kv_heads=1, d_ff=8,
                                  vocab_size=7), rng)
    tokens, targets = np.array([[1, 2, 3, 4]]), np.array([[2, 3, 4, 5]])
    _, grads = loss_and_grads(model, tokens, targets, Counter(), Counter())
    grads["layer0.q"] = grads["layer0.q"] * 3.0  # queries matter once a row sees two keys
    assert finite_difference_gap(model, tokens, targets, grads, rng) > 1e-3


def test_backward_executes_twice_the_forward_products():
    """Not by construction: the count is whatever the chain rule, written out, multiplies."""
    rng = np.random.default_rng(2)
    for _ in range(20):
        model, tokens, targets = _case(rng)
        fwd, bwd = Counter(), Counter()
        loss_and_grads(model, tokens, targets, fwd, bwd)
        assert bwd.flops == 2 * fwd.flops
        counted = Counter()  # the decoder's own forward pass runs the same products
        model.forward(tokens, counted)
        assert fwd.flops == counted.flops


def test_recomputation_adds_the_layers_forward_only():
    rng = np.random.default_rng(3)
    for _ in range(10):
        model, tokens, targets = _case(rng)
        fwd, bwd = Counter(), Counter()
        _, plain = loss_and_grads(model, tokens, targets, Counter(), Counter())
        _, grads = loss_and_grads(model, tokens, targets, fwd, bwd, recompute=True)
        assert all(np.allclose(grads[k], plain[k], atol=1e-12) for k in grads)
        head = fwd.matmul_flops["lm_head"]
        assert bwd.flops == 2 * fwd.flops + fwd.flops - head


def test_linear_backward_shapes_and_count():
    rng = np.random.default_rng(4)
    x, w, g = rng.normal(size=(2, 3, 5)), rng.normal(size=(5, 7)), rng.normal(size=(2, 3, 7))
    counter = Counter()
    dx, dw = linear_backward(x, w, g, counter, "y")
    assert dx.shape == x.shape and dw.shape == w.shape
    assert np.allclose(dw, np.einsum("bsi,bso->io", x, g))
    assert counter.flops == 2 * (2 * 6 * 5 * 7)
