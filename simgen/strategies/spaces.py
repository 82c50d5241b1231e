"""Exact tuple spaces: a size and an `unrank` bijection [0, size) → tuples of positions.

Positions index the split's images in class-sorted order (a `ClassLayout`), so a class is
a contiguous run [start, start + size). Each space also lists its *blocks* (contiguous rank
ranges, one per anchor class where that makes sense) so plans can stratify draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from math import comb
from typing import Protocol, Sequence

import numpy as np

from ..combinatorics import SAFE, as_ranks, comb_array, comb_unrank
from .. import counts


@dataclass(frozen=True)
class ClassLayout:
    """Images of one split grouped by class: position p ↔ split row `order[p]`.

    With groups (`--group-pattern`), positions are sorted by (class, group) and the runs of
    one (class, group) are the *units*: an anchor never takes a positive from its own unit.
    """

    order: np.ndarray  # int64 (n,): split rows sorted by class (stable)
    sizes: np.ndarray  # int64 (num_classes,)
    starts: np.ndarray  # int64 (num_classes,)
    unit_starts: np.ndarray | None = None  # int64 (units,): first position of each group run
    unit_sizes: np.ndarray | None = None  # int64 (units,)

    @classmethod
    def from_class_ids(cls, class_ids: np.ndarray, num_classes: int,
                       group_ids: np.ndarray | None = None) -> "ClassLayout":
        """Layout of a split; `group_ids` (per split row) makes (class, group) units."""
        class_ids = np.asarray(class_ids, dtype=np.int64)
        sizes = np.bincount(class_ids, minlength=num_classes).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        if group_ids is None:
            return cls(np.argsort(class_ids, kind="stable").astype(np.int64), sizes, starts)
        group_ids = np.asarray(group_ids, dtype=np.int64)
        order = np.lexsort((group_ids, class_ids)).astype(np.int64)
        key_c, key_g = class_ids[order], group_ids[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (key_c[1:] != key_c[:-1]) | (key_g[1:] != key_g[:-1])
        unit_starts = np.flatnonzero(new).astype(np.int64)
        unit_sizes = np.diff(np.append(unit_starts, len(order))).astype(np.int64)
        return cls(order, sizes, starts, unit_starts, unit_sizes)

    @property
    def total(self) -> int:
        return int(self.sizes.sum())

    @property
    def grouped(self) -> bool:
        return self.unit_starts is not None

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


def _narrow(values: np.ndarray, bounds: Sequence[int] | np.ndarray) -> np.ndarray:
    """Object ranks as int64 when every value is below max(bounds) < 2**62 (faster maths)."""
    if values.dtype == object and int(max(bounds, default=0)) < SAFE:
        return values.astype(np.int64)
    return values


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
    """All unordered pairs {a, b}, a ≠ b (colex order): C(N, 2). The anchor is the smaller.

    With `allow_self` (augmentation on) the N self-pairs {a, a} join: C(N + 1, 2), by the
    bijection {i < j} of range(N + 1) ↔ (i, j − 1).
    """

    layout: ClassLayout
    allow_self: bool = False
    k: int = 2

    @property
    def size(self) -> int:
        return comb(self.layout.total + self.allow_self, 2)

    def block_sizes(self) -> list[int]:
        return [self.size]

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        out = comb_unrank(ranks, self.layout.total + self.allow_self, 2)
        out[:, 1] -= int(self.allow_self)
        return out


@dataclass(frozen=True)
class GroupPairs:
    """Unordered pairs {a < b} never inside one (class, group) unit (b lies past a's unit).

    Unit u (positions [s_u, e_u)) gives s-size · (N − e_u + self) pairs; with `allow_self`
    offset 0 is the self-pair {a, a}.
    """

    layout: ClassLayout
    allow_self: bool = False
    k: int = 2

    @cached_property
    def _prefix(self) -> np.ndarray:
        lay = self.layout
        ends = lay.unit_starts + lay.unit_sizes
        per = [int(s) * (lay.total - int(e) + self.allow_self)
               for s, e in zip(lay.unit_sizes.tolist(), ends.tolist())]
        return _prefix(per)

    @property
    def size(self) -> int:
        return int(self._prefix[-1])

    def block_sizes(self) -> list[int]:
        return [self.size]

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        lay, prefix = self.layout, self._prefix
        u = _locate(prefix, ranks)
        local = ranks - prefix[u]
        end = lay.unit_starts[u] + lay.unit_sizes[u]
        partners = lay.total - end + int(self.allow_self)
        anchor = lay.unit_starts[u] + np.asarray(local // partners, dtype=np.int64)
        t = np.asarray(local % partners, dtype=np.int64)
        partner = end + t - int(self.allow_self)
        if self.allow_self:
            partner = np.where(t == 0, anchor, partner)
        return np.stack([anchor, partner], axis=1)


@dataclass(frozen=True)
class DistinctClassSets:
    """Sets of q images from q distinct classes, none of them class `alpha` (per row).

    Rank order: by first class (from the last class down), then image in it, then the rest.
    table[j][t] = e_t(sizes[j:]); without class α (for j ≤ α) it is peeled off by
    e_t(−α) = e_t − c_α · e_{t−1}(−α). Each slot is a vectorised binary search over classes.
    """

    sizes: np.ndarray  # int64 (C,)
    starts: np.ndarray  # int64 (C,)
    q: int

    @cached_property
    def table(self) -> np.ndarray:
        rows = counts.suffix_elementary(self.sizes.tolist(), self.q)
        largest = max(rows[0]) if rows else 0
        return np.array([as_ranks(r, largest) for r in rows]).reshape(len(rows), self.q + 1)

    @cached_property
    def approx(self) -> np.ndarray:
        """float64 copy of the table, to guess searches before exact Python-int checks."""
        return self.table.astype(np.float64)

    def count_without(self, alpha: np.ndarray) -> np.ndarray:
        """e_q of all classes but alpha (per row)."""
        return self._suffix(np.zeros_like(alpha), self.q, alpha)

    def _suffix(self, j: np.ndarray, t: int, alpha: np.ndarray,
                table: np.ndarray | None = None) -> np.ndarray:
        """e_t(sizes[j:] without class alpha), per row (exact unless given the float table)."""
        table = self.table if table is None else table
        c = self.sizes[alpha].astype(table.dtype)
        v = np.ones(len(j), dtype=table.dtype)
        for i in range(1, t + 1):
            v = table[j, i] - c * v
        return np.where(j > alpha, table[j, t], v)

    def _bisect(self, lo: np.ndarray, r: np.ndarray, t: int, alpha: np.ndarray,
                table: np.ndarray | None = None) -> np.ndarray:
        """Largest j in [lo, C) with e_t(sizes[j:] − α) > r (the suffix count falls with j)."""
        hi = np.full(len(lo), len(self.sizes), dtype=np.int64)
        for _ in range(max(1, int(len(self.sizes)).bit_length())):
            mid = (lo + hi) // 2
            ok = (hi - lo > 1) & (self._suffix(mid, t, alpha, table) > r)
            lo = np.where(ok, mid, lo)
            hi = np.where((hi - lo > 1) & ~ok, mid, hi)
        return lo

    def _largest(self, lo: np.ndarray, r: np.ndarray, t: int, alpha: np.ndarray) -> np.ndarray:
        """`_bisect`, exact; on Python-int tables a float64 search guesses first and only the
        rows whose guess fails the two exact checks are searched exactly."""
        if self.table.dtype != object:
            return self._bisect(lo, r, t, alpha)
        guess = self._bisect(lo.copy(), r.astype(np.float64), t, alpha, self.approx)
        last = len(self.sizes) - 1
        good = (self._suffix(guess, t, alpha) > r) & (
            (guess == last) | (self._suffix(np.minimum(guess + 1, last), t, alpha) <= r))
        if not good.all():
            bad = ~good
            guess[bad] = self._bisect(lo[bad], r[bad], t, alpha[bad])
        return guess

    def unrank(self, ranks: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """(n,) ranks < e_q(−alpha) → (n, q) positions, ascending by class."""
        out = np.empty((len(ranks), self.q), dtype=np.int64)
        r = ranks.astype(self.table.dtype)
        lo = np.zeros(len(ranks), dtype=np.int64)
        for slot in range(self.q):
            t = self.q - slot
            lo = self._largest(lo, r, t, alpha)
            r = r - self._suffix(lo + 1, t, alpha)
            rest = self._suffix(lo + 1, t - 1, alpha)
            out[:, slot] = self.starts[lo] + np.asarray(r // rest, dtype=np.int64)
            r = r % rest
            lo = lo + 1
        return out


@dataclass(frozen=True)
class AnchorBlocks:
    """Anchor, then a set of P positives and a set of Q negatives placed by `pattern`.

    `pattern[j]` says whether slot j+1 holds a positive. Blocks are anchor classes: block α
    has c_α · C(c_α−1, P) · C(N−c_α, Q) tuples, ordered (anchor, positive set, negative set).
    Options: negatives from `distinct` classes (e_Q of the other classes' sizes instead of
    C(N−c_α, Q)); `allow_self` (the anchor's own image may be a positive: C(c_α, P));
    grouped layouts, whose anchors take no positive from their own (class, group) unit.
    """

    layout: ClassLayout
    pattern: tuple[bool, ...]
    distinct: bool = False
    allow_self: bool = False

    @property
    def k(self) -> int:
        return len(self.pattern) + 1

    @property
    def positives(self) -> int:
        return sum(self.pattern)

    @property
    def negatives(self) -> int:
        return len(self.pattern) - self.positives

    @cached_property
    def _units(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(class, first position, anchors, excluded width) of each anchor unit."""
        lay = self.layout
        if not lay.grouped:
            classes = np.arange(len(lay.sizes), dtype=np.int64)
            return classes, lay.starts, lay.sizes, np.ones_like(lay.sizes)
        return lay.class_of(lay.unit_starts), lay.unit_starts, lay.unit_sizes, lay.unit_sizes

    @cached_property
    def _unit_sizes(self) -> list[int]:
        cls, _, anchors, width = self._units
        return counts.anchor_unit_sizes(self.layout.sizes.tolist(), cls.tolist(), anchors.tolist(),
                                        width.tolist(), self.positives, self.negatives,
                                        self.distinct, self.allow_self)

    @cached_property
    def _unit_prefix(self) -> np.ndarray:
        return _prefix(self._unit_sizes)

    @cached_property
    def _neg_sets(self) -> np.ndarray:
        per = counts.negative_sets_per_class(self.layout.sizes.tolist(), self.negatives,
                                             self.distinct)
        return as_ranks(per, max(per, default=0))

    @cached_property
    def _anchor_positive_bound(self) -> int:
        """Largest anchors · C(pool, P) of any unit (bounds the rank without its negatives)."""
        cls, _, anchors, width = self._units
        pools = self.layout.sizes[cls] - width + int(self.allow_self)
        return max((int(a) * comb(max(int(c), 0), self.positives)
                    for a, c in zip(anchors.tolist(), pools.tolist())), default=0)

    @cached_property
    def _distinct_sets(self) -> DistinctClassSets:
        return DistinctClassSets(self.layout.sizes, self.layout.starts, self.negatives)

    def block_sizes(self) -> list[int]:
        """Per anchor class (units of one class summed)."""
        if not self.layout.grouped:
            return list(self._unit_sizes)
        cls = self._units[0]
        out = [0] * len(self.layout.sizes)
        for c, s in zip(cls.tolist(), self._unit_sizes):
            out[c] += s
        return out

    @property
    def size(self) -> int:
        return int(sum(self._unit_sizes))

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        lay, p = self.layout, self.positives
        prefix = self._unit_prefix
        u = _locate(prefix, ranks)
        local = ranks - prefix[u]
        unit_class, unit_first, unit_anchors, unit_width = (a[u] for a in self._units)
        c, start = lay.sizes[unit_class], lay.starts[unit_class]
        pool = c - unit_width + int(self.allow_self)
        neg_space = self._neg_sets[unit_class].astype(local.dtype)
        neg_rank = _narrow(local % neg_space, self._neg_sets)
        local = _narrow(local // neg_space, [self._anchor_positive_bound])
        pos_space = comb_array(pool.astype(local.dtype), p)
        pos_rank, anchor = local % pos_space, local // pos_space
        anchor = unit_first + np.asarray(anchor, dtype=np.int64)
        skip_from = (anchor if not lay.grouped else unit_first) - start
        pos = start[:, None] + self._pool_to_class(
            comb_unrank(pos_rank, pool, p), skip_from[:, None], unit_width[:, None],
            (anchor - start)[:, None])
        out = np.empty((len(ranks), self.k), dtype=np.int64)
        out[:, 0] = anchor
        out[:, np.flatnonzero(self.pattern) + 1] = pos
        out[:, np.flatnonzero(~np.asarray(self.pattern, dtype=bool)) + 1] = \
            self._negatives(neg_rank, unit_class, c, start)
        return out

    def _pool_to_class(self, x: np.ndarray, skip_from: np.ndarray, width: np.ndarray,
                       anchor: np.ndarray) -> np.ndarray:
        """Positive pool index → index in the class: skip the excluded run [e, e + w), which
        (with allow_self) keeps the anchor itself at pool index e."""
        keep = int(self.allow_self)
        y = x + (width - keep) * (x >= skip_from + keep)
        return np.where((x == skip_from) & bool(keep), anchor, y) if keep else y

    def _negatives(self, neg_rank: np.ndarray, unit_class: np.ndarray, c: np.ndarray,
                   start: np.ndarray) -> np.ndarray:
        """(n, Q) negative positions: any Q outside the class, or Q from distinct classes."""
        lay, q = self.layout, self.negatives
        if self.distinct:
            return self._distinct_sets.unrank(neg_rank, unit_class)
        neg = comb_unrank(neg_rank, lay.total - c, q)
        return neg + c[:, None] * (neg >= start[:, None])


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
