"""FLOPs of a decoder-only transformer: a forward pass, its causal useful work, one decode step.

Statement
    Counting 2 FLOPs per multiply-accumulate of every matrix product (an
    (p x q)(q x r) product costs 2pqr, the convention of PyTorch's
    FlopCounterMode), one forward pass over b sequences of s tokens costs
        F_fwd = 2 b s N + 4 b s^2 L h d_h,
    N = L (2 d h d_h + 2 d h_kv d_h + m d d_ff) + d V being the parameters of
    the weight matrices that multiply activations. Counting only the pairs a
    causal mask keeps (query i sees keys 1..i) replaces s^2 by s(s+1)/2 twice:
        F_causal = 2 b s N + 2 b L h d_h s (s + 1).
    One decode step after t cached tokens (the new token attends to t + 1
    positions) costs F_dec = b (2N + 4 L (t + 1) h d_h).

Run on its own: ``python derivations/transformer_flops.py``.
"""

import numpy as np
from sympy import Integer, Sum, Symbol

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Named, Notation, unfold

# --- Symbols -----------------------------------------------------------------
# Each size is named like the keyword of the exported function and printed short.
LATEX = {
    "batch": "b",
    "seq": "s",
    "n_layers": "L",
    "d_model": "d",
    "n_heads": "h",
    "n_kv_heads": "h_{kv}",
    "d_head": "d_h",
    "ffn_matrices": "m",
    "d_ff": "d_{ff}",
    "vocab_size": "V",
    "context": "t",
    "bias": r"[\mathrm{bias}]",
}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


b, s, L, d, h, h_kv, d_h, m, d_ff, V = map(
    size,
    (
        "batch",
        "seq",
        "n_layers",
        "d_model",
        "n_heads",
        "n_kv_heads",
        "d_head",
        "ffn_matrices",
        "d_ff",
        "vocab_size",
    ),
)
t = Named(
    "context", LATEX["context"], integer=True, nonnegative=True
)  # tokens already in the KV cache
bias = Named("bias", LATEX["bias"], integer=True, nonnegative=True)  # 1 with biases, 0 without
i = Symbol("i", integer=True, positive=True)  # query position
F_fwd, F_causal, F_dec, E_fwd = (
    Symbol(n, positive=True)
    for n in (r"F_{\mathrm{fwd}}", r"F_{\mathrm{causal}}", r"F_{\mathrm{dec}}", r"E_{\mathrm{fwd}}")
)


# --- Notation ------------------------------------------------------------------
class mm(Notation):  # noqa: N801 - a name read as "matrix multiply"
    """``mm(p, q, r)``: FLOPs of a (p x q)(q x r) product, 2 per multiply-accumulate."""

    nargs = 3

    @classmethod
    def definition(cls, p, q, r):
        return 2 * p * q * r

    def _latex(self, printer) -> str:
        return r"\mathcal{M}(%s)" % ", ".join(printer._print(a) for a in self.args)


class WeightParams(Notation):  # noqa: N801
    """N: entries of the weight matrices that multiply activations (LM head included)."""

    nargs = 8

    @classmethod
    def definition(cls, L, d, h, h_kv, d_h, m, d_ff, V):
        return L * (2 * d * h * d_h + 2 * d * h_kv * d_h + m * d * d_ff) + d * V

    def _latex(self, printer) -> str:
        return "N"

    def _sympystr(self, printer) -> str:
        return "N"


N = WeightParams(L, d, h, h_kv, d_h, m, d_ff, V)


def layer_products(seqs, queries, keys):
    """The products of one layer: ``seqs`` sequences of ``queries`` new tokens seeing ``keys``.

    Projections Q (h heads), K and V (h_kv heads each), then per sequence and
    head the scores QK^T and the context AV, the output projection, and the m
    MLP matrices.
    """
    rows = seqs * queries
    return (
        mm(rows, d, h * d_h)
        + 2 * mm(rows, d, h_kv * d_h)
        + seqs * h * (mm(queries, d_h, keys) + mm(queries, keys, d_h))
        + mm(rows, h * d_h, d)
        + m * mm(rows, d, d_ff)
    )


# --- Claims ------------------------------------------------------------------
forward = Claim(
    "forward",
    "Forward pass, attention counted in full",
    start=F_fwd,
    steps=(
        Step(
            L * layer_products(b, s, s) + mm(b * s, d, V),
            "sum the products of every layer (per head: $QK^\\top$ is "
            "$(s \\times d_h)(d_h \\times s)$, "
            "$AV$ is $(s \\times s)(s \\times d_h)$) and the LM head over all $bs$ positions",
            "definition",
        ),
        Step(
            L
            * (
                2 * b * s * d * h * d_h
                + 4 * b * s * d * h_kv * d_h
                + 4 * b * h * s**2 * d_h
                + 2 * b * s * h * d_h * d
                + 2 * m * b * s * d * d_ff
            )
            + 2 * b * s * d * V,
            "2 FLOPs per multiply-accumulate: $\\mathcal{M}(p, q, r) = 2pqr$",
            "unfold",
        ),
        Step(
            2 * b * s * N + 4 * b * s**2 * L * h * d_h,
            "collect the weight products into $N$",
            "unfold+expand",
        ),
    ),
    note="With $h d_h = d$ (every preset) the projections cost $2d^2 + 2d^2 h_{kv}/h$ per token "
    "and layer, and the attention term is $4bs^2Ld$.",
)

causal_pairs = Claim(
    "causal_pairs",
    "A causal mask keeps s(s+1)/2 query-key pairs",
    start=Sum(i, (i, 1, s)),
    steps=(Step(s * (s + 1) / 2, "query $i$ sees keys $1..i$; Gauss's sum", "doit"),),
    on_sheet=False,
)

forward_causal = Claim(
    "forward_causal",
    "Forward pass, useful causal work",
    start=F_causal,
    steps=(
        Step(
            2 * b * s * N + b * L * h * Sum(mm(1, d_h, i) + mm(1, i, d_h), (i, 1, s)),
            "as the full count, but query $i$ multiplies only its $i$ visible keys, "
            "then its $i$ probabilities by $i$ values",
            "definition",
        ),
        Step(
            2 * b * s * N + 2 * b * L * h * d_h * s * (s + 1),
            "unfold the products; sum the pairs: $4 d_h \\sum_{i=1}^{s} i = 2 d_h s(s+1)$",
            "unfold+doit",
        ),
    ),
    note="Not $s^2/2$: the diagonal counts. A dense kernel that masks after computing "
    "does the full $4bs^2Lhd_h$, which is what FlopCounterMode reports.",
)

decode = Claim(
    "decode",
    "One decode step with t cached tokens",
    start=F_dec,
    steps=(
        Step(
            b * (L * layer_products(1, 1, t + 1) + mm(1, d, V)),
            "one new row per sequence; each head's query meets $t + 1$ keys and values "
            "(the cache and its own)",
            "definition",
        ),
        Step(
            b * (2 * N + 4 * L * (t + 1) * h * d_h),
            "unfold and collect the weight products into $N$",
            "unfold+expand",
        ),
    ),
    note="Every weight is used once per token: $2N$; only the attention term grows with $t$.",
)

elementwise = Claim(
    "elementwise",
    "Element-wise work, kept apart",
    start=E_fwd,
    steps=(
        Step(
            L
            * (
                b * h * s**2
                + 2 * b * s * d
                + (m - 1) * b * s * d_ff
                + bias * b * s * (h * d_h + 2 * h_kv * d_h + d + (m - 1) * d_ff + d)
            )
            + b * s * d,
            "elements entering a softmax (every score), a norm (two per layer and a final one), "
            "the activation (GELU: 1 input, SwiGLU: SiLU and the gate product) and a bias add",
            "definition",
        ),
        Step(
            b
            * s
            * (
                L
                * (
                    h * s
                    + 2 * d
                    + (m - 1) * d_ff
                    + bias * ((h + 2 * h_kv) * d_h + 2 * d + (m - 1) * d_ff)
                )
                + d
            ),
            "factor $bs$",
            "expand",
        ),
    ),
    on_sheet=False,
    note="Multiply by the per-element cost of your kernels; it is never added to the FLOPs above.",
)


# --- Numeric checks ------------------------------------------------------------


def exact(expr, **values: int) -> int:
    """A closed form at integer sizes, in exact arithmetic (independent of any float)."""
    expr = unfold(expr)
    return int(expr.xreplace({sym: Integer(values[sym.name]) for sym in expr.free_symbols}))


def sizes_of(config, **extra: int) -> dict[str, int]:
    """The closed forms' keywords for a counting-decoder configuration."""
    return dict(
        n_layers=config.n_layers,
        d_model=config.d_model,
        n_heads=config.n_heads,
        n_kv_heads=config.n_kv_heads,
        d_head=config.d_head,
        d_ff=config.d_ff,
        vocab_size=config.vocab_size,
        ffn_matrices=3 if config.ffn == "swiglu" else 2,
        bias=int(config.bias),
        **extra,
    )


def check_forward(rng: np.random.Generator) -> Measurement:
    """Count every product of a NumPy decoder's forward pass: full, useful-causal, element-wise."""
    from llmsym.numeric.transformer import Counter, Decoder, random_config

    worst, cases = 0, 40
    for _ in range(cases):
        config = random_config(rng)
        model = Decoder(config, rng)
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        tokens = rng.integers(0, config.vocab_size, size=(batch, seq))
        full, useful = Counter(), Counter()
        model.forward(tokens, full)
        model.forward(tokens, useful, useful_only=True)
        n = sizes_of(config, batch=batch, seq=seq)
        worst = max(
            worst,
            abs(full.flops - exact(forward.end, **n)),
            abs(useful.flops - exact(forward_causal.end, **n)),
            abs(sum(full.elements.values()) - exact(elementwise.end, **n)),
        )
    return Measurement(
        float(worst),
        cases,
        0.0,
        "FLOPs counted in a NumPy decoder (MHA/GQA/MQA, GELU/SwiGLU, tied or not, "
        "biases or not) vs the closed forms, exact integers",
    )


def check_decode(rng: np.random.Generator) -> Measurement:
    """Prefill t tokens into a KV cache, then count the products of one more token."""
    from llmsym.numeric.transformer import Counter, Decoder, random_config

    worst, cases = 0, 40
    for _ in range(cases):
        config = random_config(rng)
        model = Decoder(config, rng)
        batch, cached = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        tokens = rng.integers(0, config.vocab_size, size=(batch, cached + 1))
        _, cache = model.prefill(tokens[:, :cached], "fp32", Counter())
        step = Counter()
        model.decode_step(tokens[:, cached], cache, step)
        expected = exact(decode.end, **sizes_of(config, batch=batch, context=cached))
        worst = max(worst, abs(step.flops - expected))
    return Measurement(
        float(worst),
        cases,
        0.0,
        "FLOPs counted in one cached decode step vs b(2N + 4L(t+1)hd_h), exact",
    )


# --- Worked example ------------------------------------------------------------


def example_llama():
    from llmsym.presets import load_preset

    c = load_preset("llama-2-7b")
    n = dict(c.sizes(), batch=1, seq=2048)
    return (
        "Llama-2-7B, one forward pass over 2048 tokens (full count)",
        rf"F_{{\mathrm{{fwd}}}} = {exact(forward.end, **n):,} \approx "
        rf"{exact(forward.end, **n) / 1e12:.1f}\,\mathrm{{TFLOP}}".replace(",", "{,}"),
    )


# --- The derivation ------------------------------------------------------------
SIZES = (L, d, h, h_kv, d_h, m, d_ff, V)

DERIVATION = Derivation(
    id="transformer-flops",
    title="FLOPs of a decoder forward pass and a decode step",
    topic="Compute and memory",
    order=70,
    gloss="Two FLOPs per multiply-accumulate, summed over every matrix product: weights cost "
    "$2N$ per token, attention $4sLhd_h$ per token in full, about half of it with a "
    "causal mask.",
    assumptions=(
        "A pre-norm decoder: per layer Q, K, V and output projections, then an MLP of $m$ "
        "matrices of size $d \\times d_{ff}$ ($m = 2$ for GELU, $m = 3$ for SwiGLU).",
        "$h$ query heads and $h_{kv}$ key/value heads of width $d_h$ (MHA: $h_{kv} = h$; "
        "GQA: $h_{kv} \\mid h$; MQA: $h_{kv} = 1$); the LM head projects every position "
        "onto $V$ logits.",
        "Only matrix products are counted as FLOPs; the embedding lookup is free.",
    ),
    definitions=(
        Definition(
            "matrix product",
            mm(Symbol("p"), Symbol("q"), Symbol("r")),
            mm.definition(Symbol("p"), Symbol("q"), Symbol("r")),
            "FLOPs of a $(p \\times q)(q \\times r)$ product",
        ),
        Definition("weight parameters", N, unfold(N)),
    ),
    claims=(forward, causal_pairs, forward_causal, decode, elementwise),
    results=(
        Result(
            "matrix_params",
            unfold(N),
            SIZES,
            "entries of the weight matrices that multiply activations, LM head included",
            units="parameters",
            claim="forward",
            integer=True,
        ),
        Result(
            "forward_flops",
            unfold(forward.end),
            (b, s, *SIZES),
            "FLOPs of one forward pass, attention counted in full (FlopCounterMode)",
            units="FLOPs",
            claim="forward",
            integer=True,
        ),
        Result(
            "forward_flops_causal",
            unfold(forward_causal.end),
            (b, s, *SIZES),
            "FLOPs of one forward pass counting only the query-key pairs a causal mask keeps",
            units="FLOPs",
            claim="forward_causal",
            integer=True,
        ),
        Result(
            "decode_flops",
            unfold(decode.end),
            (b, t, *SIZES),
            "FLOPs of one decode step for b sequences after t cached tokens",
            units="FLOPs",
            claim="decode",
            integer=True,
        ),
        Result(
            "forward_elementwise",
            unfold(elementwise.end),
            (b, s, *SIZES, bias),
            "elements entering softmax, norms, activations and bias additions in one forward pass",
            units="elements",
            claim="elementwise",
            integer=True,
        ),
    ),
    checks=(
        NumericCheck(
            "forward_count",
            check_forward,
            "A NumPy decoder whose every matrix product is counted, 40 random "
            "configurations: full, causal and element-wise counts match exactly.",
        ),
        NumericCheck(
            "decode_count",
            check_decode,
            "One decode step after prefilling a KV cache, 40 random configurations: "
            "counted FLOPs match exactly.",
        ),
    ),
    notation={
        b: "batch size (sequences)",
        s: "tokens per sequence",
        L: "layers",
        d: "model width",
        h: "query heads",
        h_kv: "key/value heads",
        d_h: "head width",
        m: "MLP matrices: 2 (GELU) or 3 (SwiGLU)",
        d_ff: "MLP hidden width",
        V: "vocabulary size",
        t: "tokens already in the KV cache",
        "N": "weight-matrix parameters (no embedding lookup, norms or biases)",
    },
    sources=(
        "PyTorch, torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per multiply-accumulate.",
        "Kaplan et al. 2020, Scaling Laws for Neural Language Models (arXiv 2001.08361), "
        "section 2.1 "
        "and Table 1: per-token forward cost $2N + 2 n_{layer} n_{ctx} d_{attn}$.",
        "Ainslie et al. 2023 (GQA, arXiv 2305.13245); Shazeer 2019 (MQA, arXiv 1911.02150).",
    ),
    remarks=(
        "Kaplan's attention term $2 n_{layer} n_{ctx} d_{attn}$ is half of the full count "
        "$4 L s h d_h$ per token here: close to the useful causal work.",
    ),
    examples=(),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
