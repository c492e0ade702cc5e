"""``llmsym calc``: FLOPs, parameters, memory and roofline figures for a model config.

Only click and the standard library are imported here, so ``llmsym --help``
stays fast; the work is in :mod:`llmsym.calc`. Registered in the CLI with
``main.add_command(calc)``.
"""

from __future__ import annotations

import sys

import click


@click.command("calc", context_settings={"help_option_names": ["-h", "--help"],
                                         "max_content_width": 100})
@click.option("--preset", metavar="NAME",
              help="A shipped model: gpt2, llama-2-7b, llama-3-8b, mistral-7b, tinyllama-1.1b.")
@click.option("--config", "config_file", metavar="FILE.json",
              help="A JSON config with n_layers, d_model, n_heads, n_kv_heads, d_ff, vocab_size, "
                   "ffn (gelu|swiglu), tie_embeddings, bias, norm (layernorm|rmsnorm), "
                   "positional (learned|rope), max_positions.")
@click.option("--seq", metavar="S", help="Tokens per sequence [default: max_positions].")
@click.option("--batch", metavar="B", help="Sequences [default: 1].")
@click.option("--dtype", default="bf16", show_default=True, metavar="fp32|bf16|fp16|fp8",
              help="Element format of weights, activations and cache.")
@click.option("--decode-context", "context", metavar="T",
              help="Tokens already cached before the decode step [default: S - 1].")
@click.option("--gpu", metavar="NAME",
              help="a100-80gb-sxm, a100-40gb-sxm, h100-sxm (default), h200-sxm, l4.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (exact integers) instead of a table.")
def calc(preset, config_file, seq, batch, dtype, context, gpu, as_json) -> None:
    """FLOPs, parameters, KV cache, memory and roofline figures of a decoder.

    Every number is a verified closed form from the derivations
    (transformer-flops, transformer-params, kv-cache-memory, training-compute,
    roofline, chinchilla), evaluated in exact integer arithmetic for counts.

    \b
    Examples:
      llmsym calc --preset llama-3-8b --seq 8192 --batch 4
      llmsym calc --config my_model.json --dtype fp8 --gpu h100-sxm --json

    Exit status 2 on bad input (the message names the field or option).
    """
    from ..errors import UserError

    try:
        from ..reuse.calc import run

        click.echo(run(preset, config_file, seq, batch, dtype, context, gpu, as_json))
    except UserError as exc:
        click.echo(f"llmsym: error: {exc}", err=True)
        sys.exit(exc.exit_code)
