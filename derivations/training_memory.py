"""Training memory: activations kept for the backward pass, with and without recomputation,
and ZeRO's sharding of weights, gradients and optimizer state.

Statement
    A layer keeps, for its backward pass, the input of every product, norm and
    activation that needs it, B_act bytes per element, and 1-byte dropout masks
    ([drop] = 1 with dropout). For a layer of width d, h query heads and h_kv
    key/value heads of width d_h, an MLP of width d_ff ([gated] = 1 for SwiGLU) and
    n_LN norms, per micro-batch of b sequences of s tokens:
        A_none = s b (B_act (2d + 2 h d_h + 2 h_kv d_h + (2 + 2[gated]) d_ff + n_LN d)
                      + 2 [drop] d) + h s^2 b (B_act + [drop](1 + B_act)),
        A_sel  = A_none without the h s^2 b terms (softmax, its dropout: recomputed),
        A_full = B_act s b d (the layer's input only).
    For GPT (B_act = 2, dropout, h d_h = d, h_kv = h, d_ff = 4d, two norms) this is
    Korthikanti et al.'s s b d (34 + 5 h s / d) and 34 s b d. ZeRO with N_d GPUs and K
    optimizer bytes per parameter keeps per GPU (4 + K) Psi, 4 Psi + K Psi / N_d,
    2 Psi + (2 + K) Psi / N_d and (4 + K) Psi / N_d (stages 0-3); Adam (K = 12): 16 Psi,
    4 Psi + 12 Psi / N_d, 2 Psi + 14 Psi / N_d, 16 Psi / N_d.

Run on its own: ``python derivations/training_memory.py``.
"""

import numpy as np
from sympy import Eq, Symbol

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
)
from llmsym.notation import Named, factors, group, terms, unfold

# --- Symbols -----------------------------------------------------------------
LATEX = {"seq": "s", "batch": "b", "d_model": "d", "n_heads": "h", "n_kv_heads": "h_{kv}",
         "d_head": "d_{h}", "d_ff": "d_{ff}", "n_layers": "L",
         "activation_bytes": r"B_{\mathrm{act}}", "dropout": r"[\mathrm{drop}]",
         "gated": r"[\mathrm{gated}]", "norms_per_layer": r"n_{\mathrm{LN}}", "psi": r"\Psi",
         "optimizer_bytes": "K", "gpus": "N_{d}", "state_bytes": r"M_{\mathrm{state}}",
         "kept_bytes": r"A_{\mathrm{kept}}", "layer_bytes": r"A_{\mathrm{none}}"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


def indicator(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, nonnegative=True)


s, b, d, h, h_kv, d_h, d_ff, L, B_act, n_LN, Psi, K, N_d = map(size, (
    "seq", "batch", "d_model", "n_heads", "n_kv_heads", "d_head", "d_ff", "n_layers",
    "activation_bytes", "norms_per_layer", "psi", "optimizer_bytes", "gpus"))
drop, gated = indicator("dropout"), indicator("gated")
M_state, A_kept, A_none = (Named(n, LATEX[n], positive=True)
                           for n in ("state_bytes", "kept_bytes", "layer_bytes"))
A_sel, A_full, M_peak = (Symbol(name, positive=True) for name in (
    r"A_{\mathrm{sel}}", r"A_{\mathrm{full}}", r"M_{\mathrm{peak}}"))
Z = tuple(Symbol(rf"M_{{\mathrm{{ZeRO}}}}^{{({k})}}", positive=True) for k in range(4))




# --- Definitions -------------------------------------------------------------------
TOKENS = factors(s, b)  # rows of the micro-batch
# Each entry: elements kept x bytes per element, in the order the forward pass makes them.
ATTENTION_LINEAR = (factors(TOKENS, d, B_act), factors(TOKENS, h, d_h, B_act),
                    factors(TOKENS, h_kv, d_h, B_act), factors(TOKENS, h_kv, d_h, B_act),
                    factors(TOKENS, h, d_h, B_act), factors(drop, TOKENS, d))
ATTENTION_SQUARE = (factors(h, s**2, b, B_act), factors(drop, h, s**2, b),
                    factors(drop, h, s**2, b, B_act))
MLP_KEPT = (factors(TOKENS, d, B_act), factors(TOKENS, d_ff, B_act),
            factors(gated, TOKENS, d_ff, B_act), factors(gated, TOKENS, d_ff, B_act),
            factors(TOKENS, d_ff, B_act), factors(drop, TOKENS, d))
NORMS_KEPT = (factors(n_LN, TOKENS, d, B_act),)
KEPT_TEXT = ("attention: the normed input of $W_{QKV}$, $Q$, $K$, $V$ (at $h_{kv}$ heads), the "
             "context entering $W_O$, the output dropout mask; MLP: its normed input, the "
             "activation's input, with a gate also the up projection and the activation's "
             "output, the input of $W_{\\mathrm{down}}$, the dropout mask; each norm's input")
NONE = Definition("activations kept, no recomputation", A_none,
                  terms(*ATTENTION_LINEAR[:5], *ATTENTION_SQUARE, *ATTENTION_LINEAR[5:],
                        *MLP_KEPT, *NORMS_KEPT),
                  KEPT_TEXT + "; and per head the softmax output, its dropout mask and the "
                  "dropped-out probabilities entering $PV$")
SELECTIVE = Definition("activations kept, selective recomputation", A_sel,
                       terms(*ATTENTION_LINEAR, *MLP_KEPT, *NORMS_KEPT),
                       KEPT_TEXT + "; the softmax, its dropout and $PV$'s input are recomputed "
                       "from $Q$ and $K$")
FULL = Definition("activations kept, full recomputation", A_full, factors(TOKENS, d, B_act),
                  "the layer's input only: the backward pass reruns the layer's forward")
STATE = {0: terms(2 * Psi, 2 * Psi, K * Psi), 1: terms(2 * Psi, 2 * Psi, K * Psi / N_d),
         2: terms(2 * Psi, factors(group(2 * Psi, K * Psi)) / N_d),
         3: factors(group(2 * Psi, 2 * Psi, K * Psi)) / N_d}
STATE_TEXT = {0: "every GPU holds fp16 weights, fp16 gradients and the optimizer state",
              1: "the optimizer state is split over the $N_{d}$ GPUs ($P_{os}$)",
              2: "gradients too ($P_{os+g}$)", 3: "weights too ($P_{os+g+p}$)"}
ZERO = tuple(Definition(f"ZeRO stage {k} state", Z[k], STATE[k], STATE_TEXT[k])
             for k in range(4))
PEAK = Definition("peak memory", M_peak, terms(M_state, factors(group(L, -1), A_kept), A_none),
                  "the state, every other layer's kept activations, and the layer being "
                  "differentiated with all it needs (recomputed if it was dropped)")

# --- Premises ------------------------------------------------------------------
GPT = (Hypothesis(Eq(B_act, 2), "16-bit activations"),
       Hypothesis(Eq(drop, 1), "dropout, 1-byte masks"),
       Hypothesis(Eq(gated, 0), "a GELU MLP"), Hypothesis(Eq(h_kv, h), "multi-head attention"),
       Hypothesis(Eq(d_h, d / h), "$hd_{h} = d$"), Hypothesis(Eq(d_ff, 4 * d), "$d_{ff} = 4d$"),
       Hypothesis(Eq(n_LN, 2), "two LayerNorms per layer"))
ADAM = Hypothesis(Eq(K, 12), "mixed-precision Adam: fp32 master weights, first and second "
                  "moments, $4 + 4 + 4$ bytes")
PEAK_AT = Assumption(
    "the peak is reached in the backward pass of the first layer differentiated: every "
    "other layer holds its kept activations; logits, activation gradients, communication "
    "buffers and fragmentation are not counted", "peak")

# --- Claims ------------------------------------------------------------------
LINEAR = factors(TOKENS, group(factors(B_act, group(2 * d, factors(2, h, d_h),
                                                     factors(2, h_kv, d_h),
                                                     factors(group(2, 2 * gated), d_ff),
                                                     factors(n_LN, d))),
                               factors(2, drop, d)))
SQUARE = factors(h, s**2, b, group(B_act, factors(drop, group(1, B_act))))

none = Claim(
    "none",
    "Activations a layer keeps for its backward pass",
    start=A_none,
    steps=(Step(terms(LINEAR, SQUARE), "collect the tensors linear in $s$ and those of $s^2$",
                "definition+expand"),),
    note="Every tensor is what the backward pass of its operation reads (a NumPy layer whose "
    "backward reads only these gets the gradients right); GQA keeps $K$ and $V$ at "
    "$h_{kv}$ heads; without dropout ($[\\mathrm{drop}] = 0$) $PV$ reads the softmax output "
    "itself.", on_sheet=False,
)

selective = Claim(
    "selective",
    "Selective recomputation keeps no $s^2$ term",
    start=A_sel,
    steps=(Step(LINEAR, "collect", "definition+expand"),),
    note="Korthikanti et al.: recomputing the softmax, its dropout and the attention over $V$ "
    "costs little compute and removes the term quadratic in $s$.", on_sheet=False,
)

full = Claim(
    "full",
    "Full recomputation keeps the layer's input",
    start=A_full,
    steps=(Step(factors(B_act, s, b, d), "one $s \\times b \\times d$ tensor", "definition"),),
    on_sheet=False,
    note="At the price of a second forward pass of every layer (training-compute: 8N).",
)

korthikanti = Claim(
    "korthikanti",
    "GPT layers: Korthikanti et al.'s $sbd(34 + 5hs/d)$",
    given=GPT,
    start=A_none,
    steps=(
        Step(terms(LINEAR, SQUARE), "as above", "definition+expand", using=(none,)),
        Step(factors(s, b, d, group(34, factors(5, h, s) / d)),
             "16-bit activations, dropout, $hd_{h} = d$, $h_{kv} = h$, $d_{ff} = 4d$, two norms",
             "unfold+expand", using=GPT),
    ),
    note="Their notation: $h$ hidden width (our $d$), $a$ heads (our $h$): $sbh(34 + 5as/h)$ "
    "(Korthikanti et al. 2022, eq. 1); 34 is $11 + 19 + 4$ (attention, MLP, norms).",
)

korthikanti_selective = Claim(
    "korthikanti_selective",
    "GPT layers, selective recomputation: $34sbd$",
    given=GPT,
    start=A_sel,
    steps=(
        Step(LINEAR, "as above", "definition+expand", using=(selective,)),
        Step(factors(34, s, b, d), "the GPT sizes", "unfold+expand", using=GPT),
    ),
)

END = {0: factors(group(4, K), Psi), 1: terms(4 * Psi, factors(K, Psi) / N_d),
       2: terms(2 * Psi, factors(group(2, K), Psi) / N_d), 3: factors(group(4, K), Psi) / N_d}
ADAM_END = {0: 16 * Psi, 1: terms(4 * Psi, factors(12, Psi) / N_d),
            2: terms(2 * Psi, factors(14, Psi) / N_d), 3: factors(16, Psi) / N_d}
ADAM_NOTE = {0: "$16\\Psi$", 1: "$4\\Psi + 12\\Psi/N_{d}$", 2: "$2\\Psi + 14\\Psi/N_{d}$",
             3: "$16\\Psi/N_{d}$"}
TITLE = {0: "Data parallelism keeps $(4 + K)\\Psi$ per GPU",
         1: "ZeRO stage 1 shards the optimizer state", 2: "ZeRO stage 2 shards the gradients",
         3: "ZeRO stage 3 shards the weights"}
zero = tuple(Claim(f"zero{k}", TITLE[k], start=Z[k],
                   steps=(Step(END[k], "collect", "definition+expand"),),
                   note="Rajbhandari et al. 2020, section 5.1 and Figure 1: fp16 weights and "
                   "gradients, $K\\Psi$ bytes of optimizer state. Adam ($K = 12$): "
                   + ADAM_NOTE[k] + ".",
                   on_sheet=k == 3)  # the face shows the fully sharded stage only
             for k in range(4))
zero_adam = tuple(Claim(f"zero{k}_adam", f"ZeRO stage {k} with Adam", given=(ADAM,),
                        start=Z[k],
                        steps=(Step(END[k], "collect", "definition+expand"),
                               Step(ADAM_END[k], "$K = 12$", "expand", using=(ADAM,))),
                        on_sheet=False)
                  for k in range(4))

peak = Claim(
    "peak",
    "Peak memory per GPU in a training step",
    given=(PEAK_AT,),
    start=M_peak,
    steps=(Step(PEAK.rhs, "$L - 1$ layers keep $A_{\\mathrm{kept}}$; the one differentiated "
                "holds $A_{\\mathrm{none}}$", "definition"),),
    note="No recomputation: $A_{\\mathrm{kept}} = A_{\\mathrm{none}}$ and the peak is "
    "$M_{\\mathrm{state}} + LA_{\\mathrm{none}}$.", on_sheet=False,
)

# --- Numeric checks ----------------------------------------------------------
# A layer in NumPy (float64) that records what its backward pass reads, and a backward pass
# that reads only that record. Its gradients are checked by finite differences; the bytes of
# the record (activations stored 16-bit, masks 1 byte) are the independent count.


def _ln(x):
    mu = x.mean(-1, keepdims=True)
    sd = np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
    return (x - mu) / sd


def _ln_back(x, dy):
    y = _ln(x)
    sd = np.sqrt(((x - x.mean(-1, keepdims=True)) ** 2).mean(-1, keepdims=True) + 1e-5)
    return (dy - dy.mean(-1, keepdims=True) - y * (dy * y).mean(-1, keepdims=True)) / sd


_C = 0.7978845608028654


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(_C * (x + 0.044715 * x**3)))


def _gelu_back(x, dy):
    t = np.tanh(_C * (x + 0.044715 * x**3))
    return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t**2) * _C * (1 + 3 * 0.044715 * x**2))


def _silu(x):
    return x / (1 + np.exp(-x))


def _silu_back(x, dy):
    sig = 1 / (1 + np.exp(-x))
    return dy * sig * (1 + x * (1 - sig))


class Layer:
    """A pre-norm layer (weightless norms): attention with h_kv key/value heads, a GELU or
    SwiGLU MLP, optional dropout; ``post`` adds Gemma-2's norms after each block."""

    def __init__(self, rng, d, h, kv, dh, ff, gated, p, post=False):
        self.h, self.kv, self.dh, self.gated, self.p, self.post = h, kv, dh, gated, p, post
        shapes = dict(q=(d, h * dh), k=(d, kv * dh), v=(d, kv * dh), o=(h * dh, d),
                      up=(d, ff), down=(ff, d), **({"gate": (d, ff)} if gated else {}))
        self.w = {k: rng.normal(size=sh) / np.sqrt(sh[0]) for k, sh in shapes.items()}

    def _masks(self, seed, b, s, d):
        g = np.random.default_rng(seed)
        keep = 1 - self.p
        return tuple((g.random(shape) < keep).astype(np.uint8) for shape in (
            (b, self.h, s, s), (b, s, d), (b, s, d)))

    def forward(self, x, seed, keep="none"):
        """Output and the record the backward pass reads (``keep``: none/selective/full)."""
        saved = {"seed": seed}
        b, s, d = x.shape
        m_att, m_out, m_mlp = self._masks(seed, b, s, d)
        scale = 1 / (1 - self.p) if self.p else 1.0
        saved["ln1_in"] = x
        a_in = _ln(x)
        q, k, v = (a_in @ self.w[n] for n in "qkv")
        saved.update(qkv_in=a_in, q=q, k=k, v=v)
        probs, dropped = self._probs(q, k, m_att, scale)
        saved["probs"] = probs
        if self.p:
            saved.update(att_mask=m_att, dropped=dropped)
        ctx = self._context(dropped, v)
        saved["o_in"] = ctx
        att = ctx @ self.w["o"]
        if self.p:
            att, saved["out_mask"] = att * m_out * scale, m_out
        if self.post:
            saved["post1_in"], att = att, _ln(att)
        x2 = x + att
        saved["ln2_in"] = x2
        m_in = _ln(x2)
        saved["mlp_in"] = m_in
        up = m_in @ self.w["up"]
        if self.gated:
            gate = m_in @ self.w["gate"]
            act = _silu(gate)
            hidden = act * up
            saved.update(act_in=gate, up=up, act_out=act, down_in=hidden)
        else:
            hidden = _gelu(up)
            saved.update(act_in=up, down_in=hidden)
        out = hidden @ self.w["down"]
        if self.p:
            out, saved["mlp_mask"] = out * m_mlp * scale, m_mlp
        if self.post:
            saved["post2_in"], out = out, _ln(out)
        y = x2 + out
        if keep == "selective":
            for name in ("probs", "att_mask", "dropped"):
                saved.pop(name, None)
        elif keep == "full":
            saved = {"seed": seed, "ln1_in": x}
        return y, saved

    def _probs(self, q, k, mask, scale):
        b, s, _ = q.shape
        qh = q.reshape(b, s, self.kv, self.h // self.kv, self.dh).transpose(0, 2, 3, 1, 4)
        kh = k.reshape(b, s, self.kv, self.dh).transpose(0, 2, 1, 3)[:, :, None]
        scores = qh @ kh.swapaxes(-1, -2) / np.sqrt(self.dh)
        scores = np.where(np.tril(np.ones((s, s), bool)), scores, -np.inf)
        e = np.exp(scores - scores.max(-1, keepdims=True))
        probs = (e / e.sum(-1, keepdims=True)).reshape(b, self.h, s, s)
        return probs, probs * mask * scale if self.p else probs

    def _context(self, dropped, v):
        b, _, s, _ = dropped.shape
        vh = v.reshape(b, s, self.kv, self.dh).transpose(0, 2, 1, 3)[:, :, None]
        ctx = dropped.reshape(b, self.kv, self.h // self.kv, s, s) @ vh
        return ctx.reshape(b, self.h, s, self.dh).transpose(0, 2, 1, 3).reshape(b, s, -1)

    def backward(self, saved, dy):
        """d(input) from the record alone; what is missing is recomputed as recorded."""
        if "qkv_in" not in saved:  # full recomputation: rerun the forward from the input
            _, saved = self.forward(saved["ln1_in"], saved["seed"])
        if "probs" not in saved:  # selective: rebuild the softmax and its dropout from Q, K
            b, s, d = saved["ln1_in"].shape
            m_att = self._masks(saved["seed"], b, s, d)[0]
            scale = 1 / (1 - self.p) if self.p else 1.0
            saved = dict(saved)
            saved["probs"], saved["dropped"] = self._probs(saved["q"], saved["k"], m_att, scale)
            saved["att_mask"] = m_att
        scale = 1 / (1 - self.p) if self.p else 1.0
        dx2 = dy
        dout = _ln_back(saved["post2_in"], dy) if self.post else dy
        if self.p:
            dout = dout * saved["mlp_mask"] * scale
        dhidden = dout @ self.w["down"].T
        if self.gated:
            dup = dhidden * saved["act_out"]
            dgate = _silu_back(saved["act_in"], dhidden * saved["up"])
            dm = dup @ self.w["up"].T + dgate @ self.w["gate"].T
        else:
            dm = _gelu_back(saved["act_in"], dhidden) @ self.w["up"].T
        dx = dx2 + _ln_back(saved["ln2_in"], dm)
        datt = _ln_back(saved["post1_in"], dx) if self.post else dx
        if self.p:
            datt = datt * saved["out_mask"] * scale
        dctx = datt @ self.w["o"].T
        dq, dk, dv = self._attention_back(saved, dctx, scale)
        da = dq @ self.w["q"].T + dk @ self.w["k"].T + dv @ self.w["v"].T
        return dx + _ln_back(saved["ln1_in"], da)

    def _attention_back(self, saved, dctx, scale):
        q, k, v, probs = saved["q"], saved["k"], saved["v"], saved["probs"]
        dropped = saved.get("dropped", probs)
        b, s, _ = q.shape
        g = self.h // self.kv
        dc = dctx.reshape(b, s, self.kv, g, self.dh).transpose(0, 2, 3, 1, 4)
        vh = v.reshape(b, s, self.kv, self.dh).transpose(0, 2, 1, 3)[:, :, None]
        pd = dropped.reshape(b, self.kv, g, s, s)
        dv = (pd.swapaxes(-1, -2) @ dc).sum(2)
        dpd = dc @ vh.swapaxes(-1, -2)
        dp = dpd * saved["att_mask"].reshape(pd.shape) * scale if self.p else dpd
        pr = probs.reshape(pd.shape)
        ds = pr * (dp - (dp * pr).sum(-1, keepdims=True)) / np.sqrt(self.dh)
        qh = q.reshape(b, s, self.kv, g, self.dh).transpose(0, 2, 3, 1, 4)
        kh = k.reshape(b, s, self.kv, self.dh).transpose(0, 2, 1, 3)[:, :, None]
        dq = (ds @ kh).transpose(0, 3, 1, 2, 4).reshape(b, s, -1)
        dk = (ds.swapaxes(-1, -2) @ qh).sum(2).transpose(0, 2, 1, 3).reshape(b, s, -1)
        return dq, dk, dv.transpose(0, 2, 1, 3).reshape(b, s, -1)


def record_bytes(saved: dict, act_dtype=np.float16) -> int:
    """Bytes of a record: activations stored in ``act_dtype``, masks as they are (1 byte)."""
    total = 0
    for name, value in saved.items():
        if name == "seed":  # the RNG state that regenerates the masks: a few bytes, not counted
            continue
        total += value.nbytes if value.dtype == np.uint8 else value.astype(act_dtype).nbytes
    return total


def gradient_gap(layer, x, seed, keep, rng) -> float:
    """|<dx, u> - finite difference along u| / scale for the backward run from a record."""
    g = rng.normal(size=x.shape)
    _, saved = layer.forward(x, seed, keep)
    dx = layer.backward(saved, g)
    u, eps = rng.normal(size=x.shape), 1e-6
    plus = np.sum(layer.forward(x + eps * u, seed)[0] * g)
    minus = np.sum(layer.forward(x - eps * u, seed)[0] * g)
    fd = (plus - minus) / (2 * eps)
    return abs(np.sum(dx * u) - fd) / max(1.0, abs(fd))


def _case(rng, gpt=False):
    kv = int(rng.integers(1, 3))
    h = kv * int(rng.integers(1, 3))
    if gpt:
        kv = h
        dh = int(rng.integers(1, 4))
        d, ff, gated, p = h * dh, 4 * h * dh, False, 0.25
    else:
        d, dh, ff = int(rng.integers(2, 7)), int(rng.integers(1, 4)), int(rng.integers(1, 9))
        gated, p = bool(rng.integers(0, 2)), float(rng.choice([0.0, 0.25]))
    post = False if gpt else bool(rng.integers(0, 2))
    layer = Layer(rng, d, h, kv, dh, ff, gated, p, post)
    batch, seq = int(rng.integers(1, 3)), int(rng.integers(1, 6))
    sizes = dict(seq=seq, batch=batch, d_model=d, n_heads=h, n_kv_heads=kv, d_head=dh,
                 d_ff=ff, activation_bytes=2, dropout=int(p > 0), gated=int(gated),
                 norms_per_layer=4 if post else 2)
    return layer, rng.normal(size=(batch, seq, d)), sizes


def _check_activations(rng, formula, keep: str, gpt: bool = False) -> Measurement:
    worst, gap, cases = 0.0, 0.0, 8
    for k in range(cases):
        layer, x, sizes = _case(rng, gpt)
        _, saved = layer.forward(x, k, keep)
        worst = max(worst, abs(record_bytes(saved) - formula(
            **{p: sizes[p] for p in formula.params})))
        if k < 3:
            gap = max(gap, gradient_gap(layer, x, k, keep, rng))
    if gap > 1e-6:
        return Measurement(float("inf"), cases, 0.0, f"a backward pass from the record is off "
                           f"by {gap:.1e}: the record is not enough")
    return Measurement(float(worst), cases, 0.0, f"bytes of the record ({keep}) a correct backward "
                       "pass reads (gradients confirmed by finite differences), 16-bit "
                       "activations and 1-byte masks, of 8 NumPy layers vs the formula")


def check_none(rng, formula) -> Measurement:
    return _check_activations(rng, formula, "none")


def check_selective(rng, formula) -> Measurement:
    return _check_activations(rng, formula, "selective")


def check_full(rng, formula) -> Measurement:
    return _check_activations(rng, formula, "full")


def check_korthikanti(rng, formula) -> Measurement:
    return _check_activations(rng, formula, "none", gpt=True)


def check_korthikanti_selective(rng, formula) -> Measurement:
    return _check_activations(rng, formula, "selective", gpt=True)


# ZeRO, simulated: N ranks train a flat vector of Psi parameters with mixed-precision Adam on
# their own data; each keeps only what its stage says; the result must equal one process.

def _adam(master, m, v, g, t, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8):
    m[...] = b1 * m + (1 - b1) * g
    v[...] = b2 * v + (1 - b2) * g * g
    master -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)


def zero_run(stage: int, psi: int, n: int, rng, steps: int = 2) -> tuple[int, float]:
    """Largest per-rank bytes of persistent state, and the gap to single-process Adam."""
    theta = rng.normal(size=psi).astype(np.float32)
    targets = [rng.normal(size=psi) for _ in range(n)]
    shard = psi // n
    own = [slice(0, psi) if stage == 0 else slice(r * shard, (r + 1) * shard)
           for r in range(n)]
    ranks = [{"w16": (theta if stage < 3 else theta[own[r]]).astype(np.float16),
              "g16": np.zeros(psi if stage < 2 else shard, np.float16),
              "master": theta[own[r]].copy(),
              "m": np.zeros(own[r].stop - own[r].start, np.float32),
              "v": np.zeros(own[r].stop - own[r].start, np.float32)} for r in range(n)]
    ref = {"master": theta.copy(), "m": np.zeros(psi, np.float32),
           "v": np.zeros(psi, np.float32)}
    for t in range(1, steps + 1):
        # stage 3 all-gathers the weights for the pass and drops them after: not kept
        weights = ranks[0]["w16"] if stage < 3 else np.concatenate([rk["w16"] for rk in ranks])
        grads = [(weights.astype(np.float32) - y).astype(np.float16) for y in targets]
        mean = np.mean([g.astype(np.float32) for g in grads], axis=0).astype(np.float16)
        for r, rk in enumerate(ranks):  # all-reduce (stages 0, 1) or reduce-scatter (2, 3)
            rk["g16"][...] = mean if stage < 2 else mean[own[r]]
            mine = rk["g16"][own[r]] if stage < 2 else rk["g16"]
            _adam(rk["master"], rk["m"], rk["v"], mine.astype(np.float32), t)
        gathered = np.concatenate([rk["master"] for rk in ranks]) if stage else None
        for rk in ranks:  # stages 1, 2 all-gather the updated weights; 0 and 3 keep their own
            rk["w16"][...] = (gathered if stage in (1, 2) else rk["master"]).astype(np.float16)
        _adam(ref["master"], ref["m"], ref["v"], mean.astype(np.float32), t)
    final = ranks[0]["w16"] if stage < 3 else np.concatenate([rk["w16"] for rk in ranks])
    gap = float(np.max(np.abs(final.astype(np.float32)
                              - ref["master"].astype(np.float16).astype(np.float32))))
    return max(sum(a.nbytes for a in rk.values()) for rk in ranks), gap


def _check_zero(rng, formula, stage: int) -> Measurement:
    worst, gap, cases = 0.0, 0.0, 6
    for _ in range(cases):
        n = int(rng.integers(1, 5))
        psi = n * int(rng.integers(1, 7))
        kept, g = zero_run(stage, psi, n, rng)
        gap = max(gap, g)
        values = dict(psi=psi, gpus=n, optimizer_bytes=12)  # fp32 master, m, v
        worst = max(worst, abs(kept - float(formula(**{p: values[p] for p in formula.params}))))
    if gap > 0:
        return Measurement(float("inf"), cases, 0.0, f"sharded training differs from one "
                           f"process ({gap:.1e})")
    return Measurement(float(worst), cases, 1e-9, f"largest per-GPU bytes of {cases} "
                       f"simulated ZeRO stage-{stage} runs of mixed-precision Adam (weights "
                       "equal to one process) vs the formula")


def _zero_check(stage: int):
    return lambda rng, formula: _check_zero(rng, formula, stage)


def check_peak(rng, formula) -> Measurement:
    """A stack of NumPy layers run forward; during the backward of the last one, the records
    held (every layer's kept one, the last one's full record) plus a given state."""
    worst, cases = 0.0, 6
    for k in range(cases):
        keep = str(rng.choice(["none", "selective", "full"]))
        layer, x, sizes = _case(rng)
        depth = int(rng.integers(1, 4))
        records, y = [], x
        for i in range(depth):  # the same weights each layer: only the records matter here
            y, saved = layer.forward(y, 10 * k + i, keep)
            records.append(saved)
        last = records[-1]
        if keep != "none":  # rebuilt for its backward pass
            _, last = layer.forward(records[-1]["ln1_in"], records[-1]["seed"])
        held = sum(record_bytes(r) for r in records[:-1]) + record_bytes(last)
        state = float(rng.integers(1, 1000))
        values = {"state_bytes": state, "n_layers": depth,
                  "kept_bytes": record_bytes(records[0]),
                  "layer_bytes": record_bytes(layer.forward(x, 0)[1])}
        worst = max(worst, abs(state + held - formula(**{p: values[p] for p in formula.params})))
    return Measurement(float(worst), cases, 1e-9, "state plus the records held by a stack of NumPy "
                       "layers in the backward pass of its last layer vs M_peak")


# --- Worked example ------------------------------------------------------------


def example_gpt3():
    sizes = dict(seq=2048, batch=1, d_model=12288, n_heads=96, n_kv_heads=96, d_head=128,
                 d_ff=4 * 12288, activation_bytes=2, dropout=1, gated=0, norms_per_layer=2)
    expr = unfold(none.end)
    value = int(expr.xreplace({sym: sizes[sym.name] for sym in expr.free_symbols}))
    sel = unfold(selective.end)
    kept = int(sel.xreplace({sym: sizes[sym.name] for sym in sel.free_symbols}))
    return ("GPT-3 175B layer ($d = 12288$, $h = 96$, $s = 2048$, $b = 1$): activations kept",
            rf"A_{{\mathrm{{none}}}} = {value / 2**30:.2f}\,\mathrm{{GiB}},\ "
            rf"A_{{\mathrm{{sel}}}} = {kept / 2**30:.2f}\,\mathrm{{GiB}}")


# --- The derivation ------------------------------------------------------------
ACT = (s, b, d, h, h_kv, d_h, d_ff, B_act, drop, gated, n_LN)

DERIVATION = Derivation(
    id="training-memory",
    title="Activation memory, recomputation and ZeRO",
    topic="Compute and memory",
    order=76,
    gloss="A layer keeps $sbd(34 + 5hs/d)$ bytes for GPT (Korthikanti et al.), $34sbd$ with "
          "selective recomputation, $2sbd$ with full; ZeRO divides Adam's $16\\Psi$ over "
          "$N_{d}$ GPUs in three stages.",
    assumptions=(
        "A pre-norm layer, attention then MLP; every operation keeps what its backward pass "
        "reads (PyTorch autograd's saved tensors): the inputs of products, norms and "
        "activations, softmax outputs, 1-byte dropout masks; the RNG state that regenerates "
        "masks is not counted.",
        "ZeRO with mixed-precision training: fp16 weights and gradients, $K$ bytes of "
        "optimizer state per parameter, sharded evenly over $N_{d}$ data-parallel GPUs.",
    ),
    definitions=(NONE, SELECTIVE, FULL, *ZERO, PEAK),
    claims=(none, selective, full, korthikanti, korthikanti_selective, *zero, *zero_adam, peak),
    results=(
        Result("activation_bytes_per_layer", unfold(none.end), ACT,
               "bytes a layer keeps for its backward pass, no recomputation", units="bytes",
               claim="none", integer=True),
        Result("activation_bytes_per_layer_selective", unfold(selective.end), ACT,
               "bytes a layer keeps with selective recomputation", units="bytes",
               claim="selective", integer=True),
        Result("activation_bytes_per_layer_full", unfold(full.end), (s, b, d, B_act),
               "bytes a layer keeps with full recomputation (its input)", units="bytes",
               claim="full", integer=True),
        *(Result(f"training_state_bytes_per_gpu_zero{k}", unfold(zero[k].end), (Psi, K, N_d),
                 f"bytes of weights, gradients and optimizer state per GPU, ZeRO stage {k}",
                 units="bytes", claim=f"zero{k}") for k in range(4)),
        Result("peak_memory_per_gpu", unfold(peak.end), (M_state, L, A_kept, A_none),
               "state, kept activations of L layers and one layer's full record",
               units="bytes", claim="peak"),
    ),
    checks=(
        NumericCheck("none", check_none, "Records a correct backward pass of 8 NumPy layers "
                     "reads (GQA, gated, dropout, post-norms varied): $A_{\\mathrm{none}}$ "
                     "bytes exactly.", claim="none"),
        NumericCheck("selective", check_selective, "The same with the softmax recomputed: "
                     "$A_{\\mathrm{sel}}$.", claim="selective"),
        NumericCheck("full", check_full, "The layer's input only, the forward rerun: "
                     "$A_{\\mathrm{full}}$.", claim="full"),
        NumericCheck("korthikanti", check_korthikanti, "GPT layers: $sbd(34 + 5hs/d)$ bytes.",
                     claim="korthikanti"),
        NumericCheck("korthikanti_selective", check_korthikanti_selective, "GPT layers, "
                     "selective: $34sbd$.", claim="korthikanti_selective"),
        *(NumericCheck(f"zero{k}", _zero_check(k), f"Simulated ZeRO stage {k}: per-GPU bytes "
                       "of a sharded mixed-precision Adam that trains like one process.",
                       claim=f"zero{k}") for k in range(4)),
        *(NumericCheck(f"zero{k}_adam", _zero_check(k), f"The same with Adam's $K = 12$ "
                       f"(stage {k}).", claim=f"zero{k}_adam") for k in range(4)),
        NumericCheck("peak", check_peak, "Records held by a stack of NumPy layers at the last "
                     "layer's backward pass, plus the state: $M_{\\mathrm{peak}}$.",
                     claim="peak"),
    ),
    notation={
        B_act: "bytes per stored activation element (2 for 16-bit)",
        drop: "1 with dropout (1-byte masks kept), else 0",
        gated: "1 for a gated MLP (SwiGLU, GeGLU), else 0",
        n_LN: "norms in a layer, each keeping its input",
        A_none: "bytes a layer keeps for its backward pass",
        A_sel: "the same with selective recomputation", A_full: "the same with full recomputation",
        Psi: "parameters (ZeRO's $\\Psi$)", K: "optimizer-state bytes per parameter (Adam: 12)",
        N_d: "data-parallel GPUs sharing the state",
        **{Z[k]: f"bytes per GPU of weights, gradients and optimizer state, ZeRO stage {k}"
           for k in range(4)},
        M_state: "bytes per GPU of weights, gradients and optimizer state",
        A_kept: "activation bytes each layer keeps (per the recomputation policy)",
        M_peak: "peak bytes per GPU in a training step",
    },
    sources=(
        "Korthikanti et al. 2022, Reducing Activation Recomputation in Large Transformer Models "
        "(arXiv 2205.05198), section 4.1 (eq. 1: $sbh(34 + 5as/h)$), section 5 (selective "
        "recomputation: $34sbh$), Table 2 (full recomputation: $2sbh$).",
        "Rajbhandari et al. 2020, ZeRO (arXiv 1910.02054), section 5 and Figure 1: $(2 + 2 + "
        "K)\\Psi$, $4\\Psi + K\\Psi/N_d$, $2\\Psi + (2 + K)\\Psi/N_d$, $(2 + 2 + K)\\Psi/N_d$; "
        "$K = 12$ for mixed-precision Adam.",
        "Chen et al. 2016, Training Deep Nets with Sublinear Memory Cost (arXiv 1604.06174).",
    ),
    examples=(example_gpt3,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
