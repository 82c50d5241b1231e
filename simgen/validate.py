"""Vet every source: each file is opened and probed, and all bad ones are reported at once,
so a build never dies on file 90,000 of 100,000 and never writes a shard before they are known.

Where the vetting runs depends on --on-error. With `skip`, before the split and the plan:
dropping a bad file changes the plan, so the file set has to be final before any shard is
cut. With `fail` (the default) a bad file stops the build anyway, so the build's decode
stage vets each file as it decodes it (`vetted`: the same checks and reasons) and probes the
files no tuple uses, instead of opening every file twice. The probe is cheap: header, size and
mode, then PNG chunk CRCs (`verify`, no inflate), JPEG at 1/8 scale (entropy data is still
read, so truncation shows), other formats' first frame. Threads overlap the I/O.
"""
from __future__ import annotations

import os
import stat
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import SimgenError
from .index import SourceIndex

ON_ERROR = ("fail", "skip")
DEFAULT_MAX_PIXELS = Image.MAX_IMAGE_PIXELS  # Pillow's decompression-bomb limit (89,478,485)
# Modes imaging.to_mode turns into L / RGB / RGBA with meaningful values. Not "F": a float
# image (e.g. a 32-bit float TIFF) has no standard 8-bit scale; clipping its usual [0, 1]
# range would silently give black pictures, so such a file is reported instead.
SUPPORTED_MODES = frozenset({
    "1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV",
    "I", "I;16", "I;16B", "I;16L", "I;16N",
})
T = TypeVar("T")
PARALLEL_FROM = 64  # files; below this a thread pool costs more than it saves


@dataclass(frozen=True)
class BadFile:
    """A source that is left out of (or stops) the build, and why."""

    path: str  # relative to the input directory, as in the manifest's `sources`
    reason: str

    def as_dict(self) -> dict:
        return {"path": self.path, "reason": self.reason}


class BadFilesError(SimgenError):
    """--on-error fail and at least one bad file: every one of them is in the message."""

    def __init__(self, directory: str, bad: list[BadFile], screened: bool = False):
        lines = [f"  {display(b.path)}: {b.reason}" for b in bad]
        noun = "file" if len(bad) == 1 else "files"
        what = ("they passed the screening but did not decode: fix or remove them and rerun"
                if screened else "pass --on-error skip to build without them")
        super().__init__(f"{len(bad)} bad image {noun} in {display(directory)} (nothing "
                         f"written; {what}):\n" + "\n".join(lines))
        self.bad = bad


def display(path: str) -> str:
    """A printable form of a path whose name may not be valid UTF-8 (bytes shown as \\xNN)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def limit_pixels(max_pixels: int) -> None:
    """Make Pillow's own bomb check (raised at twice the limit) agree with --max-pixels."""
    Image.MAX_IMAGE_PIXELS = max_pixels


def _not_a_regular_file(path: str) -> str | None:
    """Reasons found by lstat/stat alone, before anything is opened (a FIFO would block)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "broken symbolic link" if os.path.islink(path) else "file vanished"
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_size == 0:
        return "empty file (0 bytes)"
    return None


def _probe(img: Image.Image) -> None:
    """Read enough of the image data to catch truncation and corruption, cheaply."""
    if img.format == "PNG":
        img.verify()  # every chunk's CRC, through the last IDAT
    else:
        if img.format in ("JPEG", "MPO"):
            img.draft(None, (1, 1))  # decode at 1/8 scale: all entropy data, little IDCT
        img.seek(0)
        img.load()


def vetted(path: str, max_pixels: int, read: Callable[[Image.Image], T]) -> tuple[T | None, str | None]:
    """(read(open image), None), or (None, why `path` cannot be used): the one place that
    opens a source file, for the screening probe and for the build's decode alike."""
    reason = _not_a_regular_file(path)
    if reason:
        return None, reason
    limit_pixels(max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb warnings, palette-transparency notes
            with Image.open(path) as img:
                width, height = img.size
                if width * height > max_pixels:
                    return None, (f"decompression bomb: {width}x{height} = {width * height:,} "
                                  f"pixels exceeds --max-pixels {max_pixels:,}")
                if img.mode not in SUPPORTED_MODES:
                    return None, f"unsupported mode {img.mode!r} (float or unknown pixel values)"
                return read(img), None
    except Image.DecompressionBombError as exc:
        return None, f"decompression bomb: {exc}"
    except UnidentifiedImageError:
        return None, "not an image (Pillow cannot identify its format)"
    except PermissionError as exc:
        return None, f"unreadable: {exc.strerror}"
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        return None, f"corrupt or truncated image: {exc}"


def crc_checked(path: str, read: Callable[[Image.Image], T]) -> Callable[[Image.Image], T]:
    """`read`, after the PNG chunk-CRC check the probe makes (a decode does not look at CRCs,
    and verify() needs a file of its own), so that decoding a file rejects exactly what
    probing it rejects, with the same reason."""
    def run(img: Image.Image) -> T:
        if img.format == "PNG":
            with Image.open(path) as fresh:
                fresh.verify()
        return read(img)
    return run


def check_image(path: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> str | None:
    """Why the image file at `path` cannot be used, or None when it can."""
    return vetted(path, max_pixels, _probe)[1]


def find_bad_files(index: SourceIndex, max_pixels: int = DEFAULT_MAX_PIXELS,
                   workers: int = 1) -> list[BadFile]:
    """Check every file of `index`; return the bad ones in index order."""
    full = [os.path.join(index.root, rel) for rel in index.paths]
    check = lambda p: check_image(p, max_pixels)  # noqa: E731
    if workers > 1 and len(full) >= PARALLEL_FROM:
        pool = ThreadPoolExecutor(workers)
        try:
            reasons = list(pool.map(check, full))
        finally:  # on Ctrl-C, drop the queued checks instead of running them all
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        reasons = [check(p) for p in full]
    return [BadFile(rel, r) for rel, r in zip(index.paths, reasons) if r]


def links_outside(index: SourceIndex) -> list[BadFile]:
    """Symbolic links whose target lies outside the input directory (used with --follow-links)."""
    top = os.path.realpath(index.root)
    out = []
    for rel in index.paths:
        full = os.path.join(index.root, rel)
        if not os.path.islink(full):
            continue
        target = os.path.realpath(full)
        if os.path.commonpath([top, target]) != top:
            out.append(BadFile(rel, "symbolic link to a file outside the input directory "
                                    "(not followed without --follow-links)"))
    return out


def without(index: SourceIndex, drop: list[BadFile]) -> SourceIndex:
    """`index` minus the files in `drop`, renumbered so source ids index the new path list."""
    if not drop:
        return index
    gone = {b.path for b in drop}
    keep = np.array([p not in gone for p in index.paths], dtype=bool)
    paths = tuple(p for p, k in zip(index.paths, keep) if k)
    return SourceIndex(index.root, paths, index.class_ids[keep], index.class_names)


def screen(index: SourceIndex, on_error: str, max_pixels: int, follow_links: bool,
           workers: int = 1, probe: bool = True) -> tuple[SourceIndex, list[BadFile]]:
    """The usable part of `index` and every file left out with its reason.

    Raises BadFilesError listing all bad files when `on_error` is "fail". Links that point
    outside the directory are always left out (and listed) unless `follow_links`. With
    `probe` False the files themselves are not opened (the build's decode stage vets them).
    """
    if on_error not in ON_ERROR:
        raise SimgenError(f"--on-error must be fail or skip, got {on_error!r}")
    if max_pixels < 1:
        raise SimgenError(f"--max-pixels must be positive, got {max_pixels}")
    outside = [] if follow_links else links_outside(index)
    index = without(index, outside)
    bad = find_bad_files(index, max_pixels, workers) if probe else []
    if bad and on_error == "fail":
        raise BadFilesError(index.root, bad)
    index = without(index, bad)
    if len(index) == 0:
        raise SimgenError(f"no usable images left in {display(index.root)} "
                          f"({len(outside) + len(bad)} left out)")
    return index, outside + bad


def empty_classes(index: SourceIndex) -> list[str]:
    """Class folders with no (usable) image: they keep their class id, as in keras."""
    return [name for name, n in zip(index.class_names, index.class_counts().tolist()) if n == 0]
