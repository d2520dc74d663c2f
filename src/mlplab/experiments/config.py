"""A training run's settings: ``TrainConfig``, the schema every command line option reads.

The command line's options take their defaults from these fields; a run record or a
checkpoint stores ``to_dict()`` and ``config_from_dict`` reads it back, every type checked.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from mlplab.checks import is_integer
from mlplab.datasets import DATASETS
from mlplab.engines import choose_engine
from mlplab.errors import ConfigError
from mlplab.experiments.limits import check_settings

__all__ = ["TrainConfig", "config_from_dict"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; the defaults are the seed's run."""

    dataset: str = "xor"
    hidden: tuple[int, ...] = (4,)
    activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    loss: str = "squared_error"
    reduction: str = "sum"
    bias: bool | None = None  # None: bias vectors unless the data carry the seed's 1-column
    init: str = "seed"
    seed: int = 0
    epochs: int = 60000
    lr: float = 1.0
    dtype: str = "float64"
    # data and fitting beyond the seed's full batch (all off by default)
    data: str | None = None
    target: str | None = None
    points: int = 200
    noise: float = 0.0
    validation: float = 0.0
    test: float = 0.0
    standardize: bool = False
    batch_size: int | None = None
    optimizer: str = "sgd"
    schedule: str = "constant"
    weight_decay: float = 0.0
    early_stopping: int | None = None
    engine: str = "numpy"  # where the epochs run: numpy, jax, or auto (ensembles and sweeps)
    device: str | None = None  # where jax runs: cpu, gpu; None: JAX's default (a GPU if found)

    def __post_init__(self) -> None:
        check_settings(self)  # the same bounds whether from options, a record or a checkpoint

    def optimizer_kwargs(self) -> dict[str, Any]:
        """``MLP.fit``'s mini-batch, optimizer, schedule and weight-decay arguments."""
        return {
            "batch_size": self.batch_size,
            "optimizer": self.optimizer,
            "schedule": self.schedule,
            "weight_decay": self.weight_decay,
        }

    def engine_kwargs(self, nets: int = 1) -> dict[str, Any]:
        """``MLP.fit``'s ``engine`` (``auto`` resolved for ``nets`` networks) and ``device``."""
        engine = choose_engine(self.engine, nets, self.epochs, self.device)
        return {"engine": engine, "device": None if engine == "numpy" else self.device}

    def network_kwargs(self) -> dict[str, Any]:
        """``MLP(sizes, ...)``'s keyword arguments."""
        return {
            "activation": self.activation,
            "output_activation": self.output_activation,
            "loss": self.loss,
            "reduction": self.reduction,
            "bias": self.uses_bias,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype,
        }

    @property
    def uses_bias(self) -> bool:
        if self.bias is not None:
            return self.bias
        return bool(self.data) or not DATASETS[self.dataset].gate

    def sizes(self, n_inputs: int, n_outputs: int) -> list[int]:
        return [n_inputs, *self.hidden, n_outputs]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> TrainConfig:
        """The config of the fields found in ``options`` (other keys are ignored)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in options.items() if k in names})


DEFAULTS = TrainConfig()


def config_from_dict(settings: Any, source: str) -> TrainConfig:
    """The ``TrainConfig`` of a ``to_dict()`` read from a file, every field's type checked."""
    if not isinstance(settings, dict):
        raise ConfigError(f"{source}: holds no `mlplab train` settings")
    unknown = set(settings) - set(TrainConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(
            f"{source}: recorded with settings this mlplab does not know: "
            f"{', '.join(sorted(map(str, unknown)))}"
        )
    for name, value in settings.items():
        if not _same_kind(value, getattr(DEFAULTS, name)):
            raise ConfigError(f"{source}: setting {name} has the wrong type: {value!r}")
    if "hidden" in settings:
        settings = {**settings, "hidden": tuple(settings["hidden"])}
    try:
        return TrainConfig.from_options(settings)
    except ConfigError as e:
        raise ConfigError(f"{source}: the saved settings are out of range: {e}") from None


def _same_kind(value: Any, default: Any) -> bool:
    """Whether a JSON value can stand for a setting whose default is ``default``."""
    if default is None:
        return value is None or isinstance(value, str | int | float)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return is_integer(value)
    if isinstance(default, float):
        return (isinstance(value, float) and math.isfinite(value)) or is_integer(value)
    if isinstance(default, tuple):
        return isinstance(value, list) and all(is_integer(v) and 0 < v < 2**31 for v in value)
    return isinstance(value, type(default))
