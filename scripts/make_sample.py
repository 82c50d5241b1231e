"""Regenerate sample/trees: 5 synthetic 'leaf' classes × 10 JPEGs (the paper's Table 5 shape).

Each class has its own leaf shape and colour; each image varies pose, size and background,
so a small network can learn the classes. Deterministic: run it and git shows no change.
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = {  # name: (lobes, aspect, colour)
    "Red Oak": (7, 0.6, (150, 40, 30)),
    "Cedar": (0, 0.25, (40, 90, 50)),
    "Dogwood": (1, 0.55, (90, 140, 60)),
    "Maple": (5, 1.0, (200, 90, 20)),
    "Hickory": (2, 0.35, (150, 150, 40)),
}


def leaf(rng: np.random.Generator, lobes: int, aspect: float, colour, size: int = 96) -> Image.Image:
    bg = tuple(int(v) for v in rng.integers(170, 250, 3))
    img = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(img)
    cx, cy = size / 2 + rng.normal(0, 4), size / 2 + rng.normal(0, 4)
    r = size * rng.uniform(0.30, 0.42)
    turn = rng.uniform(0, 2 * math.pi)
    pts = []
    for i in range(120):
        t = 2 * math.pi * i / 120
        rad = r * (1 + (0.35 * abs(math.sin(lobes * t / 2)) if lobes else 0))
        x, y = rad * math.cos(t) * aspect, rad * math.sin(t)
        pts.append((cx + x * math.cos(turn) - y * math.sin(turn),
                    cy + x * math.sin(turn) + y * math.cos(turn)))
    shade = tuple(int(np.clip(c + rng.normal(0, 12), 0, 255)) for c in colour)
    draw.polygon(pts, fill=shade)
    draw.line([(cx, cy), (cx + r * math.sin(turn), cy - r * math.cos(turn))], fill=(60, 40, 20), width=2)
    return img.filter(ImageFilter.GaussianBlur(0.6))


def main(out: str = "sample/trees") -> None:
    rng = np.random.default_rng(2024)
    for name, (lobes, aspect, colour) in CLASSES.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        for i in range(10):
            leaf(rng, lobes, aspect, colour).save(os.path.join(folder, f"{i:02d}.jpg"), quality=85)


if __name__ == "__main__":
    main(*sys.argv[1:])
