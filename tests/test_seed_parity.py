"""mlplab reproduces the seed's 11 lines: same start, same weights, same predictions."""

import numpy as np
import pytest
from seed_program import seed_run

import mlplab


def seed_network(seed: int) -> mlplab.MLP:
    return mlplab.MLP([3, 4, 1], bias=False, init="seed", seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_initial_weights_are_the_seeds_draws(seed):
    W1, W2, _ = seed_run(seed, epochs=0)
    net = seed_network(seed)
    assert np.array_equal(net.params[0]["W"], W1)
    assert np.array_equal(net.params[1]["W"], W2)


@pytest.mark.parametrize("steps", [1, 2, 10, 500])
def test_weights_after_k_steps_are_bit_identical(steps):
    W1, W2, _ = seed_run(3, epochs=steps)
    X, t = mlplab.load_dataset("xor")
    net = seed_network(3)
    net.fit(X, t, epochs=steps)
    assert np.array_equal(net.params[0]["W"], W1)
    assert np.array_equal(net.params[1]["W"], W2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_predictions_after_60000_epochs_match_the_seeds_predict(seed):
    W1, W2, expected = seed_run(seed)
    X, t = mlplab.load_dataset("xor")
    net = seed_network(seed)
    net.fit(X, t, epochs=60000)
    np.testing.assert_allclose(net.predict(X), expected, rtol=0, atol=1e-9)
    assert np.array_equal(net.params[0]["W"], W1)  # and in fact the same bits
    assert np.array_equal(net.params[1]["W"], W2)


def test_the_seed_step_is_sgd_with_lr_1_and_minus_delta():
    # The seed's y_delta = (t - y) * y * (1 - y) is -dL/dz, and W2 += h.T @ y_delta
    # equals W2 -= 1 * dL/dW2: check gradients() against one seed step by hand.
    X, t = mlplab.load_dataset("xor")
    net = seed_network(5)
    W1, W2 = net.params[0]["W"].copy(), net.params[1]["W"].copy()
    h = 1 / (1 + np.exp(-(X @ W1)))
    y = 1 / (1 + np.exp(-(h @ W2)))
    y_delta = (t - y) * (y * (1 - y))
    h_delta = (y_delta @ W2.T) * (h * (1 - h))
    loss, grads = net.gradients(X, t)
    assert loss == pytest.approx(0.5 * np.sum((y - t) ** 2), rel=1e-15)
    assert np.array_equal(grads[1]["W"], -(h.T @ y_delta))
    assert np.array_equal(grads[0]["W"], -(X.T @ h_delta))
