"""KV-cache bytes, and what standard attention and FlashAttention write and move through HBM.

Statement
    A cache of s tokens for b sequences holds, in every one of the L layers and
    for each of the h_kv key/value heads, one key and one value of d_h elements
    per token, B_el bytes each: summing proves M_KV = 2 L h_kv d_h s b B_el.
    Sharing key/value heads (GQA, MQA) divides it by h / h_kv. Standard attention
    (Dao et al. 2022, Algorithm 0) writes the scores S and probabilities P of every
    head to HBM, 2 b h s^2 B_el bytes per layer; FlashAttention-2 keeps one fp32
    log-sum-exp per row, 4 b h s bytes. Per head, Algorithm 0 moves 4 s d_h + 4 s^2
    elements between HBM and the chip, Algorithm 1 with SRAM of M_sram elements
    3 s d_h + 2 s + 4 s^2 d_h (3 d_h + 4) / M_sram (its block loops summed).

Run on its own: ``python derivations/kv_cache_memory.py``.
"""

import numpy as np
from sympy import Eq, Integer, Sum, Symbol

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
from llmsym.notation import Named, Notation, factors, group, terms, unfold

# --- Symbols -----------------------------------------------------------------
# The same names print the same way in every compute-and-memory derivation.
LATEX = {"n_layers": "L", "n_heads": "h", "n_kv_heads": "h_{kv}", "d_head": "d_{h}",
         "seq": "s", "batch": "b", "bytes_per_element": r"B_{\mathrm{el}}",
         "sram_elements": r"M_{\mathrm{sram}}", "block_cols": "B_{c}", "block_rows": "B_{r}",
         "col_blocks": "T_{c}", "row_blocks": "T_{r}"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


L, h, h_kv, d_h, s, b, B_el, B_c, B_r, T_c, T_r = map(size, (
    "n_layers", "n_heads", "n_kv_heads", "d_head", "seq", "batch", "bytes_per_element",
    "block_cols", "block_rows", "col_blocks", "row_blocks"))
M_sram = Named("sram_elements", LATEX["sram_elements"], positive=True)
ell, j, i = (Symbol(x, integer=True, positive=True) for x in (r"\ell", "j", "i"))
M_KV, M_SP, M_LSE, A_std, A_flash = (Symbol(n, positive=True) for n in (
    r"M_{\mathrm{KV}}", r"M_{\mathrm{SP}}", r"M_{\mathrm{LSE}}", r"A_{\mathrm{std}}",
    r"A_{\mathrm{flash}}"))


class KV(Notation):  # noqa: N801
    """``KV(g)``: bytes of the key/value cache with g key/value heads (other sizes fixed)."""

    nargs = 1

    @classmethod
    def definition(cls, heads):
        return 2 * L * heads * d_h * s * b * B_el

    def _latex(self, printer) -> str:
        return r"M_{\mathrm{KV}}(%s)" % printer._print(self.args[0])




# --- Definitions -------------------------------------------------------------------
PER_HEAD = factors(b, s, d_h, B_el)  # one head's keys (or values): b sequences, s tokens
CACHE = Definition("KV cache", M_KV,
                   Sum(Sum(group(PER_HEAD, PER_HEAD), (j, 1, h_kv)), (ell, 1, L)),
                   "per layer $\\ell$ and key/value head $j$: the keys, then the values, of "
                   "$s$ tokens of $b$ sequences, $d_{h}$ elements of $B_{\\mathrm{el}}$ bytes")
SP = Definition("scores and probabilities", M_SP,
                Sum(factors(b, group(s**2, s**2), B_el), (j, 1, h)),
                "per head: $S = QK^\\top$ and $P = \\mathrm{softmax}(S)$, $s \\times s$ each, "
                "written to HBM for $b$ sequences (one layer)")
LSE = Definition("row statistics", M_LSE, Sum(factors(4, b, s), (j, 1, h)),
                 "per head: one fp32 log-sum-exp per query row (FlashAttention-2; one layer)")
STD_IO = Definition("standard attention traffic", A_std,
                    terms(factors(2, s, d_h), s**2, s**2, s**2, s**2, factors(s, d_h),
                          factors(s, d_h)),
                    "Algorithm 0, one head: read $Q$, $K$; write $S$; read $S$; write $P$; read "
                    "$P$; read $V$; write $O$")
FLASH_IO = Definition(
    "FlashAttention traffic", A_flash,
    terms(factors(s, d_h), 2 * s,
          Sum(group(factors(2, B_c, d_h), Sum(group(factors(3, B_r, d_h), factors(4, B_r)),
                                                 (i, 1, T_r))), (j, 1, T_c))),
    "Algorithm 1, one head: write the initial $O$, $\\ell$, $m$; for each of $T_c$ blocks of "
    "$K$, $V$ read them, and for each of $T_r$ row blocks read $Q_i$, $O_i$, $\\ell_i$, $m_i$ "
    "and write $O_i$, $\\ell_i$, $m_i$")

# --- Claims ------------------------------------------------------------------
kv_cache = Claim(
    "kv_cache",
    "KV-cache bytes",
    start=M_KV,
    steps=(
        Step(CACHE.rhs, "one key and one value per token, head and layer", "definition"),
        Step(factors(L, h_kv, 2, PER_HEAD), "the summands depend on neither $\\ell$ nor $j$",
             "unfold+doit"),
        Step(factors(2, L, h_kv, d_h, s, b, B_el), "collect", "unfold+expand"),
    ),
    note="Element sizes $B_{\\mathrm{el}}$: fp32 4, bf16 and fp16 2, fp8 1. GQA and MQA divide "
    "the cache by $h/h_{kv}$ against MHA's $h_{kv} = h$.",
)

sharing = Claim(
    "sharing",
    "GQA and MQA shrink the cache by $h / h_{kv}$",
    start=KV(h) / KV(h_kv),
    steps=(Step(h / h_kv, "everything but the number of key/value heads cancels",
                "unfold+cancel"),),
    on_sheet=False,
    note="MQA ($h_{kv} = 1$) saves a factor $h$; Llama-3-8B ($h = 32$, $h_{kv} = 8$) a factor 4.",
)

scores_bytes = Claim(
    "scores_bytes",
    "Standard attention writes $S$ and $P$ of every head",
    start=M_SP,
    steps=(
        Step(SP.rhs, "two $s \\times s$ matrices per head and sequence", "definition"),
        Step(factors(2, b, h, s**2, B_el), "$h$ equal summands", "unfold+doit"),
    ),
    on_sheet=False,
    note="Quadratic in $s$; what Algorithm 0 writes. FlashAttention writes neither.",
)

stats_bytes = Claim(
    "stats_bytes",
    "FlashAttention-2 keeps one fp32 number per row",
    start=M_LSE,
    steps=(
        Step(LSE.rhs, "one 4-byte log-sum-exp per query row, head and sequence", "definition"),
        Step(factors(4, b, h, s), "$h$ equal summands", "unfold+doit"),
    ),
    on_sheet=False,
    note="Linear in $s$: the backward pass recomputes $P = e^{S - L}$ from it.",
)

standard_io = Claim(
    "standard_io",
    "HBM traffic of standard attention",
    start=A_std,
    steps=(Step(terms(factors(4, s, d_h), factors(4, s**2)), "collect", "definition"),),
    on_sheet=False,
    note="$\\Theta(sd_{h} + s^2)$ elements (Dao et al. 2022, Theorem 2).",
)

BLOCKS = (Hypothesis(Eq(T_c, s / B_c), "$B_c$ divides $s$ into $T_c$ blocks"),
          Hypothesis(Eq(T_r, s / B_r), "$B_r$ divides $s$ into $T_r$ blocks"))
BLOCK_SIZE = Hypothesis(Eq(B_c, M_sram / (4 * d_h)),
                        "Dao et al.'s $B_c = M_{\\mathrm{sram}}/(4d_{h})$")

flash_io = Claim(
    "flash_io",
    "HBM traffic of FlashAttention",
    start=A_flash,
    steps=(
        Step(FLASH_IO.rhs, "Algorithm 1's reads and writes, loop by loop", "definition"),
        Step(terms(factors(s, d_h), 2 * s, factors(T_c, group(factors(2, B_c, d_h), factors(
            T_r, group(factors(3, B_r, d_h), factors(4, B_r)))))),
             "the summands depend on neither block index", "unfold+doit"),
        Step(terms(factors(3, s, d_h), 2 * s, factors(s / B_c, group(factors(3, s, d_h),
                                                                     factors(4, s)))),
             "$T_c B_c = T_r B_r = s$", "unfold+expand", using=BLOCKS),
        Step(terms(factors(3, s, d_h), 2 * s,
                   factors(4, s**2, d_h, group(factors(3, d_h), 4)) / M_sram),
             "the block size $B_c = M_{\\mathrm{sram}}/(4d_{h})$", "unfold+cancel",
             using=(BLOCK_SIZE,)),
    ),
    on_sheet=False,
    note="$\\Theta(s^2 d_{h}^2 / M_{\\mathrm{sram}})$ (Dao et al. 2022, Theorem 2): below the "
    "standard $4s^2$ once $M_{\\mathrm{sram}} > 3d_{h}^2 + 4d_{h}$.",
)


# --- Numeric checks ----------------------------------------------------------


def exact(expr, **values: int):
    """A closed form at integer sizes in exact rational arithmetic."""
    expr = unfold(expr)
    return expr.xreplace({sym: Integer(values[sym.name]) for sym in expr.free_symbols})


def check_cache_bytes(rng: np.random.Generator, formula) -> Measurement:
    """Prefill a NumPy decoder's KV cache in each element format and read its ``nbytes``."""
    from llmsym.numeric.transformer import Counter, Decoder, random_config

    worst, cases = 0, 0
    for fmt, width in (("fp32", 4), ("bf16", 2), ("fp16", 2), ("fp8", 1)):
        for _ in range(4):
            config = random_config(rng)
            batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
            tokens = rng.integers(0, config.vocab_size, size=(batch, seq))
            _, cache = Decoder(config, rng).prefill(tokens, fmt, Counter())
            want = formula(n_layers=config.n_layers, n_kv_heads=config.n_kv_heads,
                           d_head=config.d_head, seq=seq, batch=batch, bytes_per_element=width)
            worst, cases = max(worst, abs(cache.nbytes - int(want))), cases + 1
    return Measurement(float(worst), cases, 0.0,
                       "nbytes of KV caches stored as fp32, bf16, fp16 and fp8 (E5M2) vs M_KV")


def check_standard_io(rng: np.random.Generator, formula) -> Measurement:
    """Algorithm 0 in NumPy, every HBM read and write counted."""
    from llmsym.numeric.transformer import Traffic, standard_attention_io

    worst, cases = 0, 20
    for _ in range(cases):
        n, d = int(rng.integers(1, 30)), int(rng.integers(1, 9))
        q, k, v = rng.normal(size=(3, n, d))
        traffic = Traffic()
        standard_attention_io(q, k, v, traffic)
        worst = max(worst, abs(traffic.total - int(formula(seq=n, d_head=d))))
    return Measurement(float(worst), cases, 0.0, "elements Algorithm 0 moves vs A_std")


def flash_attention_algorithm1(q, k, v, block_cols: int, block_rows: int) -> tuple:
    """Dao et al. (2022) Algorithm 1 for one head, counting every element moved to or from HBM,
    the initialisation of O, l and m included. Returns the output and the count."""
    n, d = q.shape
    moved = 0
    out, rowsum, rowmax = np.zeros((n, d)), np.zeros(n), np.full(n, -np.inf)
    moved += out.size + rowsum.size + rowmax.size  # line 2: initialise in HBM
    for c0 in range(0, n, block_cols):
        kj, vj = k[c0:c0 + block_cols], v[c0:c0 + block_cols]
        moved += kj.size + vj.size
        for r0 in range(0, n, block_rows):
            rows = slice(r0, r0 + block_rows)
            qi, oi, li, mi = q[rows], out[rows], rowsum[rows], rowmax[rows]
            moved += qi.size + oi.size + li.size + mi.size
            sij = qi @ kj.T
            m_new = np.maximum(mi, sij.max(axis=1))
            pij = np.exp(sij - m_new[:, None])
            scale = np.exp(mi - m_new)
            l_new = scale * li + pij.sum(axis=1)
            out[rows] = (scale[:, None] * li[:, None] * oi + pij @ vj) / l_new[:, None]
            rowsum[rows], rowmax[rows] = l_new, m_new
            moved += out[rows].size + l_new.size + m_new.size
    return out, moved


def check_flash_io(rng: np.random.Generator, formula) -> Measurement:
    """Algorithm 1 with B_c = M/(4 d_h), counted; its output must equal softmax attention."""
    from llmsym.numeric import attention

    worst, cases = 0.0, 20
    for _ in range(cases):
        d = int(rng.choice([1, 2, 4, 8]))
        cols = int(rng.integers(1, 5))
        rows = int(rng.choice([r for r in range(1, 5) if r <= max(cols, d)]))
        n = cols * rows * int(rng.integers(1, 4))  # both block sizes divide n
        q, k, v = rng.normal(size=(3, n, d))
        out, moved = flash_attention_algorithm1(q, k, v, cols, rows)
        if np.max(np.abs(out - attention(q * np.sqrt(d), k, v))) > 1e-9:  # S = QK^T unscaled
            return Measurement(float("inf"), cases, 0.0, "Algorithm 1 computed something else")
        want = float(formula(seq=n, d_head=d, sram_elements=4 * d * cols))
        worst = max(worst, abs(moved - want))
    return Measurement(worst, cases, 1e-9, "elements Algorithm 1 moves (initialisation included) "
                       "vs A_flash; outputs equal softmax attention")


def example_llama3():
    from llmsym.presets import load_preset

    c = load_preset("llama-3-8b")
    n = int(exact(kv_cache.end, n_layers=c.n_layers, n_kv_heads=c.n_kv_heads, d_head=c.d_head,
                  seq=8192, batch=1, bytes_per_element=2))
    return ("Llama-3-8B, 8192 tokens in bf16",
            rf"M_{{\mathrm{{KV}}}} = {n:,}".replace(",", "{,}")
            + rf"\ \mathrm{{B}} = {n / 2**30:g}\ \mathrm{{GiB}}")


# --- The derivation ------------------------------------------------------------
DERIVATION = Derivation(
    id="kv-cache-memory",
    title="KV cache and attention memory",
    topic="Compute and memory",
    order=73,
    gloss="The cache grows as $2Lh_{kv}d_{h}sbB_{\\mathrm{el}}$; standard attention writes "
          "$s^2$ scores per head, FlashAttention one number per row and moves "
          "$\\Theta(s^2d_{h}^2/M_{\\mathrm{sram}})$ elements.",
    assumptions=(
        "Keys and values of every layer are cached for all $s$ tokens (no sliding window, "
        "no paging overhead, no quantisation scales).",
        "FlashAttention as in Dao et al. 2022, Algorithm 1, with block sizes $B_c = "
        "M_{\\mathrm{sram}}/(4d_{h})$ and $B_r$ dividing $s$.",
    ),
    definitions=(CACHE, SP, LSE, STD_IO, FLASH_IO),
    claims=(kv_cache, sharing, scores_bytes, stats_bytes, standard_io, flash_io),
    results=(
        Result("kv_cache_bytes", unfold(kv_cache.end), (L, h_kv, d_h, s, b, B_el),
               "bytes of the key/value cache for b sequences of s tokens", units="bytes",
               claim="kv_cache", integer=True),
        Result("attention_scores_bytes", unfold(scores_bytes.end), (b, h, s, B_el),
               "bytes of S and P that standard attention writes, per layer",
               units="bytes", claim="scores_bytes", integer=True),
        Result("flash_stats_bytes", unfold(stats_bytes.end), (b, h, s),
               "bytes of FlashAttention-2's fp32 log-sum-exp per row, per layer", units="bytes",
               claim="stats_bytes", integer=True),
        Result("standard_attention_hbm", unfold(standard_io.end), (s, d_h),
               "elements standard attention moves to and from HBM, per head", units="elements",
               claim="standard_io", integer=True),
        Result("flash_attention_hbm", unfold(flash_io.end), (s, d_h, M_sram),
               "elements FlashAttention moves to and from HBM, per head, SRAM of M elements",
               units="elements", claim="flash_io"),
    ),
    checks=(
        NumericCheck("cache_bytes", check_cache_bytes,
                     "KV caches of 16 random NumPy decoders stored in fp32, bf16, fp16 and fp8: "
                     "their nbytes equal $M_{\\mathrm{KV}}$ exactly.", claim="kv_cache"),
        NumericCheck("standard_io", check_standard_io, "Algorithm 0 in NumPy, every HBM read "
                     "and write counted: $A_{\\mathrm{std}}$ exactly.", claim="standard_io"),
        NumericCheck("flash_io", check_flash_io, "Algorithm 1 in NumPy, initialisation and every "
                     "block moved counted: $A_{\\mathrm{flash}}$ exactly, and the output equals "
                     "softmax attention.", claim="flash_io"),
    ),
    notation={M_KV: "bytes of the key/value cache",
              M_SP: "bytes of $S$ and $P$ written by standard attention, one layer",
              M_LSE: "bytes of FlashAttention-2's row statistics, one layer",
              M_sram: "on-chip SRAM, in elements", B_c: "key/value block rows",
              B_r: "query block rows", T_c: "key/value blocks, $s/B_c$",
              T_r: "query blocks, $s/B_r$",
              A_std: "elements standard attention moves between HBM and the chip, per head",
              A_flash: "elements FlashAttention moves between HBM and the chip, per head"},
    sources=(
        "Shazeer 2019, Fast Transformer Decoding (MQA, arXiv 1911.02150); Ainslie et al. 2023 "
        "(GQA, arXiv 2305.13245).",
        "Dao et al. 2022, FlashAttention (arXiv 2205.14135), Algorithms 0 and 1, Theorem 2; "
        "Dao 2023, FlashAttention-2 (arXiv 2307.08691): one log-sum-exp per row.",
    ),
    examples=(example_llama3,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
