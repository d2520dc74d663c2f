"""A sweep as the fewest stacks, on a Dask cluster: each group's blocks trained on the workers.

``train_grid_dask(cells, address)`` gives what ``train_grid(cells)`` gives on one machine,
cell for cell: the same groups of cells and the same networks (``plan_groups``), cut into
blocks of at most ``block_nets`` networks (and as many as fit in memory), each block trained
on a worker as the stack ``train_grid`` trains here (``grid_block``), under the engine the
client chose for the whole group. A worker sends back a block's outcome without its
per-epoch losses (a row needs none). The data are read on the client and sent with each
block, so a worker needs mlplab installed but no data file. Blocks lost after a retry
(``cluster.dask_results``) raise ``CellsLost``, keeping the rows of the groups whose every
block finished and naming the cells of the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlplab.experiments import grid
from mlplab.experiments.blocks import DEFAULT_BLOCK_NETS
from mlplab.experiments.cluster import dask_results
from mlplab.experiments.ensembles import ensemble_data
from mlplab.experiments.stacks import StackOutcome
from mlplab.experiments.sweeps import Cell, CellsLost, describe_cell, interrupted
from mlplab.train.history import History

__all__ = ["grid_block", "train_grid_dask"]


def grid_block(config: Any, sizes: list[int], nets: dict[str, np.ndarray], X: np.ndarray,
               t: np.ndarray, masked: bool) -> StackOutcome:  # fmt: skip
    """One block of a group, on a worker: the stack ``train_grid`` trains, its history cut to
    what the rows read (the compile seconds), not every epoch's losses."""
    outcome = grid._train_block(config, sizes, nets, X, t, masked)
    kept = outcome.history
    extra = {"compile_seconds": kept.extra.get("compile_seconds", 0.0)}
    outcome.history = History(np.empty((0, len(nets["seed"]))), kept.epochs, kept.seconds, extra)
    return outcome


def train_grid_dask(
    cells: list[Cell],
    address: str,
    *,
    timeout: float = 10.0,
    block_nets: int = DEFAULT_BLOCK_NETS,
    max_memory: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> grid.SweepResult:
    """``train_grid(cells)``'s result, its blocks trained on the Dask cluster at ``address``;
    ``progress(cells)`` as each group's last block finishes."""
    X, t = ensemble_data(cells[0][0])  # the same data in every cell
    plans = grid.plan_groups(cells, X, t, max_memory, block_nets, local=False)
    tasks, owner = [], []  # each block's arguments, and its (group, block) place
    for g, plan in enumerate(plans):
        for b, part in enumerate(plan.blocks):
            tasks.append((plan.config, plan.sizes, part, X, t, plan.masked))
            owner.append((g, b))
    outcomes: list[list[StackOutcome | None]] = [[None] * len(p.blocks) for p in plans]
    rows: list[dict[str, Any] | None] = [None] * len(cells)
    records: list[dict[str, Any]] = []
    lost: list[tuple[int, str]] = []
    try:
        for i, outcome in dask_results(grid_block, tasks, address, timeout, lost):
            g, b = owner[i]
            outcomes[g][b] = outcome
            if all(o is not None for o in outcomes[g]):
                grid.finish_group(cells, plans[g], outcomes[g], rows, records)  # type: ignore[arg-type]
                if progress is not None:
                    progress(len(plans[g].group.cells))
    except KeyboardInterrupt:
        raise interrupted(cells, rows) from None
    if lost:
        raise _cells_lost(cells, plans, owner, lost, rows)
    return grid.SweepResult(rows, records, len(tasks))  # type: ignore[arg-type]


def _cells_lost(cells: list[Cell], plans: list[grid.GroupPlan], owner: list[tuple[int, int]],
                lost: list[tuple[int, str]], rows: list) -> CellsLost:  # fmt: skip
    """The lost blocks' cells named (with why, the first few), the finished rows kept."""
    why: dict[int, str] = {}
    for i, reason in sorted(lost):
        for cell in plans[owner[i][0]].group.cells:
            why.setdefault(cell, reason)
    named = "; ".join(f"cell {i + 1} ({describe_cell(cells[i])}): {why[i]}"
                      for i in sorted(why)[:5])  # fmt: skip
    more = f"; and {len(why) - 5} more" if len(why) > 5 else ""
    return CellsLost(
        f"{len(why)} of {len(cells)} cells lost: {named}{more}",
        [row for row in rows if row is not None],
    )
