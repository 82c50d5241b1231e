"""Human-readable text for the CLI: keras's messages, the stats table, the build summary."""
from __future__ import annotations

from .job import Job
from .keras_args import found_message, using_messages
from .validate import display, empty_classes

SHOW_SKIPPED = 20  # per build summary; the manifest lists them all


def keras_messages(job: Job) -> list[str]:
    """'Found N files belonging to M classes.' and 'Using K files for …', as keras prints."""
    cfg = job.config
    found = found_message(len(job.index), job.index.num_classes, cfg.labels is not None)
    sizes = {name: len(split.index) for name, split in job.splits.items()}
    return [found] + using_messages(sizes, cfg.validation_split)


def build_warnings(job: Job) -> list[str]:
    """Files left out by the validation pass and classes with no usable image (for stderr)."""
    lines = [f"skipped {display(b.path)}: {b.reason}" for b in job.skipped[:SHOW_SKIPPED]]
    if len(job.skipped) > SHOW_SKIPPED:
        lines.append(f"skipped {len(job.skipped) - SHOW_SKIPPED} more file(s); "
                     "manifest.json lists them all")
    for name in empty_classes(job.index):
        cid = job.index.class_names.index(name)
        lines.append(f"warning: class folder {display(name)!r} has no usable image; it keeps "
                     f"class id {cid} (keras order) and appears in no tuple")
    return lines


def _num(x) -> str:
    return f"{x:,}" if isinstance(x, int) else ("-" if x is None else f"{x:.2f}")


def _table(rows: list[list], header: list[str]) -> list[str]:
    cells = [header] + [[_num(c) if not isinstance(c, str) else c for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths)))
    return [fmt(cells[0]), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells[1:]]


def format_split_stats(name: str, split: dict, class_names: list[str]) -> list[str]:
    c = split["counts"]
    k = c["learning_size"]
    out = [f"split {name}: {split['images']:,} images in {split['classes']} classes (k={k})", ""]
    per = c["permutation_pairs"]["per_anchor"]
    out += _table(
        [[n, s, p["positives"], p["negatives"]]
         for n, s, p in zip(class_names, split["class_counts"], per)],
        ["class", "images", "pos/anchor", "neg/anchor"],
    )
    rows = [
        ["permutation pairs (paper)", c["permutation_pairs"]["positives"],
         c["permutation_pairs"]["negatives"], c["permutation_pairs"]["bias"]],
        ["combination pairs (unique)", c["combination_pairs"]["positives"],
         c["combination_pairs"]["negatives"], c["combination_pairs"]["bias"]],
    ]
    out += [""] + _table(rows, ["pairs", "positives", "negatives", "neg:pos"])
    if "anchor_tuples" in c:
        a = c["anchor_tuples"]
        out += ["", f"anchor + {a['positives']} positive(s) + {a['negatives']} negative(s): "
                    f"{a['total']:,} tuples ({a['distinct_negative_classes']:,} with negatives "
                    "from distinct classes)"]
    spaces = c["spaces"]
    out += ["", f"tuple spaces for k={k}: " + ", ".join(f"{s} {n:,}" for s, n in spaces.items())]
    return out


def format_stats(result: dict) -> str:
    lines: list[str] = []
    for name, split in result["splits"].items():
        if lines:
            lines.append("")
        lines += format_split_stats(name, split, result["class_names"])
    return "\n".join(lines)


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def format_build(out: str, manifest: dict) -> str:
    parts = [f"{n}: {s['tuples']:,} tuples in {s['shards']} shard(s)"
             for n, s in manifest["splits"].items()]
    total = sum(s["bytes"] for s in manifest["shards"])
    skipped = len(manifest.get("skipped", []))
    note = f"; {skipped} bad file(s) skipped, listed in manifest.json" if skipped else ""
    return f"wrote {'; '.join(parts)} ({_bytes(total)}) to {out}/ (manifest.json last){note}"
