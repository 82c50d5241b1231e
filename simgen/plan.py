"""A Plan: which tuples a split gets, computable for any position range without global state.

A plan draws `counts[s]` tuples uniformly without replacement from each stratum s (a
contiguous rank range of the space), via a keyed Feistel permutation per stratum; an outer
permutation interleaves strata. Position p → stratum → local draw → rank → unrank → tuple.
Memory is O(number of strata), never O(space size) or O(tuples).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .combinatorics import as_ranks
from .feistel import FeistelPermutation, round_keys

if TYPE_CHECKING:
    from .strategies.spaces import ClassLayout, TupleSpace


@dataclass
class Plan:
    """Draw `counts[s]` of `sizes[s]` tuples from each stratum s of `space`."""

    space: TupleSpace
    layout: ClassLayout
    offsets: np.ndarray  # rank where each stratum starts (int64 or object)
    sizes: np.ndarray  # stratum sizes (int64 or object)
    counts: np.ndarray  # int64 draws per stratum
    seed: int
    shuffle: bool = True
    shortfalls: list = field(default_factory=list)  # balance.shortfall entries
    block_counts: np.ndarray | None = None  # draws per block of the space (all blocks)

    def __post_init__(self) -> None:
        self.cum = np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)
        self.inner = FeistelPermutation(round_keys(self.seed, "stratum"))
        self.outer = FeistelPermutation(round_keys(self.seed, "order"))

    @classmethod
    def single(cls, space: TupleSpace, layout: ClassLayout, count: int, seed: int, shuffle: bool):
        """One stratum: the whole space, `count` tuples drawn uniformly (all of them if equal)."""
        size = space.size
        return cls(space, layout, as_ranks([0], size), as_ranks([size], size),
                   np.array([count], dtype=np.int64), seed, shuffle,
                   block_counts=np.array([count], dtype=np.int64))

    @property
    def num_tuples(self) -> int:
        return int(self.cum[-1])

    def ranks(self, start: int, stop: int) -> np.ndarray:
        """Space ranks of the tuples at plan positions [start, stop)."""
        pos = np.arange(start, stop, dtype=np.int64)
        if self.shuffle and len(self.counts) > 1:
            pos = self.outer(pos, self.num_tuples)
        stratum = np.searchsorted(self.cum, pos, side="right") - 1
        local = pos - self.cum[stratum]
        sizes = self.sizes[stratum]
        full = self.counts[stratum] == sizes
        draw = self.inner(local, sizes, stratum)
        if not self.shuffle:  # enumerate complete strata in rank order
            draw = np.where(full, local, draw)
        return self.offsets[stratum] + draw

    def positions(self, start: int, stop: int) -> np.ndarray:
        """(n, k) class-layout positions of the tuples at plan positions [start, stop)."""
        return self.space.unrank(self.ranks(start, stop))

    def rows(self, start: int, stop: int) -> np.ndarray:
        """(n, k) split rows (indices into the split's SourceIndex) of those tuples."""
        return self.layout.order[self.positions(start, stop)]


def stratified_plan(space: TupleSpace, layout: ClassLayout, counts: np.ndarray, seed: int,
                    shuffle: bool, shortfalls: list | None = None) -> Plan:
    """A plan drawing `counts[b]` tuples from block b of `space` (blocks in rank order)."""
    blocks = as_ranks(space.block_sizes(), space.size)
    offsets = as_ranks(np.concatenate([[0], np.cumsum(blocks)[:-1]]), space.size)
    counts = np.asarray(counts, dtype=np.int64)
    keep = counts > 0
    return Plan(space, layout, offsets[keep], blocks[keep], counts[keep], seed, shuffle,
                list(shortfalls or []), counts)


def apportion(total: int, weights: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Split `total` draws over strata in proportion to `weights`, never above `capacity`.

    Largest-remainder rounding (deterministic, ties to the lower index); what a full stratum
    cannot take is re-spread over the others. Returns int64 counts summing to
    min(total, sum(capacity)).
    """
    weights = np.asarray(weights, dtype=np.float64)
    cap = np.array([min(int(c), total) for c in np.asarray(capacity).tolist()], dtype=np.int64)
    counts = np.zeros(len(cap), dtype=np.int64)
    remaining = min(total, int(cap.sum()))
    while remaining > 0:
        open_ = (counts < cap) & (weights > 0)
        if not open_.any():
            open_ = counts < cap
            weights = np.ones_like(weights)
        share = np.where(open_, weights, 0.0)
        ideal = remaining * share / share.sum()
        add = np.floor(ideal).astype(np.int64)
        order = np.argsort(-(ideal - add), kind="stable")
        add[order[: remaining - int(add.sum())]] += 1
        add = np.minimum(add, cap - counts)
        counts += add
        remaining -= int(add.sum())
    return counts
