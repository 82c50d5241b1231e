"""Keyed pseudo-random permutations of [0, size): balanced Feistel network + cycle-walking.

O(1) memory, any position computable alone, deterministic from the key on every platform
and numpy version (plain integer arithmetic, keys from blake2b). Sizes and keys may differ
per row, so many independent permutations (one per stratum) run in one vectorised call.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .combinatorics import SAFE, M64, mix64

ROUNDS = 8


def round_keys(seed: int, purpose: str, rounds: int = ROUNDS) -> list[int]:
    """64-bit round keys from (seed, purpose), independent of numpy's RNG streams."""
    keys = []
    for i in range(rounds):
        digest = hashlib.blake2b(f"simgen:{purpose}:{seed}:{i}".encode(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little"))
    return keys


def _half_bits(size: np.ndarray) -> np.ndarray:
    """Per row, h such that 4**h >= size (h >= 1)."""
    values, inverse = np.unique(size, return_inverse=True)
    bits = np.array([max(1, (int(s) - 1).bit_length()) for s in values.tolist()], dtype=np.int64)
    return ((bits + 1) // 2)[inverse.reshape(-1)]


def _u64(values: np.ndarray) -> np.ndarray:
    """Python ints below 2**64 (object array) → uint64."""
    return np.array(values.tolist(), dtype=np.uint64)


class FeistelPermutation:
    """A family of permutations π_s of [0, size_s), one per stream id s, keyed by `keys`."""

    def __init__(self, keys: list[int]):
        self.keys = keys

    def __call__(self, x: np.ndarray, size: np.ndarray | int, stream: np.ndarray | int = 0):
        """π_stream(x) for each row; x < size. Returns an array of x's dtype family."""
        rows = len(x)
        size_arr = np.broadcast_to(np.asarray(size), (rows,))
        obj = x.dtype == object or (rows > 0 and int(size_arr.max()) >= SAFE)
        if obj:
            x = x.astype(object)
            size_arr = size_arr.astype(object)
        else:
            x = x.astype(np.uint64)
            size_arr = size_arr.astype(np.uint64)
        half = _half_bits(np.asarray(size_arr))
        stream = np.broadcast_to(np.asarray(stream, dtype=np.int64), (rows,))
        if obj and rows and int(half.max()) <= 63:
            return self._by_halves(x, size_arr, half, stream)
        y = self._encrypt(x, half, stream, obj)
        walk = y >= size_arr
        while walk.any():
            y[walk] = self._encrypt(y[walk], half[walk], stream[walk], obj)
            walk = y >= size_arr
        return y if obj else y.astype(np.int64)

    def _by_halves(self, x: np.ndarray, size: np.ndarray, half: np.ndarray,
                   stream: np.ndarray) -> np.ndarray:
        """The object-dtype permutation for sizes up to 2**126, computed on uint64 halves.

        Identical output to `_encrypt` on Python ints (every round works below 2**64), but
        the rounds and the cycle-walking comparisons run in uint64; Python ints are touched
        only to split the input and join the result.
        """
        h_obj = half.astype(object)
        mask_obj = (np.ones(len(x), dtype=object) << h_obj) - 1
        left, right = _u64(x >> h_obj), _u64(x & mask_obj)
        size_hi, size_lo = _u64(size >> h_obj), _u64(size & mask_obj)
        h = half.astype(np.uint64)
        mask = (np.uint64(1) << h) - np.uint64(1)
        tweak = mix64(stream.astype(np.uint64) + np.uint64(1))
        left, right = self._rounds(left, right, mask, tweak)
        walk = (left > size_hi) | ((left == size_hi) & (right >= size_lo))
        while walk.any():
            left[walk], right[walk] = self._rounds(left[walk], right[walk], mask[walk],
                                                   tweak[walk])
            walk = (left > size_hi) | ((left == size_hi) & (right >= size_lo))
        return (left.astype(object) << h_obj) | right.astype(object)

    def _rounds(self, left: np.ndarray, right: np.ndarray, mask: np.ndarray,
                tweak: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        for key in self.keys:
            f = mix64(right ^ tweak ^ np.uint64(key)) & mask
            left, right = right, left ^ f
        return left, right

    def _encrypt(self, x, half, stream, obj):
        if obj:
            half = half.astype(object)
            mask = (np.ones(len(x), dtype=object) << half) - 1
            tweak = mix64(stream.astype(object) + 1)
            m = M64
        else:
            half = half.astype(np.uint64)
            mask = (np.uint64(1) << half) - np.uint64(1)
            tweak = mix64(stream.astype(np.uint64) + np.uint64(1))
            m = np.uint64(M64)
        left, right = x >> half, x & mask
        for key in self.keys:
            k = key if obj else np.uint64(key)
            f = mix64((right ^ tweak ^ k) & m) & mask
            left, right = right, left ^ f
        return (left << half) | right
