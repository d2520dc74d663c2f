"""Test accuracy of mlplab beside scikit-learn's MLPClassifier, same settings, one process.

digits: 75/25 split (seed 0), a 64-64-10 ReLU network, Adam, the same epochs and batch size
for both, every epoch run (no early end). Then the 2-D sets moons, circle, spiral and
gaussians (1000 points, noise 0.2, split 75/25) with a 2-32-32-1 network. mlplab runs through
``mlplab.sklearn.MLPClassifier``, whose parameters are scikit-learn's.

    .venv/bin/python benchmarks/accuracy.py [--seeds 5]

Target (issue 3): on digits with seed 0, mlplab's test accuracy >= scikit-learn's.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as TheirMLP

from mlplab import load_dataset
from mlplab.sklearn import MLPClassifier as OurMLP

EPOCHS, BATCH = 100, 32


def scores(name: str, hidden: tuple[int, ...], seed: int) -> dict[str, tuple[float, float]]:
    """``{"mlplab": (accuracy, seconds), "scikit-learn": (...)}`` on one split."""
    if name == "digits":
        X, T = load_dataset("digits")
    else:
        X, T = load_dataset(name, n=1000, noise=0.2, seed=seed)
    y = T.argmax(axis=1) if T.shape[1] > 1 else T[:, 0].astype(int)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed)
    settings = dict(hidden_layer_sizes=hidden, solver="adam", batch_size=BATCH, max_iter=EPOCHS,
                    tol=0.0, n_iter_no_change=EPOCHS + 1, random_state=seed)  # fmt: skip
    out = {}
    for label, cls in (("mlplab", OurMLP), ("scikit-learn", TheirMLP)):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = cls(**settings).fit(Xtr, ytr)
        out[label] = (clf.score(Xte, yte), time.perf_counter() - start)
        assert clf.n_iter_ == EPOCHS
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="splits and starts per data set")
    args = parser.parse_args()
    print(f"test accuracy, {EPOCHS} epochs of Adam, batch {BATCH}; seed 0, and the mean over "
          f"seeds 0..{args.seeds - 1} (each seed: its own split and start)")  # fmt: skip
    print(f"{'data set':<10} {'mlplab':>8} {'sklearn':>8} {'ratio':>6}   "
          f"{'mean mlplab':>11} {'mean sklearn':>12}   {'time ratio':>10}")  # fmt: skip
    for name, hidden in (("digits", (64,)), ("moons", (32, 32)), ("circle", (32, 32)),
                         ("spiral", (32, 32)), ("gaussians", (32, 32))):  # fmt: skip
        runs = [scores(name, hidden, seed) for seed in range(args.seeds)]
        ours = [r["mlplab"][0] for r in runs]
        theirs = [r["scikit-learn"][0] for r in runs]
        times = statistics.median(r["mlplab"][1] / r["scikit-learn"][1] for r in runs)
        print(f"{name:<10} {ours[0]:8.4f} {theirs[0]:8.4f} {ours[0] / theirs[0]:6.3f}   "
              f"{statistics.mean(ours):11.4f} {statistics.mean(theirs):12.4f}   "
              f"{times:10.2f}")  # fmt: skip
        if name == "digits":
            verdict = "met" if ours[0] >= theirs[0] else "NOT met"
            print(f"  digits, seed 0: mlplab {ours[0]:.4f} >= scikit-learn {theirs[0]:.4f}: "
                  f"{verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
