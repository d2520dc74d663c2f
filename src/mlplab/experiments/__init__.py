"""Experiments: configured training runs, ensembles, sweeps and leave-one-out, without the CLI.

- ``TrainConfig``: a run's settings (the command line's options read their defaults here)
- ``run_training(config)``: one run, as ``mlplab train`` does it; ``RunFiles`` adds
  checkpoints, resuming and a run record
- ``train_stack`` / ``run_ensemble``: many seeds as one stack, which of them solve the
  task and when, with the memory needed estimated before anything is allocated
- ``run_ensemble_dask``: the same ensemble trained in blocks of seeds on a Dask cluster,
  merged into the one stack's outcome (a worker runs ``blocks.train_block``)
- ``make_cells`` / ``run_cells``: a sweep over settings, on joblib workers or Dask
  (a worker imports only this package to run ``run_cell``)
- ``sweep`` / ``train_grid``: a sweep's cells x seeds as the fewest stacks (one for a grid
  over rates and widths), per-cell rows and per-network records (``SweepResult.frame()``)
- ``leave_one_out``: each row held out in turn, over many seeds
"""

from mlplab.experiments.blocks import run_ensemble_dask, split_blocks
from mlplab.experiments.checkpointed import RunFiles
from mlplab.experiments.config import TrainConfig, config_from_dict
from mlplab.experiments.data import (
    CLASSES_KEY,
    PreparedData,
    class_names,
    predicted_classes,
    prepare_data,
)
from mlplab.experiments.ensembles import describe, ensemble_data, run_ensemble
from mlplab.experiments.grid import SweepResult, sweep, train_grid
from mlplab.experiments.limits import stack_bytes
from mlplab.experiments.loo import leave_one_out
from mlplab.experiments.runs import (
    fit_network,
    new_network,
    run_training,
    split_scores,
    training_rows,
)
from mlplab.experiments.stacks import (
    SolvedInLogs,
    SolveWatch,
    StackOutcome,
    check_memory,
    estimate_bytes,
    memory_limit,
    solved,
    train_stack,
)
from mlplab.experiments.sweeps import (
    AXES,
    Cell,
    check_cells,
    make_cells,
    run_cell,
    run_cells,
    sweep_csv,
    write_csv,
)

__all__ = [
    "AXES",
    "CLASSES_KEY",
    "Cell",
    "PreparedData",
    "RunFiles",
    "SolveWatch",
    "SolvedInLogs",
    "StackOutcome",
    "SweepResult",
    "TrainConfig",
    "check_cells",
    "check_memory",
    "class_names",
    "config_from_dict",
    "describe",
    "ensemble_data",
    "estimate_bytes",
    "fit_network",
    "leave_one_out",
    "make_cells",
    "memory_limit",
    "new_network",
    "predicted_classes",
    "prepare_data",
    "run_cell",
    "run_cells",
    "run_ensemble",
    "run_ensemble_dask",
    "run_training",
    "solved",
    "split_blocks",
    "split_scores",
    "stack_bytes",
    "sweep",
    "sweep_csv",
    "train_grid",
    "train_stack",
    "training_rows",
    "write_csv",
]
