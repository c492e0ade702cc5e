"""The exact parameter count of a decoder-only transformer.

Statement
    With indicators [tied], [learned], [bias] in {0, 1} and nu norm vectors
    per normalisation (LayerNorm 2, RMSNorm 1),
        P = (2 - [tied]) V d + [learned] n_pos d + nu d
            + L (2 d d_h (h + h_kv) + m d d_ff + 2 nu d
                 + [bias] ((h + 2 h_kv) d_h + (m - 1) d_ff + 2 d)),
    and P differs from the weight-matrix count N of the FLOP formulas by the
    embedding table (or nothing, when tied), positions, norms and biases.

Run on its own: ``python derivations/transformer_params.py``.
"""

import numpy as np
from sympy import Eq, Integer, Symbol

from llmsym.model import Claim, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Named

# --- Symbols -----------------------------------------------------------------
LATEX = {"n_layers": "L", "d_model": "d", "n_heads": "h", "n_kv_heads": "h_{kv}",
         "d_head": "d_h", "ffn_matrices": "m", "d_ff": "d_{ff}", "vocab_size": "V",
         "max_positions": r"n_{\mathrm{pos}}", "norm_vectors": r"\nu",
         "tied": r"[\mathrm{tied}]", "learned_positions": r"[\mathrm{learned}]",
         "bias": r"[\mathrm{bias}]", "matrix_params": "N"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


def indicator(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, nonnegative=True)


L, d, h, h_kv, d_h, m, d_ff, V, n_pos, nu = map(size, (
    "n_layers", "d_model", "n_heads", "n_kv_heads", "d_head", "ffn_matrices", "d_ff",
    "vocab_size", "max_positions", "norm_vectors"))
tied, learned, bias = map(indicator, ("tied", "learned_positions", "bias"))
N = size("matrix_params")
P = Symbol("P", positive=True)

# --- Claims ------------------------------------------------------------------
per_layer = (
    d * h * d_h + 2 * d * h_kv * d_h + h * d_h * d  # W_Q, W_K, W_V, W_O
    + bias * (h * d_h + 2 * h_kv * d_h + d)  # their biases
    + m * d * d_ff + bias * ((m - 1) * d_ff + d)  # MLP matrices and biases
    + 2 * nu * d  # the norms before attention and before the MLP
)

P_layer = Named("layer_params", r"P_{\ell}", integer=True, positive=True)
per_layer_collected = (2 * d * d_h * (h + h_kv) + m * d * d_ff + 2 * nu * d
                       + bias * ((h + 2 * h_kv) * d_h + (m - 1) * d_ff + 2 * d))

layer = Claim(
    "layer",
    "Parameters of one layer",
    start=P_layer,
    steps=(
        Step(per_layer, "projections $W_Q, W_K, W_V, W_O$ and their biases, the MLP matrices "
             "and biases, and the two norms", "definition"),
        Step(per_layer_collected, "collect", "expand"),
    ),
)

params = Claim(
    "params",
    "Parameters, exactly",
    start=P,
    steps=(
        Step(V * d + learned * n_pos * d + L * P_layer + nu * d + (1 - tied) * V * d,
             "token embedding, learned positions, $L$ layers, the final norm, and an LM head "
             "unless tied to the embedding", "definition"),
        Step((2 - tied) * V * d + learned * n_pos * d + nu * d + L * P_layer, "collect", "expand"),
    ),
    note="$m = 2$ (GELU: up, down) or 3 (SwiGLU: gate, up, down); $\\nu = 2$ (LayerNorm: "
         "scale and shift) or 1 (RMSNorm: scale).",
)

# The total in the model's sizes alone: what the result exports and the checks count.
TOTAL = params.end.subs(P_layer, per_layer_collected)

versus_matrices = Claim(
    "versus_matrices",
    "Parameters against the weight matrices of the FLOP count",
    start=params.end,
    steps=(
        Step(params.end.subs(P_layer, per_layer_collected), "the parameters of one layer",
             "expand", using=(Eq(P_layer, per_layer_collected),)),
        Step(N + (1 - tied) * V * d + learned * n_pos * d + (2 * L + 1) * nu * d
             + bias * L * ((h + 2 * h_kv) * d_h + (m - 1) * d_ff + 2 * d),
             "with $N = L(2dd_h(h + h_{kv}) + m d d_{ff}) + dV$ from transformer-flops: the LM "
             "head multiplies even when tied; the lookup, norms and biases do not",
             "expand", using=(Eq(N, L * (2 * d * d_h * (h + h_kv) + m * d * d_ff) + d * V),)),
    ),
    on_sheet=False,
    note="So $6ND$ with this $N$ counts the LM head but not the embedding table.",
)

# --- Numeric checks ----------------------------------------------------------


def exact(expr, **values: int) -> int:
    """A closed form at integer sizes, in exact arithmetic."""
    return int(expr.xreplace({sym: Integer(values[sym.name]) for sym in expr.free_symbols}))


def param_sizes(config) -> dict[str, int]:
    """The keywords of the parameter count for a configuration (counting decoder or preset)."""
    return dict(n_layers=config.n_layers, d_model=config.d_model, n_heads=config.n_heads,
                n_kv_heads=config.n_kv_heads, d_head=config.d_head, d_ff=config.d_ff,
                vocab_size=config.vocab_size, max_positions=config.max_positions,
                ffn_matrices=3 if config.ffn == "swiglu" else 2,
                norm_vectors=2 if config.norm == "layernorm" else 1,
                tied=int(config.tie_embeddings),
                learned_positions=int(config.positional == "learned"),
                bias=int(config.bias))


def check_counted(rng: np.random.Generator) -> Measurement:
    """Build NumPy decoders of random shape and add up the sizes of their parameter arrays."""
    from llmsym.numeric.transformer import Decoder, random_config

    worst, cases = 0, 60
    for _ in range(cases):
        config = random_config(rng)
        counted = Decoder(config, rng).param_count
        worst = max(worst, abs(counted - exact(TOTAL, **param_sizes(config))))
    return Measurement(float(worst), cases, 0.0,
                       "sum of parameter-array sizes of random NumPy decoders vs P, exact")


PUBLISHED = {  # total parameters as reported for the released checkpoints
    "gpt2": 124_439_808,
    "llama-2-7b": 6_738_415_616,
    "llama-3-8b": 8_030_261_248,
    "mistral-7b": 7_241_732_096,
    "tinyllama-1.1b": 1_100_048_384,
}


def check_published(rng: np.random.Generator) -> Measurement:
    """The closed form at the shipped presets against the published parameter counts."""
    from llmsym.presets import load_preset

    worst = max(abs(exact(TOTAL, **param_sizes(load_preset(name))) - count)
                for name, count in PUBLISHED.items())
    return Measurement(float(worst), len(PUBLISHED), 0.0,
                       "P at the configs of GPT-2 small, Llama-2-7B, Llama-3-8B, Mistral-7B, "
                       "TinyLlama-1.1B vs their published totals")


def example_published():
    from llmsym.presets import load_preset

    rows = [rf"\text{{{name}}}\colon {exact(TOTAL, **param_sizes(load_preset(name))):,}"
            for name in ("gpt2", "llama-3-8b")]
    return ("The closed form at two shipped presets", r",\quad ".join(rows).replace(",", "{,}"))


# --- The derivation ------------------------------------------------------------
PARAMS = (L, d, h, h_kv, d_h, m, d_ff, V, n_pos, nu, tied, learned, bias)

DERIVATION = Derivation(
    id="transformer-params",
    title="Parameters of a decoder, exactly",
    topic="Compute and memory",
    order=71,
    gloss="Embeddings, attention and MLP matrices, norms and biases, added up exactly; "
          "reproduces the published totals of GPT-2 and the Llama family.",
    assumptions=(
        "A pre-norm decoder with two norms per layer and a final norm; biases, when present, "
        "on every projection (attention and MLP) but not on the LM head.",
        "GQA/MQA: $h_{kv}$ key/value heads of width $d_h$; learned positions add an "
        "$n_{\\mathrm{pos}} \\times d$ table, RoPE adds no parameters.",
    ),
    claims=(layer, params, versus_matrices),
    results=(
        Result("params", TOTAL, PARAMS, "trainable parameters of the decoder",
               units="parameters", claim="params", integer=True),
    ),
    checks=(
        NumericCheck("counted", check_counted,
                     "Sizes of the parameter arrays of 60 random NumPy decoders (every variant) "
                     "add up to $P$ exactly."),
        NumericCheck("published", check_published,
                     "$P$ reproduces the published totals: GPT-2 small 124,439,808; Llama-2-7B "
                     "6,738,415,616; Llama-3-8B 8,030,261,248; Mistral-7B 7,241,732,096; "
                     "TinyLlama-1.1B 1,100,048,384."),
    ),
    notation={n_pos: "rows of the learned position table", nu: "vectors per norm: 2 or 1",
              tied: "1 when the LM head is the embedding matrix",
              learned: "1 for learned positions",
              bias: "1 when projections have biases", m: "MLP matrices: 2 (GELU) or 3 (SwiGLU)"},
    examples=(example_published,),
    sources=(
        "Radford et al. 2019 (GPT-2) and the Hugging Face config.json of each checkpoint "
        "(openai-community/gpt2, meta-llama/Llama-2-7b-hf, meta-llama/Meta-Llama-3-8B, "
        "mistralai/Mistral-7B-v0.1, TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T).",
    ),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
