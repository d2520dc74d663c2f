"""Issue 23 §3: what the user is told about the weights is true.

A divergence says which weights the network keeps; early stopping puts its best weights
back however training ends (a divergence, Ctrl-C, a callback raising) and the epochs
that ran are counted; a second concurrent ``fit`` on one network is refused; NaN
weights are refused by ``save`` as by ``load``.
"""

from __future__ import annotations

import copy
import pickle
import re
import threading

import numpy as np
import pytest

from mlplab import MLP
from mlplab.datasets import load_dataset
from mlplab.errors import ConfigError, ModelFileError, TrainingDivergedError
from mlplab.train.callbacks import Callback
from mlplab.train.stopping import EarlyStopping


def _largest(net: MLP) -> float:
    return max(float(np.max(np.abs(v))) for p in net.params for v in p.values())


def test_a_divergence_says_the_weights_it_keeps_are_not_usable():
    X, t = load_dataset("moons", 200, 0.1, 0)
    net = MLP([2, 8, 1], activation="relu", output_activation="identity", init="he", seed=0)
    with pytest.raises(TrainingDivergedError) as caught:
        net.fit(X, t, epochs=100, lr=100, batch_size=10)
    message = str(caught.value)
    assert "before that step were kept" not in message
    assert "weights at which the loss became non-finite" in message and "do not use" in message
    shown = float(re.search(r"largest \|weight\| ([0-9.e+]+)", message).group(1))
    assert shown == pytest.approx(_largest(net), rel=1e-2)  # the weights it has, said


class _At(Callback):
    """At epoch ``at``: blow the weights up (the next epoch diverges), or raise ``error``."""

    def __init__(self, net: MLP, at: int, error: BaseException | None = None) -> None:
        self.net, self.at, self.error = net, at, error

    def on_epoch_end(self, epoch, logs):
        if epoch == self.at:
            if self.error is not None:
                raise self.error
            for p in self.net.params:
                p["W"][...] = np.inf
        return False


def _stopper_run(end: str):
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], seed=0)
    stopper = EarlyStopping(patience=1000, monitor="loss")
    best: list[np.ndarray] = []

    class Best(Callback):  # a copy of the weights each time the loss improves
        def __init__(self):
            self.low = np.inf

        def on_epoch_end(self, epoch, logs):
            if logs["loss"] < self.low:
                self.low = logs["loss"]
                best[:] = [p["W"].copy() for p in net.params]
            return False

    errors = {"diverge": None, "ctrl-c": KeyboardInterrupt(), "callback": RuntimeError("boom")}
    expected = {"diverge": TrainingDivergedError, "ctrl-c": KeyboardInterrupt,
                "callback": RuntimeError}  # fmt: skip
    with pytest.raises(expected[end]) as caught:
        net.fit(X, t, epochs=200, early_stopping=stopper, callbacks=[Best(), _At(net, 40,
                errors[end])])  # fmt: skip
    return net, best, stopper, caught.value


@pytest.mark.parametrize("end", ["diverge", "ctrl-c", "callback"])
def test_early_stopping_restores_its_best_weights_however_training_ends(end):
    net, best, stopper, error = _stopper_run(end)
    assert stopper.best_epoch >= 30
    for p, kept in zip(net.params, best, strict=True):
        assert np.array_equal(p["W"], kept)
    if end == "diverge":
        assert f"restored the weights of its best epoch, {stopper.best_epoch}" in str(error)
        assert net.training_metadata["epochs"] == 41  # epochs 0..40 ran; 41 diverged
    else:
        assert net.training_metadata["epochs"] == 41  # epochs 0..40 ran, 40 told


def test_a_raising_callback_counts_the_epochs_that_ran_without_early_stopping():
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], seed=0)
    net.fit(X, t, epochs=5)
    with pytest.raises(RuntimeError):
        net.fit(X, t, epochs=100, callbacks=[_At(net, 9, RuntimeError("stop"))])
    assert net.training_metadata["epochs"] == 15


def test_a_second_concurrent_fit_on_one_network_is_refused():
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], seed=0)
    inside, release = threading.Event(), threading.Event()

    class Hold(Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                inside.set()
                assert release.wait(60)
            return False

    first = threading.Thread(target=lambda: net.fit(X, t, epochs=20, callbacks=[Hold()]))
    first.start()
    try:
        assert inside.wait(60)
        with pytest.raises(ConfigError, match="already being trained by another fit call"):
            net.fit(X, t, epochs=5)
        twin = copy.deepcopy(net)  # a copy is not being trained
        twin.fit(X, t, epochs=5)
        assert pickle.loads(pickle.dumps(net)).fit(X, t, epochs=2).epochs == 2
    finally:
        release.set()
        first.join(60)
    assert net.training_metadata["epochs"] == 20
    assert np.all(np.isfinite(net.params[0]["W"]))
    net.fit(X, t, epochs=3)  # free again once the first returned
    assert net.training_metadata["epochs"] == 23


def test_nan_weights_are_refused_by_save_as_by_load(tmp_path):
    net = MLP([2, 3, 1], seed=0)
    net.params[1]["W"][0, 0] = np.nan
    path = tmp_path / "m.safetensors"
    with pytest.raises(ModelFileError, match=r"layers.1.W contains NaN or infinite"):
        net.save(path)
    assert not path.exists()
    net.params[1]["W"][0, 0] = 0.5
    net.save(path)
    assert MLP.load(path).params[1]["W"][0, 0] == 0.5
