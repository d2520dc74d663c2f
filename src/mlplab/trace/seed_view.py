"""A trace in the seed's own notation and sign convention: what ``mlplab explain`` shows.

The seed names the hidden output ``h`` (``h1``, ``h2``, ... when there are several), keeps
``y_delta = (t - y) * (y * (1 - y))``, which is ``-dL/dz``, and steps ``W2 += np.dot(h.T,
y_delta)``. mlplab's ``delta`` is ``dL/dz``, so ``delta = -y_delta`` (a sign flip, exact),
and its update ``W -= lr * dW`` with ``dW = h.T @ delta`` is the seed's ``W +=`` with
``lr = 1``, bit for bit. Each ``SeedLine`` holds the seed's line, the arrays it computes
(in the seed's signs), the mlplab steps that computed them and how the two relate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.nn.losses import LOSSES

if TYPE_CHECKING:
    from mlplab.trace.result import Trace
    from mlplab.trace.steps import Step

Array = np.ndarray

__all__ = ["SeedLine", "seed_lines"]

# the activation as the seed would write it, around the product
FORWARD = {"sigmoid": "1 / (1 + np.exp(-({})))", "tanh": "np.tanh({})", "relu": "np.maximum({}, 0)",
           "identity": "{}", "exp": "np.exp({})"}  # fmt: skip
# its derivative from the output, the seed's h*(1-h)
SLOPE = {"sigmoid": "{h} * (1 - {h})", "tanh": "1 - {h}**2", "relu": "{h} > 0", "identity": "1",
         "exp": "{h}"}  # fmt: skip
SEED_LINE_NUMBERS = {"h": 6, "y": 7, "y_delta": 8, "h_delta": 9, "W2": 10, "W1": 11}


@dataclass
class SeedLine:
    """One line of the seed's loop: its code, its arrays (seed signs), mlplab's steps."""

    code: str
    arrays: list[tuple[str, Array]]
    steps: list[Step]
    relation: str
    number: int | None = None  # the line of the seed's 11, for the seed's own network
    mlplab_only: bool = False  # the seed has no such line: mlplab's steps are shown in full


class _Names:
    """The seed's names for a network of ``layers`` layers: ``h`` (one hidden) or ``h1``..."""

    def __init__(self, layers: int) -> None:
        self.layers = layers

    def out(self, i: int) -> str:
        if i == self.layers:
            return "y"
        return "h" if self.layers == 2 else f"h{i}"

    def inp(self, i: int) -> str:
        return "X" if i == 1 else self.out(i - 1)


def _product(a: str, b: str) -> str:
    return f"np.dot({a}, {b})"


def _forward(trace: Trace, names: _Names, i: int, net: dict) -> SeedLine:
    step = trace.step(f"h{i}" if i < names.layers else "y")
    act = net["activation"] if i < names.layers else net["output_activation"]
    inner = _product(names.inp(i), f"W{i}") + (f" + b{i}" if net["bias"] else "")
    code = f"{names.out(i)} = {FORWARD.get(act, act + '({})').format(inner)}"
    same = "" if names.out(i) == step.name else f" (mlplab calls {names.out(i)} {step.name})"
    return SeedLine(code, [(names.out(i), step.value)], [step],
                    f"the same array{same}, bit for bit")  # fmt: skip


def _output_delta(trace: Trace, names: _Names, net: dict) -> SeedLine:
    L = names.layers
    step = trace.step(f"delta{L}")
    act = net["output_activation"]
    cancels = LOSSES[net["loss"]].cancels == act  # delta = y - t: no derivative left
    slope = SLOPE.get(act, act + "'({h})").format(h="y")
    rhs = "t - y" if cancels else f"(t - y) * ({slope})"
    if net["reduction"] == "mean":
        rhs = f"({rhs}) / n"
    relation = f"delta{L} = -y_delta: mlplab's delta is dL/dz; the seed keeps its negative"
    return SeedLine(f"y_delta = {rhs}", [("y_delta", -step.value)], [step], relation)


def _hidden_delta(trace: Trace, names: _Names, i: int, net: dict) -> SeedLine:
    step = trace.step(f"delta{i}")
    h = names.out(i)
    above = "y" if i + 1 == names.layers else names.out(i + 1)
    slope = SLOPE.get(net["activation"], net["activation"] + "'({h})").format(h=h)
    code = f"{h}_delta = {_product(f'{above}_delta', f'W{i + 1}.T')} * ({slope})"
    return SeedLine(code, [(f"{h}_delta", -step.value)], [step],
                    f"delta{i} = -{h}_delta, as for y_delta")  # fmt: skip


def _update(trace: Trace, names: _Names, i: int, param: str) -> SeedLine:
    grad = next(s for s in trace.batch(0) if s.name == f"d{param}{i}" and s.phase == "backward")
    updates = [s for s in trace.batch(0) if s.param == f"{param}{i}" and s.phase != "backward"]
    delta = f"{names.out(i)}_delta"
    increment = (_product(f"{names.inp(i)}.T", delta) if param == "W"
                 else f"{delta}.sum(axis=0)")  # fmt: skip
    final = updates[-1]
    sgd = final.line == f"{param}{i} -= lr * d{param}{i}" and len(updates) == 1
    lr = float(final.inputs["lr"]) if sgd and np.ndim(final.inputs["lr"]) == 0 else None
    if lr is None:
        code = f"{param}{i} += {increment}"
        relation = "the seed's step with lr = 1; mlplab's optimizer or penalty steps instead:"
    else:
        code = f"{param}{i} += {'' if lr == 1 else f'{lr:g} * '}{increment}"
        relation = (
            f"{param}{i} -= lr * d{param}{i} with lr = {lr:g} is the seed's {param}{i} += "
            f"{'' if lr == 1 else 'lr * '}{increment}: the same {param}{i}, bit for bit"
        )
    arrays = [(increment, -grad.value), (f"{param}{i} (after)", final.value)]
    return SeedLine(code, arrays, [grad, *updates], relation, mlplab_only=lr is None)


def seed_lines(trace: Trace) -> list[SeedLine]:
    """The seed's loop for the traced network, line by line, from batch 0 of ``trace``."""
    net = trace.network
    names = _Names(len(net["sizes"]) - 1)
    L = names.layers
    lines = [_forward(trace, names, i, net) for i in range(1, L + 1)]
    lines.append(_output_delta(trace, names, net))
    lines += [_hidden_delta(trace, names, i, net) for i in range(L - 1, 0, -1)]
    for step in trace.batch(0):  # Adam's bias correction: a step of no parameter
        if step.phase == "update" and step.param is None:
            lines.append(SeedLine("(no seed line: the optimizer's step size)", [], [step], "",
                                  mlplab_only=True))  # fmt: skip
    for i in range(L, 0, -1):
        lines.append(_update(trace, names, i, "W"))
        if net["bias"]:
            lines.append(_update(trace, names, i, "b"))
    if _is_the_seed(trace):
        for line in lines:
            line.number = SEED_LINE_NUMBERS.get(line.code.split(" ")[0])
    return lines


def _is_the_seed(trace: Trace) -> bool:
    net: dict[str, Any] = trace.network
    return (len(net["sizes"]) == 3 and not net["bias"] and net["activation"] == "sigmoid"
            and net["output_activation"] == "sigmoid")  # fmt: skip
