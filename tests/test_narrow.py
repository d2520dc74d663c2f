"""Stacks of narrow networks stored stack-last: ``network.matmul`` still gives ``a @ b``."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mlplab import MLP, load_dataset
from mlplab.nn import narrow
from mlplab.nn.network import matmul

K = 12  # above narrow.MIN_STACK, so stacks of narrow networks are stored stack-last


def _stacks(rng, shape, dtype):
    """The same kind of stacked operand in each layout a network's arrays can have."""
    values = [rng.standard_normal((K, *shape)).astype(dtype) for _ in range(4)]
    return {
        "stack-first": values[0],
        "stack-first.mT": np.ascontiguousarray(values[1].mT).mT,
        "stack-last": narrow.stack_last(values[2]),
        "stack-last.mT": narrow.stack_last(values[3].mT).mT,
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("m", "k", "n"), list(itertools.product((1, 3, 4), (1, 4), (1, 2, 4))))
def test_matmul_equals_np_matmul_for_every_layout(m, k, n, dtype):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    lefts = _stacks(rng, (m, k), dtype)
    lefts["shared"] = rng.standard_normal((m, k)).astype(dtype)
    lefts["shared.T"] = np.ascontiguousarray(rng.standard_normal((m, k)).astype(dtype).T).T
    rights = _stacks(rng, (k, n), dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for (la, a), (lb, b), last in itertools.product(lefts.items(), rights.items(), (False, True)):
        out = narrow.empty((K, m, n), dtype, stack_last=last)
        out[...] = np.nan
        got = matmul(a, b, out)
        assert got is out, (la, lb)
        expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
        np.testing.assert_allclose(out, expected, rtol=tol, atol=tol, err_msg=f"{la} @ {lb}")


def test_a_stack_of_the_seeds_networks_is_stored_stack_last_and_every_product_planned():
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=K)
    for p in net.params:
        assert narrow.is_stack_last(p["W"]) and p["W"].shape[0] == K
    X, t = load_dataset("xor")
    net.fit(X, t, epochs=2)
    (first, second), X = net.layers, np.asarray(X, dtype=float)
    d2 = second._grad_x  # work arrays follow the weights
    assert narrow.is_stack_last(first.h) and narrow.is_stack_last(d2)
    W1, W2, h = first.param["W"], second.param["W"], first.h
    products = [
        (X, W1, narrow._shared),  # forward, layer 1: one BLAS call for the stack
        (h, W2, narrow._two_stacks),  # forward, layer 2
        (h.mT, np.empty_like(second.h), narrow._two_stacks),  # dW2
        (np.empty_like(second.h), W2.mT, narrow._outer),  # grad_h: nothing to sum
        (X.T, np.empty_like(h), narrow._shared),  # dW1
    ]
    for a, b, expected in products:
        out = narrow.empty((K, a.shape[-2], b.shape[-1]), float, stack_last=True)
        assert narrow.plan(a, b, out) is expected


def test_wide_or_small_stacks_stay_stack_first():
    assert narrow.stack_last_suits([3, 4, 1], K)
    assert narrow.stack_last_suits([784, 4, 4, 1], K)  # the first layer is one product anyway
    assert narrow.stack_last_suits([2, 8, 3], K)
    assert not narrow.stack_last_suits([2, 8, 8, 1], K)
    assert not narrow.stack_last_suits([3, 64, 64, 1], K)
    assert not narrow.stack_last_suits([3, 4, 1], narrow.MIN_STACK - 1)
    assert not narrow.stack_last_suits([3, 4, 1], None)
    wide = MLP([3, 64, 64, 1], seed=0, stack=K)
    assert all(p["W"].flags.c_contiguous for p in wide.params)
    out = np.empty((K, 4, 64))
    assert narrow.plan(np.ones((K, 4, 64)), wide.params[1]["W"], out) is None


def test_switching_the_layout_off_keeps_every_stack_stack_first(monkeypatch):
    monkeypatch.setattr(narrow, "ENABLED", False)
    net = MLP([3, 4, 1], seed=0, stack=K)
    assert all(v.flags.c_contiguous for p in net.params for v in p.values())


def test_stack_last_keeps_shape_and_values():
    a = np.arange(K * 3 * 4, dtype=float).reshape(K, 3, 4)
    b = narrow.stack_last(a)
    assert b.shape == a.shape and np.array_equal(a, b) and not np.shares_memory(a, b)
    assert narrow.is_stack_last(b) and not narrow.is_stack_last(a)
    assert narrow.is_stack_last(np.zeros_like(b))  # NumPy keeps the layout for new arrays


def test_networks_stay_independent_when_one_holds_nan():
    rng = np.random.default_rng(0)
    a = narrow.stack_last(rng.standard_normal((K, 4, 4)))
    b = narrow.stack_last(rng.standard_normal((K, 4, 1)))
    a[3, 0, 0] = np.inf
    out = narrow.empty((K, 4, 1), float, stack_last=True)
    with np.errstate(invalid="ignore"):
        matmul(a, b, out)
    others = np.arange(K) != 3
    np.testing.assert_allclose(out[others], np.matmul(a[others], b[others]), rtol=1e-12)


def test_two_plain_matrices_still_go_to_np_dot_bit_for_bit():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 4))
    assert np.array_equal(matmul(a, b, np.empty((4, 4))), np.dot(a, b))
