"""`export --dtype float32|float64`: torch and ONNX files in the precision a runtime wants."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import require

from mlplab import MLP, ConfigError
from mlplab.cli import main
from mlplab.export import EXPORT_DTYPES, to_onnx, to_torch, torch_snippet, write_torch


def spread_net(dtype: str = "float64", **kw) -> MLP:
    net = MLP([3, 6, 5, 2], "softplus", "softmax", "cross_entropy", seed=3, dtype=dtype, **kw)
    rng = np.random.default_rng(0)
    for param in net.params:
        for value in param.values():
            value[...] = rng.normal(0, 1.5, value.shape)
    return net


def inputs(n: int = 32) -> np.ndarray:
    return np.random.default_rng(1).normal(0, 2, (n, 3)).astype(np.float32)


def test_export_dtypes_are_the_two_floats():
    assert EXPORT_DTYPES == ("float32", "float64")


@pytest.mark.parametrize("bias", [True, False])
def test_a_float64_network_as_float32_onnx_runs_on_float32_inputs(tmp_path: Path, bias: bool):
    onnx = require("onnx")
    ort = require("onnxruntime")
    net = spread_net(bias=bias)
    path = tmp_path / "m.onnx"
    to_onnx(net, path, dtype="float32")
    model = onnx.load(path)
    f32 = onnx.TensorProto.FLOAT
    assert model.graph.input[0].type.tensor_type.elem_type == f32
    assert model.graph.output[0].type.tensor_type.elem_type == f32
    assert {init.data_type for init in model.graph.initializer} == {f32}
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    X = inputs()
    (y,) = session.run(None, {"input": X})
    assert y.dtype == np.float32 and y.shape == (32, 2)
    np.testing.assert_allclose(y, net.predict(X.astype(np.float64)), rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception, match=r"(?i)type"):  # float64 inputs are now the wrong type
        session.run(None, {"input": X.astype(np.float64)})


def test_a_float32_network_as_float64_onnx(tmp_path: Path):
    require("onnx")
    ort = require("onnxruntime")
    net = spread_net("float32")
    to_onnx(net, tmp_path / "m.onnx", dtype="float64")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    X = inputs().astype(np.float64)
    (y,) = session.run(None, {"input": X})
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, net.predict(X.astype(np.float32)), rtol=1e-5, atol=1e-6)


def test_the_default_is_the_networks_dtype(tmp_path: Path):
    onnx = require("onnx")
    to_onnx(spread_net("float64"), tmp_path / "a.onnx")
    assert onnx.load(tmp_path / "a.onnx").graph.input[0].type.tensor_type.elem_type == (
        onnx.TensorProto.DOUBLE
    )


def test_torch_files_in_float32(tmp_path: Path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    net = spread_net(bias=True)
    write_torch(net, tmp_path / "m.st", dtype="float32")
    tensors = load_file(tmp_path / "m.st")
    assert {t.dtype for t in tensors.values()} == {np.dtype(np.float32)}
    np.testing.assert_array_equal(tensors["0.weight"], net.params[0]["W"].T.astype(np.float32))
    with safe_open(tmp_path / "m.st", "np") as f:
        assert json.loads(f.metadata()["mlplab"])["dtype"] == "float32"
    assert ").float()" in torch_snippet(net, "m.st", dtype="float32")
    assert ").double()" in torch_snippet(net, "m.st")


def test_to_torch_in_float32_matches_on_float32_inputs():
    torch = require("torch")
    net = spread_net()
    model = to_torch(net, dtype="float32")
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    X = inputs()
    with torch.no_grad():
        y = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(y, net.predict(X.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_a_bad_dtype_is_refused():
    with pytest.raises(
        ConfigError, match="export dtype must be one of float32, float64, got 'f16'"
    ):
        write_torch(spread_net(), "never.st", dtype="f16")


def test_cli_dtype_option(tmp_path: Path, capsys):
    model = tmp_path / "xor.st"
    assert main(["train", "--epochs", "300", "--quiet", "--save", str(model)]) == 0
    capsys.readouterr()
    out = tmp_path / "xor.onnx"
    assert (
        main(["export", str(model), "--format", "onnx", "--dtype", "float32", "--out", str(out)])
        == 0
    )
    assert "ONNX float32, input 'input' (batch, 3)" in capsys.readouterr().out
    ort = require("onnxruntime")
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], np.float32)
    (y,) = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        None, {"input": X}
    )
    np.testing.assert_allclose(y, MLP.load(model).predict(X.astype(np.float64)), rtol=1e-5)
    torch_out = tmp_path / "xor.pt.st"
    assert main(["export", str(model), "--format", "torch", "--dtype", "float32",
                 "--out", str(torch_out)]) == 0  # fmt: skip
    assert ").float()" in capsys.readouterr().out
    assert main(["export", str(model), "--format", "numpy", "--dtype", "float32",
                 "--out", str(tmp_path / "m.py")]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err == "mlplab: error: --dtype applies to --format torch and onnx only\n"
    assert not (tmp_path / "m.py").exists()
    assert main(["export", str(model), "--format", "onnx", "--dtype", "int8", "--out", "x"]) == 2
    assert "'int8' is not one of 'float32', 'float64'" in capsys.readouterr().err
