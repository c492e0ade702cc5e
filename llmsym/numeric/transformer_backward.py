"""The backward pass of the counting decoder, written out by hand, every matrix product counted.

This is the independent route for "backward = 2 x forward" and for training
FLOPs: the gradient of a next-token cross-entropy is computed through every
operation of :class:`llmsym.numeric.transformer.Decoder` (embedding lookup and
positions, norms, projections and biases, RoPE, grouped-query attention with its
causal mask, GELU or SwiGLU, the LM head, tied or not), and every matrix product
the backward pass *executes* goes through :meth:`Counter.matmul`, which charges
2 FLOPs per multiply-accumulate of that product. Nothing here assumes how many
products a gradient needs: the count is whatever the chain rule, written out,
multiplies. :func:`finite_difference_gap` checks the gradients against central
differences of the loss, so the counted backward is a correct one.

With ``recompute=True`` the forward pass keeps only each layer's input
(activation checkpointing, Chen et al. 2016); the backward pass runs each
layer's forward again, counted, before differentiating it. The final norm and
the LM head keep their activations (the loss needs the logits anyway).

>>> import numpy as np
>>> from llmsym.numeric.transformer import Counter, Decoder, DecoderConfig
>>> cfg = DecoderConfig(n_layers=1, d_model=8, n_heads=2, n_kv_heads=1, d_ff=16, vocab_size=11)
>>> model = Decoder(cfg, np.random.default_rng(0))
>>> tokens = np.array([[1, 2, 3]])
>>> fwd, bwd = Counter(), Counter()
>>> loss, grads = loss_and_grads(model, tokens, np.array([[2, 3, 4]]), fwd, bwd)
>>> bwd.flops == 2 * fwd.flops
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .transformer import Counter, Decoder

EPS = 1e-6  # the decoder's norm epsilon
GELU_C, GELU_K = 0.7978845608028654, 0.044715  # the decoder's tanh-approximate GELU

# ---------------------------------------------------------------------------
# Products and their gradients
# ---------------------------------------------------------------------------


def linear_backward(x: np.ndarray, w: np.ndarray, dy: np.ndarray, counter: Counter,
                    name: str) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of ``y = x @ w`` (``x``: rows x in, ``w``: in x out), rows flattened.

    ``dx = dy w^T`` and ``dw = x^T dy``: the second contracts over every row at once, one
    product whose inner dimension is the number of rows.
    """
    rows = x.reshape(-1, x.shape[-1])
    drows = dy.reshape(-1, dy.shape[-1])
    dx = counter.matmul(drows, w.T, f"d_{name}_input").reshape(x.shape)
    dw = counter.matmul(rows.T, drows, f"d_{name}_weight")
    return dx, dw


def shared_backward(a: np.ndarray, b: np.ndarray, dy: np.ndarray, counter: Counter,
                    name: str) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of ``y = a @ b`` where ``b`` (.., 1, k, n) is shared by the group axis of ``a``
    (.., g, m, k): ``da = dy b^T``; ``db`` contracts over the group and the rows together."""
    da = counter.matmul(dy, np.swapaxes(b, -1, -2), f"d_{name}_left")
    g, m, k = a.shape[-3:]
    flat_a = a.reshape(*a.shape[:-3], 1, g * m, k)
    flat_dy = dy.reshape(*dy.shape[:-3], 1, g * m, dy.shape[-1])
    db = counter.matmul(np.swapaxes(flat_a, -1, -2), flat_dy, f"d_{name}_right")
    return da, db


# ---------------------------------------------------------------------------
# Element-wise pieces
# ---------------------------------------------------------------------------


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + GELU_K * x**3)))


def _gelu_grad(x):
    t = np.tanh(GELU_C * (x + GELU_K * x**3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * GELU_C * (1.0 + 3.0 * GELU_K * x**2)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _rope_angles(d: int, positions: np.ndarray):
    freq = 10000.0 ** (-np.arange(0, d, 2) / d)
    angle = positions[:, None] * freq[None, :]
    return np.cos(angle), np.sin(angle)


def _rope(x, cos, sin):
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def _rope_backward(dy, cos, sin):
    """The transpose of the rotation: rotate the gradient back."""
    de, do = dy[..., 0::2], dy[..., 1::2]
    out = np.empty_like(dy)
    out[..., 0::2] = de * cos + do * sin
    out[..., 1::2] = -de * sin + do * cos
    return out


@dataclass
class _Norm:
    """What a norm's backward needs: the normalised input and the scale it divided by."""

    kind: str
    xhat: np.ndarray
    scale: np.ndarray


def _norm(x, w, name, kind):
    if kind == "rmsnorm":
        r = np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + EPS)
        xhat = x / r
        return xhat * w[name + ".scale"], _Norm(kind, xhat, r)
    mu = x.mean(axis=-1, keepdims=True)
    sd = np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + EPS)
    xhat = (x - mu) / sd
    return xhat * w[name + ".scale"] + w[name + ".shift"], _Norm(kind, xhat, sd)


def _norm_backward(dy, saved: _Norm, w, name, grads):
    axes = tuple(range(dy.ndim - 1))
    grads[name + ".scale"] += np.sum(dy * saved.xhat, axis=axes)
    dxhat = dy * w[name + ".scale"]
    if saved.kind == "rmsnorm":
        return (dxhat - saved.xhat * np.mean(dxhat * saved.xhat, axis=-1, keepdims=True)) \
            / saved.scale
    grads[name + ".shift"] += np.sum(dy, axis=axes)
    return (dxhat - dxhat.mean(axis=-1, keepdims=True)
            - saved.xhat * np.mean(dxhat * saved.xhat, axis=-1, keepdims=True)) / saved.scale


# ---------------------------------------------------------------------------
# One layer, forward with its tape and backward
# ---------------------------------------------------------------------------


@dataclass
class _LayerTape:
    x: np.ndarray  # the layer's input
    saved: dict = field(default_factory=dict)


def _linear(x, w, name, counter, bias):
    y = counter.matmul(x, w[name], name.split(".")[-1])
    return y + w[name + ".bias"] if bias else y


def _layer_forward(model: Decoder, i: int, x, cos_sin, counter: Counter) -> tuple:
    c, w, p = model.config, model.weights, f"layer{i}."
    b, s, _ = x.shape
    t = _LayerTape(x)
    h1, t.saved["norm1"] = _norm(x, w, p + "norm1", c.norm)
    t.saved["h1"] = h1

    def heads(y, n):
        return y.reshape(b, s, n, c.d_head).transpose(0, 2, 1, 3)

    q = heads(_linear(h1, w, p + "q", counter, c.bias), c.n_heads)
    k = heads(_linear(h1, w, p + "k", counter, c.bias), c.n_kv_heads)
    v = heads(_linear(h1, w, p + "v", counter, c.bias), c.n_kv_heads)
    if cos_sin is not None:
        q, k = _rope(q, *cos_sin), _rope(k, *cos_sin)
    grouped = q.reshape(b, c.n_kv_heads, c.group, s, c.d_head)
    kt, vv = k[:, :, None].swapaxes(-1, -2), v[:, :, None]
    scores = counter.matmul(grouped, kt, "scores") / np.sqrt(c.d_head)
    allowed = np.arange(s)[None, :] <= np.arange(s)[:, None]
    masked = np.where(allowed, scores, -np.inf)
    e = np.exp(masked - masked.max(axis=-1, keepdims=True))
    probs = e / e.sum(axis=-1, keepdims=True)
    out = counter.matmul(probs, vv, "context")
    ctx = out.reshape(b, c.n_heads, s, c.d_head).transpose(0, 2, 1, 3).reshape(b, s, -1)
    x2 = x + _linear(ctx, w, p + "o", counter, c.bias)
    h2, t.saved["norm2"] = _norm(x2, w, p + "norm2", c.norm)
    up = _linear(h2, w, p + "up", counter, c.bias)
    if c.ffn == "swiglu":
        gate = _linear(h2, w, p + "gate", counter, c.bias)
        hidden = gate * _sigmoid(gate) * up
        t.saved["gate"] = gate
    else:
        hidden = _gelu(up)
    t.saved.update(grouped=grouped, kt=kt, vv=vv, probs=probs, ctx=ctx, h2=h2, up=up,
                   hidden=hidden)
    return x2 + _linear(hidden, w, p + "down", counter, c.bias), t


def _layer_backward(model: Decoder, i: int, tape: _LayerTape, dout, cos_sin, counter: Counter,
                    grads: dict) -> np.ndarray:
    c, w, p, sv = model.config, model.weights, f"layer{i}.", tape.saved
    b, s, _ = dout.shape

    def linear_back(x, dy, name):
        dx, dw = linear_backward(x, w[p + name], dy, counter, name)
        grads[p + name] += dw
        if c.bias:
            grads[p + name + ".bias"] += dy.reshape(-1, dy.shape[-1]).sum(axis=0)
        return dx

    # MLP: x_out = x2 + down(hidden)
    dhidden = linear_back(sv["hidden"], dout, "down")
    if c.ffn == "swiglu":
        gate, sig = sv["gate"], _sigmoid(sv["gate"])
        dup = dhidden * gate * sig
        dgate = dhidden * sv["up"] * sig * (1.0 + gate * (1.0 - sig))
        dh2 = linear_back(sv["h2"], dup, "up") + linear_back(sv["h2"], dgate, "gate")
    else:
        dh2 = linear_back(sv["h2"], dhidden * _gelu_grad(sv["up"]), "up")
    dx2 = dout + _norm_backward(dh2, sv["norm2"], w, p + "norm2", grads)
    # attention: x2 = x + o(ctx)
    dctx = linear_back(sv["ctx"], dx2, "o")
    dout_heads = dctx.reshape(b, s, c.n_heads, c.d_head).transpose(0, 2, 1, 3)
    dgo = dout_heads.reshape(b, c.n_kv_heads, c.group, s, c.d_head)
    dprobs, dvv = shared_backward(sv["probs"], sv["vv"], dgo, counter, "context")
    probs = sv["probs"]
    dscores = probs * (dprobs - np.sum(dprobs * probs, axis=-1, keepdims=True))
    dscores = dscores / np.sqrt(c.d_head)
    dgrouped, dkt = shared_backward(sv["grouped"], sv["kt"], dscores, counter, "scores")
    dq = dgrouped.reshape(b, c.n_heads, s, c.d_head)
    dk = dkt[:, :, 0].swapaxes(-1, -2)
    dv = dvv[:, :, 0]
    if cos_sin is not None:
        dq, dk = _rope_backward(dq, *cos_sin), _rope_backward(dk, *cos_sin)

    def unheads(g):
        return g.transpose(0, 2, 1, 3).reshape(b, s, -1)

    dh1 = (linear_back(sv["h1"], unheads(dq), "q") + linear_back(sv["h1"], unheads(dk), "k")
           + linear_back(sv["h1"], unheads(dv), "v"))
    return dx2 + _norm_backward(dh1, sv["norm1"], w, p + "norm1", grads)


# ---------------------------------------------------------------------------
# The whole model
# ---------------------------------------------------------------------------


def loss_and_grads(model: Decoder, tokens: np.ndarray, targets: np.ndarray,
                   forward: Counter, backward: Counter, *, recompute: bool = False
                   ) -> tuple[float, dict[str, np.ndarray]]:
    """Mean next-token cross-entropy of ``targets`` and its gradient for every weight array.

    Forward products are counted in ``forward``; the backward pass's products (and, with
    ``recompute``, the layers' forward products run again) in ``backward``.
    """
    c, w = model.config, model.weights
    b, s = tokens.shape
    positions = np.arange(s)
    cos_sin = _rope_angles(c.d_head, positions.astype(float)) if c.positional == "rope" \
        else None
    x = w["embed"][tokens]
    if c.positional == "learned":
        x = x + w["positions"][positions]
    tapes = []
    for i in range(c.n_layers):
        x, tape = _layer_forward(model, i, x, cos_sin, forward)
        tapes.append(_LayerTape(tape.x) if recompute else tape)  # checkpoint: the input only
    xf, final = _norm(x, w, "final_norm", c.norm)
    head = w["embed"].T if c.tie_embeddings else w["lm_head"]
    logits = forward.matmul(xf, head, "lm_head")

    shifted = logits - logits.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)
    loss = float(-picked.mean())
    dlogits = np.exp(logp)
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    dlogits /= b * s

    grads = {k: np.zeros_like(a) for k, a in w.items()}
    dxf, dhead = linear_backward(xf, head, dlogits, backward, "lm_head")
    if c.tie_embeddings:
        grads["embed"] += dhead.T
    else:
        grads["lm_head"] += dhead
    dx = _norm_backward(dxf, final, w, "final_norm", grads)
    for i in reversed(range(c.n_layers)):
        tape = tapes[i]
        if recompute:  # run the layer again from its checkpointed input, counted
            _, tape = _layer_forward(model, i, tape.x, cos_sin, backward)
        dx = _layer_backward(model, i, tape, dx, cos_sin, backward, grads)
    np.add.at(grads["embed"], tokens, dx)
    if c.positional == "learned":
        grads["positions"][:s] += dx.sum(axis=0)
    return loss, grads


def loss_of(model: Decoder, tokens: np.ndarray, targets: np.ndarray) -> float:
    """The loss through the decoder's own forward pass (the reference for the gradients)."""
    logits = model.forward(tokens, Counter())
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], axis=-1).mean())


def finite_difference_gap(model: Decoder, tokens: np.ndarray, targets: np.ndarray,
                          grads: dict[str, np.ndarray], rng: np.random.Generator,
                          directions: int = 3, step: float = 1e-5) -> float:
    """Largest relative gap between ``<grad, u>`` and a central difference of the decoder's
    own loss along random directions ``u`` over all weights at once."""
    worst = 0.0
    names = list(model.weights)
    for _ in range(directions):
        u = {k: rng.normal(size=model.weights[k].shape) for k in names}
        analytic = sum(float(np.sum(grads[k] * u[k])) for k in names)
        original = {k: model.weights[k].copy() for k in names}
        values = []
        for sign in (1.0, -1.0):
            for k in names:
                model.weights[k][...] = original[k] + sign * step * u[k]
            values.append(loss_of(model, tokens, targets))
        for k in names:
            model.weights[k][...] = original[k]
        numeric = (values[0] - values[1]) / (2 * step)
        worst = max(worst, abs(analytic - numeric) / max(1e-8, abs(numeric)))
    return worst
