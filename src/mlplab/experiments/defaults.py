"""Defaults that depend on the task: the seed's run for the seed's gates, a budget otherwise.

The seed's gates (XOR and friends) keep the seed's 60000 full-batch epochs of summed
loss, bit for bit. Any other data gets, for each setting the user did not give: an epoch
budget (``FULL_BATCH_EPOCHS`` full-batch or ``MINI_BATCH_EPOCHS`` mini-batch epochs) with
early stopping after ``PATIENCE`` epochs without improvement, the mean loss (a summed loss
at lr 1 takes steps as large as the data set), and, for a user's file, standardised inputs.
``task_defaults`` returns the config and one line saying what it chose.
"""

from __future__ import annotations

from dataclasses import replace

from mlplab.datasets import DATASETS
from mlplab.experiments.config import TrainConfig

__all__ = ["FULL_BATCH_EPOCHS", "MINI_BATCH_EPOCHS", "PATIENCE", "task_defaults"]

FULL_BATCH_EPOCHS = 5000
MINI_BATCH_EPOCHS = 300
PATIENCE = 50


def task_defaults(
    config: TrainConfig, given: set[str], *, checkpointing: bool = False
) -> tuple[TrainConfig, str]:
    """``config`` with the task's defaults for the settings not in ``given``, and a note.

    ``checkpointing``: no early stopping is chosen (a checkpointed run cannot resume one).
    """
    if not config.data and DATASETS[config.dataset].gate:
        return config, ""
    changes: dict = {}
    if "epochs" not in given:
        full = config.batch_size is None
        changes["epochs"] = FULL_BATCH_EPOCHS if full else MINI_BATCH_EPOCHS
        if "early_stopping" not in given and not checkpointing:
            changes["early_stopping"] = PATIENCE
    if "reduction" not in given:
        changes["reduction"] = "mean"
    if config.data and "standardize" not in given:
        changes["standardize"] = True
    changes = {k: v for k, v in changes.items() if getattr(config, k) != v}
    if not changes:
        return config, ""
    chosen = replace(config, **changes)
    return chosen, f"defaults for {config.data or config.dataset}: " + ", ".join(
        _describe(name, chosen) for name in changes
    ) + " (give the option to choose)"


def _describe(name: str, config: TrainConfig) -> str:
    if name == "epochs":
        kind = "full-batch" if config.batch_size is None else "mini-batch"
        return f"--epochs {config.epochs} ({kind})"
    if name == "early_stopping":
        watched = "validation" if config.validation else "training"
        return f"--early-stopping {config.early_stopping} (on the {watched} loss)"
    if name == "reduction":
        return "--reduction mean"
    return "--standardize"
