"""Seeded train/validation/test splits."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab import ConfigError
from mlplab.splits import split


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
