"""``TrainJob``: everything one ``fit`` trains with, checked and prepared once.

``prepare_job`` does what the driver does before the first epoch: checks the
settings, splits off validation rows, fits the input scaler, draws the optimizer,
schedule and regularization from their names. An engine reads the job and runs
epochs; nothing in it changes while they run but the network and optimizer state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import integer, is_sparse
from mlplab.errors import ConfigError, DataError
from mlplab.nn.scaling import InputScaler
from mlplab.nn.targets import predicted_class
from mlplab.train.optimizers import Optimizer, get_optimizer
from mlplab.train.regularization import Regularizer, get_regularizers
from mlplab.train.schedules import Schedule, get_schedule

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

Array = np.ndarray

__all__ = ["FitSettings", "TrainJob", "prepare_job"]

CLASSIFICATION_LOSSES = ("cross_entropy", "binary_cross_entropy")


@dataclass
class TrainJob:
    """The data and settings of one ``fit``, ready for an engine.

    ``X``, ``Xv`` are scaled (through ``net.input_scaler``), or raw ``scipy.sparse`` rows
    that the engine makes dense and scales one batch at a time; ``labels`` and ``val_labels``
    are the target classes when accuracy is recorded, else ``None``; ``weight`` and
    ``val_weight`` the per-example weights (``None``: every example counts once).
    """

    net: MLP
    X: Array
    T: Array
    Xv: Array | None
    Tv: Array | None
    weight: Array | None
    val_weight: Array | None
    optimizer: Optimizer  # holds the learning rate and its schedule
    regularizers: list[Regularizer]
    batch_size: int
    shuffle: bool
    rng: np.random.Generator
    labels: Array | None
    val_labels: Array | None

    @property
    def schedule(self) -> Schedule | None:
        """The optimizer's schedule (``None``: a constant rate)."""
        return getattr(self.optimizer, "schedule", None)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def full_batch(self) -> bool:
        return self.batch_size == self.n

    @property
    def stacked(self) -> bool:
        return self.net.stack is not None


@dataclass(frozen=True)
class FitSettings:
    """The settings of ``fit`` that ``prepare_job`` checks (see ``MLP.fit``), as given."""

    lr: float = 1.0
    optimizer: str | Optimizer | None = None
    batch_size: int | None = None
    shuffle: bool = True
    validation: Any = None
    schedule: str | Schedule | None = None
    weight_decay: Any = 0.0
    seed: int | np.random.Generator | None = None
    standardize: bool = False
    sample_weight: Any = None
    metrics: Sequence[str] = ()


def prepare_job(net: MLP, X: Any, T: Any, **settings: Any) -> TrainJob:
    """Check every setting (``FitSettings``' fields, by name) and the data; split, scale and
    weigh the rows."""
    s = FitSettings(**settings)
    seed = s.seed
    rng = (
        seed
        if isinstance(seed, np.random.Generator)
        else np.random.default_rng(net.seed if seed is None else seed)
    )
    if not isinstance(s.standardize, bool | np.bool_):
        raise ConfigError(f"standardize must be True or False, got {s.standardize!r}")
    X, T = _checked_rows(net, X, T)  # check and split the raw rows
    weight = _check_weights(s.sample_weight, X.shape[0], net.dtype)
    X, T, weight, Xv, Tv, val_weight = _validation_data(net, X, T, weight, s.validation, rng)
    if s.standardize:
        net.input_scaler = InputScaler.fit(X)
    if net.input_scaler is not None:  # sparse rows stay raw: the engine scales each batch
        X = X if is_sparse(X) else net.input_scaler.transform(X)
        Xv = Xv if Xv is None or is_sparse(Xv) else net.input_scaler.transform(Xv)
    optimizer = _optimizer(s.optimizer, s.lr, s.schedule)
    job = _job(net, s, rng, (X, T, weight), (Xv, Tv, val_weight), optimizer)
    _check_per_network(net.stack, job.optimizer, job.regularizers)
    return job


def _check_per_network(stack: int | None, optimizer: Any, regularizers: list) -> None:
    """Settings given one value per network must give one for each network of the stack."""
    lengths = [len(v) for r in regularizers for v in getattr(r, "per_network_settings",
               dict)().values()]  # fmt: skip
    networks = getattr(optimizer, "networks", None)
    lengths += [] if networks is None else [networks]
    for length in lengths:
        if stack is None or length != stack:
            where = "a single network" if stack is None else f"a stack of {stack}"
            raise ConfigError(
                f"a setting given one value per network has {length} values, for {where}; "
                f"expected {stack or 1} (or one number for every network)"
            )


def _optimizer(optimizer: Any, lr: float, schedule: Any) -> Optimizer:
    """The optimizer of a name or as given, holding the rate and the schedule."""
    optimizer = get_optimizer(optimizer, lr)
    schedule = get_schedule(schedule)
    if schedule is not None or hasattr(optimizer, "use_schedule"):
        if not hasattr(optimizer, "use_schedule"):
            raise ConfigError(f"a schedule needs one of mlplab's optimizers (with use_schedule), "
                              f"got {optimizer!r}")  # fmt: skip
        optimizer.use_schedule(schedule)  # the rate lives in the optimizer
    return optimizer


def _job(net: MLP, s: FitSettings, rng: np.random.Generator, train: tuple, val: tuple,
         optimizer: Optimizer) -> TrainJob:  # fmt: skip
    X, T, weight = train
    Xv, Tv, val_weight = val
    track_accuracy = records_accuracy(net, s.metrics)
    return TrainJob(
        net=net,
        X=X,
        T=T,
        Xv=Xv,
        Tv=Tv,
        weight=weight,
        val_weight=val_weight,
        optimizer=optimizer,
        regularizers=get_regularizers(s.weight_decay),
        batch_size=_check_batch_size(s.batch_size, X.shape[0]),
        shuffle=bool(s.shuffle),
        rng=rng,
        labels=predicted_class(T) if track_accuracy else None,
        val_labels=predicted_class(Tv) if track_accuracy and Tv is not None else None,
    )
FIT_METRICS = ("accuracy",)  # what fit(metrics=...) can record beside the loss


def records_accuracy(net: MLP, metrics: Any) -> bool:
    """Whether a fit of ``net`` with ``fit(metrics=...)`` computes the accuracy: for the
    classification losses, or when asked."""
    return net.loss.name in CLASSIFICATION_LOSSES or _wants_accuracy(metrics)


def _wants_accuracy(metrics: Any) -> bool:
    """Whether ``fit(metrics=...)`` asks for the accuracy (one clear error for anything else)."""
    if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics):
        raise ConfigError(f"metrics must be a list of names such as ('accuracy',), got {metrics!r}")
    unknown = [m for m in metrics if m not in FIT_METRICS]
    if unknown:
        raise ConfigError(f"fit records {', '.join(FIT_METRICS)} beside the loss; "
                          f"unknown metric {unknown[0]!r}")  # fmt: skip
    return "accuracy" in metrics


def _checked_rows(net: MLP, X: Any, T: Any) -> tuple[Any, Array]:
    """``net.check_data(X, T, scaled=False)``, or the same checks on sparse rows, which stay
    sparse (CSR, in the network's dtype)."""
    if not is_sparse(X):
        return net.check_data(X, T, scaled=False)
    if X.ndim != 2 or X.shape[1] != net.sizes[0]:
        raise DataError(
            f"inputs have shape {X.shape}; expected (n, {net.sizes[0]}): the network takes "
            f"{net.sizes[0]} inputs"
        )
    if X.dtype.kind not in "biuf":
        raise DataError(f"inputs must be numeric, got sparse rows of {X.dtype}")
    X = X.tocsr().astype(net.dtype)
    if X.nnz and not np.isfinite(X.data).all():
        raise DataError("inputs contain NaN or infinite values")
    return X, net.check_targets(T, X.shape[0])


def _check_batch_size(batch_size: Any, n: int) -> int:
    if batch_size is None:
        return n
    return min(integer("batch_size", batch_size, minimum=1,
                       expected="a positive integer or None"), n)  # fmt: skip


def _check_weights(sample_weight: Any, n: int, dtype: Any) -> Array | None:
    """Per-example weights as a 1-D array of ``n`` finite non-negative values, or ``None``."""
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise DataError(f"sample_weight must be numeric, one weight per example: {e}") from None
    if w.shape != (n,):
        raise DataError(f"sample_weight has shape {w.shape}; expected ({n},): one per example")
    if n and not (np.isfinite(w).all() and w.min() >= 0):
        raise DataError("sample_weight must be finite and non-negative")
    if n and not w.sum() > 0:
        raise DataError("sample_weight sums to 0: at least one example must count")
    return w


def _validation_data(
    net: MLP, X: Array, T: Array, weight: Array | None, validation: Any, rng: np.random.Generator
) -> tuple[Array, Array, Array | None, Array | None, Array | None, Array | None]:
    """``(X, T, weight, Xv, Tv, val_weight)``: the given validation pair (unweighted), or a
    seeded share split off the data with its weights (all unscaled)."""
    if validation is None:
        return X, T, weight, None, None, None
    if isinstance(validation, tuple | list) and len(validation) == 2:
        Xv, Tv = _checked_rows(net, validation[0], validation[1])
        return X, T, weight, Xv, Tv, None
    if isinstance(validation, float) and 0 < validation < 1:
        n = X.shape[0]
        n_val = round(validation * n)
        if not 1 <= n_val < n:
            raise ConfigError(
                f"validation={validation} leaves {n_val} of {n} examples for validation; "
                "need at least one for each side"
            )
        order = rng.permutation(n)
        val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
        split = _rows(weight, train), _rows(weight, val)
        return X[train], T[train], split[0], X[val], T[val], split[1]
    raise ConfigError(
        f"validation must be (X, T), a fraction in (0, 1) or None, got {validation!r}"
    )


def _rows(weight: Array | None, rows: Sequence[int] | Array) -> Array | None:
    return None if weight is None else weight[rows]
