"""``ensemble --dask`` losing workers: a block whose worker died is trained again, once.

Killed once, the block's retry gives one machine's results; killed every time, the
command names the lost blocks in one line and exits 1, no traceback.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
from conftest import require
from helpers import settle_cluster

from mlplab.cli import main
from mlplab.experiments.blocks import run_ensemble_dask
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import run_ensemble


def _kill_workers(cluster) -> list[int]:
    killed = []
    for nanny in list(cluster.workers.values()):
        process = getattr(nanny, "process", None)
        pid = getattr(getattr(process, "process", None), "pid", None)
        if pid:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


def _wait_until_processing(cluster, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states = [ts.state for ts in dict(cluster.scheduler.tasks).values()]
        if "processing" in states:
            time.sleep(0.5)  # the worker has started training
            return
        time.sleep(0.05)


def _one_worker_cluster():
    require("distributed")
    import dask
    from distributed import LocalCluster

    failures = dask.config.set({"distributed.scheduler.allowed-failures": 0})
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0"
    )
    return failures, cluster


def test_a_block_whose_worker_was_killed_once_is_retried_with_the_same_results() -> None:
    config = TrainConfig(hidden=(2,), epochs=15000, seed=1, engine="numpy")  # a block: ~1 s
    failures, cluster = _one_worker_cluster()
    killed: list[int] = []
    with failures, cluster:

        def kill_once() -> None:
            _wait_until_processing(cluster)
            killed.extend(_kill_workers(cluster))

        thread = threading.Thread(target=kill_once, daemon=True)
        thread.start()
        many = run_ensemble_dask(config, 16, cluster.scheduler_address, block_nets=8)
        settle_cluster(cluster, thread)
    assert len(killed) == 1  # while block 1 trained: its result is the retry's
    one = run_ensemble(config, 16)
    for name in ("solved", "epochs_to_solve", "final_loss", "diverged"):
        np.testing.assert_array_equal(getattr(many, name), getattr(one, name), err_msg=name)
    np.testing.assert_array_equal(many.history.loss, one.history.loss)


def test_blocks_whose_worker_is_killed_every_time_are_named_in_one_line(capsys) -> None:
    failures, cluster = _one_worker_cluster()
    with failures, cluster:
        done = threading.Event()

        def killer() -> None:
            while not done.is_set():
                _wait_until_processing(cluster, seconds=1)
                _kill_workers(cluster)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            code = main(["ensemble", "--hidden", "2", "--epochs", "3000000", "--nets", "16",
                         "--block-nets", "8", "--engine", "numpy", "-q",
                         "--dask", cluster.scheduler_address])  # fmt: skip
        finally:
            done.set()
            settle_cluster(cluster, thread)
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "Traceback" not in captured.err
    err = captured.err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("mlplab: error: 2 of 2 blocks lost: block 1 (seeds 0..7): its worker "
                          "was killed (2 submissions); block 2 (seeds 8..15): ")  # fmt: skip
    assert err.endswith("nothing was merged (a block's result depends only on its seeds: "
                        "run again)")  # fmt: skip
