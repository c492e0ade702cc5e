"""The chain rule of probability and the log-likelihood of an autoregressive model.

Main results
    log_likelihood   p(x_<1) = 1  ⊢  log p(x_1..x_s) = sum_t log p(x_t | x_<t)   (every s)
    chain_rule       p(x_1..x_s) = prod_t p(x_t | x_<t), from the log form   (every s)
    perplexity       p(x_1..x_s)^(-1/s) = exp(-(1/s) sum_t log p(x_t | x_<t))

With prefix probabilities P_t = p(x_1, ..., x_t) > 0, the empty prefix certain
(P_0 = 1), and the conditional p(x_t | x_<t) := P_t / P_{t-1}, the log form is a
telescoping sum, proved for every length s; the product form follows by
exponentiating (e^{sum_t log c_t} = prod_t c_t for c_t > 0).

Run on its own: ``python derivations/probability_chain_rule.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Product, Rational, Sum, Symbol, exp, log

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Notation, held

# --- Symbols -------------------------------------------------------------------
s = Symbol("s", integer=True, positive=True)  # sequence length
t = Symbol("t", integer=True, positive=True)  # position
P = IndexedBase("P", positive=True)  # P_t = p(x_1, ..., x_t), the prefix probabilities


class joint(Notation):  # noqa: N801 - reads like the maths
    """``joint(t)``: p(x_1, ..., x_t), the probability of the first t tokens (P_t)."""

    nargs = 1

    @classmethod
    def definition(cls, length):
        return P[length]

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        length = self.args[0]
        if length == 0:
            return r"p(x_{<1})"
        return rf"p(x_1, \dots, x_{{{printer._print(length)}}})"


class cond(Notation):  # noqa: N801
    """``cond(t)``: p(x_t | x_<t) = p(x_1..x_t) / p(x_1..x_{t-1}), the next-token probability."""

    nargs = 1

    @classmethod
    def definition(cls, position):
        return joint(position) / joint(position - 1)

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        pos = printer._print(self.args[0])
        return rf"p(x_{{{pos}}} \mid x_{{<{pos}}})"


# --- Premises --------------------------------------------------------------------
empty_prefix = Hypothesis(Eq(joint(0), 1), "the empty prefix is certain")
DEF_COND = Definition("conditional probability", cond(t), joint(t) / joint(t - 1),
                      note="every prefix has positive probability")

# --- Claims --------------------------------------------------------------------

with held():  # lines SymPy would simplify at once
    with_empty = log(joint(s)) - log(joint(0))
    exp_log = exp(log(joint(s)))
    power_form = exp(-log(joint(s)) / s)

log_likelihood = Claim(
    "log_likelihood",
    "Sequence log-likelihood is a sum over tokens",
    given=(empty_prefix,),
    start=log(joint(s)),
    steps=(
        Step(with_empty, "$\\log p(x_{<1}) = \\log 1 = 0$", "expand", using=(empty_prefix,)),
        Step(Sum(log(joint(t)) - log(joint(t - 1)), (t, 1, s)), "a telescoping sum", "doit"),
        Step(Sum(log(cond(t)), (t, 1, s)),
             "$\\log(a/b) = \\log a - \\log b$; definition of the conditional",
             "unfold+sum+expand_log"),
    ),
    where=(DEF_COND,),
    note="The training objective of an autoregressive LM: one term per position.",
)

chain_rule = Claim(
    "chain_rule",
    "Chain rule of probability",
    start=joint(s),
    steps=(
        Step(exp_log, "$p = e^{\\log p}$ for $p > 0$", "cancel"),
        Step(exp(Sum(log(cond(t)), (t, 1, s))), "the log form", "expand",
             using=(log_likelihood,)),
        Step(Product(cond(t), (t, 1, s)),
             "$e^{\\sum_t \\log c_t} = \\prod_t c_t$ for $c_t > 0$", "expand"),
    ),
    where=(DEF_COND,),
    note="Proved for every length $s$ from the log form.", on_sheet=False,
)

perplexity = Claim(
    "perplexity",
    "Perplexity is the inverse geometric mean of the next-token probabilities",
    start=joint(s) ** (-Rational(1) / s),
    steps=(
        Step(power_form, "$p^c = e^{c \\log p}$ for $p > 0$", "powsimp+powdenest"),
        Step(exp(-Sum(log(cond(t)), (t, 1, s)) / s), "the log form", "expand",
             using=(log_likelihood,)),
    ),
    on_sheet=False,
    note="The exponent $-\\frac{1}{s}\\sum_t \\log p(x_t \\mid x_{<t})$ is the mean negative"
         " log-likelihood per token (the cross-entropy loss in nats).",
)

# --- Numeric checks --------------------------------------------------------------


def _prefixes(table: np.ndarray, seq: tuple[int, ...]) -> dict[int, float]:
    """P_0 = 1 and P_t = p(x_1..x_t) by marginalising the joint table over the suffix.

    Keyed for the formula's 1-based reading: entry t - 1 holds P_t (so P_0 sits at -1).
    """
    out = {-1: 1.0}
    for pos in range(len(seq)):
        out[pos] = float(table[seq[: pos + 1]].sum())
    return out


def _random_joint(rng: np.random.Generator, vocab: int, length: int) -> np.ndarray:
    """A random distribution over all vocab**length sequences, some of them very unlikely."""
    weights = rng.gamma(0.3, size=(vocab,) * length) + 1e-300
    return weights / weights.sum()


def _sequences(rng: np.random.Generator, tables: int = 3):
    """(table, sequence, prefixes) for every sequence of a few random joint tables."""
    for _ in range(tables):
        vocab, length = int(rng.integers(2, 4)), int(rng.integers(1, 5))
        table = _random_joint(rng, vocab, length)
        for seq in np.ndindex(*table.shape):
            yield table, seq, _prefixes(table, seq)


def check_chain_rule(rng: np.random.Generator) -> Measurement:
    """Experiment: conditionals by marginalising random joint tables multiply to the joint.

    Not tied to the claim: the formula harness cannot evaluate a symbolic product
    (lambdify has no printer for Product); the log form's check is tied instead.
    """
    worst, cases = 0.0, 0
    for table, seq, prefixes in _sequences(rng):
        product = float(np.prod([prefixes[k] / prefixes[k - 1] for k in range(len(seq))]))
        worst = max(worst, abs(product / float(table[seq]) - 1))
        cases += 1
    return Measurement(worst, cases, 1e-12,
                       "product of conditionals (prefix masses by marginalising random joint"
                       " tables, vocab 2..3, length 1..4) vs the joint entry")


def check_log_likelihood(rng: np.random.Generator, formula) -> Measurement:
    """sum_t log p(x_t | x_<t) from the claim vs the log of the joint entry."""
    worst, cases = 0.0, 0
    for table, seq, prefixes in _sequences(rng):
        got = float(formula(P=prefixes, s=len(seq)))
        ref = float(np.log(table[seq]))
        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
        cases += 1
    return Measurement(worst, cases, 1e-12,
                       "sum of log conditionals from the formula vs log of the joint entry")


def check_perplexity(rng: np.random.Generator, formula) -> Measurement:
    """p(x)^(-1/s) from the claim's left side vs exp of the mean per-token NLL."""
    worst, cases = 0.0, 0
    for _table, seq, prefixes in _sequences(rng):
        conds = [prefixes[k] / prefixes[k - 1] for k in range(len(seq))]
        ref = float(np.exp(-np.mean(np.log(conds))))
        got = float(formula(P=prefixes, s=len(seq)))
        worst = max(worst, abs(got / ref - 1))
        cases += 1
    return Measurement(worst, cases, 1e-10,
                       "p(x_1..x_s)^(-1/s) from the formula vs exp of the mean NLL of the"
                       " marginalised conditionals")


def example_sentence() -> tuple[str, str]:
    """A three-token sequence with next-token probabilities 0.5, 0.2 and 0.9."""
    probs = np.array([0.5, 0.2, 0.9])
    nll = -float(np.mean(np.log(probs)))
    return ("a three-token sequence",
            rf"p = 0.5 \cdot 0.2 \cdot 0.9 = {np.prod(probs):.2f},\quad "
            rf"-\tfrac{{1}}{{3}}\log p = {nll:.4f}\ \text{{nats/token}},\quad "
            rf"\mathrm{{PPL}} = e^{{{nll:.4f}}} = {np.exp(nll):.3f}")


# --- The derivation ----------------------------------------------------------------
DERIVATION = Derivation(
    id="probability-chain-rule",
    title="Chain rule of probability and sequence log-likelihood",
    topic="Foundations",
    order=4,
    gloss="A sequence's probability is the product of next-token probabilities, so its"
          " log-likelihood is their sum: the objective of every autoregressive LM.",
    assumptions=(
        "Every prefix has positive probability, $p(x_1, \\dots, x_t) > 0$, and the empty prefix"
        " has probability 1.",
    ),
    definitions=(
        Definition("prefix probability", joint(t), joint.definition(t)),
        DEF_COND,
    ),
    claims=(log_likelihood, chain_rule, perplexity),
    checks=(
        NumericCheck("log-likelihood", check_log_likelihood, "Log conditionals from"
                     " marginalising random joint tables sum to the log joint.",
                     claim="log_likelihood"),
        NumericCheck("chain-rule", check_chain_rule, "Experiment: conditionals from"
                     " marginalising random joint tables multiply to every joint entry."),
        NumericCheck("perplexity", check_perplexity, "$p(x_{1:s})^{-1/s}$ equals $e$ to the"
                     " mean per-token NLL.", claim="perplexity", side="start"),
    ),
    notation={P: "$P_t = p(x_1, \\dots, x_t)$, the probability of the first $t$ tokens"},
    sources=("Bengio, Ducharme, Vincent and Jauvin, A Neural Probabilistic Language Model, "
             "JMLR 3 (2003), section 1: the autoregressive factorisation.",),
    examples=(example_sentence,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
