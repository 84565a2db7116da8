"""``var-bench weights list`` and ``var-bench weights fetch``: the extractor's pinned weights."""

from __future__ import annotations

import json

import click

from var_bench.cli.base import cli, home_option, mirror_option


@cli.group()
def weights():
    """The extractor models' pinned weights: list them, fetch them into the data home."""


@weights.command("list")
@home_option
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_(home, as_json):
    """Each pin: model, file, URL, check, and its state in <data home>/weights/ (present files
    are hashed: verified, or mismatch)."""
    from var_bench.extract.weights import weights_status

    rows = weights_status(home)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "model": r.pin.key,
                        "file": r.pin.filename,
                        "url": r.pin.url,
                        "mirror_key": r.pin.mirror_key,
                        "check": r.pin.describe(),
                        "full_digest": r.pin.full_digest,
                        "path": str(r.path),
                        "state": r.state,
                    }
                    for r in rows
                ],
                indent=1,
            )
        )
        return
    for r in rows:
        click.echo(f"{r.pin.key:<13} {r.state:<9} {r.pin.filename}  ({r.pin.describe()})")
        click.echo(f"{'':<13} {r.pin.url}")
    if rows:
        click.echo(f"in {rows[0].path.parent}")
    weak = [r.pin.key for r in rows if not r.pin.full_digest]
    if weak:
        click.echo(
            f"note: {', '.join(weak)}: only a sha256 prefix is known (the upstream publishes no "
            f"full digest), so these files are checked against 32 bits; the full sha256 of the "
            f"file used is recorded in the features' identity"
        )


@weights.command("fetch")
@click.argument("models", nargs=-1, metavar="[MODEL ...]")
@home_option
@mirror_option
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: on a TTY).")
def fetch(models, home, mirror, progress):
    """Fetch and verify the pinned weights of MODELs (default: every pin) into
    <data home>/weights/; files already verified are not fetched again."""
    from var_bench.extract.weights import PINS, download_weights, get_pin

    pins = (
        [get_pin(m) for m in models] if models else list(PINS.values())
    )  # checked before fetching
    for pin in pins:
        path = download_weights(pin, home=home, mirror=mirror, progress=progress)
        click.echo(f"{pin.key}: {pin.filename} verified ({pin.describe()})  ->  {path}")
