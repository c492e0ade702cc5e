"""Break a long line of Unicode math at its top-level operators.

A formula is broken before ``=``, ``≤``, ``+``, ``−`` (and the other relations
and binary operators), or after a comma, outside every bracket where
possible; continuation lines are indented. Only a formula with no such place
is cut mid-term, so every line fits the width.

>>> print(wrap("a + b = c + d", width=7, indent=2))
a + b
  = c
  + d
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_OPEN = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "⌊": "⌋", "⌈": "⌉"}
_CLOSE = set(_OPEN.values())
_TOGGLES = "|‖"
_RELATIONS = set("=≈≤≥<>≠∝≡→⟹∈⊆≔")
_BINARY = set("+−±∓×⋅·⊙⊕⊗/")


def columns(text: str) -> int:
    """Terminal columns of ``text``: combining marks take none, wide characters two."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


def _depths(text: str) -> list[int]:
    """Bracket depth at each character (| and ‖ count as brackets when they pair up)."""
    toggles = {c for c in _TOGGLES if text.count(c) % 2 == 0}
    depth, inside, out = 0, set(), []
    for char in text:
        if char in _CLOSE or (char in toggles and char in inside):
            depth = max(depth - 1, 0)
            inside.discard(char)
            out.append(depth)
            continue
        out.append(depth)
        if char in _OPEN or char in toggles:
            depth += 1
            if char in toggles:
                inside.add(char)
    return out


def top_level_spaces(text: str) -> bool:
    """Whether ``text`` has a space outside every bracket."""
    return any(c == " " and d == 0 for c, d in zip(text, _depths(text), strict=True))


@dataclass
class _Break:
    index: int  # the next line starts here
    depth: int
    rank: int  # 0 between items of a list, 1 at a relation, 2 at + or a comma, 3 elsewhere


def _breaks(text: str) -> list[_Break]:
    depths = _depths(text)
    found = []
    for k, char in enumerate(text):
        before = text[k - 1] if k else ""
        after = text[k + 1] if k + 1 < len(text) else ""
        if before == " " and after == " " and char in _RELATIONS:
            found.append(_Break(k, depths[k], 1))
        elif before == " " and after == " " and char in _BINARY:
            found.append(_Break(k, depths[k], 2 if char in "+−±∓" else 3))
        elif char == ":" and after == "=" and before == " ":
            found.append(_Break(k, depths[k], 1))
        elif char in ",;" and after == " ":
            wide = text[k + 2 : k + 3] == " " or char == ";"
            found.append(_Break(k + 2, depths[k], 0 if wide else 2))
        elif char == " " and after == " " and before not in " ,;":
            found.append(_Break(k + 2, depths[k], 0))
    return found


def _cut(text: str, width: int) -> int:
    """Where to end the first line of ``text`` so that it fits ``width`` columns."""
    fits = [b for b in _breaks(text) if b.index > 0 and columns(text[: b.index].rstrip()) <= width]
    for depth in sorted({b.depth for b in fits}):
        # a line at least 40% full, ended at the best kind of place, as late as possible
        full = [b for b in fits if b.depth == depth and columns(text[: b.index]) >= 0.4 * width]
        if full:
            return min(full, key=lambda b: (b.rank, -b.index)).index
    if fits:
        return max(b.index for b in fits)
    used, k = 0, 0
    while k < len(text) and used + columns(text[k]) <= width:
        used += columns(text[k])
        k += 1
        while k < len(text) and unicodedata.combining(text[k]):
            k += 1
    return max(k, 1)


def wrap(text: str, width: int = 100, indent: int = 4) -> str:
    """``text`` broken into lines of at most ``width`` columns; later lines indented."""
    if width <= indent:
        raise ValueError(f"width {width} leaves no room after an indent of {indent}")
    out = []
    for line in text.split("\n"):
        first = True
        while True:
            prefix = "" if first else " " * indent
            room = width - len(prefix)
            if columns(line) <= room:
                out.append(prefix + line)
                break
            k = _cut(line, room)
            out.append(prefix + line[:k].rstrip())
            line = line[k:].lstrip()
            first = False
            if not line:
                break
    return "\n".join(out)
