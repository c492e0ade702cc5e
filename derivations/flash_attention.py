"""FlashAttention: the algebra of block states and the two update schedules.

Statement
    The merge of block states (m, l, o) (derivation ``online-softmax``) is
    associative and commutative with identity (-inf, 0, 0), so blocks of keys can
    be combined in any order or tree (split-K, flash decoding).
    FlashAttention-1 keeps O normalised and rescales it by l_{t-1} e^{m_{t-1} - m_t} / l_t;
    FlashAttention-2 keeps U unnormalised, rescales it by e^{m_{t-1} - m_t} and divides
    by l once at the end. If O_{t-1} = U_{t-1} / l_{t-1} then O_t = U_t / l_t: the two
    schedules agree after every block. FlashAttention-2 stores L = m + log l = LSE(s),
    and the backward pass recomputes the probabilities as e^{s_i - L}.

Run on its own: ``python derivations/flash_attention.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import (
    Eq,
    ImmutableDenseMatrix,
    IndexedBase,
    Max,
    Sum,
    Symbol,
    exp,
    log,
    oo,
    symbols,
)

from llmsym.model import (
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Sizes,
    Step,
)
from llmsym.notation import Labelled, Notation, labelled, logsumexp, softmax

# --- Block states as columns (m, l, o), printed by name ----------------------
State = Labelled


def state(m, ell, o, label: str) -> State:
    """The state ``(m, ell, o)``, a column printed by its name, e.g. A (+) (B (+) C)."""
    return labelled(ImmutableDenseMatrix([m, ell, o]), label)


def named(name: str) -> State:
    """The state of block ``name``: a real reference, a positive normaliser, a real output."""
    return state(Symbol(f"m_{name}", real=True), Symbol(rf"\ell_{name}", positive=True),
                 Symbol(f"o_{name}", real=True), name)


def _grouped(st: State) -> str:
    return rf"\left({st.label}\right)" if r"\oplus" in st.label else st.label


def oplus(a: State, b: State) -> State:
    """The merge ``a (+) b``: rescale both to the common reference max(m_a, m_b)."""
    (m_a, l_a, o_a), (m_b, l_b, o_b) = a, b
    m = Max(m_a, m_b)
    w_a, w_b = l_a * exp(m_a - m), l_b * exp(m_b - m)
    return state(m, w_a + w_b, (w_a * o_a + w_b * o_b) / (w_a + w_b),
                 rf"{_grouped(a)} \oplus {_grouped(b)}")


A, B, C = named("A"), named("B"), named("C")
EMPTY = state(-oo, 0, 0, r"\left(-\infty, 0, 0\right)")


# --- Claims: the merge algebra -----------------------------------------------
associative = Claim(
    "associative",
    "The merge is associative",
    start=oplus(oplus(A, B), C),
    steps=(
        Step(oplus(A, oplus(B, C)),
             "both sides rescale every block to $m = \\max(m_A, m_B, m_C)$: rescalings compose, "
             "$e^{m_A - m_{AB}} e^{m_{AB} - m} = e^{m_A - m}$, and $\\max$ is associative",
             "expand"),
    ),
    note="Written out, both sides are the merge of all three blocks at the common reference "
         "$\\max(m_A, m_B, m_C)$. So blocks may be merged in any tree: split-K and flash "
         "decoding merge partial results computed in parallel.",
)

commutative = Claim(
    "commutative",
    "The merge is commutative",
    start=oplus(A, B),
    steps=(Step(oplus(B, A), "the merge formula is symmetric in its two arguments", "expand"),),
    on_sheet=False,
)

identity = Claim(
    "identity",
    "The empty block is the identity",
    start=oplus(A, EMPTY),
    steps=(Step(A, "$\\max(m_A, -\\infty) = m_A$ and $0 \\cdot e^{-\\infty - m_A} = 0$",
                "expand"),),
    on_sheet=False,
    note="Only $(-\\infty, 0, 0) \\oplus (-\\infty, 0, 0)$ meets $-\\infty - (-\\infty)$; see the "
         "remark on the implementation's guard.",
)

# --- Claims: the two schedules -------------------------------------------------
m_prev, m_t = Symbol("m_{t-1}", real=True), Symbol("m_t", real=True)
ell_prev, ell_t = Symbol(r"\ell_{t-1}", positive=True), Symbol(r"\ell_t", positive=True)
o_prev, u_prev, u_t = (Symbol(name, real=True) for name in ("O_{t-1}", "U_{t-1}", "U_t"))
m_blk, ell_blk = Symbol("mtilde_t", real=True), Symbol("elltilde_t", positive=True)
pv_blk = Symbol(r"\tilde{P}_{t} V_{t}", real=True)  # one coordinate of P~_t V_t

fa1_update = (ell_prev * exp(m_prev - m_t) * o_prev + exp(m_blk - m_t) * pv_blk) / ell_t
fa2_update = exp(m_prev - m_t) * u_prev + exp(m_blk - m_t) * pv_blk

schedules_agree = Claim(
    "schedules_agree",
    "FlashAttention-1 and -2 agree after every block",
    start=fa1_update,
    steps=(
        Step((exp(m_prev - m_t) * u_prev + exp(m_blk - m_t) * pv_blk) / ell_t,
             "induction hypothesis $O_{t-1} = U_{t-1} / \\ell_{t-1}$", "cancel",
             using=(Eq(o_prev, u_prev / ell_prev),)),
        Step(u_t / ell_t, "the FlashAttention-2 update of $U$", "expand",
             using=(Eq(u_t, fa2_update),)),
    ),
    note="Left: the FlashAttention-1 update of the normalised output. After the first block "
         "$O_1 = U_1 / \\ell_1$ (both are $\\tilde P_1 V_1 / \\ell_1$), so by induction "
         "FlashAttention-1's $O_T$ equals FlashAttention-2's $U_T / \\ell_T$, for any choice of "
         "the references $m_t$.",
)

# Unrolled over T blocks of two keys each (checked for concrete T).
T = Symbol("T", integer=True, positive=True)
i, j, k = symbols("i j k", integer=True, positive=True)
n = Symbol("n", integer=True, positive=True)
s = IndexedBase("s", real=True)  # the scores of one query
v = IndexedBase("v", real=True)  # one coordinate of the values
BLOCK = 2


class fa2_loop(Notation):  # noqa: N801
    """``fa2_loop(T)``: FlashAttention-2's output U_T / l_T after T blocks of two keys.

    For a concrete T it unfolds into the loop, run symbolically.
    """

    nargs = 1

    def doit(self, **hints):
        blocks = self.args[0]
        return _run(int(blocks)) if blocks.is_Integer else self

    def _latex(self, printer):
        t = printer._print(self.args[0])
        return rf"\frac{{U_{{{t}}}}}{{\ell_{{{t}}}}}"


mu = IndexedBase("mu", real=True)  # running references: any reals (the running max is one choice)
nu = IndexedBase("nu", real=True)  # block references: any reals (the block max is one choice)


def _run(blocks: int):
    """U_T / l_T after ``blocks`` blocks of ``BLOCK`` keys, by the FlashAttention-2 updates."""
    ell, acc = 0, 0
    for t in range(1, blocks + 1):
        keys = range((t - 1) * BLOCK + 1, t * BLOCK + 1)
        ell_blk = sum(exp(s[q] - nu[t]) for q in keys)
        pv_blk = sum(exp(s[q] - nu[t]) * v[q] for q in keys)
        alpha = exp(mu[t - 1] - mu[t]) if t > 1 else 0  # the empty start needs no rescale
        ell = alpha * ell + exp(nu[t] - mu[t]) * ell_blk
        acc = alpha * acc + exp(nu[t] - mu[t]) * pv_blk
    return acc / ell


schedules_exact = Claim(
    "schedules_exact",
    "The FlashAttention-2 loop computes attention exactly",
    start=fa2_loop(T),
    steps=(
        Step(Sum(softmax(s[k], k, BLOCK * T, j) * v[j], (j, 1, BLOCK * T)),
             "run the loop symbolically over $T$ blocks of two keys; compare with the "
             "softmax-weighted values of all $2T$ keys", "unfold+cancel", sizes=Sizes(T, 1, 3)),
    ),
    on_sheet=False,
    note="A concrete check of the whole loop, for any running and block references (the maxima "
         "are one choice); for any $T$ it follows from the merge (online-softmax) by induction, "
         "and FlashAttention-1 gives the same output by the previous claim.",
)

# --- Claims: the log-sum-exp stored for the backward pass --------------------
m = Symbol("m", real=True)  # the query's final reference, its maximum score in practice
L = Symbol("L", real=True)
ell_row = Sum(exp(s[j] - m), (j, 1, n))

stored_lse = Claim(
    "stored_lse",
    "The stored statistic is the log-sum-exp",
    start=m + log(ell_row),
    steps=(
        Step(logsumexp(s[j], j, n),
             "$m + \\log \\ell = \\log(e^m \\ell)$: move $e^m$ into the sum; definition of LSE",
             "unfold+sum+expand_log"),
    ),
    on_sheet=False,
)

backward = Claim(
    "backward",
    "The backward pass recomputes P from S and L",
    start=exp(s[i] - L),
    steps=(
        Step(exp(s[i] - m) / ell_row, "$L = m + \\log \\ell$ and $e^{-\\log \\ell} = 1/\\ell$",
             "powsimp", using=(Eq(L, m + log(ell_row)),)),
        Step(softmax(s[j], j, n, i), "shift invariance: cancel $e^{-m}$", "unfold+sum+cancel"),
    ),
    note="FlashAttention-2 keeps one number per query, $L = m + \\log \\ell$, instead of $m$ and "
         "$\\ell$; the backward pass rebuilds each tile of probabilities as $e^{S - L}$.",
)


# --- Numeric checks ----------------------------------------------------------
def _random_case(rng: np.random.Generator) -> tuple:
    """Random q, k, v (sometimes scaled by 100, sometimes more queries than keys)."""
    n_q, n_k = int(rng.integers(1, 48)), int(rng.integers(1, 48))
    d, d_v = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    scale = rng.choice([1.0, 100.0])
    return (rng.normal(size=(n_q, d)) * scale, rng.normal(size=(n_k, d)) * scale,
            rng.normal(size=(n_k, d_v)))


def check_flash(rng: np.random.Generator) -> Measurement:
    """Tiled attention against the naive one: ragged blocks, causal or not, logits x100."""
    from llmsym.numeric.attention import attention, flash_attention

    worst, cases, empty_rows = 0.0, 40, 0
    for _ in range(cases):
        q, k, v = _random_case(rng)
        causal = bool(rng.integers(2))
        block = int(rng.integers(1, 12))
        tiled = flash_attention(q, k, v, block_size=block, causal=causal)
        if not np.all(np.isfinite(tiled)):
            return Measurement(float("inf"), cases, 1e-12, "flash_attention returned NaN or inf")
        if causal and q.shape[0] > k.shape[0]:
            empty_rows += q.shape[0] - k.shape[0]
            worst = max(worst, float(np.abs(tiled[: q.shape[0] - k.shape[0]]).max()))
        worst = max(worst, float(np.abs(tiled - attention(q, k, v, causal=causal)).max()))
    return Measurement(worst, cases, 1e-12,
                       f"flash_attention vs naive attention, blocks of 1..11, causal or not, "
                       f"x100 logits; {empty_rows} query rows saw no key and gave 0")


def check_schedules(rng: np.random.Generator) -> Measurement:
    """FlashAttention-1 against FlashAttention-2, and the stored L against LSE of the scores."""
    from llmsym.numeric.attention import flash_attention
    from llmsym.numeric.softmax import logsumexp

    worst, cases = 0.0, 20
    for _ in range(cases):
        q, k, v = _random_case(rng)
        causal, block = bool(rng.integers(2)), int(rng.integers(1, 12))
        fa1 = flash_attention(q, k, v, block, causal, schedule="fa1")
        fa2, lse = flash_attention(q, k, v, block, causal, schedule="fa2", return_lse=True)
        scores = q @ k.T / np.sqrt(q.shape[1])
        if causal:
            scores[np.triu_indices(q.shape[0], k.shape[0] - q.shape[0] + 1, k.shape[0])] = -np.inf
        ref = logsumexp(scores)
        seen = np.isfinite(ref)
        if not np.array_equal(seen, np.isfinite(lse)):
            return Measurement(float("inf"), cases, 1e-12, "L is -inf on the wrong rows")
        lse_err = np.abs(lse[seen] - ref[seen]) / np.maximum(1.0, np.abs(ref[seen]))
        worst = max(worst, float(np.abs(fa1 - fa2).max()), float(lse_err.max(initial=0.0)))
    return Measurement(worst, cases, 1e-12,
                       "FlashAttention-1 vs -2 schedules, and stored L vs log-sum-exp of the "
                       "scores (relative)")


def check_merge_trees(rng: np.random.Generator) -> Measurement:
    """Merge the states of key blocks in random trees, empty blocks included; compare orders."""
    from llmsym.numeric.attention import attention, merge

    worst, cases = 0.0, 60
    for _ in range(cases):
        q, k, v = _random_case(rng)
        cuts = np.sort(rng.integers(0, k.shape[0] + 1, size=int(rng.integers(1, 6))))
        states = [_block_state(q, k[a:b], v[a:b]) for a, b in zip([0, *cuts], [*cuts, k.shape[0]],
                                                                 strict=True)]
        while len(states) > 1:  # merge a random adjacent-or-not pair: any order, any tree
            x, y = rng.choice(len(states), size=2, replace=False)
            merged = merge(states[x], states[y])
            states = [st for z, st in enumerate(states) if z not in (x, y)] + [merged]
        worst = max(worst, float(np.abs(states[0][2] - attention(q, k, v)).max()))
    return Measurement(worst, cases, 1e-12,
                       "states of key blocks (some empty) merged in random order and tree shape "
                       "vs naive attention")


def _block_state(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> tuple:
    """(m, l, o) per query for one block of keys; an empty block is (-inf, 0, 0)."""
    if k.shape[0] == 0:
        return (np.full(q.shape[0], -np.inf), np.zeros(q.shape[0]), np.zeros((q.shape[0],
                                                                              v.shape[1])))
    scores = q @ k.T / np.sqrt(q.shape[1])
    mx = scores.max(axis=1)
    e = np.exp(scores - mx[:, None])
    return mx, e.sum(axis=1), (e @ v) / e.sum(axis=1)[:, None]


def example_flash():
    from llmsym.numeric.attention import attention, flash_attention

    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(300, 64)) for _ in range(3))
    gap = np.abs(flash_attention(q, k, v, 37, causal=True) - attention(q, k, v, causal=True)).max()
    return ("300 causal tokens, $d = 64$, blocks of 37 keys and queries",
            r"\max |O_{\mathrm{flash}} - O_{\mathrm{naive}}| = " + f"{gap:.1e}".replace(
                "e-", r"\times 10^{-") + "}")


# --- Results -----------------------------------------------------------------
ell_old, ell_new = symbols("ell_old ell_new", positive=True)  # plain names for exported code
m_old, m_new = symbols("m_old m_new", real=True)
alpha_fa1 = ell_old * exp(m_old - m_new) / ell_new
alpha_fa2 = exp(m_old - m_new)

# --- The derivation ----------------------------------------------------------
DERIVATION = Derivation(
    id="flash-attention",
    title="FlashAttention: any merge order, two schedules",
    topic="Attention",
    order=36,
    gloss="Block states merge associatively, so keys can be split in any tree; FlashAttention-1 "
          "and -2 rescale differently but produce the same output, and L = m + log l is all the "
          "backward pass needs.",
    assumptions=(
        "A block state is $(m, \\ell, o)$: a reference, $\\ell = \\sum_j e^{s_j - m}$ over the "
        "block's scores, and the normalised output $o$ (one coordinate); $A \\oplus B$ is the "
        "merge of derivation online-softmax, with reference $\\max(m_A, m_B)$.",
        "Schedules: before block $t$ the state is $(m_{t-1}, \\ell_{t-1})$ with output "
        "$O_{t-1}$ (FlashAttention-1, normalised) or $U_{t-1}$ (FlashAttention-2, unnormalised); "
        "the block brings $\\tilde m_t$, $\\tilde\\ell_t = \\sum e^{s_j - \\tilde m_t}$ and "
        "$\\tilde P_t V_t = \\sum e^{s_j - \\tilde m_t} v_j$.",
    ),
    definitions=(
        Definition("m_t", m_t, Max(m_prev, m_blk)),
        Definition("ell_t", ell_t, exp(m_prev - m_t) * ell_prev + exp(m_blk - m_t) * ell_blk),
        Definition("fa2", u_t, fa2_update, note="FlashAttention-2; at the end $O = U_T/\\ell_T$."),
        Definition("lse", L, m + log(Symbol(r"\ell"))),
    ),
    claims=(associative, commutative, identity, schedules_agree, schedules_exact, stored_lse,
            backward),
    checks=(
        NumericCheck("flash", check_flash,
                     "flash_attention equals naive attention to 1e-12: ragged blocks, causal or "
                     "not, logits scaled by 100, rows that see no key give 0."),
        NumericCheck("schedules", check_schedules,
                     "The FlashAttention-1 and -2 schedules agree to 1e-12; the stored $L$ is "
                     "the log-sum-exp of the scores."),
        NumericCheck("merge_trees", check_merge_trees,
                     "Key-block states merged in random orders and trees, empty blocks included, "
                     "give naive attention to 1e-12."),
    ),
    results=(
        Result("fa1_rescale", alpha_fa1, params=(ell_old, ell_new, m_old, m_new),
               doc="factor FlashAttention-1 applies to the normalised output of earlier blocks",
               claim="schedules_agree"),
        Result("fa2_rescale", alpha_fa2, params=(m_old, m_new),
               doc="factor FlashAttention-2 applies to the unnormalised accumulator",
               claim="schedules_agree"),
    ),
    notation={
        r"A \oplus B": "merge of two block states $(m, \\ell, o)$",
        r"\left(-\infty, 0, 0\right)": "the state of an empty (fully masked) block",
        "O_t, U_t": "output after block $t$: normalised (FA-1) or not (FA-2)",
        "L": "log-sum-exp of a query's scores, stored for the backward pass",
    },
    sources=(
        "Dao et al., FlashAttention, arXiv:2205.14135 (2022), algorithm 1.",
        "Dao, FlashAttention-2, arXiv:2307.08691 (2023), algorithms 1 and 2.",
        "Milakov and Gimelshein, Online normalizer calculation for softmax, arXiv:1805.02867.",
    ),
    remarks=(
        "Guard for $-\\infty - (-\\infty)$: while a query has seen only masked keys its state is "
        "$(-\\infty, 0, 0)$ and the rescale $e^{m_{t-1} - m_t}$ would be $e^{\\mathrm{NaN}}$. "
        "llmsym.numeric shifts by 0 instead of $m_t$ wherever $m_t = -\\infty$ (every weight is "
        "then $e^{-\\infty} = 0$), and returns $O = 0$, $L = -\\infty$ for a row with "
        "$\\ell = 0$, so a query that sees no key gives zeros, never NaN.",
        "Under a causal mask query $i$ sees key $j$ when $j \\le i + n_k - n_q$ (aligned at the "
        "bottom right, as with a KV cache); tiles entirely above that line are skipped.",
    ),
    examples=(example_flash,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
