"""Maximum likelihood is minimum cross-entropy from the data; perplexity is its exponential.

Main results
    token_loss       y_t <= n  ⊢  H(e_{y_t}, q) = -log q_{y_t}     (one token's loss)
    count_step       c_j(N + 1) = c_j(N) + [y_{N+1} = j]          (counts grow one token at a time)
    counting         sum_{t<=N} H(e_{y_t}, q) = -sum_j c_j(N) log q_j      (every N, by induction)
    likelihood       -(1/N) sum_t log q_{y_t} = H(p_hat) + KL(p_hat || q), p_hat_j = c_j(N)/N
    phat_normalised  sum_j p_hat_j = 1
    mle_optimum      sum_j q_j = 1  ⊢  -(1/N) sum_t log q_{y_t} >= H(p_hat): the MLE is q = p_hat
    uniform_perplexity   the uniform model has perplexity n on any data

Here c_j(N) = sum_{t=1}^N [y_t = j] counts outcome j among the data y_1..y_N. The
counting step (a sum over tokens becomes a sum over outcomes) is proved by induction
on the number of tokens, not assumed.

Run on its own: ``python derivations/max_likelihood.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, Gt, IndexedBase, KroneckerDelta, Le, Sum, Symbol, exp, log, symbols

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
    induction_hypothesis,
)
from llmsym.notation import KL, Named, Notation, cross_entropy, entropy, gibbs_gap, terms

# --- Symbols -----------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # number of outcomes (vocabulary size)
N = Named("n_tokens", r"N_{\mathrm{tok}}", integer=True, positive=True)  # tokens in the data
j, t = symbols("j t", integer=True, positive=True)  # outcome index, position in the data
q = IndexedBase("q", positive=True)  # the model's probabilities
y = IndexedBase("y", integer=True, positive=True)  # the data: y_t in 1..n
p_hat = IndexedBase(Named("p_hat", r"\hat{p}", positive=True))  # the empirical distribution
PPL = Named("perplexity", r"\mathrm{PPL}", positive=True)

# --- Notation ----------------------------------------------------------------------


class iverson(Notation):  # noqa: N801 - Iverson's bracket
    """``iverson(a, b)`` = [a = b]: 1 when a = b, else 0."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return KroneckerDelta(a, b)

    def _latex(self, printer):
        a, b = (printer._print(x) for x in self.args)
        return rf"[{a} = {b}]"


class count(Notation):  # noqa: N801
    """``count(j, N)`` = sum_{t=1}^N [y_t = j]: how often outcome j occurs in y_1..y_N."""

    nargs = 2

    @classmethod
    def definition(cls, outcome, tokens):
        return Sum(KroneckerDelta(y[t], outcome), (t, 1, tokens))

    def _latex(self, printer):
        return printer._print(Sum(iverson(y[t], self.args[0]), (t, 1, self.args[1])))


class at_token(Notation):  # noqa: N801
    """``at_token(t, n, w)`` = sum_{j=1}^n [y_t = j] w_j: the weight of token t's outcome, read
    through its one-hot vector (``w`` is an expression in the outcome index j)."""

    nargs = 3

    @classmethod
    def definition(cls, position, size, weight):
        return Sum(KroneckerDelta(y[position], j) * weight, (j, 1, size))

    def _latex(self, printer):
        position, size, weight = self.args
        return printer._print(Sum(iverson(y[position], j) * weight, (j, 1, size)))


# --- Premises and definitions ----------------------------------------------------------
token_in_range = Hypothesis(Le(y[t], n), "every token is one of the $n$ outcomes")
every_outcome_seen = Hypothesis(Gt(p_hat[j], 0, evaluate=False), "every outcome occurs in the"
                                " data (drop those that do not: $0 \\log 0 = 0$)")
q_sums_to_one = Hypothesis(Eq(Sum(q[j], (j, 1, n)), 1), "$q$ is a distribution")
DEF_P_HAT = Definition("empirical distribution", p_hat[j], count(j, N) / N,
                       note="the fraction of the tokens that are outcome $j$")
mean_nll = -Sum(log(q[y[t]]), (t, 1, N)) / N
DEF_PPL = Definition("perplexity", PPL, exp(mean_nll), on_sheet=True,
                     title="Perplexity of a model $q$ on tokens $y_1, \\dots, y_{N}$")

# --- Claims: counting one token at a time ------------------------------------------------
LOSS = -log(q[j])  # a token's loss, outcome by outcome
# minus the model over the data, outcome by outcome (the sign keeps the token sum a product, so
# SymPy does not flatten the two sums into one: see the report on sum_normal)
RATIO = -q[j] / p_hat[j]


def _token_lemma(name: str, title: str, weight) -> Claim:
    return Claim(name, title, given=(token_in_range,), start=at_token(t, n, weight),
                 steps=(Step(weight.xreplace({j: y[t]}), "only the term $j = y_t$ is left",
                             "unfold+doit"),),
                 on_sheet=False)


token_loss = _token_lemma("token_loss", "One token's loss through its one-hot target", LOSS)
token_ratio = _token_lemma("token_ratio", "One token's ratio through its one-hot target", RATIO)

count_step = Claim(
    "count_step",
    "Counts grow one token at a time",
    start=count(j, N + 1),
    steps=(Step(count(j, N) + iverson(y[N + 1], j), "split off the last token",
                "unfold+align_sums"),),
    on_sheet=False,
)


def _swap_by_induction(name: str, title: str, weight) -> Claim:
    """sum_{t=1}^N sum_j [y_t = j] w_j = sum_j c_j(N) w_j, by induction on N."""
    def lhs(tokens):
        return Sum(at_token(t, n, weight), (t, 1, tokens))

    def rhs(tokens):
        return Sum(count(j, tokens) * weight, (j, 1, n))

    ih = induction_hypothesis(lhs(N), rhs(N))
    last = at_token(N + 1, n, weight)
    ind = Induction(
        N, 1,
        base_steps=(Step(rhs(1), "one token: $c_j(1) = [y_1 = j]$", "unfold+doit"),),
        step_steps=(
            Step(lhs(N) + last, "split off the last token", "align_sums"),
            Step(rhs(N) + last, "induction hypothesis", "expand", using=(ih,)),
            Step(rhs(N) + Sum(iverson(y[N + 1], j) * weight, (j, 1, n)),
                 "the last token, outcome by outcome", "unfold"),
            Step(rhs(N + 1), "$c_j(N + 1) = c_j(N) + [y_{N+1} = j]$", "sum",
                 using=(count_step,)),
        ),
        hypothesis=ih,
    )
    return Claim(name, title, start=lhs(N),
                 steps=(Step(rhs(N), "by induction on the number of tokens", induction=ind),),
                 on_sheet=False)


counting = _swap_by_induction("counting", "A sum over tokens is a sum over outcomes", LOSS)
counting_ratio = _swap_by_induction("counting_ratio", "The same count for the model-to-data"
                                    " ratio", RATIO)

# --- Claims: the likelihood --------------------------------------------------------------
likelihood = Claim(
    "likelihood",
    "Maximum likelihood is minimum KL divergence from the data",
    given=(every_outcome_seen,),
    start=mean_nll,
    steps=(
        Step(Sum(at_token(t, n, LOSS), (t, 1, N)) / N, "each token's loss through its one-hot"
             " target", "expand", using=(token_loss,)),
        Step(Sum(count(j, N) * LOSS, (j, 1, n)) / N, "group the tokens by outcome",
             "expand", using=(counting,)),
        Step(-Sum(p_hat[j] * log(q[j]), (j, 1, n)), "$\\hat p_j = c_j/N_{\\mathrm{tok}}$",
             "definition"),
        Step(cross_entropy(p_hat[j], q[j], j, n), "definition of cross-entropy", "unfold"),
        Step(terms(entropy(p_hat[j], j, n), KL(p_hat[j], q[j], j, n)),
             "cross-entropy is entropy plus KL", "unfold+sum+expand_log"),
    ),
    where=(DEF_P_HAT,),
    note="$H(\\hat p)$ does not depend on the model: maximising the likelihood of $q$ is"
         " minimising $\\operatorname{KL}(\\hat p \\| q)$, zero only at $q = \\hat p$.",
)

nll_at_data = -Sum(log(p_hat[y[t]]), (t, 1, N)) / N
ratio_mean = Sum(q[y[t]] / p_hat[y[t]], (t, 1, N)) / N

mle_optimum = Claim(
    "mle_optimum",
    "No model beats the data's own distribution: the MLE is $q = \\hat p$",
    given=(q_sums_to_one, every_outcome_seen),
    start=mean_nll,
    steps=(
        Step(terms(nll_at_data, 1, -ratio_mean),
             "$\\log(\\hat p/q) \\ge 1 - q/\\hat p$ token by token: the difference is"
             " $\\frac{1}{N_{\\mathrm{tok}}}\\sum_t g(q_{y_t}/\\hat p_{y_t}) \\ge 0$",
             rel=">=",
             certificate=Sum(gibbs_gap(q[y[t]] / p_hat[y[t]]), (t, 1, N)) / N),
        Step(terms(nll_at_data, 1, Sum(at_token(t, n, RATIO), (t, 1, N)) / N),
             "each token through its one-hot target", "expand", using=(token_ratio,)),
        Step(terms(nll_at_data, 1, Sum(count(j, N) * RATIO, (j, 1, n)) / N),
             "group the tokens by outcome", "expand", using=(counting_ratio,)),
        Step(terms(nll_at_data, 1, -Sum(q[j], (j, 1, n))),
             "$c_j / (N_{\\mathrm{tok}} \\hat p_j) = 1$", "definition+sum"),
        Step(nll_at_data, "$\\sum_j q_j = 1$", "expand", using=(q_sums_to_one,)),
    ),
    where=(DEF_P_HAT,),
    note="The right side is the loss of $q = \\hat p$ (equal to $H(\\hat p)$ by the previous"
         " entry), and equality needs $q_{y_t} = \\hat p_{y_t}$ for every token:"
         " $\\arg\\max_q \\prod_t q_{y_t} = \\hat p$ over distributions $q$.", on_sheet=False,
)

uniform_perplexity = Claim(
    "uniform_perplexity",
    "A uniform model has perplexity $n$ on any data",
    start=exp(-Sum(log(1 / n), (t, 1, N)) / N),
    steps=(
        Step(exp(log(n)), "$-\\log(1/n) = \\log n$, $N_{\\mathrm{tok}}$ times, divided by"
             " $N_{\\mathrm{tok}}$", "sum+expand_log"),
        Step(n, "$e^{\\log n} = n$", "expand"),
    ),
    note="A model that has learnt nothing is as uncertain as a fair $n$-sided die.", on_sheet=False,
)

# --- Numeric checks ----------------------------------------------------------------


def _sample(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-based data covering every outcome, a random model, and the empirical distribution."""
    outcomes = int(rng.integers(2, 12))
    extra = rng.choice(outcomes, size=int(rng.integers(0, 60)))
    data = rng.permutation(np.concatenate([np.arange(outcomes), extra])) + 1
    model = rng.dirichlet(np.ones(outcomes)) + 1e-12
    model /= model.sum()
    return data, model, np.bincount(data - 1, minlength=outcomes) / data.size


def check_likelihood(rng: np.random.Generator, formula) -> Measurement:
    """H(p_hat) + KL(p_hat || q) from the claim, p_hat from NumPy's bincount, against the
    token-by-token mean of -log q(y_t)."""
    worst, cases = 0.0, 30
    for _ in range(cases):
        data, model, emp = _sample(rng)
        nll = float(np.mean(-np.log(model[data - 1])))  # straight from the definition
        got = float(formula(p_hat=emp, q=model, n=model.size))
        worst = max(worst, abs(got - nll) / max(1.0, nll))
    return Measurement(worst, cases, 1e-13,
                       "H(p_hat) + KL(p_hat||q) from the formula vs the mean of -log q(y_t) over"
                       " the tokens")


def check_optimum(rng: np.random.Generator, formula) -> Measurement:
    """The loss of q = p_hat from the claim against NumPy's entropy of the bincount, and no
    rival model gets below it."""
    from llmsym.numeric import entropy as ent

    worst, cases = 0.0, 30
    for _ in range(cases):
        data, _, emp = _sample(rng)
        floor = float(formula(p_hat=emp, y=data, n_tokens=data.size))
        worst = max(worst, abs(floor - float(ent(emp))) / max(1.0, floor))
        rivals = rng.dirichlet(np.ones(emp.size) * 0.5, size=20)
        rivals = np.concatenate([rivals, 0.99 * emp + 0.01 * rivals[:5]])
        rival_nll = np.mean(-np.log(rivals[:, data - 1]), axis=1)
        worst = max(worst, (floor - float(rival_nll.min())) / max(1.0, floor))
    return Measurement(max(worst, 0.0), cases, 1e-13,
                       "|loss of p_hat from the formula - H(p_hat) from numeric entropy| and how"
                       " far it exceeds the NLL of 25 rival models per data set (never)")


def check_uniform(rng: np.random.Generator, formula) -> Measurement:
    """n from the claim against exp(mean NLL) of a uniform model on random data."""
    worst, cases = 0.0, 30
    for _ in range(cases):
        outcomes = int(rng.integers(1, 50000))
        data = rng.integers(0, outcomes, size=int(rng.integers(1, 200)))
        uniform = np.full(outcomes, 1.0 / outcomes)
        ppl = float(np.exp(np.mean(-np.log(uniform[data]))))
        worst = max(worst, abs(float(formula(n=outcomes)) - ppl) / ppl)
    return Measurement(worst, cases, 1e-12,
                       "n from the formula vs exp(mean NLL) of the uniform model, n up to 5e4")


def example_perplexity():
    """Cross-entropy and perplexity of a model on a short sequence."""
    from llmsym.numeric import cross_entropy as ce

    data = np.array([0, 0, 1, 2, 0, 1])
    model = np.array([0.5, 0.3, 0.2])
    emp = np.bincount(data, minlength=3) / data.size
    loss = float(ce(emp, model))
    return ("the model $(0.5, 0.3, 0.2)$ on the tokens $1, 1, 2, 3, 1, 2$",
            r"H(\hat{\mathbf{p}}, \mathbf{q}) = %.4f \text{ nats}, \quad"
            r" \mathrm{PPL} = e^{H} = %.4f" % (loss, np.exp(loss)))


# --- The derivation --------------------------------------------------------------
DERIVATION = Derivation(
    id="max-likelihood-perplexity",
    title="Maximum likelihood, cross-entropy and perplexity",
    topic="Information theory",
    order=22,
    gloss="Training by maximum likelihood is minimising the cross-entropy (and the KL"
          " divergence) from the data's empirical distribution; perplexity is $e$ to the"
          " average loss in nats.",
    assumptions=(
        "Tokens $y_1, \\dots, y_{N_{\\mathrm{tok}}}$ over outcomes $1..n$ are scored"
        " independently by one model distribution $q$ (for a language model: each position by"
        " its own prediction, and the same argument holds position by position).",
    ),
    definitions=(DEF_P_HAT, DEF_PPL),
    claims=(token_loss, token_ratio, count_step, counting, counting_ratio, likelihood,
            mle_optimum, uniform_perplexity),
    checks=(
        NumericCheck("likelihood", check_likelihood, "$H(\\hat p) + \\operatorname{KL}(\\hat p"
                     " \\| q)$ against the token-by-token mean NLL.", claim="likelihood"),
        NumericCheck("optimum", check_optimum, "$H(\\hat p)$ is the NLL of $q = \\hat p$ and no"
                     " rival model beats it.", claim="mle_optimum"),
        NumericCheck("uniform", check_uniform, "A uniform model has perplexity $n$ on random"
                     " data.", claim="uniform_perplexity"),
    ),
    results=(
        Result("uniform_perplexity", n, params=(n,),
               doc="perplexity of the uniform model over n outcomes", units="outcomes",
               claim="uniform_perplexity"),
    ),
    notation={N: "number of tokens in the data", p_hat: "the empirical distribution of the"
              " data", PPL: "perplexity", t: "a position in the data"},
    sources=(
        "Goodfellow, Bengio and Courville, Deep Learning (2016), section 5.5: maximum"
        " likelihood as minimising KL from the empirical distribution.",
        "Jurafsky and Martin, Speech and Language Processing, 3rd ed. draft, section 3.3:"
        " perplexity.",
    ),
    examples=(example_perplexity,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
