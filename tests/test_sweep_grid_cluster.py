"""A sweep as the fewest stacks on a Dask cluster (``--dask``): each group's blocks trained on
the workers give each cell's figures of the run here; a lost block loses its group's cells
only, named, the others kept."""

from __future__ import annotations

import json

import pytest
from conftest import require
from helpers import same_rows

from mlplab.cli import main
from mlplab.errors import MlplabError
from mlplab.experiments import TrainConfig, make_cells, train_grid
from mlplab.experiments import grid as grid_module
from mlplab.experiments.grid_cluster import train_grid_dask
from mlplab.experiments.sweeps import CellsLost


def _cells(**axes):
    lists = {"hidden": [(2,), (3,)], "activation": ["sigmoid"], "lr": [0.5, 1.0],
             "init": ["seed"], "epochs": [200], "nets": [8]}  # fmt: skip
    return make_cells(TrainConfig(epochs=200), {**lists, **axes})


@pytest.fixture(scope="module")
def cluster():
    """Two workers in this process (threads): small, quick to start, and they see patches."""
    require("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as running:  # fmt: skip
        yield running


def test_blocks_on_the_cluster_give_each_cell_of_the_run_here(cluster) -> None:
    cells = _cells()
    here = train_grid(cells)
    remote = train_grid_dask(cells, cluster.scheduler_address, block_nets=8)
    assert here.groups == 1 and remote.groups == 4  # one group of 32 networks, 4 blocks of 8
    for a, b in zip(remote.rows, here.rows, strict=True):
        same_rows(a, b)
    assert [r["seed"] for r in remote.networks] == [r["seed"] for r in here.networks]
    assert [r["solved"] for r in remote.networks] == [r["solved"] for r in here.networks]


def test_cli_dask_sends_stacks_and_gives_the_local_table(cluster, capsys) -> None:
    args = ["sweep", "--hidden", "2,3", "--lr", "0.5,1", "--epochs", "200", "--nets", "8",
            "--json", "-q"]  # fmt: skip
    assert main(args) == 0
    local = json.loads(capsys.readouterr().out)["cells"]
    assert main([*args, "--dask", cluster.scheduler_address, "--block-nets", "16"]) == 0
    remote = json.loads(capsys.readouterr().out)["cells"]
    for a, b in zip(remote, local, strict=True):
        same_rows(a, b)


def test_block_nets_without_dask_is_refused(capsys) -> None:
    assert main(["sweep", "--epochs", "1", "--nets", "8", "-q", "--block-nets", "4"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error: --block-nets") and err.count("\n") == 1


def test_a_lost_block_loses_its_groups_cells_only(cluster, monkeypatch) -> None:
    cells = _cells(activation=["sigmoid", "tanh"], lr=[1.0])  # two groups: one per activation
    real = grid_module._train_block

    def tanh_fails(config, *args):
        if config.activation == "tanh":
            raise MlplabError("no tanh here")
        return real(config, *args)

    monkeypatch.setattr(grid_module, "_train_block", tanh_fails)
    with pytest.raises(CellsLost) as lost:
        train_grid_dask(cells, cluster.scheduler_address, block_nets=8)
    message = str(lost.value)
    assert message.startswith("2 of 4 cells lost: cell 2 (hidden 2, tanh")
    assert "failed on its worker: no tanh here" in message
    assert [(r["hidden"], r["activation"]) for r in lost.value.rows] == [
        ([2], "sigmoid"), ([3], "sigmoid")]  # fmt: skip
