"""The reference implementations of issue 15 against independent computations.

Each reference is compared with a route that shares no code with it: a textbook
definition evaluated element by element in Python, exact arithmetic (fractions,
math.fsum, mpmath), brute-force enumeration, NumPy's own view of a bit pattern
(np.finfo, .view), or a Monte Carlo run whose tolerance a 5 % error would fail.
Edge cases and the messages for bad input are tested alongside.
"""

from __future__ import annotations

import doctest
import importlib
import itertools
import math
import statistics
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import llmsym.numeric as N

MODULES = ["activations", "bayes", "calibration", "decoding", "embeddings", "error_bars", "ffn",
           "joint_info", "kernel_attention", "lowrank", "minibatch", "norms", "position_shift",
           "precision", "rlhf", "speculative", "tokenisation"]


@pytest.fixture
def rng():
    return np.random.default_rng(20240515)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"llmsym.numeric.{name}")
    outcome = doctest.testmod(module)
    assert outcome.attempted >= 2 and outcome.failed == 0


def test_every_public_name_is_exported():
    for name in MODULES:
        module = importlib.import_module(f"llmsym.numeric.{name}")
        for public in module.__all__:
            assert getattr(N, public) is getattr(module, public), public


# --- 1. Normalisation -------------------------------------------------------------------------


def _layer_norm_by_statistics(row, eps):
    """LayerNorm of one row from the statistics module (exact mean and population variance)."""
    mean, var = statistics.fmean(row), statistics.pvariance(row)
    return [(v - mean) / math.sqrt(var + eps) for v in row]


@pytest.mark.parametrize("eps", [0.0, 1e-5, 0.5])
def test_layer_norm_matches_the_definition_row_by_row(rng, eps):
    x = rng.normal(size=(4, 3, 7)) * 3 + 1
    out = N.layer_norm(x, eps)
    expected = [_layer_norm_by_statistics(row.tolist(), eps) for row in x.reshape(-1, 7)]
    np.testing.assert_allclose(out.reshape(-1, 7), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 1e-6, 2.0])
def test_rms_norm_matches_the_definition_row_by_row(rng, eps):
    x = rng.normal(size=(5, 6))
    expected = [[v / math.sqrt(math.fsum(u * u for u in row) / len(row) + eps) for v in row]
                for row in x.tolist()]
    np.testing.assert_allclose(N.rms_norm(x, eps), expected, rtol=1e-12)


def test_norm_invariances_and_their_relation(rng):
    x = rng.normal(size=(3, 8))
    shifted = 2.5 * x + 7.0  # a > 0, c·1
    np.testing.assert_allclose(N.layer_norm(shifted, 0.0), N.layer_norm(x, 0.0), atol=1e-12)
    np.testing.assert_allclose(N.rms_norm(3.0 * x, 0.0), N.rms_norm(x, 0.0), atol=1e-12)
    centred = x - x.mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(N.layer_norm(x, 0.0), N.rms_norm(centred, 0.0), atol=1e-12)
    # eps breaks the invariance: a tiny input is not blown up to unit scale.
    assert np.max(np.abs(N.layer_norm(1e-6 * x, 1e-5))) < 0.01


def test_norms_at_extreme_scales():
    for scale in (1e-300, 1e300):
        x = np.array([1.0, 2.0, 4.0]) * scale
        np.testing.assert_allclose(N.layer_norm(x, 0.0), _layer_norm_by_statistics([1, 2, 4], 0),
                                   rtol=1e-12)
        np.testing.assert_allclose(N.rms_norm(x, 0.0), np.array([1, 2, 4]) / math.sqrt(7),
                                   rtol=1e-12)
    # Tiny inputs with eps > 0: x / sqrt(eps), not 0.
    np.testing.assert_allclose(N.rms_norm([1e-200, 0.0], 1e-6), [1e-197, 0.0], rtol=1e-12)
    np.testing.assert_array_equal(N.layer_norm([3.0, 3.0], 1e-5), [0.0, 0.0])
    np.testing.assert_array_equal(N.rms_norm([0.0, 0.0], 1e-6), [0.0, 0.0])


@pytest.mark.parametrize("call, message", [
    (lambda: N.layer_norm([2.0, 2.0], 0.0), "constant vector"),
    (lambda: N.rms_norm([0.0, 0.0], 0.0), "zero vector"),
    (lambda: N.layer_norm([1.0, 2.0], -1e-5), "eps must be"),
    (lambda: N.rms_norm([1.0, float("nan")], 1e-5), "non-finite"),
    (lambda: N.layer_norm(3.0, 1e-5), "last axis"),
    (lambda: N.rms_norm(np.zeros((2, 0)), 1e-5), "last axis"),
])
def test_norms_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _sublayers(rng, d, depth):
    weights = [rng.normal(size=(d, d)) / math.sqrt(d) for _ in range(depth)]
    layers = [lambda x, w=w: np.tanh(w @ x) for w in weights]
    jacobians = [lambda x, w=w: (1.0 - np.tanh(w @ x) ** 2)[:, None] * w for w in weights]
    return layers, jacobians


def test_residual_stream_forward_is_the_recurrence(rng):
    layers, _ = _sublayers(rng, 4, 3)
    x0 = rng.normal(size=4)
    states = N.residual_stream(x0, layers)
    x = x0.copy()
    for layer, state in zip(layers, states[1:], strict=True):
        x = x + layer(x)
        np.testing.assert_allclose(state, x, rtol=1e-15)
    assert len(states) == 4


@pytest.mark.parametrize("upto", [0, 2])
def test_residual_stream_gradient_matches_finite_differences(rng, upto):
    d = 4
    layers, jacobians = _sublayers(rng, d, 3)
    x0, w = rng.normal(size=d), rng.normal(size=d)
    states = N.residual_stream(x0, layers)
    grad = N.residual_stream_vjp(states, jacobians, w, upto=upto)

    def energy(x_start):  # E = w · x_L as a function of the state at index upto
        return float(w @ N.residual_stream(x_start, layers[upto:])[-1])

    h = 1e-6
    numeric = [(energy(states[upto] + h * e) - energy(states[upto] - h * e)) / (2 * h)
               for e in np.eye(d)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)


def test_residual_stream_rejects_a_shape_changing_sublayer():
    with pytest.raises(ValueError, match="sub-layer 0 returned shape"):
        N.residual_stream(np.zeros(3), [lambda x: x[:2]])
    states = N.residual_stream(np.zeros(2), [lambda x: x])
    with pytest.raises(ValueError, match="1 blocks need as many Jacobians"):
        N.residual_stream_vjp(states, [], np.ones(2))


# --- 2. Activations and FFN -------------------------------------------------------------------


GELU_POINTS = [-40.0, -12.0, -5.0, -1.5, -1e-300, 0.0, 1e-300, 0.3, 1.0, 3.0, 9.0, 40.0, 1e300]


def test_gelu_matches_mpmath_x_times_normal_cdf():
    mpmath.mp.dps = 40
    got = N.gelu(GELU_POINTS)
    for x, value in zip(GELU_POINTS, got, strict=True):
        exact = mpmath.mpf(x) * mpmath.ncdf(x)
        # The tail loses about x² ulps (see the docstring); elsewhere a few ulps.
        tolerance = 1e-15 * max(4.0, x * x)
        if exact == 0:
            assert value == 0
        else:
            assert abs(value - float(exact)) <= tolerance * abs(float(exact)), x


def test_gelu_is_not_its_tanh_approximation():
    x = np.linspace(-4, 4, 801)
    gap = np.abs(N.gelu(x) - N.gelu_tanh(x))
    assert 1e-5 < gap.max() < 1e-3
    mpmath.mp.dps = 30
    for v in (-2.0, 0.5, 2.5):
        exact = 0.5 * v * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (v + 0.044715 * v**3)))
        assert N.gelu_tanh(v) == pytest.approx(float(exact), rel=1e-14)


def test_gelu_derivative_is_phi_plus_x_density_by_finite_differences():
    # A check of the reference against an independent closed form (the derivative is a claim
    # on the sheet; here it only serves to show gelu is smooth and correct to 1e-9).
    x, h = np.linspace(-5, 5, 41), 1e-5
    slope = (N.gelu(x + h) - N.gelu(x - h)) / (2 * h)
    mpmath.mp.dps = 30
    expected = [float(mpmath.ncdf(v) + v * mpmath.npdf(v)) for v in x]
    np.testing.assert_allclose(slope, expected, atol=1e-9)


def test_silu_and_sigmoid_against_mpmath_and_at_the_extremes():
    mpmath.mp.dps = 40
    for x in (-700.0, -30.0, -1.0, 0.0, 0.5, 20.0, 700.0):
        exact = mpmath.mpf(x) / (1 + mpmath.exp(-x))
        assert N.silu(x) == pytest.approx(float(exact), rel=1e-14, abs=1e-300)
        assert N.sigmoid(x) == pytest.approx(float(1 / (1 + mpmath.exp(-x))), rel=1e-14)
    assert N.silu(-np.inf) == 0.0 and np.signbit(N.silu(-np.inf))
    assert N.silu(np.inf) == np.inf and N.gelu(np.inf) == np.inf
    assert N.gelu(-np.inf) == 0.0
    assert N.sigmoid(-1e308) == 0.0 and N.sigmoid(1e308) == 1.0
    for f in (N.gelu, N.silu, N.sigmoid, N.gelu_tanh, N.normal_cdf):
        with pytest.raises(ValueError, match="NaN"):
            f([0.0, float("nan")])


def _dense(x, w):
    """x @ w by explicit sums (rows of x, columns of w)."""
    return [[math.fsum(x[i][t] * w[t][j] for t in range(len(w))) for j in range(len(w[0]))]
            for i in range(len(x))]


def test_swiglu_ffn_matches_a_loop(rng):
    d, d_ff = 3, 5
    x = rng.normal(size=(4, d))
    wg, wu, wd = rng.normal(size=(d, d_ff)), rng.normal(size=(d, d_ff)), rng.normal(size=(d_ff, d))
    gate, up = _dense(x.tolist(), wg.tolist()), _dense(x.tolist(), wu.tolist())
    hidden = [[g / (1 + math.exp(-g)) * u for g, u in zip(gr, ur, strict=True)]
              for gr, ur in zip(gate, up, strict=True)]
    np.testing.assert_allclose(N.swiglu_ffn(x, wg, wu, wd), _dense(hidden, wd.tolist()),
                               rtol=1e-12)
    # The gate is the SiLU branch: swapping the two matrices changes the output.
    assert not np.allclose(N.swiglu_ffn(x, wu, wg, wd), N.swiglu_ffn(x, wg, wu, wd))
    assert wg.size + wu.size + wd.size == 3 * d * d_ff


def test_gelu_ffn_and_glu_match_loops(rng):
    x = rng.normal(size=(2, 3))
    w_in, w_out = rng.normal(size=(3, 4)), rng.normal(size=(4, 3))
    b_in, b_out = rng.normal(size=4), rng.normal(size=3)
    pre = [[v + b for v, b in zip(row, b_in, strict=True)] for row in _dense(x.tolist(),
                                                                             w_in.tolist())]
    hidden = [[v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in row] for row in pre]
    expected = [[v + b for v, b in zip(row, b_out, strict=True)]
                for row in _dense(hidden, w_out.tolist())]
    np.testing.assert_allclose(N.gelu_ffn(x, w_in, w_out, b_in, b_out), expected, rtol=1e-12)

    w, v, b, c = (rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=2),
                  rng.normal(size=2))
    value, gate = _dense(x.tolist(), w.tolist()), _dense(x.tolist(), v.tolist())
    expected = [[(a + b[j]) / (1 + math.exp(-(g + c[j]))) for j, (a, g) in
                 enumerate(zip(ar, gr, strict=True))] for ar, gr in zip(value, gate, strict=True)]
    np.testing.assert_allclose(N.glu(x, w, v, b, c), expected, rtol=1e-12)


def test_ffn_shape_errors_name_the_matrix():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="w_up must be a matrix with 3 rows"):
        N.swiglu_ffn(x, np.ones((3, 4)), np.ones((2, 4)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="w_gate and w_up must have the same shape"):
        N.swiglu_ffn(x, np.ones((3, 4)), np.ones((3, 5)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="the bias of w_in"):
        N.gelu_ffn(x, np.ones((3, 4)), np.ones((4, 3)), b_in=np.ones(3))
    with pytest.raises(ValueError, match="feature axis"):
        N.glu(1.0, [[1.0]], [[1.0]])


# --- 3. Attention as a kernel -----------------------------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
def test_kernel_attention_with_the_exponential_kernel_is_softmax_attention(rng, causal):
    q, k, v = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 7, 4)), rng.normal(size=(2, 7, 3))

    def kernel(a, b):
        return np.exp(np.sum(a * b, axis=-1) / 2.0)  # sqrt(d_k) = 2

    np.testing.assert_allclose(N.kernel_attention(q, k, v, kernel, causal=causal),
                               N.attention(q, k, v, causal=causal), rtol=1e-12)


def test_nadaraya_watson_with_a_gaussian_kernel_matches_a_loop(rng):
    q, k, v = rng.normal(size=(3, 2)), rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    out = N.kernel_attention(q, k, v, lambda a, b: np.exp(-np.sum((a - b) ** 2, axis=-1)))
    for i in range(3):
        w = [math.exp(-math.fsum((q[i, t] - k[j, t]) ** 2 for t in range(2))) for j in range(6)]
        expected = [math.fsum(w[j] * v[j, c] for j in range(6)) / math.fsum(w) for c in range(2)]
        np.testing.assert_allclose(out[i], expected, rtol=1e-12)


def test_linear_attention_forms_agree_with_each_other_and_a_loop(rng):
    q, k, v = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 6, 4))
    parallel = N.linear_attention_parallel(q, k, v)
    recurrent = N.linear_attention_recurrent(q, k, v)
    np.testing.assert_allclose(parallel, recurrent, rtol=1e-12)

    def phi(x):
        return [t + 1 if t > 0 else math.exp(t) for t in x]

    for b in range(2):
        for i in range(6):
            w = [math.fsum(a * c for a, c in zip(phi(q[b, i]), phi(k[b, j]), strict=True))
                 for j in range(i + 1)]
            expected = [math.fsum(w[j] * v[b, j, c] for j in range(i + 1)) / math.fsum(w)
                        for c in range(4)]
            np.testing.assert_allclose(parallel[b, i], expected, rtol=1e-12)
    # Without the mask, every query sees every key: the last row is unchanged, the first is not.
    full = N.linear_attention_parallel(q, k, v, causal=False)
    np.testing.assert_allclose(full[:, -1], parallel[:, -1], rtol=1e-12)
    assert not np.allclose(full[:, 0], parallel[:, 0])


def test_positive_random_features_estimate_the_softmax_kernel(rng):
    d, m = 4, 60_000
    x, y = rng.normal(size=d) * 0.3, rng.normal(size=d) * 0.3
    omega = rng.normal(size=(m, d))
    estimate = float(N.positive_random_features(x, omega) @ N.positive_random_features(y, omega))
    exact = math.exp(float(x @ y))
    # Relative standard error here is below 0.5 %; 2 % is four of them, a 5 % error fails.
    assert abs(estimate / exact - 1) < 0.02
    assert np.all(N.positive_random_features(x, omega) > 0)


def test_kernel_attention_rejects_bad_kernels_and_shapes():
    q = k = v = np.ones((2, 3))
    with pytest.raises(ValueError, match="zero total kernel weight"):
        N.kernel_attention(q, k, v, lambda a, b: np.zeros(np.broadcast_shapes(a.shape,
                                                                              b.shape)[:-1]))
    with pytest.raises(ValueError, match="non-negative"):
        N.kernel_attention(q, k, v, lambda a, b: -np.ones((2, 2)))
    with pytest.raises(ValueError, match="the kernel returned shape"):
        N.kernel_attention(q, k, v, lambda a, b: np.ones(3))
    with pytest.raises(ValueError, match="shapes do not fit"):
        N.linear_attention_parallel(q, np.ones((2, 4)), v)
    with pytest.raises(ValueError, match="as many queries as keys"):
        N.linear_attention_recurrent(np.ones((1, 3)), k, v)
    with pytest.raises(ValueError, match=r"omega must have shape \(m, 3\)"):
        N.positive_random_features(np.ones(3), np.ones((5, 2)))


# --- 4. Low rank ------------------------------------------------------------------------------


def test_lora_unmerged_and_merged_compute_the_same_map(rng):
    d_in, d_out, r, alpha = 6, 4, 2, 16.0
    w0, a, b = rng.normal(size=(d_out, d_in)), rng.normal(size=(r, d_in)), rng.normal(size=(d_out,
                                                                                              r))
    x = rng.normal(size=(3, 5, d_in))
    merged = N.lora_merged_weight(w0, a, b, alpha)
    np.testing.assert_allclose(N.lora_forward(x, w0, a, b, alpha), x @ merged.T, rtol=1e-12)
    # Against explicit sums: W0 x + (alpha/r) Σ_k B[:, k] (A[k] · x).
    row = x[0, 0]
    expected = [math.fsum(w0[i, j] * row[j] for j in range(d_in))
                + alpha / r * math.fsum(b[i, kk] * math.fsum(a[kk, j] * row[j]
                                                             for j in range(d_in))
                                        for kk in range(r)) for i in range(d_out)]
    np.testing.assert_allclose(N.lora_forward(row, w0, a, b, alpha), expected, rtol=1e-12)
    # B = 0 at initialisation: the adapted model is the frozen one.
    np.testing.assert_array_equal(N.lora_forward(x, w0, a, np.zeros_like(b), alpha), x @ w0.T)
    assert N.lora_trainable_parameters(a, b) == r * (d_in + d_out)


def test_lora_rejects_mismatched_factors():
    with pytest.raises(ValueError, match=r"a must be \(r, 3\)"):
        N.lora_merged_weight(np.ones((2, 3)), np.ones((1, 2)), np.ones((2, 1)), 1.0)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\)"):
        N.lora_forward(np.ones(2), np.ones((2, 3)), np.ones((1, 3)), np.ones((2, 1)), 1.0)


def test_best_rank_approximation_meets_the_eckart_young_error(rng):
    m = rng.normal(size=(7, 5))
    eig = np.sort(np.linalg.eigvalsh(m.T @ m))[::-1]  # σ_i² without an SVD
    for r in range(0, 6):
        approx = N.best_rank_approximation(m, r)
        assert np.linalg.matrix_rank(approx, tol=1e-9) == r
        assert np.linalg.norm(m - approx) ** 2 == pytest.approx(eig[r:].sum(), rel=1e-10,
                                                                abs=1e-10)
        if r < 5:
            assert np.linalg.norm(m - approx, 2) == pytest.approx(math.sqrt(eig[r]), rel=1e-10)
    # No random rank-2 matrix, and no small perturbation of the optimum, does better.
    best = np.linalg.norm(m - N.best_rank_approximation(m, 2))
    for _ in range(300):
        candidate = rng.normal(size=(7, 2)) @ rng.normal(size=(2, 5))
        assert np.linalg.norm(m - candidate) > best
    u, s, vt = np.linalg.svd(m)
    for _ in range(100):
        du, dv = rng.normal(size=(7, 2)) * 1e-3, rng.normal(size=(2, 5)) * 1e-3
        near = (u[:, :2] * s[:2] + du) @ (vt[:2] + dv)
        assert np.linalg.norm(m - near) >= best - 1e-12
    np.testing.assert_allclose(N.best_rank_approximation(m, 9), m, atol=1e-12)
    with pytest.raises(ValueError, match="rank must be an integer"):
        N.best_rank_approximation(m, -1)


# --- 6. Mini-batches --------------------------------------------------------------------------


def _population(rng, n=6, p=3):
    return rng.normal(size=(n, p)) + np.array([1.0, -2.0, 0.5])


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_exact_minibatch_moments_with_replacement_are_g_and_sigma_over_b(rng, batch):
    g = _population(rng)
    mean, cov = N.exact_minibatch_moments(g, batch, replace=True)
    np.testing.assert_allclose(mean, g.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(g, rowvar=False, bias=True) / batch, atol=1e-12)


@pytest.mark.parametrize("batch", [1, 2, 4, 6])
def test_exact_minibatch_moments_without_replacement_carry_the_finite_population_factor(rng,
                                                                                        batch):
    g = _population(rng)
    n = g.shape[0]
    mean, cov = N.exact_minibatch_moments(g, batch, replace=False)
    np.testing.assert_allclose(mean, g.mean(axis=0), rtol=1e-12)
    sigma = np.cov(g, rowvar=False, bias=True)
    np.testing.assert_allclose(cov, sigma / batch * (n - batch) / (n - 1), atol=1e-12)


@pytest.mark.parametrize("replace", [True, False])
def test_sampled_minibatch_gradients_match_the_exact_moments(rng, replace):
    g = _population(rng, n=8)
    draws = N.sample_minibatch_gradients(g, 3, 40_000, rng, replace=replace)
    mean, cov = N.exact_minibatch_moments(g, 3, replace=replace)
    spread = np.sqrt(np.diag(cov) / draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * spread)
    # The variance estimate has relative standard error sqrt(2/40000) = 0.7 %.
    np.testing.assert_allclose(np.var(draws, axis=0), np.diag(cov), rtol=0.035)
    assert N.minibatch_gradient(g, 3, rng, replace).shape == (3,)


def test_empirical_moments_helper(rng):
    g = _population(rng, n=5)
    mean, cov = N.minibatch_gradient_moments(g, 2, 30_000, rng)
    exact_mean, exact_cov = N.exact_minibatch_moments(g, 2)
    assert np.all(np.abs(mean - exact_mean) < 5 * np.sqrt(np.diag(exact_cov) / 30_000))
    np.testing.assert_allclose(np.diag(cov), np.diag(exact_cov), rtol=0.04)
    with pytest.raises(ValueError, match="at least 2"):
        N.minibatch_gradient_moments(g, 2, 1, rng)


@pytest.mark.parametrize("batch", [1, 2, 4])
def test_expected_quadratic_loss_change_by_enumeration(rng, batch):
    g = _population(rng, n=5)
    a = rng.normal(size=(3, 3))
    hessian = a @ a.T + np.eye(3)
    full, sigma = g.mean(axis=0), np.cov(g, rowvar=False, bias=True)
    for lr in (0.0, 0.05, 0.3):
        moments = -lr * full @ full + 0.5 * lr**2 * (full @ hessian @ full
                                                     + np.trace(hessian @ sigma) / batch)
        assert N.expected_quadratic_loss_change(g, hessian, lr, batch) == pytest.approx(
            moments, rel=1e-10, abs=1e-14)
    # With H = c·I the best step is ε_max / (1 + B_noise/B) (McCandlish et al. 2018). The
    # enumerated change is exactly a x² + b x in the step x: two values fix it.
    h, identity = 0.5, 2.0 * np.eye(3)
    f1, f2 = (N.expected_quadratic_loss_change(g, identity, x, batch) for x in (h, 2 * h))
    a = (f2 - 2 * f1) / (2 * h * h)
    b = (f1 - a * h * h) / h
    best = -b / (2 * a)
    assert best == pytest.approx(0.5 / (1 + N.gradient_noise_scale(g) / batch), rel=1e-10)
    with pytest.raises(ValueError, match="symmetric"):
        N.expected_quadratic_loss_change(g, np.ones((3, 2)), 0.1, batch)


def test_gradient_noise_scale_and_covariance(rng):
    g = _population(rng)
    sigma = np.cov(g, rowvar=False, bias=True)
    np.testing.assert_allclose(N.per_example_covariance(g), sigma, atol=1e-12)
    full = g.mean(axis=0)
    assert N.gradient_noise_scale(g) == pytest.approx(np.trace(sigma) / (full @ full), rel=1e-12)
    with pytest.raises(ValueError, match="full gradient is zero"):
        N.gradient_noise_scale([[1.0], [-1.0]])


def test_minibatch_input_checks():
    g = np.ones((4, 2))
    with pytest.raises(ValueError, match="<= N = 4 without replacement"):
        N.exact_minibatch_moments(g, 5, replace=False)
    with pytest.raises(ValueError, match="too many to enumerate"):
        N.exact_minibatch_moments(np.ones((30, 1)), 5)
    with pytest.raises(ValueError, match=r"\(N, P\) array"):
        N.per_example_covariance(np.ones(3))
    with pytest.raises(ValueError, match="draws must be"):
        N.sample_minibatch_gradients(g, 2, 0, np.random.default_rng(0))


# --- 7. Numerical precision -------------------------------------------------------------------


@pytest.mark.parametrize("fmt, dtype", [(N.FP64, np.float64), (N.FP32, np.float32),
                                        (N.FP16, np.float16)])
def test_format_constants_from_bits_equal_numpy_finfo(fmt, dtype):
    assert N.format_constants(fmt) == N.numpy_format_constants(dtype)


def test_bf16_constants_match_float32_bit_views():
    def view(bits):
        return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])

    c = N.format_constants(N.BF16)
    assert c.max_finite == view(0x7F7F0000) == (2 - 2**-7) * 2.0**127
    assert c.smallest_normal == view(0x00800000) == 2.0**-126
    assert c.smallest_subnormal == view(0x00010000) == 2.0**-133
    assert c.epsilon == view(0x3F810000) - 1.0 == 2.0**-7


def test_published_constants():
    # IEEE 754-2019 Table 3.5 (binary16) and Micikevicius et al. 2022, Table 1 (FP8).
    assert N.format_constants(N.FP16) == (65504.0, 2.0**-10, 2.0**-14, 2.0**-24)
    assert N.format_constants(N.FP8_E4M3) == (448.0, 2.0**-3, 2.0**-6, 2.0**-9)
    assert N.format_constants(N.FP8_E5M2) == (57344.0, 2.0**-2, 2.0**-14, 2.0**-16)


@pytest.mark.parametrize("fmt", [N.FP64, N.FP32, N.FP16, N.BF16, N.FP8_E5M2])
def test_ieee_max_finite_and_epsilon_closed_forms(fmt):
    c = N.format_constants(fmt)
    bias = 2 ** (fmt.exponent_bits - 1) - 1
    assert Fraction(c.max_finite) == (2 - Fraction(1, 2**fmt.mantissa_bits)) * 2**bias
    assert Fraction(c.epsilon) == Fraction(1, 2**fmt.mantissa_bits)
    assert Fraction(c.smallest_normal) == Fraction(2) ** (1 - bias)
    assert Fraction(c.smallest_subnormal) == Fraction(2) ** (1 - bias - fmt.mantissa_bits)


def _same_values(a, b):
    with np.errstate(invalid="ignore"):  # signalling-NaN patterns warn when widened
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | ((a == b) & (np.signbit(a) == np.signbit(b)))))


def test_decode_bits_agrees_with_numpy_for_every_half_and_bfloat_pattern():
    patterns = np.arange(2**16, dtype=np.uint32)
    assert _same_values(N.decode_bits(patterns, N.FP16),
                        patterns.astype(np.uint16).view(np.float16))
    assert _same_values(N.decode_bits(patterns, N.BF16), (patterns << 16).view(np.float32))


def test_decode_bits_agrees_with_numpy_for_random_wide_patterns(rng):
    p32 = rng.integers(0, 2**32, size=50_000, dtype=np.uint64)
    assert _same_values(N.decode_bits(p32, N.FP32), p32.astype(np.uint32).view(np.float32))
    p64 = rng.integers(0, 2**63, size=50_000, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    assert _same_values(N.decode_bits(p64, N.FP64), p64.view(np.float64))


def test_fp8_value_sets():
    e4m3 = N.decode_bits(np.arange(256), N.FP8_E4M3)
    assert np.isnan(e4m3).sum() == 2 and not np.isinf(e4m3).any()
    e5m2 = N.decode_bits(np.arange(256), N.FP8_E5M2)
    assert np.isnan(e5m2).sum() == 6 and np.isinf(e5m2).sum() == 2
    # The positive finite E4M3 values, built another way: subnormals j/8 · 2^-6 and
    # normals (1 + j/8) · 2^e for e = -6..8, except the NaN slot (1 + 7/8) · 2^8.
    built = {Fraction(j, 8) * Fraction(1, 64) for j in range(1, 8)}
    built |= {(1 + Fraction(j, 8)) * Fraction(2) ** e for e in range(-6, 9) for j in range(8)}
    built.discard(Fraction(15, 8) * 256)
    finite = e4m3[np.isfinite(e4m3) & (e4m3 > 0)]
    assert {Fraction(v) for v in finite.tolist()} == built and finite.size == len(built)


def _nearest_bfloat16(value: np.float32) -> float:
    """Round-to-nearest-even by comparing exact distances to the two bf16 neighbours."""
    bits = int(np.array([value]).view(np.uint32)[0])
    low = bits & 0xFFFF0000
    candidates = [low, low + 0x10000]
    values = [np.array([c & 0xFFFFFFFF], dtype=np.uint32).view(np.float32)[0] for c in candidates]
    target = Fraction(float(value))
    if not np.isfinite(values[1]):
        distances = [abs(Fraction(float(values[0])) - target),
                     abs(Fraction(2) ** 128 * (1 if value > 0 else -1) - target)]
    else:
        distances = [abs(Fraction(float(v)) - target) for v in values]
    if distances[0] != distances[1]:
        return float(values[int(distances[1] < distances[0])])
    return float(values[0] if (low >> 16) % 2 == 0 else values[1])  # tie: the even one


def test_round_to_bfloat16_is_round_to_nearest_even(rng):
    random = rng.normal(size=3000).astype(np.float32) * np.float32(10.0) ** rng.integers(-30, 30,
                                                                                         3000)
    # Exact halfway cases: a bf16 value plus half its ulp, with odd and even last bits.
    halves = (np.arange(2000, dtype=np.uint32) * np.uint32(0x10001) + np.uint32(0x3F808000))
    values = np.concatenate([random.astype(np.float32), halves.view(np.float32)])
    got = N.round_to_bfloat16(values)
    expected = [_nearest_bfloat16(v) for v in values]
    np.testing.assert_array_equal(got.astype(np.float64), expected)


def test_round_to_bfloat16_edges():
    bf16_max = (2 - 2**-7) * 2.0**127
    midpoint = (2 - 2**-8) * 2.0**127  # halfway to 2^128: ties to even, i.e. up, to inf
    got = N.round_to_bfloat16(np.float32([bf16_max, midpoint, np.finfo(np.float32).max, -0.0,
                                          np.nan, 2.0**-149, -np.inf]))
    assert got[0] == bf16_max and got[1] == np.inf and got[2] == np.inf
    assert got[3] == 0 and np.signbit(got[3]) and np.isnan(got[4])
    assert got[5] == 0.0 and got[6] == -np.inf  # 2^-149 is below half the bf16 subnormal 2^-133
    with pytest.raises(ValueError, match="exactly representable in float32"):
        N.round_to_bfloat16([0.1])
    with pytest.raises(TypeError, match="real numbers"):
        N.round_to_bfloat16(np.array(["a"]))


def _sequential_sum_exact_steps(values, dtype):
    """Left to right: each exact partial sum (float64 is exact here) rounded to dtype."""
    total = dtype(0)
    for v in values:
        total = dtype(float(total) + float(v))
    return total


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_naive_sum_is_left_to_right_in_the_dtype(rng, dtype):
    values = (rng.random(500) * 4).astype(dtype)
    assert N.naive_sum(values, dtype) == _sequential_sum_exact_steps(values, dtype)


def test_kahan_beats_naive_and_both_meet_their_bounds(rng):
    values = rng.random(10_000).astype(np.float32)
    exact = N.exact_sum(values)
    assert float(exact) == math.fsum(values.tolist())
    u = 2.0**-24
    total_abs = float(np.sum(np.abs(values.astype(np.float64))))
    naive_err = abs(Fraction(float(N.naive_sum(values, np.float32))) - exact)
    kahan_err = abs(Fraction(float(N.kahan_sum(values, np.float32))) - exact)
    assert naive_err <= (len(values) - 1) * u * total_abs
    assert kahan_err <= 3 * u * total_abs  # 2u + O(n u²) with n u² ≈ 4e-11
    assert naive_err > 10 * kahan_err


def test_half_precision_summation_stalls_and_kahan_recovers():
    ones = np.ones(3000)
    assert float(N.naive_sum(ones, np.float16)) == 2048.0  # 2048 + 1 rounds back to 2048
    assert float(N.kahan_sum(ones, np.float16)) == 3000.0 == float(N.exact_sum(ones))
    assert float(N.naive_sum([60000.0, 10000.0], np.float16)) == np.inf
    assert np.isnan(float(N.kahan_sum([60000.0, 10000.0, 1.0], np.float16)))


def test_softmax_in_half_precision_needs_the_max_shift():
    assert np.all(np.isfinite(N.softmax_in_dtype([11.0, 0.0], np.float16, subtract_max=False)))
    overflowed = N.softmax_in_dtype([12.0, 0.0], np.float16, subtract_max=False)
    assert np.isnan(overflowed[0]) and overflowed[1] == 0  # inf/inf and 1/inf
    logits = np.array([1000.0, 999.0, 990.0, -5000.0])  # exact in float16 (spacing 0.5)
    shifted = N.softmax_in_dtype(logits, np.float16).astype(np.float64)
    np.testing.assert_allclose(shifted, N.softmax(logits), rtol=2e-3, atol=1e-7)
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        N.softmax_in_dtype([1.0], np.int32)


def test_loss_scaling_rescues_small_gradients_and_can_overflow():
    grads = np.array([2.0**-30, 3 * 2.0**-28, 1e-3])
    plain = N.loss_scale_round_trip(grads, np.float16)
    assert plain[0] == 0.0 and plain[1] == 0.0  # below 2^-25: flushed
    scaled = N.loss_scale_round_trip(grads, np.float16, scale=2.0**12)
    np.testing.assert_allclose(scaled, grads, rtol=2.0**-11)
    assert N.loss_scale_round_trip([1.0], np.float16, scale=2.0**17)[0] == np.inf
    with pytest.raises(ValueError, match="scale must be"):
        N.loss_scale_round_trip(grads, np.float16, scale=0.0)


def test_float_format_rejects_impossible_layouts():
    with pytest.raises(ValueError, match="exponent bits"):
        N.FloatFormat("bad", 1, 3)
    with pytest.raises(ValueError, match="bits must be integers"):
        N.decode_bits([256], N.FP8_E4M3)
    with pytest.raises(TypeError, match="floating dtype"):
        N.numpy_format_constants(np.int8)


# --- 8. Embeddings ----------------------------------------------------------------------------


def test_one_hot_product_is_a_lookup(rng):
    table = rng.normal(size=(11, 4))
    ids = rng.integers(0, 11, size=(3, 5))
    looked_up = N.embedding_lookup(table, ids)
    np.testing.assert_array_equal(looked_up, N.one_hot_embedding(table, ids))
    for index in np.ndindex(ids.shape):
        np.testing.assert_array_equal(looked_up[index], table[ids[index]])
    np.testing.assert_array_equal(N.one_hot(ids, 11).sum(axis=-1), np.ones(ids.shape))
    hidden = rng.normal(size=(2, 4))
    logits = N.tied_output_logits(hidden, table)
    for i, j in itertools.product(range(2), range(11)):
        assert logits[i, j] == pytest.approx(math.fsum(hidden[i] * table[j]), rel=1e-12)


def test_embedding_input_checks():
    with pytest.raises(ValueError, match=r"token ids must lie in 0\.\.2"):
        N.embedding_lookup(np.ones((3, 2)), [3])
    with pytest.raises(ValueError, match="token ids must lie"):
        N.one_hot([-1], 3)
    with pytest.raises(TypeError, match="must be integers"):
        N.embedding_lookup(np.ones((3, 2)), [1.0])
    with pytest.raises(ValueError, match=r"hidden must have shape \(\.\.\., 2\)"):
        N.tied_output_logits(np.ones(3), np.ones((3, 2)))


# --- 9. Bayesian thinking ---------------------------------------------------------------------


@pytest.mark.parametrize("a, b, k, n", [(1, 1, 7, 10), (2.5, 4, 0, 6), (3, 1.5, 12, 12)])
def test_grid_bayes_gives_the_conjugate_posterior(a, b, k, n):
    grid = np.linspace(0, 1, 4001)
    posterior = N.grid_posterior(grid, N.beta_pdf(grid, a, b), N.binomial_likelihood(grid, k, n))
    a_post, b_post = N.beta_binomial_posterior(a, b, k, n)
    # The trapezoid rule's error in the evidence (h^1.5 near a square-root end point) is the
    # only difference; a 5 % error anywhere would fail.
    expected = N.beta_pdf(grid, a_post, b_post)
    np.testing.assert_allclose(posterior, expected, rtol=2e-4, atol=2e-4 * expected.max())


def test_beta_pdf_against_mpmath():
    mpmath.mp.dps = 30
    for a, b, t in [(2, 3, 0.2), (0.5, 0.5, 0.9), (7.5, 1.2, 0.999), (1, 4, 0.0), (3, 1, 1.0)]:
        exact = mpmath.mpf(t) ** (a - 1) * (1 - mpmath.mpf(t)) ** (b - 1) / mpmath.beta(a, b)
        assert float(N.beta_pdf(t, a, b)) == pytest.approx(float(exact), rel=1e-12)
    assert N.beta_pdf(0.0, 0.5, 2) == np.inf and N.beta_pdf(0.0, 2, 2) == 0.0


def test_laplace_rule_by_integration_and_by_simulation(rng):
    grid = np.linspace(0, 1, 20001)
    posterior = N.grid_posterior(grid, np.ones_like(grid), N.binomial_likelihood(grid, 7, 10))
    assert np.trapezoid(grid * posterior, grid) == pytest.approx(N.laplace_rule(7, 10), abs=1e-7)
    # Rejection sampling: θ from the uniform prior, keep the runs that saw exactly 7 of 10.
    theta = rng.random(300_000)
    successes = rng.binomial(10, theta)
    kept = theta[successes == 7]
    standard_error = kept.std() / math.sqrt(kept.size)
    assert abs(kept.mean() - 8 / 12) < 5 * standard_error  # 5 % of 8/12 is 11 standard errors
    assert N.laplace_rule(0, 0) == 0.5


def test_bayes_input_checks():
    with pytest.raises(ValueError, match="cannot exceed trials"):
        N.laplace_rule(5, 4)
    with pytest.raises(ValueError, match="Beta parameters must be positive"):
        N.beta_binomial_posterior(0, 1, 1, 2)
    with pytest.raises(ValueError, match="theta must lie in"):
        N.beta_pdf(1.5, 2, 2)
    with pytest.raises(ValueError, match="zero probability"):
        N.grid_posterior([0.0, 1.0], [1.0, 1.0], [0.0, 0.0])


# --- 10. Information theory -------------------------------------------------------------------


def _loop_measures(joint):
    """H(X, Y), H(X | Y) and I(X; Y) in bits by explicit sums over the cells."""
    rows, cols = len(joint), len(joint[0])
    p_x = [math.fsum(joint[i]) for i in range(rows)]
    p_y = [math.fsum(joint[i][j] for i in range(rows)) for j in range(cols)]
    cells = [(i, j) for i in range(rows) for j in range(cols) if joint[i][j] > 0]
    h_xy = -math.fsum(joint[i][j] * math.log2(joint[i][j]) for i, j in cells)
    h_x_given_y = -math.fsum(joint[i][j] * math.log2(joint[i][j] / p_y[j]) for i, j in cells)
    mi = math.fsum(joint[i][j] * math.log2(joint[i][j] / (p_x[i] * p_y[j])) for i, j in cells)
    return h_xy, h_x_given_y, mi


def test_joint_measures_match_loops_and_relate_as_the_identities_say(rng):
    joint = rng.random((4, 3)) * (rng.random((4, 3)) > 0.3)
    joint /= joint.sum()
    h_xy, h_x_given_y, mi = _loop_measures(joint.tolist())
    assert N.joint_entropy(joint, "bits") == pytest.approx(h_xy, rel=1e-12)
    assert N.conditional_entropy(joint, "bits") == pytest.approx(h_x_given_y, rel=1e-12)
    assert N.mutual_information(joint, "bits") == pytest.approx(mi, rel=1e-10, abs=1e-15)
    nats = N.mutual_information(joint)
    assert nats == pytest.approx(mi * math.log(2), rel=1e-10)
    h_x, h_y = N.entropy(joint.sum(axis=1)), N.entropy(joint.sum(axis=0))
    assert N.conditional_entropy(joint) == pytest.approx(N.joint_entropy(joint) - h_y, rel=1e-12)
    assert nats == pytest.approx(h_x - N.conditional_entropy(joint), abs=1e-12)
    product = np.outer(joint.sum(axis=1), joint.sum(axis=0))
    assert nats == pytest.approx(N.kl_divergence(joint.ravel(), product.ravel()), abs=1e-12)


def test_joint_measures_edge_cases():
    independent = np.outer([0.2, 0.8], [0.5, 0.25, 0.25])
    assert abs(N.mutual_information(independent)) < 1e-15
    copy = np.diag([0.25, 0.25, 0.5])
    assert N.mutual_information(copy, "bits") == pytest.approx(1.5, rel=1e-15)
    assert N.conditional_entropy(copy) == 0.0
    assert N.joint_entropy([[1.0]]) == 0.0
    with pytest.raises(ValueError, match="sum to 1"):
        N.joint_entropy([[0.5, 0.4]])
    with pytest.raises(ValueError, match="unit must be"):
        N.mutual_information(copy, unit="dits")
    with pytest.raises(ValueError, match="2-D table"):
        N.conditional_entropy([1.0])


# --- 11. Calibration --------------------------------------------------------------------------


def _ece_by_loops(confidence, correct, n_bins):
    total = 0.0
    for m in range(1, n_bins + 1):
        lo, hi = (m - 1) / n_bins, m / n_bins
        members = [i for i, c in enumerate(confidence) if lo < c <= hi]
        if members:
            acc = statistics.fmean(correct[i] for i in members)
            conf = statistics.fmean(confidence[i] for i in members)
            total += len(members) / len(confidence) * abs(acc - conf)
    return total


@pytest.mark.parametrize("n_bins", [1, 3, 10, 15])
def test_ece_matches_the_definition_bin_by_bin(rng, n_bins):
    confidence = rng.random(400) * 0.999 + 0.001
    confidence[:20] = np.arange(1, 21) / 20  # many exact edges
    correct = (rng.random(400) < confidence ** 1.3).astype(int)
    expected = _ece_by_loops(confidence.tolist(), correct.tolist(), n_bins)
    assert N.expected_calibration_error(confidence, correct, n_bins) == pytest.approx(expected,
                                                                                      abs=1e-12)


def test_exact_bin_edges_belong_to_the_bin_below():
    edges = np.arange(1, 11) / 10
    np.testing.assert_array_equal(N.equal_width_bin(edges, 10), np.arange(10))
    np.testing.assert_array_equal(N.equal_width_bin([0.0, 0.5, 0.5000001, 1.0], 2), [0, 0, 1, 1])
    # A confidence on an edge: 0.5 with M = 2 is judged with the first bin.
    assert N.expected_calibration_error([0.5, 0.75], [1, 1], 2) == pytest.approx(0.375)


def test_ece_sees_a_five_percent_miscalibration(rng):
    confidence = rng.random(200_000) * 0.8 + 0.2
    calibrated = rng.random(confidence.size) < confidence
    over = rng.random(confidence.size) < confidence - 0.05
    assert N.expected_calibration_error(confidence, calibrated, 10) < 0.01
    assert N.expected_calibration_error(confidence, over, 10) == pytest.approx(0.05, abs=0.01)


def test_brier_decomposition_matches_grouped_loops(rng):
    forecast = rng.choice([0.1, 0.35, 0.6, 0.9], size=500)
    outcome = (rng.random(500) < forecast).astype(int)
    d = N.brier_decomposition(forecast, outcome)
    groups: dict[float, list[int]] = {}
    for f, o in zip(forecast.tolist(), outcome.tolist(), strict=True):
        groups.setdefault(f, []).append(o)
    base = statistics.fmean(outcome.tolist())
    rel = math.fsum(len(os) * (f - statistics.fmean(os)) ** 2 for f, os in groups.items()) / 500
    res = math.fsum(len(os) * (statistics.fmean(os) - base) ** 2 for os in groups.values()) / 500
    brier = math.fsum((f - o) ** 2 for f, o in zip(forecast, outcome, strict=True)) / 500
    assert d.brier == pytest.approx(brier, rel=1e-12)
    assert d.reliability == pytest.approx(rel, rel=1e-12)
    assert d.resolution == pytest.approx(res, rel=1e-12)
    assert d.uncertainty == pytest.approx(base * (1 - base), rel=1e-12)
    assert abs(d.within_bin_variance) < 1e-15 and abs(d.within_bin_covariance) < 1e-15
    assert d.brier == pytest.approx(d.reliability - d.resolution + d.uncertainty, abs=1e-12)


def test_binned_brier_decomposition_needs_its_within_bin_terms(rng):
    forecast = rng.random(2000)
    outcome = rng.random(2000) < forecast
    d = N.brier_decomposition(forecast, outcome, n_bins=10)
    three_terms = d.reliability - d.resolution + d.uncertainty
    assert abs(d.brier - three_terms) > 1e-4
    assert d.brier == pytest.approx(three_terms + d.within_bin_variance
                                    - d.within_bin_covariance, abs=1e-12)
    assert N.brier_decomposition([0.0, 1.0], [0, 1], n_bins=4).brier == 0.0


@pytest.mark.parametrize("call, message", [
    (lambda: N.expected_calibration_error([0.0, 0.5], [0, 1], 10), r"in \(0, 1\]"),
    (lambda: N.expected_calibration_error([1.2], [1], 10), r"in \(0, 1\]"),
    (lambda: N.expected_calibration_error([0.5], [2], 10), "0/1 or booleans"),
    (lambda: N.expected_calibration_error([0.5, 0.6], [1], 10), r"shape \(2,\)"),
    (lambda: N.expected_calibration_error([0.5], [1], 0), "n_bins must be"),
    (lambda: N.brier_score([], []), "non-empty"),
    (lambda: N.brier_score([float("nan")], [1]), r"in \[0, 1\]"),
])
def test_calibration_input_checks(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- 12. Error bars ---------------------------------------------------------------------------


def test_binomial_standard_error_equals_the_data_route_and_a_simulation(rng):
    scores = (rng.random(250) < 0.3).astype(int)
    p_hat = scores.mean()
    assert N.binomial_standard_error(p_hat, 250) == pytest.approx(N.standard_error(scores),
                                                                  rel=1e-12)
    spread = N.simulate_accuracies(0.3, 200, 20_000, rng).std()
    # The spread estimate has relative standard error 0.5 %; a 5 % error fails.
    assert spread == pytest.approx(N.binomial_standard_error(0.3, 200), rel=0.02)


def test_paired_standard_error_against_the_joint_distribution(rng):
    # Two models on the same question: P(a, b) over {0, 1}², positively correlated.
    joint = {(1, 1): 0.5, (1, 0): 0.15, (0, 1): 0.05, (0, 0): 0.3}
    mean_d = math.fsum(p * (a - b) for (a, b), p in joint.items())
    var_d = math.fsum(p * (a - b - mean_d) ** 2 for (a, b), p in joint.items())
    n, trials = 400, 4000
    cells = list(joint)
    draws = rng.choice(len(cells), p=list(joint.values()), size=(trials, n))
    a = np.array([c[0] for c in cells])[draws]
    b = np.array([c[1] for c in cells])[draws]
    simulated = (a - b).mean(axis=1).std()
    assert simulated == pytest.approx(math.sqrt(var_d / n), rel=0.04)
    one_run = N.paired_standard_error(a[0], b[0])
    assert one_run == pytest.approx(math.sqrt(var_d / n), rel=0.15)
    # Ignoring the pairing overstates the error when the models agree often.
    unpaired = math.hypot(N.standard_error(a[0]), N.standard_error(b[0]))
    assert unpaired > 1.3 * one_run


def test_pass_at_k_equals_the_exact_combinatorial_formula():
    for n in range(1, 13):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
                assert N.pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-14)
    exact = 1 - Fraction(math.comb(2000 - 37, 100), math.comb(2000, 100))
    assert N.pass_at_k(2000, 37, 100) == pytest.approx(float(exact), rel=1e-12)
    assert N.pass_at_k(10, 0, 5) == 0.0 and N.pass_at_k(10, 6, 5) == 1.0


def test_pass_at_k_by_simulation(rng):
    estimate = N.simulate_pass_at_k(20, 4, 5, 40_000, rng)
    exact = N.pass_at_k(20, 4, 5)  # 0.718...; standard error of the estimate 0.0023
    assert abs(estimate - exact) < 0.012


def test_zero_failure_bound_solves_its_equation_and_is_about_three_over_n():
    for n in (1, 10, 300, 10_000):
        q = N.zero_failure_upper_bound(n)
        assert (1 - q) ** n == pytest.approx(0.05, rel=1e-10)
        assert (1 - q * 1.001) ** n < 0.05
    assert N.zero_failure_upper_bound(10_000) * 10_000 == pytest.approx(-math.log(0.05), rel=2e-4)
    assert N.zero_failure_upper_bound(1000) == pytest.approx(3 / 1000, rel=0.01)


@pytest.mark.parametrize("call, message", [
    (lambda: N.pass_at_k(5, 6, 1), "c <= n"),
    (lambda: N.pass_at_k(5, 1, 0), "k must be"),
    (lambda: N.pass_at_k(5.0, 1, 1), "n must be an integer"),
    (lambda: N.binomial_standard_error(1.5, 10), r"p must lie in \[0, 1\]"),
    (lambda: N.binomial_standard_error(0.5, 0), "n must be"),
    (lambda: N.zero_failure_upper_bound(10, confidence=1.0), "confidence"),
    (lambda: N.paired_standard_error([1, 0], [1]), "equal length"),
    (lambda: N.standard_error([1.0], ddof=1), "more than 1"),
])
def test_error_bar_input_checks(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- 13. Decoding -----------------------------------------------------------------------------


def _order(row):
    """Indices by decreasing probability, then increasing index."""
    return sorted(range(len(row)), key=lambda i: (-row[i], i))


def _renormalised(row, kept):
    total = math.fsum(row[i] for i in kept)
    return [row[i] / total if i in kept else 0.0 for i in range(len(row))]


def _tied_rows(rng, rows=30, vocab=7):
    """Distributions with many ties and zeros (integer weights normalised)."""
    weights = rng.integers(0, 4, size=(rows, vocab)).astype(float)
    weights[:, 0] += 1  # no all-zero row
    return weights / weights.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("k", [1, 2, 3, 7, 50])
def test_top_k_keeps_the_first_k_in_the_stated_order(rng, k):
    probs = _tied_rows(rng)
    got = N.top_k(probs, k)
    for row, out in zip(probs.tolist(), got, strict=True):
        np.testing.assert_allclose(out, _renormalised(row, set(_order(row)[:k])), rtol=1e-14)


@pytest.mark.parametrize("p", [1e-9, 0.25, 0.5, 0.7, 0.9, 0.999, 1.0])
def test_top_p_is_the_shortest_prefix_reaching_p(rng, p):
    probs = np.concatenate([_tied_rows(rng), rng.dirichlet(np.ones(7) * 0.5, size=30)])
    got = N.top_p(probs, p)
    for row, out in zip(probs.tolist(), got, strict=True):
        order = _order(row)
        # Exact prefix masses of the given floats; the documented rule counts a prefix as
        # reaching p within V·2^-52, the bound on the rounding of a float64 running sum.
        masses = list(itertools.accumulate(Fraction(row[i]) for i in order))
        threshold = Fraction(p) - len(row) * Fraction(1, 2**52)
        length = next((n + 1 for n, m in enumerate(masses) if m >= threshold), len(row))
        np.testing.assert_allclose(out, _renormalised(row, set(order[:length])), rtol=1e-14)


def test_top_p_edge_cases():
    # Ties at the boundary: the lower index is kept.
    np.testing.assert_allclose(N.top_p([0.25] * 4, 0.5), [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(N.top_p([0.25] * 4, 0.3), [0.5, 0.5, 0, 0])
    # 0.7 + 0.2 is 0.8999999999999999 in float64; as written it reaches 0.9, and so does
    # 4/14 + 3/14, whose decimal expansions add up to 0.49999999999999997.
    np.testing.assert_allclose(N.top_p([0.7, 0.2, 0.1], 0.9), [0.7 / 0.9, 0.2 / 0.9, 0.0])
    np.testing.assert_allclose(N.top_p(np.array([2, 4, 2, 3, 2, 1]) / 14, 0.5),
                               [0, 4 / 7, 0, 3 / 7, 0, 0])
    np.testing.assert_allclose(N.top_p(np.array([5, 4, 3, 2]) / 14, 9 / 14), [5 / 9, 4 / 9, 0, 0])
    # p = 1 keeps every token of positive probability.
    np.testing.assert_allclose(N.top_p([0.5, 0.0, 0.5], 1.0), [0.5, 0.0, 0.5])
    np.testing.assert_allclose(N.top_p([0.6, 0.4 - 1e-8], 1.0), [0.6, 0.4 - 1e-8] /
                               np.float64(1 - 1e-8))
    # The rule at its boundary: a prefix of mass exactly p - V·2^-52 has reached p.
    np.testing.assert_allclose(N.top_p([0.5, 0.5, 0.0, 0.0], 0.5 + 4 * 2.0**-52), [1, 0, 0, 0])
    batch = np.array([[[0.1, 0.9], [0.6, 0.4]]])
    assert N.top_p(batch, 0.5).shape == (1, 2, 2)


@pytest.mark.parametrize("p_base", [0.0, 0.1, 0.5, 1.0])
def test_min_p_keeps_tokens_above_the_scaled_maximum(rng, p_base):
    probs = _tied_rows(rng)
    for row, out in zip(probs.tolist(), N.min_p(probs, p_base), strict=True):
        kept = {i for i, v in enumerate(row) if v >= p_base * max(row)}
        np.testing.assert_allclose(out, _renormalised(row, kept), rtol=1e-14)


def test_truncation_outputs_are_distributions_of_the_same_shape(rng):
    probs = rng.dirichlet(np.ones(50), size=(3, 4))
    for out in (N.top_k(probs, 5), N.top_p(probs, 0.8), N.min_p(probs, 0.2)):
        assert out.shape == probs.shape
        np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-14)
        kept = out > 0
        ratio = np.where(kept, out / np.where(kept, probs, 1.0), np.nan)
        # Within a row, kept tokens keep their relative sizes.
        np.testing.assert_allclose(np.nanmax(ratio, -1), np.nanmin(ratio, -1), rtol=1e-12)
    np.testing.assert_allclose(N.top_k(probs, 50), probs, rtol=1e-14)


@pytest.mark.parametrize("call, message", [
    (lambda: N.top_k([0.5, 0.5], 0), "k must be an integer >= 1"),
    (lambda: N.top_k([0.5, 0.5], 2.0), "k must be an integer"),
    (lambda: N.top_k([0.5, 0.5], True), "k must be an integer"),
    (lambda: N.top_p([0.5, 0.5], 0.0), r"p must lie in \(0, 1\]"),
    (lambda: N.top_p([0.5, 0.5], 1.5), r"p must lie in \(0, 1\]"),
    (lambda: N.min_p([0.5, 0.5], -0.1), r"p_base must lie in \[0, 1\]"),
    (lambda: N.top_p([0.5, 0.6], 0.5), "does not sum to 1"),
    (lambda: N.top_k([1.5, -0.5], 1), "negative"),
    (lambda: N.min_p([np.nan, 1.0], 0.5), "non-finite"),
    (lambda: N.top_k(np.ones((2, 0)), 1), "non-empty last axis"),
    (lambda: N.temperature_distribution([1.0], -1.0), "temperature must be"),
    (lambda: N.beam_length_penalty(-1, 0.6), "lengths must be"),
    (lambda: N.beam_score(0.5, 3, 0.6), "log-probability"),
])
def test_decoding_input_checks(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_greedy_and_temperature(rng):
    logits = rng.normal(size=(6, 9)) * 3
    np.testing.assert_array_equal(N.greedy(logits), [max(range(9), key=lambda j, r=r: (r[j], -j))
                                                     for r in logits.tolist()])
    mpmath.mp.dps = 30
    for t in (0.25, 1.0, 4.0):
        row = logits[0]
        weights = [mpmath.exp(mpmath.mpf(z) / t) for z in row]
        expected = [float(w / mpmath.fsum(weights)) for w in weights]
        np.testing.assert_allclose(N.temperature_distribution(row, t), expected, rtol=1e-13)
    # T -> 0 approaches greedy; T = 0 is that limit, ties shared equally.
    np.testing.assert_allclose(N.temperature_distribution(logits, 1e-3),
                               N.temperature_distribution(logits, 0), atol=1e-12)
    np.testing.assert_array_equal(N.temperature_distribution([[2.0, 5.0, 5.0]], 0), [[0, .5, .5]])
    assert np.all(np.isfinite(N.temperature_distribution([1e300, -1e300], 1e-300)))
    np.testing.assert_allclose(N.temperature_distribution([1.0, 2.0, 3.0], 1e6), 1 / 3, rtol=1e-5)


def test_beam_length_penalty():
    for length, alpha in [(0, 0.6), (1, 0.6), (7, 1.0), (25, 0.2), (3, 0.0)]:
        assert N.beam_length_penalty(length, alpha) == pytest.approx(
            math.exp(alpha * (math.log(5 + length) - math.log(6))), rel=1e-14)
    # With α = 1 a longer hypothesis can win despite its lower total log-probability.
    assert N.beam_score(-6.0, 19, 1.0) > N.beam_score(-4.0, 7, 1.0)
    assert N.beam_score(-6.0, 19, 0.0) < N.beam_score(-4.0, 7, 0.0)


# --- 14. Speculative decoding -----------------------------------------------------------------


def _distribution_pairs(rng):
    yield rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    yield np.array([0.2, 0.8, 0.0]), np.array([0.5, 0.0, 0.5])  # the draft misses a token
    yield np.array([0.3, 0.7]), np.array([0.3, 0.7])  # identical: nothing is ever rejected
    yield np.array([1.0, 0.0]), np.array([0.0, 1.0])  # disjoint: always rejected


def test_speculative_output_is_exactly_the_target(rng):
    for p, q in _distribution_pairs(rng):
        np.testing.assert_allclose(N.speculative_output_distribution(p, q), p, atol=1e-15)
        tv = 0.5 * np.abs(p - q).sum()
        assert N.speculative_acceptance_probability(p, q) == pytest.approx(1 - tv, abs=1e-15)
        assert N.speculative_acceptance_probability(p, q) == pytest.approx(np.minimum(p, q).sum())


def test_speculative_sampling_by_simulation(rng):
    p, q = np.array([0.5, 0.3, 0.15, 0.05]), np.array([0.1, 0.2, 0.3, 0.4])
    n = 200_000
    counts = np.bincount(N.speculative_sample(p, q, rng, size=n), minlength=4) / n
    sigma = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(counts - p) < 5 * sigma)  # a 5 % error on p_0 is 22 sigma
    assert isinstance(N.speculative_sample(p, q, rng), int)


@pytest.mark.parametrize("alpha, gamma", [(0.8, 4), (0.5, 2), (0.95, 7), (0.3, 1)])
def test_tokens_per_call_by_simulation_against_enumeration(rng, alpha, gamma):
    counts = N.simulate_tokens_per_call(alpha, gamma, 100_000, rng)
    # P(count = j + 1) = α^j (1 - α) for j < γ, and α^γ for count = γ + 1.
    law = [alpha**j * (1 - alpha) for j in range(gamma)] + [alpha**gamma]
    mean = math.fsum((j + 1) * w for j, w in enumerate(law))
    var = math.fsum((j + 1 - mean) ** 2 * w for j, w in enumerate(law))
    assert abs(counts.mean() - mean) < 5 * math.sqrt(var / counts.size)
    np.testing.assert_allclose(np.bincount(counts, minlength=gamma + 2)[1:] / counts.size, law,
                               atol=0.006)
    assert counts.min() >= 1 and counts.max() <= gamma + 1


def test_tokens_per_call_extremes(rng):
    assert set(N.simulate_tokens_per_call(0.0, 5, 100, rng)) == {1}
    assert set(N.simulate_tokens_per_call(1.0, 5, 100, rng)) == {6}
    assert set(N.simulate_tokens_per_call(0.7, 0, 100, rng)) == {1}


@pytest.mark.parametrize("call, message", [
    (lambda: N.speculative_output_distribution([0.5, 0.5], [1.0]), "2 and 1 outcomes"),
    (lambda: N.speculative_output_distribution([0.5, 0.6], [0.5, 0.5]), "p must sum to 1"),
    (lambda: N.speculative_acceptance_probability([0.5, 0.5], [1.5, -0.5]), "non-negative"),
    (lambda: N.simulate_tokens_per_call(1.2, 3, 10, np.random.default_rng(0)), "alpha"),
    (lambda: N.simulate_tokens_per_call(0.5, -1, 10, np.random.default_rng(0)), "gamma"),
    (lambda: N.speculative_sample([1.0], [1.0], np.random.default_rng(0), size=0), "size"),
])
def test_speculative_input_checks(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- 15. RLHF ---------------------------------------------------------------------------------


def test_kl_penalised_rewards_sum_to_the_sequence_objective(rng):
    policy, reference = -rng.random((3, 5)) * 3, -rng.random((3, 5)) * 3
    reward, beta = rng.normal(size=3), 0.1
    per_token = N.kl_penalised_rewards(reward, policy, reference, beta)
    for b in range(3):
        sequence = reward[b] - beta * (math.fsum(policy[b]) - math.fsum(reference[b]))
        assert math.fsum(per_token[b]) == pytest.approx(sequence, rel=1e-12)
        np.testing.assert_allclose(per_token[b, :-1], -beta * (policy[b, :-1] - reference[b, :-1]))
    with pytest.raises(ValueError, match=r"reward must have shape \(3,\)"):
        N.kl_penalised_rewards(0.0, policy, reference, beta)


def test_ppo_clipped_objective_by_cases(rng):
    ratio, adv, eps = np.exp(rng.normal(size=500) * 0.4), rng.normal(size=500), 0.2
    got = N.ppo_clipped_objective(ratio, adv, eps)
    for r, a, g in zip(ratio, adv, got, strict=True):
        # Schulman et al. 2017, Figure 1: the objective is capped where it would gain.
        expected = min(r, 1 + eps) * a if a >= 0 else max(r, 1 - eps) * a
        assert g == pytest.approx(expected, rel=1e-15)
    np.testing.assert_array_equal(N.ppo_clipped_objective(ratio, adv, 0.0), np.minimum(ratio, 1)
                                  * np.where(adv >= 0, adv, 0) + np.maximum(ratio, 1)
                                  * np.where(adv < 0, adv, 0))


def _gae_loops(rewards, values, gamma, lam):
    deltas = [rewards[t] + gamma * values[t + 1] - values[t] for t in range(len(rewards))]
    return [math.fsum((gamma * lam) ** (s - t) * deltas[s] for s in range(t, len(rewards)))
            for t in range(len(rewards))]


@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.5, 0.0), (0.9, 1.0), (0.0, 0.7),
                                        (1.0, 1.0)])
def test_gae_recursion_equals_the_discounted_sum(rng, gamma, lam):
    rewards, values = rng.normal(size=(4, 9)), rng.normal(size=(4, 10))
    recursive = N.gae_recursive(rewards, values, gamma, lam)
    np.testing.assert_allclose(recursive, N.gae_discounted_sum(rewards, values, gamma, lam),
                               rtol=1e-12, atol=1e-12)
    for b in range(4):
        np.testing.assert_allclose(recursive[b], _gae_loops(rewards[b], values[b], gamma, lam),
                                   rtol=1e-12, atol=1e-12)
    if lam == 1.0:
        returns = N.discounted_returns(rewards, gamma, bootstrap=values[:, -1])
        np.testing.assert_allclose(recursive, returns - values[:, :-1], rtol=1e-12, atol=1e-12)


def test_discounted_returns_satisfy_the_bellman_recursion(rng):
    rewards, gamma = rng.normal(size=8), 0.9
    returns = N.discounted_returns(rewards, gamma, bootstrap=2.0)
    following = 2.0
    for t in range(7, -1, -1):
        following = rewards[t] + gamma * following
        assert returns[t] == pytest.approx(following, rel=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: N.gae_recursive([1.0], [0.0], 0.9, 0.9), r"values must have shape \(2,\)"),
    (lambda: N.gae_discounted_sum([1.0], [0.0, 0.0], 1.1, 0.9), r"gamma must lie in \[0, 1\]"),
    (lambda: N.gae_recursive([1.0], [0.0, 0.0], 0.9, -0.1), r"lam must lie in \[0, 1\]"),
    (lambda: N.ppo_clipped_objective([0.0], [1.0], 0.2), "ratio must be positive"),
    (lambda: N.ppo_clipped_objective([1.0], [1.0], 1.0), r"clip_eps must lie in \[0, 1\)"),
    (lambda: N.kl_penalised_rewards(0.0, [-1.0], [-1.0, -2.0], 0.1), "must share a shape"),
    (lambda: N.kl_penalised_rewards(0.0, [-1.0], [-1.0], -0.1), "beta must be"),
    (lambda: N.discounted_returns([np.inf], 0.9), "non-finite"),
])
def test_rlhf_input_checks(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- 16. Tokenisation -------------------------------------------------------------------------


TEXT = ("the cat sat on the mat; the cat ate the rat. über naïve café — the end. " * 6).strip()


def _byte_model(text):
    """A unigram byte model fitted to the text: p(token) is the product of its bytes' p."""
    data = text.encode("utf-8")
    freq = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256) / len(data)
    return lambda token: -math.fsum(math.log(freq[b]) for b in token)


def test_bits_per_byte_is_the_same_for_every_tokenisation_of_one_model():
    loss_of = _byte_model(TEXT)
    n_bytes = len(TEXT.encode("utf-8"))
    results = []
    for merges in (0, 10, 40):
        tokens = N.bpe_encode(TEXT, N.train_bpe(TEXT, merges))
        losses = [loss_of(t) for t in tokens]
        bpb = N.bits_per_byte_from_losses(losses, n_bytes)
        probabilities = np.exp(-np.array(losses))
        assert bpb == pytest.approx(-np.sum(np.log2(probabilities)) / n_bytes, rel=1e-12)
        assert bpb == pytest.approx(len(tokens) / n_bytes * np.mean(losses) / math.log(2),
                                    rel=1e-12)
        ppl_token = N.perplexity_per_unit(losses, len(tokens))
        assert N.perplexity_per_unit(losses, n_bytes) == pytest.approx(
            ppl_token ** (len(tokens) / n_bytes), rel=1e-12)
        results.append((bpb, ppl_token, len(tokens)))
    assert max(r[0] for r in results) - min(r[0] for r in results) < 1e-12
    assert results[0][1] < results[1][1] < results[2][1]  # per-token perplexity is not comparable
    assert results[0][2] > results[1][2] > results[2][2]


def test_bpe_merges_the_most_frequent_pair_and_round_trips():
    merges = N.train_bpe(TEXT, 25)
    tokens = [bytes([b]) for b in TEXT.encode("utf-8")]
    for pair in merges:
        counts: dict[tuple[bytes, bytes], int] = {}
        for left, right in zip(tokens, tokens[1:], strict=False):
            counts[(left, right)] = counts.get((left, right), 0) + 1
        assert counts[pair] == max(counts.values())
        tokens = N.bpe_encode(b"".join(tokens).decode("utf-8"), [])  # bytes again
        tokens = N.bpe_encode(TEXT, merges[: merges.index(pair) + 1])
    encoded = N.bpe_encode(TEXT, merges)
    assert b"".join(encoded) == TEXT.encode("utf-8")
    assert len(set(encoded)) <= 256 + len(merges)
    assert N.bytes_per_token(encoded) == len(TEXT.encode("utf-8")) / len(encoded)
    assert N.train_bpe("a", 5) == [] and N.bpe_encode("", merges) == []


@pytest.mark.parametrize("call, message", [
    (lambda: N.bits_per_byte_from_losses([], 10), "non-empty"),
    (lambda: N.bits_per_byte_from_losses([-0.1], 10), ">= 0"),
    (lambda: N.bits_per_byte_from_losses([0.1], 0), "n_bytes must be"),
    (lambda: N.perplexity_per_unit([0.1], 1.5), "n_units must be"),
    (lambda: N.bytes_per_token([]), "at least one token"),
    (lambda: N.train_bpe("ab", -1), "n_merges must be"),
])
def test_tokenisation_input_checks(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- 17. The Fourier view of positions --------------------------------------------------------


def test_a_shift_is_one_rotation_for_every_position(rng):
    d = 16
    positions = rng.uniform(-50, 500, size=20)
    for k in (0.0, 1.0, 7.0, -3.0, 2.5, 1e4):
        rotation = N.position_shift_matrix(k, d)
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(d), atol=1e-12)
        shifted = N.sinusoidal_encoding(positions + k, d)
        np.testing.assert_allclose(N.sinusoidal_encoding(positions, d) @ rotation.T, shifted,
                                   atol=1e-9)
    np.testing.assert_allclose(N.position_shift_matrix(3, d) @ N.position_shift_matrix(4, d),
                               N.position_shift_matrix(7, d), atol=1e-12)
    # Block i rotates by k ω_i with ω_i = 10000^(-2i/d): check one block by hand.
    omega = 10000 ** (-2 * 3 / d)
    block = N.position_shift_matrix(5, d)[6:8, 6:8]
    np.testing.assert_allclose(block, [[math.cos(5 * omega), math.sin(5 * omega)],
                                       [-math.sin(5 * omega), math.cos(5 * omega)]], rtol=1e-14)
    with pytest.raises(ValueError, match="positive even number"):
        N.position_shift_matrix(1, 7)
    with pytest.raises(ValueError, match="finite number"):
        N.position_shift_matrix(np.inf, 8)
