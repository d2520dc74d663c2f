"""Run records and `mlplab replay`: identical reruns, and divergence found and measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlplab import MLP, SGD, ConfigError, load_dataset
from mlplab.cli import main
from mlplab.io.records import compare, load_record, make_record, write_record

RUN = ["--epochs", "5000", "-q"]


@pytest.fixture
def record(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "run.json"
    assert main(["train", *RUN, "--record", str(path)]) == 0
    capsys.readouterr()
    return path


def test_a_record_holds_config_versions_checksums_and_weights_hash(record: Path) -> None:
    saved = json.loads(record.read_text())
    assert saved["run"]["config"]["epochs"] == 5000 and saved["run"]["config"]["seed"] == 0
    assert saved["dtype"] == "float64"
    assert set(saved["versions"]) == {"mlplab", "numpy", "python", "machine"}
    assert saved["every"] == 50 and len(saved["loss_checksums"]) == 100
    assert saved["loss_checksums"][-1]["end"] == 5000
    assert len(saved["weights_sha256"]) == 64


def test_replay_of_an_unchanged_run_is_identical(record: Path, capsys) -> None:
    assert main(["replay", str(record), "-q"]) == 0
    assert capsys.readouterr().out.startswith("identical: 5000 epochs")
    assert main(["replay", str(record), "-q", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["identical"] is True and result["weights_identical"] is True
    assert result["versions"]["recorded"] == result["versions"]["replayed"]


def test_the_real_command_replays_and_exits_0(record: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlplab", "replay", str(record), "-q"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("identical: 5000 epochs")


def test_replay_finds_the_first_divergent_epochs_and_by_how_much(
    record: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_step = SGD.step
    calls = {"n": 0}

    def drifting_step(self, params, grads) -> None:  # floating-point drift from step 1234 on
        real_step(self, params, grads)
        if calls["n"] == 1234:
            params[0][0, 0] += 1e-9
        calls["n"] += 1

    monkeypatch.setattr(SGD, "step", drifting_step)
    assert main(["replay", str(record), "-q", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    # the step after epoch 1234 first changes the loss of epoch 1235: block 1200-1249
    assert (result["identical"], result["start"], result["end"]) == (False, 1200, 1250)
    assert 0 < result["difference"] < 1e-6 and result["weights_identical"] is False
    calls["n"] = 0
    assert main(["replay", str(record), "-q"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("diverged: first difference in epochs 1200-1249; at epoch 1249")


def test_compare_reports_a_shorter_rerun_and_differing_weights() -> None:
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], seed=1)
    losses = net.fit(X, t, epochs=100).loss
    saved = make_record({"command": "train"}, losses, net, every=10)
    assert compare(saved, losses, net).identical
    short = compare(saved, losses[:95], net)
    assert not short.identical and short.start == 90 and "differ in length" in short.describe()
    net.params[0]["W"][0, 0] += 1
    moved = compare(saved, losses, net)
    assert not moved.identical and moved.start is None and "weights differ" in moved.describe()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"hello": 1}', "not an mlplab run record"),
        (b'{"mlplab_record": 9}', "record version 9.*record version 2"),
        (b'{"mlplab_record": 1, "run": {}}', "field epochs: expected a non-negative integer"),
        (b"[" * 100000, "not JSON"),
    ],
)
def test_bad_records_are_refused_in_one_line(tmp_path: Path, capsys, content, message) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_record(path)
    assert main(["replay", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error:") and err.count("\n") == 1


def test_replay_refuses_a_record_of_settings_it_does_not_know(tmp_path: Path, capsys) -> None:
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], seed=1)
    losses = net.fit(X, t, epochs=10).loss
    run = {"command": "train", "config": {"hidden": [4], "warp_drive": 9}, "holdout": None}
    write_record(tmp_path / "r.json", make_record(run, losses, net))
    assert main(["replay", str(tmp_path / "r.json")]) == 1
    assert "settings this mlplab does not know: warp_drive" in capsys.readouterr().err
    np.testing.assert_array_equal(load_record(tmp_path / "r.json")["run"]["config"]["hidden"], [4])
