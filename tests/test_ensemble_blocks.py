"""An ensemble split into blocks of seeds (``mlplab.experiments.blocks``), without a cluster.

The blocks are trained here in-process with the worker's own function, ``train_block``,
and merged as the client merges them: network for network, and row for row of the loss
record, the outcome is the one stack's.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError, TrainingDivergedError
from mlplab.experiments.blocks import (
    check_blocks,
    merge_outcomes,
    record_every,
    split_blocks,
    train_block,
)
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import ensemble_data, run_ensemble, stack_bytes
from mlplab.experiments.stacks import StackOutcome, check_memory
from mlplab.nn.narrow import MIN_STACK
from mlplab.train.stack_record import StackRecord


def test_blocks_are_consecutive_nearly_equal_and_never_below_the_stack_layouts_minimum():
    assert split_blocks(20000) == [(i * 1000, 1000) for i in range(20)]
    assert split_blocks(2500) == [(0, 834), (834, 833), (1667, 833)]
    assert split_blocks(7, 2) == [(0, 7)]  # under MIN_STACK networks: one block
    assert split_blocks(20, 3) == [(0, 10), (10, 10)]  # not 7 blocks of under 8
    for nets, block in ((1, 1000), (999, 1000), (1001, 1000), (123457, 1000), (40, 12)):
        blocks = split_blocks(nets, block)
        sizes = [k for _, k in blocks]
        assert sum(sizes) == nets and max(sizes) - min(sizes) <= 1
        assert all(first == sum(sizes[:i]) for i, (first, _) in enumerate(blocks))
        assert len(blocks) == 1 or min(sizes) >= MIN_STACK
        assert max(sizes) <= max(block, MIN_STACK) or len(blocks) == 1
    with pytest.raises(ConfigError):
        split_blocks(10, 0)


@pytest.mark.parametrize("nets,epochs", [(1, 60000), (70, 60000), (1000, 60000), (10**5, 5000),
                                         (3, 5), (4096, 1024)])  # fmt: skip
def test_record_every_is_the_stack_records_interval(nets, epochs):
    assert record_every(nets, epochs) == StackRecord(nets, epochs).every
    assert record_every(nets, epochs, 2000) == StackRecord(nets, epochs, max_values=2000).every


def _blocks(config: TrainConfig, nets: int, block_nets: int, max_values: int | None = None):
    X, t = ensemble_data(config)
    kwargs = {} if max_values is None else {"max_values": max_values}
    every = record_every(nets, config.epochs, **kwargs)
    outcomes = [train_block(config, X, t, first, k, every)
                for first, k in split_blocks(nets, block_nets)]  # fmt: skip
    return merge_outcomes(outcomes, wall_seconds=1.0)


def _same(one: StackOutcome, merged: StackOutcome) -> None:
    for name in ("solved", "epochs_to_solve", "final_loss", "diverged"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(one, name), err_msg=name)
    np.testing.assert_array_equal(merged.history.loss, one.history.loss)
    for key in ("loss_epochs", "diverged_at"):
        np.testing.assert_array_equal(merged.history.extra[key], one.history.extra[key])
    assert merged.watch_every == one.watch_every
    assert merged.history.epochs == one.history.epochs
    a, b = one.summary(), merged.summary()
    for key in ("seconds", "compile_seconds"):
        a.pop(key), b.pop(key)
    assert a == b


def test_blocks_merge_into_the_one_stacks_outcome_with_mini_batches():
    config = TrainConfig(dataset="moons", points=40, noise=0.2, hidden=(5,), activation="tanh",
                         init="glorot", loss="binary_cross_entropy", batch_size=16,
                         optimizer="adam", lr=0.05, epochs=60, seed=5)  # fmt: skip
    merged = _blocks(config, 26, 9)
    assert merged.history.extra["blocks"] == 3 and merged.history.extra["wall_seconds"] == 1.0
    assert merged.history.accuracy is None  # per-epoch arrays stay on the workers
    _same(run_ensemble(config, 26), merged)


def test_a_long_runs_kept_epochs_are_the_whole_stacks(monkeypatch):
    """With a record bound that makes the whole stack keep every 7th epoch and a block of 8
    every 4th, the blocks still keep the whole's epochs."""
    monkeypatch.setattr(StackRecord.__init__, "__defaults__", (200,))
    config = TrainConfig(hidden=(2,), epochs=80, seed=2)
    one = run_ensemble(config, 17)
    assert StackRecord(17, 80).every == 7 and StackRecord(8, 80).every == 4
    merged = _blocks(config, 17, 8, max_values=200)
    np.testing.assert_array_equal(merged.history.extra["loss_epochs"], np.arange(0, 80, 7))
    _same(one, merged)


def test_a_block_whose_every_network_diverged_merges_as_in_the_one_stack():
    config = TrainConfig(activation="tanh", output_activation="identity", init="glorot", lr=0.5,
                         epochs=200)  # fmt: skip
    X, t = ensemble_data(config)
    alone = train_block(config, X, t, 24, 8, 1)  # networks 24..31: every one diverges ...
    assert alone.diverged.all() and np.isnan(alone.final_loss).all()  # ... returned, not raised
    one = run_ensemble(config, 32)
    merged = _blocks(config, 32, 8)
    assert one.diverged[24:].all() and not one.diverged.all()
    _same(one, merged)


def test_every_block_diverged_is_the_one_stacks_error():
    config = TrainConfig(activation="tanh", output_activation="identity", lr=0.8, epochs=200)
    with pytest.raises(TrainingDivergedError) as whole:
        run_ensemble(config, 32)
    with pytest.raises(TrainingDivergedError) as blocks:
        _blocks(config, 32, 8)
    assert str(blocks.value) == str(whole.value)
    assert blocks.value.epoch == whole.value.epoch


def test_memory_is_checked_per_block():
    config = TrainConfig(epochs=60000)
    X, t = ensemble_data(config)
    sizes = config.sizes(X.shape[1], t.shape[1])
    with pytest.raises(ConfigError, match="10000000 networks needs about"):  # all at once
        check_memory(stack_bytes(config, sizes, len(X), 10**7), 2**30, 10**7)
    check_blocks(config, X, t, split_blocks(10**7), 1.0)  # one block of 1000 fits in 1 GiB
    with pytest.raises(ConfigError, match=r"1000 networks needs about .*smaller --block-nets"):
        check_blocks(config, X, t, split_blocks(10**7), 0.01)
