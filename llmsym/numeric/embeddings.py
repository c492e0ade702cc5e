"""Token embeddings in NumPy: row lookup, the one-hot product it equals, tied output logits.

An embedding table E has one row per token (V × d). Looking up token t reads
row t; the same vector is the one-hot row e_t times E, which is how the
lookup is written as a linear layer. With tied embeddings the output logits
are ``h Eᵀ`` (Press & Wolf 2017, arXiv:1608.05859; Vaswani et al. 2017, §3.4).

>>> import numpy as np
>>> table = np.arange(6.0).reshape(3, 2)
>>> embedding_lookup(table, [2, 0]).tolist(), one_hot_embedding(table, [2, 0]).tolist()
([[4.0, 5.0], [0.0, 1.0]], [[4.0, 5.0], [0.0, 1.0]])
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["embedding_lookup", "one_hot", "one_hot_embedding", "tied_output_logits"]


def _table(table: ArrayLike) -> np.ndarray:
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ValueError(f"the embedding table must be a (V, d) matrix, got shape {table.shape}")
    return table


def _token_ids(ids: ArrayLike, vocab_size: int) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"token ids must be integers, got dtype {ids.dtype}")
    if np.any(ids < 0) or np.any(ids >= vocab_size):
        raise ValueError(f"token ids must lie in 0..{vocab_size - 1}")
    return ids


def one_hot(ids: ArrayLike, vocab_size: int) -> np.ndarray:
    """Rows e_t of the V × V identity for each id; shape ``ids.shape + (V,)``.

    >>> one_hot([1], 3).tolist()
    [[0.0, 1.0, 0.0]]
    """
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral) \
            or vocab_size < 1:
        raise ValueError(f"vocab_size must be an integer >= 1, got {vocab_size!r}")
    ids = _token_ids(ids, vocab_size)
    return (ids[..., None] == np.arange(vocab_size)).astype(np.float64)


def embedding_lookup(table: ArrayLike, ids: ArrayLike) -> np.ndarray:
    """Row indexing ``E[t]``; shape ``ids.shape + (d,)``."""
    table = _table(table)
    return table[_token_ids(ids, table.shape[0])]


def one_hot_embedding(table: ArrayLike, ids: ArrayLike) -> np.ndarray:
    """The product ``one_hot(t) @ E``: V multiply-adds per feature instead of a read."""
    table = _table(table)
    return one_hot(ids, table.shape[0]) @ table


def tied_output_logits(hidden: ArrayLike, table: ArrayLike) -> np.ndarray:
    """Logits ``h Eᵀ`` of a model whose output layer reuses the input embedding table.

    >>> tied_output_logits([[1.0, 0.0]], [[2.0, 3.0], [4.0, 5.0]]).tolist()
    [[2.0, 4.0]]
    """
    table = _table(table)
    hidden = np.asarray(hidden, dtype=np.float64)
    if hidden.ndim == 0 or hidden.shape[-1] != table.shape[1]:
        raise ValueError(f"hidden must have shape (..., {table.shape[1]}), got {hidden.shape}")
    return hidden @ table.T
