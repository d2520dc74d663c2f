"""``mlplab replay RECORD.json``: rerun a recorded training run and say whether it is identical."""

from __future__ import annotations

import json
from typing import Any

import click

from mlplab.checks import printable, shortened
from mlplab.cli.options import json_option, quiet_option
from mlplab.errors import ConfigError
from mlplab.experiments.config import TrainConfig, config_from_dict
from mlplab.experiments.runs import run_training
from mlplab.io.records import compare, load_record, versions

__all__ = ["replay"]


@click.command()
@click.argument("record", type=click.Path(dir_okay=False))
@json_option
@quiet_option
def replay(record: str, as_json: bool, quiet: bool) -> None:
    """Rerun the training recorded by `train --record` and compare, epoch block by block.

    Prints "identical", or the first block of epochs whose losses differ and by how
    much; exits 1 when the run diverged.
    """
    saved = load_record(record)
    config, holdout = _settings(saved["run"], record)
    net, history, *_ = run_training(config, holdout=holdout, quiet=quiet)
    result = compare(saved, history.loss, net)
    seen = {"recorded": saved.get("versions", {}), "replayed": versions()}
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "versions": seen}))
    else:
        click.echo(result.describe())
        if seen["recorded"] != seen["replayed"]:
            for when, v in seen.items():
                click.echo(f"  {when} with {_format_versions(v)}")
    if not result.identical:
        raise click.exceptions.Exit(1)


def _settings(run: dict[str, Any], source: str) -> tuple[TrainConfig, int | None]:
    """The recorded run's config and holdout, checked; ``ConfigError`` otherwise."""
    holdout = run.get("holdout")
    if run.get("command") != "train" or not (
        holdout is None or (isinstance(holdout, int) and not isinstance(holdout, bool))
    ):
        raise ConfigError(f"{source}: the record holds no `mlplab train` run")
    return config_from_dict(run.get("config"), source), holdout


def _format_versions(v: dict[str, str]) -> str:
    """The versions a record names, as they may be shown (read from a file: escaped, cut)."""
    shown = (f"{k} {v[k]}" for k in ("mlplab", "numpy", "python", "machine") if k in v)
    return printable(shortened(", ".join(shown)))
