"""Exceptions that mean "the user asked for something impossible" (one-line CLI error, exit 2)."""
from __future__ import annotations


class SimgenError(Exception):
    """A user mistake: bad path, bad flag value, impossible request. Never a bug."""

    exit_code = 2


class DatasetExistsError(SimgenError):
    """The output directory already holds a dataset and --overwrite was not given."""


class SpaceTooSmall(SimgenError):
    """More tuples were asked of a split than its tuple space holds."""

    def __init__(self, strategy: str, count: int, size: int):
        self.strategy, self.count, self.size = strategy, count, size
        super().__init__(f"--num-tuples {count:,} is larger than the {strategy} space of "
                         f"{size:,} tuples")
