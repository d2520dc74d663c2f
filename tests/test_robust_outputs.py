"""Issue 23 §1: outputs never replace what is not a regular file, an empty path is refused,
and a failing stdout is one line and a non-zero exit.

One mechanism: ``mlplab.io.files.check_writable_target``, run by the atomic writer every
output goes through (and by the CLI's check before any work).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlplab import MLP
from mlplab.cli import main
from mlplab.errors import ConfigError, ModelFileError
from mlplab.io.files import atomic_write_bytes, check_writable_target

QUICK = ["--epochs", "3", "-q"]


def _refused(capsys, code: int, pattern: str) -> None:
    import re

    captured = capsys.readouterr()
    assert code == 1, captured.out
    assert "Traceback" not in captured.err
    assert captured.err.strip().count("\n") == 0, captured.err
    assert re.search(pattern, captured.err), captured.err


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_by_the_writer_and_stays_a_fifo(fifo: Path):
    with pytest.raises(ModelFileError, match=r"is a FIFO .*writes only regular files"):
        atomic_write_bytes(fifo, b"data", error=ModelFileError)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_character_device_is_refused_not_replaced():
    before = os.stat(os.devnull)
    with pytest.raises(ConfigError, match="is a character device"):
        atomic_write_bytes(os.devnull, b"model")
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_an_empty_path_is_refused():
    with pytest.raises(ConfigError, match="an empty path"):
        check_writable_target("")
    with pytest.raises(ConfigError, match="an empty path"):
        atomic_write_bytes("", b"x")


def test_a_symlink_to_a_regular_file_is_still_written(tmp_path: Path):
    target = tmp_path / "real.bin"
    target.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    atomic_write_bytes(link, b"new")
    assert link.read_bytes() == b"new"


def test_a_symlink_to_a_device_is_refused(tmp_path: Path):
    link = tmp_path / "null.safetensors"
    link.symlink_to(os.devnull)
    with pytest.raises(ModelFileError, match="character device"):
        MLP([2, 2, 1]).save(link)
    assert link.is_symlink()


@pytest.mark.parametrize("option", ["--save", "--record", "--checkpoint", "--plot"])
def test_every_train_output_refuses_a_fifo_and_an_empty_path(capsys, fifo, option):
    value = str(fifo) + (".png" if option == "--plot" else "")
    if option == "--plot":
        os.mkfifo(value)
    _refused(capsys, main(["train", *QUICK, option, value]), r"FIFO")
    assert stat.S_ISFIFO(os.stat(value).st_mode)
    if option != "--plot":  # an empty --plot is refused for having no extension
        _refused(capsys, main(["train", *QUICK, option, ""]), r"an empty path")


def test_export_and_sweep_refuse_a_device_and_an_empty_path(capsys, tmp_path):
    model = tmp_path / "m.safetensors"
    MLP([2, 3, 1], seed=0).save(model)
    for out in (os.devnull, ""):
        expected = "character device" if out else "an empty path"
        code = main(["export", str(model), "--format", "numpy", "--out", out])
        _refused(capsys, code, expected)
        code = main(["sweep", "--hidden", "2", "--epochs", "2", "-q", "--out", out])
        _refused(capsys, code, expected)


def test_a_full_stdout_is_one_line_and_a_non_zero_exit():
    if not os.path.exists("/dev/full"):
        pytest.skip("this system has no /dev/full")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "mlplab", "train", "--epochs", "3"],
            stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == "mlplab: error: cannot write the output: No space left on device"


def test_the_network_saved_to_a_regular_file_still_loads(tmp_path: Path):
    path = tmp_path / "m.safetensors"
    net = MLP([2, 3, 1], seed=1)
    net.save(path)
    assert np.array_equal(MLP.load(path).params[0]["W"], net.params[0]["W"])
