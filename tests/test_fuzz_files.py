"""Property tests: mutated model and checkpoint files end in ``ModelFileError``, nothing else.

Each reader (``MLP.load``, ``load_checkpoint``) gets 2000 mutations of valid
files: truncations, flipped bytes, lying header lengths, edited headers (dtypes,
shapes, offsets, dropped tensors, metadata fields replaced by arbitrary JSON or
huge numbers), splices and random bytes. Every case must either load or raise
``ModelFileError`` naming the file, and its peak Python/NumPy allocation
(tracemalloc) must stay within what the file could justify.
"""

from __future__ import annotations

import json
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplab import MLP, SGD, ModelFileError, load_dataset
from mlplab.io.checkpoints import load_checkpoint, save_checkpoint

EXAMPLES = 1000  # per valid file: two files per reader, so 2000 cases per reader
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# the most a load may allocate: a generous multiple of the file's size, plus a fixed allowance
ALLOWANCE = 2 << 20


class Momentumish:
    """An optimizer with float arrays and an integer step, to fill a checkpoint's state."""

    def __init__(self, params) -> None:
        self.v = [np.full_like(p, 0.25) for p in params]
        self.t = 17

    def state_dict(self) -> dict[str, np.ndarray]:
        return {**{f"velocity.{i}": v for i, v in enumerate(self.v)}, "step": np.array(self.t)}

    def load_state_dict(self, state, params) -> None: ...

    def step(self, params, grads) -> None: ...


def _valid_files(folder: Path) -> dict[str, bytes]:
    X, t = load_dataset("xor")
    seed_net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    history = seed_net.fit(X, t, epochs=30)
    seed_net.save(folder / "model")
    wide = MLP([2, 5, 3], "tanh", "softmax", loss="cross_entropy", dtype="float32", seed=1)
    wide.save(folder / "model32", metadata={"note": "float32 with bias"})
    params = [v for p in seed_net.params for v in p.values()]
    save_checkpoint(
        folder / "ckpt",
        seed_net,
        epoch=30,
        losses=history.loss,
        optimizer=Momentumish(params),
        rng=np.random.default_rng(3),
        run={"command": "train", "config": {"epochs": 60}},
    )
    save_checkpoint(folder / "ckpt_sgd", wide, epoch=0, losses=[], optimizer=SGD(0.5))
    return {name: (folder / name).read_bytes() for name in ("model", "model32", "ckpt", "ckpt_sgd")}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def valid(folder: Path) -> dict[str, bytes]:
    return _valid_files(folder)


# --- mutations ------------------------------------------------------------------------------

HUGE = st.sampled_from([2**31, 2**32 + 1, 2**40, 2**62, 2**63 - 1, 2**64 - 1, 10**30, -1, 0])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | HUGE | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
DTYPES = st.sampled_from(["F32", "F64", "F16", "BF16", "I64", "I32", "U8", "BOOL", "F8_E4M3", ""])
SHAPES = st.lists(st.integers(0, 6) | HUGE, max_size=4)
OFFSETS = st.lists(st.integers(0, 400) | HUGE, max_size=3)
MODEL_FIELDS = ["format_version", "config", "training"] + [
    f"config.{k}"
    for k in ("sizes", "activation", "output_activation", "loss", "dtype", "stack", "bias",
              "init", "seed", "reduction", "extra")
]  # fmt: skip
CHECKPOINT_FIELDS = ["epoch", "optimizer", "optimizer.name", "optimizer.scalars", "run", "rng",
                     "optimizer.scalars.step", "rng.bit_generator", "rng.state",
                     "rng.state.state"]  # fmt: skip
SIZES = st.lists(st.integers(1, 5) | HUGE | st.integers(1, 100_000), min_size=0, max_size=6)


def _split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header: dict, rest: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + rest


def _set_path(obj: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for key in parents:
        child = obj.get(key)
        if not isinstance(child, dict):
            child = obj[key] = {}
        obj = child
    obj[last] = value


@st.composite
def header_edits(draw, data: bytes, key: str) -> bytes:
    header, rest = _split(data)
    names = [k for k in header if k != "__metadata__"]
    meta = json.loads(header["__metadata__"][key])
    fields = MODEL_FIELDS + (CHECKPOINT_FIELDS if key == "mlplab_checkpoint" else [])
    raw = False
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["dtype", "shape", "offsets", "drop", "entry", "meta",
                                     "meta", "meta", "sizes", "raw", "rest"]))  # fmt: skip
        name = draw(st.sampled_from(names)) if names else None
        if kind == "dtype" and isinstance(header.get(name), dict):
            header[name]["dtype"] = draw(DTYPES | st.text(max_size=4))
        elif kind == "shape" and isinstance(header.get(name), dict):
            header[name]["shape"] = draw(SHAPES)
        elif kind == "offsets" and isinstance(header.get(name), dict):
            header[name]["data_offsets"] = draw(OFFSETS)
        elif kind == "drop" and name in header:
            del header[name]
        elif kind == "entry":
            header[draw(st.sampled_from([*names, "layers.9.W", "history.loss", "x"]))] = draw(
                JSON_VALUES
            )
        elif kind == "meta":
            _set_path(meta, draw(st.sampled_from(fields)), draw(JSON_VALUES))
        elif kind == "sizes":
            _set_path(meta, "config.sizes", draw(SIZES))
            if draw(st.booleans()):
                _set_path(meta, "config.stack", draw(st.none() | HUGE | st.integers(1, 4)))
        elif kind == "raw":
            header["__metadata__"][key] = draw(st.text(max_size=30))
            raw = True
        else:
            rest = rest[: draw(st.integers(0, len(rest)))] + draw(st.binary(max_size=16))
    if not raw:
        header["__metadata__"][key] = json.dumps(meta)
    return _join(header, rest)


def mutations(data: bytes, key: str) -> st.SearchStrategy[bytes]:
    n = len(data)
    flip = st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 255)), min_size=1, max_size=8)
    return st.one_of(
        st.integers(0, n - 1).map(lambda k: data[:k]),
        flip.map(lambda flips: _flip(data, flips)),
        (st.integers(0, n + 64) | HUGE.filter(lambda v: 0 <= v < 2**64)).map(
            lambda length: struct.pack("<Q", length) + data[8:]
        ),
        header_edits(data, key),
        header_edits(data, key),
        header_edits(data, key),
        header_edits(data, key),
        header_edits(data, key),
        header_edits(data, key),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=64)).map(
            lambda cut: data[: cut[0]] + cut[1] + data[cut[0] :]
        ),
        st.binary(max_size=256),
        st.binary(max_size=64).map(lambda tail: data[:8] + tail),
    )


def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for index, mask in flips:
        out[index] ^= mask
    return bytes(out)


def _check(load, path: Path, data: bytes) -> None:
    """Load ``data`` from ``path``: it loads or raises ModelFileError, within the allowance."""
    path.write_bytes(data)
    tracemalloc.start()
    try:
        load(path)
    except ModelFileError as e:
        assert str(e).startswith(str(path)), e  # names the file, then says what is wrong
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak <= 64 * len(data) + ALLOWANCE, f"{peak} bytes allocated for a {len(data)}-byte file"


# --- the properties -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["model", "model32"])
def test_mutated_model_files_raise_model_file_error_only(valid, folder, name) -> None:
    data = valid[name]
    assert MLP.load(folder / name)  # the unmutated file loads

    @FUZZ
    @given(mutations(data, "mlplab"))
    def run(mutated: bytes) -> None:
        _check(MLP.load, folder / f"fuzzed-{name}", mutated)

    run()


@pytest.mark.parametrize("name", ["ckpt", "ckpt_sgd"])
def test_mutated_checkpoints_raise_model_file_error_only(valid, folder, name) -> None:
    data = valid[name]
    assert load_checkpoint(folder / name).net  # the unmutated file loads

    @FUZZ
    @given(mutations(data, "mlplab_checkpoint"))
    def run(mutated: bytes) -> None:
        _check(load_checkpoint, folder / f"fuzzed-{name}", mutated)

    run()


def test_a_config_claiming_a_huge_network_is_refused_before_allocating(valid, folder) -> None:
    for sizes, stack in [([30_000, 30_000, 1], None), ([3, 4, 1], 10**9), ([2] * 5000, None)]:
        header, rest = _split(valid["model"])
        meta = json.loads(header["__metadata__"]["mlplab"])
        meta["config"].update(sizes=sizes, stack=stack)
        header["__metadata__"]["mlplab"] = json.dumps(meta)
        data = _join(header, rest)
        _check(MLP.load, folder / "huge", data)
        with pytest.raises(ModelFileError, match=r"needs .* weights, but the file holds|layers"):
            MLP.load(folder / "huge")


def test_deeply_nested_json_is_refused(folder) -> None:
    for raw in (b"[" * 200_000, b'{"a":' * 200_000):
        raw += b" " * (-len(raw) % 8)
        (folder / "nested").write_bytes(struct.pack("<Q", len(raw)) + raw)
        with pytest.raises(ModelFileError, match="not JSON"):
            MLP.load(folder / "nested")
        with pytest.raises(ModelFileError, match="not JSON"):
            load_checkpoint(folder / "nested")


# --- run records (JSON) ---------------------------------------------------------------------

RECORD_FIELDS = ["mlplab_record", "run", "run.command", "run.holdout", "run.config", "every",
                 "loss_checksums", "weights_sha256", "epochs"] + [
    f"run.config.{k}"
    for k in ("dataset", "hidden", "activation", "seed", "epochs", "lr", "bias", "dtype", "x")
]  # fmt: skip


@st.composite
def record_mutations(draw, text: str) -> bytes:
    record = json.loads(text)
    kind = draw(st.sampled_from(["field", "field", "field", "block", "truncate", "bytes"]))
    if kind == "field":
        _set_path(record, draw(st.sampled_from(RECORD_FIELDS)), draw(JSON_VALUES))
    elif kind == "block":
        blocks = record["loss_checksums"]
        blocks[draw(st.integers(0, len(blocks) - 1))] = draw(JSON_VALUES)
    elif kind == "truncate":
        return text.encode()[: draw(st.integers(0, len(text) - 1))]
    else:
        return draw(st.binary(max_size=200))
    return json.dumps(record).encode()


def test_mutated_run_records_raise_config_error_only(folder: Path) -> None:
    from mlplab import ConfigError
    from mlplab.cli.replay import _settings
    from mlplab.io.records import load_record, make_record, write_record

    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    losses = net.fit(X, t, epochs=40).loss
    run = {"command": "train", "config": {"hidden": [4], "epochs": 40}, "holdout": None}
    write_record(folder / "record.json", make_record(run, losses, net, every=10))
    text = (folder / "record.json").read_text()
    assert _settings(load_record(folder / "record.json")["run"], "r")[0].epochs == 40

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(record_mutations(text))
    def check(mutated: bytes) -> None:
        path = folder / "fuzzed-record.json"
        path.write_bytes(mutated)
        try:
            _settings(load_record(path)["run"], str(path))
        except ConfigError as e:
            assert str(e).startswith(str(path)), e

    check()
