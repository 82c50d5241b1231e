"""The shared strategy interface and its options. Each strategy is one small class."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np

from ..balance import class_shortfalls
from ..combinatorics import as_ranks
from ..errors import SimgenError, SpaceTooSmall
from ..plan import Plan, stratified_plan
from .spaces import ClassLayout, TupleSpace

#: Refuse to enumerate a whole space larger than this without --num-tuples.
MAX_ENUMERATION = 10_000_000


@dataclass(frozen=True)
class StrategyOptions:
    """Knobs shared by strategies; each strategy reads the ones it understands."""

    positives: int = 1
    positive_ratio: float = 0.5
    allow_small_classes: bool = False
    distinct_negative_classes: bool = False
    allow_self: bool = False
    tuples_per_class: int | None = None


class Strategy:
    """Turns a split's ClassLayout into an exact TupleSpace and a Plan of tuples to draw."""

    name: ClassVar[str]
    summary: ClassVar[str]
    #: the least images an anchor class needs, given k and options (0: no requirement)
    def min_anchor_class_size(self, k: int, options: StrategyOptions) -> int:
        return 0

    def space(self, layout: ClassLayout, k: int, options: StrategyOptions) -> TupleSpace:
        raise NotImplementedError

    def default_num_tuples(self, layout: ClassLayout, space: TupleSpace) -> int:
        """Without --num-tuples: the whole space (refused when too large to list)."""
        if space.size > MAX_ENUMERATION:
            raise SimgenError(
                f"the {self.name} space has {space.size:,} tuples, too many to build whole; "
                "pass --num-tuples N to sample N of them"
            )
        return space.size

    def plan(
        self,
        layout: ClassLayout,
        k: int,
        options: StrategyOptions,
        num_tuples: int | None,
        seed: int,
        shuffle: bool = True,
        class_names: Sequence[str] | None = None,
    ) -> Plan:
        """Draw `num_tuples` distinct tuples uniformly from the space (all when None), or
        `options.tuples_per_class` per anchor class (shortfalls reported in the plan)."""
        space = self.space(layout, k, options)
        names = list(class_names) if class_names else [str(i) for i in range(len(layout.sizes))]
        if options.tuples_per_class is not None:
            if num_tuples is not None:
                raise SimgenError("--num-tuples and --tuples-per-class exclude each other; "
                                  "pass one of them")
            if options.tuples_per_class < 1:
                raise SimgenError(
                    f"--tuples-per-class must be at least 1, got {options.tuples_per_class}")
            return self.draw_per_class(space, layout, options, seed, shuffle, names)
        count = self.default_num_tuples(layout, space) if num_tuples is None else num_tuples
        if count > space.size:
            raise SpaceTooSmall(self.name, count, space.size)
        return self.draw(space, layout, count, options, seed, shuffle, names)

    def draw(self, space: TupleSpace, layout: ClassLayout, count: int,
             options: StrategyOptions, seed: int, shuffle: bool,
             class_names: Sequence[str]) -> Plan:
        """How `count` tuples are drawn from `space`: uniformly over the whole space."""
        return Plan.single(space, layout, count, seed, shuffle)

    def draw_per_class(self, space: TupleSpace, layout: ClassLayout, options: StrategyOptions,
                       seed: int, shuffle: bool, class_names: Sequence[str]) -> Plan:
        """`options.tuples_per_class` from each anchor class's block (all of it if smaller)."""
        blocks = space.block_sizes()
        if len(blocks) != len(layout.sizes):
            raise SimgenError(f"--tuples-per-class needs a space laid out by anchor class "
                              f"(combination with k ≥ 3, or random); the {self.name} space for "
                              f"k={space.k} is not: use --strategy random for pairs")
        quota = int(options.tuples_per_class)
        capacity = as_ranks(blocks, space.size).reshape(1, -1)
        active = layout.sizes > 0
        got = np.where(active, [min(quota, int(b)) for b in blocks], 0).reshape(1, -1)
        want = np.where(active, quota, 0).reshape(1, -1)
        short = class_shortfalls(got, want, capacity, class_names, "")
        return stratified_plan(space, layout, got.ravel(), seed, shuffle, short)

    def check_classes(
        self, layout: ClassLayout, class_names: Sequence[str], k: int, options: StrategyOptions,
        split: str,
    ) -> None:
        """Refuse classes too small to anchor the requested pattern (unless allowed)."""
        need = self.min_anchor_class_size(k, options)
        small = [i for i in np.flatnonzero((layout.sizes > 0) & (layout.sizes < need))]
        if small and not options.allow_small_classes:
            names = ", ".join(repr(class_names[i]) for i in small[:5])
            more = f" and {len(small) - 5} more" if len(small) > 5 else ""
            noun = "class" if len(small) == 1 else "classes"
            verb = "has" if len(small) == 1 else "have"
            raise SimgenError(
                f"{noun} {names}{more} {verb} fewer than {need} images in split {split!r}, "
                f"too few to anchor a {self.name} tuple with positives; pass "
                "--allow-small-classes to use such classes only as negatives"
            )
