"""Optimizers: objects that turn gradients into weight updates, holding their own state.

The training loop hands an optimizer the flat list of parameter arrays and the
matching list of gradients; it updates the parameters in place. Nothing here
knows how the gradients were computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from mlplab.checks import number_in, positive_number
from mlplab.errors import ConfigError

Array = np.ndarray

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "get_optimizer",
]


class Optimizer(Protocol):
    """Anything with ``step(params, grads)`` that updates ``params`` in place."""

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None: ...


class SGD:
    """Plain gradient descent, the seed's update::

        W <- W - lr * dW

    With ``lr = 1`` this is the seed's ``W += np.dot(h.T, y_delta)`` exactly.
    """

    def __init__(self, lr: float = 1.0) -> None:
        self.lr = positive_number("learning rate", lr)

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        lr = self.lr
        if lr == 1.0:
            for p, g in zip(params, grads, strict=True):
                p -= g  # the seed's step, bit for bit
            return
        scratch = self._scratch(params)
        for p, g, s in zip(params, grads, scratch, strict=True):
            p -= np.multiply(g, lr, out=s)  # into a kept buffer: no temporaries per step

    def _scratch(self, params: Sequence[Array]) -> list[Array]:
        buffers = getattr(self, "_buffers", None)
        if buffers is None or [b.shape for b in buffers] != [p.shape for p in params]:
            buffers = self._buffers = [np.empty_like(p) for p in params]
        return buffers

    def state_dict(self) -> dict[str, Array]:
        """Plain gradient descent keeps no state."""
        return {}

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Nothing to restore."""

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr})"


def _check_rate(name: str, value: float, *, low: float = 0.0, high: float = 1.0) -> float:
    return number_in(name, value, low, high)


class _Stateful:
    """Shared plumbing: a learning rate and state arrays allocated at the first step.

    ``state_dict()`` returns the state as named arrays plus ``"step"`` (for
    checkpoints); ``load_state_dict`` puts it back.
    """

    slots: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        self.lr = SGD(lr).lr
        self.t = 0
        self.state: dict[str, list[Array]] = {}
        self._scratch: list[Array] = []
        self._loaded = False

    def _ensure_state(self, params: Sequence[Array]) -> None:
        if self._scratch and [s.shape for s in self._scratch] == [p.shape for p in params]:
            return
        if self._loaded:
            raise ConfigError(
                f"the loaded optimizer state has shapes {[s.shape for s in self._scratch]}, "
                f"but the parameters have {[p.shape for p in params]}"
            )
        self.state = {slot: [np.zeros_like(p) for p in params] for slot in self.slots}
        self._scratch = [np.empty_like(p) for p in params]
        self.t = 0

    def state_dict(self) -> dict[str, Array]:
        """The optimizer's state as flat named arrays (``"{slot}.{i}"``) and ``"step"``."""
        out = {
            f"{slot}.{i}": a.copy()
            for slot, arrays in self.state.items()
            for i, a in enumerate(arrays)
        }
        out["step"] = np.array(self.t)
        return out

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Restore what ``state_dict`` returned; the next ``step`` continues from it."""
        restored = {}
        for slot in self.slots:
            arrays = []
            while f"{slot}.{len(arrays)}" in state:
                arrays.append(np.array(state[f"{slot}.{len(arrays)}"], copy=True))
            restored[slot] = arrays
        counts = {len(arrays) for arrays in restored.values()}
        if len(counts) != 1 or not counts.pop():
            raise ConfigError(
                f"optimizer state for {type(self).__name__} needs arrays "
                f"{', '.join(f'{slot}.0, ...' for slot in self.slots)}; got {', '.join(state)}"
            )
        shapes = [[a.shape for a in arrays] for arrays in restored.values()]
        if any(s != shapes[0] for s in shapes):
            raise ConfigError("optimizer state arrays of different slots have different shapes")
        self.state = restored
        self._scratch = [np.empty_like(a) for a in restored[self.slots[0]]]
        self.t = int(state.get("step", 0))
        self._loaded = True

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self._settings().items())
        return f"{type(self).__name__}(lr={self.lr}{extra})"

    def _settings(self) -> dict[str, float]:
        return {}


class Momentum(_Stateful):
    """Gradient descent with (heavy-ball) momentum::

    v <- mu * v - lr * dW
    W <- W + v
    """

    slots = ("velocity",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = _check_rate("momentum", momentum)

    def _settings(self) -> dict[str, float]:
        return {"momentum": self.momentum}

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        self._ensure_state(params)
        self.t += 1
        mu, lr = self.momentum, self.lr
        for p, g, v, s in zip(params, grads, self.state["velocity"], self._scratch, strict=True):
            v *= mu
            v -= np.multiply(g, lr, out=s)
            p += v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the form used by scikit-learn and PyTorch::

    v <- mu * v - lr * dW
    W <- W + mu * v - lr * dW
    """

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        self._ensure_state(params)
        self.t += 1
        mu, lr = self.momentum, self.lr
        for p, g, v, s in zip(params, grads, self.state["velocity"], self._scratch, strict=True):
            np.multiply(g, lr, out=s)  # s = lr * dW
            v *= mu
            v -= s
            p -= s
            np.multiply(v, mu, out=s)
            p += s


class Adam(_Stateful):
    """Adam (Kingma & Ba), with the bias correction folded into the step size::

    m <- b1 m + (1 - b1) dW ;  v <- b2 v + (1 - b2) dW^2
    W <- W - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
    """

    slots = ("m", "v")

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        self.beta1 = _check_rate("beta1", beta1)
        self.beta2 = _check_rate("beta2", beta2)
        positive_number("eps", eps)
        self.eps = float(eps)

    def _settings(self) -> dict[str, float]:
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        self._ensure_state(params)
        self.t += 1
        b1, b2, eps = self.beta1, self.beta2, self.eps
        step_size = self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        state = zip(params, grads, self.state["m"], self.state["v"], self._scratch, strict=True)
        for p, g, m, v, s in state:
            m *= b1
            m += np.multiply(g, 1 - b1, out=s)  # m = b1 m + (1 - b1) dW
            np.multiply(g, g, out=s)
            s *= 1 - b2
            v *= b2
            v += s  # v = b2 v + (1 - b2) dW^2
            np.sqrt(v, out=s)
            s += eps
            np.divide(m, s, out=s)
            s *= step_size
            p -= s


# name -> factory taking the learning rate; the CLI's and scikit-learn shell's choices
OPTIMIZERS: dict[str, type] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adam": Adam,
}


def get_optimizer(optimizer: str | Optimizer | None, lr: float) -> Optimizer:
    """An optimizer object from a name in ``OPTIMIZERS`` (with learning rate ``lr``) or as given."""
    if optimizer is None:
        optimizer = "sgd"
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"unknown optimizer {optimizer!r}; expected one of: {', '.join(OPTIMIZERS)}"
            )
        return OPTIMIZERS[optimizer](lr)
    if not callable(getattr(optimizer, "step", None)):
        raise ConfigError(
            f"optimizer must be a name ({', '.join(OPTIMIZERS)}) or an object with a "
            f"step(params, grads) method, got {optimizer!r}"
        )
    return optimizer
