"""Layer by layer: head widths, grouped heads, sliding windows, and the model's totals.

Statement
    By FlopCounterMode's convention, M(n1, n2, n3) = 2 n1 n2 n3 FLOPs per product.
    Each count is *defined* as the sum of M over the products one layer runs, or of
    the sizes of the arrays it holds, as the transformers implementation (eager
    attention) runs and holds them, and then proved in closed form:
        projections  4 b s d d_h (h + h_kv)          (d_h is the config's head_dim)
        scores       2 b h s^2 (d_k + d_v) over the full s x s matrix;
                     causal: b h (d_k + d_v) s (s + 1);
                     a window s_w <= s: b h (d_k + d_v) s_w (2s - s_w + 1)
        decode       2 b h (d_k + d_v) n_key,  n_key = min(s_c, s_w - 1) + 1 = min(s_c + 1, s_w)
        cache        2 b h_kv d_h n_c B_el per layer
    and the model adds up its layers: N = (2 - [tied]) V d + [learned] n_pos d
    + (1 + n_N) v_N d + N_att + N_mlp, F = F_L + 2 b s d V. MLA and mixtures of experts
    are counted in moe-mla-counts. The counting NumPy decoder, built layer by layer from
    the same architectures, executes every product: its counts confirm each closed form.

Run on its own: ``python derivations/architecture_counts.py``.
"""

from sympy import Abs, Eq, Ge, IndexedBase, Integer, Sum, Symbol

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
# Named like the keywords of the exported functions; the compute-and-memory derivations
# print the same names the same way.
LATEX = {
    "batch": "b", "seq": "s", "context": r"s_{\mathrm{c}}", "d_model": "d", "n_heads": "h",
    "n_kv_heads": "h_{kv}", "d_head": "d_{h}", "vocab_size": "V",
    "ffn_matrices": r"n_{\mathrm{ff}}", "d_ff": "d_{ff}", "d_key": "d_{k}", "d_value": "d_{v}",
    "window": r"s_{\mathrm{w}}", "keys": r"n_{\mathrm{key}}", "cached": r"n_{\mathrm{c}}",
    "qkv_bias": r"[\mathrm{qkv}]", "o_bias": r"[\mathrm{o}]", "qk_norm": r"[\mathrm{qk}]",
    "mlp_bias": r"[\mathrm{mlp}]", "n_experts": r"n_{\mathrm{exp}}", "top_k": r"k_{\mathrm{top}}",
    "d_expert": r"d_{\mathrm{exp}}", "d_shared": r"d_{\mathrm{sh}}",
    "shared_gate": r"[\mathrm{sg}]", "router_bias": r"[\mathrm{rb}]",
    "expert_params": r"N_{\mathrm{exp}}", "shared_params": r"N_{\mathrm{sh}}",
    "q_rank": "r_{q}", "kv_rank": "r_{kv}", "d_nope": r"d_{\mathrm{nope}}",
    "d_rope": r"d_{\mathrm{rope}}", "latent_rows": r"t_{\mathrm{lat}}",
    "bytes_per_element": r"B_{\mathrm{el}}",
    "tied": r"[\mathrm{tied}]", "learned_positions": r"[\mathrm{learned}]",
    "max_positions": r"n_{\mathrm{pos}}", "norm_vectors": r"v_{\mathrm{N}}",
    "layer_norms": r"n_{\mathrm{N}}", "attention_params": r"N_{\mathrm{att}}",
    "mlp_params": r"N_{\mathrm{mlp}}", "layers_params": r"N_{\mathrm{L}}",
    "layers_flops": r"F_{\mathrm{L}}", "n_layers": "L",
}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


def count(name: str) -> Named:
    """A size that may be 0 (an indicator, a missing shared expert, an empty cache)."""
    return Named(name, LATEX[name], integer=True, nonnegative=True)


b, s, d, h, h_kv, d_h, V, n_ff, d_ff, d_k, d_v = map(size, (
    "batch", "seq", "d_model", "n_heads", "n_kv_heads", "d_head", "vocab_size", "ffn_matrices",
    "d_ff", "d_key", "d_value"))
s_w, n_key, n_exp, k_top, d_exp, r_q, r_kv, d_rope, t_rows, B_el, n_pos = map(size, (
    "window", "keys", "n_experts", "top_k", "d_expert", "q_rank", "kv_rank", "d_rope",
    "latent_rows", "bytes_per_element", "max_positions"))
s_c, n_c, d_nope, d_sh, N_exp, N_sh, v_N, n_N = map(count, (
    "context", "cached", "d_nope", "d_shared", "expert_params", "shared_params", "norm_vectors",
    "layer_norms"))
qkv, o_b, qk, mlp_b, sg, rb, tied, learned = map(count, (
    "qkv_bias", "o_bias", "qk_norm", "mlp_bias", "shared_gate", "router_bias", "tied",
    "learned_positions"))
N_att, N_mlp, N_L, F_L = map(size, ("attention_params", "mlp_params", "layers_params",
                                    "layers_flops"))
j = Symbol("j", integer=True, positive=True)  # query-head index
i = Symbol("i", integer=True, positive=True)  # query position
tok = Symbol("u", integer=True, positive=True)  # token row
m_i = Symbol("m", integer=True, positive=True)  # the m-th expert a token is routed to
e_i = Symbol("e", integer=True, positive=True)  # expert index
ell = Symbol(r"\ell", integer=True, positive=True)  # layer index
L = Named("n_layers", "L", integer=True, positive=True)
n1, n2, n3 = (Symbol(f"n_{k}", integer=True, positive=True) for k in (1, 2, 3))
NA, NM, NN, FA, FM = (IndexedBase(name, integer=True, nonnegative=True) for name in (
    r"N^{\mathrm{att}}", r"N^{\mathrm{mlp}}", r"n^{\mathrm{N}}", r"F^{\mathrm{att}}",
    r"F^{\mathrm{mlp}}"))
(F_proj, F_S, F_Sc, F_Sw, F_Sd, F_mla, F_mla_q, F_mlp, F_moe, F_model, N_proj, N_mla, N_mla_q,
 N_dense, N_moe, N_act, N_model, M_layer, M_mla, n_win) = (
    Symbol(name, integer=True, nonnegative=True) for name in (
        r"F_{\mathrm{proj}}", r"F_{\mathrm{S}}", r"F_{\mathrm{S}}^{\mathrm{causal}}",
        r"F_{\mathrm{S}}^{\mathrm{win}}", r"F_{\mathrm{S}}^{\mathrm{dec}}", r"F_{\mathrm{MLA}}",
        r"F_{\mathrm{MLA}}^{\mathrm{full}\,q}", r"F_{\mathrm{mlp}}", r"F_{\mathrm{moe}}",
        r"F_{\mathrm{model}}", r"N_{\mathrm{proj}}", r"N_{\mathrm{MLA}}",
        r"N_{\mathrm{MLA}}^{\mathrm{full}\,q}", r"N_{\mathrm{dense}}", r"N_{\mathrm{moe}}",
        r"N_{\mathrm{act}}", r"N_{\mathrm{model}}", r"M_{\ell}",
        r"M_{\ell}^{\mathrm{MLA}}", r"n_{\mathrm{key}}^{\mathrm{win}}"))


# --- Notation ------------------------------------------------------------------
class mm(Notation):  # noqa: N801 - read as "matrix multiply"
    """``mm(n1, n2, n3)``: FLOPs of an (n1 x n2)(n2 x n3) product, 2 per multiply-accumulate."""

    nargs = 3

    @classmethod
    def definition(cls, p, q, r):
        return 2 * p * q * r

    def _latex(self, printer) -> str:
        return r"\mathcal{M}(%s)" % ", ".join(printer._print(a) for a in self.args)


class minimum(Notation):  # noqa: N801
    """``min(a, b)``, unfolded to (a + b - |a - b|)/2 so that the checker can add to it."""

    nargs = 2

    @classmethod
    def definition(cls, a, c):
        return (a + c - Abs(a - c)) / 2

    def _latex(self, printer) -> str:
        return r"\min\left(%s, %s\right)" % tuple(printer._print(a) for a in self.args)




# --- Definitions -------------------------------------------------------------------
MM = Definition("matrix product FLOPs", mm(n1, n2, n3), mm.definition(n1, n2, n3),
                "2 FLOPs per multiply-accumulate of an $(n_1 \\times n_2)(n_2 \\times n_3)$ "
                "product (FlopCounterMode)")
HD, KVD = factors(h, d_h), factors(h_kv, d_h)
PROJ = Definition(
    "projection FLOPs", F_proj,
    factors(b, group(mm(s, d, HD), factors(2, mm(s, d, KVD)), mm(s, HD, d))),
    "$W_Q$ ($h$ heads of width $d_{h}$), $W_K$ and $W_V$ ($h_{kv}$ heads each), $W_O$, for "
    "the $s$ rows of each of $b$ sequences")
PROJ_PARAMS = Definition(
    "projection parameters", N_proj,
    terms(factors(d, HD), factors(2, d, KVD), factors(HD, d),
          factors(qkv, group(HD, factors(2, KVD))), factors(o_b, d), factors(qk, 2, d_h)),
    "$W_Q$, $W_K$, $W_V$, $W_O$; biases on $Q$, $K$, $V$ and on the output; a norm of width "
    "$d_{h}$ on queries and one on keys")
SCORES = Definition("score FLOPs", F_S,
                    Sum(factors(b, group(mm(s, d_k, s), mm(s, s, d_v))), (j, 1, h)),
                    "per head: $QK^\\top$ over every query-key pair, then $PV$")
CAUSAL_ROW = terms(mm(1, d_k, i), mm(1, i, d_v))
SCORES_CAUSAL = Definition("causal score FLOPs", F_Sc,
                           Sum(factors(b, Sum(CAUSAL_ROW, (i, 1, s))), (j, 1, h)),
                           "query $i$ multiplies the $i$ keys and values it may see")
SCORES_WINDOW = Definition(
    "sliding-window score FLOPs", F_Sw,
    Sum(factors(b, group(Sum(CAUSAL_ROW, (i, 1, s_w)),
                         Sum(terms(mm(1, d_k, s_w), mm(1, s_w, d_v)), (i, s_w + 1, s)))),
        (j, 1, h)),
    "query $i$ sees itself and the $s_{\\mathrm{w}} - 1$ tokens before it: $i$ keys up to "
    "$i = s_{\\mathrm{w}}$, then $s_{\\mathrm{w}}$")
SCORES_DECODE = Definition("decode score FLOPs", F_Sd,
                           Sum(factors(b, group(mm(1, d_k, n_key), mm(1, n_key, d_v))),
                               (j, 1, h)),
                           "one new query per sequence against $n_{\\mathrm{key}}$ keys")
WINDOW_KEYS = Definition(
    "keys of a sliding-window decode step", n_win, minimum(s_c, s_w - 1) + 1,
    "the cache keeps the last $\\min(s_{\\mathrm{c}}, s_{\\mathrm{w}} - 1)$ of the "
    "$s_{\\mathrm{c}}$ tokens seen, and the new token's own key is appended")
CACHE = Definition("cache bytes of a layer", M_layer,
                   Sum(factors(b, n_c, group(d_h, d_h), B_el), (j, 1, h_kv)),
                   "per key/value head: a key and a value of $d_{h}$ elements for each of the "
                   "$n_{\\mathrm{c}}$ tokens held, $b$ sequences")
LAYERS = Definition("parameters of the layers", N_L,
                    Sum(terms(NA[ell], NM[ell], factors(NN[ell], v_N, d)), (ell, 1, L)),
                    "layer $\\ell$ has its own attention, MLP and norms")
MODEL = Definition(
    "parameters", N_model,
    terms(factors(V, d), factors(learned, n_pos, d), N_L, factors(v_N, d),
          factors(group(1, -tied), V, d)),
    "token embedding; learned positions; the layers; the final norm; an LM head unless tied")
LAYERS_F = Definition("FLOPs of the layers", F_L,
                      Sum(terms(FA[ell], FM[ell]), (ell, 1, L)),
                      "attention (projections and scores) and MLP of each layer")
MODEL_F = Definition("FLOPs of a pass", F_model, terms(F_L, mm(factors(b, s), d, V)),
                     "the layers, then the LM head on every row")

# --- Premises ------------------------------------------------------------------
REACHED = Hypothesis(Ge(s, s_w), "the sequence reaches the window: $s \\ge s_{\\mathrm{w}}$")
INDICATORS = tuple(Hypothesis(Ge(1, x), f"${LATEX[x.name]} \\in \\{{0, 1\\}}$")
                   for x in (qkv, o_b, qk, mlp_b, sg, rb, tied, learned))
SUMS = (Hypothesis(Eq(N_att, Sum(NA[ell], (ell, 1, L))), "$N_{\\mathrm{att}}$ sums the layers' "
                   "attention parameters"),
        Hypothesis(Eq(N_mlp, Sum(NM[ell], (ell, 1, L))), "$N_{\\mathrm{mlp}}$ sums their MLP "
                   "parameters"),
        Hypothesis(Eq(n_N, Sum(NN[ell], (ell, 1, L))), "$n_{\\mathrm{N}}$ sums their norms"))
# --- Claims ------------------------------------------------------------------
projections = Claim(
    "projections",
    "Q, K, V and O projections with any head width",
    start=F_proj,
    steps=(
        Step(PROJ.rhs, "the four projections of $s$ rows", "definition"),
        Step(factors(4, b, s, d, d_h, group(h, h_kv)), "$\\mathcal{M} = 2n_1n_2n_3$",
             "unfold+expand"),
    ),
    where=(MM,),
    note="$d_{h}$ is the config's head_dim: Gemma-7B and Qwen3 have $hd_{h} \\ne d$, and "
    "$d/h$ would miscount every projection.", on_sheet=False,
)

projection_params = Claim(
    "projection_params",
    "Attention parameters",
    given=INDICATORS[:3],
    start=N_proj,
    steps=(Step(terms(factors(2, d, d_h, group(h, h_kv)),
                      factors(qkv, d_h, group(h, factors(2, h_kv))), factors(o_b, d),
                      factors(2, qk, d_h)),
                "collect", "definition+expand"),),
    note="Qwen2: biases on $Q$, $K$, $V$ only ($[\\mathrm{qkv}] = 1$, $[\\mathrm{o}] = 0$); "
    "Qwen3: $[\\mathrm{qk}] = 1$.", on_sheet=False,
)

scores = Claim(
    "scores",
    "Attention scores over the full $s \\times s$ matrix",
    start=F_S,
    steps=(
        Step(SCORES.rhs, "per head $QK^\\top$ and $PV$", "definition"),
        Step(factors(2, b, h, s**2, group(d_k, d_v)), "$h$ equal summands", "unfold+doit"),
    ),
    where=(MM,),
    note="What eager attention and FlopCounterMode count: the mask is added after the "
    "product, and a sliding window masks more entries of the same $s \\times s$ product. "
    "$d_{k} = d_{v} = d_{h}$ except in MLA.", on_sheet=False,
)

scores_causal = Claim(
    "scores_causal",
    "Scores a causal mask keeps",
    start=F_Sc,
    steps=(
        Step(SCORES_CAUSAL.rhs, "query $i$ meets $i$ keys", "definition"),
        Step(factors(b, h, group(d_k, d_v), s, s + 1),
             "Gauss: $\\sum_{i=1}^{s} i = s(s + 1)/2$", "unfold+expand+doit"),
    ),
    where=(MM,),
)

scores_window = Claim(
    "scores_window",
    "Scores a sliding window keeps",
    given=(REACHED,),
    start=F_Sw,
    steps=(
        Step(SCORES_WINDOW.rhs, "$\\min(i, s_{\\mathrm{w}})$ keys for query $i$", "definition"),
        Step(factors(b, h, group(d_k, d_v), s_w, group(2 * s, -s_w, 1)),
             "Gauss up to $s_{\\mathrm{w}}$, then $s - s_{\\mathrm{w}}$ rows of "
             "$s_{\\mathrm{w}}$ keys", "unfold+expand+doit"),
    ),
    where=(MM,),
    note="Equal to the causal count at $s = s_{\\mathrm{w}}$; linear in $s$ beyond.",
    on_sheet=False,
)

window_keys = Claim(
    "window_keys",
    "A sliding-window decode step meets $\\min(s_{\\mathrm{c}} + 1, s_{\\mathrm{w}})$ keys",
    start=n_win,
    steps=(
        Step(WINDOW_KEYS.rhs, "the $s_{\\mathrm{w}} - 1$ cached keys at most, and its own",
             "definition"),
        Step(minimum(s_c + 1, s_w), "$\\min(x, y) + 1 = \\min(x + 1, y + 1)$", "unfold+expand"),
    ),
    note="transformers keeps $s_{\\mathrm{w}} - 1$ tokens, not $s_{\\mathrm{w}}$: the "
    "$s_{\\mathrm{w}}$-th key a query sees is its own, appended when it arrives. A cache of "
    "$s_{\\mathrm{w}}$ tokens would hold one key no query can use.",
)

scores_decode = Claim(
    "scores_decode",
    "Scores of one decode step",
    start=F_Sd,
    steps=(
        Step(SCORES_DECODE.rhs, "one query row per sequence and head", "definition"),
        Step(factors(2, b, h, group(d_k, d_v), n_key), "$h$ equal summands", "unfold+doit"),
    ),
    where=(MM,),
    note="Full attention: $n_{\\mathrm{key}} = s_{\\mathrm{c}} + 1$; a sliding window: "
    "$\\min(s_{\\mathrm{c}} + 1, s_{\\mathrm{w}})$.", on_sheet=False,
)

cache = Claim(
    "cache",
    "KV-cache bytes of one layer",
    start=M_layer,
    steps=(
        Step(CACHE.rhs, "a key and a value per token held and key/value head", "definition"),
        Step(factors(2, b, h_kv, d_h, n_c, B_el), "$h_{kv}$ equal summands", "doit+expand"),
    ),
    note="After $s$ tokens a full layer holds $n_{\\mathrm{c}} = s$, a sliding-window layer "
    "$\\min(s, s_{\\mathrm{w}} - 1)$.", on_sheet=False,
)

model_params = Claim(
    "model_params",
    "Parameters of a model of mixed layers",
    given=INDICATORS[6:],
    start=N_model,
    steps=(
        Step(terms(factors(group(2, -tied), V, d), factors(learned, n_pos, d), factors(v_N, d),
                   N_L),
             "embedding and untied head are $(2 - [\\mathrm{tied}])Vd$", "definition+expand"),
        Step(terms(factors(group(2, -tied), V, d), factors(learned, n_pos, d),
                   factors(group(1, n_N), v_N, d), N_att, N_mlp),
             "$N_{\\mathrm{att}}$, $N_{\\mathrm{mlp}}$, $n_{\\mathrm{N}}$: the layers' attention "
             "and MLP parameters and norms, summed", "definition+sum+expand", using=SUMS),
    ),
    where=(LAYERS,),
    note="$v_{\\mathrm{N}}$: 2 for LayerNorm, 1 for RMSNorm, 0 for OLMo's weightless norm; "
    "a layer has 1 (Falcon), 2, or 4 (Gemma-2) norms. For a mixture of experts the active count "
    "takes each MoE layer's active parameters as its $N^{\\mathrm{mlp}}_{\\ell}$.", on_sheet=False,
)

model_flops = Claim(
    "model_flops",
    "FLOPs of a model of mixed layers",
    start=F_model,
    steps=(Step(terms(F_L, factors(2, b, s, d, V)), "the LM head is one product",
                "definition+expand"),),
    where=(LAYERS_F,),
    note="A decode step is the same with $s = 1$ row per sequence.", on_sheet=False,
)


# --- Numeric checks ----------------------------------------------------------

def _arch(rng, attention="full", mlp="dense", layers=1):
    from llmsym.numeric.transformer import Decoder, random_architecture

    arch = random_architecture(rng, attention, mlp, layers)
    return arch, Decoder(arch, rng)


def _call(formula, **values):
    return formula(**{k: values[k] for k in formula.params})


def _counted(counter, *names: str) -> int:
    return sum(counter.matmul_flops.get(name, 0) for name in names)


def _run(model, rng, batch, seq, useful=False):
    from llmsym.numeric.transformer import Counter

    counter = Counter()
    tokens = rng.integers(0, model.arch.vocab_size, size=(batch, seq))
    model.forward(tokens, counter, useful_only=useful)
    return counter


def _decode(model, rng, batch, cached):
    """Counts of one decode step after ``cached`` tokens, and the cache it read."""
    from llmsym.numeric.transformer import Counter

    tokens = rng.integers(0, model.arch.vocab_size, size=(batch, cached + 1))
    _, kv = model.prefill(tokens[:, :cached], "fp32", Counter())
    held = [k.shape[2] for k in kv.keys]  # tokens each layer holds before the step
    step = Counter()
    model.decode_step(tokens[:, cached], kv, step)
    return step, held


def _attention_sizes(arch, layer=0):
    att = arch.layers[layer].attention
    if att.mla is not None:
        m = att.mla
        return dict(d_key=m.qk_head_dim, d_value=m.v_head_dim)
    return dict(d_key=arch.head_dim, d_value=arch.head_dim)


def _common(arch, batch, seq, layer=0):
    att = arch.layers[layer].attention
    return dict(batch=batch, seq=seq, d_model=arch.d_model, n_heads=arch.n_heads,
                n_kv_heads=arch.n_kv_heads, d_head=arch.head_dim, vocab_size=arch.vocab_size,
                qkv_bias=int(att.qkv_bias), o_bias=int(att.o_bias), qk_norm=int(att.qk_norm),
                **_attention_sizes(arch, layer))


def check_projections(rng, formula) -> Measurement:
    """Counted Q, K, V, O products of one-layer decoders (head_dim apart from d/h)."""
    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _arch(rng, str(rng.choice(["full", "sliding"])))
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 7))
        got = _counted(_run(model, rng, batch, seq), "q", "k", "v", "o")
        worst = max(worst, abs(got - _call(formula, **_common(arch, batch, seq))))
    return Measurement(float(worst), cases, 0.0, "Q, K, V, O FLOPs executed by 8 one-layer "
                       "NumPy decoders vs F_proj, exact")


def _layer_arrays(model, layer: int, names: tuple[str, ...]) -> int:
    prefix = f"layer{layer}."
    return sum(a.size for k, a in model.weights.items() if k.startswith(prefix)
               and k[len(prefix):].split(".")[0] in names)


ATTENTION_ARRAYS = ("q", "k", "v", "o", "q_norm", "k_norm", "q_a", "q_a_norm", "q_b", "kv_a",
                    "kv_a_norm", "kv_b")
MLP_ARRAYS = ("gate", "up", "down", "router", "shared", "shared_gate") + tuple(
    f"expert{e}" for e in range(8))


def check_projection_params(rng, formula) -> Measurement:
    worst, cases = 0, 10
    for _ in range(cases):
        arch, model = _arch(rng, str(rng.choice(["full", "sliding"])))
        got = _layer_arrays(model, 0, ATTENTION_ARRAYS)
        worst = max(worst, abs(got - _call(formula, **_common(arch, 1, 1))))
    return Measurement(float(worst), cases, 0.0, "attention arrays of 10 NumPy decoders (biases, "
                       "q/k norms varied) vs N_proj, exact")


def check_scores(rng, formula) -> Measurement:
    """QK^T and PV as executed in full (every kind of attention, MLA's d_k != d_v included)."""
    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _arch(rng, str(rng.choice(["full", "sliding", "mla"])))
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 7))
        got = _counted(_run(model, rng, batch, seq), "scores", "context")
        worst = max(worst, abs(got - _call(formula, **_common(arch, batch, seq))))
    return Measurement(float(worst), cases, 0.0, "score and context FLOPs of 8 one-layer NumPy "
                       "decoders (full, sliding, MLA) vs F_S, exact")


def check_causal(rng, formula) -> Measurement:
    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _arch(rng, str(rng.choice(["full", "mla"])))
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 7))
        got = _counted(_run(model, rng, batch, seq, useful=True), "scores", "context")
        worst = max(worst, abs(got - _call(formula, **_common(arch, batch, seq))))
    return Measurement(float(worst), cases, 0.0, "row-by-row causal score FLOPs of 8 NumPy "
                       "decoders vs F_S^causal, exact")


def check_window(rng, formula) -> Measurement:
    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _arch(rng, "sliding")
        window = arch.layers[0].attention.window
        batch, seq = int(rng.integers(1, 4)), window + int(rng.integers(0, 5))
        got = _counted(_run(model, rng, batch, seq, useful=True), "scores", "context")
        values = dict(_common(arch, batch, seq), window=window)
        worst = max(worst, abs(got - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "score FLOPs of 8 sliding-window NumPy "
                       "decoders (s >= s_w) multiplying only the keys in the window vs "
                       "F_S^win, exact")


def check_window_keys(rng, formula) -> Measurement:
    """The keys a cached decode step of a sliding-window decoder really multiplies."""
    worst, cases = 0, 10
    for _ in range(cases):
        arch, model = _arch(rng, "sliding")
        window, cached = arch.layers[0].attention.window, int(rng.integers(0, 8))
        step, _ = _decode(model, rng, 1, cached)
        keys = step.matmul_flops["scores"] // (2 * arch.n_heads * arch.head_dim)
        worst = max(worst, abs(keys - _call(formula, context=cached, window=window)))
    return Measurement(float(worst), cases, 0.0, "keys multiplied by a decode step of 10 "
                       "sliding-window NumPy decoders (cache as transformers keeps it) vs "
                       "n_key^win, exact")


def check_scores_decode(rng, formula) -> Measurement:
    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _arch(rng, str(rng.choice(["full", "sliding", "mla"])))
        batch, cached = int(rng.integers(1, 4)), int(rng.integers(1, 7))
        step, held = _decode(model, rng, batch, cached)
        got = _counted(step, "scores", "context")
        values = dict(_common(arch, batch, 1), keys=held[0] + 1)  # what it held, and its own
        worst = max(worst, abs(got - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "score FLOPs of a decode step of 8 NumPy "
                       "decoders, keys read off their caches, vs F_S^dec, exact")


def check_cache(rng, formula) -> Measurement:
    worst, cases = 0, 0
    for fmt, width in (("fp32", 4), ("bf16", 2), ("fp8", 1)):
        for _ in range(3):
            arch, model = _arch(rng, str(rng.choice(["full", "sliding"])))
            batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 8))
            from llmsym.numeric.transformer import Counter

            tokens = rng.integers(0, arch.vocab_size, size=(batch, seq))
            _, kv = model.prefill(tokens, fmt, Counter())
            window = arch.layers[0].attention.window
            held = min(seq, window - 1) if window else seq  # transformers' rule, stated apart
            values = dict(_common(arch, batch, seq), cached=held, bytes_per_element=width)
            worst, cases = max(worst, abs(kv.nbytes - _call(formula, **values))), cases + 1
    return Measurement(float(worst), cases, 0.0, "nbytes of the caches of 9 one-layer NumPy "
                       "decoders (full and sliding; fp32, bf16, fp8) vs M_l, exact")


def check_model_params(rng, formula) -> Measurement:
    """All arrays of mixed decoders against N_model, the layers' parts counted by name."""
    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _arch(rng, "any", "any", int(rng.integers(1, 4)))
        layers = range(arch.n_layers)
        attention = sum(_layer_arrays(model, i, ATTENTION_ARRAYS) for i in layers)
        mlp = sum(_layer_arrays(model, i, MLP_ARRAYS) for i in layers)
        norms = sum(layer.norms for layer in arch.layers)
        values = dict(vocab_size=arch.vocab_size, d_model=arch.d_model,
                      tied=int(arch.tie_embeddings),
                      learned_positions=int(arch.positional.value == "learned"),
                      max_positions=arch.max_positions, norm_vectors=arch.norm.vectors,
                      attention_params=attention, mlp_params=mlp, layer_norms=norms)
        worst = max(worst, abs(model.param_count - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "all arrays of 8 NumPy decoders of mixed "
                       "layers vs N_model, the layers' attention and MLP arrays counted apart, "
                       "exact")


def check_model_flops(rng, formula) -> Measurement:
    """Whole passes of mixed decoders; each layer's products counted apart by wrapping it."""
    from llmsym.numeric.transformer import Counter

    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _arch(rng, "any", "any", int(rng.integers(1, 4)))
        per_layer: list[int] = []
        block = model._block

        def counted_block(x, i, positions, counter, kv, useful, _block=block,
                          per_layer=per_layer):
            own = Counter()
            out = _block(x, i, positions, own, kv, useful)
            per_layer.append(own.flops)
            for k, v in own.matmul_flops.items():
                counter.matmul_flops[k] = counter.matmul_flops.get(k, 0) + v
            return out

        model._block = counted_block
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 7))
        total = _run(model, rng, batch, seq).flops
        values = dict(batch=batch, seq=seq, d_model=arch.d_model, vocab_size=arch.vocab_size,
                      layers_flops=sum(per_layer))
        worst = max(worst, abs(total - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "FLOPs of whole passes of 8 NumPy decoders of "
                       "mixed layers vs F_model with F_L counted layer by layer, exact")


# --- Worked example -----------------------------------------------------------


def exact(expr, **values: int) -> int:
    expr = unfold(expr)
    return int(expr.xreplace({sym: Integer(values[sym.name]) for sym in expr.free_symbols}))


def example_window():
    keys = [exact(window_keys.end, context=c, window=4096) for c in (1023, 8191)]
    return ("Mistral-7B's window $s_{\\mathrm{w}} = 4096$: keys a decode step meets",
            rf"s_{{\mathrm{{c}}}} = 1023\colon {keys[0]};\quad s_{{\mathrm{{c}}}} = 8191\colon "
            rf"{keys[1]}")


# --- The derivation ------------------------------------------------------------


def _r(name, claim, params, doc, units, expr=None):
    return Result(name, unfold(claim.end if expr is None else expr), params, doc, units=units,
                  claim=claim.name, integer=True)


DERIVATION = Derivation(
    id="architecture-counts",
    title="Layer by layer: head widths, windows, and the model's totals",
    topic="Compute and memory",
    order=74,
    gloss="Each kind of layer counted as transformers runs it: projections with the config's "
          "head width, scores over $s^2$ (causal and windowed apart), a window's decode step "
          "meeting $\\min(s_{\\mathrm{c}} + 1, s_{\\mathrm{w}})$ keys and its cache holding "
          "$s_{\\mathrm{w}} - 1$ tokens; a model of mixed layers adds them up.",
    assumptions=(
        "Pre-norm layers, attention then MLP, or both reading the layer's input (parallel "
        "blocks: same products, one or two norms); norms, rotary embeddings (full or partial), "
        "softmax, activations, biases and residual additions are element-wise: no matrix "
        "products.",
        "Counts as the transformers implementation runs them with eager attention: the full "
        "$s \\times s$ score product in prefill, the sliding-window cache keeping "
        "$s_{\\mathrm{w}} - 1$ tokens, logits for every position.",
    ),
    definitions=(MM, PROJ, PROJ_PARAMS, SCORES, SCORES_CAUSAL, SCORES_WINDOW, SCORES_DECODE,
                 WINDOW_KEYS, CACHE, MODEL, LAYERS, MODEL_F, LAYERS_F),
    claims=(projections, projection_params, scores, scores_causal, scores_window, window_keys,
            scores_decode, cache, model_params, model_flops),
    results=(
        _r("projection_flops", projections, (b, s, d, h, h_kv, d_h),
           "FLOPs of the Q, K, V and O projections of one layer", "FLOPs"),
        _r("projection_params", projection_params, (d, h, h_kv, d_h, qkv, o_b, qk),
           "parameters of one standard attention block", "parameters"),
        _r("score_flops", scores, (b, s, h, d_k, d_v),
           "FLOPs of QK^T and PV of one layer over the full s x s matrix", "FLOPs"),
        _r("score_flops_causal", scores_causal, (b, s, h, d_k, d_v),
           "FLOPs of QK^T and PV over the query-key pairs a causal mask keeps", "FLOPs"),
        _r("score_flops_window", scores_window, (b, s, h, d_k, d_v, s_w),
           "FLOPs of QK^T and PV over the pairs a sliding window keeps (s >= window)", "FLOPs"),
        _r("window_decode_keys", window_keys, (s_c, s_w),
           "keys a sliding-window decode step meets after `context` tokens", "keys"),
        _r("score_flops_decode", scores_decode, (b, h, d_k, d_v, n_key),
           "FLOPs of QK^T and PV of one decode step against `keys` keys", "FLOPs"),
        _r("layer_cache_bytes", cache, (b, h_kv, d_h, n_c, B_el),
           "bytes of one layer's key/value cache holding `cached` tokens", "bytes"),
        _r("model_params", model_params, (V, d, tied, learned, n_pos, v_N, N_att, N_mlp, n_N),
           "parameters of a model whose layers hold attention_params, mlp_params and "
           "layer_norms norms in all", "parameters"),
        _r("model_flops", model_flops, (b, s, d, V, F_L),
           "FLOPs of a pass whose layers run F_L FLOPs, LM head on every row", "FLOPs"),
    ),
    checks=(
        NumericCheck("projections", check_projections, "Q, K, V and O products of 8 NumPy "
                     "decoders with $hd_{h} \\ne d$: $F_{\\mathrm{proj}}$ exactly.",
                     claim="projections"),
        NumericCheck("projection_params", check_projection_params, "Attention arrays of 10 "
                     "NumPy decoders: $N_{\\mathrm{proj}}$ exactly.", claim="projection_params"),
        NumericCheck("scores", check_scores, "Score products of full, sliding and MLA layers: "
                     "$F_{\\mathrm{S}}$ exactly.", claim="scores"),
        NumericCheck("causal", check_causal, "Row-by-row causal scores: "
                     "$F_{\\mathrm{S}}^{\\mathrm{causal}}$ exactly.", claim="scores_causal"),
        NumericCheck("window", check_window, "Windowed rows: $F_{\\mathrm{S}}^{\\mathrm{win}}$ "
                     "exactly.", claim="scores_window"),
        NumericCheck("window_keys", check_window_keys, "Keys a cached decode step of "
                     "sliding-window decoders multiplies: $\\min(s_{\\mathrm{c}} + 1, "
                     "s_{\\mathrm{w}})$.", claim="window_keys"),
        NumericCheck("scores_decode", check_scores_decode, "Decode-step scores, keys read off "
                     "the caches: $F_{\\mathrm{S}}^{\\mathrm{dec}}$ exactly.",
                     claim="scores_decode"),
        NumericCheck("cache", check_cache, "Cache nbytes of full and sliding layers in fp32, "
                     "bf16, fp8: $M_{\\ell}$ exactly.", claim="cache"),
        NumericCheck("model_params", check_model_params, "All arrays of decoders of mixed "
                     "layers: $N_{\\mathrm{model}}$ exactly.", claim="model_params"),
        NumericCheck("model_flops", check_model_flops, "Whole passes of decoders of mixed "
                     "layers: $F_{\\mathrm{model}}$ exactly.", claim="model_flops"),
    ),
    notation={
        n1: "rows of $A$", n2: "columns of $A$, rows of $B$", n3: "columns of $B$",
        d_v: "dimension of the values of one head",
        s_w: "sliding-window length: a query sees itself and the $s_{\\mathrm{w}} - 1$ tokens "
             "before it",
        n_key: "keys a decode step's query meets",
        n_c: "tokens a layer's cache holds",
        qkv: "1 when $Q$, $K$, $V$ (MLA: the down-projections) have biases, else 0",
        o_b: "1 when the output projection has a bias, else 0",
        qk: "1 when queries and keys are normalised per head, else 0",
        tied: "1 when the LM head is the embedding matrix, else 0",
        learned: "1 for a learned position table, else 0",
        n_pos: "rows of the learned position table",
        v_N: "parameter vectors of one norm: 2 (LayerNorm), 1 (RMSNorm), 0 (weightless)",
        n_N: "norms of width $d$ in all layers", N_att: "attention parameters of all layers",
        N_mlp: "MLP (dense or MoE) parameters of all layers",
        N_L: "parameters of all layers", F_L: "FLOPs of all layers",
        NA: "attention parameters of layer $\\ell$", NM: "MLP parameters of layer $\\ell$",
        NN: "norms of layer $\\ell$", FA: "attention FLOPs of layer $\\ell$",
        FM: "MLP FLOPs of layer $\\ell$",
        F_proj: "FLOPs of the Q, K, V, O projections of a layer",
        F_S: "FLOPs of $QK^\\top$ and $PV$ of a layer, full matrix",
        F_Sc: "the same over the causal pairs", F_Sw: "the same over a sliding window's pairs",
        F_Sd: "score FLOPs of one decode step", F_model: "FLOPs of a whole pass",
        N_proj: "parameters of a standard attention block",
        N_model: "parameters of the model",
        M_layer: "cache bytes of one layer",
        n_win: "keys a sliding-window decode step meets",
    },
    sources=(
        "PyTorch, torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per multiply-accumulate.",
        "Hugging Face transformers 5.24 (eager attention): the layers of Llama, Mistral, "
        "Mixtral, Qwen2/3 (MoE), Gemma(2), Phi-3, Falcon, GPT-NeoX, OLMo, StarCoder2, GPT-2, "
        "DeepSeek-V2/V3; DynamicSlidingWindowLayer keeps sliding_window - 1 tokens.",
        "Jiang et al. 2023, Mistral 7B (arXiv 2310.06825), section 2: sliding-window attention.",
        "Ainslie et al. 2023, GQA (arXiv 2305.13245).",
    ),
    examples=(example_window,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
