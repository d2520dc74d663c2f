"""Activation functions, each carrying its own derivative.

The seed writes the sigmoid's derivative from its output, ``h * (1 - h)``, so the
backward pass needs only what the forward pass kept. Every built-in activation
here does the same (``from_output=True``); a user's activation may instead give
its derivative in terms of the pre-activation ``z`` (``from_output=False``).

``ACTIVATIONS`` is the name table (an ``ActivationRegistry``) that the network, the
CLI's choices and the error messages are all generated from; ``register_activation`` adds
a user's to it.

The built-ins' ``f`` and ``derivative`` are written once in array-API style: each
takes the array module as ``xp`` (``numpy`` by default, ``jax.numpy`` in the compiled
engine), so both engines run the same lines (``array_api=True``). The ``*_into``
versions are the NumPy engine's measured optimisation: the same operations written
into kept buffers, tested equal to the plain form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlplab.checks import one_of
from mlplab.errors import ConfigError

Array = np.ndarray
ArrayFn = Callable[[Array], Array]

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ActivationRegistry",
    "get_activation",
    "hidden_activation_names",
    "output_activation_names",
    "register_activation",
]


@dataclass(frozen=True, eq=False)
class Activation:
    """An elementwise activation ``h = f(z)`` and its derivative.

    ``derivative`` takes ``h`` when ``from_output`` is true (the seed's
    ``h * (1 - h)``), else ``z``. The network calls ``forward`` and ``backward``;
    built-ins also give ``*_into`` versions that write into a buffer, so a
    training loop allocates nothing. With ``array_api``, ``f`` and ``derivative``
    also take ``xp=`` (the array module) and run on any array library's arrays.
    """

    name: str
    f: ArrayFn
    derivative: ArrayFn
    from_output: bool = True
    hidden: bool = True
    output: bool = False
    f_into: Callable[[Array, Array], Array] | None = None
    derivative_into: Callable[[Array, Array], Array] | None = None
    array_api: bool = False

    def delta(self, grad_h: Any, h: Any, z: Any, xp: Any = np) -> Any:
        """``delta = dL/dh * f'`` without writing into anything (any array module ``xp``)."""
        at = h if self.from_output else z
        return grad_h * (self.derivative(at, xp=xp) if self.array_api else self.derivative(at))

    @property
    def needs_z(self) -> bool:
        """Whether ``backward`` needs the pre-activation ``z`` kept."""
        return not self.from_output

    def forward(self, z: Array, out: Array) -> Array:
        """``h = f(z)``, written into ``out`` (which may be ``z``) where supported."""
        if self.f_into is not None:
            return self.f_into(z, out)
        return np.asarray(self.f(z), dtype=z.dtype)

    def backward(self, grad_h: Array, h: Array, z: Array | None, scratch: Array) -> Array:
        """``delta = dL/dh * f'``, computed in place in ``grad_h``; ``scratch`` is h-shaped."""
        if self.derivative_into is not None:
            grad_h *= self.derivative_into(h, scratch)
        else:
            grad_h *= self.derivative(h if self.from_output else z)
        return grad_h


# 1 as a 0-d array per dtype: cheaper to add than a Python scalar, and never an upcast.
_ONES = {np.dtype(t).char: np.ones((), dtype=t) for t in (np.float32, np.float64)}


# --- the math, once, for any array module xp ------------------------------------------


def _sigmoid(z: Any, xp: Any = np) -> Any:
    return 1 / (1 + xp.exp(-z))  # the seed's 1/(1+np.exp(-z))


def _sigmoid_derivative(h: Any, xp: Any = np) -> Any:
    return h * (1 - h)  # the seed's h*(1-h)


def _tanh(z: Any, xp: Any = np) -> Any:
    return xp.tanh(z)


def _tanh_derivative(h: Any, xp: Any = np) -> Any:
    return 1 - h * h


def _relu(z: Any, xp: Any = np) -> Any:
    return xp.maximum(z, 0)


def _relu_derivative(h: Any, xp: Any = np) -> Any:
    return (h > 0).astype(h.dtype)


def _leaky_relu_derivative(h: Any, xp: Any = np) -> Any:
    return xp.where(h > 0, 1, LEAKY_SLOPE).astype(h.dtype)


def _softplus_derivative(h: Any, xp: Any = np) -> Any:
    return -xp.expm1(-h)  # softplus' = sigmoid(z) = 1 - e^(-h), since e^h = 1 + e^z


def _identity(z: Any, xp: Any = np) -> Any:
    return z


def _identity_derivative(h: Any, xp: Any = np) -> Any:
    return xp.ones_like(h)


# --- the same, into kept buffers (the NumPy engine's) -----------------------------------


def _sigmoid_into(z: Array, out: Array) -> Array:
    # The seed's 1/(1+np.exp(-z)), operation for operation, so results match it
    # bit for bit; exp(-z) overflowing to inf gives the correct limit 0.
    np.negative(z, out)
    np.exp(out, out)
    np.add(out, _ONES[out.dtype.char], out)
    return np.divide(_ONES[out.dtype.char], out, out)


def _sigmoid_derivative_into(h: Array, out: Array) -> Array:
    np.subtract(_ONES[h.dtype.char], h, out)  # the seed's h * (1 - h)
    return np.multiply(h, out, out)


def _tanh_derivative_into(h: Array, out: Array) -> Array:
    np.multiply(h, h, out)  # 1 - h^2
    return np.subtract(_ONES[h.dtype.char], out, out)


def _relu_into(z: Array, out: Array) -> Array:
    return np.maximum(z, 0, out=out)


def _relu_derivative_into(h: Array, out: Array) -> Array:
    return np.greater(h, 0, out)


LEAKY_SLOPE = 0.01


def _leaky_relu(z: Any, xp: Any = np) -> Any:
    return xp.where(z > 0, z, LEAKY_SLOPE * z)


def _softplus(z: Any, xp: Any = np) -> Any:
    return xp.logaddexp(0, z)  # log(1 + e^z) without overflow


def _softplus_into(z: Array, out: Array) -> Array:
    return np.logaddexp(0, z, out)


def _identity_into(z: Array, out: Array) -> Array:
    if out is not z:
        np.copyto(out, z)
    return out


def _exp(z: Any, xp: Any = np) -> Any:
    return xp.exp(z)


def _exp_derivative(h: Any, xp: Any = np) -> Any:
    return h  # (e^z)' = e^z = h


def _exp_into(z: Array, out: Array) -> Array:
    return np.exp(z, out)


def _softmax(z: Any, xp: Any = np) -> Any:
    e = xp.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_into(z: Array, out: Array) -> Array:
    np.subtract(z, z.max(axis=-1, keepdims=True), out)  # shift so exp cannot overflow
    np.exp(out, out)
    out /= out.sum(axis=-1, keepdims=True)
    return out


class _Softmax(Activation):
    """Softmax couples the outputs of a row, so its backward is a Jacobian-vector product."""

    def backward(self, grad_h: Array, h: Array, z: Array | None, scratch: Array) -> Array:
        # dL/dz_i = y_i * (dL/dy_i - sum_j dL/dy_j * y_j)
        grad_h -= (grad_h * h).sum(axis=-1, keepdims=True)
        grad_h *= h
        return grad_h

    def delta(self, grad_h: Any, h: Any, z: Any, xp: Any = np) -> Any:
        return (grad_h - (grad_h * h).sum(axis=-1, keepdims=True)) * h


_BUILTINS = [
    Activation(
        "sigmoid",
        _sigmoid,
        _sigmoid_derivative,
        output=True,
        f_into=_sigmoid_into,
        derivative_into=_sigmoid_derivative_into,
        array_api=True,
    ),
    Activation(
        "tanh",
        _tanh,
        _tanh_derivative,
        f_into=np.tanh,
        derivative_into=_tanh_derivative_into,
        array_api=True,
    ),
    Activation(
        "relu",
        _relu,
        _relu_derivative,
        f_into=_relu_into,
        derivative_into=_relu_derivative_into,
        array_api=True,
    ),
    Activation("leaky_relu", _leaky_relu, _leaky_relu_derivative, array_api=True),
    Activation(
        "softplus", _softplus, _softplus_derivative, f_into=_softplus_into, array_api=True
    ),
    Activation(
        "identity",
        _identity,
        _identity_derivative,
        output=True,
        f_into=_identity_into,
        array_api=True,
    ),
    # the Poisson loss's log link: y = e^z, an output only (y' = y)
    Activation(
        "exp",
        _exp,
        _exp_derivative,
        hidden=False,
        output=True,
        f_into=_exp_into,
        array_api=True,
    ),
    _Softmax(
        "softmax",
        _softmax,
        _sigmoid_derivative,  # the diagonal of its Jacobian; delta() uses the whole
        hidden=False,
        output=True,
        f_into=_softmax_into,
        array_api=True,
    ),
]
def hidden_activation_names() -> list[str]:
    """Names usable for hidden layers."""
    return ACTIVATIONS.hidden_names()


def output_activation_names() -> list[str]:
    """Names usable for the output layer."""
    return ACTIVATIONS.output_names()


def get_activation(name: str | Activation, *, where: str = "hidden") -> Activation:
    """Look up an activation by name, refusing unknown names with the valid ones listed."""
    if isinstance(name, Activation):
        return name
    valid = hidden_activation_names() if where == "hidden" else output_activation_names()
    return ACTIVATIONS[one_of(f"{where} activation", name, valid)]


# --- user activations (exercise 3) ---------------------------------------------------

GRID = np.linspace(-4.0, 4.0, 81)
_STEP = 1e-5


def _numerical_derivative(f: ArrayFn, z: Array) -> Array:
    return (np.asarray(f(z + _STEP)) - np.asarray(f(z - _STEP))) / (2 * _STEP)


def _close(a: Array, b: Array) -> bool:
    return bool(np.allclose(a, b, rtol=1e-4, atol=1e-5))


def check_derivative(f: ArrayFn, derivative: ArrayFn, *, from_output: bool, name: str) -> None:
    """Compare ``derivative`` with central finite differences of ``f`` on a grid.

    Raises ``ConfigError`` explaining the mismatch, and naming the classic mix-up
    when the derivative is right but written in terms of the other variable.
    """
    z = GRID.copy()
    # Stay off kinks (relu at 0): compare only where f is smooth at the step scale.
    with np.errstate(all="ignore"):
        h = np.asarray(f(z), dtype=float)
        if h.shape != z.shape:
            raise ConfigError(
                f"activation {name!r}: f must work elementwise and keep the shape "
                f"of its input; got shape {h.shape} for input shape {z.shape}"
            )
        numeric = _numerical_derivative(f, z)
        given = np.asarray(derivative(h if from_output else z), dtype=float)
        other = np.asarray(derivative(z if from_output else h), dtype=float)
    smooth = np.abs(_numerical_derivative(f, z + 10 * _STEP) - numeric) < 1e-2
    if given.shape != z.shape or not np.all(np.isfinite(given[smooth])):
        raise ConfigError(
            f"activation {name!r}: derivative must return finite values of the input's shape"
        )
    if _close(given[smooth], numeric[smooth]):
        return
    worst = float(np.max(np.abs(given[smooth] - numeric[smooth])))
    if other.shape == z.shape and _close(other[smooth], numeric[smooth]):
        was, should = ("output h", "input z") if from_output else ("input z", "output h")
        flag = "False" if from_output else "True"
        raise ConfigError(
            f"activation {name!r}: the derivative is written in terms of the {should}, "
            f"but was registered as taking the {was} (from_output={from_output}); "
            f"register it with from_output={flag}"
        )
    variable = "output h = f(z)" if from_output else "input z"
    raise ConfigError(
        f"activation {name!r}: derivative (taking the {variable}) disagrees with finite "
        f"differences of f on [-4, 4] by up to {worst:.3g}; check the formula"
    )


def register_activation(
    name: str,
    f: ArrayFn,
    derivative: ArrayFn,
    *,
    from_output: bool = True,
    output: bool = False,
    replace: bool = False,
) -> Activation:
    """Add a user's activation to ``ACTIVATIONS`` after checking its derivative.

    ``derivative`` is in terms of the output ``h = f(z)`` when ``from_output`` is
    true (like the seed's ``h * (1 - h)``), else in terms of ``z``. A derivative
    that disagrees with finite differences is refused with a ``ConfigError``.
    """
    return ACTIVATIONS.register(
        name, f, derivative, from_output=from_output, output=output, replace=replace
    )


class ActivationRegistry(Mapping[str, Activation]):
    """The activations by name: the built-ins, and those a user adds with ``register``.

    Read it as a mapping (``ACTIVATIONS["tanh"]``, ``"swish" in ACTIVATIONS``); the
    network, the CLI's choices, the playground's menus and the error messages are generated
    from it. Only ``register`` adds, and ``del`` removes a user's activation again; the
    built-ins cannot be replaced or removed.
    """

    def __init__(self, builtins: Sequence[Activation]) -> None:
        self._table = {a.name: a for a in builtins}
        self._builtin_names = frozenset(self._table)

    def __getitem__(self, name: str) -> Activation:
        return self._table[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __setitem__(self, name: str, value: Activation) -> None:
        raise ConfigError(
            f"activations are added with register_activation({name!r}, f, derivative), "
            "which checks the derivative"
        )

    def __delitem__(self, name: str) -> None:
        if name in self._builtin_names:
            raise ConfigError(f"activation {name!r} is built in and cannot be removed")
        del self._table[name]

    def hidden_names(self) -> list[str]:
        """Names usable for hidden layers."""
        return [name for name, a in self._table.items() if a.hidden]

    def output_names(self) -> list[str]:
        """Names usable for the output layer."""
        return [name for name, a in self._table.items() if a.output]

    def register(
        self,
        name: str,
        f: ArrayFn,
        derivative: ArrayFn,
        *,
        from_output: bool = True,
        output: bool = False,
        replace: bool = False,
    ) -> Activation:
        """Add a user's activation after checking its derivative (see ``register_activation``)."""
        if not name or not name.isidentifier():
            raise ConfigError(f"activation name must be a non-empty identifier, got {name!r}")
        if name in self._table and not replace:
            raise ConfigError(
                f"activation {name!r} already exists; pass replace=True to overwrite a user's "
                "activation"
            )
        if name in self._builtin_names:
            raise ConfigError(f"activation {name!r} is built in and cannot be replaced")
        check_derivative(f, derivative, from_output=from_output, name=name)
        act = Activation(name, f, derivative, from_output=from_output, output=output)
        self._table[name] = act
        return act

    def __repr__(self) -> str:
        return f"<activations: {', '.join(self._table)}>"


ACTIVATIONS = ActivationRegistry(_BUILTINS)
