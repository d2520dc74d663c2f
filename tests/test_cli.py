"""The command line, called in process through main() and as a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from seed_program import seed_run

from mlplab.cli import main


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``python -m mlplab ARGS`` in a real process (the entry point, a clean stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "mlplab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "120"},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_here(capsys, *args: str) -> tuple[int, str, str]:
    """``mlplab ARGS`` through ``main()`` in this process: the exit code, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_with_no_options_is_the_seed_run(capsys):
    assert main(["train"]) == 0
    out = capsys.readouterr().out
    assert "xor: 3-4-1 sigmoid/sigmoid, squared_error (sum), 60000 epochs, lr 1" in out
    assert "target  prediction" in out
    assert "final loss" in out and "time" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    predictions = [float(r[4]) for r in rows[:4]]
    targets = [float(r[3]) for r in rows[:4]]
    assert [round(p) for p in predictions] == targets == [0, 1, 1, 0]


@pytest.mark.parametrize("seed", [0, 4])
def test_train_seed_reproduces_the_seed_program(seed, capsys):
    _, _, expected = seed_run(seed)
    if seed == 0:  # once as a user runs it: `python -m mlplab` in its own process
        result = run("train", "--seed", str(seed), "--json")
        stdout, stderr = result.stdout, result.stderr
    else:
        code, stdout, stderr = run_here(capsys, "train", "--seed", str(seed), "--json")
        assert code == 0, stderr
    doc = json.loads(stdout)  # nothing but the JSON on stdout
    np.testing.assert_allclose(doc["predictions"], expected, rtol=0, atol=1e-9)
    assert doc["targets"] == [[0.0], [1.0], [1.0], [0.0]]
    assert doc["epochs"] == 60000
    assert doc["config"]["seed"] == seed and doc["config"]["hidden"] == [4]
    assert doc["seconds"] > 0 and doc["final_loss"] < 0.01
    assert stderr == ""  # no progress bar when stderr is not a terminal


def test_holdout_trains_without_the_row_and_reports_it(capsys):
    assert main(["train", "--holdout", "3", "--epochs", "3000", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["predictions"]) == 4 and doc["holdout"] == 3
    assert main(["train", "--holdout", "0", "--epochs", "300"]) == 0
    out = capsys.readouterr().out
    assert "(held out)" in out and "held-out row 0: predicted" in out


def test_plot_writes_a_png(tmp_path, capsys):
    path = tmp_path / "loss.png"
    assert main(["train", "--epochs", "500", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"loss plot written to {path}" in capsys.readouterr().out


def test_save_then_predict(tmp_path, capsys):
    model = tmp_path / "xor.safetensors"
    assert main(["train", "--epochs", "5000", "--save", str(model), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)["predictions"]
    args = ["predict", str(model), "--input", "0,0,1", "--input", "1,0,1", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(doc["predictions"], [trained[0], trained[2]], rtol=1e-12)
    assert main(["predict", str(model), "--input", "0,1,1"]) == 0
    assert capsys.readouterr().out.startswith("0,1,1 -> 0.9")


@pytest.mark.parametrize(
    "options",
    [
        ["--hidden", "8,8"],
        ["--activation", "tanh"],
        ["--activation", "relu", "--init", "he", "--lr", "0.1"],
    ],
)
def test_exercises_one_to_three(options, capsys):
    assert main(["train", "--epochs", "2000", "--json", *options]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["final_loss"] < 0.5


def test_loo_reports_every_row(tmp_path, capsys):
    plot = tmp_path / "loo.png"
    assert main(["loo", "--seeds", "3", "--epochs", "300", "--json", "--plot", str(plot)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["row"] for r in doc["rows"]] == [0, 1, 2, 3]
    assert all(0 <= r["right_fraction"] <= 1 for r in doc["rows"])
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--holdout", "4"], "--holdout 4 is out of range: xor has rows 0 to 3"),
        (["train", "--hidden", "0"], "--hidden"),
        (["train", "--hidden", "4,x"], "expected positive integers"),
        (["train", "--epochs", "-5"], "--epochs"),
        (["train", "--activation", "sigmod"], "'sigmod' is not one of 'sigmoid'"),
        (["train", "--dataset", "mnist"], "'mnist' is not one of"),
        (["predict", str(Path(__file__)), "--input", "0,0,1"], "not a model file"),
        (["predict", "nowhere.safetensors", "--input", "0,0,1"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(args, message, capsys):
    code, _, stderr = run_here(capsys, *args)
    assert code != 0
    assert message in stderr
    assert "Traceback" not in stderr


def test_bad_input_exits_non_zero_from_a_real_process():
    result = run("train", "--holdout", "4", check=False)
    assert result.returncode == 1
    assert "--holdout 4 is out of range: xor has rows 0 to 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_predict_input_of_the_wrong_width(tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    assert run_here(capsys, "train", "--epochs", "10", "--save", str(model))[0] == 0
    code, _, stderr = run_here(capsys, "predict", str(model), "--input", "0,1")
    assert code == 1
    assert stderr.strip() == (
        "mlplab: error: --input '0,1' has 2 values; the model takes 3, the third being the "
        "constant-1 bias column the seed appends to its inputs (try --input 0,1,1)"
    )
    _, _, stderr = run_here(capsys, "predict", str(model), "--input", "0")  # not the seed's two
    assert stderr.strip() == "mlplab: error: --input '0' has 1 value; the model takes 3"


def test_the_installed_script_and_help():
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "mlplab"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("train", "predict", "loo"):
        assert command in result.stdout


def test_progress_bar_on_a_terminal_and_not_with_quiet():
    import fcntl
    import pty
    import struct
    import termios

    def stderr_of(*args: str) -> str:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        proc = subprocess.Popen([sys.executable, "-m", "mlplab", "train", *args],
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.communicate(timeout=120)
        os.close(master)
        assert proc.returncode == 0
        return b"".join(chunks).decode(errors="replace")

    shown = stderr_of("--epochs", "20000")
    assert "training" in shown and "epoch" in shown and "loss=" in shown
    assert stderr_of("--epochs", "20000", "--quiet") == ""
