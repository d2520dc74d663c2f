"""Engine ``jax`` against engine ``numpy``: the same training, to rounding.

Random set-ups over depth, width, activations, output/loss pairs, optimizers, schedules,
mini-batches, penalties, sample weights and validation: weights after a few hundred epochs
agree to 1e-8 relative in float64; the seed's run after 60000 epochs to 1e-9; network i of
a compiled stack is the NumPy engine's solo network i.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import missing_optional
from helpers import HIDDEN, OUTPUT_LOSS_PAIRS, targets_for

from mlplab import MLP, load_dataset
from mlplab.errors import ConfigError
from mlplab.train.regularization import L1, L2
from mlplab.train.schedules import InverseTime, StepDecay

try:  # the engine configures JAX (CPU flags, one device per core) before anything imports it
    import mlplab.engines.jax  # noqa: F401
except ConfigError:
    missing_optional("jax is not installed")

OPTIMIZERS = [("sgd", 0.3), ("momentum", 0.05), ("nesterov", 0.05), ("adam", 0.01)]


def flat(net: MLP) -> list[np.ndarray]:
    return [v.copy() for p in net.params for v in p.values()]


def assert_close(a: list[np.ndarray], b: list[np.ndarray], rel: float) -> None:
    scale = max(1.0, max(float(np.abs(x).max()) for x in b))
    worst = max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))
    assert worst <= rel * scale, f"engines differ by {worst:.3g} (scale {scale:.3g})"


def both(build, X, T, **fit):
    """Train two copies of ``build()``, one per engine: ``(numpy net, jax net, histories)``."""
    nets, histories = [], []
    for engine in ("numpy", "jax"):
        net = build()
        histories.append(net.fit(X, T, engine=engine, **fit))
        nets.append(net)
    return nets[0], nets[1], histories


def random_setup(seed: int) -> tuple:
    """A random network, data and fit options (drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    output, loss = OUTPUT_LOSS_PAIRS[seed % len(OUTPUT_LOSS_PAIRS)]
    n_in, n_out = int(rng.integers(1, 5)), 1 if output == "sigmoid" and seed % 2 else 3
    sizes = [n_in, *rng.integers(1, 7, int(rng.integers(1, 4))).tolist(), n_out]
    hidden = HIDDEN[int(rng.integers(len(HIDDEN)))]
    n = int(rng.integers(5, 40))
    X = rng.normal(size=(n, n_in))
    T = targets_for(output, loss, n, n_out, rng)
    name, lr = OPTIMIZERS[seed % len(OPTIMIZERS)]
    reduction = ["sum", "mean"][int(rng.integers(2))]

    def build() -> MLP:
        return MLP(sizes, activation=hidden, output_activation=output, loss=loss,
                   reduction=reduction, bias=bool(seed % 3), init="glorot", seed=seed)  # fmt: skip

    fit = {
        "epochs": 200,
        "optimizer": name,
        "lr": lr / (n if reduction == "sum" and name != "adam" else 1),
        "batch_size": [None, int(rng.integers(1, n + 1)), 4][seed % 3],
        "seed": seed,
        "weight_decay": [0.0, 0.01, L1(0.001), [L2(0.01), L1(0.002)]][seed % 4],
        "schedule": [None, StepDecay(50, 0.5), InverseTime(0.01)][seed % 3],
        "sample_weight": rng.uniform(0.5, 2.0, n) if seed % 4 == 1 else None,
        "validation": 0.25 if seed % 5 == 2 else None,
    }
    return build, X, T, fit


@pytest.mark.parametrize("seed", range(14))
def test_random_setups_train_alike_on_both_engines(seed: int) -> None:
    build, X, T, fit = random_setup(seed)
    a, b, (ha, hb) = both(build, X, T, **fit)
    assert_close(flat(b), flat(a), 1e-8)
    np.testing.assert_allclose(hb.loss, ha.loss, rtol=1e-8, atol=1e-12)
    for name in ("accuracy", "val_loss", "val_accuracy"):
        got, want = getattr(hb, name), getattr(ha, name)
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)


def test_the_seed_run_predicts_alike_after_60000_epochs() -> None:
    X, t = load_dataset("xor")
    a, b, _ = both(lambda: MLP([3, 4, 1], bias=False, init="seed", seed=0), X, t, epochs=60000)
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=0, atol=1e-9)
    assert float(np.abs(b.predict(X) - t).max()) < 0.01  # and it learned XOR


def test_float32_trains_alike_to_float32_rounding() -> None:
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(30, 2)), rng.integers(0, 3, 30)
    a, b, _ = both(lambda: MLP([2, 5, 3], activation="tanh", output_activation="softmax",
                               loss="cross_entropy", dtype=np.float32, seed=1), X, labels,
                   epochs=200, optimizer="adam", lr=0.01, batch_size=8, seed=0)  # fmt: skip
    assert b.params[0]["W"].dtype == np.float32
    assert_close(flat(b), flat(a), 1e-4)


@pytest.mark.parametrize("batch_size", [None, 3])
def test_network_i_of_a_compiled_stack_is_the_numpy_engines_solo_network_i(batch_size) -> None:
    X, t = load_dataset("xor")
    stack = MLP([3, 3, 1], init="uniform", seed=10, stack=5)
    stack.fit(X, t, epochs=300, optimizer="momentum", lr=0.5, batch_size=batch_size, seed=7,
              engine="jax")  # fmt: skip
    for i in range(5):
        solo = MLP([3, 3, 1], init="uniform", seed=10 + i)
        solo.fit(X, t, epochs=300, optimizer="momentum", lr=0.5, batch_size=batch_size, seed=7)
        assert_close([v[i] for v in flat(stack)], flat(solo), 1e-8)


def test_a_stack_split_over_devices_equals_one_unsplit(monkeypatch) -> None:
    from mlplab.engines import jax as engine_jax

    monkeypatch.setattr(engine_jax, "MIN_SPLIT", 2)
    engine = engine_jax.JaxEngine("cpu")
    if len(engine.devices) < 2:
        pytest.skip("one CPU device only (XLA_FLAGS set before JAX was imported)")
    X, t = load_dataset("xor")
    nets = []
    for devices in (engine.devices, engine.devices[:1]):
        engine.devices = devices
        net = MLP([3, 4, 1], init="seed", bias=False, seed=0, stack=5)  # 5: padded to 6
        net.fit(X, t, epochs=200, engine=engine)
        nets.append(flat(net))
    assert_close(nets[0], nets[1], 1e-12)


@pytest.mark.parametrize("split", [False, True])
def test_a_stack_in_cache_sized_chunks_equals_one_piece(monkeypatch, split) -> None:
    from mlplab.engines import jax as engine_jax

    engine = engine_jax.JaxEngine("cpu")
    if split and len(engine.devices) < 2:
        pytest.skip("one CPU device only (XLA_FLAGS set before JAX was imported)")
    monkeypatch.setattr(engine_jax, "MIN_SPLIT", 2 if split else 10**9)
    X, t = load_dataset("xor")
    runs = []
    for chunk_bytes in (2**40, 1500):  # one piece; about one network per chunk
        monkeypatch.setattr(engine_jax, "CHUNK_BYTES", chunk_bytes)
        net = MLP([3, 4, 1], init="uniform", seed=3, stack=7)  # 7: padded to fill the chunks
        history = net.fit(X, t, epochs=150, optimizer="adam", lr=0.05, validation=(X, t),
                          metrics=("accuracy",), engine=engine)  # fmt: skip
        runs.append((flat(net), history))
    chunks = engine_jax._chunks(net_job(net, X, t), 2 if split else 1)
    assert chunks > 1
    # XLA vectorises a chunk of 1 network otherwise than 7: equal to the last bits
    assert_close(runs[1][0], runs[0][0], 1e-12)
    for name in ("loss", "accuracy", "val_loss"):
        np.testing.assert_allclose(getattr(runs[1][1], name), getattr(runs[0][1], name),
                                   rtol=1e-12)  # fmt: skip
    solo = MLP([3, 4, 1], init="uniform", seed=3 + 6)  # the stack's last network, alone
    solo.fit(X, t, epochs=150, optimizer="adam", lr=0.05)
    assert_close([v[6] for v in runs[1][0]], flat(solo), 1e-8)


def net_job(net: MLP, X: np.ndarray, t: np.ndarray):
    from mlplab.train.job import prepare_job

    return prepare_job(net, X, t, lr=0.05, optimizer="adam", batch_size=None, shuffle=True,
                       validation=None, schedule=None, weight_decay=0.0, seed=0,
                       standardize=False, sample_weight=None)  # fmt: skip


def test_a_diverging_network_stops_at_the_same_epoch_with_the_same_weights() -> None:
    from mlplab.errors import TrainingDivergedError

    X, t = load_dataset("xor")
    errors, weights = [], []
    for engine in ("numpy", "jax"):
        net = MLP([3, 4, 1], output_activation="identity", init="uniform", seed=0)
        with pytest.raises(TrainingDivergedError) as info:
            net.fit(X * 100, t, epochs=500, lr=5.0, engine=engine)
        errors.append(info.value)
        weights.append(flat(net))
    assert errors[1].epoch == errors[0].epoch
    assert str(errors[1]) == str(errors[0])
    np.testing.assert_allclose(errors[1].history.loss, errors[0].history.loss, rtol=1e-12)
    assert_close(weights[1], weights[0], 1e-8)
    assert all(np.isfinite(w).all() for w in weights[1])


def test_a_stack_freezes_its_diverged_networks_as_the_numpy_engine_does() -> None:
    X, t = load_dataset("xor")
    diverged = []
    runs = []
    for engine in ("numpy", "jax"):
        net = MLP([3, 4, 1], activation="identity", output_activation="identity", seed=0,
                  stack=4)
        net.params[0]["W"][:2] *= 60  # two of the four diverge
        history = net.fit(X, t, epochs=100, lr=0.05, engine=engine)
        runs.append((history, flat(net)))
        diverged.append(history.extra["diverged_at"])
    np.testing.assert_array_equal(diverged[1], diverged[0])
    assert (diverged[0] >= 0).tolist() == [True, True, False, False]
    np.testing.assert_allclose(runs[1][0].loss, runs[0][0].loss, rtol=1e-8, equal_nan=True)
    assert_close(runs[1][1], runs[0][1], 1e-8)


def test_a_users_activation_written_with_operators_trains_alike() -> None:
    from mlplab.nn.activations import ACTIVATIONS, register_activation

    register_activation("softsign_h16", lambda z: z / (1 + abs(z)),
                        lambda h: (1 - abs(h)) ** 2, replace=True)  # fmt: skip
    try:
        _, X, T, _ = random_setup(4)
        a, b, _ = both(lambda: MLP([X.shape[1], 4, T.shape[1]], activation="softsign_h16",
                                   output_activation="identity", seed=2), X, T,
                       epochs=100, lr=0.01)  # fmt: skip
        assert_close(flat(b), flat(a), 1e-8)
    finally:
        del ACTIVATIONS["softsign_h16"]


def test_digits_with_adam_in_mini_batches_trains_alike() -> None:
    X, T = load_dataset("digits")
    X, T = X[:300], T[:300]
    a, b, (ha, hb) = both(lambda: MLP([64, 16, 10], activation="tanh", output_activation="softmax",
                                      loss="cross_entropy", reduction="mean", seed=0), X, T,
                          epochs=5, optimizer="adam", lr=0.01, batch_size=32, seed=3,
                          standardize=True, validation=0.2)  # fmt: skip
    assert_close(flat(b), flat(a), 1e-8)
    np.testing.assert_allclose(hb.val_accuracy, ha.val_accuracy)


def test_data_given_as_jax_arrays_trains_as_numpy_arrays_do() -> None:
    """A user may keep large data as JAX arrays (read without a copy at every fit; a NumPy
    array off JAX's 64-byte alignment is copied in): the fit is the same, bit for bit."""
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    X, labels = rng.standard_normal((50, 6), dtype=np.float32), rng.integers(0, 3, 50)
    nets = []
    for data in ((X, labels), (jnp.asarray(X), jnp.asarray(labels))):
        net = MLP([6, 5, 3], "relu", "softmax", "cross_entropy", "mean", seed=1,
                  dtype=np.float32)  # fmt: skip
        history = net.fit(*data, epochs=3, batch_size=16, lr=0.1, seed=0, engine="jax")
        nets.append((flat(net), history.loss))
    for a, b in zip(nets[0][0], nets[1][0], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(nets[0][1], nets[1][1])
