"""Multi-head latent attention and mixtures of experts, counted as transformers runs them.

Statement
    By FlopCounterMode's convention, M(n1, n2, n3) = 2 n1 n2 n3 FLOPs per product.
    Each count is *defined* as the sum of M over the products a block runs, or of the
    sizes of the arrays it holds, and proved in closed form:
        MLA    2 b [s (d r_q + r_q h (d_nope + d_rope) + d (r_kv + d_rope) + h d_v d)
                    + t_lat r_kv h (d_nope + d_v)],  t_lat = s (prefill), s_c + 1 (decode);
               a cache of b n_c (r_kv + d_rope) B_el bytes per layer
        MLP    2 b s n_ff d d_ff;  parameters n_ff d d_ff + [mlp]((n_ff - 1) d_ff + d)
        MoE    2 b s d (n_exp + k_top n_ff d_exp + n_ff d_sh + [sg]) whatever the routing;
               parameters (d + [rb]) n_exp + n_exp N_exp + N_sh + [sg] d,
               active: N_moe - (n_exp - k_top) N_exp
    The counting NumPy decoder, built from the same architectures, executes every product
    (under two routings for the experts): its counts confirm each closed form. The layers
    add up as architecture-counts' model totals say.

Run on its own: ``python derivations/moe_mla_counts.py``.
"""

from sympy import Eq, Ge, IndexedBase, Sum, Symbol

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




# --- Definitions ---------------------------------------------------------------
MM = Definition("matrix product FLOPs", mm(n1, n2, n3), mm.definition(n1, n2, n3),
                "2 FLOPs per multiply-accumulate of an $(n_1 \\times n_2)(n_2 \\times n_3)$ "
                "product (FlopCounterMode)")
CACHE_MLA = Definition("cache bytes of an MLA layer", M_mla,
                       factors(b, n_c, group(r_kv, d_rope), B_el),
                       "per token one latent of $r_{kv}$ elements and one rotated key of "
                       "$d_{\\mathrm{rope}}$, shared by all heads")
D_QK = Hypothesis(Eq(d_k, d_nope + d_rope),
                  "an MLA query/key head is $d_{\\mathrm{nope}}$ plain and $d_{\\mathrm{rope}}$ "
                  "rotated entries")
QK = group(d_nope, d_rope)
MLA_DEF = Definition(
    "MLA projection FLOPs", F_mla,
    factors(b, group(mm(s, d, r_q), mm(s, r_q, factors(h, d_k)), mm(s, d, terms(r_kv, d_rope)),
                     mm(t_rows, r_kv, factors(h, group(d_nope, d_v))),
                     mm(s, factors(h, d_v), d))),
    "$W_{DQ}$ and $W_{UQ}$ (low-rank query), $W_{DKV}$ with the rotated key, $W_{UKV}$ "
    "expanding $t_{\\mathrm{lat}}$ latents into keys and values, $W_O$; $s$ new rows per sequence")
MLA_FULL_Q_DEF = Definition(
    "MLA projection FLOPs, full-rank query", F_mla_q,
    factors(b, group(mm(s, d, factors(h, d_k)), mm(s, d, terms(r_kv, d_rope)),
                     mm(t_rows, r_kv, factors(h, group(d_nope, d_v))),
                     mm(s, factors(h, d_v), d))),
    "as above with one $d \\times hd_{k}$ query projection")
MLA_PARAMS = Definition(
    "MLA parameters", N_mla,
    terms(factors(d, r_q), r_q, factors(r_q, h, QK), factors(d, group(r_kv, d_rope)), r_kv,
          factors(r_kv, h, group(d_nope, d_v)), factors(h, d_v, d),
          factors(qkv, group(r_q, r_kv, d_rope)), factors(o_b, d)),
    "$W_{DQ}$, the query latent's norm, $W_{UQ}$, $W_{DKV}$, the kv latent's norm, $W_{UKV}$, "
    "$W_O$; biases on the two down-projections and on the output")
MLA_PARAMS_Q = Definition(
    "MLA parameters, full-rank query", N_mla_q,
    terms(factors(d, h, QK), factors(d, group(r_kv, d_rope)), r_kv,
          factors(r_kv, h, group(d_nope, d_v)), factors(h, d_v, d),
          factors(qkv, group(r_kv, d_rope)), factors(o_b, d)),
    "as above with one $d \\times h(d_{\\mathrm{nope}} + d_{\\mathrm{rope}})$ query matrix")
MLP_DEF = Definition("MLP FLOPs", F_mlp, factors(b, n_ff, mm(s, d, d_ff)),
                     "$n_{\\mathrm{ff}}$ products of $d \\times d_{ff}$ (gate, up, down) per row")
MLP_PARAMS = Definition(
    "MLP parameters", N_dense,
    terms(factors(n_ff, d, d_ff), factors(mlp_b, group(factors(group(n_ff, -1), d_ff), d))),
    "$n_{\\mathrm{ff}}$ matrices; with biases, $n_{\\mathrm{ff}} - 1$ of width $d_{ff}$ and one "
    "of width $d$")
EXPERT = factors(n_ff, mm(1, d, d_exp))
MOE_DEF = Definition(
    "MoE FLOPs", F_moe,
    Sum(terms(mm(1, d, n_exp), Sum(EXPERT, (m_i, 1, k_top)), factors(n_ff, mm(1, d, d_sh)),
              factors(sg, mm(1, d, 1))), (tok, 1, factors(b, s))),
    "each of the $bs$ token rows: the router's $n_{\\mathrm{exp}}$ logits, its "
    "$k_{\\mathrm{top}}$ experts (whichever they are), the shared experts of total width "
    "$d_{\\mathrm{sh}}$ and their gate")
MOE_PARAMS = Definition(
    "MoE parameters", N_moe,
    terms(factors(d, n_exp), factors(rb, n_exp), Sum(N_exp, (e_i, 1, n_exp)), N_sh,
          factors(sg, d)),
    "the router and its bias, $n_{\\mathrm{exp}}$ experts of $N_{\\mathrm{exp}}$ parameters, "
    "the shared experts, the shared gate")
ACTIVE = Definition(
    "active MoE parameters", N_act,
    terms(factors(d, n_exp), factors(rb, n_exp), Sum(N_exp, (m_i, 1, k_top)), N_sh,
          factors(sg, d)),
    "what one token touches: the router, its $k_{\\mathrm{top}}$ experts, the shared experts")
# --- Premises ------------------------------------------------------------------
INDICATORS = tuple(Hypothesis(Ge(1, x), f"${LATEX[x.name]} \\in \\{{0, 1\\}}$")
                   for x in (qkv, o_b, qk, mlp_b, sg, rb, tied, learned))
TOPK = Hypothesis(Ge(n_exp, k_top), "$k_{\\mathrm{top}} \\le n_{\\mathrm{exp}}$")


# --- Claims ------------------------------------------------------------------
cache_mla = Claim(
    "cache_mla",
    "MLA caches the latent and the rotated key",
    start=M_mla,
    steps=(Step(factors(b, n_c, group(r_kv, d_rope), B_el), "one latent and one rotated key "
                "per token", "definition"),),
    note="DeepSeek-V3 ($r_{kv} = 512$, $d_{\\mathrm{rope}} = 64$): 576 elements per token and "
    "layer, against $2 \\cdot 128 \\cdot 192 = 49152$ for its 128 heads expanded.",
)

MLA_END = factors(2, b, group(factors(s, group(factors(d, r_q), factors(r_q, h, QK),
                                              factors(d, group(r_kv, d_rope)),
                                              factors(h, d_v, d))),
                             factors(t_rows, r_kv, h, group(d_nope, d_v))))

mla = Claim(
    "mla",
    "Multi-head latent attention: the projections",
    given=(D_QK,),
    start=F_mla,
    steps=(
        Step(MLA_DEF.rhs, "low-rank query, joint key/value latent, expansion, output",
             "definition"),
        Step(MLA_END, "$\\mathcal{M} = 2n_1n_2n_3$; $d_{k} = d_{\\mathrm{nope}} + "
             "d_{\\mathrm{rope}}$", "unfold+expand", using=(D_QK,)),
    ),
    where=(MM,),
    note="transformers expands every latent it holds at every step: $t_{\\mathrm{lat}} = s$ in "
    "prefill and $t_{\\mathrm{lat}} = s_{\\mathrm{c}} + 1$ in a decode step, so decode FLOPs "
    "grow with the context outside the scores too.", on_sheet=False,
)

mla_full_q = Claim(
    "mla_full_q",
    "MLA projections with a full-rank query",
    given=(D_QK,),
    start=F_mla_q,
    steps=(
        Step(MLA_FULL_Q_DEF.rhs, "one query matrix", "definition"),
        Step(factors(2, b, group(factors(s, group(factors(d, h, QK),
                                                  factors(d, group(r_kv, d_rope)),
                                                  factors(h, d_v, d))),
                                 factors(t_rows, r_kv, h, group(d_nope, d_v)))),
             "$\\mathcal{M} = 2n_1n_2n_3$", "unfold+expand", using=(D_QK,)),
    ),
    on_sheet=False,
)

mla_params = Claim(
    "mla_params",
    "MLA parameters",
    given=INDICATORS[:2],
    start=N_mla,
    steps=(Step(MLA_PARAMS.rhs, "the arrays of the attention block", "definition"),),
    on_sheet=False,
)

mla_params_q = Claim(
    "mla_params_q",
    "MLA parameters, full-rank query",
    given=INDICATORS[:2],
    start=N_mla_q,
    steps=(Step(MLA_PARAMS_Q.rhs, "the arrays of the attention block", "definition"),),
    on_sheet=False,
)

mlp = Claim(
    "mlp",
    "A dense MLP",
    start=F_mlp,
    steps=(Step(factors(2, b, s, n_ff, d, d_ff), "$\\mathcal{M} = 2n_1n_2n_3$",
                "definition+expand"),),
    on_sheet=False,
)

mlp_params = Claim(
    "mlp_params",
    "Parameters of a dense MLP",
    given=(INDICATORS[3],),
    start=N_dense,
    steps=(Step(MLP_PARAMS.rhs, "its matrices and biases", "definition"),),
    on_sheet=False,
)

moe = Claim(
    "moe",
    "A mixture of experts: every token through $k_{\\mathrm{top}}$ experts",
    given=(TOPK,),
    start=F_moe,
    steps=(
        Step(MOE_DEF.rhs, "router, the $k_{\\mathrm{top}}$ chosen experts, shared experts and "
             "gate, for each token row", "definition"),
        Step(factors(2, b, s, d, group(n_exp, factors(k_top, n_ff, d_exp), factors(n_ff, d_sh),
                                       sg)),
             "the summands depend on neither the row nor which experts were chosen",
             "unfold+doit+expand"),
    ),
    where=(MM,),
    note="Routing decides which experts run, never how many: the count holds for every "
    "routing. Mixtral: $n_{\\mathrm{exp}} = 8$, $k_{\\mathrm{top}} = 2$; DeepSeek-V3: 256 and 8 "
    "with $d_{\\mathrm{sh}} = d_{\\mathrm{exp}}$.", on_sheet=False,
)

moe_params = Claim(
    "moe_params",
    "Parameters of a mixture of experts",
    given=INDICATORS[4:6],
    start=N_moe,
    steps=(Step(terms(factors(group(d, rb), n_exp), factors(n_exp, N_exp), N_sh, factors(sg, d)),
                "$n_{\\mathrm{exp}}$ equal experts", "definition+doit+expand"),),
    on_sheet=False,
)

moe_active = Claim(
    "moe_active",
    "Active parameters of a mixture of experts",
    given=INDICATORS[4:6] + (TOPK,),
    start=N_act,
    steps=(
        Step(terms(factors(group(d, rb), n_exp), factors(k_top, N_exp), N_sh, factors(sg, d)),
             "$k_{\\mathrm{top}}$ equal experts", "definition+doit+expand"),
        Step(terms(N_moe, -factors(group(n_exp, -k_top), N_exp)),
             "all parameters but the experts the token skips", "definition+doit+expand",
             using=(moe_params,)),
    ),
    note="What a token touches; the model's active count adds the layers' active parts to "
    "the rest. Mixtral-8x7B: 12.9B of 46.7B.",
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


def _layer_arrays(model, layer: int, names: tuple[str, ...]) -> int:
    prefix = f"layer{layer}."
    return sum(a.size for k, a in model.weights.items() if k.startswith(prefix)
               and k[len(prefix):].split(".")[0] in names)


ATTENTION_ARRAYS = ("q", "k", "v", "o", "q_norm", "k_norm", "q_a", "q_a_norm", "q_b", "kv_a",
                    "kv_a_norm", "kv_b")
def _mla_sizes(arch, batch, seq, rows):
    m = arch.layers[0].attention.mla
    return dict(_common(arch, batch, seq), q_rank=m.q_lora_rank or 1, kv_rank=m.kv_lora_rank,
                d_nope=m.qk_nope_head_dim, d_rope=m.qk_rope_head_dim, latent_rows=rows)


def _mla_case(rng, full_q: bool):
    while True:
        arch, model = _arch(rng, "mla")
        if (arch.layers[0].attention.mla.q_lora_rank is None) == full_q:
            return arch, model


MLA_PRODUCTS = ("q", "q_a", "q_b", "kv_a", "kv_b", "o")


def _check_mla(rng, formula, full_q: bool) -> Measurement:
    """Prefill (t = s) and decode (t = s_c + 1) of MLA decoders, projections counted."""
    worst, cases = 0, 6
    for k in range(cases):
        arch, model = _mla_case(rng, full_q)
        batch = int(rng.integers(1, 4))
        if k % 2:
            seq = int(rng.integers(1, 7))
            got = _counted(_run(model, rng, batch, seq), *MLA_PRODUCTS)
            values = _mla_sizes(arch, batch, seq, seq)
        else:
            cached = int(rng.integers(1, 7))
            step, held = _decode(model, rng, batch, cached)
            got = _counted(step, *MLA_PRODUCTS)
            values = _mla_sizes(arch, batch, 1, held[0] + 1)  # every latent held, and its own
        worst = max(worst, abs(got - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "MLA projection FLOPs of 6 NumPy decoders "
                       "(prefill and cached decode steps) vs the formula, exact")


def check_mla(rng, formula) -> Measurement:
    return _check_mla(rng, formula, False)


def check_mla_full_q(rng, formula) -> Measurement:
    return _check_mla(rng, formula, True)


def _check_mla_params(rng, formula, full_q: bool) -> Measurement:
    worst, cases = 0, 6
    for _ in range(cases):
        arch, model = _mla_case(rng, full_q)
        got = _layer_arrays(model, 0, ATTENTION_ARRAYS)
        worst = max(worst, abs(got - _call(formula, **_mla_sizes(arch, 1, 1, 1))))
    return Measurement(float(worst), cases, 0.0, "attention arrays of 6 MLA NumPy decoders vs "
                       "the formula, exact")


def check_mla_params(rng, formula) -> Measurement:
    return _check_mla_params(rng, formula, False)


def check_mla_params_q(rng, formula) -> Measurement:
    return _check_mla_params(rng, formula, True)


def _mlp_sizes(mlp, **extra):
    return dict(ffn_matrices=mlp.matrices, d_ff=mlp.width, mlp_bias=int(mlp.bias), **extra)


def check_mlp(rng, formula) -> Measurement:
    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _arch(rng)
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 7))
        got = _counted(_run(model, rng, batch, seq), "gate", "up", "down")
        values = _mlp_sizes(arch.layers[0].mlp, batch=batch, seq=seq, d_model=arch.d_model)
        worst = max(worst, abs(got - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "MLP FLOPs of 8 NumPy decoders vs F_mlp, exact")


def check_mlp_params(rng, formula) -> Measurement:
    worst, cases = 0, 10
    for _ in range(cases):
        arch, model = _arch(rng)
        got = _layer_arrays(model, 0, ("gate", "up", "down"))
        values = _mlp_sizes(arch.layers[0].mlp, d_model=arch.d_model)
        worst = max(worst, abs(got - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "MLP arrays of 10 NumPy decoders vs N_dense")


def _moe_sizes(moe, **extra):
    return dict(n_experts=moe.n_experts, top_k=moe.top_k, d_expert=moe.expert.width,
                d_shared=moe.shared.width if moe.shared else 0,
                ffn_matrices=moe.expert.matrices, shared_gate=int(moe.shared_gate),
                router_bias=int(moe.router_bias), **extra)


def _moe_case(rng):
    """A one-layer MoE decoder whose shared experts (if any) have the experts' matrices."""
    while True:
        arch, model = _arch(rng, "full", "moe")
        moe = arch.layers[0].mlp
        if moe.shared is None or moe.shared.matrices == moe.expert.matrices:
            return arch, model


def check_moe(rng, formula) -> Measurement:
    """Routed runs of MoE decoders: two token draws route differently, the count is one."""
    worst, cases = 0, 6
    for _ in range(cases):
        arch, model = _moe_case(rng)
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(2, 7))
        for _draw in range(2):
            got = _counted(_run(model, rng, batch, seq), "router", "gate", "up", "down",
                           "shared_gate")
            values = _moe_sizes(arch.layers[0].mlp, batch=batch, seq=seq, d_model=arch.d_model)
            worst = max(worst, abs(got - _call(formula, **values)))
    return Measurement(float(worst), 2 * cases, 0.0, "router, expert, shared-expert and gate "
                       "FLOPs of 6 MoE NumPy decoders, two routings each, vs F_moe, exact")


def _expert_arrays(model, moe) -> tuple[int, int, int]:
    """Sizes of one routed expert, of the shared experts, of the whole MoE block."""
    one = _layer_arrays(model, 0, ("expert0",))
    shared = _layer_arrays(model, 0, ("shared",))
    block = _layer_arrays(model, 0, ("router", "shared", "shared_gate")
                          + tuple(f"expert{e}" for e in range(moe.n_experts)))
    return one, shared, block


def check_moe_params(rng, formula) -> Measurement:
    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _moe_case(rng)
        moe = arch.layers[0].mlp
        one, shared, block = _expert_arrays(model, moe)
        values = _moe_sizes(moe, d_model=arch.d_model, expert_params=one, shared_params=shared)
        worst = max(worst, abs(block - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "MoE arrays of 8 NumPy decoders (router bias, "
                       "shared experts and gate varied) vs N_moe, exact")


def check_active(rng, formula) -> Measurement:
    """The arrays one token's products touch, read off the operands of a real forward pass."""
    from llmsym.numeric.transformer import Counter

    worst, cases = 0, 8
    for _ in range(cases):
        arch, model = _moe_case(rng)
        moe = arch.layers[0].mlp
        counter = Counter(tape=[])
        model.forward(rng.integers(0, arch.vocab_size, size=(1, 1)), counter)
        used = {id(w) for _, w in counter.tape}
        touched = 0
        for name, w in model.weights.items():
            base = name.removesuffix(".bias")
            part = name[len("layer0."):].split(".")[0] if name.startswith("layer0.") else ""
            if part in ("router", "shared", "shared_gate") or part.startswith("expert"):
                touched += w.size if id(model.weights.get(base, w)) in used else 0
        one, shared, block = _expert_arrays(model, moe)
        values = _moe_sizes(moe, d_model=arch.d_model, expert_params=one, shared_params=shared)
        values[N_moe.name] = block  # the whole block, counted
        worst = max(worst, abs(touched - _call(formula, **values)))
    return Measurement(float(worst), cases, 0.0, "MoE arrays whose matrices one token's "
                       "products used (with their biases) in 8 NumPy decoders vs N_act, exact")

def check_cache_mla(rng, formula) -> Measurement:
    """nbytes of the caches MLA decoders hold (the latent and the rotated key per token)."""
    from llmsym.numeric.transformer import Counter

    worst, cases = 0, 0
    for fmt, width in (("fp32", 4), ("bf16", 2), ("fp8", 1)):
        for _ in range(2):
            arch, model = _arch(rng, "mla")
            batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 8))
            tokens = rng.integers(0, arch.vocab_size, size=(batch, seq))
            _, kv = model.prefill(tokens, fmt, Counter())
            m = arch.layers[0].attention.mla
            values = dict(batch=batch, cached=seq, kv_rank=m.kv_lora_rank,
                          d_rope=m.qk_rope_head_dim, bytes_per_element=width)
            worst, cases = max(worst, abs(kv.nbytes - _call(formula, **values))), cases + 1
    return Measurement(float(worst), cases, 0.0, "nbytes of the caches of 6 one-layer MLA "
                       "NumPy decoders (fp32, bf16, fp8) vs M_l^MLA, exact")


# --- Worked example -----------------------------------------------------------


def example_deepseek():
    per_token = 61 * (512 + 64) * 2
    return ("DeepSeek-V3 in bf16: cache bytes per token, 61 layers of "
            "$r_{kv} + d_{\\mathrm{rope}} = 576$ elements",
            rf"{per_token:,}\ \mathrm{{B}}".replace(",", "{,}")
            + r"\ \text{(128 full heads of 192 + 128 would hold 85 times more)}")



def _r(name, claim, params, doc, units, expr=None):
    return Result(name, unfold(claim.end if expr is None else expr), params, doc, units=units,
                  claim=claim.name, integer=True)


MLA_SIZES = (b, s, t_rows, d, h, r_q, r_kv, d_nope, d_rope, d_v)

DERIVATION = Derivation(
    id="moe-mla-counts",
    title="Latent attention and mixtures of experts, counted",
    topic="Compute and memory",
    order=78,
    gloss="MLA caches one latent and one rotated key per token and re-expands them at every "
          "step; a mixture of experts runs each token through $k_{\\mathrm{top}}$ experts, "
          "whatever the routing: FLOPs follow the active parameters, memory all of them.",
    assumptions=(
        "Counts as the transformers implementation runs them: DeepSeek-V2/V3's MLA (low-rank "
        "query, joint key/value latent with a shared rotated key, the latent and rotated key "
        "cached, every cached latent expanded again at each step); Mixtral's, Qwen-MoE's and "
        "DeepSeek's experts (eager), each token's rows through the experts it is routed to.",
    ),
    definitions=(MM, CACHE_MLA, MLA_DEF, MLA_FULL_Q_DEF, MLA_PARAMS, MLA_PARAMS_Q, MLP_DEF,
                 MLP_PARAMS, MOE_DEF, MOE_PARAMS, ACTIVE),
    claims=(cache_mla, mla, mla_full_q, mla_params, mla_params_q, mlp, mlp_params, moe,
            moe_params, moe_active),
    results=(
        _r("mla_cache_bytes", cache_mla, (b, n_c, r_kv, d_rope, B_el),
           "bytes of one MLA layer's cache (latent and rotated key) holding `cached` tokens",
           "bytes"),
        _r("mla_flops", mla, MLA_SIZES, "FLOPs of MLA's projections for s new rows and "
           "latent_rows expanded latents", "FLOPs"),
        _r("mla_flops_full_q", mla_full_q, (b, s, t_rows, d, h, r_kv, d_nope, d_rope, d_v),
           "FLOPs of MLA's projections with a full-rank query", "FLOPs"),
        _r("mla_params", mla_params, (d, h, r_q, r_kv, d_nope, d_rope, d_v, qkv, o_b),
           "parameters of one MLA block", "parameters"),
        _r("mla_params_full_q", mla_params_q, (d, h, r_kv, d_nope, d_rope, d_v, qkv, o_b),
           "parameters of one MLA block with a full-rank query", "parameters"),
        _r("mlp_flops", mlp, (b, s, d, n_ff, d_ff), "FLOPs of a dense MLP", "FLOPs"),
        _r("mlp_params", mlp_params, (d, n_ff, d_ff, mlp_b), "parameters of a dense MLP",
           "parameters"),
        _r("moe_flops", moe, (b, s, d, n_ff, n_exp, k_top, d_exp, d_sh, sg),
           "FLOPs of a mixture of experts: router, top-k experts, shared experts, gate",
           "FLOPs"),
        _r("moe_params", moe_params, (d, n_exp, N_exp, N_sh, sg, rb),
           "parameters of a mixture-of-experts block", "parameters"),
        _r("moe_active_params", moe_active, (d, n_exp, k_top, N_exp, N_sh, sg, rb),
           "parameters of a mixture-of-experts block one token uses", "parameters",
           expr=moe_active.steps[0].expr),
    ),
    checks=(
        NumericCheck("cache_mla", check_cache_mla, "Cache nbytes of MLA layers in fp32, bf16 "
                     "and fp8: $M_{\\ell}^{\\mathrm{MLA}}$ exactly.", claim="cache_mla"),
        NumericCheck("mla", check_mla, "MLA projections in prefill and cached decode steps: "
                     "$F_{\\mathrm{MLA}}$ exactly.", claim="mla"),
        NumericCheck("mla_full_q", check_mla_full_q, "MLA with a full-rank query: exact.",
                     claim="mla_full_q"),
        NumericCheck("mla_params", check_mla_params, "MLA arrays: $N_{\\mathrm{MLA}}$ exactly.",
                     claim="mla_params"),
        NumericCheck("mla_params_q", check_mla_params_q, "MLA arrays with a full-rank query: "
                     "exact.", claim="mla_params_q"),
        NumericCheck("mlp", check_mlp, "Dense MLP products: $F_{\\mathrm{mlp}}$ exactly.",
                     claim="mlp"),
        NumericCheck("mlp_params", check_mlp_params, "MLP arrays: $N_{\\mathrm{dense}}$.",
                     claim="mlp_params"),
        NumericCheck("moe", check_moe, "MoE products under two token draws each: "
                     "$F_{\\mathrm{moe}}$ exactly.", claim="moe"),
        NumericCheck("moe_params", check_moe_params, "MoE arrays: $N_{\\mathrm{moe}}$.",
                     claim="moe_params"),
        NumericCheck("active", check_active, "Arrays one token's products use: "
                     "$N_{\\mathrm{act}}$ exactly.", claim="moe_active"),
    ),
    notation={
        n1: "rows of $A$", n2: "columns of $A$, rows of $B$", n3: "columns of $B$",
        d_v: "dimension of the values of one head",
        n_c: "tokens a layer's cache holds",
        qkv: "1 when $Q$, $K$, $V$ (MLA: the down-projections) have biases, else 0",
        o_b: "1 when the output projection has a bias, else 0",
        mlp_b: "1 when the MLP's matrices have biases, else 0",
        n_exp: "routed experts per MoE layer", k_top: "experts each token is routed to",
        d_exp: "width of one routed expert", d_sh: "total width of the shared experts (0: none)",
        sg: "1 when a $d \\to 1$ gate scales the shared experts (Qwen-MoE), else 0",
        rb: "1 when the router has a bias, else 0",
        N_exp: "parameters of one routed expert", N_sh: "parameters of the shared experts",
        r_q: "rank of MLA's query latent", r_kv: "rank of MLA's key/value latent",
        d_nope: "entries of an MLA query/key head without rotation",
        d_rope: "rotated entries of an MLA query/key head (one rotated key shared by all heads)",
        t_rows: "latents expanded by $W_{UKV}$ ($s$ in prefill, $s_{\\mathrm{c}} + 1$ in "
                "decode)",
        F_mla: "FLOPs of MLA's projections", F_mla_q: "the same with a full-rank query",
        F_mlp: "FLOPs of a dense MLP", F_moe: "FLOPs of a mixture-of-experts block",
        N_mla: "parameters of an MLA block", N_mla_q: "the same with a full-rank query",
        N_dense: "parameters of a dense MLP",
        N_moe: "parameters of a mixture-of-experts block",
        N_act: "parameters of a mixture-of-experts block one token uses",
        M_mla: "cache bytes of one MLA layer",
    },
    sources=(
        "PyTorch, torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per multiply-accumulate.",
        "DeepSeek-AI 2024, DeepSeek-V2 (arXiv 2405.04434), section 2.1: multi-head latent "
        "attention, a cache of $(d_c + d_h^R)$ elements per token and layer; DeepSeek-AI 2024, "
        "DeepSeek-V3 (arXiv 2412.19437).",
        "Shazeer et al. 2017 (arXiv 1701.06538); Fedus et al. 2022, Switch Transformers; Jiang "
        "et al. 2024, Mixtral of Experts (arXiv 2401.04088): top-k routing; Dai et al. 2024, "
        "DeepSeekMoE (arXiv 2401.06066): shared experts.",
        "Hugging Face transformers 5.24: DeepseekV3Attention, Qwen2MoeSparseMoeBlock, "
        "MixtralSparseMoeBlock (eager experts).",
    ),
    examples=(example_deepseek,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
