"""The NumPy engine's sparse gather: a ``scipy.sparse`` ``X`` in a job is made dense one
batch at a time and scaled there, giving the dense path's epochs bit for bit.

``prepare_job`` does not make such jobs yet (it checks ``X`` densely), and ``TrainJob.n``
is ``len(X)``, which a sparse matrix refuses; ``_SparseJob`` is the job as it will be."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import require

import mlplab
from mlplab.engines import get_engine
from mlplab.engines.numpy import SparseRows, is_sparse
from mlplab.nn.scaling import InputScaler
from mlplab.train.job import TrainJob, prepare_job


class _SparseJob(TrainJob):
    @property
    def n(self) -> int:
        return self.X.shape[0]


def _jobs(batch_size, validation):
    sparse = require("scipy.sparse")
    rng = np.random.default_rng(0)
    X = np.where(rng.uniform(size=(90, 5)) < 0.6, 0.0, rng.normal(3, 2, (90, 5)))
    T = (X[:, :1] > 1).astype(float)
    jobs = []
    for _ in range(2):
        net = mlplab.MLP([5, 7, 1], activation="relu", loss="binary_cross_entropy",
                         reduction="mean", init="glorot", seed=1)  # fmt: skip
        net.input_scaler = InputScaler.fit(X)
        job = prepare_job(net, X, T, lr=0.05, optimizer="adam", batch_size=batch_size,
                          shuffle=True, validation=validation, schedule=None, weight_decay=0.01,
                          seed=3, standardize=False, sample_weight=None)  # fmt: skip
        jobs.append(job)
    dense, raw = jobs
    Xv = None if validation is None else sparse.csr_matrix(validation[0])
    fields = {f.name: getattr(raw, f.name) for f in dataclasses.fields(raw)}
    raw = _SparseJob(**{**fields, "X": sparse.csr_matrix(X), "Xv": Xv})  # raw rows, unscaled
    return dense, raw


def _run(job, epochs=4):
    runner = get_engine("numpy").start(job)
    with runner:
        logs = runner.run(0, epochs)
    runner.finish()
    return logs, [v.copy() for p in job.net.params for v in p.values()]


@pytest.mark.parametrize("batch_size", [16, None], ids=["minibatch", "full"])
def test_sparse_rows_train_as_the_dense_ones(batch_size):
    rng = np.random.default_rng(1)
    Xv = rng.normal(3, 2, (10, 5))
    dense, raw = _jobs(batch_size, (Xv, (Xv[:, :1] > 1).astype(float)))
    assert is_sparse(raw.X) and not is_sparse(dense.X)
    (dense_logs, dense_params), (sparse_logs, sparse_params) = _run(dense), _run(raw)
    np.testing.assert_array_equal(sparse_logs.loss, dense_logs.loss)
    np.testing.assert_array_equal(sparse_logs.val_loss, dense_logs.val_loss)
    for a, b in zip(sparse_params, dense_params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sparse_rows_are_dense_one_batch_at_a_time():
    sparse = require("scipy.sparse")
    X = sparse.random(1000, 6, density=0.1, format="csc", random_state=0, dtype=np.float64)
    net = mlplab.MLP([6, 3, 1], dtype="float32", seed=0)
    rows = SparseRows(X, net)
    batch = rows.take(np.array([5, 1, 999]))
    assert batch.shape == (3, 6) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch, X.toarray()[[5, 1, 999]].astype(np.float32))
    assert not is_sparse(np.zeros(3)) and is_sparse(X)
