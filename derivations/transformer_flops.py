"""FLOPs of a decoder-only transformer: a forward pass, its causal useful work, one decode step.

Statement
    By the convention of PyTorch's FlopCounterMode, a (n1 x n2)(n2 x n3) matrix
    product costs M(n1, n2, n3) = 2 n1 n2 n3 FLOPs (2 per multiply-accumulate).
    Each count below is *defined* as the sum of M over the products a decoder
    runs (listed per layer, per head and for the LM head) and the sum is then
    proved to be the closed form:
        F_fwd    = 2 b s N_mat + 4 b s^2 L h d_h          (attention in full),
        F_causal = 2 b s N_mat + 2 b L h d_h s (s + 1)    (only the pairs a mask keeps),
        F_dec    = b (2 N_mat + 4 L (s_c + 1) h d_h)      (one token after s_c cached),
    with N_mat = L (2 d d_h (h + h_kv) + n_ff d d_ff) + d V the weight-matrix
    parameters (LM head included, embedding lookup not). The list of products
    is confirmed by counting what a NumPy decoder actually multiplies.

Run on its own: ``python derivations/transformer_flops.py``.
"""

import numpy as np
from sympy import Integer, Sum, Symbol

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Step,
)
from llmsym.notation import Named, Notation, factors, group, terms, unfold

# --- Symbols -----------------------------------------------------------------
# Each size is named like the keyword of the exported function and printed short; the
# same names print the same way in every compute-and-memory derivation.
LATEX = {
    "batch": "b",
    "seq": "s",
    "n_layers": "L",
    "d_model": "d",
    "n_heads": "h",
    "n_kv_heads": "h_{kv}",
    "d_head": "d_{h}",
    "ffn_matrices": r"n_{\mathrm{ff}}",
    "d_ff": "d_{ff}",
    "vocab_size": "V",
    "context": r"s_{\mathrm{c}}",
    "bias": r"[\mathrm{bias}]",
    "matrix_params": r"N_{\mathrm{mat}}",
}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


b, s, L, d, h, h_kv, d_h, n_ff, d_ff, V = map(size, (
    "batch", "seq", "n_layers", "d_model", "n_heads", "n_kv_heads", "d_head", "ffn_matrices",
    "d_ff", "vocab_size"))
s_c = Named("context", LATEX["context"], integer=True, nonnegative=True)  # tokens in the cache
bias = Named("bias", LATEX["bias"], integer=True, nonnegative=True)  # 1 with biases, 0 without
N_mat = size("matrix_params")
ell = Symbol(r"\ell", integer=True, positive=True)  # layer index
j = Symbol("j", integer=True, positive=True)  # query-head index
i = Symbol("i", integer=True, positive=True)  # query position
n1, n2, n3 = (Symbol(f"n_{k}", integer=True, positive=True) for k in (1, 2, 3))
F_fwd, F_causal, F_dec, E_fwd = (Symbol(name, integer=True, positive=True) for name in (
    r"F_{\mathrm{fwd}}", r"F_{\mathrm{causal}}", r"F_{\mathrm{dec}}", r"E_{\mathrm{fwd}}"))


# --- Notation ------------------------------------------------------------------
class mm(Notation):  # noqa: N801 - read as "matrix multiply"
    """``mm(n1, n2, n3)``: FLOPs of an (n1 x n2)(n2 x n3) product, 2 per multiply-accumulate."""

    nargs = 3

    @classmethod
    def definition(cls, p, q, r):
        return 2 * p * q * r

    def _latex(self, printer) -> str:
        return r"\mathcal{M}(%s)" % ", ".join(printer._print(a) for a in self.args)




# --- Definitions -------------------------------------------------------------------
HD, HKV = factors(h, d_h), factors(h_kv, d_h)  # widths of all query heads, of all K/V heads


def projections(rows):
    """Q (h heads), K and V (h_kv heads each) and the output projection, for ``rows`` tokens."""
    return (mm(rows, d, HD), 2 * mm(rows, d, HKV), mm(rows, HD, d))


def mlp(rows):
    return factors(n_ff, mm(rows, d, d_ff))


def layer(rows, per_head):
    """One layer: projections, ``per_head`` summed over the h query heads, the MLP."""
    q, kv, o = projections(rows)
    return group(q, kv, Sum(per_head, (j, 1, h)), o, mlp(rows))


def decoder(rows, per_head):
    """L layers and the LM head (every row is projected onto V logits)."""
    return terms(Sum(layer(rows, per_head), (ell, 1, L)), mm(rows, d, V))


MM = Definition("matrix product FLOPs", mm(n1, n2, n3), mm.definition(n1, n2, n3),
                "2 FLOPs per multiply-accumulate of an $(n_1 \\times n_2)(n_2 \\times n_3)$ "
                "product, the convention of FlopCounterMode; a schoolbook product performs "
                "$n_1 n_3 (2 n_2 - 1)$ operations")
N_MAT = Definition("weight-matrix parameters", N_mat,
                   terms(factors(L, group(factors(2, d, d_h, group(h, h_kv)),
                                          factors(n_ff, d, d_ff))), factors(d, V)),
                   "the matrices that multiply activations: per layer $W_Q$, $W_K$, $W_V$, "
                   "$W_O$ and the MLP, then the LM head; the embedding lookup multiplies nothing")
# Per head: scores Q K^T, (s x d_h)(d_h x s), and context P V, (s x s)(s x d_h), per sequence;
# causally, query i meets only i keys; a decode step's query meets s_c + 1 keys.
FULL_HEAD = factors(b, group(mm(s, d_h, s), mm(s, s, d_h)))
CAUSAL_HEAD = factors(b, Sum(group(mm(1, d_h, i), mm(1, i, d_h)), (i, 1, s)))
DEC_HEAD = factors(b, group(mm(1, d_h, s_c + 1), mm(1, s_c + 1, d_h)))
FWD = Definition("forward FLOPs", F_fwd,
                 decoder(b * s, FULL_HEAD),
                 "every product of a forward pass over $b$ sequences of $s$ tokens")
CAUSAL = Definition("causal FLOPs", F_causal,
                    decoder(b * s, CAUSAL_HEAD),
                    "the products a causal mask leaves useful")
DEC = Definition("decode FLOPs", F_dec,
                 decoder(b, DEC_HEAD),
                 "every product of one decode step for $b$ sequences")
ELEM = Definition("element-wise work", E_fwd,
                  L * (b * h * s**2 + 2 * b * s * d + (n_ff - 1) * b * s * d_ff
                       + bias * b * s * (h * d_h + 2 * h_kv * d_h + d + (n_ff - 1) * d_ff + d))
                  + b * s * d,
                  "elements entering a softmax (every score), a norm (two per layer and a final "
                  "one), the activation (GELU: one input; SwiGLU: SiLU and the gate product) "
                  "and a bias addition")

# --- Claims ------------------------------------------------------------------
forward = Claim(
    "forward",
    "Forward pass, attention counted in full",
    start=F_fwd,
    steps=(
        Step(decoder(b * s, FULL_HEAD),
             "the products of the $L$ layers (per head $j$: $QK^\\top$ and $PV$ for each of "
             "the $b$ sequences) and the LM head", "definition"),
        Step(terms(factors(L, group(*projections(b * s)[:2],
                                    factors(h, b, group(mm(s, d_h, s), mm(s, s, d_h))),
                                    projections(b * s)[2], mlp(b * s))), mm(b * s, d, V)),
             "no summand depends on $\\ell$ or $j$: the sums are $L$ and $h$ copies",
             "unfold+doit"),
        Step(terms(factors(2, b, s, N_mat), factors(4, b, s**2, L, h, d_h)),
             "$\\mathcal{M}(n_1, n_2, n_3) = 2n_1n_2n_3$; collect the weight products into "
             "$N_{\\mathrm{mat}}$", "definition+sum"),
    ),
    where=(MM,),
    note="With $hd_{h} = d$ the projections cost $4d^2 + 4d^2h_{kv}/h$ FLOPs per token and layer "
    "($W_Q$ and $W_O$: $2d^2$ each; $W_K$ and $W_V$: $2d^2h_{kv}/h$ each), $8d^2$ without "
    "grouping, and the attention term is $4bs^2Ld$.",
)

forward_causal = Claim(
    "forward_causal",
    "Forward pass, useful causal work",
    start=F_causal,
    steps=(
        Step(decoder(b * s, CAUSAL_HEAD),
             "as the full count, but query $i$ multiplies only the $i$ keys it may see, then "
             "its $i$ probabilities by $i$ values", "definition"),
        Step(terms(factors(2, b, s, N_mat), factors(2, b, L, h, d_h, s, s + 1)),
             "$\\mathcal{M} = 2n_1n_2n_3$; Gauss: $\\sum_{i=1}^{s} 4d_h i = 2d_h s(s+1)$; "
             "collect into $N_{\\mathrm{mat}}$", "definition+doit"),
    ),
    where=(MM,),
    note="Not $s^2/2$: the diagonal counts. A dense kernel that masks after computing "
    "does the full $4bs^2Lhd_h$, which is what FlopCounterMode reports.", on_sheet=False,
)

decode = Claim(
    "decode",
    "One decode step after $s_{\\mathrm{c}}$ cached tokens",
    start=F_dec,
    steps=(
        Step(decoder(b, DEC_HEAD),
             "one new row per sequence; each head's query meets $s_{\\mathrm{c}} + 1$ keys and "
             "values (the cache and its own)", "definition"),
        Step(factors(b, group(2 * N_mat, factors(4, L, s_c + 1, h, d_h))),
             "$L$ and $h$ equal summands; $\\mathcal{M} = 2n_1n_2n_3$; collect into "
             "$N_{\\mathrm{mat}}$", "definition+doit"),
    ),
    where=(MM,),
    note="Every weight is used once per token ($2N_{\\mathrm{mat}}$); only the attention term "
    "grows with the context.",
)

elementwise = Claim(
    "elementwise",
    "Element-wise work, kept apart",
    start=E_fwd,
    steps=(
        Step(b * s * (L * (h * s + 2 * d + (n_ff - 1) * d_ff
                           + bias * ((h + 2 * h_kv) * d_h + 2 * d + (n_ff - 1) * d_ff)) + d),
             "the elements entering softmax, norms, activations and bias additions; factor $bs$",
             "definition+sum"),
    ),
    on_sheet=False,
    note="Multiply by the per-element cost of your kernels; it is never added to the FLOPs above.",
)


# --- Numeric checks ------------------------------------------------------------


def exact(expr, **values: int) -> int:
    """A closed form at integer sizes, in exact arithmetic (independent of any float)."""
    expr = unfold(expr)
    return int(expr.xreplace({sym: Integer(values[sym.name]) for sym in expr.free_symbols}))


def matrix_params(model) -> int:
    """N_mat of a NumPy decoder, read from the sizes of its weight arrays (LM head included)."""
    c, w = model.config, model.weights
    names = ("q", "k", "v", "o", "up", "down") + (("gate",) if c.ffn == "swiglu" else ())
    layers = sum(w[f"layer{k}.{name}"].size for k in range(c.n_layers) for name in names)
    return layers + (w["embed"].size if c.tie_embeddings else w["lm_head"].size)


def sizes_of(model, **extra: int) -> dict[str, int]:
    """The closed forms' keywords for a counting decoder."""
    c = model.config
    return dict(n_layers=c.n_layers, d_model=c.d_model, n_heads=c.n_heads,
                n_kv_heads=c.n_kv_heads, d_head=c.d_head, d_ff=c.d_ff, vocab_size=c.vocab_size,
                ffn_matrices=3 if c.ffn == "swiglu" else 2, bias=int(c.bias),
                matrix_params=matrix_params(model), **extra)


def _models(rng: np.random.Generator, cases: int):
    """Random decoders (MHA/GQA/MQA, GELU/SwiGLU, tied or not, biases or not) and token batches."""
    from llmsym.numeric.transformer import Decoder, random_config

    for _ in range(cases):
        model = Decoder(random_config(rng), rng)
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        yield model, batch, seq, rng.integers(0, model.config.vocab_size, size=(batch, seq))


def _pick(kwargs: dict, formula) -> dict:
    return {k: kwargs[k] for k in formula.params}


def check_forward(rng: np.random.Generator, formula) -> Measurement:
    """FLOPs a NumPy decoder's forward pass executes (full attention) against F_fwd."""
    from llmsym.numeric.transformer import Counter

    worst, cases = 0, 10
    for model, batch, seq, tokens in _models(rng, cases):
        counter = Counter()
        model.forward(tokens, counter)
        want = formula(**_pick(sizes_of(model, batch=batch, seq=seq), formula))
        worst = max(worst, abs(counter.flops - want))
    return Measurement(float(worst), cases, 0.0,
                       "FLOPs executed by 10 random NumPy decoders (every variant) vs F_fwd, exact")


def check_causal(rng: np.random.Generator, formula) -> Measurement:
    """FLOPs of a forward pass that multiplies each query by its visible keys only."""
    from llmsym.numeric.transformer import Counter

    worst, cases = 0, 10
    for model, batch, seq, tokens in _models(rng, cases):
        counter = Counter()
        model.forward(tokens, counter, useful_only=True)
        want = formula(**_pick(sizes_of(model, batch=batch, seq=seq), formula))
        worst = max(worst, abs(counter.flops - want))
    return Measurement(float(worst), cases, 0.0,
                       "FLOPs of row-by-row causal attention in 10 NumPy decoders vs F_causal")


def check_decode(rng: np.random.Generator, formula) -> Measurement:
    """Prefill a KV cache, then count the products of one more token per sequence."""
    from llmsym.numeric.transformer import Counter

    worst, cases = 0, 10
    for model, batch, seq, tokens in _models(rng, cases):
        cached = seq - 1
        _, cache = model.prefill(tokens[:, :cached], "fp32", Counter())
        step = Counter()
        model.decode_step(tokens[:, cached], cache, step)
        want = formula(**_pick(sizes_of(model, batch=batch, context=cached), formula))
        worst = max(worst, abs(step.flops - want))
    return Measurement(float(worst), cases, 0.0,
                       "FLOPs of one cached decode step in 10 NumPy decoders vs F_dec, exact")


def check_elementwise(rng: np.random.Generator, formula) -> Measurement:
    """Elements entering softmax, norms, activations and bias additions, tallied by the decoder."""
    from llmsym.numeric.transformer import Counter

    worst, cases = 0, 10
    for model, batch, seq, tokens in _models(rng, cases):
        counter = Counter()
        model.forward(tokens, counter)
        want = formula(**_pick(sizes_of(model, batch=batch, seq=seq), formula))
        worst = max(worst, abs(sum(counter.elements.values()) - want))
    return Measurement(float(worst), cases, 0.0,
                       "element-wise inputs tallied in 10 NumPy decoders vs E_fwd, exact")


# --- Worked example ------------------------------------------------------------


def example_llama():
    from llmsym.presets import load_preset

    n = dict(load_preset("llama-2-7b").sizes(), batch=1, seq=2048)
    flops = exact(unfold(forward.end).xreplace({N_mat: N_MAT.rhs}), **n)
    return (
        "Llama-2-7B, one forward pass over 2048 tokens (full count)",
        rf"F_{{\mathrm{{fwd}}}} = {flops:,}".replace(",", "{,}")
        + rf" \approx {flops / 1e12:.1f}\,\mathrm{{TFLOP}}",
    )


# --- The derivation ------------------------------------------------------------
SIZES = (L, d, h, h_kv, d_h, n_ff, d_ff, V)


def _in_sizes(expr):
    """A closed form with N_mat written out in the model's sizes (what the results take)."""
    return unfold(expr).xreplace({N_mat: unfold(N_MAT.rhs)})


DERIVATION = Derivation(
    id="transformer-flops",
    title="FLOPs of a decoder forward pass and a decode step",
    topic="Compute and memory",
    order=70,
    gloss="Two FLOPs per multiply-accumulate, summed over every matrix product: weights cost "
    "$2N_{\\mathrm{mat}}$ per token, attention $4sLhd_{h}$ per token in full, about half of it "
    "with a causal mask.",
    assumptions=(
        "A pre-norm decoder: per layer Q, K, V and output projections, then an MLP of "
        "$n_{\\mathrm{ff}}$ matrices of size $d \\times d_{ff}$ ($n_{\\mathrm{ff}} = 2$ for GELU, "
        "3 for SwiGLU).",
        "$h$ query heads and $h_{kv}$ key/value heads of width $d_{h}$ (MHA: $h_{kv} = h$; "
        "GQA: $h_{kv} \\mid h$; MQA: $h_{kv} = 1$); the LM head projects every position "
        "onto $V$ logits.",
        "Only matrix products are counted as FLOPs; the embedding lookup is free; element-wise "
        "work is counted apart, in elements.",
    ),
    definitions=(MM, N_MAT, FWD, CAUSAL, DEC, ELEM),
    claims=(forward, forward_causal, decode, elementwise),
    results=(
        Result("matrix_params", unfold(N_MAT.rhs), SIZES,
               "entries of the weight matrices that multiply activations, LM head included",
               units="parameters", claim="forward", integer=True),
        Result("forward_flops", _in_sizes(forward.end), (b, s, *SIZES),
               "FLOPs of one forward pass, attention counted in full (FlopCounterMode)",
               units="FLOPs", claim="forward", integer=True),
        Result("forward_flops_causal", _in_sizes(forward_causal.end), (b, s, *SIZES),
               "FLOPs of one forward pass counting only the query-key pairs a causal mask keeps",
               units="FLOPs", claim="forward_causal", integer=True),
        Result("decode_flops", _in_sizes(decode.end), (b, s_c, *SIZES),
               "FLOPs of one decode step for b sequences after `context` cached tokens",
               units="FLOPs", claim="decode", integer=True),
        Result("forward_elementwise", unfold(elementwise.end), (b, s, *SIZES, bias),
               "elements entering softmax, norms, activations and bias additions in one forward "
               "pass", units="elements", claim="elementwise", integer=True),
    ),
    checks=(
        NumericCheck("forward_count", check_forward, "FLOPs executed by the forward pass of 10 "
                     "random NumPy decoders equal $F_{\\mathrm{fwd}}$ exactly.", claim="forward"),
        NumericCheck("causal_count", check_causal, "FLOPs of row-by-row causal attention in 10 "
                     "NumPy decoders equal $F_{\\mathrm{causal}}$ exactly.",
                     claim="forward_causal"),
        NumericCheck("decode_count", check_decode, "One decode step after prefilling a KV cache, "
                     "10 NumPy decoders: counted FLOPs equal $F_{\\mathrm{dec}}$ exactly.",
                     claim="decode"),
        NumericCheck("elementwise_count", check_elementwise, "Element-wise inputs tallied in 10 "
                     "NumPy decoders equal $E_{\\mathrm{fwd}}$ exactly.", claim="elementwise"),
    ),
    notation={
        n1: "rows of $A$", n2: "columns of $A$, rows of $B$", n3: "columns of $B$",
        F_causal: "FLOPs of a forward pass, only the query-key pairs a causal mask keeps",
        F_dec: "FLOPs of one decode step for $b$ sequences",
        E_fwd: "elements entering element-wise operations in a forward pass",
    },
    sources=(
        "PyTorch, torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per multiply-accumulate.",
        "Kaplan et al. 2020, Scaling Laws for Neural Language Models (arXiv 2001.08361), "
        "section 2.1 and Table 1: per-token forward cost $2N + 2 n_{layer} n_{ctx} d_{attn}$.",
        "Ainslie et al. 2023 (GQA, arXiv 2305.13245); Shazeer 2019 (MQA, arXiv 1911.02150).",
    ),
    remarks=(
        "Kaplan's attention term $2 n_{layer} n_{ctx} d_{attn}$ per token is half of the full "
        "count $4 L s h d_{h}$ here: close to the useful causal work.",
    ),
    examples=(example_llama,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
