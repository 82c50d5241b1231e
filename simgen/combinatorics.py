"""Vectorised exact combinatorics on rank arrays.

Rank arrays are int64 when every value fits comfortably (< 2**62), else numpy object arrays
of Python ints; every function here works on both, so spaces far beyond 2**64 stay exact.
"""
from __future__ import annotations

from math import comb, lgamma
from typing import Iterable

import numpy as np

SAFE = 1 << 62
M64 = (1 << 64) - 1


def rank_dtype(largest: int) -> type | np.dtype:
    """int64 when `largest` (and products of it with small ints) fit, else object."""
    return np.int64 if largest < SAFE else object


def as_ranks(values: Iterable[int] | np.ndarray, largest: int) -> np.ndarray:
    """Values as an int64 or object array, chosen by the largest value they may take."""
    dtype = rank_dtype(largest)
    if dtype is object:
        return np.array([int(v) for v in np.asarray(values).tolist()], dtype=object)
    return np.asarray(values, dtype=np.int64)


def comb_array(n: np.ndarray, q: int) -> np.ndarray:
    """C(n, q) elementwise; exact for n >= 0 (0 where n < q)."""
    v = np.ones_like(n)
    for j in range(q):
        v = v * (n - j) // (j + 1)
    return np.where(n < q, 0, v) if q else v


def _needs_object(max_n: int, q: int) -> bool:
    return any(comb(max_n, i) * (i + 1) >= SAFE for i in range(1, q + 1))


def comb_unrank(ranks: np.ndarray, n: np.ndarray | int, q: int) -> np.ndarray:
    """Colex unranking: rank r < C(n, q) → the sorted q-subset {c_1 < … < c_q} of range(n)
    with r = Σ C(c_i, i). Vectorised over rows; `n` may vary per row. Returns int64 (rows, q).
    """
    rows = len(ranks)
    out = np.empty((rows, q), dtype=np.int64)
    if rows == 0 or q == 0:
        return out
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), (rows,))
    big = ranks.dtype == object or _needs_object(int(n.max()), q)
    r = ranks.astype(object) if big else ranks.astype(np.int64)
    for i in range(q, 0, -1):
        c = _largest_c(r, i, n, big)
        out[:, i - 1] = np.asarray(c, dtype=np.int64)
        r = r - comb_array(c, i)
    return out


def _largest_c(r: np.ndarray, i: int, n: np.ndarray, big: bool) -> np.ndarray:
    """Largest c in [i-1, n-1] with C(c, i) <= r, per row (float estimate, exact fix-up)."""
    rf = np.asarray(r, dtype=np.float64)
    est = np.exp((np.log(rf + 1.0) + lgamma(i + 1)) / i) + (i - 1) / 2.0
    est = np.clip(np.floor(est), i - 1, n - 1).astype(np.int64)
    c = est.astype(object) if big else est
    lo = np.int64(i - 1)
    while True:
        over = comb_array(c, i) > r
        if not over.any():
            break
        c = np.where(over, c - 1, c)
    while True:
        nxt = c + 1
        under = (nxt <= n - 1) & (comb_array(nxt, i) <= r)
        if not under.any():
            break
        c = np.where(under, nxt, c)
    return np.maximum(c, lo) if not big else c


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 (or object) arrays: a fast, well-mixed 64-bit hash."""
    obj = x.dtype == object
    k1, k2 = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
    c1, c2, m = (k1, k2, M64) if obj else (np.uint64(k1), np.uint64(k2), np.uint64(M64))
    s30, s27, s31 = (30, 27, 31) if obj else (np.uint64(30), np.uint64(27), np.uint64(31))
    x = ((x ^ (x >> s30)) * c1) & m
    x = ((x ^ (x >> s27)) * c2) & m
    return x ^ (x >> s31)
