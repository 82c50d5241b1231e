"""Plan a whole job without decoding a pixel: index → splits → plans → shard specs."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from . import counts
from .config import BuildConfig, default_workers
from .errors import SimgenError, SpaceTooSmall
from .imaging import ImageSpec
from .index import SourceIndex, index_directory
from .keras_args import (check_crop_pad, check_indexed, check_not_empty, found_message,
                         using_messages)
from .manifest import config_hash
from .plan import Plan
from .shards import ShardSpec, shard_specs
from .class_split import classes_by_fraction, classes_from_file, group_ids, split_by_classes
from .space_stats import plan_summary, strategy_bias, strategy_spaces
from .split import keras_shuffle, split_index
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
    options: StrategyOptions | None = None

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
    groups: np.ndarray | None = None  # group id per source file (--group-pattern)
    screened: bool = True  # every file was probed before planning (else the build vets them)

    @property
    def config_hash(self) -> str:
        return config_hash(self.config.content())

    @cached_property
    def fingerprint(self) -> str:
        """The input fingerprint, taken once: the resume key and the manifest must agree."""
        return self.index.fingerprint()

    @property
    def num_tuples(self) -> int:
        return sum(s.num_tuples for s in self.splits.values())


def strategy_options(config: BuildConfig) -> StrategyOptions:
    return StrategyOptions(config.positives, config.positive_ratio, config.allow_small_classes,
                           config.distinct_negative_classes, config.allow_self,
                           config.tuples_per_class)


def allot_tuples(total: int | None, sizes: dict[str, int]) -> dict[str, int | None]:
    """Share --num-tuples between splits in proportion to their image counts (largest
    remainder: the shares sum to exactly `total`; every split with images gets one)."""
    if total is None:
        return {name: None for name in sizes}
    filled = [name for name, n in sizes.items() if n]
    if total < len(filled):
        raise SimgenError(f"--num-tuples {total} is too small to give each of the "
                          f"{len(filled)} splits a tuple")
    n = sum(sizes.values())
    exact = {name: total * sizes[name] / n for name in sizes}
    out = {name: max(int(share), 1 if sizes[name] else 0) for name, share in exact.items()}
    by_remainder = sorted(sizes, key=lambda name: out[name] - exact[name])
    for name in by_remainder[: total - sum(out.values())]:
        out[name] += 1
    return out


def tuples_per_shard(config: BuildConfig, image: ImageSpec) -> int:
    tuple_bytes = config.learning_size * (image.nbytes + TUPLE_OVERHEAD)
    return max(1, config.shard_size // tuple_bytes)


def class_disjoint(config: BuildConfig) -> bool:
    return config.split_classes is not None or bool(config.class_split_file)


def cut_splits(config: BuildConfig, index: SourceIndex,
               groups: np.ndarray | None) -> dict[str, SourceIndex]:
    """Class-disjoint splits (--split-classes / --class-split-file) or keras's image split."""
    if not class_disjoint(config):
        return split_index(index, config.validation_split, config.subset, config.shuffle,
                           config.seed, groups)
    if config.class_split_file:
        classes = classes_from_file(config.class_split_file, index.class_names)
    else:
        classes = classes_by_fraction(index.num_classes, config.split_classes)
    ordered = keras_shuffle(index, config.seed) if config.shuffle else index
    return split_by_classes(ordered, classes, groups)


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
    if config.labels is None and config.allow_self:
        index = instance_classes(index)
    return index


def instance_classes(index: SourceIndex) -> SourceIndex:
    """labels=None with --augment --allow-self: every image is its own class (its path), so
    the only positive of an anchor is an augmented copy of itself (self-supervised)."""
    ids = np.arange(len(index), dtype=np.int32)
    return SourceIndex(index.root, index.paths, ids, tuple(index.paths), index.source_ids)


def source_groups(config: BuildConfig, index: SourceIndex) -> np.ndarray | None:
    """Group id per file of `index` (--group-pattern), or None."""
    return group_ids(index.paths, config.group_pattern) if config.group_pattern else None


def index_split_groups(
    config: BuildConfig, echo: Echo | None = None,
) -> tuple[SourceIndex, dict[str, SourceIndex], np.ndarray | None]:
    """Validate the config, index the directory, find groups and cut it into named splits."""
    index = indexed(config, echo)
    groups = source_groups(config, index)
    return index, split_parts(config, index, echo, groups), groups


def index_and_split(config: BuildConfig, echo: Echo | None = None,
                    ) -> tuple[SourceIndex, dict[str, SourceIndex]]:
    """Validate the config, index the directory and cut it into named splits (keras order)."""
    index, parts, _ = index_split_groups(config, echo)
    return index, parts


def split_parts(config: BuildConfig, index: SourceIndex, echo: Echo | None = None,
                groups: np.ndarray | None = None) -> dict[str, SourceIndex]:
    """Cut `index` into its splits; print keras's "Using …" lines; refuse an empty split."""
    parts = cut_splits(config, index, groups)
    if not class_disjoint(config):
        for line in using_messages({n: len(p) for n, p in parts.items()},
                                   config.validation_split):
            (echo or _silent)(line)
    check_not_empty(config.directory, {n: len(p) for n, p in parts.items()}, config.subset)
    check_crop_pad(config.crop_to_aspect_ratio, config.pad_to_aspect_ratio)
    return parts


SCREENING = ("full", "deferred", "none")


def screened_index(config: BuildConfig, echo: Echo | None = None, screening: str = "full",
                   ) -> tuple[SourceIndex, list[BadFile], bool]:
    """Index, then vet the files (validate.py) before anything is split or planned; also
    whether every file was opened and probed (see plan_job for `screening`)."""
    probe = screening == "full" or (screening == "deferred" and config.on_error == "skip")
    index, skipped = screen(indexed(config, echo), config.on_error, config.max_pixels,
                            config.follow_links, config.workers or default_workers(), probe)
    return index, skipped, probe


def split_layout(config: BuildConfig, part: SourceIndex, num_classes: int,
                 groups: np.ndarray | None) -> ClassLayout:
    """The split's class layout; groups make (class, group) units unless same-group positives
    are allowed."""
    tuple_groups = None
    if groups is not None and not config.allow_same_group_positives:
        tuple_groups = groups[part.source_ids]
    return ClassLayout.from_class_ids(part.class_ids, num_classes, tuple_groups)


def plan_split(config: BuildConfig, name: str, part: SourceIndex, index: SourceIndex,
               groups: np.ndarray | None, wanted: int | None, single: bool) -> Plan:
    """Check the split's classes and plan its tuples (errors name the split when several)."""
    strategy = get_strategy(config.strategy)
    options = strategy_options(config)
    layout = split_layout(config, part, index.num_classes, groups)
    strategy.check_classes(layout, index.class_names, config.learning_size, options, name)
    try:
        return strategy.plan(layout, config.learning_size, options, wanted, config.seed,
                             config.shuffle, index.class_names)
    except SpaceTooSmall as exc:
        if single or config.num_tuples is None:
            raise
        raise SimgenError(f"split {name!r}: -n {config.num_tuples:,} gives it {exc.count:,} "
                          f"tuples (its share of the images), more than its {exc.strategy} "
                          f"space of {exc.size:,}") from None
    except SimgenError as exc:
        if single:
            raise
        raise SimgenError(f"split {name!r}: {exc}") from None


def require_labels(config: BuildConfig) -> None:
    """Similarity labels compare classes: refuse labels=None (no classes to compare) unless
    positives are augmented copies of the anchor (--augment --allow-self)."""
    if config.labels is None and not config.allow_self:
        raise SimgenError(
            "labels=None (or label_mode=None) gives images without classes, so no similar / "
            "dissimilar tuples can be formed; use --labels inferred (class folders) or "
            "--labels-file, or --augment … --allow-self for self-supervised positives "
            "(an image and its augmented copy)")


def plan_job(config: BuildConfig, echo: Echo | None = None, screening: str = "full") -> Job:
    """Validate, index, split and plan; raises SimgenError before anything is written.

    `screening` "full" opens and probes every file first (all bad ones in one error, or left
    out with --on-error skip). "deferred" (what build does) leaves that to the build's decode
    stage, which opens every file anyway, unless --on-error skip needs the final file set
    before planning. "none" (--dry-run) opens no file. Links out of the directory are
    always dropped.
    """
    if screening not in SCREENING:
        raise ValueError(f"screening must be one of {SCREENING}, got {screening!r}")
    index, skipped, probed = screened_index(config, echo, screening)
    groups = source_groups(config, index)
    parts = split_parts(config, index, echo, groups)
    require_labels(config)
    image = ImageSpec.from_config(config)
    wanted = allot_tuples(config.num_tuples, {n: len(p) for n, p in parts.items()})
    per_shard = tuples_per_shard(config, image)
    splits = {}
    for name, part in parts.items():
        plan = plan_split(config, name, part, index, groups, wanted[name], len(parts) == 1)
        splits[name] = SplitPlan(name, part, plan, shard_specs(name, plan.num_tuples, per_shard),
                                 strategy_options(config))
    return Job(config, index, image, splits, skipped, groups, probed)


def split_counts(part: SourceIndex, k: int, positives: int) -> dict:
    """Image and class counts of one split, and every count of counts.summary for them."""
    sizes = part.class_counts().tolist()
    return {
        "images": len(part),
        "classes": sum(1 for c in sizes if c),
        "class_counts": sizes,
        "counts": counts.summary(sizes, k, positives if k >= 3 else 1),
    }


def source_counts(job: Job) -> dict:
    """The manifest's counts over the whole source: the paper's formulas, plus every
    strategy's space and bias from the same space code as the splits (groups, self-pairs and
    distinct negative classes included)."""
    config, k = job.config, job.config.learning_size
    out = counts.summary(job.index.class_counts().tolist(), k,
                         config.positives if k >= 3 else 1)
    layout = split_layout(config, job.index, job.index.num_classes, job.groups)
    out["spaces"] = strategy_spaces(layout, k, strategy_options(config))
    out["bias"] = strategy_bias(layout, k, strategy_options(config))
    return out


def split_summary(split: SplitPlan, k: int, positives: int) -> dict:
    """Per-split entry of the manifest: counts, every strategy's space, and what was planned
    (tuples, space, per-class, shortfalls), all from the code that draws the tuples."""
    out = split_counts(split.index, k, positives)
    options = split.options or StrategyOptions(positives)
    out["counts"]["spaces"] = strategy_spaces(split.plan.layout, k, options)
    out["counts"]["bias"] = strategy_bias(split.plan.layout, k, options)
    out["class_names"] = [n for n, c in zip(split.index.class_names, out["class_counts"]) if c]
    return {**out, **plan_summary(split.plan, split.index.class_names),
            "shards": len(split.shards)}


def split_stats(config: BuildConfig, name: str, part: SourceIndex, index: SourceIndex,
                groups: np.ndarray | None, wanted: int | None, single: bool) -> dict:
    """`stats` for one split: counts, every strategy's space, and the plan it would get
    (or why it cannot be planned), without decoding anything."""
    k = config.learning_size
    out = split_counts(part, k, config.positives)
    layout = split_layout(config, part, index.num_classes, groups)
    out["counts"]["spaces"] = strategy_spaces(layout, k, strategy_options(config))
    out["counts"]["bias"] = strategy_bias(layout, k, strategy_options(config))
    try:
        plan = plan_split(config, name, part, index, groups, wanted, single)
        out["plan"] = plan_summary(plan, index.class_names)
    except SimgenError as exc:
        out["plan"] = {"error": str(exc)}
    return out
