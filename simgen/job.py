"""Plan a whole job without decoding a pixel: index → splits → plans → shard specs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import counts
from .config import BuildConfig
from .errors import SimgenError
from .imaging import ImageSpec
from .index import SourceIndex, index_directory
from .keras_args import (check_crop_pad, check_indexed, check_not_empty, found_message,
                         using_messages)
from .manifest import config_hash
from .plan import Plan
from .shards import ShardSpec, shard_specs
from .split import split_index
from .strategies import StrategyOptions, get_strategy
from .strategies.spaces import ClassLayout
from .validate import BadFile, screen

TUPLE_OVERHEAD = 16  # bytes per tuple element beyond pixels: class + source ids, label


@dataclass
class SplitPlan:
    """One split's images, the plan of its tuples, and its shards."""

    name: str
    index: SourceIndex
    plan: Plan
    shards: list[ShardSpec]

    @property
    def num_tuples(self) -> int:
        return self.plan.num_tuples


@dataclass
class Job:
    """Everything a build needs, decided up front and cheap to ship to workers."""

    config: BuildConfig
    index: SourceIndex
    image: ImageSpec
    splits: dict[str, SplitPlan]
    skipped: list[BadFile] = field(default_factory=list)  # left out by the validation pass

    @property
    def config_hash(self) -> str:
        return config_hash(self.config.content())

    @property
    def num_tuples(self) -> int:
        return sum(s.num_tuples for s in self.splits.values())


def strategy_options(config: BuildConfig) -> StrategyOptions:
    return StrategyOptions(config.positives, config.positive_ratio, config.allow_small_classes)


def allot_tuples(total: int | None, sizes: dict[str, int]) -> dict[str, int | None]:
    """Share --num-tuples between splits in proportion to their image counts."""
    if total is None:
        return {name: None for name in sizes}
    names = list(sizes)
    n = sum(sizes.values())
    out, given = {}, 0
    for name in names[:-1]:
        out[name] = max(1, round(total * sizes[name] / n)) if sizes[name] else 0
        given += out[name]
    out[names[-1]] = max(1, total - given) if len(names) > 1 else total
    return out


def tuples_per_shard(config: BuildConfig, image: ImageSpec) -> int:
    tuple_bytes = config.learning_size * (image.nbytes + TUPLE_OVERHEAD)
    return max(1, config.shard_size // tuple_bytes)


Echo = Callable[[str], None]


def _silent(line: str) -> None:
    """The default echo: print nothing."""


def indexed(config: BuildConfig, echo: Echo | None = None) -> SourceIndex:
    """Validate the config and index the directory (keras's file set, order and checks).

    `echo` receives keras's "Found …" line when keras prints it.
    """
    config.validate()
    get_strategy(config.strategy)
    index = index_directory(config.directory, config.class_names, config.follow_links,
                            labels=config.labels)
    (echo or _silent)(found_message(len(index), index.num_classes, config.labels is not None))
    check_indexed(config, index.class_names)
    return index


def index_and_split(config: BuildConfig, echo: Echo | None = None,
                    ) -> tuple[SourceIndex, dict[str, SourceIndex]]:
    """Validate the config, index the directory and cut it into named splits (keras order)."""
    index = indexed(config, echo)
    return index, split_parts(config, index, echo)


def split_parts(config: BuildConfig, index: SourceIndex,
                echo: Echo | None = None) -> dict[str, SourceIndex]:
    """Cut `index` into keras's splits; print keras's "Using …" lines; refuse an empty split."""
    parts = split_index(index, config.validation_split, config.subset, config.shuffle, config.seed)
    for line in using_messages({n: len(p) for n, p in parts.items()}, config.validation_split):
        (echo or _silent)(line)
    check_not_empty(config.directory, {n: len(p) for n, p in parts.items()}, config.subset)
    check_crop_pad(config.crop_to_aspect_ratio, config.pad_to_aspect_ratio)
    return parts


def screened_index(config: BuildConfig, echo: Echo | None = None,
                   ) -> tuple[SourceIndex, list[BadFile]]:
    """Index, then vet every file (validate.py) before anything is split or planned."""
    from .executor import default_workers  # executor imports this module

    return screen(indexed(config, echo), config.on_error, config.max_pixels,
                  config.follow_links, config.workers or default_workers())


def require_labels(config: BuildConfig) -> None:
    """Similarity labels compare classes: refuse labels=None (no classes to compare)."""
    if config.labels is None:
        raise SimgenError(
            "labels=None (or label_mode=None) gives images without classes, so no similar / "
            "dissimilar tuples can be formed; use --labels inferred (class folders) or "
            "--labels-file")


def plan_job(config: BuildConfig, echo: Echo | None = None) -> Job:
    """Validate, index, split and plan; raises SimgenError before anything is written."""
    index, skipped = screened_index(config, echo)
    parts = split_parts(config, index, echo)
    require_labels(config)
    strategy = get_strategy(config.strategy)
    options = strategy_options(config)
    image = ImageSpec.from_config(config)
    wanted = allot_tuples(config.num_tuples, {n: len(p) for n, p in parts.items()})
    per_shard = tuples_per_shard(config, image)
    splits = {}
    for name, part in parts.items():
        layout = ClassLayout.from_class_ids(part.class_ids, index.num_classes)
        strategy.check_classes(layout, index.class_names, config.learning_size, options, name)
        try:
            plan = strategy.plan(layout, config.learning_size, options, wanted[name],
                                 config.seed, config.shuffle)
        except SimgenError as exc:
            if len(parts) == 1:
                raise
            raise SimgenError(f"split {name!r} ({wanted[name]} of the tuples): {exc}") from None
        splits[name] = SplitPlan(name, part, plan, shard_specs(name, plan.num_tuples, per_shard))
    return Job(config, index, image, splits, skipped)


def split_counts(part: SourceIndex, k: int, positives: int) -> dict:
    """Image and class counts of one split, and every count of counts.summary for them."""
    sizes = part.class_counts().tolist()
    return {
        "images": len(part),
        "classes": sum(1 for c in sizes if c),
        "class_counts": sizes,
        "counts": counts.summary(sizes, k, positives if k >= 3 else 1),
    }


def split_summary(split: SplitPlan, k: int, positives: int) -> dict:
    """Per-split entry of the manifest: counts plus what was planned."""
    return {
        **split_counts(split.index, k, positives),
        "tuples": split.num_tuples,
        "space": split.plan.space.size,
        "shards": len(split.shards),
    }
