"""Exact tuple spaces: a size and an `unrank` bijection [0, size) → tuples of positions.

Positions index the split's images in class-sorted order (a `ClassLayout`), so a class is
a contiguous run [start, start + size). Each space also lists its *blocks* (contiguous rank
ranges, one per anchor class where that makes sense) so plans can stratify draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Protocol, Sequence

import numpy as np

from ..combinatorics import as_ranks, comb_array, comb_unrank
from .. import counts


@dataclass(frozen=True)
class ClassLayout:
    """Images of one split grouped by class: position p ↔ split row `order[p]`."""

    order: np.ndarray  # int64 (n,): split rows sorted by class (stable)
    sizes: np.ndarray  # int64 (num_classes,)
    starts: np.ndarray  # int64 (num_classes,)

    @classmethod
    def from_class_ids(cls, class_ids: np.ndarray, num_classes: int) -> "ClassLayout":
        sizes = np.bincount(class_ids, minlength=num_classes).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        return cls(np.argsort(class_ids, kind="stable").astype(np.int64), sizes, starts)

    @property
    def total(self) -> int:
        return int(self.sizes.sum())

    def class_of(self, positions: np.ndarray) -> np.ndarray:
        """Class id of each position."""
        return np.searchsorted(self.starts + self.sizes, positions, side="right")


class TupleSpace(Protocol):
    """What every strategy's space offers: exact size, blocks, and unranking."""

    k: int
    size: int

    def block_sizes(self) -> list[int]:
        """Sizes of the contiguous rank blocks, in rank order (sum = size)."""

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        """(n,) ranks → (n, k) int64 positions."""


def _locate(prefix: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Block index of each rank, given prefix sums [0, s0, s0+s1, …]."""
    return np.searchsorted(prefix, ranks, side="right") - 1


def _prefix(sizes: Sequence[int]) -> np.ndarray:
    total = sum(int(s) for s in sizes)
    return as_ranks(np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=object))]), total)


@dataclass(frozen=True)
class OrderedProduct:
    """All ordered k-tuples with repetition (the paper's permutation baseline): N^k."""

    layout: ClassLayout
    k: int

    @property
    def size(self) -> int:
        return self.layout.total**self.k

    def block_sizes(self) -> list[int]:
        return [self.size]

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        n = self.layout.total
        out = np.empty((len(ranks), self.k), dtype=np.int64)
        r = ranks
        for slot in range(self.k - 1, -1, -1):
            out[:, slot] = np.asarray(r % n, dtype=np.int64)
            r = r // n
        return out


@dataclass(frozen=True)
class UnorderedPairs:
    """All unordered pairs {a, b}, a ≠ b (colex order): C(N, 2). The anchor is the smaller."""

    layout: ClassLayout
    k: int = 2

    @property
    def size(self) -> int:
        return comb(self.layout.total, 2)

    def block_sizes(self) -> list[int]:
        return [self.size]

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        return comb_unrank(ranks, self.layout.total, 2)


@dataclass(frozen=True)
class AnchorBlocks:
    """Anchor, then a set of P positives and a set of Q negatives placed by `pattern`.

    `pattern[j]` says whether slot j+1 holds a positive. Blocks are anchor classes: block α
    has c_α · C(c_α−1, P) · C(N−c_α, Q) tuples, ordered (anchor, positive set, negative set).
    """

    layout: ClassLayout
    pattern: tuple[bool, ...]

    @property
    def k(self) -> int:
        return len(self.pattern) + 1

    @property
    def positives(self) -> int:
        return sum(self.pattern)

    @property
    def negatives(self) -> int:
        return len(self.pattern) - self.positives

    def block_sizes(self) -> list[int]:
        return counts.anchor_block_sizes(self.layout.sizes.tolist(), self.positives, self.negatives)

    @property
    def size(self) -> int:
        return sum(self.block_sizes())

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        lay, p, q = self.layout, self.positives, self.negatives
        prefix = _prefix(self.block_sizes())
        alpha = _locate(prefix, ranks)
        local = ranks - prefix[alpha]
        c = lay.sizes[alpha]
        rest = lay.total - c
        neg_space = comb_array(rest.astype(local.dtype), q)
        pos_space = comb_array((c - 1).astype(local.dtype), p)
        neg_rank, local = local % neg_space, local // neg_space
        pos_rank, anchor = local % pos_space, local // pos_space
        start = lay.starts[alpha]
        anchor = np.asarray(anchor, dtype=np.int64)
        pos = comb_unrank(pos_rank, c - 1, p)
        pos = start[:, None] + pos + (pos >= anchor[:, None])
        neg = comb_unrank(neg_rank, rest, q)
        neg = neg + c[:, None] * (neg >= start[:, None])
        out = np.empty((len(ranks), self.k), dtype=np.int64)
        out[:, 0] = start + anchor
        slots = np.flatnonzero(self.pattern) + 1
        out[:, slots] = pos
        out[:, np.flatnonzero(~np.asarray(self.pattern, dtype=bool)) + 1] = neg
        return out


@dataclass(frozen=True)
class UnionSpace:
    """Concatenation of spaces of the same k; blocks are the parts' blocks in order."""

    parts: tuple

    @property
    def k(self) -> int:
        return self.parts[0].k

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)

    def block_sizes(self) -> list[int]:
        return [s for part in self.parts for s in part.block_sizes()]

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        prefix = _prefix([part.size for part in self.parts])
        which = _locate(prefix, ranks)
        out = np.empty((len(ranks), self.k), dtype=np.int64)
        for i in np.unique(which).tolist():
            rows = which == i
            out[rows] = self.parts[i].unrank(ranks[rows] - prefix[i])
        return out
