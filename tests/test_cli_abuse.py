"""The command line under abuse: one line and a non-zero exit, before any work, never a traceback.

Output paths are checked before training; settings are bounded before anything is
allocated (from the command line and from a checkpoint alike); predictions refuse what
they cannot answer; messages say what to do.
"""

from __future__ import annotations

import json
import struct
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

from mlplab import MLP
from mlplab.cli import main

QUICK = ["--epochs", "5"]  # no progress bar: stderr is not a terminal


def _one_line_error(capsys, code: int, pattern: str) -> str:
    import re

    captured = capsys.readouterr()
    assert code != 0, captured.out
    err = captured.err.strip()
    assert "Traceback" not in captured.err
    assert err.count("\n") == 0, err
    assert re.search(pattern, err), err
    return err


# --- 1. output paths, checked before the work ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--save", "/nonexistent/x.st"], r"--save /nonexistent/x.st: no folder"),
        (["train", "--plot", "/nonexistent/x.png"], r"--plot .*: no folder /nonexistent"),
        (["train", "--checkpoint", "/nonexistent/c"], r"--checkpoint .*: no folder"),
        (["train", "--record", "/nonexistent/r.json"], r"--record .*: no folder"),
        (["train", "--plot", "out.txt"], r"--plot out.txt: extension .txt; expected a picture"),
        (["train", "--plot", "x.doc"], r"extension .doc; expected a picture: .*\.png"),
        (["train", "--plot", "noext"], r"--plot noext: no extension"),
        (["ensemble", "--nets", "2", "--plot", "/nonexistent/e.png"], r"--plot .*: no folder"),
        (["ensemble", "--nets", "2", "--plot", "e.txt"], r"extension .txt"),
        (["loo", "--plot", "l.txt"], r"extension .txt"),
        (["sweep", "--nets", "2", "--out", "/nonexistent/s.csv"], r"--out .*: no folder"),
        (["sweep", "--nets", "2", "--plot", "s.doc"], r"extension .doc"),
    ],
)
def test_bad_output_paths_are_refused_before_training(capsys, monkeypatch, args, message):
    import mlplab.nn.network as network

    def no_training(*a, **k):
        raise AssertionError("trained before checking its outputs")

    monkeypatch.setattr(network.MLP, "fit", no_training)
    _one_line_error(capsys, main([*args, *QUICK]), message)


def test_export_out_into_a_missing_folder_is_one_line(tmp_path, capsys) -> None:
    MLP([2, 3, 1]).save(tmp_path / "m.st")
    code = main(["export", str(tmp_path / "m.st"), "--format", "numpy", "--out",
                 "/nonexistent/p.py"])  # fmt: skip
    _one_line_error(capsys, code, r"--out /nonexistent/p.py: no folder")


def test_outputs_that_collide_or_overwrite_an_input_are_refused(tmp_path, capsys) -> None:
    same = str(tmp_path / "same")
    _one_line_error(capsys, main(["train", "--save", same, "--checkpoint", same, *QUICK]),
                    r"--save and --checkpoint both write")  # fmt: skip
    data = tmp_path / "d.csv"
    data.write_text("a,y\n0,0\n1,1\n")
    _one_line_error(capsys, main(["train", "--data", str(data), "--target", "y", "--save",
                                  str(data), *QUICK]), r"would overwrite the data file")
    MLP([2, 1]).save(tmp_path / "m.st")
    code = main(["export", str(tmp_path / "m.st"), "--format", "torch", "--out",
                 str(tmp_path / "m.st")])  # fmt: skip
    _one_line_error(capsys, code, "would overwrite the model")
    assert MLP.load(tmp_path / "m.st").sizes[0] == 2  # the model is still there


def test_a_write_error_after_training_still_shows_the_results(tmp_path, capsys, monkeypatch):
    import errno
    import os

    from mlplab.io import files

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "write", full)
    code = main(["train", "--save", str(tmp_path / "m.st"), *QUICK])
    captured = capsys.readouterr()
    assert code == 1
    assert "final loss" in captured.out  # the results came first
    assert captured.err.strip().endswith("No space left on device; no file was written")
    assert os.listdir(tmp_path) == []


# --- 3. settings bounded before anything is allocated --------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--epochs", "1000000000000"], r"--epochs: 1000000000000 is more than"),
        (["train", "--hidden", "100000000", "--epochs", "1"], r"--hidden 100000000: .* more"),
        (["train", "--hidden", "100000,100000", "--epochs", "1"], r"needs about .* GiB of mem"),
        (["train", "--dataset", "moons", "--points", "1000000000"], r"--points: .* more than"),
        (["loo", "--hidden", "100000,100000", "--epochs", "1"], r"needs about .* GiB"),
        (["sweep", "--hidden", "100000x100000", "--epochs", "1", "--nets", "4"], r"needs about"),
        (["ensemble", "--epochs", "1000000000000"], r"--epochs: .* more than"),
    ],
)
def test_huge_settings_are_refused_before_allocating(capsys, args, message):
    tracemalloc.start()
    try:
        code = main(args)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    _one_line_error(capsys, code, message)
    assert peak < 64 << 20, peak


def _checkpoint_with(tmp_path: Path, capsys, **settings) -> Path:
    ck = tmp_path / "c.ckpt"
    assert main(["train", "--checkpoint", str(ck), "--epochs", "3", "-q", "--json"]) == 0
    capsys.readouterr()
    data = ck.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    info = json.loads(header["__metadata__"]["mlplab_checkpoint"])
    info["run"]["config"].update(settings)
    header["__metadata__"]["mlplab_checkpoint"] = json.dumps(info)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    ck.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    return ck


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epochs": 10**12}, r"c.ckpt: the saved settings are out of range: --epochs"),
        ({"points": 10**9, "dataset": "moons"}, r"out of range: --points"),
    ],
)
def test_a_checkpoint_asking_for_huge_settings_is_refused(tmp_path, capsys, settings, message):
    ck = _checkpoint_with(tmp_path, capsys, **settings)
    tracemalloc.start()
    try:
        code = main(["train", "--resume", str(ck), "-q"])
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    _one_line_error(capsys, code, message)
    assert peak < 64 << 20


# --- 4. everything else a user hits ---------------------------------------------------------


def test_sweep_without_joblib_is_one_line(capsys, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_joblib(name, *args, **kwargs):
        if name == "joblib" or name.startswith("joblib."):
            raise ImportError("No module named 'joblib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_joblib)
    code = main(["sweep", "--by-cell", "--nets", "2", "--epochs", "5", "-q"])
    _one_line_error(capsys, code, r"sweep needs joblib .*pip install 'mlplab\[experiments\]'")


def test_softmax_on_one_output_is_refused_naming_sigmoid(capsys) -> None:
    code = main(["train", "--dataset", "moons", "--output-activation", "softmax",
                 "--loss", "cross_entropy", *QUICK])  # fmt: skip
    _one_line_error(capsys, code, r"softmax with one output .*use --output-activation sigmoid")
    code = main(["ensemble", "--nets", "2", "--output-activation", "softmax", *QUICK])
    _one_line_error(capsys, code, r"softmax with one output")


def test_early_stopping_without_validation_says_what_it_watches(capsys) -> None:
    assert main(["train", "--dataset", "moons", "--early-stopping", "3", *QUICK]) == 0
    assert "--early-stopping 3 without --validation watches the training loss" in (
        capsys.readouterr().out
    )
    assert main(["train", "--help"]) == 0
    assert "training loss without --validation" in " ".join(capsys.readouterr().out.split())


def test_predict_on_a_stacked_model_prints_each_network(tmp_path, capsys) -> None:
    MLP([3, 2, 1], bias=False, stack=3).save(tmp_path / "s.st")
    assert main(["predict", str(tmp_path / "s.st"), "--input", "0,1,1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["network 0", "network 1", "network 2"]


@pytest.mark.parametrize(
    ("model", "given", "message"),
    [
        ({}, "nan,0", r"--input 'nan,0': nan is not a finite number"),
        ({}, "inf,0", r"inf is not a finite number"),
        ({"dtype": "float32"}, "1e308,0", r"1e\+308 does not fit the model's float32 inputs"),
    ],
)
def test_predict_refuses_inputs_it_cannot_answer(tmp_path, capsys, model, given, message):
    MLP([2, 3, 1], **model).save(tmp_path / "m.st")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning leaks out either
        code = main(["predict", str(tmp_path / "m.st"), "--input", given])
    _one_line_error(capsys, code, message)


def test_predict_names_the_class_of_a_multi_class_model_without_names(tmp_path, capsys):
    MLP([2, 3, 3], output_activation="softmax", loss="cross_entropy", seed=0).save(
        tmp_path / "m.st"
    )
    assert main(["predict", str(tmp_path / "m.st"), "--input", "1,0"]) == 0
    out = capsys.readouterr().out.split()
    probabilities = np.array([float(v) for v in out[2:5]])
    assert out[5] == str(int(np.argmax(probabilities)))


def test_holdout_on_a_2d_data_set_is_scored_apart(capsys) -> None:
    assert main(["train", "--dataset", "moons", "--holdout", "0", "--json", *QUICK]) == 0
    scores = json.loads(capsys.readouterr().out)["scores"]
    assert scores["train"]["rows"] == 199
    assert scores["held out"]["rows"] == 1


def test_small_data_sets_with_a_split_report_their_scores(capsys) -> None:
    assert main(["train", "--dataset", "moons", "--points", "12", "--validation", "0.25",
                 "--test", "0.25", *QUICK]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "validation: 3 examples, mean loss per example" in out
    assert "test: 3 examples" in out


def test_the_loss_units_are_named(capsys) -> None:
    assert main(["train", "--dataset", "moons", *QUICK]) == 0
    out = capsys.readouterr().out
    assert "train: 200 examples, mean loss per example" in out
    assert "final loss" in out and "(mean over the 200 training examples)" in out
    assert main(["train", "--dataset", "moons", "--reduction", "sum", *QUICK]) == 0
    assert "(summed over the 200 training examples)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--init", "seed,foo"], r"^mlplab: error: --init: unknown init 'foo'; one of: "
                                          r"seed, uniform, glorot, he$"),
    ],
)
def test_messages_say_what_to_do(capsys, args, message) -> None:
    _one_line_error(capsys, main(args), message)


def test_hidden_8x8_suggests_8_8(capsys) -> None:
    assert main(["train", "--hidden", "8x8"]) == 2  # a click usage error
    assert capsys.readouterr().err.strip().endswith("(layers are separated by commas here: "
                                                    "try 8,8)")


def test_export_numpy_to_a_file_that_is_no_module_name(tmp_path, capsys) -> None:
    MLP([2, 3, 1]).save(tmp_path / "m.st")
    out = tmp_path / "bad-name.py"
    assert main(["export", str(tmp_path / "m.st"), "--format", "numpy", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "from bad-name import" not in said and "runpy.run_path(" in said
    import runpy

    assert callable(runpy.run_path(str(out))["predict"])


def test_sweep_help_says_hidden_lists_cells(capsys) -> None:
    assert main(["sweep", "--help"]) == 0
    assert "train's --hidden 8,8 is one network of two layers" in " ".join(
        capsys.readouterr().out.split()
    )


def test_register_activation_names_the_flag_it_was_given() -> None:
    from mlplab import ConfigError
    from mlplab.nn.activations import check_derivative

    with pytest.raises(ConfigError, match=r"\(from_output=True\); register it with "
                                          r"from_output=False"):
        check_derivative(np.tanh, lambda z: 1 - np.tanh(z) ** 2, from_output=True, name="t")


# --- --resume extends a run ------------------------------------------------------------------


def test_resume_with_more_epochs_continues_and_says_from_where(tmp_path, capsys) -> None:
    ck = tmp_path / "c.ckpt"
    assert main(["train", "--checkpoint", str(ck), "--epochs", "200", "-q"]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(ck), "--epochs", "500", "-q"]) == 0
    captured = capsys.readouterr()
    assert f"resuming {ck} from epoch 200 of 500" in captured.err
    from mlplab.io.checkpoints import load_checkpoint

    assert load_checkpoint(ck).epoch == 500
    assert main(["train", "--checkpoint", str(tmp_path / "u"), "--epochs", "500", "-q",
                 "--json"]) == 0  # fmt: skip
    straight = json.loads(capsys.readouterr().out)
    assert main(["train", "--resume", str(ck), "--json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["final_loss"] == straight["final_loss"]
    _one_line_error(capsys, main(["train", "--resume", str(ck), "--epochs", "100"]),
                    r"--epochs 100: the checkpoint .* has already run 500 epochs")


def test_ctrl_c_names_the_checkpoint_to_resume_from(tmp_path, capsys, monkeypatch) -> None:
    from mlplab.io.checkpoints import CheckpointCallback

    ck = tmp_path / "c.ckpt"
    real = CheckpointCallback.save

    def save_then_interrupt(self):
        real(self)
        if self.epoch >= 100:
            raise KeyboardInterrupt

    monkeypatch.setattr(CheckpointCallback, "save", save_then_interrupt)
    code = main(["train", "--checkpoint", str(ck), "--checkpoint-every", "100", *QUICK[2:],
                 "--epochs", "1000"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 130
    assert f"Interrupted: the checkpoint {ck} holds epoch 100; continue with --resume {ck}" in err


# --- 5. defaults that depend on the task -----------------------------------------------------


def test_the_seeds_gates_keep_the_seeds_60000_full_batch_epochs(capsys) -> None:
    assert main(["train", "--json", "-q"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["config"]["epochs"] == 60000 and doc["config"]["reduction"] == "sum"
    assert doc["config"]["early_stopping"] is None and doc["notes"] == []


def test_other_data_gets_a_budget_with_early_stopping_and_says_so(capsys) -> None:
    assert main(["train", "--dataset", "moons"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "5000 epochs" in out[0]
    assert out[1] == (
        "defaults for moons: --epochs 5000 (full-batch), --early-stopping 50 (on the training "
        "loss), --reduction mean (give the option to choose)"
    )
    assert main(["train", "--dataset", "moons", "--batch-size", "20", "--validation", "0.2",
                 "--json", "-q"]) == 0  # fmt: skip
    config = json.loads(capsys.readouterr().out)["config"]
    assert (config["epochs"], config["early_stopping"]) == (300, 50)


def test_a_csv_on_very_different_scales_learns_with_no_tuning(tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=400), rng.normal(size=400) * 1000 + 5000
    y = (a + (b - 5000) / 1000 > 0).astype(int)
    path = tmp_path / "easy.csv"
    rows = "".join(f"{u},{v},{w}\n" for u, v, w in zip(a, b, y, strict=True))
    path.write_text("a,b,label\n" + rows)
    assert main(["train", "--data", str(path), "--target", "label", "--test", "0.25",
                 "--json", "-q"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["standardize"] is True
    assert doc["scores"]["test"]["accuracy"] >= 0.95
    assert main(["train", "--data", str(path), "--target", "label", "--no-standardize",
                 "--epochs", "10", "--json", "-q"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["config"]["standardize"] is False


def test_plot_without_matplotlib_is_one_line_before_training(capsys, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    code = main(["train", "--plot", "loss.png", *QUICK])
    _one_line_error(capsys, code, r"--plot needs matplotlib: pip install 'mlplab\[plot\]'")
