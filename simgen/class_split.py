"""Metric-learning splits: class-disjoint train/test, and group-aware keras splits.

`--split-classes F`: classes in sorted (keras) order, the first ⌊F·C⌋ train, the rest test,
as in the CUB-200 / Cars196 papers. `--class-split-file F.json`: {"train": [class, …],
"test": [class, …]} (split names: train, validation, test), every class listed exactly once.
`--group-pattern REGEX`: files whose relative path gives the same match (first capture
group, else the whole match) form a group; no group ever straddles two splits.
"""
from __future__ import annotations

import math
import re

import numpy as np

from .errors import SimgenError
from .jsonfile import read_json
from .index import SourceIndex

SPLIT_NAMES = ("train", "validation", "test")


def group_ids(paths: tuple[str, ...], pattern: str) -> np.ndarray:
    """int64 group id per path; a path the pattern does not match is a group of its own."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise SimgenError(f"--group-pattern {pattern!r} is not a valid regular expression: "
                          f"{exc}") from None
    ids: dict[str, int] = {}
    out = np.empty(len(paths), dtype=np.int64)
    for i, path in enumerate(paths):
        m = rx.search(path)
        key = (m.group(1) if rx.groups else m.group(0)) if m else "\0" + path
        out[i] = ids.setdefault(key, len(ids))
    return out


def classes_by_fraction(num_classes: int, fraction: float) -> dict[str, list[int]]:
    """First ⌊fraction·C⌋ class ids train, the rest test; both sides non-empty."""
    if not 0 < fraction < 1:
        raise SimgenError(f"--split-classes must be between 0 and 1, got {fraction}")
    cut = math.floor(fraction * num_classes + 1e-9)
    if not 0 < cut < num_classes:
        raise SimgenError(f"--split-classes {fraction} of {num_classes} classes leaves a split "
                          "with no class")
    return {"train": list(range(cut)), "test": list(range(cut, num_classes))}


def classes_from_file(path: str, class_names: tuple[str, ...]) -> dict[str, list[int]]:
    """Read {"split": [class names]}; every class exactly once, only known split names."""
    raw = read_json(path, f"--class-split-file not found: {path}", f"--class-split-file {path}")
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise SimgenError(f"--class-split-file {path}: expected {{\"train\": [class, …], "
                          "\"test\": [class, …]}")
    ids = {name: i for i, name in enumerate(class_names)}
    seen: dict[str, str] = {}
    out: dict[str, list[int]] = {}
    for split, names in raw.items():
        if split not in SPLIT_NAMES:
            raise SimgenError(f"--class-split-file {path}: unknown split {split!r}; use "
                              f"{', '.join(SPLIT_NAMES)}")
        for name in names:
            if name not in ids:
                raise SimgenError(f"--class-split-file {path}: no class folder {name!r}")
            if name in seen:
                raise SimgenError(f"--class-split-file {path}: class {name!r} is in both "
                                  f"{seen[name]!r} and {split!r}")
            seen[name] = split
        out[split] = sorted(ids[n] for n in names)
    missing = [n for n in class_names if n not in seen]
    if missing:
        raise SimgenError(f"--class-split-file {path}: class {missing[0]!r} is in no split"
                          + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return {name: out[name] for name in SPLIT_NAMES if out.get(name)}


def split_by_classes(index: SourceIndex, classes: dict[str, list[int]],
                     groups: np.ndarray | None) -> dict[str, SourceIndex]:
    """Cut `index` (already in keras order) into class-disjoint splits; groups may not straddle."""
    split_of_class = np.empty(index.num_classes, dtype=np.int64)
    names = list(classes)
    for s, ids in enumerate(classes.values()):
        split_of_class[ids] = s
    split_of_row = split_of_class[index.class_ids]
    if groups is not None:
        check_groups_unsplit(index, groups, split_of_row)
    return {name: index.subset(np.flatnonzero(split_of_row == s)) for s, name in enumerate(names)}


def check_groups_unsplit(index: SourceIndex, groups: np.ndarray, split_of_row: np.ndarray) -> None:
    """Refuse a class split that puts one group's files into two splits."""
    g = groups[index.source_ids]
    low = np.full(g.max() + 1, len(split_of_row), dtype=np.int64)
    high = np.full(g.max() + 1, -1, dtype=np.int64)
    np.minimum.at(low, g, split_of_row)
    np.maximum.at(high, g, split_of_row)
    bad = np.flatnonzero(low[g] != high[g])
    if len(bad):
        raise SimgenError(f"--group-pattern: the group of {index.paths[bad[0]]} has files in "
                          "classes on both sides of the class split")


def group_validation_rows(groups: np.ndarray, num_train: int) -> np.ndarray:
    """Bool per row (keras order): validation or not, moving whole groups.

    Groups are ordered by their first file in keras order and laid end to end; keras's cut
    at `num_train` then decides, and a group it would cut stays whole on the train side (so
    the validation split is smaller than keras's by less than one group).
    """
    ids, first, inverse, sizes = np.unique(groups, return_index=True, return_inverse=True,
                                           return_counts=True)
    order = np.argsort(first, kind="stable")
    before = np.empty(len(ids), dtype=np.int64)
    before[order] = np.concatenate([[0], np.cumsum(sizes[order])[:-1]])
    return before[inverse.ravel()] >= num_train
