"""Large stacks of narrow networks, stored with the stack axis last in memory.

``np.matmul`` on a stack of K tiny matrices pays a fixed cost per matrix (about
50 ns: one small BLAS call or one short inner loop each), which dominates when
each product is a handful of multiply-adds, as in the seed's 3-4-1 network.
So a stack of narrow networks is stored the other way round: a ``(K, r, c)``
parameter or activation is a view of an ``(r, c, K)`` array, and entry ``(i, j)``
of every network sits next to the same entry of the others. The code that
works on the stack does not change (it sees ``(K, r, c)`` arrays); NumPy's
elementwise operations walk memory in order whatever the view, and the products
become:

* a shared matrix against a stack (``X @ W`` and ``X.T @ delta`` of the input
  layer): ``out[:, :, s] = a @ b[:, :, s]`` for every ``s`` is the single product
  ``(m, k) @ (k, n*K)``: one BLAS call for the whole stack;
* two stacks: ``np.einsum``, whose inner loop runs along the stack axis, which is
  contiguous and as long as the stack, so it vectorises and never meets the
  edge of a matrix; where the shared dimension is 1 (the seed's
  ``y_delta @ W2.T``) there is nothing to sum, and ``np.multiply`` broadcasts the
  outer product.

Each network reads only its own entries, so the networks stay independent (a
NaN in one cannot reach another). The sums run in another order than
``np.matmul``'s, so results agree to rounding, not to the bit.

The layout is chosen once, by ``stack_last_suits`` when the network is built:
at least ``MIN_STACK`` networks whose layers after the first have at most
``MAX_WIDTH_PRODUCT`` weights (``fan_in * fan_out``). Wider stacks stay
stack-first, one BLAS product per matrix through ``np.matmul``, which wins once
each product does real work. Measured here, training stacks of 100 and 1000 on 4
and 200 examples: up to 24 weights per later layer (2-16-1, 2-8-3, 2-4-4-1; the
seed's 3-4-1 about 0.5x) stack-last took 0.33-0.9x the time of stack-first in most
cases and 1.0-1.4x in a few (100 networks on 4 examples, where both take microseconds);
from 32 weights (2-8-4-1, 2-6-6-1, 2-8-8-1) it took 0.6-1.7x, slower on 200 examples,
where the einsum's products grow.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

Array = np.ndarray
Plan = Callable[[Array, Array, Array], None]

__all__ = [
    "ENABLED",
    "MAX_WIDTH_PRODUCT",
    "MIN_STACK",
    "empty",
    "is_stack_last",
    "plan",
    "stack_last",
    "stack_last_suits",
]

MIN_STACK = 8  # below this many networks np.matmul's per-matrix cost does not matter
MAX_WIDTH_PRODUCT = 24  # weights per network in a layer after the first, at most
ENABLED = True  # False keeps every stack stack-first (benchmarks compare the two)


def stack_last_suits(sizes: Sequence[int], stack: int | None) -> bool:
    """Whether a stack of networks of these layer sizes is stored stack-last."""
    if not ENABLED or stack is None or stack < MIN_STACK:
        return False
    later = itertools.pairwise(sizes[1:])  # the first layer's product is one BLAS call anyway
    return all(fan_in * fan_out <= MAX_WIDTH_PRODUCT for fan_in, fan_out in later)


def stack_last(a: Array) -> Array:
    """A copy of stack ``a`` (stack axis first) stored with the stack axis last; same shape."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 0, -1)), -1, 0)


def empty(shape: tuple[int, ...], dtype: np.dtype | type, stack_last: bool) -> Array:
    """``np.empty(shape)``, stored stack-last if asked (``shape[0]`` is the stack)."""
    if not stack_last:
        return np.empty(shape, dtype)
    return np.moveaxis(np.empty((*shape[1:], shape[0]), dtype), -1, 0)


def is_stack_last(a: Array) -> bool:
    """Whether stack ``a`` (stack axis first) is stored stack-last, in one block."""
    return a.ndim >= 2 and a.shape[0] > 1 and _memory_view(a).flags.c_contiguous


def _memory_view(a: Array) -> Array:
    """``a`` with the stack axis moved last: the order of a stack-last array's memory."""
    return a.transpose((*range(1, a.ndim), 0))


def _shared(a: Array, b: Array, out: Array) -> None:
    """``out[s] = a @ b[s]`` for every ``s`` as one product ``(m, k) @ (k, n*K)``."""
    m, k = a.shape
    b_rows = _memory_view(b).reshape(k, -1)  # a view: b is stack-last and in one block
    np.dot(a, b_rows, _memory_view(out).reshape(m, -1))


def _two_stacks(a: Array, b: Array, out: Array) -> None:
    """``out[s] = a[s] @ b[s]`` for every ``s``, the inner loop along the stack."""
    np.einsum("sij,sjl->sil", a, b, out=out)


def _outer(a: Array, b: Array, out: Array) -> None:
    """``out[s] = a[s] @ b[s]`` where the shared dimension is 1: products, nothing to sum."""
    np.multiply(a, b, out)


def plan(a: Array, b: Array, out: Array) -> Plan | None:
    """A function computing ``out[...] = a @ b`` for stack-last operands, or None.

    ``b`` is a stack ``(K, k, n)``, ``out`` ``(K, m, n)``, both stack-last; ``a`` is
    a shared ``(m, k)`` matrix or a stack whose stack axis is contiguous (a
    stack-last array or a transposed view of one). Anything else gets None, and
    ``np.matmul`` does the product.
    """
    if b.ndim != 3 or out.ndim != 3 or not (is_stack_last(out) and is_stack_last(b)):
        return None
    if not a.dtype == b.dtype == out.dtype:
        return None
    if a.ndim == 2:
        return _shared
    if a.ndim == 3 and a.shape[0] == b.shape[0] and a.strides[0] == a.itemsize:
        return _outer if a.shape[2] == 1 else _two_stacks
    return None
