"""The shared strategy interface and its options. Each strategy is one small class."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np

from ..errors import SimgenError
from ..plan import Plan
from .spaces import ClassLayout, TupleSpace

#: Refuse to enumerate a whole space larger than this without --num-tuples.
MAX_ENUMERATION = 10_000_000


@dataclass(frozen=True)
class StrategyOptions:
    """Knobs shared by strategies; each strategy reads the ones it understands."""

    positives: int = 1
    positive_ratio: float = 0.5
    allow_small_classes: bool = False


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
    ) -> Plan:
        """Draw `num_tuples` distinct tuples uniformly from the space (all when None)."""
        space = self.space(layout, k, options)
        count = self.default_num_tuples(layout, space) if num_tuples is None else num_tuples
        if count > space.size:
            raise SimgenError(
                f"--num-tuples {count:,} is larger than the {self.name} space of "
                f"{space.size:,} tuples"
            )
        return self.draw(space, layout, count, options, seed, shuffle)

    def draw(self, space: TupleSpace, layout: ClassLayout, count: int,
             options: StrategyOptions, seed: int, shuffle: bool) -> Plan:
        """How `count` tuples are drawn from `space`: uniformly over the whole space."""
        return Plan.single(space, layout, count, seed, shuffle)

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
