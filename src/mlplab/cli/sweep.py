"""``mlplab sweep``: every combination of settings, each cell one stack of seeds.

Comma lists for ``--hidden`` (``8x8`` is two layers of 8), ``--activation``,
``--lr``, ``--init``, ``--epochs`` and ``--nets`` make a grid; each cell trains
``nets`` networks (seeds S, S+1, ...) as one stack and reports what
``mlplab ensemble`` does. By default the cells x seeds train as one program: the
fewest stacks (one for a grid over rates and widths; ``mlplab.experiments.grid``).
``--by-cell`` runs them cell by cell in worker processes here (joblib). ``--dask
tcp://HOST:PORT`` sends the stacks to a Dask cluster, in blocks of at most ``--block-nets``
networks (``mlplab.experiments.grid_cluster``; with ``--by-cell``, the cells); a cell's
result depends only on its settings, so all give the same table. The running is
``mlplab.experiments``'; this module parses the lists and shows the table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from mlplab.cli.options import (
    dask_options,
    data_options,
    device_option,
    engine_option,
    json_option,
    max_memory_option,
    optimizer_options,
    plot_option,
    quiet_option,
)
from mlplab.cli.outputs import check_outputs
from mlplab.datasets import DATASETS
from mlplab.errors import ConfigError, MlplabError
from mlplab.experiments.blocks import DEFAULT_BLOCK_NETS
from mlplab.experiments.config import DEFAULTS, TrainConfig
from mlplab.experiments.ensembles import DEFAULT_NETS
from mlplab.experiments.grid import train_grid
from mlplab.experiments.grid_cluster import train_grid_dask
from mlplab.experiments.sweeps import (
    AXES,
    CellsLost,
    check_cells,
    hidden_label,
    make_cells,
    run_cells,
    write_csv,
)
from mlplab.nn.activations import (
    get_activation,
    hidden_activation_names,
    output_activation_names,
)
from mlplab.nn.init import INITS
from mlplab.nn.losses import LOSSES, REDUCTIONS

__all__ = ["SWEEP_EPOCHS", "parse_list", "sweep"]

SWEEP_EPOCHS = 5000  # per cell, unless told: the seed's 60000 for every cell took minutes


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
        except MlplabError as e:  # its message already says what was expected
            raise ConfigError(f"{option}: {e}") from None
        except ValueError:
            raise ConfigError(f"{option}: bad value {part!r}; expected {expected}") from None
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


def _keep_finished(
    rows: list[dict[str, Any]], out_path: str | None, as_json: bool, config: TrainConfig
) -> None:
    """Write and show the cells that finished before some were lost."""
    if out_path and rows:
        write_csv(rows, out_path)
    if as_json:
        click.echo(json.dumps({"cells": rows, "config": config.to_dict(), "complete": False}))
    elif rows:
        click.echo(_table(rows))


def _choice(names: Sequence[str]) -> click.Choice:
    return click.Choice(list(names), case_sensitive=False)


@click.command()
@click.option(
    "--dataset", type=_choice(list(DATASETS)), default=DEFAULTS.dataset, show_default=True
)
@click.option(
    "--hidden", default=hidden_label(DEFAULTS.hidden), show_default=True,
    help="Comma list of cells, layers joined by x: 2,8x8 is two cells, one layer of 2 and two "
    "of 8 (train's --hidden 8,8 is one network of two layers).",
)  # fmt: skip
@click.option(
    "--activation", default=DEFAULTS.activation, show_default=True,
    help=f"Comma list of: {', '.join(hidden_activation_names())}.",
)  # fmt: skip
@click.option(
    "--lr", default=f"{DEFAULTS.lr:g}", show_default=True, help="Comma list of learning rates."
)
@click.option(
    "--init", default=DEFAULTS.init, show_default=True,
    help=f"Comma list of: {', '.join(INITS)}.",
)  # fmt: skip
@click.option(
    "--epochs", default=str(SWEEP_EPOCHS), show_default=True,
    help="Comma list of epochs (the default keeps a sweep of many cells within a minute).",
)  # fmt: skip
@click.option(
    "--nets", default=str(DEFAULT_NETS), show_default=True, help="Comma list: networks per cell."
)
@click.option(
    "--output-activation", type=_choice(output_activation_names()),
    default=DEFAULTS.output_activation, show_default=True,
)  # fmt: skip
@click.option("--loss", type=_choice(list(LOSSES)), default=DEFAULTS.loss, show_default=True)
@click.option(
    "--reduction", type=_choice(list(REDUCTIONS)), default=DEFAULTS.reduction, show_default=True
)
@click.option(
    "--bias/--no-bias", default=DEFAULTS.bias, help="Default: bias unless the data has one."
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=DEFAULTS.seed, show_default=True)
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default=DEFAULTS.dtype)
@data_options
@optimizer_options
@click.option(
    "--by-cell", is_flag=True,
    help="Train cell by cell in worker processes (the default trains the grid as one program).",
)  # fmt: skip
@click.option(
    "--workers", type=int, default=-1, show_default=True,
    help="With --by-cell: local worker processes (-1: all).",
)  # fmt: skip
@dask_options("Train the stacks (with --by-cell, the cells) on this Dask scheduler instead.")
@click.option(
    "--block-nets", type=click.IntRange(min=1), default=None, metavar="N",
    help=f"With --dask: networks per stack sent to a worker, at most "
    f"(default {DEFAULT_BLOCK_NETS}).",
)  # fmt: skip
@click.option(
    "--out", "out_path", type=click.Path(dir_okay=False), default=None, metavar="FILE.csv"
)
@plot_option("Heatmap of the solved fraction over two axes.")
@click.option("--plot-axes", default=None, metavar="X,Y", help="Default: the first two varied.")
@max_memory_option
@engine_option
@device_option
@json_option
@quiet_option
def sweep(
    out_path: str | None,
    plot_path: str | None,
    plot_axes: str | None,
    max_memory: float | None,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Train every combination of the listed settings, each as a stack of seeds."""
    lists = _setting_lists(options)
    if options["workers"] == 0:
        raise ConfigError("--workers 0: expected a positive number of processes, or -1 for all")
    axes = _plot_axes(plot_axes, lists)
    check_outputs({"--out": out_path}, {"--plot": plot_path}, {"data file (--data)":
                                                               options.get("data")})
    run = {name: options.pop(name) for name in ("by_cell", "workers", "dask_address",
                                                "dask_timeout", "block_nets")}  # fmt: skip
    if run["block_nets"] is not None and (run["dask_address"] is None or run["by_cell"]):
        raise ConfigError("--block-nets sizes the stacks sent with --dask (not with --by-cell)")
    cells = make_cells(TrainConfig.from_options(options), lists)
    check_cells(cells, max_memory)
    rows, lost = _train_cells(cells, run, max_memory, show=not quiet and sys.stderr.isatty())
    if lost is not None:
        _keep_finished(rows, out_path, as_json, cells[0][0])
        raise ConfigError(f"{lost}" + (f"; the {len(rows)} finished are in {out_path}"
                                        if out_path and rows else ""))
    if out_path:
        write_csv(rows, out_path)
    if plot_path:
        _heatmap(rows, cells, axes, plot_path)
    if as_json:
        click.echo(json.dumps({"cells": rows, "config": cells[0][0].to_dict()}))
        return
    click.echo(_table(rows))
    for path, what in ((out_path, "table"), (plot_path, "heatmap")):
        if path:
            click.echo(f"{what} written to {path}")


def _setting_lists(options: dict[str, Any]) -> dict[str, list]:
    """The comma lists a sweep varies, parsed and taken out of ``options``."""
    return {
        "hidden": parse_list("--hidden", options.pop("hidden"), _layers, "sizes like 2,4,8x8"),
        "activation": parse_list(
            "--activation", options.pop("activation"), _activation, "names like sigmoid,tanh"
        ),
        "lr": parse_list("--lr", options.pop("lr"), _lr, "positive numbers like 0.5,1"),
        "init": parse_list("--init", options.pop("init"), _init, f"names of: {', '.join(INITS)}"),
        "epochs": parse_list(
            "--epochs", options.pop("epochs"), _non_negative_int, "whole numbers like 1000,5000"
        ),
        "nets": parse_list("--nets", options.pop("nets"), _positive_int, "positive whole numbers"),
    }


def _train_cells(
    cells: list, run: dict[str, Any], max_memory: float | None, show: bool
) -> tuple[list[dict[str, Any]], CellsLost | None]:
    """``(rows, lost)``: the grid as one program (the fewest stacks, in this process or
    with ``--dask`` on a cluster), or with ``--by-cell`` cell by cell; a progress bar over
    the cells if ``show``."""
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cells), desc="cells", unit="cell", file=sys.stderr, leave=False)
    try:
        if run["dask_address"] is not None and not run["by_cell"]:
            rows = train_grid_dask(
                cells, run["dask_address"], timeout=run["dask_timeout"],
                block_nets=run["block_nets"] or DEFAULT_BLOCK_NETS, max_memory=max_memory,
                progress=None if bar is None else bar.update,
            ).rows  # fmt: skip
        elif run["by_cell"] or run["dask_address"] is not None:
            rows = run_cells(
                cells,
                workers=run["workers"],
                dask=run["dask_address"],
                dask_timeout=run["dask_timeout"],
                progress=None if bar is None else lambda: bar.update(1),
            )
        else:
            rows = train_grid(cells, max_memory=max_memory,
                              progress=None if bar is None else bar.update).rows  # fmt: skip
    except CellsLost as e:  # keep what finished, then say what was lost
        return e.rows, e
    finally:
        if bar is not None:
            bar.close()
    return rows, None


def _heatmap(rows: list[dict[str, Any]], cells: list, axes: tuple, path: str) -> None:
    """The solved fraction over two axes, on a figure of its own (never pyplot's)."""
    from mlplab.plot import figure, save_figure, sweep_figure, sweep_size

    title = f"{cells[0][0].data or cells[0][0].dataset}: fraction of seeds that solved it"
    ax = figure(*sweep_size(rows, *axes)).add_subplot()
    save_figure(sweep_figure(rows, *axes, title=title, ax=ax), path)
