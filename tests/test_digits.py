"""The digits data set: scikit-learn's bundled 8x8 images, no download."""

from __future__ import annotations

import numpy as np
from conftest import require

from mlplab import DATASETS, load_dataset


def test_digits_are_1797_images_of_64_pixels_in_ten_classes():
    require("sklearn")
    X, T = load_dataset("digits")
    assert X.shape == (1797, 64)
    assert T.shape == (1797, 10)
    assert X.min() == 0.0 and X.max() == 1.0  # pixels 0..16 scaled to [0, 1]
    np.testing.assert_array_equal(T.sum(axis=1), 1)
    assert np.bincount(T.argmax(axis=1)).min() > 170  # every digit well represented
    assert DATASETS["digits"].classes == 10
    again, _ = load_dataset("digits", n=5, noise=0.5)  # a fixed set: n and noise do not apply
    np.testing.assert_array_equal(again, X)
