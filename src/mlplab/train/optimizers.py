"""Optimizers: the update rules written once, and the objects that hold their state and rate.

Each rule is a pure function over an array module ``xp`` (``numpy``, or ``jax.numpy`` in
the compiled engine), in optax's shape: ``init`` makes the state (zeros per slot) and
``update(params, grads, slots, lr, count, xp=...) -> (params, slots)`` gives the new values::

    sgd        W <- W - lr * dW                      (the seed's step with lr = 1)
    momentum   v <- mu v - lr dW ;  W <- W + v
    nesterov   v <- mu v - lr dW ;  W <- W + mu v - lr dW
    adam       m <- b1 m + (1 - b1) dW ;  v <- b2 v + (1 - b2) dW^2
               W <- W - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

Beside each, its ``*_into`` form does the same operations in place into kept buffers: the
NumPy engine's measured optimisation (a training loop then allocates nothing), tested equal
to the plain form bit for bit. The compiled engine runs the plain form (``Optimizer.rule()``).

Every setting (the rate, momentum, Adam's betas) is one number or, for a stack of K
networks, an array of K: network ``i`` then trains with entry ``i``, as if alone. The NumPy
objects broadcast such an array along each parameter's leading stack axis (``along_stack``);
the compiled engine passes them to the rule as vmapped inputs (``per_network_settings``),
so one compiled program serves every grid of values of the same shape.

The learning rate lives here, in the optimizer object, and only this module writes it:
``lr`` is read-only; a schedule (``use_schedule``) sets it at the start of each epoch
(``start_epoch``, or ``rates`` for a compiled block of epochs), and a schedule that reads the
loss (``Adaptive``) lowers it through ``read_loss`` / ``lower_rate``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from mlplab.checks import number_in, per_network, positive_number
from mlplab.errors import ConfigError

Array = np.ndarray
Params = Sequence[Any]
Slots = tuple[tuple[Any, ...], ...]

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "Rule",
    "get_optimizer",
]


class Optimizer(Protocol):
    """Anything with ``step(params, grads)`` that updates ``params`` in place."""

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None: ...


@dataclass(frozen=True)
class Rule:
    """A pure rule (an update or a penalty) with its settings bound.

    It compares by value, so one compiled program serves every optimizer of the same kind
    and settings; ``slots`` names the state arrays an update keeps per parameter.
    """

    fn: Callable[..., Any]
    settings: tuple[tuple[str, float], ...] = ()
    slots: tuple[str, ...] = ()
    per_network: tuple[str, ...] = ()  # settings given at each call, one value per network

    def __call__(self, *args: Any, xp: Any = np, **per_network: Any) -> Any:
        return self.fn(*args, xp=xp, **dict(self.settings), **per_network)

    def init(self, params: Params, xp: Any = np) -> Slots:
        """The state before the first step: zeros like every parameter, per slot."""
        return tuple(tuple(xp.zeros_like(p) for p in params) for _ in self.slots)


def _rate(lr: Any, like: Any) -> Any:
    """``lr`` in the dtype of ``like``: a Python float is cast so by NumPy itself."""
    return lr if isinstance(lr, float | int) else lr.astype(like.dtype)


def along_stack(value: Any, like: Array) -> Any:
    """A per-network array of K shaped ``(K, 1, ...)`` to broadcast over a stack's parameter
    ``like`` (``(K, ...)``, whichever its memory layout); a single number as it is."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value.reshape(value.shape[0], *(1,) * (like.ndim - 1))
    return value


def split_settings(settings: dict[str, Any]) -> tuple[tuple, tuple[str, ...], dict[str, Any]]:
    """``(fixed, names, arrays)``: the single-valued settings (sorted pairs) and the
    per-network ones."""
    arrays = {k: v for k, v in settings.items() if isinstance(v, np.ndarray)}
    fixed = tuple(sorted((k, v) for k, v in settings.items() if k not in arrays))
    return fixed, tuple(sorted(arrays)), arrays


# --- the rules, once, for any array module xp ------------------------------------------


def sgd_update(params: Params, grads: Params, slots: Slots, lr: Any, count: Any,
               xp: Any = np) -> tuple[list, Slots]:  # fmt: skip
    """``W <- W - lr * dW``; with ``lr = 1`` the seed's ``W += np.dot(h.T, y_delta)``."""
    return [p - g * _rate(lr, g) for p, g in zip(params, grads, strict=True)], slots


def momentum_update(params: Params, grads: Params, slots: Slots, lr: Any, count: Any,
                    xp: Any = np, *, momentum: float) -> tuple[list, Slots]:  # fmt: skip
    """Heavy-ball momentum: ``v <- mu v - lr dW``, ``W <- W + v``."""
    new_p, new_v = [], []
    for p, g, v in zip(params, grads, slots[0], strict=True):
        v = v * _rate(momentum, v) - g * _rate(lr, g)
        new_p.append(p + v)
        new_v.append(v)
    return new_p, (tuple(new_v),)


def nesterov_update(params: Params, grads: Params, slots: Slots, lr: Any, count: Any,
                    xp: Any = np, *, momentum: float) -> tuple[list, Slots]:  # fmt: skip
    """Nesterov (scikit-learn's and PyTorch's form): ``v <- mu v - lr dW``,
    ``W <- W + mu v - lr dW``."""
    new_p, new_v = [], []
    for p, g, v in zip(params, grads, slots[0], strict=True):
        s = g * _rate(lr, g)
        mu = _rate(momentum, v)
        v = v * mu - s
        new_p.append(p - s + v * mu)
        new_v.append(v)
    return new_p, (tuple(new_v),)


def adam_update(params: Params, grads: Params, slots: Slots, lr: Any, count: Any,
                xp: Any = np, *, beta1: float, beta2: float,
                eps: float) -> tuple[list, Slots]:  # fmt: skip
    """Adam, its bias correction folded into the step size (computed in float64, then
    applied in the parameters' dtype: a float32 network's update stays float32)."""
    step_size = lr * xp.sqrt(1 - beta2**count) / (1 - beta1**count)
    new_p, new_m, new_v = [], [], []
    for p, g, m, v in zip(params, grads, slots[0], slots[1], strict=True):
        m = m * _rate(beta1, m) + g * _rate(1 - beta1, g)
        v = v * _rate(beta2, v) + (g * g) * _rate(1 - beta2, g)
        new_p.append(p - m / (xp.sqrt(v) + eps) * xp.asarray(step_size, dtype=p.dtype))
        new_m.append(m)
        new_v.append(v)
    return new_p, (tuple(new_m), tuple(new_v))


# --- the same, in place into kept buffers (the NumPy engine's) --------------------------


def _sgd_into(params: Params, grads: Params, slots: Slots, lr: Any, count: int,
              scratch: Params) -> None:  # fmt: skip
    if lr.__class__ is float and lr == 1.0:
        for p, g in zip(params, grads, strict=True):
            p -= g  # the seed's step, bit for bit (times 1 changes nothing: one call saved)
        return
    for p, g, s in zip(params, grads, scratch, strict=True):
        p -= np.multiply(g, lr, out=s)


def _momentum_into(params: Params, grads: Params, slots: Slots, lr: Any, count: int,
                   scratch: Params, *, momentum: float) -> None:  # fmt: skip
    for p, g, v, s in zip(params, grads, slots[0], scratch, strict=True):
        v *= momentum
        v -= np.multiply(g, lr, out=s)
        p += v


def _nesterov_into(params: Params, grads: Params, slots: Slots, lr: Any, count: int,
                   scratch: Params, *, momentum: float) -> None:  # fmt: skip
    for p, g, v, s in zip(params, grads, slots[0], scratch, strict=True):
        np.multiply(g, lr, out=s)  # s = lr * dW
        v *= momentum
        v -= s
        p -= s
        np.multiply(v, momentum, out=s)
        p += s


def _adam_into(params: Params, grads: Params, slots: Slots, lr: Any, count: int,
               scratch: Params, *, beta1: float, beta2: float, eps: float) -> None:  # fmt: skip
    step_size = lr * np.sqrt(1 - beta2**count) / (1 - beta1**count)
    for p, g, m, v, s in zip(params, grads, slots[0], slots[1], scratch, strict=True):
        m *= beta1
        m += np.multiply(g, 1 - beta1, out=s)  # m = b1 m + (1 - b1) dW
        np.multiply(g, g, out=s)
        s *= 1 - beta2
        v *= beta2
        v += s  # v = b2 v + (1 - b2) dW^2
        np.sqrt(v, out=s)
        s += eps
        np.divide(m, s, out=s)
        s *= np.asarray(step_size, dtype=s.dtype)  # in the parameters' dtype
        p -= s


# --- the objects: a rule, its state and the learning rate -------------------------------


class SGD:
    """Plain gradient descent, the seed's update::

        W <- W - lr * dW

    With ``lr = 1`` this is the seed's ``W += np.dot(h.T, y_delta)`` exactly. The rate is
    read-only (``lr``); a schedule given with ``use_schedule`` moves it, epoch by epoch.
    """

    slots: tuple[str, ...] = ()
    update = staticmethod(sgd_update)  # the rule, any xp
    update_into = staticmethod(_sgd_into)  # the same in place, NumPy

    def __init__(self, lr: Any = 1.0) -> None:
        self.initial_lr = per_network("learning rate", lr, positive_number)
        self._lr: Any = self.initial_lr
        self._next_lr: Any = self.initial_lr  # a loss-reading schedule's, from the next epoch
        self.schedule: Any = None
        self.t = 0  # steps taken (Adam's bias correction reads it)
        self.state: dict[str, list[Array]] = {}
        self._scratch: list[Array] = []
        self._loaded = False
        self._per_network: bool | None = None  # whether a setting is one value per network

    # --- the learning rate: read here, written only by the methods below ----------------

    @property
    def lr(self) -> Any:
        """The learning rate of the current epoch."""
        return self._lr

    def use_schedule(self, schedule: Any) -> None:
        """Let ``schedule`` (``(epoch, initial_lr) -> lr``, or ``None``) set the rate from now."""
        self.schedule = schedule

    def start_epoch(self, epoch: int) -> None:
        """Set the rate of ``epoch`` (from 0) by the schedule; a new run (epoch 0) of a
        schedule that reads the loss starts again from the initial rate."""
        schedule = self.schedule
        if schedule is None:
            return
        if getattr(schedule, "reads_loss", False):  # the rate read_loss chose for this epoch
            if epoch == 0:
                schedule.reset()
                self._next_lr = self.initial_lr
            self._lr = self._next_lr
            return
        self._lr = schedule(epoch, self.initial_lr)

    def rates(self, first: int, stop: int) -> np.ndarray:
        """The rates of epochs ``[first, stop)`` as ``start_epoch`` sets them (float64), for an
        engine that runs them as one block; the rate is left at the last, as after them."""
        if self.schedule is None:  # one rate throughout (60000 epochs: 6 ms saved)
            return np.full((stop - first, *np.shape(self._lr)), self._lr, dtype=np.float64)
        rates = np.empty((stop - first, *np.shape(self.initial_lr)))
        for i, epoch in enumerate(range(first, stop)):
            self.start_epoch(epoch)
            rates[i] = self._lr
        return rates

    def read_loss(self, loss: float) -> bool:
        """Give a loss-reading schedule (``Adaptive``) an epoch's training loss; it may lower
        the rate from the next epoch on. ``True`` means stop: the rate cannot go lower."""
        self._next_lr, stop = self.schedule.update(loss, self._next_lr)
        return stop

    def lower_rate(self, schedule: Any) -> bool:
        """Lower the rate once by ``schedule``'s rule (``Adaptive.lower``); ``True`` if it is
        already at its floor (then it stays)."""
        self._lr, floor = schedule.lower(self._lr)
        return floor

    # --- the rule ------------------------------------------------------------------------

    def rule(self) -> Rule:
        """The update as a pure, comparable rule (what a compiled engine runs)."""
        fixed, names, _ = split_settings(self._settings())
        return Rule(type(self).update, fixed, self.slots, names)

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        """Update ``params`` in place from ``grads`` (the rule's in-place form)."""
        lr = self._lr
        if lr.__class__ is float and lr == 1.0 and not self.slots:
            self.update_into(params, grads, (), lr, 0, ())  # the seed's step: nothing to keep
            return
        self._ensure_state(params)
        self.t += 1
        slots = tuple(self.state[name] for name in self.slots)
        if self._per_network is None:  # looked up once: the hot path stays as it was
            self._per_network = self.networks is not None
        if self._per_network:
            self._step_per_network(params, grads, slots, self._settings())
            return
        self.update_into(params, grads, slots, lr, self.t, self._scratch, **self._settings())

    def _step_per_network(self, params: Sequence[Array], grads: Sequence[Array], slots: Slots,
                          settings: dict[str, Any]) -> None:  # fmt: skip
        """The step with settings of one value per network, each parameter in turn, the
        values broadcast along its stack axis."""
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            shaped = {k: along_stack(v, p) for k, v in settings.items()}
            own = tuple((slot[i],) for slot in slots)
            self.update_into([p], [g], own, along_stack(self._lr, p), self.t,
                             [self._scratch[i]], **shaped)  # fmt: skip

    def _settings(self) -> dict[str, Any]:
        return {}

    def per_network_settings(self) -> dict[str, Array]:
        """The settings given one value per network (the rate aside), by name."""
        return split_settings(self._settings())[2]

    @property
    def networks(self) -> int | None:
        """How many networks the per-network settings are for (``None``: single values)."""
        sizes = {len(v) for v in (self.initial_lr, *self._settings().values())
                 if isinstance(v, np.ndarray)}  # fmt: skip
        if len(sizes) > 1:
            raise ConfigError(f"{self!r}: per-network settings of different lengths {sizes}")
        return sizes.pop() if sizes else None

    # --- state ---------------------------------------------------------------------------

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
        """The optimizer's state as flat named arrays (``"{slot}.{i}"``) and ``"step"``;
        plain gradient descent keeps none."""
        if not self.slots:
            return {}
        out = {
            f"{slot}.{i}": a.copy()
            for slot, arrays in self.state.items()
            for i, a in enumerate(arrays)
        }
        out["step"] = np.array(self.t)
        return out

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Restore what ``state_dict`` returned; the next ``step`` continues from it."""
        if not self.slots:
            return
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


def _check_rate(name: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> Any:
    return per_network(name, value, lambda n, v: number_in(n, v, low, high))


class Momentum(SGD):
    """Gradient descent with (heavy-ball) momentum::

    v <- mu * v - lr * dW
    W <- W + v
    """

    slots = ("velocity",)
    update = staticmethod(momentum_update)
    update_into = staticmethod(_momentum_into)

    def __init__(self, lr: Any = 0.01, momentum: Any = 0.9) -> None:
        super().__init__(lr)
        self.momentum = _check_rate("momentum", momentum)

    def _settings(self) -> dict[str, Any]:
        return {"momentum": self.momentum}


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the form used by scikit-learn and PyTorch::

    v <- mu * v - lr * dW
    W <- W + mu * v - lr * dW
    """

    update = staticmethod(nesterov_update)
    update_into = staticmethod(_nesterov_into)


class Adam(SGD):
    """Adam (Kingma & Ba), with the bias correction folded into the step size::

    m <- b1 m + (1 - b1) dW ;  v <- b2 v + (1 - b2) dW^2
    W <- W - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
    """

    slots = ("m", "v")
    update = staticmethod(adam_update)
    update_into = staticmethod(_adam_into)

    def __init__(
        self, lr: Any = 0.001, beta1: Any = 0.9, beta2: Any = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        self.beta1 = _check_rate("beta1", beta1)
        self.beta2 = _check_rate("beta2", beta2)
        self.eps = positive_number("eps", eps)

    def _settings(self) -> dict[str, Any]:
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


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
