"""Hugging Face configs into the per-layer architecture, and the counting decoder built from it.

Every fixture is a real checkpoint's config.json (see tests/fixtures/hf/SOURCES.md). The
decoder is checked at shrunken sizes against tallies written here from the architecture's
definition (what each kind of layer multiplies and stores), and against its own full
forward pass (a cached decode step must give the same logits). The measured
expected.json files are checked for the structural laws they must obey (linear and
quadratic parts in s); comparing them with the closed forms is the next phase.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from llmsym.architecture import (
    Architecture,
    AttentionKind,
    Mla,
    Mlp,
    Moe,
    NormKind,
    Positional,
    from_hf_config,
    from_llmsym_config,
    read_hf_config,
)
from llmsym.errors import UserError
from llmsym.numeric.transformer import Counter, Decoder, DecoderConfig

ROOT = Path(__file__).resolve().parent
FIXTURES = ROOT / "fixtures" / "hf"
FAMILIES = sorted(p.name for p in FIXTURES.iterdir() if (p / "config.json").exists())
MEASURED = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").exists())


def raw(family: str) -> dict:
    return json.loads((FIXTURES / family / "config.json").read_text())


# --- Reading the real configs ---------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_real_config_is_read_and_its_sizes_kept(family):
    config = raw(family)
    arch = read_hf_config(FIXTURES / family / "config.json")
    assert arch.model_type == config["model_type"] == family
    n = config.get("num_hidden_layers", config.get("n_layer"))
    assert arch.n_layers == n
    assert arch.vocab_size == config["vocab_size"]
    if config.get("head_dim") and arch.layers[0].attention.mla is None:
        assert arch.head_dim == config["head_dim"]
    assert set(arch.ignored) <= set(config)


def test_head_dim_is_taken_from_the_config_not_from_d_over_h():
    arch = read_hf_config(FIXTURES / "qwen3_moe" / "config.json")
    assert (arch.d_model // arch.n_heads, arch.head_dim) == (64, 128)


def test_moe_and_mla_fields_are_mapped():
    v3 = read_hf_config(FIXTURES / "deepseek_v3" / "config.json")
    kinds = [type(layer.mlp) for layer in v3.layers]
    assert kinds == [Mlp] * 3 + [Moe] * 58
    moe = v3.layers[3].mlp
    assert (moe.n_experts, moe.top_k, moe.expert.width, moe.shared.width) == (256, 8, 2048, 2048)
    assert v3.layers[0].attention.mla == Mla(1536, 512, 128, 64, 128)
    mixtral = read_hf_config(FIXTURES / "mixtral" / "config.json")
    assert mixtral.layers[0].mlp == Moe(8, 2, Mlp(14336, True, "silu"))


# --- Errors name the field -----------------------------------------------------------------


def message(config) -> str:
    with pytest.raises(UserError) as err:
        from_hf_config(config)
    return str(err.value)


def test_unknown_model_type_is_refused_by_name():
    assert "'model_type'" in message({**raw("llama"), "model_type": "mamba"})
    assert "'model_type'" in message({k: v for k, v in raw("llama").items() if k != "model_type"})


def test_a_field_nobody_mapped_is_refused_by_name():
    assert "'attn_sink'" in message({**raw("llama"), "attn_sink": True})


def test_unsupported_attention_pattern_names_layer_types():
    config = {**raw("qwen3"), "layer_types": ["chunked_attention"] * 36}
    assert "'layer_types'" in message(config)
    assert "'layer_types'" in message({**raw("qwen3"), "layer_types": ["full_attention"]})


def test_values_that_change_the_counts_unmodelled_are_refused():
    falcon = {"model_type": "falcon", "hidden_size": 64, "num_attention_heads": 4,
              "num_hidden_layers": 2, "vocab_size": 50}
    assert from_hf_config(falcon).layers[0].norms == 1
    assert "'new_decoder_architecture'" in message({**falcon, "new_decoder_architecture": True})
    assert "'alibi'" in message({**falcon, "alibi": True})
    assert "'attention_bias'" in message({**raw("phi3"), "attention_bias": True})
    assert "'hidden_size'" in message({k: v for k, v in raw("qwen2").items()
                                       if k != "hidden_size"})
    assert "'num_key_value_heads'" in message({**raw("llama"), "num_key_value_heads": 7})
    assert "'q_lora_rank'" in message({**raw("deepseek_v3"), "q_lora_rank": "big"})
    assert "'moe_layer_freq'" in message({**raw("deepseek_v3"), "moe_layer_freq": 2})
    assert "'first_k_dense_replace'" in message({k: v for k, v in raw("deepseek_v3").items()
                                                 if k != "first_k_dense_replace"})


def test_sliding_windows_follow_each_family():
    gemma2 = {"model_type": "gemma2", "hidden_size": 32, "num_attention_heads": 4,
              "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 48,
              "num_hidden_layers": 4, "vocab_size": 50, "sliding_window": 8}
    arch = from_hf_config(gemma2)
    assert [layer.attention.window for layer in arch.layers] == [8, None, 8, None]
    assert all(layer.norms == 4 for layer in arch.layers)
    mistral = {**{k: v for k, v in gemma2.items() if k != "head_dim"}, "model_type": "mistral"}
    assert [layer.attention.kind for layer in from_hf_config(mistral).layers] == [
        AttentionKind.SLIDING] * 4
    qwen = {**raw("qwen2"), "use_sliding_window": True, "sliding_window": 4096,
            "max_window_layers": 20}
    windows = [layer.attention.window for layer in from_hf_config(qwen).layers]
    assert windows == [None] * 20 + [4096] * 8


# --- The older llmsym config ----------------------------------------------------------------


def test_llmsym_presets_convert_and_build_the_same_decoder():
    presets = json.loads((ROOT.parent / "llmsym" / "data" / "presets.json").read_text())
    for name, entry in presets.items():
        if name.startswith("_"):
            continue
        arch = from_llmsym_config(entry)
        assert arch.n_layers == entry["n_layers"] and arch.head_dim == entry["d_model"] // entry[
            "n_heads"]
    small = DecoderConfig(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_ff=5, vocab_size=11,
                          ffn="swiglu", bias=True, tie_embeddings=True)
    a = Decoder(small, np.random.default_rng(1))
    b = Decoder(from_llmsym_config(small), np.random.default_rng(1))
    assert list(a.weights) == list(b.weights)
    tokens = np.array([[1, 2, 3]])
    assert np.allclose(a.forward(tokens, Counter()), b.forward(tokens, Counter()))


# --- The counting decoder at shrunken sizes ------------------------------------------------


def shrink(arch: Architecture) -> Architecture:
    """The same kinds of layers at toy sizes (at most one of each kind, in order)."""
    h, kv = 4, 4 if arch.n_kv_heads == arch.n_heads else (1 if arch.n_kv_heads == 1 else 2)
    d = 16
    head_dim = 6 if arch.head_dim != arch.d_model // arch.n_heads else d // h
    layers, seen = [], set()
    for layer in arch.layers:
        att, mlp = layer.attention, layer.mlp
        key = (att.kind, att.window is None, type(mlp))
        if key in seen:
            continue
        seen.add(key)
        if att.window is not None:
            att = replace(att, window=3)
        if att.mla is not None:
            att = replace(att, mla=Mla(None if att.mla.q_lora_rank is None else 6, 5, 4, 2, 3))
        if isinstance(mlp, Moe):
            mlp = replace(mlp, n_experts=min(mlp.n_experts, 5), top_k=min(mlp.top_k, 2),
                          expert=replace(mlp.expert, width=3),
                          shared=mlp.shared and replace(mlp.shared, width=7))
        else:
            mlp = replace(mlp, width=9)
        layers.append(replace(layer, attention=att, mlp=mlp))
    return replace(arch, d_model=d, n_heads=h, n_kv_heads=kv, head_dim=head_dim, vocab_size=23,
                   max_positions=32, layers=tuple(layers))


def tally_params(a: Architecture) -> int:
    """Parameters from the definition of each kind of layer, written out here."""
    d, norm = a.d_model, a.norm.vectors
    total = a.vocab_size * d * (1 if a.tie_embeddings else 2) + norm * d
    total += a.max_positions * d if a.positional is Positional.LEARNED else 0
    for layer in a.layers:
        att, mlp = layer.attention, layer.mlp
        total += layer.norms * norm * d
        if att.mla is None:
            q, kv = a.n_heads * a.head_dim, a.n_kv_heads * a.head_dim
            total += 2 * d * q + 2 * d * kv
            total += (q + 2 * kv) * att.qkv_bias + d * att.o_bias
            total += 2 * a.head_dim * att.qk_norm
        else:
            m = att.mla
            qk = a.n_heads * (m.qk_nope_head_dim + m.qk_rope_head_dim)
            total += d * qk if m.q_lora_rank is None else (
                d * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * qk
                + m.q_lora_rank * att.qkv_bias)
            total += (d + att.qkv_bias) * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
            total += m.kv_lora_rank * a.n_heads * (m.qk_nope_head_dim + m.v_head_dim)
            total += a.n_heads * m.v_head_dim * d + d * att.o_bias

        def dense(mlp: Mlp) -> int:
            return mlp.matrices * d * mlp.width + mlp.bias * ((mlp.matrices - 1) * mlp.width + d)

        if isinstance(mlp, Moe):
            total += d * mlp.n_experts + mlp.n_experts * dense(mlp.expert)
            total += (dense(mlp.shared) if mlp.shared else 0) + d * mlp.shared_gate
        else:
            total += dense(mlp)
    return total


def attention_products(a: Architecture, i: int, queries: list[int], useful: bool, s_k: int):
    """FLOPs of QK^T and PV in layer i for queries at the given positions."""
    att = a.layers[i].attention
    dqk, dv = (att.mla.qk_head_dim, att.mla.v_head_dim) if att.mla else (a.head_dim, a.head_dim)
    keys = [min(q + 1, att.window or q + 1) for q in queries] if useful else [s_k] * len(queries)
    return 2 * a.n_heads * (dqk + dv) * sum(keys)


SMALL = {family: shrink(read_hf_config(FIXTURES / family / "config.json")) for family in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_counted_parameters_equal_the_tally(family):
    arch = SMALL[family]
    assert Decoder(arch, np.random.default_rng(0)).param_count == tally_params(arch)


@pytest.mark.parametrize("family", FAMILIES)
def test_attention_products_full_and_causal(family):
    arch, s = SMALL[family], 7
    model = Decoder(arch, np.random.default_rng(1))
    tokens = np.random.default_rng(2).integers(0, arch.vocab_size, size=(1, s))
    full, useful = Counter(), Counter()
    model.forward(tokens, full)
    model.forward(tokens, useful, useful_only=True)
    attn = sum(attention_products(arch, i, list(range(s)), False, s) for i in range(arch.n_layers))
    kept = sum(attention_products(arch, i, list(range(s)), True, s) for i in range(arch.n_layers))
    assert full.matmul_flops["scores"] + full.matmul_flops["context"] == attn
    assert useful.matmul_flops["scores"] + useful.matmul_flops["context"] == kept
    others = {k: v for k, v in full.matmul_flops.items() if k not in ("scores", "context")}
    assert others == {k: v for k, v in useful.matmul_flops.items()
                      if k not in ("scores", "context")}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("mla_cache", ["latent", "decompressed"])
def test_decode_step_equals_the_full_pass_and_counts_its_keys(family, mla_cache):
    arch, t = SMALL[family], 6
    model = Decoder(arch, np.random.default_rng(3), mla_cache=mla_cache)
    tokens = np.random.default_rng(4).integers(0, arch.vocab_size, size=(2, t + 1))
    full = model.forward(tokens, Counter())
    _, cache = model.prefill(tokens[:, :t], "fp32", Counter())
    step = Counter()
    last = model.decode_step(tokens[:, t], cache, step)
    assert np.max(np.abs(last - full[:, -1])) < 1e-5  # the cache holds float32
    assert cache.length == t + 1
    attn = sum(attention_products(arch, i, [t], True, t + 1) for i in range(arch.n_layers))
    assert step.matmul_flops["scores"] + step.matmul_flops["context"] == 2 * attn


@pytest.mark.parametrize("family", FAMILIES)
def test_cache_keeps_the_window_or_the_latent(family):
    arch, t, b = SMALL[family], 6, 2
    tokens = np.random.default_rng(5).integers(0, arch.vocab_size, size=(b, t))
    _, cache = Decoder(arch, np.random.default_rng(6)).prefill(tokens, "bf16", Counter())
    expected = 0
    for layer in arch.layers:
        att = layer.attention
        if att.mla:
            expected += b * t * (att.mla.kv_lora_rank + att.mla.qk_rope_head_dim) * 2
        else:
            kept = min(t, att.window - 1) if att.window else t
            expected += 2 * b * kept * arch.n_kv_heads * arch.head_dim * 2
    assert cache.nbytes == expected


@pytest.mark.parametrize("family", [f for f in FAMILIES if SMALL[f].is_moe])
def test_experts_run_top_k_rows_whatever_the_routing(family):
    arch, s = SMALL[family], 9
    counts = []
    for seed in (7, 8):
        c = Counter()
        Decoder(arch, np.random.default_rng(seed)).forward(
            np.random.default_rng(seed).integers(0, arch.vocab_size, size=(1, s)), c)
        counts.append(c.matmul_flops)
    assert counts[0] == counts[1]
    routed = sum(layer.mlp.top_k * s * 2 * arch.d_model * layer.mlp.expert.width
                 * layer.mlp.expert.matrices for layer in arch.layers
                 if isinstance(layer.mlp, Moe))
    shared = sum(s * 2 * arch.d_model * layer.mlp.shared.width * layer.mlp.shared.matrices
                 for layer in arch.layers if isinstance(layer.mlp, Moe) and layer.mlp.shared)
    dense = sum(s * 2 * arch.d_model * layer.mlp.width * layer.mlp.matrices
                for layer in arch.layers if isinstance(layer.mlp, Mlp))
    mlp = sum(counts[0].get(k, 0) for k in ("up", "gate", "down"))
    assert mlp == routed + shared + dense
    assert counts[0]["router"] == sum(2 * s * arch.d_model * layer.mlp.n_experts
                                      for layer in arch.layers if isinstance(layer.mlp, Moe))


def test_parallel_block_with_one_norm_and_weightless_norms():
    base = read_hf_config(FIXTURES / "llama" / "config.json")
    layer = replace(base.layers[0], norms=1, parallel=True)
    for norm in NormKind:
        arch = shrink(replace(base, layers=(layer,) * 2, norm=norm))
        model = Decoder(arch, np.random.default_rng(0))
        assert model.param_count == tally_params(arch)
        tokens = np.array([[1, 2, 3, 4]])
        full = model.forward(tokens, Counter())
        _, cache = model.prefill(tokens[:, :3], "fp32", Counter())
        assert np.allclose(model.decode_step(tokens[:, 3], cache, Counter()), full[:, -1])


# --- The measured ground truth -------------------------------------------------------------


def pairs(s: int, window: int | None) -> int:
    return sum(min(i, window or i) for i in range(1, s + 1))


@pytest.mark.parametrize("family", MEASURED)
def test_expected_json_is_self_consistent(family):
    e = json.loads((FIXTURES / family / "expected.json").read_text())
    config = raw(family)
    assert e["model_type"] == config["model_type"]
    assert {"transformers", "torch", "attn_implementation"} <= set(e["environment"])
    assert e["environment"]["attn_implementation"] == "eager"
    check_published(e)
    if e["results"] is None:  # parameters only; the reason is recorded, never left implicit
        assert e["results_not_measured"]
        return
    small, large = (e["results"][k] for k in ("128", "1024"))
    for s, r in ((128, small), (1024, large)):
        assert r["decode_context"] == s
        windows = set(e["layer_windows"])
        if len(windows) == 1:
            (w,) = windows
            a = r["attention_matmul_flops"]
            assert r["forward_flops_causal"] == r["forward_flops"] - a + a * pairs(s, w) // s**2
    # Projections are linear in s, attention products quadratic (no window reached here).
    assert large["forward_flops"] - large["attention_matmul_flops"] == 8 * (
        small["forward_flops"] - small["attention_matmul_flops"])
    assert large["attention_matmul_flops"] == 64 * small["attention_matmul_flops"]
    # A decode step: the same projections (MLA also re-expands its T + 1 cached latents
    # through kv_b, an mm that grows with T); attention over T + 1 keys.
    growth = 0
    if "kv_lora_rank" in config:
        growth = (2 * (1025 - 129) * config["kv_lora_rank"] * config["num_attention_heads"]
                  * (config["qk_nope_head_dim"] + config["v_head_dim"])
                  * config["num_hidden_layers"])
    assert (large["decode_flops"] - large["decode_attention_matmul_flops"]
            == small["decode_flops"] - small["decode_attention_matmul_flops"] + growth)
    assert large["decode_attention_matmul_flops"] * 129 == small[
        "decode_attention_matmul_flops"] * 1025
    assert large["kv_cache_bytes"] == 8 * small["kv_cache_bytes"]


def check_published(e: dict) -> None:
    if e.get("active_params") is not None:
        assert e["active_params"] < e["params"]
    published = e.get("published")
    if published:
        if "non_embedding_params" in published:  # exact without the embedding tables
            arch = read_hf_config(FIXTURES / e["family"] / "config.json")
            tables = 1 if arch.tie_embeddings else 2
            assert e["params"] - tables * arch.vocab_size * arch.d_model == published[
                "non_embedding_params"]
        rel = abs(e["params"] - published["params"]) / published["params"]
        assert rel <= published["rounding"], (e["params"], published)
        if "active_params" in published:
            rel = abs(e["active_params"] - published["active_params"]) / published["active_params"]
            assert rel <= published["active_rounding"], (e["active_params"], published)
