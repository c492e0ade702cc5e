"""Calibration: the expected calibration error, temperature scaling, the Brier decomposition.

Main results
    ece_counts      ECE = Σ_m (|B_m|/n_pred)|acc(B_m) - conf(B_m)|
                        = (1/n_pred) Σ_m |Σ_t (o_{m,t} - p̂_{m,t})|
    ratio           softmax(z/T)_i / softmax(z/T)_j = e^{(z_i - z_j)/T}
    order           z_i - z_j = Δ_{ij} > 0  ⊢  softmax(z/T)_i / softmax(z/T)_j >= 1 + Δ_{ij}/T > 1:
                    for every T > 0 the larger logit keeps the larger probability, so
                    temperature scaling changes no argmax and no accuracy
    bin             one bin of |B_m| equal forecasts f_m with 0/1 outcomes:
                    Σ_t (f_m - o_{m,t})² = |B_m|(f_m - ō_m)² - |B_m|(ō_m - ō)² + |B_m| ō(1 - ō)
                                           + (1 - 2ō)|B_m|(ō_m - ō), for every real ō
    murphy          Brier = REL - RES + UNC (Murphy 1973), the per-bin identity summed

Run on its own: ``python derivations/calibration.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Abs, Eq, IndexedBase, Sum, Symbol, exp, symbols

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
)
from llmsym.notation import Named, Notation, factors, gibbs_gap, held, softmax, terms

# --- Symbols -------------------------------------------------------------------------------------
n_pred = Named("n_pred", r"n_{\mathrm{pred}}", integer=True, positive=True)  # predictions
n = Symbol("n", integer=True, positive=True)  # logits (classes) of the softmax
M = Named("n_bins", "M", integer=True, positive=True)  # bins
m = Symbol("m", integer=True, positive=True)  # a bin
t = Symbol("t", integer=True, positive=True)  # a prediction within its bin
n_bin = IndexedBase(Named("n_bin", r"n_{\mathrm{bin}}", integer=True, positive=True),
                    integer=True, positive=True)  # predictions in bin m, printed |B_m| (below)
o = IndexedBase("o", real=True)  # o_{m,t}: 1 if the event happened (the prediction was right)
p_hat = IndexedBase(Named("p_hat", r"\hat{p}", positive=True), positive=True)  # confidences
f = IndexedBase("f", real=True)  # f_m: the forecast shared by bin m
o_bar = Named("o_bar", r"\bar{o}", real=True)  # the overall frequency of the event
rel = Named("reliability", r"\mathrm{REL}", real=True)
res = Named("resolution", r"\mathrm{RES}", real=True)
unc = Named("uncertainty", r"\mathrm{UNC}", real=True)
brier = Named("brier", r"\mathrm{BS}", real=True)

i, j, k = symbols("i j k", integer=True, positive=True)
z = IndexedBase("z", real=True)  # logits
T = Symbol("T", positive=True)  # temperature
gap = Named("gap", r"\Delta_{ij}", positive=True)  # how far z_i exceeds z_j


# --- Notation ------------------------------------------------------------------------------------
class size(Notation):  # noqa: N801
    """|B_m|: the number of predictions in bin m (empty bins are left out)."""

    nargs = 1
    delimited = True

    @classmethod
    def definition(cls, bin_):
        return n_bin[bin_]

    def _eval_is_integer(self):
        return True

    def _eval_is_positive(self):
        return True

    def _latex(self, printer):
        return r"\lvert B_{%s} \rvert" % printer._print(self.args[0])


class acc(Notation):  # noqa: N801
    """acc(B_m): the fraction of the predictions in bin m that were right."""

    nargs = 1

    @classmethod
    def definition(cls, bin_):
        return Sum(o[bin_, t], (t, 1, size(bin_))) / size(bin_)

    def _latex(self, printer):
        return r"\operatorname{acc}(B_{%s})" % printer._print(self.args[0])


class conf(Notation):  # noqa: N801
    """conf(B_m): the mean confidence of the predictions in bin m."""

    nargs = 1

    @classmethod
    def definition(cls, bin_):
        return Sum(p_hat[bin_, t], (t, 1, size(bin_))) / size(bin_)

    def _latex(self, printer):
        return r"\operatorname{conf}(B_{%s})" % printer._print(self.args[0])


class ece(Notation):  # noqa: N801
    """The expected calibration error over the M bins."""

    nargs = 0

    @classmethod
    def definition(cls):
        return Sum(factors(size(m) / n_pred, Abs(acc(m) - conf(m))), (m, 1, M))

    def _latex(self, printer):
        return r"\mathrm{ECE}"


class freq(Notation):  # noqa: N801
    """ō_m: the observed frequency of the event in bin m."""

    nargs = 1

    @classmethod
    def definition(cls, bin_):
        return Sum(o[bin_, t], (t, 1, size(bin_))) / size(bin_)

    def _latex(self, printer):
        return r"\bar{o}_{%s}" % printer._print(self.args[0])


class sq_err(Notation):  # noqa: N801
    """The squared errors of the |B_m| forecasts of bin m, summed (a notation, so that a sum over
    the bins keeps it whole: SymPy would merge Σ_m Σ_t into one double sum)."""

    nargs = 1

    @classmethod
    def definition(cls, bin_):
        return Sum((f[bin_] - o[bin_, t]) ** 2, (t, 1, size(bin_)))

    def _latex(self, printer):
        return printer._print(self.definition(self.args[0]))


# --- Premises ------------------------------------------------------------------------------------
zero_one = Hypothesis(Eq(o[m, t] ** 2, o[m, t]),
                      "every outcome is 0 or 1, so $o_{m,t}^2 = o_{m,t}$")
lead = Hypothesis(Eq(z[i] - z[j], gap), "$z_i$ exceeds $z_j$ by $\\Delta_{ij} > 0$")

# --- Definitions ---------------------------------------------------------------------------------
DEFINITIONS = (
    Definition("ECE", ece(), ece.definition(), on_sheet=False,
               title="Expected calibration error (Naeini et al. 2015; Guo et al. 2017)",
               note="The $n_{\\mathrm{pred}}$ predictions are sorted by confidence into $M$"
                    " equal-width bins $B_m$ of $(0, 1]$; bin $m$ holds $\\lvert B_m \\rvert$ of"
                    " them; empty bins are left out."),
    Definition("accuracy of a bin", acc(m), acc.definition(m)),
    Definition("confidence of a bin", conf(m), conf.definition(m)),
    Definition("frequency of a bin", freq(m), freq.definition(m)),
    Definition("predictions", n_pred, Sum(size(m), (m, 1, M)),
               note="Every prediction falls in exactly one bin."),
    Definition("base rate", o_bar, Sum(factors(size(m), freq(m)), (m, 1, M)) / n_pred),
    Definition("Brier score", brier, Sum(sq_err(m), (m, 1, M)) / n_pred,
               note="The mean squared error of the forecasts (Brier 1950), listed bin by bin:"
                    " the $\\lvert B_m \\rvert$ forecasts of bin $m$ all equal $f_m$."),
    Definition("reliability", rel,
               Sum(factors(size(m), (f[m] - freq(m)) ** 2), (m, 1, M)) / n_pred),
    Definition("resolution", res,
               Sum(factors(size(m), (freq(m) - o_bar) ** 2), (m, 1, M)) / n_pred),
    Definition("uncertainty", unc, o_bar * (1 - o_bar)),
)
(D_ECE, D_ACC, D_CONF, D_FREQ, D_N, D_OBAR, D_BS, D_REL, D_RES, D_UNC) = DEFINITIONS

# --- Claims: ECE ---------------------------------------------------------------------------------
ece_counts = Claim(
    "ece_counts",
    "ECE from the counts of each bin",
    start=ece(),
    steps=(
        Step(Sum(factors(size(m) / n_pred, Abs(acc(m) - conf(m))), (m, 1, M)),
             "definition of ECE", "unfold"),
        Step(Sum(Abs(Sum(o[m, t] - p_hat[m, t], (t, 1, size(m)))), (m, 1, M)) / n_pred,
             "$\\lvert B_m \\rvert > 0$ cancels", "unfold+together+sum"),
    ),
    note="Computed this way no bin size divides anything. A perfectly calibrated model"
         " (accuracy equal to confidence in every bin) has ECE = 0; binning can hide"
         " miscalibration inside a bin, so ECE depends on $M$.",
    on_sheet=False,
)

# --- Claims: temperature scaling -----------------------------------------------------------------
P_I, P_J = softmax(z[k] / T, k, n, i), softmax(z[k] / T, k, n, j)
with held():  # keep the quotient of exponentials as written
    QUOTIENT = exp(z[i] / T) / exp(z[j] / T)

ratio = Claim(
    "ratio",
    "Two probabilities of a temperature-scaled softmax",
    start=P_I / P_J,
    steps=(
        Step(QUOTIENT, "definition of softmax: the denominators cancel",
             "unfold+cancel"),
        Step(exp((z[i] - z[j]) / T), "$e^a / e^b = e^{a - b}$", "powsimp+expand"),
    ),
    note="Depends on the logits only through $z_i - z_j$: equal logits keep equal"
         " probabilities at every temperature.",
    on_sheet=False,
)

order = Claim(
    "order",
    "Temperature scaling keeps the argmax, so the accuracy",
    given=(lead,),
    start=P_I / P_J,
    steps=(
        Step(exp((z[i] - z[j]) / T), "the ratio of two probabilities", "expand",
             using=(ratio,)),
        Step(exp(gap / T), "$z_i - z_j = \\Delta_{ij}$", "expand", using=(lead,)),
        Step(terms(1, gap / T), "$e^x \\ge 1 + x$: the difference is $g(e^x)$,"
             " $x = \\Delta_{ij}/T$", rel=">=", certificate=gibbs_gap(exp(gap / T))),
    ),
    note="The right side exceeds 1 for every $T > 0$: the larger logit keeps the larger"
         " probability, so the argmax, and the accuracy, do not change. Only the confidences"
         " move; $T$ is fitted by the NLL on held-out data (Guo et al. 2017).",
)

# --- Claims: the Brier score ---------------------------------------------------------------------
BIN = sq_err(m)
BIN_PARTS = terms(factors(size(m), (f[m] - freq(m)) ** 2),
                  -factors(size(m), (freq(m) - o_bar) ** 2),
                  factors(size(m), o_bar, 1 - o_bar),
                  factors(1 - 2 * o_bar, size(m), freq(m) - o_bar))

bin_brier = Claim(
    "bin",
    "One bin of the Brier score",
    given=(zero_one,),
    start=BIN,
    steps=(
        Step(terms(factors(size(m), f[m] ** 2), -2 * f[m] * Sum(o[m, t], (t, 1, size(m))),
                   Sum(o[m, t] ** 2, (t, 1, size(m)))), "expand the square", "unfold+sum"),
        Step(terms(factors(size(m), f[m] ** 2), -factors(2, size(m), f[m], freq(m)),
                   factors(size(m), freq(m))),
             "$o_{m,t}^2 = o_{m,t}$; $\\sum_t o_{m,t} = \\lvert B_m \\rvert \\bar{o}_m$",
             "unfold+sum", using=(zero_one,)),
        Step(terms(factors(size(m), (f[m] - freq(m)) ** 2),
                   factors(size(m), freq(m), 1 - freq(m))),
             "complete the square", "unfold+sum"),
        Step(BIN_PARTS, "$\\bar{o}_m(1 - \\bar{o}_m) = \\bar{o}(1 - \\bar{o}) - (\\bar{o}_m -"
             " \\bar{o})^2 + (1 - 2\\bar{o})(\\bar{o}_m - \\bar{o})$, for any number"
             " $\\bar{o}$", "unfold+sum"),
    ),
    on_sheet=False,
)

murphy = Claim(
    "murphy",
    "Murphy's decomposition of the Brier score",
    start=brier,
    steps=(
        Step(Sum(BIN, (m, 1, M)) / n_pred, "definition of the Brier score", "definition"),
        Step(Sum(BIN_PARTS, (m, 1, M)) / n_pred, "bin by bin", "expand", using=(bin_brier,)),
        Step(terms(rel, -res, unc), "definitions of REL, RES, UNC and $\\bar{o}$:"
             " $\\sum_m \\lvert B_m \\rvert = n_{\\mathrm{pred}}$, and the last terms sum to"
             " $(1 - 2\\bar{o})(\\sum_m \\lvert B_m \\rvert \\bar{o}_m -"
             " n_{\\mathrm{pred}}\\bar{o}) = 0$", "definition+cancel"),
    ),
    where=(D_BS, D_REL, D_RES, D_UNC, D_OBAR),
    note="Reliability (small is good) is the squared gap between forecast and observed"
         " frequency; resolution (large is good) how far the bins' frequencies spread from the"
         " base rate $\\bar{o}$; uncertainty depends on the events alone. Bins of unequal"
         " forecasts add two within-bin terms (Stephenson et al. 2008).",
    on_sheet=False,
)

CLAIMS = (ece_counts, ratio, order, bin_brier, murphy)

# --- Numeric checks ------------------------------------------------------------------------------


def _binned(confidence: np.ndarray, correct: np.ndarray, n_bins: int):
    """Bin counts and the padded (bin, slot) arrays of outcomes and confidences, by a plain loop
    over the bins (lo, hi] (independent of llmsym.numeric's searchsorted)."""
    rows_o, rows_p = [], []
    for b in range(n_bins):
        inside = (confidence > b / n_bins) & (confidence <= (b + 1) / n_bins)
        if inside.any():
            rows_o.append(correct[inside])
            rows_p.append(confidence[inside])
    counts = np.array([r.size for r in rows_o])
    width = int(counts.max())
    pad_o, pad_p = np.zeros((counts.size, width)), np.zeros((counts.size, width))
    for r, (ro, rp) in enumerate(zip(rows_o, rows_p, strict=True)):
        pad_o[r, : ro.size], pad_p[r, : rp.size] = ro, rp
    return counts, pad_o, pad_p


def _predictions(rng: np.random.Generator, size: int):
    """Confidences in (0, 1] and outcomes of an overconfident model (accuracy below confidence
    by a random amount)."""
    confidence = rng.uniform(0.05, 1.0, size=size)
    shortfall = rng.uniform(0.0, 0.3)
    correct = (rng.random(size) < np.clip(confidence - shortfall, 0, 1)).astype(float)
    return confidence, correct


def check_ece_definition(rng: np.random.Generator, formula) -> Measurement:
    """Σ_m (|B_m|/n_pred)|acc - conf| (the definition, bin means) against
    llmsym.numeric.expected_calibration_error (which sums without dividing)."""
    from llmsym.numeric import expected_calibration_error

    worst, cases = 0.0, 8
    for _ in range(cases):
        size, n_bins = int(rng.integers(5, 60)), int(rng.integers(2, 16))
        confidence, correct = _predictions(rng, size)
        counts, pad_o, pad_p = _binned(confidence, correct, n_bins)
        got = float(formula(n_pred=size, n_bins=counts.size, n_bin=counts, o=pad_o, p_hat=pad_p))
        worst = max(worst, abs(got - expected_calibration_error(confidence, correct, n_bins)))
    return Measurement(worst, cases, 1e-12, "ECE from the definition (bin means) vs"
                       " llmsym.numeric.expected_calibration_error")


def check_ece_counts(rng: np.random.Generator, formula) -> Measurement:
    """(1/n_pred) Σ_m |Σ_t (o - p̂)| against Guo et al.'s form written in NumPy: bin means by
    np.mean, weighted by the bin's share."""
    worst, cases = 0.0, 8
    for _ in range(cases):
        size, n_bins = int(rng.integers(5, 60)), int(rng.integers(2, 16))
        confidence, correct = _predictions(rng, size)
        counts, pad_o, pad_p = _binned(confidence, correct, n_bins)
        direct = 0.0
        for b in range(n_bins):
            inside = (confidence > b / n_bins) & (confidence <= (b + 1) / n_bins)
            if inside.any():
                gap_ = abs(np.mean(correct[inside]) - np.mean(confidence[inside]))
                direct += inside.sum() / size * gap_
        got = float(formula(n_pred=size, n_bins=counts.size, n_bin=counts, o=pad_o, p_hat=pad_p))
        worst = max(worst, abs(got - direct))
    return Measurement(worst, cases, 1e-12, "ECE from the counts vs bin means weighted by"
                       " |B_m|/n_pred in NumPy")


def check_ratio(rng: np.random.Generator, formula) -> Measurement:
    """e^{(z_i - z_j)/T} against the ratio of two entries of llmsym.numeric.softmax(z, T)."""
    from llmsym.numeric import softmax as np_softmax

    worst, cases = 0.0, 40
    for _ in range(cases):
        logits = rng.normal(size=int(rng.integers(2, 20))) * 3
        temp = float(10.0 ** rng.uniform(-0.5, 1))
        probs = np_softmax(logits, temperature=temp)
        a, b = (int(v) for v in rng.choice(logits.size, size=2, replace=False))
        got = float(formula(z=logits, T=temp, i=a + 1, j=b + 1))
        worst = max(worst, abs(got / (probs[a] / probs[b]) - 1))
    return Measurement(worst, cases, 1e-12, "e^{(z_i - z_j)/T} vs the ratio of two"
                       " temperature-scaled softmax probabilities (relative)")


def check_order(rng: np.random.Generator, formula) -> Measurement:
    """1 + Δ/T against the ratio of two softmax probabilities (mpmath): never above it, and
    within (Δ/T)² e^{Δ/T}/2 of it (e^x - 1 - x <= x² e^x/2)."""
    import mpmath

    worst, cases = 0.0, 30
    for _ in range(cases):
        logits = rng.normal(size=int(rng.integers(2, 12)))
        temp = float(10.0 ** rng.uniform(-0.5, 1))
        a, b = (int(v) for v in rng.choice(logits.size, size=2, replace=False))
        lead_ = float(10.0 ** rng.uniform(-3, 0))
        logits[a] = logits[b] + lead_
        with mpmath.workdps(40):
            e = [mpmath.exp(mpmath.mpf(float(v)) / temp) for v in logits]
            exact = float(e[a] / e[b])
        x = lead_ / temp
        bound = float(formula(gap=lead_, T=temp))
        worst = max(worst, (bound - exact) / exact, (exact - bound) / (x * x * np.exp(x) / 2) - 1)
    return Measurement(max(worst, 0.0), cases, 1e-9, "1 + Δ/T vs the exact ratio (40 digits):"
                       " below it, by at most (Δ/T)² e^{Δ/T}/2")


def check_accuracy_kept(rng: np.random.Generator) -> Measurement:
    """Experiment: fit T by NLL on overconfident synthetic logits; the accuracy stays the same
    (argmax unchanged at every T tried) while the ECE falls."""
    from llmsym.numeric import expected_calibration_error
    from llmsym.numeric import softmax as np_softmax

    size, classes = 2000, 10
    labels = rng.integers(0, classes, size=size)
    logits = rng.normal(size=(size, classes))
    logits[np.arange(size), labels] += 1.5
    # The Bayes posterior here is softmax(1.5 x): logits 3x are overconfident, T = 2 calibrates.
    logits *= 3.0
    changed, best = 0, (np.inf, 1.0)
    for temp in np.geomspace(0.5, 8, 25):
        probs = np_softmax(logits, temperature=float(temp))
        changed += int(np.sum(np.argmax(probs, axis=1) != np.argmax(logits, axis=1)))
        nll = -float(np.mean(np.log(probs[np.arange(size), labels])))
        best = min(best, (nll, float(temp)))
    correct = np.argmax(logits, axis=1) == labels

    def ece_at(temp: float) -> float:
        probs = np_softmax(logits, temperature=temp)
        return expected_calibration_error(np.max(probs, axis=1), correct, 15)

    before, after = ece_at(1.0), ece_at(best[1])
    return Measurement(float(changed) + float(after >= before), 25 * size, 0.0,
                       f"argmax changed for {changed} of {25 * size} (prediction, T) pairs;"
                       f" ECE {before:.3f} at T = 1, {after:.3f} at the NLL-fitted"
                       f" T = {best[1]:.2f}")


def check_bin_brier(rng: np.random.Generator, formula) -> Measurement:
    """The four per-bin terms against Σ_t (f - o_t)² computed directly, for any ō."""
    worst, cases = 0.0, 30
    for _ in range(cases):
        size = int(rng.integers(1, 30))
        outcomes = (rng.random(size) < rng.uniform(0, 1)).astype(float)
        forecast, base = float(rng.uniform(0, 1)), float(rng.uniform(0, 1))
        got = float(formula(f=[forecast], n_bin=[size], o=outcomes[None, :], o_bar=base, m=1))
        direct = float(np.sum((forecast - outcomes) ** 2))
        worst = max(worst, abs(got - direct) / max(direct, 1.0))
    return Measurement(worst, cases, 1e-12, "per-bin decomposition vs the bin's squared errors"
                       " summed in NumPy")


def check_murphy(rng: np.random.Generator, formula) -> Measurement:
    """REL - RES + UNC from llmsym.numeric.brier_decomposition (each distinct forecast its own
    bin) against the mean squared error of the forecasts computed directly in NumPy."""
    from llmsym.numeric import brier_decomposition

    worst, cases = 0.0, 20
    for _ in range(cases):
        size = int(rng.integers(2, 200))
        levels = rng.uniform(0, 1, size=int(rng.integers(1, 8)))
        forecast = rng.choice(levels, size=size)
        outcome = (rng.random(size) < np.clip(forecast + rng.normal(0, 0.2), 0, 1)).astype(float)
        d = brier_decomposition(forecast, outcome)
        got = float(formula(reliability=d.reliability, resolution=d.resolution,
                            uncertainty=d.uncertainty))
        worst = max(worst, abs(got - float(np.mean((forecast - outcome) ** 2))))
    return Measurement(worst, cases, 1e-12, "REL - RES + UNC vs the mean squared error of the"
                       " forecasts in NumPy")


# --- Worked examples -----------------------------------------------------------------------------


def example_temperature() -> tuple[str, str]:
    from llmsym.numeric import softmax as np_softmax

    cold, warm = np_softmax(np.array([2.0, 1.0, 0.5])), np_softmax(np.array([2.0, 1.0, 0.5]),
                                                                  temperature=2.0)
    return ("temperature scaling of the logits (2, 1, 0.5): the top class stays first",
            r"T = 1: (%s);\quad T = 2: (%s)" % (", ".join(f"{v:.3f}" for v in cold),
                                                ", ".join(f"{v:.3f}" for v in warm)))


def example_ece() -> tuple[str, str]:
    from llmsym.numeric import equal_width_bin, expected_calibration_error

    confidence = np.array([0.9, 0.9, 0.9, 0.9, 0.6, 0.6])
    correct = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    bins = equal_width_bin(confidence, 10)
    parts = []
    for b in np.unique(bins):
        inside = bins == b
        parts.append(r"\tfrac{%d}{%d}|%.2f - %.2f|" % (
            inside.sum(), confidence.size, correct[inside].mean(), confidence[inside].mean()))
    value = expected_calibration_error(confidence, correct, 10)
    return ("ten bins; four predictions at confidence 0.9 (three right), two at 0.6 (one right)",
            r"\mathrm{ECE} = %s = %.3f" % (" + ".join(reversed(parts)), value))


# --- The derivation ------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="calibration",
    title="Calibration: expected calibration error, temperature scaling, the Brier decomposition",
    topic="Error bars for evaluations",
    order=85,
    gloss="A model is calibrated when its confidence matches its accuracy; ECE measures the gap"
          " bin by bin. Dividing the logits by a temperature $T > 0$ moves the confidences but"
          " never the argmax, so it recalibrates without changing accuracy. The Brier score"
          " splits into reliability, resolution and uncertainty.",
    assumptions=(
        "Each of $n_{\\mathrm{pred}}$ predictions comes with a confidence"
        " $\\hat{p} \\in (0, 1]$ (the probability of the predicted class) and an outcome"
        " $o \\in \\{0, 1\\}$ (1 when the prediction was right, or when the forecast event"
        " happened).",
    ),
    definitions=DEFINITIONS,
    claims=CLAIMS,
    checks=(
        NumericCheck("ece-definition", check_ece_definition, "The definition with bin means"
                     " against llmsym.numeric.expected_calibration_error.", claim="ece_counts",
                     side="start"),
        NumericCheck("ece-counts", check_ece_counts, "The count form against bin means in"
                     " NumPy.", claim="ece_counts"),
        NumericCheck("ratio", check_ratio, "The ratio of two temperature-scaled softmax"
                     " probabilities.", claim="ratio"),
        NumericCheck("order", check_order, "$1 + \\Delta_{ij}/T$ against the exact ratio.",
                     claim="order"),
        NumericCheck("accuracy-kept", check_accuracy_kept, "Experiment: fitting $T$ by NLL"
                     " keeps every argmax and lowers the ECE."),
        NumericCheck("bin-brier", check_bin_brier, "One bin's squared errors in NumPy.",
                     claim="bin"),
        NumericCheck("murphy", check_murphy, "The Brier score of random forecasts in NumPy.",
                     claim="murphy"),
    ),
    notation={
        M: "number of (non-empty) confidence bins",
        n_pred: "number of predictions (or forecasts) evaluated",
        n_bin: "number of predictions in bin $m$ (printed $\\lvert B_m \\rvert$)",
        o: "outcome of the $t$-th prediction of bin $m$: 1 if right (the event happened), else 0",
        p_hat: "confidence of the $t$-th prediction of bin $m$",
        f: "the forecast probability shared by the predictions of bin $m$",
        o_bar: "the overall frequency of the event (the base rate)",
        gap: "how far the logit $z_i$ exceeds $z_j$",
        rel: "reliability: squared gap between forecast and observed frequency",
        res: "resolution: spread of the bins' frequencies around the base rate",
        unc: "uncertainty of the event, $\\bar{o}(1 - \\bar{o})$",
        brier: "the Brier score: mean squared error of probability forecasts",
    },
    sources=(
        "Naeini, Cooper and Hauskrecht, Obtaining Well Calibrated Probabilities Using Bayesian"
        " Binning, AAAI 2015: the expected calibration error.",
        "Guo, Pleiss, Sun and Weinberger, On Calibration of Modern Neural Networks,"
        " arXiv:1706.04599 (2017), section 2 (ECE, eq. 3) and section 4.2 (temperature"
        " scaling leaves the argmax and the accuracy unchanged).",
        "Brier, Verification of forecasts expressed in terms of probability, Monthly Weather"
        " Review 78(1):1 (1950): the score.",
        "Murphy, A new vector partition of the probability score, Journal of Applied"
        " Meteorology 12:595 (1973): reliability, resolution and uncertainty.",
        "Stephenson, Coelho and Jolliffe, Two extra components in the Brier score"
        " decomposition, Weather and Forecasting 23:752 (2008): bins of unequal forecasts.",
    ),
    examples=(example_temperature, example_ece),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
