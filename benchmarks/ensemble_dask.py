"""``ensemble --dask`` on a local two-worker cluster against one process, the same engine.

``--nets`` seed networks (XOR, 3-4-1 sigmoid, no bias, init "seed", full batch) for
``--epochs`` epochs: ``run_ensemble`` in this process, and ``run_ensemble_dask`` in blocks
on a ``LocalCluster`` of two worker processes (one thread each) started here, interleaved
over ``--repeats`` rounds after one warm-up each (which compiles, for jax). Reported: the
median wall time of each and the ratio, and that the results are identical.

    OPENBLAS_NUM_THREADS=1 python benchmarks/ensemble_dask.py [--engine jax] [--nets 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from mlplab.experiments.blocks import DEFAULT_BLOCK_NETS, run_ensemble_dask
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import run_ensemble


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("numpy", "jax"), default="jax")
    parser.add_argument("--nets", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--block-nets", type=int, default=DEFAULT_BLOCK_NETS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from distributed import LocalCluster

    config = TrainConfig(epochs=args.epochs, engine=args.engine)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address

        def local():
            return run_ensemble(config, args.nets, quiet=True)

        def dask():
            return run_ensemble_dask(config, args.nets, address, block_nets=args.block_nets)

        one, many = local(), dask()  # warm-up: compiles (and fills the disk cache)
        same = all(np.array_equal(getattr(one, k), getattr(many, k), equal_nan=True)
                   for k in ("solved", "epochs_to_solve", "final_loss", "diverged"))  # fmt: skip
        times: dict[str, list[float]] = {"one process": [], "cluster": []}
        for _ in range(args.repeats):
            for name, run in (("one process", local), ("cluster", dask)):
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"{args.nets} seed networks, {args.epochs} epochs, engine {args.engine}, blocks of "
          f"about {args.block_nets}; median of {args.repeats} (wall seconds):")  # fmt: skip
    for name, seconds in medians.items():
        print(f"  {name:12} {seconds:8.2f} s  {args.nets / seconds:9.0f} networks/s  {times[name]}")
    ratio = medians["one process"] / medians["cluster"]
    print(f"  cluster / one process: {ratio:.2f}x the networks/s; identical results: {same}")


if __name__ == "__main__":
    main()
