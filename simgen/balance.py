"""Balance: how a tuple budget is spread over strata, and honest shortfall reports.

A stratum is one (anchor class, slot pattern) block of a space. Budgets are either a total
(--num-tuples, spread by weight) or a quota per anchor class (--tuples-per-class). A stratum
never gives more than it holds and nothing is drawn twice; whatever a budget asked for and
could not get is reported as "requested X, produced Y, because …", never filled silently.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .plan import apportion


def shortfall(scope: str, requested: int, produced: int, reason: str) -> dict:
    """One JSON-ready shortfall entry."""
    return {"scope": scope, "requested": int(requested), "produced": int(produced),
            "reason": reason}


def describe(entry: dict) -> str:
    """'class 'cat': requested 100, produced 12, because …' for the CLI."""
    return (f"{entry['scope']}: requested {entry['requested']:,}, produced "
            f"{entry['produced']:,}, because {entry['reason']}")


def unlimited(n: int, total: int) -> np.ndarray:
    """Capacities that never bind (to compute the ideal, uncapped allotment)."""
    return np.full(n, max(total, 1), dtype=np.int64)


def per_class_quota(quota: int, weights: np.ndarray, capacity: np.ndarray,
                    active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counts, ideal) of shape (strata per class, classes): `quota` per active class, spread
    over that class's strata by `weights`, never above `capacity` (same shape)."""
    counts = np.zeros(capacity.shape, dtype=np.int64)
    ideal = np.zeros(capacity.shape, dtype=np.int64)
    for c in np.flatnonzero(active).tolist():
        counts[:, c] = apportion(quota, weights, capacity[:, c])
        ideal[:, c] = apportion(quota, weights, unlimited(len(weights), quota))
    return counts, ideal


def class_shortfalls(counts: np.ndarray, ideal: np.ndarray, capacity: np.ndarray,
                     class_names: Sequence[str], why: str) -> list[dict]:
    """Entries for anchor classes given fewer tuples than asked (columns = classes)."""
    got, want = counts.sum(axis=0), ideal.sum(axis=0)
    cap = [sum(int(v) for v in col) for col in capacity.T.tolist()]
    return [
        shortfall(f"class {class_names[c]!r}", want[c], got[c],
                  f"its anchor space holds only {cap[c]:,} tuples{why}")
        for c in np.flatnonzero(got < want).tolist()
    ]
