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

from mlplab.errors import ConfigError
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import ensemble_data, run_ensemble, stack_bytes
from mlplab.experiments.stacks import check_memory, memory_limit
from mlplab.nn.network import MLP

__all__ = [
    "AXES",
    "CSV_COLUMNS",
    "Cell",
    "check_cells",
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
]
SCHEDULER_SCHEMES = ("tcp://", "tls://", "inproc://", "ws://", "wss://")


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
        MLP(sizes, **config.network_kwargs())  # raises on clashing settings
        check_memory(stack_bytes(config, sizes, len(X), nets), limit, nets)


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
    from joblib import Parallel, delayed

    def indexed(i: int, config: TrainConfig, nets: int) -> tuple[int, dict]:
        return i, run_cell(config, nets)

    parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
    yield from parallel(delayed(indexed)(i, c, n) for i, (c, n) in enumerate(cells))


def _dask(cells: list[Cell], address: str, timeout: float) -> Iterator[tuple[int, dict]]:
    if not address.startswith(SCHEDULER_SCHEMES):
        raise ConfigError(f"--dask {address!r}: expected a scheduler address like tcp://HOST:8786")
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ConfigError(
            "--dask needs dask.distributed: pip install 'mlplab[experiments]'"
        ) from None
    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {e}") from None
    try:
        futures = [client.submit(run_cell, c, n, pure=False) for c, n in cells]
        index = {f.key: i for i, f in enumerate(futures)}
        for future, row in as_completed(futures, loop=client.loop, with_results=True):
            yield index[future.key], row
    finally:
        client.close()


def run_cells(
    cells: list[Cell],
    *,
    workers: int = -1,
    dask: str | None = None,
    dask_timeout: float = 10.0,
    progress: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every cell (joblib workers here, or a Dask cluster); rows in the cells' order.

    ``progress`` is called once as each cell finishes, in whatever order they do.
    """
    rows: list[dict[str, Any] | None] = [None] * len(cells)
    results = _local(cells, workers) if dask is None else _dask(cells, dask, dask_timeout)
    for i, row in results:
        rows[i] = row
        if progress is not None:
            progress()
    return rows  # type: ignore[return-value]


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
            ]
        )
    return buffer.getvalue().encode()


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> None:
    """Write ``sweep_csv(rows)`` to ``path`` through a temporary file and a rename."""
    from mlplab.io.models import atomic_write_bytes

    atomic_write_bytes(path, sweep_csv(rows))
