"""``trace``: one epoch of ``fit``, every line recorded (what ``MLP.trace`` calls)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlplab.errors import ConfigError
from mlplab.trace.record import Recorder, RecordingObjective, RecordingOps
from mlplab.trace.result import Trace
from mlplab.trace.updates import RecordingPenalty, recording_step, recording_update
from mlplab.train.callbacks import Callback
from mlplab.train.driver import fit
from mlplab.train.optimizers import SGD, get_optimizer
from mlplab.train.regularization import get_regularizers

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = ["trace"]


def trace(net: MLP, X: Any, T: Any, **options: Any) -> Trace:
    """Run one epoch of ``fit(net, X, T, epochs=1, **options)`` and return its ``Trace``.

    The epoch is ``fit``'s own, on the NumPy engine: afterwards ``net`` (and the optimizer,
    when one is passed as an object) is what ``fit(..., epochs=1)`` with the same options
    would have left, bit for bit. To continue a run, pass the objects it used: the same
    optimizer object (Adam's moments and step count go on) and the same
    ``np.random.Generator`` as ``seed`` (the shuffle goes on).
    """
    options = _checked(options)
    rec = Recorder(net)
    optimizer = get_optimizer(options.pop("optimizer", None), options.pop("lr", 1.0))
    names = {id(v): f"{k}{i + 1}" for i, p in enumerate(net.params) for k, v in p.items()}
    weight_names = [f"W{i + 1}" for i in range(len(net.params))]
    penalties = [RecordingPenalty(r, rec, weight_names)
                 for r in get_regularizers(options.pop("weight_decay", 0.0))]  # fmt: skip
    callbacks = [_Stop(rec), *options.pop("callbacks", ()), _Start(rec)]
    epoch = int(net.training_metadata.get("epochs", 0))
    with _recording(net, optimizer, names, rec):
        history = fit(net, X, T, epochs=1, optimizer=optimizer, weight_decay=penalties,
                      callbacks=callbacks, engine="numpy", **options)  # fmt: skip
    return Trace(rec.steps, epoch=epoch, history=history, network=net.config(),
                 optimizer=repr(optimizer))  # fmt: skip


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    if "epochs" in options:
        raise ConfigError("trace runs one epoch (the next one); train the ones before it with "
                          "fit, then trace")  # fmt: skip
    engine = options.pop("engine", None)
    if engine not in (None, "numpy", "auto") and getattr(engine, "name", None) != "numpy":
        raise ConfigError(
            f"trace records the NumPy engine's arrays, got engine={engine!r}: the compiled "
            "engine runs the same lines (mlplab.nn.layer) and agrees to rounding; trace with "
            "engine='numpy'"
        )
    options.pop("device", None)
    return options


@contextlib.contextmanager
def _recording(net: MLP, optimizer: Any, names: dict[int, str], rec: Recorder) -> Iterator[None]:
    """Wrap the layers' ops, the objective, the optimizer's rule and validation for a while."""
    saved_ops = [layer.ops for layer in net.layers]
    saved_objective = net.objective
    own = "update_into" if isinstance(optimizer, SGD) else "step"
    had = own in vars(optimizer)
    saved_rule = vars(optimizer).get(own)
    for i, layer in enumerate(net.layers, start=1):
        layer.ops = RecordingOps(layer.ops, layer, i, rec)
    net.objective = RecordingObjective(saved_objective, rec)
    wrap = recording_update if own == "update_into" else recording_step
    setattr(optimizer, own, wrap(optimizer, names, rec))
    net.loss_at = _paused(net.loss_at, rec)  # the validation rows are not the step
    try:
        yield
    finally:
        for layer, ops in zip(net.layers, saved_ops, strict=True):
            layer.ops = ops
        net.objective = saved_objective
        if had:
            setattr(optimizer, own, saved_rule)
        else:
            delattr(optimizer, own)
        del net.loss_at


def _paused(fn: Any, rec: Recorder) -> Any:
    def paused(*args: Any, **kwargs: Any) -> Any:
        active, rec.active = rec.active, False
        try:
            return fn(*args, **kwargs)
        finally:
            rec.active = active

    return paused


class _Start(Callback):
    """Last of the callbacks: recording starts once the others have begun."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def on_train_begin(self, net: MLP) -> None:
        self.rec.active = True


class _Stop(Callback):
    """First of the callbacks: recording stops at the end of the epoch."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.rec.active = False
