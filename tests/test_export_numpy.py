"""The generated NumPy source, run in a subprocess and compared with mlplab to the bit."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlplab import MLP, ConfigError, load_dataset, register_activation
from mlplab.codegen import SUPPORTED_ACTIVATIONS, TrainSpec, numpy_source
from mlplab.nn.activations import ACTIVATIONS

# Runs a generated file as __main__, then saves predict(X) and every W{i}/b{i} it holds.
RUNNER = """
import re, runpy, sys
import numpy as np
ns = runpy.run_path(sys.argv[1], run_name="__main__")
X = np.load(sys.argv[2])
weights = {k: v for k, v in ns.items() if re.fullmatch(r"[Wb][0-9]+", k)}
np.savez(sys.argv[3], predictions=ns["predict"](X), **weights)
"""

CASES = {
    "seed": ([3, 4, 1], {"bias": False, "init": "seed"}),
    "tanh-softmax-ce": (
        [2, 5, 4, 3],
        {"activation": "tanh", "output_activation": "softmax", "loss": "cross_entropy"},
    ),
    "relu-identity-mean": (
        [2, 6, 1],
        {"activation": "relu", "output_activation": "identity", "reduction": "mean"},
    ),
    "leaky-bce": ([2, 5, 1], {"activation": "leaky_relu", "loss": "binary_cross_entropy"}),
    "softplus-float32": ([2, 4, 4, 1], {"activation": "softplus", "dtype": "float32"}),
    "softmax-squared": ([2, 3], {"output_activation": "softmax", "reduction": "mean"}),
    "sigmoid-deep-nobias": ([3, 3, 3, 3, 2], {"bias": False, "init": "glorot"}),
}


def _data(net: MLP) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if n_in == 3 and n_out == 1:
        return load_dataset("xor")
    X = rng.uniform(-1, 1, (7, n_in))
    labels = rng.integers(0, n_out, 7)
    t = np.eye(n_out)[labels] if n_out > 1 else (X[:, :1] * X[:, 1:2] > 0).astype(float)
    return X, t


def _run(source: str, X: np.ndarray, tmp_path: Path) -> tuple[dict[str, np.ndarray], str]:
    program, inputs, out = tmp_path / "generated.py", tmp_path / "X.npy", tmp_path / "out.npz"
    program.write_text(source)
    np.save(inputs, X)
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(program), str(inputs), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with np.load(out, allow_pickle=False) as saved:
        return dict(saved), done.stdout


def _assert_same_weights(net: MLP, saved: dict[str, np.ndarray]) -> None:
    expected = {f"{k}{i}": v for i, p in enumerate(net.params, start=1) for k, v in p.items()}
    assert set(saved) - {"predictions"} == set(expected)
    for name, value in expected.items():
        assert saved[name].dtype == value.dtype, name
        np.testing.assert_array_equal(saved[name], value, err_msg=name)


@pytest.mark.parametrize("case", list(CASES))
def test_predict_file_matches_mlplab_exactly(case: str, tmp_path: Path) -> None:
    sizes, kwargs = CASES[case]
    net = MLP(sizes, seed=3, **kwargs)
    X, t = _data(net)
    net.fit(X, t, epochs=20, lr=0.5)  # weights away from their init
    saved, stdout = _run(numpy_source(net), X, tmp_path)
    assert stdout == ""  # without training the file only defines things
    _assert_same_weights(net, saved)
    np.testing.assert_array_equal(saved["predictions"], net.predict(X))


@pytest.mark.parametrize("case", list(CASES))
def test_training_program_matches_fit_bit_for_bit(case: str, tmp_path: Path) -> None:
    sizes, kwargs = CASES[case]
    net = MLP(sizes, seed=4, **kwargs)
    X, t = _data(net)
    lr = 1.0 if case == "seed" else 0.3
    source = numpy_source(net, train=TrainSpec(X, t, epochs=300, lr=lr))
    net.fit(X, t, epochs=300, lr=lr)
    saved, stdout = _run(source, X, tmp_path)
    _assert_same_weights(net, saved)
    np.testing.assert_array_equal(saved["predictions"], net.predict(X))
    printed = [float(v) for v in re.findall(r"-?\d+\.\d*(?:e[-+]\d+)?", stdout)]
    np.testing.assert_allclose(printed, net.predict(X).ravel(), rtol=1e-6, atol=1e-7)


def test_seed_run_reads_like_the_seed_and_matches_60000_epochs(tmp_path: Path) -> None:
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    source = numpy_source(net, train=TrainSpec(X, t, epochs=60000))
    for line in [
        "for j in range(60000):",
        "h = 1/(1+np.exp(-(np.dot(X, W1))))",
        "y = 1/(1+np.exp(-(np.dot(h, W2))))",
        "y_delta = (y - t) * (y*(1-y))",
        "h_delta = np.dot(y_delta, W2.T) * (h*(1-h))",
        "W2 -= np.dot(h.T, y_delta)",
        "W1 -= np.dot(X.T, h_delta)",
    ]:
        assert line in source
    net.fit(X, t, epochs=60000)
    saved, _ = _run(source, X, tmp_path)
    _assert_same_weights(net, saved)
    assert np.all((saved["predictions"] > 0.5) == (t > 0.5))


def test_generated_file_imports_numpy_only() -> None:
    net = MLP([2, 3, 2], activation="leaky_relu", output_activation="softmax", seed=0)
    X, t = _data(net)
    for source in (numpy_source(net), numpy_source(net, train=TrainSpec(X, t, epochs=3))):
        tree = ast.parse(source)
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        assert [alias.name for node in imports for alias in node.names] == ["numpy"]


def test_every_builtin_activation_is_supported() -> None:
    builtin = {"sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity", "softmax"}
    assert builtin <= set(SUPPORTED_ACTIVATIONS)


def test_refuses_stacks_user_activations_and_bad_specs() -> None:
    with pytest.raises(ConfigError, match="stack"):
        numpy_source(MLP([2, 2, 1], stack=2, seed=0))
    register_activation("cube_cg", lambda z: z**3, lambda z: 3 * z**2, from_output=False)
    try:
        with pytest.raises(ConfigError, match=r"activation 'cube_cg'.*supports: sigmoid"):
            numpy_source(MLP([2, 2, 1], activation="cube_cg", seed=0))
    finally:
        del ACTIVATIONS["cube_cg"]
    net = MLP([3, 4, 1], seed=0)
    X, t = load_dataset("xor")
    with pytest.raises(ConfigError, match="epochs"):
        numpy_source(net, train=TrainSpec(X, t, epochs=-1))
    with pytest.raises(ConfigError, match="learning rate"):
        numpy_source(net, train=TrainSpec(X, t, epochs=1, lr=0.0))
    with pytest.raises(Exception, match="targets have shape"):
        numpy_source(net, train=TrainSpec(X, t[:2], epochs=1))
    net.params[0]["W"][0, 0] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        numpy_source(net)
