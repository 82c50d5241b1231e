"""Triplet embedding on scikit-learn's handwritten digits, end to end with simgen and PyTorch.

1. write the 1,797 8x8 digits (shipped inside scikit-learn) as class folders of PNGs;
   hold out 30% of every digit's images (default: image-disjoint) or whole digits
   (--heldout classes: 7, 8, 9 never seen in training, class-disjoint);
2. simgen builds triplets from the training folders, and balanced verification pairs from
   the training folders (to pick a distance threshold) and from the held-out folders;
3. a small CNN learns a 32-d embedding with a triplet margin loss (CPU, well under 2 minutes);
4. prints the verification accuracy on the held-out pairs (same digit or not, by distance).

    pip install 'simgen[examples]'     # torch + scikit-learn
    python examples/digits_triplets.py [--heldout classes|images] [--epochs 4]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from torch import nn

import simgen
import simgen.torch as st

HELDOUT_CLASSES = (7, 8, 9)


def write_digits(root: str, heldout: str, seed: int = 0) -> tuple[str, str]:
    """PNG class folders `root/train/<digit>/` and `root/heldout/<digit>/`."""
    digits = load_digits()
    pixels = np.clip(digits.images * 16, 0, 255).astype(np.uint8)  # 0..16 → 0..255
    held = np.zeros(len(pixels), bool)
    if heldout == "classes":
        held = np.isin(digits.target, HELDOUT_CLASSES)
    else:
        held[np.random.default_rng(seed).permutation(len(pixels))[: len(pixels) * 3 // 10]] = True
    for i, (image, label) in enumerate(zip(pixels, digits.target)):
        folder = os.path.join(root, "heldout" if held[i] else "train", str(label))
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(image, "L").save(os.path.join(folder, f"{i:04d}.png"))
    return os.path.join(root, "train"), os.path.join(root, "heldout")


def build(src: str, out: str, k: int, n: int, **kw) -> str:
    simgen.build(src, out, learning_size=k, num_tuples=n, image_size=8, color_mode="grayscale",
                 seed=1, quiet=True, workers=1, overwrite=True, **kw)
    return out


class Embedding(nn.Module):
    """8x8 grayscale → a unit-length 32-d vector."""

    def __init__(self, dim: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(),
            nn.Linear(128, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, H, W, 1) uint8
        z = self.net(x.permute(0, 3, 1, 2).float() / 255)
        return nn.functional.normalize(z, dim=1)


def train(model: nn.Module, triplets: str, epochs: int, batch_size: int, workers: int) -> None:
    loader = st.data_loader(triplets, batch_size=batch_size, num_workers=workers, seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.TripletMarginLoss(margin=0.3)
    for epoch in range(epochs):
        total = 0.0
        for images, _ in loader:  # images (B, 3, 8, 8, 1): anchor, positive, negative
            a, p, n = (model(images[:, j]) for j in range(3))
            loss = loss_fn(a, p, n)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(images)
        print(f"epoch {epoch + 1}: triplet loss {total / len(loader.dataset):.4f}")


@torch.no_grad()
def pair_distances(model: nn.Module, pairs: str) -> tuple[np.ndarray, np.ndarray]:
    """Embedding distance and same-class label (1/0) of every pair in a simgen pairs dataset."""
    model.eval()
    images, labels = simgen.load(pairs)["train"][:]
    x = torch.from_numpy(images)
    d = (model(x[:, 0]) - model(x[:, 1])).norm(dim=1).numpy()
    model.train()
    return d, labels[:, 0]


def best_threshold(d: np.ndarray, same: np.ndarray) -> float:
    """The distance cut that classifies the most pairs right ("same" when d < cut)."""
    cuts = np.unique(d)
    accuracy = [((d < c) == same).mean() for c in cuts]
    return float(cuts[int(np.argmax(accuracy))])


def verification_accuracy(args: argparse.Namespace, work: str) -> tuple[float, int, float]:
    """Write digits, build triplets and pairs, train; (accuracy, pairs, same-digit share)."""
    train_dir, held_dir = write_digits(os.path.join(work, "digits"), args.heldout)
    triplets = build(train_dir, os.path.join(work, "triplets"), 3, args.triplets)
    fit_pairs = build(train_dir, os.path.join(work, "train-pairs"), 2, args.pairs,
                      strategy="random", positive_ratio=0.5)
    test_pairs = build(held_dir, os.path.join(work, "heldout-pairs"), 2, args.pairs,
                       strategy="random", positive_ratio=0.5)
    model = Embedding()
    train(model, triplets, args.epochs, args.batch_size, args.workers)
    cut = best_threshold(*pair_distances(model, fit_pairs))
    d, same = pair_distances(model, test_pairs)
    return float(((d < cut) == same).mean()), len(d), float(same.mean())


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heldout", choices=["classes", "images"], default="images",
                    help="hold out 30%% of every digit's images (default) or whole digits 7, 8, 9")
    ap.add_argument("--triplets", type=int, default=20000)
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    ap.add_argument("--work", default=None, help="folder for images and datasets (default: temp)")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny CNN: more intra-op threads only fight the loader (3x slower)
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            accuracy, pairs, share = verification_accuracy(args, args.work or tmp)
    finally:
        torch.set_num_threads(threads)
    what = ("digits 7, 8, 9, never seen in training" if args.heldout == "classes"
            else "30% of images, never seen in training")
    print(f"verification accuracy on {pairs} held-out pairs ({what}; {share:.0%} same-digit): "
          f"{accuracy:.1%}  [{time.perf_counter() - start:.0f} s]")
    return accuracy


if __name__ == "__main__":
    main()
