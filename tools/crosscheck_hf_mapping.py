"""Cross-check llmsym.architecture and the counting decoder against transformers, every family.

For each supported ``model_type``, a few small configs (different biases, windows, dense
layers, tied or not) are run both ways: transformers builds the model (float32, CPU, random
weights, eager attention and experts) and reports its parameters, per-layer windows, the
FlopCounterMode totals of a prefill of S tokens and of one decode step after it, and the
bytes its cache holds; llmsym reads the same dict with
:func:`llmsym.architecture.from_hf_config` and its counting NumPy decoder does the same
passes (full score matrices, a float32 cache). Every figure must agree exactly. Run in
the measurement virtualenv, from the repository root::

    /work/hfvenv/bin/python tools/crosscheck_hf_mapping.py

This covers the families that have no real-config fixture yet; it is not part of
``make test`` (it needs torch and transformers).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import AutoConfig, AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmsym.architecture import from_hf_config  # noqa: E402
from llmsym.numeric.transformer import Counter, Decoder  # noqa: E402

S = 12  # prefill length: past the window of 8 used by the sliding cases

BASE = dict(hidden_size=64, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
            num_hidden_layers=4, vocab_size=101, max_position_embeddings=64)
MOE = dict(num_experts=6, num_experts_per_tok=2, moe_intermediate_size=24)
MLA = dict(num_key_value_heads=4, kv_lora_rank=16, qk_nope_head_dim=8, qk_rope_head_dim=4,
           v_head_dim=8,
           n_routed_experts=6, n_shared_experts=2, num_experts_per_tok=2,
           moe_intermediate_size=24, n_group=2, topk_group=1)

CASES: list[dict] = [
    dict(model_type="llama", **BASE),
    dict(model_type="llama", **BASE, attention_bias=True, mlp_bias=True, head_dim=24,
         tie_word_embeddings=True),
    dict(model_type="mistral", **BASE),
    dict(model_type="mistral", **BASE, sliding_window=None),
    dict(model_type="mistral", **BASE, sliding_window=8, head_dim=24),
    dict(model_type="mixtral", **BASE, num_local_experts=5, num_experts_per_tok=2),
    dict(model_type="mixtral", **BASE, num_local_experts=5, num_experts_per_tok=2,
         sliding_window=8),
    dict(model_type="qwen2", **BASE),
    dict(model_type="qwen2", **BASE, use_sliding_window=True, sliding_window=8,
         max_window_layers=2, tie_word_embeddings=True),
    dict(model_type="qwen2_moe", **BASE, **MOE, shared_expert_intermediate_size=40),
    dict(model_type="qwen2_moe", **BASE, **MOE, shared_expert_intermediate_size=40,
         decoder_sparse_step=2, mlp_only_layers=[0], use_sliding_window=True,
         sliding_window=8, max_window_layers=3, qkv_bias=False),
    dict(model_type="qwen3", **BASE, head_dim=24),
    dict(model_type="qwen3", **BASE, head_dim=24, attention_bias=True, use_sliding_window=True,
         sliding_window=8, max_window_layers=1),
    dict(model_type="qwen3_moe", **BASE, **MOE, head_dim=24),
    dict(model_type="qwen3_moe", **BASE, **MOE, head_dim=24, mlp_only_layers=[1],
         decoder_sparse_step=1, use_sliding_window=True, sliding_window=8),
    dict(model_type="gemma", **BASE, head_dim=24),
    dict(model_type="gemma", **BASE, head_dim=24, attention_bias=True,
         tie_word_embeddings=False),
    dict(model_type="gemma2", **BASE, head_dim=24, sliding_window=8),
    dict(model_type="gemma2", **BASE, head_dim=24, sliding_window=8,
         layer_types=["full_attention", "sliding_attention", "sliding_attention",
                      "full_attention"]),
    dict(model_type="phi3", **BASE, pad_token_id=0),
    dict(model_type="phi3", **BASE, pad_token_id=0, sliding_window=8, partial_rotary_factor=0.5),
    dict(model_type="falcon", hidden_size=64, num_attention_heads=4, num_hidden_layers=3,
         vocab_size=101),
    dict(model_type="falcon", hidden_size=64, num_attention_heads=4, num_hidden_layers=3,
         vocab_size=101, bias=True, parallel_attn=False, multi_query=False,
         ffn_hidden_size=80, tie_word_embeddings=False),
    dict(model_type="gpt_neox", hidden_size=64, intermediate_size=96, num_attention_heads=4,
         num_hidden_layers=3, vocab_size=101, rotary_pct=0.25),
    dict(model_type="gpt_neox", hidden_size=64, intermediate_size=96, num_attention_heads=4,
         num_hidden_layers=3, vocab_size=101, use_parallel_residual=False,
         attention_bias=False, tie_word_embeddings=True),
    dict(model_type="olmo", **BASE),
    dict(model_type="olmo", **BASE, attention_bias=True, clip_qkv=8.0),
    dict(model_type="starcoder2", **BASE, sliding_window=8),
    dict(model_type="starcoder2", **BASE, use_bias=False, tie_word_embeddings=False),
    dict(model_type="gpt2", n_embd=64, n_head=4, n_layer=3, vocab_size=101, n_positions=64),
    dict(model_type="gpt2", n_embd=64, n_head=4, n_layer=3, vocab_size=101, n_positions=64,
         n_inner=80, tie_word_embeddings=False),
    dict(model_type="deepseek_v2", **{**BASE, **MLA}, q_lora_rank=None, first_k_dense_replace=1),
    dict(model_type="deepseek_v2", **{**BASE, **MLA}, q_lora_rank=12, first_k_dense_replace=2,
         attention_bias=True, mlp_bias=True),
    dict(model_type="deepseek_v3", **{**BASE, **MLA}, q_lora_rank=12, first_k_dense_replace=1),
    dict(model_type="deepseek_v3", **{**BASE, **MLA, "n_shared_experts": 0}, q_lora_rank=None,
         first_k_dense_replace=0, attention_bias=True),
]


def transformers_side(case: dict) -> tuple:
    data = dict(case)
    config = AutoConfig.for_model(data.pop("model_type"), **data)
    config._experts_implementation = "eager"
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager",
                                             dtype=torch.float32).eval()
    n = config.num_hidden_layers
    types = getattr(config, "layer_types", None)
    window = getattr(config, "sliding_window", None) or None
    if types is None:
        windows = [window] * n
    else:
        windows = [window if t == "sliding_attention" else None for t in types]
    ids = torch.randint(0, config.vocab_size, (1, S + 1))
    with torch.no_grad(), FlopCounterMode(display=False) as prefill:
        out = model(ids[:, :S], use_cache=True)
    cache = out.past_key_values
    held = sum(t.numel() * t.element_size() for layer in cache.layers
               for t in (layer.keys, layer.values))
    with torch.no_grad(), FlopCounterMode(display=False) as step:
        model(ids[:, S:], past_key_values=cache, use_cache=True)
    return (sum(p.numel() for p in model.parameters()), windows, prefill.get_total_flops(),
            step.get_total_flops(), held)


def llmsym_side(case: dict) -> tuple:
    arch = from_hf_config(dict(case))
    model = Decoder(arch, np.random.default_rng(0))
    tokens = np.random.default_rng(1).integers(0, arch.vocab_size, size=(1, S + 1))
    prefill, step = Counter(), Counter()
    _, cache = model.prefill(tokens[:, :S], "fp32", prefill)
    held = cache.nbytes
    model.decode_step(tokens[:, S], cache, step)
    return (model.param_count, [layer.attention.window for layer in arch.layers],
            prefill.flops, step.flops, held)


def main() -> int:
    failures = 0
    for case in CASES:
        theirs, ours = transformers_side(case), llmsym_side(case)
        ok = theirs == ours
        failures += not ok
        extra = {k: v for k, v in case.items() if k not in BASE and k != "model_type"}
        names = ("params", "windows", "prefill FLOPs", "decode FLOPs", "cache bytes")
        diff = [f"{k}: {a} vs {b}" for k, a, b in zip(names, theirs, ours, strict=True)
                if a != b]
        print(f"{'ok  ' if ok else 'FAIL'} {case['model_type']:12s} params {theirs[0]:>8,} "
              f"prefill {theirs[2]:>10,} decode {theirs[3]:>8,} cache {theirs[4]:>6,}  {extra}"
              + (f"\n     differs: {diff}" if diff else ""))
    print(f"{len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
