"""Seeded splits and the standardisation that a saved model carries."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab import ConfigError, DataError, ModelFileError, load_dataset
from mlplab.splits import Standardizer, split


def test_split_partitions_the_rows_reproducibly():
    parts = split(100, validation=0.2, test=0.1, seed=4)
    assert (len(parts.train), len(parts.validation), len(parts.test)) == (70, 20, 10)
    together = np.concatenate([parts.train, parts.validation, parts.test])
    np.testing.assert_array_equal(np.sort(together), np.arange(100))
    again = split(100, validation=0.2, test=0.1, seed=4)
    np.testing.assert_array_equal(parts.test, again.test)
    assert not np.array_equal(parts.test, split(100, 0.2, 0.1, seed=5).test)


@pytest.mark.parametrize(
    ("n", "validation", "test", "message"),
    [
        (10, 1.0, 0.0, "share must be a number in"),
        (10, 0.5, 0.5, "each asked-for part needs one"),
        (4, 0.1, 0.0, "each asked-for part needs one"),
    ],
)
def test_impossible_splits_are_refused(n, validation, test, message):
    with pytest.raises(ConfigError, match=message):
        split(n, validation, test)


def test_standardizer_learns_on_training_rows_and_round_trips():
    X, _ = load_dataset("moons", n=50, seed=0)
    X = np.column_stack([X, np.full(len(X), 7.0)])  # a constant column keeps scale 1
    s = Standardizer.fit(X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1, rtol=1e-12)
    np.testing.assert_array_equal(Z[:, 2], 0)
    again = Standardizer.from_dict(s.to_dict())
    np.testing.assert_array_equal(again.transform(X), Z)
    assert s.transform(X.astype(np.float32)).dtype == np.float32
    with pytest.raises(DataError, match="fitted on 3"):
        s.transform(X[:, :2])


@pytest.mark.parametrize(
    "bad", [{}, {"mean": [0.0], "scale": [0.0]}, {"mean": [0.0, 1.0], "scale": [1.0]}, "x"]
)
def test_invalid_saved_standardisation_is_a_model_file_error(bad):
    with pytest.raises(ModelFileError, match=r"m\.st: invalid standardisation"):
        Standardizer.from_dict(bad, "m.st")
