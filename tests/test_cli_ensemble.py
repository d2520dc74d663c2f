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


def _ensemble(capsys, args):
    code = main(["ensemble", *args, "--json", "-q"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_mini_batches_and_adam_on_a_noisy_2d_set_match_the_seeds_one_by_one(capsys):
    """Every network of the stack trains as it would alone, with the stack's batch order."""
    args = ["--dataset", "moons", "--points", "60", "--noise", "0.2", "--hidden", "6"]
    args += ["--activation", "tanh", "--init", "glorot", "--seed", "5", "--epochs", "40"]
    args += ["--batch-size", "16", "--optimizer", "adam", "--lr", "0.05", "--nets", "9"]
    doc = _ensemble(capsys, args)
    config = doc["config"]
    assert (config["batch_size"], config["optimizer"], config["points"]) == (16, "adam", 60)
    X, t = load_dataset("moons", 60, 0.2, 5)
    right = []
    for i in range(9):
        net = MLP([2, 6, 1], activation="tanh", init="glorot", seed=5 + i)
        net.fit(X, t, epochs=40, lr=0.05, batch_size=16, optimizer="adam", seed=5)
        right.append(bool(solved(net.predict(X), t)))
    assert 0 < sum(right) < 9 or doc["solved_fraction"] in (0.0, 1.0)
    assert doc["solved_fraction"] == np.mean(right)


def test_a_csv_file_with_standardised_inputs(tmp_path, capsys):
    X, t = load_dataset("circle", 80, 0.1, 2)
    pairs = zip(X, t, strict=True)
    rows = ["a,b,label"] + [f"{100 * x0 + 50},{x1 / 10},{int(y)}" for (x0, x1), (y,) in pairs]
    path = tmp_path / "circle.csv"
    path.write_text("\n".join(rows) + "\n")
    args = ["--data", str(path), "--target", "label", "--standardize", "--hidden", "8"]
    args += ["--init", "glorot", "--epochs", "300", "--lr", "0.05", "--nets", "8"]
    doc = _ensemble(capsys, args)
    raw = np.column_stack([100 * X[:, 0] + 50, X[:, 1] / 10])
    right = []
    for i in range(8):
        net = MLP([2, 8, 1], init="glorot", seed=i)
        net.fit(raw, t, epochs=300, lr=0.05, standardize=True)
        right.append(bool(solved(net.predict(raw), t)))
    assert doc["solved_fraction"] == np.mean(right)
    text = main(["ensemble", *args, "-q"])
    assert text == 0 and "circle.csv: 8 networks" in capsys.readouterr().out


def test_a_schedule_that_reads_one_loss_is_refused_for_a_stack(capsys):
    assert main(["ensemble", "--nets", "8", "--epochs", "5", "--schedule", "adaptive"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a stack" in err

