"""What this machine could do for the seed's network at most: operations against vector rates.

Counts the arithmetic of one network-epoch of the seed's step (``OPS``: multiply-adds, other
adds and multiplies, ``exp`` and divisions, as the 11 lines write them, X's zeros not
exploited), measures one core's rate of each on vectors that stay in the L1 cache (numba for
multiply-adds and adds, XLA for ``exp`` and division, the kernels the compiled engine gets),
and prints the ceiling in networks/s (60000 epochs each) for one core and for all of them:

- ``serial``: each kind of operation in turn, at its measured rate (no overlap between kinds);
- ``overlapped``: only the busiest kind counts (perfect overlap), the hard upper bound.

The rates are medians of ``--repeats`` runs; on a loaded machine they come out low.

    OPENBLAS_NUM_THREADS=1 python benchmarks/limit.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from peers import FULL_RUN

from mlplab.engines._jax_setup import load_jax

# one network-epoch of the seed's step (X 4x3, W1 3x4, h 4x4, W2 4x1, y 4x1)
OPS = {
    "fma": 48 + 16 + 16 + 48,  # X @ W1, h @ W2, h.T @ y_delta, X.T @ h_delta (+= into W)
    "add/mul": 20 + 16 + 64,  # 1 + e in both sigmoids; y_delta (4 x 4); h_delta (16 x 4)
    "exp": 16 + 4,  # the two sigmoids
    "div": 16 + 4,  # 1 / (1 + e)
}
LANES = 4096  # elements a kernel works on: 32 KiB in float64, inside L1 (with its inputs)


def fma_kernel() -> Callable | None:
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(fastmath=True, cache=True)
    def fma(x, m, c, reps):  # 8 multiply-adds per element and pass
        for _ in range(reps):
            for i in range(x.shape[0]):
                v = x[i]
                v = v * m + c
                v = v * m + c
                v = v * m + c
                v = v * m + c
                v = v * m + c
                v = v * m + c
                v = v * m + c
                x[i] = v * m + c

    @numba.njit(cache=True)  # no fastmath: no contraction into multiply-adds, no folding
    def add(x, m, c, reps):  # 4 adds and 4 multiplies per element and pass
        for _ in range(reps):
            for i in range(x.shape[0]):
                v = x[i]
                v = v * m
                v = v + c
                v = v * m
                v = v + c
                v = v * m
                v = v + c
                v = v * m
                x[i] = v + c

    return fma, add


def rate(run: Callable[[], None], ops: float, repeats: int) -> float:
    """Operations a second: ``ops`` done by one call of ``run``, median of ``repeats``."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return ops / statistics.median(times)


def numba_rates(dtype: type, repeats: int) -> dict[str, float]:
    kernels = fma_kernel()
    if kernels is None:
        print("numba is not installed: no multiply-add rate (pip install numba)")
        return {}
    fma, add = kernels
    x, reps = np.full(LANES, 0.5, dtype), 2000
    m, c = dtype(0.5), dtype(0.25)
    return {"fma": rate(lambda: fma(x, m, c, reps), 8 * LANES * reps, repeats),
            "add/mul": rate(lambda: add(x, m, c, reps), 8 * LANES * reps, repeats)}  # fmt: skip


def numpy_exp_rate(dtype: type, repeats: int) -> float:
    """NumPy's ``exp`` (its SIMD kernels where it has them for this CPU and dtype)."""
    x, out, reps = np.full(LANES, -0.5, dtype), np.empty(LANES, dtype), 200

    def run() -> None:
        for _ in range(reps):
            np.exp(x, out=out)

    return rate(run, LANES * reps, repeats)


def xla_rates(dtype: type, repeats: int) -> dict[str, float]:
    jax = load_jax()
    jnp = jax.numpy
    cpu = jax.devices("cpu")[0]
    x = jax.device_put(np.full(LANES, 0.5, dtype), cpu)
    steps = 2000

    def program(body: Callable) -> Callable[[], None]:
        f = jax.jit(lambda x: jax.lax.fori_loop(0, steps, lambda _, v: body(v), x))
        return lambda: jax.block_until_ready(f(x))

    return {"exp": rate(program(lambda v: jnp.exp(-v)), LANES * steps, repeats),
            "div": rate(program(lambda v: 1 / (1 + v)), LANES * steps, repeats),
            "xla tanh": rate(program(lambda v: jnp.tanh(v)), LANES * steps, repeats),
            "xla logistic": rate(program(jax.nn.sigmoid), LANES * steps, repeats),
            "xla fma": rate(program(lambda v: v * 0.5 + 0.25), LANES * steps, repeats)}  # fmt: skip


def ceiling(rates: dict[str, float], cores: int) -> tuple[float, float]:
    """(serial, overlapped) networks/s at ``rates`` (one core's) times ``cores``."""
    seconds = {kind: OPS[kind] / rates[kind] for kind in OPS}  # per network-epoch
    per_epoch_serial, per_epoch_overlap = sum(seconds.values()), max(seconds.values())
    return (cores / (per_epoch_serial * FULL_RUN), cores / (per_epoch_overlap * FULL_RUN))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    cores = os.cpu_count() or 1
    print("per network-epoch: " + ", ".join(f"{n} {k}" for k, n in OPS.items()))
    for dtype in (np.float64, np.float32):
        rates = {**numba_rates(dtype, args.repeats), **xla_rates(dtype, args.repeats),
                 "numpy exp": numpy_exp_rate(dtype, args.repeats)}
        name = np.dtype(dtype).name
        print(f"{name}, one core: " + ", ".join(f"{k} {r / 1e9:.2f} G/s" for k, r in rates.items()))
        if all(kind in rates for kind in OPS):
            serial, overlapped = ceiling(rates, cores)
            print(f"{name}: ceiling on {cores} cores {serial:.0f} networks/s serial, "
                  f"{overlapped:.0f} overlapped (60000 epochs each)")


if __name__ == "__main__":
    main()
