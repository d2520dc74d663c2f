"""Products of large stacks of tiny matrices, as a few large BLAS calls.

``np.matmul`` on a stack of K tiny matrices pays a fixed cost per matrix (about
50 ns: one small BLAS call or one short inner loop each), which dominates when
each product is a handful of multiply-adds, as in the seed's 3-4-1 network.
Here each matrix of the stack is flattened to a row, ``(K, r*c)``, and the
product becomes a few operations on those rows, whose cost grows with K but
has no per-matrix part:

* a shared matrix against a stack (``X @ W`` and ``X.T @ delta`` of the input
  layer): ``out[s] = a @ b[s]`` is linear in ``b[s]``, so ``out_flat = b_flat @ M``
  with ``M`` (``k*n x m*n``, a Kronecker product of ``a`` and an identity) built
  from ``a``: one BLAS call for the whole stack;
* two stacks: ``out[s, i, l] = sum_j a[s, i, j] * b[s, j, l]`` as
  ``((a_flat @ Ea) * (b_flat @ Eb)) @ S``, where the 0/1 matrices ``Ea`` and ``Eb``
  copy each entry to the products ``(i, j, l)`` that use it and ``S`` sums over
  ``j``; a factor that is the identity is skipped, and of ``a @ b`` and
  ``(b.mT @ a.mT).mT`` the cheaper is taken.

Each row of every call depends only on its own network, so the networks stay
independent (a NaN in one cannot reach another). The sums run in another order
than ``np.matmul``'s, so the results agree to rounding, not to the bit.

Chosen by shape: a plan is made only for stacks of at least ``MIN_STACK`` whose
flattened products cost at most ``MAX_COST`` multiply-adds per network (the
0/1 factors do wasted work that grows with the layer's width). Measured with
1000 networks: hidden width 4, 1.7x faster than ``np.matmul`` over a training
step; width 8, even; wider layers go to ``np.matmul``. An elementwise
broadcast-and-sum (``a[..., :, j, None] * b[..., j, None, :]`` summed over ``j``)
was measured too: with the stack axis leading, its inner loops are as short as
the matrices, and it was slower than ``np.matmul``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache

import numpy as np

Array = np.ndarray
Plan = Callable[[Array, Array, Array], None]

__all__ = ["ENABLED", "MAX_COST", "MIN_STACK", "plan"]

MAX_COST = 1024  # multiply-adds per network above which np.matmul is used
MIN_STACK = 8  # below this many networks np.matmul's per-matrix cost does not matter
ENABLED = True  # False leaves every product to np.matmul (benchmarks compare the two)


def _positions(rows: int, cols: int, transposed: bool) -> Array:
    """Where element ``(i, j)`` of a (rows, cols) matrix sits in its flattened row."""
    i, j = np.indices((rows, cols))
    return j * rows + i if transposed else i * cols + j


def _is_identity(src: Array) -> bool:
    return bool(np.array_equal(src.ravel(), np.arange(src.size)))


def _spread(src: Array, size: int, dtype: np.dtype) -> Array | None:
    """0/1 matrix taking a flattened operand to the products at ``src``; None if the identity."""
    if src.size == size and _is_identity(src):
        return None
    E = np.zeros((size, src.size), dtype)
    E[src.ravel(), np.arange(src.size)] = 1
    return E


def _two_stacks(m: int, k: int, n: int, a_t: bool, b_t: bool):
    """Multiply-adds per network of ``a @ b`` for two stacks, and the products' sources."""
    i, j, l = np.indices((m, k, n))
    src_a, src_b = _positions(m, k, a_t)[i, j], _positions(k, n, b_t)[j, l]
    mkn = m * k * n
    cost = 0 if n == 1 and _is_identity(src_a) else m * k * mkn
    cost += 0 if m == 1 and _is_identity(src_b) else k * n * mkn
    cost += 0 if k == 1 else mkn * m * n
    return cost, src_a, src_b


@lru_cache(maxsize=32)  # each plan keeps its work arrays: keep few
def _plan(key: tuple) -> Plan | None:
    a_shape, a_strides, a_dtype, b_shape, b_strides, b_dtype, out_shape, out_strides, dtype = key
    dtype = np.dtype(dtype)
    if (
        len(b_shape) != 3
        or len(a_shape) not in (2, 3)
        or a_dtype != dtype.char
        or b_dtype != dtype.char
        or _layout(out_shape, out_strides, dtype.itemsize) is not False
    ):
        return None
    m, k = a_shape[-2:]
    n = b_shape[-1]
    stack = b_shape[0]
    if stack < MIN_STACK or (len(a_shape) == 3 and a_shape[0] != stack):
        return None
    if len(a_shape) == 2:
        return _shared_plan(m, k, n, stack, b_shape, b_strides, dtype)
    a_t = _layout(a_shape, a_strides, dtype.itemsize)
    b_t = _layout(b_shape, b_strides, dtype.itemsize)
    if a_t is None or b_t is None or m * k * n > MAX_COST:
        return None
    direct = _two_stacks(m, k, n, a_t, b_t)
    # out.mT = b.mT @ a.mT: the transposed operands swap roles and layouts
    swapped = _two_stacks(n, k, m, not b_t, not a_t) if 1 in (m, n) else None
    use_swapped = swapped is not None and swapped[0] < direct[0]
    cost, src_a, src_b = swapped if use_swapped else direct
    if cost > MAX_COST:
        return None
    if use_swapped:
        m, n, la, lb = n, m, not b_t, not a_t
    else:
        la, lb = a_t, b_t
    Ea, Eb = _spread(src_a, m * k, dtype), _spread(src_b, k * n, dtype)
    S = None
    if k > 1:  # sums the products (i, j, l) over j
        S = np.kron(np.eye(m, dtype=dtype), np.kron(np.ones((k, 1), dtype), np.eye(n, dtype=dtype)))
    shape_a, shape_b, shape_out = (stack, m * k), (stack, k * n), (stack, m * n)
    work = _Work((stack, m * k * n), dtype)

    def two(a: Array, b: Array, out: Array) -> None:
        if use_swapped:
            a, b, out = b.mT, a.mT, out.mT
        w_left, w_right = work.arrays()
        a_flat = a.mT.reshape(shape_a) if la else a.reshape(shape_a)
        b_flat = b.mT.reshape(shape_b) if lb else b.reshape(shape_b)
        left = a_flat if Ea is None else np.dot(a_flat, Ea, w_left)
        right = b_flat if Eb is None else np.dot(b_flat, Eb, w_right)
        if S is None:  # k == 1: the products are the result
            np.multiply(left, right, out.reshape(shape_out))
        else:
            np.dot(np.multiply(left, right, w_left), S, out.reshape(shape_out))

    return two


class _Work(threading.local):
    """Two work arrays per thread, reused across calls.

    Allocating them on every call would cost more than the products: arrays
    above glibc's mmap threshold (128 KiB at first) come back as fresh pages
    that fault on first touch, several times slower than the arithmetic.
    """

    def __init__(self, shape: tuple[int, int], dtype: np.dtype) -> None:
        self.shape, self.dtype = shape, dtype
        self.pair: tuple[Array, Array] | None = None

    def arrays(self) -> tuple[Array, Array]:
        if self.pair is None:
            self.pair = (np.empty(self.shape, self.dtype), np.empty(self.shape, self.dtype))
        return self.pair


def _shared_plan(m, k, n, stack, b_shape, b_strides, dtype) -> Plan | None:
    """``out[s] = a @ b[s]`` as ``out_flat = b_flat @ M``, ``M[pos_b(j, l), i*n + l] = a[i, j]``."""
    b_t = _layout(b_shape, b_strides, dtype.itemsize)
    if b_t is None or k * n * m * n > MAX_COST:
        return None
    i, j, l = np.indices((m, k, n))
    rows, cols = _positions(k, n, b_t)[j, l].ravel(), (i * n + l).ravel()
    ai, aj = i.ravel(), j.ravel()
    shape_b, shape_out = (stack, k * n), (stack, m * n)
    last = [(b"", None)]  # (a's bytes, M): in training, a is the same X every epoch

    def shared(a: Array, b: Array, out: Array) -> None:
        key = a.tobytes()
        seen, M = last[0]
        if key != seen:
            M = np.zeros((k * n, m * n), dtype)
            M[rows, cols] = a[ai, aj]
            last[0] = key, M
        b_flat = b.mT.reshape(shape_b) if b_t else b.reshape(shape_b)
        np.dot(b_flat, M, out.reshape(shape_out))

    return shared


def _c_flat(shape: tuple, strides: tuple, itemsize: int) -> bool:
    """Whether (K, r, c) with these strides is (K, r*c) rows stored one after another."""
    expected = itemsize
    for size, stride in zip(reversed(shape), reversed(strides), strict=True):
        if size > 1 and stride != expected:
            return False
        expected *= size
    return True


def _layout(shape: tuple, strides: tuple, itemsize: int) -> bool | None:
    """False if a stacked operand flattens as stored, True if its ``.mT`` does, else None."""
    if _c_flat(shape, strides, itemsize):
        return False
    if _c_flat((shape[0], shape[2], shape[1]), (strides[0], strides[2], strides[1]), itemsize):
        return True
    return None


def plan(a: Array, b: Array, out: Array) -> Plan | None:
    """A function computing ``out[...] = a @ b`` by flattened rows, or None to use np.matmul.

    ``a`` is (m, k) or (K, m, k), ``b`` is (K, k, n), ``out`` is (K, m, n) and
    C-contiguous; the formulation is chosen once per shape and layout, and cached.
    """
    if not ENABLED:
        return None
    a_key = (a.shape, a.strides, a.dtype.char)
    b_key = (b.shape, b.strides, b.dtype.char)
    return _plan((*a_key, *b_key, out.shape, out.strides, out.dtype.char))
