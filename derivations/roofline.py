"""The roofline: arithmetic intensity, the ridge point, and when decoding becomes compute-bound.

Statement
    A kernel doing F FLOPs while moving Q_mem bytes, on a device of peak
    pi_peak FLOP/s and memory bandwidth beta_mem B/s, takes at least
    t_min = max(F / pi_peak, Q_mem / beta_mem) (the roofline model). With the
    intensity I = F / Q_mem and the ridge point R = pi_peak / beta_mem, the memory
    time is R / I times the compute time, so I <= R makes the kernel memory-bound.
    A decode step for b sequences does b f_dec FLOPs (f_dec = 2 N_mat + 4 L
    (s_c + 1) h d_h) and, reading the weights once and each cache once, moves
    B_el (N_mat + b c_kv) bytes (c_kv = 2 L h_kv d_h (s_c + 1)); where its
    intensity equals R, b = R B_el N_mat / (f_dec - R B_el c_kv), which needs
    f_dec > R B_el c_kv.

Run on its own: ``python derivations/roofline.py``.
"""

import numpy as np
from sympy import Derivative, Eq, Gt, Le, Max, Symbol

from llmsym.derivation import (
    Assumption,
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
from llmsym.notation import Named, Notation, factors, group, held, minus, terms, unfold

# --- Symbols -----------------------------------------------------------------
# The same names print the same way in every compute-and-memory derivation.
LATEX = {"bytes_per_element": r"B_{\mathrm{el}}", "batch": "b",
         "matrix_params": r"N_{\mathrm{mat}}", "n_layers": "L", "n_heads": "h",
         "n_kv_heads": "h_{kv}", "d_head": "d_{h}", "context": r"s_{\mathrm{c}}",
         "peak_flops": r"\pi_{\mathrm{peak}}", "bandwidth": r"\beta_{\mathrm{mem}}",
         "flops": "F", "bytes_moved": r"Q_{\mathrm{mem}}", "flops_per_seq": r"f_{\mathrm{dec}}",
         "cache_per_seq": r"c_{\mathrm{kv}}", "n": "n"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


B_el, b, N_mat, L, h, h_kv, d_h, n = map(size, (
    "bytes_per_element", "batch", "matrix_params", "n_layers", "n_heads", "n_kv_heads", "d_head",
    "n"))
s_c = Named("context", LATEX["context"], integer=True, nonnegative=True)
peak, bandwidth, F, Q, f, c = (Named(name, LATEX[name], positive=True) for name in (
    "peak_flops", "bandwidth", "flops", "bytes_moved", "flops_per_seq", "cache_per_seq"))
n1, n2, n3 = (Symbol(f"n_{k}", integer=True, positive=True) for k in (1, 2, 3))
R, I, I_mm, F_mm, Q_mm, t_min, I_dec, Q_dec = (Symbol(name, positive=True) for name in (
    "R", "I", r"I_{\mathrm{mm}}", r"F_{\mathrm{mm}}", r"Q_{\mathrm{mm}}", r"t_{\min}",
    r"I_{\mathrm{dec}}", r"Q_{\mathrm{dec}}"))
F_dec = Symbol(r"F_{\mathrm{dec}}", integer=True, positive=True)


class mm(Notation):  # noqa: N801 - read as "matrix multiply"
    """``mm(n1, n2, n3)``: FLOPs of an (n1 x n2)(n2 x n3) product, 2 per multiply-accumulate."""

    nargs = 3

    @classmethod
    def definition(cls, p, q, r):
        return 2 * p * q * r

    def _latex(self, printer) -> str:
        return r"\mathcal{M}(%s)" % ", ".join(printer._print(a) for a in self.args)




# --- Definitions -------------------------------------------------------------------
ROOFLINE = Definition("roofline", t_min, Max(F / peak, Q / bandwidth),
                      "a kernel can run no faster than its FLOPs at peak rate, nor than its "
                      "bytes at full bandwidth (the two overlap perfectly)", on_sheet=True,
                      title="The roofline bound")
INTENSITY = Definition("intensity", I, F / Q, "FLOPs per byte moved")
RIDGE = Definition("ridge point", R, peak / bandwidth, "the device's FLOPs per byte")
MM_INTENSITY = Definition("matmul intensity", I_mm, F_mm / Q_mm)
MM_FLOPS = Definition("matmul FLOPs", F_mm, mm(n1, n2, n3))
MM = Definition("matrix product FLOPs", mm(n1, n2, n3), mm.definition(n1, n2, n3),
                "2 FLOPs per multiply-accumulate (FlopCounterMode)")
PER_SEQ_FLOPS = Definition("per-sequence FLOPs", f,
                           terms(2 * N_mat, factors(4, L, s_c + 1, h, d_h)),
                           "a decode step's FLOPs per sequence (transformer-flops)")
PER_SEQ_CACHE = Definition("per-sequence cache elements", c,
                           factors(2, L, h_kv, d_h, s_c + 1),
                           "keys and values of $s_{\\mathrm{c}} + 1$ positions")
DEC_INTENSITY = Definition("decode intensity", I_dec, F_dec / Q_dec,
                           "FLOPs per byte of a decode step for $b$ sequences")

# --- Premises ------------------------------------------------------------------
MM_TRAFFIC = Assumption(Eq(Q_mm, factors(B_el, group(factors(n1, n2), factors(n2, n3),
                                                     factors(n1, n3)))),
                        "each factor is read once and the product written once, "
                        "$B_{\\mathrm{el}}$ bytes per element (the least traffic: tiles reused "
                        "on chip)")
DECODE_FLOPS = cite("transformer-flops:decode", Eq(
    F_dec, factors(b, group(2 * N_mat, factors(4, L, s_c + 1, h, d_h))), evaluate=False))
DECODE_BYTES = Assumption(
    Eq(Q_dec, factors(B_el, group(N_mat, factors(b, c)))),
    "a decode step reads each weight matrix once and each sequence's cache once; activations "
    "and the new keys and values are negligible")
AT_RIDGE = Hypothesis(Eq(b * f, R * factors(B_el, group(N_mat, factors(b, c)))),
                      "$b$ is the batch at which the decode step sits on the ridge: "
                      "$I_{\\mathrm{dec}}(b) = R$")
POSITIVE = Hypothesis(Gt(f, factors(R, B_el, c)), "otherwise cache reads grow as fast as "
                      "FLOPs and no batch reaches the ridge")
BELOW = Hypothesis(Le(I, R), "the intensity is at most the ridge point")

# --- Claims ------------------------------------------------------------------
class ratio(Notation):  # noqa: N801
    """``a / b`` printed as one fraction of the two, as written."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return a / b

    def _latex(self, printer) -> str:
        return r"\frac{%s}{%s}" % tuple(printer._print(x) for x in self.args)


RATIO = ratio(Q / bandwidth, F / peak)  # memory time over compute time
with held():
    SQUARE = factors(2, n**3) / factors(B_el, group(n**2, n**2, n**2))

ridge = Claim(
    "ridge",
    "Memory time over compute time is $R / I$",
    start=RATIO,
    steps=(Step(R / I, "$R = \\pi_{\\mathrm{peak}}/\\beta_{\\mathrm{mem}}$, "
                "$I = F/Q_{\\mathrm{mem}}$", "definition"),),
    on_sheet=False,
)

memory_bound = Claim(
    "memory_bound",
    "Below the ridge point a kernel is memory-bound",
    given=(BELOW,),
    start=Q / bandwidth,
    steps=(
        Step(F / peak * (R / I), "the memory time is $R/I$ times the compute time", "definition"),
        Step(F / peak, "$R / I \\ge 1$", "nonneg", rel=">="),
    ),
    note="So $t_{\\min} = Q_{\\mathrm{mem}}/\\beta_{\\mathrm{mem}}$ when $I \\le R$ and "
    "$F/\\pi_{\\mathrm{peak}}$ when $I \\ge R$. Dense bf16: $R \\approx 153$ FLOP/B on an "
    "A100 (312 TFLOP/s, 2.04 TB/s), about 295 on an H100 SXM (989 TFLOP/s, 3.35 TB/s).",
    on_sheet=False,
)

matmul = Claim(
    "matmul",
    "Arithmetic intensity of a matrix product",
    start=I_mm,
    steps=(
        Step(F_mm / Q_mm, "FLOPs over bytes", "definition"),
        Step(mm(n1, n2, n3) / MM_TRAFFIC.statement.rhs, "each factor and the product moved once",
             "definition", using=(MM_TRAFFIC,)),
        Step(factors(2, n1, n2, n3) / MM_TRAFFIC.statement.rhs, "2 FLOPs per multiply-accumulate",
             "unfold"),
    ),
    on_sheet=False,
)

square = Claim(
    "square",
    "Square products",
    start=SQUARE,
    steps=(Step(2 * n / (3 * B_el), "cancel $n^2$", "unfold+cancel"),),
    on_sheet=False,
    note="Intensity grows with the size: $n = 4096$ in bf16 gives 1365 FLOP/B, above every ridge.",
)

DEC_END = factors(b, f) / factors(B_el, group(N_mat, factors(b, c)))

decode_intensity = Claim(
    "decode_intensity",
    "Intensity of a decode step",
    start=I_dec,
    steps=(
        Step(F_dec / Q_dec, "FLOPs over bytes", "definition"),
        Step(DECODE_FLOPS.statement.rhs / DECODE_BYTES.statement.rhs,
             "the decode count of transformer-flops; weights and caches read once", "cancel",
             using=(DECODE_FLOPS, DECODE_BYTES)),
        Step(DEC_END, "FLOPs per sequence $f_{\\mathrm{dec}}$", "definition"),
    ),
    on_sheet=False,
)

growing = Claim(
    "growing",
    "A decode step's intensity grows with the batch",
    start=Derivative(unfold(DEC_END), b),
    steps=(
        Step(f * N_mat / (B_el * (N_mat + b * c) ** 2), "the quotient rule", "doit+cancel"),
        Step(0, "all factors are positive", "nonneg", rel=">="),
    ),
    on_sheet=False,
)

crossover = Claim(
    "crossover",
    "The batch at which decoding turns compute-bound",
    given=(AT_RIDGE, POSITIVE),
    start=b,
    steps=(
        Step(minus(factors(b, f), factors(R, B_el, b, c)) / minus(f, factors(R, B_el, c)),
             "multiply and divide by $f_{\\mathrm{dec}} - RB_{\\mathrm{el}}c_{\\mathrm{kv}} > 0$",
             "unfold+cancel"),
        Step(minus(factors(R, B_el, group(N_mat, factors(b, c))), factors(R, B_el, b, c))
             / minus(f, factors(R, B_el, c)),
             "at the ridge, $bf_{\\mathrm{dec}} = RB_{\\mathrm{el}}(N_{\\mathrm{mat}} + "
             "bc_{\\mathrm{kv}})$", "unfold+cancel", using=(AT_RIDGE,)),
        Step(factors(R, B_el, N_mat) / minus(f, factors(R, B_el, c)), "the cache terms cancel",
             "unfold+expand"),
    ),
    note="$I_{\\mathrm{dec}}$ grows with $b$, so smaller batches are memory-bound. With a short "
    "context ($c_{\\mathrm{kv}} \\to 0$, $f_{\\mathrm{dec}} \\to 2N_{\\mathrm{mat}}$): "
    "$b \\approx RB_{\\mathrm{el}}/2$, about 150 sequences for bf16 on an A100.",
)


# --- Numeric checks ----------------------------------------------------------

PER_SEQ = {f: unfold(PER_SEQ_FLOPS.rhs), c: unfold(PER_SEQ_CACHE.rhs)}


def value(expr, **values):
    """A closed form at given values (sizes of the decode step substituted)."""
    expr = unfold(expr).xreplace(PER_SEQ)
    return expr.xreplace({sym: values[sym.name] for sym in expr.free_symbols})


WIDTH = {"fp32": 4, "bf16": 2, "fp8": 1}


def _decode_measurement(model, batch: int, cached: int, fmt: str, rng):
    """FLOPs counted and bytes read by one decode step: the weight matrices stored in ``fmt``
    (their sizes read from the model's arrays) and the KV cache's ``nbytes``."""
    from llmsym.numeric.transformer import Counter, encode

    config = model.config
    tokens = rng.integers(0, config.vocab_size, size=(batch, cached + 1))
    _, cache = model.prefill(tokens[:, :cached], fmt, Counter())
    step = Counter()
    model.decode_step(tokens[:, cached], cache, step)
    matrices = [w for k, w in model.weights.items() if w.ndim == 2 and k != "positions"
                and (k != "embed" or config.tie_embeddings)]
    weights = sum(encode(w, fmt).nbytes for w in matrices)
    return step.flops, weights + cache.nbytes


def check_decode_intensity(rng: np.random.Generator, formula) -> Measurement:
    """Counted FLOPs over bytes read of real decode steps against I_dec."""
    from llmsym.numeric.transformer import Decoder, random_config

    worst, cases = 0.0, 6
    for _ in range(cases):
        model = Decoder(random_config(rng), rng)
        batch, cached, fmt = int(rng.integers(1, 9)), int(rng.integers(1, 5)), \
            str(rng.choice(list(WIDTH)))
        flops, moved = _decode_measurement(model, batch, cached, fmt, rng)
        sizes = dict(_sizes(model), batch=batch, context=cached, bytes_per_element=WIDTH[fmt])
        per_seq = {"flops_per_seq": float(value(f, **sizes)),
                   "cache_per_seq": float(value(c, **sizes))}
        got = formula(**{k: {**sizes, **per_seq}[k] for k in formula.params})
        worst = max(worst, abs(flops / moved - got) / got)
    return Measurement(worst, cases, 1e-12, "counted FLOPs over weights' and caches' nbytes of "
                       "decode steps (fp32, bf16, fp8) vs I_dec")


def _sizes(model) -> dict:
    """N_mat and the attention sizes of a NumPy decoder, read from its arrays and config."""
    cfg, w = model.config, model.weights
    layers = sum(a.size for k, a in w.items() if k.startswith("layer") and a.ndim == 2)
    head = w["embed"].size if cfg.tie_embeddings else w["lm_head"].size
    return dict(matrix_params=layers + head, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
                n_kv_heads=cfg.n_kv_heads, d_head=cfg.d_head)


def check_crossover(rng: np.random.Generator, formula) -> Measurement:
    """Measure a real decode step of batch k; with R set to its measured intensity, the batch
    the formula gives must be k."""
    from llmsym.numeric.transformer import Decoder, random_config

    worst, cases = 0.0, 8
    for _ in range(cases):
        model = Decoder(random_config(rng), rng)
        cached, fmt = int(rng.integers(0, 4)), str(rng.choice(list(WIDTH)))
        k = int(rng.integers(1, 9))
        flops, moved = _decode_measurement(model, k, cached, fmt, rng)
        sizes = dict(_sizes(model), context=cached, bytes_per_element=WIDTH[fmt])
        values = dict(R=flops / moved, bytes_per_element=WIDTH[fmt],
                      matrix_params=sizes["matrix_params"],
                      flops_per_seq=float(value(f, **sizes)),
                      cache_per_seq=float(value(c, **sizes)))
        got = float(formula(**{key: values[key] for key in formula.params}))
        worst = max(worst, abs(got - k) / k)
    return Measurement(worst, cases, 1e-9, "real decode steps of batch k (fp32, bf16, fp8): "
                       "at R = their counted FLOPs over bytes read, the formula gives k")


# --- The derivation ------------------------------------------------------------
CROSSOVER = (crossover.end.xreplace({R: peak / bandwidth}))
DECODE = (N_mat, L, h, h_kv, d_h, s_c, B_el)


def _in_sizes(expr):
    return unfold(expr).xreplace(PER_SEQ)


def example_a100():
    from llmsym.presets import load_preset

    gpu_peak, gpu_bw = 312e12, 2.039e12  # A100 80GB SXM, dense bf16; HBM2e
    cfg = load_preset("llama-3-8b")
    n_mat = cfg.n_layers * (2 * cfg.d_model * cfg.d_head * (cfg.n_heads + cfg.n_kv_heads)
                            + 3 * cfg.d_model * cfg.d_ff) + cfg.d_model * cfg.vocab_size
    found = []
    for cached in (255, 4095):
        sizes = dict(matrix_params=n_mat, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
                     n_kv_heads=cfg.n_kv_heads, d_head=cfg.d_head, context=cached,
                     bytes_per_element=2, peak_flops=gpu_peak, bandwidth=gpu_bw)
        b_star = float(value(CROSSOVER, **sizes))
        at = rf"s_{{\mathrm{{c}}}} = {cached}\colon\ "
        found.append(at + (rf"b \approx {b_star:.0f}" if b_star > 0 else
                           r"f_{\mathrm{dec}} < RB_{\mathrm{el}}c_{\mathrm{kv}}"
                           r"\text{, memory-bound at any batch}"))
    return ("Llama-3-8B decoding in bf16 on an A100 (312 TFLOP/s, 2.04 TB/s, "
            rf"$R \approx {gpu_peak / gpu_bw:.0f}$ FLOP/B)", r";\quad ".join(found))


DERIVATION = Derivation(
    id="roofline",
    title="The roofline and the decode crossover",
    topic="Compute and memory",
    order=75,
    gloss="Time is at least $\\max(F/\\pi_{\\mathrm{peak}}, "
          "Q_{\\mathrm{mem}}/\\beta_{\\mathrm{mem}})$; decoding reads every weight per "
          "step, so it stays memory-bound until the batch reaches "
          "$RB_{\\mathrm{el}}N_{\\mathrm{mat}}/(f_{\\mathrm{dec}} - "
          "RB_{\\mathrm{el}}c_{\\mathrm{kv}})$.",
    assumptions=(
        "The roofline model: compute and memory traffic overlap perfectly, so a kernel takes "
        "at least $\\max(F/\\pi_{\\mathrm{peak}}, Q_{\\mathrm{mem}}/\\beta_{\\mathrm{mem}})$ "
        "seconds.",
    ),
    # a definition before the ones its right side uses: they are unfolded in this order
    definitions=(ROOFLINE, INTENSITY, RIDGE, MM_INTENSITY, MM_FLOPS, MM, PER_SEQ_FLOPS,
                 PER_SEQ_CACHE, DEC_INTENSITY),
    claims=(ridge, memory_bound, matmul, square, decode_intensity, growing, crossover),
    results=(
        Result("roofline_time", Max(F / peak, Q / bandwidth), (F, Q, peak, bandwidth),
               "lower bound on the seconds of F FLOPs moving Q bytes", units="s",
               claim="memory_bound"),
        Result("matmul_intensity", unfold(matmul.end), (n1, n2, n3, B_el),
               "FLOPs per byte of a (n1 x n2)(n2 x n3) product", units="FLOP/B", claim="matmul"),
        Result("decode_bytes", _in_sizes(factors(B_el, group(N_mat, factors(b, c)))),
               (b, *DECODE), "bytes a decode step reads: weights once, each cache once",
               units="bytes", claim="decode_intensity", integer=True),
        Result("decode_intensity", _in_sizes(DEC_END),
               (b, *DECODE), "FLOPs per byte of a decode step for b sequences",
               units="FLOP/B", claim="decode_intensity"),
        Result("decode_crossover_batch", _in_sizes(CROSSOVER), (peak, bandwidth, *DECODE),
               "batch at which a decode step's intensity reaches the ridge point "
               "(negative: never)", units="sequences", claim="crossover"),
    ),
    checks=(
        NumericCheck("decode_intensity", check_decode_intensity, "Decode steps of random NumPy "
                     "decoders in fp32, bf16 and fp8: counted FLOPs over the bytes of their "
                     "weights and caches equal $I_{\\mathrm{dec}}$.", claim="decode_intensity"),
        NumericCheck("crossover", check_crossover,
                     "A real decode step of batch $k$, FLOPs counted and bytes weighed: with $R$ "
                     "set to its intensity, the formula returns $k$.", claim="crossover"),
    ),
    notation={
        peak: "peak FLOP/s of the device", bandwidth: "memory bandwidth of the device, B/s",
        F: "FLOPs a kernel performs", Q: "bytes it moves between memory and the chip",
        t_min: "least time of a kernel, in seconds", I: "arithmetic intensity, FLOPs per byte",
        R: "ridge point of the device, FLOPs per byte",
        f: "FLOPs per sequence of a decode step", c: "cache elements read per sequence",
        n1: "rows of $A$", n2: "columns of $A$, rows of $B$", n3: "columns of $B$",
        n: "size of a square product", I_mm: "intensity of a matrix product",
        F_mm: "FLOPs of the product", Q_mm: "bytes it moves",
    },
    sources=(
        "Williams, Waterman and Patterson 2009, Roofline: an insightful visual performance "
        "model for multicore architectures (CACM 52(4)).",
        "Pope et al. 2022, Efficiently Scaling Transformer Inference (arXiv 2211.05102), "
        "section 2: decoding is memory-bound at small batch.",
        "NVIDIA A100 datasheet: 312 TFLOP/s dense bf16, 2.039 TB/s (80 GB SXM).",
    ),
    examples=(example_a100,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
