"""The NumPy engine: the seed's ``for j in range(60000)`` with its pieces named.

An epoch is a forward and backward pass (``MLP.loss_and_backward``), the
regularization terms, a finite-loss check, the epoch's loss and accuracy noted, and
an optimizer step; with mini-batches the same over batches drawn through a shuffled
index (the data are never copied per epoch). ``full_batch_epoch`` and
``minibatch_epoch`` are those two kinds. After the epoch, the validation rows are
measured. This is the readable reference: bit-for-bit the seed's arithmetic.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlplab.checks import is_sparse
from mlplab.engines.base import AfterEpoch, Diverged, EpochLogs
from mlplab.nn.targets import predicted_class
from mlplab.train.job import TrainJob

Array = np.ndarray

__all__ = ["MAX_BLOCK_VALUES", "NumpyEngine", "NumpyRunner"]

MAX_BLOCK_VALUES = 2**20  # a stack's losses per block at most (8 MiB per recorded metric)


class NumpyEngine:
    """Runs epochs with NumPy, in the network's own arrays."""

    name = "numpy"

    def start(self, job: TrainJob) -> NumpyRunner:
        return NumpyRunner(job)


class NumpyRunner:
    """One ``fit``'s epochs on NumPy: the network and optimizer are updated in place."""

    def __init__(self, job: TrainJob) -> None:
        self.job = job
        net = job.net
        self.params = [v for p in net.params for v in p.values()]
        self.grads = [v for g in net.grads for v in g.values()]
        self.weights = [p["W"] for p in net.params]  # what the penalties look at
        self.weight_grads = [g["W"] for g in net.grads]
        self.freezer = _Freezer(net.stack, self.params) if job.stacked else None
        self.mean = net.reduction == "mean"
        self.order = np.arange(job.n)
        size = job.batch_size
        self.bounds = [(lo, min(lo + size, job.n)) for lo in range(0, job.n, size)]
        self.epoch_fn = self.full_batch_epoch if job.full_batch else self.minibatch_epoch
        self.sparse = SparseRows(job.X, net) if is_sparse(job.X) else None
        self.sparse_val: SparseRows | None = None
        self._errstate = np.errstate(over="ignore", invalid="ignore")

    def __enter__(self) -> NumpyRunner:
        # overflow and inf - inf are caught by the finite-loss check, which names the epoch
        self._errstate.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._errstate.__exit__(*exc)

    @property
    def diverged_at(self) -> Array | None:
        return None if self.freezer is None else self.freezer.diverged_at

    def block(self, remaining: int, weights_every: int | None, every: int = 1) -> int:
        """All the epochs at once (the network is current after every epoch), in blocks
        of at most ``MAX_BLOCK_VALUES`` losses for a stack (``every`` changes nothing)."""
        return min(remaining, max(1, MAX_BLOCK_VALUES // (self.job.net.stack or 1)))

    def run(self, first: int, stop: int, after_epoch: AfterEpoch | None = None,
            every: int = 1) -> EpochLogs:  # fmt: skip
        """Run epochs ``[first, stop)``; what each recorded, row by row (every epoch's,
        whatever ``every``: NumPy has them on the host already).

        ``after_epoch(epoch, logs)`` is called after each epoch, here and now; when it
        returns ``True`` the block ends there.
        """
        job = self.job
        logs = _new_logs(job, stop - first)
        optimizer, scheduled, epoch_fn = job.optimizer, job.schedule is not None, self.epoch_fn
        for i, epoch in enumerate(range(first, stop)):
            if scheduled:
                optimizer.start_epoch(epoch)  # the optimizer sets its own rate
            try:
                loss, right = epoch_fn(epoch)
            except Diverged as e:
                e.logs = logs.head(i)
                raise
            logs.loss[i] = loss
            if right is not None:
                logs.accuracy[i] = right
            if job.Xv is not None:
                self.validate(logs, i)
            if after_epoch is not None and after_epoch(epoch, logs.at(i)):
                return logs.head(i + 1)
        return logs

    def full_batch_epoch(self, epoch: int) -> tuple[Any, Any]:
        """One step on all rows; ``(loss, accuracy)`` at the weights before it (the seed's)."""
        job = self.job
        X = job.X if self.sparse is None else self.sparse.all()
        loss = self.job.net.loss_and_backward(X, job.T, job.weight)
        for penalty in job.regularizers:
            loss = loss + penalty(self.weights, self.weight_grads, 1.0)
        loss = self.checked(epoch, loss)
        right = None
        if job.labels is not None:
            right = (predicted_class(job.net.outputs[-1]) == job.labels).mean(axis=-1)
        self.step()
        return loss, right

    def minibatch_epoch(self, epoch: int) -> tuple[Any, Any]:
        """One step per batch of a fresh shuffle; the batches' loss and accuracy, combined."""
        job = self.job
        if job.shuffle:
            # a fresh permutation each epoch (not a shuffle of the last one), so an
            # epoch's order depends only on the generator's state: resumable
            self.order = job.rng.permutation(job.n)
        total = 0.0
        correct = 0
        for lo, hi in self.bounds:
            idx = self.order[lo:hi]
            # a batch gathered through the shuffled index; take() without out= is the
            # fastest gather (with out= it goes through a temporary)
            weight = None if job.weight is None else job.weight.take(idx)
            X = job.X.take(idx, axis=0) if self.sparse is None else self.sparse.take(idx)
            loss = job.net.loss_and_backward(X, job.T.take(idx, axis=0), weight)
            share = 1.0 if self.mean else (hi - lo) / job.n
            for penalty in job.regularizers:
                loss = loss + penalty(self.weights, self.weight_grads, share)
            loss = self.checked(epoch, loss)
            total = total + (loss * _count(weight, hi - lo) if self.mean else loss)
            if job.labels is not None:
                y = job.net.outputs[-1]
                correct = correct + (predicted_class(y) == job.labels[idx]).sum(axis=-1)
            self.step()
        right = None if job.labels is None else correct / job.n
        return (total / _count(job.weight, job.n) if self.mean else total), right

    def checked(self, epoch: int, loss: Any) -> Any:
        """The loss if finite; a stack freezes its diverged networks, one network stops."""
        if self.freezer is not None:
            return self.freezer.check(epoch, loss)
        if not math.isfinite(loss):
            raise Diverged(epoch, loss, EpochLogs(np.empty(0)))
        return loss

    def step(self) -> None:
        self.job.optimizer.step(self.params, self.grads)
        if self.freezer is not None:
            self.freezer.after_step()

    def validate(self, logs: EpochLogs, i: int) -> None:
        """The validation rows' loss and accuracy at the weights after the epoch."""
        job = self.job
        if self.sparse_val is None and is_sparse(job.Xv):
            self.sparse_val = SparseRows(job.Xv, job.net)
        Xv = job.Xv if self.sparse_val is None else self.sparse_val.all()
        logs.val_loss[i] = job.net.loss_at(Xv, job.Tv, job.val_weight)
        if logs.val_accuracy is not None:
            y = job.net.outputs[-1]
            logs.val_accuracy[i] = (predicted_class(y) == job.val_labels).mean(axis=-1)

    def finish(self) -> None:
        """Nothing to do: the network's arrays were trained in place."""


class SparseRows:
    """The rows of a ``scipy.sparse`` ``X``, made dense one batch at a time.

    A sparse matrix cannot be centred without making it dense, so its rows stay raw in
    the job and each batch is scaled here, through the network's ``input_scaler``.
    """

    def __init__(self, X: Any, net: Any) -> None:
        self.X = X.tocsr()
        self.net = net
        self._all: Array | None = None

    def take(self, idx: Array) -> Array:
        """Rows ``idx``, dense, in the network's dtype, scaled."""
        return self._dense(self.X[idx])

    def all(self) -> Array:
        """Every row, dense (a full batch is one batch), made once."""
        if self._all is None:
            self._all = self._dense(self.X)
        return self._all

    def _dense(self, rows: Any) -> Array:
        out = rows.toarray().astype(self.net.dtype, copy=False)
        scaler = self.net.input_scaler
        return out if scaler is None else scaler.transform(out)


def _count(weight: Array | None, rows: int) -> Any:
    """How much a batch counts in a mean: its rows, or the sum of their weights."""
    return rows if weight is None else weight.sum()


def _new_logs(job: TrainJob, count: int) -> EpochLogs:
    shape = (count,) if job.net.stack is None else (count, job.net.stack)
    accuracy = job.labels is not None
    validation = job.Xv is not None
    return EpochLogs(
        np.empty(shape),
        np.empty(shape) if accuracy else None,
        np.empty(shape) if validation else None,
        np.empty(shape) if validation and accuracy else None,
    )


class _Freezer:
    """A stack's diverged networks: frozen at the weights that gave their first non-finite loss.

    From that epoch on, their weights are put back after every step and their losses read
    NaN; the others go on. When every network has diverged, training stops.
    """

    def __init__(self, stack: int, params: list[Array]) -> None:
        self.params = params
        self.diverged_at = np.full(stack, -1, dtype=np.int64)
        self._frozen: Array | None = None
        self._saved: list[Array] = []

    def check(self, epoch: int, loss: Array) -> Array:
        """The loss with NaN for the frozen networks, freezing those newly non-finite."""
        if np.isfinite(loss).all():
            return loss
        new = ~np.isfinite(loss) & (self.diverged_at < 0)
        if new.any():
            self.diverged_at[new] = epoch
            self._frozen = self.diverged_at >= 0
            self._saved = [p[self._frozen].copy() for p in self.params]
            if self._frozen.all():
                raise Diverged(epoch, loss, EpochLogs(np.empty(0)))
        return np.where(self._frozen, np.nan, loss)

    def after_step(self) -> None:
        """Put the frozen networks' weights back after an optimizer step."""
        if self._frozen is not None:
            for p, saved in zip(self.params, self._saved, strict=True):
                p[self._frozen] = saved
