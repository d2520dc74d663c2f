"""The NumPy and JAX engines side by side with the seed's 11 lines, in one process.

Three cases, each interleaved over ``--repeats`` rounds (median reported, as ratios):

1. one seed network (3-4-1, sigmoid, no bias, init "seed"), 60000 epochs: the seed loop,
   ``MLP.fit`` on the NumPy engine, ``MLP.fit(engine="jax")`` (compiled once before timing;
   the compile time is reported apart). Target: jax <= 0.05x the seed loop's time.
2. a stack of ``--nets`` seed networks in float64 and float32, split over two CPU devices:
   networks trained per second against the seed loop's (one network at a time), over
   ``--stack-epochs`` epochs scaled to 60000. Targets: >= 200x (float64), >= 300x (float32).
   (2b) a stack of ``--big-nets`` (100000) in float64: the compiled engine training each
   device's share in cache-sized chunks (``CHUNK_BYTES``, the default) against one piece.
3. digits (64-64-10, tanh, softmax + cross-entropy, Adam, mini-batches of 32, the NumPy
   engine's shuffled order): seconds per epoch of each engine. Target: jax no slower.

Also: what importing each engine costs (fresh processes), the compile times, and a program
read back from the disk cache by a second process against compiling it in the first
(target: < 1x; tests/test_engine_jax_driver.py checks only that it is read back).

    OPENBLAS_NUM_THREADS=1 python benchmarks/engines.py [--repeats 5] [--nets 1000]
"""

from __future__ import annotations

import os

# before JAX is imported (by mlplab.engines.jax): two CPU devices, one per core
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
os.environ["XLA_FLAGS"] += " --xla_cpu_multi_thread_eigen=false"

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
from seed_loop import seed_loop as seed_program  # beside this file

import mlplab.engines.jax as engine_jax
from mlplab import MLP, load_dataset
from mlplab.engines.jax import JaxEngine

FULL_RUN = 60000


def seed_loop(epochs: int) -> float:
    """The seed's 11 lines (one network, ``benchmarks/seed_loop.py``'s copy), timed; seconds."""
    start = time.perf_counter()
    seed_program(epochs)
    return time.perf_counter() - start


def seed_fit(engine: str, epochs: int, stack: int | None = None, dtype: type = np.float64
             ) -> Callable[[], float]:  # fmt: skip
    X, t = load_dataset("xor")

    def run() -> float:
        net = MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=stack, dtype=dtype)
        start = time.perf_counter()
        net.fit(X, t, epochs=epochs, engine=engine)
        return time.perf_counter() - start

    return run


def digits_fit(engine: str, epochs: int) -> Callable[[], float]:
    X, T = load_dataset("digits")

    def run() -> float:
        net = MLP([64, 64, 10], activation="tanh", output_activation="softmax",
                  loss="cross_entropy", reduction="mean", init="glorot", seed=0)  # fmt: skip
        start = time.perf_counter()
        net.fit(X, T, epochs=epochs, optimizer="adam", lr=0.001, batch_size=32, seed=0,
                standardize=True, engine=engine)  # fmt: skip
        return (time.perf_counter() - start) / epochs

    return run


def medians(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):  # interleaved: drifting load hits every peer alike
        for name, run in runs.items():
            times[name].append(run())
    return {name: statistics.median(ts) for name, ts in times.items()}


def compile_seconds(run: Callable[[], float]) -> float:
    """Time of a first run minus a second: what compiling (and first use) cost."""
    first = run()
    return first - run()


def import_seconds(module: str, repeats: int) -> float:
    code = f"import time; s = time.perf_counter(); import {module}; print(time.perf_counter() - s)"
    out = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout) for _ in range(repeats)]  # fmt: skip
    return statistics.median(out)


CACHED_RUN = """import mlplab.engines.jax as ej
from mlplab import MLP, load_dataset
from mlplab.train.job import prepare_job
job = prepare_job(MLP([3, 5, 1], seed=0), *load_dataset("xor"), lr=1.0, optimizer=None,
    batch_size=None, shuffle=True, validation=None, schedule=None, weight_decay=0.0, seed=0,
    standardize=False, sample_weight=None)
runner = ej.JaxEngine().start(job)
runner.run(0, 123)
print(runner.compile_seconds)
"""


def cache_read_ratio(repeats: int) -> float:
    """Compile seconds of a process reading the program from the disk cache / compiling it."""
    ratios = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "MLPLAB_JAX_CACHE": cache}
            first, second = (float(subprocess.run(
                [sys.executable, "-c", CACHED_RUN], check=True, capture_output=True, text=True,
                env=env).stdout) for _ in range(2))  # fmt: skip
        ratios.append(second / first)
    return statistics.median(ratios)


def case_one(repeats: int) -> float:
    jax_run = seed_fit("jax", FULL_RUN)
    print(f"(1) one seed network, {FULL_RUN} epochs; jax compile {compile_seconds(jax_run):.3f} s")
    med = medians({"seed": lambda: seed_loop(FULL_RUN), "numpy": seed_fit("numpy", FULL_RUN),
                   "jax": jax_run}, repeats)  # fmt: skip
    for name, s in med.items():
        print(f"    {name:6s} {s:.4f} s   {s / med['seed']:.3f}x the seed loop")
    return med["jax"] / med["seed"]


def case_two(repeats: int, nets: int, epochs: int) -> dict[str, float]:
    print(f"(2) {nets} stacked seed networks, {epochs} epochs scaled to {FULL_RUN}; "
          f"devices: {len(JaxEngine().devices)}")  # fmt: skip
    runs: dict[str, Callable[[], float]] = {"seed": lambda: seed_loop(epochs) * nets}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        runs[f"numpy {name}"] = seed_fit("numpy", epochs, nets, dtype)
        runs[f"jax {name}"] = seed_fit("jax", epochs, nets, dtype)
        print(f"    jax {name} compile {compile_seconds(runs[f'jax {name}']):.3f} s")
    med = medians(runs, repeats)
    ratios = {}
    for name, s in med.items():
        ratios[name] = med["seed"] / s
        per_s = nets / (s * FULL_RUN / epochs)
        print(f"    {name:13s} {per_s:8.1f} networks/s   {ratios[name]:6.1f}x the seed loop")
    return ratios


def case_two_big(repeats: int, nets: int, epochs: int) -> float:
    """Chunked against one piece, on the same stack: the ratio of networks/s."""
    chunked = engine_jax.CHUNK_BYTES

    def run(chunk_bytes: int) -> Callable[[], float]:
        fit = seed_fit("jax", epochs, nets)

        def timed() -> float:
            engine_jax.CHUNK_BYTES = chunk_bytes
            try:
                return fit()
            finally:
                engine_jax.CHUNK_BYTES = chunked
        return timed

    runs = {"chunked": run(chunked), "one piece": run(2**62)}
    for run_ in runs.values():
        run_()  # compile both
    med = medians(runs, repeats)
    print(f"(2b) {nets} stacked seed networks, float64, {epochs} epochs: chunked "
          f"{nets * epochs / med['chunked'] / 1e6:.2f}M network-epochs/s, one piece "
          f"{nets * epochs / med['one piece'] / 1e6:.2f}M: chunked "
          f"{med['one piece'] / med['chunked']:.2f}x")  # fmt: skip
    return med["one piece"] / med["chunked"]


def case_three(repeats: int, epochs: int) -> float:
    jax_run = digits_fit("jax", epochs)
    print(f"(3) digits 64-64-10, Adam, batches of 32; jax compile "
          f"{compile_seconds(jax_run) * epochs:.3f} s")  # fmt: skip
    med = medians({"numpy": digits_fit("numpy", epochs), "jax": jax_run}, repeats)
    for name, s in med.items():
        print(f"    {name:6s} {s * 1e3:.2f} ms an epoch   {s / med['numpy']:.3f}x numpy")
    return med["jax"] / med["numpy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--nets", type=int, default=1000)
    parser.add_argument("--stack-epochs", type=int, default=4000)
    parser.add_argument("--big-nets", type=int, default=100000)
    parser.add_argument("--big-epochs", type=int, default=300)
    parser.add_argument("--digits-epochs", type=int, default=5)
    parser.add_argument("--skip-imports", action="store_true")
    args = parser.parse_args()
    one = case_one(args.repeats)
    two = case_two(args.repeats, args.nets, args.stack_epochs)
    big = case_two_big(args.repeats, args.big_nets, args.big_epochs)
    three = case_three(args.repeats, args.digits_epochs)
    if not args.skip_imports:
        for module in ("mlplab", "mlplab.engines.jax"):
            print(f"import {module}: {import_seconds(module, 3):.2f} s (fresh process, median)")
        print(f"compile read back from the disk cache: {cache_read_ratio(3):.2f}x compiling "
              "(target < 1x; fresh processes, median)")
    print(f"RESULT (1) jax/seed {one:.3f}x (target <= 0.05x); (2) stack float64 "
          f"{two['jax float64']:.0f}x (target >= 200x), float32 {two['jax float32']:.0f}x "
          f"(target >= 300x); (2b) {args.big_nets} networks chunked {big:.2f}x one piece; "
          f"(3) digits jax/numpy {three:.2f}x (target <= 1x)")


if __name__ == "__main__":
    main()
