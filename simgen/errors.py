"""Exceptions that mean "the user asked for something impossible" (one-line CLI error, exit 2)."""
from __future__ import annotations


class SimgenError(Exception):
    """A user mistake: bad path, bad flag value, impossible request. Never a bug."""

    exit_code = 2


class DatasetExistsError(SimgenError):
    """The output directory already holds a dataset and --overwrite was not given."""
