"""What each LaTeX command of the supported subset means: tables, no logic.

The subset is what SymPy's ``LatexPrinter`` emits plus what llmsym's notation
classes and hand-written prose use. A command missing from every table here is
rejected by the parser with an error naming it.
"""

from __future__ import annotations

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ",
    "varepsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ",
    "iota": "ι", "kappa": "κ", "varkappa": "ϰ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "omicron": "ο", "pi": "π", "varpi": "ϖ", "rho": "ρ", "varrho": "ϱ",
    "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "digamma": "ϝ",
}

# Upright in TeX: MathML Core would italicise a lone capital Greek letter, so
# these are marked mathvariant="normal".
GREEK_UPPER = {
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}

# Ordinary symbols (printed as identifiers).
ORDINARY = {
    "infty": "∞", "partial": "∂", "nabla": "∇", "ell": "ℓ", "hbar": "ℏ", "imath": "ı",
    "jmath": "ȷ", "aleph": "ℵ", "emptyset": "∅", "varnothing": "∅", "Re": "ℜ", "Im": "ℑ",
    "top": "⊤", "intercal": "⊺", "bot": "⊥", "prime": "′", "forall": "∀", "exists": "∃",
    "neg": "¬", "lnot": "¬", "angle": "∠", "triangle": "△", "dagger": "†", "ddagger": "‡",
    "wp": "℘", "backslash": "\\", "checkmark": "✓", "degree": "°",
}

BINARY = {
    "cdot": "⋅", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "ast": "∗", "star": "⋆",
    "circ": "∘", "bullet": "∙", "odot": "⊙", "oplus": "⊕", "ominus": "⊖", "otimes": "⊗",
    "oslash": "⊘", "cup": "∪", "cap": "∩", "setminus": "∖", "wedge": "∧", "land": "∧",
    "vee": "∨", "lor": "∨", "sqcup": "⊔", "sqcap": "⊓", "uplus": "⊎", "amalg": "⨿",
    "diamond": "⋄", "bmod": "mod", "veebar": "⊻", "barwedge": "⊼",
}

RELATION = {
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "lt": "<", "gt": ">",
    "leqslant": "⩽", "geqslant": "⩾", "ll": "≪", "gg": "≫", "approx": "≈", "sim": "∼",
    "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝", "doteq": "≐", "in": "∈",
    "notin": "∉", "ni": "∋", "subset": "⊂", "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "leftrightarrow": "↔",
    "mapsto": "↦", "Rightarrow": "⇒", "Leftarrow": "⇐", "Leftrightarrow": "⇔",
    "implies": "⟹", "impliedby": "⟸", "iff": "⟺", "longrightarrow": "⟶",
    "longmapsto": "⟼", "uparrow": "↑", "downarrow": "↓", "perp": "⊥", "parallel": "∥",
    "mid": "∣", "nmid": "∤", "succ": "≻", "prec": "≺", "succeq": "⪰", "preceq": "⪯",
    "models": "⊨", "vdash": "⊢", "coloneqq": "≔", "triangleq": "≜", "asymp": "≍",
}

# \not followed by one of these prints the negated relation.
NEGATED = {"=": "≠", "∈": "∉", "⊂": "⊄", "⊆": "⊈", "≡": "≢", "<": "≮", ">": "≯",
           "≤": "≰", "≥": "≱", "∼": "≁", "≈": "≉", "∣": "∤", "∥": "∦"}

PUNCT = {"colon": ":", "ldots": "…", "dots": "…", "dotsc": "…", "dotsb": "⋯",
         "cdots": "⋯", "vdots": "⋮", "ddots": "⋱"}

# Large operators; the value is (character, limits above and below by default).
LARGE = {
    "sum": ("∑", True), "prod": ("∏", True), "coprod": ("∐", True), "bigcup": ("⋃", True),
    "bigcap": ("⋂", True), "bigoplus": ("⨁", True), "bigotimes": ("⨂", True),
    "bigodot": ("⨀", True), "bigvee": ("⋁", True), "bigwedge": ("⋀", True),
    "int": ("∫", False), "iint": ("∬", False), "iiint": ("∭", False), "oint": ("∮", False),
}

# Named functions printed upright: \log x. Those in LIMITS take limits below in display.
FUNCTIONS = {
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "tanh", "coth", "log", "ln", "lg", "exp", "arg", "deg", "dim", "hom", "ker",
}
LIMITS = {"lim", "limsup", "liminf", "max", "min", "sup", "inf", "det", "gcd", "Pr",
          "argmax", "argmin"}
LIMIT_NAMES = {"limsup": "lim sup", "liminf": "lim inf", "argmax": "arg max",
               "argmin": "arg min"}

# Delimiters after \left, \right, \middle, \big... (and their plain forms).
DELIMITERS = {
    "(": "(", ")": ")", "[": "[", "]": "]", "|": "|", "/": "/", ".": "",
    "\\{": "{", "\\}": "}", "\\lbrace": "{", "\\rbrace": "}", "\\lbrack": "[",
    "\\rbrack": "]", "\\|": "‖", "\\vert": "|", "\\Vert": "‖", "\\lvert": "|",
    "\\rvert": "|", "\\lVert": "‖", "\\rVert": "‖", "\\langle": "⟨", "\\rangle": "⟩",
    "\\lfloor": "⌊", "\\rfloor": "⌋", "\\lceil": "⌈", "\\rceil": "⌉", "\\backslash": "\\",
    "\\uparrow": "↑", "\\downarrow": "↓",
}
OPENING = {"(", "[", "{", "⟨", "⌊", "⌈"}
CLOSING = {")", "]", "}", "⟩", "⌋", "⌉"}

# \big and friends: the height of the delimiter (KaTeX's sizes).
BIG_SIZES = {"big": "1.2em", "Big": "1.623em", "bigg": "2.047em", "Bigg": "2.470em"}

# Accents over a base: command -> (mark, stretches over a wide base, combining character
# for a one-letter base in the terminal). The marks are those Chromium draws well with
# Latin Modern Math: spacing modifier letters for the fixed accents, U+0302 and U+20D7
# for the wide ones (the arrow is zero-width, so it is always stretched to be centred),
# and U+0332 for a full-width rule (overline, underline).
ACCENTS = {
    "hat": ("\u02c6", False, "\u0302"), "widehat": ("\u0302", True, "\u0302"),
    "tilde": ("\u02dc", False, "\u0303"), "widetilde": ("\u0303", True, "\u0303"),
    "bar": ("\u02c9", False, "\u0304"), "overline": ("\u0332", True, "\u0305"),
    "dot": ("\u02d9", False, "\u0307"), "ddot": ("\u00a8", False, "\u0308"),
    "vec": ("\u20d7", True, "\u20d7"), "overrightarrow": ("\u20d7", True, "\u20d7"),
    "check": ("\u02c7", False, "\u030c"), "breve": ("\u02d8", False, "\u0306"),
    "acute": ("\u02ca", False, "\u0301"), "grave": ("\u02cb", False, "\u0300"),
    "mathring": ("\u02da", False, "\u030a"),
}
UNDER_ACCENTS = {"underline": ("\u0332", True, "\u0332")}
# What the terminal writes around a base too wide for a combining mark.
ACCENT_NAMES = {"hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde",
                "bar": "bar", "overline": "bar", "dot": "dot", "ddot": "ddot", "vec": "vec",
                "overrightarrow": "vec", "check": "check", "breve": "breve", "acute": "acute",
                "grave": "grave", "mathring": "ring", "underline": "underline"}

# Horizontal space in em (negative thin space is dropped: it only undoes TeX spacing).
SPACES = {",": 0.1667, "thinspace": 0.1667, ":": 0.2222, ">": 0.2222, "medspace": 0.2222,
          ";": 0.2778, "thickspace": 0.2778, " ": 0.25, "quad": 1.0, "qquad": 2.0,
          "enspace": 0.5, "!": 0.0, "negthinspace": 0.0}

# Font commands -> the Unicode alphabet of their letters (see alphabets.py).
FONTS = {
    "mathbf": "bold", "textbf": "bold", "boldsymbol": "bold-italic", "bm": "bold-italic",
    "mathbb": "double-struck", "mathcal": "script", "mathscr": "script",
    "mathfrak": "fraktur", "mathsf": "sans-serif", "mathtt": "monospace",
    "mathit": "italic", "mathrm": "normal", "mathup": "normal", "mathbfit": "bold-italic",
}
TEXT_COMMANDS = {"text", "textrm", "textnormal", "mbox", "textit", "texttt", "textsf"}

# Characters escaped with a backslash in math and text mode.
ESCAPED = {"{": "{", "}": "}", "%": "%", "&": "&", "_": "_", "#": "#", "$": "$"}

MATRIX_FENCES = {"matrix": ("", ""), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"),
                 "Bmatrix": ("{", "}"), "vmatrix": ("|", "|"), "Vmatrix": ("‖", "‖"),
                 "smallmatrix": ("", "")}
