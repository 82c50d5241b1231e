"""Readers for built datasets. `simgen.load` is the framework-free entry point."""
from .numpy import TupleSplit, load

__all__ = ["TupleSplit", "load"]
