"""Sweeps: every combination of settings, each cell one stack of seeds (an ensemble).

A cell is ``(config, nets)``; ``run_cell`` trains it wherever it runs and returns a
JSON-ready row, and depends only on the cell's settings. ``run_cells`` runs them in
worker processes here (joblib) or on a Dask cluster: a worker needs only
``mlplab.experiments`` importable (``mlplab.experiments.sweeps.run_cell``).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from mlplab.errors import ConfigError, MlplabError
from mlplab.experiments.cluster import dask_results
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import ensemble_data, run_ensemble
from mlplab.experiments.limits import check_network, stack_bytes
from mlplab.experiments.stacks import check_memory, memory_limit
from mlplab.nn.network import MLP

__all__ = [
    "AXES",
    "CSV_COLUMNS",
    "Cell",
    "CellsLost",
    "check_cells",
    "describe_cell",
    "hidden_label",
    "make_cells",
    "run_cell",
    "run_cells",
    "sweep_csv",
    "write_csv",
]

AXES = ("hidden", "activation", "lr", "init", "epochs", "nets")
Cell = tuple[TrainConfig, int]  # settings and number of networks
CSV_COLUMNS = [
    *AXES,
    "solved_fraction",
    "epochs_to_solve_median",
    "epochs_to_solve_p90",
    "final_loss_p10",
    "final_loss_p50",
    "final_loss_p90",
    "diverged",
    "seconds",
    "compile_seconds",
]


def hidden_label(hidden: Sequence[int]) -> str:
    """Hidden sizes as a sweep writes them: ``8x8`` is two layers of 8."""
    return "x".join(str(h) for h in hidden)


def make_cells(base: TrainConfig, lists: dict[str, list]) -> list[Cell]:
    """Every combination of the listed values (one list per axis of ``AXES``), as (config, nets)."""
    cells = []
    for values in itertools.product(*(lists[axis] for axis in AXES)):
        settings = dict(zip(AXES, values, strict=True))
        nets = settings.pop("nets")
        cells.append((TrainConfig(**{**base.to_dict(), **settings}), nets))
    return cells


def check_cells(cells: list[Cell], max_memory: float | None) -> None:
    """Refuse, before any training, a cell whose settings clash or whose stack is too large."""
    X, t = ensemble_data(cells[0][0])  # the same data in every cell
    limit = memory_limit() if max_memory is None else max_memory * 2**30
    for config, nets in cells:
        sizes = config.sizes(X.shape[1], t.shape[1])
        check_network(config, sizes)
        check_memory(stack_bytes(config, sizes, len(X), nets), limit, nets)  # before building
        MLP(sizes, **config.network_kwargs())  # raises on clashing settings


def run_cell(config: TrainConfig, nets: int) -> dict[str, Any]:
    """Train one cell (in whichever process runs it) and return its JSON-ready row."""
    outcome = run_ensemble(config, nets, max_memory=float("inf"), quiet=True)
    return {
        "hidden": list(config.hidden),
        "activation": config.activation,
        "lr": config.lr,
        "init": config.init,
        "epochs": config.epochs,
        **outcome.summary(),
    }


def _local(cells: list[Cell], workers: int) -> Iterator[tuple[int, dict]]:
    try:
        from joblib import Parallel, delayed
    except ImportError:
        raise ConfigError(
            "sweep needs joblib for its worker processes: pip install 'mlplab[experiments]'"
        ) from None

    def indexed(i: int, config: TrainConfig, nets: int) -> tuple[int, dict]:
        return i, run_cell(config, nets)

    parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
    yield from parallel(delayed(indexed)(i, c, n) for i, (c, n) in enumerate(cells))


class CellsLost(MlplabError):
    """Some cells did not finish; ``rows`` holds the ones that did (in the cells' order)."""

    def __init__(self, message: str, rows: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.rows = rows


def run_cells(
    cells: list[Cell],
    *,
    workers: int = -1,
    dask: str | None = None,
    dask_timeout: float = 10.0,
    progress: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every cell (joblib workers here, or a Dask cluster); rows in the cells' order.

    ``progress`` is called once as each cell finishes, in whatever order they do. Cells
    a Dask cluster lost (after retrying), and cells cut by Ctrl-C, raise ``CellsLost``
    holding the finished rows and naming the others.
    """
    rows: list[dict[str, Any] | None] = [None] * len(cells)
    lost: list[tuple[int, str]] = []
    if dask is None:
        results = _local(cells, workers)
    else:
        results = dask_results(run_cell, cells, dask, dask_timeout, lost)
    try:
        for i, row in results:
            rows[i] = row
            if progress is not None:
                progress()
    except KeyboardInterrupt:
        if hasattr(results, "close"):
            results.close()  # stop handing out cells
        raise interrupted(cells, rows) from None
    if lost:
        lost.sort()
        what = "; ".join(f"cell {i + 1} ({describe_cell(cells[i])}): {why}" for i, why in lost)
        raise CellsLost(
            f"{len(lost)} of {len(cells)} cells lost: {what}",
            [row for row in rows if row is not None],
        )
    return rows  # type: ignore[return-value]


def interrupted(cells: list[Cell], rows: list[dict[str, Any] | None]) -> CellsLost:
    """Ctrl-C: the finished rows kept, the cut cells named (the first few)."""
    cut = [i for i, row in enumerate(rows) if row is None]
    named = "; ".join(f"cell {i + 1} ({describe_cell(cells[i])})" for i in cut[:5])
    more = f" and {len(cut) - 5} more" if len(cut) > 5 else ""
    return CellsLost(
        f"interrupted (Ctrl-C): {len(cells) - len(cut)} of {len(cells)} cells finished; "
        f"cut: {named}{more}",
        [row for row in rows if row is not None],
    )


def describe_cell(cell: Cell) -> str:
    """A cell's varied settings, as the table names them."""
    config, nets = cell
    return (
        f"hidden {hidden_label(config.hidden)}, {config.activation}, lr {config.lr:g}, "
        f"init {config.init}, {config.epochs} epochs, {nets} nets"
    )


def sweep_csv(rows: list[dict[str, Any]]) -> bytes:
    """The rows as CSV, one line a cell, columns ``CSV_COLUMNS``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        steps, loss = r["epochs_to_solve"], r["final_loss"]
        writer.writerow(
            [
                hidden_label(r["hidden"]),
                r["activation"],
                r["lr"],
                r["init"],
                r["epochs"],
                r["nets"],
                r["solved_fraction"],
                steps["median"],
                steps["p90"],
                loss["p10"],
                loss["p50"],
                loss["p90"],
                r["diverged"],
                f"{r['seconds']:.3f}",
                f"{r.get('compile_seconds', 0.0):.3f}",
            ]
        )
    return buffer.getvalue().encode()


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> None:
    """Write ``sweep_csv(rows)`` to ``path`` through a temporary file and a rename."""
    from mlplab.io.models import atomic_write_bytes

    atomic_write_bytes(path, sweep_csv(rows))
