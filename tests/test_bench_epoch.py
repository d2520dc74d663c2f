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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose_a", [False, True])
def test_blas_through_xlas_ffi_computes_numpys_product(dtype, transpose_a):
    """``xla_blas.py``'s BLAS handler, called by XLA inside a compiled program, computes
    ``a @ b`` (or ``a.T @ b``) for operands of three different sizes, in their dtype."""
    require("jax")
    require("numba")
    require("scipy")
    import xla_blas

    jax = xla_blas.load_jax()  # float64 on, as the engine has it

    product = xla_blas.blas_product(jax)
    rng = np.random.default_rng(7)
    a = rng.standard_normal((6, 5) if transpose_a else (5, 6)).astype(dtype)
    b = rng.standard_normal((6, 3)).astype(dtype)
    got = np.asarray(jax.jit(lambda a, b: product(a, b, transpose_a))(a, b))
    want = (a.T if transpose_a else a) @ b
    assert got.dtype == dtype and got.shape == want.shape == (5, 3)
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_the_epoch_with_blas_products_trains_what_xlas_products_train():
    """``xla_blas.py`` times like with like: the epoch with BLAS's products trains the
    weights XLA's products train (to float32 rounding), and moves them."""
    require("jax")
    require("numba")
    require("scipy")
    import xla_blas

    jax = xla_blas.load_jax()  # float64 on, as the engine has it

    jnp = jax.numpy
    rng = np.random.default_rng(8)
    rows = 3 * xla_blas.BATCH
    X = jnp.asarray(rng.standard_normal((rows, xla_blas.D), dtype=np.float32))
    T = jnp.asarray(np.eye(xla_blas.K, dtype=np.float32)[rng.integers(0, xla_blas.K, rows)])
    order = jnp.asarray(rng.permutation(rows).reshape(-1, xla_blas.BATCH))
    shapes = ((xla_blas.D, xla_blas.H), (xla_blas.H,), (xla_blas.H, xla_blas.K), (xla_blas.K,))
    params = tuple(jnp.asarray(rng.standard_normal(s, dtype=np.float32) * 0.05) for s in shapes)
    with_blas = xla_blas.sgd_epoch(jax, X, T, order, xla_blas.blas_product(jax))(params)
    with_xla = xla_blas.sgd_epoch(jax, X, T, order, None)(params)
    for got, want, start in zip(with_blas, with_xla, params, strict=True):
        assert not np.allclose(want, start)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_the_stand_in_fills_each_products_place_without_computing_it():
    """``xla_blas.py``'s third program times the rest of the epoch: its stand-in returns an
    array of each product's shape and dtype that is not the product."""
    require("jax")
    import xla_blas

    jax = xla_blas.load_jax()
    stand_in = xla_blas.stand_in_product(jax)
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((5, 6), np.float32), rng.standard_normal((6, 3), np.float32)
    for got, want in ((stand_in(a, b), a @ b), (stand_in(a.T, b, True), a @ b)):
        assert got.shape == want.shape and got.dtype == want.dtype
        assert not np.allclose(got, want)
