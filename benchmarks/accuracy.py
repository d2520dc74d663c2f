"""Test accuracy and fit time of mlplab.sklearn beside scikit-learn's MLPClassifier.

Four scikit-learn data sets (iris, wine, breast_cancer, digits), each over several seeds:
seed ``s`` splits the rows 75/25 (stratified, ``random_state=s``) and starts every model
with ``random_state=s``. Every model runs with scikit-learn's defaults (100 ReLU units,
Adam, ``max_iter=200``, stopping on ``n_iter_no_change``), so this is what a user who
changes one import gets. Four contenders, fitted one after the other in a rotating
order within each seed, in one process:

- ``mlplab``: ``mlplab.sklearn.MLPClassifier`` as it comes (``standardize=True``)
- ``mlplab raw``: the same with ``standardize=False``
- ``sklearn raw``: ``sklearn.neural_network.MLPClassifier`` on the raw inputs
- ``sklearn+scaler``: scikit-learn behind a ``StandardScaler`` in a ``Pipeline``

The fair pairs: mlplab against sklearn+scaler, mlplab raw against sklearn raw. Printed
per data set: the mean test accuracy over the seeds, the mean epochs run, and the
median over seeds of each pair's fit-time ratio (mlplab / scikit-learn).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/accuracy.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as TheirMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlplab.sklearn import MLPClassifier as OurMLP

LABELS = ("mlplab", "mlplab raw", "sklearn raw", "sklearn+scaler")
PAIRS = (("mlplab", "sklearn+scaler"), ("mlplab raw", "sklearn raw"))
DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}


def _models(seed: int) -> dict[str, object]:
    """The four contenders of ``LABELS``, unfitted, with scikit-learn's defaults."""
    return {
        "mlplab": OurMLP(random_state=seed),
        "mlplab raw": OurMLP(random_state=seed, standardize=False),
        "sklearn raw": TheirMLP(random_state=seed),
        "sklearn+scaler": make_pipeline(StandardScaler(), TheirMLP(random_state=seed)),
    }


def run(name: str, seed: int) -> dict[str, tuple[float, float, int]]:
    """``{label: (test accuracy, fit seconds, epochs)}`` on one split, order rotated by seed."""
    X, y = DATASETS[name](return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    models = list(_models(seed).items())
    models = models[seed % 4 :] + models[: seed % 4]
    out = {}
    for label, model in models:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(Xtr, ytr)
            seconds = time.perf_counter() - start
        clf = model[-1] if hasattr(model, "steps") else model
        out[label] = (model.score(Xte, yte), seconds, clf.n_iter_)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="splits and starts per data set")
    args = parser.parse_args()
    print(f"mean test accuracy over seeds 0..{args.seeds - 1} (epochs run in brackets); "
          "time: median fit-time ratio mlplab / scikit-learn")  # fmt: skip
    head = " ".join(f"{label:>16}" for label in LABELS)
    print(f"{'data set':<14} {head}  {'time (scaled)':>13} {'time (raw)':>10}")
    for name in DATASETS:
        runs = [run(name, seed) for seed in range(args.seeds)]
        cells = []
        for label in LABELS:
            accuracy = statistics.mean(r[label][0] for r in runs)
            epochs = statistics.mean(r[label][2] for r in runs)
            cells.append(f"{accuracy:9.4f} ({epochs:4.0f})")
        ratios = [statistics.median(r[a][1] / r[b][1] for r in runs) for a, b in PAIRS]
        print(f"{name:<14} {' '.join(f'{c:>16}' for c in cells)}  {ratios[0]:13.2f} "
              f"{ratios[1]:10.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
