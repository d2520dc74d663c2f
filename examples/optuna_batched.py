"""Optuna over the XOR network's learning rate, momentum and width, a batch of trials at a time.

Each batch of ``--batch`` trials (``study.ask``) trains as one stack of networks, each trial
with its own settings, and the results go back to the study (``study.tell``): the mean final
loss of the trial's ``--seeds`` networks. Needs ``pip install 'mlplab[optuna]'``.

    python examples/optuna_batched.py [--batches 5] [--batch 20] [--seeds 4] [--epochs 2000]
"""

from __future__ import annotations

import argparse

import optuna

from mlplab.experiments import TrainConfig
from mlplab.experiments.batched_trials import optimize_in_batches


def suggest(trial: optuna.Trial) -> dict:
    """One trial's settings: what the stack gives each of its networks."""
    return {
        "lr": trial.suggest_float("lr", 0.01, 1.0, log=True),
        "momentum": trial.suggest_float("momentum", 0.0, 0.95),
        "hidden": trial.suggest_int("hidden", 2, 8),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch", type=int, default=20, help="trials per batch (one stack)")
    parser.add_argument("--seeds", type=int, default=4, help="networks per trial")
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--engine", default="numpy")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = TrainConfig(hidden=(8,), optimizer="momentum", epochs=args.epochs,
                         engine=args.engine)  # fmt: skip
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=0))
    optimize_in_batches(study, suggest, config, batches=args.batches, batch_size=args.batch,
                        seeds=args.seeds)  # fmt: skip
    print(f"{len(study.trials)} trials; best final loss {study.best_value:.3g} with "
          f"{study.best_params}")  # fmt: skip


if __name__ == "__main__":
    main()
