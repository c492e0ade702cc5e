"""A small decoder-only transformer in NumPy whose every matrix product is counted.

This is the independent route for the compute and memory derivations: the
closed forms for FLOPs, parameters and KV-cache bytes are compared with what
this implementation *does*, not with a re-typed formula.

- Every matrix product goes through :meth:`Counter.matmul`, which charges
  2 FLOPs per multiply-accumulate of the product actually executed
  (``(..., m, k) @ (..., k, n)`` costs ``2 * batch * m * k * n``), the
  convention of ``torch.utils.flop_counter.FlopCounterMode``.
- Element-wise work is tallied apart, as the number of elements entering a
  softmax, a normalisation, an activation or a bias addition.
- Parameters are the arrays of :attr:`Decoder.weights`; the count is the sum
  of their sizes. A tied LM head reuses the embedding array.
- The KV cache is stored in the requested element format (fp32, bf16, fp16,
  or fp8 E5M2), so its size in bytes is what NumPy allocates.

The model covers MHA, GQA and MQA (``n_kv_heads`` = ``n_heads``, a divisor,
or 1), GELU or SwiGLU MLPs, LayerNorm or RMSNorm, learned or rotary
positions, biases on or off, tied or untied embeddings. Built from an
:class:`~llmsym.architecture.Architecture` it also covers, layer by layer:
a ``head_dim`` apart from ``d_model / n_heads``, partial rotary, q/k norms,
weightless norms, one or four norms per layer, parallel attention and MLP,
sliding-window attention (prefill masked to the window; the cache keeps the
last W - 1 tokens, so a decode step attends to min(T + 1, W) keys), DeepSeek's
multi-head latent attention, and mixtures of experts (a router product, each
token's rows through its top-k experts only, shared experts, dense layers).

>>> cfg = DecoderConfig(n_layers=1, d_model=8, n_heads=2, n_kv_heads=1, d_ff=16, vocab_size=11)
>>> model = Decoder(cfg, np.random.default_rng(0))
>>> counter = Counter()
>>> model.forward(np.zeros((1, 3), dtype=int), counter).shape
(1, 3, 11)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..architecture import (
    Architecture,
    Attention,
    Layer,
    Mlp,
    Moe,
    NormKind,
    Positional,
    from_llmsym_config,
)

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DecoderConfig:
    """The sizes and variants of a decoder; ``d_head = d_model // n_heads``."""

    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    d_ff: int
    vocab_size: int
    ffn: str = "gelu"  # "gelu" (2 matrices) or "swiglu" (3)
    tie_embeddings: bool = False
    bias: bool = False
    norm: str = "layernorm"  # "layernorm" (scale and shift) or "rmsnorm" (scale)
    positional: str = "learned"  # "learned" or "rope"
    max_positions: int = 64

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads or self.n_heads % self.n_kv_heads:
            raise ValueError("n_heads must divide d_model and n_kv_heads must divide n_heads")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @property
    def group(self) -> int:
        """Query heads sharing one key/value head."""
        return self.n_heads // self.n_kv_heads


def random_config(rng: np.random.Generator) -> DecoderConfig:
    """A small random configuration covering every variant."""
    n_kv = int(rng.integers(1, 4))
    n_heads = n_kv * int(rng.integers(1, 4))
    return DecoderConfig(
        n_layers=int(rng.integers(1, 4)),
        d_model=n_heads * 2 * int(rng.integers(1, 4)),  # even d_head for RoPE pairs
        n_heads=n_heads,
        n_kv_heads=n_kv,
        d_ff=int(rng.integers(1, 40)),
        vocab_size=int(rng.integers(2, 60)),
        ffn=str(rng.choice(["gelu", "swiglu"])),
        tie_embeddings=bool(rng.integers(0, 2)),
        bias=bool(rng.integers(0, 2)),
        norm=str(rng.choice(["layernorm", "rmsnorm"])),
        positional=str(rng.choice(["learned", "rope"])),
        max_positions=int(rng.integers(16, 40)),
    )


def random_architecture(rng: np.random.Generator, attention: str = "any", mlp: str = "any",
                        n_layers: int | None = None) -> Architecture:
    """A small random per-layer architecture: what the architecture derivations count.

    ``attention``: ``"full"``, ``"sliding"`` (windows of 1..4 tokens), ``"mla"`` or ``"any"``
    (a mix, layer by layer); ``mlp``: ``"dense"``, ``"moe"`` or ``"any"``. Head widths
    are drawn apart from ``d_model / n_heads``; biases, q/k norms, norms per layer (1, 2
    or 4), parallel blocks, norm kinds, tied heads and learned positions vary.

    >>> arch = random_architecture(np.random.default_rng(0), "mla", "moe", 2)
    >>> arch.n_layers, arch.is_moe, arch.layers[0].attention.mla is not None
    (2, True, True)
    """
    from dataclasses import replace

    from ..architecture import AttentionKind, Mla

    n_kv = int(rng.integers(1, 3))
    heads = n_kv * int(rng.integers(1, 3))
    d_model = int(rng.integers(3, 9))
    head_dim = 2 * int(rng.integers(1, 4))  # even for rotary pairs, unrelated to d_model
    layers = []
    for _ in range(n_layers or int(rng.integers(1, 4))):
        kind = attention if attention != "any" else str(rng.choice(["full", "sliding", "mla"]))
        flags = dict(qkv_bias=bool(rng.integers(0, 2)), o_bias=bool(rng.integers(0, 2)))
        if kind == "mla":
            rank = None if rng.integers(0, 3) == 0 else int(rng.integers(1, 5))
            mla = Mla(rank, int(rng.integers(1, 5)), int(rng.integers(0, 4)),
                      2 * int(rng.integers(1, 3)), int(rng.integers(1, 5)))
            att = Attention(AttentionKind.MLA, mla=mla, **flags)
        elif kind == "sliding":
            att = Attention(AttentionKind.SLIDING, int(rng.integers(1, 5)),
                            qk_norm=bool(rng.integers(0, 2)), **flags)
        else:
            att = Attention(qk_norm=bool(rng.integers(0, 2)), **flags)
        gated = bool(rng.integers(0, 2))
        dense = Mlp(int(rng.integers(1, 7)), gated, "silu" if gated else "gelu",
                    bool(rng.integers(0, 2)))
        block = mlp if mlp != "any" else str(rng.choice(["dense", "moe"]))
        if block == "moe":
            experts = int(rng.integers(1, 5))
            shared = replace(dense, width=int(rng.integers(1, 6))) if rng.integers(0, 2) else None
            layer_mlp: Mlp | Moe = Moe(experts, int(rng.integers(1, experts + 1)),
                                       replace(dense, width=int(rng.integers(1, 5))), shared,
                                       shared_gate=shared is not None and bool(rng.integers(0, 2)),
                                       router_bias=bool(rng.integers(0, 2)))
        else:
            layer_mlp = dense
        parallel = bool(rng.integers(0, 2))
        norms = int(rng.choice([1, 2])) if parallel else int(rng.choice([2, 4]))
        layers.append(Layer(att, layer_mlp, norms=norms, parallel=parallel))
    positional = Positional.LEARNED if rng.integers(0, 3) == 0 else Positional.ROPE
    return Architecture("random", d_model, heads, n_kv, head_dim, int(rng.integers(2, 30)), 32,
                        tuple(layers), norm=NormKind(str(rng.choice([k.value for k in NormKind]))),
                        positional=positional, tie_embeddings=bool(rng.integers(0, 2)))


# ---------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------


@dataclass
class Counter:
    """FLOPs of matrix products (by name) and elements of element-wise work (by kind)."""

    matmul_flops: dict[str, int] = field(default_factory=dict)
    elements: dict[str, int] = field(default_factory=dict)
    tape: list[tuple[np.ndarray, np.ndarray]] | None = None  # operands, kept when a list is given

    def matmul(self, a: np.ndarray, b: np.ndarray, name: str) -> np.ndarray:
        """``a @ b``, charged 2 FLOPs per multiply-accumulate it performs."""
        if self.tape is not None:
            self.tape.append((a, b))
        out = np.matmul(a, b)
        m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
        products = int(np.prod(out.shape[:-2], dtype=np.int64))
        self.matmul_flops[name] = self.matmul_flops.get(name, 0) + 2 * products * m * k * n
        return out

    def elementwise(self, kind: str, x: np.ndarray) -> np.ndarray:
        """Record that ``x.size`` elements entered an element-wise operation of ``kind``."""
        self.elements[kind] = self.elements.get(kind, 0) + int(x.size)
        return x

    @property
    def flops(self) -> int:
        return sum(self.matmul_flops.values())


def backward(tape: list[tuple[np.ndarray, np.ndarray]], counter: Counter,
             rng: np.random.Generator) -> None:
    """Run the gradient products of every recorded ``a @ b`` through ``counter``.

    With an upstream gradient ``g`` of the product's shape, the gradients of
    the operands are ``g @ b^T`` and ``a^T @ g``; summing them over broadcast
    batch axes is element-wise work, not counted. Every operand here needs its
    gradient: weights are trained, and every activation descends from the
    trained embedding.
    """
    for a, b in tape:
        g = rng.normal(size=np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
                       + (a.shape[-2], b.shape[-1]))
        counter.matmul(g, np.swapaxes(b, -1, -2), "grad_input")
        counter.matmul(np.swapaxes(a, -1, -2), g, "grad_weight")


# ---------------------------------------------------------------------------
# Element formats of the KV cache
# ---------------------------------------------------------------------------


def encode(x: np.ndarray, fmt: str) -> np.ndarray:
    """Store ``x`` in ``fmt``: bf16 keeps the high half of float32, fp8 (E5M2) of float16."""
    if fmt == "fp32":
        return x.astype(np.float32)
    if fmt == "fp16":
        return x.astype(np.float16)
    if fmt == "bf16":
        return (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    if fmt == "fp8":
        return (x.astype(np.float16).view(np.uint16) >> 8).astype(np.uint8)
    raise ValueError(f"unknown element format {fmt!r}")


def decode(x: np.ndarray) -> np.ndarray:
    """The float64 values of an array written by :func:`encode`."""
    if x.dtype == np.uint16:
        return (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    if x.dtype == np.uint8:
        return (x.astype(np.uint16) << 8).view(np.float16).astype(np.float64)
    return x.astype(np.float64)


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


def _silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def _rope(x: np.ndarray, positions: np.ndarray, fraction: float = 1.0) -> np.ndarray:
    """Rotate adjacent pairs in the first ``fraction`` of the last axis by ``pos * 10000^(-2i/r)``.

    Only the first r = fraction * d entries (rounded down to even) turn; the rest pass.
    """
    d = x.shape[-1]
    r = int(d * fraction) // 2 * 2
    if r == 0:
        return x
    freq = 10000.0 ** (-np.arange(0, r, 2) / r)
    angle = positions[:, None] * freq[None, :]  # (s, r/2)
    cos, sin = np.cos(angle), np.sin(angle)
    even, odd = x[..., 0:r:2], x[..., 1:r:2]
    out = x.copy()
    out[..., 0:r:2] = even * cos - odd * sin
    out[..., 1:r:2] = even * sin + odd * cos
    return out


@dataclass
class KVCache:
    """What each layer keeps of earlier tokens, in element format ``fmt``.

    Keys and values have shape (b, n_kv_heads, t, d_head); a sliding-window
    layer keeps only the last W - 1 tokens (all a later token can see besides
    itself, as transformers does); an MLA layer keeps, per token, its latent
    (in ``keys``, width kv_lora_rank) and its rotated key (in ``values``, width
    qk_rope_head_dim), as transformers 5.24 does, or with ``mla_cache="decompressed"``
    the per-head keys and values. ``tokens`` counts every token seen.
    """

    fmt: str
    keys: list[np.ndarray]
    values: list[np.ndarray]
    tokens: int = 0

    @property
    def length(self) -> int:
        """Tokens seen so far (the position of the next token)."""
        return self.tokens

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + v.nbytes for k, v in zip(self.keys, self.values, strict=True))


def _architecture(config: DecoderConfig | Architecture) -> Architecture:
    if isinstance(config, Architecture):
        return config
    return from_llmsym_config(config)


class Decoder:
    """A pre-norm decoder with random weights; see the module docstring for what is counted.

    Built from a :class:`DecoderConfig` or an :class:`~llmsym.architecture.Architecture`
    (per-layer attention, MLP or mixture of experts, norms, biases, parallel blocks).
    ``mla_cache`` chooses what an MLA layer caches: ``"latent"`` (the normalised latent
    and the rotated key; a decode step re-expands every cached latent, as transformers
    5.24 does) or ``"decompressed"`` (per-head keys and values; a decode step expands
    only the new token).
    """

    def __init__(self, config: DecoderConfig | Architecture, rng: np.random.Generator,
                 mla_cache: str = "latent") -> None:
        if mla_cache not in ("latent", "decompressed"):
            raise ValueError(f"mla_cache must be 'latent' or 'decompressed', not {mla_cache!r}")
        self.config = config
        self.arch = _architecture(config)
        self.mla_cache = mla_cache
        self.weights = self._init_weights(rng)

    # -- parameters ---------------------------------------------------------

    def _init_weights(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        a = self.arch
        w: dict[str, np.ndarray] = {}

        def add(name: str, *shape: int, scale: float = 0.2) -> None:
            w[name] = rng.normal(size=shape) * scale

        add("embed", a.vocab_size, a.d_model)
        if a.positional is Positional.LEARNED:
            add("positions", a.max_positions, a.d_model)
        for i, layer in enumerate(a.layers):
            self._layer_weights(w, add, f"layer{i}.", layer)
        self._add_norm(w, "final_norm", a.d_model)
        if not a.tie_embeddings:
            add("lm_head", a.d_model, a.vocab_size)
        return w

    def _layer_weights(self, w, add, p: str, layer: Layer) -> None:
        """One layer's arrays; a plain dense layer draws them in the historical order."""
        a, att = self.arch, layer.attention
        q_width, kv_width = a.n_heads * a.head_dim, a.n_kv_heads * a.head_dim
        self._add_norm(w, p + "norm1", a.d_model)
        if att.mla is None:
            for name, cols in (("q", q_width), ("k", kv_width), ("v", kv_width)):
                add(p + name, a.d_model, cols)
            add(p + "o", q_width, a.d_model)
        if layer.norms >= 2:
            self._add_norm(w, p + "norm2", a.d_model)
        mlp_names: list[str] = []
        if isinstance(layer.mlp, Mlp):
            mlp_names = ["gate", "up"] if layer.mlp.gated else ["up"]
            for name in mlp_names:
                add(p + name, a.d_model, layer.mlp.width)
            add(p + "down", layer.mlp.width, a.d_model)
        if att.mla is None:
            biased = [(n, c) for n, c in (("q", q_width), ("k", kv_width), ("v", kv_width))
                      if att.qkv_bias] + ([("o", a.d_model)] if att.o_bias else [])
            if isinstance(layer.mlp, Mlp) and layer.mlp.bias:
                biased += [("down", a.d_model)] + [(m, layer.mlp.width) for m in mlp_names]
            for name, size in biased:
                add(p + name + ".bias", size)
        elif isinstance(layer.mlp, Mlp) and layer.mlp.bias:
            for name, size in [("down", a.d_model)] + [(m, layer.mlp.width) for m in mlp_names]:
                add(p + name + ".bias", size)
        if att.qk_norm:
            self._add_norm(w, p + "q_norm", a.head_dim, NormKind.RMSNORM)
            self._add_norm(w, p + "k_norm", a.head_dim, NormKind.RMSNORM)
        if layer.norms == 4:
            self._add_norm(w, p + "post_attn_norm", a.d_model)
            self._add_norm(w, p + "post_mlp_norm", a.d_model)
        if att.mla is not None:
            self._mla_weights(w, add, p, att)
        if isinstance(layer.mlp, Moe):
            self._moe_weights(w, add, p, layer.mlp)

    def _mla_weights(self, w, add, p: str, att: Attention) -> None:
        """transformers' layout: biases (attention_bias) on q_a, kv_a and o only."""
        a, m = self.arch, att.mla
        if m.q_lora_rank is None:
            add(p + "q", a.d_model, a.n_heads * m.qk_head_dim)
        else:
            add(p + "q_a", a.d_model, m.q_lora_rank)
            self._add_norm(w, p + "q_a_norm", m.q_lora_rank, NormKind.RMSNORM)
            add(p + "q_b", m.q_lora_rank, a.n_heads * m.qk_head_dim)
        add(p + "kv_a", a.d_model, m.kv_lora_rank + m.qk_rope_head_dim)
        self._add_norm(w, p + "kv_a_norm", m.kv_lora_rank, NormKind.RMSNORM)
        add(p + "kv_b", m.kv_lora_rank, a.n_heads * (m.qk_nope_head_dim + m.v_head_dim))
        add(p + "o", a.n_heads * m.v_head_dim, a.d_model)
        if att.qkv_bias:
            if m.q_lora_rank is not None:
                add(p + "q_a.bias", m.q_lora_rank)
            add(p + "kv_a.bias", m.kv_lora_rank + m.qk_rope_head_dim)
        if att.o_bias:
            add(p + "o.bias", a.d_model)

    def _moe_weights(self, w, add, p: str, moe: Moe) -> None:
        d = self.arch.d_model
        add(p + "router", d, moe.n_experts)
        if moe.router_bias:
            add(p + "router.bias", moe.n_experts)
        experts = [(f"expert{e}.", moe.expert) for e in range(moe.n_experts)]
        for prefix, mlp in experts + ([("shared.", moe.shared)] if moe.shared else []):
            for name in ["gate", "up"] if mlp.gated else ["up"]:
                add(p + prefix + name, d, mlp.width)
                if mlp.bias:
                    add(p + prefix + name + ".bias", mlp.width)
            add(p + prefix + "down", mlp.width, d)
            if mlp.bias:
                add(p + prefix + "down.bias", d)
        if moe.shared_gate:
            add(p + "shared_gate", d, 1)

    def _add_norm(self, w: dict[str, np.ndarray], name: str, width: int,
                  kind: NormKind | None = None) -> None:
        kind = kind or self.arch.norm
        if kind.vectors >= 1:
            w[name + ".scale"] = np.ones(width)
        if kind.vectors == 2:
            w[name + ".shift"] = np.zeros(width)

    @property
    def param_count(self) -> int:
        """The number of trainable scalars: the sum of the parameter arrays' sizes."""
        return sum(int(a.size) for a in self.weights.values())

    # -- building blocks ----------------------------------------------------

    def _norm(self, x: np.ndarray, name: str, counter: Counter,
              kind: NormKind | None = None) -> np.ndarray:
        counter.elementwise("norm", x)
        w, kind = self.weights, kind or self.arch.norm
        if kind is NormKind.RMSNORM:
            return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + 1e-6) * w[name + ".scale"]
        mu = x.mean(axis=-1, keepdims=True)
        y = (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + 1e-6)
        if kind is NormKind.WEIGHTLESS:
            return y
        return y * w[name + ".scale"] + w[name + ".shift"]

    def _linear(self, x: np.ndarray, name: str, counter: Counter) -> np.ndarray:
        y = counter.matmul(x, self.weights[name], name.split(".")[-1])
        if name + ".bias" in self.weights:
            y = counter.elementwise("bias", y) + self.weights[name + ".bias"]
        return y

    def _dense_mlp(self, x: np.ndarray, p: str, mlp: Mlp, counter: Counter) -> np.ndarray:
        up = self._linear(x, p + "up", counter)
        if mlp.gated:
            gate = self._linear(x, p + "gate", counter)
            act = _gelu if "gelu" in mlp.activation else _silu
            hidden = act(counter.elementwise("activation", gate)) * counter.elementwise(
                "activation", up
            )
        else:
            hidden = _gelu(counter.elementwise("activation", up))
        return self._linear(hidden, p + "down", counter)

    def _moe(self, x: np.ndarray, p: str, moe: Moe, counter: Counter) -> np.ndarray:
        """Route each token to its top-k experts; only their rows enter each expert's products."""
        b, s, d = x.shape
        flat = x.reshape(b * s, d)
        logits = self._linear(flat, p + "router", counter)
        chosen = np.argsort(-logits, axis=-1, kind="stable")[:, : moe.top_k]
        gates = np.take_along_axis(self._softmax(logits, counter), chosen, axis=-1)
        out = np.zeros_like(flat)
        for e in range(moe.n_experts):
            rows, slot = np.nonzero(chosen == e)
            if rows.size:
                y = self._dense_mlp(flat[rows], p + f"expert{e}.", moe.expert, counter)
                np.add.at(out, rows, gates[rows, slot, None] * y)
        if moe.shared is not None:
            shared = self._dense_mlp(flat, p + "shared.", moe.shared, counter)
            if moe.shared_gate:
                g = counter.matmul(flat, self.weights[p + "shared_gate"], "shared_gate")
                shared = shared / (1.0 + np.exp(-counter.elementwise("activation", g)))
            out = out + shared
        return out.reshape(b, s, d)

    def _mlp(self, x: np.ndarray, p: str, counter: Counter, layer: Layer | None = None):
        layer = layer or self.arch.layers[int(p[5:-1])]
        if isinstance(layer.mlp, Moe):
            return self._moe(x, p, layer.mlp, counter)
        return self._dense_mlp(x, p, layer.mlp, counter)

    def _heads(self, x: np.ndarray, n: int, width: int | None = None) -> np.ndarray:
        """(b, s, n * width) -> (b, n, s, width)."""
        b, s, _ = x.shape
        return x.reshape(b, s, n, width or self.arch.head_dim).transpose(0, 2, 1, 3)

    def _qkv(self, x: np.ndarray, p: str, positions: np.ndarray, counter: Counter):
        a = self.arch
        att = a.layers[int(p[5:-1])].attention
        q = self._heads(self._linear(x, p + "q", counter), a.n_heads)
        k = self._heads(self._linear(x, p + "k", counter), a.n_kv_heads)
        v = self._heads(self._linear(x, p + "v", counter), a.n_kv_heads)
        if att.qk_norm:
            q = self._norm(q, p + "q_norm", counter, NormKind.RMSNORM)
            k = self._norm(k, p + "k_norm", counter, NormKind.RMSNORM)
        if a.positional is Positional.ROPE:
            q = _rope(q, positions, a.rotary_fraction)
            k = _rope(k, positions, a.rotary_fraction)
        return q, k, v

    def _attend(
        self,
        q: np.ndarray,
        k: np.ndarray,
        v: np.ndarray,
        first: int,
        counter: Counter,
        useful_only: bool,
        window: int | None = None,
        key_start: int = 0,
    ) -> np.ndarray:
        """Causal attention of queries at first.. over keys at key_start..; GQA by grouping.

        ``useful_only`` multiplies each query by the keys it may see and no more
        (the exact causal work); otherwise the full score matrix is computed and
        masked, as dense kernels do. With a ``window`` W a query sees itself and
        the W - 1 positions before it.
        """
        b, n_kv, s_k, _ = k.shape
        _, n_heads, s_q, d_h = q.shape
        grouped = q.reshape(b, n_kv, n_heads // n_kv, s_q, d_h)
        kt, vv = k[:, :, None].swapaxes(-1, -2), v[:, :, None]
        query_pos = first + np.arange(s_q)
        lowest = query_pos - (window - 1 if window else query_pos)
        if useful_only:
            rows = []
            for i, pos in enumerate(query_pos):
                lo, hi = max(lowest[i] - key_start, 0), pos - key_start + 1
                rows.append(self._attend_row(grouped[..., i : i + 1, :], kt[..., lo:hi],
                                             vv[..., lo:hi, :], counter))
            out = np.concatenate(rows, axis=-2)
        else:
            scores = counter.matmul(grouped, kt, "scores") / np.sqrt(d_h)
            key_pos = key_start + np.arange(s_k)
            allowed = (key_pos[None, :] <= query_pos[:, None]) & (
                key_pos[None, :] >= lowest[:, None])
            probs = self._softmax(np.where(allowed, scores, -np.inf), counter)
            out = counter.matmul(probs, vv, "context")
        return out.reshape(b, n_heads, s_q, v.shape[-1])

    def _attend_row(self, q, kt, v, counter: Counter) -> np.ndarray:
        scores = counter.matmul(q, kt, "scores") / np.sqrt(q.shape[-1])
        return counter.matmul(self._softmax(scores, counter), v, "context")

    @staticmethod
    def _softmax(scores: np.ndarray, counter: Counter) -> np.ndarray:
        counter.elementwise("softmax", scores)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    # -- attention with its cache -------------------------------------------------

    @staticmethod
    def _store(cache: KVCache, i: int, k: np.ndarray, v: np.ndarray, keep: int | None):
        """Append to layer i's cache (the last ``keep`` tokens only) and read it back."""
        if len(cache.keys) > i:
            k = np.concatenate([decode(cache.keys[i]), k], axis=2)
            v = np.concatenate([decode(cache.values[i]), v], axis=2)
        full_k, full_v = k, v
        if keep is not None:
            k, v = k[:, :, max(k.shape[2] - keep, 0):], v[:, :, max(v.shape[2] - keep, 0):]
        stored_k, stored_v = encode(k, cache.fmt), encode(v, cache.fmt)
        if len(cache.keys) > i:
            cache.keys[i], cache.values[i] = stored_k, stored_v
        else:
            cache.keys.append(stored_k)
            cache.values.append(stored_v)
        return full_k, full_v

    def _self_attention(self, x, i, positions, counter, cache, useful_only):
        """Attention of layer i over earlier tokens (from the cache) and the new ones."""
        a, p = self.arch, f"layer{i}."
        att = a.layers[i].attention
        if att.mla is not None:
            return self._mla(x, i, positions, counter, cache, useful_only)
        q, k, v = self._qkv(x, p, positions, counter)
        first = int(positions[0])  # the position of the first new token = tokens already seen
        key_start = 0
        if cache is not None:
            keep = att.window - 1 if att.window else None
            earlier = cache.keys[i].shape[2] if len(cache.keys) > i else 0
            k, v = self._store(cache, i, k, v, keep)
            k, v = decode(encode(k, cache.fmt)), decode(encode(v, cache.fmt))
            key_start = first - earlier
        ctx = self._attend(q, k, v, first, counter, useful_only, att.window, key_start)
        b, _, s_q, _ = ctx.shape
        ctx = ctx.transpose(0, 2, 1, 3).reshape(b, s_q, -1)
        return self._linear(ctx, p + "o", counter)

    def _mla(self, x, i, positions, counter, cache, useful_only):
        """Multi-head latent attention (DeepSeek-V2): low-rank q, one latent and rope key for kv."""
        a, p = self.arch, f"layer{i}."
        m = a.layers[i].attention.mla
        h = a.n_heads
        if m.q_lora_rank is None:
            q = self._linear(x, p + "q", counter)
        else:
            q_lat = self._norm(self._linear(x, p + "q_a", counter), p + "q_a_norm", counter,
                               NormKind.RMSNORM)
            q = self._linear(q_lat, p + "q_b", counter)
        q = self._heads(q, h, m.qk_head_dim)
        q_rope = _rope(q[..., m.qk_nope_head_dim:], positions)
        q = np.concatenate([q[..., : m.qk_nope_head_dim], q_rope], axis=-1)
        kv_a = self._linear(x, p + "kv_a", counter)
        latent = self._norm(kv_a[..., : m.kv_lora_rank], p + "kv_a_norm", counter,
                            NormKind.RMSNORM)[:, None]  # (b, 1, s, r_kv)
        k_rope = _rope(kv_a[:, None, :, m.kv_lora_rank:], positions)  # (b, 1, s, d_rope)
        first = int(positions[0])
        if cache is not None and self.mla_cache == "latent":
            latent, k_rope = self._store(cache, i, latent, k_rope, None)
            latent, k_rope = decode(encode(latent, cache.fmt)), decode(encode(k_rope, cache.fmt))
        b, _, t, _ = latent.shape
        kv = self._linear(latent[:, 0], p + "kv_b", counter)  # expands every latent it holds
        kv = self._heads(kv, h, m.qk_nope_head_dim + m.v_head_dim)
        k = np.concatenate([kv[..., : m.qk_nope_head_dim],
                            np.broadcast_to(k_rope, (b, h, t, m.qk_rope_head_dim))], axis=-1)
        v = kv[..., m.qk_nope_head_dim:]
        if cache is not None and self.mla_cache == "decompressed":
            k, v = self._store(cache, i, k, v, None)
            k, v = decode(encode(k, cache.fmt)), decode(encode(v, cache.fmt))
        ctx = self._attend(q, k, v, first, counter, useful_only, None, first + x.shape[1]
                           - k.shape[2])
        ctx = ctx.transpose(0, 2, 1, 3).reshape(b, x.shape[1], h * m.v_head_dim)
        return self._linear(ctx, p + "o", counter)

    def _block(self, x, i, positions, counter, cache, useful_only):
        """One layer; reads and extends ``cache`` (keys and values of earlier tokens) when given."""
        layer, p = self.arch.layers[i], f"layer{i}."
        h = self._norm(x, p + "norm1", counter)
        attn = self._self_attention(h, i, positions, counter, cache, useful_only)
        if layer.norms == 4:
            attn = self._norm(attn, p + "post_attn_norm", counter)
        if layer.parallel:  # both read x; one norm shared when the layer has only one
            h2 = h if layer.norms == 1 else self._norm(x, p + "norm2", counter)
            return x + attn + self._mlp(h2, p, counter, layer)
        x = x + attn
        out = self._mlp(self._norm(x, p + "norm2", counter), p, counter, layer)
        if layer.norms == 4:
            out = self._norm(out, p + "post_mlp_norm", counter)
        return x + out

    # -- passes ---------------------------------------------------------------

    def forward(
        self,
        tokens: np.ndarray,
        counter: Counter,
        *,
        useful_only: bool = False,
        cache: KVCache | None = None,
        start: int = 0,
    ) -> np.ndarray:
        """Logits for ``tokens`` (b, s) at positions ``start..start+s-1``.

        With a cache, earlier keys and values are read from it and the new ones
        appended (``start`` must equal the cache length).
        """
        a, w = self.arch, self.weights
        positions = np.arange(start, start + tokens.shape[1])
        x = w["embed"][tokens]  # a lookup, not a product
        if a.positional is Positional.LEARNED:
            x = x + w["positions"][positions]
        for i in range(a.n_layers):
            x = self._block(x, i, positions.astype(float), counter, cache, useful_only)
        if cache is not None:
            cache.tokens = start + tokens.shape[1]
        x = self._norm(x, "final_norm", counter)
        head = w["embed"].T if a.tie_embeddings else w["lm_head"]
        return counter.matmul(x, head, "lm_head")

    def prefill(self, tokens: np.ndarray, fmt: str, counter: Counter) -> tuple[np.ndarray, KVCache]:
        """Run ``tokens`` and keep their keys and values in a cache of element format ``fmt``."""
        cache = KVCache(fmt, [], [])
        if tokens.shape[1] == 0:  # nothing to cache yet
            return np.zeros((tokens.shape[0], 0, self.arch.vocab_size)), cache
        return self.forward(tokens, counter, cache=cache), cache

    def decode_step(self, token: np.ndarray, cache: KVCache, counter: Counter) -> np.ndarray:
        """Logits of one new token per sequence (``token``: (b,)); reads and extends the cache."""
        return self.forward(token[:, None], counter, cache=cache, start=cache.length)[:, -1]


# ---------------------------------------------------------------------------
# FlashAttention's memory traffic, counted
# ---------------------------------------------------------------------------


@dataclass
class Traffic:
    """Elements read from and written to slow memory (HBM)."""

    reads: int = 0
    writes: int = 0

    def read(self, x: np.ndarray) -> np.ndarray:
        self.reads += int(x.size)
        return x

    def write(self, x: np.ndarray) -> np.ndarray:
        self.writes += int(x.size)
        return x

    @property
    def total(self) -> int:
        return self.reads + self.writes


def standard_attention_io(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, traffic: Traffic
) -> np.ndarray:
    """Dao et al. (2022), Algorithm 0: S and P are written to and read back from HBM."""
    s = traffic.write(traffic.read(q) @ traffic.read(k).T)
    e = np.exp(traffic.read(s) - s.max(axis=1, keepdims=True))
    p = traffic.write(e / e.sum(axis=1, keepdims=True))
    return traffic.write(traffic.read(p) @ traffic.read(v))


def flash_attention_io(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, block_cols: int, block_rows: int, traffic: Traffic
) -> np.ndarray:
    """Dao et al. (2022), Algorithm 1: tiles of K, V in the outer loop, of Q, O, l, m inside.

    Only the tiles moved between HBM and on-chip memory are counted; the
    ``n x n`` score matrix never leaves the chip.
    """
    n, d = q.shape
    out, rowsum, rowmax = np.zeros((n, d)), np.zeros(n), np.full(n, -np.inf)
    for j in range(0, n, block_cols):
        kj, vj = traffic.read(k[j : j + block_cols]), traffic.read(v[j : j + block_cols])
        for i in range(0, n, block_rows):
            rows = slice(i, i + block_rows)
            qi, oi = traffic.read(q[rows]), traffic.read(out[rows])
            li, mi = traffic.read(rowsum[rows]), traffic.read(rowmax[rows])
            sij = qi @ kj.T
            m_new = np.maximum(mi, sij.max(axis=1))
            pij = np.exp(sij - m_new[:, None])
            scale = np.exp(mi - m_new)
            l_new = scale * li + pij.sum(axis=1)
            out[rows] = traffic.write(
                (scale[:, None] * li[:, None] * oi + pij @ vj) / l_new[:, None]
            )
            rowsum[rows], rowmax[rows] = traffic.write(l_new), traffic.write(m_new)
    return out
