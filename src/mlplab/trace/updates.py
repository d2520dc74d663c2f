"""Recording the optimizer's update and the penalties' gradients, as steps of their own.

The optimizer's in-place rule (``update_into``) and each penalty are wrapped for the time of a
trace: the wrapper copies the parameters, gradients and state before, calls the real rule,
and copies them after. The lines are the rules' own (``mlplab.train.optimizers``)::

    sgd       W1 -= lr * dW1
    momentum  v_W1 = mu * v_W1 - lr * dW1 ;  W1 += v_W1
    nesterov  v_W1 = mu * v_W1 - lr * dW1 ;  W1 += mu * v_W1 - lr * dW1
    adam      step = lr * sqrt(1 - beta2**k) / (1 - beta1**k)    (the bias correction, k steps)
              m_W1 = beta1 * m_W1 + (1 - beta1) * dW1
              v_W1 = beta2 * v_W1 + (1 - beta2) * dW1**2
              W1 -= step * m_W1 / (sqrt(v_W1) + eps)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mlplab.trace.record import Recorder
from mlplab.trace.steps import Location
from mlplab.train.optimizers import SGD, Adam, Momentum, Nesterov
from mlplab.train.regularization import L1, L2, Regularizer

Array = np.ndarray

__all__ = ["RecordingPenalty", "recording_step", "recording_update"]


def _copies(arrays: Sequence[Any]) -> list[Array]:
    return [np.array(a, copy=True) for a in arrays]


def _layer(name: str) -> int | None:
    digits = name.lstrip("Wb")
    return int(digits) if digits.isdigit() else None


class _Update:
    """The values around one call of an update rule."""

    def __init__(self, names: list[str], params: Sequence[Array], grads: Sequence[Array],
                 slots: Sequence[Sequence[Array]]) -> None:  # fmt: skip
        self.names = names
        self.before, self.grads = _copies(params), _copies(grads)
        self.slots_before = [_copies(s) for s in slots]
        self.after: list[Array] = []
        self.slots_after: list[list[Array]] = []


def recording_update(optimizer: SGD, names: dict[int, str], rec: Recorder) -> Callable:
    """``optimizer``'s ``update_into`` recording each parameter's update (see the module)."""
    real = type(optimizer).update_into

    def update_into(params: Sequence[Array], grads: Sequence[Array], slots: Any, lr: Any,
                    count: int, scratch: Any, **settings: Any) -> None:  # fmt: skip
        if not rec.active:
            return real(params, grads, slots, lr, count, scratch, **settings)
        asked = Location.caller()
        u = _Update([names.get(id(p), f"p{j}") for j, p in enumerate(params)], params, grads,
                    slots)  # fmt: skip
        real(params, grads, slots, lr, count, scratch, **settings)
        u.after, u.slots_after = _copies(params), [_copies(s) for s in slots]
        seed_step = not slots and lr.__class__ is float and lr == 1.0  # SGD's first branch

        def where(pattern: str) -> tuple[Location, Location]:
            """The rule's line matching ``pattern`` (the last; SGD's seed step: the first)."""
            return Location.of_statement(real, pattern, last=not seed_step), asked

        _record(real, u, lr, count, settings, rec, where)
        return None

    return update_into


def _record(rule: Any, u: _Update, lr: Any, count: int, settings: dict, rec: Recorder,
            where: Callable[[str], tuple[Location, Location]]) -> None:  # fmt: skip
    lr_ = np.asarray(lr)
    if rule is Adam.update_into:
        b1, b2 = settings["beta1"], settings["beta2"]
        step = lr * np.sqrt(1 - b2**count) / (1 - b1**count)  # the rule's own expression
        inputs = {"lr": lr_, "k": np.asarray(count), "beta1": np.asarray(b1),
                  "beta2": np.asarray(b2)}  # fmt: skip
        rec.add("update", None, "step = lr * sqrt(1 - beta2**k) / (1 - beta1**k)", "step", step,
                inputs, *where(r"step_size ="))  # fmt: skip
    for j, P in enumerate(u.names):
        if rule is Momentum.update_into or rule is Nesterov.update_into:
            line, inputs = _momentum(rule, u, j, lr_, settings, rec, where)
        elif rule is Adam.update_into:
            line, inputs = _adam(u, j, settings, rec, where)
        else:  # plain gradient descent, the seed's (a subclass's own rule: the same line)
            line, inputs = f"{P} -= lr * d{P}", {P: u.before[j], f"d{P}": u.grads[j], "lr": lr_}
        rec.add("update", _layer(P), line, P, u.after[j], inputs, *where(r"\bp [-+]="),
                before=u.before[j], param=P)  # fmt: skip


def _momentum(rule: Any, u: _Update, j: int, lr: Array, settings: dict, rec: Recorder,
              where: Callable) -> tuple[str, dict[str, Array]]:  # fmt: skip
    """Record ``v_W1 = mu * v_W1 - lr * dW1``; the parameter's line and inputs."""
    P, g = u.names[j], u.grads[j]
    mu = np.asarray(settings["momentum"])
    v0, v1 = u.slots_before[0][j], u.slots_after[0][j]
    rec.add("update", _layer(P), f"v_{P} = mu * v_{P} - lr * d{P}", f"v_{P}", v1,
            {f"v_{P}": v0, f"d{P}": g, "mu": mu, "lr": lr}, *where(r"\bv -="),
            param=P)  # fmt: skip
    if rule is Momentum.update_into:
        return f"{P} += v_{P}", {P: u.before[j], f"v_{P}": v1}
    return f"{P} += mu * v_{P} - lr * d{P}", {P: u.before[j], f"v_{P}": v1, f"d{P}": g,
                                              "mu": mu, "lr": lr}  # fmt: skip


def _adam(u: _Update, j: int, settings: dict, rec: Recorder,
          where: Callable) -> tuple[str, dict[str, Array]]:  # fmt: skip
    """Record Adam's moments of parameter ``j``; the parameter's line and inputs."""
    P, g, layer = u.names[j], u.grads[j], _layer(u.names[j])
    m1, v1 = u.slots_after[0][j], u.slots_after[1][j]
    rec.add("update", layer, f"m_{P} = beta1 * m_{P} + (1 - beta1) * d{P}", f"m_{P}", m1,
            {f"m_{P}": u.slots_before[0][j], f"d{P}": g, "beta1": np.asarray(settings["beta1"])},
            *where(r"\bm \+="), param=P)  # fmt: skip
    rec.add("update", layer, f"v_{P} = beta2 * v_{P} + (1 - beta2) * d{P}**2", f"v_{P}", v1,
            {f"v_{P}": u.slots_before[1][j], f"d{P}": g, "beta2": np.asarray(settings["beta2"])},
            *where(r"\bv \+="), param=P)  # fmt: skip
    inputs = {P: u.before[j], f"m_{P}": m1, f"v_{P}": v1, "eps": np.asarray(settings["eps"])}
    return f"{P} -= step * m_{P} / (sqrt(v_{P}) + eps)", inputs


def recording_step(optimizer: Any, names: dict[int, str], rec: Recorder) -> Callable:
    """A user's optimizer's ``step``, recording each parameter before and after."""
    real = optimizer.step

    def step(params: Sequence[Array], grads: Sequence[Array]) -> None:
        if not rec.active:
            return real(params, grads)
        asked = Location.caller()
        u = _Update([names.get(id(p), f"p{j}") for j, p in enumerate(params)], params, grads,
                    ())  # fmt: skip
        real(params, grads)
        source = Location.of_function(getattr(real, "__func__", real))
        for j, P in enumerate(u.names):
            rec.add("update", _layer(P), f"{P} = {type(optimizer).__name__}.step({P}, d{P})",
                    P, params[j], {P: u.before[j], f"d{P}": u.grads[j]}, source,
                    called_from=asked, before=u.before[j], param=P)  # fmt: skip
        return None

    return step


class RecordingPenalty(Regularizer):
    """A penalty that records, per weight matrix, ``dW1 += a * W1`` (L2) or ``* sign(W1)``."""

    def __init__(self, inner: Regularizer, rec: Recorder, names: list[str]) -> None:
        self.inner, self.rec, self.names = inner, rec, names
        self.alpha, self.name = inner.alpha, inner.name
        self.penalty = inner.penalty

    def __call__(self, weights: Sequence[Array], grads: Sequence[Array], scale: float) -> Any:
        if not self.rec.active:
            return self.inner(weights, grads, scale)
        before = _copies(grads)
        value = self.inner(weights, grads, scale)
        asked = Location.caller()
        source = Location.of_statement(type(self.inner).__call__, r"\bdW [-+]=")
        term = {L2: "W{i}", L1: "sign(W{i})"}.get(type(self.inner), "penalty'(W{i})")
        a = np.asarray(self.alpha * scale)
        for j, (W, dW) in enumerate(zip(weights, grads, strict=True)):
            i = _layer(self.names[j]) or j + 1
            self.rec.add("penalty", i, f"dW{i} += a * {term.format(i=i)}", f"dW{i}", dW,
                         {f"dW{i}": before[j], f"W{i}": np.array(W, copy=True), "a": a},
                         source, called_from=asked, param=f"W{i}")  # fmt: skip
        return value

    def rule(self) -> Any:
        return self.inner.rule()

    def __repr__(self) -> str:
        return repr(self.inner)
