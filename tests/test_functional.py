"""The plain form of the layers (``Dense.plain``: new arrays, any ``xp``) equals the buffered
NumPy form the network trains with, and the array-API activations equal their into-a-buffer
forms: the same lines, two ways of writing their results."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import require

from mlplab import ACTIVATIONS, MLP
from mlplab.nn.layer import loss_and_grads, plain_layers


def plain_step(net, X, T, weight=None, xp=np):
    """``(loss, grads)`` of the network's own lines run plain, over ``net.params``."""
    layers = plain_layers(net.params, [layer.activation for layer in net.layers], xp)
    loss = loss_and_grads(layers, net.objective, X, T, weight)
    return loss, [layer.grad for layer in layers]

PAIRS = [
    ("sigmoid", "squared_error"),
    ("identity", "squared_error"),
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
]


@pytest.mark.parametrize(
    ("hidden", "pair", "bias", "reduction", "weighted"),
    list(itertools.product(["sigmoid", "tanh", "relu", "leaky_relu", "softplus"], PAIRS,
                           [True, False], ["sum", "mean"], [False, True])),
)  # fmt: skip
def test_functional_loss_and_grads_equal_the_network(hidden, pair, bias, reduction, weighted):
    output, loss = pair
    rng = np.random.default_rng(1)
    n_out = 3 if output == "softmax" else 2
    net = MLP([4, 5, 3, n_out], hidden, output, loss, reduction, bias=bias, init="glorot", seed=2)
    for p in net.params:
        if "b" in p:
            p["b"][...] = rng.normal(size=p["b"].shape)
    X = rng.normal(size=(7, 4))
    T = rng.random((7, n_out))
    if output == "softmax":
        T = np.eye(n_out)[rng.integers(0, n_out, 7)]
    weight = rng.random(7) + 0.1 if weighted else None
    expected = net.loss_and_backward(X, T, weight)
    loss_value, grads = plain_step(net, X, T, weight)
    np.testing.assert_allclose(loss_value, expected, rtol=1e-12)
    for got, want in zip(grads, net.grads, strict=True):
        assert got.keys() == want.keys()
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.array_api])
def test_array_api_activations_equal_their_buffered_forms(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-5, 5, 24).reshape(4, 6)
    h = act.forward(z.copy(), np.empty_like(z))
    np.testing.assert_array_equal(act.f(z, xp=np), h)
    grad = np.linspace(-1, 1, 24).reshape(4, 6)
    want = act.backward(grad.copy(), h, z, np.empty_like(z))
    np.testing.assert_allclose(act.delta(grad, h, z, np), want, rtol=1e-15, atol=1e-15)


def test_the_seed_network_functional_step_is_the_seed_step():
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    t = np.array([[0, 1, 1, 0]], dtype=float).T
    net = MLP([3, 4, 1], bias=False, init="seed", seed=1)
    W1, W2 = (p["W"].copy() for p in net.params)
    h = 1 / (1 + np.exp(-(np.dot(X, W1))))
    y = 1 / (1 + np.exp(-(np.dot(h, W2))))
    y_delta = (t - y) * (y * (1 - y))
    h_delta = np.dot(y_delta, W2.T) * (h * (1 - h))
    _, grads = plain_step(net, X, t)
    np.testing.assert_array_equal(-grads[1]["W"], np.dot(h.T, y_delta))
    np.testing.assert_array_equal(-grads[0]["W"], np.dot(X.T, h_delta))


def test_the_same_lines_run_on_jax_arrays():
    jax = require("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(3)
    net = MLP([3, 6, 4, 3], "tanh", "softmax", "cross_entropy", "mean", init="glorot", seed=4)
    X = rng.normal(size=(9, 3))
    T = np.eye(3)[rng.integers(0, 3, 9)]
    want_loss, want = plain_step(net, X, T)
    params = [{k: jnp.asarray(v) for k, v in p.items()} for p in net.params]
    acts = [layer.activation for layer in net.layers]

    def step(ps, X, T):
        layers = plain_layers(ps, acts, jnp)
        return loss_and_grads(layers, net.objective, X, T), [layer.grad for layer in layers]

    got_loss, got = jax.jit(step)(params, jnp.asarray(X), jnp.asarray(T))
    np.testing.assert_allclose(np.asarray(got_loss), want_loss, rtol=1e-12)
    for g, w in zip(got, want, strict=True):
        for name in w:
            np.testing.assert_allclose(np.asarray(g[name]), w[name], rtol=1e-10, atol=1e-14)
