"""Training compute (6ND, PaLM's attention term, recomputation) and mixed-precision Adam memory.

Statement
    The backward pass of one product Y = AB, A (n1 x n2), B (n2 x n3), runs
    dA = dY B^T and dB = A^T dY: M(n1, n3, n2) + M(n2, n1, n3) = 2 M(n1, n2, n3).
    Assuming backward = 2 x forward for the whole model (every operand of every
    product needs its gradient; element-wise work apart), a training token costs
        C_tok = 6 N_mat + 12 L s h d_h,    so    C = 6 N_mat D + 12 L s h d_h D
    for D tokens: PaLM's 6N + 12 L H Q T with H = h heads of width Q = d_h and
    T = s tokens. Recomputing every layer's forward in the backward pass (the LM
    head's activations kept) costs 8 N_ne + 6 d V + 16 L s h d_h per token: "8N".
    Mixed-precision Adam keeps 2 + B_grad + 4 + 4 + 4 bytes per parameter
    (fp16 weights, gradients, fp32 master weights, first and second moments):
    16 with half-precision gradients.

Run on its own: ``python derivations/training_compute.py``.
"""

import numpy as np
from sympy import Eq, Symbol

from llmsym.derivation import (
    Assumption,
    Claim,
    Definition,
    Derivation,
    Measurement,
    NumericCheck,
    Result,
    Step,
    cite,
)
from llmsym.notation import Named, Notation, factors, group, minus, terms, unfold

# --- Symbols -----------------------------------------------------------------
# The same names print the same way in every compute-and-memory derivation.
LATEX = {"matrix_params": r"N_{\mathrm{mat}}", "nonembedding_params": r"N_{\mathrm{ne}}",
         "n_layers": "L", "seq": "s", "n_heads": "h", "d_head": "d_{h}", "train_tokens": "D",
         "params": "N", "grad_bytes": r"B_{\mathrm{grad}}", "batch": "b", "d_model": "d",
         "vocab_size": "V"}


def size(name: str) -> Named:
    return Named(name, LATEX[name], integer=True, positive=True)


N_mat, N_ne, L, s, h, d_h, D, N, B_grad, b, d, V = map(size, (
    "matrix_params", "nonembedding_params", "n_layers", "seq", "n_heads", "d_head", "train_tokens",
    "params", "grad_bytes", "batch", "d_model", "vocab_size"))
F_fwd, F_bwd, F_re, F_causal = (Symbol(name, integer=True, positive=True) for name in (
    r"F_{\mathrm{fwd}}", r"F_{\mathrm{bwd}}", r"F_{\mathrm{re}}", r"F_{\mathrm{causal}}"))
C_tok, C_rc, C_causal, B_param, share = (Symbol(name, positive=True) for name in (
    r"C_{\mathrm{tok}}", r"C_{\mathrm{rc}}", r"C_{\mathrm{causal}}", r"B_{\mathrm{param}}",
    r"\rho_{\mathrm{attn}}"))
C = Symbol("C", positive=True)
n1, n2, n3 = (Symbol(f"n_{k}", integer=True, positive=True) for k in (1, 2, 3))


class mm(Notation):  # noqa: N801 - read as "matrix multiply"
    """``mm(n1, n2, n3)``: FLOPs of an (n1 x n2)(n2 x n3) product, 2 per multiply-accumulate."""

    nargs = 3

    @classmethod
    def definition(cls, p, q, r):
        return 2 * p * q * r

    def _latex(self, printer) -> str:
        return r"\mathcal{M}(%s)" % ", ".join(printer._print(a) for a in self.args)




# --- Premises ------------------------------------------------------------------
# transformer-flops and transformer-params, their statements exactly
FORWARD = cite("transformer-flops:forward", Eq(F_fwd, terms(
    factors(2, b, s, N_mat), factors(4, b, s**2, L, h, d_h)), evaluate=False))
CAUSAL = cite("transformer-flops:forward_causal", Eq(F_causal, terms(
    factors(2, b, s, N_mat), factors(2, b, L, h, d_h, s, s + 1)), evaluate=False))
MATRICES = cite("transformer-params:matrices",
                Eq(N_mat, terms(N_ne, factors(d, V)), evaluate=False))
BACKWARD = Assumption(
    Eq(F_bwd, 2 * F_fwd),
    "backward = 2 x forward: both operands of every matrix product need their gradient, "
    "two products of its size; element-wise work is not counted")

# --- Definitions -------------------------------------------------------------------
MM = Definition("matrix product FLOPs", mm(n1, n2, n3), mm.definition(n1, n2, n3),
                "2 FLOPs per multiply-accumulate (FlopCounterMode)")
PER_TOKEN = Definition("training FLOPs per token", C_tok, terms(F_fwd, F_bwd) / (b * s),
                       "forward and backward pass of a step over $b$ sequences of $s$ tokens")
TOTAL = Definition("training compute", C, D * C_tok, "$D$ training tokens")
RECOMPUTED = Definition("recomputed forward", F_re, F_fwd - mm(b * s, d, V),
                        "every layer's forward runs again in the backward pass, from its "
                        "checkpointed input; the LM head keeps its activations")
PER_TOKEN_RC = Definition("training FLOPs per token with recomputation", C_rc,
                          terms(F_fwd, F_re, F_bwd) / (b * s))
PER_TOKEN_CAUSAL = Definition("training FLOPs per token, causal counting", C_causal,
                              3 * F_causal / (b * s), "three passes of the useful causal work")
SHARE = Definition("attention share", share, factors(12, L, s, h, d_h) / C_tok,
                   "the part of the training FLOPs spent in $QK^\\top$, $PV$ and their gradients")
ADAM = Definition("bytes per parameter", B_param, terms(2, B_grad, 4, 4, 4),
                  "fp16 weights (2), gradients ($B_{\\mathrm{grad}}$), fp32 master weights (4), "
                  "Adam's first (4) and second (4) moments")

# --- Claims ------------------------------------------------------------------
backward_product = Claim(
    "backward_product",
    "The backward pass of one product costs twice its forward",
    start=terms(mm(n1, n3, n2), mm(n2, n1, n3)),
    steps=(Step(2 * mm(n1, n2, n3), "$2n_1n_3n_2 + 2n_2n_1n_3 = 2 \\cdot 2n_1n_2n_3$",
                "unfold+expand"),),
    where=(MM,),
    note="For $Y = AB$ with $A$ of $n_1 \\times n_2$ and $B$ of $n_2 \\times n_3$: "
    "$dA = dY\\,B^\\top$ is an $(n_1 \\times n_3)(n_3 \\times n_2)$ product and "
    "$dB = A^\\top dY$ an $(n_2 \\times n_1)(n_1 \\times n_3)$ one.",
)

per_token = Claim(
    "per_token",
    "Training FLOPs per token",
    start=C_tok,
    steps=(
        Step(terms(F_fwd, F_bwd) / (b * s), "a step is a forward and a backward pass",
             "definition"),
        Step(3 * F_fwd / (b * s), "backward = 2 x forward", "cancel", using=(BACKWARD,)),
        Step(factors(3, group(factors(2, b, s, N_mat), factors(4, b, s**2, L, h, d_h))) / (b * s),
             "the forward count of transformer-flops", "cancel", using=(FORWARD,)),
        Step(terms(6 * N_mat, factors(12, L, s, h, d_h)), "divide by $bs$", "unfold+cancel"),
    ),
    note="Exact for the matrix products (a real backward pass, counted, agrees); element-wise "
    "work is extra.", on_sheet=False,
)

total = Claim(
    "total",
    "Training compute: 6ND and PaLM's attention term",
    start=C,
    steps=(
        Step(D * C_tok, "$D$ training tokens", "definition"),
        Step(terms(factors(6, N_mat, D), factors(12, L, s, h, d_h, D)),
             "the cost per token", "unfold+expand", using=(per_token,)),
    ),
    note="PaLM (Chowdhery et al. 2022, app. B) writes $6N + 12LHQT$ per token: $H = h$ heads of "
    "width $Q = d_{h}$, $T = s$ tokens, $N = N_{\\mathrm{mat}}$. $C \\approx 6N_{\\mathrm{mat}}D$ "
    "when $2Lshd_{h} \\ll N_{\\mathrm{mat}}$; Hoffmann et al.'s $6ND$ uses all parameters $N$, "
    "which adds the embedding table's lookups as if they were products.",
)

recompute = Claim(
    "recompute",
    "With activation recomputation: 8N",
    start=C_rc,
    steps=(
        Step(terms(F_fwd, F_re, F_bwd) / (b * s), "forward, the layers' forward again, backward",
             "definition"),
        Step((4 * F_fwd - mm(b * s, d, V)) / (b * s),
             "backward = 2 x forward; the LM head is not recomputed", "definition+expand",
             using=(BACKWARD,)),
        Step(minus(factors(4, group(factors(2, b, s, N_mat), factors(4, b, s**2, L, h, d_h))),
                   mm(b * s, d, V)) / (b * s), "the forward count of transformer-flops",
             "unfold+expand", using=(FORWARD,)),
        Step(terms(factors(8, N_ne), factors(6, d, V), factors(16, L, s, h, d_h)),
             "$N_{\\mathrm{mat}} = N_{\\mathrm{ne}} + dV$ (transformer-params)", "unfold+cancel",
             using=(MATRICES,)),
    ),
    where=(MM,),
    note="Four passes through the layers, three through the LM head: $8N_{\\mathrm{ne}}$ per "
    "token when $dV$ and attention are small (Korthikanti et al. 2022, section 6).", on_sheet=False,
)

causal = Claim(
    "causal",
    "With causal counting: Kaplan's attention term",
    start=C_causal,
    steps=(
        Step(3 * F_causal / (b * s), "three passes of the useful causal work", "definition"),
        Step(terms(6 * N_mat, factors(6, L, s + 1, h, d_h)),
             "the causal count of transformer-flops", "unfold+cancel", using=(CAUSAL,)),
    ),
    on_sheet=False,
    note="Kaplan et al.'s $6N + 6 n_{layer} n_{ctx} d_{attn}$ per token: their attention term "
    "is the useful causal work, about half of the full count $12Lshd_{h}$.",
)

attention_share = Claim(
    "attention_share",
    "Attention's share of training FLOPs",
    start=share,
    steps=(
        Step(factors(12, L, s, h, d_h) / C_tok, "the attention products over all products",
             "definition"),
        Step(factors(12, L, s, h, d_h) / terms(6 * N_mat, factors(12, L, s, h, d_h)),
             "the cost per token", "cancel", using=(per_token,)),
        Step(factors(2, L, s, h, d_h) / terms(N_mat, factors(2, L, s, h, d_h)), "divide by 6",
             "unfold+cancel"),
    ),
    on_sheet=False,
    note="A share, below 1: 13.3 % for GPT-2 small at $s = 1024$ (the ratio "
    "$2Lshd_{h}/N_{\\mathrm{mat}}$ is 15.3 %).",
)

adam_bytes = Claim(
    "adam_bytes",
    "Mixed-precision Adam: bytes per parameter",
    start=B_param,
    steps=(Step(terms(14, B_grad), "add the fp16 weights and the three fp32 arrays",
                "definition"),),
    note="$B_{\\mathrm{grad}} = 2$ (fp16/bf16 gradients): $2 + 2 + 4 + 4 + 4 = 16$ bytes "
    "(ZeRO's $16\\Psi$); fp32 gradients: 18. Activations and buffers are extra.", on_sheet=False,
)


# --- Numeric checks ----------------------------------------------------------


def _sizes(model, batch: int, seq: int) -> dict:
    """The formulas' keywords for a counting decoder; N_mat and N_ne read from its arrays."""
    c, w = model.config, model.weights
    layers = sum(a.size for k, a in w.items() if k.startswith("layer") and a.ndim == 2)
    head = w["embed"].size if c.tie_embeddings else w["lm_head"].size
    return dict(matrix_params=layers + head, nonembedding_params=layers, n_layers=c.n_layers,
                seq=seq, n_heads=c.n_heads, d_head=c.d_head, batch=batch, d_model=c.d_model,
                vocab_size=c.vocab_size, params=model.param_count)


def _training_steps(rng: np.random.Generator, cases: int, recompute: bool = False):
    """Forward and real backward passes of random decoders, every product counted."""
    from llmsym.numeric.transformer import Counter, Decoder, random_config
    from llmsym.numeric.transformer_backward import finite_difference_gap, loss_and_grads

    for k in range(cases):
        model = Decoder(random_config(rng), rng)
        batch, seq = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        tokens, targets = (rng.integers(0, model.config.vocab_size, size=(batch, seq))
                           for _ in range(2))
        fwd, bwd = Counter(), Counter()
        _, grads = loss_and_grads(model, tokens, targets, fwd, bwd, recompute=recompute)
        # the counted backward must be a correct one: finite differences on two models
        gap = finite_difference_gap(model, tokens, targets, grads, rng, 2) if k < 2 else 0.0
        yield model, batch, seq, fwd, bwd, gap


def _call(formula, values: dict):
    return formula(**{k: values[k] for k in formula.params})


def check_backward_product(rng: np.random.Generator, formula) -> Measurement:
    """Run the two gradient products of random products, count them, check the gradients."""
    from llmsym.numeric.transformer import Counter
    from llmsym.numeric.transformer_backward import linear_backward

    worst, cases = 0.0, 30
    for _ in range(cases):
        p, q, r = (int(x) for x in rng.integers(1, 12, size=3))
        x, w, g = rng.normal(size=(p, q)), rng.normal(size=(q, r)), rng.normal(size=(p, r))
        counter = Counter()
        dx, dw = linear_backward(x, w, g, counter, "y")
        # d/dt sum(g * (x + t u) w) = sum(g * u w): the gradients are the right ones
        u, v = rng.normal(size=(p, q)), rng.normal(size=(q, r))
        wrong = (abs(np.sum(dx * u) - np.sum(g * (u @ w)))
                 + abs(np.sum(dw * v) - np.sum(g * (x @ v))))
        if wrong > 1e-9:
            return Measurement(float("inf"), cases, 0.0, "a gradient product is wrong")
        worst = max(worst, abs(counter.flops - formula(n_1=p, n_2=q, n_3=r)))
    return Measurement(worst, cases, 0.0, "counted FLOPs of dY W^T and X^T dY for 30 random "
                       "shapes vs 2M(n1, n2, n3); gradients checked by directional derivatives")


def check_per_token(rng: np.random.Generator, formula) -> Measurement:
    """Counted forward + real backward FLOPs per token of random decoders against C_tok."""
    worst, cases, gap = 0.0, 8, 0.0
    for model, batch, seq, fwd, bwd, fd in _training_steps(rng, cases):
        gap = max(gap, fd)
        got = _call(formula, _sizes(model, batch, seq))
        worst = max(worst, abs((fwd.flops + bwd.flops) / (batch * seq) - got))
    if gap > 1e-4:
        return Measurement(float("inf"), cases, 0.0, f"backward off by {gap:.1e} from finite "
                           "differences")
    return Measurement(worst, cases, 1e-9, "forward + backward FLOPs executed by 8 random NumPy "
                       "decoders (gradients confirmed by finite differences) per token vs C_tok")


def check_total(rng: np.random.Generator, formula) -> Measurement:
    """Several training steps of one decoder: their counted FLOPs against C at D tokens."""
    worst, cases = 0.0, 4
    for _ in range(cases):
        steps = list(_training_steps(np.random.default_rng(rng.integers(2**32)), 1))
        model, batch, seq, fwd, bwd, _ = steps[0]
        n_steps = int(rng.integers(1, 5))  # identical steps: the count of one, n_steps times
        values = dict(_sizes(model, batch, seq), train_tokens=n_steps * batch * seq)
        worst = max(worst, abs(n_steps * (fwd.flops + bwd.flops) - _call(formula, values)))
    return Measurement(worst, cases, 1e-6, "counted FLOPs of training steps of NumPy decoders "
                       "vs C at D = steps x b x s tokens")


def check_recompute(rng: np.random.Generator, formula) -> Measurement:
    """The real backward pass with every layer recomputed from its checkpointed input."""
    worst, cases, gap = 0.0, 8, 0.0
    for model, batch, seq, fwd, bwd, fd in _training_steps(rng, cases, recompute=True):
        gap = max(gap, fd)
        got = _call(formula, _sizes(model, batch, seq))
        worst = max(worst, abs((fwd.flops + bwd.flops) / (batch * seq) - got))
    if gap > 1e-4:
        return Measurement(float("inf"), cases, 0.0, "backward wrong")
    return Measurement(worst, cases, 1e-9, "FLOPs of training steps with activation "
                       "recomputation in 8 NumPy decoders, per token, vs C_rc")


ATTENTION = ("scores", "context")


def check_share(rng: np.random.Generator, formula) -> Measurement:
    """FLOPs of the attention products and their gradients over all counted FLOPs."""
    worst, cases = 0.0, 8
    for model, batch, seq, fwd, bwd, _ in _training_steps(rng, cases):
        parts = {**fwd.matmul_flops}
        for k, v in bwd.matmul_flops.items():
            parts[k] = parts.get(k, 0) + v
        attention = sum(v for k, v in parts.items() if any(a in k for a in ATTENTION))
        measured = attention / sum(parts.values())
        worst = max(worst, abs(measured - _call(formula, _sizes(model, batch, seq))))
    return Measurement(worst, cases, 1e-12, "share of attention products (QK^T, PV and their "
                       "gradients) among all products counted in 8 training steps vs the formula")


def check_adam_bytes(rng: np.random.Generator, formula) -> Measurement:
    """A working mixed-precision Adam on a NumPy decoder: weigh the state it keeps."""
    from llmsym.numeric.transformer import Counter, Decoder, random_config
    from llmsym.numeric.transformer_backward import loss_and_grads

    worst, cases = 0.0, 0
    for grad_dtype in (np.float16, np.float32):
        model = Decoder(random_config(rng), rng)
        optimizer = MixedPrecisionAdam(model.weights, grad_dtype)
        tokens, targets = (rng.integers(0, model.config.vocab_size, size=(2, 5))
                           for _ in range(2))
        for _ in range(3):
            _, grads = loss_and_grads(model, tokens, targets, Counter(), Counter())
            optimizer.step(grads)
            model.weights.update(optimizer.working())
        if optimizer.drift() > 1e-3:  # the fp32 master copy must track fp64 Adam
            return Measurement(float("inf"), cases, 0.0, "mixed-precision Adam went astray")
        per_param = optimizer.nbytes / model.param_count
        want = formula(grad_bytes=np.dtype(grad_dtype).itemsize)
        worst, cases = max(worst, abs(per_param - want)), cases + 1
    return Measurement(worst, cases, 1e-12, "bytes kept by a working mixed-precision Adam "
                       "(fp16 or fp32 gradients) per parameter vs B_param")


class MixedPrecisionAdam:
    """Adam as mixed-precision training runs it (Micikevicius et al. 2018): fp16 working
    weights for the passes, gradients stored in ``grad_dtype``, and in fp32 a master copy of
    the weights and the two moments; the update is applied to the master copy."""

    def __init__(self, weights: dict, grad_dtype, lr: float = 1e-2) -> None:
        self.lr, self.t = lr, 0
        self.state = {k: {"weight": w.astype(np.float16), "grad": np.zeros(w.shape, grad_dtype),
                          "master": w.astype(np.float32), "m": np.zeros(w.shape, np.float32),
                          "v": np.zeros(w.shape, np.float32)} for k, w in weights.items()}
        self.reference = {k: (w.astype(np.float64), None) for k, w in weights.items()}

    def step(self, grads: dict) -> None:
        from llmsym.numeric.optim import AdamState, adam_step

        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        for k, s in self.state.items():
            s["grad"][...] = grads[k]
            g = s["grad"].astype(np.float32)
            s["m"][...] = b1 * s["m"] + (1 - b1) * g
            s["v"][...] = b2 * s["v"] + (1 - b2) * g * g
            m_hat, v_hat = s["m"] / (1 - b1**self.t), s["v"] / (1 - b2**self.t)
            s["master"][...] = s["master"] - self.lr * m_hat / (np.sqrt(v_hat) + eps)
            s["weight"][...] = s["master"].astype(np.float16)
            theta, state = self.reference[k]
            state = state or AdamState.zeros(theta.shape)
            self.reference[k] = adam_step(theta, s["grad"].astype(np.float64), state, lr=self.lr)

    def working(self) -> dict:
        """The fp16 working weights, as float64 arrays for the NumPy passes."""
        return {k: s["weight"].astype(np.float64) for k, s in self.state.items()}

    def drift(self) -> float:
        """Largest gap between the fp32 master weights and fp64 Adam fed the same gradients."""
        return max(float(np.max(np.abs(s["master"] - self.reference[k][0]), initial=0.0))
                   for k, s in self.state.items())

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for s in self.state.values() for a in s.values())


# --- Worked examples ------------------------------------------------------------


def example_share():
    from llmsym.presets import load_preset

    parts = []
    for name in ("gpt2", "llama-2-7b"):
        c = load_preset(name)
        n_mat = c.n_layers * (2 * c.d_model * c.d_head * (c.n_heads + c.n_kv_heads)
                              + (3 if c.ffn == "swiglu" else 2) * c.d_model * c.d_ff) \
            + c.d_model * c.vocab_size
        attn = 2 * c.n_layers * c.max_positions * c.n_heads * c.d_head
        value = float(unfold(attention_share.end).xreplace(
            {N_mat: n_mat, L: c.n_layers, s: c.max_positions, h: c.n_heads, d_h: c.d_head}))
        parts.append(rf"\text{{{name}, }} s = {c.max_positions}\colon\ "
                     rf"\rho_{{\mathrm{{attn}}}} = {value:.1%}\ (\text{{ratio }} "
                     rf"2Lshd_{{h}}/N_{{\mathrm{{mat}}}} = {attn / n_mat:.1%})")
    return ("Attention's share of training FLOPs at full context",
            r";\quad ".join(parts).replace("%", r"\%"))


# --- The derivation ------------------------------------------------------------
DERIVATION = Derivation(
    id="training-compute",
    title="Training compute and optimizer memory",
    topic="Compute and memory",
    order=72,
    gloss="Backward costs twice the forward: $6N_{\\mathrm{mat}}$ per token plus "
          "$12Lshd_{h}$ for attention, $8N$ with recomputation; Adam in mixed precision keeps "
          "16 bytes per parameter.",
    assumptions=(
        "Every operand of every matrix product needs its gradient: weights are trained, and "
        "activations descend from the trained embedding.",
        "Mixed precision: weights and gradients in fp16/bf16, an fp32 master copy and fp32 Adam "
        "moments; activations and temporary buffers are not counted.",
    ),
    # a definition before the ones its right side uses: they are unfolded in this order
    definitions=(MM, TOTAL, SHARE, PER_TOKEN_RC, RECOMPUTED, PER_TOKEN, PER_TOKEN_CAUSAL, ADAM),
    claims=(backward_product, per_token, total, recompute, causal, attention_share, adam_bytes),
    results=(
        Result("training_flops_per_token", unfold(per_token.end), (N_mat, L, s, h, d_h),
               "FLOPs of forward and backward per training token, attention in full",
               units="FLOPs", claim="per_token", integer=True),
        Result("training_flops", unfold(total.end), (N_mat, L, s, h, d_h, D),
               "FLOPs of training on D tokens of sequences of s tokens", units="FLOPs",
               claim="total", integer=True),
        Result("training_flops_per_token_recompute", unfold(recompute.end),
               (N_ne, d, V, L, s, h, d_h), "FLOPs per training token with every layer "
               "recomputed in the backward pass", units="FLOPs", claim="recompute",
               integer=True),
        Result("training_state_bytes", N * unfold(adam_bytes.end), (N, B_grad),
               "bytes of weights, gradients and Adam state in mixed precision",
               units="bytes", claim="adam_bytes", integer=True),
    ),
    checks=(
        NumericCheck("backward_product", check_backward_product, "The two gradient products of "
                     "30 random products, run and counted: $2\\mathcal{M}(n_1, n_2, n_3)$.",
                     claim="backward_product"),
        NumericCheck("per_token", check_per_token, "A real backward pass of 8 random NumPy "
                     "decoders (gradients confirmed by finite differences): counted forward and "
                     "backward FLOPs per token equal $C_{\\mathrm{tok}}$.", claim="per_token"),
        NumericCheck("total", check_total, "Counted FLOPs of whole training steps equal $C$ at "
                     "$D$ tokens.", claim="total"),
        NumericCheck("recompute", check_recompute, "The backward pass with every layer "
                     "recomputed, counted: $C_{\\mathrm{rc}}$ per token.", claim="recompute"),
        NumericCheck("share", check_share, "Attention products and their gradients among all "
                     "counted products: $\\rho_{\\mathrm{attn}}$.", claim="attention_share"),
        NumericCheck("adam_bytes", check_adam_bytes, "A working mixed-precision Adam (its fp32 "
                     "master weights track fp64 Adam) keeps $B_{\\mathrm{param}}$ bytes per "
                     "parameter.", claim="adam_bytes"),
    ),
    notation={
        n1: "rows of $A$", n2: "columns of $A$, rows of $B$", n3: "columns of $B$",
        F_bwd: "FLOPs of the backward pass of the same step",
        F_re: "FLOPs of the layers' forward run again in the backward pass",
        C_tok: "training FLOPs per token (forward and backward)",
        C_rc: "training FLOPs per token when every layer is recomputed",
        C_causal: "training FLOPs per token counting only the causal query-key pairs",
        share: "attention's share of the training FLOPs",
        B_param: "bytes per parameter of mixed-precision Adam",
        B_grad: "bytes per gradient element: 2 (fp16/bf16) or 4 (fp32)",
    },
    sources=(
        "Kaplan et al. 2020 (arXiv 2001.08361), section 2.1: $C \\approx 6ND$ with "
        "$C_{\\mathrm{forward}} \\approx 2N + 2n_{layer}n_{ctx}d_{attn}$.",
        "Chowdhery et al. 2022, PaLM (arXiv 2204.02311), appendix B: $6N + 12LHQT$ per token.",
        "Korthikanti et al. 2022, Reducing Activation Recomputation in Large Transformer Models "
        "(arXiv 2205.05198), section 6: full recomputation adds a forward pass of every layer.",
        "Chen et al. 2016, Training Deep Nets with Sublinear Memory Cost (arXiv 1604.06174).",
        "Rajbhandari et al. 2020, ZeRO (arXiv 1910.02054), section 3.1: $2 + 2 + 12 = 16$ bytes "
        "per parameter for mixed-precision Adam; Micikevicius et al. 2018, Mixed Precision "
        "Training (arXiv 1710.03740).",
    ),
    examples=(example_share,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
