"""KV-cache bytes, and what naive attention and FlashAttention keep in and move through memory.

Statement
    A cache of s tokens for b sequences holds KV = 2 L h_kv d_h s b e bytes
    (e bytes per element); sharing key/value heads (GQA, MQA) divides it by
    h / h_kv. Naive attention keeps the scores and probabilities of every
    head, 2 b h s^2 e bytes per layer, FlashAttention one fp32 logsumexp per
    row, 4 b h s: a factor s e / 2. Per head, the standard algorithm moves
    4 s d_h + 4 s^2 elements between HBM and the chip, FlashAttention with
    SRAM of M elements 2 s d_h + 4 s^2 d_h (3 d_h + 4) / M.

Run on its own: ``python derivations/kv_cache_memory.py``.
"""

import numpy as np
from sympy import Add, Eq, Integer, Symbol

from llmsym.model import Claim, Derivation, Measurement, NumericCheck, Result, Step
from llmsym.notation import Named, Notation, unfold

# --- Symbols -----------------------------------------------------------------
LATEX = {"n_layers": "L", "n_heads": "h", "n_kv_heads": "h_{kv}", "d_head": "d_h",
         "seq": "s", "batch": "b", "bytes_per_element": "e", "sram_elements": "M",
         "block_cols": "B_c"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


L, h, h_kv, d_h, s, b, e, M, B_c = map(size, (
    "n_layers", "n_heads", "n_kv_heads", "d_head", "seq", "batch", "bytes_per_element",
    "sram_elements", "block_cols"))
M_naive, M_flash, A_std, A_flash = (Symbol(n, positive=True) for n in (
    r"M_{\mathrm{naive}}", r"M_{\mathrm{flash}}", r"A_{\mathrm{std}}", r"A_{\mathrm{flash}}"))


class KV(Notation):  # noqa: N801
    """``KV(g)``: bytes of the key/value cache with g key/value heads (other sizes fixed)."""

    nargs = 1

    @classmethod
    def definition(cls, heads):
        return 2 * L * heads * d_h * s * b * e

    def _latex(self, printer) -> str:
        return r"\mathrm{KV}(%s)" % printer._print(self.args[0])


# --- Claims ------------------------------------------------------------------
kv_cache = Claim(
    "kv_cache",
    "KV-cache bytes",
    start=KV(h_kv),
    steps=(
        Step(L * b * s * Add(h_kv * d_h, h_kv * d_h, evaluate=False) * e,
             "per layer, sequence and token: one key and one value of $d_h$ elements for each "
             "of the $h_{kv}$ key/value heads", "definition"),
        Step(2 * L * h_kv * d_h * s * b * e, "collect", "expand"),
    ),
    note="Element sizes $e$: fp32 4, bf16 and fp16 2, fp8 1.",
)

sharing = Claim(
    "sharing",
    "GQA and MQA shrink the cache by $h / h_{kv}$",
    start=KV(h) / KV(h_kv),
    steps=(Step(h / h_kv, "everything but the number of key/value heads cancels",
                "unfold+cancel"),),
    note="MQA ($h_{kv} = 1$) saves a factor $h$; Llama-3-8B ($h = 32$, $h_{kv} = 8$) a factor 4.",
)

attention_memory = Claim(
    "attention_memory",
    "Naive attention keeps $se/2$ times more than FlashAttention",
    start=M_naive / M_flash,
    steps=(
        Step(Add(b * h * s**2 * e, b * h * s**2 * e, evaluate=False) / (4 * b * h * s),
             "per layer, naive attention keeps the $s \\times s$ scores and probabilities of "
             "each of $bh$ heads; FlashAttention only one fp32 logsumexp per query row (the "
             "output $O$ is kept by both)", "definition"),
        Step(s * e / 2, "cancel", "cancel"),
    ),
    note="$M_{\\mathrm{naive}} = 2bhs^2e$, $M_{\\mathrm{flash}} = 4bhs$ per layer: quadratic "
         "against linear in $s$.",
)

standard_io = Claim(
    "standard_io",
    "HBM traffic of standard attention",
    start=A_std,
    steps=(
        Step(Add(3 * s * d_h, s**2, s**2, s**2, s**2, s * d_h, evaluate=False),
             "per head: read $Q, K, V$; write and read back $S = QK^\\top$; write and read "
             "back $P = \\mathrm{softmax}(S)$; write $O = PV$", "definition"),
        Step(4 * s * d_h + 4 * s**2, "collect", "expand"),
    ),
    on_sheet=False,
    note="$\\Theta(sd_h + s^2)$ elements (Dao et al. 2022, Theorem 2).",
)

flash_io = Claim(
    "flash_io",
    "HBM traffic of FlashAttention",
    start=A_flash,
    steps=(
        Step(2 * s * d_h + (s / B_c) * (3 * s * d_h + 4 * s),
             "read each block of $K$ and $V$ once; for each of the $s / B_c$ blocks, read all of "
             "$Q$ and $O$ and write $O$, read and write the row statistics $\\ell$ and $m$",
             "definition"),
        Step(2 * s * d_h + 4 * d_h * s * (3 * s * d_h + 4 * s) / M,
             "Dao et al.'s block size $B_c = M / (4 d_h)$", "cancel",
             using=(Eq(B_c, M / (4 * d_h)),)),
        Step(2 * s * d_h + 4 * s**2 * d_h * (3 * d_h + 4) / M, "factor", "expand"),
    ),
    note="$\\Theta(s^2 d_h^2 / M)$: below the standard $4s^2$ term when $(3d_h^2 + 4d_h) < M$; "
         "assumes $B_c \\mid s$ and row blocks $B_r \\mid s$.",
)


# --- Numeric checks ----------------------------------------------------------


def exact(expr, **values: int):
    """A closed form at integer sizes in exact rational arithmetic."""
    expr = unfold(expr)
    return expr.xreplace({sym: Integer(values[sym.name]) for sym in expr.free_symbols})


def check_cache_bytes(rng: np.random.Generator) -> Measurement:
    """Prefill a NumPy decoder's KV cache in each element format and read its ``nbytes``."""
    from llmsym.numeric.transformer import Counter, Decoder, random_config

    worst, cases = 0, 0
    for fmt, width in (("fp32", 4), ("bf16", 2), ("fp16", 2), ("fp8", 1)):
        for _ in range(10):
            config = random_config(rng)
            batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
            tokens = rng.integers(0, config.vocab_size, size=(batch, seq))
            _, cache = Decoder(config, rng).prefill(tokens, fmt, Counter())
            expected = exact(kv_cache.end, n_layers=config.n_layers, n_kv_heads=config.n_kv_heads,
                             d_head=config.d_head, seq=seq, batch=batch, bytes_per_element=width)
            worst, cases = max(worst, abs(cache.nbytes - int(expected))), cases + 1
    return Measurement(float(worst), cases, 0.0,
                       "nbytes of KV caches stored as fp32, bf16, fp16 and fp8 (E5M2) vs KV, exact")


def check_traffic(rng: np.random.Generator) -> Measurement:
    """Run standard attention and FlashAttention (Algorithm 1), counting HBM reads and writes."""
    from llmsym.numeric.transformer import Traffic, flash_attention_io, standard_attention_io

    worst, cases = 0.0, 30
    for _ in range(cases):
        d = int(rng.choice([2, 4, 8]))
        block = int(rng.integers(1, 5))  # B_c, so that M = 4 d B_c
        n = block * int(rng.integers(1, 7))
        q, k, v = rng.normal(size=(3, n, d)) * 2
        plain, flash = Traffic(), Traffic()
        out = standard_attention_io(q, k, v, plain)
        fast = flash_attention_io(q, k, v, block, min(block, d) if n % min(block, d) == 0 else 1,
                                  flash)
        if np.max(np.abs(out - fast)) > 1e-10:  # the two must compute the same attention
            return Measurement(float("inf"), cases, 0.0, "FlashAttention output differs")
        want_plain = exact(standard_io.end, seq=n, d_head=d)
        want_flash = exact(flash_io.end, seq=n, d_head=d, sram_elements=4 * d * block)
        worst = max(worst, abs(plain.total - want_plain), abs(flash.total - want_flash))
    return Measurement(float(worst), cases, 0.0,
                       "elements moved by NumPy standard attention and tiled FlashAttention vs "
                       "A_std and A_flash, exact; outputs agree to 1e-10")


def example_llama3():
    from llmsym.presets import load_preset

    c = load_preset("llama-3-8b")
    n = exact(kv_cache.end, n_layers=c.n_layers, n_kv_heads=c.n_kv_heads, d_head=c.d_head,
              seq=8192, batch=1, bytes_per_element=2)
    return ("Llama-3-8B, 8192 tokens in bf16",
            rf"\mathrm{{KV}} = {int(n):,}".replace(",", "{,}") + rf"\ \mathrm{{B}} = {n / 2**30}"
            r"\ \mathrm{GiB}")


# --- The derivation ------------------------------------------------------------
DERIVATION = Derivation(
    id="kv-cache-memory",
    title="KV cache and attention memory",
    topic="Compute and memory",
    order=73,
    gloss="The cache grows as $2Lh_{kv}d_hsbe$; naive attention stores $s^2$ per head, "
          "FlashAttention a number per row and moves $\\Theta(s^2d_h^2/M)$.",
    assumptions=(
        "Keys and values of every layer are cached for all $s$ tokens (no sliding window, "
        "no paging overhead, no quantisation scales).",
        "FlashAttention as in Dao et al. 2022, Algorithm 1, with block sizes "
        "$B_c = M / (4d_h)$ and $B_r = \\min(B_c, d_h)$ dividing $s$.",
    ),
    claims=(kv_cache, sharing, attention_memory, standard_io, flash_io),
    results=(
        Result("kv_cache_bytes", kv_cache.end, (L, h_kv, d_h, s, b, e),
               "bytes of the key/value cache for b sequences of s tokens", units="bytes",
               claim="kv_cache", integer=True),
        Result("attention_scores_bytes", 2 * b * h * s**2 * e, (b, h, s, e),
               "bytes of the scores and probabilities naive attention keeps, per layer",
               units="bytes", claim="attention_memory", integer=True),
        Result("flash_stats_bytes", 4 * b * h * s, (b, h, s),
               "bytes of FlashAttention's fp32 logsumexp per row, per layer", units="bytes",
               claim="attention_memory", integer=True),
        Result("standard_attention_hbm", standard_io.end, (s, d_h),
               "elements standard attention moves to and from HBM, per head", units="elements",
               claim="standard_io", integer=True),
        Result("flash_attention_hbm", flash_io.end, (s, d_h, M),
               "elements FlashAttention moves to and from HBM, per head, SRAM of M elements",
               units="elements", claim="flash_io"),
    ),
    checks=(
        NumericCheck("cache_bytes", check_cache_bytes,
                     "KV caches of 40 random NumPy decoders stored in fp32, bf16, fp16 and fp8: "
                     "their nbytes equal KV exactly."),
        NumericCheck("hbm_traffic", check_traffic,
                     "Standard attention and a tiled FlashAttention in NumPy, every HBM read and "
                     "write counted: the counts equal $A_{\\mathrm{std}}$ and "
                     "$A_{\\mathrm{flash}}$ exactly, and the outputs agree."),
    ),
    notation={e: "bytes per element", M: "on-chip SRAM, in elements", B_c: "key/value block rows",
              "A": "elements moved between HBM and the chip, per head"},
    sources=(
        "Shazeer 2019, Fast Transformer Decoding (MQA, arXiv 1911.02150); Ainslie et al. 2023 "
        "(GQA, arXiv 2305.13245).",
        "Dao et al. 2022, FlashAttention (arXiv 2205.14135), Algorithm 1 and Theorem 2.",
    ),
    examples=(example_llama3,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
