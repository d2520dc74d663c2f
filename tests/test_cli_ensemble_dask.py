"""``mlplab ensemble --dask``: blocks on a two-worker ``LocalCluster`` give one machine's results.

Exactly, under both engines: network for network, the loss record row for row, and the
summary but for the times.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import require

from mlplab.cli import main
from mlplab.experiments.blocks import DEFAULT_BLOCK_NETS, run_ensemble_dask, split_blocks
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import run_ensemble

XOR = ["--hidden", "2", "--epochs", "1500", "--seed", "3", "--nets", "40"]
MOONS = ["--dataset", "moons", "--points", "40", "--noise", "0.2", "--hidden", "5"]
MOONS += ["--activation", "tanh", "--init", "glorot", "--loss", "binary_cross_entropy"]
MOONS += ["--batch-size", "16", "--optimizer", "adam", "--lr", "0.05", "--epochs", "80"]
MOONS += ["--seed", "5", "--nets", "26"]


@pytest.fixture(scope="module")
def cluster():
    require("distributed")
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0"
    ) as running:
        yield running


def _json(capsys, args):
    code = main(["ensemble", *args, "--json", "-q"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _untimed(doc):
    return {k: v for k, v in doc.items() if k not in ("seconds", "compile_seconds", "dask")}


@pytest.mark.parametrize(
    "args", [[*XOR, "--engine", "numpy"], [*MOONS, "--engine", "numpy"], [*XOR, "--engine", "jax"]]
)
def test_the_summary_is_one_machines(cluster, capsys, args):
    if "jax" in args:
        require("jax")
    one = _json(capsys, args)
    many = _json(capsys, [*args, "--dask", cluster.scheduler_address, "--block-nets", "12"])
    assert _untimed(many) == _untimed(one)
    assert many["dask"]["blocks"] == len(split_blocks(one["nets"], 12)) >= 3
    assert many["dask"]["address"] == cluster.scheduler_address
    assert many["dask"]["wall_seconds"] > 0 and many["seconds"] > 0


@pytest.mark.parametrize("engine", ["numpy", "jax", "auto"])
def test_every_network_and_the_loss_record_are_one_machines(cluster, engine):
    if engine == "jax":
        require("jax")
    config = TrainConfig(hidden=(3,), activation="tanh", epochs=1200, seed=7, engine=engine)
    one = run_ensemble(config, 30)
    done: list[int] = []
    many = run_ensemble_dask(config, 30, cluster.scheduler_address, block_nets=10,
                             progress=done.append)  # fmt: skip
    assert sorted(done) == [10, 10, 10]  # once per block, with its networks
    for name in ("solved", "epochs_to_solve", "final_loss", "diverged"):
        np.testing.assert_array_equal(getattr(many, name), getattr(one, name), err_msg=name)
    np.testing.assert_array_equal(many.history.loss, one.history.loss)
    np.testing.assert_array_equal(many.history.extra["loss_epochs"],
                                  one.history.extra["loss_epochs"])  # fmt: skip
    assert many.watch_every == one.watch_every


def test_auto_takes_the_engine_one_machine_would_for_all_the_networks(cluster, capsys):
    require("jax")
    args = ["--hidden", "2", "--epochs", "800", "--nets", "1300", "--engine", "auto"]
    many = _json(capsys, [*args, "--dask", cluster.scheduler_address, "--block-nets", "650"])
    assert many["compile_seconds"] >= 0 and many["dask"]["blocks"] == 2
    code = main(["ensemble", *args, "--dask", cluster.scheduler_address, "--block-nets", "650",
                 "-q"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "engine jax" in out  # 1300 x 800 >= 1e6 network-epochs: jax
    assert "on the cluster    2 blocks; the time above is their training summed; " in out
    assert "s on the client's clock (" in out


def test_text_report_and_plot(cluster, tmp_path, capsys):
    require("matplotlib")
    plot = tmp_path / "loss.png"
    args = ["ensemble", *XOR, "--engine", "numpy", "--dask", cluster.scheduler_address]
    assert main([*args, "--block-nets", "20", "--plot", str(plot), "-q"]) == 0
    out = capsys.readouterr().out
    assert "40 networks" in out and "seeds 3..42" in out
    assert "networks/s, engine numpy)\non the cluster    2 blocks; the time above" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_help_gives_the_default_block_size(capsys):
    assert main(["ensemble", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"networks per block, about (default {DEFAULT_BLOCK_NETS})" in help_text
    assert "--dask tcp://HOST:PORT" in help_text and "--dask-timeout" in help_text


@pytest.mark.parametrize(
    "args,message",
    [
        (["--dask", "127.0.0.1:8786"], "expected a scheduler address like tcp://"),
        (["--block-nets", "10"], "--block-nets splits the stack over a Dask cluster: give --dask"),
        (["--nets", "1000000", "--max-memory", "0.01", "--dask", "tcp://127.0.0.1:9"],
         "a stack of 1000 networks needs about"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(capsys, args, message):
    assert main(["ensemble", "--epochs", "1", "-q", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error: ") and err.count("\n") == 1
    assert message in err


def test_an_unreachable_scheduler_is_one_line(capsys):
    require("distributed")
    args = ["ensemble", "--epochs", "1", "--nets", "8", "-q", "--dask", "tcp://127.0.0.1:9"]
    assert main([*args, "--dask-timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert err.count("\n") == 1


def test_an_mlplab_error_on_a_worker_is_named_not_blamed_on_the_scheduler(cluster, capsys):
    """A sweep cell whose every network diverged fails on its worker: the line says why."""
    args = ["sweep", "--activation", "tanh", "--output-activation", "identity", "--lr", "0.8"]
    args += ["--epochs", "200", "--nets", "32", "-q", "--dask", cluster.scheduler_address]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error: 1 of 1 cells lost: cell 1 (") and err.count("\n") == 1
    assert "failed on its worker: the loss of every network in the stack became non-finite" in err
