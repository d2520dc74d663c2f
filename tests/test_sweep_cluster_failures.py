"""A sweep on a Dask cluster that loses workers or its scheduler keeps every finished cell.

Workers killed over and over: the cell is retried, then reported lost; the scheduler
killed: the cells still pending are lost. Either way ``--out`` holds the finished cells,
the command says in one line which cells were lost, and exits 1.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import require
from helpers import settle_cluster

from mlplab.cli import main

SHORT_THEN_LONG = ["sweep", "--hidden", "2", "--epochs", "20,3000000", "--nets", "4", "-q"]


def _lost_line(capsys, code: int) -> str:
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "Traceback" not in captured.err
    err = captured.err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("mlplab: error: 1 of 2 cells lost: cell 2 (hidden 2, sigmoid")
    return err


def _finished_rows(out: Path) -> list[dict]:
    with open(out, newline="") as f:
        return list(csv.DictReader(f))


def test_a_worker_killed_repeatedly_loses_only_its_cell(tmp_path: Path, capsys) -> None:
    require("distributed")
    import dask
    from distributed import LocalCluster

    out = tmp_path / "cells.csv"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), LocalCluster(
        n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0"
    ) as cluster:
        done = threading.Event()

        def killer() -> None:
            _wait_for_a_finished_cell(lambda: cluster.scheduler.tasks)
            while not done.is_set():
                for nanny in list(cluster.workers.values()):
                    process = getattr(nanny, "process", None)
                    pid = getattr(getattr(process, "process", None), "pid", None)
                    if pid:
                        os.kill(pid, signal.SIGKILL)
                time.sleep(1.0)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            code = main([*SHORT_THEN_LONG, "--dask", cluster.scheduler_address,
                         "--out", str(out)])  # fmt: skip
        finally:
            done.set()
            settle_cluster(cluster, thread)
    err = _lost_line(capsys, code)
    assert "its worker was killed (2 submissions)" in err
    assert f"the 1 finished are in {out}" in err
    assert [row["epochs"] for row in _finished_rows(out)] == ["20"]


def test_the_scheduler_killed_keeps_the_finished_cells(tmp_path: Path, capsys) -> None:
    require("distributed")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline and scheduler.poll() is None
            time.sleep(0.1)
        time.sleep(0.5)
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--nthreads", "1",
             "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        out = tmp_path / "cells.csv"

        def kill_scheduler() -> None:
            from distributed import Client

            with Client(address, set_as_default=False) as watcher:
                _wait_for_a_finished_cell(lambda: {
                    key: "memory" for keys in watcher.has_what().values() for key in keys
                })
            scheduler.send_signal(signal.SIGKILL)

        threading.Thread(target=kill_scheduler, daemon=True).start()
        code = main([*SHORT_THEN_LONG, "--dask", address, "--dask-timeout", "30",
                     "--out", str(out)])  # fmt: skip
    finally:
        for process in (worker, scheduler):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    err = _lost_line(capsys, code)
    assert "the scheduler or its workers went away" in err
    assert [row["epochs"] for row in _finished_rows(out)] == ["20"]


def _wait_for_a_finished_cell(tasks, seconds: float = 120) -> None:
    """Until the short cell is done: its result in memory (the sweep's client holds it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states = tasks()
        values = [getattr(ts, "state", ts) for ts in dict(states).values()]
        if "memory" in values:
            time.sleep(0.5)
            return
        time.sleep(0.1)
