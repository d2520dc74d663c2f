"""Sparse rows (``scipy.sparse``) train as their dense twins, made dense one batch at a time."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

from mlplab import MLP, DataError


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 5)) * (rng.random((60, 5)) < 0.3)  # mostly zeros
    labels = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, labels


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("standardize", [False, True])
def test_sparse_rows_give_the_dense_rows_weights(batch_size, standardize):
    sparse = require("scipy.sparse")
    X, y = _data()
    nets = [MLP([5, 6, 2], "tanh", "softmax", "cross_entropy", "mean", init="glorot", seed=1)
            for _ in range(2)]  # fmt: skip
    options = dict(epochs=15, lr=0.3, batch_size=batch_size, validation=0.2,
                   standardize=standardize, seed=3)  # fmt: skip
    dense = nets[0].fit(X, y, **options)
    rows = nets[1].fit(sparse.csr_matrix(X), y, **options)
    np.testing.assert_allclose(rows.loss, dense.loss, rtol=1e-12)
    np.testing.assert_allclose(rows.val_loss, dense.val_loss, rtol=1e-12)
    for a, b in zip(nets[0].params, nets[1].params, strict=True):
        np.testing.assert_allclose(a["W"], b["W"], rtol=1e-12, atol=1e-15)
    if standardize:
        np.testing.assert_allclose(nets[1].input_scaler.mean, nets[0].input_scaler.mean)
        np.testing.assert_allclose(nets[1].input_scaler.scale, nets[0].input_scaler.scale)


def test_a_batch_at_a_time_is_made_dense(monkeypatch):
    sparse = require("scipy.sparse")
    X, y = _data()
    seen = []
    original = sparse.csr_matrix.toarray

    def toarray(self, *args, **kwargs):
        seen.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sparse.csr_matrix, "toarray", toarray)
    MLP([5, 4, 2], "tanh", "softmax", "cross_entropy", "mean", seed=0).fit(
        sparse.csr_matrix(X), y, epochs=2, lr=0.1, batch_size=16
    )
    assert seen and max(seen) == 16


def test_bad_sparse_rows_are_refused():
    sparse = require("scipy.sparse")
    net = MLP([5, 4, 1])
    with pytest.raises(DataError, match=r"expected \(n, 5\)"):
        net.fit(sparse.csr_matrix(np.ones((4, 3))), np.zeros(4), epochs=1)
    bad = sparse.csr_matrix(np.eye(5)[:4])
    bad.data[0] = np.nan
    with pytest.raises(DataError, match="NaN or infinite"):
        net.fit(bad, np.zeros(4), epochs=1)
    with pytest.raises(DataError, match=r"expected \(4, 1\)"):
        net.fit(sparse.csr_matrix(np.eye(5)[:4]), np.zeros(3), epochs=1)
