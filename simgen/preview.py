"""`simgen preview`: a contact sheet of built tuples (Pillow), one row per tuple, anchor first,
every element captioned with its class name and label, to eyeball a dataset before training."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .errors import SimgenError
from .loaders.numpy import load
from .manifest import read_manifest

CELL_MIN, CELL_MAX = 112, 192  # displayed image side in pixels
PAD, CAPTION, MARGIN = 8, 30, 44  # gaps, caption height, left margin for the row number
BACKGROUND, INK = (255, 255, 255), (30, 30, 30)
SIMILAR, DISSIMILAR, ANCHOR = (0, 120, 40), (190, 20, 20), (20, 60, 170)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _to_pil(image: np.ndarray, channels_first: bool) -> Image.Image:
    """One stored element (H,W,C) or (C,H,W) as an RGB/L PIL image."""
    if channels_first:
        image = np.moveaxis(image, 0, -1)
    if image.shape[-1] == 1:
        return Image.fromarray(image[..., 0], "L").convert("RGB")
    return Image.fromarray(image, "RGBA" if image.shape[-1] == 4 else "RGB").convert("RGB")


def _cell_size(height: int, width: int) -> tuple[int, int]:
    """Display size: small images blown up (pixels stay sharp), large ones shrunk."""
    side = max(height, width)
    scale = min(max(CELL_MIN / side, 1.0), CELL_MAX / side)
    if scale >= 1:
        scale = max(1, round(scale))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _captions(classes: np.ndarray, labels: np.ndarray, names: list[str]) -> list[tuple]:
    """(line 1, line 2, colour) per element: role and class, then the label."""
    name = lambda c: names[c] if 0 <= c < len(names) else f"class {c}"  # noqa: E731
    out = [("anchor", name(int(classes[0])), ANCHOR)]
    for j, label in enumerate(labels, start=1):
        word = "1 similar" if label else "0 dissimilar"
        out.append((f"x{j}: {word}", name(int(classes[j])), SIMILAR if label else DISSIMILAR))
    return out


def contact_sheet(path: str, split: str = "train", n: int = 8, seed: int | None = None
                  ) -> Image.Image:
    """The first `n` tuples of `split` (or `n` random ones with `seed`) as one RGB image."""
    if n < 1:
        raise SimgenError(f"-n must be at least 1, received: {n}")
    splits = load(path, fields=("images", "labels", "classes"))
    if split not in splits:
        raise SimgenError(f"--split {split!r} not in {path}; have {sorted(splits)}")
    reader = splits[split]
    if len(reader) == 0:
        raise SimgenError(f"--split {split!r} of {path} holds no tuples")
    n = min(n, len(reader))
    rows = np.sort(np.random.default_rng(seed).choice(len(reader), n, replace=False)) \
        if seed is not None else np.arange(n)
    images, labels, classes = reader.take(rows)
    schema = read_manifest(path).get("schema", {})
    channels_first = schema.get("data_format") == "channels_first"
    k = images.shape[1]
    h, w = images.shape[3:5] if channels_first else images.shape[2:4]
    cw, ch = _cell_size(h, w)
    resample = Image.Resampling.NEAREST if cw >= w else Image.Resampling.BILINEAR
    sheet = Image.new("RGB", (MARGIN + k * (cw + PAD) + PAD, n * (ch + CAPTION + PAD) + PAD),
                      BACKGROUND)
    draw, font = ImageDraw.Draw(sheet), _font(12)
    for r, row in enumerate(rows):
        top = PAD + r * (ch + CAPTION + PAD)
        draw.text((4, top + ch // 2 - 6), f"#{row}", fill=INK, font=font)
        captions = _captions(classes[r], labels[r], reader.class_names)
        for j in range(k):
            left = MARGIN + j * (cw + PAD)
            cell = _to_pil(images[r, j], channels_first).resize((cw, ch), resample)
            sheet.paste(cell, (left, top))
            line1, line2, colour = captions[j]
            draw.text((left, top + ch + 2), line1, fill=colour, font=font)
            draw.text((left, top + ch + 15), line2[:24], fill=INK, font=font)
    return sheet


def write_preview(path: str, out: str, split: str = "train", n: int = 8,
                  seed: int | None = None) -> str:
    """Save the contact sheet at `out` (format from its suffix: .png, .jpg, …; PNG when the
    suffix names none); its folder must exist. Returns `out`."""
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise SimgenError(f"-o {out}: folder {folder} does not exist")
    sheet = contact_sheet(path, split, n, seed)
    fmt = Image.registered_extensions().get(os.path.splitext(out)[1].lower(), "PNG")
    try:
        sheet.save(out, format=fmt)
    except (OSError, ValueError) as exc:
        raise SimgenError(f"-o {out}: cannot write {fmt}: {exc}") from None
    return out
