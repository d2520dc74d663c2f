"""A layer, ``h = act(x @ W + b)``, and the forward and backward passes over layers.

The math is written once, here, and run two ways:

* **buffered** (the NumPy engine, ``MLP``): every result is written into arrays the layer
  keeps per input shape (``out=``), so a training loop allocates nothing. This is the
  seed's arithmetic operation for operation, bit for bit;
* **plain** (``Dense.plain``; the compiled engine, on ``jax.numpy`` under ``jit`` and
  ``vmap``): the same lines return new arrays of the array module ``xp``.

Which of the two a layer is changes only *where* each line writes (``_Buffered`` or
``_Plain``), never the line; a test checks the two equal. Each layer owns its values: its
input ``x``, ``z`` (kept when the backward pass needs it), its output ``h`` and, after
``backward``, ``grad``. The passes walk the layers, never parallel lists::

    forward:   h = act(x @ W + b)                       each layer, from the inputs
    backward:  dW = x.T @ delta ;  db = delta summed over the rows
               delta = (delta @ W.T) * act'(h)          the layer below's (the seed's h_delta)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlplab.nn import narrow
from mlplab.nn.activations import Activation
from mlplab.nn.losses import Objective

Array = np.ndarray

__all__ = ["Dense", "backward", "forward", "link", "loss_and_grads", "matmul", "plain_layers"]


def matmul(a: Array, b: Array, out: Array | None = None) -> Array:
    """``a @ b``, by the formulation with the least overhead for these shapes.

    Two plain matrices go to ``np.dot`` (BLAS, the least overhead per call). A
    stack of narrow networks stored stack-last goes to ``mlplab.nn.narrow``, which
    does the whole stack in one BLAS call or one vectorised loop instead of one
    call per matrix; anything else with leading stack axes to ``np.matmul``.
    """
    if a.ndim == 2 and b.ndim == 2:
        return np.dot(a, b, out)
    if out is not None and (fast := narrow.plan(a, b, out)) is not None:
        fast(a, b, out)
        return out
    return np.matmul(a, b, out=out)


class _Plain:
    """Where a plain layer writes: nowhere; each operation returns a new array of ``xp``."""

    buffered = False

    def __init__(self, activation: Activation, xp: Any) -> None:
        self.activation, self.xp = activation, xp

    def allocate(self, layer: Dense, x: Any) -> None:
        """Nothing to keep: every operation returns a new array."""

    @staticmethod
    def product(a: Any, b: Any, out: None) -> Any:
        return a @ b

    @staticmethod
    def add(a: Any, b: Any, out: None) -> Any:
        return a + b

    @staticmethod
    def sum_rows(a: Any, out: None) -> Any:
        return a.sum(axis=-2)

    @staticmethod
    def divide(a: Any, n: Any) -> Any:
        return a / n

    @staticmethod
    def mask(a: Any, mask: Any) -> Any:
        return a * mask

    def act(self, z: Any, out: None) -> Any:
        act = self.activation
        return act.f(z, xp=self.xp) if act.array_api else act.f(z)

    def act_delta(self, grad_h: Any, h: Any, z: Any, scratch: None) -> Any:
        return self.activation.delta(grad_h, h, z, self.xp)


class _Buffered:
    """Where a NumPy layer writes: into its kept arrays (``out=``), the results equal."""

    buffered = True
    xp = np

    def __init__(self, activation: Activation) -> None:
        self.activation = activation
        self.act = activation.f_into or activation.forward  # h = act(z), into a buffer
        self.product = matmul

    def allocate(self, layer: Dense, x: Array) -> None:
        """The layer's work arrays for inputs like ``x`` (kept per shape)."""
        layer._allocate(x)

    @staticmethod
    def add(a: Array, b: Array, out: Array) -> Array:
        return np.add(a, b, out)

    @staticmethod
    def sum_rows(a: Array, out: Array) -> Array:
        return np.sum(a, axis=-2, out=out)

    @staticmethod
    def divide(a: Array, n: Any) -> Array:
        a /= n
        return a

    @staticmethod
    def mask(a: Array, mask: Array) -> Array:
        return np.multiply(a, mask, out=a)

    def act_delta(self, grad_h: Array, h: Array, z: Array | None, scratch: Array) -> Array:
        return self.activation.backward(grad_h, h, z, scratch)  # in place in grad_h


class Dense:
    """One layer, ``h = act(x @ W + b)``, keeping what its backward pass needs.

    ``param`` is the layer's entry in ``MLP.params`` (``{"W": ..., "b": ...}``) and
    ``grad`` holds ``dL/dparam`` in the same structure after ``backward``. A buffered
    layer (the default, NumPy) allocates its work arrays once per input shape and reuses
    them, so a training loop allocates nothing; the arrays of the last few shapes are
    kept (a mini-batch, a shorter last batch, all rows for a prediction), so alternating
    shapes do not allocate either. ``Dense.plain`` makes a layer that returns new arrays
    of any array module instead (the compiled engine's).
    """

    MAX_SHAPES = 4  # input shapes whose work arrays are kept
    xp: Any = np  # the array module it computes with (a plain layer's is its own)

    def __init__(self, param: dict[str, Array], activation: Activation, keep_z: bool) -> None:
        self.param = param
        self.activation = activation
        self.keep_z = keep_z or activation.needs_z
        self.has_bias = "b" in param
        self.ops: _Buffered | _Plain = _Buffered(activation)
        self.grad = {name: np.zeros_like(value) for name, value in param.items()}
        self.x: Array | None = None  # the layer's input (X, or the previous layer's h)
        self.z: Array | None = None  # kept only when backward needs it
        self.h: Array | None = None
        self.below: Dense | None = None  # the layer feeding this one (see ``link``)
        self.mask: Array | None = None  # 1 where a weight is a network's own (a narrower one's)
        self._shape: tuple[int, ...] | None = None
        self._z = self._h = self._scratch = self._grad_x = None  # where results go (buffered)
        self._work: dict[tuple[int, ...], tuple] = {}  # input shape -> its work arrays

    @classmethod
    def plain(cls, param: dict[str, Any], activation: Activation, xp: Any,
              mask: Any = None) -> Dense:  # fmt: skip
        """A layer over ``param`` (arrays of ``xp``) whose operations return new arrays."""
        layer = cls.__new__(cls)
        layer.mask = mask
        layer.param, layer.activation = param, activation
        layer.keep_z, layer.has_bias = True, "b" in param
        layer.ops, layer.xp = _Plain(activation, xp), xp
        layer.grad, layer.x, layer.z, layer.h, layer.below = {}, None, None, None, None
        layer._shape = layer._z = layer._h = layer._scratch = layer._grad_x = None
        return layer

    def _allocate(self, x: Array) -> None:
        work = self._work.get(x.shape)
        if work is None:
            if len(self._work) >= self.MAX_SHAPES:
                self._work.clear()
            work = self._work[x.shape] = self._new_work(x)
        self._z, self._h, self._scratch, self._grad_x, product = work
        self.ops.product = product
        self._shape = x.shape

    def _new_work(self, x: Array) -> tuple:
        """``z``, ``h``, a scratch array, ``dL/dx`` and the product for inputs like ``x``."""
        W = self.param["W"]
        z_shape = (*np.broadcast_shapes(x.shape[:-2], W.shape[:-2]), x.shape[-2], W.shape[-1])
        stack_last = W.ndim == 3 and narrow.is_stack_last(W)  # work arrays follow the weights
        z = narrow.empty(z_shape, W.dtype, stack_last)
        h = np.empty_like(z) if self.keep_z else z  # h overwrites z
        scratch = np.empty_like(z)  # for act'(h)
        grad_x = narrow.empty((*z_shape[:-1], W.shape[-2]), W.dtype, stack_last)
        # the layer's products: plain matrices straight to BLAS, stacks through matmul
        product = np.dot if x.ndim == 2 and W.ndim == 2 else matmul
        return z, h, scratch, grad_x, product

    def forward(self, x: Array) -> Array:
        """``h = act(x @ W + b)``."""
        ops = self.ops
        if x.shape != self._shape:
            ops.allocate(self, x)  # buffered: this shape's arrays to write into
        z = ops.product(x, self.param["W"], self._z)  # z = x @ W
        if self.has_bias:
            z = ops.add(z, self.param["b"][..., None, :], z)  # z = z + b
        self.x = x
        self.z = z if self.keep_z else None
        self.h = ops.act(z, self._h)  # h = act(z)
        return self.h

    def backward(self, delta: Array, *, grad_input: bool = True) -> Array | None:
        """Given ``delta = dL/dz``, fill ``dW = x.T @ delta`` and ``db``; return ``dL/dx``."""
        ops, grad = self.ops, self.grad
        grad["W"] = ops.product(self.x.mT, delta, grad.get("W"))  # dW = x.T @ delta
        if self.mask is not None:  # a narrower network's units outside it: no update
            grad["W"] = ops.mask(grad["W"], self.mask)
        if self.has_bias:
            grad["b"] = ops.sum_rows(delta, grad.get("b"))  # db = delta summed over rows
        if not grad_input:
            return None
        return ops.product(delta, self.param["W"].mT, self._grad_x)  # dL/dx = delta @ W.T

    def activation_backward(self, grad_h: Array) -> Array:
        """``delta = dL/dh * act'(h)``: the seed's ``* (h * (1 - h))`` (buffered: in place in
        ``grad_h``)."""
        return self.ops.act_delta(grad_h, self.h, self.z, self._scratch)


def link(layers: Sequence[Dense]) -> list[Dense]:
    """Tell each layer the one below it (``below``), the path of the backward pass."""
    for layer, below in zip(layers[1:], layers[:-1], strict=True):
        layer.below = below
    return list(layers)


def forward(layers: Sequence[Dense], X: Any) -> Any:
    """The forward pass: each layer's ``h = act(x @ W + b)`` from the inputs; returns ``y``."""
    h = X
    for layer in layers:
        h = layer.forward(h)
    return h


def backward(layers: Sequence[Dense], delta: Any) -> None:
    """The backward pass from the output's ``delta``, filling every layer's ``grad``.

    For each layer from the last: ``dW = x.T @ delta``, then the delta of the layer
    below, ``delta = (delta @ W.T) * act'(h)`` (the seed's ``h_delta``).
    """
    layer = layers[-1]
    while layer.below is not None:
        grad_h = layer.backward(delta)  # dL/dh of the layer below: delta @ W.T
        layer = layer.below
        delta = layer.activation_backward(grad_h)  # times act'(h): h * (1 - h)
    layer.backward(delta, grad_input=False)


def loss_and_grads(layers: Sequence[Dense], objective: Objective, X: Any, T: Any,
                   weight: Any = None) -> Any:  # fmt: skip
    """One forward and backward pass: returns the loss, leaves each layer's ``grad`` filled."""
    forward(layers, X)
    loss, delta = objective(layers[-1], T, weight)  # delta = dL/dz, the seed's -y_delta
    backward(layers, delta)
    return loss


def plain_layers(params: Sequence[dict[str, Any]], activations: Sequence[Activation],
                 xp: Any = np, masks: Sequence[Any] | None = None) -> list[Dense]:  # fmt: skip
    """Plain layers over ``params`` (as in ``MLP.params``), computing with ``xp``; ``masks``
    (one per layer, or ``None``) as ``MLP.masks``."""
    masks = masks or [None] * len(params)
    return link([Dense.plain(p, act, xp, m)
                 for p, act, m in zip(params, activations, masks, strict=True)])  # fmt: skip
