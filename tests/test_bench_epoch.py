"""``benchmarks/epoch_profile.py --updates``'s other forms of the optimizer's step compute
what the NumPy engine's in-place passes compute, bit for bit (their speed is not tested here):
the timings it prints compare like with like only then."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import epoch_profile

EQUAL_FORMS = [
    "numpy adam, slices of 32 rows",
    "numpy adam, slices of 128 rows",
    "numpy adam, 2 threads",
    "numba sgd (1 loop)",
    "numba adam (1 loop)",
]


def stepped(kernel, steps: int = 20) -> np.ndarray:
    """The first layer's weights after ``steps`` steps of ``kernel`` from fixed gradients."""
    rng = np.random.default_rng(3)
    shape = (epoch_profile.D, epoch_profile.H)
    p = rng.standard_normal(shape, dtype=np.float32)
    m, v, s = (np.zeros(shape, np.float32) for _ in range(3))
    grads = rng.standard_normal((4, *shape), dtype=np.float32) * np.float32(1e-2)
    for t in range(1, steps + 1):
        kernel(p, grads[t % 4], m, v, s, t)
    return p


@pytest.mark.parametrize("name", EQUAL_FORMS)
def test_each_form_of_the_step_is_numpys_bit_for_bit(name):
    if name.startswith("numba"):
        require("numba")
    kernels = epoch_profile.update_kernels()
    peer = "numpy sgd (2 passes)" if "sgd" in name else "numpy adam (12 passes)"
    got, want = stepped(kernels[name]), stepped(kernels[peer])
    assert not np.array_equal(want, stepped(lambda *a: None))  # the steps moved the weights
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_rows_split_epoch_trains_what_one_device_trains(optimizer):
    """``--rows-split`` times like with like: the epoch with each batch's rows split over the
    devices trains the weights the same program trains on one device (float32: to rounding)."""
    require("jax")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4 * epoch_profile.BATCH, epoch_profile.D), dtype=np.float32)
    T = np.eye(epoch_profile.K, dtype=np.float32)[rng.integers(0, epoch_profile.K, len(X))]
    split = epoch_profile.rows_epoch(X, T, optimizer, split=True)()
    one = epoch_profile.rows_epoch(X, T, optimizer, split=False)()
    before = epoch_profile.network_for().params
    for got, want, start in zip(split[0], one[0], before, strict=True):
        for name in ("W", "b"):
            assert not np.allclose(want[name], start[name])  # the epoch moved the weights
            np.testing.assert_allclose(got[name], want[name], rtol=1e-4, atol=1e-6)
    assert int(split[2]) == int(one[2]) == 4  # one step a batch
    np.testing.assert_allclose(split[3], one[3], rtol=1e-5)  # the batches' losses


def test_each_product_xla_loops_over_is_numpys():
    """``--xla-products`` times like with like: each of XLA's products (and dW2 with its
    transpose made first) computes NumPy's product, to float32 rounding."""
    jax = require("jax")
    for name, (numpy_product, xla_product, operands) in epoch_profile.product_cases(jax).items():
        want = numpy_product(*operands)
        got = np.asarray(jax.jit(xla_product)(*operands))
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3, err_msg=name)
