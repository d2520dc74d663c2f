"""One epoch of a 784-256-10 ReLU/softmax network on 60000 x 784 float32 inputs, batch 128,
SGD and Adam: mlplab's two engines (NumPy and JAX) beside PyTorch (CPU, same thread count),
hand-written NumPy (SGD) and scikit-learn's MLPClassifier (max_iter=1, SGD), in one process,
interleaved, medians printed with ratios. Also the peak memory of the NumPy engine's epoch
(tracemalloc: NumPy's allocations).

    OPENBLAS_NUM_THREADS=2 python benchmarks/epoch_speed.py --threads 2 [--repeats 7]
        [--optimizer sgd adam] [--engines numpy jax jax-array] [--no-sklearn]

``jax-array``: the JAX engine given its data as JAX arrays (made before the clock starts, as
PyTorch's tensors are), which it reads without copying them in.

Target (issue 24): the faster engine <= 0.7x PyTorch's time with 2 threads, SGD and Adam.
Each round runs every contender once, back to back, so a round's ratios see one load; the
ratio printed is the median of the rounds' ratios (and the ratio of the medians beside it).
On a machine other jobs share, threads that spin lose most: PyTorch's 2-thread epoch took
18-27 s at load 7 as installed, 1.6-3.1 s with ``OMP_WAIT_POLICY=PASSIVE`` (docs/engines.md).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from mlplab import MLP

N, D, H, K, BATCH, LR = 60000, 784, 256, 10, 128, 0.01
RATES = {"sgd": LR, "adam": 0.001}


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D), dtype=np.float32)
    labels = rng.integers(0, K, N)
    return X, labels


def network() -> MLP:
    return MLP([D, H, K], "relu", "softmax", "cross_entropy", "mean", init="he", seed=0,
               dtype=np.float32)  # fmt: skip


def mlplab_epoch(engine: str, optimizer: str) -> Callable:
    """mlplab's fit on ``engine``; ``jax-array``: engine ``jax`` given its data as JAX arrays,
    made before the clock starts, as PyTorch is given tensors (NumPy's arrays here start 16
    bytes past a 64-byte boundary, and JAX copies such an array in at every fit)."""
    def run(X, labels, T):
        net = network()
        if engine == "jax-array":
            import jax.numpy as jnp

            X, T = jnp.asarray(X).block_until_ready(), jnp.asarray(T).block_until_ready()
        start = time.perf_counter()
        net.fit(X, T, epochs=1, lr=RATES[optimizer], batch_size=BATCH, seed=0,
                optimizer=optimizer, engine=engine.removesuffix("-array"))  # fmt: skip
        return time.perf_counter() - start

    return run


def numpy_epoch(X, labels, T):
    """The same math written out by hand (SGD): preallocated nothing, nothing general."""
    rng = np.random.default_rng(0)
    W1 = (rng.standard_normal((D, H)) * np.sqrt(2 / D)).astype(np.float32)
    b1 = np.zeros(H, np.float32)
    W2 = (rng.standard_normal((H, K)) * np.sqrt(2 / H)).astype(np.float32)
    b2 = np.zeros(K, np.float32)
    start = time.perf_counter()
    order = rng.permutation(len(X))
    for lo in range(0, len(X), BATCH):
        idx = order[lo : lo + BATCH]
        x, t = X[idx], T[idx]
        h = np.maximum(x @ W1 + b1, 0)
        z = h @ W2 + b2
        y = np.exp(z - z.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        delta = (y - t) / len(x)
        dW2, db2 = h.T @ delta, delta.sum(0)
        dh = (delta @ W2.T) * (h > 0)
        dW1, db1 = x.T @ dh, dh.sum(0)
        W1 -= LR * dW1
        b1 -= LR * db1
        W2 -= LR * dW2
        b2 -= LR * db2
    return time.perf_counter() - start


def products_epoch(X, labels, T):
    """The floor: only the epoch's gathers and its five matrix products per batch (NumPy)."""
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((D, H), dtype=np.float32)
    W2 = rng.standard_normal((H, K), dtype=np.float32)
    start = time.perf_counter()
    order = rng.permutation(len(X))
    for lo in range(0, len(X), BATCH):
        idx = order[lo : lo + BATCH]
        x, t = X.take(idx, axis=0), T.take(idx, axis=0)
        h = x @ W1
        d = h @ W2 - t
        np.dot(h.T, d)  # dW2
        np.dot(x.T, d @ W2.T)  # dW1
    return time.perf_counter() - start


def torch_products_epoch(X, labels, T):
    """PyTorch's floor the same way: its gathers and the five products per batch alone."""
    import torch

    gen = torch.Generator().manual_seed(0)
    W1, W2 = torch.randn(D, H, generator=gen), torch.randn(H, K, generator=gen)
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)
    start = time.perf_counter()
    order = torch.randperm(len(X), generator=gen)
    for lo in range(0, len(X), BATCH):
        idx = order[lo : lo + BATCH]
        x, t = Xt[idx], Tt[idx]
        h = x @ W1
        d = h @ W2 - t
        torch.mm(h.T, d)  # dW2
        torch.mm(x.T, d @ W2.T)  # dW1
    return time.perf_counter() - start


def torch_epoch(optimizer: str) -> Callable:
    def run(X, labels, T):
        import torch

        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, K))
        make = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
        opt = make(model.parameters(), lr=RATES[optimizer])
        loss_fn = torch.nn.CrossEntropyLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(labels)
        start = time.perf_counter()
        order = torch.randperm(len(X))
        for lo in range(0, len(X), BATCH):
            idx = order[lo : lo + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        return time.perf_counter() - start

    return run


def sklearn_epoch(X, labels, T, dtype=np.float64):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier((H,), solver="sgd", momentum=0.0, learning_rate_init=LR,
                        batch_size=BATCH, max_iter=1, alpha=0.0, random_state=0)  # fmt: skip
    Xd = X.astype(dtype)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xd, labels)
    return time.perf_counter() - start


def peak_memory(X, T) -> int:
    net = network()
    tracemalloc.start()
    net.fit(X, T, epochs=1, lr=LR, batch_size=BATCH, seed=0, engine="numpy")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def contenders(optimizer: str, engines: list[str], sklearn: bool) -> dict[str, Callable]:
    runs = {f"mlplab {engine}": mlplab_epoch(engine, optimizer) for engine in engines}
    runs["pytorch"] = torch_epoch(optimizer)
    runs["numpy: gathers and products alone"] = products_epoch
    runs["pytorch: gathers and products alone"] = torch_products_epoch
    if optimizer == "sgd":
        runs["numpy by hand"] = numpy_epoch
        if sklearn:
            runs["scikit-learn (float64)"] = sklearn_epoch
    return runs


def report(optimizer: str, times: dict[str, list[float]], engines: list[str]) -> None:
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, m in medians.items():
        print(f"  {name:<34} {m:7.3f} s   {m / medians['pytorch']:5.2f}x pytorch   (runs: "
              f"{', '.join(f'{t:.2f}' for t in times[name])})")  # fmt: skip
    torch_times = times["pytorch"]
    for engine in engines:
        mine = times[f"mlplab {engine}"]
        rounds = statistics.median(m / p for m, p in zip(mine, torch_times, strict=True))
        print(f"  {optimizer} mlplab {engine} / pytorch = {rounds:.2f} median of the rounds' "
              f"ratios ({medians[f'mlplab {engine}'] / medians['pytorch']:.2f} of the medians)")
    best = [min(times[f"mlplab {e}"][i] for e in engines) / p for i, p in enumerate(torch_times)]
    print(f"  {optimizer} faster engine / pytorch = {statistics.median(best):.2f} "
          f"(median of the rounds; target <= 0.70)")
    for floor in ("numpy", "pytorch"):
        alone = times[f"{floor}: gathers and products alone"]
        ratio = statistics.median(f / p for f, p in zip(alone, torch_times, strict=True))
        print(f"  {optimizer} {floor}'s gathers and products alone / pytorch = {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--optimizer", nargs="+", default=["sgd", "adam"], choices=RATES)
    parser.add_argument("--engines", nargs="+", default=["numpy", "jax", "jax-array"],
                        choices=["numpy", "jax", "jax-array"])
    parser.add_argument("--no-sklearn", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    X, labels = data()
    T = np.eye(K, dtype=np.float32)[labels]
    with threadpool_limits(limits=args.threads):
        for optimizer in args.optimizer:
            runs = contenders(optimizer, args.engines, not args.no_sklearn)
            times: dict[str, list[float]] = {name: [] for name in runs}
            for fn in runs.values():  # warm up: BLAS threads, torch's kernels, JAX's compiling
                fn(X, labels, T)
            for _ in range(args.repeats):
                for name, fn in runs.items():  # interleaved: load on the machine hits all alike
                    times[name].append(fn(X, labels, T))
            print(f"one epoch, {N} x {D} float32, {D}-{H}-{K} relu/softmax, batch {BATCH}, "
                  f"{optimizer}; {args.threads} thread(s), median of {args.repeats}")  # fmt: skip
            report(optimizer, times, args.engines)
        peak = peak_memory(X, T)
    print(f"mlplab (numpy) peak memory during the epoch: {peak / 2**20:.1f} MiB "
          f"(data set: {X.nbytes / 2**20:.0f} MiB, not copied)")  # fmt: skip


if __name__ == "__main__":
    main()
