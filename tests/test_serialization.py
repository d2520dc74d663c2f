"""Model files: round trip, atomic writes, and clear refusals of anything else."""

import json
import os
import struct

import numpy as np
import pytest

import mlplab
from mlplab.io import models as serialization


@pytest.fixture
def trained(tmp_path):
    X, t = mlplab.load_dataset("xor")
    net = mlplab.MLP([3, 4, 1], bias=True, init="glorot", seed=4, activation="tanh")
    net.fit(X, t, epochs=200, lr=0.5)
    path = tmp_path / "net.safetensors"
    net.save(path)
    return net, path, X


def test_round_trip_keeps_weights_architecture_and_predictions(trained):
    net, path, X = trained
    loaded = mlplab.MLP.load(path)
    assert loaded.config() == net.config()
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    for a, b in zip(loaded.params, net.params, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert loaded.training_metadata == {"epochs": 200, "optimizer": "SGD(lr=0.5)"}


def test_the_file_is_plain_safetensors(trained):
    from safetensors.numpy import load_file

    net, path, _ = trained
    tensors = load_file(path)
    assert set(tensors) == {"layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"}
    np.testing.assert_array_equal(tensors["layers.0.W"], net.params[0]["W"])


def test_a_failed_save_leaves_the_old_file_and_no_temporary(trained, monkeypatch):
    net, path, _ = trained
    before = path.read_bytes()

    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    net.params[0]["W"] += 1
    with pytest.raises(mlplab.ModelFileError, match="disk full; the previous file is intact"):
        net.save(path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


def _rewrite_metadata(path, change):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    info = json.loads(header["__metadata__"]["mlplab"])
    change(info, header)
    header["__metadata__"]["mlplab"] = json.dumps(info)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda p: p.write_bytes(b""), "not a model file"),
        (lambda p: p.write_bytes(b"hello world, not a model"), "not a model file"),
        (lambda p: p.write_bytes(p.read_bytes()[:-7]), "corrupt tensor data|truncated"),
        (lambda p: p.write_bytes(p.read_bytes()[:40]), "truncated"),
        (lambda p: p.write_bytes(struct.pack("<Q", 2**60) + b"{}"), "truncated"),
        (
            lambda p: _rewrite_metadata(p, lambda i, h: i.update(format_version=99)),
            "format version 99.*format version 1",
        ),
        (
            lambda p: _rewrite_metadata(p, lambda i, h: i["config"].update(sizes=[3, 5, 1])),
            "has shape",
        ),
        (
            lambda p: _rewrite_metadata(p, lambda i, h: i["config"].update(activation="nope")),
            "invalid model config.*unknown hidden activation",
        ),
        (lambda p: _rewrite_metadata(p, lambda i, h: i.pop("config")), "no config"),
        (
            lambda p: _rewrite_metadata(p, lambda i, h: h["layers.0.W"].update(dtype="I64")),
            "dtype I64",
        ),
    ],
)
def test_broken_files_are_refused_clearly(trained, corrupt, message):
    _, path, _ = trained
    corrupt(path)
    with pytest.raises(mlplab.ModelFileError, match=message):
        mlplab.MLP.load(path)


def test_missing_file_and_foreign_safetensors(tmp_path):
    from safetensors.numpy import save_file

    with pytest.raises(mlplab.ModelFileError, match="no such file"):
        mlplab.MLP.load(tmp_path / "absent")
    save_file({"x": np.zeros(3)}, tmp_path / "other.safetensors")
    with pytest.raises(mlplab.ModelFileError, match="not an mlplab model"):
        mlplab.MLP.load(tmp_path / "other.safetensors")


def test_nan_weights_are_refused(trained):
    from safetensors import safe_open
    from safetensors.numpy import save_file

    net, path, _ = trained
    net.params[1]["W"][0, 0] = np.nan
    before = path.read_bytes()
    with pytest.raises(mlplab.ModelFileError, match=r"layers\.1\.W contains NaN"):
        serialization.save(net, path)  # one rule: saving refuses what loading would
    assert path.read_bytes() == before
    with safe_open(path, "np") as f:  # a file with a NaN written by other means
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        metadata = f.metadata()
    tensors["layers.1.W"][0, 0] = np.nan
    save_file(tensors, path, metadata=metadata)
    with pytest.raises(mlplab.ModelFileError, match=r"layers\.1\.W contains NaN"):
        mlplab.MLP.load(path)


def test_no_pickle_anywhere():
    import pathlib

    source = pathlib.Path(mlplab.__file__).parent
    for f in source.rglob("*.py"):
        text = f.read_text()
        assert "import pickle" not in text and "allow_pickle=True" not in text, f


def test_saved_files_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        mlplab.MLP([3, 2, 1], seed=0).save(tmp_path / "m.safetensors")
    finally:
        os.umask(mask)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o644


def test_a_stack_keeps_its_networks_widths_and_init_scales(tmp_path):
    X, t = mlplab.load_dataset("xor")
    widths, scales = np.array([2, 4, 3, 4]), np.array([0.5, 1.0, 1.5, 2.0])
    net = mlplab.MLP([3, 4, 1], init="seed", seed=1, stack=4, widths=widths, init_scale=scales)
    net.fit(X, t, epochs=50, lr=0.5)
    path = tmp_path / "stack.safetensors"
    net.save(path)
    loaded = mlplab.MLP.load(path)
    assert loaded.config() == net.config()
    np.testing.assert_array_equal(loaded.widths, widths[:, None])
    np.testing.assert_array_equal(loaded.init_scale, scales)
    for a, b in zip(loaded.masks, net.masks, strict=True):
        np.testing.assert_array_equal(a, b)
    # trained on, the loaded stack keeps its narrow networks narrow, as the original does
    for n in (net, loaded):
        n.fit(X, t, epochs=50, lr=0.5)
    for a, b in zip(loaded.params, net.params, strict=True):
        np.testing.assert_array_equal(a["W"], b["W"])
    W1 = np.asarray(loaded.params[0]["W"])
    W1 = W1 if W1.shape[0] == 4 else np.moveaxis(W1, -1, 0)
    assert not W1[0][:, 2:].any()  # network 0 is 2 wide: units 2 and 3 stay unused


def test_a_file_without_widths_or_init_scale_loads_as_before(tmp_path):
    from safetensors.numpy import save_file

    net = mlplab.MLP([3, 4, 1], init="seed", seed=1, stack=3)
    config = net.config()
    assert "widths" not in config and "init_scale" not in config  # as files always had it
    header = {"format_version": serialization.FORMAT_VERSION, "config": config, "training": {}}
    path = tmp_path / "old.safetensors"
    save_file(serialization.layer_tensors(net), str(path),
              metadata={"mlplab": json.dumps(header)})  # fmt: skip
    loaded = mlplab.MLP.load(path)
    assert loaded.widths is None and loaded.masks is None and loaded.init_scale == 1.0
    np.testing.assert_array_equal(loaded.params[0]["W"], net.params[0]["W"])


def test_bad_widths_in_a_file_are_refused_clearly(tmp_path):
    from safetensors.numpy import save_file

    net = mlplab.MLP([3, 4, 1], init="seed", seed=1, stack=2)
    config = {**net.config(), "widths": [9, 2]}  # wider than the stack's 4
    header = {"format_version": serialization.FORMAT_VERSION, "config": config, "training": {}}
    path = tmp_path / "bad.safetensors"
    save_file(serialization.layer_tensors(net), str(path),
              metadata={"mlplab": json.dumps(header)})  # fmt: skip
    with pytest.raises(mlplab.errors.ModelFileError, match="invalid model config: widths"):
        mlplab.MLP.load(path)
