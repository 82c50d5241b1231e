"""BuildConfig: every option of a build, its validation, TOML presets, and the content hash."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import SimgenError
from .imaging import COLOR_MODES, INTERPOLATIONS, parse_image_size

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_SHARD_SIZE = 512 * 2**20
LAYOUTS = ("dense", "indexed")  # dense: pixels per tuple; indexed: unique images + indices
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6,
          "mib": 2**20, "g": 10**9, "gb": 10**9, "gib": 2**30}


def parse_size(value: str | int) -> int:
    """'512MiB', '64MB', '1GiB' or a byte count → bytes."""
    if isinstance(value, int):
        size = value
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        if not m or m.group(2).lower() not in _UNITS:
            raise SimgenError(f"--shard-size expects a size like 512MiB or 64MB, got {value!r}")
        size = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if size < 1:
        raise SimgenError(f"--shard-size must be positive, got {value!r}")
    return size


@dataclass
class BuildConfig:
    """All options of a build. Fields listed in RUNTIME_FIELDS do not change the output."""

    directory: str = ""
    learning_size: int = 2
    strategy: str = "combination"
    num_tuples: int | None = None
    positives: int = 1
    positive_ratio: float = 0.5
    allow_small_classes: bool = False
    image_size: tuple[int, int] = (256, 256)
    color_mode: str = "rgb"
    interpolation: str = "bilinear"
    class_names: tuple[str, ...] | None = None
    follow_links: bool = False
    shuffle: bool = True
    seed: int | None = None
    validation_split: float | None = None
    subset: str | None = None
    shard_size: int = DEFAULT_SHARD_SIZE
    compression: str | None = None
    layout: str = "dense"
    jpeg_draft: bool = True
    # run-time only: never part of the content hash or the files
    out: str | None = None
    workers: int | None = None
    quiet: bool = False
    overwrite: bool = False
    extra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.image_size = parse_image_size(self.image_size)
        self.shard_size = parse_size(self.shard_size)
        if self.class_names is not None:
            self.class_names = tuple(self.class_names)

    def validate(self) -> "BuildConfig":
        """Raise SimgenError naming the flag for any invalid value; fill a random seed."""
        if self.learning_size < 2:
            raise SimgenError(f"--learning-size must be at least 2, got {self.learning_size}")
        if self.num_tuples is not None and self.num_tuples < 1:
            raise SimgenError(f"--num-tuples must be at least 1, got {self.num_tuples}")
        if self.color_mode not in COLOR_MODES:
            raise SimgenError(
                f"--color-mode must be one of {', '.join(COLOR_MODES)}, got {self.color_mode!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise SimgenError(f"--interpolation must be one of {', '.join(INTERPOLATIONS)}, "
                              f"got {self.interpolation!r}")
        if self.compression not in (None, "gzip", "lzf"):
            raise SimgenError(f"--compression must be gzip or lzf, got {self.compression!r}")
        if self.layout not in LAYOUTS:
            raise SimgenError(f"--layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        self._validate_split()
        if self.seed is None:
            import numpy as np

            self.seed = int(np.random.randint(1e6))
        return self

    def _validate_split(self) -> None:
        vs, subset = self.validation_split, self.subset
        if vs and not 0 < vs < 1:
            raise SimgenError(f"--validation-split must be between 0 and 1, received: {vs}")
        if (vs or subset) and not (vs and subset):
            raise SimgenError("--subset and --validation-split must be given together")
        if subset not in ("training", "validation", "both", None):
            raise SimgenError(
                f'--subset must be either "training", "validation" or "both", received: {subset}')
        if vs and self.shuffle and self.seed is None:
            raise SimgenError(
                "--validation-split with shuffling needs --seed, so that the training and "
                "validation subsets never overlap")

    def content(self) -> dict[str, Any]:
        """The options that decide the output bytes (hashed into config_hash)."""
        out = {}
        for f in fields(self):
            if f.name in RUNTIME_FIELDS:
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        out.update(self.extra)
        return out


RUNTIME_FIELDS = frozenset({"directory", "out", "workers", "quiet", "overwrite", "extra"})
FIELD_NAMES = frozenset(f.name for f in fields(BuildConfig)) - {"extra"}


def read_config_file(path: str) -> dict[str, Any]:
    """A TOML preset → {field: value}; keys may use dashes; unknown keys are an error."""
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise SimgenError(f"--config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SimgenError(f"--config {path}: {exc}") from None
    values = {key.replace("-", "_"): value for key, value in raw.items()}
    unknown = sorted(set(values) - FIELD_NAMES)
    if unknown:
        raise SimgenError(f"--config {path}: unknown key {unknown[0]!r}")
    return values


def make_config(**options: Any) -> BuildConfig:
    """BuildConfig from keyword options, with a one-line error for an unknown option."""
    unknown = sorted(set(options) - FIELD_NAMES)
    if unknown:
        raise SimgenError(f"unknown option {unknown[0]!r}")
    return BuildConfig(**options)


def replace(config: BuildConfig, **changes: Any) -> BuildConfig:
    return dataclasses.replace(config, **changes)
