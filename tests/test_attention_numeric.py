"""llmsym.numeric.attention: flash_attention against naive attention, masked rows, both
schedules, the stored log-sum-exp, bad inputs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from llmsym.numeric.attention import attention, flash_attention
from llmsym.numeric.softmax import logsumexp


def _qkv(rng, n_q, n_k, d=8, d_v=3, scale=1.0, batch=()):
    return (rng.normal(size=(*batch, n_q, d)) * scale, rng.normal(size=(*batch, n_k, d)) * scale,
            rng.normal(size=(*batch, n_k, d_v)))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("block", [1, 5, 7, 16, 64, 1000])
@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_flash_equals_naive_for_ragged_blocks(causal, block, scale):
    rng = np.random.default_rng(block)
    q, k, v = _qkv(rng, 37, 37, scale=scale)
    naive = attention(q, k, v, causal=causal)
    tiled = flash_attention(q, k, v, block_size=block, causal=causal)
    assert np.all(np.isfinite(tiled))
    assert np.abs(tiled - naive).max() <= 1e-12


def test_logits_times_100_would_overflow_without_the_max():
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, 20, 30, scale=100.0)
    with np.errstate(over="ignore", invalid="ignore"):
        raw = np.exp(q @ k.T / np.sqrt(8))
    assert not np.all(np.isfinite(raw))  # the premise: a naive exp overflows here
    assert np.abs(flash_attention(q, k, v, 8) - attention(q, k, v)).max() <= 1e-12


def test_query_that_sees_no_key_gets_zeros_not_nan():
    rng = np.random.default_rng(2)
    q, k, v = _qkv(rng, 10, 4)  # causal, aligned bottom right: the first 6 queries see nothing
    for out in (attention(q, k, v, causal=True), flash_attention(q, k, v, 3, causal=True),
                flash_attention(q, k, v, 3, causal=True, schedule="fa1")):
        assert np.all(np.isfinite(out))
        assert np.all(out[:6] == 0.0)
        assert np.all(np.abs(out[6:]).sum(axis=1) > 0)
    _, lse = flash_attention(q, k, v, 3, causal=True, return_lse=True)
    assert np.all(lse[:6] == -np.inf) and np.all(np.isfinite(lse[6:]))


def test_no_keys_at_all_gives_zeros():
    rng = np.random.default_rng(3)
    q, k, v = _qkv(rng, 5, 0)
    assert flash_attention(q, k, v, 2).tolist() == [[0.0] * 3] * 5
    assert attention(q, k, v).tolist() == [[0.0] * 3] * 5


def test_causal_mask_is_bottom_right_aligned():
    rng = np.random.default_rng(4)
    q, k, v = _qkv(rng, 3, 5)
    out = attention(q, k, v, causal=True)
    # the last query sees every key, the first sees keys 0..2
    np.testing.assert_allclose(out[-1], attention(q[-1:], k, v)[0], rtol=1e-14)
    np.testing.assert_allclose(out[0], attention(q[:1], k[:3], v[:3])[0], rtol=1e-14)


@pytest.mark.parametrize("causal", [False, True])
def test_both_schedules_agree_and_lse_is_logsumexp(causal):
    rng = np.random.default_rng(5)
    q, k, v = _qkv(rng, 29, 23, scale=10.0, batch=(2,))
    fa1 = flash_attention(q, k, v, 6, causal, schedule="fa1")
    fa2, lse = flash_attention(q, k, v, 6, causal, schedule="fa2", return_lse=True)
    assert np.abs(fa1 - fa2).max() <= 1e-12
    assert np.abs(fa2 - attention(q, k, v, causal)).max() <= 1e-12
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(8)
    if causal:
        scores = np.where(np.arange(23)[None] <= np.arange(29)[:, None] - 6, scores, -np.inf)
    ref = logsumexp(scores)
    np.testing.assert_array_equal(np.isfinite(lse), np.isfinite(ref))
    seen = np.isfinite(ref)
    np.testing.assert_allclose(lse[seen], ref[seen], rtol=1e-13)


def test_bad_inputs_get_one_clear_error():
    rng = np.random.default_rng(6)
    q, k, v = _qkv(rng, 4, 4)
    with pytest.raises(ValueError, match="block_size"):
        flash_attention(q, k, v, 0)
    with pytest.raises(ValueError, match="schedule"):
        flash_attention(q, k, v, schedule="fa3")
    with pytest.raises(ValueError, match="shapes"):
        attention(q, k[:, :3], v)


def test_public_names_are_functions_in_a_fresh_interpreter():
    """Even after the submodules of the same name were imported first."""
    code = ("import llmsym.numeric.attention, llmsym.numeric.rope; import llmsym.numeric as N; "
            "print(all(callable(getattr(N, f)) for f in "
            "('attention', 'flash_attention', 'online_softmax', 'rope')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
