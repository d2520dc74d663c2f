"""A stack with the networks on the last axis: the library's plain math run on it unchanged.

``jax.vmap`` of one network's step keeps each network's weights together (``W`` of shape
``(K, fan_in, fan_out)``): every product of the seed's network is then a batch of 4x3 by
3x4 matrices, too small for the vector units. Stored the other way round (``(fan_in,
fan_out, K)``), every operation of the step is one vector operation over the K networks,
and a product with a short shared dimension is a few multiply-adds of whole vectors of
networks, which XLA fuses into loops along the networks (1.4-3.3x ``vmap``'s networks/s
for the seed's network, ``benchmarks/layout.py``, ``docs/engines.md``).

``Lanes`` is that stack as one network's array: its ``shape`` is one network's, its
``data`` has the networks on a last axis. Operators, indexing, reductions and the array
module ``LANES`` (``xp``: the elementwise functions of ``jax.numpy``, ``vdot``, ``einsum``)
act on every network at once, as ``vmap`` would, so ``mlplab.nn``'s layers, losses and
``mlplab.train``'s rules run on it as written, no second copy of a formula: an array
without the networks' axis (the data) is shared by every network, as ``vmap``'s unbatched
inputs are.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["LANES", "MAX_TERMS", "Lanes", "data_of", "lanes_of"]

# A product whose shared dimension is at most this long is written as that many
# multiply-adds of broadcast vectors (XLA fuses them); longer ones reduce a broadcast product.
MAX_TERMS = 16


def _phys(a: Any) -> Any:
    """``a``'s array with a networks' axis: its own, or one of size 1 for a shared array."""
    if isinstance(a, Lanes):
        return a.data
    if isinstance(a, int | float | bool):
        return a
    return jnp.asarray(a)[..., None]


def _binary(op: Callable, reflected: bool = False) -> Callable:
    def method(self: Lanes, other: Any) -> Lanes:
        a, b = self.data, _phys(other)
        return Lanes(op(b, a) if reflected else op(a, b))

    return method


def _axis(axis: Any, ndim: int) -> Any:
    """One network's axis (or axes) as the data's: the networks' axis is never reduced."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        return tuple(_axis(a, ndim) for a in axis)
    return axis % ndim if ndim else axis


def _sum(data: Any, axes: Any, keepdims: bool) -> Any:
    """``data.sum(axes)``; an axis of at most ``MAX_TERMS`` as that many adds of its slices
    (XLA fuses them with the step's loops; its reduction kernel costs more than the sum)."""
    axes = sorted(axes if isinstance(axes, tuple) else (axes,))
    if data.dtype == bool:  # counted, as jnp.sum counts: in the default integer
        data = data.astype(jnp.asarray(0).dtype)
    for axis in axes:
        if data.shape[axis] > MAX_TERMS:
            data = data.sum(axis=axis, keepdims=True)
        else:
            parts = [lax.index_in_dim(data, i, axis) for i in range(data.shape[axis])]
            data = functools.reduce(operator.add, parts)
    return data if keepdims else data.reshape([n for i, n in enumerate(data.shape)
                                               if i not in axes])  # fmt: skip


class Lanes:
    """A stack's array, ``shape`` one network's, ``data`` ``(*shape, K)``."""

    __slots__ = ("data",)
    __array_ufunc__ = None  # a NumPy array on the left defers to the reflected operator
    __hash__ = None  # type: ignore[assignment]  # compares elementwise

    def __init__(self, data: Any) -> None:
        self.data = data

    shape = property(lambda self: self.data.shape[:-1])
    ndim = property(lambda self: self.data.ndim - 1)
    dtype = property(lambda self: self.data.dtype)
    mT = property(lambda self: Lanes(jnp.swapaxes(self.data, -3, -2)))
    T = property(lambda self: Lanes(jnp.moveaxis(self.data, -1, 0).T))

    __add__, __radd__ = _binary(operator.add), _binary(operator.add, True)
    __sub__, __rsub__ = _binary(operator.sub), _binary(operator.sub, True)
    __mul__, __rmul__ = _binary(operator.mul), _binary(operator.mul, True)
    __truediv__, __rtruediv__ = _binary(operator.truediv), _binary(operator.truediv, True)
    __pow__, __rpow__ = _binary(operator.pow), _binary(operator.pow, True)
    __gt__, __ge__ = _binary(operator.gt), _binary(operator.ge)
    __lt__, __le__ = _binary(operator.lt), _binary(operator.le)
    __eq__, __ne__ = _binary(operator.eq), _binary(operator.ne)  # type: ignore[assignment]
    __and__, __or__ = _binary(operator.and_), _binary(operator.or_)

    def __neg__(self) -> Lanes:
        return Lanes(-self.data)

    def __invert__(self) -> Lanes:
        return Lanes(~self.data)

    def __getitem__(self, index: Any) -> Lanes:
        index = index if isinstance(index, tuple) else (index,)
        if Ellipsis not in index:
            index = (*index, Ellipsis)
        return Lanes(self.data[(*index, slice(None))])

    def astype(self, dtype: Any) -> Lanes:
        return Lanes(self.data.astype(dtype))

    def sum(self, axis: Any = None, keepdims: bool = False) -> Lanes:
        return Lanes(_sum(self.data, _axis(axis, self.ndim), keepdims))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Lanes:
        axes = _axis(axis, self.ndim)
        count = math.prod(self.shape[a] for a in (axes if isinstance(axes, tuple) else (axes,)))
        return Lanes(_sum(self.data, axes, keepdims) / count)

    def max(self, axis: Any = None, keepdims: bool = False) -> Lanes:
        return Lanes(self.data.max(axis=_axis(axis, self.ndim), keepdims=keepdims))

    def argmax(self, axis: int) -> Lanes:
        return Lanes(self.data.argmax(axis=_axis(axis, self.ndim)))

    def __matmul__(self, other: Any) -> Lanes:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Lanes:
        return matmul(other, self)


def matmul(a: Any, b: Any) -> Lanes:
    """``a @ b`` for every network: ``k`` multiply-adds of broadcast vectors, ``k`` the
    shared dimension (up to ``MAX_TERMS``), or the sum of one broadcast product."""
    a, b = (x if isinstance(x, Lanes) else Lanes(_phys(x)) for x in (a, b))
    if b.ndim == 1:  # a matrix (or a vector) by a vector
        return (a * b).sum(axis=-1)
    if a.ndim == 1:
        return (a[:, None] * b).sum(axis=-2)
    k = a.shape[-1]
    if k > MAX_TERMS:
        return (a[..., :, :, None] * b[..., None, :, :]).sum(axis=-2)
    out = a[..., :, 0:1] * b[..., 0:1, :]
    for i in range(1, k):
        out = out + a[..., :, i : i + 1] * b[..., i : i + 1, :]
    return out


# jax.numpy's elementwise functions the library's math calls through ``xp``
ELEMENTWISE = frozenset({"exp", "expm1", "log", "log1p", "logaddexp", "tanh", "sqrt", "sign",
                         "abs", "maximum", "minimum", "where", "isfinite", "ones_like",
                         "zeros_like", "clip", "square"})  # fmt: skip


class _LanesModule:
    """The array module ``xp`` of ``Lanes`` arrays (``LANES``)."""

    def __getattr__(self, name: str) -> Callable:
        if name not in ELEMENTWISE:
            raise AttributeError(f"xp.{name} is not available on a stack with the networks "
                                 "last (mlplab.engines._jax_lanes.ELEMENTWISE)")  # fmt: skip
        fn = getattr(jnp, name)

        def elementwise(*args: Any, **kwargs: Any) -> Any:
            if not any(isinstance(a, Lanes) for a in args):
                return fn(*args, **kwargs)
            return Lanes(fn(*(_phys(a) for a in args), **kwargs))

        return elementwise

    @staticmethod
    def asarray(a: Any, dtype: Any = None) -> Any:
        """``jnp.asarray``, on a ``Lanes`` array too (a float64 step size applied to a float32
        stack must become float32, as it does on one network's arrays)."""
        if isinstance(a, Lanes):
            return a.astype(dtype) if dtype else a
        return jnp.asarray(a, dtype=dtype)

    @staticmethod
    def vdot(a: Any, b: Any) -> Lanes:
        return (a * b).sum()

    @staticmethod
    def einsum(subscripts: str, *operands: Any) -> Lanes:
        """``jnp.einsum`` for every network (subscripts with ``...`` or named axes)."""
        inputs, output = subscripts.replace(" ", "").split("->")
        specs = [s + ("Z" if isinstance(a, Lanes) else "")
                 for s, a in zip(inputs.split(","), operands, strict=True)]  # fmt: skip
        data = [a.data if isinstance(a, Lanes) else a for a in operands]
        return Lanes(jnp.einsum(f"{','.join(specs)}->{output}Z", *data))


LANES = _LanesModule()


def lanes_of(tree: Any) -> Any:
    """Every array of ``tree`` (networks on the last axis) as ``Lanes``."""
    return jax.tree.map(Lanes, tree)


def data_of(tree: Any) -> Any:
    """``tree`` with every ``Lanes`` replaced by its data."""
    return jax.tree.map(lambda a: a.data if isinstance(a, Lanes) else a, tree,
                        is_leaf=lambda a: isinstance(a, Lanes))  # fmt: skip
