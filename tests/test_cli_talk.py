"""What the command line says: the header before training, Ctrl-C, --quiet, --epochs 0,
a CSV's default target, the seed's bias column, a linear network's lesson, counted nouns."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from mlplab.cli import main
from mlplab.io.records import load_record
from mlplab.nn.network import MLP


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mlplab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_ctrl_c_keeps_the_plot_the_weights_reached_and_the_record(tmp_path):
    model, plot, record = tmp_path / "x.st", tmp_path / "loss.png", tmp_path / "run.json"
    process = _start("train", "--epochs", "5000000", "--save", str(model), "--plot", str(plot),
                     "--record", str(record))  # fmt: skip
    try:
        header = process.stdout.readline()  # the header comes while training runs
        assert header.startswith("xor: 3-4-1 sigmoid/sigmoid, squared_error (sum), 5000000 epochs")
        assert process.poll() is None
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in err
    said = err.strip().splitlines()
    reached = int(said[0].split("interrupted at epoch ")[1].split()[0])
    assert 0 < reached < 5000000
    assert said[0].startswith(f"interrupted at epoch {reached} of 5000000: loss so far ")
    assert said[1] == f"run record (to the epoch reached) written to {record}"
    assert f"(stopped after {reached} epochs)" in out
    assert f"model written to {model}" in out and f"loss plot written to {plot}" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    net = MLP.load(model)
    assert net.training_metadata["epochs"] == reached
    loss = float(said[0].rsplit(" ", 1)[1])
    assert net.training_metadata["final_loss"] == pytest.approx(loss, rel=1e-5)
    assert load_record(record)["epochs"] == reached


def test_ctrl_c_with_a_checkpoint_says_where_to_resume(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    process = _start("train", "--epochs", "5000000", "--checkpoint", str(checkpoint), "-q")
    try:
        deadline = time.monotonic() + 120  # -q prints no header to wait for: the first
        while not checkpoint.exists():  # checkpoint (epoch 1000) says the training runs
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert out.startswith("final loss ") and len(out.strip().splitlines()) == 1
    assert err.strip().splitlines()[-1] == (
        f"checkpoint {checkpoint} holds the epoch reached; continue with --resume {checkpoint}"
    )
    assert checkpoint.stat().st_size > 0


def test_epochs_0_reports_the_loss_of_the_starting_weights(capsys):
    assert main(["train", "--epochs", "0", "--json"]) == 0
    start = json.loads(capsys.readouterr().out)["final_loss"]
    assert main(["train", "--epochs", "1", "--json"]) == 0  # epoch 0's loss: before its step
    assert start == pytest.approx(json.loads(capsys.readouterr().out)["final_loss"], rel=1e-12)
    assert main(["train", "--epochs", "0", "-q"]) == 0
    assert capsys.readouterr().out.startswith(f"final loss {start:.6g} (summed over the 4 ")


def test_quiet_prints_the_final_line_only(capsys, tmp_path):
    assert main(["train", "--epochs", "300", "-q", "--save", str(tmp_path / "m.st")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("final loss ")
    assert (tmp_path / "m.st").exists()


def test_a_csv_trains_on_its_last_column_and_the_table_names_its_columns(tmp_path, capsys):
    path = tmp_path / "and.csv"
    path.write_text("a,b,label\n0,0,0\n0,1,0\n1,0,0\n1,1,1\n")
    assert main(["train", "--data", str(path), "--epochs", "2000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}: 2-4-1 ")
    assert f"target: label, the last column of {path} (--target COLUMN picks another)" in lines
    assert lines[lines.index("") + 1].split() == ["a", "b", "target", "prediction"]
    rows = [line.split() for line in lines if line[:1] == " " and line.split()[0] in "01"]
    assert [round(float(r[3])) for r in rows] == [0, 0, 0, 1]
    assert main(["train", "--data", str(path), "--target", "a", "--epochs", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("target:") for line in lines)
    assert lines[lines.index("") + 1].split()[:2] == ["b", "label"]


def test_a_linear_network_on_xor_is_told_why(capsys):
    assert main(["train", "--activation", "identity", "--epochs", "3000"]) == 0
    out = capsys.readouterr().out
    assert "vanishing gradient" not in out
    text = " ".join(out.split())
    assert "every hidden unit is linear, so the network computes a linear function" in text
    assert "XOR is not one: no straight line separates its classes" in text


def test_counts_of_one_are_singular(capsys):
    assert main(["train", "--epochs", "50", "--holdout", "2"]) == 0
    out = capsys.readouterr().out
    assert "held out: 1 example, mean loss" in out and "1 examples" not in out
    assert main(["train", "--epochs", "1"]) == 0
    assert "3-4-1 sigmoid/sigmoid, squared_error (sum), 1 epoch, lr 1" in capsys.readouterr().out
    assert main(["ensemble", "--nets", "2", "--epochs", "100"]) == 0
    assert "(watched every 1 epoch)" in capsys.readouterr().out


def test_a_misspelt_command_gets_a_suggestion(capsys):
    assert main(["trian"]) == 2
    assert "No such command 'trian'. (Did you mean 'train'?)" in capsys.readouterr().err
    assert main(["zzz"]) == 2
    assert "Did you mean" not in capsys.readouterr().err


def test_the_header_is_printed_when_training_begins(capsys, monkeypatch):
    import mlplab.experiments.runs as runs

    seen = []
    fit = MLP.fit

    def watching_fit(net, *args, **kwargs):  # what was printed when the first epoch ran
        def first(epoch, logs):
            if epoch == 0:
                seen.append(capsys.readouterr().out)

        kwargs["callbacks"] = [*kwargs.get("callbacks", ()), first]
        return fit(net, *args, **kwargs)

    monkeypatch.setattr(runs.MLP, "fit", watching_fit)
    assert main(["train", "--epochs", "20"]) == 0
    assert seen[0].startswith("xor: 3-4-1 sigmoid/sigmoid")
    assert "final loss" not in seen[0]
    assert np.all([line.strip() == "" for line in seen[0].splitlines()[1:]])
