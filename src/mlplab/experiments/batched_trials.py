"""Optuna trials in batches, each batch trained as one stack.

Optuna runs one trial at a time; here a batch of trials is asked for (``study.ask``), every
trial's networks (``seeds`` of them, seeds ``config.seed, ...``) train together as one stack
with each trial's own settings (per-network rate, momentum, L2 strength, init scale and
hidden width: ``MLP(..., stack=K)``), and each trial's value is told back (``study.tell``):
the mean final training loss of its networks (minimise it), or a failed trial when every one
of them diverged. ``suggest(trial)`` returns the trial's settings, by name from
``SETTINGS``; what it leaves out keeps ``config``'s value. Optuna is an optional extra
(``pip install 'mlplab[optuna]'``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import ensemble_data
from mlplab.experiments.stacks import StackOutcome, train_stack
from mlplab.nn.network import MLP
from mlplab.train.optimizers import OPTIMIZERS

__all__ = ["SETTINGS", "optimize_in_batches", "train_trials"]

SETTINGS = ("lr", "momentum", "weight_decay", "init_scale", "hidden")


def optimize_in_batches(study: Any, suggest: Callable[[Any], dict[str, Any]],
                        config: TrainConfig, *, batches: int, batch_size: int,
                        seeds: int = 1) -> Any:  # fmt: skip
    """Run ``batches`` batches of ``batch_size`` trials on ``study``, each batch one stack;
    returns the study."""
    for _ in range(batches):
        trials = [study.ask() for _ in range(batch_size)]
        for trial, value in zip(trials, train_trials(trials, suggest, config, seeds),
                                strict=True):  # fmt: skip
            _tell(study, trial, value)
    return study


def _tell(study: Any, trial: Any, value: float | None) -> None:
    if value is None:  # every network of the trial diverged
        from optuna.trial import TrialState

        study.tell(trial, state=TrialState.FAIL)
    else:
        study.tell(trial, value)


def train_trials(trials: list[Any], suggest: Callable[[Any], dict[str, Any]],
                 config: TrainConfig, seeds: int = 1) -> list[float | None]:  # fmt: skip
    """Each trial's mean final loss over its ``seeds`` networks, all trained as one stack
    (``None`` where every one diverged)."""
    chosen = [_checked(suggest(trial)) for trial in trials]
    X, t = ensemble_data(config)
    hidden = _hidden(chosen, config)
    sizes = config.sizes(X.shape[1], t.shape[1])
    sizes[1:-1] = list(np.max(hidden, axis=0))
    K = len(trials) * seeds

    def per_network(name: str, default: float) -> np.ndarray:
        return np.repeat([float(c.get(name, default)) for c in chosen], seeds)

    kwargs = {**config.network_kwargs(), "seed": np.tile(config.seed + np.arange(seeds),
                                                         len(trials))}  # fmt: skip
    net = MLP(sizes, **kwargs, stack=K, widths=np.repeat(hidden, seeds, axis=0),
              init_scale=per_network("init_scale", 1.0))  # fmt: skip
    outcome = train_stack(
        net, X, t, epochs=config.epochs, seed=config.seed, standardize=config.standardize,
        batch_size=config.batch_size, schedule=config.schedule,
        optimizer=_optimizer(config, chosen, per_network),
        weight_decay=per_network("weight_decay", config.weight_decay),
        **config.engine_kwargs(K),
    )  # fmt: skip
    return _values(outcome, len(trials), seeds)


def _checked(settings: Any) -> dict[str, Any]:
    if not isinstance(settings, dict) or set(settings) - set(SETTINGS):
        raise ConfigError(
            f"suggest(trial) must return a dict of settings from {', '.join(SETTINGS)}; "
            f"got {settings!r}"
        )
    return settings


def _hidden(chosen: list[dict[str, Any]], config: TrainConfig) -> np.ndarray:
    """Each trial's hidden widths, ``(trials, hidden layers)``."""
    rows = []
    for c in chosen:
        h = c.get("hidden", config.hidden)
        h = (h,) * len(config.hidden) if isinstance(h, int | np.integer) else tuple(h)
        if len(h) != len(config.hidden):
            raise ConfigError(f"hidden {h} has another depth than the config's {config.hidden}")
        rows.append(h)
    return np.array(rows, dtype=np.int64)


def _optimizer(config: TrainConfig, chosen: list[dict[str, Any]],
               per_network: Callable[[str, float], np.ndarray]) -> Any:  # fmt: skip
    """The configured optimizer with each network's rate (and momentum, if suggested)."""
    kind = OPTIMIZERS[config.optimizer]
    lr = per_network("lr", config.lr)
    if any("momentum" in c for c in chosen):
        if config.optimizer not in ("momentum", "nesterov"):
            raise ConfigError(
                f"a suggested momentum needs optimizer momentum or nesterov, not "
                f"{config.optimizer!r}"
            )
        return kind(lr, momentum=per_network("momentum", 0.9))
    return kind(lr)


def _values(outcome: StackOutcome, trials: int, seeds: int) -> list[float | None]:
    losses = outcome.final_loss.reshape(trials, seeds)
    values: list[float | None] = []
    for row in losses:
        finite = row[np.isfinite(row)]
        values.append(float(finite.mean()) if finite.size else None)
    return values
