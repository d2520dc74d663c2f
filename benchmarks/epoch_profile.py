"""Where one epoch of ``epoch_speed.py``'s 784-256-10 network goes, on both engines.

NumPy engine: one epoch under ``cProfile``, with ``numpy.dot`` and ``numpy.matmul`` wrapped so
that the matrix products show as their own rows (NumPy's functions are invisible to cProfile
otherwise); prints the products' share and the rest by function (batch gathering, the loss
and softmax, ReLU, the optimizer).

JAX engine: the fit's wall time against its parts: ``History.seconds`` (the epochs),
``compile_seconds``, and the same epoch's matrix products alone in XLA (a ``scan`` over the
batches of the five products of forward and backward, gathered rows included), so that what
is not products shows as the difference.

    OPENBLAS_NUM_THREADS=1 python benchmarks/epoch_profile.py [--optimizer sgd adam]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable

import numpy as np
from epoch_speed import BATCH, LR, D, H, K, data

import mlplab.nn.network as network
from mlplab import MLP
from mlplab.engines._jax_setup import load_jax


def epoch(X: np.ndarray, T: np.ndarray, optimizer: str, engine: str) -> tuple[float, MLP, object]:
    net = MLP([D, H, K], "relu", "softmax", "cross_entropy", "mean", init="he", seed=0,
              dtype=np.float32)  # fmt: skip
    lr = LR if optimizer == "sgd" else 0.001
    start = time.perf_counter()
    history = net.fit(X, T, epochs=1, lr=lr, batch_size=BATCH, seed=0, optimizer=optimizer,
                      engine=engine)  # fmt: skip
    return time.perf_counter() - start, net, history


def wrapped_products() -> Callable[[], None]:
    """Wrap ``np.dot`` and ``np.matmul`` where mlplab's layers find them; returns the undo."""
    dot, matmul = np.dot, network.matmul

    def products_dot(*a, **k):
        return dot(*a, **k)

    def products_matmul(*a, **k):
        return matmul(*a, **k)

    np.dot, network.matmul = products_dot, products_matmul

    def undo() -> None:
        np.dot, network.matmul = dot, matmul

    return undo


def numpy_breakdown(X: np.ndarray, T: np.ndarray, optimizer: str) -> None:
    undo = wrapped_products()
    try:
        epoch(X, T, optimizer, "numpy")  # work arrays and caches warm
        profile = cProfile.Profile()
        profile.enable()
        seconds, _, _ = epoch(X, T, optimizer, "numpy")
        profile.disable()
    finally:
        undo()
    stats = pstats.Stats(profile)
    rows = {f"{fn}" if path == "~" else f"{path.split('/src/')[-1]}:{line}({fn})": row[2]
            for (path, line, fn), row in stats.stats.items()}  # fmt: skip
    products = sum(t for name, t in rows.items() if "products_" in name)
    print(f"NumPy engine, {optimizer}: epoch {seconds:.3f} s under cProfile; matrix products "
          f"{products:.3f} s ({products / seconds:.0%}); the rest by own time:")  # fmt: skip
    for name, t in sorted(rows.items(), key=lambda kv: -kv[1])[:12]:
        if "products_" not in name and t > 0.002:
            print(f"    {t:7.3f} s  {t / seconds:5.1%}  {name}")


def xla_products(X: np.ndarray, T: np.ndarray) -> Callable[[], float]:
    """The epoch's five products per batch (and the batch gather), alone, compiled."""
    jax = load_jax()
    jnp = jax.numpy
    rng = np.random.default_rng(0)
    W1 = jnp.asarray(rng.standard_normal((D, H), dtype=np.float32))
    W2 = jnp.asarray(rng.standard_normal((H, K), dtype=np.float32))
    Xd, Td = jnp.asarray(X), jnp.asarray(T)
    order = jnp.asarray(rng.permutation(len(X))[: len(X) // BATCH * BATCH].reshape(-1, BATCH))

    @jax.jit
    def products(W1, W2, Xd, Td, order):
        def one(carry, idx):
            W1, W2 = carry
            x, t = Xd[idx], Td[idx]
            h = x @ W1
            d = h @ W2 - t
            dW2, dh = h.T @ d, d @ W2.T
            dW1 = x.T @ dh
            return (W1 - 1e-6 * dW1, W2 - 1e-6 * dW2), None

        return jax.lax.scan(one, (W1, W2), order)[0]

    def run() -> float:
        start = time.perf_counter()
        jax.block_until_ready(products(W1, W2, Xd, Td, order))
        return time.perf_counter() - start

    run()
    return run


def jax_breakdown(X: np.ndarray, T: np.ndarray, optimizer: str, repeats: int) -> None:
    epoch(X, T, optimizer, "jax")  # compile (and fill the cache)
    products = xla_products(X, T)
    walls, epochs, gemms = [], [], []
    for _ in range(repeats):  # interleaved
        wall, _, history = epoch(X, T, optimizer, "jax")
        walls.append(wall)
        epochs.append(history.seconds)
        gemms.append(products())
    wall, inside, gemm = (statistics.median(v) for v in (walls, epochs, gemms))
    print(f"JAX engine, {optimizer}: fit {wall:.3f} s, of which History.seconds {inside:.3f} s; "
          f"the products alone in XLA {gemm:.3f} s ({gemm / inside:.0%} of the epochs); "
          f"outside the epochs {wall - inside:.3f} s (median of {repeats})")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--optimizer", nargs="+", default=["sgd", "adam"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--engines", nargs="+", default=["numpy", "jax"])
    args = p.parse_args(argv)
    X, labels = data()
    T = np.eye(K, dtype=np.float32)[labels]
    for optimizer in args.optimizer:
        if "numpy" in args.engines:
            numpy_breakdown(X, T, optimizer)
        if "jax" in args.engines:
            jax_breakdown(X, T, optimizer, args.repeats)


if __name__ == "__main__":
    main()
