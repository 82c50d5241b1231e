"""Human-readable text for the CLI: the stats table, dry runs, the build summary."""
from __future__ import annotations

from .balance import describe
from .job import Job
from .validate import display, empty_classes

SHOW_SKIPPED = 20  # per build summary; the manifest lists them all


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


def format_split_stats(name: str, split: dict, class_names: list[str],
                       strategy: str = "") -> list[str]:
    c = split["counts"]
    k = c["learning_size"]
    out = [f"split {name}: {split['images']:,} images in {split['classes']} classes (k={k})", ""]
    per = c["permutation_pairs"]["per_anchor"]
    plan = split.get("plan", {})
    by_class = plan.get("per_class")
    rows = [[n, s, p["positives"], p["negatives"]]
            for n, s, p in zip(class_names, split["class_counts"], per)]
    header = ["class", "images", "pos/anchor", "neg/anchor"]
    if by_class:
        rows = [r + [b["space"]] for r, b in zip(rows, by_class)]
        header += [f"{strategy} space"]
        if any(b["planned"] is not None for b in by_class):
            rows = [r + [b["planned"]] for r, b in zip(rows, by_class)]
            header += ["planned"]
    shown = [r for r in rows if r[1]]  # classes with no image in this split say nothing
    out += _table(shown, header)
    if len(shown) < len(rows):
        out.append(f"({len(rows) - len(shown)} class(es) with no image in this split not shown)")
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
    bias = c.get("bias", {})
    out += ["", f"tuple spaces for k={k} (negatives per positive):"] + [
        f"  {s}: {n:,} tuples ({_num(bias.get(s))}:1)" if isinstance(n, int) else f"  {s}: {n}"
        for s, n in spaces.items()]
    return out + plan_lines(plan, strategy)


def plan_lines(plan: dict, strategy: str) -> list[str]:
    """The planned draw and its predicted shortfalls (or why it cannot be planned)."""
    if not plan:
        return []
    if "error" in plan:
        return ["", f"plan ({strategy}): {plan['error']}"]
    lines = ["", f"plan ({strategy}): {plan['tuples']:,} of {plan['space']:,} tuples, "
                 "drawn without replacement"]
    return lines + [f"  shortfall: {line}" for line in shortfall_text(plan["shortfalls"])]


def shortfall_text(entries: list[dict], limit: int = 10) -> list[str]:
    """At most `limit` shortfall lines, then a count of the rest."""
    lines = [describe(e) for e in entries[:limit]]
    if len(entries) > limit:
        lines.append(f"… and {len(entries) - limit} more (all of them in --json / the manifest)")
    return lines


def shortfall_lines(splits: dict) -> list[str]:
    """'shortfall in train: …' lines for a build's splits (nothing when none)."""
    return [f"shortfall in {name}: {line}" for name, s in splits.items()
            for line in shortfall_text(s.get("shortfalls", []))]


def format_dry_run(summary: dict) -> str:
    """The plan of a build, split by split, without having built anything."""
    lines = [f"dry run: nothing decoded, nothing written (config {summary['config_hash'][:12]}); "
             "files are not vetted, a build may still skip or refuse bad ones",
             f"source: {summary['source']['num_images']:,} images in "
             f"{summary['source']['num_classes']} classes"]
    for name, s in summary["splits"].items():
        lines.append(f"{name}: {s['images']:,} images, {s['classes']} classes, {s['tuples']:,} of "
                     f"{s['space']:,} tuples in {s['shards']} shard(s), "
                     f"{_bytes(s['image_bytes'])} of pixels")
        lines += [f"  shortfall: {line}" for line in shortfall_text(s["shortfalls"])]
    return "\n".join(lines)


def format_stats(result: dict) -> str:
    lines: list[str] = []
    for name, split in result["splits"].items():
        if lines:
            lines.append("")
        lines += format_split_stats(name, split, result["class_names"],
                                    result.get("strategy", ""))
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
