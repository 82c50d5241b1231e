"""simgen: materialize k-tuple datasets for similarity learning as sharded HDF5."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import SimgenError  # noqa: E402
from .api import build, load, plan_job, stats  # noqa: E402
from .generator import dataset_from_directory  # noqa: E402
from .api import describe, dry_run, preview, verify  # noqa: E402

__all__ = ["__version__", "SimgenError", "build", "dataset_from_directory", "load", "plan_job",
           "stats"]
__all__ += ["describe", "dry_run", "preview", "verify"]

_FRAMEWORK_GLUE = ("torch", "tf")  # `simgen.torch`, `simgen.tf`: imported on first use only


def __getattr__(name: str):
    """Import the framework glue lazily, so the core never needs torch or TensorFlow."""
    if name in _FRAMEWORK_GLUE:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'simgen' has no attribute {name!r}")
