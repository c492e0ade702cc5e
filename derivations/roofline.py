"""The roofline: arithmetic intensity, time bounds, and when decoding becomes compute-bound.

Statement
    A kernel doing F FLOPs while moving Q bytes takes at least
    max(F / pi, Q / beta) on a device of peak pi FLOP/s and bandwidth beta B/s;
    its memory time exceeds its compute time exactly when its intensity
    I = F / Q is below the ridge point R = pi / beta. A (p x q)(q x r) product
    has I = 2pqr / (e (pq + qr + pr)), 2n/(3e) when square. A decode step for
    b sequences does b f FLOPs (f = 2N + 4L(t+1)hd_h) and reads the weights
    once and each cache once, e (N + b c) bytes (c = 2L h_kv d_h (t+1)); its
    intensity grows with b and reaches R at b* = R e N / (f - R e c).

Run on its own: ``python derivations/roofline.py``.
"""

import numpy as np
from sympy import Add, Derivative, Eq, Max, Symbol

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Named, Notation, unfold

# --- Symbols -----------------------------------------------------------------
LATEX = {"p": "p", "q": "q", "r": "r", "n": "n", "bytes_per_element": "e", "batch": "b",
         "matrix_params": "N", "n_layers": "L", "n_heads": "h", "n_kv_heads": "h_{kv}",
         "d_head": "d_h", "context": "t", "peak_flops": r"\pi", "bandwidth": r"\beta",
         "flops": "F", "bytes_moved": "Q", "flops_per_seq": "f", "cache_per_seq": "c"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


p, q, r, n, e, b, N, L, h, h_kv, d_h = map(size, (
    "p", "q", "r", "n", "bytes_per_element", "batch", "matrix_params", "n_layers", "n_heads",
    "n_kv_heads", "d_head"))
t = Named("context", LATEX["context"], integer=True, nonnegative=True)
peak, bandwidth, F, Q, f, c = (Named(name, LATEX[name], positive=True) for name in (
    "peak_flops", "bandwidth", "flops", "bytes_moved", "flops_per_seq", "cache_per_seq"))
R, I, I_mm = (Symbol(name, positive=True) for name in ("R", "I", r"I_{\mathrm{mm}}"))

PER_SEQ = {f: 2 * N + 4 * L * (t + 1) * h * d_h,  # decode FLOPs per sequence (transformer-flops)
           c: 2 * L * h_kv * d_h * (t + 1)}  # cache elements read per sequence


class DecodeIntensity(Notation):  # noqa: N801
    """``I_dec(b)``: FLOPs per byte of a decode step for b sequences."""

    nargs = 1

    @classmethod
    def definition(cls, batch):
        return batch * f / (e * (N + batch * c))

    def _latex(self, printer) -> str:
        return r"I_{\mathrm{dec}}\left(%s\right)" % printer._print(self.args[0])


# --- Claims ------------------------------------------------------------------
ridge = Claim(
    "ridge",
    "Memory time over compute time is $R / I$",
    start=(Q / bandwidth) / (F / peak),
    steps=(Step(R / I, "$\\pi = R\\beta$ and $F = IQ$", "cancel",
                using=(Eq(peak, R * bandwidth), Eq(F, I * Q))),),
    note="So a kernel is memory-bound exactly when $I < R$, and takes at least "
         "$\\max(F/\\pi, Q/\\beta)$.",
)

matmul = Claim(
    "matmul",
    "Arithmetic intensity of a matrix product",
    start=I_mm,
    steps=(Step(2 * p * q * r / (e * (p * q + q * r + p * r)),
                "$2pqr$ FLOPs; read both operands and write the product once, $e$ bytes each",
                "definition"),),
)

square = Claim(
    "square",
    "Square products",
    start=2 * n**3 / (e * Add(n**2, n**2, n**2, evaluate=False)),
    steps=(Step(2 * n / (3 * e), "cancel $n^2$", "cancel"),),
    on_sheet=False,
    note="Intensity grows with the size: $n = 4096$ in bf16 gives 1365 FLOP/B, above every ridge.",
)

growing = Claim(
    "growing",
    "A decode step's intensity grows with the batch",
    start=Derivative(DecodeIntensity(b).definition(b), b),
    steps=(
        Step(f * N / (e * (N + b * c) ** 2), "the quotient rule", "doit+cancel"),
        Step(0, "all factors are positive", "nonneg", rel=">="),
    ),
    on_sheet=False,
)

crossover = Claim(
    "crossover",
    "The batch at which decoding turns compute-bound",
    start=DecodeIntensity(R * e * N / (f - R * e * c)),
    steps=(Step(R, "unfold $I_{\\mathrm{dec}}(b) = bf / (e(N + bc))$ and cancel",
                "unfold+cancel"),),
    note="So $b^* = ReN/(f - Rec)$ when $f > Rec$; otherwise cache reads grow as fast as "
         "FLOPs and no batch suffices. With a short context ($c \\to 0$, $f \\to 2N$): "
         "$b^* \\approx Re/2$.",
)


# --- Numeric checks ----------------------------------------------------------


def value(expr, **values):
    """A closed form at given values, exactly (integers) or to float precision."""
    expr = unfold(expr).xreplace(PER_SEQ)
    return expr.xreplace({sym: values[sym.name] for sym in expr.free_symbols})


def check_matmul(rng: np.random.Generator) -> Measurement:
    """Multiply real arrays; FLOPs counted, bytes read from the arrays' ``nbytes``."""
    from llmsym.numeric.transformer import Counter

    worst, cases = 0.0, 60
    for _ in range(cases):
        dtype = rng.choice([np.float16, np.float32, np.float64])
        pp, qq, rr = (int(x) for x in rng.integers(1, 60, size=3))
        a, w = rng.normal(size=(pp, qq)).astype(dtype), rng.normal(size=(qq, rr)).astype(dtype)
        counter = Counter()
        out = counter.matmul(a, w, "mm")
        measured = counter.flops / (a.nbytes + w.nbytes + out.nbytes)
        formula = float(value(matmul.end, p=pp, q=qq, r=rr,
                              bytes_per_element=np.dtype(dtype).itemsize))
        worst = max(worst, abs(measured - formula) / formula)
    return Measurement(worst, cases, 1e-14, "counted FLOPs / nbytes of NumPy products vs I_mm")


def _decode_measurement(config, batch, cached, fmt, rng):
    """FLOPs counted and bytes read (weight matrices, cache) by one decode step."""
    from llmsym.numeric.transformer import Counter, Decoder

    model = Decoder(config, rng)
    tokens = rng.integers(0, config.vocab_size, size=(batch, cached + 1))
    _, cache = model.prefill(tokens[:, :cached], fmt, Counter())
    step = Counter()
    model.decode_step(tokens[:, cached], cache, step)
    width = {"fp32": 4, "bf16": 2, "fp8": 1}[fmt]
    matrices = [w for k, w in model.weights.items() if w.ndim == 2 and k != "positions"
                and (k != "embed" or config.tie_embeddings)]
    return step.flops, width * sum(w.size for w in matrices) + cache.nbytes


def check_crossover(rng: np.random.Generator) -> Measurement:
    """Scan batch sizes of real decode steps for the first compute-bound one; compare with b*."""
    from llmsym.numeric.transformer import random_config

    worst, cases = 0, 8
    for _ in range(cases):
        config, cached = random_config(rng), int(rng.integers(0, 4))
        fmt = str(rng.choice(["fp32", "bf16", "fp8"]))
        scan = [_decode_measurement(config, bb, cached, fmt, rng) for bb in range(1, 17)]
        lo, hi = scan[0][0] / scan[0][1], scan[-1][0] / scan[-1][1]
        ridge_point = float(rng.uniform(lo, hi))
        first = next(i + 1 for i, (fl, by) in enumerate(scan) if fl / by >= ridge_point)
        sizes = dict(matrix_params=_matrix_params(config), n_layers=config.n_layers,
                     n_heads=config.n_heads, n_kv_heads=config.n_kv_heads, d_head=config.d_head,
                     context=cached, bytes_per_element={"fp32": 4, "bf16": 2, "fp8": 1}[fmt],
                     peak_flops=ridge_point, bandwidth=1.0)
        b_star = float(value(RESULT_CROSSOVER, **sizes))
        worst = max(worst, abs(first - int(np.ceil(b_star))))
    return Measurement(float(worst), cases, 0.0,
                       "first batch of counted decode steps with FLOPs/bytes >= R vs ceil(b*)")


def _matrix_params(config) -> int:
    """N of a decoder, counted from its shapes (the weight matrices that multiply)."""
    per_layer = 2 * config.d_model * config.d_head * (config.n_heads + config.n_kv_heads)
    per_layer += (3 if config.ffn == "swiglu" else 2) * config.d_model * config.d_ff
    return config.n_layers * per_layer + config.d_model * config.vocab_size


# --- The derivation ------------------------------------------------------------
RESULT_CROSSOVER = (R * e * N / (f - R * e * c)).xreplace({R: peak / bandwidth})
DECODE = (N, L, h, h_kv, d_h, t, e)

DERIVATION = Derivation(
    id="roofline",
    title="The roofline and the decode crossover",
    topic="Compute and memory",
    order=75,
    gloss="Time is at least $\\max(F/\\pi, Q/\\beta)$; decoding reads every weight per step, "
          "so it stays memory-bound until the batch reaches $b^* = ReN/(f - Rec)$.",
    assumptions=(
        "The roofline model: compute and memory traffic overlap perfectly, so a kernel takes "
        "at least $\\max(F/\\pi, Q/\\beta)$ seconds.",
        "A decode step reads each weight matrix once and each sequence's cache once; "
        "activations and the new keys and values are negligible.",
    ),
    definitions=(
        Definition("intensity", I, F / Q, "FLOPs per byte moved"),
        Definition("ridge point", R, peak / bandwidth, "the device's FLOPs per byte"),
        Definition("decode intensity", DecodeIntensity(b), DecodeIntensity(b).definition(b)),
        Definition("per-sequence FLOPs", f, PER_SEQ[f], "transformer-flops"),
        Definition("per-sequence cache elements", c, PER_SEQ[c], "$K$ and $V$, $t + 1$ positions"),
    ),
    claims=(ridge, matmul, square, growing, crossover),
    results=(
        Result("roofline_time", Max(F / peak, Q / bandwidth), (F, Q, peak, bandwidth),
               "lower bound on the seconds of F FLOPs moving Q bytes", units="s", claim="ridge"),
        Result("matmul_intensity", matmul.end, (p, q, r, e),
               "FLOPs per byte of a (p x q)(q x r) product", units="FLOP/B", claim="matmul"),
        Result("decode_bytes", (e * (N + b * c)).xreplace(PER_SEQ), (b, *DECODE),
               "bytes a decode step reads: weights once, each cache once", units="bytes",
               claim="crossover", integer=True),
        Result("decode_intensity", DecodeIntensity(b).definition(b).xreplace(PER_SEQ),
               (b, *DECODE), "FLOPs per byte of a decode step for b sequences",
               units="FLOP/B", claim="crossover"),
        Result("decode_crossover_batch", RESULT_CROSSOVER.xreplace(PER_SEQ),
               (peak, bandwidth, *DECODE),
               "batch at which a decode step's intensity reaches the ridge point "
               "(negative: never)", units="sequences", claim="crossover"),
    ),
    checks=(
        NumericCheck("matmul", check_matmul,
                     "60 NumPy products in fp16, fp32 and fp64: counted FLOPs over their arrays' "
                     "bytes equal $I_{\\mathrm{mm}}$."),
        NumericCheck("crossover", check_crossover,
                     "Decode steps of random NumPy decoders for batches 1 to 16, FLOPs counted "
                     "and bytes weighed: the first compute-bound batch is $\\lceil b^* \\rceil$."),
    ),
    notation={peak: "peak FLOP/s", bandwidth: "memory bandwidth, B/s", e: "bytes per element",
              "R": "ridge point $\\pi/\\beta$", N: "weight-matrix parameters",
              t: "tokens already cached"},
    sources=(
        "Williams, Waterman and Patterson 2009, Roofline: an insightful visual performance "
        "model for multicore architectures (CACM 52(4)).",
        "Pope et al. 2022, Efficiently Scaling Transformer Inference (arXiv 2211.05102), "
        "section 2: decoding is memory-bound at small batch.",
    ),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
