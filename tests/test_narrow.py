"""The narrow-layer formulation behind ``network.matmul`` gives ``a @ b`` for every layout."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mlplab import narrow
from mlplab.network import matmul

K = 12  # above narrow.MIN_STACK, so the flattened formulation is taken where it applies


def _layouts(rng, shape, dtype):
    """The same kind of operand stored as is, as a transposed view, and as a 2-D shared matrix."""
    stacked = rng.standard_normal((K, *shape)).astype(dtype)
    transposed = np.ascontiguousarray(rng.standard_normal((K, *shape)).astype(dtype).mT).mT
    return {"stacked": stacked, "transposed": transposed}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("m", "k", "n"), list(itertools.product((1, 3, 4), (1, 4), (1, 2, 4))))
def test_matmul_equals_np_matmul_for_every_layout(m, k, n, dtype):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    lefts = _layouts(rng, (m, k), dtype)
    lefts["shared"] = rng.standard_normal((m, k)).astype(dtype)
    lefts["shared.T"] = np.ascontiguousarray(rng.standard_normal((m, k)).astype(dtype).T).T
    rights = _layouts(rng, (k, n), dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for (la, a), (lb, b) in itertools.product(lefts.items(), rights.items()):
        out = np.full((K, m, n), np.nan, dtype)
        got = matmul(a, b, out)
        assert got is out, (la, lb)
        expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
        np.testing.assert_allclose(out, expected, rtol=tol, atol=tol, err_msg=f"{la} @ {lb}")


def test_the_seeds_shapes_take_the_flattened_formulation():
    """Every product of a stack of 3-4-1 networks is planned (not left to np.matmul)."""
    X = np.ones((4, 3))
    W1, W2 = np.ones((K, 3, 4)), np.ones((K, 4, 1))
    h, d2, d1 = np.ones((K, 4, 4)), np.ones((K, 4, 1)), np.ones((K, 4, 4))
    for a, b, shape in [
        (X, W1, (K, 4, 4)),  # forward, layer 1
        (h, W2, (K, 4, 1)),  # forward, layer 2
        (h.mT, d2, (K, 4, 1)),  # dW2
        (d2, W2.mT, (K, 4, 4)),  # grad_h
        (X.T, d1, (K, 3, 4)),  # dW1
    ]:
        assert narrow.plan(a, b, np.empty(shape)) is not None


def test_wide_or_small_stacks_are_left_to_np_matmul():
    assert narrow.plan(np.ones((200, 3)), np.ones((K, 3, 8)), np.empty((K, 200, 8))) is None
    assert narrow.plan(np.ones((K, 4, 64)), np.ones((K, 64, 64)), np.empty((K, 4, 64))) is None
    few = narrow.MIN_STACK - 1
    assert narrow.plan(np.ones((few, 4, 4)), np.ones((few, 4, 1)), np.empty((few, 4, 1))) is None


def test_networks_stay_independent_when_one_holds_nan():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((K, 4, 4)), rng.standard_normal((K, 4, 1))
    a[3, 0, 0] = np.inf
    out = np.empty((K, 4, 1))
    with np.errstate(invalid="ignore"):
        matmul(a, b, out)
    others = np.arange(K) != 3
    np.testing.assert_allclose(out[others], np.matmul(a[others], b[others]), rtol=1e-12)


def test_two_plain_matrices_still_go_to_np_dot_bit_for_bit():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 4))
    assert np.array_equal(matmul(a, b, np.empty((4, 4))), np.dot(a, b))
