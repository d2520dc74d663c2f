"""A group of a sweep cut into blocks: every block masked alike, so one compiled program."""

from __future__ import annotations

import numpy as np
from conftest import require
from helpers import same_rows

from mlplab.experiments import TrainConfig, ensemble_data, make_cells
from mlplab.experiments import grid as grid_module


def _cells(engine: str):
    lists = {"hidden": [(2,), (3,)], "activation": ["sigmoid"], "lr": [0.5, 1.0],
             "init": ["seed"], "epochs": [40], "nets": [8]}  # fmt: skip
    return make_cells(TrainConfig(engine=engine, epochs=40), lists)


def test_a_block_of_full_width_networks_is_masked_as_its_group_is() -> None:
    require("jax")
    from mlplab.engines.jax import JaxEngine

    cells = _cells("jax")
    X, t = ensemble_data(cells[0][0])
    (plan,) = grid_module.plan_groups(cells, X, t, None, block_nets=16)
    assert plan.masked and len(plan.blocks) == 2
    assert (plan.blocks[1]["widths"] == 3).all()  # the second block: all of the stack's width
    JaxEngine.shared_programs.clear()
    for part in plan.blocks:
        grid_module._train_block(plan.config, plan.sizes, part, X, t, plan.masked)
    assert len(JaxEngine.shared_programs) == 1  # both blocks ran the same compiled program


def test_a_group_all_of_its_stack_width_is_not_masked() -> None:
    cells = [c for c in _cells("numpy") if c[0].hidden == (3,)]
    X, t = ensemble_data(cells[0][0])
    (plan,) = grid_module.plan_groups(cells, X, t, None)
    assert not plan.masked
    assert np.array_equal(plan.nets["widths"], np.full((16, 1), 3))


def test_a_large_group_on_the_compiled_cpu_engine_trains_in_equal_blocks(monkeypatch) -> None:
    require("jax")
    lists = {"hidden": [(2,), (3,)], "activation": ["sigmoid"], "lr": [0.5, 1.0],
             "init": ["seed"], "epochs": [30], "nets": [65]}  # fmt: skip
    cells = make_cells(TrainConfig(engine="jax", epochs=30), lists)  # 260 networks
    X, t = ensemble_data(cells[0][0])
    monkeypatch.setattr(grid_module, "CPU_BLOCK_NETS", 100)
    (plan,) = grid_module.plan_groups(cells, X, t, None)
    assert [len(b["seed"]) for b in plan.blocks] == [65] * 4  # 260 = 4 x 65: one shape
    (whole,) = grid_module.plan_groups(cells, X, t, None, local=False)  # a cluster's: unsplit
    assert len(whole.blocks) == 1
    blocks = grid_module.train_grid(cells)
    monkeypatch.setattr(grid_module, "CPU_BLOCK_NETS", 10**9)
    one = grid_module.train_grid(cells)
    assert (blocks.groups, one.groups) == (4, 1)
    for a, b in zip(blocks.rows, one.rows, strict=True):
        same_rows(a, b)
