"""The chain rule of probability and the log-likelihood of an autoregressive model.

Statement
    With prefix probabilities P_t = p(x_1, ..., x_t), P_0 = 1, and conditionals
    p(x_t | x_<t) = P_t / P_{t-1}:  p(x_1..x_T) = prod_t p(x_t | x_<t), so
    log p(x_1..x_T) = sum_t log p(x_t | x_<t), and the perplexity
    exp(-(1/T) sum_t log p(x_t | x_<t)) equals p(x_1..x_T)^(-1/T).

Run on its own: ``python derivations/probability_chain_rule.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, Product, Rational, Sum, Symbol, exp, log

from llmsym.model import Claim, Definition, Derivation, Measurement, NumericCheck, Sizes, Step
from llmsym.notation import Notation

# --- Symbols -------------------------------------------------------------------
T = Symbol("T", integer=True, positive=True)  # sequence length
t = Symbol("t", integer=True, positive=True)  # position
P = IndexedBase("P", positive=True)  # P_t = p(x_1, ..., x_t), the prefix probabilities


class joint(Notation):  # noqa: N801 - reads like the maths
    """``joint(t)``: p(x_1, ..., x_t), the probability of the first t tokens, P_t."""

    nargs = 1

    @classmethod
    def definition(cls, length):
        return P[length]

    def _latex(self, printer, exp=None):
        text = rf"p(x_1, \dots, x_{{{printer._print(self.args[0])}}})"
        return text if exp is None else rf"{text}^{{{exp}}}"


class cond(Notation):  # noqa: N801
    """``cond(t)``: p(x_t | x_<t) = P_t / P_{t-1}, the model's next-token probability."""

    nargs = 1

    @classmethod
    def definition(cls, position):
        return P[position] / P[position - 1]

    def _latex(self, printer, exp=None):
        pos = printer._print(self.args[0])
        text = rf"p(x_{{{pos}}} \mid x_{{<{pos}}})"
        return text if exp is None else rf"{text}^{{{exp}}}"


EMPTY_PREFIX = (Eq(P[0], 1),)  # the empty prefix has probability 1

# --- Claims --------------------------------------------------------------------

chain_rule = Claim(
    "chain_rule",
    "Chain rule of probability",
    start=joint(T),
    steps=(
        Step(P[T] / P[0], "$P_0 = 1$: the empty prefix is certain", "unfold", using=EMPTY_PREFIX),
        Step(Product(P[t] / P[t - 1], (t, 1, T)), "the product telescopes", "cancel",
             sizes=Sizes(T, 1, 6)),
        Step(Product(cond(t), (t, 1, T)), "definition of the conditional probability", "unfold"),
    ),
    note="SymPy does not telescope a symbolic product: this form is checked for $T \\le 6$, "
         "the log form below for every $T$.",
)

log_likelihood = Claim(
    "log_likelihood",
    "Sequence log-likelihood is a sum over tokens",
    start=log(joint(T)),
    steps=(
        Step(log(P[T]) - log(P[0]), "$\\log P_0 = \\log 1 = 0$", "unfold", using=EMPTY_PREFIX),
        Step(Sum(log(P[t]) - log(P[t - 1]), (t, 1, T)), "a telescoping sum", "doit"),
        Step(Sum(log(cond(t)), (t, 1, T)),
             "$\\log(a/b) = \\log a - \\log b$; definition of the conditional",
             "unfold+sum+expand_log"),
    ),
    note="The training objective of an autoregressive LM: one term per position.",
)

perplexity = Claim(
    "perplexity",
    "Perplexity is the inverse geometric mean of the next-token probabilities",
    start=exp(-Sum(log(cond(t)), (t, 1, T)) / T),
    steps=(
        Step(exp(-log(joint(T)) / T), "the sequence log-likelihood above",
             using=(Eq(Sum(log(cond(t)), (t, 1, T)), log(joint(T))),)),
        Step(joint(T) ** (-Rational(1) / T), "$e^{c \\log p} = p^c$ for $p > 0$",
             "unfold+powdenest"),
    ),
    on_sheet=False,
    note="The exponent $-\\frac{1}{T}\\sum_t \\log p(x_t \\mid x_{<t})$ is the mean negative "
         "log-likelihood per token (the cross-entropy loss in nats).",
)

# --- Numeric checks --------------------------------------------------------------


def _conditionals(table: np.ndarray, seq: tuple[int, ...]) -> list[float]:
    """p(x_t | x_<t) for one sequence, by marginalising the joint table over the suffix."""
    out, prefix_mass = [], 1.0
    for pos in range(len(seq)):
        # P(x_1..x_{pos+1}): sum the joint over every continuation of the prefix.
        mass = float(table[seq[: pos + 1]].sum())
        out.append(mass / prefix_mass)
        prefix_mass = mass
    return out


def _random_joint(rng: np.random.Generator, vocab: int, length: int) -> np.ndarray:
    """A random distribution over all vocab**length sequences, some of them very unlikely."""
    weights = rng.gamma(0.3, size=(vocab,) * length) + 1e-300
    return weights / weights.sum()


def check_chain_rule(rng: np.random.Generator) -> Measurement:
    """Product and log-sum of marginalised conditionals vs the joint table, every sequence."""
    worst, cases = 0.0, 0
    for _ in range(6):
        vocab, length = int(rng.integers(2, 5)), int(rng.integers(1, 5))
        table = _random_joint(rng, vocab, length)
        for seq in np.ndindex(*table.shape):
            conds = _conditionals(table, seq)
            joint_p = float(table[seq])
            worst = max(worst, abs(float(np.prod(conds)) / joint_p - 1),
                        abs(float(np.sum(np.log(conds))) - np.log(joint_p))
                        / max(1.0, abs(np.log(joint_p))))
            cases += 1
    return Measurement(worst, cases, 1e-12,
                       "conditionals by marginalising random joint tables (vocab 2..4, length "
                       "1..4): their product and log-sum vs the joint entry")


def check_perplexity(rng: np.random.Generator) -> Measurement:
    """exp(mean NLL) from a token-by-token model vs p(x)^(-1/T) from the joint table."""
    worst, cases = 0.0, 0
    for _ in range(5):
        vocab, length = int(rng.integers(2, 5)), int(rng.integers(1, 5))
        table = _random_joint(rng, vocab, length)
        for seq in np.ndindex(*table.shape):
            nll = -float(np.mean(np.log(_conditionals(table, seq))))
            reference = float(table[seq]) ** (-1.0 / length)
            worst = max(worst, abs(np.exp(nll) / reference - 1))
            cases += 1
    return Measurement(worst, cases, 1e-10,
                       "exp of the mean per-token NLL vs the joint probability to the power -1/T")


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
    gloss="A sequence's probability is the product of next-token probabilities, so its "
          "log-likelihood is their sum: the objective of every autoregressive LM.",
    assumptions=(
        "Every prefix has positive probability: $P_t = p(x_1, \\dots, x_t) > 0$, and "
        "$P_0 = 1$ for the empty prefix.",
    ),
    definitions=(
        Definition("prefix probability", joint(t), joint.definition(t)),
        Definition("conditional probability", cond(t), cond.definition(t)),
    ),
    claims=(chain_rule, log_likelihood, perplexity),
    checks=(
        NumericCheck("chain_rule", check_chain_rule,
                     "Random joint distributions over short sequences: conditionals obtained by "
                     "marginalising, multiplied (and log-summed), reproduce every joint entry."),
        NumericCheck("perplexity", check_perplexity,
                     "$\\exp$ of the mean per-token NLL equals $p(x_{1:T})^{-1/T}$."),
    ),
    notation={P: "$P_t = p(x_1, \\dots, x_t)$, the probability of the first $t$ tokens",
              T: "the sequence length"},
    sources=("Bengio, Ducharme, Vincent and Jauvin, A Neural Probabilistic Language Model, "
             "JMLR 3 (2003), section 1: the autoregressive factorisation.",),
    examples=(example_sentence,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
