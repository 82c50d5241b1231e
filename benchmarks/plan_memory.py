"""Planning at scale (issue 4): memory and time to plan 10,000,000 k=5 tuples over an index of
1,000,000 images in 10,000 classes, and `simgen stats` time on 100,000 files.

    python benchmarks/plan_memory.py                 # every scenario, a table on stdout
    python benchmarks/plan_memory.py --json out.json # also the figures as JSON
    python benchmarks/plan_memory.py --tuples 1000000 --images 100000   # a quicker run

Each planning scenario runs in its own process (so its peak RSS is its own): build the
1,000,000-path SourceIndex in memory (no files), split it, plan the draw, cut it into shard
specs as a build would (64×64 RGB, 512 MiB shards), then compute every shard's tuples
(split rows) in shard order, chunk by chunk, exactly what the workers of a build compute.
To prove the draw has no duplicate it keeps one 64-bit hash per tuple (8 bytes × tuples,
the only allocation proportional to anything but the chunk) and counts distinct hashes.
Peak RSS comes from getrusage (ru_maxrss), after the run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

SCENARIOS = {
    "combination k=5 (1 pos + 3 neg)": dict(strategy="combination", positives=1),
    "combination k=5, distinct negative classes": dict(strategy="combination", positives=1,
                                                        distinct_negative_classes=True),
    "random k=5 (16 slot patterns x classes strata)": dict(strategy="random"),
    "combination k=5, --tuples-per-class 1000": dict(strategy="combination", positives=1,
                                                      tuples_per_class=1000),
}
LIMIT_MB = 500


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_index(images: int, classes: int):
    """A SourceIndex of `images` paths in `classes` equal classes (no files on disk)."""
    from simgen.index import SourceIndex

    per = images // classes
    ids = np.repeat(np.arange(classes, dtype=np.int32), per)
    paths = tuple(f"c{c:05d}/img{i:07d}.jpg" for i, c in enumerate(ids.tolist()))
    return SourceIndex("/nonexistent", paths, ids, tuple(f"c{c:05d}" for c in range(classes)))


def tuple_hash(rows: np.ndarray) -> np.ndarray:
    """One uint64 per tuple (splitmix of its columns), to count distinct tuples cheaply."""
    from simgen.combinatorics import mix64

    h = np.zeros(len(rows), dtype=np.uint64)
    for j in range(rows.shape[1]):
        h = mix64(h ^ rows[:, j].astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15 * (j + 1)
                                                                 % 2**64))
    return h


def run_scenario(name: str, tuples: int, images: int, classes: int) -> dict:
    """Plan and compute every tuple of one scenario; return its figures."""
    from simgen.shards import shard_specs
    from simgen.split import split_index
    from simgen.strategies import StrategyOptions, get_strategy
    from simgen.strategies.spaces import ClassLayout

    spec = dict(SCENARIOS[name])
    strategy = get_strategy(spec.pop("strategy"))
    t0 = time.perf_counter()
    index = synthetic_index(images, classes)
    part = split_index(index, None, None, True, 7)["train"]
    rss_index = rss_mb()
    t1 = time.perf_counter()
    layout = ClassLayout.from_class_ids(part.class_ids, index.num_classes)
    options = StrategyOptions(**spec)
    wanted = None if options.tuples_per_class else tuples
    plan = strategy.plan(layout, 5, options, wanted, seed=7, class_names=index.class_names)
    per_shard = (512 * 2**20) // (5 * (64 * 64 * 3 + 16))
    specs = shard_specs("train", plan.num_tuples, per_shard)
    t2 = time.perf_counter()
    plan_bytes = sum(a.nbytes for a in (plan.offsets, plan.sizes, plan.counts, plan.cum))
    hashes = np.empty(plan.num_tuples, dtype=np.uint64)
    for s in specs:  # what the workers compute, shard by shard
        rows = plan.rows(s.start, s.stop)
        hashes[s.start:s.stop] = tuple_hash(rows)
    t3 = time.perf_counter()
    rss_tuples = rss_mb()
    hashes.sort()  # in place: distinct = 1 + number of changes between neighbours
    distinct = 1 + int(np.count_nonzero(hashes[1:] != hashes[:-1])) if len(hashes) else 0
    return {
        "scenario": name, "images": images, "classes": classes, "k": 5,
        "space": str(plan.space.size), "space_over_2_64": plan.space.size > 2**64,
        "tuples": plan.num_tuples, "shards": len(specs), "strata": len(plan.counts),
        "plan_arrays_bytes": plan_bytes, "distinct_tuples": distinct,
        "index_s": round(t1 - t0, 2), "plan_s": round(t2 - t1, 2),
        "tuples_s": round(t3 - t2, 2), "tuples_per_s": round(plan.num_tuples / (t3 - t2)),
        "rss_after_index_mb": round(rss_index, 1), "rss_after_tuples_mb": round(rss_tuples, 1),
        "peak_rss_mb": round(rss_mb(), 1),
        "shortfalls": len(plan.shortfalls),
    }


def stats_timing(files: int, classes: int) -> dict:
    """`simgen stats` (k=5) on a tree of `files` empty .jpg files: in-process and CLI times."""
    import simgen

    with tempfile.TemporaryDirectory() as tmp:
        for c in range(classes):
            folder = os.path.join(tmp, f"class{c:04d}")
            os.mkdir(folder)
            for i in range(files // classes):
                open(os.path.join(folder, f"img{i:05d}.jpg"), "wb").close()
        simgen.stats(tmp, learning_size=5, seed=1)  # warm the OS directory cache
        times = []
        for _ in range(3):
            t = time.perf_counter()
            simgen.stats(tmp, learning_size=5, seed=1, strategy="random", num_tuples=100_000)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "simgen.cli", "stats", tmp, "-k", "5",
                              "--seed", "1", "--json"], capture_output=True, text=True)
        cli_s = time.perf_counter() - t
        assert cli.returncode == 0, cli.stderr
    return {"files": files, "classes": classes, "stats_in_process_s": round(min(times), 3),
            "stats_cli_wall_s": round(cli_s, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tuples", type=int, default=10_000_000)
    ap.add_argument("--images", type=int, default=1_000_000)
    ap.add_argument("--classes", type=int, default=10_000)
    ap.add_argument("--stats-files", type=int, default=100_000)
    ap.add_argument("--scenario", help=argparse.SUPPRESS)  # child process: one scenario
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    if args.scenario:
        print(json.dumps(run_scenario(args.scenario, args.tuples, args.images, args.classes)))
        return
    results = []
    for name in SCENARIOS:
        child = subprocess.run([sys.executable, __file__, "--scenario", name, "--tuples",
                                str(args.tuples), "--images", str(args.images), "--classes",
                                str(args.classes)], capture_output=True, text=True)
        if child.returncode:
            sys.exit(f"{name}: {child.stderr.strip()}")
        r = json.loads(child.stdout)
        results.append(r)
        ok = "OK" if r["peak_rss_mb"] < LIMIT_MB and r["distinct_tuples"] == r["tuples"] else "FAIL"
        print(f"{ok:4} {name}: {r['tuples']:,} tuples ({r['distinct_tuples']:,} distinct) of "
              f"{int(r['space']):.3e}, {r['strata']:,} strata, {r['shards']:,} shards | index "
              f"{r['index_s']} s, plan {r['plan_s']} s, all tuples {r['tuples_s']} s "
              f"({r['tuples_per_s']:,}/s) | RSS after index {r['rss_after_index_mb']} MB, "
              f"peak {r['peak_rss_mb']} MB (limit {LIMIT_MB})", flush=True)
    st = stats_timing(args.stats_files, 1_000)
    print(f"stats k=5 on {st['files']:,} files / {st['classes']:,} classes: "
          f"{st['stats_in_process_s']} s in process, {st['stats_cli_wall_s']} s CLI wall "
          "(incl. interpreter start)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"planning": results, "stats": st}, f, indent=2)


if __name__ == "__main__":
    main()
