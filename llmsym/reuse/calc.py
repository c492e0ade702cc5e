"""The calculator behind ``llmsym calc``: a model config in, verified figures out.

A model is read into a per-layer :class:`~llmsym.architecture.Architecture`: from a
shipped preset, from a Hugging Face ``config.json`` (detected by its fields) or from
llmsym's own config format. Every figure is a *verified* closed form exported by a
derivation (``architecture-counts``, ``training-memory``, ``serving``,
``moe-mla-counts``, ``transformer-flops``, ``kv-cache-memory``, ``training-compute``,
``roofline``, ``chinchilla``), evaluated through :func:`evaluate`, the one place that calls
:mod:`llmsym.results`. Whole-model figures add up per-layer results exactly as the
derivations' definitions sum over layers (identical layers are evaluated once and
counted). Nothing here re-types a formula; this module validates input, chooses the
arguments and formats the answers. Counts stay exact Python integers.

Imports are light (no SymPy, no NumPy): with a warm check cache a run takes a few
tens of milliseconds.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..architecture import (
    Architecture,
    AttentionKind,
    Layer,
    Mlp,
    Moe,
    Positional,
    from_hf_config,
    from_llmsym_config,
)
from ..errors import UserError
from ..presets import (
    ADAM_GRAD_BYTES,
    DEFAULT_GPU,
    DTYPE_BYTES,
    LLMSYM_FIELDS_HINT,
    Gpu,
    ModelConfig,
    _read_json,
    _unknown,
    config_from_dict,
    hf_presets,
    llmsym_presets,
    load_gpu,
    presets,
)

# --- The model ---------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """A model to calculate: its architecture and where it comes from."""

    name: str
    arch: Architecture
    source: str = ""
    params_published: int | None = None
    legacy: ModelConfig | None = None  # the llmsym-format config it was given as, if any
    origin: str = "preset"


HF_MARKERS = ("model_type", "architectures", "hidden_size", "n_embd", "num_hidden_layers")


def model_from_dict(data: Any, origin: str) -> Model:
    """A config mapping: a Hugging Face config (by its fields) or llmsym's format."""
    if not isinstance(data, dict):
        raise UserError(f"{origin}: expected a JSON object (a Hugging Face config.json or an "
                        f"llmsym config with {LLMSYM_FIELDS_HINT})")
    if any(key in data for key in HF_MARKERS):
        arch = from_hf_config(data)
        return Model(data.get("_name_or_path") or data["model_type"], arch, origin=origin)
    if "n_layers" in data or "d_model" in data:
        legacy = config_from_dict(data, origin)
        return Model(legacy.name or "config", from_llmsym_config(legacy),
                     params_published=legacy.params_published, legacy=legacy, origin=origin)
    raise UserError(f"{origin}: neither a Hugging Face config (no 'model_type') nor an llmsym "
                    f"config (no 'n_layers'); an llmsym config has {LLMSYM_FIELDS_HINT}")


def load_model(preset: str | None, config_file: str | None) -> Model:
    """The model of ``--preset NAME`` or ``--config FILE.json`` (exactly one)."""
    if (preset is None) == (config_file is None):
        raise UserError("give exactly one of --preset NAME or --config FILE.json "
                        f"(presets: {', '.join(sorted(presets()))})")
    if config_file is not None:
        data = _read_json(Path(config_file), "config file")
        return model_from_dict(data, f"config file {str(config_file)!r}")
    hf = hf_presets()
    if preset in hf:
        entry = hf[preset]
        return Model(entry["name"], from_hf_config(entry["config"]), entry["source"],
                     entry.get("params_published"))
    table = llmsym_presets()
    if preset not in table:
        raise _unknown("preset", preset, sorted(presets()))
    legacy = config_from_dict(table[preset], f"preset {preset}")
    return Model(legacy.name or preset, from_llmsym_config(legacy), legacy.source,
                 legacy.params_published, legacy)


# --- Workload --------------------------------------------------------------------


def positive_option(option: str, value: str | int | None, default: int, minimum: int = 1) -> int:
    """Parse an integer option; one clear message when it is not an integer >= ``minimum``."""
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UserError(f"option {option}: expected an integer, not {value!r}") from None
    if number < minimum:
        kind = "positive" if minimum == 1 else f"at least {minimum}"
        raise UserError(f"option {option}: must be {kind}, not {number}")
    return number


def positive_number(option: str, value: str | float | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"option {option}: expected a number, not {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise UserError(f"option {option}: must be a positive number, not {value}")
    return number


RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True)
class Workload:
    """What is run: ``batch`` sequences of ``seq`` tokens, a decode step after ``context``;
    training with a recomputation policy over ``gpus`` data-parallel GPUs (ZeRO stage)."""

    seq: int
    batch: int
    dtype: str
    context: int
    recompute: str = "none"
    zero_stage: int = 0
    gpus: int = 1
    tokens_per_s: float | None = None

    @property
    def bytes_per_element(self) -> int:
        return DTYPE_BYTES[self.dtype]


def workload(arch: Architecture, seq=None, batch=None, dtype: str = "bf16", context=None,
             recompute: str = "none", zero_stage=None, gpus=None,
             tokens_per_s=None) -> Workload:
    """Validated options; defaults: the model's context length, batch 1, the step after seq - 1."""
    if dtype not in DTYPE_BYTES:
        raise _unknown("dtype", dtype, list(DTYPE_BYTES))
    if recompute not in RECOMPUTE:
        raise UserError(f"option --recompute: must be one of {', '.join(RECOMPUTE)}, "
                        f"not {recompute!r}")
    s = positive_option("--seq", seq, arch.max_positions)
    t = positive_option("--decode-context", context, s - 1, minimum=0)
    if arch.positional is Positional.LEARNED:
        if s > arch.max_positions:
            raise UserError(f"option --seq: {s} exceeds max_positions = {arch.max_positions} "
                            "of the learned position table")
        if t + 1 > arch.max_positions:
            raise UserError(f"option --decode-context: the token after {t} cached ones is "
                            f"beyond max_positions = {arch.max_positions}")
    stage = positive_option("--zero-stage", zero_stage, 0, minimum=0)
    if stage > 3:
        raise UserError(f"option --zero-stage: must be 0, 1, 2 or 3, not {stage}")
    return Workload(s, positive_option("--batch", batch, 1), dtype, t, recompute, stage,
                    positive_option("--gpus", gpus, 1),
                    positive_number("--measured-tokens-per-s", tokens_per_s))


# --- Evaluating verified results -----------------------------------------------

# The derivations whose results the calculator evaluates; with a warm cache no other
# derivation is loaded or checked.
SOURCES = ("architecture-counts", "moe-mla-counts", "training-memory", "serving",
           "transformer-flops", "transformer-params", "training-compute", "kv-cache-memory",
           "roofline", "chinchilla")


def _result(name: str):
    from . import results

    return results.get(name, derivations=SOURCES)


def evaluate(result: str, **pool: Any) -> Any:
    """A verified closed form at the arguments it takes from ``pool`` (exact ints for counts)."""
    found = _result(result)
    return found.evaluate(**{p: pool[p] for p in found.params})


@dataclass
class Evaluator:
    """Evaluates results from a pool of values, remembering which were used."""

    pool: dict[str, Any]
    used: list[str] = field(default_factory=list)

    def __call__(self, name: str, **extra: Any) -> Any:
        self.used.append(name)
        return evaluate(name, **{**self.pool, **extra})

    def statuses(self) -> dict[str, str]:
        return {name: _result(name).status for name in dict.fromkeys(self.used)}


# --- Per-layer figures ---------------------------------------------------------


def _attention_sizes(arch: Architecture, layer: Layer) -> dict[str, int]:
    att = layer.attention
    if att.mla is not None:
        m = att.mla
        return dict(d_key=m.qk_head_dim, d_value=m.v_head_dim, q_rank=m.q_lora_rank or 1,
                    kv_rank=m.kv_lora_rank, d_nope=m.qk_nope_head_dim,
                    d_rope=m.qk_rope_head_dim, qkv_bias=int(att.qkv_bias),
                    o_bias=int(att.o_bias))
    return dict(d_key=arch.head_dim, d_value=arch.head_dim, qkv_bias=int(att.qkv_bias),
                o_bias=int(att.o_bias), qk_norm=int(att.qk_norm))


def _mlp_params(f: Evaluator, mlp: Mlp) -> int:
    return f("mlp_params", ffn_matrices=mlp.matrices, d_ff=mlp.width, mlp_bias=int(mlp.bias))


@dataclass
class LayerFigures:
    """One layer's counts (for ``batch`` sequences), summed over the model by the caller."""

    attention_params: int
    mlp_params: int
    mlp_active_params: int
    norms: int
    forward: int  # projections, full scores, MLP
    causal: int  # projections, causal (or windowed) scores, MLP
    decode: int  # one decode step after `context` tokens
    cache: int  # bytes held after `seq` tokens
    cache_before_step: int  # bytes held after `context` tokens
    cache_per_token: int  # bytes one more token adds (batch 1)
    one_token: int  # FLOPs of one token's weight products (no scores)


def layer_figures(f: Evaluator, arch: Architecture, layer: Layer, work: Workload) -> LayerFigures:
    att, mlp = layer.attention, layer.mlp
    sizes = _attention_sizes(arch, layer)
    b, s, t = work.batch, work.seq, work.context
    if att.mla is not None:
        name = "mla_flops" if att.mla.q_lora_rank is not None else "mla_flops_full_q"
        proj = f(name, seq=s, latent_rows=s, **sizes)
        proj_decode = f(name, seq=1, latent_rows=t + 1, **sizes)
        one = f(name, batch=1, seq=1, latent_rows=1, **sizes)
        params = f("mla_params" if att.mla.q_lora_rank is not None else "mla_params_full_q",
                   **sizes)
    else:
        proj = f("projection_flops", seq=s)
        proj_decode = f("projection_flops", seq=1)
        one = f("projection_flops", batch=1, seq=1)
        params = f("projection_params", **sizes)
    scores = f("score_flops", seq=s, **sizes)
    window = att.window if att.kind is AttentionKind.SLIDING else None
    if window is not None and s >= window:
        causal = f("score_flops_window", seq=s, window=window, **sizes)
    else:
        causal = f("score_flops_causal", seq=s, **sizes)
    if window is not None:
        keys = f("window_decode_keys", context=t, window=window)
        held, held_before = (f("window_decode_keys", context=n, window=window) - 1
                             for n in (s, t))  # min(n, W - 1): the window's cache rule
    else:
        keys, held, held_before = t + 1, s, t
    decode_scores = f("score_flops_decode", keys=keys, **sizes)
    cache = [_cache(f, arch, layer, held, b), _cache(f, arch, layer, held_before, b),
             _cache(f, arch, layer, 1, 1)]
    if isinstance(mlp, Moe):
        moe = dict(ffn_matrices=mlp.expert.matrices, n_experts=mlp.n_experts, top_k=mlp.top_k,
                   d_expert=mlp.expert.width, d_shared=mlp.shared.width if mlp.shared else 0,
                   shared_gate=int(mlp.shared_gate), router_bias=int(mlp.router_bias))
        if mlp.shared is not None and mlp.shared.matrices != mlp.expert.matrices:
            raise UserError("shared experts with other MLP matrices than the routed ones "
                            "are not modelled")
        ffn = [f("moe_flops", seq=n, batch=rows, **moe) for n, rows in ((s, b), (1, b), (1, 1))]
        expert = _mlp_params(f, mlp.expert)
        shared = _mlp_params(f, mlp.shared) if mlp.shared else 0
        mlp_all = f("moe_params", expert_params=expert, shared_params=shared, **moe)
        mlp_active = f("moe_active_params", expert_params=expert, shared_params=shared, **moe)
    else:
        dense = dict(ffn_matrices=mlp.matrices, d_ff=mlp.width)
        ffn = [f("mlp_flops", seq=n, batch=rows, **dense) for n, rows in ((s, b), (1, b), (1, 1))]
        mlp_all = mlp_active = _mlp_params(f, mlp)
    return LayerFigures(params, mlp_all, mlp_active, layer.norms, proj + scores + ffn[0],
                        proj + causal + ffn[0], proj_decode + decode_scores + ffn[1], *cache,
                        one + ffn[2])


def _cache(f: Evaluator, arch: Architecture, layer: Layer, held: int, batch: int) -> int:
    att = layer.attention
    if att.mla is not None:
        return f("mla_cache_bytes", batch=batch, cached=held, kv_rank=att.mla.kv_lora_rank,
                 d_rope=att.mla.qk_rope_head_dim)
    return f("layer_cache_bytes", batch=batch, cached=held)


# --- Figures ---------------------------------------------------------------------


def _sum(per_layer: list[tuple[LayerFigures, int]], key: str) -> int:
    return sum(getattr(fig, key) * count for fig, count in per_layer)


def figures(model: Model, work: Workload, gpu: Gpu) -> dict[str, Any]:
    """Every figure of ``llmsym calc`` as JSON-ready data."""
    arch, e = model.arch, work.bytes_per_element
    if work.dtype not in gpu.peak_flops:
        raise UserError(f"option --dtype: {gpu.name} has no {work.dtype} peak in its spec sheet "
                        f"(has {', '.join(gpu.peak_flops)})")
    pool: dict[str, Any] = dict(
        batch=work.batch, seq=work.seq, context=work.context, bytes_per_element=e,
        d_model=arch.d_model, n_heads=arch.n_heads, n_kv_heads=arch.n_kv_heads,
        d_head=arch.head_dim, vocab_size=arch.vocab_size, n_layers=arch.n_layers,
        peak_flops=gpu.peak_flops[work.dtype], bandwidth=gpu.bandwidth)
    f = Evaluator(pool)
    per_layer = [(layer_figures(f, arch, layer, work), n)
                 for layer, n in Counter(arch.layers).items()]
    model_sizes = dict(tied=int(arch.tie_embeddings),
                       learned_positions=int(arch.positional is Positional.LEARNED),
                       max_positions=arch.max_positions, norm_vectors=arch.norm.vectors,
                       attention_params=_sum(per_layer, "attention_params"),
                       layer_norms=_sum(per_layer, "norms"))
    params = f("model_params", mlp_params=_sum(per_layer, "mlp_params"), **model_sizes)
    active = f("model_params", mlp_params=_sum(per_layer, "mlp_active_params"), **model_sizes)
    n_mat = f("model_flops", batch=1, seq=1, layers_flops=_sum(per_layer, "one_token")) // 2
    out: dict[str, Any] = {
        "model": model.name, "model_type": arch.model_type, "source": model.source,
        "dtype": work.dtype, "bytes_per_element": e, "batch": work.batch, "seq": work.seq,
        "decode_context": work.context, "params": params,
        "active_params": active if arch.is_moe else None,
        "params_published": model.params_published,
        "matrix_params": n_mat,
        "forward_flops": f("model_flops", layers_flops=_sum(per_layer, "forward")),
        "forward_flops_causal": f("model_flops", layers_flops=_sum(per_layer, "causal")),
        "decode_flops": f("model_flops", seq=1, layers_flops=_sum(per_layer, "decode")),
        "kv_cache_bytes": _sum(per_layer, "cache"),
        "weights_bytes": params * e,
        "layers": {"count": arch.n_layers, "kinds": _kinds(arch)},
        "ignored_config_fields": list(arch.ignored),
    }
    out["training_flops_per_token"] = _palm_flops(f, arch, work, n_mat)
    out["training_flops_per_step"] = work.batch * work.seq * out["training_flops_per_token"]
    out["attention_scores_bytes_per_layer"] = f("attention_scores_bytes")
    out["flash_stats_bytes_per_layer"] = f("flash_stats_bytes")
    if model.legacy is not None:  # the uniform-layer element-wise count of transformer-flops
        out["forward_elementwise"] = f("forward_elementwise", **model.legacy.sizes())
    for key, grad in ADAM_GRAD_BYTES.items():
        out[f"training_state_bytes_{key}"] = f("training_state_bytes", params=params,
                                               grad_bytes=grad)
    out.update(_training_memory(f, arch, work, params, per_layer))
    out.update(_serving(f, arch, out, gpu, work, per_layer))
    out.update(_roofline(f, arch, out, gpu, work, per_layer))
    out.update(_chinchilla(f, params))
    out["status"] = f.statuses()
    return out


def _kinds(arch: Architecture) -> list[str]:
    """Each distinct kind of layer in words, with its count."""
    words = []
    for layer, n in Counter(arch.layers).items():
        att = layer.attention
        a = (f"MLA (r_kv {att.mla.kv_lora_rank})" if att.mla else
             f"sliding window {att.window}" if att.window else "full attention")
        mlp = layer.mlp
        m = (f"MoE {mlp.top_k} of {mlp.n_experts} experts" + (" + shared" if mlp.shared else "")
             if isinstance(mlp, Moe) else f"{'gated ' if mlp.gated else ''}MLP {mlp.width}")
        words.append(f"{n} x {a}, {m}" + (", parallel" if layer.parallel else ""))
    return words


def _uniform_attention(arch: Architecture) -> tuple[int, int] | None:
    dims = {(_attention_sizes(arch, la)["d_key"], _attention_sizes(arch, la)["d_value"])
            for la in arch.layers}
    return next(iter(dims)) if len(dims) == 1 else None


def _palm_flops(f: Evaluator, arch: Architecture, work: Workload, n_mat: int) -> int | None:
    dims = _uniform_attention(arch)
    if dims is None:
        return None
    return f("palm_flops_per_token", matrix_params=n_mat, d_key=dims[0], d_value=dims[1])


def _standard_dense(arch: Architecture) -> bool:
    return all(la.attention.mla is None and isinstance(la.mlp, Mlp) for la in arch.layers)


def _training_memory(f: Evaluator, arch: Architecture, work: Workload, params: int,
                     per_layer: list) -> dict[str, Any]:
    """Activations kept per layer under the recomputation policy, ZeRO state, peak per GPU."""
    state = f(f"training_state_bytes_per_gpu_zero{work.zero_stage}", psi=params,
              optimizer_bytes=12, gpus=work.gpus)
    out: dict[str, Any] = {"recompute": work.recompute, "zero_stage": work.zero_stage,
                           "gpus": work.gpus, "optimizer_bytes_per_param": 12,
                           "training_state_bytes_per_gpu": state}
    if not _standard_dense(arch):
        out.update(activation_bytes_per_layer=None, activation_bytes=None,
                   peak_memory_per_gpu=None,
                   activation_note="activation memory is derived for standard attention with "
                   "dense MLPs; this model has MLA or mixture-of-experts layers")
        return out
    suffix = {"none": "", "selective": "_selective", "full": "_full"}[work.recompute]
    kept, full = [], []
    for layer, n in Counter(arch.layers).items():
        sizes = dict(activation_bytes=work.bytes_per_element, dropout=int(arch.dropout),
                     gated=int(layer.mlp.gated), norms_per_layer=layer.norms,
                     d_ff=layer.mlp.width)
        kept += [f("activation_bytes_per_layer" + suffix, **sizes)] * n
        full += [f("activation_bytes_per_layer", **sizes)] * n
    out["activation_bytes_per_layer"] = kept[0] if len(set(kept)) == 1 else None
    out["activation_bytes"] = sum(kept)
    if len(set(kept)) == 1 and len(set(full)) == 1:
        out["peak_memory_per_gpu"] = f("peak_memory_per_gpu", state_bytes=state,
                                       kept_bytes=kept[0], layer_bytes=full[0])
    else:
        out["peak_memory_per_gpu"] = None
    out["activation_note"] = (
        "kept for the backward pass per micro-batch of batch x seq tokens: inputs of products, "
        "norms and activations, softmax outputs" + (", 1-byte dropout masks" if arch.dropout
                                                    else "") + f"; {work.dtype} activations")
    return out


def _serving(f: Evaluator, arch: Architecture, out: dict[str, Any], gpu: Gpu, work: Workload,
             per_layer: list) -> dict[str, Any]:
    """KV-cache tokens and sequences that fit beside the weights; MFU of a measured rate."""
    per_token = _sum(per_layer, "cache_per_token")
    one_sequence = out["kv_cache_bytes"] // work.batch
    fit = dict(gpu_memory=int(gpu.memory), weight_bytes=work.bytes_per_element,
               params=out["params"])
    tokens = f("units_that_fit", unit_bytes=per_token, **fit)
    sequences = f("units_that_fit", unit_bytes=one_sequence, **fit)
    res: dict[str, Any] = {
        "gpu_memory_bytes": int(gpu.memory), "weights_fit": tokens >= 0,
        "kv_cache_bytes_per_token": per_token, "kv_cache_bytes_per_sequence": one_sequence,
        "kv_tokens_fit": max(tokens, 0), "concurrent_sequences": max(sequences, 0),
    }
    dims = _uniform_attention(arch)
    if work.tokens_per_s is not None and dims:
        res["measured_tokens_per_s"] = work.tokens_per_s
        res["mfu"] = f("mfu", tokens_per_s=work.tokens_per_s, matrix_params=out["matrix_params"],
                       d_key=dims[0], d_value=dims[1],
                       peak_flops=gpu.peak_flops[work.dtype] * work.gpus)
        res["mfu_convention"] = ("PaLM (Chowdhery et al. 2022, app. B): tokens/s x (6N + 12LHQT) "
                                 "/ peak of all GPUs; N = weight matrices a token multiplies")
    return res


def _roofline(f: Evaluator, arch: Architecture, out: dict[str, Any], gpu: Gpu,
              work: Workload, per_layer: list) -> dict[str, Any]:
    """Least times of prefill and of a decode step (roofline), and where decoding turns
    compute-bound (uniform dense layers only)."""
    e, peak = work.bytes_per_element, gpu.peak_flops[work.dtype]
    prefill_bytes = f("step_bytes", weight_bytes=e, read_params=out["matrix_params"],
                      kv_bytes=out["kv_cache_bytes"])
    decode_bytes = f("step_bytes", weight_bytes=e, read_params=out["matrix_params"],
                     kv_bytes=_sum(per_layer, "cache_before_step"))
    ridge = peak / gpu.bandwidth

    def bound(flops: int, moved: int) -> str:
        return "compute" if flops / moved >= ridge else "memory"

    res = {
        "gpu": gpu.key, "gpu_name": gpu.name, "peak_flops": peak, "bandwidth": gpu.bandwidth,
        "ridge_point": ridge,
        "prefill_bytes": prefill_bytes,
        "forward_time_s": f("roofline_time", flops=out["forward_flops"],
                            bytes_moved=prefill_bytes),
        "forward_bound": bound(out["forward_flops"], prefill_bytes),
        "decode_bytes": decode_bytes,
        "decode_intensity": out["decode_flops"] / decode_bytes,
        "decode_time_s": f("roofline_time", flops=out["decode_flops"], bytes_moved=decode_bytes),
        "decode_bound": bound(out["decode_flops"], decode_bytes),
        "decode_crossover_batch": None,
    }
    if _uniform_dense_full(arch):  # roofline's crossover assumes identical dense layers
        crossover = f("decode_crossover_batch", matrix_params=out["matrix_params"])
        res["decode_crossover_batch"] = crossover if crossover > 0 else None
    return res


def _uniform_dense_full(arch: Architecture) -> bool:
    kinds = set(arch.layers)
    layer = arch.layers[0]
    return (len(kinds) == 1 and layer.attention.kind is AttentionKind.FULL
            and isinstance(layer.mlp, Mlp))


CHINCHILLA_FIT = dict(A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. 2022, approach 3


def _chinchilla(f: Evaluator, params: int) -> dict[str, Any]:
    """Compute-optimal training tokens for this many parameters under the approach-3 fit."""
    tokens = f("chinchilla_tokens_for_params", params=params, **CHINCHILLA_FIT)
    return {"chinchilla_tokens": tokens, "chinchilla_fit": "Hoffmann et al. 2022, approach 3: "
            "E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28"}


# --- Output ----------------------------------------------------------------------


def _si(x: float, unit: str) -> str:
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= factor:
            return f"{x / factor:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def _bytes(n: int | float | None) -> str:
    if n is None:
        return "not modelled"
    for factor, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= factor:
            return f"{n:,.0f} B ({n / factor:.3g} {unit})"
    return f"{n:,.0f} B"


def _seconds(x: float) -> str:
    for factor, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if x >= factor:
            return f"{x / factor:.3g} {unit}"
    return f"{x / 1e-9:.3g} ns"


def _count(n: int | None, unit: str) -> str:
    return "not modelled" if n is None else f"{n:,} ({_si(n, unit)})"


def table(fig: dict[str, Any]) -> str:
    """A readable summary of :func:`figures`."""
    b, s, t = fig["batch"], fig["seq"], fig["decode_context"]
    crossover = fig["decode_crossover_batch"]
    rows: list[tuple[str, str | None]] = [
        (f"{fig['model']} ({fig['model_type']}): batch {b}, {s} tokens, {fig['dtype']} "
         f"({fig['bytes_per_element']} B per element)", None),
        *((f"  {kind}", None) for kind in fig["layers"]["kinds"]),
        ("parameters", _count(fig["params"], "")),
    ]
    if fig["active_params"] is not None:
        rows.append(("active parameters per token", _count(fig["active_params"], "")))
    rows += [
        ("weight matrices a token multiplies N", _count(fig["matrix_params"], "")),
        ("Compute", None),
        ("forward pass, full attention", _count(fig["forward_flops"], "FLOP")),
        ("forward pass, causal useful work", _count(fig["forward_flops_causal"], "FLOP")),
        (f"decode step after {t} cached tokens", _count(fig["decode_flops"], "FLOP")),
        ("training FLOPs per token (PaLM)", _count(fig["training_flops_per_token"], "FLOP")),
        ("Memory", None),
        ("weights", _bytes(fig["weights_bytes"])),
        (f"KV cache ({s} tokens x {b})", _bytes(fig["kv_cache_bytes"])),
        ("naive attention S and P, per layer", _bytes(fig["attention_scores_bytes_per_layer"])),
        ("FlashAttention statistics, per layer", _bytes(fig["flash_stats_bytes_per_layer"])),
        (f"Training: recompute {fig['recompute']}, ZeRO stage {fig['zero_stage']}, "
         f"{fig['gpus']} GPU(s)", None),
        ("activations kept per layer", _bytes(fig["activation_bytes_per_layer"])),
        ("activations kept, all layers", _bytes(fig["activation_bytes"])),
        ("weights, gradients, Adam state per GPU", _bytes(fig["training_state_bytes_per_gpu"])),
        ("peak memory per GPU", _bytes(fig["peak_memory_per_gpu"])),
        (f"Serving on {fig['gpu_name']} ({_si(fig['gpu_memory_bytes'], 'B')})", None),
        ("KV-cache tokens that fit", f"{fig['kv_tokens_fit']:,}" if fig["weights_fit"]
         else "none: the weights do not fit"),
        (f"concurrent sequences of {s} tokens", f"{fig['concurrent_sequences']:,}"),
        ("peak, bandwidth", f"{_si(fig['peak_flops'], 'FLOP/s')}, {_si(fig['bandwidth'], 'B/s')}"),
        ("ridge point", f"{fig['ridge_point']:.1f} FLOP/B"),
        ("prefill, at least",
         f"{_seconds(fig['forward_time_s'])} ({fig['forward_bound']}-bound)"),
        ("decode step, at least", f"{_seconds(fig['decode_time_s'])} ({fig['decode_bound']}-bound,"
                                  f" {fig['decode_intensity']:.3g} FLOP/B)"),
        ("decode compute-bound from batch", f"{crossover:,.1f}" if crossover else
         "never at this context, or layers not uniform and dense"),
    ]
    if "mfu" in fig:
        rows.append((f"MFU at {fig['measured_tokens_per_s']:g} tokens/s (PaLM)",
                     f"{fig['mfu']:.1%}"))
    rows += [("Scaling", None),
             ("Chinchilla-optimal tokens for N", f"{_si(fig['chinchilla_tokens'], '')} "
                                                 "(approach-3 fit)")]
    width = max(len(label) for label, value in rows if value is not None)
    lines = [label if value is None else f"  {label:<{width}}  {value}" for label, value in rows]
    weak = sorted(k for k, v in fig["status"].items() if v != "proved")
    weak_text = ", ".join(f"{k} ({fig['status'][k]})" for k in weak)
    lines.append(f"closed forms not fully proved: {weak_text}" if weak
                 else "closed forms: all proved")
    return "\n".join(lines)


def run(preset: str | None, config_file: str | None, seq=None, batch=None, dtype: str = "bf16",
        context=None, gpu: str | None = None, as_json: bool = False, recompute: str = "none",
        zero_stage=None, gpus=None, tokens_per_s=None) -> str:
    """The text ``llmsym calc`` prints."""
    model = load_model(preset, config_file)
    work = workload(model.arch, seq, batch, dtype, context, recompute, zero_stage, gpus,
                    tokens_per_s)
    fig = figures(model, work, load_gpu(gpu or DEFAULT_GPU))
    return json.dumps(fig, indent=2) if as_json else table(fig)
