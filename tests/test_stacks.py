"""Stacks of networks: parity with single networks, the bounded loss record, divergence."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab import INITS, MLP, TrainingDivergedError, load_dataset
from mlplab.datasets import DATASETS
from mlplab.errors import ConfigError
from mlplab.nn.activations import hidden_activation_names
from mlplab.train.stack_record import MAX_LOSS_VALUES, StackRecord

XOR = load_dataset("xor")
K = 10  # above narrow.MIN_STACK: the fast formulation is the one tested


@pytest.mark.parametrize("init", list(INITS))
def test_network_i_of_a_stack_is_the_network_of_seed_plus_i(init):
    X, t = XOR
    stack = MLP([3, 4, 1], bias=False, init=init, seed=7, stack=K)
    singles = [MLP([3, 4, 1], bias=False, init=init, seed=7 + i) for i in range(K)]
    for i, single in enumerate(singles):
        for p_stack, p_single in zip(stack.params, single.params, strict=True):
            assert np.array_equal(p_stack["W"][i], p_single["W"])  # same start, bit for bit
    epochs = 60000 if init == "seed" else 3000  # the seed's full run once
    stack.fit(X, t, epochs=epochs)
    y = stack.predict(X)
    assert y.shape == (K, 4, 1)
    for i in (0, K - 1) if init == "seed" else range(K):
        singles[i].fit(X, t, epochs=epochs)
        np.testing.assert_allclose(y[i], singles[i].predict(X), rtol=0, atol=1e-12)


CASES = [(a, "sigmoid", "squared_error") for a in hidden_activation_names()] + [
    ("tanh", "identity", "squared_error"),
    ("relu", "sigmoid", "binary_cross_entropy"),
]


@pytest.mark.parametrize(("activation", "output", "loss"), CASES)
@pytest.mark.parametrize("dataset", ["xor", "circle", "spiral3"])
def test_stacks_work_for_every_activation_loss_and_data_set(activation, output, loss, dataset):
    X, t = load_dataset(dataset, n=40)
    if t.shape[1] > 1:
        output, loss = "softmax", "cross_entropy"
    kwargs = dict(activation=activation, output_activation=output, loss=loss, init="glorot")
    kwargs["bias"] = not DATASETS[dataset].gate
    sizes = [X.shape[1], 5, t.shape[1]]
    stack = MLP(sizes, **kwargs, seed=3, stack=K)
    history = stack.fit(X, t, epochs=30, lr=0.01)
    assert history.loss.shape == (30, K)
    for i in (0, K - 1):
        single = MLP(sizes, **kwargs, seed=3 + i)
        single_history = single.fit(X, t, epochs=30, lr=0.01)
        # a run that blows up would amplify rounding, not test the stack: this one learns
        assert single_history.loss[-1] < single_history.loss[0]
        np.testing.assert_allclose(history.loss[:, i], single_history.loss, rtol=1e-9)
        np.testing.assert_allclose(stack.predict(X)[i], single.predict(X), atol=1e-12)


def test_every_data_set_trains_as_a_stack():
    for name in DATASETS:
        X, t = load_dataset(name, n=20)
        output = "softmax" if t.shape[1] > 1 else "sigmoid"
        loss = "cross_entropy" if t.shape[1] > 1 else "squared_error"
        net = MLP([X.shape[1], 3, t.shape[1]], output_activation=output, loss=loss, seed=0, stack=K)
        history = net.fit(X, t, epochs=5, lr=0.01)
        assert history.loss.shape == (5, K) and np.isfinite(history.loss).all(), name


def test_a_long_run_keeps_every_nth_epoch_within_the_memory_bound():
    record = StackRecord(K, 1000, max_values=2000)  # 1000 x 10 values > 2000
    assert record.every == 5
    for epoch in range(1000):
        record.keep(epoch, np.full(K, float(epoch)))
    assert record.loss.shape == (200, K)
    assert record.loss.size <= 2000
    np.testing.assert_array_equal(record.loss[:, 0], np.arange(0, 1000, 5))
    np.testing.assert_array_equal(record.loss_epochs, np.arange(0, 1000, 5))


def long_stack_metrics(engine: str) -> None:
    """A stack past the memory bound keeps its metrics at its loss epochs, the same values as
    a short stack of its first networks (seeds 0..9) recording every epoch."""
    X, t = XOR
    epochs = MAX_LOSS_VALUES // 1000 + 100  # 1000 networks: every 2nd epoch kept
    options = {"epochs": epochs, "metrics": ("accuracy",), "validation": (X, t), "engine": engine}
    big = MLP([3, 2, 1], bias=False, seed=0, stack=1000).fit(X, t, **options)
    small = MLP([3, 2, 1], bias=False, seed=0, stack=10).fit(X, t, **options)
    np.testing.assert_array_equal(big.extra["loss_epochs"], np.arange(0, epochs, 2))
    rows = len(big.extra["loss_epochs"])
    for name in ("loss", "accuracy", "val_loss"):
        kept, every_epoch = getattr(big, name), getattr(small, name)
        assert kept.shape == (rows, 1000) and every_epoch.shape == (epochs, 10), name
        np.testing.assert_allclose(kept[:, :10], every_epoch[::2], rtol=1e-12, err_msg=name)
    assert 0 < big.accuracy.mean() < 1  # squared error, recorded because it was asked for


def test_a_long_stack_keeps_its_metrics_at_the_loss_epochs():
    long_stack_metrics("numpy")


def test_fit_records_the_accuracy_when_asked():
    X, t = XOR
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    assert net.fit(X, t, epochs=10).accuracy is None  # squared error: the loss only
    history = MLP([3, 4, 1], bias=False, init="seed", seed=0).fit(
        X, t, epochs=3000, metrics=("accuracy",)
    )
    assert history.accuracy.shape == (3000,) and history.accuracy[-1] == 1.0
    for bad, message in ((["f1"], "unknown metric 'f1'"), ("accuracy", "a list of names")):
        with pytest.raises(ConfigError, match=message):
            net.fit(X, t, epochs=1, metrics=bad)


def test_fit_history_of_a_stack_records_which_epochs():
    X, t = XOR
    history = MLP([3, 2, 1], bias=False, seed=0, stack=K).fit(X, t, epochs=50)
    np.testing.assert_array_equal(history.extra["loss_epochs"], np.arange(50))
    assert (history.extra["diverged_at"] == -1).all()


def test_a_diverging_network_is_frozen_and_the_others_train_on():
    X, t = XOR
    net = MLP(
        [3, 4, 1], activation="relu", output_activation="identity", bias=False, seed=0, stack=K
    )
    net.params[1]["W"][4] *= 1e200  # network 4 will overflow at once
    before = [p["W"][4].copy() for p in net.params]
    history = net.fit(X, t, epochs=200, lr=0.01)
    diverged_at = history.extra["diverged_at"]
    assert diverged_at[4] >= 0 and (np.delete(diverged_at, 4) == -1).all()
    assert np.isnan(history.loss[diverged_at[4] + 1 :, 4]).all()
    for p, b in zip(net.params, before, strict=True):
        assert np.isfinite(p["W"][4]).all()
        if diverged_at[4] == 0:
            np.testing.assert_array_equal(p["W"][4], b)  # frozen at the weights it diverged at
    others = np.delete(history.loss, 4, axis=1)
    assert np.isfinite(others).all()
    assert (others[-1] < others[0]).all()  # they kept learning
    single = MLP([3, 4, 1], activation="relu", output_activation="identity", bias=False, seed=0)
    single_history = single.fit(X, t, epochs=200, lr=0.01)
    np.testing.assert_allclose(history.loss[:, 0], single_history.loss, rtol=1e-12)  # untouched


def test_a_stack_that_all_diverges_raises():
    X, t = XOR
    net = MLP([3, 4, 1], output_activation="identity", bias=False, seed=0, stack=K)
    net.params[1]["W"][...] *= 1e200  # sigmoid units are never 0: every output overflows
    with pytest.raises(TrainingDivergedError, match="every network"):
        net.fit(X, t, epochs=10, lr=0.01)


def test_the_loss_plot_puts_kept_epochs_where_they_were_recorded():
    from conftest import require

    require("matplotlib")
    from mlplab.plot import loss_figure
    from mlplab.train.history import History

    loss = np.linspace(1, 0.1, 40)[:, None] * np.ones((1, K))
    history = History(loss, 400, extra={"loss_epochs": np.arange(0, 400, 10)})
    line = loss_figure(history).axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(0, 400, 10) + 1)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_stack_gradients_match_pytorch_autograd(activation):
    """The narrow-product path against an independent stack: torch.bmm and autograd."""
    from conftest import require

    torch = require("torch")
    X, t = XOR
    net = MLP([3, 4, 1], activation=activation, bias=False, init="seed", seed=5, stack=K)
    loss, grads = net.gradients(X, t)
    W1, W2 = (torch.tensor(p["W"], requires_grad=True) for p in net.params)
    Xs = torch.tensor(X).expand(K, 4, 3)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    y = torch.sigmoid(torch.bmm(act(torch.bmm(Xs, W1)), W2))
    per_net = 0.5 * ((y - torch.tensor(t)) ** 2).sum(dim=(1, 2))
    per_net.sum().backward()
    np.testing.assert_allclose(loss, per_net.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(grads[0]["W"], W1.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grads[1]["W"], W2.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_mini_batches_keep_stack_parity_and_freeze_divergers():
    X, t = XOR
    kwargs = dict(activation="relu", output_activation="identity", bias=False, seed=2)
    net = MLP([3, 4, 1], **kwargs, stack=K)
    net.params[1]["W"][6] *= 1e200  # network 6 overflows in its first batch
    history = net.fit(X, t, epochs=40, lr=0.01, batch_size=2, shuffle=False)
    assert history.loss.shape == (40, K)
    assert history.extra["diverged_at"][6] == 0 and np.isnan(history.loss[1:, 6]).all()
    for i in (0, K - 1):
        single = MLP([3, 4, 1], **{**kwargs, "seed": 2 + i})
        alone = single.fit(X, t, epochs=40, lr=0.01, batch_size=2, shuffle=False)
        np.testing.assert_allclose(history.loss[:, i], alone.loss, rtol=1e-10)


@pytest.mark.parametrize("hidden", [[4], [8, 8]])
def test_both_layouts_train_each_network_as_it_would_alone(hidden):
    """A narrow stack is stored stack-last, a wider one stack-first: the same networks."""
    from mlplab.nn import narrow

    X, t = load_dataset("circle", n=30)
    sizes = [2, *hidden, 1]
    stack = MLP(sizes, activation="tanh", init="glorot", seed=1, stack=K)
    assert narrow.is_stack_last(stack.params[0]["W"]) == (hidden == [4])
    stack.fit(X, t, epochs=50, lr=0.01)
    for i in (0, K - 1):
        single = MLP(sizes, activation="tanh", init="glorot", seed=1 + i)
        single.fit(X, t, epochs=50, lr=0.01)
        np.testing.assert_allclose(stack.predict(X)[i], single.predict(X), atol=1e-12)
