"""Value checks: one place for "must be a positive integer" and its kind.

Each check returns the value as a plain ``int``, ``float`` or ``str``, or raises
``ConfigError`` in the one message style used everywhere::

    epochs must be a non-negative integer, got -1
    validation share must be a number in [0, 1), got 1.5
    unknown loss 'hinge'; expected one of: squared_error, cross_entropy, ...

``bool`` is never a number here (``True`` is not an epoch count), NumPy scalars are.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from mlplab.errors import ConfigError

__all__ = [
    "fraction",
    "integer",
    "is_integer",
    "is_number",
    "is_sparse",
    "non_negative_int",
    "non_negative_number",
    "number_in",
    "one_of",
    "per_network",
    "positive_int",
    "positive_number",
    "softmax_outputs",
]


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a ``scipy.sparse`` matrix or array (without importing SciPy)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def is_integer(value: Any) -> bool:
    """A whole number (Python's or NumPy's), never a ``bool``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A real number (Python's or NumPy's), never a ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_is_integer, _is_number = is_integer, is_number


def integer(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    expected: str = "an integer",
) -> int:
    """``value`` as an ``int`` if it is a whole number within ``[minimum, maximum]``."""
    if (
        not _is_integer(value)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise ConfigError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any) -> int:
    """A whole number of at least 1."""
    return integer(name, value, minimum=1, expected="a positive integer")


def non_negative_int(name: str, value: Any) -> int:
    """A whole number of at least 0."""
    return integer(name, value, minimum=0, expected="a non-negative integer")


def _number(name: str, value: Any, ok: bool, expected: str) -> float:
    if not (_is_number(value) and math.isfinite(value) and ok):
        raise ConfigError(f"{name} must be {expected}, got {value!r}")
    return float(value)


def positive_number(name: str, value: Any) -> float:
    """A finite number above 0."""
    return _number(name, value, _is_number(value) and value > 0, "a positive number")


def non_negative_number(name: str, value: Any) -> float:
    """A finite number of at least 0."""
    return _number(name, value, _is_number(value) and value >= 0, "a non-negative number")


def number_in(
    name: str, value: Any, low: float, high: float, *, include_high: bool = False
) -> float:
    """A number in ``[low, high)`` (``[low, high]`` with ``include_high``)."""
    inside = (
        _is_number(value) and low <= value and (value <= high if include_high else value < high)
    )
    bracket = "]" if include_high else ")"
    return _number(name, value, inside, f"a number in [{low:g}, {high:g}{bracket}")


def fraction(name: str, value: Any, *, include_one: bool = False) -> float:
    """A share: a number in ``[0, 1)`` (``[0, 1]`` with ``include_one``)."""
    return number_in(name, value, 0, 1, include_high=include_one)


def per_network(name: str, value: Any, check: Callable[[str, Any], float]) -> Any:
    """One setting for every network (a ``float``, by ``check``) or one per network of a stack:
    a NumPy array, or a list, of numbers each passing ``check``, as a 1-D float64 array."""
    if is_number(value):
        return check(name, value)
    if not isinstance(value, np.ndarray | list | tuple):
        raise ConfigError(f"{name} must be a number or one number per network, got {value!r}")
    values = np.asarray(value)
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf":
        raise ConfigError(
            f"{name} must be a number or a 1-D array of numbers, one per network of the "
            f"stack; got shape {values.shape} of {values.dtype}"
        )
    for i, v in enumerate(values.tolist()):
        check(f"{name}[{i}]", v)
    return values.astype(np.float64)


def one_of(what: str, value: Any, names: Iterable[str]) -> str:
    """``value`` if it is one of ``names``; else "unknown WHAT 'x'; expected one of: ..."."""
    names = list(names)
    if not isinstance(value, str) or value not in names:
        raise ConfigError(f"unknown {what} {value!r}; expected one of: {', '.join(names)}")
    return value


def softmax_outputs(activation: str, n_outputs: int, *, option: str = "output activation",
                    fix: str = "sigmoid") -> None:  # fmt: skip
    """Refuse a softmax output over one unit: the softmax of one value is always 1.

    ``option`` names the setting as the caller knows it (``"--output-activation"`` on the
    command line), ``fix`` the way out.
    """
    if activation == "softmax" and n_outputs == 1:
        raise ConfigError(
            f"{option} softmax with one output always predicts 1 (the softmax of one value); "
            f"use {fix} for one output"
        )
