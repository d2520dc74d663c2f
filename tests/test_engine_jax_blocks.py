"""Engine ``jax`` pays only for what is asked: with no per-epoch reader a fit runs as one
block and only the recorded epochs' logs leave the device; the History is the NumPy
engine's (1e-9) either way."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import missing_optional

import mlplab.train.driver as fit_module
from mlplab import MLP, load_dataset
from mlplab.errors import ConfigError, TrainingDivergedError
from mlplab.train.optimizers import get_optimizer
from mlplab.train.stack_record import StackRecord

try:  # the engine configures JAX before anything imports it
    import mlplab.engines.jax as engine_jax
except ConfigError:
    missing_optional("jax is not installed")

XOR = load_dataset("xor")
NAMES = ("loss", "accuracy", "val_loss", "val_accuracy")


@pytest.fixture
def short_record(monkeypatch):
    """Stacks keep every N-th epoch past 20 values per network (N = 6 over 103 epochs)."""
    monkeypatch.setattr(fit_module, "StackRecord",
                        lambda stack, epochs: StackRecord(stack, epochs, max_values=20 * stack))


@pytest.fixture
def blocks(monkeypatch):
    """The (first, stop, every) of each block the JAX runner runs."""
    seen: list[tuple[int, int, int]] = []
    run_block = engine_jax.JaxRunner._run_block

    def spy(self, first, stop, every):
        seen.append((first, stop, every))
        return run_block(self, first, stop, every)

    monkeypatch.setattr(engine_jax.JaxRunner, "_run_block", spy)
    return seen


def both(make, *args, **options):
    histories, nets = [], []
    for engine in ("numpy", "jax"):
        net = make()
        histories.append(net.fit(*args, engine=engine, **options))
        nets.append(net)
    return histories, nets


def assert_same(a, b) -> None:
    for name in NAMES:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.shape == y.shape, name
            np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-9, err_msg=name)
    for key in ("loss_epochs", "diverged_at"):
        if key in a.extra:
            np.testing.assert_array_equal(b.extra[key], a.extra[key], err_msg=key)


def assert_same_weights(a: MLP, b: MLP) -> None:
    for p, q in zip(a.params, b.params, strict=True):
        for name in p:
            np.testing.assert_allclose(q[name], p[name], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("batch_size", [None, 2])
def test_a_stack_without_readers_is_one_block_of_its_recorded_epochs(short_record, blocks,
                                                                     batch_size):  # fmt: skip
    X, t = XOR
    (a, b), nets = both(lambda: MLP([3, 4, 1], seed=0, stack=6), X, t, epochs=103, lr=0.5,
                        validation=(X, t), metrics=("accuracy",), batch_size=batch_size,
                        seed=1)  # fmt: skip
    assert blocks == [(0, 103, 6)]  # one block; epochs 0, 6, ..., 102 come back
    assert a.loss.shape == (18, 6)
    assert_same(a, b)
    assert_same_weights(*nets)


def test_a_callback_reading_each_epoch_gets_every_one_while_the_record_keeps_some(
    short_record, blocks
):
    X, t = XOR
    told: dict[str, list] = {"numpy": [], "jax": []}
    histories = []
    for engine, seen in told.items():
        net = MLP([3, 4, 1], seed=0, stack=4)
        histories.append(net.fit(X, t, epochs=60, lr=0.5, engine=engine,
                                 callbacks=[lambda e, logs, seen=seen: seen.append(logs["loss"])]))
    assert [every for _, _, every in blocks] == [1]  # every epoch back, to be told
    assert len(told["jax"]) == 60
    np.testing.assert_allclose(told["jax"], told["numpy"], rtol=1e-9, atol=1e-9)
    assert histories[0].loss.shape == (20, 4)
    assert_same(*histories)


def test_one_network_without_readers_is_one_block_with_every_epochs_loss(blocks):
    X, t = XOR
    (a, b), nets = both(lambda: MLP([3, 4, 1], bias=False, init="seed", seed=0), X, t,
                        epochs=3000)  # fmt: skip
    assert blocks == [(0, 3000, 1)]
    assert b.loss.shape == (3000,)
    assert_same(a, b)
    assert_same_weights(*nets)


def test_a_stack_kept_in_part_that_partly_diverges_reports_each_networks_epoch(short_record):
    X, t = XOR

    def make() -> MLP:  # linear, lr past stability: three networks overflow at epochs 5-8
        net = MLP([3, 4, 1], activation="identity", output_activation="identity", bias=False,
                  seed=0, stack=4)  # fmt: skip
        net.params[1]["W"][2] *= 10
        return net

    (a, b), nets = both(make, X, t, epochs=100, lr=0.3)
    np.testing.assert_array_equal(a.extra["diverged_at"], [8, -1, 5, 7])  # none kept (6k)
    assert_same(a, b)
    assert_same_weights(*nets)


def test_a_stack_kept_in_part_that_all_diverges_raises_alike(short_record):
    X, t = XOR
    errors = []
    for engine in ("numpy", "jax"):
        with pytest.raises(TrainingDivergedError) as caught:
            MLP([3, 4, 1], activation="identity", output_activation="identity", bias=False,
                seed=0, stack=3).fit(X, t, epochs=100, lr=0.5, engine=engine)  # fmt: skip
        errors.append(caught.value)
    assert errors[1].epoch == errors[0].epoch == 7  # the last of the three (6, 7, 7)
    np.testing.assert_array_equal(errors[0].history.extra["diverged_at"], [7, 7, 6])
    assert_same(errors[0].history, errors[1].history)


def test_kept_rows_places_the_multiples_of_every_in_order():
    rows, kept = engine_jax._kept_rows(np.arange(3, 11, dtype=np.int32), 3)
    assert kept == 3  # epochs 3, 6, 9
    np.testing.assert_array_equal(rows, [0, 3, 3, 1, 3, 3, 2, 3])
    assert engine_jax._kept_rows(np.arange(5, dtype=np.int32), 1) == (None, None)


@pytest.mark.parametrize(("optimizer", "lr", "scale", "reader"),
                         [("sgd", 0.5, 1.0, True), ("momentum", 0.5, 1.0, False),
                          ("sgd", 1e3, 1e160, True)])  # fmt: skip
def test_one_full_batch_network_that_diverges_stops_where_numpy_does(optimizer, lr, scale,
                                                                     reader):  # fmt: skip
    """Its step freezes nothing (the losses say where it diverged): the block is run again
    up to that epoch, so the weights, optimizer state, history and callbacks are NumPy's."""
    X, t = XOR
    ends, told, optimizers = [], {"numpy": [], "jax": []}, []
    for engine, seen in told.items():
        optimizers.append(get_optimizer(optimizer, lr))
        net = MLP([3, 4, 1], activation="identity", output_activation="identity", bias=False,
                  seed=0)  # fmt: skip
        with pytest.raises(TrainingDivergedError) as caught:
            net.fit(X * scale, t, epochs=300, optimizer=optimizers[-1], engine=engine,
                    callbacks=[lambda e, logs, seen=seen: seen.append(logs["loss"])] * reader)
        ends.append((caught.value, net))
    (a, net_a), (b, net_b) = ends
    assert b.epoch == a.epoch and str(b) == str(a)
    assert (a.epoch == 0) == (scale > 1)  # at once, and after some epochs
    np.testing.assert_allclose(told["jax"], told["numpy"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b.history.loss, a.history.loss, rtol=1e-9, atol=1e-9)
    assert_same_weights(net_a, net_b)
    assert all(np.isfinite(p["W"]).all() for p in net_b.params)
    state_a, state_b = (o.state_dict() for o in optimizers)
    assert state_b.keys() == state_a.keys()
    for key in state_a:
        np.testing.assert_allclose(state_b[key], state_a[key], rtol=1e-9, atol=1e-9)


def test_blocks_with_one_rate_and_with_changing_rates_train_alike(blocks):
    """A block whose epochs share one rate takes it once, others each epoch's: blocks of 10
    under a rate halved every 15 epochs are both kinds, in turn."""
    from mlplab.train.schedules import StepDecay

    class EveryTen:
        weights_every = 10

        def on_epoch_end(self, epoch, logs):
            return None

    X, t = XOR
    (a, b), nets = both(lambda: MLP([3, 4, 1], seed=0), X, t, epochs=40, lr=2.0,
                        schedule=StepDecay(step=15, gamma=0.5), callbacks=[EveryTen()])  # fmt: skip
    assert [stop - first for first, stop, _ in blocks] == [10, 10, 10, 10]
    assert_same(a, b)
    assert_same_weights(*nets)


class BlockReader:
    """Reads a block of epochs at once: ``(first, every epoch's loss)`` of each block told."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.told: list[tuple[int, np.ndarray]] = []
        self.stop_after = stop_after

    def on_block_end(self, first, logs):
        self.told.append((first, logs.loss.copy()))
        return self.stop_after is not None and len(self.told) >= self.stop_after


@pytest.fixture
def no_replay(monkeypatch):
    """Counts the epochs replayed one by one to ``on_epoch_end`` readers."""
    from mlplab.train.callbacks import CallbackList

    replayed = []
    epoch_end = CallbackList.epoch_end

    def counted(self, epoch, logs):
        replayed.append(epoch)
        return epoch_end(self, epoch, logs)

    monkeypatch.setattr(CallbackList, "epoch_end", counted)
    return replayed


def test_a_block_reader_gets_every_epoch_a_block_at_a_time_and_none_is_replayed(
    short_record, blocks, no_replay
):
    X, t = XOR
    readers = {"numpy": BlockReader(), "jax": BlockReader()}
    histories = []
    for engine, reader in readers.items():
        net = MLP([3, 4, 1], seed=0, stack=4)
        histories.append(net.fit(X, t, epochs=60, lr=0.5, engine=engine, callbacks=[reader]))
    assert blocks == [(0, 60, 1)]  # every epoch back, in one block, to be read at once
    assert no_replay == []  # and not told one by one
    (first, losses), = readers["jax"].told
    assert first == 0 and losses.shape == (60, 4)
    numpy_losses = np.concatenate([loss for _, loss in readers["numpy"].told])
    np.testing.assert_allclose(losses, numpy_losses, rtol=1e-9, atol=1e-9)
    assert histories[0].loss.shape == (20, 4)  # the record still keeps every 3rd epoch
    assert_same(*histories)


@pytest.mark.parametrize("engine", ["numpy", "jax"])
def test_a_block_reader_stops_training_after_its_block(monkeypatch, engine):
    from mlplab.engines import numpy as engine_numpy

    monkeypatch.setattr(engine_jax, "MAX_BLOCK_VALUES", 25 * 4)  # blocks of 25 epochs
    monkeypatch.setattr(engine_numpy, "MAX_BLOCK_VALUES", 25 * 4)
    X, t = XOR
    reader = BlockReader(stop_after=2)
    net = MLP([3, 4, 1], seed=0, stack=4)
    history = net.fit(X, t, epochs=100, lr=0.5, engine=engine, callbacks=[reader])
    assert [first for first, _ in reader.told] == [0, 25]
    assert history.epochs == 50 and history.loss.shape == (50, 4)
    assert net.training_metadata["epochs"] == 50


def test_a_callback_that_reads_no_epoch_is_not_told_of_each(short_record, blocks, no_replay):
    from mlplab.train.callbacks import Callback

    class AtTheEnd(Callback):  # Callback's on_epoch_end left as it is: a no-op
        def on_train_end(self, history):
            self.epochs = history.epochs

    X, t = XOR
    end = AtTheEnd()
    MLP([3, 4, 1], seed=0, stack=4).fit(X, t, epochs=60, lr=0.5, engine="jax", callbacks=[end])
    assert end.epochs == 60
    assert blocks == [(0, 60, 3)]  # only the recorded epochs come back
    assert no_replay == []


@pytest.mark.parametrize("every", [1, 7])
def test_solved_in_the_logs_is_the_epoch_the_outputs_show(monkeypatch, every):
    """``SolvedInLogs`` (the compiled engine's, a block at a time, blocks starting between
    watched epochs) and ``SolveWatch`` (the NumPy engine's outputs, epoch by epoch) find
    the same first solving epoch of each network."""
    from mlplab.experiments import stacks

    monkeypatch.setattr(engine_jax, "MAX_BLOCK_VALUES", 45 * 30)  # blocks of 45 epochs
    monkeypatch.setattr(stacks, "WATCHES", 600 // every)
    X, t = XOR
    outcomes = [stacks.train_stack(MLP([3, 2, 1], seed=3, stack=30), X, t, epochs=600,
                                   lr=2.0, engine=engine)
                for engine in ("numpy", "jax")]  # fmt: skip
    numpy_run, jax_run = outcomes
    assert jax_run.watch_every == numpy_run.watch_every == every
    np.testing.assert_array_equal(jax_run.epochs_to_solve, numpy_run.epochs_to_solve)
    solved_at = numpy_run.epochs_to_solve[numpy_run.solved]
    assert len(set(solved_at.tolist())) > 3 and (~numpy_run.solved).any()  # a real spread
    assert (solved_at % every == 0).all()


@pytest.mark.parametrize("stack", [None, 4])
def test_the_history_s_arrays_are_the_caller_s_to_write_on_both_engines(stack):
    X, t = XOR
    for engine in ("numpy", "jax"):
        history = MLP([3, 4, 1], seed=0, stack=stack).fit(X, t, epochs=30, engine=engine,
                                                           metrics=("accuracy",))  # fmt: skip
        for values in (history.loss, history.accuracy):
            assert values.flags.writeable, engine
            values[0] = -1.0  # a user's own array: no error, nothing else changed


@pytest.mark.parametrize("stack", [None, 3])
def test_a_block_reader_is_told_of_the_epochs_before_a_divergence_alike(stack):
    """One network, and a stack all of whose networks diverge: the reader gets the epochs
    before the error, as an epoch-by-epoch reader would, on both engines."""
    X, t = XOR
    told = {}
    for engine in ("numpy", "jax"):
        reader = BlockReader()
        with pytest.raises(TrainingDivergedError) as caught:
            MLP([3, 4, 1], activation="identity", output_activation="identity", bias=False,
                seed=0, stack=stack).fit(X, t, epochs=100, lr=0.5, engine=engine,
                                         callbacks=[reader])  # fmt: skip
        assert [first for first, _ in reader.told] == [0]
        told[engine] = reader.told[0][1]
        assert len(told[engine]) == caught.value.epoch  # the epochs before the one that diverged
    assert caught.value.epoch > 3
    np.testing.assert_allclose(told["jax"], told["numpy"], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("asked", [(), ("accuracy",)])
def test_a_metric_a_callback_reads_is_in_its_logs_and_kept_only_if_the_fit_asked(asked):
    X, t = XOR

    class ReadsAccuracy(BlockReader):
        metrics = ("accuracy",)

        def on_block_end(self, first, logs):
            self.told.append((first, logs.accuracy.copy()))

    seen = {}
    for engine in ("numpy", "jax"):
        reader, epochs = ReadsAccuracy(), []
        history = MLP([3, 4, 1], seed=0, stack=3).fit(
            X, t, epochs=400, lr=2.0, engine=engine, metrics=asked,
            callbacks=[reader, lambda e, logs, epochs=epochs: epochs.append(logs["accuracy"])],
        )  # fmt: skip
        (_, accuracy), = reader.told
        assert accuracy.shape == (400, 3) and accuracy[-1].max() == 1.0
        np.testing.assert_array_equal(np.array(epochs), accuracy)  # each epoch's reader too
        assert (history.accuracy is not None) == bool(asked)
        seen[engine] = accuracy
    np.testing.assert_array_equal(seen["jax"], seen["numpy"])
