"""A sweep cell by cell against the same sweep as one program, side by side in one process.

Grid 1: 10 learning rates x 4 hidden widths x 25 seeds of the XOR network (1000 networks,
5000 epochs each). Cell by cell is what ``mlplab sweep --by-cell --workers 1`` does: one
stack of 25 seeds per cell (``run_cell``), 40 stacks. As one program is ``train_grid``: the
1000 networks as one stack, each with its own rate and width (masked). Grid 2: 5 rates x 200
seeds. On each engine (``numpy``, ``jax``), compiles included, each side as cold as the
other: JAX's on-disk compilation cache is off for this process (``MLPLAB_JAX_CACHE=off``),
and the engine's program cache and JAX's in-memory caches are emptied before every run
(JAX is imported before either). Wall and CPU seconds (all threads) are printed: on a
loaded machine the CPU seconds say more. The two runs' rows are checked equal (their counts).
Last, ``mlplab sweep`` over grid 1 as a whole process (start-up and imports included),
against the in-process cell-by-cell time: with an empty on-disk compilation cache (a first
run) and again with the programs it left there (a later run).

    python benchmarks/sweep.py [--epochs 5000] [--seeds 25] [--engines numpy,jax] [--no-cli]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from mlplab.experiments import TrainConfig, make_cells, run_cell, train_grid

RATES = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5]
WIDTHS = [2, 4, 6, 8]


def grid(engine: str, epochs: int, rates: list[float], widths: list[int], seeds: int):
    lists = {"hidden": [(w,) for w in widths], "activation": ["sigmoid"], "lr": rates,
             "init": ["seed"], "epochs": [epochs], "nets": [seeds]}  # fmt: skip
    return make_cells(TrainConfig(engine=engine, epochs=epochs), lists)


def _fresh_programs(engine: str) -> None:
    if engine == "jax":  # compiles included: nothing compiled kept from an earlier run
        import jax

        from mlplab.engines.jax import JaxEngine

        JaxEngine.shared_programs.clear()
        jax.clear_caches()


def timed(run, cells) -> tuple[float, float, list]:
    """Wall and CPU seconds of ``run(cells)``, from cold, and its rows."""
    _fresh_programs(cells[0][0].engine)
    wall, cpu = time.perf_counter(), time.process_time()
    rows = run(cells)
    return time.perf_counter() - wall, time.process_time() - cpu, rows


def by_cell(cells) -> list:
    return [run_cell(config, nets) for config, nets in cells]


def one_program(cells) -> list:
    return train_grid(cells).rows


def _counts(rows) -> list:
    return [(r["nets"], r["solved_fraction"], r["diverged"]) for r in rows]


def compare(name: str, cells) -> float:
    """Both ways, in this process; the cell-by-cell seconds."""
    cell_s, cell_cpu, cell_rows = timed(by_cell, cells)
    prog_s, prog_cpu, prog_rows = timed(one_program, cells)
    same = "same" if _counts(cell_rows) == _counts(prog_rows) else "DIFFERENT"
    print(f"{name:<34} {cell_s:>9.2f} {prog_s:>11.2f} {cell_s / prog_s:>7.1f}x  {same}   "
          f"CPU s {cell_cpu:.2f} / {prog_cpu:.2f} = {cell_cpu / prog_cpu:.1f}x")  # fmt: skip
    return cell_s


def whole_process(engine: str, epochs: int, seeds: int, cache: str) -> float:
    args = [sys.executable, "-m", "mlplab", "sweep", "--hidden", ",".join(map(str, WIDTHS)),
            "--lr", ",".join(map(str, RATES)), "--epochs", str(epochs), "--nets", str(seeds),
            "--engine", engine, "--json", "-q"]  # fmt: skip
    env = {**os.environ, "MLPLAB_JAX_CACHE": cache}
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=25)
    parser.add_argument("--engines", default="numpy,jax")
    parser.add_argument("--no-cli", action="store_true", help="skip the whole-process run")
    args = parser.parse_args()
    os.environ["MLPLAB_JAX_CACHE"] = "off"  # before JAX loads: each side compiles its own
    print(f"{'grid (engine)':<34} {'by cell s':>9} {'one prog. s':>11} {'ratio':>8}  rows")
    for engine in args.engines.split(","):
        if engine == "jax":  # importing JAX (seconds) is neither way's cost: done first
            import mlplab.engines.jax  # noqa: F401
        big = grid(engine, args.epochs, RATES, WIDTHS, args.seeds)
        cell_s = compare(f"10 rates x 4 widths x {args.seeds} ({engine})", big)
        rates = grid(engine, args.epochs, RATES[:5], [4], 200)
        compare(f"5 rates x 200 seeds ({engine})", rates)
        if args.no_cli:
            continue
        with tempfile.TemporaryDirectory() as cache:  # a first run's, then a later run's
            for run in ("first", "later"):
                cli_s = whole_process(engine, args.epochs, args.seeds, cache)
                print(f"  mlplab sweep, whole process ({engine}, {run} run): {cli_s:.2f} s = "
                      f"{cli_s / cell_s:.2f} of the in-process cell-by-cell time")  # fmt: skip


if __name__ == "__main__":
    main()
