"""The Poisson loss (half the deviance) with its exp output: values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

import mlplab
from mlplab.errors import ConfigError
from mlplab.nn.losses import LOSSES


def _problem(hidden: str, bias: bool, depth: int, reduction: str = "sum", seed: int = 0):
    rng = np.random.default_rng(seed)
    sizes = [3, *([4, 5][: depth - 1]), 2]
    net = mlplab.MLP(sizes, activation=hidden, output_activation="exp", loss="poisson",
                     reduction=reduction, bias=bias, init="glorot", seed=seed)  # fmt: skip
    for p in net.params:
        if "b" in p:
            p["b"][...] = rng.normal(0, 0.5, p["b"].shape)
    X = rng.normal(size=(7, 3))
    T = rng.poisson(2.0, size=(7, 2)).astype(float)
    T[0, 0] = 0.0  # a zero count: t log t is 0 there
    return net, X, T


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("hidden", ["tanh", "relu", "sigmoid"])
def test_poisson_gradients_match_finite_differences(hidden, bias, depth):
    net, X, T = _problem(hidden, bias, depth)
    report = mlplab.gradcheck(net, X, T)
    assert report.ok, str(report)
    assert len(report.errors) == depth


def test_poisson_value_is_half_the_deviance_as_scikit_learn_computes_it():
    require("sklearn")
    from sklearn.neural_network._base import poisson_loss

    net, X, T = _problem("tanh", True, 2, reduction="mean")
    y = net.predict(X)
    assert np.all(y > 0)
    # scikit-learn: mean over rows, summed over outputs
    assert net.evaluate(X, T) == pytest.approx(poisson_loss(T, y), rel=1e-12)
    assert "poisson" in LOSSES and LOSSES["poisson"].outputs == ("exp",)


def test_poisson_needs_the_exp_output_and_exp_is_an_output_only():
    with pytest.raises(ConfigError, match="loss 'poisson' needs the output activation exp"):
        mlplab.MLP([2, 3, 1], output_activation="identity", loss="poisson")
    with pytest.raises(ConfigError, match="unknown hidden activation 'exp'"):
        mlplab.MLP([2, 3, 1], activation="exp")


def test_poisson_loss_is_finite_for_large_outputs_in_float32():
    net = mlplab.MLP([1, 1], output_activation="exp", loss="poisson", dtype="float32", seed=0)
    net.params[0]["W"][...] = 1.0
    net.params[0]["b"][...] = 0.0
    X = np.array([[30.0], [0.0]], dtype=np.float32)
    T = np.array([[0.0], [3.0]], dtype=np.float32)
    loss, grads = net.gradients(X, T)
    assert np.isfinite(loss) and grads[0]["W"].dtype == np.float32
    assert loss == pytest.approx(np.exp(30.0) + 3 * np.log(3) - 3 + 1, rel=1e-5)


def test_weighted_poisson_counts_each_row_weight_times():
    net, X, T = _problem("relu", True, 2, reduction="mean")
    w = np.array([0.0, 1.0, 2.0, 3.0, 1.0, 0.5, 4.0])
    reps = np.repeat(np.arange(len(X)), [0, 2, 4, 6, 2, 1, 8])  # twice each weight
    weighted = net.loss_and_backward(X, T, w)
    grads = [g["W"].copy() for g in net.grads]
    repeated = net.loss_and_backward(X[reps], T[reps])
    assert weighted == pytest.approx(repeated, rel=1e-12)
    for mine, theirs in zip(grads, [g["W"] for g in net.grads], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10)
