"""The training loop's options: mini-batches, shuffling, validation, early stopping,
schedules, weight decay, integer labels, float32 and callbacks."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mlplab import MLP, ConfigError, DataError, TrainingDivergedError, load_dataset
from mlplab.nn.targets import as_targets
from mlplab.train.callbacks import Callback
from mlplab.train.schedules import InverseTime, StepDecay, get_schedule
from mlplab.train.stopping import EarlyStopping


def _classifier(seed: int = 0, dtype=np.float64, stack=None, hidden=8) -> MLP:
    return MLP(
        [2, hidden, 3],
        activation="tanh",
        output_activation="softmax",
        loss="cross_entropy",
        reduction="mean",
        init="glorot",
        seed=seed,
        dtype=dtype,
        stack=stack,
    )


@pytest.fixture(scope="module")
def blobs():
    X, T = load_dataset("gaussians3", n=120, noise=0.1, seed=3)
    return X, T


def _weights(net: MLP) -> list[np.ndarray]:
    return [v.copy() for p in net.params for v in p.values()]


def test_one_epoch_of_mini_batches_is_steps_on_consecutive_batches(blobs):
    X, T = blobs
    net, ref = _classifier(), _classifier()
    net.fit(X, T, epochs=1, lr=0.5, batch_size=50, shuffle=False)
    for lo in (0, 50, 100):  # batches of 50, 50 and the last 20
        _, grads = ref.gradients(X[lo : lo + 50], T[lo : lo + 50])
        for p, g in zip(ref.params, grads, strict=True):
            for name in p:
                p[name] -= 0.5 * g[name]
    for a, b in zip(_weights(net), _weights(ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_mini_batch_loss_is_the_running_mean_over_the_epoch(blobs):
    X, T = blobs
    net, ref = _classifier(), _classifier()
    history = net.fit(X, T, epochs=1, lr=0.5, batch_size=40, shuffle=False)
    losses = []
    for lo in (0, 40, 80):
        loss, grads = ref.gradients(X[lo : lo + 40], T[lo : lo + 40])
        losses.append(loss)
        for p, g in zip(ref.params, grads, strict=True):
            for name in p:
                p[name] -= 0.5 * g[name]
    assert history.loss[0] == pytest.approx(np.mean(losses), rel=1e-12)


def test_shuffling_is_seeded(blobs):
    X, T = blobs
    runs = {}
    for key, kwargs in {
        "a": {"seed": 1},
        "a again": {"seed": 1},
        "b": {"seed": 2},
        "unshuffled": {"shuffle": False},
    }.items():
        net = _classifier()
        net.fit(X, T, epochs=3, lr=0.3, batch_size=16, **kwargs)
        runs[key] = _weights(net)[0]
    np.testing.assert_array_equal(runs["a"], runs["a again"])
    assert not np.allclose(runs["a"], runs["b"])
    assert not np.allclose(runs["a"], runs["unshuffled"])


def test_epochs_shuffle_indices_not_data():
    # 8 MB of inputs: an epoch that copied or permuted them would allocate that much
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 100)).astype(np.float32)
    labels = rng.integers(0, 10, 20000)
    net = MLP(
        [100, 16, 10],
        "relu",
        "softmax",
        "cross_entropy",
        "mean",
        init="he",
        seed=0,
        dtype=np.float32,
    )
    T = as_targets(net, labels)  # one-hot once, outside the measurement
    peaks, start = [], []

    def measure(epoch, loss):  # memory allocated at the peak of each epoch after the first
        current, peak = tracemalloc.get_traced_memory()
        if epoch:
            peaks.append(peak - start[-1])
        start.append(current)
        tracemalloc.reset_peak()

    tracemalloc.start()
    try:
        net.fit(X, T, epochs=3, lr=0.1, batch_size=128, callbacks=[measure])
    finally:
        tracemalloc.stop()
    assert len(peaks) == 2
    assert max(peaks) < X.nbytes / 20, f"peak {max(peaks)} bytes in an epoch over {X.nbytes}"


def test_stacked_networks_train_on_the_same_batches_as_single_ones(blobs):
    X, T = blobs
    stack = _classifier(seed=5, stack=3)
    history = stack.fit(X, T, epochs=4, lr=0.3, batch_size=32, seed=9, optimizer="momentum")
    assert history.loss.shape == (4, 3)
    assert history.accuracy.shape == (4, 3)
    for i in range(3):
        single = _classifier(seed=5 + i)
        h = single.fit(X, T, epochs=4, lr=0.3, batch_size=32, seed=9, optimizer="momentum")
        np.testing.assert_allclose(stack.params[0]["W"][i], single.params[0]["W"], rtol=1e-10)
        np.testing.assert_allclose(history.loss[:, i], h.loss, rtol=1e-10)


def test_training_learns_three_classes_with_adam(blobs):
    X, labels = load_dataset("spiral3", n=300, noise=0.0, seed=0)
    net = MLP([2, 32, 32, 3], "relu", "softmax", "cross_entropy", "mean", init="he", seed=0)
    history = net.fit(
        X, labels.argmax(axis=1), epochs=150, optimizer="adam", lr=0.01, batch_size=32
    )
    assert history.accuracy[-1] > 0.9
    assert history.loss[-1] < history.loss[0] / 3


def test_integer_labels_train_exactly_as_one_hot_rows(blobs):
    X, T = blobs
    a, b = _classifier(), _classifier()
    a.fit(X, T, epochs=5, lr=0.5, batch_size=30)
    b.fit(X, T.argmax(axis=1), epochs=5, lr=0.5, batch_size=30)
    for wa, wb in zip(_weights(a), _weights(b), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert b.evaluate(X, T.argmax(axis=1)) == a.evaluate(X, T)


def test_labels_out_of_range_are_refused(blobs):
    X, _ = blobs
    with pytest.raises(DataError, match=r"class labels must be integers in \[0, 3\)"):
        _classifier().fit(X, np.full(len(X), 3), epochs=1)


def test_validation_pair_and_fraction(blobs):
    X, T = blobs
    net = _classifier()
    history = net.fit(X[:90], T[:90], epochs=3, lr=0.5, validation=(X[90:], T[90:]))
    assert history.val_loss.shape == (3,)
    # the last val_loss is that of the final weights
    assert history.val_loss[-1] == pytest.approx(net.evaluate(X[90:], T[90:]), rel=1e-12)
    y = net.predict(X[90:])
    assert history.val_accuracy[-1] == np.mean(y.argmax(1) == T[90:].argmax(1))
    h = _classifier().fit(X, T, epochs=2, lr=0.5, validation=0.25)
    assert h.val_loss.shape == (2,)
    with pytest.raises(ConfigError, match="validation must be"):
        _classifier().fit(X, T, epochs=1, validation=1.5)


def test_full_batch_accuracy_is_that_of_the_weights_before_the_update(blobs):
    X, T = blobs
    net = _classifier()
    before = np.mean(net.predict(X).argmax(1) == T.argmax(1))
    history = net.fit(X, T, epochs=1, lr=0.5)
    assert history.accuracy[0] == before


def test_early_stopping_stops_and_restores_the_best_weights(blobs):
    X, T = blobs
    net = _classifier()
    # validation labels that disagree with the training labels: its loss rises from the start
    wrong = (T.argmax(1) + 1) % 3
    history = net.fit(X, T, epochs=200, lr=0.5, validation=(X, wrong), early_stopping=5)
    assert history.epochs < 200
    assert len(history.loss) == history.epochs
    assert history.best_epoch == int(np.argmin(history.val_loss))
    assert net.evaluate(X, wrong) == pytest.approx(history.val_loss[history.best_epoch], rel=1e-12)


def test_early_stopping_on_the_training_loss_with_min_delta(blobs):
    X, T = blobs
    stopper = EarlyStopping(patience=3, min_delta=1.0, monitor="loss", restore_best=False)
    history = _classifier().fit(X, T, epochs=100, lr=0.5, early_stopping=stopper)
    assert history.epochs == 4  # epoch 0 sets the best; 3 epochs improve by less than 1.0


def test_schedules_set_the_rate_every_epoch(blobs):
    X, T = blobs
    seen = []
    net = _classifier()
    from mlplab.train.optimizers import SGD

    opt = SGD(0.8)
    net.fit(
        X,
        T,
        epochs=5,
        optimizer=opt,
        schedule=StepDecay(step=2, gamma=0.5),
        callbacks=[lambda epoch, loss: seen.append(opt.lr)],
    )
    assert seen == [0.8, 0.8, 0.4, 0.4, 0.2]
    assert InverseTime(decay=1.0, power=0.5)(3, 1.0) == pytest.approx(0.5)
    assert get_schedule("constant") is None
    with pytest.raises(ConfigError, match="unknown schedule 'cosine'; expected one of"):
        get_schedule("cosine")


def test_weight_decay_adds_alpha_w_to_the_gradient_and_the_penalty_to_the_loss(blobs):
    X, T = blobs
    net, ref = _classifier(), _classifier()
    history = net.fit(X, T, epochs=1, lr=0.5, weight_decay=0.1)
    loss, grads = ref.gradients(X, T)
    penalty = 0.05 * sum(np.sum(p["W"] ** 2) for p in ref.params)
    assert history.loss[0] == pytest.approx(loss + penalty, rel=1e-12)
    for p, g, q in zip(ref.params, grads, net.params, strict=True):
        np.testing.assert_allclose(q["W"], p["W"] - 0.5 * (g["W"] + 0.1 * p["W"]), rtol=1e-12)
        np.testing.assert_allclose(q["b"], p["b"] - 0.5 * g["b"], rtol=1e-12)


def test_float32_end_to_end(blobs):
    X, T = blobs
    net = _classifier(dtype=np.float32)
    history = net.fit(
        X,
        T.argmax(1),
        epochs=3,
        optimizer="adam",
        lr=0.01,
        batch_size=16,
        validation=0.2,
        weight_decay=1e-3,
    )
    assert np.all(np.isfinite(history.loss))
    assert all(v.dtype == np.float32 for p in net.params for v in p.values())
    assert all(v.dtype == np.float32 for g in net.grads for v in g.values())
    assert all(layer.h.dtype == np.float32 for layer in net.layers)


def test_callbacks_get_the_epoch_metrics(blobs):
    X, T = blobs
    plain, rich = [], []

    class WithMetrics(Callback):
        def on_epoch_end(self, epoch, logs):
            rich.append(dict(logs))

    _classifier().fit(
        X,
        T,
        epochs=2,
        lr=0.5,
        validation=0.2,
        batch_size=32,
        callbacks=[lambda e, logs: plain.append(e), WithMetrics()],
    )
    assert plain == [0, 1]
    assert sorted(rich[0]) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_a_callback_may_stop_training(blobs):
    X, T = blobs
    history = _classifier().fit(X, T, epochs=50, lr=0.5, callbacks=[lambda e, logs: e == 6])
    assert history.epochs == 7 and len(history.loss) == 7


def test_a_callback_is_refused_without_on_epoch_end_or_a_call():
    with pytest.raises(ConfigError, match="on_epoch_end"):
        MLP([2, 2, 1]).fit(np.zeros((4, 2)), np.zeros(4), epochs=1, callbacks=[42])


def test_regression_records_no_accuracy():
    X = np.linspace(-1, 1, 40)[:, None]
    net = MLP([1, 8, 1], "tanh", "identity", "squared_error", "mean", init="glorot", seed=0)
    history = net.fit(X, X**2, epochs=3, lr=0.1, batch_size=10)
    assert history.accuracy is None
    assert history.val_loss is None


def test_divergence_in_a_mini_batch_is_reported(blobs):
    X, T = blobs
    net = MLP([2, 8, 1], "relu", "identity", "squared_error", "sum", init="he", seed=0)
    with pytest.raises(TrainingDivergedError, match="Try a smaller learning rate"):
        net.fit(X * 1e3, T[:, :1] * 1e3, epochs=50, lr=10.0, batch_size=16)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"early_stopping": "soon"}, "early_stopping must be"),
        ({"weight_decay": -1.0}, "weight decay must be a non-negative"),
        ({"optimizer": "lion"}, "unknown optimizer 'lion'"),
    ],
)
def test_bad_fit_options_are_refused(blobs, kwargs, message):
    X, T = blobs
    with pytest.raises(ConfigError, match=message):
        _classifier().fit(X, T, epochs=1, **kwargs)


def test_a_callback_stopping_at_the_last_epoch_of_a_block_ends_the_run(monkeypatch):
    # a stack's blocks hold MAX_BLOCK_VALUES // K epochs: stop exactly at a block's end
    # (the bound made small, so that a small stack has blocks of 2 epochs)
    from mlplab.engines import numpy as engine_numpy

    monkeypatch.setattr(engine_numpy, "MAX_BLOCK_VALUES", 2**10)
    K = 2**9
    block = engine_numpy.MAX_BLOCK_VALUES // K  # 2 epochs a block
    X = np.zeros((1, 1))
    net = MLP([1, 1], bias=False, seed=0, stack=K)
    history = net.fit(X, np.zeros(1), epochs=6, callbacks=[lambda e, logs: e == block - 1])
    assert history.epochs == block
