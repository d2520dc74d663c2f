"""1000 seeds of the seed's 3-4-1 network against the seed's 11 lines training one.

Prints networks trained per second (60000 epochs each) for: the seed's loop; an
mlplab stack of 1000 in float64 and float32, stored stack-last with its
products from ``mlplab.nn.narrow`` (the default for narrow layers) and stored
stack-first with plain ``np.matmul`` (the default for wide layers); and the same stack in PyTorch
(``torch.bmm``, hand-written backward as in the seed, best of its default
threads and one thread). Everything is timed in this one process, over fewer
epochs than 60000 (``--epochs``), interleaved over ``--rounds`` rounds; the
median time per epoch is scaled to 60000 epochs. Ratios are to the seed loop.

    python benchmarks/ensemble.py [--nets 1000] [--epochs 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from seed_loop import seed_loop as seed_program  # beside this file

from mlplab import MLP, load_dataset
from mlplab.nn import narrow

FULL_RUN = 60000
X_SEED = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
T_SEED = np.array([[0, 1, 1, 0]]).T


def seed_loop(epochs: int) -> float:
    """The seed's 11 lines (one network, ``benchmarks/seed_loop.py``'s copy), timed; seconds
    per epoch."""
    start = time.perf_counter()
    seed_program(epochs)
    return (time.perf_counter() - start) / epochs


def mlplab_stack(nets: int, dtype: type, use_narrow: bool) -> Callable[[int], float]:
    X, t = load_dataset("xor")

    def run(epochs: int) -> float:
        narrow.ENABLED = use_narrow
        try:
            net = MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=nets, dtype=dtype)
            history = net.fit(X, t, epochs=epochs)
        finally:
            narrow.ENABLED = True
        return history.seconds / epochs

    return run


def torch_stack(nets: int, dtype_name: str, threads: int | None) -> Callable[[int], float] | None:
    try:
        import torch
    except ImportError:
        return None
    dtype = getattr(torch, dtype_name)

    def run(epochs: int) -> float:
        default_threads = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            with torch.no_grad():
                gen = torch.Generator().manual_seed(0)
                X = torch.tensor(X_SEED, dtype=dtype).expand(nets, 4, 3)
                t = torch.tensor(T_SEED, dtype=dtype)
                W1 = 2 * torch.rand(nets, 3, 4, generator=gen, dtype=dtype) - 1
                W2 = 2 * torch.rand(nets, 4, 1, generator=gen, dtype=dtype) - 1
                Xt = X.transpose(1, 2)
                start = time.perf_counter()
                for _ in range(epochs):
                    h = torch.sigmoid(torch.bmm(X, W1))
                    y = torch.sigmoid(torch.bmm(h, W2))
                    y_delta = (t - y) * (y * (1 - y))
                    h_delta = torch.bmm(y_delta, W2.transpose(1, 2)) * (h * (1 - h))
                    W2 += torch.bmm(h.transpose(1, 2), y_delta)
                    W1 += torch.bmm(Xt, h_delta)
                return (time.perf_counter() - start) / epochs
        finally:
            torch.set_num_threads(default_threads)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nets", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=2000, help="epochs timed per stack run")
    parser.add_argument("--seed-epochs", type=int, default=3000, help="epochs timed per seed run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    runs: dict[str, tuple[int, Callable[[int], float]]] = {
        "seed's 11 lines (1 network)": (1, seed_loop)
    }
    for dtype in ("float64", "float32"):
        for use_narrow, how in ((True, "stack-last (default)"), (False, "np.matmul")):
            label = f"mlplab stack, {dtype}, {how}"
            runs[label] = (args.nets, mlplab_stack(args.nets, getattr(np, dtype), use_narrow))
        for threads in (None, 1):
            run = torch_stack(args.nets, dtype, threads)
            if run is not None:
                which = "default threads" if threads is None else "1 thread"
                runs[f"torch.bmm stack, {dtype}, {which}"] = (args.nets, run)
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(args.rounds):  # interleaved, so load on the machine hits every row alike
        for label, (_, run) in runs.items():
            epochs = args.seed_epochs if label.startswith("seed") else args.epochs
            times[label].append(run(epochs))

    per_second = {
        label: nets / (statistics.median(times[label]) * FULL_RUN)
        for label, (nets, _) in runs.items()
    }
    seed = per_second["seed's 11 lines (1 network)"]
    print(
        f"{args.nets} networks x {FULL_RUN} epochs (timed over {args.epochs} epochs per stack, "
        f"{args.seed_epochs} for the seed loop, median of {args.rounds} interleaved rounds)"
    )
    print(f"{'':50} {'us/epoch':>9} {'networks/s':>11} {'x seed loop':>12}")
    for label, rate in per_second.items():
        us = statistics.median(times[label]) * 1e6
        print(f"{label:50} {us:9.1f} {rate:11.2f} {rate / seed:12.1f}")
    for dtype in ("float64", "float32"):
        ours = per_second[f"mlplab stack, {dtype}, stack-last (default)"]
        theirs = [v for k, v in per_second.items() if k.startswith(f"torch.bmm stack, {dtype}")]
        if theirs:
            print(f"mlplab / best torch.bmm, {dtype}: {ours / max(theirs):.2f}x")


if __name__ == "__main__":
    main()
