"""What a trace holds: ``Location`` (a line of mlplab's source) and ``Step`` (one line that ran).

Each ``Step`` is one seed-notation line of a training epoch (``h1 = σ(X @ W1)``,
``delta2 = (y - t) * y * (1 - y)``, ``dW2 = h1.T @ delta2``, ``W2 -= lr * dW2``) with the
arrays it read and the array it produced, copied from the training pass as they were computed.
"""

from __future__ import annotations

import inspect
import linecache
import math
import re
import sys
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import numpy as np

Array = np.ndarray

__all__ = ["PHASES", "Location", "Step", "as_json_value"]

PHASES = ("forward", "loss", "backward", "penalty", "update")


@dataclass(frozen=True)
class Location:
    """A line of mlplab's source: module, function (qualified), line number and its code."""

    module: str
    function: str
    line: int
    code: str

    @classmethod
    def of_frame(cls, frame: FrameType) -> Location:
        """The line a frame is running, read from the frame itself."""
        code = frame.f_code
        line = frame.f_lineno
        return cls(frame.f_globals.get("__name__", "?"), code.co_qualname, line,
                   linecache.getline(code.co_filename, line).strip())  # fmt: skip

    @classmethod
    def caller(cls, depth: int = 1) -> Location:
        """The line that called the function calling this (``depth`` 1), or further up."""
        return cls.of_frame(sys._getframe(depth + 1))

    @classmethod
    def of_function(cls, fn: Any) -> Location:
        """Where a function is defined (its ``def`` line)."""
        code = fn.__code__
        line = code.co_firstlineno
        return cls(fn.__module__, code.co_qualname, line,
                   linecache.getline(code.co_filename, line).strip())  # fmt: skip

    @classmethod
    def of_statement(cls, fn: Any, pattern: str, last: bool = False) -> Location:
        """The first (or ``last``) line of function ``fn`` matching the regular expression
        ``pattern``, read from its source (its ``def`` line if none matches)."""
        lines, first = inspect.getsourcelines(fn)
        found = [i for i, text in enumerate(lines) if re.search(pattern, text)]
        if not found:
            return cls.of_function(fn)
        i = found[-1] if last else found[0]
        return cls(fn.__module__, fn.__code__.co_qualname, first + i, lines[i].strip())

    def to_dict(self) -> dict[str, Any]:
        return {"module": self.module, "function": self.function, "line": self.line,
                "code": self.code}  # fmt: skip

    def __str__(self) -> str:
        return f"{self.module}:{self.line} in {self.function}"


@dataclass
class Step:
    """One line of a traced epoch, with the values training computed.

    ``name`` is the array the line produces and ``value`` that array; ``inputs`` the
    named arrays it read (``lr`` and the like as 0-d arrays); ``details`` intermediate
    values worth seeing (``z1``, ``y - t``); ``before`` the parameter's value before an
    update (``update`` steps only). ``layer`` counts from 1 (``W1`` is layer 1), ``batch``
    from 0. ``source`` is the line of mlplab that computed it, ``called_from`` the line
    that asked for it.
    """

    index: int
    phase: str
    layer: int | None
    batch: int
    line: str
    name: str
    value: Array
    inputs: dict[str, Array]
    source: Location
    called_from: Location | None = None
    details: dict[str, Array] = field(default_factory=dict)
    before: Array | None = None
    param: str | None = None  # the parameter a gradient, penalty or update step is about

    @property
    def changed(self) -> Array | None:
        """Where an update changed its parameter (a boolean mask), else ``None``."""
        if self.before is None:
            return None
        return self.before != self.value

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-ready values (see ``Trace.to_dict``)."""
        return {
            "index": self.index,
            "phase": self.phase,
            "layer": self.layer,
            "batch": self.batch,
            "line": self.line,
            "name": self.name,
            "param": self.param,
            "value": as_json_value(self.value),
            "shape": list(np.shape(self.value)),
            "inputs": {k: as_json_value(v) for k, v in self.inputs.items()},
            "details": {k: as_json_value(v) for k, v in self.details.items()},
            "before": None if self.before is None else as_json_value(self.before),
            "changed": None if self.before is None else as_json_value(self.changed),
            "source": self.source.to_dict(),
            "called_from": None if self.called_from is None else self.called_from.to_dict(),
        }


def as_json_value(a: Any) -> Any:
    """An array as nested lists (a 0-d one as a number); non-finite numbers become ``None``."""
    a = np.asarray(a)
    if a.dtype == bool:
        return a.tolist()
    values = a.astype(float).tolist()
    return _finite(values)


def _finite(values: Any) -> Any:
    if isinstance(values, list):
        return [_finite(v) for v in values]
    return values if math.isfinite(values) else None
