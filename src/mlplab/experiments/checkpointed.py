"""Training runs that survive and can be replayed: checkpoints, resuming, run records.

The training itself is ``run_training``'s; ``RunFiles`` only adds a
``CheckpointCallback`` to it, starts it from a checkpoint, or writes a record after it.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mlplab.checks import is_integer
from mlplab.errors import ConfigError, ModelFileError
from mlplab.experiments.config import DEFAULTS, TrainConfig, config_from_dict
from mlplab.experiments.data import PreparedData
from mlplab.experiments.runs import fit_network, new_network, run_training, training_rows
from mlplab.io.checkpoints import CheckpointCallback, load_checkpoint
from mlplab.io.files import hold_lock
from mlplab.io.records import make_record, write_record
from mlplab.nn.network import MLP
from mlplab.train.callbacks import Callback
from mlplab.train.history import History
from mlplab.train.optimizers import Optimizer, get_optimizer

__all__ = [
    "CHECKPOINTABLE",
    "DEFAULT_EVERY",
    "RunFiles",
    "RunInterrupted",
    "RunResult",
    "data_fingerprint",
]
DATA_KEY = "data_sha256"  # the checkpoint's fingerprint of the rows it trains on

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

# what a run gives: its config and holdout (a resumed run's come from the checkpoint),
# the network, its history, all rows X and t, and the seconds it trained
RunResult = tuple[TrainConfig, int | None, MLP, History, np.ndarray, np.ndarray, float]


@dataclass(frozen=True)
class RunFiles:
    """The files a training run keeps: its checkpoint, the one it resumes from, its record."""

    checkpoint: str | None = None
    every: int | None = None
    resume: str | None = None
    record: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> RunFiles:
        """From the ``checkpoint``, ``checkpoint_every``, ``resume`` and ``record`` options."""
        return cls(
            options.get("checkpoint"),
            options.get("checkpoint_every"),
            options.get("resume"),
            options.get("record"),
        )

    @property
    def active(self) -> bool:
        return any((self.checkpoint, self.every, self.resume, self.record))

    def check(self) -> None:
        """Refuse an empty file name, and an interval without a file to checkpoint to."""
        named = {"--checkpoint": self.checkpoint, "--resume": self.resume, "--record": self.record}
        for option, path in named.items():
            if path is not None and not path.strip():
                raise ConfigError(f"{option}: an empty path; expected a file name")
        if self.every is not None and not (self.checkpoint or self.resume):
            raise ConfigError("--checkpoint-every needs --checkpoint FILE (or --resume FILE)")

    def train(
        self,
        config: TrainConfig,
        *,
        holdout: int | None,
        quiet: bool,
        say: Callable[[str], None] | None = None,
        epochs: int | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> RunResult:
        """Train (or resume) with checkpoints and a record; returns what ``train`` shows.

        ``epochs`` with ``resume``: continue the saved run to this many epochs in all.
        ``say`` is told from which epoch a run resumes; ``callbacks`` go to ``fit``.
        """
        self.check()
        with contextlib.ExitStack() as locks:  # one run at a time per checkpoint
            for path in sorted({p for p in (self.checkpoint, self.resume) if p}):
                locks.enter_context(hold_lock(path, ConfigError, "checkpoint"))
            if self.resume:
                result = self._resume(quiet, say, epochs, callbacks)
            elif self.checkpoint:
                result = self._fresh(config, holdout, quiet, callbacks)
            else:
                net, history, X, t, seconds = run_training(
                    config, holdout=holdout, quiet=quiet, callbacks=callbacks
                )
                result = (config, holdout, net, history, X, t, seconds)
        config, holdout, net, history = result[:4]
        if self.record:
            ran = config
            if history.epochs < config.epochs and not config.early_stopping:  # interrupted
                ran = replace(config, epochs=history.epochs)  # a record its replay reproduces
            write_record(self.record, make_record(_run(ran, holdout), history.loss, net))
        return result

    def _fresh(
        self, config: TrainConfig, holdout: int | None, quiet: bool, callbacks: Sequence[Callback]
    ) -> RunResult:
        _refuse_unsupported(config)
        data, rows = training_rows(config, holdout)
        net = new_network(config, data)
        optimizer = get_optimizer(config.optimizer, config.lr)
        rng = np.random.default_rng(config.seed)  # the run's stream for mini-batch shuffling
        every = self.every or DEFAULT_EVERY
        run = {**_run(config, holdout), "every": every, DATA_KEY: data_fingerprint(data)}
        saver = CheckpointCallback(self.checkpoint, net, optimizer, every=every, rng=rng, run=run)
        return _fit(config, holdout, net, optimizer, [saver, *callbacks], data, rows, quiet)

    def _resume(
        self,
        quiet: bool,
        say: Callable[[str], None] | None,
        epochs: int | None,
        callbacks: Sequence[Callback],
    ) -> RunResult:
        saved = load_checkpoint(self.resume)
        try:
            config = config_from_dict(saved.run.get("config"), self.resume)
        except ConfigError as e:
            raise ModelFileError(str(e)) from None
        if epochs is not None:
            if epochs < saved.epoch:
                raise ConfigError(
                    f"--epochs {epochs}: the checkpoint {self.resume} has already run "
                    f"{saved.epoch} epochs; give at least that many"
                )
            config = replace(config, epochs=epochs)
        holdout, every = saved.run.get("holdout"), saved.run.get("every", DEFAULT_EVERY)
        if not (holdout is None or is_integer(holdout)) or not (is_integer(every) and every >= 1):
            raise ModelFileError(f"{self.resume}: the checkpoint's holdout or interval is invalid")
        every = self.every or every
        _refuse_unsupported(config)
        if saved.epoch > config.epochs:
            raise ModelFileError(
                f"{self.resume}: {saved.epoch} epochs done, more than the run's {config.epochs}"
            )
        data, rows = training_rows(config, holdout)
        if list(saved.net.sizes) != config.sizes(data.X.shape[1], data.t.shape[1]):
            raise ModelFileError(f"{self.resume}: the network does not fit the run's data")
        fingerprint = data_fingerprint(data)
        _check_same_data(self.resume, saved.run.get(DATA_KEY), fingerprint, data.source)
        if say is not None:
            say(f"resuming {self.resume} from epoch {saved.epoch} of {config.epochs}")
        saved.net.training_metadata.update(new_network(config, data).training_metadata)
        optimizer = get_optimizer(config.optimizer, config.lr)
        saved.restore_optimizer(optimizer)
        run = {**_run(config, holdout), "every": every, DATA_KEY: fingerprint}
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
        if self.checkpoint in (None, self.resume):
            saver.saved_epoch = saved.epoch  # the file it writes holds that epoch now
        return _fit(config, holdout, saved.net, optimizer, [saver, *callbacks], data, rows, quiet)


def _fit(
    config: TrainConfig,
    holdout: int | None,
    net: MLP,
    optimizer: Optimizer,
    callbacks: list[Any],
    data: PreparedData,
    rows: np.ndarray,
    quiet: bool,
) -> RunResult:
    """Train the epochs left, checkpointing through ``callbacks[0]``, the saver; the history is
    the whole run's, to the epoch reached (a callback may stop the run early).

    Mini-batches are shuffled from ``saver.rng``, the run's generator, which the
    checkpoint saves and restores: a resumed run shuffles as the original would have.
    """
    saver: CheckpointCallback = callbacks[0]
    remaining = config.epochs - saver.epoch
    start = time.perf_counter()
    try:
        fit_network(net, config, data, rows, epochs=remaining, quiet=quiet,
                    optimizer=optimizer, callbacks=callbacks, seed=saver.rng)  # fmt: skip
    except KeyboardInterrupt:
        raise RunInterrupted(_interrupted(saver)) from None
    saver.save()  # the end, whatever the interval
    seconds = time.perf_counter() - start
    history = History(saver.losses, saver.epoch, seconds)
    return config, holdout, net, history, data.X, data.t, seconds


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a checkpointed run; the message names the checkpoint to resume from."""


def _interrupted(saver: CheckpointCallback) -> str:
    if saver.saved_epoch is None:
        return f"no checkpoint was written yet to {saver.path}"
    return (
        f"the checkpoint {saver.path} holds epoch {saver.saved_epoch}; continue with "
        f"--resume {saver.path}"
    )


def data_fingerprint(data: PreparedData) -> str:
    """SHA-256 of the run's data: every input and target (shape, dtype and bytes), and the
    split. A resumed run checks it, so changed data are said, not trained on silently."""
    digest = hashlib.sha256()
    arrays = [data.X, data.t, data.parts.train, data.parts.validation, data.parts.test]
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.shape}:{a.dtype.str};".encode())
        digest.update(a.tobytes())
    for name in data.classes or ():
        digest.update(name.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def _check_same_data(source: str, saved: Any, now: str, data: str) -> None:
    """Refuse to resume on data other than those the checkpoint was trained on."""
    if saved is not None and saved != now:
        raise ConfigError(
            f"--resume {source}: the data ({data}) differ from those the checkpoint was "
            "trained on (another fingerprint); resume with the original data or start a new run"
        )


def _run(config: TrainConfig, holdout: int | None) -> dict[str, Any]:
    return {"command": "train", "config": config.to_dict(), "holdout": holdout}


def _refuse_unsupported(config: TrainConfig) -> None:
    changed = sorted(
        name
        for name in TrainConfig.__dataclass_fields__
        if name not in CHECKPOINTABLE and getattr(config, name) != getattr(DEFAULTS, name)
    )
    if changed:
        flags = ", ".join("--" + name.replace("_", "-") for name in changed)
        raise ConfigError(f"--checkpoint and --resume do not support {flags} yet")
