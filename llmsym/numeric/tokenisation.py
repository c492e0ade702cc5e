"""Tokenisation measures in NumPy: bits per byte, perplexity per unit, compression, a byte BPE.

A language model's total negative log-likelihood of a text does not depend on
how the text is cut into tokens; only the unit it is divided by does. From
per-token losses ℓ_t (nats):

- bits per byte ``Σ_t ℓ_t / (ln 2 · N_bytes)`` (Gao et al. 2020, The Pile,
  arXiv:2101.00027, whose results are given in bits per byte);
- perplexity per unit ``exp(Σ_t ℓ_t / N_units)``, for tokens, bytes or words.

Compression is bytes per token (Zouhar et al. 2023, arXiv:2306.16842).
:func:`train_bpe` is byte-level byte-pair encoding (Sennrich, Haddow, Birch
2016, arXiv:1508.07909, §3.2): repeatedly merge the most frequent adjacent pair.

>>> import math
>>> losses = [math.log(2.0)] * 4  # four tokens, one bit each
>>> bits_per_byte_from_losses(losses, n_bytes=8)
0.5
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "bits_per_byte_from_losses",
    "bpe_encode",
    "bytes_per_token",
    "perplexity_per_unit",
    "train_bpe",
]


def _losses(token_losses: ArrayLike) -> np.ndarray:
    losses = np.asarray(token_losses, dtype=np.float64)
    if losses.ndim != 1 or losses.size == 0:
        raise ValueError(f"token_losses must be a non-empty 1-D array, got shape {losses.shape}")
    if not np.all(np.isfinite(losses)) or np.any(losses < 0):
        raise ValueError("token_losses must be finite and >= 0 (they are -log p)")
    return losses


def _positive_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def bits_per_byte_from_losses(token_losses: ArrayLike, n_bytes: int) -> float:
    """The text's total loss in bits (``Σ ℓ_t / ln 2``) per byte of UTF-8 text."""
    losses, n_bytes = _losses(token_losses), _positive_count(n_bytes, "n_bytes")
    return float(math.fsum(losses) / math.log(2.0) / n_bytes)


def perplexity_per_unit(token_losses: ArrayLike, n_units: int) -> float:
    """``exp(Σ ℓ_t / N_units)``: per-token perplexity when N_units is the number of tokens.

    >>> perplexity_per_unit([math.log(4.0)] * 3, n_units=3)
    4.0
    """
    losses, n_units = _losses(token_losses), _positive_count(n_units, "n_units")
    return float(math.exp(math.fsum(losses) / n_units))


def bytes_per_token(tokens: Sequence[bytes | str]) -> float:
    """Mean UTF-8 length of the tokens: the compression of a tokenisation.

    >>> bytes_per_token(["hel", "lo", " ", "wörld"])  # ö is 2 bytes: 12 bytes, 4 tokens
    3.0
    """
    if len(tokens) == 0:
        raise ValueError("bytes_per_token needs at least one token")
    sizes = [len(t.encode("utf-8")) if isinstance(t, str) else len(t) for t in tokens]
    return sum(sizes) / len(sizes)


def _merge(tokens: list[bytes], pair: tuple[bytes, bytes]) -> list[bytes]:
    """Replace each non-overlapping occurrence of ``pair``, left to right, by its concatenation."""
    out, i = [], 0
    while i < len(tokens):
        if i + 1 < len(tokens) and (tokens[i], tokens[i + 1]) == pair:
            out.append(tokens[i] + tokens[i + 1])
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


def train_bpe(text: str, n_merges: int) -> list[tuple[bytes, bytes]]:
    """Learn up to ``n_merges`` merges on the UTF-8 bytes of ``text`` (no pre-splitting).

    Ties between equally frequent pairs go to the pair that occurs first.
    Training stops early when no pair is left.

    >>> train_bpe("abab", 2)
    [(b'a', b'b'), (b'ab', b'ab')]
    """
    if isinstance(n_merges, bool) or not isinstance(n_merges, numbers.Integral) or n_merges < 0:
        raise ValueError(f"n_merges must be an integer >= 0, got {n_merges!r}")
    tokens = [bytes([b]) for b in text.encode("utf-8")]
    merges: list[tuple[bytes, bytes]] = []
    for _ in range(n_merges):
        counts = Counter(zip(tokens, tokens[1:], strict=False))
        if not counts:
            break
        best = max(counts, key=counts.__getitem__)  # first maximal in order of first occurrence
        merges.append(best)
        tokens = _merge(tokens, best)
    return merges


def bpe_encode(text: str, merges: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
    """Tokenise ``text`` by applying the learned merges in order to its UTF-8 bytes.

    >>> bpe_encode("abba", [(b"a", b"b")])
    [b'ab', b'b', b'a']
    """
    tokens = [bytes([b]) for b in text.encode("utf-8")]
    for pair in merges:
        tokens = _merge(tokens, pair)
    return tokens
