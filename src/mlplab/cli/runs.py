"""``mlplab train --checkpoint/--resume/--record``: runs that survive and can be replayed.

The training itself is ``run_training``'s; this module only adds a
``CheckpointCallback`` to it, starts it from a checkpoint, or writes a record after it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from mlplab.cli.data import PreparedData
from mlplab.cli.options import TrainConfig
from mlplab.errors import ConfigError, ModelFileError
from mlplab.io.checkpoints import CheckpointCallback, load_checkpoint
from mlplab.io.records import make_record, write_record
from mlplab.nn.network import MLP
from mlplab.train.fit import History
from mlplab.train.optimizers import Optimizer, get_optimizer

__all__ = ["RunFiles", "config_from_dict", "run_options"]

DEFAULT_EVERY = 1000
# the settings a checkpointed run honours: full-batch SGD on a built-in data set. A setting
# added to TrainConfig later is refused with --checkpoint/--resume until it is wired in here,
# rather than silently ignored.
CHECKPOINTABLE = frozenset(
    {"dataset", "hidden", "activation", "output_activation", "loss", "reduction", "bias",
     "init", "seed", "epochs", "lr", "dtype", "data", "target", "points", "noise",
     "validation", "test", "standardize", "batch_size", "optimizer", "weight_decay"}
)  # fmt: skip
# not yet: a schedule counts epochs from 0 in each fit() call, and early stopping's best
# weights are not part of a checkpoint, so a resumed run would not be the same run
# options that --resume may be combined with; the rest come from the checkpoint
_RESUMABLE = {
    "as_json",
    "quiet",
    "save_path",
    "plot_path",
    "checkpoint",
    "checkpoint_every",
    "record",
    "resume",
}


def run_options(command: Callable) -> Callable:
    """Add ``--checkpoint``, ``--checkpoint-every``, ``--resume`` and ``--record`` to a command."""
    decorators = [
        click.option(
            "--checkpoint",
            "checkpoint",
            type=click.Path(dir_okay=False),
            default=None,
            metavar="FILE",
            help="Save weights, optimizer and RNG state, history and epoch here as training goes.",
        ),
        click.option(
            "--checkpoint-every",
            type=click.IntRange(min=1),
            default=None,
            metavar="N",
            help=f"Epochs between checkpoints (default {DEFAULT_EVERY}; the end is always saved).",
        ),
        click.option(
            "--resume",
            type=click.Path(dir_okay=False),
            default=None,
            metavar="FILE",
            help="Continue the run saved in this checkpoint (and keep checkpointing to it).",
        ),
        click.option(
            "--record",
            type=click.Path(dir_okay=False),
            default=None,
            metavar="FILE.json",
            help="Write a run record for `mlplab replay`.",
        ),
    ]
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


@dataclass(frozen=True)
class RunFiles:
    """The files a training run keeps: its checkpoint, the one it resumes from, its record."""

    checkpoint: str | None = None
    every: int | None = None
    resume: str | None = None
    record: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> RunFiles:
        return cls(
            options.get("checkpoint"),
            options.get("checkpoint_every"),
            options.get("resume"),
            options.get("record"),
        )

    @property
    def active(self) -> bool:
        return any((self.checkpoint, self.every, self.resume, self.record))

    def train(
        self, config: TrainConfig, *, holdout: int | None, quiet: bool
    ) -> tuple[TrainConfig, int | None, MLP, History, np.ndarray, np.ndarray, float]:
        """Train (or resume) with checkpoints and a record; returns what ``train`` shows."""
        if self.every is not None and not (self.checkpoint or self.resume):
            raise ConfigError("--checkpoint-every needs --checkpoint FILE (or --resume FILE)")
        if self.resume:
            _refuse_settings_with_resume()
            result = self._resume(quiet)
        elif self.checkpoint:
            result = self._fresh(config, holdout, quiet)
        else:
            from mlplab.cli.train import run_training

            net, history, X, t, seconds = run_training(config, holdout=holdout, quiet=quiet)
            result = (config, holdout, net, history, X, t, seconds)
        config, holdout, net, history = result[:4]
        if self.record:
            write_record(self.record, make_record(_run(config, holdout), history.loss, net))
        return result

    def _fresh(self, config: TrainConfig, holdout: int | None, quiet: bool):
        from mlplab.cli.train import new_network, training_rows

        _refuse_unsupported(config)
        data, rows = training_rows(config, holdout)
        net = new_network(config, data)
        optimizer = get_optimizer(config.optimizer, config.lr)
        rng = np.random.default_rng(config.seed)  # the run's stream for mini-batch shuffling
        every = self.every or DEFAULT_EVERY
        run = {**_run(config, holdout), "every": every}
        saver = CheckpointCallback(self.checkpoint, net, optimizer, every=every, rng=rng, run=run)
        return self._fit(config, holdout, net, optimizer, saver, data, rows, quiet)

    def _resume(self, quiet: bool):
        saved = load_checkpoint(self.resume)
        try:
            config = config_from_dict(saved.run.get("config"), self.resume)
        except ConfigError as e:
            raise ModelFileError(str(e)) from None
        holdout, every = saved.run.get("holdout"), saved.run.get("every", DEFAULT_EVERY)
        if not (holdout is None or _is_int(holdout)) or not (_is_int(every) and every >= 1):
            raise ModelFileError(f"{self.resume}: the checkpoint's holdout or interval is invalid")
        every = self.every or every
        _refuse_unsupported(config)
        if saved.epoch > config.epochs:
            raise ModelFileError(
                f"{self.resume}: {saved.epoch} epochs done, more than the run's {config.epochs}"
            )
        from mlplab.cli.train import new_network, training_rows

        data, rows = training_rows(config, holdout)
        if list(saved.net.sizes) != config.sizes(data.X.shape[1], data.t.shape[1]):
            raise ModelFileError(f"{self.resume}: the network does not fit the run's data")
        saved.net.training_metadata.update(new_network(config, data).training_metadata)
        optimizer = get_optimizer(config.optimizer, config.lr)
        saved.restore_optimizer(optimizer)
        run = {**_run(config, holdout), "every": every}
        saver = CheckpointCallback(
            self.checkpoint or self.resume,
            saved.net,
            optimizer,
            every=every,
            start_epoch=saved.epoch,
            losses=saved.losses,
            rng=saved.rng,
            run=run,
        )
        return self._fit(config, holdout, saved.net, optimizer, saver, data, rows, quiet)

    @staticmethod
    def _fit(
        config: TrainConfig,
        holdout: int | None,
        net: MLP,
        optimizer: Optimizer,
        saver: CheckpointCallback,
        data: PreparedData,
        rows: np.ndarray,
        quiet: bool,
    ) -> tuple[TrainConfig, int | None, MLP, History, np.ndarray, np.ndarray, float]:
        """Train the epochs left, checkpointing through ``saver``; the history is the whole run's.

        Mini-batches are shuffled from ``saver.rng``, the run's generator, which the
        checkpoint saves and restores: a resumed run shuffles as the original would have.
        """
        from mlplab.cli.train import fit_network

        remaining = config.epochs - saver.epoch
        start = time.perf_counter()
        fit_network(net, config, data, rows, epochs=remaining, quiet=quiet, optimizer=optimizer,
                    callbacks=[saver], seed=saver.rng)  # fmt: skip
        saver.save()  # the end, whatever the interval
        seconds = time.perf_counter() - start
        history = History(saver.losses, config.epochs, seconds)
        return config, holdout, net, history, data.X, data.t, seconds


def config_from_dict(settings: Any, source: str) -> TrainConfig:
    """The ``TrainConfig`` of a ``to_dict()`` read from a file, every field's type checked."""
    if not isinstance(settings, dict):
        raise ConfigError(f"{source}: holds no `mlplab train` settings")
    unknown = set(settings) - set(TrainConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(
            f"{source}: recorded with settings this mlplab does not know: "
            f"{', '.join(sorted(map(str, unknown)))}"
        )
    defaults = TrainConfig()
    for name, value in settings.items():
        if not _same_kind(value, getattr(defaults, name)):
            raise ConfigError(f"{source}: setting {name} has the wrong type: {value!r}")
    if "hidden" in settings:
        settings = {**settings, "hidden": tuple(settings["hidden"])}
    return TrainConfig.from_options(settings)


def _same_kind(value: Any, default: Any) -> bool:
    """Whether a JSON value can stand for a setting whose default is ``default``."""
    if default is None:
        return value is None or isinstance(value, str | int | float)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return _is_int(value)
    if isinstance(default, float):
        return (isinstance(value, float) and math.isfinite(value)) or _is_int(value)
    if isinstance(default, tuple):
        return isinstance(value, list) and all(_is_int(v) and 0 < v < 2**31 for v in value)
    return isinstance(value, type(default))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _run(config: TrainConfig, holdout: int | None) -> dict[str, Any]:
    return {"command": "train", "config": config.to_dict(), "holdout": holdout}


def _refuse_unsupported(config: TrainConfig) -> None:
    defaults = TrainConfig()
    changed = sorted(
        name
        for name in TrainConfig.__dataclass_fields__
        if name not in CHECKPOINTABLE and getattr(config, name) != getattr(defaults, name)
    )
    if changed:
        flags = ", ".join("--" + name.replace("_", "-") for name in changed)
        raise ConfigError(f"--checkpoint and --resume do not support {flags} yet")


def _refuse_settings_with_resume() -> None:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    given = [
        name
        for name in ctx.params
        if name not in _RESUMABLE
        and ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in sorted(given))
        raise ConfigError(
            f"--resume continues the run saved in the checkpoint with its own settings; "
            f"drop {flags}"
        )
