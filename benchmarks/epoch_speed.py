"""One epoch of a 784-256-10 ReLU/softmax network on 60000 x 784 float32 inputs, batch 128,
plain SGD: mlplab beside PyTorch (CPU, same thread count), hand-written NumPy and
scikit-learn's MLPClassifier (max_iter=1), in one process, interleaved, medians printed
with ratios. Also the peak memory of mlplab's epoch (tracemalloc: NumPy's allocations).

    .venv/bin/python benchmarks/epoch_speed.py [--threads 1] [--repeats 5]

Target (issue 3): mlplab <= 0.8x PyTorch's time.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from mlplab import MLP

N, D, H, K, BATCH, LR = 60000, 784, 256, 10, 128, 0.01


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D), dtype=np.float32)
    labels = rng.integers(0, K, N)
    return X, labels


def mlplab_epoch(X, labels, T):
    net = MLP([D, H, K], "relu", "softmax", "cross_entropy", "mean", init="he", seed=0,
              dtype=np.float32)  # fmt: skip
    start = time.perf_counter()
    net.fit(X, T, epochs=1, lr=LR, batch_size=BATCH, seed=0)
    return time.perf_counter() - start


def numpy_epoch(X, labels, T):
    """The same math written out by hand: preallocated nothing, nothing general."""
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


def torch_epoch(X, labels, T):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, K))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
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
    net = MLP([D, H, K], "relu", "softmax", "cross_entropy", "mean", init="he", seed=0,
              dtype=np.float32)  # fmt: skip
    tracemalloc.start()
    net.fit(X, T, epochs=1, lr=LR, batch_size=BATCH, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-sklearn", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    X, labels = data()
    T = np.eye(K, dtype=np.float32)[labels]
    runs = {"mlplab": mlplab_epoch, "numpy by hand": numpy_epoch, "pytorch": torch_epoch}
    if not args.no_sklearn:
        runs["scikit-learn (float64)"] = sklearn_epoch
    times: dict[str, list[float]] = {name: [] for name in runs}
    with threadpool_limits(limits=args.threads):
        for fn in runs.values():  # warm up: BLAS threads, torch's kernels, page faults
            fn(X[:2048], labels[:2048], T[:2048])
        for _ in range(args.repeats):
            for name, fn in runs.items():  # interleaved, so load on the machine hits all alike
                times[name].append(fn(X, labels, T))
        peak = peak_memory(X, T)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"one epoch, {N} x {D} float32, {D}-{H}-{K} relu/softmax, batch {BATCH}, SGD; "
          f"{args.threads} thread(s), median of {args.repeats}")  # fmt: skip
    for name, m in medians.items():
        ratio = m / medians["pytorch"]
        print(f"  {name:<24} {m:7.3f} s   {ratio:5.2f}x pytorch   (runs: "
              f"{', '.join(f'{t:.2f}' for t in times[name])})")  # fmt: skip
    # each round runs the contenders back to back, so a round's ratio sees one load
    rounds = {
        peer: statistics.median(m / p for m, p in zip(times["mlplab"], times[peer], strict=True))
        for peer in ("pytorch", "numpy by hand")
    }
    print(f"mlplab / pytorch = {medians['mlplab'] / medians['pytorch']:.2f} of the medians, "
          f"{rounds['pytorch']:.2f} median of the rounds' ratios (target <= 0.80)")  # fmt: skip
    print(f"mlplab / numpy by hand = {medians['mlplab'] / medians['numpy by hand']:.2f} of the "
          f"medians, {rounds['numpy by hand']:.2f} median of the rounds' ratios")  # fmt: skip
    print(f"mlplab peak memory during the epoch: {peak / 2**20:.1f} MiB "
          f"(data set: {X.nbytes / 2**20:.0f} MiB, not copied)")  # fmt: skip


if __name__ == "__main__":
    main()
