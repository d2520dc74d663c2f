"""``mlplab sweep``: every combination of settings, each cell one stack of seeds.

Comma lists for ``--hidden`` (``8x8`` is two layers of 8), ``--activation``,
``--lr``, ``--init``, ``--epochs`` and ``--nets`` make a grid; each cell trains
``nets`` networks (seeds S, S+1, ...) as one stack and reports what
``mlplab ensemble`` does. Cells run in worker processes here (joblib), or on a
Dask cluster with ``--dask tcp://HOST:PORT``; a cell's result depends only on
its settings, so both give the same table.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from mlplab.cli.ensemble import ensemble_data, max_memory_option, run_ensemble, stack_bytes
from mlplab.cli.options import (
    TrainConfig,
    data_options,
    json_option,
    optimizer_options,
    plot_option,
    quiet_option,
)
from mlplab.datasets import DATASETS
from mlplab.errors import ConfigError, MlplabError
from mlplab.experiments import check_memory, memory_limit
from mlplab.nn.activations import (
    get_activation,
    hidden_activation_names,
    output_activation_names,
)
from mlplab.nn.init import INITS
from mlplab.nn.losses import LOSSES, REDUCTIONS
from mlplab.nn.network import MLP

__all__ = ["AXES", "Cell", "make_cells", "parse_list", "run_cell", "run_cells", "sweep"]

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


def parse_list(option: str, text: str, convert: Callable[[str], Any], expected: str) -> list:
    """``"a,b,c"`` as a list of converted values, or a ``ConfigError`` naming the option."""
    parts = [part.strip() for part in str(text).split(",")]
    if not any(parts):
        raise ConfigError(f"{option}: empty list; expected {expected}")
    values = []
    for part in parts:
        if not part:
            raise ConfigError(f"{option}: empty item in {text!r}; expected {expected}")
        try:
            values.append(convert(part))
        except (ValueError, MlplabError) as e:
            detail = f": {e}" if isinstance(e, MlplabError) else ""
            raise ConfigError(
                f"{option}: bad value {part!r}{detail}; expected {expected}"
            ) from None
    return values


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _layers(text: str) -> tuple[int, ...]:
    return tuple(_positive_int(part) for part in text.split("x"))


def _lr(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError(text)
    return value


def _activation(text: str) -> str:
    return get_activation(text.lower(), where="hidden").name


def _init(text: str) -> str:
    if text.lower() not in INITS:
        raise ConfigError(f"unknown init {text!r}; one of: {', '.join(INITS)}")
    return text.lower()


def hidden_label(hidden: Sequence[int]) -> str:
    return "x".join(str(h) for h in hidden)


def make_cells(base: TrainConfig, lists: dict[str, list]) -> list[Cell]:
    """Every combination of the listed values, in order, as (config, nets)."""
    cells = []
    for values in itertools.product(*(lists[axis] for axis in AXES)):
        settings = dict(zip(AXES, values, strict=True))
        nets = settings.pop("nets")
        cells.append((TrainConfig(**{**base.to_dict(), **settings}), nets))
    return cells


def _check_cells(cells: list[Cell], max_memory: float | None) -> None:
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
    if not address.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
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
    """Run every cell (joblib workers here, or a Dask cluster); rows in the cells' order."""
    rows: list[dict[str, Any] | None] = [None] * len(cells)
    results = _local(cells, workers) if dask is None else _dask(cells, dask, dask_timeout)
    for i, row in results:
        rows[i] = row
        if progress is not None:
            progress()
    return rows  # type: ignore[return-value]


def _csv(rows: list[dict[str, Any]]) -> bytes:
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


def _table(rows: list[dict[str, Any]]) -> str:
    header = (
        f"{'hidden':>6} {'activation':>10} {'lr':>6} {'init':>7} {'epochs':>7} {'nets':>6} "
        f"{'solved':>7} {'median ep.':>10} {'p90 ep.':>8} {'loss p50':>9} {'s':>6}"
    )
    lines = [header]
    for r in rows:
        steps = r["epochs_to_solve"]
        med = "-" if steps["median"] is None else f"{steps['median']:.0f}"
        p90 = "-" if steps["p90"] is None else f"{steps['p90']:.0f}"
        p50 = r["final_loss"]["p50"]
        loss = "-" if p50 is None else f"{p50:.3g}"
        lines.append(
            f"{hidden_label(r['hidden']):>6} {r['activation']:>10} {r['lr']:>6g} {r['init']:>7} "
            f"{r['epochs']:>7} {r['nets']:>6} {r['solved_fraction']:>7.1%} {med:>10} {p90:>8} "
            f"{loss:>9} {r['seconds']:>6.1f}"
        )
    return "\n".join(lines)


def _plot_axes(text: str | None, lists: dict[str, list]) -> tuple[str, str]:
    if text is None:
        varied = [axis for axis in AXES if len(lists[axis]) > 1]
        chosen = (varied + [a for a in ("hidden", "activation") if a not in varied])[:2]
        return chosen[0], chosen[1]
    axes = parse_list("--plot-axes", text, str, f"two of: {', '.join(AXES)}")
    if len(axes) != 2 or axes[0] == axes[1] or any(a not in AXES for a in axes):
        raise ConfigError(
            f"--plot-axes {text!r}: expected two different axes of: {', '.join(AXES)}"
        )
    return axes[0], axes[1]


def _choice(names: Sequence[str]) -> click.Choice:
    return click.Choice(list(names), case_sensitive=False)


@click.command()
@click.option("--dataset", type=_choice(list(DATASETS)), default="xor", show_default=True)
@click.option(
    "--hidden", default="4", show_default=True, help="Comma list; 8x8 is two layers of 8."
)
@click.option(
    "--activation", default="sigmoid", show_default=True,
    help=f"Comma list of: {', '.join(hidden_activation_names())}.",
)  # fmt: skip
@click.option("--lr", default="1", show_default=True, help="Comma list of learning rates.")
@click.option(
    "--init", default="seed", show_default=True, help=f"Comma list of: {', '.join(INITS)}."
)
@click.option("--epochs", default="60000", show_default=True, help="Comma list of epochs.")
@click.option("--nets", default="1000", show_default=True, help="Comma list: networks per cell.")
@click.option(
    "--output-activation", type=_choice(output_activation_names()), default="sigmoid",
    show_default=True,
)  # fmt: skip
@click.option("--loss", type=_choice(list(LOSSES)), default="squared_error", show_default=True)
@click.option("--reduction", type=_choice(list(REDUCTIONS)), default="sum", show_default=True)
@click.option("--bias/--no-bias", default=None, help="Default: bias unless the data has one.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64")
@data_options
@optimizer_options
@click.option(
    "--workers", type=int, default=-1, show_default=True, help="Local worker processes (-1: all)."
)
@click.option(
    "--dask", "dask_address", default=None, metavar="tcp://HOST:PORT",
    help="Run the cells on this Dask scheduler instead.",
)  # fmt: skip
@click.option(
    "--dask-timeout", type=click.FloatRange(min=0, min_open=True), default=10.0,
    show_default=True, help="Seconds to wait for the scheduler.",
)  # fmt: skip
@click.option(
    "--out", "out_path", type=click.Path(dir_okay=False), default=None, metavar="FILE.csv"
)
@plot_option("Heatmap of the solved fraction over two axes.")
@click.option("--plot-axes", default=None, metavar="X,Y", help="Default: the first two varied.")
@max_memory_option
@json_option
@quiet_option
def sweep(
    workers: int,
    dask_address: str | None,
    dask_timeout: float,
    out_path: str | None,
    plot_path: str | None,
    plot_axes: str | None,
    max_memory: float | None,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Train every combination of the listed settings, each as a stack of seeds."""
    lists = {
        "hidden": parse_list("--hidden", options.pop("hidden"), _layers, "sizes like 2,4,8x8"),
        "activation": parse_list(
            "--activation", options.pop("activation"), _activation, "names like sigmoid,tanh"
        ),
        "lr": parse_list("--lr", options.pop("lr"), _lr, "positive numbers like 0.5,1"),
        "init": parse_list("--init", options.pop("init"), _init, f"of: {', '.join(INITS)}"),
        "epochs": parse_list(
            "--epochs", options.pop("epochs"), _non_negative_int, "whole numbers like 1000,5000"
        ),
        "nets": parse_list("--nets", options.pop("nets"), _positive_int, "positive whole numbers"),
    }
    if workers == 0:
        raise ConfigError("--workers 0: expected a positive number of processes, or -1 for all")
    axes = _plot_axes(plot_axes, lists)
    cells = make_cells(TrainConfig.from_options(options), lists)
    _check_cells(cells, max_memory)
    show = not quiet and sys.stderr.isatty()
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cells), desc="cells", unit="cell", file=sys.stderr, leave=False)
    try:
        rows = run_cells(
            cells,
            workers=workers,
            dask=dask_address,
            dask_timeout=dask_timeout,
            progress=None if bar is None else lambda: bar.update(1),
        )
    finally:
        if bar is not None:
            bar.close()
    if out_path:
        from mlplab.io.models import atomic_write_bytes

        atomic_write_bytes(out_path, _csv(rows))
    if plot_path:
        from mlplab.plotting import save_figure, sweep_figure

        title = f"{cells[0][0].data or cells[0][0].dataset}: fraction of seeds that solved it"
        save_figure(sweep_figure(rows, *axes, title=title), plot_path)
    if as_json:
        click.echo(json.dumps({"cells": rows, "config": cells[0][0].to_dict()}))
        return
    click.echo(_table(rows))
    for path, what in ((out_path, "table"), (plot_path, "heatmap")):
        if path:
            click.echo(f"{what} written to {path}")
