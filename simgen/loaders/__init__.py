"""Readers for built datasets. `simgen.load` is the framework-free entry point; the framework
glue lives in `simgen.torch` and `simgen.tf` (imported only when used)."""
from .numpy import DEFAULT_FIELDS, FIELDS, TupleSplit, load

__all__ = ["DEFAULT_FIELDS", "FIELDS", "TupleSplit", "load"]
