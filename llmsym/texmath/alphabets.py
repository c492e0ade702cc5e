"""Letters in the Unicode mathematical alphabets: ``\\mathbf{z}`` is 𝐳, ``\\mathbb{R}`` is ℝ.

MathML Core honours only ``mathvariant="normal"``, so bold, double-struck,
script and the other styled letters must be the characters of the Unicode
Mathematical Alphanumeric Symbols block themselves. A few of them live in
the older Letterlike Symbols block (ℝ, ℒ, ℎ...), listed as exceptions.

>>> styled("z", "bold"), styled("R", "double-struck"), styled("1", "bold")
('𝐳', 'ℝ', '𝟏')
>>> styled("+", "bold")
'+'
"""

from __future__ import annotations

# First code point of A, a, 0 (None: no digits) in each alphabet.
_LATIN = {
    "bold": (0x1D400, 0x1D41A, 0x1D7CE),
    "italic": (0x1D434, 0x1D44E, None),
    "bold-italic": (0x1D468, 0x1D482, 0x1D7CE),
    "script": (0x1D49C, 0x1D4B6, None),
    "bold-script": (0x1D4D0, 0x1D4EA, 0x1D7CE),
    "fraktur": (0x1D504, 0x1D51E, None),
    "double-struck": (0x1D538, 0x1D552, 0x1D7D8),
    "sans-serif": (0x1D5A0, 0x1D5BA, 0x1D7E2),
    "bold-sans-serif": (0x1D5D4, 0x1D5EE, 0x1D7EC),
    "monospace": (0x1D670, 0x1D68A, 0x1D7F6),
}

# Letters the block leaves out because an older character already existed.
_EXCEPTIONS = {
    "italic": {"h": "ℎ"},
    "script": {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ",
               "R": "ℛ", "e": "ℯ", "g": "ℊ", "o": "ℴ"},
    "fraktur": {"C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"},
    "double-struck": {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ",
                      "Z": "ℤ"},
}

# First code point of capital Alpha and small alpha in the Greek alphabets.
_GREEK = {
    "bold": (0x1D6A8, 0x1D6C2),
    "italic": (0x1D6E2, 0x1D6FC),
    "bold-italic": (0x1D71C, 0x1D736),
    "bold-sans-serif": (0x1D756, 0x1D770),
}
# Symbols that follow the 25 capitals (after ∇) and the 25 small letters (after ∂).
_GREEK_AFTER_SMALL = "∂ϵϑϰϕϱϖ"


def _latin(ch: str, alphabet: str) -> str | None:
    if alphabet not in _LATIN:
        return None
    exception = _EXCEPTIONS.get(alphabet, {}).get(ch)
    if exception:
        return exception
    upper, lower, digits = _LATIN[alphabet]
    if "A" <= ch <= "Z":
        return chr(upper + ord(ch) - ord("A"))
    if "a" <= ch <= "z":
        return chr(lower + ord(ch) - ord("a"))
    if "0" <= ch <= "9" and digits is not None:
        return chr(digits + ord(ch) - ord("0"))
    return None


def _greek(ch: str, alphabet: str) -> str | None:
    if alphabet not in _GREEK:
        return None
    upper, lower = _GREEK[alphabet]
    code = ord(ch)
    if 0x391 <= code <= 0x3A9 and code != 0x3A2:
        return chr(upper + code - 0x391)
    if ch == "ϴ":
        return chr(upper + 17)
    if ch == "∇":
        return chr(upper + 25)
    if 0x3B1 <= code <= 0x3C9:
        return chr(lower + code - 0x3B1)
    if ch in _GREEK_AFTER_SMALL:
        return chr(lower + 25 + _GREEK_AFTER_SMALL.index(ch))
    return None


def styled(ch: str, alphabet: str) -> str:
    """``ch`` in ``alphabet``, or ``ch`` unchanged when the alphabet has no such letter."""
    if ch.isascii():
        return _latin(ch, alphabet) or ch
    return _greek(ch, alphabet) or ch


def styled_text(text: str, alphabet: str) -> str:
    """Every character of ``text`` in ``alphabet`` where it has one."""
    return "".join(styled(c, alphabet) for c in text)
