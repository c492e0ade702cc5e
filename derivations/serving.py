"""Serving on one GPU: how much KV cache fits, the bytes a pass moves, and MFU.

Statement
    On a GPU of M_GPU bytes holding N parameters of B_w bytes, the memory left
    for caches is M_free = M_GPU - B_w N. Dividing it by the bytes m of one unit
    (one token's keys and values in every layer, or one sequence's whole cache),
    M_free = n_fit m + r with 0 <= r <= m - 1, gives n_fit = floor(M_free / m) units:
    n_fit m <= M_free, and one more unit does not fit, (n_fit + 1) m >= M_free + 1.
    A pass moves at least Q_step = B_w N_read + M_KV bytes (the matrices it
    multiplies, read once, and the cache it reads or writes, once): with its FLOPs,
    the roofline bound max(F / pi_peak, Q_step / beta_mem) is a least time.
    PaLM's model FLOPs utilization (Chowdhery et al. 2022, appendix B) of a measured
    training throughput Theta tokens/s is MFU = Theta (6 N + 12 L H Q T) / pi_peak; with
    query/key width d_k and value width d_v the attention term is 6 L h (d_k + d_v) s.

Run on its own: ``python derivations/serving.py``.
"""

import numpy as np
from sympy import Eq, Ge, Symbol, floor

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Result,
    Step,
    cite,
)
from llmsym.notation import Named, factors, group, terms, unfold

# --- Symbols -----------------------------------------------------------------
LATEX = {"gpu_memory": r"M_{\mathrm{GPU}}", "weight_bytes": r"B_{\mathrm{w}}",
         "params": "N", "unit_bytes": r"m_{\mathrm{unit}}", "units": r"n_{\mathrm{fit}}",
         "remainder": r"r_{\mathrm{fit}}", "read_params": r"N_{\mathrm{read}}",
         "kv_bytes": r"M_{\mathrm{KV}}", "tokens_per_s": r"\Theta_{\mathrm{tok}}",
         "matrix_params": r"N_{\mathrm{mat}}",
         "n_layers": "L", "seq": "s", "n_heads": "h", "d_key": "d_{k}", "d_value": "d_{v}",
         "d_head": "d_{h}", "peak_flops": r"\pi_{\mathrm{peak}}"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


M_gpu, B_w, N, m_unit, N_read, N_mat, L, s, h, d_k, d_v, d_h = map(size, (
    "gpu_memory", "weight_bytes", "params", "unit_bytes", "read_params", "matrix_params",
    "n_layers", "seq", "n_heads", "d_key", "d_value", "d_head"))
n_fit, r_fit, M_KV = (Named(n, LATEX[n], integer=True, nonnegative=True)
                      for n in ("units", "remainder", "kv_bytes"))
tau = Named("tokens_per_s", LATEX["tokens_per_s"], positive=True)
peak = Named("peak_flops", LATEX["peak_flops"], positive=True)
M_free = Symbol(r"M_{\mathrm{free}}", integer=True)
Q_step = Symbol(r"Q_{\mathrm{step}}", integer=True, nonnegative=True)
MFU, C_palm = Symbol(r"\mathrm{MFU}", positive=True), Symbol(r"C_{\mathrm{PaLM}}", positive=True)
C_tok = Symbol(r"C_{\mathrm{tok}}", positive=True)  # training-compute's per-token FLOPs




# --- Definitions -------------------------------------------------------------------
FREE = Definition("free memory", M_free, terms(M_gpu, -factors(B_w, N)),
                  "the GPU's memory less the weights")
STEP = Definition("bytes a pass moves", Q_step, terms(factors(B_w, N_read), M_KV),
                  "each matrix it multiplies read once, the cache read (decode) or written "
                  "(prefill) once; activations, logits and norms not counted")
PALM = Definition("PaLM's model FLOPs per token", C_palm,
                  terms(6 * N_mat, factors(6, L, h, group(d_k, d_v), s)),
                  "$6N$ for the weight products forward and backward, $6LH(2QT)$ for $QK^\\top$ "
                  "and $PV$ with $Q$ = the head width: $d_{k}$ for scores, $d_{v}$ for values")
MFU_DEF = Definition("model FLOPs utilization", MFU, factors(tau, C_palm) / peak,
                     "the model FLOPs of the tokens trained per second, over the peak",
                     on_sheet=True, title="Model FLOPs utilization (PaLM)")

# --- Premises ------------------------------------------------------------------
DIVISION = Hypothesis(Eq(M_free, terms(factors(n_fit, m_unit), r_fit)),
                      "$n_{\\mathrm{fit}}$ and $r_{\\mathrm{fit}}$: quotient and remainder of "
                      "$M_{\\mathrm{free}}$ by $m_{\\mathrm{unit}}$")
REMAINDER = Hypothesis(Ge(m_unit - 1, r_fit), "$r_{\\mathrm{fit}} \\le m_{\\mathrm{unit}} - 1$")
SAME_WIDTH = (Hypothesis(Eq(d_k, d_h), "$d_{k} = d_{h}$"),
              Hypothesis(Eq(d_v, d_h), "$d_{v} = d_{h}$"))
PER_TOKEN = cite("training-compute:per_token",
                 Eq(C_tok, terms(6 * N_mat, factors(12, L, s, h, d_h)), evaluate=False))

# --- Claims ------------------------------------------------------------------
fits = Claim(
    "fits",
    "$\\lfloor M_{\\mathrm{free}}/m_{\\mathrm{unit}} \\rfloor$ units fit",
    given=(DIVISION,),
    start=factors(n_fit, m_unit),
    steps=(
        Step(terms(factors(n_fit, m_unit), r_fit), "a remainder is never negative", "nonneg",
             rel="<="),
        Step(M_free, "division with remainder", "expand", using=(DIVISION,)),
    ),
    note="A unit is one token's keys and values in every layer (tokens of KV cache), or the "
    "whole cache of one sequence of $s$ tokens (concurrent sequences).", on_sheet=False,
)

maximal = Claim(
    "maximal",
    "One more unit does not fit",
    given=(DIVISION, REMAINDER),
    start=factors(group(n_fit, 1), m_unit),
    steps=(
        Step(terms(factors(n_fit, m_unit), m_unit), "expand", "expand"),
        Step(terms(factors(n_fit, m_unit), r_fit, 1), "$m_{\\mathrm{unit}} \\ge "
             "r_{\\mathrm{fit}} + 1$", "nonneg", rel=">="),
        Step(terms(M_free, 1), "division with remainder", "expand", using=(DIVISION,)),
    ),
    on_sheet=False,
)

step_bytes = Claim(
    "step_bytes",
    "Bytes a prefill or decode pass moves, at least",
    start=Q_step,
    steps=(Step(STEP.rhs, "weights once, cache once", "definition"),),
    note="With the pass's FLOPs $F$, roofline's bound $\\max(F/\\pi_{\\mathrm{peak}}, "
    "Q_{\\mathrm{step}}/\\beta_{\\mathrm{mem}})$ is a least time. A decode step of a dense "
    "model reads every matrix; a mixture of experts at least its active ones.", on_sheet=False,
)

mfu = Claim(
    "mfu",
    "MFU from a measured throughput",
    start=MFU,
    steps=(
        Step(factors(tau, C_palm) / peak, "definition", "definition"),
        Step(factors(tau, group(6 * N_mat, factors(6, L, h, group(d_k, d_v), s))) / peak,
             "PaLM's per-token model FLOPs", "definition"),
    ),
    note="$N = N_{\\mathrm{mat}}$: the weight matrices a token multiplies, LM head included, "
    "embedding lookup not; a mixture of experts counts its active ones. Attention over the "
    "full $s$ whatever the mask or window: a convention, not the FLOPs a kernel runs.",
    on_sheet=False,
)

palm_per_token = Claim(
    "palm_per_token",
    "PaLM's model FLOPs per token",
    start=C_palm,
    steps=(Step(PALM.rhs, "definition", "definition"),),
    on_sheet=False,
)

palm = Claim(
    "palm",
    "PaLM's convention is the counted training FLOPs per token",
    given=SAME_WIDTH,
    start=C_palm,
    steps=(
        Step(PALM.rhs, "definition", "definition"),
        Step(terms(6 * N_mat, factors(12, L, s, h, d_h)), "$d_{k} = d_{v} = d_{h}$", "expand",
             using=SAME_WIDTH),
        Step(C_tok, "training-compute's count: backward = 2 x forward, attention in full",
             "expand", using=(PER_TOKEN,)),
    ),
    on_sheet=False,
)


# --- Numeric checks ----------------------------------------------------------


def _greedy(free: int, unit: int) -> list:
    """Allocate unit-byte caches while the next one fits in ``free`` bytes."""
    caches, used = [], 0
    while used + unit <= free:
        caches.append(np.zeros(unit, dtype=np.uint8))
        used += unit
    return caches


def _capacity_case(rng):
    unit = int(rng.integers(1, 60))
    params, width = int(rng.integers(1, 200)), int(rng.choice([1, 2, 4]))
    memory = params * width + int(rng.integers(0, 3000))
    return memory, params, width, unit


def check_fits(rng, formula) -> Measurement:
    """Caches allocated until the next would not fit: their bytes against n_fit m_unit."""
    worst, cases = 0, 20
    for _ in range(cases):
        memory, params, width, unit = _capacity_case(rng)
        caches = _greedy(memory - params * width, unit)
        if len(caches) != (memory - params * width) // unit:  # the quotient calc evaluates
            return Measurement(float("inf"), cases, 0.0, "the greedy count is not the quotient")
        got = formula(units=len(caches), unit_bytes=unit)
        worst = max(worst, abs(sum(c.nbytes for c in caches) - got))
    return Measurement(float(worst), cases, 0.0, "bytes of unit caches allocated greedily in "
                       "the free memory of 20 GPUs vs n_fit m_unit, exact")


def check_maximal(rng, formula) -> Measurement:
    """One more cache than the greedy allocation: its bytes exceed the free memory."""
    worst, cases = 0, 20
    for _ in range(cases):
        memory, params, width, unit = _capacity_case(rng)
        free = memory - params * width
        caches = _greedy(free, unit) + [np.zeros(unit, dtype=np.uint8)]
        held = sum(c.nbytes for c in caches)
        if held <= free:
            return Measurement(float("inf"), cases, 0.0, "one more cache still fitted")
        worst = max(worst, abs(held - formula(units=len(caches) - 1, unit_bytes=unit)))
    return Measurement(float(worst), cases, 0.0, "bytes of one cache more than fit vs "
                       "(n_fit + 1) m_unit, exact")


def check_step_bytes(rng, formula) -> Measurement:
    """Weights a decode step multiplies (read off its operands) and its cache, in each format."""
    from llmsym.numeric.transformer import Counter, Decoder, encode, random_architecture

    worst, cases = 0, 0
    for fmt, width in (("fp32", 4), ("bf16", 2), ("fp8", 1)):
        for _ in range(3):
            arch = random_architecture(rng, str(rng.choice(["full", "sliding", "mla"])), "any",
                                       int(rng.integers(1, 3)))
            model = Decoder(arch, rng)
            cached = int(rng.integers(1, 6))
            tokens = rng.integers(0, arch.vocab_size, size=(1, cached + 1))
            _, kv = model.prefill(tokens[:, :cached], fmt, Counter())
            held = kv.nbytes
            step = Counter(tape=[])
            model.decode_step(tokens[:, cached], kv, step)
            used = {id(b) for _, b in step.tape}
            mats = [w for w in model.weights.values() if id(w) in used or (
                arch.tie_embeddings and w is model.weights["embed"])]
            stored = sum(encode(w, fmt).nbytes for w in mats)
            got = formula(weight_bytes=width, read_params=sum(w.size for w in mats),
                          kv_bytes=held)
            worst, cases = max(worst, abs(stored + held - got)), cases + 1
    return Measurement(float(worst), cases, 0.0, "nbytes of the matrices 9 NumPy decode steps "
                       "multiply (stored in fp32, bf16, fp8) and of the caches they read vs "
                       "Q_step, exact")


def check_mfu(rng, formula) -> Measurement:
    """Counted forward and backward FLOPs of real training steps, per token, at a throughput."""
    from llmsym.numeric.transformer import Counter, Decoder, random_config
    from llmsym.numeric.transformer_backward import loss_and_grads

    worst, cases = 0.0, 5
    for _ in range(cases):
        model = Decoder(random_config(rng), rng)
        c = model.config
        batch, seq = int(rng.integers(1, 3)), int(rng.integers(1, 7))
        tokens, targets = (rng.integers(0, c.vocab_size, size=(batch, seq)) for _ in range(2))
        fwd, bwd = Counter(), Counter()
        loss_and_grads(model, tokens, targets, fwd, bwd)
        per_token = (fwd.flops + bwd.flops) / (batch * seq)
        throughput, device = float(rng.uniform(1, 1e3)), float(rng.uniform(1e3, 1e6))
        matrices = sum(w.size for k, w in model.weights.items() if w.ndim == 2
                       and k not in ("embed", "positions")) + (
            model.weights["embed"].size if c.tie_embeddings else 0)
        got = formula(tokens_per_s=throughput, matrix_params=matrices, n_layers=c.n_layers,
                      seq=seq, n_heads=c.n_heads, d_key=c.d_head, d_value=c.d_head,
                      peak_flops=device)
        worst = max(worst, abs(got - throughput * per_token / device) / got)
    return Measurement(float(worst), cases, 1e-12, "MFU from FLOPs counted in real forward and "
                       "backward passes of 5 NumPy decoders, per token, at random throughputs "
                       "and peaks, vs the formula (relative)")


# --- Worked example ------------------------------------------------------------


def example_h100():
    free = 80 * 10**9 - 2 * 8_030_261_248
    per_token = 2 * 32 * 8 * 128 * 2  # Llama-3.1-8B, bf16: 131,072 bytes per token
    n = free // per_token
    return ("Llama-3.1-8B in bf16 on an 80 GB GPU",
            rf"n_{{\mathrm{{fit}}}} = \lfloor {free:,} / {per_token:,} \rfloor = {n:,}"
            .replace(",", "{,}") + r"\ \text{tokens of KV cache}")


# --- The derivation ------------------------------------------------------------
FIT = unfold(FREE.rhs) / m_unit

DERIVATION = Derivation(
    id="serving",
    title="KV-cache capacity, bytes per pass, and MFU",
    topic="Compute and memory",
    order=77,
    gloss="What is left after the weights, divided by a token's (or a sequence's) cache: "
          "$\\lfloor M_{\\mathrm{free}}/m_{\\mathrm{unit}} \\rfloor$ fit; a pass moves at "
          "least its weights and its cache; MFU is PaLM's "
          "$\\Theta_{\\mathrm{tok}}(6N + 12LHQT)/\\pi_{\\mathrm{peak}}$.",
    assumptions=(
        "One GPU holds all the weights and the caches; activations, workspace, the allocator's "
        "block rounding and fragmentation are not counted (a lower bound on what is needed).",
    ),
    definitions=(FREE, STEP, PALM, MFU_DEF),
    claims=(fits, maximal, step_bytes, mfu, palm_per_token, palm),
    results=(
        Result("units_that_fit", floor(FIT), (M_gpu, B_w, N, m_unit),
               "units of unit_bytes that fit beside the weights (floor of free memory over a "
               "unit; negative: the weights do not fit)", units="units", claim="fits"),
        Result("step_bytes", unfold(step_bytes.end), (B_w, N_read, M_KV),
               "bytes a pass moves at least: the matrices it multiplies and the cache",
               units="bytes", claim="step_bytes", integer=True),
        Result("palm_flops_per_token", unfold(palm_per_token.end), (N_mat, L, s, h, d_k, d_v),
               "training FLOPs per token by PaLM's convention, 6N + 6Lh(d_k + d_v)s",
               units="FLOPs", claim="palm_per_token", integer=True),
        Result("mfu", unfold(mfu.end), (tau, N_mat, L, s, h, d_k, d_v, peak),
               "model FLOPs utilization of tokens_per_s trained tokens per second (PaLM)",
               units="", claim="mfu"),
    ),
    checks=(
        NumericCheck("fits", check_fits, "Caches allocated greedily in the free memory of 20 "
                     "GPUs: their bytes are $n_{\\mathrm{fit}}m_{\\mathrm{unit}}$.", claim="fits",
                     side="start"),
        NumericCheck("maximal", check_maximal, "One cache more exceeds the free memory: "
                     "$(n_{\\mathrm{fit}} + 1)m_{\\mathrm{unit}}$ bytes.", claim="maximal",
                     side="start"),
        NumericCheck("step_bytes", check_step_bytes, "Matrices a NumPy decode step multiplies "
                     "and the cache it reads: $Q_{\\mathrm{step}}$ bytes.", claim="step_bytes"),
        NumericCheck("mfu", check_mfu, "FLOPs counted in real training steps at a throughput: "
                     "the MFU formula.", claim="mfu"),
    ),
    notation={
        M_gpu: "memory of one GPU, bytes", B_w: "bytes per stored weight",
        m_unit: "bytes of one unit of cache: a token's keys and values in every layer, or one "
                "sequence's whole cache",
        n_fit: "units that fit beside the weights", r_fit: "bytes left over",
        N_read: "parameters of the matrices a pass multiplies",
        M_KV: "bytes of the key/value cache",
        tau: "measured training throughput, tokens per second",
        peak: "peak FLOP/s of the device", M_free: "memory left beside the weights, bytes",
        Q_step: "bytes a pass moves between memory and the chip, at least",
        MFU: "model FLOPs utilization", C_palm: "model FLOPs per token by PaLM's convention",
        C_tok: "training FLOPs per token (forward and backward)",
        d_v: "dimension of the values of one head",
    },
    sources=(
        "Chowdhery et al. 2022, PaLM (arXiv 2204.02311), appendix B: model FLOPs utilization, "
        "$6N + 12LHQT$ FLOPs per token.",
        "Williams, Waterman and Patterson 2009, Roofline (CACM 52(4)); Pope et al. 2022, "
        "Efficiently Scaling Transformer Inference (arXiv 2211.05102), section 2.",
        "Kwon et al. 2023, vLLM / PagedAttention (arXiv 2309.06180): the KV cache as the "
        "memory left beside the weights.",
    ),
    examples=(example_h100,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
