"""FlashAttention (Dao et al. 2022; Dao 2023): exact attention in blocks, the backward pass
from (O, L), and the memory and traffic the papers state.

Main results (one query row; block i holds the keys ñ_{i-1}+1 .. ñ_i)
    FlashAttention-2 keeps   l_i = e^{m_{i-1} - m_i} l_{i-1} + e^{mt_i - m_i} lt_i,
                             U_i = e^{m_{i-1} - m_i} U_{i-1} + e^{mt_i - m_i} (P~V)_i,
    FlashAttention-1 keeps   O_i = (l_{i-1} e^{m_{i-1} - m_i} O_{i-1} + e^{mt_i - m_i} (P~V)_i)
                                   / l_i.
    normaliser, numerator    l_i, U_i are the sums over every key seen, for any number of blocks
                             (induction on i) and any references m_i, mt_i
    fa2_output               U_i / l_i is the softmax-weighted mean of the values seen
    schedules_agree          O_i = U_i / l_i after every block (induction): FA-1 = FA-2
    recompute                L_i := LSE(S_i)  ⊢  e^{S_ij - L_i} = softmax(S_i)_j: P from (S, L)
    grad_V, grad_P           dV = P^T dO and dP = dO V^T (chain rule through O = P V)
    grad_S                   dS = P o (dP - D), D_i = sum_j P_ij dP_ij (the softmax Jacobian)
    rowsum                   sum_j P_ij dP_ij = dO_i . O_i: D needs no s x s matrix
    memory                   extra memory Theta(s^2) (S, P) against Theta(s) (one L per row)
    io_lower, io_upper       12 s^2 d^2 <= A_flash M <= 3 s^2 d (5 d + 6) for M <= s d:
                             Theta(s^2 d^2 / M)

Run on its own: ``python derivations/flash_attention.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import (
    Derivative,
    Eq,
    ImmutableDenseMatrix,
    IndexedBase,
    KroneckerDelta,
    Max,
    Sum,
    Symbol,
    exp,
    log,
    symbols,
)

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Induction,
    Measurement,
    NumericCheck,
    Result,
    Step,
    cite,
    induction_hypothesis,
)
from llmsym.notation import Named, Notation, factors, group, labelled, logsumexp, softmax, terms

# --- Symbols -------------------------------------------------------------------------------
i = Symbol("i", integer=True, positive=True)  # block index (forward); query row (backward)
j, k, c = symbols("j k c", integer=True, positive=True)  # key index; key; value coordinate
n = Symbol("n", integer=True, positive=True)  # keys of one query row (backward)
z = IndexedBase("z", real=True)  # the scores of one query row
v = IndexedBase("v", real=True)  # one coordinate of the values, v_j for key j
m = IndexedBase("m", real=True)  # running reference after each block (running maximum)
mt = IndexedBase(Named("m_tilde", r"\tilde{m}", real=True), real=True)  # a block's reference
# keys in the first i blocks (not n, the page-1 table's length of one vector)
nb = IndexedBase(Named("n_seen", r"\tilde{n}"), integer=True, nonnegative=True)
d_v = Symbol("d_v", integer=True, positive=True)  # value width of a head
S = IndexedBase("S", real=True)  # scores QK^T / sqrt(d_k), rows are queries
L_row = Symbol("L_i", real=True)  # the log-sum-exp FlashAttention-2 stores for row i
P = IndexedBase("P", real=True)  # attention probabilities softmax(S), rows are queries
V = IndexedBase("V", real=True)  # the value matrix, rows are keys
dO = IndexedBase(Named("dO", r"\mathrm{d}O", real=True), real=True)  # dLoss/dO
dP = IndexedBase(Named("dP", r"\mathrm{d}P", real=True), real=True)  # dLoss/dP


# --- Notation: block sums and the running state ---------------------------------------------
def block_sum(body, t):
    """sum over the keys of block t (n_{t-1} + 1 .. n_t, from key 1 for the first) of ``body``."""
    return Sum(body, (j, 1 if t == 1 else nb[t - 1] + 1, nb[t]))


class BlockNotation(Notation):
    """A quantity of block ``t``; printed by name with subscript t."""

    nargs = 1
    symbol = ""

    def _latex(self, printer):
        return self.symbol % printer._print(self.args[0])


class block_ell(BlockNotation):  # noqa: N801
    """lt_t = sum over block t of e^{z_j - mt_t}."""

    symbol = r"\tilde{\ell}_{%s}"

    @classmethod
    def definition(cls, t):
        return block_sum(exp(z[j] - mt[t]), t)


class block_pv(BlockNotation):  # noqa: N801
    """(P~V)_t = sum over block t of e^{z_j - mt_t} v_j."""

    symbol = r"\tilde{P}_{%s} V_{%s}"

    def _latex(self, printer):
        t = printer._print(self.args[0])
        return self.symbol % (t, t)

    @classmethod
    def definition(cls, t):
        return block_sum(exp(z[j] - mt[t]) * v[j], t)


def _run(blocks: int) -> tuple:
    """(l, U, O) after ``blocks`` blocks, from l_0 = U_0 = O_0 = 0 (m_0 = -inf: the first update
    adds the first block alone)."""
    ell, acc, out = sp.Integer(0), sp.Integer(0), sp.Integer(0)
    for t in range(1, blocks + 1):
        rescale = exp(m[t - 1] - m[t]) if t > 1 else 0
        new = exp(mt[t] - m[t])
        ell_new = rescale * ell + new * block_ell.definition(t)
        out = (ell * rescale * out + new * block_pv.definition(t)) / ell_new
        acc = rescale * acc + new * block_pv.definition(t)
        ell = ell_new
    return ell, acc, out


WRITTEN_OUT = 1  # random points use states after at most this many blocks (cost grows fast)


class RunningState(Notation):
    """The state after ``t`` blocks: written out for a concrete t up to WRITTEN_OUT (so random
    points evaluate it); for a symbolic t the updates enter proofs only as displayed
    hypotheses."""

    nargs = 1
    part = 0
    symbol = ""

    @classmethod
    def definition(cls, t):
        return _run(int(t))[cls.part]

    def doit(self, **hints):
        t = self.args[0]
        return self.definition(t) if t.is_Integer and 1 <= t <= WRITTEN_OUT else self

    def _eval_evalf(self, prec):
        # not written out: no value at a random point (the screen skips the point at once)
        raise ValueError("the running state is written out only for a few blocks")

    def _latex(self, printer):
        return self.symbol % printer._print(self.args[0])


class fa_ell(RunningState):  # noqa: N801
    """l_t, the running normaliser."""

    part, symbol = 0, r"\ell_{%s}"


class fa_u(RunningState):  # noqa: N801
    """U_t, FlashAttention-2's unnormalised output."""

    part, symbol = 1, r"U_{%s}"


class fa_o(RunningState):  # noqa: N801
    """O_t, FlashAttention-1's normalised output."""

    part, symbol = 2, r"O_{%s}"


def rescale(t):
    """e^{m_{t-1} - m_t}: the old state moved to the new reference."""
    return exp(m[t - 1] - m[t])


def lift(t):
    """e^{mt_t - m_t}: block t moved to the new reference."""
    return exp(mt[t] - m[t])


# --- Premises: the updates, as the papers write them ---------------------------------------
nxt = i + 1
ell_update = Hypothesis(Eq(fa_ell(nxt), terms(factors(rescale(nxt), fa_ell(i)),
                                              factors(lift(nxt), block_ell(nxt)))),
                        "the update of $\\ell$ (both schedules)")
u_update = Hypothesis(Eq(fa_u(nxt), terms(factors(rescale(nxt), fa_u(i)),
                                          factors(lift(nxt), block_pv(nxt)))),
                      "FlashAttention-2's update of $U$")
o_update = Hypothesis(Eq(fa_o(nxt), terms(factors(fa_ell(i), rescale(nxt), fa_o(i)),
                                          factors(lift(nxt), block_pv(nxt))) / fa_ell(nxt)),
                      "FlashAttention-1's update of $O$")

# --- Definitions (on the face: the two schedules) --------------------------------------------
ell_shown = IndexedBase(Named("ell", r"\ell", nonnegative=True), nonnegative=True)
U_shown, O_shown = IndexedBase("U", real=True), IndexedBase("O", real=True)
ellt_shown = IndexedBase(Named("ell_tilde", r"\tilde{\ell}", positive=True), positive=True)
pv_shown = IndexedBase(Named("PV_tilde", r"\tilde{P}V", real=True), real=True)
lift_shown, rescale_shown = exp(mt[i] - m[i]), exp(m[i - 1] - m[i])
DEFINITIONS = (
    Definition("FlashAttention-2", U_shown[i],
               terms(factors(rescale_shown, U_shown[i - 1]), factors(lift_shown, pv_shown[i])),
               on_sheet=False, title="FlashAttention-2: unnormalised output after block $i$",
               note="with $\\ell_i = e^{m_{i-1} - m_i}\\ell_{i-1} + e^{\\tilde m_i - m_i}"
                    " \\tilde\\ell_i$, $m_i = \\max(m_{i-1}, \\tilde m_i)$, $\\tilde\\ell_i ="
                    " \\sum_{j} e^{z_j - \\tilde m_i}$ and $(\\tilde P V)_i = \\sum_j"
                    " e^{z_j - \\tilde m_i} v_j$ over block $i$ (keys"
                    " $\\tilde n_{i-1}+1..\\tilde n_i$),"
                    " $\\tilde m_i$ its maximum; $U_0 = \\ell_0 = 0$; at the end"
                    " $O = U_T/\\ell_T$, and $L = m_T + \\log \\ell_T$ is stored."),
    Definition("FlashAttention-1", O_shown[i],
               terms(factors(ell_shown[i - 1], rescale_shown, O_shown[i - 1]),
                     factors(lift_shown, pv_shown[i])) / ell_shown[i],
               on_sheet=False, title="FlashAttention-1: normalised output after block $i$",
               note="$O_0 = 0$; the same $m_i$, $\\ell_i$ and block sums as FlashAttention-2."),
    Definition("row log-sum-exp", L_row, logsumexp(S[i, k], k, n),
               note="what FlashAttention-2 stores per query row, $m + \\log \\ell$"),
)

# --- Claims: the forward pass for any number of blocks ----------------------------------------
seen_ell = Sum(exp(z[j] - m[i]), (j, 1, nb[i]))
seen_u = Sum(exp(z[j] - m[i]) * v[j], (j, 1, nb[i]))
ell_hyp = induction_hypothesis(fa_ell(i), seen_ell)
u_hyp = induction_hypothesis(fa_u(i), seen_u)


def exactness(name, title, state, update, body, hyp, block, on_sheet):
    """``state_i = sum over the keys seen of body``, by induction on the number of blocks."""
    later = Sum(body.xreplace({i: nxt}), (j, 1, nb[i]))
    return Claim(
        name, title, start=state(i),
        steps=(Step(Sum(body, (j, 1, nb[i])), "by induction on the number of blocks",
                    induction=Induction(
                        i, 1,
                        base_steps=(Step(Sum(body.xreplace({i: 1}), (j, 1, nb[1])),
                                         "the first block, moved to the reference $m_1$",
                                         "unfold+sum"),),
                        step_steps=(
                            Step(rescale(nxt) * state(i) + lift(nxt) * block(nxt),
                                 "the update", using=(update,)),
                            Step(rescale(nxt) * Sum(body, (j, 1, nb[i]))
                                 + lift(nxt) * block(nxt),
                                 "induction hypothesis", using=(hyp,)),
                            Step(later + Sum(body.xreplace({i: nxt}), (j, nb[i] + 1, nb[nxt])),
                                 "both parts moved to the reference $m_{i+1}$: the old one"
                                 " cancels", "unfold+sum"),
                            Step(Sum(body.xreplace({i: nxt}), (j, 1, nb[nxt])),
                                 "block $i + 1$ follows the keys seen", "join_sums"),
                        ),
                        hypothesis=hyp)),),
        on_sheet=on_sheet,
        note="For any references $m_i$, $\\tilde m_i$; the maxima only keep every exponent"
             " $\\le 0$.")


normaliser = exactness("normaliser", "The running normaliser sums every key seen", fa_ell,
                       ell_update, exp(z[j] - m[i]), ell_hyp, block_ell, False)
numerator = exactness("numerator", "FlashAttention-2's $U$ sums every key seen", fa_u,
                      u_update, exp(z[j] - m[i]) * v[j], u_hyp, block_pv, False)

fa2_output = Claim(
    "fa2_output",
    "FlashAttention-2 computes attention exactly, for any number of blocks",
    start=fa_u(i) / fa_ell(i),
    steps=(
        Step(seen_u / seen_ell, "both running sums are exact", "expand",
             using=(numerator, normaliser)),
        Step(Sum(exp(z[j]) * v[j], (j, 1, nb[i])) / Sum(exp(z[j]), (j, 1, nb[i])),
             "$e^{-m_i}$ cancels", "sum+cancel"),
    ),
    note="The right side is $\\sum_j \\operatorname{softmax}(z)_j v_j$ over the"
         " $\\tilde n_i$ keys of"
         " the first $i$ blocks: attention, without an $s \\times s$ matrix.",
)

o_hyp = induction_hypothesis(fa_o(i), fa_u(i) / fa_ell(i))
schedules_agree = Claim(
    "schedules_agree",
    "FlashAttention-1 and -2 agree after every block",
    start=fa_o(i),
    steps=(Step(fa_u(i) / fa_ell(i), "by induction on the number of blocks", induction=Induction(
        i, 1,
        base_steps=(Step(fa_u(1) / fa_ell(1), "both are the first block, normalised",
                         "unfold+cancel"),),
        step_steps=(
            Step((fa_ell(i) * rescale(nxt) * fa_o(i) + lift(nxt) * block_pv(nxt)) / fa_ell(nxt),
                 "FlashAttention-1's update", using=(o_update,)),
            Step((rescale(nxt) * fa_u(i) + lift(nxt) * block_pv(nxt)) / fa_ell(nxt),
                 "induction hypothesis $O_i = U_i/\\ell_i$: $\\ell_i$ cancels",
                 "unfold+cancel", using=(o_hyp,)),
            Step(fa_u(nxt) / fa_ell(nxt), "FlashAttention-2's update of $U$", "unfold+cancel",
                 using=(u_update,)),
        ),
        hypothesis=o_hyp)),),
    note="FlashAttention-1 rescales its normalised output by $\\ell_{i-1} e^{m_{i-1} - m_i} /"
         " \\ell_i$ after every block; FlashAttention-2 rescales $U$ by $e^{m_{i-1} - m_i}$ and"
         " divides once at the end, saving a division per block. Same output.", on_sheet=False,
)


# --- Claims: the merge of two block states is associative --------------------------------------
def state(mm, ell, o, label: str):
    """The state ``(m, l, o)``, a column printed by its name, e.g. A (+) (B (+) C)."""
    return labelled(ImmutableDenseMatrix([mm, ell, o]), label)


def named(name: str):
    return state(Symbol(f"m_{name}", real=True), Symbol(rf"\ell_{name}", positive=True),
                 Symbol(f"o_{name}", real=True), name)


def _grouped(st) -> str:
    return rf"\left({st.label}\right)" if r"\oplus" in st.label else st.label


def oplus(a, b):
    """The merge ``a (+) b``: rescale both to the common reference max(m_a, m_b)."""
    (m_a, l_a, o_a), (m_b, l_b, o_b) = a, b
    mm = Max(m_a, m_b)
    w_a, w_b = l_a * exp(m_a - mm), l_b * exp(m_b - mm)
    return state(mm, w_a + w_b, (w_a * o_a + w_b * o_b) / (w_a + w_b),
                 rf"{_grouped(a)} \oplus {_grouped(b)}")


A, B, C = named("A"), named("B"), named("C")
associative = Claim(
    "associative",
    "The merge of block states is associative",
    start=oplus(oplus(A, B), C),
    steps=(Step(oplus(A, oplus(B, C)),
                "both sides rescale every block to $\\max(m_A, m_B, m_C)$: rescalings compose,"
                " $e^{m_A - m_{AB}} e^{m_{AB} - m} = e^{m_A - m}$, and $\\max$ is associative",
                "expand"),),
    on_sheet=False,
    where=(r"(m_A, \ell_A, o_A) \oplus (m_B, \ell_B, o_B) = (m, \ell, o),\ m = \max(m_A, m_B),"
           r"\ \ell = \ell_A e^{m_A - m} + \ell_B e^{m_B - m},\ o = (\ell_A e^{m_A - m} o_A"
           r" + \ell_B e^{m_B - m} o_B)/\ell",),
    note="So key blocks may be merged in any tree: split-K and flash decoding combine partial"
         " states computed in parallel.",
)

# --- Claims: the backward pass ------------------------------------------------------------------
recompute = Claim(
    "recompute",
    "The backward pass recomputes $P$ from $S$ and the stored $L$",
    start=exp(S[i, j] - L_row),
    steps=(
        Step(exp(S[i, j]) / Sum(exp(S[i, k]), (k, 1, n)),
             "$L_i = \\log \\sum_k e^{S_{ik}}$ and $e^{-\\log x} = 1/x$", "definition+expand"),
        Step(softmax(S[i, k], k, n, j), "definition of softmax", "unfold"),
    ),
    note="FlashAttention-2 stores one number per query row, $L_i = m_i + \\log \\ell_i$"
         " (next claim), instead of the $s \\times s$ matrix $P$.",
)

stored_lse = Claim(
    "stored_lse",
    "The stored statistic is the log-sum-exp",
    start=m[i] + log(Sum(exp(S[i, k] - m[i]), (k, 1, n))),
    steps=(Step(logsumexp(S[i, k], k, n),
                "$m_i + \\log \\ell_i = \\log(e^{m_i} \\ell_i)$: move $e^{m_i}$ into the sum",
                "unfold+sum+expand_log"),),
    on_sheet=False,
    note="With $\\ell_i$ the exact normaliser of row $i$ (claim normaliser), for any $m_i$.",
)


def out_entry(row, col):
    """O_{row col} = sum_k P_{row k} V_{k col}: the forward product O = P V."""
    return Sum(P[row, k] * V[k, col], (k, 1, n))


chain_rule_V = Sum(Sum(dO[i, c] * Derivative(out_entry(i, c), V[1, 1]), (c, 1, d_v)), (i, 1, n))
chain_rule_P = Sum(Sum(dO[i, c] * Derivative(out_entry(i, c), P[1, 1]), (i, 1, n)), (c, 1, d_v))

grad_V = Claim(
    "grad_V",
    "$\\mathrm{d}V = P^\\top \\mathrm{d}O$",
    start=chain_rule_V,
    steps=(Step(Sum(P[i, 1] * dO[i, 1], (i, 1, n)),
                "only $O_{i1}$ depends on $V_{11}$, through $P_{i1}$", "doit+sum+doit+sum"),),
    on_sheet=False,
    note="The left side is $\\partial \\phi / \\partial V_{11}$ by the chain rule through"
         " $O = PV$, for any loss $\\phi$ with $\\mathrm{d}O = \\partial\\phi/\\partial O$;"
         " $(1, 1)$ stands for any entry (relabel keys and value coordinates): $(P^\\top"
         " \\mathrm{d}O)_{11}$.",
)

grad_P = Claim(
    "grad_P",
    "$\\mathrm{d}P = \\mathrm{d}O\\, V^\\top$",
    start=chain_rule_P,
    steps=(Step(Sum(dO[1, c] * V[1, c], (c, 1, d_v)),
                "only row 1 of $O$ depends on $P_{11}$, through $V_{1c}$", "doit+sum+doit+sum"),),
    on_sheet=False,
    note="$\\partial \\phi / \\partial P_{11}$ by the chain rule through $O = PV$; $(1, 1)$"
         " stands for any entry: $(\\mathrm{d}O\\, V^\\top)_{11}$.",
)

class iverson(Notation):  # noqa: N801 - Iverson's bracket, as derivation softmax-gradient
    """``iverson(a, b)`` = [a = b]: 1 when a = b, else 0 (Kronecker's delta)."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return KroneckerDelta(a, b)

    def _latex(self, printer):
        a, b = (printer._print(x) for x in self.args)
        return rf"[{a} = {b}]"


def p_of(index):
    """P_index = softmax(z)_index, one row (the summation index k is bound inside)."""
    return softmax(z[k], k, n, index)


j_in_range = Hypothesis(sp.Le(j, n), "$z_j$ is one of the $n$ logits")
jacobian = cite(
    "softmax-gradient:jacobian",
    Eq(Derivative(p_of(i), z[j]), factors(p_of(i), iverson(i, j) - p_of(j))),
    "the softmax Jacobian")

grad_S = Claim(
    "grad_S",
    "$\\mathrm{d}S = P \\circ (\\mathrm{d}P - D)$",
    given=(j_in_range,),
    start=Sum(factors(dP[i], Derivative(p_of(i), z[j])), (i, 1, n)),
    steps=(
        Step(Sum(factors(dP[i], p_of(i), iverson(i, j) - p_of(j)), (i, 1, n)),
             "the softmax Jacobian", "unfold+sum", using=(jacobian,)),
        Step(factors(p_of(j), dP[j]) - p_of(j) * Sum(factors(p_of(i), dP[i]), (i, 1, n)),
             "$[i = j]$ keeps the term $i = j$; $P_j$ leaves the second sum", "unfold+doit+sum"),
        Step(factors(p_of(j), dP[j] - Sum(factors(p_of(i), dP[i]), (i, 1, n))), "factor out $P_j$",
             "unfold+expand"),
    ),
    note="One query row, scores $z = S_r$ and $P = \\operatorname{softmax}(z)$; the left side is"
         " $\\partial\\phi/\\partial z_j$ by the chain rule through $P$:"
         " $\\mathrm{d}S_{rj} = P_{rj}(\\mathrm{d}P_{rj} - D_r)$ with"
         " $D_r = \\sum_j P_{rj} \\mathrm{d}P_{rj}$.", on_sheet=False,
)


class grad_p(Notation):  # noqa: N801
    """dP_j = sum_{c=1}^{d_v} dO_c V_jc (dP = dO V^T, one row), printed dP_j."""

    nargs = 2

    @classmethod
    def definition(cls, key, width):
        return Sum(dO[c] * V[key, c], (c, 1, width))

    def _latex(self, printer):
        return r"\mathrm{d}P_{%s}" % printer._print(self.args[0])


class out_row(Notation):  # noqa: N801
    """O_c = sum_{j=1}^{n} P_j V_jc (O = P V, one row), printed O_c."""

    nargs = 1

    @classmethod
    def definition(cls, col):
        return Sum(softmax(z[k], k, n, j) * V[j, col], (j, 1, n))

    def _latex(self, printer):
        return r"O_{%s}" % printer._print(self.args[0])


weights = softmax(z[k], k, n, j)


def paired(upto):
    """sum_{c=1}^{upto} dO_c O_c."""
    return Sum(factors(dO[c], out_row(c)), (c, 1, upto))


lhs_rowsum = Sum(factors(weights, grad_p(j, d_v)), (j, 1, n))
rowsum_hyp = induction_hypothesis(lhs_rowsum, paired(d_v))
last = factors(dO[d_v + 1], out_row(d_v + 1))
rowsum = Claim(
    "rowsum",
    "$D = \\operatorname{rowsum}(\\mathrm{d}O \\circ O)$: no $s \\times s$ matrix needed",
    start=lhs_rowsum,
    steps=(Step(paired(d_v), "by induction on the value width $d_v$", induction=Induction(
        d_v, 1,
        base_steps=(Step(paired(1), "one value coordinate", "unfold+doit+sum"),),
        step_steps=(
            Step(Sum(factors(weights, grad_p(j, d_v)), (j, 1, n)) + last,
                 "split off the last value coordinate", "unfold+align_sums"),
            Step(paired(d_v) + last, "induction hypothesis", using=(rowsum_hyp,)),
            Step(paired(d_v + 1), "the last coordinate joins the sum", "unfold+align_sums"),
        ),
        hypothesis=rowsum_hyp)),),
    note="One query row: $D = \\sum_j P_j\\, \\mathrm{d}P_j$ (the term of $\\mathrm{d}S$) equals"
         " $\\mathrm{d}O \\cdot O$, $d_v$ products from the output the forward pass wrote,"
         " where $P_j = \\operatorname{softmax}(z)_j$, $\\mathrm{d}P = \\mathrm{d}O\\,V^\\top$"
         " and $O = PV$.", on_sheet=False,
)

# --- Claims: memory and traffic, from the accounting of derivation kv-cache-memory -----------


def _size(name: str, latex: str) -> Named:
    return Named(name, latex, integer=True, positive=True)


s_len, heads, batch, d_h = (_size(a, b) for a, b in (("seq", "s"), ("n_heads", "h"),
                                                    ("batch", "b"), ("d_head", "d_{h}")))
B_el = _size("bytes_per_element", r"B_{\mathrm{el}}")
M_sram = Named("sram_elements", r"M_{\mathrm{sram}}", positive=True)
M_SP, M_LSE, A_flash = (Symbol(x, positive=True) for x in (
    r"M_{\mathrm{SP}}", r"M_{\mathrm{LSE}}", r"A_{\mathrm{flash}}"))




scores_cited = cite("kv-cache-memory:scores_bytes",
                    Eq(M_SP, factors(2, batch, heads, s_len**2, B_el)),
                    "standard attention writes $S$ and $P$")
stats_cited = cite("kv-cache-memory:stats_bytes", Eq(M_LSE, factors(4, batch, heads, s_len)),
                   "FlashAttention-2 keeps one fp32 $L$ per row")
FLASH_IO = terms(factors(3, s_len, d_h), 2 * s_len,
                 factors(4, s_len**2, d_h, group(factors(3, d_h), 4)) / M_sram)
io_cited = cite("kv-cache-memory:flash_io", Eq(A_flash, FLASH_IO),
                "Algorithm 1's reads and writes, summed loop by loop")
MULTIPLIED = terms(factors(3, s_len, d_h, M_sram), factors(2, s_len, M_sram),
                   factors(4, s_len**2, d_h, group(factors(3, d_h), 4)))

memory_standard = Claim(
    "memory_standard",
    "Standard attention needs $\\Theta(s^2)$ extra memory",
    given=(scores_cited,),
    start=M_SP / s_len**2,
    steps=(Step(factors(2, batch, heads, B_el), "it writes $S$ and $P$, $s^2$ elements each",
                "unfold+cancel", using=(scores_cited,)),),
    note="Independent of $s$: $M_{\\mathrm{SP}} = \\Theta(s^2)$ (Dao et al. 2022, section 2.2).",
    on_sheet=False,
)

memory_flash = Claim(
    "memory_flash",
    "FlashAttention-2 needs $\\Theta(s)$ extra memory",
    given=(stats_cited,),
    start=M_LSE / s_len,
    steps=(Step(factors(4, batch, heads), "it keeps one fp32 number per query row",
                "unfold+cancel", using=(stats_cited,)),),
    note="Independent of $s$: $M_{\\mathrm{LSE}} = \\Theta(s)$, per layer, beyond the inputs"
         " and the output; FlashAttention-1 keeps $m$ and $\\ell$, twice as much, still"
         " $\\Theta(s)$ (Dao et al. 2022, Theorem 1).", on_sheet=False,
)

io_lower = Claim(
    "io_lower",
    "FlashAttention moves at least $12 s^2 d_h^2 / M_{\\mathrm{sram}}$ elements",
    given=(io_cited,),
    start=factors(A_flash, M_sram),
    steps=(
        Step(MULTIPLIED, "Algorithm 1's traffic, times $M_{\\mathrm{sram}}$", "unfold+expand",
             using=(io_cited,)),
        Step(factors(12, s_len**2, d_h**2), "drop the positive terms $3sd_h M + 2sM +"
             " 16 s^2 d_h$", "nonneg", rel=">="),
    ), on_sheet=False,
)

sram_range = Hypothesis(sp.Le(M_sram, s_len * d_h), "the SRAM holds at most $s d_h$ elements")
io_upper = Claim(
    "io_upper",
    "and at most $3 s^2 d_h (5 d_h + 6) / M_{\\mathrm{sram}}$:"
    " $\\Theta(s^2 d_h^2 / M_{\\mathrm{sram}})$",
    given=(io_cited, sram_range),
    start=factors(A_flash, M_sram),
    steps=(
        Step(MULTIPLIED, "Algorithm 1's traffic, times $M_{\\mathrm{sram}}$", "unfold+expand",
             using=(io_cited,)),
        Step(factors(3, s_len**2, d_h, group(factors(5, d_h), 6)),
             "$M_{\\mathrm{sram}} \\le s d_h$ in the terms $3 s d_h M + 2 s M$", "nonneg",
             rel="<="),
    ),
    note="Dao et al. 2022, Theorem 2 ($d \\le M \\le Nd$): against $\\Theta(s d_h + s^2)$ for"
         " standard attention, fewer accesses once $M_{\\mathrm{sram}}$ is well above"
         " $d_h^2$ (on an A100, $M$ is about 100 KB per streaming multiprocessor).", on_sheet=False,
)


# --- Numeric checks -----------------------------------------------------------------------------
def _blocks(rng: np.random.Generator, keys: int) -> list[int]:
    """Random block boundaries 0 = n_0 < n_1 < ... < n_T = keys (ragged blocks)."""
    cuts = sorted(rng.choice(np.arange(1, keys), size=int(rng.integers(0, keys)), replace=False))
    return [0, *cuts, keys]


def _fa2_loop(scores, values, bounds, refs, block_refs):
    """FlashAttention-2's updates in plain Python: l_i and U_i after every block."""
    ell, acc, out = 0.0, 0.0, []
    for t in range(1, len(bounds)):
        blk = slice(bounds[t - 1], bounds[t])
        rescale_now = np.exp(refs[t - 1] - refs[t]) if t > 1 else 0.0
        weights_blk = np.exp(scores[blk] - block_refs[t])
        lift_now = np.exp(block_refs[t] - refs[t])
        ell = rescale_now * ell + lift_now * weights_blk.sum()
        acc = rescale_now * acc + lift_now * (weights_blk @ values[blk])
        out.append((ell, acc))
    return out


def check_numerator(rng: np.random.Generator, formula) -> Measurement:
    """The FA-2 loop's U_i after every block (ragged blocks, arbitrary references) against the
    claim's sum over the keys seen."""
    worst, cases = 0.0, 0
    for _ in range(15):
        keys = int(rng.integers(1, 20))
        scores, values = rng.normal(size=keys + 3) * 3, rng.normal(size=keys + 3)
        bounds = _blocks(rng, keys)  # the last 3 entries are not keys of the row
        refs = rng.normal(size=len(bounds)) * 3 + 2
        block_refs = rng.normal(size=len(bounds)) * 3 + 2
        for t, (_, acc) in enumerate(_fa2_loop(scores, values, bounds, refs, block_refs), 1):
            got = float(formula(z=scores, v=values, m=refs[1:], i=t, n_seen=bounds[1:]))
            worst = max(worst, abs(got - acc) / max(1.0, abs(acc)))
            cases += 1
    return Measurement(worst, cases, 1e-12, "U_i of the FlashAttention-2 updates (plain Python,"
                       " ragged blocks, arbitrary references) vs the closed form, every block")


def check_output(rng: np.random.Generator, formula) -> Measurement:
    """llmsym.numeric.flash_attention (both schedules, one query, blocks of 1..7) against the
    claim's softmax-weighted mean of the values."""
    from llmsym.numeric.attention import flash_attention

    worst, cases = 0.0, 0
    for _ in range(15):
        keys, width = int(rng.integers(1, 30)), int(rng.integers(1, 6))
        q, kk = rng.normal(size=(1, width)) * 3, rng.normal(size=(keys, width)) * 3
        values = rng.normal(size=(keys, 1))
        scores = (q @ kk.T / np.sqrt(width))[0]
        z_row = np.r_[scores, rng.normal(size=3) * 3]  # entries after n_1 are not keys
        v_row = np.r_[values[:, 0], rng.normal(size=3)]
        claimed = float(formula(z=z_row, v=v_row, i=1, n_seen=[keys]))
        for schedule in ("fa1", "fa2"):
            got = flash_attention(q, kk, values, int(rng.integers(1, 8)), schedule=schedule)
            worst = max(worst, abs(float(got[0, 0]) - claimed))
            cases += 1
    return Measurement(worst, cases, 1e-12, "flash_attention (FA-1 and FA-2 schedules) vs the"
                       " claimed softmax-weighted mean of the values")


def check_library(rng: np.random.Generator) -> Measurement:
    """Experiment: llmsym.numeric.flash_attention against naive attention (ragged blocks,
    causal or not, logits x100), FA-1 against FA-2, and its L against the log-sum-exp."""
    from llmsym.numeric.attention import attention, flash_attention
    from llmsym.numeric.softmax import logsumexp as lse

    worst, cases = 0.0, 20
    for _ in range(cases):
        n_q, n_k, width = (int(x) for x in rng.integers(1, (24, 24, 6)))
        scale = rng.choice([1.0, 100.0])
        q, kk = rng.normal(size=(n_q, width)) * scale, rng.normal(size=(n_k, width)) * scale
        values = rng.normal(size=(n_k, 3))
        causal, block = bool(rng.integers(2)), int(rng.integers(1, 9))
        fa2, lse_got = flash_attention(q, kk, values, block, causal, return_lse=True)
        fa1 = flash_attention(q, kk, values, block, causal, schedule="fa1")
        worst = max(worst, float(np.abs(fa2 - attention(q, kk, values, causal)).max()),
                    float(np.abs(fa1 - fa2).max()))
        if not causal:
            ref = lse(q @ kk.T / np.sqrt(width))
            worst = max(worst, float(np.max(np.abs(lse_got - ref) / np.maximum(1, np.abs(ref)))))
    return Measurement(worst, cases, 1e-12, "flash_attention vs naive attention, FA-1 vs FA-2,"
                       " stored L vs log-sum-exp (relative)")


def check_recompute(rng: np.random.Generator, formula) -> Measurement:
    """e^{S_ij - L_i} with L_i as flash_attention stores it, against 50-digit mpmath softmax."""
    import mpmath

    from llmsym.numeric.attention import flash_attention

    worst, cases = 0.0, 0
    for _ in range(10):
        n_q, n_k, width = (int(x) for x in rng.integers(1, (6, 12, 5)))
        q, kk = rng.normal(size=(n_q, width)) * 10, rng.normal(size=(n_k, width)) * 10
        _, lse_got = flash_attention(q, kk, rng.normal(size=(n_k, 2)), 3, return_lse=True)
        scores = q @ kk.T / np.sqrt(width)
        for row in range(n_q):
            with mpmath.workdps(50):
                e = [mpmath.exp(mpmath.mpf(float(x))) for x in scores[row]]
                ref = [float(x / mpmath.fsum(e)) for x in e]
            for col in range(n_k):
                got = float(formula(S=scores, L_i=float(lse_got[row]), i=row + 1, j=col + 1))
                worst = max(worst, abs(got - ref[col]))
                cases += 1
    return Measurement(worst, cases, 1e-12, "e^{S_ij - L_i} from the stored L vs 50-digit softmax"
                       " (scores up to about 50)")


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def check_grad_s(rng: np.random.Generator, formula) -> Measurement:
    """P_j (dP_j - D) against the central difference in z_j of phi = sum_i dP_i softmax(z)_i."""
    worst, cases, step = 0.0, 0, 1e-5
    for _ in range(20):
        size = int(rng.integers(1, 12))
        scores, upstream = rng.normal(size=size) * 2, rng.normal(size=size)
        col = int(rng.integers(size))
        bump = np.zeros(size)
        bump[col] = step
        numeric = (upstream @ _softmax(scores + bump) - upstream @ _softmax(scores - bump)) / (
            2 * step)
        got = float(formula(z=scores, dP=upstream, n=size, j=col + 1))
        worst = max(worst, abs(got - numeric))
        cases += 1
    return Measurement(worst, cases, 1e-8, "P_j(dP_j - D) vs central differences (step 1e-5) of"
                       " sum_i dP_i softmax(z)_i in z_j")


def check_grad_v(rng: np.random.Generator, formula) -> Measurement:
    """(P^T dO)_11 against the central difference in V_11 of phi = sum dO o (P V)."""
    worst, cases, step = 0.0, 0, 1e-4
    for _ in range(15):
        keys, width = int(rng.integers(1, 8)), int(rng.integers(1, 5))
        probs = np.array([_softmax(r) for r in rng.normal(size=(keys, keys))])
        upstream, values = rng.normal(size=(keys, width)), rng.normal(size=(keys, width))
        bump = np.zeros_like(values)
        bump[0, 0] = step
        numeric = (np.sum(upstream * (probs @ (values + bump)))
                   - np.sum(upstream * (probs @ (values - bump)))) / (2 * step)
        got = float(formula(P=probs, dO=upstream, n=keys))
        worst = max(worst, abs(got - numeric))
        cases += 1
    return Measurement(worst, cases, 1e-9, "(P^T dO)_11 vs central differences of"
                       " sum dO o (P V) in V_11")


def check_grad_p(rng: np.random.Generator, formula) -> Measurement:
    """(dO V^T)_11 against the central difference in P_11 of phi = sum dO o (P V)."""
    worst, cases, step = 0.0, 0, 1e-4
    for _ in range(15):
        keys, width = int(rng.integers(1, 8)), int(rng.integers(1, 5))
        probs = rng.random(size=(keys, keys))
        upstream, values = rng.normal(size=(keys, width)), rng.normal(size=(keys, width))
        bump = np.zeros_like(probs)
        bump[0, 0] = step
        numeric = (np.sum(upstream * ((probs + bump) @ values))
                   - np.sum(upstream * ((probs - bump) @ values))) / (2 * step)
        got = float(formula(V=values, dO=upstream, d_v=width))
        worst = max(worst, abs(got - numeric))
        cases += 1
    return Measurement(worst, cases, 1e-9, "(dO V^T)_11 vs central differences of"
                       " sum dO o (P V) in P_11")


def check_rowsum(rng: np.random.Generator, formula) -> Measurement:
    """dO . O from the claim against sum_j P_j dP_j with P = softmax, dP = dO V^T (NumPy)."""
    worst, cases = 0.0, 0
    for _ in range(20):
        keys, width = int(rng.integers(1, 10)), int(rng.integers(1, 6))
        scores = rng.normal(size=keys) * 2
        values, upstream = rng.normal(size=(keys, width)), rng.normal(size=width)
        direct = _softmax(scores) @ (values @ upstream)
        got = float(formula(z=scores, V=values, dO=upstream, n=keys, d_v=width))
        worst = max(worst, abs(got - direct) / max(1.0, abs(direct)))
        cases += 1
    return Measurement(worst, cases, 1e-12, "dO . O (the claim) vs sum_j P_j (dO V^T)_j")


def example_flash():
    from llmsym.numeric.attention import attention, flash_attention

    rng = np.random.default_rng(0)
    q, kk, values = (rng.normal(size=(128, 64)) for _ in range(3))
    gap = np.abs(flash_attention(q, kk, values, 32, causal=True)
                 - attention(q, kk, values, causal=True)).max()
    return ("128 causal tokens, $d = 64$, blocks of 32 keys and queries",
            r"\max |O_{\mathrm{flash}} - O_{\mathrm{naive}}| = " + f"{gap:.1e}".replace(
                "e-", r"\times 10^{-") + "}")


# --- The derivation -------------------------------------------------------------------------------
ell_old, ell_new = symbols("ell_old ell_new", positive=True)  # plain names for exported code
m_old, m_new = symbols("m_old m_new", real=True)

DERIVATION = Derivation(
    id="flash-attention",
    title="FlashAttention: exact in blocks, backward from $(O, L)$, linear memory",
    topic="Attention",
    order=36,
    gloss="Rescaling running sums to a running maximum gives exact attention block by block in"
          " either schedule; the backward pass needs only $O$ and one log-sum-exp per row; extra"
          " memory is linear in $s$ and traffic $\\Theta(s^2 d_h^2/M_{\\mathrm{sram}})$.",
    assumptions=(
        "One query row: scores $z_j$, values $v_j$ (one coordinate); block $i$ holds keys"
        " $\\tilde n_{i-1}+1, \\dots, \\tilde n_i$, with reference $\\tilde m_i$;"
        " the running reference is $m_i$.",
        "Backward: a loss $\\phi$ with $\\mathrm{d}X = \\partial\\phi/\\partial X$ for every"
        " intermediate $X$; $O = PV$, $P = \\operatorname{softmax}(S)$ row-wise.",
    ),
    definitions=DEFINITIONS,
    claims=(normaliser, numerator, fa2_output, schedules_agree, associative, recompute,
            stored_lse, grad_V, grad_P, grad_S, rowsum, memory_standard, memory_flash,
            io_lower, io_upper),
    checks=(
        NumericCheck("numerator", check_numerator,
                     "FlashAttention-2's $U_i$ in plain Python, ragged blocks, arbitrary"
                     " references, against the closed form after every block.",
                     claim="numerator"),
        NumericCheck("output", check_output,
                     "llmsym.numeric.flash_attention, both schedules, against the claimed"
                     " softmax-weighted mean.", claim="fa2_output"),
        NumericCheck("library", check_library,
                     "Experiment: flash_attention against naive attention (causal or not,"
                     " logits x100), FA-1 against FA-2, stored $L$ against log-sum-exp."),
        NumericCheck("recompute", check_recompute,
                     "$e^{S_{ij} - L_i}$ from the stored $L$ against 50-digit softmax.",
                     claim="recompute", side="start"),
        NumericCheck("grad_S", check_grad_s,
                     "$P_j(\\mathrm{d}P_j - D)$ against central differences.", claim="grad_S"),
        NumericCheck("grad_V", check_grad_v,
                     "$(P^\\top \\mathrm{d}O)_{11}$ against central differences.",
                     claim="grad_V"),
        NumericCheck("grad_P", check_grad_p,
                     "$(\\mathrm{d}O\\,V^\\top)_{11}$ against central differences.",
                     claim="grad_P"),
        NumericCheck("rowsum", check_rowsum,
                     "$\\mathrm{d}O \\cdot O$ against $\\sum_j P_j \\mathrm{d}P_j$ in NumPy.",
                     claim="rowsum"),
    ),
    results=(
        Result("fa1_rescale", ell_old * exp(m_old - m_new) / ell_new,
               params=(ell_old, ell_new, m_old, m_new),
               doc="factor FlashAttention-1 applies to the normalised output of earlier blocks",
               claim="schedules_agree"),
        Result("fa2_rescale", exp(m_old - m_new), params=(m_old, m_new),
               doc="factor FlashAttention-2 applies to the unnormalised accumulator",
               claim="schedules_agree"),
    ),
    notation={
        m: "a constant subtracted from every logit (in practice the largest logit)",
        nb: "keys in the first $i$ blocks",
        mt: "reference of one block of scores (its maximum in practice)",
        v: "one coordinate of the values, $v_j$ for key $j$",
        d_v: "dimension of the values of one head",
        ell_shown: "running normaliser: the sum of $e^{z_j - m}$ over the logits read so far",
        U_shown: "FlashAttention-2's unnormalised output after $i$ blocks",
        O_shown: "FlashAttention-1's output after $i$ blocks",
        ellt_shown: "one block's normaliser",
        pv_shown: "one block's unnormalised output",
        S: "attention scores $QK^\\top/\\sqrt{d_k}$, one row per query",
        L_row: "the log-sum-exp of row $i$ of $S$, stored by FlashAttention-2",
        P: "attention probabilities $\\operatorname{softmax}(S)$, one row per query",
        dO: "gradient of the loss with respect to the output $O$",
        dP: "gradient of the loss with respect to $P$",
        **{f"{sym}_{{{x}}}": f"{what} of block state ${x}$" for x in "ABC"
           for sym, what in (("m", "the reference"), (r"\ell", "the normaliser"),
                             ("o", "the normalised output"))},
        M_SP: "bytes of $S$ and $P$ written by standard attention, one layer",
        M_LSE: "bytes of FlashAttention-2's row statistics, one layer",
        M_sram: "on-chip SRAM, in elements",
        A_flash: "elements FlashAttention moves between HBM and the chip, per head",
    },
    sources=(
        "Dao et al., FlashAttention, arXiv:2205.14135 (2022): algorithm 1, theorem 1 (O(N)"
        " extra memory), theorem 2 (Theta(N^2 d^2 / M) HBM accesses), appendix B (backward,"
        " D_i = dO_i . O_i).",
        "Dao, FlashAttention-2, arXiv:2307.08691 (2023): algorithms 1 and 2 (unnormalised"
        " output, the stored L = m + log l).",
        "Milakov and Gimelshein, Online normalizer calculation for softmax, arXiv:1805.02867.",
    ),
    remarks=(
        "While a query has seen only masked keys its state is $(-\\infty, 0, 0)$ and the rescale"
        " $e^{m_{i-1} - m_i}$ would be $e^{\\mathrm{NaN}}$; llmsym.numeric shifts by 0 instead"
        " where $m_i = -\\infty$, and a row that sees no key gives $O = 0$, $L = -\\infty$.",
    ),
    examples=(example_flash,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
