"""Export to PyTorch, ONNX and NumPy, and import from PyTorch, compared with mlplab's outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require

from mlplab import MLP, ConfigError, register_activation
from mlplab.cli import main
from mlplab.export import (
    SUPPORTED_ACTIVATIONS,
    from_torch,
    to_onnx,
    to_torch,
    torch_snippet,
    write_torch,
)
from mlplab.nn.activations import ACTIVATIONS, hidden_activation_names

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"]
OUTPUTS = ["sigmoid", "identity", "softmax"]
# every hidden activation, each output activation, both dtypes, with and without bias
CASES = [
    (hidden, OUTPUTS[i % 3], dtype, i % 2 == 0)
    for i, hidden in enumerate(HIDDEN)
    for dtype in ("float64", "float32")
]
# float64 to 1e-6 as promised; float32 carries ~1e-7 relative error per operation, so it is
# compared to 1e-5 of the largest output
TOLERANCE = {"float64": 1e-6, "float32": 1e-5}


def _net(hidden: str, output: str, dtype: str, bias: bool) -> MLP:
    loss = "cross_entropy" if output == "softmax" else "squared_error"
    net = MLP([3, 5, 4, 2], hidden, output, loss=loss, bias=bias, seed=7, dtype=dtype)
    rng = np.random.default_rng(0)
    for param in net.params:  # spread the weights and biases so every activation bends
        for value in param.values():
            value[...] = rng.normal(0, 1.5, value.shape)
    return net


def _inputs(dtype: str, n: int = 64) -> np.ndarray:
    return np.random.default_rng(1).normal(0, 2, (n, 3)).astype(dtype)


def test_supported_activations_are_every_builtin() -> None:
    assert set(SUPPORTED_ACTIVATIONS) == set(hidden_activation_names()) | {"softmax"}
    assert set(HIDDEN) | set(OUTPUTS) == set(SUPPORTED_ACTIVATIONS)


def test_one_table_of_exportable_activations_serves_every_format() -> None:
    from mlplab import codegen
    from mlplab.export import _common

    assert codegen.SUPPORTED_ACTIVATIONS is SUPPORTED_ACTIVATIONS
    assert tuple(_common.EXPORTABLE) == SUPPORTED_ACTIVATIONS
    for name, forms in _common.EXPORTABLE.items():
        assert "{z}" in forms.numpy, name
        assert forms.torch[0].startswith("nn."), name


def test_torch_file_has_sequential_names_and_layouts(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    net = _net("tanh", "sigmoid", "float64", True)
    write_torch(net, tmp_path / "m.safetensors")
    tensors = load_file(tmp_path / "m.safetensors")
    assert sorted(tensors) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    for i, param in enumerate(net.params):
        assert tensors[f"{2 * i}.weight"].shape == param["W"].shape[::-1]  # (out, in)
        np.testing.assert_array_equal(tensors[f"{2 * i}.weight"], param["W"].T)
        np.testing.assert_array_equal(tensors[f"{2 * i}.bias"], param["b"])
    no_bias = _net("relu", "identity", "float32", False)
    write_torch(no_bias, tmp_path / "nb.safetensors")
    assert sorted(load_file(tmp_path / "nb.safetensors")) == ["0.weight", "2.weight", "4.weight"]
    snippet = torch_snippet(no_bias, "nb.safetensors")
    assert "nn.Linear(3, 5, bias=False)" in snippet and ").float()" in snippet


@pytest.mark.parametrize(("hidden", "output", "dtype", "bias"), CASES)
def test_torch_matches_mlplab(hidden: str, output: str, dtype: str, bias: bool, tmp_path: Path):
    torch = require("torch")
    net = _net(hidden, output, dtype, bias)
    X = _inputs(dtype)
    expected = net.predict(X)
    path = tmp_path / "model.safetensors"
    write_torch(net, path)
    scope: dict = {}
    exec(torch_snippet(net, path), scope)  # the printed snippet, run as a user would
    direct = to_torch(net)
    for model in (scope["model"], direct):
        with torch.no_grad():
            y = model(torch.from_numpy(X)).numpy()
        assert y.dtype == expected.dtype
        scale = 1.0 if dtype == "float64" else max(1.0, float(np.abs(expected).max()))
        tol = TOLERANCE[dtype]
        np.testing.assert_allclose(y, expected, rtol=tol, atol=tol * scale)
    back = MLP.from_torch(direct)
    assert back.config()["sizes"] == list(net.sizes) and back.bias == bias
    assert (back.activation.name, back.output_activation.name) == (hidden, output)
    for p, q in zip(back.params, net.params, strict=True):
        for name in q:
            np.testing.assert_array_equal(p[name], q[name])


def test_from_torch_takes_a_sequential_built_in_torch() -> None:
    torch = require("torch")
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))
    net = from_torch(model.double())
    assert net.output_activation.name == "identity" and net.loss.name == "squared_error"
    X = _inputs("float64")[:, :2]
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-12, atol=1e-12)
    softmax = from_torch(nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1)))
    assert softmax.loss.name == "cross_entropy" and softmax.dtype == np.float32


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda nn: nn.Linear(2, 3), "takes a torch.nn.Sequential, got Linear"),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Dropout()), r"entry 1 \(Dropout.*expected"),
        (lambda nn: nn.Sequential(nn.Conv1d(1, 1, 1)), "entry 0 .*expected nn.Linear"),
        (lambda nn: nn.Sequential(nn.ReLU(), nn.Linear(2, 1)), "does not follow a Linear"),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Tanh(), nn.Linear(3, 1)),
            "entry 2 .*does not follow a Linear",
        ),
        (
            lambda nn: nn.Sequential(
                nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1)
            ),
            "different activations",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1, bias=False)),
            "some Linear layers have a bias",
        ),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), "gives 3 features"),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2)), "slope 0.2"),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)), "dim=-1"),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Softplus(beta=2)), "beta"),
        (lambda nn: nn.Sequential(), "no Linear"),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.ReLU()), "output activation 'relu'"),
        (
            lambda nn: nn.Sequential(nn.Linear(2, 3).double(), nn.Linear(3, 1)),
            "must all be float32 or all float64",
        ),
    ],
)
def test_from_torch_refuses_anything_else(build, message: str) -> None:
    require("torch")
    from torch import nn

    with pytest.raises(ConfigError, match=message):
        MLP.from_torch(build(nn))


def test_export_refuses_user_activations_and_stacks(tmp_path: Path) -> None:
    register_activation("cube_ex", lambda z: z**3, lambda z: 3 * z**2, from_output=False)
    try:
        net = MLP([2, 3, 1], activation="cube_ex", seed=0)
        for export in (
            lambda: write_torch(net, tmp_path / "a"),
            lambda: to_onnx(net, tmp_path / "b"),
            lambda: torch_snippet(net, "x"),
        ):
            with pytest.raises(ConfigError, match=r"'cube_ex'.*user-registered.*supported: sigm"):
                export()
    finally:
        del ACTIVATIONS["cube_ex"]
    with pytest.raises(ConfigError, match="stack of 3 networks"):
        write_torch(MLP([2, 3, 1], stack=3, seed=0), tmp_path / "s")
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize(("hidden", "output", "dtype", "bias"), CASES)
def test_onnx_matches_mlplab(hidden: str, output: str, dtype: str, bias: bool, tmp_path: Path):
    onnx = require("onnx")
    ort = require("onnxruntime")
    net = _net(hidden, output, dtype, bias)
    path = tmp_path / "model.onnx"
    to_onnx(net, path)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert [o.name for o in session.get_outputs()] == ["output"]
    for n in (1, 64):  # the batch axis is dynamic
        X = _inputs(dtype, n)
        (y,) = session.run(None, {"input": X})
        assert y.dtype == np.dtype(dtype) and y.shape == (n, 2)
        np.testing.assert_allclose(y, net.predict(X), rtol=1e-5, atol=1e-5)


def test_onnx_softplus_is_finite_far_out(tmp_path: Path) -> None:
    require("onnx")
    ort = require("onnxruntime")
    net = MLP([1, 1, 1], "softplus", "identity", bias=False, seed=0)
    net.params[0]["W"][...] = 1.0
    net.params[1]["W"][...] = 1.0
    to_onnx(net, tmp_path / "sp.onnx")
    session = ort.InferenceSession(str(tmp_path / "sp.onnx"), providers=["CPUExecutionProvider"])
    X = np.array([[-800.0], [-30.0], [0.0], [30.0], [800.0]])
    (y,) = session.run(None, {"input": X})
    np.testing.assert_allclose(y, np.logaddexp(0, X), rtol=1e-12, atol=1e-15)


# --- the command --------------------------------------------------------------------------


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "xor.safetensors"
    assert main(["train", "--epochs", "500", "--quiet", "--save", str(path)]) == 0
    return path


def test_cli_export_torch_prints_a_working_snippet(model_file: Path, tmp_path: Path, capsys):
    capsys.readouterr()
    out = tmp_path / "xor.torch.safetensors"
    assert main(["export", str(model_file), "--format", "torch", "--out", str(out)]) == 0
    snippet = capsys.readouterr().out
    assert "nn.Linear(3, 4, bias=False)" in snippet and str(out) in snippet
    torch = require("torch")
    scope: dict = {}
    exec(snippet, scope)
    net = MLP.load(model_file)
    X = np.eye(3)
    with torch.no_grad():
        np.testing.assert_allclose(scope["model"](torch.from_numpy(X)).numpy(), net.predict(X))


def test_cli_export_numpy_and_onnx(model_file: Path, tmp_path: Path, capsys) -> None:
    net = MLP.load(model_file)
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    py = tmp_path / "xor_model.py"
    assert main(["export", str(model_file), "--format", "numpy", "--out", str(py)]) == 0
    code = f"import json; from xor_model import predict; print(json.dumps(predict({X.tolist()})"
    code += ".tolist()))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    np.testing.assert_array_equal(np.array(json.loads(done.stdout)), net.predict(X))
    onnx_path = tmp_path / "xor.onnx"
    assert main(["export", str(model_file), "--format", "onnx", "--out", str(onnx_path)]) == 0
    assert "input 'input' (batch, 3)" in capsys.readouterr().out
    ort = require("onnxruntime")
    (y,) = ort.InferenceSession(str(onnx_path)).run(None, {"input": X})
    np.testing.assert_allclose(y, net.predict(X), rtol=1e-5, atol=1e-5)


def test_cli_export_errors_are_one_line(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.safetensors"
    assert main(["export", str(missing), "--format", "onnx", "--out", "x.onnx"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mlplab: error:") and "no such file" in err
    assert main(["export", str(missing), "--format", "keras", "--out", "x"]) == 2
    assert "'keras' is not one of 'torch', 'onnx', 'numpy'" in capsys.readouterr().err


def test_real_command_and_lazy_imports(model_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.py"
    done = subprocess.run(
        [sys.executable, "-m", "mlplab", "export", str(model_file), "--format", "numpy",
         "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith('"""A 3-4-1 sigmoid/sigmoid network')
    code = (
        "import sys, mlplab, mlplab.export, mlplab.cli.export\n"
        "heavy = {'torch', 'onnx', 'onnxruntime'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_torch_file_metadata_describes_the_layers_it_holds(tmp_path: Path) -> None:
    """A folded scaler gives a bias-free network's first Linear a bias; the metadata says so."""
    import json

    from safetensors import safe_open

    from mlplab.nn.scaling import InputScaler

    net = _net("tanh", "sigmoid", "float64", False)
    net.input_scaler = InputScaler(np.arange(3.0), np.full(3, 2.0))
    write_torch(net, tmp_path / "m.safetensors")
    with safe_open(tmp_path / "m.safetensors", framework="numpy") as f:
        described = json.loads(f.metadata()["mlplab"])
        names = set(f.keys())
    assert described["input_scaler_folded"] is True
    assert [layer["bias"] for layer in described["linear_layers"]] == [True, False, False]
    assert "0.bias" in names and "2.bias" not in names
    assert described["config"]["bias"] is False  # the mlplab network it was made from


def test_a_poisson_network_is_refused_for_export_naming_why(tmp_path):
    net = MLP([2, 3, 1], output_activation="exp", loss="poisson", seed=0)
    with pytest.raises(ConfigError, match=r"'exp' to onnx \(onnx export has no counterpart"):
        to_onnx(net, tmp_path / "p.onnx")
