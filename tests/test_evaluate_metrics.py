"""`MLP.evaluate(X, T, metrics=(...))`: a Keras-style dict of the loss and the metrics asked for."""

from __future__ import annotations

import numpy as np
import pytest

import mlplab
from mlplab.nn.targets import accuracy


def trained_xor(epochs: int = 3000, **kw) -> tuple[mlplab.MLP, np.ndarray, np.ndarray]:
    X, t = mlplab.load_dataset("xor")
    net = mlplab.MLP([3, 4, 1], bias=False, init="seed", seed=0, **kw)
    net.fit(X, t, epochs=epochs)
    return net, X, t


def test_without_metrics_evaluate_is_the_loss_as_before():
    net, X, t = trained_xor()
    loss = net.evaluate(X, t)
    assert isinstance(loss, float)
    assert loss == pytest.approx(0.5 * np.sum((net.predict(X) - t) ** 2), rel=1e-12)


def test_metrics_give_a_dict_of_the_loss_and_each_metric():
    net, X, t = trained_xor(epochs=200)  # not yet solved: accuracy below 1
    y = net.predict(X)
    result = net.evaluate(X, t, metrics=("accuracy", "mse", "mae"))
    assert list(result) == ["loss", "accuracy", "mse", "mae"]
    assert result["loss"] == net.evaluate(X, t)
    assert result["accuracy"] == accuracy(y, t)
    assert result["accuracy"] == np.mean((y[:, 0] > 0.5) == (t[:, 0] > 0.5))
    assert result["mse"] == pytest.approx(np.mean((y - t) ** 2), rel=1e-12)
    assert result["mae"] == pytest.approx(np.mean(np.abs(y - t)), rel=1e-12)
    assert all(isinstance(v, float) for v in result.values())


def test_a_single_metric_name_and_an_empty_tuple_are_accepted():
    net, X, t = trained_xor()
    assert net.evaluate(X, t, metrics="accuracy") == {"loss": net.evaluate(X, t), "accuracy": 1.0}
    assert net.evaluate(X, t, metrics=()) == {"loss": net.evaluate(X, t)}


def test_class_labels_and_softmax_outputs():
    X, T = mlplab.load_dataset("gaussians3", n=90, seed=0)
    labels = T.argmax(axis=1)
    net = mlplab.MLP([2, 8, 3], "tanh", "softmax", "cross_entropy", reduction="mean", seed=0)
    net.fit(X, labels, epochs=50, lr=0.5)
    result = net.evaluate(X, labels, metrics=["accuracy"])
    assert result == net.evaluate(X, T, metrics=["accuracy"])
    assert result["accuracy"] == np.mean(net.predict(X).argmax(axis=1) == labels)


def test_a_stack_gives_one_value_per_network():
    X, t = mlplab.load_dataset("xor")
    net = mlplab.MLP([3, 2, 1], bias=False, init="seed", seed=0, stack=5)
    net.fit(X, t, epochs=2000)
    result = net.evaluate(X, t, metrics=("accuracy",))
    assert result["loss"].shape == result["accuracy"].shape == (5,)
    for i in range(5):
        single = mlplab.MLP([3, 2, 1], bias=False, init="seed", seed=i)
        single.fit(X, t, epochs=2000)
        assert result["accuracy"][i] == single.evaluate(X, t, metrics=("accuracy",))["accuracy"]


def test_an_unknown_metric_is_refused_naming_the_choices():
    net, X, t = trained_xor(epochs=10)
    with pytest.raises(mlplab.ConfigError, match="unknown metric 'f1': expected one of accuracy"):
        net.evaluate(X, t, metrics=("accuracy", "f1"))
