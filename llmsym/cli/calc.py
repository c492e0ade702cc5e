"""``llmsym calc``: FLOPs, parameters, memory and roofline figures for a model config.

Only click and the standard library are imported here, so ``llmsym --help``
stays fast; the work is in :mod:`llmsym.reuse.calc`, which evaluates verified
results through :mod:`llmsym.results` (configured here from the common options).
"""

from __future__ import annotations

import click

from .options import (
    build_dir_option,
    complete_dtypes,
    complete_gpus,
    complete_presets,
    derivations_option,
    no_cache_option,
    quiet_option,
)
from .output import Output


@click.command("calc", context_settings={"help_option_names": ["-h", "--help"],
                                         "max_content_width": 100})
@click.option("--preset", metavar="NAME", shell_complete=complete_presets,
              help="A shipped model: llama3.1-8b, mistral-7b-v0.1, mixtral-8x7b, "
                   "qwen2.5-7b-instruct, qwen3-8b, qwen3-30b-a3b, codegemma-7b-it, gemma-2-2b-it, "
                   "phi-4, gpt2-large, falcon-7b-instruct, pythia-1b, deepseek-v3 (their Hugging "
                   "Face configs); gpt2, llama-2-7b, llama-3-8b, tinyllama-1.1b.")
@click.option("--config", "config_file", metavar="FILE.json",
              help="A Hugging Face config.json (model_type llama, mistral, mixtral, qwen2, "
                   "qwen2_moe, qwen3, qwen3_moe, gemma, gemma2, phi3, falcon, gpt_neox, olmo, "
                   "starcoder2, gpt2, deepseek_v2, deepseek_v3), or llmsym's JSON with n_layers, "
                   "d_model, n_heads, n_kv_heads, d_ff, vocab_size, ffn (gelu|swiglu), "
                   "tie_embeddings, bias, norm (layernorm|rmsnorm), positional (learned|rope), "
                   "max_positions.")
@click.option("--seq", metavar="S", help="Tokens per sequence [default: max_positions].")
@click.option("--batch", metavar="B", help="Sequences [default: 1].")
@click.option("--dtype", default="bf16", show_default=True, metavar="fp32|bf16|fp16|fp8",
              shell_complete=complete_dtypes,
              help="Element format of weights, activations and cache.")
@click.option("--decode-context", "context", metavar="T",
              help="Tokens already cached before the decode step [default: S - 1].")
@click.option("--gpu", metavar="NAME", shell_complete=complete_gpus,
              help="h100-sxm (default), h200-sxm, b200, a100-80gb-sxm, a100-40gb-sxm, l40s, "
                   "mi300x, l4: memory, dense peak FLOP/s and bandwidth from the datasheets.")
@click.option("--recompute", default="none", show_default=True, metavar="none|selective|full",
              help="Activation recomputation in training (Korthikanti et al. 2022): what each "
                   "layer keeps for its backward pass.")
@click.option("--zero-stage", "zero_stage", metavar="0-3",
              help="ZeRO stage sharding weights, gradients and Adam state [default: 0].")
@click.option("--gpus", metavar="N", help="Data-parallel GPUs sharing the ZeRO state, and "
                                          "the GPUs behind --measured-tokens-per-s [default: 1].")
@click.option("--measured-tokens-per-s", "tokens_per_s", metavar="X",
              help="Measured training throughput: gives MFU by PaLM's 6N + 12LHQT convention.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (exact integers) instead of a table.")
@derivations_option
@no_cache_option
@build_dir_option
@quiet_option
def calc(preset, config_file, seq, batch, dtype, context, gpu, recompute, zero_stage, gpus,
         tokens_per_s, as_json, extra_dirs, no_cache, build_dir, quiet) -> None:
    """FLOPs, parameters, KV cache, memory and roofline figures of a decoder.

    Every number is a verified closed form from the derivations
    (architecture-counts, training-memory, serving, transformer-flops,
    transformer-params, kv-cache-memory, training-compute, roofline, chinchilla),
    evaluated layer by layer in exact integer arithmetic for counts; they are
    verified first if the check cache does not hold them.

    \b
    Examples:
      llmsym calc --preset llama-3-8b --seq 8192 --batch 4
      llmsym calc --config config.json --dtype fp8 --gpu h100-sxm --json
      llmsym calc --preset mixtral-8x7b --recompute selective --zero-stage 3 --gpus 8

    Exit status 2 on bad input (the message names the field or option).
    """
    from ..reuse import results
    from ..reuse.calc import run
    from .commands import build_folder
    from .options import cache_problem, check_folders

    out = Output(quiet=quiet)
    check_folders(extra_dirs)
    problem = "" if no_cache else cache_problem(build_folder(build_dir))
    if problem:
        out.problem(f"llmsym: warning: {problem}")
    results.configure(build_dir=build_folder(build_dir), extra_dirs=extra_dirs,
                      use_cache=not no_cache, progress=out.progress("verified"))
    try:
        text = run(preset, config_file, seq, batch, dtype, context, gpu, as_json, recompute,
                   zero_stage, gpus, tokens_per_s)
    finally:
        out.clear()
        results.configure()
    out.result(text)
