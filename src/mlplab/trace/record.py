"""Recording one epoch from inside the real training passes.

For the time of a trace, each layer's ``ops`` (``mlplab.nn.layer``'s ``_Buffered``, where a
layer writes its results) is wrapped by a ``RecordingOps`` that calls it, then copies what it
read and wrote (the buffers are reused, so a copy is taken as each result is produced); the
network's ``objective``, the optimizer's ``update_into`` and the penalties are wrapped the
same way. Nothing is computed beside training: every value is one that ``fit`` computed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.trace import notation
from mlplab.trace.steps import Location, Step

if TYPE_CHECKING:
    from mlplab.nn.layer import Dense
    from mlplab.nn.network import MLP

Array = np.ndarray

__all__ = ["Recorder", "RecordingObjective", "RecordingOps"]


def _copy(a: Any) -> Array:
    return np.array(a, copy=True)


class Recorder:
    """The steps of one epoch, as the wrapped operations report them."""

    def __init__(self, net: MLP) -> None:
        self.net = net
        self.layers = len(net.layers)
        self.steps: list[Step] = []
        self.active = False  # on between the callbacks' train_begin and the epoch's end
        self.batch = -1  # the batch under way: one more at each first layer's forward pass
        self.in_objective: list[tuple] | None = None  # what ops did inside the objective
        self.grad_x: tuple | None = None  # (delta, W, delta @ W.T, where) of the layer above

    def add(self, phase: str, layer: int | None, line: str, name: str, value: Any,
            inputs: dict[str, Any], source: Location, called_from: Location | None = None,
            **more: Any) -> Step:  # fmt: skip
        step = Step(len(self.steps), phase, layer, self.batch, line, name, _copy(value),
                    inputs, source, called_from, **more)  # fmt: skip
        self.steps.append(step)
        return step


class RecordingOps:
    """A layer's ``_Buffered`` ops that also record each result (see the module)."""

    buffered = True
    xp = np

    def __init__(self, inner: Any, layer: Dense, index: int, recorder: Recorder) -> None:
        self.inner, self.layer, self.index, self.rec = inner, layer, index, recorder
        self.activation = inner.activation
        self._z: tuple | None = None  # (x, W, b, z) of the forward pass under way

    # the layer sets its product per input shape (Dense._allocate): kept in step with inner
    @property
    def product(self) -> Any:
        return self._product

    @product.setter
    def product(self, fn: Any) -> None:
        self.inner.product = fn

    def allocate(self, layer: Dense, x: Array) -> None:
        layer._allocate(x)

    def _product(self, a: Array, b: Array, out: Array | None) -> Array:
        result = self.inner.product(a, b, out)
        if not self.rec.active:
            return result
        layer, i = self.layer, self.index
        if out is layer._z:  # z = x @ W
            self.rec.batch += i == 1
            self._z = (_copy(a), _copy(b), None, _copy(result))
        elif out is layer.grad.get("W"):  # dW = x.T @ delta
            x_name = notation.input_name(i)
            self.rec.add("backward", i, f"dW{i} = {x_name}.T @ delta{i}", f"dW{i}", result,
                         {x_name: _copy(a.mT), f"delta{i}": _copy(b)}, Location.caller(),
                         called_from=Location.caller(2), param=f"W{i}")  # fmt: skip
        else:  # dL/dx = delta @ W.T, the layer below's delta's first factor
            self.rec.grad_x = (_copy(a), _copy(b.mT), _copy(result), Location.caller())
        return result

    def add(self, a: Array, b: Array, out: Array) -> Array:
        result = self.inner.add(a, b, out)
        if self.rec.active and self._z is not None:
            x, W, _, _ = self._z
            self._z = (x, W, _copy(self.layer.param["b"]), _copy(result))
        return result

    def act(self, z: Array, out: Array) -> Array:
        z_before = _copy(z) if self.rec.active else None
        h = self.inner.act(z, out)
        if z_before is None or self._z is None:
            return h
        x, W, b, _ = self._z
        i, L = self.index, self.rec.layers
        inputs = {notation.input_name(i): x, f"W{i}": W}
        if b is not None:
            inputs[f"b{i}"] = b
        line = notation.activation_line(self.activation.name, i, L, b is not None)
        self.rec.add("forward", i, line, notation.output_name(i, L), h, inputs,
                     Location.caller(), called_from=Location.caller(2),
                     details={f"z{i}": z_before})  # fmt: skip
        self._z = None
        return h

    def sum_rows(self, a: Array, out: Array) -> Array:
        result = self.inner.sum_rows(a, out)
        if self.rec.active:
            i = self.index
            self.rec.add("backward", i, f"db{i} = delta{i} summed over rows", f"db{i}", result,
                         {f"delta{i}": _copy(a)}, Location.caller(),
                         called_from=Location.caller(2), param=f"b{i}")  # fmt: skip
        return result

    def divide(self, a: Array, n: Any) -> Array:
        result = self.inner.divide(a, n)
        if self.rec.active and self.rec.in_objective is not None:
            self.rec.in_objective.append(("divide", _copy(n), Location.caller()))
        return result

    def act_delta(self, grad_h: Array, h: Array, z: Array | None, scratch: Array) -> Array:
        before = _copy(grad_h) if self.rec.active else None
        delta = self.inner.act_delta(grad_h, h, z, scratch)
        if before is None:
            return delta
        if self.rec.in_objective is not None:  # the output layer's (y - t) * act'(y)
            self.rec.in_objective.append(("act_delta", before, Location.caller(2)))
            return delta
        self._hidden_delta(before, h, delta, Location.caller(2), Location.caller(3))
        return delta

    def _hidden_delta(self, grad_h: Array, h: Array, delta: Array, where: Location,
                      asked: Location) -> None:  # fmt: skip
        """``delta_i = (delta_{i+1} @ W_{i+1}.T) * act'(h_i)``: the seed's ``h_delta``."""
        i = self.index
        above = i + 1
        h_name = notation.output_name(i, self.rec.layers)
        act = notation.derivative(self.activation.name, h_name, i)
        inputs = {h_name: _copy(h)}
        if self.rec.grad_x is not None:
            d, W, _, _ = self.rec.grad_x
            inputs = {f"delta{above}": d, f"W{above}": W, **inputs}
        self.rec.add("backward", i, f"delta{i} = (delta{above} @ W{above}.T) * {act}",
                     f"delta{i}", delta, inputs, where, called_from=asked,
                     details={f"delta{above} @ W{above}.T": grad_h})  # fmt: skip


class RecordingObjective:
    """The network's ``Objective`` that records the loss and the output layer's delta."""

    def __init__(self, inner: Any, recorder: Recorder) -> None:
        self.inner, self.rec = inner, recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __call__(self, output: Dense, t: Array, weight: Array | None = None) -> tuple[Any, Any]:
        rec = self.rec
        if not rec.active:
            return self.inner(output, t, weight)
        where = Location.caller()
        y = _copy(output.h)
        rec.in_objective = parts = []
        try:
            loss, delta = self.inner(output, t, weight)
        finally:
            rec.in_objective = None
        self._record(where, y, _copy(t), weight, parts, loss, delta)
        return loss, delta

    def _record(self, where: Location, y: Array, t: Array, weight: Any, parts: list,
                loss: Any, delta: Any) -> None:  # fmt: skip
        inner, rec = self.inner, self.rec
        L = rec.layers
        mean = inner.reduction == "mean"
        inputs = {"y": y, "t": t}
        if weight is not None:
            inputs["w"] = _copy(weight)
        formula = inner.loss.formula + (" / n" if mean else "")
        rec.add("loss", L, formula, "L", loss, dict(inputs), where)
        source = next((w for kind, _, w in parts if kind == "act_delta"), None)
        details = {}
        for kind, value, _ in parts:
            details["y - t" if kind == "act_delta" else "n"] = value
        line = notation.output_delta_line(inner.activation.name, inner.cancels, L, mean,
                                          weight is not None)  # fmt: skip
        rec.add("backward", L, line, f"delta{L}", delta, dict(inputs), source or where,
                called_from=where if source else None, details=details)  # fmt: skip
