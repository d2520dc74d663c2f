"""The MLP: structure, the math worked by hand, training, and clear errors."""

import numpy as np
import pytest

import mlplab
from mlplab.nn.network import Dense


def test_params_structure_and_shapes():
    net = mlplab.MLP([3, 4, 2, 1], seed=0)
    assert [p["W"].shape for p in net.params] == [(3, 4), (4, 2), (2, 1)]
    assert [p["b"].shape for p in net.params] == [(4,), (2,), (1,)]
    net = mlplab.MLP([3, 4, 1], bias=False, seed=0)
    assert all(set(p) == {"W"} for p in net.params)
    assert net.n_params == 16
    assert "3-4-1" in repr(net)


def test_forward_returns_every_layer_and_predict_the_last():
    net = mlplab.MLP([3, 4, 2], activation="tanh", seed=1)
    X = np.random.default_rng(0).normal(size=(5, 3))
    hs = net.forward(X)
    assert [h.shape for h in hs] == [(5, 4), (5, 2)]
    np.testing.assert_array_equal(hs[0], np.tanh(X @ net.params[0]["W"] + net.params[0]["b"]))
    np.testing.assert_array_equal(net.predict(X), hs[-1])
    assert net.predict(X[0]).shape == (2,)  # one example as a 1-D row


def test_one_training_step_by_hand():
    # A 1-1-1 network: hidden identity, output identity, squared error, lr 0.1.
    net = mlplab.MLP([1, 1, 1], activation="identity", output_activation="identity", bias=True)
    net.params[0]["W"][...] = 0.5
    net.params[0]["b"][...] = 0.0
    net.params[1]["W"][...] = 2.0
    net.params[1]["b"][...] = 1.0
    # x = 2, t = 3:  h = 0.5*2 + 0 = 1;  y = 2*1 + 1 = 3 ... make it miss: t = 5
    # y - t = -2 = delta (output);  dW2 = h * delta = -2;  db2 = -2
    # hidden delta = delta * W2 = -4;  dW1 = x * -4 = -8;  db1 = -4;  loss = 0.5 * 4 = 2
    history = net.fit([[2.0]], [[5.0]], epochs=1, lr=0.1)
    assert history.loss[0] == 2.0
    assert net.params[1]["W"][0, 0] == pytest.approx(2.0 + 0.2)
    assert net.params[1]["b"][0] == pytest.approx(1.0 + 0.2)
    assert net.params[0]["W"][0, 0] == pytest.approx(0.5 + 0.8)
    assert net.params[0]["b"][0] == pytest.approx(0.0 + 0.4)


def test_history_records_the_loss_of_every_epoch():
    X, t = mlplab.load_dataset("xor")
    net = mlplab.MLP([3, 4, 1], bias=False, init="seed", seed=0)
    history = net.fit(X, t, epochs=300)
    assert history.loss.shape == (300,)
    assert history.loss[0] == pytest.approx(
        mlplab.MLP([3, 4, 1], bias=False, init="seed", seed=0).evaluate(X, t)
    )
    assert history.loss[-1] < history.loss[0]
    assert history.final_loss == history.loss[-1]


def test_large_inputs_raise_no_overflow_warnings():
    # pytest turns warnings into errors, so an overflow in exp would fail this test.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3)) * 1e4
    for output, loss in [
        ("sigmoid", "binary_cross_entropy"),
        ("softmax", "cross_entropy"),
        ("sigmoid", "squared_error"),
    ]:
        n_out = 3 if output == "softmax" else 1
        net = mlplab.MLP(
            [3, 4, n_out],
            activation="softplus",
            output_activation=output,
            loss=loss,
            seed=0,
            init="uniform",
        )
        T = np.eye(n_out)[rng.integers(0, n_out, 8)] if n_out > 1 else rng.integers(0, 2, (8, 1))
        y = net.predict(X)
        assert np.all(np.isfinite(y))
        loss_value, grads = net.gradients(X, T)
        assert np.isfinite(loss_value)
        assert all(np.all(np.isfinite(g["W"])) for g in grads)


def test_divergence_stops_with_the_epoch_and_keeps_finite_weights():
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(10, 3)), rng.normal(size=(10, 1)) * 100
    net = mlplab.MLP([3, 8, 1], activation="identity", output_activation="identity", seed=0)
    expected = r"epoch \d+.*smaller learning rate"
    with pytest.raises(mlplab.TrainingDivergedError, match=expected) as e:
        net.fit(X, T, epochs=10000, lr=1.0)
    assert 0 < e.value.epoch < 10000
    assert len(e.value.history.loss) == e.value.epoch
    assert np.all(np.isfinite(e.value.history.loss))
    assert all(np.all(np.isfinite(v)) for p in net.params for v in p.values())


def test_float32_end_to_end():
    X, t = mlplab.load_dataset("xor")
    net = mlplab.MLP([3, 4, 1], bias=False, init="seed", seed=0, dtype="float32")
    net.fit(X, t, epochs=50)
    assert all(v.dtype == np.float32 for p in net.params for v in p.values())
    assert net.predict(X).dtype == np.float32
    net64 = mlplab.MLP([3, 4, 1], bias=False, init="seed", seed=0)
    net64.fit(X, t, epochs=50)
    np.testing.assert_allclose(net.predict(X), net64.predict(X), atol=1e-5)


def test_stack_matches_separate_networks():
    X, t = mlplab.load_dataset("xor")
    stack = mlplab.MLP([3, 3, 1], init="seed", seed=20, stack=3)
    stack.fit(X, t, epochs=300)
    assert stack.predict(X).shape == (3, 4, 1)
    for i in range(3):
        single = mlplab.MLP([3, 3, 1], init="seed", seed=20 + i)
        single.fit(X, t, epochs=300)
        np.testing.assert_allclose(stack.predict(X)[i], single.predict(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [3]}, "at least 2 layers"),
        ({"sizes": [3, 0, 1]}, "at least 1 unit"),
        ({"sizes": [3, 1], "loss": "hinge"}, "unknown loss 'hinge'; expected one of"),
        ({"sizes": [3, 1], "init": "zeros"}, "unknown init 'zeros'; expected one of: seed"),
        ({"sizes": [3, 1], "reduction": "max"}, "unknown reduction"),
        ({"sizes": [3, 1], "loss": "cross_entropy"}, "needs the output activation softmax"),
        ({"sizes": [3, 1], "dtype": "int32"}, "float32 or float64"),
        ({"sizes": [3, 1], "seed": -1}, "seed must be an integer"),
        ({"sizes": [3, 1], "stack": 0}, "stack must be a positive integer"),
    ],
)
def test_bad_configuration_is_refused_clearly(kwargs, message):
    with pytest.raises(mlplab.ConfigError, match=message):
        mlplab.MLP(**kwargs)


def test_bad_data_is_refused_clearly():
    net = mlplab.MLP([3, 2, 1], seed=0)
    with pytest.raises(mlplab.DataError, match=r"shape \(4, 2\); expected \(n, 3\)"):
        net.predict(np.zeros((4, 2)))
    with pytest.raises(mlplab.DataError, match=r"targets have shape \(3, 1\); expected \(4, 1\)"):
        net.fit(np.zeros((4, 3)), np.zeros((3, 1)), epochs=1)
    with pytest.raises(mlplab.DataError, match="NaN"):
        net.fit([[0, 0, np.nan]], [[1]], epochs=1)
    with pytest.raises(mlplab.DataError, match="numeric"):
        net.predict([["a", "b", "c"]])
    with pytest.raises(mlplab.ConfigError, match="epochs must be a non-negative integer"):
        net.fit(np.zeros((1, 3)), [[0]], epochs=-1)
    with pytest.raises(mlplab.ConfigError, match="learning rate must be a positive number"):
        net.fit(np.zeros((1, 3)), [[0]], epochs=1, lr=0)


def test_work_arrays_are_kept_per_input_shape_and_bounded():
    """A batch, a shorter last batch and a prediction on all rows alternate without allocating."""
    net = mlplab.MLP([3, 4, 1], seed=0)
    layer = net.layers[0]
    rng = np.random.default_rng(0)
    batch, last = rng.random((8, 3)), rng.random((3, 3))
    net.predict(batch)
    z_batch = layer._z
    net.predict(last)
    assert layer._z is not z_batch and layer._z.shape == (3, 4)
    net.predict(batch)
    assert layer._z is z_batch  # the batch's arrays again, not new ones
    for n in range(20, 20 + Dense.MAX_SHAPES + 1):
        net.predict(rng.random((n, 3)))
    assert len(layer._work) <= Dense.MAX_SHAPES


def test_softmax_over_one_output_is_refused_naming_sigmoid():
    with pytest.raises(mlplab.ConfigError, match=r"softmax with one output.*use sigmoid"):
        mlplab.MLP([2, 3, 1], output_activation="softmax", loss="cross_entropy")


def test_outputs_and_grads_are_the_last_passes_values():
    X, T = mlplab.load_dataset("xor")
    net = mlplab.MLP([3, 4, 2, 1], seed=0)
    loss = net.loss_and_backward(X, T.reshape(-1, 1))
    hs = net.forward(X)
    assert len(net.outputs) == len(net.grads) == 3
    for got, want in zip(net.outputs, hs, strict=True):
        np.testing.assert_array_equal(got, want)
    assert net.loss_at(X, T.reshape(-1, 1)) == loss  # the same forward pass's loss
    np.testing.assert_array_equal(net.outputs[-1], net.predict(X))
