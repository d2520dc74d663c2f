"""Issue 23 §4: runs check what they would otherwise trust.

A checkpoint is locked while a run uses it; it remembers a fingerprint of its data;
Ctrl-C during a sweep keeps the finished cells and names the cut ones; a run record
carries a digest of its own contents and every malformed field is one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlplab.cli import main
from mlplab.errors import ConfigError
from mlplab.experiments import grid, sweeps
from mlplab.experiments.config import TrainConfig
from mlplab.io.files import hold_lock
from mlplab.io.records import load_record


def _one_line(capsys, code: int, pattern: str) -> str:
    captured = capsys.readouterr()
    assert code == 1, captured.out
    err = captured.err.strip()
    assert "Traceback" not in captured.err and err.count("\n") == 0, captured.err
    assert re.search(pattern, err), err
    return captured.out


# --- the checkpoint lock ------------------------------------------------------------------


def test_a_checkpoint_in_use_is_refused_to_a_second_run(tmp_path, capsys):
    path = tmp_path / "run.ckpt"
    with hold_lock(path, ConfigError, "checkpoint"):
        code = main(["train", "--epochs", "5", "-q", "--checkpoint", str(path)])
        _one_line(capsys, code, r"another run is using this checkpoint")
    assert not path.exists()  # the refused run wrote nothing
    assert main(["train", "--epochs", "5", "-q", "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    with hold_lock(path, ConfigError, "checkpoint"):
        before = path.read_bytes()
        code = main(["train", "--epochs", "9", "-q", "--resume", str(path)])
        _one_line(capsys, code, r"another run is using this checkpoint")
        assert path.read_bytes() == before


def test_the_lock_is_released_when_the_run_ends(tmp_path, capsys):
    path = tmp_path / "run.ckpt"
    assert main(["train", "--epochs", "5", "-q", "--checkpoint", str(path)]) == 0
    assert main(["train", "--epochs", "8", "-q", "--resume", str(path)]) == 0
    with hold_lock(path, ConfigError, "checkpoint"):  # free again: taken at once
        pass


# --- the data fingerprint -----------------------------------------------------------------


def test_resume_on_changed_data_says_so(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    path = tmp_path / "run.ckpt"
    base = ["train", "-q", "--data", str(data), "--target", "y", "--hidden", "3"]
    assert main([*base, "--epochs", "5", "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    data.write_text("a,b,y\n0,0,1\n0,1,1\n1,0,1\n1,1,0\n")  # one target changed
    code = main(["train", "-q", "--epochs", "9", "--resume", str(path)])
    _one_line(capsys, code, r"the data \(.*d\.csv\) differ from those the checkpoint")
    data.write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")  # back as it was: resumes
    assert main(["train", "-q", "--epochs", "9", "--resume", str(path)]) == 0


# --- Ctrl-C during a sweep ----------------------------------------------------------------


def test_ctrl_c_during_a_sweep_keeps_the_finished_cells(tmp_path, capsys, monkeypatch):
    real, calls = sweeps.run_cell, []

    def interrupted_third(config: TrainConfig, nets: int):
        calls.append(config.lr)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(config, nets)

    monkeypatch.setattr(sweeps, "run_cell", interrupted_third)
    out = tmp_path / "cells.csv"
    code = main(["sweep", "--by-cell", "--workers", "1", "--hidden", "2", "--lr", "0.5,1,2,4",
                 "--epochs", "20", "--nets", "2", "-q", "--out", str(out)])  # fmt: skip
    shown = _one_line(capsys, code, r"interrupted \(Ctrl-C\): 2 of 4 cells finished; cut: "
                                    r"cell 3 \(.*lr 2,.*\); cell 4 \(.*lr 4,")  # fmt: skip
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and lines[1].split(",")[2] == "0.5" and lines[2].split(",")[2] == "1.0"
    assert len(shown.strip().splitlines()) >= 3  # the table of the two finished cells


def test_ctrl_c_during_a_one_program_sweep_keeps_the_finished_groups(tmp_path, capsys,
                                                                     monkeypatch):
    """The grid as one program trains a stack per group of cells (here one per activation):
    Ctrl-C during the second keeps the first group's cells and names the cut ones."""
    real, calls = grid._train_block, []

    def interrupted_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(grid, "_train_block", interrupted_second)
    out = tmp_path / "cells.csv"
    code = main(["sweep", "--hidden", "2", "--activation", "sigmoid,tanh", "--lr", "0.5,1",
                 "--epochs", "20", "--nets", "2", "-q", "--out", str(out)])  # fmt: skip
    _one_line(capsys, code, r"interrupted \(Ctrl-C\): 2 of 4 cells finished; cut: "
                            r"cell 3 \(.*tanh.*\); cell 4 \(.*tanh")  # fmt: skip
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and all(",sigmoid," in line for line in lines[1:])


# --- run records --------------------------------------------------------------------------


@pytest.fixture
def record(tmp_path, capsys) -> Path:
    path = tmp_path / "run.json"
    assert main(["train", "--epochs", "30", "-q", "--record", str(path)]) == 0
    capsys.readouterr()
    return path


def _edited(path: Path, change) -> None:
    saved = json.loads(path.read_text())
    change(saved)
    path.write_text(json.dumps(saved))


def test_an_intact_record_replays_identical(record, capsys):
    assert main(["replay", str(record), "-q"]) == 0
    assert capsys.readouterr().out.startswith("identical")


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["loss_checksums"][0].update(sha256="0" * 64),
        lambda r: r["run"]["config"].update(epochs=10**8),
        lambda r: r.update(loss_checksums=[]),
        lambda r: r.pop("digest"),
    ],
    ids=["checksum", "epochs", "empty-checksums", "no-digest"],
)
def test_an_edited_record_is_refused_before_replaying(record, capsys, change):
    _edited(record, change)
    _one_line(capsys, main(["replay", str(record)]), r"changed after it was written")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.update(loss_checksums=[]), r"loss_checksums\[0\]: 0 blocks"),
        (lambda r: r["loss_checksums"][0].update(loss="x"), r"loss: expected a finite number"),
        (lambda r: r["loss_checksums"][1].update(end=-3), r"loss_checksums\[1\]: end"),
        (lambda r: r.update(epochs="30"), r"field epochs"),
        (lambda r: r.update(weights_sha256="zz"), r"field weights_sha256"),
        (lambda r: r["run"]["config"].update(epochs=10**8), r"epochs: 30, but the run's"),
        (lambda r: r.update(every=0), r"field every"),
        (lambda r: r.update(versions=["numpy"]), r"field versions"),
    ],
)
def test_every_malformed_field_of_a_record_without_digest_is_one_line(record, capsys, change,
                                                                      field):  # fmt: skip
    def as_version_1(saved):
        saved.pop("digest")
        saved["mlplab_record"] = 1
        change(saved)

    _edited(record, as_version_1)
    with pytest.raises(ConfigError, match=field):
        load_record(record)
    _one_line(capsys, main(["replay", str(record)]), field)


def test_versions_from_a_record_reach_the_terminal_escaped(record, capsys):
    from mlplab.io.records import record_digest

    def hostile(saved):
        saved["versions"]["machine"] = "\x1b]0;owned\x07"
        saved["digest"] = record_digest(saved)  # a digest guards edits, not intent

    _edited(record, hostile)
    assert main(["replay", str(record), "-q"]) == 0
    out = capsys.readouterr().out
    assert "machine \\x1b]0;owned\\x07" in out and "\x1b" not in out
