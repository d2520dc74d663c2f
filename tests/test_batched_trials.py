"""Optuna trials in batches, each batch one stack: every trial's value is that of its networks
trained alone; the example script runs a small study."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require

from mlplab import MLP
from mlplab.errors import ConfigError
from mlplab.experiments import TrainConfig
from mlplab.experiments.batched_trials import train_trials
from mlplab.experiments.ensembles import ensemble_data
from mlplab.train.optimizers import Momentum

EXAMPLE = Path(__file__).parent.parent / "examples" / "optuna_batched.py"
CONFIG = TrainConfig(hidden=(6,), optimizer="momentum", epochs=300)


class _Fixed:
    """A stand-in trial whose settings are given (``suggest`` reads them)."""

    def __init__(self, **settings) -> None:
        self.settings = settings


def test_each_trial_is_its_networks_trained_alone() -> None:
    trials = [_Fixed(lr=0.1, momentum=0.5, hidden=3), _Fixed(lr=0.3, momentum=0.9, hidden=6)]
    values = train_trials(trials, lambda trial: trial.settings, CONFIG, seeds=2)
    X, t = ensemble_data(CONFIG)
    for trial, value in zip(trials, values, strict=True):
        s = trial.settings
        losses = []
        for seed in (0, 1):
            net = MLP([X.shape[1], s["hidden"], 1], **{**CONFIG.network_kwargs(), "seed": seed})
            net.fit(X, t, epochs=CONFIG.epochs, optimizer=Momentum(s["lr"], s["momentum"]), seed=0)
            losses.append(net.evaluate(X, t))
        assert value == pytest.approx(np.mean(losses), rel=1e-9)


def test_a_setting_outside_the_list_is_refused() -> None:
    with pytest.raises(ConfigError, match="suggest"):
        train_trials([_Fixed()], lambda trial: {"dropout": 0.5}, CONFIG)


def test_the_example_runs_a_small_study(monkeypatch, capsys) -> None:
    require("optuna")
    args = ["--batches", "2", "--batch", "4", "--seeds", "2", "--epochs", "200"]
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), *args])
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert out.startswith("8 trials; best final loss")
