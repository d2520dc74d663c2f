"""Value checks: one place for "must be a positive integer" and its kind.

Each check returns the value as a plain ``int``, ``float`` or ``str``, or raises
``ConfigError`` in the one message style used everywhere::

    epochs must be a non-negative integer, got -1
    validation share must be a number in [0, 1), got 1.5
    unknown loss 'hinge'; expected one of: squared_error, cross_entropy, ...

``bool`` is never a number here (``True`` is not an epoch count), NumPy scalars are.

Also here: sizes checked before allocating (``check_allocation``) against the memory this
process may take (``memory_limit``: the least of the physical memory, what ``ulimit -v``
leaves and what its cgroup leaves), input refused rather than reinterpreted
(``layer_sizes``, ``real_array``), text made safe to show (``printable``, ``shortened``),
and one ``fit`` at a time per network (``training_alone``).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import numbers
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import ConfigError, DataError

__all__ = [
    "MAX_SHOWN",
    "check_allocation",
    "check_network_memory",
    "epoch_count",
    "fraction",
    "has_rows",
    "integer",
    "is_integer",
    "is_number",
    "is_sparse",
    "layer_sizes",
    "memory_limit",
    "non_negative_int",
    "non_negative_number",
    "number_in",
    "one_of",
    "per_network",
    "physical_memory",
    "positive_int",
    "positive_number",
    "printable",
    "real_array",
    "shortened",
    "softmax_outputs",
    "stack_seed",
    "training_alone",
]

MAX_SHOWN = 400  # characters of a message echoed whole; a longer one is cut in the middle


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


def printable(text: str) -> str:
    """``text`` with every control or invisible character escaped (``\\x1b``), so a
    name read from a file cannot retitle, clear or otherwise drive a terminal.

    Newlines and tabs stay: they are layout, not commands. Printable text is unchanged.
    """
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() or c in "\n\t" else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


def shortened(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` if at most ``limit`` characters; else its start and end around a note of
    how much was cut, so a 100 kB value is not echoed back whole."""
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 3
    return f"{text[:head]} ... [{len(text) - head - tail} characters cut] ... {text[-tail:]}"


def layer_sizes(sizes: Any) -> tuple[int, ...]:
    """``sizes`` as a tuple of layer widths: a list of at least 2 positive whole numbers.

    A string (``"341"``), a fraction (``3.7``) or a bool (``True``) is refused, not read
    as digits, truncated or counted as 1.
    """
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Iterable):
        raise ConfigError(
            f"sizes must be a list of positive integers such as [3, 4, 1], got "
            f"{shortened(repr(sizes))}"
        )
    sizes = list(sizes)
    if len(sizes) < 2 or not all(_is_integer(s) and s >= 1 for s in sizes):
        raise ConfigError(
            "sizes must list at least 2 layers (inputs and outputs) of at least 1 unit each, "
            f"as whole numbers, got {shortened(repr(sizes))}"
        )
    return tuple(int(s) for s in sizes)


def real_array(X: Any, what: str) -> np.ndarray:
    """``X`` as an array (no copy of an array), refused if its values are not real numbers:
    complex values (the imaginary part would be dropped), datetimes and time spans (they
    would become day or nanosecond counts)."""
    try:
        array = X if isinstance(X, np.ndarray) else np.asarray(X)
    except (TypeError, ValueError) as e:
        raise DataError(f"{what} must be numeric, one example per row: {e}") from None
    kinds = {"c": "complex numbers", "M": "dates or times", "m": "time spans"}
    if array.dtype.kind in kinds:
        raise DataError(
            f"{what} hold {kinds[array.dtype.kind]} ({array.dtype}); expected real numbers: "
            "convert them yourself to the numbers you mean"
        )
    return array


def has_rows(n: int, what: str = "training data") -> None:
    """Refuse data with no rows to learn from."""
    if n < 1:
        raise DataError(f"{what} has 0 rows; expected at least one example")


# --- memory: the limit that applies to this process, not the machine's --------------------

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")  # which cgroup this process is in
FALLBACK = 8 * 2**30  # where the physical memory cannot be read


def physical_memory() -> int:
    """The machine's physical memory in bytes (8 GiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return FALLBACK


def _read_int(path: Path) -> int | None:
    """The integer in a small kernel file, or ``None`` (absent, ``max``, unreadable)."""
    try:
        text = path.read_text()[:64].strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _address_space_left() -> int | None:
    """Bytes of address space left under RLIMIT_AS, or ``None`` when it is unlimited."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                used = int(line.split()[1]) * 1024
    return max(soft - used, 0)


def _cgroup_left() -> int | None:
    """Bytes left in this process's cgroup (v2 up the hierarchy, else v1), or ``None``."""
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except OSError:
        lines = []
    found = []
    for line in lines:
        if line.startswith("0::"):  # cgroup v2: every level's limit applies
            group = CGROUP_ROOT / line[3:].strip().lstrip("/")
            for level in (group, *group.parents):
                limit = _read_int(level / "memory.max")
                if limit is not None:
                    used = _read_int(level / "memory.current") or 0
                    found.append(max(limit - used, 0))
                if level == CGROUP_ROOT:
                    break
    v1 = _read_int(CGROUP_ROOT / "memory" / "memory.limit_in_bytes")
    if v1 is not None and v1 < 2**60:  # v1 says "no limit" with a huge number
        used = _read_int(CGROUP_ROOT / "memory" / "memory.usage_in_bytes") or 0
        found.append(max(v1 - used, 0))
    return min(found) if found else None


def memory_limit() -> int:
    """The bytes this process may still allocate: the least of the physical memory,
    the address space left under ``RLIMIT_AS`` and the room left in its cgroup."""
    limits = [physical_memory(), _address_space_left(), _cgroup_left()]
    return min(limit for limit in limits if limit is not None)


def check_allocation(what: str, nbytes: float) -> None:
    """Refuse, before allocating, ``nbytes`` for ``what`` when more than this process may
    take (``memory_limit``: the physical memory, ``ulimit -v``, a cgroup's limit)."""
    limit = memory_limit()
    if nbytes > limit:
        raise ConfigError(
            f"{what} needs about {nbytes / 2**30:.3g} GiB of memory, more than the "
            f"{limit / 2**30:.3g} GiB this process may take; make it smaller"
        )


def check_network_memory(sizes: tuple[int, ...], stack: int | None, itemsize: int) -> None:
    """Refuse a network whose weights (twice over, as building a stack copies them) would
    not fit in memory, before any is allocated."""
    values = sum(a * b + b for a, b in itertools.pairwise(sizes))
    nets = stack or 1
    copies = 1 if stack is None else 2
    arch = "-".join(map(str, sizes)) + ("" if stack is None else f" (stack of {stack})")
    check_allocation(f"a {arch} network", float(values) * nets * itemsize * copies)


def epoch_count(epochs: Any) -> int:
    """A non-negative number of epochs whose loss history (8 bytes each) fits in memory."""
    epochs = non_negative_int("epochs", epochs)
    check_allocation(f"the loss history of {epochs:.3g} epochs", 8.0 * epochs)
    return epochs


MAX_SEED = 2**32 - 1  # NumPy's legacy seeding takes 32 bits


def stack_seed(seed: Any, stack: int) -> None:
    """Refuse a seed that a stack's networks (seeds ``seed`` to ``seed + stack - 1``) would
    carry past ``2**32 - 1``, naming the seed given, not one the user never gave."""
    if _is_integer(seed) and 0 <= seed <= MAX_SEED < seed + stack - 1:
        raise ConfigError(
            f"seed {seed} with a stack of {stack} networks needs seeds up to {seed + stack - 1} "
            f"(one per network), past the largest, 2**32 - 1; give a seed of at most "
            f"{MAX_SEED - stack + 1}"
        )


class _Training:
    """Marks a network that a ``fit`` call is training. A copy or a pickle of the network
    is not being trained, so the mark copies and pickles as ``None``."""

    def __deepcopy__(self, memo: dict) -> None:
        return None

    def __copy__(self) -> None:
        return None

    def __reduce__(self) -> tuple:
        return (type(None), ())


FITTING = "_fitting"  # the attribute holding the mark while a fit runs


@contextlib.contextmanager
def training_alone(net: Any) -> Iterator[None]:
    """Hold ``net`` for one ``fit``; a second ``fit`` on it meanwhile (another thread, or a
    callback calling ``fit``) is refused, as two would write the same weights at once."""
    state = vars(net)
    if state.get(FITTING, 0) is None:  # a copy's mark
        state.pop(FITTING, None)
    mark = _Training()
    if state.setdefault(FITTING, mark) is not mark:  # one atomic step: the first one wins
        raise ConfigError(
            "this network is already being trained by another fit call (another thread?); "
            "one fit at a time per network: wait for it, or train a copy "
            "(copy.deepcopy(net))"
        )
    try:
        yield
    finally:
        state.pop(FITTING, None)


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
