"""``MLP.trace``: one epoch of ``fit``, every line with the values training computed.

The trace is ``fit(epochs=1)`` itself, recorded: the network after it equals, bit for bit,
the same network after ``fit(..., epochs=1)`` over a grid of depths, losses, optimizers,
batch sizes and penalties; its gradients are the backward pass's and agree with finite
differences; every step names the line of mlplab's source that computed it.
"""

from __future__ import annotations

import json
import linecache
import sys

import numpy as np
import pytest
from helpers import random_problem

import mlplab
from mlplab import MLP, ConfigError, load_dataset
from mlplab.nn.layer import _Buffered
from mlplab.nn.losses import Objective
from mlplab.train.optimizers import OPTIMIZERS
from mlplab.train.regularization import L1, L2

GRID = [
    # depth, hidden, output, loss, bias, reduction, optimizer, batch_size, weight_decay
    (1, "sigmoid", "sigmoid", "squared_error", False, "sum", "sgd", None, 0.0),
    (2, "sigmoid", "sigmoid", "squared_error", False, "sum", "sgd", None, 0.0),
    (2, "tanh", "identity", "squared_error", True, "mean", "momentum", 4, 0.0),
    (3, "relu", "softmax", "cross_entropy", True, "sum", "adam", None, 0.01),
    (3, "sigmoid", "sigmoid", "binary_cross_entropy", True, "mean", "nesterov", 2, "l1"),
    (2, "softplus", "softmax", "squared_error", False, "sum", "adam", 4, 0.0),
    (3, "leaky_relu", "identity", "squared_error", True, "sum", "sgd", 3, "l2"),
    (2, "identity", "sigmoid", "squared_error", True, "mean", "adam", 5, 0.1),
]


def _penalty(weight_decay):
    return {"l1": L1(0.01), "l2": L2(0.02)}.get(weight_decay, weight_decay)


def _options(optimizer, batch_size, weight_decay):
    """Fresh option objects: an optimizer and a generator each run carries on through."""
    lr = 1.0 if optimizer == "sgd" and batch_size is None else 0.05
    return {"optimizer": OPTIMIZERS[optimizer](lr), "batch_size": batch_size,
            "weight_decay": _penalty(weight_decay), "seed": np.random.default_rng(3)}  # fmt: skip


@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(map(str, c)))
@pytest.mark.parametrize("before", [0, 3])
def test_a_trace_is_fit_for_one_epoch_bit_for_bit(case, before):
    depth, hidden, output, loss, bias, reduction, optimizer, batch_size, decay = case
    traced, X, T = random_problem(depth, hidden, output, loss, bias, reduction=reduction)
    fitted, _, _ = random_problem(depth, hidden, output, loss, bias, reduction=reduction)
    a, b = _options(optimizer, batch_size, decay), _options(optimizer, batch_size, decay)
    if before:
        traced.fit(X, T, epochs=before, **a)
        fitted.fit(X, T, epochs=before, **b)
    trace = traced.trace(X, T, **a)
    history = fitted.fit(X, T, epochs=1, **b)
    for p, q in zip(traced.params, fitted.params, strict=True):
        for name in p:
            assert np.array_equal(p[name], q[name]), name
    state_a, state_b = a["optimizer"].state_dict(), b["optimizer"].state_dict()
    assert state_a.keys() == state_b.keys()
    assert all(np.array_equal(state_a[k], state_b[k]) for k in state_a)
    assert trace.loss == history.loss[0]
    assert trace.epoch == before
    # the last update of each parameter is the network's value now
    for i, p in enumerate(traced.params, start=1):
        for name, value in p.items():
            last = [s for s in trace if s.phase == "update" and s.name == f"{name}{i}"][-1]
            assert np.array_equal(last.value, value)
    n = X.shape[0]
    assert trace.batches == (1 if batch_size is None else -(-n // batch_size))
    assert sum(trace.rows) == n


def test_the_trace_restores_the_network_and_optimizer():
    net, X, T = random_problem(2, "tanh", "sigmoid", "squared_error", True)
    optimizer = mlplab.Adam(0.01)
    net.trace(X, T, optimizer=optimizer, validation=0.3)
    assert all(type(layer.ops) is _Buffered for layer in net.layers)
    assert type(net.objective) is Objective
    assert "loss_at" not in vars(net) and "update_into" not in vars(optimizer)
    # and the network trains on as before
    net.fit(X, T, epochs=2)


def test_the_seed_network_at_epoch_0_step_by_step():
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    W1, W2 = (p["W"].copy() for p in net.params)
    trace = net.trace(X, t)
    names = [s.name for s in trace]
    assert names == ["h1", "y", "L", "delta2", "dW2", "delta1", "dW1", "W1", "W2"]
    lines = [s.line for s in trace]
    assert lines[:4] == ["h1 = σ(X @ W1)", "y = σ(h1 @ W2)", "L = 1/2 * sum((y - t)^2)",
                         "delta2 = (y - t) * y * (1 - y)"]  # fmt: skip
    assert lines[4:] == ["dW2 = h1.T @ delta2", "delta1 = (delta2 @ W2.T) * h1 * (1 - h1)",
                         "dW1 = X.T @ delta1", "W1 -= lr * dW1", "W2 -= lr * dW2"]  # fmt: skip
    # the seed's own arithmetic, line by line
    h = 1 / (1 + np.exp(-(np.dot(X, W1))))
    y = 1 / (1 + np.exp(-(np.dot(h, W2))))
    y_delta = (t - y) * (y * (1 - y))
    h_delta = np.dot(y_delta, W2.T) * (h * (1 - h))
    expected = {"h1": h, "y": y, "delta2": -y_delta, "delta1": -h_delta,
                "dW2": -np.dot(h.T, y_delta), "dW1": -np.dot(X.T, h_delta),
                "W2": W2 + np.dot(h.T, y_delta), "W1": W1 + np.dot(X.T, h_delta)}  # fmt: skip
    for name, value in expected.items():
        assert np.array_equal(trace.step(name).value, value), name
    assert np.array_equal(trace.step("W1").before, W1)
    assert np.array_equal(trace.step("h1").inputs["W1"], W1)
    assert trace.step("L").value == pytest.approx(0.5 * np.sum((y - t) ** 2), rel=1e-15)


def test_each_step_names_the_line_of_mlplab_that_computed_it():
    net, X, T = random_problem(3, "tanh", "softmax", "cross_entropy", True)
    trace = net.trace(X, T, optimizer="adam", lr=0.01, weight_decay=0.1)
    for step in trace:
        module = sys.modules[step.source.module]
        code = linecache.getline(module.__file__, step.source.line).strip()
        assert code == step.source.code and code, step.line
        assert step.source.module.startswith("mlplab."), step.line
    where = {}
    for s in trace:
        where.setdefault(s.name, s.source)  # the first step giving each name
    assert "ops.act" in where["h1"].code and where["h1"].function == "Dense.forward"
    assert "ops.product(self.x.mT" in where["dW3"].code
    assert where["delta2"].function == "backward" and "activation_backward" in where["delta2"].code
    assert where["delta3"].function == "loss_and_grads"  # softmax + cross-entropy: y - t
    assert where["W1"].function == "_adam_into"
    penalty = next(s for s in trace if s.phase == "penalty")
    assert penalty.line == "dW1 += a * W1" and penalty.source.function == "L2.__call__"
    assert penalty.called_from.module == "mlplab.engines.numpy"


def test_adam_shows_its_moments_and_bias_correction_as_steps():
    net, X, T = random_problem(2, "sigmoid", "sigmoid", "squared_error", True)
    optimizer = mlplab.Adam(0.01)
    net.fit(X, T, epochs=2, optimizer=optimizer)
    trace = net.trace(X, T, optimizer=optimizer)
    lines = [s.line for s in trace if s.phase == "update"]
    assert lines[:4] == ["step = lr * sqrt(1 - beta2**k) / (1 - beta1**k)",
                         "m_W1 = beta1 * m_W1 + (1 - beta1) * dW1",
                         "v_W1 = beta2 * v_W1 + (1 - beta2) * dW1**2",
                         "W1 -= step * m_W1 / (sqrt(v_W1) + eps)"]  # fmt: skip
    step = trace.step("step")
    assert step.inputs["k"] == 3  # the third step: the state went on from fit's two
    assert step.value == 0.01 * np.sqrt(1 - 0.999**3) / (1 - 0.9**3)
    assert np.array_equal(trace.step("m_W2").value, optimizer.state["m"][2])
    assert np.array_equal(trace.step("v_b1").value, optimizer.state["v"][1])
    assert np.array_equal(trace.step("m_W1").inputs["dW1"], trace.step("dW1").value)


def _finite_differences(net: MLP, X, T, eps=1e-6):
    grads = []
    for p in net.params:
        g = {}
        for name, value in p.items():
            d = np.zeros_like(value)
            for idx in np.ndindex(value.shape):
                keep = value[idx]
                value[idx] = keep + eps
                up = net.evaluate(X, T)
                value[idx] = keep - eps
                down = net.evaluate(X, T)
                value[idx] = keep
                d[idx] = (up - down) / (2 * eps)
            g[name] = d
        grads.append(g)
    return grads


@pytest.mark.parametrize("output, loss, reduction", [
    ("sigmoid", "squared_error", "sum"), ("softmax", "cross_entropy", "mean"),
    ("sigmoid", "binary_cross_entropy", "sum"), ("identity", "squared_error", "mean"),
])  # fmt: skip
def test_the_traced_gradients_are_the_backward_pass_and_agree_with_finite_differences(
    output, loss, reduction
):
    net, X, T = random_problem(3, "tanh", output, loss, True, reduction=reduction)
    before, _, _ = random_problem(3, "tanh", output, loss, True, reduction=reduction)
    _, grads = before.gradients(X, T)
    numeric = _finite_differences(before, X, T)
    trace = net.trace(X, T, lr=0.1)
    for i, (g, n) in enumerate(zip(grads, numeric, strict=True), start=1):
        for name in g:
            traced = trace.step(f"d{name}{i}").value
            assert np.array_equal(traced, g[name]), f"d{name}{i}"
            np.testing.assert_allclose(traced, n[name], rtol=1e-5, atol=1e-8)
    assert mlplab.gradcheck(before, X, T).ok


def test_a_minibatch_epoch_shows_every_batch_in_the_dict_and_the_first_in_text():
    net, X, T = random_problem(2, "sigmoid", "sigmoid", "squared_error", True)
    trace = net.trace(X, T, batch_size=4, lr=0.5, seed=1)
    assert trace.batches == 2 and trace.rows == [4, 2]
    assert [s.batch for s in trace].count(1) == len(trace.batch(0))
    assert trace.step("X" if False else "h1", batch=1).inputs["X"].shape == (2, 3)
    text = str(trace)
    assert "-- batch 0 of 2 (4 rows)" in text and "1 more batch(es) not shown" in text
    assert "-- batch 1" in trace.text(batches=None)


def test_the_dict_and_json_carry_every_step():
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    trace = net.trace(X, t)
    doc = json.loads(trace.to_json())
    assert doc == trace.to_dict()
    assert doc["format"] == "mlplab-trace/1" and doc["epoch"] == 0 and doc["rows"] == [4]
    assert doc["network"]["sizes"] == [3, 4, 1] and doc["optimizer"] == "SGD(lr=1.0)"
    first = doc["steps"][0]
    assert first["line"] == "h1 = σ(X @ W1)" and first["layer"] == 1 and first["shape"] == [4, 4]
    assert np.array_equal(first["value"], trace.step("h1").value)
    assert first["source"]["function"] == "Dense.forward"
    update = doc["steps"][-1]
    assert update["param"] == "W2" and update["before"] is not None
    assert update["changed"] == (np.asarray(update["before"]) != update["value"]).tolist()
    assert doc["loss"] == trace.loss


def test_text_elides_large_arrays_and_html_marks_the_changed_weights():
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(300, 3)), rng.uniform(size=(300, 1))
    net = MLP([3, 8, 1], seed=0)
    trace = net.trace(X, T, lr=0.01)
    text = str(trace)
    assert "(shape 300x8, elided)" in text and "..." in text
    assert "(first 5 of 300 rows)" in trace.text(rows=5)
    html = trace._repr_html_()
    assert html.count("background:#ffe08a") > 0 and "<table" in html
    assert "W2 (after)" in html and "h1 = σ(X @ W1 + b1)" in html


def test_trace_refuses_what_it_cannot_show():
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], seed=0)
    with pytest.raises(ConfigError, match="one epoch"):
        net.trace(X, t, epochs=3)
    with pytest.raises(ConfigError, match="NumPy engine"):
        net.trace(X, t, engine="jax")
    with pytest.raises(ConfigError, match="no step produces 'h7'"):
        net.trace(X, t).step("h7")


def test_validation_rows_are_not_part_of_the_step():
    net, X, T = random_problem(2, "sigmoid", "sigmoid", "squared_error", True)
    fitted, _, _ = random_problem(2, "sigmoid", "sigmoid", "squared_error", True)
    trace = net.trace(X, T, validation=(X[:2], T[:2]))
    fitted.fit(X, T, epochs=1, validation=(X[:2], T[:2]))
    assert [s.phase for s in trace].count("forward") == 2
    assert np.array_equal(net.params[0]["W"], fitted.params[0]["W"])
    assert trace.history.val_loss is not None


def test_a_stack_traces_every_network_at_once():
    X, t = load_dataset("xor")
    traced, fitted = MLP([3, 4, 1], stack=3, seed=0), MLP([3, 4, 1], stack=3, seed=0)
    trace = traced.trace(X, t, lr=0.5)
    fitted.fit(X, t, epochs=1, lr=0.5)
    for p, q in zip(traced.params, fitted.params, strict=True):
        assert all(np.array_equal(p[k], q[k]) for k in p)
    assert trace.step("h1").value.shape == (3, 4, 4) and len(trace.to_dict()["loss"]) == 3


def test_a_users_optimizer_is_traced_by_its_step():
    class Halving:
        def step(self, params, grads):
            for p, g in zip(params, grads, strict=True):
                p -= 0.5 * g

    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], seed=0)
    W1 = net.params[0]["W"].copy()
    trace = net.trace(X, t, optimizer=Halving())
    update = trace.step("W1")
    assert update.line == "W1 = Halving.step(W1, dW1)" and np.array_equal(update.before, W1)
    assert np.array_equal(update.value, W1 - 0.5 * trace.step("dW1").value)
    assert update.source.function.endswith("Halving.step")
