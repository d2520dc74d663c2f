"""Backpropagation against finite differences and, where installed, PyTorch autograd."""

import itertools

import numpy as np
import pytest
from conftest import require
from helpers import HIDDEN, OUTPUT_LOSS_PAIRS, random_problem

import mlplab

CASES = list(itertools.product(HIDDEN, OUTPUT_LOSS_PAIRS, [True, False], [1, 2, 3]))


def case_id(case):
    hidden, (output, loss), bias, depth = case
    return f"{hidden}-{output}-{loss}-{'bias' if bias else 'nobias'}-depth{depth}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_gradients_match_finite_differences(case):
    hidden, (output, loss), bias, depth = case
    net, X, T = random_problem(depth, hidden, output, loss, bias)
    report = mlplab.gradcheck(net, X, T)
    assert report.ok, str(report)
    assert len(report.errors) == depth
    assert all(("b" in layer) == bias for layer in report.errors)


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    net, X, T = random_problem(2, "tanh", "sigmoid", "squared_error", True)
    original = mlplab.MLP.gradients

    def broken(self, X, T):
        loss, grads = original(self, X, T)
        grads[0]["W"][0, 0] *= 1.5
        return loss, grads

    monkeypatch.setattr(mlplab.MLP, "gradients", broken)
    report = mlplab.gradcheck(net, X, T)
    assert not report.ok
    assert report.errors[0]["W"] > 1e-3
    assert report.errors[1]["W"] < 1e-6
    assert "FAILED" in str(report)


def test_mean_reduction_divides_loss_and_gradients_by_n():
    net_sum, X, T = random_problem(2, "relu", "softmax", "cross_entropy", True, seed=3)
    net_mean, _, _ = random_problem(
        2, "relu", "softmax", "cross_entropy", True, seed=3, reduction="mean"
    )
    loss_sum, g_sum = net_sum.gradients(X, T)
    loss_mean, g_mean = net_mean.gradients(X, T)
    assert loss_mean == pytest.approx(loss_sum / len(X))
    np.testing.assert_allclose(g_mean[0]["W"], g_sum[0]["W"] / len(X), rtol=1e-12)


# --- PyTorch autograd -------------------------------------------------------------------


def torch_loss_and_grads(net: mlplab.MLP, X: np.ndarray, T: np.ndarray):
    """The same network and loss written in PyTorch; autograd's gradients."""
    torch = require("torch")
    F = torch.nn.functional
    acts = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
        "softplus": F.softplus,
        "identity": lambda z: z,
        "softmax": lambda z: torch.softmax(z, dim=-1),
    }
    params = [{k: torch.tensor(v, requires_grad=True) for k, v in p.items()} for p in net.params]
    h = torch.tensor(X)
    for i, p in enumerate(params):
        z = h @ p["W"] + p.get("b", 0)
        last = i == len(params) - 1
        h = acts[net.output_activation.name if last else net.activation.name](z)
    t = torch.tensor(T)
    if net.loss.name == "squared_error":
        loss = 0.5 * ((h - t) ** 2).sum()
    elif net.loss.name == "binary_cross_entropy":
        loss = F.binary_cross_entropy_with_logits(z, t, reduction="sum")
    else:
        loss = -(t * torch.log_softmax(z, dim=-1)).sum()
    if net.reduction == "mean":
        loss = loss / len(X)
    loss.backward()
    return loss.item(), [{k: v.grad.numpy() for k, v in p.items()} for p in params]


@pytest.mark.parametrize("case", CASES[::3], ids=[case_id(c) for c in CASES[::3]])
def test_gradients_match_pytorch_autograd(case):
    hidden, (output, loss), bias, depth = case
    net, X, T = random_problem(depth, hidden, output, loss, bias, seed=11)
    expected_loss, expected = torch_loss_and_grads(net, X, T)
    got_loss, got = net.gradients(X, T)
    assert got_loss == pytest.approx(expected_loss, rel=1e-12)
    for g, e in zip(got, expected, strict=True):
        assert g.keys() == e.keys()
        for name in g:
            np.testing.assert_allclose(g[name], e[name], rtol=1e-9, atol=1e-12)


def test_gradcheck_of_a_network_with_an_input_scaler():
    from mlplab.nn.scaling import InputScaler

    net, X, T = random_problem(2, "tanh", "sigmoid", "squared_error", True)
    X = X * 30 + 7  # raw inputs far from unit scale
    net.input_scaler = InputScaler.fit(X)
    report = mlplab.gradcheck(net, X, T)  # scaled once: twice would not match the gradients
    assert report.ok, str(report)
