"""A sweep as one program: the grid's cells x seeds as the fewest stacks, each cell's figures
those of the cell-by-cell run (``run_cell``), on both engines; blocks when memory is short;
per-network records a pandas user can pivot; ``mlplab sweep`` by default and ``--by-cell``
give the same table."""

from __future__ import annotations

import json

import pytest
from conftest import require
from helpers import same_rows

from mlplab.cli import main
from mlplab.errors import ConfigError
from mlplab.experiments import TrainConfig, make_cells, run_cell, sweep, train_grid
from mlplab.experiments.grid import group_cells


def _grid(engine: str = "numpy", **axes):
    lists = {"hidden": [(2,), (3,)], "activation": ["sigmoid"], "lr": [0.5, 1.0],
             "init": ["seed"], "epochs": [300], "nets": [8]}  # fmt: skip
    return make_cells(TrainConfig(engine=engine, epochs=300), {**lists, **axes})


def test_rates_and_widths_are_one_group_other_settings_apart() -> None:
    assert len(group_cells(_grid())) == 1
    groups = group_cells(_grid(activation=["sigmoid", "tanh"], epochs=[200, 300]))
    assert len(groups) == 4
    assert all(g.config.hidden == (3,) for g in groups)  # the widest of the group's cells
    assert len(group_cells(_grid(hidden=[(2,), (2, 2)]))) == 2  # depths apart


@pytest.mark.parametrize("engine", ["numpy", "jax"])
def test_each_cell_as_in_the_cell_by_cell_run(engine: str) -> None:
    if engine == "jax":
        require("jax")
    cells = _grid(engine, nets=[8, 9])
    result = train_grid(cells)
    assert result.groups == 1
    assert len(result.rows) == len(cells)
    for row, (config, nets) in zip(result.rows, cells, strict=True):
        same_rows(row, run_cell(config, nets))
    assert sum(r["nets"] for r in result.rows) == len(result.networks)


def test_a_group_too_large_trains_in_blocks_with_the_same_rows() -> None:
    cells = _grid()
    whole = train_grid(cells)
    blocks = train_grid(cells, max_memory=3e-6)  # a few KiB: a handful of networks a block
    assert blocks.groups > 1
    for a, b in zip(blocks.rows, whole.rows, strict=True):
        same_rows(a, b)


def test_python_sweep_gives_records_to_pivot() -> None:
    result = sweep(TrainConfig(epochs=200), lr=[0.5, 2.0], hidden=[2, 3], nets=[4])
    assert len(result.rows) == 4 and len(result.networks) == 16
    first = result.networks[0]
    assert set(first) >= {"hidden", "lr", "seed", "solved", "epochs_to_solve", "final_loss"}
    assert [r["seed"] for r in result.networks[:4]] == [0, 1, 2, 3]
    with pytest.raises(ConfigError, match="no axis 'momentum'"):
        sweep(momentum=[0.5])
    pd = require("pandas")
    table = result.frame().pivot_table(index="lr", columns="hidden", values="solved")
    assert table.shape == (2, 2)
    by_cell = {(r["lr"], "x".join(map(str, r["hidden"]))): r["solved_fraction"]
               for r in result.rows}  # fmt: skip
    for (lr, hidden), fraction in by_cell.items():
        assert table.loc[lr, hidden] == pytest.approx(fraction)
    assert isinstance(table, pd.DataFrame)


def test_cli_one_program_and_by_cell_give_the_same_table(capsys, tmp_path) -> None:
    args = ["sweep", "--hidden", "2,3", "--lr", "0.5,1", "--epochs", "300", "--nets", "8",
            "--json", "-q"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "one.csv")]) == 0
    one = json.loads(capsys.readouterr().out)["cells"]
    assert main([*args, "--by-cell", "--workers", "1", "--out", str(tmp_path / "c.csv")]) == 0
    by_cell = json.loads(capsys.readouterr().out)["cells"]
    for a, b in zip(one, by_cell, strict=True):
        same_rows(a, b)
    header = (tmp_path / "one.csv").read_text().splitlines()[0]
    assert header == (tmp_path / "c.csv").read_text().splitlines()[0]
