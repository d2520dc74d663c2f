"""Input standardisation owned by the model: fitting, applying, saving, folding, exporting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import require

from mlplab import MLP, DataError, ModelFileError, load_dataset
from mlplab.nn.scaling import InputScaler, fold, folded_params


def _data(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Two inputs on very different scales and offsets, and a label depending on both."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, n))
    X = np.column_stack([a * 1000 + 5000, b / 1000 - 3])
    return X, (a * b > 0).astype(float)


def _net(**kwargs) -> MLP:
    return MLP([2, 8, 1], "tanh", "sigmoid", "binary_cross_entropy", "mean", init="glorot",
               seed=0, **kwargs)  # fmt: skip


# --- the scaler ---------------------------------------------------------------------------


def test_fit_learns_mean_and_scale_and_a_constant_column_keeps_scale_one():
    X, _ = load_dataset("moons", n=50, seed=0)
    X = np.column_stack([X, np.full(len(X), 7.0)])
    s = InputScaler.fit(X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1, rtol=1e-12)
    np.testing.assert_array_equal(s.scale[2], 1.0)
    np.testing.assert_array_equal(Z[:, 2], 0)
    assert s.transform(X.astype(np.float32)).dtype == np.float32
    with pytest.raises(DataError, match="fitted on 3"):
        s.transform(X[:, :2])


def test_the_scaler_is_frozen():
    s = InputScaler([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="read-only"):
        s.mean[0] = 0.0
    with pytest.raises(AttributeError):
        s.scale = np.ones(2)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("mean", "scale", "message"),
    [
        ([0.0], [0.0], "scale finite and positive"),
        ([0.0], [-1.0], "scale finite and positive"),
        ([np.nan], [1.0], "mean must be finite"),
        ([0.0, 1.0], [1.0], "of one length"),
    ],
)
def test_invalid_scalers_are_refused(mean, scale, message):
    with pytest.raises(DataError, match=message):
        InputScaler(mean, scale)


def test_fold_gives_the_same_first_layer_output_on_raw_inputs():
    rng = np.random.default_rng(3)
    X = rng.normal(10, 50, (20, 3))
    s = InputScaler.fit(X)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    W2, b2 = fold(s, W, b)
    np.testing.assert_allclose(X @ W2 + b2, s.transform(X) @ W + b, rtol=1e-10, atol=1e-10)
    W3, b3 = fold(s, W, None)  # a bias-free layer gains a bias
    np.testing.assert_allclose(X @ W3 + b3, s.transform(X) @ W, rtol=1e-10, atol=1e-10)
    assert fold(None, W, None) == (W, None)


# --- the network applies it -----------------------------------------------------------------


def test_every_entry_point_sees_scaled_inputs():
    X, t = _data()
    net = _net()
    net.input_scaler = s = InputScaler.fit(X)
    bare = _net()  # the same weights, no scaler, fed scaled inputs by hand
    Z = s.transform(X)
    np.testing.assert_array_equal(net.predict(X), bare.predict(Z))
    np.testing.assert_array_equal(net.predict(X[0]), bare.predict(Z[0]))  # one 1-D example
    for a, b in zip(net.forward(X), bare.forward(Z), strict=True):
        np.testing.assert_array_equal(a, b)
    assert net.evaluate(X, t) == bare.evaluate(Z, t)
    (loss, grads), (loss2, grads2) = net.gradients(X, t), bare.gradients(Z, t)
    assert loss == loss2
    np.testing.assert_array_equal(grads[0]["W"], grads2[0]["W"])
    net.fit(X, t, epochs=20, lr=0.1, batch_size=16, seed=1)
    bare.fit(Z, t, epochs=20, lr=0.1, batch_size=16, seed=1)
    np.testing.assert_array_equal(net.params[0]["W"], bare.params[0]["W"])


def test_fit_standardize_learns_on_the_training_rows_after_the_validation_split():
    X, t = _data()
    net = _net()
    net.fit(X, t, epochs=5, lr=0.1, validation=0.25, seed=2, standardize=True)
    order = np.random.default_rng(2).permutation(len(X))  # fit's own split of the rows
    train = np.sort(order[30:])
    np.testing.assert_allclose(net.input_scaler.mean, X[train].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(net.input_scaler.scale, X[train].std(axis=0), rtol=1e-12)
    assert not np.allclose(net.input_scaler.mean, X.mean(axis=0), rtol=1e-9)


def test_given_validation_rows_are_scaled_by_the_fitted_scaler():
    X, t = _data()
    net = _net()
    history = net.fit(X[:90], t[:90], epochs=3, lr=0.1, validation=(X[90:], t[90:]),
                      standardize=True)  # fmt: skip
    assert history.val_loss[-1] == pytest.approx(net.evaluate(X[90:], t[90:]), rel=1e-12)


def test_standardisation_makes_badly_scaled_inputs_learnable():
    X, t = _data(400)
    plain, scaled = _net(), _net()
    plain.fit(X, t, epochs=300, lr=0.05, optimizer="adam", batch_size=32, seed=0)
    scaled.fit(X, t, epochs=300, lr=0.05, optimizer="adam", batch_size=32, seed=0,
               standardize=True)  # fmt: skip
    correct = lambda net: np.mean((net.predict(X)[:, 0] > 0.5) == (t > 0.5))  # noqa: E731
    assert correct(scaled) > 0.9 > correct(plain)


def test_a_stack_shares_one_scaler():
    X, t = _data()
    stack = MLP([2, 4, 1], "tanh", seed=0, stack=3)
    stack.fit(X, t, epochs=3, lr=0.01, standardize=True)
    single = MLP([2, 4, 1], "tanh", seed=1)
    for layer, param in zip(single.params, stack.params, strict=True):
        for name in layer:
            layer[name][...] = param[name][1]
    single.input_scaler = stack.input_scaler
    np.testing.assert_allclose(stack.predict(X)[1], single.predict(X), rtol=1e-12)


def test_the_scaler_is_applied_once_per_call_not_per_epoch(monkeypatch):
    X, t = _data()
    calls = []
    transform = InputScaler.transform
    monkeypatch.setattr(InputScaler, "transform", lambda s, a: calls.append(1) or transform(s, a))
    net = _net()
    net.fit(X, t, epochs=30, lr=0.1, batch_size=8, validation=0.2, standardize=True)
    assert len(calls) == 2  # the training rows and the validation rows, once each
    calls.clear()
    _net().fit(X, t, epochs=30, lr=0.1, batch_size=8)
    assert calls == []  # no scaler: nothing extra at all


def test_standardize_must_be_a_bool():
    X, t = _data()
    with pytest.raises(Exception, match="standardize must be True or False"):
        _net().fit(X, t, epochs=1, standardize="yes")


# --- saved with the model ---------------------------------------------------------------------


@pytest.fixture
def scaled_model(tmp_path: Path) -> tuple[MLP, Path]:
    X, t = _data()
    net = _net(dtype="float32")
    net.fit(X, t, epochs=20, lr=0.1, standardize=True)
    path = tmp_path / "m.st"
    net.save(path)
    return net, path


def test_the_scaler_is_saved_as_float64_tensors_and_applied_after_loading(scaled_model):
    from safetensors.numpy import load_file

    net, path = scaled_model
    tensors = load_file(path)
    assert tensors["input_scaler.mean"].dtype == np.float64
    np.testing.assert_array_equal(tensors["input_scaler.scale"], net.input_scaler.scale)
    loaded = MLP.load(path)
    np.testing.assert_array_equal(loaded.input_scaler.mean, net.input_scaler.mean)
    X, _ = _data()
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert "standardize" not in json.dumps(loaded.training_metadata)


def _rewrite(path: Path, change) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = load_file(path)
    with open(path, "rb") as f:
        (length,) = np.frombuffer(f.read(8), "<u8")
        metadata = json.loads(f.read(int(length)))["__metadata__"]
    change(tensors, metadata)
    save_file(tensors, path, metadata=metadata)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.pop("input_scaler.scale"), "input_scaler.mean without input_scaler.scale"),
        (lambda t: t.update({"input_scaler.mean": np.zeros(3)}), r"shape \(3,\); expected \(2,\)"),
        (lambda t: t.update({"input_scaler.scale": np.array([1.0, np.inf])}), "NaN or infinite"),
        (lambda t: t.update({"input_scaler.scale": np.array([1.0, 0.0])}), "values <= 0"),
    ],
)
def test_a_bad_saved_scaler_is_a_clear_model_file_error(scaled_model, change, message):
    _, path = scaled_model
    _rewrite(path, lambda tensors, _: change(tensors))
    with pytest.raises(ModelFileError, match=rf"m\.st: .*{message}"):
        MLP.load(path)


def _legacy(path: Path, saved) -> None:
    """Turn ``path`` into the earlier format: the scaler as JSON in the training metadata."""

    def change(tensors, metadata):
        del tensors["input_scaler.mean"], tensors["input_scaler.scale"]
        info = json.loads(metadata["mlplab"])
        info["training"]["standardize"] = saved
        metadata["mlplab"] = json.dumps(info)

    _rewrite(path, change)


def test_a_model_saved_with_json_standardisation_is_converted(scaled_model):
    net, path = scaled_model
    s = net.input_scaler
    _legacy(path, {"mean": s.mean.tolist(), "scale": s.scale.tolist()})
    loaded = MLP.load(path)
    np.testing.assert_array_equal(loaded.input_scaler.scale, s.scale)
    assert "standardize" not in loaded.training_metadata
    X, _ = _data()
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    loaded.save(path)  # saved again: tensors now
    from safetensors.numpy import load_file

    assert "input_scaler.mean" in load_file(path)


@pytest.mark.parametrize(
    "bad", [{}, "x", {"mean": [0.0, 0.0], "scale": [1.0, 0.0]}, {"mean": [0.0], "scale": [1.0]}]
)
def test_invalid_json_standardisation_is_a_model_file_error(scaled_model, bad):
    _, path = scaled_model
    _legacy(path, bad)
    with pytest.raises(ModelFileError, match=r"m\.st: "):
        MLP.load(path)


def test_a_checkpoint_keeps_the_scaler(tmp_path: Path):
    from mlplab.io.checkpoints import load_checkpoint, save_checkpoint
    from mlplab.train.optimizers import SGD

    X, t = _data()
    net = _net()
    history = net.fit(X, t, epochs=4, lr=0.1, standardize=True)
    save_checkpoint(tmp_path / "c", net, epoch=4, losses=history.loss, optimizer=SGD(0.1))
    back = load_checkpoint(tmp_path / "c").net
    np.testing.assert_array_equal(back.input_scaler.mean, net.input_scaler.mean)
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


# --- exported with the scaler folded in -------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_numpy_code_folds_the_scaler(bias: bool):
    from mlplab.codegen import TrainSpec, numpy_source

    X, t = _data()
    net = MLP([2, 5, 1], "tanh", bias=bias, seed=0)
    net.fit(X, t, epochs=10, lr=0.01, standardize=True)
    scope: dict = {}
    exec(numpy_source(net), scope)
    np.testing.assert_allclose(scope["predict"](X), net.predict(X), rtol=1e-9, atol=1e-12)
    assert ("b1 = " in numpy_source(net)) and (("b2 = " in numpy_source(net)) == bias)
    with pytest.raises(Exception, match="training program for a network with an input scaler"):
        numpy_source(net, train=TrainSpec(X, t))


def test_folded_params_without_a_scaler_are_the_networks_own():
    net = _net()
    assert folded_params(net)[0]["W"] is net.params[0]["W"]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_export_folds_the_scaler(tmp_path: Path, bias: bool, dtype: str):
    torch = require("torch")
    from mlplab.export import to_torch, torch_snippet, write_torch

    X, t = _data()
    net = MLP([2, 6, 1], "tanh", bias=bias, seed=0, dtype=dtype)
    net.fit(X, t, epochs=10, lr=0.01, standardize=True)
    Xd = X.astype(dtype)
    expected = net.predict(Xd)
    path = tmp_path / "m.safetensors"
    write_torch(net, path)
    scope: dict = {}
    exec(torch_snippet(net, path), scope)
    tol = 1e-9 if dtype == "float64" else 2e-4
    for model in (scope["model"], to_torch(net)):
        with torch.no_grad():
            y = model(torch.from_numpy(Xd)).numpy()
        np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("bias", [True, False])
def test_onnx_export_folds_the_scaler(tmp_path: Path, bias: bool):
    require("onnx")
    ort = require("onnxruntime")
    from mlplab.export import to_onnx

    X, t = _data()
    net = MLP([2, 6, 3], "relu", "softmax", "cross_entropy", bias=bias, seed=0)
    net.fit(X, (t > 0).astype(int), epochs=10, lr=0.01, standardize=True)
    to_onnx(net, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"input": X})
    np.testing.assert_allclose(y, net.predict(X), rtol=1e-9, atol=1e-12)


def test_check_data_scales_unless_asked_not_to():
    X, t = _data()
    net = _net()
    net.input_scaler = s = InputScaler.fit(X)
    np.testing.assert_array_equal(net.check_data(X, t)[0], s.transform(X))
    np.testing.assert_array_equal(net.check_data(X, t, scaled=False)[0], X)


def test_a_scaler_of_the_wrong_width_is_refused_on_save_and_predict(tmp_path: Path):
    from mlplab import ConfigError

    net = _net()
    net.input_scaler = InputScaler([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    with pytest.raises(ConfigError, match="the input scaler has 3 columns; the network takes 2"):
        net.save(tmp_path / "m.st")
    assert not (tmp_path / "m.st").exists()
    with pytest.raises(DataError, match="inputs have 2 columns; the scaler was fitted on 3"):
        net.predict([[1.0, 2.0]])
