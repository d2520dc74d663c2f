"""Issue 23 §7: sizes are checked before allocating, against the limit that applies.

``mlplab.checks.memory_limit`` is the least of the physical memory, what ``ulimit -v``
leaves and what a cgroup leaves; networks, stacks, epoch histories and the CLI's runs are
compared with it before anything is allocated.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from mlplab import MLP, checks
from mlplab.errors import ConfigError

SRC = str(Path(__file__).parents[1] / "src")


def _peak(make) -> int:
    tracemalloc.start()
    try:
        make()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [3, 200000, 200000, 1]}, r"a 3-200000-200000-1 network needs about 298 GiB"),
        ({"sizes": [3, 4, 1], "stack": 10**9}, r"\(stack of 1000000000\) network needs about"),
    ],
)
def test_networks_too_large_are_refused_before_allocating(kwargs, message):
    def build():
        with pytest.raises(ConfigError, match=message + ".*more than the .* GiB this process"):
            MLP(**kwargs)

    assert _peak(build) < 10 * 2**20  # refused before any weights were allocated


def test_epochs_whose_history_cannot_fit_are_refused():
    X, t = np.zeros((4, 2)), np.zeros((4, 1))
    net = MLP([2, 2, 1], seed=0)
    for epochs in (10**30, 10**12):
        with pytest.raises(ConfigError, match=r"the loss history of .* epochs needs about"):
            net.fit(X, t, epochs=epochs)
    assert net.fit(X, t, epochs=3).epochs == 3


def test_the_limit_is_the_least_of_ram_address_space_and_cgroup(tmp_path, monkeypatch):
    group = tmp_path / "cg" / "user.slice" / "job"
    group.mkdir(parents=True)
    (group / "memory.max").write_text("3000000000\n")
    (group / "memory.current").write_text("1000000000\n")
    (group.parent / "memory.max").write_text("max\n")  # no limit one level up
    proc = tmp_path / "cgroup"
    proc.write_text("0::/user.slice/job\n")
    monkeypatch.setattr(checks, "CGROUP_ROOT", tmp_path / "cg")
    monkeypatch.setattr(checks, "PROC_CGROUP", proc)
    assert checks._cgroup_left() == 2_000_000_000
    assert checks.memory_limit() <= 2_000_000_000
    proc.write_text("0::/\n")
    assert checks._cgroup_left() is None


def _under_ulimit(code: str, kib: int = 3_000_000) -> subprocess.CompletedProcess:
    """``python -c code`` under ``ulimit -v kib``, set by the shell (no ``preexec_fn``: a
    fork from a process that has imported JAX warns, and warnings are errors here)."""
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    command = ["bash", "-c", f'ulimit -v {kib} && exec "$@"', "bash", sys.executable, "-c", code]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_the_limit_follows_ulimit_v():
    done = _under_ulimit("from mlplab.checks import memory_limit; print(memory_limit())")
    assert done.returncode == 0, done.stderr
    assert 0 < int(done.stdout) < 3_000_000 * 1024


def test_the_cli_refuses_a_run_over_ulimit_v_in_one_line():
    done = _under_ulimit(
        "import sys; from mlplab.cli import main; "
        "sys.exit(main(['train', '--hidden', '12000,12000', '--epochs', '1', '-q']))"
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "needs about" in done.stderr and "over the limit of 2." in done.stderr


def test_a_memory_error_past_the_estimates_is_one_line(capsys, monkeypatch):
    from mlplab.cli import main
    from mlplab.nn.network import MLP as Network

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(Network, "fit", exhausted)
    assert main(["train", "--epochs", "3", "-q"]) == 1
    err = capsys.readouterr().err
    assert err == ("mlplab: error: out of memory; use smaller layers, fewer networks, fewer "
                   "examples or fewer epochs\n")  # fmt: skip
