"""The architecture of a decoder-only transformer, layer by layer, and how configs map onto it.

A small data model (no SymPy, no NumPy): each :class:`Layer` has an
:class:`Attention` (full, a sliding window, or multi-head latent attention), an
MLP (:class:`Mlp`, dense, or :class:`Moe`, a mixture of experts), the norms
and biases it carries, and whether attention and MLP run in parallel. The
:class:`Architecture` holds the model-level sizes, among them ``head_dim``,
which is *not* always ``d_model // n_heads``.

:func:`from_hf_config` reads a Hugging Face ``config.json`` (as a dict), by
its ``model_type``. Every key of the config is either mapped, or listed as
ignored for that family because it does not change parameters, FLOPs or
cache bytes (:data:`IGNORED`); any other key, and any value of a mapped key
that changes the counts in a way not modelled, raises
:class:`~llmsym.errors.UserError` naming the field. :func:`from_llmsym_config`
converts the older llmsym config (the fields of ``ModelConfig`` or
``DecoderConfig``).

>>> arch = from_hf_config({"model_type": "qwen3", "hidden_size": 2048, "num_attention_heads": 32,
...     "num_key_value_heads": 4, "head_dim": 128, "intermediate_size": 6144,
...     "num_hidden_layers": 2, "vocab_size": 1000})
>>> arch.head_dim, arch.d_model // arch.n_heads, arch.layers[0].attention.qk_norm
(128, 64, True)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import UserError

# --- The data model ------------------------------------------------------------------


class AttentionKind(Enum):
    FULL = "full"
    SLIDING = "sliding"  # each query sees itself and the W - 1 keys before it
    MLA = "mla"  # DeepSeek's multi-head latent attention


class NormKind(Enum):
    LAYERNORM = "layernorm"  # a scale and a shift vector
    RMSNORM = "rmsnorm"  # a scale vector
    WEIGHTLESS = "weightless"  # layer norm without parameters (OLMo)

    @property
    def vectors(self) -> int:
        """Parameter vectors of one norm."""
        return {"layernorm": 2, "rmsnorm": 1, "weightless": 0}[self.value]


class Positional(Enum):
    LEARNED = "learned"  # a table of max_positions x d_model
    ROPE = "rope"  # rotary, element-wise: no parameters, no matrix products


@dataclass(frozen=True)
class Mla:
    """Low-rank projections of multi-head latent attention (DeepSeek-V2 section 2.1)."""

    q_lora_rank: int | None  # None: a full d x h(d_nope + d_rope) query projection
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim


@dataclass(frozen=True)
class Attention:
    kind: AttentionKind = AttentionKind.FULL
    window: int | None = None  # W, for SLIDING
    mla: Mla | None = None  # for MLA
    qkv_bias: bool = False
    o_bias: bool = False
    qk_norm: bool = False  # a norm of width head_dim on every query and key head

    def __post_init__(self) -> None:
        if (self.kind is AttentionKind.SLIDING) != (self.window is not None):
            raise ValueError("a window is given exactly for sliding-window attention")
        if (self.kind is AttentionKind.MLA) != (self.mla is not None):
            raise ValueError("MLA ranks are given exactly for MLA attention")


@dataclass(frozen=True)
class Mlp:
    """A dense MLP: up (and gate, when gated) d -> width, down width -> d."""

    width: int
    gated: bool
    activation: str = "gelu"
    bias: bool = False

    @property
    def matrices(self) -> int:
        return 3 if self.gated else 2


@dataclass(frozen=True)
class Moe:
    """Routed experts (each token through top_k), a d -> n_experts router, shared experts."""

    n_experts: int
    top_k: int
    expert: Mlp
    shared: Mlp | None = None  # all shared experts as one MLP of their total width
    shared_gate: bool = False  # a d -> 1 gate scaling the shared expert (Qwen2-MoE)
    router_bias: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= self.n_experts:
            raise ValueError("top_k must be between 1 and n_experts")


@dataclass(frozen=True)
class Layer:
    attention: Attention
    mlp: Mlp | Moe
    norms: int = 2  # norms of width d_model in the layer (pre-attention, pre-MLP, ...)
    parallel: bool = False  # x + attn(norm(x)) + mlp(norm'(x)) instead of one after the other


@dataclass(frozen=True)
class Architecture:
    """A decoder-only transformer: model-level sizes and one :class:`Layer` per layer."""

    model_type: str
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int  # width of a query/key head (MLA: d_nope + d_rope)
    vocab_size: int
    max_positions: int
    layers: tuple[Layer, ...]
    norm: NormKind = NormKind.RMSNORM
    positional: Positional = Positional.ROPE
    rotary_fraction: float = 1.0  # share of head_dim that is rotated (Pythia: 0.25)
    tie_embeddings: bool = False
    ignored: tuple[str, ...] = field(default=(), compare=False)  # config keys read as no-ops
    # trained with dropout (any dropout probability > 0): 1-byte masks in activation memory;
    # it changes no parameter, FLOP or cache byte
    dropout: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.n_heads % self.n_kv_heads:
            raise ValueError("n_kv_heads must divide n_heads")

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def is_moe(self) -> bool:
        return any(isinstance(layer.mlp, Moe) for layer in self.layers)


# --- Reading a config, field by field --------------------------------------------------

# Keys that never change parameters, matrix-product FLOPs or cache bytes, in every family:
# token ids, dropout, initialisation, epsilons, RoPE frequencies and scaling (element-wise),
# bookkeeping of the file and of generation.
COMMON_IGNORED = frozenset({
    "_name_or_path", "architectures", "auto_map", "torch_dtype", "dtype", "transformers_version",
    "use_cache", "bos_token_id", "eos_token_id", "pad_token_id", "initializer_range",
    "attention_dropout", "hidden_dropout", "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon",
    "rope_theta", "rope_scaling", "rope_parameters", "tokenizer_class", "return_dict",
    "output_attentions", "output_hidden_states", "task_specific_params", "torchscript",
    "is_encoder_decoder", "max_length", "unsloth_version",
})
MOE_IGNORED = frozenset({  # how experts are chosen and trained, not how many run
    "output_router_logits", "router_aux_loss_coef", "norm_topk_prob", "router_jitter_noise",
})


class _Reader:
    """The keys of one config: each read is marked, and what is left unread is an error."""

    def __init__(self, data: Mapping[str, Any], model_type: str, ignored: frozenset[str]):
        self.data, self.model_type, self.ignored = data, model_type, ignored
        self.read: set[str] = {"model_type"}

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        value = self.data.get(key)
        return default if value is None else value

    def int(self, key: str, default: int | None = None, *, minimum: int = 1) -> int:
        value = self.get(key, default)
        if value is None:
            raise self.error(key, "missing")
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be an integer >= {minimum}, not {value!r}")
        return value

    def bool(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def str(self, key: str, default: str) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {value!r}")
        return value

    def error(self, key: str, problem: str) -> UserError:
        return UserError(f"config field '{key}': {problem} (model_type {self.model_type})")

    def finish(self) -> tuple[str, ...]:
        """Refuse keys neither mapped nor ignored; return the ignored keys present."""
        unknown = sorted(set(self.data) - self.read - self.ignored)
        if unknown:
            raise self.error(unknown[0], "not understood: it is neither mapped nor known to "
                                         "leave the counts unchanged")
        return tuple(sorted(set(self.data) & self.ignored - self.read))


def _windows(r: _Reader, n_layers: int, default: list[str]) -> list[int | None]:
    """The window of each layer from ``layer_types`` (or the family's default pattern)."""
    types = r.get("layer_types", default)
    if not isinstance(types, list) or len(types) != n_layers:
        raise r.error("layer_types", f"must list {n_layers} layer types, not {types!r}")
    bad = [t for t in types if t not in ("full_attention", "sliding_attention")]
    if bad:
        raise r.error("layer_types", f"attention type {bad[0]!r} is not modelled "
                                     "(full_attention, sliding_attention)")
    if "sliding_attention" in types:
        window = r.int("sliding_window")
        return [window if t == "sliding_attention" else None for t in types]
    return [None] * n_layers


def _qwen_windows(r: _Reader, n: int, rule: str = "from_max") -> list[int | None]:
    """Qwen: with use_sliding_window, which layers slide depends on the family (transformers).

    ``from_max``: layers from max_window_layers on (qwen2, qwen3); ``even_below_max``:
    even-indexed layers below max_window_layers (qwen2_moe); ``all``: every layer (qwen3_moe).
    """
    if not r.bool("use_sliding_window", False):
        r.get("sliding_window"), r.get("max_window_layers")  # inactive without the switch
        return _windows(r, n, ["full_attention"] * n)
    if rule == "all":
        r.get("max_window_layers")
        return _windows(r, n, ["sliding_attention"] * n)
    first = r.int("max_window_layers", minimum=0)
    slides = {"from_max": lambda i: i >= first,
              "even_below_max": lambda i: (i + 1) % 2 == 1 and i < first}[rule]
    default = ["sliding_attention" if slides(i) else "full_attention" for i in range(n)]
    return _windows(r, n, default)


def _all_or_none(r: _Reader, n: int, default: int | None = None) -> list[int | None]:
    """Mistral, Mixtral, Phi-3, StarCoder2: one sliding_window for every layer, or none.

    ``default`` is transformers' value when the key is absent (4096 for Mistral).
    """
    if "sliding_window" not in r.data and default is not None:
        r.get("sliding_window")
        return [default] * n
    if r.has("sliding_window"):
        return _windows(r, n, ["sliding_attention"] * n)
    r.get("sliding_window")
    return _windows(r, n, ["full_attention"] * n)


def _attention(window: int | None, **flags: Any) -> Attention:
    kind = AttentionKind.SLIDING if window is not None else AttentionKind.FULL
    return Attention(kind, window, **flags)


@dataclass(frozen=True)
class _Base:
    """The fields most families share, read once."""

    d: int
    heads: int
    kv_heads: int
    head_dim: int
    n: int
    vocab: int
    positions: int


def _base(r: _Reader, *, kv_default: bool = True, positions_default: int | None = None,
          names: tuple[str, ...] = ("hidden_size", "num_attention_heads",
                                    "num_key_value_heads", "num_hidden_layers")) -> _Base:
    hidden, heads_key, kv_key, layers_key = names
    d, heads = r.int(hidden), r.int(heads_key)
    kv = r.int(kv_key, heads if kv_default else None)
    head_dim = r.int("head_dim", d // heads) if "head_dim" not in r.ignored else d // heads
    if heads % kv:
        raise r.error(kv_key, f"{kv} does not divide {heads_key} = {heads}")
    positions = r.int("max_position_embeddings", positions_default)
    return _Base(d, heads, kv, head_dim, r.int(layers_key), r.int("vocab_size"), positions)


def _arch(r: _Reader, b: _Base, layers: list[Layer], **extra: Any) -> Architecture:
    return Architecture(r.model_type, b.d, b.heads, b.kv_heads, b.head_dim, b.vocab,
                        b.positions, tuple(layers), **extra)


def _gated(r: _Reader, width_key: str, act_keys=("hidden_act",), bias: bool = False,
           width: int | None = None) -> Mlp:
    act = next((r.str(k, "") for k in act_keys if r.has(k)), None)
    for k in act_keys:
        r.get(k)
    return Mlp(width if width is not None else r.int(width_key), True, act or "silu", bias)


# --- Families ----------------------------------------------------------------------------


def _llama(r: _Reader) -> Architecture:
    b = _base(r, positions_default=2048)
    bias = r.bool("attention_bias", False)
    mlp = _gated(r, "intermediate_size", bias=r.bool("mlp_bias", False))
    att = Attention(qkv_bias=bias, o_bias=bias)
    return _arch(r, b, [Layer(att, mlp)] * b.n, tie_embeddings=r.bool("tie_word_embeddings", False))


def _mistral(r: _Reader) -> Architecture:
    b = _base(r, positions_default=131072)
    mlp = _gated(r, "intermediate_size")
    layers = [Layer(_attention(w), mlp) for w in _all_or_none(r, b.n, default=4096)]
    return _arch(r, b, layers, tie_embeddings=r.bool("tie_word_embeddings", False))


def _mixtral(r: _Reader) -> Architecture:
    b = _base(r, positions_default=131072)
    moe = Moe(r.int("num_local_experts"), r.int("num_experts_per_tok"),
              _gated(r, "intermediate_size"))
    layers = [Layer(_attention(w), moe) for w in _all_or_none(r, b.n)]
    return _arch(r, b, layers, tie_embeddings=r.bool("tie_word_embeddings", False))


def _qwen_moe_layers(r: _Reader, n: int, moe: Moe, dense: Mlp) -> list[Mlp | Moe]:
    """Qwen-MoE: layer i is sparse unless listed in mlp_only_layers or off the sparse step."""
    step = r.int("decoder_sparse_step", 1)
    dense_only = r.get("mlp_only_layers", [])
    if not isinstance(dense_only, list) or not all(isinstance(i, int) for i in dense_only):
        raise r.error("mlp_only_layers", f"must be a list of layer indices, not {dense_only!r}")
    return [dense if i in dense_only or (i + 1) % step else moe for i in range(n)]


def _qwen2(r: _Reader) -> Architecture:
    b = _base(r, positions_default=32768)
    mlp = _gated(r, "intermediate_size")
    att = [_attention(w, qkv_bias=True) for w in _qwen_windows(r, b.n)]
    return _arch(r, b, [Layer(a, mlp) for a in att],
                 tie_embeddings=r.bool("tie_word_embeddings", False))


def _qwen2_moe(r: _Reader) -> Architecture:
    b = _base(r, positions_default=32768)
    qkv_bias = r.bool("qkv_bias", True)
    expert = _gated(r, "moe_intermediate_size")
    shared_width = r.int("shared_expert_intermediate_size", 0, minimum=0)
    shared = Mlp(shared_width, True, expert.activation) if shared_width else None
    moe = Moe(r.int("num_experts"), r.int("num_experts_per_tok"), expert, shared,
              shared_gate=shared is not None)
    dense = Mlp(r.int("intermediate_size"), True, expert.activation)
    mlps = _qwen_moe_layers(r, b.n, moe, dense)
    att = [_attention(w, qkv_bias=qkv_bias) for w in _qwen_windows(r, b.n, "even_below_max")]
    return _arch(r, b, [Layer(a, m) for a, m in zip(att, mlps, strict=True)],
                 tie_embeddings=r.bool("tie_word_embeddings", False))


def _qwen3(r: _Reader) -> Architecture:
    b = _base(r, positions_default=32768)
    bias = r.bool("attention_bias", False)
    mlp = _gated(r, "intermediate_size")
    att = [_attention(w, qkv_bias=bias, o_bias=bias, qk_norm=True) for w in _qwen_windows(r, b.n)]
    return _arch(r, b, [Layer(a, mlp) for a in att],
                 tie_embeddings=r.bool("tie_word_embeddings", False))


def _qwen3_moe(r: _Reader) -> Architecture:
    b = _base(r, positions_default=32768)
    bias = r.bool("attention_bias", False)
    expert = _gated(r, "moe_intermediate_size")
    moe = Moe(r.int("num_experts"), r.int("num_experts_per_tok"), expert)
    dense = Mlp(r.int("intermediate_size"), True, expert.activation)
    mlps = _qwen_moe_layers(r, b.n, moe, dense)
    att = [_attention(w, qkv_bias=bias, o_bias=bias, qk_norm=True)
           for w in _qwen_windows(r, b.n, "all")]
    return _arch(r, b, [Layer(a, m) for a, m in zip(att, mlps, strict=True)],
                 tie_embeddings=r.bool("tie_word_embeddings", False))


def _gemma(r: _Reader) -> Architecture:
    b = _base(r, positions_default=8192)
    bias = r.bool("attention_bias", False)
    mlp = _gated(r, "intermediate_size", act_keys=("hidden_activation", "hidden_act"))
    att = Attention(qkv_bias=bias, o_bias=bias)
    return _arch(r, b, [Layer(att, mlp)] * b.n, tie_embeddings=r.bool("tie_word_embeddings", True))


def _gemma2(r: _Reader) -> Architecture:
    b = _base(r, positions_default=8192)
    bias = r.bool("attention_bias", False)
    mlp = _gated(r, "intermediate_size", act_keys=("hidden_activation", "hidden_act"))
    alternate = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(b.n)]
    layers = [Layer(_attention(w, qkv_bias=bias, o_bias=bias), mlp, norms=4)
              for w in _windows(r, b.n, alternate)]
    return _arch(r, b, layers, tie_embeddings=r.bool("tie_word_embeddings", True))


def _phi3(r: _Reader) -> Architecture:
    b = _base(r, positions_default=4096)
    if r.bool("attention_bias", False):  # transformers' Phi-3 has no attention biases at all
        raise r.error("attention_bias", "true is not modelled for phi3")
    mlp = _gated(r, "intermediate_size")
    fraction = r.get("partial_rotary_factor", 1.0)
    layers = [Layer(_attention(w), mlp) for w in _all_or_none(r, b.n)]
    return _arch(r, b, layers, rotary_fraction=float(fraction),
                 tie_embeddings=r.bool("tie_word_embeddings", False))


def _falcon(r: _Reader) -> Architecture:
    if r.bool("new_decoder_architecture", False):
        raise r.error("new_decoder_architecture", "true (Falcon-40B/180B layout) is not modelled")
    if r.bool("alibi", False):
        raise r.error("alibi", "ALiBi positions are not modelled")
    r.get("num_ln_in_parallel_attn")  # read by transformers only with the new architecture
    d = r.int("hidden_size") if r.has("hidden_size") else r.int("n_embed")
    r.get("n_embed")
    heads = r.int("num_attention_heads") if r.has("num_attention_heads") else r.int("n_head")
    r.get("n_head")
    kv = 1 if r.bool("multi_query", True) else heads
    r.get("num_kv_heads")  # transformers reads it only with the new architecture
    n = r.int("num_hidden_layers") if r.has("num_hidden_layers") else r.int("n_layer")
    r.get("n_layer")
    bias = r.bool("bias", False)
    parallel = r.bool("parallel_attn", True)
    mlp = Mlp(r.int("ffn_hidden_size", 4 * d), False, r.str("activation", "gelu"), bias)
    layer = Layer(Attention(qkv_bias=bias, o_bias=bias), mlp, norms=1 if parallel else 2,
                  parallel=parallel)
    return Architecture(r.model_type, d, heads, kv, d // heads, r.int("vocab_size"),
                        r.int("max_position_embeddings", 2048), (layer,) * n,
                        norm=NormKind.LAYERNORM,
                        tie_embeddings=r.bool("tie_word_embeddings", True))


def _gpt_neox(r: _Reader) -> Architecture:
    b = _base(r, positions_default=2048)
    bias = r.bool("attention_bias", True)
    fraction = r.get("rotary_pct", r.get("partial_rotary_factor", 0.25))
    mlp = Mlp(r.int("intermediate_size"), False, r.str("hidden_act", "gelu"), True)
    layer = Layer(Attention(qkv_bias=bias, o_bias=bias), mlp,
                  parallel=r.bool("use_parallel_residual", True))
    return _arch(r, b, [layer] * b.n, norm=NormKind.LAYERNORM, rotary_fraction=float(fraction),
                 tie_embeddings=r.bool("tie_word_embeddings", False))


def _olmo(r: _Reader) -> Architecture:
    b = _base(r, positions_default=2048)
    bias = r.bool("attention_bias", False)
    mlp = _gated(r, "intermediate_size")
    return _arch(r, b, [Layer(Attention(qkv_bias=bias, o_bias=bias), mlp)] * b.n,
                 norm=NormKind.WEIGHTLESS, tie_embeddings=r.bool("tie_word_embeddings", False))


# What transformers' Starcoder2 builds whatever these keys say: the BigCode fork that converted
# the checkpoints also offered RMSNorm and a gated MLP (bigcode-project/transformers PR 28), and
# its configs (StarCoder2-15B's) still carry the choice; transformers ignores both keys.
STARCODER2_BUILT = {"norm_type": "layer_norm", "mlp_type": "default"}


def _starcoder2(r: _Reader) -> Architecture:
    for key, built in STARCODER2_BUILT.items():
        if r.str(key, built) != built:
            raise r.error(key, f"only {built!r} is modelled (transformers ignores the key and "
                               f"builds {built!r}, so another value describes other weights)")
    b = _base(r, positions_default=4096)
    bias = r.bool("use_bias", True)
    mlp = Mlp(r.int("intermediate_size"), False, r.str("hidden_act", "gelu_pytorch_tanh"), bias)
    layers = [Layer(_attention(w, qkv_bias=bias, o_bias=bias), mlp)
              for w in _all_or_none(r, b.n)]
    return _arch(r, b, layers, norm=NormKind.LAYERNORM,
                 tie_embeddings=r.bool("tie_word_embeddings", True))


def _gpt2(r: _Reader) -> Architecture:
    if r.bool("add_cross_attention", False):
        raise r.error("add_cross_attention", "cross-attention layers are not modelled")
    d, heads, n = r.int("n_embd"), r.int("n_head"), r.int("n_layer")
    mlp = Mlp(r.int("n_inner", 4 * d), False, r.str("activation_function", "gelu_new"), True)
    layer = Layer(Attention(qkv_bias=True, o_bias=True), mlp)
    return Architecture(r.model_type, d, heads, heads, d // heads, r.int("vocab_size"),
                        r.int("n_positions", 1024), (layer,) * n, norm=NormKind.LAYERNORM,
                        positional=Positional.LEARNED,
                        tie_embeddings=r.bool("tie_word_embeddings", True))


def _deepseek(r: _Reader) -> Architecture:
    """DeepSeek-V2/V3. Their transformers defaults differ (e.g. first_k_dense_replace 0 vs 3),
    so the keys that shape MLA and the MoE must be given."""
    d, heads, n = r.int("hidden_size"), r.int("num_attention_heads"), r.int("num_hidden_layers")
    if r.int("num_key_value_heads", heads) != heads:  # MLA expands keys to every head
        raise r.error("num_key_value_heads", f"must equal num_attention_heads = {heads} for MLA")
    for key in ("q_lora_rank", "first_k_dense_replace", "n_shared_experts", "n_routed_experts"):
        if key not in r.data:
            raise r.error(key, "missing (its default differs between versions; give it)")
    q_rank = r.get("q_lora_rank")
    if q_rank is not None and (isinstance(q_rank, bool) or not isinstance(q_rank, int)
                               or q_rank < 1):
        raise r.error("q_lora_rank", f"must be a positive integer or null, not {q_rank!r}")
    mla = Mla(q_rank, r.int("kv_lora_rank"), r.int("qk_nope_head_dim", minimum=0),
              r.int("qk_rope_head_dim"), r.int("v_head_dim"))
    bias = r.bool("attention_bias", False)
    att = Attention(AttentionKind.MLA, mla=mla, qkv_bias=bias, o_bias=bias)
    expert = _gated(r, "moe_intermediate_size")  # routed experts never carry biases
    mlp_bias = r.bool("mlp_bias", False)  # the dense and shared MLPs do, with mlp_bias
    n_shared = r.int("n_shared_experts", minimum=0)
    shared = (Mlp(n_shared * expert.width, True, expert.activation, mlp_bias)
              if n_shared else None)
    moe = Moe(r.int("n_routed_experts"), r.int("num_experts_per_tok"), expert, shared)
    dense = Mlp(r.int("intermediate_size"), True, expert.activation, mlp_bias)
    first = r.int("first_k_dense_replace", minimum=0)
    if r.int("moe_layer_freq", 1) != 1:  # transformers makes every layer from the first on MoE
        raise r.error("moe_layer_freq", "values other than 1 are not modelled (transformers "
                                        "ignores the field)")
    mlps = [moe if i >= first else dense for i in range(n)]
    return Architecture(r.model_type, d, heads, heads, mla.qk_head_dim, r.int("vocab_size"),
                        r.int("max_position_embeddings", 2048),
                        tuple(Layer(att, m) for m in mlps),
                        tie_embeddings=r.bool("tie_word_embeddings", False))


@dataclass(frozen=True)
class Family:
    build: Callable[[_Reader], Architecture]
    ignored: frozenset[str]  # keys of this family that leave the counts unchanged


def _family(build, *extra: str, moe: bool = False) -> Family:
    return Family(build, COMMON_IGNORED | (MOE_IGNORED if moe else frozenset()) | set(extra))


# Per family, the keys ignored beyond COMMON_IGNORED, and why (element-wise or bookkeeping):
FAMILIES: dict[str, Family] = {
    "llama": _family(_llama, "pretraining_tp"),  # tp slicing of the same products
    "mistral": _family(_mistral),
    "mixtral": _family(_mixtral, moe=True),
    "qwen2": _family(_qwen2, "use_mrope"),
    "qwen2_moe": _family(_qwen2_moe, "use_mrope", moe=True),
    "qwen3": _family(_qwen3),
    "qwen3_moe": _family(_qwen3_moe, moe=True),
    "gemma": _family(_gemma),
    "gemma2": _family(_gemma2, "attn_logit_softcapping", "final_logit_softcapping",
                      "query_pre_attn_scalar", "cache_implementation"),  # scalings, cache choice
    "phi3": _family(_phi3, "embd_pdrop", "resid_pdrop", "original_max_position_embeddings",
                    "sliding_window_size"),
    "falcon": _family(_falcon, "apply_residual_connection_post_layernorm", "rope_scaling"),
    "gpt_neox": _family(_gpt_neox, "rotary_emb_base", "classifier_dropout", "use_cache",
                        "hidden_dropout", "attention_probs_dropout_prob", "bos_token_id",
                        "head_dim"),  # transformers' GPT-NeoX always uses d / h
    "olmo": _family(_olmo, "clip_qkv"),  # clipping is element-wise
    "starcoder2": _family(_starcoder2, "residual_dropout", "embedding_dropout", "norm_epsilon"),
    "gpt2": _family(_gpt2, "n_ctx", "resid_pdrop", "embd_pdrop", "attn_pdrop",
                    "scale_attn_weights", "scale_attn_by_inverse_layer_idx",
                    "reorder_and_upcast_attn", "summary_type", "summary_use_proj",
                    "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
                    "task_specific_params"),
    "deepseek_v2": _family(_deepseek, "aux_loss_alpha", "seq_aux",
                           "ep_size", "topk_method", "n_group", "topk_group",
                           "routed_scaling_factor", "scoring_func", "pretraining_tp",
                           "head_dim", moe=True),
    "deepseek_v3": _family(_deepseek, "aux_loss_alpha", "seq_aux",
                           "ep_size", "topk_method", "n_group", "topk_group",
                           "routed_scaling_factor", "scoring_func", "pretraining_tp",
                           "head_dim", "rope_interleave",
                           # the multi-token-prediction module is not part of the HF model
                           "num_nextn_predict_layers",
                           # FP8 storage of the weights: the same parameters and products
                           "quantization_config", moe=True),
}


# Dropout probabilities of the families' configs (read for activation memory only).
DROPOUT_KEYS = ("attention_dropout", "hidden_dropout", "attn_pdrop", "resid_pdrop", "embd_pdrop",
                "residual_dropout", "embedding_dropout", "attention_probs_dropout_prob")


def _dropout(config: Mapping[str, Any]) -> bool:
    values = [config.get(k) for k in DROPOUT_KEYS]
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
               for v in values)


def from_hf_config(config: Any) -> Architecture:
    """The architecture a Hugging Face ``config.json`` (already parsed) describes."""
    if not isinstance(config, dict):
        raise UserError("a Hugging Face config must be a JSON object")
    model_type = config.get("model_type")
    if model_type is None:
        raise UserError("config field 'model_type': missing (a Hugging Face config names it)")
    if model_type not in FAMILIES:
        raise UserError(f"config field 'model_type': {model_type!r} is not supported; "
                        f"supported: {', '.join(sorted(FAMILIES))}")
    family = FAMILIES[model_type]
    reader = _Reader(config, model_type, family.ignored)
    arch = family.build(reader)
    ignored = reader.finish()
    return Architecture(**{**arch.__dict__, "ignored": ignored, "dropout": _dropout(config)})


def read_hf_config(path: str | Path) -> Architecture:
    """:func:`from_hf_config` of a ``config.json`` file."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise UserError(f"cannot read config file {str(path)!r}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UserError(f"config file {str(path)!r} is not valid JSON: {exc}") from None
    return from_hf_config(data)


# --- The older llmsym config ---------------------------------------------------------------

LLMSYM_FIELDS = ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "vocab_size", "ffn",
                 "tie_embeddings", "bias", "norm", "positional", "max_positions")


def from_llmsym_config(config: Any) -> Architecture:
    """The architecture of an llmsym config: a mapping or an object with :data:`LLMSYM_FIELDS`.

    ``ffn`` gelu is a 2-matrix MLP, swiglu a gated 3-matrix one; ``bias`` puts a
    bias on every linear layer but the LM head; ``d_head = d_model // n_heads``.

    >>> from_llmsym_config(dict(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_ff=16,
    ...     vocab_size=11, ffn="swiglu", tie_embeddings=False, bias=False, norm="rmsnorm",
    ...     positional="rope", max_positions=64)).layers[0].mlp.matrices
    3
    """
    get = config.get if isinstance(config, Mapping) else lambda k: getattr(config, k)
    c = {k: get(k) for k in LLMSYM_FIELDS}
    gated = c["ffn"] == "swiglu"
    mlp = Mlp(c["d_ff"], gated, "silu" if gated else "gelu", c["bias"])
    layer = Layer(Attention(qkv_bias=c["bias"], o_bias=c["bias"]), mlp)
    return Architecture("llmsym", c["d_model"], c["n_heads"], c["n_kv_heads"],
                        c["d_model"] // c["n_heads"], c["vocab_size"], c["max_positions"],
                        (layer,) * c["n_layers"], norm=NormKind(c["norm"]),
                        positional=Positional(c["positional"]),
                        tie_embeddings=c["tie_embeddings"])
