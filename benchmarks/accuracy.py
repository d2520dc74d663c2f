"""Test accuracy of mlplab beside scikit-learn's MLPClassifier, same settings, one process.

digits: 75/25 split (seed 0), a 64-64-10 ReLU network, Adam, the same epochs and batch size
for both, every epoch run (no early end). Then the 2-D sets moons, circle, spiral and
gaussians (1000 points, noise 0.2, split 75/25) with a 2-32-32-1 network. mlplab runs through
``mlplab.sklearn.MLPClassifier``, whose parameters are scikit-learn's.

Four figures per data set: mlplab as it comes (``standardize=True``, its default: the
model scales its inputs), mlplab on the raw inputs (``standardize=False``), scikit-learn's
``MLPClassifier`` on the raw inputs (its default), and scikit-learn behind a
``StandardScaler`` in a ``Pipeline``, as its documentation advises. The fair pairs are
mlplab against scikit-learn + StandardScaler, and mlplab raw against scikit-learn raw.

    .venv/bin/python benchmarks/accuracy.py [--seeds 8]

Target (issue 3): on digits with seed 0, mlplab's test accuracy >= scikit-learn's (both
figures of scikit-learn are compared).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as TheirMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlplab import load_dataset
from mlplab.sklearn import MLPClassifier as OurMLP

EPOCHS, BATCH = 100, 32
LABELS = ("mlplab", "mlplab raw", "sklearn raw", "sklearn+scaler")


def _models(settings: dict) -> dict[str, object]:
    """The four contenders of ``LABELS``, each unfitted."""
    return {
        "mlplab": OurMLP(**settings),
        "mlplab raw": OurMLP(**settings, standardize=False),
        "sklearn raw": TheirMLP(**settings),
        "sklearn+scaler": make_pipeline(StandardScaler(), TheirMLP(**settings)),
    }


def scores(name: str, hidden: tuple[int, ...], seed: int) -> dict[str, tuple[float, float]]:
    """``{label: (test accuracy, seconds)}`` for each of ``LABELS`` on one split."""
    if name == "digits":
        X, T = load_dataset("digits")
    else:
        X, T = load_dataset(name, n=1000, noise=0.2, seed=seed)
    y = T.argmax(axis=1) if T.shape[1] > 1 else T[:, 0].astype(int)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed)
    settings = dict(hidden_layer_sizes=hidden, solver="adam", batch_size=BATCH, max_iter=EPOCHS,
                    tol=0.0, n_iter_no_change=EPOCHS + 1, random_state=seed)  # fmt: skip
    out = {}
    for label, model in _models(settings).items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(Xtr, ytr)
        out[label] = (model.score(Xte, yte), time.perf_counter() - start)
        clf = model[-1] if hasattr(model, "steps") else model
        assert clf.n_iter_ == EPOCHS
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="splits and starts per data set")
    args = parser.parse_args()
    print(f"test accuracy, {EPOCHS} epochs of Adam, batch {BATCH}; seed 0, then the mean over "
          f"seeds 0..{args.seeds - 1} (each seed: its own split and start)")  # fmt: skip
    head = " ".join(f"{label:>14}" for label in LABELS)
    print(f"{'data set':<10} {'':<5} {head}   {'ratio':>6} {'time ratio':>10}")
    print(f"{'':<16} ratio: mlplab / sklearn+scaler; time ratio: mlplab / sklearn+scaler")
    for name, hidden in (("digits", (64,)), ("moons", (32, 32)), ("circle", (32, 32)),
                         ("spiral", (32, 32)), ("gaussians", (32, 32))):  # fmt: skip
        runs = [scores(name, hidden, seed) for seed in range(args.seeds)]
        first = {label: runs[0][label][0] for label in LABELS}
        mean = {label: statistics.mean(r[label][0] for r in runs) for label in LABELS}
        times = statistics.median(r["mlplab"][1] / r["sklearn+scaler"][1] for r in runs)
        for row, figures in (("seed0", first), ("mean", mean)):
            cells = " ".join(f"{figures[label]:14.4f}" for label in LABELS)
            ratio = figures["mlplab"] / figures["sklearn+scaler"]
            tail = f"{times:10.2f}" if row == "mean" else ""
            print(f"{name if row == 'seed0' else '':<10} {row:<5} {cells}   {ratio:6.3f} {tail}")
        if name == "digits":
            best = max(first["sklearn raw"], first["sklearn+scaler"])
            verdict = "met" if first["mlplab"] >= best else "NOT met"
            print(f"  digits, seed 0: mlplab {first['mlplab']:.4f} >= scikit-learn "
                  f"{first['sklearn raw']:.4f} (raw), {first['sklearn+scaler']:.4f} (scaled): "
                  f"{verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
