"""``mlplab ensemble``: the report, JSON, the plot, refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from mlplab import MLP, load_dataset
from mlplab.cli import COMMANDS, main
from mlplab.experiments import solved


def test_ensemble_is_registered():
    assert COMMANDS["ensemble"] == "mlplab.cli.ensemble:ensemble"


def test_ensemble_json_matches_training_the_seeds_one_by_one(capsys):
    args = ["ensemble", "--nets", "10", "--epochs", "1500", "--seed", "3", "--json", "-q"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    for key in ("nets", "solved_fraction", "epochs_to_solve", "final_loss", "seconds", "config"):
        assert key in doc
    assert doc["nets"] == 10 and doc["config"]["seed"] == 3
    X, t = load_dataset("xor")
    right = []
    for seed in range(3, 13):
        net = MLP([3, 4, 1], bias=False, init="seed", seed=seed)
        net.fit(X, t, epochs=1500)
        right.append(bool(solved(net.predict(X), t)))
    assert doc["solved_fraction"] == np.mean(right)
    assert set(doc["final_loss"]) >= {"p10", "p50", "p90"}
    assert set(doc["epochs_to_solve"]) >= {"median", "p90"}


def test_ensemble_text_report_and_plot(tmp_path, capsys):
    plot = tmp_path / "loss.png"
    assert main(["ensemble", "--nets", "12", "--epochs", "300", "--plot", str(plot), "-q"]) == 0
    out = capsys.readouterr().out
    assert "12 networks" in out and "solved" in out and "networks/s" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ensemble_refuses_a_stack_too_large_for_memory(capsys):
    assert main(["ensemble", "--nets", "1000000", "--epochs", "1", "--max-memory", "0.01"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mlplab: error: ")
    assert "1000000 networks needs about" in err and "0.01 GiB" in err


def test_ensemble_runs_as_a_real_command():
    result = subprocess.run(
        [sys.executable, "-m", "mlplab", "ensemble", "--nets", "8", "--epochs", "100", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["nets"] == 8
