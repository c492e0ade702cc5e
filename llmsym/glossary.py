"""The notation table on page 1: symbols with one meaning across the whole face.

A face symbol takes its meaning from its derivation's ``notation`` or, failing
that, from here; the build fails when one symbol gets two meanings on the face
or none at all. Keys are the symbols' LaTeX, exactly as the formulas print them.
Entries here are the symbols many derivations share; a symbol particular to
one derivation belongs in that derivation's ``notation`` (it is then printed on
a "where" line under its formula).
"""

from __future__ import annotations

GLOSSARY: dict[str, str] = {
    "n": "number of entries of a vector (outcomes, logits, responses)",
    "i": "an index: a component or a position",
    "j": "an index of summation",
    "d": "model width (embedding dimension)",
    "d_{k}": "dimension of queries and keys",
    "d_{h}": "dimension of one attention head",
    "h": "number of attention heads",
    "h_{kv}": "number of key/value heads (grouped-query attention)",
    "L": "number of layers",
    "s": "sequence length (tokens)",
    "b": "batch size (sequences)",
    "V": "vocabulary size",
    "T": "temperature of the softmax",
    "z": "logits, a real vector of length n",
    "c": "a constant added to every entry",
    "p": "a probability distribution over n outcomes (the target)",
    "q": "a second distribution over the same outcomes (the model)",
    "x": "a real number (the argument of a scalar function)",
}
