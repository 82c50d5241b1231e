"""The `simgen` command: a thin click skin over the Python API (parse, call, print)."""
from __future__ import annotations

import json
import sys
from typing import Any, Callable

import click

from . import __version__
from .api import stats_for
from .builder import build_job
from .job import plan_job
from .config import make_config, read_config_file
from .errors import SimgenError
from .imaging import COLOR_MODES, INTERPOLATIONS
from .report import format_build, format_stats, keras_messages
from .strategies import DEFAULT_STRATEGY, STRATEGIES


class UserError(click.ClickException):
    """A SimgenError as click shows it: 'Error: …' on one line, exit code 2."""

    exit_code = 2


class SimgenGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SimgenError as exc:
            raise UserError(str(exc)) from None


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """--config FILE: the file's values become defaults; flags given on the line win."""
    if value:
        try:
            values = read_config_file(value)
        except SimgenError as exc:
            raise click.BadParameter(str(exc).removeprefix(f"--config {value}: "),
                                     param_hint="--config") from None
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
        click.option("--subset", type=click.Choice(["training", "validation", "both"]),
                     default=None, help="Which split(s) to produce with --validation-split."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _config(directory: str, class_names: str | None, **kw: Any):
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
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output directory for shards and manifest.json.")
@click.option("-n", "--num-tuples", type=int, default=None,
              help="Draw N distinct tuples uniformly (default: the whole space; random: one "
                   "per image). Shared between splits by image count.")
@click.option("--image-size", default="256", show_default=True,
              help="H or H,W in pixels (keras: height, width).")
@click.option("--color-mode", type=click.Choice(list(COLOR_MODES)), default="rgb",
              show_default=True)
@click.option("--interpolation", type=click.Choice(list(INTERPOLATIONS)), default="bilinear",
              show_default=True, help="Resampling filter for resizing.")
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
@click.option("--allow-small-classes", is_flag=True,
              help="Use classes too small to anchor a tuple only as negatives.")
@click.option("-j", "--workers", type=int, default=None,
              help="Worker processes (default: all cores). Output bytes do not depend on it.")
@click.option("--overwrite", is_flag=True, help="Replace a dataset already in --out.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or messages.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def build(directory: str, as_json: bool, **kw: Any) -> None:
    """Build tuples from DIRECTORY (one folder per class) into sharded HDF5 files.

    \b
    Examples:
      simgen build photos/ -k 3 --num-tuples 20000 --image-size 64 --seed 7 --out ds/
      simgen build photos/ -k 2 --strategy random --positive-ratio 0.5 -n 5000 --out pairs/
      simgen build photos/ --config configs/triplets.toml --out ds/ --seed 3
    """
    config = _config(directory, **kw)
    job = plan_job(config)
    talk = not (config.quiet or as_json)
    if talk:
        for line in keras_messages(job):
            click.echo(line)
    manifest = build_job(job)
    if as_json:
        click.echo(json.dumps(_build_summary(config.out, manifest), indent=2))
    elif talk:
        click.echo(format_build(config.out, manifest))


def _build_summary(out: str, manifest: dict) -> dict:
    return {
        "out": out,
        "config_hash": manifest["config_hash"],
        "splits": {n: {"tuples": s["tuples"], "shards": s["shards"]}
                   for n, s in manifest["splits"].items()},
        "bytes": sum(s["bytes"] for s in manifest["shards"]),
    }


def main() -> None:
    cli(prog_name="simgen")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
