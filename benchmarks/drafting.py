"""JPEG draft: speed and pixel difference of simgen's load_image with and without draft()."""
from __future__ import annotations

import glob
import os
import time

import numpy as np

from simgen.config import default_workers
from simgen.imaging import ImageSpec, load_image
from simgen.index import index_directory
from simgen.validate import find_bad_files


def decode_all(paths: list[str], spec: ImageSpec) -> tuple[float, list[np.ndarray]]:
    """(images per second, images) for one pass over `paths`, best of three passes."""
    best, out = float("inf"), []
    for _ in range(3):
        start = time.perf_counter()
        out = [load_image(p, spec) for p in paths]
        best = min(best, time.perf_counter() - start)
    return len(paths) / best, out


def draft_table(data: str, every: int = 10) -> list[str]:
    """Markdown rows: per target size, speed with and without draft and the difference."""
    paths = sorted(glob.glob(os.path.join(data, "*", "*.jpg")))[::every]
    lines = ["| target | full decode img/s | draft img/s | speed-up | mean abs diff (levels) "
             "| max abs diff | PSNR dB |", "|---|---|---|---|---|---|---|"]
    for size in (64, 224):
        full_rate, full = decode_all(paths, ImageSpec(size, size, jpeg_draft=False))
        draft_rate, drafted = decode_all(paths, ImageSpec(size, size))
        diff = np.concatenate([(a.astype(np.int32) - b).ravel() for a, b in zip(drafted, full)])
        mse = float(np.mean(diff.astype(np.float64) ** 2))
        psnr = f"{10 * np.log10(255 ** 2 / mse):.1f}" if mse else "identical"
        lines.append(f"| {size}x{size} | {full_rate:.0f} | {draft_rate:.0f} | "
                     f"{draft_rate / full_rate:.2f}x | {np.abs(diff).mean():.3f} | "
                     f"{np.abs(diff).max()} | {psnr} |")
    return lines


def screen_line(data: str) -> str:
    """How long the --on-error skip screening pass (every file probed, validate.py) takes here."""
    index = index_directory(data, None, False)
    start = time.perf_counter()
    find_bad_files(index, workers=default_workers())
    seconds = time.perf_counter() - start
    return (f"The probing pass that `--on-error skip` adds before planning (all {len(index):,} "
            f"files, validate.py: JPEG entropy data read at 1/8 scale, {default_workers()} "
            f"threads): {seconds:.2f} s, measured once in the benchmark process. It is not part "
            f"of the simgen times above: with the default `--on-error fail` the decode stage "
            f"vets each file as it decodes it.")
