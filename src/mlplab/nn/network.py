"""The multi-layer perceptron: forward and backward passes in the seed's notation.

Notation (the seed's, generalised to any depth):

======  ==============================================================
``X``   inputs, one example per row, shape ``(n, n_in)``
``t``   targets, shape ``(n, n_out)``
``W``   a layer's weights, ``(fan_in, fan_out)``, so that code reads ``x @ W``
``b``   a layer's bias, ``(fan_out,)`` (absent when ``bias=False``, as in the seed)
``z``   pre-activation, ``z = x @ W + b``
``h``   a layer's output, ``h = act(z)``; the last layer's output is ``y``
``delta``  ``dL/dz`` of a layer
``dW``  ``dL/dW = x.T @ delta``;  ``db = dL/db = delta summed over examples``
======  ==============================================================

The seed's loop, line by line, and where each line lives here::

    h = 1/(1+np.exp(-(np.dot(X,W1))))            Dense.forward, layer 1
    y = 1/(1+np.exp(-(np.dot(h,W2))))            Dense.forward, layer 2
    y_delta = (t - y)*(y*(1-y))                  Objective: delta = (y - t) * (y * (1 - y))
    h_delta = np.dot(y_delta, W2.T) * (h*(1-h))  backward:  delta = (delta @ W2.T) * (h * (1-h))
    W2 += np.dot(h.T, y_delta)                   Dense.backward: dW2 = h.T @ delta
                                                 SGD.step:       W2 -= lr * dW2
    W1 += np.dot(X.T, h_delta)                   Dense.backward: dW1 = X.T @ delta
                                                 SGD.step:       W1 -= lr * dW1

One sign convention throughout: ``delta`` is the gradient ``dL/dz``, so the
seed's ``y_delta`` and ``h_delta`` are ``-delta``, and its ``W += ...`` is the
optimizer's ``W -= lr * dW`` with ``lr = 1``. The result is the same to the bit.

Every parameter may carry leading axes (a stack of networks); the code uses
``@``-style products and ``.mT`` so the same lines serve one network or many. The layer
and the passes (``mlplab.nn.layer``) are written once: ``MLP`` runs them on NumPy into kept
buffers, the compiled engine runs the same lines on ``jax.numpy`` (``Dense.plain``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import (
    check_network_memory,
    integer,
    layer_sizes,
    per_network,
    positive_number,
    real_array,
    softmax_outputs,
    stack_seed,
    training_alone,
)
from mlplab.errors import ConfigError, DataError
from mlplab.nn import narrow
from mlplab.nn.activations import Activation, get_activation
from mlplab.nn.init import init_stack, init_weights, scaled
from mlplab.nn.layer import Dense, backward, forward, link, loss_and_grads, matmul
from mlplab.nn.losses import Loss, Objective, get_loss
from mlplab.nn.scaling import InputScaler
from mlplab.nn.targets import as_targets
from mlplab.nn.widths import check_widths, layer_masks

if TYPE_CHECKING:
    from mlplab.trace import Trace
    from mlplab.train.callbacks import Callback
    from mlplab.train.history import History
    from mlplab.train.optimizers import Optimizer

Array = np.ndarray
Params = list[dict[str, Array]]

__all__ = ["MLP", "Dense", "matmul"]

DTYPES = (np.float32, np.float64)


class MLP:
    """A multi-layer perceptron of any depth and width.

    Parameters
    ----------
    sizes
        Units per layer, inputs first: ``[3, 4, 1]`` is the seed's network.
    activation, output_activation
        Names from ``ACTIVATIONS`` for the hidden layers and the output layer.
    loss
        ``"squared_error"`` (the seed's ``1/2 * sum((y - t)^2)``),
        ``"binary_cross_entropy"`` (sigmoid output) or ``"cross_entropy"`` (softmax output).
    reduction
        ``"sum"`` over examples, as the seed does, or ``"mean"``, which divides the
        effective step by the number of examples.
    bias
        Give each layer a bias vector. The seed has none: it feeds a constant-1 column.
    init
        ``"seed"`` (the seed's legacy stream, exactly), ``"uniform"``, ``"glorot"`` or ``"he"``.
    seed
        Seed of the init's generator; ``None`` draws a fresh start. For a stack, network
        ``i`` gets ``seed + i``, or ``seed[i]`` when given one seed per network.
    dtype
        ``np.float64`` or ``np.float32``, used end to end.
    stack
        Hold ``stack`` independent networks of this shape: every parameter gets a
        leading axis of that length, and network ``i`` starts exactly as
        ``MLP(..., seed=seed + i)`` does. ``predict`` then returns ``(stack, n, outputs)``
        and losses are one per network.
    init_scale
        Multiply the initial weights by this (biases start at zero whatever it is). For a
        stack, one number or one per network (an array of ``stack``): network ``i`` then
        starts as ``MLP(..., seed=seed + i, init_scale=init_scale[i])``.
    widths
        For a stack, each network's hidden width (an array of ``stack``, or ``(stack,
        hidden layers)``), at most ``sizes``: network ``i`` is then ``MLP([n_in,
        *widths[i], n_out], seed=seed + i)`` inside the stack's shape, the rest masked
        (``masks``; see ``mlplab.nn.widths``).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Activation = "sigmoid",
        output_activation: str | Activation = "sigmoid",
        loss: str | Loss = "squared_error",
        reduction: str = "sum",
        bias: bool = True,
        init: str = "uniform",
        seed: Any = None,
        dtype: type | np.dtype | str = np.float64,
        stack: int | None = None,
        init_scale: Any = 1.0,
        widths: Any = None,
    ) -> None:
        self.sizes = _check_sizes(sizes)
        self.activation = get_activation(activation, where="hidden")
        self.output_activation = get_activation(output_activation, where="output")
        softmax_outputs(self.output_activation.name, self.sizes[-1])
        self.objective = Objective(self.output_activation, get_loss(loss), reduction)
        self.bias = bool(bias)
        self.init = init
        self.seed = seed
        self.dtype = _check_dtype(dtype)
        self.stack = _check_stack(stack)
        check_network_memory(self.sizes, self.stack, np.dtype(self.dtype).itemsize)
        self.widths = check_widths(widths, self.sizes, self.stack)
        # 1 on each network's own weights where the stack holds narrower networks, else None
        self.masks = None if self.widths is None else layer_masks(self.sizes, self.widths,
                                                                    self.dtype)  # fmt: skip
        self.training_metadata: dict[str, Any] = {}  # how it was trained; saved with it
        # (X - mean) / scale before the first layer, applied to every input once per call;
        # one scaler for a whole stack
        self.input_scaler: InputScaler | None = None
        shapes = list(zip(self.sizes[:-1], self.sizes[1:], strict=True))
        scales = _init_scales(init_scale, self.stack)
        self.init_scale = scales  # a number, or one per network of a stack
        if self.stack is None:
            weights = scaled(init_weights(init, shapes, seed, self.dtype), scales)
        else:
            if seed is None:  # a fresh random start, still one seed per network
                seed = int(np.random.SeedSequence().generate_state(1)[0]) % (2**31)
                self.seed = seed
            seeds = _stack_seeds(seed, self.stack)
            self.seed = int(seeds[0])
            weights = init_stack(init, shapes, seeds, self.dtype, scales, self.widths)
        lead = () if self.stack is None else (self.stack,)
        params = [{"W": W} for W in weights]
        if self.bias:
            for p, (_, fan_out) in zip(params, shapes, strict=True):
                p["b"] = np.zeros((*lead, fan_out), dtype=self.dtype)
        self._set_params(params)

    # --- structure ------------------------------------------------------------------

    def _set_params(self, params: Params) -> None:
        if narrow.stack_last_suits(self.sizes, self.stack):  # see mlplab.nn.narrow
            params = [{k: narrow.stack_last(v) for k, v in p.items()} for p in params]
            if self.masks is not None:
                self.masks = [narrow.stack_last(m) for m in self.masks]
        activations = [self.activation] * (len(params) - 1) + [self.output_activation]
        self._params = params
        self.layers = link([
            Dense(p, act, keep_z=(i == len(params) - 1) and self.objective.needs_z)
            for i, (p, act) in enumerate(zip(params, activations, strict=True))
        ])  # fmt: skip
        for layer, mask in zip(self.layers, self.masks or [], strict=False):
            layer.mask = mask

    @property
    def params(self) -> Params:
        """One dict per layer, ``{"W": (n_in, n_out), "b": (n_out,)}``; edit values in place."""
        return self._params

    @property
    def loss(self) -> Loss:
        return self.objective.loss

    @property
    def reduction(self) -> str:
        return self.objective.reduction

    @property
    def n_params(self) -> int:
        return sum(v.size for p in self._params for v in p.values())

    def config(self) -> dict[str, Any]:
        """The settings that rebuild this network's architecture (JSON-ready); a stack's
        per-network widths and init scales where given (saved with the model)."""
        return {
            "sizes": list(self.sizes),
            "activation": self.activation.name,
            "output_activation": self.output_activation.name,
            "loss": self.loss.name,
            "reduction": self.reduction,
            "bias": self.bias,
            "init": self.init,
            "seed": self.seed,
            "dtype": np.dtype(self.dtype).name,
            "stack": self.stack,
            **self._per_network_config(),
        }

    def _per_network_config(self) -> dict[str, Any]:
        """``widths`` and ``init_scale`` where they are not the defaults (so a network
        without them has the config it always had)."""
        extra: dict[str, Any] = {}
        if self.widths is not None:
            extra["widths"] = self.widths.tolist()
        scale = self.init_scale
        if isinstance(scale, np.ndarray) or scale != 1.0:
            extra["init_scale"] = scale.tolist() if isinstance(scale, np.ndarray) else scale
        return extra

    # --- the math -------------------------------------------------------------------

    def _forward(self, X: Array) -> Array:
        """Forward pass over the layers; returns ``y``, keeps each layer's values."""
        return forward(self.layers, X)  # h = act(x @ W + b), layer by layer

    def backward(self, delta: Array) -> None:
        """Backward pass from the output's ``delta``, filling every layer's ``grad``.

        For each layer from the last: ``dW = x.T @ delta``, then the delta of the
        layer below, ``delta = (delta @ W.T) * act'(h)`` (the seed's ``h_delta``).
        """
        backward(self.layers, delta)

    def loss_and_backward(self, X: Array, T: Array, weight: Array | None = None) -> Array:
        """One forward and backward pass; the loss is returned, gradients left in ``grads``.

        ``weight`` (one per row, optional) weighs each example's loss and gradient.
        """
        return loss_and_grads(self.layers, self.objective, X, T, weight)

    def loss_at(self, X: Array, T: Array, weight: Array | None = None) -> Array:
        """The loss of one forward pass on rows already checked and scaled (``check_data``);
        each layer's output is then in ``outputs``. An engine's validation step."""
        self._forward(X)
        return self.objective(self.layers[-1], T, weight)[0]

    @property
    def grads(self) -> Params:
        """The gradients from the last backward pass, in the structure of ``params``."""
        return [layer.grad for layer in self.layers]

    @property
    def outputs(self) -> list[Array]:
        """Each layer's output ``h`` from the last forward pass, ``[h1, ..., y]`` (read-only views)."""  # noqa: E501
        return [layer.h for layer in self.layers]

    # --- public API -----------------------------------------------------------------

    def forward(self, X: Any) -> list[Array]:
        """Every layer's output for inputs ``X``: ``[h1, ..., y]``.

        ``X`` is one example per row; a 1-D ``X`` is one example, and each output is then 1-D.
        """
        return [_as_given(h, X) for h in self._outputs(X, self.layers)]

    def predict(self, X: Any) -> Array:
        """The network's output ``y`` for inputs ``X`` (one row per example, or one 1-D example)."""
        return _as_given(self._outputs(X, self.layers[-1:])[0], X)

    def _outputs(self, X: Any, layers: list[Dense]) -> list[Array]:
        with np.errstate(over="ignore"):
            self._forward(self._check_inputs(X))
        return [layer.h for layer in layers]

    def evaluate(
        self, X: Any, T: Any, metrics: Sequence[str] | None = None
    ) -> float | Array | dict[str, float | Array]:
        """The loss on ``(X, T)`` at the current weights (one per network for a stack).

        With ``metrics`` (names from ``"accuracy"``, ``"mse"``, ``"mae"``), a dict
        instead, Keras-style: ``{"loss": ..., "accuracy": ..., ...}``. ``accuracy`` is
        the share of rows whose predicted class (``mlplab.nn.targets.predicted_class``)
        is the target's; ``mse`` and ``mae`` average over rows and outputs. ``T`` may be
        integer class labels when the network has several outputs.
        """
        from mlplab.nn.targets import accuracy

        known = {
            "accuracy": accuracy,
            "mse": lambda y, t: np.mean((y - t) ** 2, axis=(-2, -1)),
            "mae": lambda y, t: np.mean(np.abs(y - t), axis=(-2, -1)),
        }
        if isinstance(metrics, str):
            metrics = (metrics,)
        for name in metrics or ():
            if name not in known:
                raise ConfigError(
                    f"unknown metric {name!r}: expected one of {', '.join(sorted(known))}"
                )
        X, T = self.check_data(X, T)
        with np.errstate(over="ignore"):
            y = self._forward(X)
            values = {name: known[name](y, T) for name in metrics or ()}
            loss, _ = self.objective(self.layers[-1], T)
        loss = float(loss) if self.stack is None else np.asarray(loss).copy()
        if metrics is None:
            return loss
        result: dict[str, float | Array] = {"loss": loss}
        for name, value in values.items():
            result[name] = float(value) if np.ndim(value) == 0 else np.asarray(value)
        return result

    def gradients(self, X: Any, T: Any) -> tuple[float | Array, Params]:
        """``(loss, grads)`` at the current weights; grads are ``dL/dparam``, not the negative.

        The loss is a float, or one per network for a stack.
        """
        X, T = self.check_data(X, T)
        with np.errstate(over="ignore"):
            loss = self.loss_and_backward(X, T)
        loss = float(loss) if self.stack is None else np.asarray(loss).copy()
        return loss, [{k: v.copy() for k, v in g.items()} for g in self.grads]

    def fit(
        self,
        X: Any,
        T: Any,
        epochs: int = 60000,
        lr: float = 1.0,
        optimizer: str | Optimizer | None = None,
        callbacks: Sequence[Callback] = (),
        **options: Any,
    ) -> History:
        """Train for ``epochs`` passes over ``(X, T)``; returns the ``History`` of every epoch.

        By default full-batch gradient descent, the seed's. ``options`` (see
        ``mlplab.train.driver.fit``): ``batch_size`` (``None``: the whole set),
        ``shuffle``, ``validation`` (``(Xv, Tv)`` or a fraction split off ``X``),
        ``early_stopping`` (a patience or an ``EarlyStopping``), ``schedule``,
        ``weight_decay`` (L2 as a number, or ``L1``/``L2`` objects), ``seed`` (of the
        shuffling), ``standardize`` (fit ``input_scaler`` on the training rows first),
        ``sample_weight`` (one weight per example), ``engine`` (where the epochs run:
        ``"numpy"``, the default, ``"jax"``, or ``"auto"``: jax for large runs when it is
        installed, ``mlplab.engines.choose_engine``) and ``device`` (``"cpu"`` or ``"gpu"``, for
        ``"jax"``; default JAX's own choice); ``metrics=("accuracy",)`` records the accuracy of
        every epoch for any loss (the classification losses always record it). ``optimizer``
        is a name from ``OPTIMIZERS`` (with rate ``lr``) or an optimizer object. ``T`` may be
        integer class labels when the network has several outputs. ``callbacks`` get
        ``on_epoch_end(epoch, logs)`` after every epoch (see ``mlplab.train.callbacks``).
        """
        from mlplab.train.driver import fit

        with training_alone(self):  # one fit at a time on this network
            return fit(
                self, X, T, epochs=epochs, lr=lr, optimizer=optimizer, callbacks=callbacks,
                **options,
            )  # fmt: skip

    def trace(self, X: Any, T: Any, **options: Any) -> Trace:
        """Run one training epoch as ``fit(X, T, epochs=1, **options)`` does and return its
        ``Trace``: every line in the seed's notation with the arrays it computed and the line
        of mlplab that computed them (see ``mlplab.trace``). The network is left exactly as
        that ``fit`` would leave it. NumPy engine only; ``epochs`` is not an option.
        """
        from mlplab.trace import trace

        return trace(self, X, T, **options)

    def save(self, path: str | Path, *, metadata: dict[str, Any] | None = None) -> None:
        """Write the weights and architecture to a safetensors file (atomically)."""
        from mlplab.io.models import save

        save(self, path, metadata=metadata)

    @classmethod
    def load(cls, path: str | Path) -> MLP:
        """Read a model written by ``save``, validating everything in it."""
        from mlplab.io.models import load

        return load(path)

    @classmethod
    def from_torch(cls, sequential: Any, **kwargs: Any) -> MLP:
        """The network of a ``torch.nn.Sequential`` of ``Linear`` and activations.

        See ``mlplab.export.from_torch``; anything else is refused with a ``ConfigError``.
        """
        from mlplab.export import from_torch

        return from_torch(sequential, **kwargs)

    # --- checks ---------------------------------------------------------------------

    def _check_inputs(self, X: Any, scaled: bool = True) -> Array:
        """``X`` as a 2-D array of this network's dtype, through ``input_scaler`` if ``scaled``."""
        X = real_array(X, "inputs")
        try:
            X = np.asarray(X, dtype=self.dtype)
        except (TypeError, ValueError) as e:
            raise DataError(f"inputs must be numeric, one example per row: {e}") from None
        if X.ndim not in (1, 2) or X.shape[-1] != self.sizes[0]:
            raise DataError(
                f"inputs have shape {X.shape}; expected (n, {self.sizes[0]}) or "
                f"({self.sizes[0]},): the network takes {self.sizes[0]} inputs"
            )
        X = X if X.ndim == 2 else X[None, :]
        return X if self.input_scaler is None or not scaled else self.input_scaler.transform(X)

    def check_data(self, X: Any, T: Any, *, scaled: bool = True) -> tuple[Array, Array]:
        """Inputs and targets as 2-D arrays of this network's dtype, or a ``DataError``.

        The inputs come back through ``input_scaler`` (if any) unless ``scaled=False``:
        pass those to ``fit``, ``predict``, ... which scale what they are given.
        """
        X = self._check_inputs(X, scaled)
        _check_finite("inputs", X)
        return X, self.check_targets(T, X.shape[0])

    def check_targets(self, T: Any, n: int) -> Array:
        """Targets for ``n`` input rows as a 2-D array of this network's dtype, or a
        ``DataError``; integer class labels become one-hot rows."""
        T = real_array(T, "targets")
        try:
            T = np.asarray(as_targets(self, T), dtype=self.dtype)
        except (TypeError, ValueError) as e:
            raise DataError(f"targets must be numeric: {e}") from None
        n_out = self.sizes[-1]
        if T.ndim == 1 and n_out == 1:
            T = T[:, None]
        if T.shape != (n, n_out):
            raise DataError(
                f"targets have shape {T.shape}; expected ({n}, {n_out}): one row per "
                f"input row and {n_out} output(s)"
            )
        _check_finite("targets", T)
        return T

    # --- display --------------------------------------------------------------------

    def summary(self) -> str:
        """A table of the layers: shapes, activations, parameter counts (see ``mlplab.summary``)."""
        from mlplab.summary import summary_text

        return summary_text(self)

    def _repr_html_(self) -> str:
        from mlplab.summary import summary_html

        return summary_html(self)

    def __repr__(self) -> str:
        arch = "-".join(str(s) for s in self.sizes)
        stack = "" if self.stack is None else f", stack={self.stack}"
        return (
            f"MLP({arch}{stack}, activation={self.activation.name}, "
            f"output={self.output_activation.name}, loss={self.loss.name}, "
            f"bias={self.bias}, params={self.n_params})"
        )


def _check_finite(name: str, a: Array) -> None:
    # min and max propagate NaN and show an inf, without a mask the size of the data
    if a.size and not (np.isfinite(a.min()) and np.isfinite(a.max())):
        raise DataError(f"{name} contain NaN or infinite values")


def _as_given(h: Array, X: Any) -> Array:
    """A copy of output ``h``, 1-D per example again if the inputs ``X`` were one 1-D example."""
    return (h[..., 0, :] if np.ndim(X) == 1 else h).copy()


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    return layer_sizes(sizes)


def _stack_seeds(seed: Any, stack: int) -> np.ndarray:
    """Each network's seed: ``seed + i``, or as given one per network."""
    if not isinstance(seed, list | tuple | np.ndarray):
        stack_seed(seed, stack)  # seed + stack - 1 still a seed NumPy takes
        return int(seed) + np.arange(stack)
    seeds = np.asarray(seed)
    if seeds.shape != (stack,) or seeds.dtype.kind not in "iu":
        raise ConfigError(
            f"seed must be one integer or one per network of the stack ({stack}); got "
            f"shape {seeds.shape} of {seeds.dtype}"
        )
    return seeds


def _init_scales(init_scale: Any, stack: int | None) -> Any:
    """``init_scale`` checked: a number, or (a stack only) one per network."""
    scales = per_network("init_scale", init_scale, positive_number)
    if isinstance(scales, np.ndarray) and len(scales) != (stack or 0):
        raise ConfigError(
            f"init_scale has {len(scales)} values; expected one number, or one per network "
            f"of the stack ({stack or 'not a stack'})"
        )
    return scales


def _check_stack(stack: Any) -> int | None:
    if stack is None:
        return None
    return integer("stack", stack, minimum=1, expected="a positive integer or None")


def _check_dtype(dtype: Any) -> type:
    try:
        dt = np.dtype(dtype).type
    except (TypeError, ValueError):
        dt = None
    if dt not in DTYPES:
        raise ConfigError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt
