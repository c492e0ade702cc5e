"""The exact parameter count of a decoder-only transformer, and its three named variants.

Statement
    N, the number of model parameters (all of them: Hoffmann et al.'s N), is
    defined as the sum of the model's parameter arrays: the token embedding,
    learned positions, L layers, the final norm and an LM head unless tied.
    With indicators [tied], [learned], [bias] in {0, 1} and n_norm vectors per
    norm (LayerNorm 2, RMSNorm 1), summing over the layers proves
        N = (2 - [tied]) V d + [learned] n_pos d + n_norm d + L N_layer,
        N_layer = 2 d d_h (h + h_kv) + n_ff d d_ff + 2 n_norm d
                  + [bias] ((h + 2 h_kv) d_h + (n_ff - 1) d_ff + 2 d).
    Kaplan et al.'s non-embedding count N_ne = L (2 d d_h (h + h_kv) + n_ff d d_ff)
    keeps only the layers' weight matrices, and the weight matrices of the FLOP
    counts are N_mat = N_ne + d V (the LM head multiplies, even when tied):
        N = N_ne + (2 - [tied]) V d + [learned] n_pos d + (2L + 1) n_norm d + [bias] L (...).

Run on its own: ``python derivations/transformer_params.py``.
"""

import numpy as np
from sympy import Integer, Le, Sum, Symbol

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Result,
    Step,
)
from llmsym.notation import Named, factors, group, terms, unfold

# --- Symbols -----------------------------------------------------------------
# The same names print the same way in every compute-and-memory derivation.
LATEX = {"n_layers": "L", "d_model": "d", "n_heads": "h", "n_kv_heads": "h_{kv}",
         "d_head": "d_{h}", "ffn_matrices": r"n_{\mathrm{ff}}", "d_ff": "d_{ff}",
         "vocab_size": "V", "max_positions": r"n_{\mathrm{pos}}",
         "norm_vectors": r"n_{\mathrm{norm}}", "tied": r"[\mathrm{tied}]",
         "learned_positions": r"[\mathrm{learned}]", "bias": r"[\mathrm{bias}]",
         "matrix_params": r"N_{\mathrm{mat}}", "nonembedding_params": r"N_{\mathrm{ne}}",
         "params": "N", "layer_params": r"N_{\mathrm{layer}}"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


def indicator(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, nonnegative=True)


L, d, h, h_kv, d_h, n_ff, d_ff, V, n_pos, n_norm = map(size, (
    "n_layers", "d_model", "n_heads", "n_kv_heads", "d_head", "ffn_matrices", "d_ff",
    "vocab_size", "max_positions", "norm_vectors"))
tied, learned, bias = map(indicator, ("tied", "learned_positions", "bias"))
N, N_layer, N_mat, N_ne = map(size, ("params", "layer_params", "matrix_params",
                                     "nonembedding_params"))
ell = Symbol(r"\ell", integer=True, positive=True)  # layer index




# --- Premises ------------------------------------------------------------------
INDICATORS = tuple(Hypothesis(Le(x, 1), f"${LATEX[x.name]} \\in \\{{0, 1\\}}$")
                   for x in (tied, learned, bias))

# --- Definitions -------------------------------------------------------------------
BIASES = group(factors(group(h, 2 * h_kv), d_h), factors(group(n_ff, -1), d_ff), 2 * d)
LAYER = Definition(
    "parameters of one layer", N_layer,
    terms(factors(d, h, d_h), factors(2, d, h_kv, d_h), factors(h, d_h, d),
          factors(bias, group(factors(h, d_h), factors(2, h_kv, d_h), d)),
          factors(n_ff, d, d_ff), factors(bias, group(factors(group(n_ff, -1), d_ff), d)),
          factors(2, n_norm, d)),
    "$W_Q$; $W_K$ and $W_V$; $W_O$; their biases; the $n_{\\mathrm{ff}}$ MLP matrices; their "
    "biases ($n_{\\mathrm{ff}} - 1$ of width $d_{ff}$, one of width $d$); two norms")
TOTAL_DEF = Definition(
    "parameters", N,
    terms(factors(V, d), factors(learned, n_pos, d), Sum(N_layer, (ell, 1, L)),
          factors(n_norm, d), factors(group(1, -tied), V, d)),
    "token embedding; learned positions; the $L$ layers; the final norm; an LM head unless "
    "it is the embedding matrix")
NE = Definition("non-embedding parameters", N_ne,
                factors(L, group(factors(2, d, d_h, group(h, h_kv)), factors(n_ff, d, d_ff))),
                "Kaplan et al.'s $N$: the layers' weight matrices only")
MAT = Definition("weight-matrix parameters", N_mat, terms(N_ne, factors(d, V)),
                 "the matrices that multiply activations: the layers' and the LM head")

# --- Claims ------------------------------------------------------------------
params = Claim(
    "params",
    "Parameters, exactly",
    given=INDICATORS,
    start=N,
    steps=(
        Step(TOTAL_DEF.rhs, "the parameter arrays, one by one", "definition"),
        Step(terms(factors(group(2, -tied), V, d), factors(learned, n_pos, d),
                   factors(n_norm, d), factors(L, N_layer)),
             "the $L$ layers are alike: $\\sum_{\\ell=1}^{L} N_{\\mathrm{layer}} = "
             "L N_{\\mathrm{layer}}$; the embedding and the untied head are $(2 - "
             "[\\mathrm{tied}])Vd$", "doit"),
    ),
    note="$n_{\\mathrm{ff}} = 2$ (GELU: up, down) or 3 (SwiGLU: gate, up, down); "
    "$n_{\\mathrm{norm}} = 2$ (LayerNorm: scale and shift) or 1 (RMSNorm: scale).",
)

layer = Claim(
    "layer",
    "Parameters of one layer",
    given=(INDICATORS[2],),
    start=N_layer,
    steps=(
        Step(terms(factors(2, d, d_h, group(h, h_kv)), factors(n_ff, d, d_ff),
                   factors(2, n_norm, d), factors(bias, BIASES)),
             "definition; collect", "definition+expand"),
    ),
    on_sheet=False,
)

TOTAL = terms(factors(group(2, -tied), V, d), factors(learned, n_pos, d), factors(n_norm, d),
              factors(L, group(*layer.end.args)))

total = Claim(
    "total",
    "Parameters in the model's sizes",
    given=INDICATORS,
    start=N,
    steps=(Step(TOTAL, "$N$ with the parameters of one layer", "unfold+expand",
                using=(params, layer)),),
    on_sheet=False,
)

variants = Claim(
    "variants",
    "All parameters against Kaplan's non-embedding count",
    given=INDICATORS,
    start=N,
    steps=(
        Step(TOTAL, "the count above", "unfold+expand", using=(total,)),
        Step(terms(N_ne, factors(group(2, -tied), V, d), factors(learned, n_pos, d),
                   factors(group(2 * L, 1), n_norm, d), factors(bias, L, BIASES)),
             "$N_{\\mathrm{ne}}$ keeps the layers' weight matrices; embeddings, LM head, "
             "norms and biases are the rest", "definition+expand"),
    ),
    note="For GPT-2 small $N \\approx 1.47 N_{\\mathrm{ne}}$ (worked example): say which $N$ a "
    "formula means. $6ND$ (Hoffmann et al.) uses $N$; Kaplan et al.'s laws use $N_{\\mathrm{ne}}$.",
    on_sheet=False,
)

matrices = Claim(
    "matrices",
    "The weight matrices of the FLOP count",
    start=N_mat,
    steps=(Step(terms(N_ne, factors(d, V)), "definition", "definition"),),
    on_sheet=False,
    note="The LM head multiplies activations even when it is tied to the embedding, which is "
    "only looked up: $N_{\\mathrm{mat}}$ counts it once.",
)


# --- Numeric checks ----------------------------------------------------------


def exact(expr, **values: int) -> int:
    """A closed form at integer sizes, in exact arithmetic."""
    expr = unfold(expr)
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


def array_counts(model) -> dict[str, int]:
    """Counts read off a NumPy decoder's arrays: all of them, layer 0's, its weight matrices."""
    w, n_layers = model.weights, model.config.n_layers
    layer0 = {k: a for k, a in w.items() if k.startswith("layer0.")}
    matrices = sum(a.size for k, a in w.items() if k.startswith("layer") and a.ndim == 2)
    return dict(params=model.param_count, layer_params=sum(a.size for a in layer0.values()),
                nonembedding_params=matrices, n_layers=n_layers)


def _decoders(rng: np.random.Generator, cases: int):
    from llmsym.numeric.transformer import Decoder, random_config

    for _ in range(cases):
        config = random_config(rng)
        yield config, Decoder(config, rng)


def _compare(rng, formula, cases: int, counted: str) -> int:
    """Largest gap between a count read off random decoders' arrays and the formula."""
    worst = 0
    for config, model in _decoders(rng, cases):
        values = {**param_sizes(config), **array_counts(model)}
        got = formula(**{k: values[k] for k in formula.params})
        worst = max(worst, abs(int(got) - values[counted]))
    return worst


def check_layer(rng: np.random.Generator, formula) -> Measurement:
    """The arrays of layer 0 of random NumPy decoders, counted, against N_layer."""
    worst = _compare(rng, formula, 20, "layer_params")
    return Measurement(float(worst), 20, 0.0,
                       "sizes of layer 0's arrays in 20 random NumPy decoders vs N_layer, exact")


def check_params(rng: np.random.Generator, formula) -> Measurement:
    """All parameter arrays of random decoders against N (N_layer counted from layer 0)."""
    worst = _compare(rng, formula, 20, "params")
    return Measurement(float(worst), 20, 0.0,
                       "sum of parameter-array sizes of 20 random NumPy decoders vs N, exact")


def check_variants(rng: np.random.Generator, formula) -> Measurement:
    """N from N_ne (the layers' 2-D arrays, counted) plus the rest, against all arrays."""
    worst = _compare(rng, formula, 20, "params")
    return Measurement(float(worst), 20, 0.0,
                       "N_ne counted from the layers' matrices of 20 NumPy decoders, plus the rest,"
                       " vs all their arrays, exact")


PUBLISHED = {  # total parameters as reported for the released checkpoints
    "gpt2": 124_439_808,
    "llama-2-7b": 6_738_415_616,
    "llama-3-8b": 8_030_261_248,
    "tinyllama-1.1b": 1_100_048_384,
}


def check_published(rng: np.random.Generator, formula) -> Measurement:
    """The closed form at the shipped presets against the published parameter counts."""
    from llmsym.presets import load_preset

    worst = 0
    for name, count in PUBLISHED.items():
        values = param_sizes(load_preset(name))
        worst = max(worst, abs(int(formula(**{k: values[k] for k in formula.params})) - count))
    # the presets pair [tied] with [learned]; random decoders separate every indicator
    worst = max(worst, _compare(rng, formula, 10, "params"))
    return Measurement(float(worst), len(PUBLISHED) + 10, 0.0,
                       "N at the configs of GPT-2 small, Llama-2-7B, Llama-3-8B, "
                       "TinyLlama-1.1B vs their published totals, and at 10 random NumPy decoders "
                       "vs their arrays")


def _num(x: int) -> str:
    return f"{x:,}".replace(",", "{,}")


def example_counts():
    from llmsym.presets import load_preset

    rows = []
    for name in ("gpt2", "llama-3-8b"):
        n = param_sizes(load_preset(name))
        total, ne = exact(TOTAL, **n), exact(NE.rhs, **n)
        mat = ne + n["d_model"] * n["vocab_size"]
        rows.append(rf"\text{{{name}}}\colon N = {_num(total)},\ N_{{\mathrm{{ne}}}} = "
                    rf"{_num(ne)},\ N_{{\mathrm{{mat}}}} = {_num(mat)}")
    return "The three counts at two shipped presets", r";\quad ".join(rows)


# --- The derivation ------------------------------------------------------------
PARAMS = (L, d, h, h_kv, d_h, n_ff, d_ff, V, n_pos, n_norm, tied, learned, bias)

DERIVATION = Derivation(
    id="transformer-params",
    title="Parameters of a decoder, exactly",
    topic="Compute and memory",
    order=71,
    gloss="Embeddings, attention and MLP matrices, norms and biases, added up exactly; "
          "reproduces the published totals of GPT-2 and the Llama family, and names the "
          "counts papers mean by $N$.",
    assumptions=(
        "A pre-norm decoder with two norms per layer and a final norm; biases, when present, "
        "on every projection (attention and MLP) but not on the LM head.",
        "GQA/MQA: $h_{kv}$ key/value heads of width $d_{h}$; learned positions add an "
        "$n_{\\mathrm{pos}} \\times d$ table, RoPE adds no parameters.",
    ),
    definitions=(TOTAL_DEF, LAYER, MAT, NE),  # a definition before those it uses
    claims=(params, layer, total, variants, matrices),
    results=(
        Result("params", unfold(TOTAL), PARAMS, "trainable parameters of the decoder",
               units="parameters", claim="total", integer=True),
        Result("nonembedding_params", unfold(NE.rhs), (L, d, h, h_kv, d_h, n_ff, d_ff),
               "Kaplan et al.'s non-embedding parameters: the layers' weight matrices",
               units="parameters", claim="variants", integer=True),
    ),
    checks=(
        NumericCheck("layer", check_layer, "Sizes of layer 0's arrays in 20 random NumPy "
                     "decoders (every variant) equal $N_{\\mathrm{layer}}$.", claim="layer"),
        NumericCheck("counted", check_params, "Sizes of all parameter arrays of 20 random "
                     "NumPy decoders add up to $N$ exactly.", claim="params"),
        NumericCheck("variants", check_variants, "$N_{\\mathrm{ne}}$ counted from the layers' "
                     "matrices of 20 NumPy decoders plus the rest equals all their arrays.",
                     claim="variants"),
        NumericCheck("published", check_published,
                     "$N$ reproduces the published totals: GPT-2 small 124,439,808; Llama-2-7B "
                     "6,738,415,616; Llama-3-8B 8,030,261,248; "
                     "TinyLlama-1.1B 1,100,048,384 (and the arrays of 10 random NumPy "
                     "decoders).", claim="total"),
    ),
    notation={n_pos: "rows of the learned position table",
              n_norm: "vectors per norm: 2 (LayerNorm) or 1 (RMSNorm)",
              tied: "1 when the LM head is the embedding matrix, else 0",
              learned: "1 for a learned position table, else 0",
              N_layer: "parameters of one layer"},
    examples=(example_counts,),
    sources=(
        "Radford et al. 2019 (GPT-2) and the Hugging Face config.json of each checkpoint "
        "(openai-community/gpt2, meta-llama/Llama-2-7b-hf, meta-llama/Meta-Llama-3-8B, "
        "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T).",
        "Kaplan et al. 2020 (arXiv 2001.08361), section 2.1 and Table 1: $N$ excludes the "
        "vocabulary and position embeddings, $N \\approx 2 d_{model} n_{layer} (2 d_{attn} + "
        "d_{ff})$.",
        "Hoffmann et al. 2022 (arXiv 2203.15556): $N$ counts all parameters.",
    ),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
