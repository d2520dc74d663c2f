"""The engines' shared ground: the runner interface, the choice of engine, the checks.

The driver (``mlplab.train.driver``) prepares a ``TrainJob`` and asks an engine to
``start`` it; the runner it gets back runs blocks of epochs and hands back what each
epoch recorded. ``numpy`` is the readable reference, bit-exact with the seed; ``jax``
the same math compiled.

An engine is an object with ``name`` and ``start(job) -> runner``; a runner has::

    block(remaining, weights_every, every) -> int  how many epochs the next ``run`` may run
    run(first, stop, after_epoch, every) -> EpochLogs  run epochs [first, stop), calling
                                               after_epoch(epoch, logs) after each one
    finish() -> None                           leave the final weights in the network
    diverged_at                                (K,) for a stack: the epoch each froze, or -1

``every``: the driver records only the epochs that are multiples of it (a long stack's
``StackRecord``); with no ``after_epoch``, a runner may hand back those epochs alone
(``EpochLogs.every``), and ``block`` may then give longer blocks. The driver passes 1
whenever something reads every epoch.

A runner is a context manager for the time of the run (NumPy sets its floating-point error
state there once, not per call). After a block, the network's parameters and the
optimizer's state are those of the block's last epoch.

``after_epoch`` (the driver's: callbacks, early stopping) returns ``True`` to stop; the
block then ends at that epoch and its logs are cut there. The NumPy engine calls it
after each epoch as it runs; a compiled engine runs the block, then replays each
epoch's logs to it (``replay``), so a callback cannot tell which engine ran.

The engine and the device are checked here once (``check_engine``): ``get_engine``
(``registry``), ``choose_engine`` and the JAX engine's device lookup all go through it.

``engine="auto"``: the compiled engine where it wins, NumPy elsewhere. Compiling costs
about a second on a quiet 2-core machine and up to 5-10 s on a loaded one (the disk
cache makes a repeated shape cheap), while the NumPy engine pays about 20-200 µs an
epoch for a small stack. Measured on the project's machine (docs/engines.md), the two
cross near 100 networks x 10000 epochs with a cold cache; below ``AUTO_MIN_WORK``
network-epochs ``auto`` keeps NumPy (exact, no compile), above it takes JAX when installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mlplab.checks import one_of
from mlplab.errors import ConfigError

if TYPE_CHECKING:
    from mlplab.train.job import TrainJob

Array = np.ndarray

AUTO_MIN_WORK = 1_000_000  # networks x epochs from which auto compiles
ENGINE_CHOICES = ("numpy", "jax", "auto")
DEVICES = ("cpu", "gpu")  # where the compiled engine runs; None: JAX's default (a GPU if found)

__all__ = [
    "AUTO_MIN_WORK",
    "DEVICES",
    "ENGINE_CHOICES",
    "AfterEpoch",
    "Diverged",
    "Engine",
    "EpochLogs",
    "Runner",
    "check_engine",
    "choose_engine",
    "replay",
]  # fmt: skip


@dataclass
class EpochLogs:
    """What a block of epochs recorded: arrays whose first axis is the block's epochs.

    ``loss`` is ``(count,)`` for one network, ``(count, K)`` for a stack (NaN where a
    network is frozen); ``accuracy``, ``val_loss``, ``val_accuracy`` likewise, or ``None``.

    A block run with no per-epoch reader may hold only the epochs that are recorded: then
    its rows are the block's epochs ``skip, skip + every, ...`` of ``span`` epochs in all
    (``every = 1``, ``skip = 0``: every epoch, a row each).
    """

    loss: Array
    accuracy: Array | None = None
    val_loss: Array | None = None
    val_accuracy: Array | None = None
    every: int = 1
    skip: int = 0
    span: int | None = None  # the block's epochs (None: one a row)

    def __post_init__(self) -> None:
        self.named = [(name, a) for name, a in zip(NAMES, self._arrays(), strict=True)
                      if a is not None]  # fmt: skip
        self._item = (lambda a: float(a)) if self.loss.ndim == 1 else (lambda a: a)

    def __len__(self) -> int:
        """The epochs the block ran (its rows, when it holds every epoch)."""
        return len(self.loss) if self.span is None else self.span

    def at(self, i: int) -> dict[str, Any]:
        """The logs of the block's ``i``-th epoch, as callbacks get them (every epoch held)."""
        item = self._item
        return {name: item(values[i]) for name, values in self.named}

    def head(self, count: int) -> EpochLogs:
        """The first ``count`` epochs of the block."""
        if self.span is None:
            return EpochLogs(*(None if a is None else a[:count] for a in self._arrays()))
        rows = len(range(self.skip, count, self.every))
        return EpochLogs(*(None if a is None else a[:rows] for a in self._arrays()),
                         every=self.every, skip=self.skip, span=count)  # fmt: skip

    def _arrays(self) -> tuple[Array | None, ...]:
        return self.loss, self.accuracy, self.val_loss, self.val_accuracy


NAMES = ("loss", "accuracy", "val_loss", "val_accuracy")


class Diverged(Exception):
    """Raised by a runner when one network's loss became non-finite at ``epoch``.

    ``logs`` holds the block's epochs before that one; the driver raises the user's
    ``TrainingDivergedError`` from it.
    """

    def __init__(self, epoch: int, loss: Any, logs: EpochLogs) -> None:
        super().__init__(epoch, loss)
        self.epoch, self.loss, self.logs = epoch, loss, logs


AfterEpoch = Callable[[int, dict[str, Any]], bool]


def replay(logs: EpochLogs, first: int, after_epoch: AfterEpoch | None) -> EpochLogs:
    """Call ``after_epoch`` with each epoch of a block that has run; cut where it stops."""
    if after_epoch is not None:
        for i in range(len(logs)):
            if after_epoch(first + i, logs.at(i)):
                return logs.head(i + 1)
    return logs


class Runner(Protocol):
    diverged_at: Array | None

    def __enter__(self) -> Runner: ...

    def __exit__(self, *exc: object) -> None: ...

    def block(self, remaining: int, weights_every: int | None, every: int = 1) -> int: ...

    def run(self, first: int, stop: int, after_epoch: AfterEpoch | None = None,
            every: int = 1) -> EpochLogs: ...  # fmt: skip

    def finish(self) -> None: ...


class Engine(Protocol):
    name: str

    def start(self, job: TrainJob) -> Runner: ...


def check_engine(engine: str, device: str | None, *, flags: bool = False) -> str:
    """``engine`` if it is a name in ``ENGINE_CHOICES`` and ``device`` suits it (``None``,
    or one of ``DEVICES``; a GPU only for the compiled engine); else a ``ConfigError``
    naming the settings as the library's arguments, or with ``flags`` as the command line's
    options (``--device gpu``)."""
    dash = "--" if flags else ""

    def named(option: str, value: str) -> str:
        return f"--{option} {value}" if flags else f"{option} {value!r}"

    one_of(f"{dash}engine", engine, ENGINE_CHOICES)
    if device is None:
        return engine
    one_of(f"{dash}device", device, DEVICES)
    if device == "gpu" and engine == "numpy":
        raise ConfigError(
            f"{named('device', 'gpu')} needs the compiled engine: {named('engine', 'jax')} "
            "(or 'auto'); the NumPy engine runs on the CPU"
        )
    return engine


def choose_engine(engine: str, nets: int, epochs: int, device: str | None = None) -> str:
    """The engine to train ``nets`` networks for ``epochs`` on: ``engine``, or for ``"auto"``
    ``"jax"`` when a GPU is asked for, or when JAX is installed and the work is large
    enough, else ``"numpy"``."""
    if check_engine(engine, device) != "auto":
        return engine
    if device == "gpu":
        return "jax"
    if nets * epochs < AUTO_MIN_WORK or importlib.util.find_spec("jax") is None:
        return "numpy"
    return "jax"
