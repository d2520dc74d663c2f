"""mlplab's training of the seed's network against the seed's own 11 lines, in one process.

Prints the median time of several interleaved runs of each, and the ratios:
- in process: the seed loop vs ``MLP.fit`` (60000 epochs, loss history included),
  with a hand-written NumPy loop using preallocated buffers as the floor of what
  NumPy can do for this network;
- whole process: ``python seed.py`` vs ``mlplab train -q`` (imports included).

Usage: python benchmarks/seed_loop.py [--repeats 7] [--epochs 60000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import mlplab

SEED_SCRIPT = """\
import numpy as np
np.random.seed(0)
X = np.array([ [0,0,1],[0,1,1],[1,0,1],[1,1,1] ])
t = np.array([[0,1,1,0]]).T
W1 = 2*np.random.random((3,4)) - 1
W2 = 2*np.random.random((4,1)) - 1
for j in range({epochs}):
    h = 1/(1+np.exp(-(np.dot(X,W1))))
    y = 1/(1+np.exp(-(np.dot(h,W2))))
    y_delta = (t - y)*(y*(1-y))
    h_delta = np.dot(y_delta, W2.T) * (h * (1-h))
    W2 += np.dot(h.T, y_delta)
    W1 += np.dot(X.T, h_delta)
print(y)
"""


def seed_loop(epochs: int) -> np.ndarray:
    """The seed's 11 lines."""
    np.random.seed(0)
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    t = np.array([[0, 1, 1, 0]]).T
    W1 = 2 * np.random.random((3, 4)) - 1
    W2 = 2 * np.random.random((4, 1)) - 1
    for _ in range(epochs):
        h = 1 / (1 + np.exp(-(np.dot(X, W1))))
        y = 1 / (1 + np.exp(-(np.dot(h, W2))))
        y_delta = (t - y) * (y * (1 - y))
        h_delta = np.dot(y_delta, W2.T) * (h * (1 - h))
        W2 += np.dot(h.T, y_delta)
        W1 += np.dot(X.T, h_delta)
    return W2


def buffered_loop(epochs: int) -> np.ndarray:
    """The same math by hand with preallocated buffers and out= arguments: NumPy's floor."""
    rs = np.random.RandomState(0)
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    t = np.array([[0, 1, 1, 0]], dtype=float).T
    W1 = 2 * rs.random_sample((3, 4)) - 1
    W2 = 2 * rs.random_sample((4, 1)) - 1
    one = np.ones(())
    h, y, d, dy = np.empty((4, 4)), np.empty((4, 1)), np.empty((4, 1)), np.empty((4, 1))
    hd, dh, dW1, dW2 = np.empty((4, 4)), np.empty((4, 4)), np.empty((3, 4)), np.empty((4, 1))
    XT, loss = X.T, np.empty(epochs)
    for j in range(epochs):
        np.dot(X, W1, h)
        np.negative(h, h)
        np.exp(h, h)
        np.add(h, one, h)
        np.divide(one, h, h)
        np.dot(h, W2, y)
        np.negative(y, y)
        np.exp(y, y)
        np.add(y, one, y)
        np.divide(one, y, y)
        np.subtract(y, t, d)
        loss[j] = 0.5 * np.vdot(d, d)
        np.subtract(one, y, dy)
        np.multiply(y, dy, dy)
        np.multiply(d, dy, d)
        np.dot(d, W2.T, hd)
        np.subtract(one, h, dh)
        np.multiply(h, dh, dh)
        np.multiply(hd, dh, hd)
        np.dot(h.T, d, dW2)
        np.dot(XT, hd, dW1)
        np.subtract(W2, dW2, W2)
        np.subtract(W1, dW1, W1)
    return W2


def mlplab_fit(epochs: int) -> np.ndarray:
    X, t = mlplab.load_dataset("xor")
    net = mlplab.MLP([3, 4, 1], bias=False, init="seed", seed=0)
    net.fit(X, t, epochs=epochs)
    return net.params[1]["W"]


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def run_script(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=60000)
    args = parser.parse_args()

    assert np.array_equal(seed_loop(100), mlplab_fit(100)), "mlplab must match the seed"
    loops = {"seed": seed_loop, "mlplab": mlplab_fit, "buffered": buffered_loop}
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.repeats):  # interleaved, so drifting machine load hits all alike
        for name, fn in loops.items():
            times[name].append(timed(fn, args.epochs))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"in process, {args.epochs} epochs, median of {args.repeats}:")
    for name in loops:
        print(f"  {name:9s} {med[name]:.3f} s   ratio to seed {med[name] / med['seed']:.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "seed.py"
        script.write_text(SEED_SCRIPT.format(epochs=args.epochs))
        mlplab_cli = str(Path(sys.executable).with_name("mlplab"))
        commands = {
            "python seed.py": [sys.executable, str(script)],
            "mlplab train": [mlplab_cli, "train", "-q", "--epochs", str(args.epochs)],
        }
        ptimes: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                ptimes[name].append(timed(run_script, command))
    pmed = {name: statistics.median(ts) for name, ts in ptimes.items()}
    print(f"whole process, median of {args.repeats}:")
    for name in commands:
        ratio = pmed[name] / pmed["python seed.py"]
        print(f"  {name:15s} {pmed[name]:.3f} s   ratio {ratio:.2f}x")
    print(
        f"RESULT fit/seed {med['mlplab'] / med['seed']:.2f}x (target <= 1.15x: the driver and "
        f"engine cost next to nothing); "
        f"buffered/seed {med['buffered'] / med['seed']:.2f}x; "
        f"process {pmed['mlplab train'] / pmed['python seed.py']:.2f}x (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
