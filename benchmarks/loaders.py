"""Reader speed: simgen's loaders against raw h5py on the same shards (64x64 RGB triplets).

    python benchmarks/loaders.py [--tuples 8000] [--workdir bench-out/loaders] [--repeat 3]

Measures --repeat interleaved rounds (median and best), data in the page cache (what a training loop sees after the
first epoch):
* sequential: raw h5py slab reads of every shard (the peer) vs the PyTorch DataLoader over
  simgen.torch.TupleDataset with 2 workers (target: >= 80 % of raw), vs TupleSplit.batches;
* random access: single tuples `split[i]` in random order (target: >= 5,000 tuples/s),
  shuffled batches, and the DataLoader with a RandomSampler and with the ShardSampler.
Prints a markdown table (paste into BENCHMARKS.md).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import h5py
import numpy as np
from PIL import Image

import simgen
from simgen.manifest import read_manifest

BATCH = 256


def make_tree(root: str, classes: int = 20, per_class: int = 50, size: int = 80) -> str:
    """Real PNG class folders (smooth random colour fields), so simgen decodes real files."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        folder = os.path.join(root, f"class{c:02d}")
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
            Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC).save(
                os.path.join(folder, f"{i:03d}.png"))
    return root


def dataset(workdir: str, tuples: int, layout: str = "dense") -> str:
    """Build (once) `tuples` 64x64 triplets in 64 MiB shards; return the dataset folder."""
    out = os.path.join(workdir, f"triplets-{tuples}" + ("" if layout == "dense" else f"-{layout}"))
    if os.path.exists(os.path.join(out, "manifest.json")):
        return out
    src = make_tree(os.path.join(workdir, "images"))
    simgen.build(src, out, learning_size=3, num_tuples=tuples, image_size=64, seed=0,
                 shard_size="64MiB", quiet=True, overwrite=True, layout=layout)
    return out


def raw_h5py(paths: list[str]) -> int:
    """The peer: every shard opened with h5py, images and labels read in BATCH-row slabs
    (indexed layout: the slab's tuple indices, then the pool images they name, gathered)."""
    n = 0
    for path in paths:
        with h5py.File(path, "r") as f:
            labels = f["labels"]
            for a in range(0, len(labels), BATCH):
                if "pool" in f:
                    t = f["tuples"][a:a + BATCH]
                    lo, hi = int(t.min()), int(t.max()) + 1
                    x = f["pool"][lo:hi][t - lo]
                else:
                    x = f["images"][a:a + BATCH]
                n += len(x) + 0 * len(labels[a:a + BATCH])
    return n


def drain(loader) -> int:
    return sum(len(batch[0]) for batch in loader)


LOADERS = {
    "plain-sequential": "DataLoader(TupleDataset, batch_size=256), 2 workers, in order",
    "plain-random": "DataLoader(TupleDataset, batch_size=256, shuffle=True), 2 workers",
    "batched-sequential": "simgen.torch.data_loader(shuffle=False), 2 workers",
    "batched-shard": "simgen.torch.data_loader(shuffle=True): ShardSampler, 2 workers",
}


def loader_for(out: str, kind: str, workers: int = 2):
    """The DataLoader variants of LOADERS (fork workers, one torch thread each)."""
    import torch
    from torch.utils.data import DataLoader

    import simgen.torch as st

    torch.set_num_threads(1)
    common = dict(num_workers=workers, persistent_workers=workers > 0,
                  multiprocessing_context="fork")
    if kind.startswith("plain"):
        return DataLoader(st.TupleDataset(out), batch_size=BATCH,
                          shuffle=kind == "plain-random", **common)
    return st.data_loader(out, batch_size=BATCH, shuffle=kind == "batched-shard", seed=0,
                          **common)


def random_items(split, count: int) -> None:
    for i in np.random.default_rng(1).integers(0, len(split), count):
        split[int(i)]


def readers(out: str) -> list[tuple[str, object, int]]:
    """(name, zero-argument run function, tuples per run) for every reader measured."""
    m = read_manifest(out)
    paths = [os.path.join(out, s["file"]) for s in m["shards"] if s["split"] == "train"]
    split = simgen.load(out)["train"]
    n = len(split)
    rows = [("raw h5py, slabs of 256 (peer)", lambda: raw_h5py(paths), n),
            ("TupleSplit.batches(256)", lambda: sum(1 for _ in split.batches(BATCH)), n)]
    for kind, label in LOADERS.items():
        loader = loader_for(out, kind)
        drain(loader)  # the first epoch starts the workers; warm epochs are measured
        rows.append((label, lambda loader=loader: drain(loader), n))
    count = min(n, 5000)
    rows.append(("random single tuples split[i], 1 process",
                 lambda: random_items(split, count), count))
    rows.append(("shuffled batches(256, shuffle=True), 1 process",
                 lambda: sum(1 for _ in split.batches(BATCH, shuffle=True, seed=2)), n))
    return rows


def measure(out: str, repeat: int) -> list[tuple[str, list[float], int]]:
    """(name, seconds of every round, tuples): rounds interleave the readers, so load spikes
    on a shared machine hit all of them alike."""
    runs = readers(out)
    runs[0][1]()  # warm the page cache
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for i, (_, fn, _) in enumerate(runs):
            t = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t)
    return [(name, seconds, n) for (name, _, n), seconds in zip(runs, times)]


def report(out: str, rows: list[tuple[str, list[float], int]]) -> str:
    """Markdown: median and best rate of every reader, and the medians' ratio to raw h5py."""
    per_tuple = simgen.describe(out)["tuple"]["bytes_per_tuple"]
    raw = rows[0][2] / float(np.median(rows[0][1]))
    lines = ["| reader | tuples/s (median) | MB/s (median) | best round | median vs raw h5py |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, seconds, n in rows:
        rate, top = n / float(np.median(seconds)), n / min(seconds)
        lines.append(f"| {name} | {rate:,.0f} | {rate * per_tuple / 1e6:,.0f} | {top:,.0f} | "
                     f"{rate / raw:.0%} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tuples", type=int, default=8000)
    ap.add_argument("--workdir", default="bench-out/loaders")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--layout", choices=["dense", "indexed"], default="dense")
    args = ap.parse_args()
    out = dataset(args.workdir, args.tuples, args.layout)
    rows = measure(out, args.repeat)
    info = simgen.describe(out)
    print(f"# loaders ({args.layout}): {info['total']['tuples']:,} triplets 64x64x3 in "
          f"{info['total']['shards']} shards ({info['total']['bytes'] / 2**20:.0f} MiB), "
          f"python {platform.python_version()}, h5py {h5py.__version__}, "
          f"{os.cpu_count()} cpus, {args.repeat} interleaved rounds, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(report(out, rows))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
