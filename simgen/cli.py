"""The `simgen` command: a thin click skin over the Python API (parse, call, print)."""
from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any, Callable

import click

from . import __version__
from .api import stats_for
from .builder import build_job, dry_run_summary
from .job import plan_job
from .config import make_config, read_config_file
from .errors import SimgenError
from .executor import write_failed_here
from .report import (build_warnings, format_build, format_dry_run, format_stats,
                     shortfall_lines)
from .validate import DEFAULT_MAX_PIXELS, display
from .verify import verify as verify_dataset
from .strategies import DEFAULT_STRATEGY, STRATEGIES


class UserError(click.ClickException):
    """A SimgenError as click shows it: 'Error: …' on one line, exit code 2."""

    exit_code = 2


class Interrupted(click.ClickException):
    """Ctrl-C or SIGTERM: one line, exit 128 + the signal number, no traceback."""

    def __init__(self, signum: int):
        name = "interrupted" if signum == signal.SIGINT else "terminated (SIGTERM)"
        super().__init__(f"{name}; no partial file is left under a final name (to finish, rerun "
                         "the same command with --resume, in place of --overwrite if given)")
        self.exit_code = 128 + signum


class Terminated(KeyboardInterrupt):
    """SIGTERM (job schedulers, `kill`), raised like Ctrl-C so the same clean-up runs."""


def _raise_terminated(_signum: int, _frame: Any) -> None:
    raise Terminated()


class SimgenGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SimgenError as exc:
            raise UserError(str(exc)) from None
        except KeyboardInterrupt as exc:
            signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
            raise Interrupted(signum) from None


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """--config FILE: the file's values become defaults; flags given on the line win."""
    if value:
        try:
            values = read_config_file(value)
        except SimgenError as exc:
            raise click.BadParameter(str(exc).removeprefix(f"--config {value}: "),
                                     param_hint="--config") from None
        # TOML arrays (image_size = [64, 64], class_names, augment) → the options' comma text
        values = {key: ",".join(map(str, v)) if isinstance(v, list) else v
                  for key, v in values.items()}
        ctx.default_map = {**(ctx.default_map or {}), **values}


def _strategy_help() -> str:
    return "; ".join(f"{s.name}: {s.summary}" for s in STRATEGIES.values())


def dataset_options(fn: Callable) -> Callable:
    """Options shared by `stats` and `build`: what to index, how to split, the tuple shape."""
    options = [
        click.argument("directory", type=click.Path(file_okay=False, path_type=str)),
        click.option("--config", type=click.Path(dir_okay=False), is_eager=True,
                     expose_value=False, callback=_load_config,
                     help="TOML preset (see configs/); flags given here override it."),
        click.option("-k", "--learning-size", type=int, default=2, show_default=True,
                     help="Images per tuple: 2 pairs, 3 triplets, 4 quadruplets, …"),
        click.option("--strategy", type=click.Choice(sorted(STRATEGIES)),
                     default=DEFAULT_STRATEGY, show_default=True, help=_strategy_help()),
        click.option("--positives", type=int, default=1, show_default=True,
                     help="k≥3, combination: positives per tuple (the rest are negatives)."),
        click.option("--positive-ratio", type=float, default=0.5, show_default=True,
                     help="random: probability that a slot holds a positive."),
        click.option("--class-names", type=str, default=None,
                     help="Comma-separated subset and order of class folders to use."),
        click.option("--follow-links/--no-follow-links", default=False, show_default=True,
                     help="Descend into symlinked folders inside class folders."),
        click.option("--shuffle/--no-shuffle", default=True, show_default=True,
                     help="Shuffle files before splitting (keras) and tuple order."),
        click.option("--seed", type=int, default=None,
                     help="Random seed; same seed, same bytes. Drawn and recorded when omitted."),
        click.option("--validation-split", type=float, default=None,
                     help="Fraction of images held out for validation (keras semantics)."),
        click.option("--subset", type=str, default=None,
                     help="training, validation or both: which split(s) to produce with "
                          "--validation-split (both: one build, never overlapping)."),
        click.option("--labels", type=str, default="inferred", show_default=True,
                     help="inferred: class = top-level folder (keras). none: no classes, so no "
                          "similarity labels (refused, except with --augment … --allow-self: "
                          "each image its own class). Or use --labels-file."),
        click.option("--labels-file", type=click.Path(dir_okay=False), default=None,
                     help="Explicit labels: one integer per image file, in keras's file order "
                          "(the whole tree is walked, as keras does for labels=[...])."),
        click.option("--label-mode", type=str, default="int", show_default=True,
                     help="int, categorical, binary or none: how per-element classes are "
                          "stored (int: `classes` int32 only; categorical / binary: also "
                          "`class_labels` float32 one-hot (…, M) / (…, 1), as keras)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def keras_pixel_options(fn: Callable) -> Callable:
    """keras's remaining pixel / batching arguments, plus simgen's --antialias."""
    options = [
        click.option("--crop-to-aspect-ratio", is_flag=True,
                     help="Centre-crop to the target aspect ratio before resizing (keras box)."),
        click.option("--pad-to-aspect-ratio", is_flag=True,
                     help="Resize to fit, then zero-pad to the target size (keras/TF "
                          "resize_with_pad)."),
        click.option("--data-format", type=str, default=None,
                     help="channels_last (default; images (n,k,H,W,C)) or channels_first "
                          "((n,k,C,H,W))."),
        click.option("--antialias/--no-antialias", default=True, show_default=True,
                     help="Anti-alias when shrinking (Pillow filters, or TF kernels widened by "
                          "the scale). --no-antialias reproduces tf.image.resize / keras "
                          "(differs from keras's default here: keras never anti-aliases)."),
        click.option("--batch-size", type=int, default=32, show_default=True,
                     help="Recorded in the manifest as the loaders' default batch size."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def space_options(fn: Callable) -> Callable:
    """Options shared by `stats` and `build` that shape the tuple space, splits and balance."""
    options = [
        click.option("-n", "--num-tuples", type=int, default=None,
                     help="Draw N distinct tuples uniformly (default: the whole space; random: "
                          "one per image). Shared between splits by image count."),
        click.option("--tuples-per-class", type=int, default=None,
                     help="Instead of -n: N tuples per anchor class (all of a smaller class's "
                          "space; shortfalls are reported, never filled with repeats)."),
        click.option("--distinct-negative-classes", is_flag=True,
                     help="k≥3: every negative of a tuple from a different class."),
        click.option("--allow-small-classes", is_flag=True,
                     help="Use classes too small to anchor a tuple only as negatives."),
        click.option("--split-classes", type=float, default=None, metavar="FRACTION",
                     help="Class-disjoint split: the first FRACTION of classes (sorted) train, "
                          "the rest test (CUB-200 / Cars196 convention)."),
        click.option("--class-split-file", type=click.Path(dir_okay=False), default=None,
                     help='Class-disjoint split from JSON {"train": [class, …], "test": […]}.'),
        click.option("--group-pattern", default=None, metavar="REGEX",
                     help="Files whose path (DIR-relative) gives the same match (1st capture "
                          "group) form a group: never split apart, never anchor+positive."),
        click.option("--allow-same-group-positives", is_flag=True,
                     help="With --group-pattern: keep groups whole in splits, but let them "
                          "form positives."),
        click.option("--augment", default=None, metavar="OPS",
                     help="Comma list of flip,rotate,crop,color: per-element parameters drawn "
                          "from the seed, stored in each shard's `augment` dataset."),
        click.option("--allow-self", is_flag=True,
                     help="With --augment: an image may be paired with (an augmented copy of) "
                          "itself."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _config(directory: str, class_names: str | None, **kw: Any):
    """A BuildConfig from CLI values (comma-separated --class-names become a tuple)."""
    names = tuple(n for n in class_names.split(",")) if class_names else None
    return make_config(directory=directory, class_names=names, **kw)


@click.group(cls=SimgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simgen")
def cli() -> None:
    """Materialize pair, triplet and k-tuplet datasets for similarity learning.

    \b
      simgen stats photos/ --learning-size 3
      simgen build photos/ --learning-size 3 --num-tuples 100000 --image-size 64 --out ds/
    """


@cli.command()
@dataset_options
@space_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
def stats(directory: str, as_json: bool, **kw: Any) -> None:
    """Count the tuples DIRECTORY can give: the paper's formulas, spaces, bias.

    \b
    Examples:
      simgen stats photos/ --learning-size 2
      simgen stats photos/ -k 3 --validation-split 0.2 --subset both --seed 1 --json
    """
    result = stats_for(_config(directory, **kw))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_stats(result))


@cli.command()
@dataset_options
@space_options
@click.option("-o", "--out", type=click.Path(file_okay=False),
              help="Output directory for shards and manifest.json (required unless --dry-run).")
@click.option("--dry-run", is_flag=True,
              help="Plan everything (splits, counts, shards, shortfalls) and print it; decode "
                   "no image and create nothing.")
@click.option("--image-size", default="256", show_default=True,
              help="H or H,W in pixels (keras: height, width; same default 256×256).")
@click.option("--color-mode", default="rgb", show_default=True,
              help="grayscale, rgb or rgba (1, 3 or 4 channels).")
@click.option("--interpolation", default="bilinear", show_default=True,
              help="bilinear, nearest, bicubic, area, lanczos3, lanczos5, gaussian or "
                   "mitchellcubic.")
@keras_pixel_options
@click.option("--shard-size", default="512MiB", show_default=True,
              help="Target bytes per shard file (e.g. 64MiB, 1GiB).")
@click.option("--compression", type=click.Choice(["gzip", "lzf"]), default=None,
              help="Compress images in the shards (smaller, much slower to read).")
@click.option("--layout", type=click.Choice(["dense", "indexed"]), default="dense",
              show_default=True,
              help="dense: each tuple's pixels; indexed: each unique image of a shard once "
                   "(`pool`) plus (n, k) indices (`tuples`), far smaller.")
@click.option("--jpeg-draft/--no-jpeg-draft", default=True, show_default=True,
              help="Decode JPEGs at 1/2-1/8 scale when still >= 2x the target size (faster).")
@click.option("-j", "--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: all cores). Output bytes do not depend on it.")
@click.option("--overwrite", is_flag=True, help="Replace a dataset already in --out.")
@click.option("--resume", is_flag=True,
              help="Finish an interrupted build in --out: keep shards whose checksums match.")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail",
              show_default=True,
              help="Bad image files: fail (list them all, write nothing) or skip (build "
                   "without them; the manifest lists them).")
@click.option("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, show_default=True,
              help="Images with more pixels count as decompression bombs (bad files).")
@click.option("--exif-transpose", is_flag=True,
              help="Rotate/flip JPEGs by their EXIF orientation tag (keras does not).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or messages.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def build(directory: str, as_json: bool, dry_run: bool, **kw: Any) -> None:
    """Build tuples from DIRECTORY (one folder per class) into sharded HDF5 files.

    \b
    Examples:
      simgen build photos/ -k 3 --num-tuples 20000 --image-size 64 --seed 7 --out ds/
      simgen build photos/ -k 2 --strategy random --positive-ratio 0.5 -n 5000 --out pairs/
      simgen build photos/ --config configs/triplets.toml --out ds/ --seed 3
      simgen build photos/ -k 4 --split-classes 0.5 --tuples-per-class 500 --seed 1 --dry-run
    """
    config = _config(directory, **kw)
    if dry_run:
        summary = dry_run_summary(plan_job(config, screening="none"))
        click.echo(json.dumps(summary, indent=2) if as_json else format_dry_run(summary))
        return
    if not config.out:
        raise SimgenError("--out is required (or pass --dry-run)")
    talk = not (config.quiet or as_json)
    job = plan_job(config, echo=click.echo if talk else None, screening="deferred")
    if not config.quiet:
        for line in build_warnings(job):
            click.echo(line, err=True)
    manifest = build_job(job)
    if as_json:
        click.echo(json.dumps(_build_summary(config.out, manifest), indent=2))
    elif talk:
        click.echo(format_build(config.out, manifest))
        for line in shortfall_lines(manifest["splits"]):
            click.echo(line)


def _build_summary(out: str, manifest: dict) -> dict:
    return {
        "out": out,
        "config_hash": manifest["config_hash"],
        "splits": {n: {"tuples": s["tuples"], "shards": s["shards"]}
                   for n, s in manifest["splits"].items()},
        "bytes": sum(s["bytes"] for s in manifest["shards"]),
        "skipped": manifest.get("skipped", []),
        "shortfalls": {n: s.get("shortfalls", []) for n, s in manifest["splits"].items()},
    }


@cli.command()
@click.argument("dataset", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report on stdout.")
def verify(dataset: str, as_json: bool) -> None:
    """Check a built DATASET against its manifest: hashes, shapes, labels, splits.

    Exit 0 when sound, 1 with one line per problem (file: reason).

    \b
    Examples:
      simgen verify ds/
      simgen verify ds/ --json
    """
    if not os.path.exists(dataset):
        raise SimgenError(f"no dataset at {dataset}: not found")
    problems = verify_dataset(dataset)
    if as_json:
        click.echo(json.dumps({"dataset": dataset, "ok": not problems,
                               "problems": [p.as_dict() for p in problems]}, indent=2))
    elif problems:
        for p in problems:
            click.echo(f"{display(p.file)}: {display(p.reason)}", err=True)
    else:
        click.echo(f"{dataset}: OK")
    if problems:
        sys.exit(1)


# ----- reading a built dataset: inspect, preview (issue 6) ---------------------------------
@cli.command()
@click.argument("out", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
def inspect(out: str, as_json: bool) -> None:
    """Show the dataset in OUT: splits, counts, shapes, sizes, the paper's formulas.

    \b
    Examples:
      simgen inspect ds/
      simgen inspect ds/ --json | jq .splits.train.tuples
    """
    from .describe import describe, format_describe

    info = describe(out)
    click.echo(json.dumps(info, indent=2) if as_json else format_describe(info))


@cli.command()
@click.argument("out", type=click.Path(path_type=str))
@click.option("--split", default="train", show_default=True, help="Which split to show.")
@click.option("-n", "--num-tuples", "n", type=int, default=8, show_default=True,
              help="Tuples to show, one row each.")
@click.option("--seed", type=int, default=None,
              help="Show N random tuples drawn with this seed (default: the first N).")
@click.option("-o", "--output", default="preview.png", show_default=True,
              type=click.Path(dir_okay=False, path_type=str), help="PNG file to write.")
def preview(out: str, split: str, n: int, seed: int | None, output: str) -> None:
    """Draw a contact sheet of tuples from OUT: anchor first, class and label under each.

    \b
    Examples:
      simgen preview ds/ --split train -n 8 -o preview.png
      simgen preview ds/ --split validation -n 4 --seed 1 -o val.png
    """
    from .loaders import load
    from .preview import write_preview

    splits = load(out)
    available = len(splits[split]) if split in splits else n
    click.echo(f"wrote {write_preview(out, output, split, n, seed)}"
               + (f" ({available} tuples: all the split holds)" if available < n else ""))


def main() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        cli(prog_name="simgen")
    except SystemExit as exc:
        if write_failed_here():
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
