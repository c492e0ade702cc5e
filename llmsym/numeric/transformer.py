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
positions, biases on or off, tied or untied embeddings.

>>> cfg = DecoderConfig(n_layers=1, d_model=8, n_heads=2, n_kv_heads=1, d_ff=16, vocab_size=11)
>>> model = Decoder(cfg, np.random.default_rng(0))
>>> counter = Counter()
>>> model.forward(np.zeros((1, 3), dtype=int), counter).shape
(1, 3, 11)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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


def _rope(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Rotate adjacent pairs of the last axis by angle ``position * 10000^(-2i/d)``."""
    d = x.shape[-1]
    freq = 10000.0 ** (-np.arange(0, d, 2) / d)
    angle = positions[:, None] * freq[None, :]  # (s, d/2)
    cos, sin = np.cos(angle), np.sin(angle)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


@dataclass
class KVCache:
    """Keys and values of earlier tokens, per layer, shape (b, n_kv_heads, t, d_head)."""

    fmt: str
    keys: list[np.ndarray]
    values: list[np.ndarray]

    @property
    def length(self) -> int:
        return self.keys[0].shape[2] if self.keys else 0

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + v.nbytes for k, v in zip(self.keys, self.values, strict=True))


class Decoder:
    """A pre-norm decoder with random weights; see the module docstring for what is counted."""

    def __init__(self, config: DecoderConfig, rng: np.random.Generator) -> None:
        self.config = config
        self.weights = self._init_weights(rng)

    # -- parameters ---------------------------------------------------------

    def _init_weights(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        c = self.config
        q_width, kv_width = c.n_heads * c.d_head, c.n_kv_heads * c.d_head
        w: dict[str, np.ndarray] = {}

        def add(name: str, *shape: int, scale: float = 0.2) -> None:
            w[name] = rng.normal(size=shape) * scale

        add("embed", c.vocab_size, c.d_model)
        if c.positional == "learned":
            add("positions", c.max_positions, c.d_model)
        mlp = ["gate", "up"] if c.ffn == "swiglu" else ["up"]
        for i in range(c.n_layers):
            p = f"layer{i}."
            self._add_norm(w, p + "norm1")
            for name, cols in (("q", q_width), ("k", kv_width), ("v", kv_width)):
                add(p + name, c.d_model, cols)
            add(p + "o", q_width, c.d_model)
            self._add_norm(w, p + "norm2")
            for name in mlp:
                add(p + name, c.d_model, c.d_ff)
            add(p + "down", c.d_ff, c.d_model)
            if c.bias:
                for name, size in (
                    ("q", q_width),
                    ("k", kv_width),
                    ("v", kv_width),
                    ("o", c.d_model),
                    ("down", c.d_model),
                    *((m, c.d_ff) for m in mlp),
                ):
                    add(p + name + ".bias", size)
        self._add_norm(w, "final_norm")
        if not c.tie_embeddings:
            add("lm_head", c.d_model, c.vocab_size)
        return w

    def _add_norm(self, w: dict[str, np.ndarray], name: str) -> None:
        w[name + ".scale"] = np.ones(self.config.d_model)
        if self.config.norm == "layernorm":
            w[name + ".shift"] = np.zeros(self.config.d_model)

    @property
    def param_count(self) -> int:
        """The number of trainable scalars: the sum of the parameter arrays' sizes."""
        return sum(int(a.size) for a in self.weights.values())

    # -- building blocks ----------------------------------------------------

    def _norm(self, x: np.ndarray, name: str, counter: Counter) -> np.ndarray:
        counter.elementwise("norm", x)
        w = self.weights
        if self.config.norm == "rmsnorm":
            return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + 1e-6) * w[name + ".scale"]
        mu = x.mean(axis=-1, keepdims=True)
        sd = np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + 1e-6)
        return (x - mu) / sd * w[name + ".scale"] + w[name + ".shift"]

    def _linear(self, x: np.ndarray, name: str, counter: Counter) -> np.ndarray:
        y = counter.matmul(x, self.weights[name], name.split(".")[-1])
        if self.config.bias:
            y = counter.elementwise("bias", y) + self.weights[name + ".bias"]
        return y

    def _mlp(self, x: np.ndarray, p: str, counter: Counter) -> np.ndarray:
        up = self._linear(x, p + "up", counter)
        if self.config.ffn == "swiglu":
            gate = self._linear(x, p + "gate", counter)
            hidden = _silu(counter.elementwise("activation", gate)) * counter.elementwise(
                "activation", up
            )
        else:
            hidden = _gelu(counter.elementwise("activation", up))
        return self._linear(hidden, p + "down", counter)

    def _heads(self, x: np.ndarray, n: int) -> np.ndarray:
        """(b, s, n * d_head) -> (b, n, s, d_head)."""
        b, s, _ = x.shape
        return x.reshape(b, s, n, self.config.d_head).transpose(0, 2, 1, 3)

    def _qkv(self, x: np.ndarray, p: str, positions: np.ndarray, counter: Counter):
        c = self.config
        q = self._heads(self._linear(x, p + "q", counter), c.n_heads)
        k = self._heads(self._linear(x, p + "k", counter), c.n_kv_heads)
        v = self._heads(self._linear(x, p + "v", counter), c.n_kv_heads)
        if c.positional == "rope":
            q, k = _rope(q, positions), _rope(k, positions)
        return q, k, v

    def _attend(
        self,
        q: np.ndarray,
        k: np.ndarray,
        v: np.ndarray,
        first: int,
        counter: Counter,
        useful_only: bool,
    ) -> np.ndarray:
        """Causal attention of queries at positions first.. over keys 0..; GQA by grouping.

        ``useful_only`` multiplies each query by the keys it may see and no more
        (the exact causal work); otherwise the full score matrix is computed and
        masked, as dense kernels do.
        """
        c = self.config
        b, _, s_q, d_h = q.shape
        grouped = q.reshape(b, c.n_kv_heads, c.group, s_q, d_h)
        kt, vv = k[:, :, None].swapaxes(-1, -2), v[:, :, None]
        if useful_only:
            rows = [
                self._attend_row(
                    grouped[..., i : i + 1, :],
                    kt[..., : first + i + 1],
                    vv[..., : first + i + 1, :],
                    counter,
                )
                for i in range(s_q)
            ]
            out = np.concatenate(rows, axis=-2)
        else:
            scores = counter.matmul(grouped, kt, "scores") / np.sqrt(d_h)
            allowed = np.arange(k.shape[2])[None, :] <= first + np.arange(s_q)[:, None]
            probs = self._softmax(np.where(allowed, scores, -np.inf), counter)
            out = counter.matmul(probs, vv, "context")
        return out.reshape(b, c.n_heads, s_q, d_h)

    def _attend_row(self, q, kt, v, counter: Counter) -> np.ndarray:
        scores = counter.matmul(q, kt, "scores") / np.sqrt(q.shape[-1])
        return counter.matmul(self._softmax(scores, counter), v, "context")

    @staticmethod
    def _softmax(scores: np.ndarray, counter: Counter) -> np.ndarray:
        counter.elementwise("softmax", scores)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def _block(self, x, i, positions, counter, cache, useful_only):
        """One layer; reads and extends ``cache`` (keys and values of earlier tokens) when given."""
        c, p = self.config, f"layer{i}."
        q, k, v = self._qkv(self._norm(x, p + "norm1", counter), p, positions, counter)
        first = int(positions[0])  # the position of the first new token = tokens already cached
        if cache is not None:
            if len(cache.keys) > i:
                k = np.concatenate([decode(cache.keys[i]), k], axis=2)
                v = np.concatenate([decode(cache.values[i]), v], axis=2)
            stored_k, stored_v = encode(k, cache.fmt), encode(v, cache.fmt)
            if len(cache.keys) > i:
                cache.keys[i], cache.values[i] = stored_k, stored_v
            else:
                cache.keys.append(stored_k)
                cache.values.append(stored_v)
            k, v = decode(stored_k), decode(stored_v)
        ctx = self._attend(q, k, v, first, counter, useful_only)
        b, _, s_q, _ = ctx.shape
        ctx = ctx.transpose(0, 2, 1, 3).reshape(b, s_q, c.n_heads * c.d_head)
        x = x + self._linear(ctx, p + "o", counter)
        return x + self._mlp(self._norm(x, p + "norm2", counter), p, counter)

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
        c, w = self.config, self.weights
        positions = np.arange(start, start + tokens.shape[1])
        x = w["embed"][tokens]  # a lookup, not a product
        if c.positional == "learned":
            x = x + w["positions"][positions]
        for i in range(c.n_layers):
            x = self._block(x, i, positions.astype(float), counter, cache, useful_only)
        x = self._norm(x, "final_norm", counter)
        head = w["embed"].T if c.tie_embeddings else w["lm_head"]
        return counter.matmul(x, head, "lm_head")

    def prefill(self, tokens: np.ndarray, fmt: str, counter: Counter) -> tuple[np.ndarray, KVCache]:
        """Run ``tokens`` and keep their keys and values in a cache of element format ``fmt``."""
        cache = KVCache(fmt, [], [])
        if tokens.shape[1] == 0:  # nothing to cache yet
            return np.zeros((tokens.shape[0], 0, self.config.vocab_size)), cache
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
