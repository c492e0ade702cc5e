"""The Fourier view of positions: a bank of frequencies on a geometric ladder.

Main results (frequencies i = 0 .. d/2 - 1, as in derivation sinusoidal-positions)
    phasor        PE(pos')_{2i+1} + i PE(pos')_{2i} = e^{i (pos' - pos) w_i} (PE(pos)_{2i+1} +
                  i PE(pos)_{2i}): read as complex numbers, the d/2 pairs are phasors e^{i pos
                  w_i}, and a shift multiplies every one by its own unit phase at once
    ladder        w_{i+1} / w_i = 10000^{-2/d}: each frequency is the previous one times a
                  constant (a geometric progression, Vaswani et al. 2017 section 3.5)
    wavelengths   lambda_i = 2 pi / w_i = 2 pi 10000^{2i/d}, from lambda_0 = 2 pi to
                  lambda_{d/2-1} = 2 pi 10000^{1 - 2/d}, just under 2 pi 10000

Run on its own: ``python derivations/fourier_positions.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import I, Matrix, Symbol, exp, floor, pi, sin

from llmsym.derivation import Claim, Definition, Derivation, Measurement, NumericCheck, Step
from llmsym.notation import Named, Notation, factors

# --- Symbols (as in derivation sinusoidal-positions) -----------------------------------------
pos = Named("pos", r"\mathrm{pos}", real=True)  # a position
pos2 = Named("pos2", r"\mathrm{pos}'", real=True)  # a second position
d = Symbol("d", integer=True, positive=True)  # the encoding width (model width), even
i = Symbol("i", integer=True, nonnegative=True)  # frequency index, 0 .. d/2 - 1

BASE = 10000  # Vaswani et al. 2017, section 3.5


# --- Notation --------------------------------------------------------------------------------
def _wrap(printer, e) -> str:
    text = printer._print(e)
    return rf"\left({text}\right)" if e.is_Add else text


class omega(Notation):  # noqa: N801
    """``omega(i)`` = w_i = 10000^{-2i/d} (derivation sinusoidal-positions)."""

    nargs = 1

    @classmethod
    def definition(cls, idx):
        return BASE ** (-2 * idx / d)

    def _latex(self, printer):
        return rf"\omega_{{{printer._print(self.args[0])}}}"


class wavelength(Notation):  # noqa: N801
    """``wavelength(i)`` = lambda_i = 2 pi / w_i, the positions per full turn of pair i."""

    nargs = 1

    @classmethod
    def definition(cls, idx):
        return 2 * pi / omega(idx)

    def _latex(self, printer):
        return rf"\lambda_{{{printer._print(self.args[0])}}}"


class pe(Notation):  # noqa: N801
    """``pe(pos, r)`` = PE(pos)_r (derivation sinusoidal-positions)."""

    nargs = 2

    @classmethod
    def definition(cls, position, coord):
        return sin(position * omega(floor(coord / 2)) + pi / 2 * (coord - 2 * floor(coord / 2)))

    def _latex(self, printer):
        position, coord = (printer._print(e) for e in self.args)
        return rf"PE\left({position}\right)_{{{coord}}}"


class phasor(Notation):  # noqa: N801
    """``phasor(pos, i)`` = PE(pos)_{2i+1} + i PE(pos)_{2i}: pair i read as a complex number."""

    nargs = 2

    @classmethod
    def definition(cls, position, idx):
        return pe(position, 2 * idx + 1) + I * pe(position, 2 * idx)

    def _latex(self, printer):
        position, idx = self.args
        odd, even = pe(position, 2 * idx + 1), pe(position, 2 * idx)
        return (rf"\left({printer._print(odd)} + \mathrm{{i}}\,{printer._print(even)}\right)")


class times(Notation):  # noqa: N801
    """``times(a, b)`` = a b, printed ``a \\cdot b`` (``2 \\pi \\cdot 10000^{2i/d}``)."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return a * b

    def _latex(self, printer):
        return rf"{printer._print(self.args[0])} \cdot {printer._print(self.args[1])}"


class cis(Notation):  # noqa: N801
    """``cis(x)`` = e^{i x}, printed with an upright i (the pair index is an italic i)."""

    nargs = 1

    @classmethod
    def definition(cls, arg):
        return exp(I * arg)

    def _latex(self, printer):
        return rf"e^{{\mathrm{{i}}\,{_wrap(printer, self.args[0])}}}"


# --- Definitions and claims ------------------------------------------------------------------
LAMBDA = Definition("wavelengths", wavelength(i), 2 * pi / omega(i),
                    note="Positions per full turn of pair $i$.")

offset = pos2 - pos
phasor_shift = Claim(
    "phasor",
    "A bank of phasors: a shift multiplies every frequency by its own phase",
    start=phasor(pos2, i),
    steps=(
        Step(cis(pos2 * omega(i)), "$\\cos x + \\mathrm{i}\\sin x = e^{\\mathrm{i}x}$ (Euler), "
             "with $x = \\mathrm{pos}'\\omega_i$", "unfold+rewrite_exp"),
        Step(factors(cis(offset * omega(i)), cis(pos * omega(i))),
             "$e^{a + b} = e^a e^b$ with $a + b = \\mathrm{pos}'\\omega_i$", "unfold+powsimp"),
        Step(factors(cis(offset * omega(i)), phasor(pos, i)), "Euler again, at $\\mathrm{pos}$",
             "unfold+rewrite_exp+powsimp"),
    ),
    note="Pair $i$ of $PE(\\mathrm{pos})$, read as $e^{\\mathrm{i}\\,\\mathrm{pos}\\,\\omega_i}$, "
         "samples a tone of frequency $\\omega_i$ at $\\mathrm{pos}$: the encoding is a bank of "
         "$d/2$ such tones (Fourier features). Moving from $\\mathrm{pos}$ to $\\mathrm{pos}'$ "
         "multiplies every tone by its own unit phase $e^{\\mathrm{i}(\\mathrm{pos}' - "
         "\\mathrm{pos})\\omega_i}$, a rotation of each pair: the shift theorem of Fourier "
         "analysis, and the complex form of the block rotation of derivation "
         "sinusoidal-positions.", on_sheet=False,
)

ladder = Claim(
    "ladder",
    "The frequencies form a geometric ladder",
    start=omega(i + 1) / omega(i),
    steps=(Step(BASE ** (-2 / d), "$10000^{-2(i+1)/d} / 10000^{-2i/d} = 10000^{-2/d}$",
                "unfold+powsimp"),),
    note="The ratio does not depend on $i$: the $d/2$ frequencies are evenly spaced on a "
         "logarithmic axis, from $\\omega_0 = 1$ down to $\\omega_{d/2-1} = 10000^{-1 + 2/d}$, so "
         "every scale of offset, from one position to thousands, has a pair that resolves it.",
    on_sheet=False,
)

wavelengths = Claim(
    "wavelengths",
    "Wavelengths from $2\\pi$ to just under $2\\pi \\cdot 10000$",
    start=wavelength(i),
    steps=(Step(times(factors(2, pi), BASE ** (2 * i / d)), "$1/10000^{-2i/d} = 10000^{2i/d}$",
                "unfold+powsimp"),),
    where=(LAMBDA,),
    note="$\\lambda_0 = 2\\pi$ (claim ends) and each wavelength is the previous one times "
         "$10000^{2/d}$; the last, $\\lambda_{d/2-1} = 2\\pi \\cdot 10000^{1 - 2/d}$, is below "
         "$2\\pi \\cdot 10000$ by the factor $10000^{-2/d}$ (0.965 at $d = 512$).", on_sheet=False,
)

ends = Claim(
    "ends",
    "The first and the last wavelength",
    start=Matrix([wavelength(0), wavelength(d / 2 - 1)]),
    steps=(Step(Matrix([factors(2, pi), times(factors(2, pi), BASE ** (1 - 2 / d))]),
                "$\\lambda_i = 2\\pi \\cdot 10000^{2i/d}$ at $i = 0$ and $i = d/2 - 1$",
                "unfold+powsimp"),),
    on_sheet=False,
)


# --- Numeric checks --------------------------------------------------------------------------
def _measured_frequency(signal: np.ndarray) -> float:
    """The angular frequency of a complex tone, from the peak of its spectrum.

    Zero-padded FFT, then a parabola through the peak and its neighbours (in log
    magnitude): an estimate from the samples alone, not from any formula for w_i.
    """
    size = 8 * signal.size
    spectrum = np.abs(np.fft.fft(signal * np.hanning(signal.size), size))
    k = int(np.argmax(spectrum))
    left, mid, right = np.log(spectrum[[(k - 1) % size, k, (k + 1) % size]])
    offset = 0.5 * (left - right) / (left - 2 * mid + right)
    return 2 * np.pi * (k + offset) / size


def check_wavelengths(rng: np.random.Generator, formula) -> Measurement:
    """2 pi 10000^{2i/d} from the claim against the wavelength read off the spectrum of PE."""
    from llmsym.numeric.positions import sinusoidal_encoding

    worst, cases, samples = 0.0, 0, 4096
    enc = {}
    for _ in range(40):
        width = 2 * int(rng.integers(1, 33))
        idx = int(rng.integers(0, width // 2))
        got = float(formula(i=idx, d=width))
        if got > samples / 8:  # too few turns in the window to read a wavelength
            continue
        if width not in enc:
            enc[width] = sinusoidal_encoding(np.arange(samples), width)
        tone = enc[width][:, 2 * idx + 1] + 1j * enc[width][:, 2 * idx]
        seen = 2 * np.pi / _measured_frequency(tone)
        worst, cases = max(worst, abs(got - seen) / seen), cases + 1
    return Measurement(worst, cases, 1e-3,
                       "wavelengths up to 512 positions from the claim vs the peak of the "
                       "spectrum of 4096 positions of the NumPy encoding; relative error")


def check_ladder(rng: np.random.Generator, formula) -> Measurement:
    """10000^{-2/d} from the claim against consecutive NumPy frequencies."""
    from llmsym.numeric.positions import sinusoid_frequencies

    worst, cases = 0.0, 30
    for _ in range(cases):
        width = 2 * int(rng.integers(2, 513))
        ratios = np.diff(np.log(sinusoid_frequencies(width)))
        got = float(formula(d=width))
        worst = max(worst, float(np.max(np.abs(np.log(got) - ratios))))
    return Measurement(worst, cases, 1e-12,
                       "log of the claimed ratio vs every log-ratio of consecutive "
                       "sinusoid_frequencies, d up to 1026")


def check_phasor(rng: np.random.Generator, formula) -> Measurement:
    """e^{i(pos' - pos) w_i} times pair i at pos, from the claim, against the pair at pos'."""
    from llmsym.numeric.positions import sinusoidal_encoding

    worst, cases = 0.0, 60
    for _ in range(cases):
        width = 2 * int(rng.integers(1, 65))
        at, by = float(rng.uniform(0, 10_000)), float(rng.uniform(-1000, 1000))
        idx = int(rng.integers(0, width // 2))
        got = complex(formula(pos=at, pos2=at + by, i=idx, d=width))
        enc = sinusoidal_encoding([at + by], width)[0]
        worst = max(worst, abs(got - complex(enc[2 * idx + 1], enc[2 * idx])))
    return Measurement(worst, cases, 1e-9,
                       "positions up to 1e4, offsets up to +-1e3, d up to 128, against "
                       "PE(pos')_{2i+1} + i PE(pos')_{2i} in NumPy; absolute error")


def check_shift_matrix(rng: np.random.Generator) -> Measurement:
    """Experiment: position_shift_matrix(k) is orthogonal and moves each PE(pos) to PE(pos + k)."""
    from llmsym.numeric.position_shift import position_shift_matrix
    from llmsym.numeric.positions import sinusoidal_encoding

    worst, cases = 0.0, 10
    for _ in range(cases):
        width, by = 2 * int(rng.integers(1, 65)), float(rng.uniform(-1000, 1000))
        starts = rng.uniform(0, 10_000, size=8)
        shift = position_shift_matrix(by, width)
        moved = sinusoidal_encoding(starts, width) @ shift.T
        worst = max(worst, float(np.max(np.abs(moved - sinusoidal_encoding(starts + by, width)))),
                    float(np.max(np.abs(shift.T @ shift - np.eye(width)))))
    return Measurement(worst, cases, 1e-9,
                       "one matrix for 8 positions at once, d up to 128; and R^T R = I")


def example_ladder() -> tuple[str, str]:
    from llmsym.numeric.positions import sinusoid_frequencies

    freqs = sinusoid_frequencies(512)
    ratio, last = freqs[1] / freqs[0], 2 * np.pi / freqs[-1]
    return ("the ladder for $d = 512$: the common ratio and the first and last wavelengths",
            rf"\omega_{{i+1}}/\omega_i = {ratio:.4f},\ \lambda_0 = {2 * np.pi:.2f},\ "
            rf"\lambda_{{255}} \approx " + f"{last:,.0f}".replace(",", "{,}"))


# --- The derivation --------------------------------------------------------------------------
DERIVATION = Derivation(
    id="fourier-positions",
    title="The Fourier view of positions",
    topic="Positions",
    order=46,
    gloss="A sinusoidal encoding is a bank of $d/2$ tones whose frequencies fall geometrically; "
          "moving along the sequence turns every tone by its own angle at once.",
    assumptions=(
        "The encoding, its frequencies and the pairing are those of derivation "
        "sinusoidal-positions: $d$ even, pairs $i = 0, \\dots, d/2 - 1$.",
    ),
    definitions=(LAMBDA,),
    claims=(phasor_shift, ladder, wavelengths, ends),
    checks=(
        NumericCheck("phasor", check_phasor, "The shifted phasor from the claim against the "
                     "NumPy encoding at $\\mathrm{pos}'$.", claim="phasor"),
        NumericCheck("ladder", check_ladder, "The common ratio from the claim against the "
                     "NumPy frequencies.", claim="ladder"),
        NumericCheck("wavelengths", check_wavelengths, "The wavelengths from the claim against "
                     "the peaks of the spectrum of the NumPy encoding.", claim="wavelengths"),
        NumericCheck("shift_matrix", check_shift_matrix, "Experiment: the NumPy block rotation "
                     "moves many encodings at once and is orthogonal."),
    ),
    sources=(
        "Vaswani et al., Attention Is All You Need, NeurIPS 2017, arXiv:1706.03762, section 3.5: "
        "wavelengths in a geometric progression from $2\\pi$ to $10000 \\cdot 2\\pi$.",
        "Tancik et al., Fourier Features Let Networks Learn High Frequency Functions in Low "
        "Dimensional Domains, NeurIPS 2020, arXiv:2006.10739: sinusoidal encodings as Fourier "
        "features.",
    ),
    examples=(example_ladder,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
