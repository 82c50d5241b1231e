"""`simgen inspect`: a built dataset's manifest in human form (and as JSON for scripts).

Reads only manifest.json: splits, tuple counts, shapes, sizes, and the paper's formulas with
their values for the whole source and for every split.
"""
from __future__ import annotations

import math
import os

from .manifest import read_manifest
from .report import _bytes, _table

DTYPE_BYTES = {"uint8": 1, "int32": 4, "float32": 4}


def formulas(counts: dict) -> list[dict]:
    """The closed forms behind `counts` (one counts.summary), each with its value."""
    k = counts["learning_size"]
    perm, combi, spaces = counts["permutation_pairs"], counts["combination_pairs"], counts["spaces"]
    rows = [
        ("permutation pairs, positives (paper, Fig. 3)", "Σ c_i²", perm["positives"]),
        ("permutation pairs, negatives (paper, Fig. 3)", "Σ c_i·(N − c_i)", perm["negatives"]),
        ("combination pairs, positives", "Σ C(c_i, 2)", combi["positives"]),
        ("combination pairs, negatives", "Σ_{i<j} c_i·c_j", combi["negatives"]),
    ]
    if "anchor_tuples" in counts:
        a = counts["anchor_tuples"]
        p, q = a["positives"], a["negatives"]
        rows += [
            (f"anchor + {p} positive(s) + {q} negative(s)",
             f"Σ c_i·C(c_i − 1, {p})·C(N − c_i, {q})", a["total"]),
            ("  … negatives from distinct classes",
             f"Σ c_i·C(c_i − 1, {p})·e_{q}(other classes)", a["distinct_negative_classes"]),
        ]
    rows += [
        (f"space: permutation (k={k})", f"N^{k}", spaces["permutation"]),
        (f"space: combination (k={k})",
         "C(N, 2)" if k == 2 else "anchor + P positives + Q negatives", spaces["combination"]),
        (f"space: random (k={k})", "Σ_p C(k−1, p)·anchor(p, k−1−p)", spaces["random"]),
    ]
    return [{"name": n, "formula": f, "value": v} for n, f, v in rows]


def tuple_schema(schema: dict) -> dict:
    """Per-tuple shape and dtype of every field as a reader returns it (the indexed layout's
    pool + tuples read back as images), and the bytes one tuple takes when dense."""
    fields = {name: {"dtype": schema[name]["dtype"], "shape": list(schema[name]["shape"][1:])}
              for name in ("images", "labels", "classes", "sources", "class_labels")
              if name in schema}
    if "images" not in fields and "pool" in schema and "tuples" in schema:
        k = schema["tuples"]["shape"][1]
        fields = {"images": {"dtype": schema["pool"]["dtype"],
                             "shape": [k, *schema["pool"]["shape"][1:]]}, **fields}
    size = sum(DTYPE_BYTES.get(f["dtype"], 0) * math.prod(f["shape"]) for f in fields.values())
    return {"fields": fields, "bytes_per_tuple": size}


def describe(path: str) -> dict:
    """Everything `simgen inspect` shows, as a JSON-ready dict (from manifest.json only)."""
    path = os.fspath(path)
    m = read_manifest(path)
    schema = m.get("schema", {})
    splits = {}
    for name, s in m["splits"].items():
        shards = [x for x in m["shards"] if x["split"] == name]
        splits[name] = {
            "tuples": s["tuples"], "shards": len(shards),
            "bytes": sum(x["bytes"] for x in shards), "images": s.get("images"),
            "classes": s.get("classes"), "class_counts": s.get("class_counts"),
            "space": s.get("space"), "formulas": formulas(s["counts"]) if "counts" in s else [],
        }
    config = m.get("config", {})
    return {
        "path": path,
        "format": m["format"], "format_version": m["format_version"],
        "layout": schema.get("layout", "dense"),
        "data_format": schema.get("data_format", "channels_last"),
        "config_hash": m.get("config_hash"), "config": config,
        "versions": m.get("versions", {}), "label_semantics": m.get("label_semantics"),
        "source": m.get("source", {}),
        "tuple": tuple_schema(schema),
        "splits": splits,
        "total": {"tuples": sum(s["tuples"] for s in splits.values()),
                  "shards": len(m["shards"]), "bytes": sum(x["bytes"] for x in m["shards"])},
        "formulas": formulas(m["counts"]) if "counts" in m else [],
    }


def _header(d: dict) -> list[str]:
    c, src = d["config"], d["source"]
    pairs = list(zip(src.get("class_names", []), src.get("class_counts", [])))
    classes = ", ".join(f"{n} {x:,}" for n, x in pairs[:8]) + (", …" if len(pairs) > 8 else "")
    shape = ", ".join(f"{n} {f['dtype']} {tuple(f['shape'])}"
                      for n, f in d["tuple"]["fields"].items())
    return [
        f"simgen dataset {d['path']}  ({d['format']} v{d['format_version']}, "
        f"{d['layout']} layout, {d['data_format']})",
        f"config {str(d['config_hash'])[:16]}…: k={c.get('learning_size')} "
        f"strategy={c.get('strategy')} seed={c.get('seed')} image_size={c.get('image_size')} "
        f"color_mode={c.get('color_mode')} compression={c.get('compression')}",
        f"source: {src.get('num_images', 0):,} images in {len(src.get('class_names', []))} "
        f"classes ({classes})",
        f"one tuple: {shape}; {_bytes(d['tuple']['bytes_per_tuple'])} dense",
        f"labels: {d['label_semantics']}",
    ]


def _formula_table(d: dict) -> list[str]:
    names = list(d["splits"])
    per_split = {n: {f["name"]: f["value"] for f in d["splits"][n]["formulas"]} for n in names}
    width = max(len(f["name"]) for f in d["formulas"]) + 2
    rows = [[f"{f['name']:<{width}}{f['formula']}", f["value"]]
            + [per_split[n].get(f["name"]) for n in names] for f in d["formulas"]]
    head = f"{'count':<{width}}formula (c_i = class sizes, N = Σ c_i)"
    return _table(rows, [head, "source"] + names)


def format_describe(d: dict) -> str:
    """The human form of `describe(...)`."""
    split_rows = [[n, s["tuples"], s["shards"], _bytes(s["bytes"]), s["images"], s["classes"],
                   s["space"]] for n, s in d["splits"].items()]
    t = d["total"]
    split_rows.append(["total", t["tuples"], t["shards"], _bytes(t["bytes"]), None, None, None])
    lines = _header(d) + [""]
    lines += _table(split_rows, ["split", "tuples", "shards", "bytes", "images", "classes",
                                 "space"])
    if d["formulas"]:
        lines += ["", "the paper's formulas and ours, evaluated:"] + _formula_table(d)
    return "\n".join(lines)


__all__ = ["describe", "format_describe", "formulas"]
