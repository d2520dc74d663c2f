"""``mlplab train`` on users' files and built-in sets with splits, mini-batches and optimizers."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import require

from mlplab import MLP, load_dataset
from mlplab.cli import main
from mlplab.nn.scaling import InputScaler

CLASSIFIER = [
    "--hidden", "16", "--activation", "tanh", "--init", "glorot", "--reduction", "mean",
    "--optimizer", "adam", "--lr", "0.05", "--batch-size", "16",
]  # fmt: skip


@pytest.fixture
def scaled_csv(tmp_path):
    """Two inputs on very different scales; the label depends on both."""
    rng = np.random.default_rng(0)
    path = tmp_path / "data.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["big", "small", "label"])
        for _ in range(240):
            a, b = rng.uniform(-1, 1, 2)
            writer.writerow([a * 1000, b / 1000, int(a * b > 0)])
    return path


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_train_on_a_csv_with_standardisation_and_a_test_split(tmp_path, scaled_csv, capsys):
    model = tmp_path / "m.safetensors"
    args = ["train", "--data", str(scaled_csv), "--target", "label", "--loss",
            "binary_cross_entropy", "--epochs", "150", "--standardize", "--test", "0.25",
            "--save", str(model), "--json", *CLASSIFIER]  # fmt: skip
    assert main(args) == 0
    out = _json(capsys)
    assert out["scores"]["train"]["rows"] == 180
    assert out["scores"]["test"]["rows"] == 60
    assert out["scores"]["test"]["accuracy"] > 0.9
    # the saved model carries the standardisation, fitted on the 180 training rows only,
    # and predicts from raw inputs, in Python as on the command line
    net = MLP.load(model)
    assert "standardize" not in net.training_metadata
    X = np.loadtxt(scaled_csv, delimiter=",", skiprows=1)[:, :2]
    test_rows = net.training_metadata["split"]["test"]
    expected = InputScaler.fit(np.delete(X, test_rows, axis=0))
    np.testing.assert_allclose(net.input_scaler.mean, expected.mean, rtol=1e-12)
    np.testing.assert_allclose(net.input_scaler.scale, expected.scale, rtol=1e-12)
    raw = np.array([[500.0, 0.0005], [500.0, -0.0005]])
    assert main(["predict", str(model), "--input", "500,0.0005", "--input", "500,-0.0005",
                 "--json"]) == 0  # fmt: skip
    predictions = np.array(_json(capsys)["predictions"])
    np.testing.assert_array_equal(net.predict(raw), predictions)
    bare = MLP.load(model)
    bare.input_scaler = None
    np.testing.assert_allclose(bare.predict(expected.transform(raw)), predictions, rtol=1e-10)
    assert predictions[0, 0] > 0.5 > predictions[1, 0]


def test_without_standardisation_the_same_csv_is_learned_worse(scaled_csv, capsys):
    args = ["train", "--data", str(scaled_csv), "--target", "label", "--loss",
            "binary_cross_entropy", "--epochs", "150", "--test", "0.25", "--json",
            "--no-standardize", *CLASSIFIER]  # fmt: skip
    assert main(args) == 0
    assert _json(capsys)["scores"]["test"]["accuracy"] < 0.9


def test_multi_class_npz_with_integer_labels_validation_and_early_stopping(tmp_path, capsys):
    X, T = load_dataset("gaussians3", n=150, noise=0.5, seed=1)  # overlapping: it overfits
    path = tmp_path / "blobs.npz"
    np.savez(path, X=X, y=T.argmax(axis=1))
    args = ["train", "--data", str(path), "--loss", "cross_entropy", "--output-activation",
            "softmax", "--epochs", "500", "--validation", "0.2", "--early-stopping", "5",
            "--json", *CLASSIFIER]  # fmt: skip
    assert main(args) == 0
    out = _json(capsys)
    assert out["epochs_run"] < 500
    assert out["scores"]["validation"]["accuracy"] > 0.5
    assert len(out["predictions"][0]) == 3


def test_built_in_set_with_noise_points_schedule_and_weight_decay(capsys):
    args = ["train", "--dataset", "moons", "--points", "120", "--noise", "0.1", "--loss",
            "binary_cross_entropy", "--epochs", "40", "--schedule", "step", "--weight-decay",
            "0.001", "--optimizer", "momentum", "--json", "--quiet", "--hidden", "8",
            "--activation", "tanh", "--init", "glorot", "--reduction", "mean", "--lr", "0.5",
            "--batch-size", "20"]  # fmt: skip
    assert main(args) == 0
    out = _json(capsys)
    assert len(out["predictions"]) == 120
    assert out["scores"]["train"]["accuracy"] > 0.8


def test_digits_from_the_command_line(capsys):
    require("sklearn")
    args = ["train", "--dataset", "digits", "--hidden", "32", "--activation", "relu", "--init",
            "he", "--output-activation", "softmax", "--loss", "cross_entropy", "--reduction",
            "mean", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "64", "--epochs", "10",
            "--test", "0.25"]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "digits: 64-32-10" in text
    line = next(s for s in text.splitlines() if s.strip().startswith("test:"))
    assert float(line.rsplit("accuracy ", 1)[1].rstrip("%")) > 85


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("a,b\n1,2\n", ["--target", "c"], "no target column 'c'; the columns are: a, b"),
        ("a,b\n1,2\n3\n", ["--target", "b"], "line 3 has 1 cells"),
        ("a,b\nx,1\n", ["--target", "b"], "line 2, column 'a': 'x' is not a number"),
        ("a,b\n1,cat\n2,cat\n", ["--target", "b"], "only one class, 'cat'"),
        ("a,b\n1,cat\n2,dog\n3,eel\n", ["--target", "b"], "3 class names; train them with "
                                                           "--loss cross_entropy"),
        ("a,b\n1,cat\n2,\n", ["--target", "b"], "line 3, column 'b' is empty; expected a class"),
        ("a\n1\n", [], "only the target column 'a'; no input columns"),
        ("a,b\n1,0.5\n2,1\n", ["--target", "b", "--loss", "cross_entropy",
                               "--output-activation", "softmax"], "needs class labels"),
        ("a,b\n1,0\n2,1\n3,0\n", ["--target", "b", "--test", "0.9"], "each asked-for part"),
    ],
)  # fmt: skip
def test_bad_data_is_one_line_and_exit_1(tmp_path, capsys, content, extra, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["train", "--data", str(path), "--quiet", "--epochs", "1", *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_optimizer_lists_the_choices(capsys):
    assert main(["train", "--optimizer", "lion"]) != 0
    assert "sgd" in capsys.readouterr().err


def test_real_command_in_a_subprocess(scaled_csv):
    args = [sys.executable, "-m", "mlplab", "train", "--data", str(scaled_csv), "--target",
            "label", "--loss", "binary_cross_entropy", "--epochs", "5", "--json",
            "--standardize", *CLASSIFIER]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["epochs"] == 5




@pytest.fixture
def species_csv(tmp_path):
    """Three named classes, separable on the first input."""
    rng = np.random.default_rng(0)
    path = tmp_path / "flowers.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["length", "species", "width"])
        for i in range(90):
            name = ("virginica", "setosa", "versicolor")[i % 3]
            centre = {"setosa": 1.0, "versicolor": 4.0, "virginica": 7.0}[name]
            writer.writerow([centre + rng.normal(0, 0.3), name, rng.normal(0, 1)])
    return path


NAMED = ["--target", "species", "--loss", "cross_entropy", "--output-activation", "softmax",
         "--epochs", "200", *CLASSIFIER]  # fmt: skip


def test_class_names_are_kept_with_the_model_and_predicted_by_name(
    tmp_path, species_csv, capsys
):
    model = tmp_path / "m.st"
    args = ["train", "--data", str(species_csv), *NAMED, "--save", str(model), "--json"]
    assert main(args) == 0
    out = _json(capsys)
    assert out["classes"] == ["setosa", "versicolor", "virginica"]  # sorted
    assert out["predicted_classes"][:3] == ["virginica", "setosa", "versicolor"]
    assert MLP.load(model).training_metadata["classes"] == out["classes"]
    assert main(["predict", str(model), "--input", "1,0", "--input", "7,0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("1,0 -> ") and lines[0].endswith("  setosa")
    assert lines[1].endswith("  virginica")
    assert main(["predict", str(model), "--input", "4,0", "--json"]) == 0
    assert _json(capsys)["predicted_classes"] == ["versicolor"]


def test_two_class_names_train_a_single_sigmoid_and_the_table_shows_names(tmp_path, capsys):
    path = tmp_path / "pets.csv"
    path.write_text("size,kind\n1,cat\n1.2,cat\n5,dog\n5.5,dog\n0.8,cat\n6,dog\n")
    args = ["train", "--data", str(path), "--target", "kind", "--loss", "binary_cross_entropy",
            "--epochs", "300", *CLASSIFIER]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "target  prediction  class" in text
    rows = [line.split() for line in text.splitlines() if line.strip()[:1].isdigit()]
    assert [(r[1], r[-1]) for r in rows[:3]] == [("cat", "cat"), ("cat", "cat"), ("dog", "dog")]


def test_predict_refuses_malformed_class_names(tmp_path, species_csv, capsys):
    model = tmp_path / "m.st"
    assert main(["train", "--data", str(species_csv), *NAMED, "--epochs", "1",
                 "--save", str(model)]) == 0  # fmt: skip
    net = MLP.load(model)
    net.save(model, metadata={"classes": ["only", "two"]})
    capsys.readouterr()
    assert main(["predict", str(model), "--input", "1,0"]) == 1
    err = capsys.readouterr().err
    assert "invalid class names" in err and "a list of 3 strings" in err
    assert len(err.strip().splitlines()) == 1


def test_predict_names_classes_in_a_subprocess(tmp_path, species_csv):
    model = tmp_path / "m.st"
    assert main(["train", "--data", str(species_csv), *NAMED, "--save", str(model)]) == 0
    out = subprocess.run([sys.executable, "-m", "mlplab", "predict", str(model), "--input",
                          "7.1,0.2"], capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.strip().endswith("virginica")
