"""Small builders and checks shared by the tests."""

import math
import threading
import time
from typing import Any

import numpy as np

import mlplab

# (output activation, loss) pairs the library accepts
OUTPUT_LOSS_PAIRS = [
    ("sigmoid", "squared_error"),
    ("identity", "squared_error"),
    ("softmax", "squared_error"),
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
]
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"]


def targets_for(output: str, loss: str, n: int, n_out: int, rng: np.random.Generator):
    """Targets that make sense for the output activation and loss."""
    if output == "softmax":
        return np.eye(n_out)[rng.integers(0, n_out, n)]
    if output == "sigmoid":
        return (
            rng.uniform(0, 1, (n, n_out))
            if loss == "squared_error"
            else rng.integers(0, 2, (n, n_out)).astype(float)
        )
    return rng.normal(size=(n, n_out))


def random_problem(
    depth: int,
    hidden: str,
    output: str,
    loss: str,
    bias: bool,
    seed: int = 0,
    reduction: str = "sum",
):
    """A small network of ``depth`` weight layers with random inputs and fitting targets."""
    rng = np.random.default_rng(seed)
    n_out = 3 if output == "softmax" else 2
    sizes = [3, *([4, 5][: depth - 1]), n_out]
    net = mlplab.MLP(
        sizes,
        activation=hidden,
        output_activation=output,
        loss=loss,
        reduction=reduction,
        bias=bias,
        init="glorot",
        seed=seed,
    )
    for p in net.params:  # non-zero biases, so their gradients are exercised
        if "b" in p:
            p["b"][...] = rng.normal(0, 0.5, p["b"].shape)
    X = rng.normal(size=(6, 3))
    T = targets_for(output, loss, 6, n_out, rng)
    return net, X, T


def same_rows(a, b, path="row"):
    """Equal sweep rows: counts exactly, losses to rounding (two runs that train the networks
    in stacks or blocks of other sizes sum in another order), times aside."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            if k not in ("seconds", "compile_seconds"):
                same_rows(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


def settle_cluster(cluster: Any, killer: threading.Thread, seconds: float = 60) -> None:
    """Wait for a test's ``killer`` thread to end and the nanny's worker to be back, so that
    closing the ``LocalCluster`` does not meet a worker process the nanny is still restarting
    (distributed then fails its own shutdown: "can only join a started process")."""
    killer.join(timeout=seconds)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(cluster.scheduler.workers) < 1:
        time.sleep(0.05)
