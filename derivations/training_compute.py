"""Training compute (6ND and the attention term) and the memory of mixed-precision Adam.

Statement
    A backward pass costs twice the forward (each product (p x q)(q x r) needs
    two products of the same size for the gradients of its operands), so a
    training token costs 6N + 12 L s h d_h FLOPs and D tokens
        C = 6 N D (1 + 2 L s h d_h / N),
    N being the weight-matrix parameters (LM head included, embedding table
    not). Mixed-precision Adam keeps 14 + g bytes per parameter: 16 with
    half-precision gradients (g = 2), 18 with fp32 gradients, 20 with both.

Run on its own: ``python derivations/training_compute.py``.
"""

import numpy as np
from sympy import Add, Eq, Integer, Mul, Symbol

from llmsym.model import Claim, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Named

# --- Symbols -----------------------------------------------------------------
LATEX = {"matrix_params": "N", "n_layers": "L", "seq": "s", "n_heads": "h", "d_head": "d_h",
         "tokens": "D", "params": "P", "grad_bytes": "g"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


N, L, s, h, d_h, D, P, g = map(size, (
    "matrix_params", "n_layers", "seq", "n_heads", "d_head", "tokens", "params", "grad_bytes"))
F_tok, B_tok, C_tok, C, F_causal, B_param = (Symbol(n, positive=True) for n in (
    r"F_{\mathrm{tok}}", r"B_{\mathrm{tok}}", r"C_{\mathrm{tok}}", "C", r"F_{\mathrm{causal}}",
    r"B_{\mathrm{param}}"))
e_w, e_f = (Symbol(n, positive=True) for n in (r"e_{\mathrm{half}}", r"e_{\mathrm{fp32}}"))

# --- Claims ------------------------------------------------------------------
forward_per_token = Eq(F_tok, 2 * N + 4 * L * s * h * d_h)  # transformer-flops, F_fwd / (b s)

per_token = Claim(
    "per_token",
    "Training FLOPs per token",
    start=C_tok,
    steps=(
        Step(F_tok + B_tok, "a training step is a forward and a backward pass", "definition"),
        Step(F_tok + 2 * F_tok,
             "backward = 2 x forward: for a product $(p \\times q)(q \\times r)$, the gradients "
             "of both operands are products of the same size", "assumption"),
        Step(Mul(3, 2 * N + 4 * L * s * h * d_h, evaluate=False),
             "the forward cost per token, $F_{\\mathrm{fwd}}/(bs) = 2N + 4Lshd_h$ "
             "(transformer-flops)", "expand", using=(forward_per_token,)),
        Step(6 * N + 12 * L * s * h * d_h, "expand", "expand"),
    ),
    note="Exact for the matrix products (see the numeric check); element-wise work is extra.",
)

total = Claim(
    "total",
    "Training compute: 6ND and the attention term",
    start=C,
    steps=(
        Step(D * C_tok, "$D$ training tokens", "definition"),
        Step(D * (6 * N + 12 * L * s * h * d_h), "the cost per token", "expand",
             using=(Eq(C_tok, per_token.end),)),
        Step(6 * N * D * (1 + 2 * L * s * h * d_h / N), "factor $6ND$", "cancel"),
    ),
    note="$N$ counts the weight matrices, LM head included, embedding table not; "
         "$2Lshd_h/N$ is the attention share (examples below).",
)

causal = Claim(
    "causal",
    "With causal counting: Kaplan's attention term",
    start=3 * F_causal / (Symbol("b", positive=True) * s),
    steps=(
        Step(6 * N + 6 * L * (s + 1) * h * d_h,
             "$F_{\\mathrm{causal}} = 2bsN + 2bLhd_hs(s+1)$ (transformer-flops); three passes",
             "cancel",
             using=(Eq(F_causal, 2 * Symbol("b", positive=True) * s * N
                       + 2 * Symbol("b", positive=True) * L * h * d_h * s * (s + 1)),)),
    ),
    on_sheet=False,
    note="Kaplan et al.'s $6N + 6 n_{layer} n_{ctx} d_{attn}$ per token: their attention term "
         "is the useful causal work, half of the full count $12Lshd_h$.",
)

adam_bytes = Claim(
    "adam_bytes",
    "Mixed-precision Adam: bytes per parameter",
    start=B_param,
    steps=(
        Step(Add(e_w, g, e_f, e_f, e_f, evaluate=False),
             "half-precision weights, gradients of $g$ bytes, and in fp32 the master weights "
             "and Adam's first and second moments", "definition"),
        Step(14 + g, "$e_{\\mathrm{half}} = 2$, $e_{\\mathrm{fp32}} = 4$", "expand",
             using=(Eq(e_w, 2), Eq(e_f, 4))),
    ),
    note="$g = 2$: 16 bytes (ZeRO's $2 + 2 + 12$); $g = 4$ (fp32 gradients): 18; $g = 6$ "
         "(half gradients and an fp32 accumulation buffer): 20. Activations are extra.",
)


# --- Numeric checks ----------------------------------------------------------


def check_backward(rng: np.random.Generator) -> Measurement:
    """Record a NumPy decoder's products, run their gradient products, count everything."""
    from llmsym.numeric.transformer import Counter, Decoder, backward, random_config

    worst, cases = 0, 30
    for _ in range(cases):
        config = random_config(rng)
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        tokens = rng.integers(0, config.vocab_size, size=(batch, seq))
        fwd = Counter(tape=[])
        Decoder(config, rng).forward(tokens, fwd)
        bwd = Counter()
        backward(fwd.tape, bwd, rng)
        n_mat = config.n_layers * (2 * config.d_model * config.d_head
                                   * (config.n_heads + config.n_kv_heads)
                                   + (3 if config.ffn == "swiglu" else 2) * config.d_model
                                   * config.d_ff) + config.d_model * config.vocab_size
        values = dict(matrix_params=n_mat, n_layers=config.n_layers, seq=seq,
                      n_heads=config.n_heads, d_head=config.d_head)
        per_tok = int(per_token.end.xreplace({x: Integer(values[x.name])
                                              for x in per_token.end.free_symbols}))
        worst = max(worst, abs(bwd.flops - 2 * fwd.flops),
                    abs(fwd.flops + bwd.flops - batch * seq * per_tok))
    return Measurement(float(worst), cases, 0.0,
                       "counted backward products = 2 x forward, and forward + backward = "
                       "bs(6N + 12Lshd_h), exact, for random NumPy decoders")


def check_adam_state(rng: np.random.Generator) -> Measurement:
    """Allocate the optimizer state of a NumPy decoder and weigh it in bytes."""
    from llmsym.numeric.transformer import Decoder, random_config

    worst, cases = 0, 0
    for grads in (("fp16",), ("fp32",), ("fp16", "fp32")):
        for _ in range(5):
            model = Decoder(random_config(rng), rng)
            state = []
            for w in model.weights.values():
                state += [w.astype(np.float16)]  # weights used in the passes
                state += [w.astype(np.float16 if k == "fp16" else np.float32) for k in grads]
                state += [w.astype(np.float32) for _ in range(3)]  # master, m, v
            g_bytes = sum(2 if k == "fp16" else 4 for k in grads)
            expected = model.param_count * int(adam_bytes.end.subs(g, g_bytes))
            worst, cases = max(worst, abs(sum(a.nbytes for a in state) - expected)), cases + 1
    return Measurement(float(worst), cases, 0.0,
                       "nbytes of weights, gradients, master copy and Adam moments of NumPy "
                       "decoders vs P(14 + g) for g = 2, 4, 6")


def example_share():
    from llmsym.presets import load_preset

    parts = []
    for name in ("gpt2", "llama-2-7b"):
        c = load_preset(name)
        n_mat = c.n_layers * (2 * c.d_model * c.d_head * (c.n_heads + c.n_kv_heads)
                              + (3 if c.ffn == "swiglu" else 2) * c.d_model * c.d_ff) \
            + c.d_model * c.vocab_size
        share = 2 * c.n_layers * c.max_positions * c.n_heads * c.d_head / n_mat
        parts.append(rf"\text{{{name}, }} s = {c.max_positions}\colon\ 2Lshd_h/N = {share:.1%}")
    return ("Attention's share of training compute at full context",
            r",\quad ".join(parts).replace("%", r"\%"))


# --- The derivation ------------------------------------------------------------
DERIVATION = Derivation(
    id="training-compute",
    title="Training compute and optimizer memory",
    topic="Compute and memory",
    order=72,
    gloss="Backward costs twice the forward: $6N$ per token plus $12Lshd_h$ for attention; "
          "Adam in mixed precision keeps 16 bytes per parameter.",
    assumptions=(
        "Every operand of every matrix product needs its gradient (weights are trained, "
        "activations descend from the trained embedding); no activation recomputation.",
        "Mixed precision: weights and gradients in bf16/fp16, a fp32 master copy and fp32 Adam "
        "moments; activations and temporary buffers are not counted.",
    ),
    claims=(per_token, total, causal, adam_bytes),
    results=(
        Result("training_flops_per_token", per_token.end, (N, L, s, h, d_h),
               "FLOPs of forward and backward per training token, attention in full",
               units="FLOPs", claim="per_token", integer=True),
        Result("training_flops", total.end, (N, L, s, h, d_h, D),
               "FLOPs of training on D tokens of sequences of s tokens", units="FLOPs",
               claim="total", integer=True),
        Result("training_state_bytes", P * adam_bytes.end, (P, g),
               "bytes of weights, gradients (g bytes each) and Adam state in mixed precision",
               units="bytes", claim="adam_bytes", integer=True),
    ),
    checks=(
        NumericCheck("backward_count", check_backward,
                     "Gradient products of 30 random NumPy decoders, counted: exactly twice the "
                     "forward, and $bs(6N + 12Lshd_h)$ in all."),
        NumericCheck("adam_state", check_adam_state,
                     "Optimizer state allocated in NumPy weighs $P(14 + g)$ bytes."),
    ),
    notation={N: "weight-matrix parameters", D: "training tokens", P: "all parameters",
              g: "bytes per gradient (2, 4 or 6)"},
    sources=(
        "Kaplan et al. 2020 (arXiv 2001.08361), section 2.1: $C \\approx 6ND$ with "
        "$C_{\\mathrm{forward}} \\approx 2N + 2n_{layer}n_{ctx}d_{attn}$.",
        "Chowdhery et al. 2022, PaLM (arXiv 2204.02311), appendix B: $6N + 12LHQT$ per token.",
        "Rajbhandari et al. 2020, ZeRO (arXiv 1910.02054), section 3.1: 16 bytes per parameter "
        "for mixed-precision Adam.",
    ),
    examples=(example_share,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
