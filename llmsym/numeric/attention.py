"""Attention in NumPy: naive, streaming (online softmax) and tiled (FlashAttention).

Rows are tokens: ``q`` is (..., n_q, d_k), ``k`` is (..., n_k, d_k), ``v`` is
(..., n_k, d_v); scores are ``q k^T / sqrt(d_k)`` and the softmax runs along
each row. With ``causal=True`` query ``i`` sees key ``j`` when
``j <= i + n_k - n_q`` (aligned bottom-right, as in a KV cache: the last query
sees every key); a query that sees no key gets a zero output, never NaN.

The streaming and tiled versions keep, per query row, the state ``(m, l, acc)``:
a reference ``m`` (the running maximum), ``l = sum_j exp(s_j - m)`` and
``acc = sum_j exp(s_j - m) v_j``. Merging a new block rescales the old state
by ``exp(m_old - m_new)`` (derivations ``online-softmax`` and ``flash-attention``).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> q, k, v = (rng.normal(size=(5, 4)) for _ in range(3))
>>> bool(np.allclose(flash_attention(q, k, v, block_size=2), attention(q, k, v)))
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["attention", "flash_attention", "merge", "online_softmax"]


# ---------------------------------------------------------------------------
# The state of a block and its merge
# ---------------------------------------------------------------------------


def _safe(m: np.ndarray) -> np.ndarray:
    """The shift actually used: ``m``, or 0 where ``m = -inf`` (avoids ``-inf - (-inf)``)."""
    return np.where(np.isfinite(m), m, 0.0)


def merge(
    a: tuple[np.ndarray, np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge two normalised block states ``(m, l, o)`` into the state of their concatenation.

    ``m = max(m_a, m_b)``, ``l = l_a e^{m_a - m} + l_b e^{m_b - m}`` and
    ``o = (l_a e^{m_a - m} o_a + l_b e^{m_b - m} o_b) / l``. The empty block
    ``(-inf, 0, 0)`` is the identity; ``o`` has a trailing value axis.

    >>> import numpy as np
    >>> empty = (np.array(-np.inf), np.array(0.0), np.zeros(1))
    >>> merge(empty, empty)[2].tolist()
    [0.0]
    """
    (m_a, l_a, o_a), (m_b, l_b, o_b) = a, b
    m = np.maximum(m_a, m_b)
    w_a = l_a * np.exp(m_a - _safe(m))  # 0 when the block is empty
    w_b = l_b * np.exp(m_b - _safe(m))
    ell = w_a + w_b
    with np.errstate(invalid="ignore", divide="ignore"):
        o = (w_a[..., None] * o_a + w_b[..., None] * o_b) / ell[..., None]
    return m, ell, np.where(ell[..., None] > 0, o, 0.0)


# ---------------------------------------------------------------------------
# Online softmax
# ---------------------------------------------------------------------------


def online_softmax(z: np.ndarray, block_size: int = 1) -> np.ndarray:
    """Softmax along the last axis from one streaming pass over ``z`` (Milakov & Gimelshein).

    The pass reads ``z`` once, ``block_size`` entries at a time, and keeps only
    the running maximum ``m`` and ``l = sum exp(z_j - m)``, rescaling ``l`` by
    ``exp(m_old - m_new)`` when the maximum grows; the output is then
    ``exp(z - m) / l``. Entries may be ``-inf`` (masked); a row with no finite
    entry gives zeros.

    >>> online_softmax(np.array([1000.0, 1000.0, -np.inf])).tolist()
    [0.5, 0.5, 0.0]
    """
    z = np.asarray(z, dtype=np.float64)
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    m = np.full(z.shape[:-1], -np.inf)
    ell = np.zeros(z.shape[:-1])
    for start in range(0, z.shape[-1], block_size):
        block = z[..., start : start + block_size]
        m_new = np.maximum(m, block.max(axis=-1))
        shift = _safe(m_new)
        ell = ell * np.exp(m - shift) + np.exp(block - shift[..., None]).sum(axis=-1)
        m = m_new
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.exp(z - _safe(m)[..., None]) / ell[..., None]
    return np.where(ell[..., None] > 0, p, 0.0)


# ---------------------------------------------------------------------------
# Attention, naive and tiled
# ---------------------------------------------------------------------------


def _visible(rows: np.ndarray, cols: np.ndarray, offset: int) -> np.ndarray:
    """Causal mask of a tile: query ``i`` sees key ``j`` when ``j <= i + offset`` (n_k - n_q)."""
    return cols[None, :] <= rows[:, None] + offset


def _check_shapes(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> None:
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"shapes do not fit: q {q.shape}, k {k.shape}, v {v.shape} "
            "(need q (..., n_q, d_k), k (..., n_k, d_k), v (..., n_k, d_v))"
        )


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = False) -> np.ndarray:
    """softmax(q k^T / sqrt(d_k)) v, materialising the full n_q x n_k score matrix.

    Rows are tokens; masked scores are ``-inf`` and a row that sees no key is 0.

    >>> import numpy as np
    >>> attention(np.zeros((2, 3)), np.zeros((2, 3)), np.eye(2)).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    _check_shapes(q, k, v)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = q.shape[-2], k.shape[-2]
        scores = np.where(_visible(np.arange(n_q), np.arange(n_k), n_k - n_q), scores, -np.inf)
    m = _safe(scores.max(axis=-1, keepdims=True)) if scores.shape[-1] else 0.0
    weights = np.exp(scores - m)
    total = weights.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (weights / total) @ v
    return np.where(total > 0, out, 0.0)


def flash_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    block_size: int = 64,
    causal: bool = False,
    *,
    schedule: str = "fa2",
    return_lse: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Attention tiled over queries and keys, never forming the n_q x n_k score matrix.

    Each block of ``block_size`` queries streams over blocks of ``block_size``
    keys (any size; the last block may be short) and keeps ``(m, l, O)`` per
    row. ``schedule="fa2"`` (FlashAttention-2) keeps ``O`` unnormalised,
    rescales it by ``exp(m_old - m_new)`` and divides by ``l`` once at the end;
    ``schedule="fa1"`` (FlashAttention-1) keeps ``O`` normalised and rescales
    it by ``l_old exp(m_old - m_new) / l_new`` after every block. With
    ``return_lse=True`` it also returns ``L = m + log l`` per query (``-inf``
    for a row that sees no key), what the backward pass stores. Under
    ``causal=True`` tiles above the diagonal are skipped. Peak memory is
    O((n_q + n_k) d + block_size^2): no n_q x n_k array is ever formed.

    >>> import numpy as np
    >>> q = k = v = np.eye(3)
    >>> bool(np.allclose(flash_attention(q, k, v, 2, causal=True), attention(q, k, v, True)))
    True
    """
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    _check_shapes(q, k, v)
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    if schedule not in ("fa1", "fa2"):
        raise ValueError(f"schedule must be 'fa1' or 'fa2', not {schedule!r}")
    n_q, n_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    out = np.zeros(batch + (n_q, v.shape[-1]))
    lse = np.full(batch + (n_q,), -np.inf)
    scale = 1.0 / np.sqrt(q.shape[-1])
    for r0 in range(0, n_q, block_size):
        rows = slice(r0, min(r0 + block_size, n_q))
        visible = _tile_mask(rows, n_k - n_q) if causal else None
        out[..., rows, :], lse[..., rows] = _query_block(
            q[..., rows, :] * scale, k, v, block_size, visible, schedule
        )
    return (out, lse) if return_lse else out


def _tile_mask(rows: slice, offset: int):
    """For one block of query rows: the causal mask of the key tile ``cols``."""
    row_ids = np.arange(rows.start, rows.stop)
    return lambda cols: _visible(row_ids, np.arange(cols.start, cols.stop), offset)


def _query_block(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, block_size: int, visible, schedule: str
) -> tuple[np.ndarray, np.ndarray]:
    """One block of (pre-scaled) queries against every key block: its output and its L.

    ``visible(cols)`` gives a tile's causal mask, or ``visible`` is None.
    """
    n_k = k.shape[-2]
    shape = np.broadcast_shapes(q.shape[:-1], k.shape[:-2] + (q.shape[-2],))
    m, ell = np.full(shape, -np.inf), np.zeros(shape)
    acc = np.zeros(shape + (v.shape[-1],))
    for c0 in range(0, n_k, block_size):
        cols = slice(c0, min(c0 + block_size, n_k))
        scores = q @ np.swapaxes(k[..., cols, :], -1, -2)
        if visible is not None:
            seen = visible(cols)
            if not seen.any():
                break  # this tile and all later ones lie above the diagonal
            if not seen.all():
                scores = np.where(seen, scores, -np.inf)
        m_new = np.maximum(m, scores.max(axis=-1))
        alpha = np.exp(m - _safe(m_new))  # rescales the old state; 0 while it is empty
        p = np.exp(scores - _safe(m_new)[..., None])
        ell_new = alpha * ell + p.sum(axis=-1)
        if schedule == "fa2":  # U unnormalised: rescale by e^{m_old - m_new}
            acc = alpha[..., None] * acc + p @ v[..., cols, :]
        else:  # O normalised: rescale by l_old e^{m_old - m_new} / l_new
            with np.errstate(invalid="ignore", divide="ignore"):
                acc = ((ell * alpha)[..., None] * acc + p @ v[..., cols, :]) / ell_new[..., None]
            acc = np.where(ell_new[..., None] > 0, acc, 0.0)
        m, ell = m_new, ell_new
    with np.errstate(invalid="ignore", divide="ignore"):
        out = acc / ell[..., None] if schedule == "fa2" else acc
        lse = m + np.log(ell)
    return np.where(ell[..., None] > 0, out, 0.0), np.where(ell > 0, lse, -np.inf)
