"""Convergence studies: what counts as solved, epochs to solve, the memory estimate."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mlplab import MLP, ConfigError, load_dataset
from mlplab.experiments import check_memory, estimate_bytes, solved, train_stack


def test_solved_needs_every_output_on_the_right_side_of_a_half():
    t = np.array([[0.0], [1.0], [1.0], [0.0]])
    y = np.array(
        [
            [[0.1], [0.9], [0.8], [0.2]],  # right
            [[0.1], [0.9], [0.4], [0.2]],  # one row wrong
            [[np.nan], [0.9], [0.8], [0.2]],  # not finite: never solved
        ]
    )
    assert solved(y, t).tolist() == [True, False, False]
    assert solved(y[0], t).item() is True


def test_solved_for_several_classes_is_the_argmax():
    t = np.eye(3)
    y = np.array([np.eye(3) * 0.4 + 0.2, np.roll(np.eye(3), 1, axis=1)])
    assert solved(y, t).tolist() == [True, False]


def test_train_stack_counts_the_seeds_that_learn_xor():
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=20)
    outcome = train_stack(net, X, t, epochs=3000)
    ok = solved(net.predict(X), t)
    np.testing.assert_array_equal(outcome.solved, ok)
    assert ok.mean() > 0.5  # the seed's network learns XOR from most starts
    steps = outcome.epochs_to_solve
    assert (steps[ok] > 0).all() and (steps[ok] <= 3000).all() and (steps[~ok] == -1).all()
    s = outcome.summary()
    assert s["nets"] == 20 and s["solved_fraction"] == ok.mean()
    assert s["epochs_to_solve"]["median"] == float(np.median(steps[ok]))
    assert s["final_loss"]["p10"] <= s["final_loss"]["p50"] <= s["final_loss"]["p90"]


def test_epochs_to_solve_matches_a_single_network_watched_every_epoch():
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=10)
    outcome = train_stack(net, X, t, epochs=800)  # watched every epoch below 10000 epochs
    single = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    first = None
    for epoch in range(800):
        if first is None and solved(single.predict(X), t):
            first = epoch
        single.fit(X, t, epochs=1)
    assert outcome.epochs_to_solve[0] == first


def test_train_stack_refuses_a_single_network():
    X, t = load_dataset("xor")
    with pytest.raises(ConfigError, match="stack"):
        train_stack(MLP([3, 4, 1]), X, t, epochs=1)


def test_the_memory_estimate_grows_with_the_stack_and_refuses_past_the_limit():
    small = estimate_bytes([3, 4, 1], 4, 1000, "float64")
    big = estimate_bytes([3, 4, 1], 4, 100_000, "float64")
    assert 0 < small < big
    assert estimate_bytes([3, 4, 1], 4, 100_000, "float32") < big
    actual = MLP([3, 4, 1], stack=1000).n_params * 8
    assert small > 2 * actual  # weights and gradients at least
    check_memory(small, 2**30, 1000)
    with pytest.raises(ConfigError, match=r"1000 networks needs about .* limit of"):
        check_memory(small, small / 2, 1000)


def test_importing_mlplab_and_its_commands_loads_no_heavy_peer():
    code = (
        "import sys, mlplab, mlplab.experiments, mlplab.cli.sweep, mlplab.cli.ensemble\n"
        "heavy = [m for m in ('joblib', 'dask', 'distributed', 'torch', 'matplotlib')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_estimate_counts_the_accuracy_rows_fit_keeps():
    from mlplab.experiments import TrainConfig, stack_bytes
    from mlplab.train.stack_record import MAX_LOSS_VALUES

    def accuracy_bytes(epochs: int, nets: int) -> int:  # beyond a run of no epochs
        config = TrainConfig(epochs=epochs, loss="binary_cross_entropy")
        return stack_bytes(config, [3, 4, 1], 4, nets) - stack_bytes(
            TrainConfig(epochs=0, loss="binary_cross_entropy"), [3, 4, 1], 4, nets
        )

    assert accuracy_bytes(60000, 1000) == 8 * 1000 * len(range(0, 60000, 15))  # bounded
    epochs = MAX_LOSS_VALUES // 1000 + 100  # every 2nd epoch kept
    X, t = load_dataset("xor")
    net = MLP([3, 2, 1], seed=0, stack=1000, loss="binary_cross_entropy")
    history = net.fit(X, t, epochs=epochs)
    assert history.accuracy.nbytes == accuracy_bytes(epochs, 1000)


def test_train_stack_scales_the_inputs_once():
    from mlplab.nn.scaling import InputScaler

    X, t = load_dataset("xor")
    X = X * 10 + 3
    net = MLP([3, 4, 1], bias=True, seed=0, stack=4)
    net.input_scaler = InputScaler.fit(X)
    outcome = train_stack(net, X, t, epochs=50)
    np.testing.assert_allclose(outcome.final_loss, net.evaluate(X, t), rtol=1e-12)
    reference = MLP([3, 4, 1], bias=True, seed=0, stack=4)
    reference.input_scaler = net.input_scaler
    reference.fit(X, t, epochs=50)
    np.testing.assert_array_equal(reference.predict(X), net.predict(X))


def test_with_mini_batches_the_watch_predicts_every_row_after_the_epoch():
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=8)
    outcome = train_stack(net, X, t, epochs=600, batch_size=2, seed=0)
    i = int(np.flatnonzero(outcome.solved)[0])
    single = MLP([3, 4, 1], bias=False, init="seed", seed=i)
    batches = np.random.default_rng(0)  # the stack's batch order, drawn epoch by epoch
    done = 0
    while not solved(single.predict(X), t):
        single.fit(X, t, epochs=1, batch_size=2, seed=batches)
        done += 1
    assert outcome.epochs_to_solve[i] == done  # epochs completed when it first solved


def test_adam_state_counts_in_the_memory_estimate():
    plain = estimate_bytes([3, 4, 1], 4, 1000, "float64")
    adam = estimate_bytes([3, 4, 1], 4, 1000, "float64", optimizer_copies=3)
    assert adam - plain == 1000 * 2 * (4 * 4 + 5 * 1) * 8


def test_the_memory_estimate_counts_batch_arrays_and_optimizer_state():
    from mlplab.experiments import TrainConfig, stack_bytes

    sizes = [2, 8, 1]
    plain = stack_bytes(TrainConfig(dataset="moons"), sizes, 200, 1000)
    batched = stack_bytes(TrainConfig(dataset="moons", batch_size=20), sizes, 200, 1000)
    adam = stack_bytes(TrainConfig(dataset="moons", optimizer="adam"), sizes, 200, 1000)
    assert plain < batched and plain < adam


def test_progress_advances_once_per_cell():
    from mlplab.experiments import TrainConfig, make_cells, run_cells

    lists = {"hidden": [(2,), (3,)], "activation": ["tanh"], "lr": [1.0], "init": ["seed"]}
    cells = make_cells(TrainConfig(), {**lists, "epochs": [20], "nets": [8, 9]})
    ticks = []
    rows = run_cells(cells, workers=1, progress=lambda: ticks.append(1))
    assert len(ticks) == len(cells) == 4
    assert [(r["hidden"], r["nets"]) for r in rows] == [([2], 8), ([2], 9), ([3], 8), ([3], 9)]


def test_the_experiments_run_without_the_command_line():
    # what a Dask worker does with a sweep cell: import mlplab.experiments, run it
    code = (
        "import sys\n"
        "from mlplab.experiments import TrainConfig, run_cell\n"
        "row = run_cell(TrainConfig(epochs=50), 4)\n"
        "assert row['nets'] == 4 and row['epochs'] == 50, row\n"
        "loaded = [m for m in sys.modules if m == 'click' or m.startswith('mlplab.cli')]\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
