"""Attention as a kernel smoother; linear attention's two forms and their costs; random features.

Main results
    smoother            Σ_t softmax(z)_t v_t = Σ_t κ(q, k_t) v_t / Σ_t κ(q, k_t), κ(q, k_t) =
                        e^{z_t}, z_t = q·k_t/√d_k: softmax attention is a Nadaraya–Watson smoother
    read_state          with S_i = S_{i−1} + φ(k_i) v_i, S_0 = 0: φ(q)ᵀS_i = Σ_{j≤i} φ(q)ᵀφ(k_j) v_j
                        for every prefix i (induction on i); read_normaliser the same for
                        Z_i = Z_{i−1} + φ(k_i)
    recurrent           φ(q)ᵀS_i / φ(q)ᵀZ_i = Σ_{j≤i} φ(q)ᵀφ(k_j) v_j / Σ_{j≤i} φ(q)ᵀφ(k_j):
                        the RNN form equals the causal parallel form at every position
    cost_parallel       C_par = s(s + 1)(d_φ + d_v)/2 multiplications
    cost_recurrent      C_rec = s d_φ (2 d_v + 1) multiplications
    random_features     ω ~ N(0, I)  ⊢  E[e^{ωᵀq − ‖q‖²/2} e^{ωᵀk − ‖k‖²/2}] = e^{qᵀk}

Costs count scalar multiplications (each is one multiply-add in a matrix kernel): the
score and value products of the parallel form, the outer product, numerator and
denominator of the recurrent form. Additions into running sums and the s d_v final
divisions are left out of both. The parallel form is quadratic in s, the recurrent
one linear in s and quadratic in the feature width.

Run on its own: ``python derivations/kernel_attention.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Eq, IndexedBase, Rational, Sum, Symbol, exp, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Induction,
    Measurement,
    NumericCheck,
    Step,
    induction_hypothesis,
)
from llmsym.notation import Expect as _Expect
from llmsym.notation import Named, Notation, deterministic, factors, group, softmax, terms


class Expect(_Expect):
    """E[.] that declines a numeric value at once (as in derivation minibatch): the checker's
    screening at random points otherwise builds the whole line in SymPy before it finds that
    an expectation has no value."""

    def _eval_evalf(self, prec):
        raise TypeError("an expectation has no value at a random point")


# --- Symbols ---------------------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # keys one query attends to
t, j = symbols("t j", integer=True, positive=True)  # key indices
i = Symbol("i", integer=True, positive=True)  # tokens seen: the query at position i sees 1..i
f = Symbol("f", integer=True, positive=True)  # feature index
z = IndexedBase("z", real=True)  # one query's scores q . k_t / sqrt(d_k)
v = IndexedBase("v", real=True)  # one coordinate of the values
d_phi = Named("d_phi", r"d_{\phi}", integer=True, positive=True)  # features of phi
s = Named("seq", "s", integer=True, positive=True)  # sequence length
d_v = Named("d_v", "d_{v}", integer=True, positive=True)  # value width
phi_q = IndexedBase("phi_q", real=True)  # phi_q[f] = phi(q)_f (unfolded form only)
phi_k = IndexedBase("phi_k", real=True)  # phi_k[j, f] = phi(k_j)_f (unfolded form only)




# --- Notation: the softmax kernel --------------------------------------------------------------
class kernel(Notation):  # noqa: N801
    """``kernel(t)``: κ(q, k_t) = e^{z_t}, the softmax kernel of the query and key t."""

    nargs = 1

    @classmethod
    def definition(cls, key):
        return exp(z[key])

    def _latex(self, printer):
        return r"\kappa\left(\mathbf{q}, \mathbf{k}_{%s}\right)" % printer._print(self.args[0])


# --- Notation: linear attention ------------------------------------------------------------------
class feature(Notation):  # noqa: N801
    """``feature(which, pos, f)``: entry f of φ(q) (the query; ``pos`` is ignored, 0) or of
    φ(k_pos)."""

    nargs = 3

    @classmethod
    def definition(cls, which, pos, index):
        return phi_q[index] if which == Q else phi_k[pos, index]

    def _latex(self, printer):
        which, pos, index = self.args
        vec = r"\mathbf{q}" if which == Q else r"\mathbf{k}_{%s}" % printer._print(pos)
        return r"\phi\left(%s\right)_{%s}" % (vec, printer._print(index))


# tags for ``feature`` (numbers, so they are no face symbols): the query's or a key's features
Q, K = sp.Integer(0), sp.Integer(1)


def query(index):
    """Entry ``index`` of φ(q), the query's features."""
    return feature(Q, 0, index)


class state(Notation):  # noqa: N801
    """``state(i, f)``: entry f of the state S_i after i tokens, S_0 = 0 and
    S_t = S_{t-1} + φ(k_t) v_t. For a concrete i the recurrence is written out (so random
    points evaluate it); for a symbolic i it stays as it is, and the recurrence enters a proof
    only through its displayed hypotheses."""

    nargs = 2

    @classmethod
    def definition(cls, steps, index):
        # the entries directly (not via feature()): random points evaluate this often
        return sp.Add(*[phi_k[pos, index] * v[pos] for pos in range(1, int(steps) + 1)])

    def doit(self, **hints):
        if self.args[0].is_Integer and self.args[0] >= 0:
            return sp.sympify(self.definition(*self.args)).doit()
        return self

    def _latex(self, printer):
        return r"\left(\mathbf{S}_{%s}\right)_{%s}" % tuple(printer._print(a) for a in self.args)


class normaliser(state):  # noqa: N801
    """``normaliser(i, f)``: entry f of Z_i, Z_0 = 0 and Z_t = Z_{t-1} + φ(k_t)."""

    @classmethod
    def definition(cls, steps, index):
        return sp.Add(*[phi_k[pos, index] for pos in range(1, int(steps) + 1)])

    def _latex(self, printer):
        return r"\left(\mathbf{Z}_{%s}\right)_{%s}" % tuple(printer._print(a) for a in self.args)


class kdot(Notation):  # noqa: N801
    """``kdot(j)``: φ(q)ᵀφ(k_j) = Σ_f φ(q)_f φ(k_j)_f, the linear kernel of the query and key j."""

    nargs = 1

    @classmethod
    def definition(cls, key):
        return Sum(query(f) * feature(K, key, f), (f, 1, d_phi))

    def _latex(self, printer):
        return r"\phi\left(\mathbf{q}\right)^{\top}\phi\left(\mathbf{k}_{%s}\right)" % (
            printer._print(self.args[0]))


class read(Notation):  # noqa: N801
    """``read(i, which)``: φ(q)ᵀS_i or φ(q)ᵀZ_i, what the query reads from a state."""

    nargs = 2

    @classmethod
    def definition(cls, pos, which):
        holder = state if which == S_TAG else normaliser
        return Sum(query(f) * holder(pos, f), (f, 1, d_phi))

    def _latex(self, printer):
        pos = printer._print(self.args[0])
        name = "S" if self.args[1] == S_TAG else "Z"
        return r"\phi\left(\mathbf{q}\right)^{\top}\mathbf{%s}_{%s}" % (name, pos)


S_TAG, Z_TAG = sp.Integer(0), sp.Integer(1)  # tags for ``read``: which state is read

# --- Definitions -------------------------------------------------------------------------------
S_shown = IndexedBase(Named("S_lin", r"\mathbf{S}"), real=True)  # the state, in the definitions
Z_shown = IndexedBase(Named("Z_lin", r"\mathbf{Z}"), real=True)
DEFINITIONS = (
    Definition("softmax kernel", kernel(t), exp(z[t])),
    Definition("linear attention state", S_shown[i, f],
               terms(S_shown[i - 1, f], factors(feature(K, i, f), v[i])),
               on_sheet=False, title="Linear attention as a recurrence",
               note="Entry $f$ of $\\mathbf{S}_i$; $\\mathbf{S}_0 = \\mathbf{Z}_0 = 0$,"
                    " $\\mathbf{Z}_i = \\mathbf{Z}_{i-1} + \\phi(\\mathbf{k}_i)$, and the output"
                    " at position $i$ is $\\phi(\\mathbf{q}_i)^\\top\\mathbf{S}_i /"
                    " \\phi(\\mathbf{q}_i)^\\top\\mathbf{Z}_i$: a state of $d_\\phi$ numbers per"
                    " value coordinate, whatever the length."),
)
D_KERNEL = DEFINITIONS[0]

# --- Claims: the kernel smoother ----------------------------------------------------------------
smoother = Claim(
    "smoother",
    "Softmax attention is a kernel smoother",
    start=Sum(softmax(z[j], j, n, t) * v[t], (t, 1, n)),
    steps=(
        Step(Sum(exp(z[t]) * v[t], (t, 1, n)) / Sum(exp(z[j]), (j, 1, n)),
             "definition of softmax; its denominator does not depend on $t$", "unfold+sum"),
        Step(Sum(kernel(t) * v[t], (t, 1, n)) / Sum(kernel(j), (j, 1, n)),
             "definition of the kernel $\\kappa$", "definition"),
    ),
    where=(D_KERNEL, r"z_t = \mathbf{q} \cdot \mathbf{k}_t / \sqrt{d_k}"),
    note="The output is a weighted average of the values, weights given by a kernel between"
         " the query and each key (Nadaraya 1964, Watson 1964; Tsai et al. 2019). Any kernel"
         " $\\kappa \\ge 0$ gives an attention; $\\kappa(\\mathbf{q}, \\mathbf{k}) ="
         " \\phi(\\mathbf{q})^\\top\\phi(\\mathbf{k})$ gives linear attention (below).",
    on_sheet=False,
)


# --- Claims: linear attention, recurrent = parallel ---------------------------------------------
def _prefix(body, last=None):
    """The sum over the keys seen after ``last`` tokens (default i), j = 1..last."""
    return Sum(body, (j, 1, i if last is None else last))


def _read_claim(name: str, title: str, tag, holder, value=None) -> Claim:
    """φ(q)ᵀ(state after i tokens) = Σ_{j≤i} φ(q)ᵀφ(k_j) value_j, by induction on i."""

    def added(at):  # what token ``at`` adds to the state, entry f
        return factors(feature(K, at, f), value(at)) if value else feature(K, at, f)

    def read_off(at):  # what the query reads from that addition
        return factors(kdot(at), value(at)) if value else kdot(at)

    recurrence = Hypothesis(Eq(holder(i + 1, f), terms(holder(i, f), added(i + 1))),
                            "the update after each token, every entry $f$")
    hypothesis = induction_hypothesis(read(i, tag), _prefix(read_off(j)))
    return Claim(
        name, title,
        start=read(i, tag),
        steps=(Step(_prefix(read_off(j)), "by induction on $i$", induction=Induction(
            i, 1,
            base_steps=(Step(read_off(1), "the first token, added to the empty state",
                             "unfold+sum"),),
            step_steps=(
                Step(Sum(factors(query(f), holder(i + 1, f)), (f, 1, d_phi)),
                     "$\\phi(\\mathbf{q})^\\top$ times the state, entry by entry", "unfold"),
                Step(Sum(factors(query(f), terms(holder(i, f), added(i + 1))), (f, 1, d_phi)),
                     "the update", "unfold", using=(recurrence,)),
                Step(terms(read(i, tag), read_off(i + 1)), "$\\phi(\\mathbf{q})^\\top$ is"
                     " linear", "unfold+sum"),
                Step(_prefix(read_off(j)) + read_off(i + 1), "induction hypothesis",
                     using=(hypothesis,)),
                # a plain sum, kept folded: unfolded, the sums over keys and features merge into one
                # double sum, which align_sums does not split
                Step(_prefix(read_off(j), i + 1), "the new term joins the sum",
                     "align_sums"),
            ),
            hypothesis=hypothesis)),),
        on_sheet=False,
    )


read_state = _read_claim("read_state", "The query reads every visible value from the state",
                         S_TAG, state, lambda at: v[at])
read_normaliser = _read_claim("read_normaliser", "The query reads every visible key from the"
                              " normaliser", Z_TAG, normaliser)

PARALLEL = _prefix(factors(kdot(j), v[j])) / _prefix(kdot(j))

recurrent = Claim(
    "recurrent",
    "Linear attention's recurrence equals its causal parallel form",
    start=read(i, S_TAG) / read(i, Z_TAG),
    steps=(Step(PARALLEL, "what the query reads from both states", "unfold",
                using=(read_state, read_normaliser)),),
    note="After every prefix of $i$ tokens, for the query $\\mathbf{q} = \\mathbf{q}_i$ of"
         " position $i$ and any feature map with positive entries (Katharopoulos et al. use"
         " $\\phi = \\mathrm{elu} + 1$): the state replaces the $i$ keys and values seen so far,"
         " so each decoding step costs the same.",
)

# --- Claims: the costs ------------------------------------------------------------------------
C_par = Named("C_par", r"C_{\mathrm{par}}", integer=True, positive=True)
C_rec = Named("C_rec", r"C_{\mathrm{rec}}", integer=True, positive=True)
r_ = Symbol("r", integer=True, positive=True)  # position, inside the cost sums
D_PAR = Definition("parallel multiplications", C_par,
                   Sum(Sum(terms(d_phi, d_v), (j, 1, r_)), (r_, 1, s)),
                   note="query $r$ meets keys $1..r$: $d_\\phi$ multiplications for the score"
                        " $\\phi(\\mathbf{q}_r)^\\top\\phi(\\mathbf{k}_j)$, $d_v$ to weight"
                        " $\\mathbf{v}_j$")
D_REC = Definition("recurrent multiplications", C_rec,
                   Sum(terms(factors(d_phi, d_v), factors(d_phi, d_v), d_phi), (r_, 1, s)),
                   note="per token: the outer product $\\phi(\\mathbf{k}_r)\\mathbf{v}_r^\\top$,"
                        " the numerator $\\phi(\\mathbf{q}_r)^\\top\\mathbf{S}_r$ and the"
                        " denominator $\\phi(\\mathbf{q}_r)^\\top\\mathbf{Z}_r$")

cost_parallel = Claim(
    "cost_parallel",
    "Causal parallel form: quadratic in the length",
    start=C_par,
    steps=(Step(factors(Rational(1, 2), s, s + 1, group(d_phi, d_v)),
                "$\\sum_{r=1}^{s} r = s(s+1)/2$", "definition+doit+expand"),),
    where=(D_PAR,), on_sheet=False,
)

cost_recurrent = Claim(
    "cost_recurrent",
    "Recurrent form: linear in the length",
    start=C_rec,
    steps=(Step(factors(s, d_phi, group(2 * d_v, 1)), "$s$ equal terms",
                "definition+doit+expand"),),
    where=(D_REC,),
    note="$O(s d_\\phi d_v)$ against $O(s^2(d_\\phi + d_v))$: the recurrent form needs fewer"
         " multiplications once $s + 1 > 2d_\\phi(2d_v + 1)/(d_\\phi + d_v)$, that is"
         " $s > 2d_v$ when $d_\\phi = d_v$. Softmax attention has no such form: its kernel"
         " $e^{\\mathbf{q}\\cdot\\mathbf{k}/\\sqrt{d_k}}$ needs infinitely many features.",
    on_sheet=False,
)


# --- Claims: positive random features ----------------------------------------------------------
d_k = Symbol("d_k", integer=True, positive=True)  # dimension of queries and keys
c = Symbol("c", integer=True, positive=True)  # a coordinate (bound in sums)
q_rf = IndexedBase(Named("q_rf", "q"), real=True)  # the query's coordinates
k_rf = IndexedBase(Named("k_rf", "k"), real=True)  # the key's coordinates
# The random projections and the norms as scalars: E[.] is opaque to the checker's random points,
# so the lines inside it hold no sums (a line with sums costs seconds to screen); the norms are
# tied to the coordinates by the definitions below. Names of their own: deterministic() is
# global by name.
w_q = Named("rf_omega_q", r"\boldsymbol{\omega}^{\top}\mathbf{q}", real=True)
w_k = Named("rf_omega_k", r"\boldsymbol{\omega}^{\top}\mathbf{k}", real=True)
n_q = Named("rf_norm_q", r"\|\mathbf{q}\|^{2}", nonnegative=True)
n_k = Named("rf_norm_k", r"\|\mathbf{k}\|^{2}", nonnegative=True)
n_qk = Named("rf_norm_qk", r"\|\mathbf{q} + \mathbf{k}\|^{2}", nonnegative=True)
qk = Named("rf_qk", r"\mathbf{q}^{\top}\mathbf{k}", real=True)
deterministic(n_q, n_k, n_qk, qk)
RF_DEFINITIONS = (
    Definition("squared norm of q", n_q, Sum(q_rf[c] ** 2, (c, 1, d_k))),
    Definition("squared norm of k", n_k, Sum(k_rf[c] ** 2, (c, 1, d_k))),
    Definition("squared norm of q + k", n_qk, Sum((q_rf[c] + k_rf[c]) ** 2, (c, 1, d_k))),
    Definition("dot product of q and k", qk, Sum(q_rf[c] * k_rf[c], (c, 1, d_k))),
)
D_NQ, D_NK, D_NQK, D_QK = RF_DEFINITIONS

gaussian_mgf = Hypothesis(
    Eq(Expect(exp(w_q + w_k)), exp(n_qk / 2)),
    "$\\boldsymbol{\\omega} \\sim \\mathcal{N}(0, I_{d_k})$, so $\\boldsymbol{\\omega}^\\top"
    "\\mathbf{q} + \\boldsymbol{\\omega}^\\top\\mathbf{k} = \\boldsymbol{\\omega}^\\top"
    "(\\mathbf{q} + \\mathbf{k}) \\sim \\mathcal{N}(0, \\|\\mathbf{q} + \\mathbf{k}\\|^2)$,"
    " whose moment generating function at 1 is $e^{\\|\\mathbf{q} + \\mathbf{k}\\|^2/2}$")

constant = exp(-n_q / 2 - n_k / 2)

polarisation = Claim(
    "polarisation",
    "The squared norm of a sum",
    start=n_qk,
    steps=(Step(terms(n_q, n_k, 2 * qk), "expand the squares", "definition+sum"),),
    where=(D_NQK, D_NQ, D_NK, D_QK),
    on_sheet=False,
)

random_features = Claim(
    "random_features",
    "Positive random features estimate the softmax kernel without bias",
    given=(gaussian_mgf,),
    start=Expect(factors(exp(w_q - n_q / 2), exp(w_k - n_k / 2))),
    steps=(
        # plain products (no held line, no factors()): a line holding E[.] has no value at a
        # random point, so mutation cannot tell a reordered product from a wrong one
        Step(constant * Expect(exp(w_q + w_k)), "$e^a e^b = e^{a+b}$; the norms are"
             " constants", "expect"),
        Step(exp(n_qk / 2 - n_q / 2 - n_k / 2), "the Gaussian moment generating function",
             "powsimp", using=(gaussian_mgf,)),
        Step(exp(qk), "$\\|\\mathbf{q} + \\mathbf{k}\\|^2 = \\|\\mathbf{q}\\|^2 +"
             " \\|\\mathbf{k}\\|^2 + 2\\mathbf{q}^\\top\\mathbf{k}$", "powsimp",
             using=(polarisation,)),
    ),
    where=(D_QK,),
    note="Averaging $m$ such features, $\\phi(\\mathbf{x}) = e^{\\boldsymbol{\\omega}_r^\\top"
         "\\mathbf{x} - \\|\\mathbf{x}\\|^2/2}/\\sqrt m$ for $r = 1..m$, gives an unbiased and"
         " always positive estimate of $e^{\\mathbf{q}^\\top\\mathbf{k}}$; with"
         " $\\mathbf{q}, \\mathbf{k}$ scaled by $d_k^{-1/4}$ it is the softmax kernel"
         " (Choromanski et al. 2020, Lemma 1).", on_sheet=False,
)


# --- Numeric checks ------------------------------------------------------------------------------
def check_smoother(rng: np.random.Generator, formula) -> Measurement:
    """Σ_t e^{z_t} v_t / Σ_t e^{z_t} from the claim against NumPy softmax attention of q, K, v."""
    from llmsym.numeric import attention

    worst, cases = 0.0, 30
    for _ in range(cases):
        keys, width = int(rng.integers(1, 12)), int(rng.integers(1, 9))
        query, table = rng.normal(size=width) * 2, rng.normal(size=(keys, width)) * 2
        values = rng.normal(size=keys)
        scores = table @ query / np.sqrt(width)
        got = float(formula(z=scores, v=values, n=keys))
        ref = float(attention(query[None, :], table, values[:, None])[0, 0])
        worst = max(worst, abs(got - ref))
    return Measurement(worst, cases, 1e-13, "kernel-smoother formula vs llmsym.numeric.attention"
                       " (softmax(qK^T/sqrt(d_k)) v), up to 11 keys")


def _features(rng: np.random.Generator, length: int, width: int):
    from llmsym.numeric import elu_feature_map

    q, k = rng.normal(size=(length, width)), rng.normal(size=(length, width))
    return q, k, elu_feature_map(q), elu_feature_map(k)


def _check_read(rng: np.random.Generator, formula, with_values: bool) -> Measurement:
    worst, cases = 0.0, 0
    for _ in range(8):
        length, width = int(rng.integers(1, 9)), int(rng.integers(1, 5))
        _, _, fq, fk = _features(rng, length, width)
        reader, values = fq[-1], rng.normal(size=length)
        running = np.zeros(width)
        for pos in range(length):  # the recurrence, token by token
            running = running + fk[pos] * (values[pos] if with_values else 1.0)
            args = dict(phi_q=reader, phi_k=fk, i=pos + 1, d_phi=width)
            if with_values:
                args["v"] = values
            worst = max(worst, abs(float(formula(**args)) - reader @ running))
            cases += 1
    return Measurement(worst, cases, 1e-13, "the closed form after every prefix vs φ(q)ᵀ(state)"
                       " from the recurrence run token by token (elu + 1 features)")


def check_read_state(rng: np.random.Generator, formula) -> Measurement:
    """Σ_{j≤i} φ(q)ᵀφ(k_j) v_j from the claim against φ(q)ᵀS_i from the recurrence."""
    return _check_read(rng, formula, with_values=True)


def check_read_normaliser(rng: np.random.Generator, formula) -> Measurement:
    """Σ_{j≤i} φ(q)ᵀφ(k_j) from the claim against φ(q)ᵀZ_i from the recurrence."""
    return _check_read(rng, formula, with_values=False)


def check_recurrent(rng: np.random.Generator, formula) -> Measurement:
    """The causal parallel form from the claim against llmsym.numeric.linear_attention_recurrent
    (the RNN form), at every position."""
    from llmsym.numeric import linear_attention_recurrent

    worst, cases = 0.0, 0
    for _ in range(8):
        length, width = int(rng.integers(1, 9)), int(rng.integers(1, 5))
        q, k, fq, fk = _features(rng, length, width)
        values = rng.normal(size=length)
        rnn = linear_attention_recurrent(q, k, values[:, None])[:, 0]
        for pos in range(length):
            got = float(formula(phi_q=fq[pos], phi_k=fk, v=values, i=pos + 1, d_phi=width))
            worst = max(worst, abs(got - rnn[pos]))
            cases += 1
    return Measurement(worst, cases, 1e-13, "parallel form from the formula vs the recurrent"
                       " reference, every position, elu + 1 features")


class _Tally:
    """Scalar multiplications actually performed: the size of every elementwise product."""

    def __init__(self) -> None:
        self.count = 0

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.multiply(a, b)
        self.count += out.size
        return out


def _parallel_counted(fq, fk, values, tally: _Tally) -> np.ndarray:
    out = np.empty_like(values)
    for r in range(values.shape[0]):
        scores = tally.mul(fq[r][None, :], fk[: r + 1]).sum(axis=1)
        out[r] = tally.mul(scores[:, None], values[: r + 1]).sum(axis=0) / scores.sum()
    return out


def _recurrent_counted(fq, fk, values, tally: _Tally) -> np.ndarray:
    out = np.empty_like(values)
    state_, norm_ = np.zeros((fk.shape[1], values.shape[1])), np.zeros(fk.shape[1])
    for r in range(values.shape[0]):
        state_ = state_ + tally.mul(fk[r][:, None], values[r][None, :])
        norm_ = norm_ + fk[r]
        numerator = tally.mul(fq[r][:, None], state_).sum(axis=0)
        out[r] = numerator / tally.mul(fq[r], norm_).sum()
    return out


def _check_cost(rng: np.random.Generator, formula, run, reference) -> Measurement:
    worst, cases = 0.0, 10
    for _ in range(cases):
        length, width, value_width = (int(x) for x in rng.integers(1, 8, size=3))
        q, k, fq, fk = _features(rng, length, width)
        values = rng.normal(size=(length, value_width))
        tally = _Tally()
        out = run(fq, fk, values, tally)
        if not np.allclose(out, reference(q, k, values), rtol=1e-12, atol=1e-12):
            raise ValueError("the counted implementation does not compute linear attention")
        got = float(formula(seq=length, d_phi=width, d_v=value_width))
        worst = max(worst, abs(got - tally.count))
    return Measurement(worst, cases, 0.0, "multiplications counted while computing causal linear"
                       " attention (output checked against llmsym.numeric) vs the closed form")


def check_cost_parallel(rng: np.random.Generator, formula) -> Measurement:
    """C_par from the claim against the multiplications of a row-by-row causal parallel run."""
    from llmsym.numeric import linear_attention_parallel

    return _check_cost(rng, formula, _parallel_counted, linear_attention_parallel)


def check_cost_recurrent(rng: np.random.Generator, formula) -> Measurement:
    """C_rec from the claim against the multiplications of a token-by-token recurrent run."""
    from llmsym.numeric import linear_attention_recurrent

    return _check_cost(rng, formula, _recurrent_counted, linear_attention_recurrent)


def check_random_features(rng: np.random.Generator, formula) -> Measurement:
    """e^{qᵀk} from the claim against E[φ(q)φ(k)] by Gauss–Hermite quadrature over ω ~ N(0, I)
    (60 nodes per coordinate: the expectation integrated against the normal density)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / np.sqrt(2 * np.pi)
    worst, cases = 0.0, 30
    for _ in range(cases):
        width = int(rng.integers(1, 7))
        query, key = rng.uniform(-1, 1, size=width), rng.uniform(-1, 1, size=width)
        per_coordinate = [weights @ np.exp(nodes * (a + b)) for a, b in zip(query, key,
                                                                             strict=True)]
        expected = np.exp(-(query @ query) / 2 - (key @ key) / 2) * np.prod(per_coordinate)
        got = float(formula(rf_qk=float(query @ key)))
        worst = max(worst, abs(got - expected) / expected)
    return Measurement(worst, cases, 1e-12, "e^{q.k} from the formula vs Gauss-Hermite quadrature"
                       " of E[phi(q) phi(k)], relative")


def check_random_feature_library(rng: np.random.Generator) -> Measurement:
    """Experiment: llmsym.numeric.positive_random_features with m = 20000 features estimates
    e^{qᵀk} within 5 % (the standard error is below 1 % here)."""
    from llmsym.numeric import positive_random_features

    worst, cases = 0.0, 5
    for _ in range(cases):
        width = int(rng.integers(2, 6))
        query, key = rng.uniform(-0.5, 0.5, size=width), rng.uniform(-0.5, 0.5, size=width)
        omegas = rng.normal(size=(20000, width))
        estimate = float(positive_random_features(query, omegas)
                         @ positive_random_features(key, omegas))
        worst = max(worst, abs(estimate / np.exp(query @ key) - 1))
    return Measurement(0.0 if worst < 0.05 else float("inf"), cases, 0.0,
                       f"largest relative error of the 20000-feature estimate: {worst:.2%}")


def example_costs() -> tuple[str, str]:
    """Multiplications of the two forms at s = 4096, d_φ = d_v = 64."""
    from llmsym.notation import unfold

    sizes = {s: 4096, d_phi: 64, d_v: 64}
    par = int(unfold(cost_parallel.end).subs(sizes))
    rec = int(unfold(cost_recurrent.end).subs(sizes))
    return ("causal linear attention over $s = 4096$ tokens, $d_\\phi = d_v = 64$",
            rf"C_{{\mathrm{{par}}}} = {par:,}".replace(",", "{,}")
            + rf",\ C_{{\mathrm{{rec}}}} = {rec:,}".replace(",", "{,}")
            + rf"\ ({par / rec:.1f}\times)")


# --- The derivation ------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="kernel-attention",
    title="Attention as a kernel smoother; linear attention",
    topic="Attention",
    order=39,
    gloss="Softmax attention averages the values with kernel weights $e^{z_t}$; with a kernel"
          " $\\phi(\\mathbf{q})^\\top\\phi(\\mathbf{k})$ the causal average becomes a recurrence"
          " whose cost is linear in the sequence length.",
    assumptions=(
        "One query against $n$ keys (the smoother) or a causal sequence of $s$ tokens (linear"
        " attention); $v$ is one coordinate of the values: every coordinate is handled alike.",
        "$\\phi$ maps a query or key to $d_\\phi$ positive features.",
    ),
    definitions=DEFINITIONS + (D_PAR, D_REC) + RF_DEFINITIONS,
    claims=(smoother, read_state, read_normaliser, recurrent, cost_parallel, cost_recurrent,
            polarisation, random_features),
    checks=(
        NumericCheck("smoother", check_smoother, "The kernel smoother against NumPy softmax"
                     " attention.", claim="smoother"),
        NumericCheck("read-state", check_read_state, "$\\phi(\\mathbf{q})^\\top\\mathbf{S}_i$"
                     " in closed form against the recurrence.", claim="read_state"),
        NumericCheck("read-normaliser", check_read_normaliser, "$\\phi(\\mathbf{q})^\\top"
                     "\\mathbf{Z}_i$ in closed form against the recurrence.",
                     claim="read_normaliser"),
        NumericCheck("recurrent", check_recurrent, "The causal parallel form against the NumPy"
                     " recurrent form.", claim="recurrent"),
        NumericCheck("cost-parallel", check_cost_parallel, "$C_{\\mathrm{par}}$ against the"
                     " multiplications of a counted run.", claim="cost_parallel"),
        NumericCheck("cost-recurrent", check_cost_recurrent, "$C_{\\mathrm{rec}}$ against the"
                     " multiplications of a counted run.", claim="cost_recurrent"),
        NumericCheck("random-features", check_random_features, "$e^{\\mathbf{q}^\\top"
                     "\\mathbf{k}}$ against Gauss-Hermite quadrature of the expectation.",
                     claim="random_features"),
        NumericCheck("random-feature-library", check_random_feature_library, "Experiment:"
                     " the 20000-feature estimate of llmsym.numeric."),
    ),
    notation={
        v: "one coordinate of the values, $v_j$ for key $j$",
        d_v: "dimension of the values of one head",
        f: "a feature index",
        d_phi: "number of features $\\phi$ maps a query or key to",
        S_shown: "linear attention's state: $\\mathbf{S}_i = \\sum_{j \\le i}\\phi(\\mathbf{k}_j)"
                 "v_j$ after $i$ tokens",
        Z_shown: "linear attention's normaliser: $\\mathbf{Z}_i = \\sum_{j \\le i}"
                 "\\phi(\\mathbf{k}_j)$",
        w_q: "a random projection of the query, $\\boldsymbol{\\omega} \\sim \\mathcal{N}(0, I)$",
        w_k: "the same random projection of the key",
        n_q: "the squared length of the query", n_k: "the squared length of the key",
        n_qk: "the squared length of $\\mathbf{q} + \\mathbf{k}$",
        qk: "the dot product of query and key",
        C_par: "multiplications of causal linear attention in parallel form",
        C_rec: "multiplications of causal linear attention in recurrent form",
        r"\kappa": "a kernel between a query and a key",
        r"\phi": "a feature map of queries and keys",
    },
    sources=(
        "Nadaraya, On estimating regression (1964); Watson, Smooth regression analysis (1964):"
        " the kernel smoother.",
        "Tsai et al., Transformer Dissection, arXiv:1908.11775 (2019), section 2: attention as"
        " a kernel smoother.",
        "Katharopoulos et al., Transformers are RNNs, arXiv:2006.16236 (2020), sections"
        " 3.2-3.4: linear attention, its causal recurrence and its cost.",
        "Choromanski et al., Rethinking Attention with Performers, arXiv:2009.14794 (2020),"
        " Lemma 1: positive random features.",
    ),
    examples=(example_costs,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
