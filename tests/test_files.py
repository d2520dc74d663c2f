"""Files under abuse: non-regular files, hostile headers, write failures, stale temporaries.

Every reader (model, checkpoint, CSV, NPZ, run record) refuses a FIFO, a device and a
directory at once; safetensors headers are checked before any data is read; every write
failure is one ``MlplabError`` line saying the previous file is intact.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mlplab import MLP, SGD, ConfigError, DataError, MlplabError, ModelFileError
from mlplab.io import files
from mlplab.io.checkpoints import load_checkpoint, save_checkpoint
from mlplab.io.datafiles import MAX_CLASSES, read_csv, read_npz, read_table
from mlplab.io.files import atomic_write_bytes, check_output_path, remove_stale_temporaries
from mlplab.io.npzfile import MAX_EXPANDED_BYTES
from mlplab.io.records import load_record

READERS = {
    "model": (MLP.load, ModelFileError),
    "checkpoint": (load_checkpoint, ModelFileError),
    "csv": (lambda p: read_csv(p, "y"), DataError),
    "npz": (read_npz, DataError),
    "record": (load_record, ConfigError),
}


def _call_within(seconds: float, fn, *args):
    """``fn(*args)`` in a thread; fail (instead of hanging the suite) if it blocks."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as e:  # handed back to the test
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn} blocked for more than {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_fifo_is_refused_at_once_by_every_reader(tmp_path: Path, reader: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    load, error = READERS[reader]
    with pytest.raises(error, match=r"pipe: is a FIFO \(named pipe\), not a"):
        _call_within(10, load, fifo)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_dev_zero_and_a_directory_are_refused_by_every_reader(tmp_path: Path, reader) -> None:
    load, error = READERS[reader]
    tracemalloc.start()
    try:
        with pytest.raises(error, match=r"/dev/zero: is a character device, not a"):
            _call_within(10, load, "/dev/zero")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 1 << 20
    with pytest.raises(error, match="is a directory, not a"):
        load(tmp_path)


def test_dev_zero_as_a_csv_data_file_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    with pytest.raises(DataError, match="is a character device, not a data file"):
        _call_within(10, read_table, link, "y")


# --- safetensors headers ---------------------------------------------------------------------


def _split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join_raw(raw: bytes, rest: bytes) -> bytes:
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + rest


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "m.safetensors"
    MLP([3, 4, 1], bias=False, init="seed", seed=0).save(path)
    return path


@pytest.fixture
def checkpoint_file(tmp_path: Path) -> Path:
    path = tmp_path / "c.ckpt"
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    save_checkpoint(path, net, epoch=0, losses=[], optimizer=SGD(1.0), rng=None)
    return path


def _edit_metadata(path: Path, key: str, edit) -> None:
    header, rest = _split(path.read_bytes())
    text = edit(header["__metadata__"][key])
    header["__metadata__"][key] = text
    path.write_bytes(_join_raw(json.dumps(header).encode(), rest))


BIG_INT = "1" + "0" * 5000  # more digits than Python's int() accepts by default (4300)


def test_a_5000_digit_integer_in_the_safetensors_header_is_a_model_file_error(
    model_file: Path, checkpoint_file: Path
) -> None:
    for path, load in ((model_file, MLP.load), (checkpoint_file, load_checkpoint)):
        header, rest = _split(path.read_bytes())
        raw = json.dumps(header).replace('"data_offsets": [0', f'"data_offsets": [{BIG_INT}', 1)
        path.write_bytes(_join_raw(raw.encode(), rest))
        with pytest.raises(ModelFileError, match=r"header is not JSON \(an integer of 5001"):
            load(path)


def test_a_5000_digit_integer_in_mlplab_metadata_is_a_model_file_error(
    model_file: Path, checkpoint_file: Path
) -> None:
    _edit_metadata(model_file, "mlplab", lambda t: t.replace('"format_version": 1', BIG_INT
                                                             .join(['"format_version": ', ""])))
    with pytest.raises(ModelFileError, match=r"m.safetensors: model metadata is not JSON"):
        MLP.load(model_file)
    _edit_metadata(checkpoint_file, "mlplab_checkpoint", lambda t: t.replace(
        '"epoch": 0', f'"epoch": {BIG_INT}'))
    with pytest.raises(ModelFileError, match=r"c.ckpt: checkpoint metadata is not JSON"):
        load_checkpoint(checkpoint_file)


def test_a_legacy_standardize_of_10_to_the_400_is_a_model_file_error(model_file: Path) -> None:
    def legacy(text: str) -> str:
        info = json.loads(text)
        info["training"]["standardize"] = {"mean": [0, 0, 0], "scale": [1, 1, 1]}
        return json.dumps(info).replace('"mean": [0', f'"mean": [{10**400}')

    _edit_metadata(model_file, "mlplab", legacy)
    with pytest.raises(ModelFileError, match=r"m.safetensors: model metadata is not JSON"):
        MLP.load(model_file)
    _edit_metadata(model_file, "mlplab", lambda t: t.replace(f"{10**400}", "1e400"))
    with pytest.raises(ModelFileError, match=r"input_scaler.mean contains NaN or infinite"):
        MLP.load(model_file)


def test_a_file_larger_than_its_header_accounts_for_is_refused(model_file, checkpoint_file):
    for path, load in ((model_file, MLP.load), (checkpoint_file, load_checkpoint)):
        with open(path, "ab") as f:
            f.write(b"\0" * 100)
        with pytest.raises(ModelFileError, match="100 bytes more than its header accounts for"):
            load(path)


def test_a_sparse_gigabyte_is_refused_from_its_header_without_reading_it(tmp_path) -> None:
    sparse = tmp_path / "sparse.safetensors"
    with open(sparse, "wb") as f:
        f.truncate(1 << 30)
    header = json.dumps({"__metadata__": {}, "t": {"dtype": "F64", "shape": [1 << 27],
                                                    "data_offsets": [0, 1 << 30]}}).encode()
    fake = tmp_path / "claims.safetensors"  # a header that declares exactly the file's bytes
    with open(fake, "wb") as f:
        f.write(_join_raw(header, b""))
        f.truncate(f.tell() + (1 << 30))
    for path, message in ((sparse, "not JSON"), (fake, "not an mlplab model")):
        tracemalloc.start()
        try:
            with pytest.raises(ModelFileError, match=message):
                MLP.load(path)
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert peak < 4 << 20, f"{peak} bytes allocated to refuse {path.name}"


def test_an_empty_tensor_of_impossible_size_is_a_model_file_error(model_file: Path) -> None:
    header, rest = _split(model_file.read_bytes())
    name = next(k for k in header if k != "__metadata__")
    begin = header[name]["data_offsets"][0]
    header[name] = {"dtype": "F64", "shape": [0, 2**62], "data_offsets": [begin, begin]}
    model_file.write_bytes(_join_raw(json.dumps(header).encode(), rest))
    with pytest.raises(ModelFileError, match=r"shape \[0, 4611686018427387904\], more than any"):
        MLP.load(model_file)


def test_unknown_tensors_are_refused_before_the_data_is_read(model_file: Path) -> None:
    header, rest = _split(model_file.read_bytes())
    end = max(e["data_offsets"][1] for k, e in header.items() if k != "__metadata__")
    header["junk"] = {"dtype": "F64", "shape": [4], "data_offsets": [end, end + 32]}
    model_file.write_bytes(_join_raw(json.dumps(header).encode(), rest + bytes(32)))
    with pytest.raises(ModelFileError, match="unexpected tensors in a model file: junk"):
        MLP.load(model_file)


def test_loading_a_large_model_allocates_a_small_multiple_of_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.safetensors"
    MLP([2000, 2400, 2000, 1], seed=0).save(path)  # 77 MB: the file, the net, init scratch
    size = path.stat().st_size
    tracemalloc.start()
    try:
        net = MLP.load(path)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert list(net.sizes) == [2000, 2400, 2000, 1]
    assert peak < 3.5 * size, f"peak {peak / size:.2f} x the file's {size} bytes"


# --- data files --------------------------------------------------------------------------------


def test_an_npz_member_that_is_not_npy_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((2, 2)), y=np.ones(2))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", b"hello")
    with pytest.raises(DataError, match=r"member 'notes.txt' is not a \.npy array"):
        read_npz(path)


def test_a_zip_bomb_npz_is_refused_from_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("y.npy", _npy_bytes(np.ones(2)))
        with archive.open("X.npy", "w", force_zip64=True) as f:
            f.write(_npy_header((MAX_EXPANDED_BYTES // 8, 1)))
            chunk = bytes(1 << 24)
            for _ in range(MAX_EXPANDED_BYTES // len(chunk)):
                f.write(chunk)
    assert path.stat().st_size < 2 << 20  # a few hundred KB that expand past 256 MiB
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"expands to \d+ bytes; a data file may expand"):
            read_npz(path)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 8 << 20


def test_an_npy_header_claiming_more_than_its_member_holds_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", _npy_header((10**9, 4)) + bytes(64))
        archive.writestr("y.npy", _npy_bytes(np.ones(2)))
    with pytest.raises(DataError, match=r"member 'X.npy' declares shape \(1000000000, 4\)"):
        read_npz(path)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def _npy_bytes(a: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, a)
    return buffer.getvalue()


def test_too_many_class_names_are_refused_before_encoding(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("x,y\n" + "".join(f"{i},c{i}\n" for i in range(50_000)))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=f"50000 distinct classes; mlplab trains at most "
                                            f"{MAX_CLASSES}"):
            read_csv(path, "y")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 64 << 20
    npz = tmp_path / "names.npz"
    np.savez(npz, X=np.ones((5000, 1)), y=np.array([f"c{i}" for i in range(5000)]))
    with pytest.raises(DataError, match="5000 distinct classes"):
        read_npz(npz)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"a,b\n\xff,1\n"), "not a UTF-8 text file"),
        (lambda p: p.write_text("a,b\n1,2\n3\n"), "line 3 has 1 cells"),
        (lambda p: p.write_text("a,b\n1,2\n"), r"name the target column .*columns are: a, b"),
    ],
)
def test_a_csv_without_target_reports_the_files_own_problem_first(tmp_path, make, message):
    path = tmp_path / "d.csv"
    make(path)
    with pytest.raises(DataError, match=message):
        read_table(path, None)


# --- writing -----------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> tuple[MLP, Path, bytes]:
    net = MLP([3, 4, 1], seed=0)
    path = tmp_path / "net.st"
    net.save(path)
    return net, path, path.read_bytes()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.EIO])
def test_a_failing_write_is_one_line_and_the_previous_file_is_intact(saved, monkeypatch, code):
    net, path, before = saved

    def fail(fd, data) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.os, "write", fail)
    with pytest.raises(ModelFileError) as info:
        net.save(path)
    monkeypatch.undo()
    message = str(info.value)
    assert message == f"cannot write {path}: {os.strerror(code)}; the previous file is intact"
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


def test_a_write_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "absent" / "x.st"
    with pytest.raises(ModelFileError, match=r"cannot write .*x.st: no folder .*absent; no file"):
        MLP([2, 1]).save(target)
    with pytest.raises(ConfigError, match="no folder"):
        check_output_path(target, what="--save")


def test_a_file_size_limit_is_one_line_efbig(tmp_path: Path) -> None:
    path = tmp_path / "net.st"
    MLP([3, 4, 1], seed=0).save(path)
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import resource
        from mlplab import MLP, ModelFileError
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(
            resource.RLIMIT_FSIZE)[1]))
        try:
            MLP([40, 40, 1], seed=0).save({str(path)!r})
        except ModelFileError as e:
            print(e)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        f"cannot write {path}: {os.strerror(errno.EFBIG)}; the previous file is intact"
    )
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["net.st"]


@contextlib.contextmanager
def _tmpfs(folder: Path, options: str):
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_and_a_read_only_file_system_for_real_when_root(tmp_path, saved) -> None:
    """A 64 KiB tmpfs fills up, a read-only one refuses; as root only (others: monkeypatched)."""
    net, _, _ = saved
    with _tmpfs(tmp_path / "small", "size=64k") as small:
        if small is None:
            pytest.skip("mounting a tmpfs needs root (ENOSPC/EROFS are also tested patched)")
        path = small / "net.st"
        net.save(path)
        before = path.read_bytes()
        with pytest.raises(ModelFileError, match="No space left on device; the previous"):
            MLP([100, 100, 1], seed=0).save(path)
        assert path.read_bytes() == before
        assert os.listdir(small) == ["net.st"]
    with _tmpfs(tmp_path / "ro", "ro,size=64k") as ro:
        with pytest.raises(ModelFileError, match="Read-only file system; no file was written"):
            net.save(ro / "net.st")
        with pytest.raises(ConfigError, match=r"--save .*cannot write in .*Read-only file"):
            check_output_path(ro / "net.st", what="--save")


def test_stale_temporaries_of_a_killed_write_are_cleaned_up_next_time(saved) -> None:
    net, path, _ = saved
    stale = path.parent / f".{path.name}.abcd1234.tmp"
    stale.write_bytes(b"half a model")
    os.utime(stale, (time.time() - 60, time.time() - 60))
    fresh = path.parent / f".{path.name}.wxyz9876.tmp"  # another writer, just now: kept
    fresh.write_bytes(b"being written")
    other = path.parent / ".other.st.abcd1234.tmp"  # another file's temporary: kept
    other.write_bytes(b"x")
    os.utime(other, (time.time() - 60, time.time() - 60))
    net.save(path)
    assert sorted(os.listdir(path.parent)) == sorted([path.name, fresh.name, other.name])


def test_a_locked_temporary_is_a_live_writer_and_is_kept(saved) -> None:
    import fcntl

    _, path, _ = saved
    live = path.parent / f".{path.name}.live0000.tmp"
    live.write_bytes(b"being written")
    os.utime(live, (time.time() - 60, time.time() - 60))
    with open(live, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        assert remove_stale_temporaries(path) == []
    assert remove_stale_temporaries(path) == [live]


def test_a_killed_write_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path) -> None:
    path = tmp_path / "net.st"
    MLP([3, 4, 1], seed=0).save(path)
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import os, signal
        from mlplab import MLP
        from mlplab.io import files
        real = os.write
        def write(fd, data):
            real(fd, bytes(data)[:100])
            os.kill(os.getpid(), signal.SIGKILL)
        files.os.write = write
        MLP([30, 30, 1], seed=0).save({str(path)!r})
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=60)
    assert done.returncode == -9
    assert path.read_bytes() == before
    (temporary,) = [n for n in os.listdir(tmp_path) if n != "net.st"]
    assert temporary.startswith(".net.st.") and temporary.endswith(".tmp")
    old = time.time() - 60
    os.utime(tmp_path / temporary, (old, old))
    MLP([3, 4, 1], seed=1).save(path)
    assert os.listdir(tmp_path) == ["net.st"]


def test_check_output_path_refuses_a_directory_and_passes_a_writable_folder(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"--plot .*: is a directory; expected a file name"):
        check_output_path(tmp_path, what="--plot")
    check_output_path(tmp_path / "fine.png")
    assert os.listdir(tmp_path) == []  # the probe leaves nothing behind


def test_write_errors_are_mlplab_errors_of_the_callers_kind(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no folder"):
        atomic_write_bytes(tmp_path / "no" / "x", b"1", error=DataError)
    with pytest.raises(MlplabError, match="is a directory"):
        atomic_write_bytes(tmp_path, b"1")


@pytest.mark.parametrize("dtype", [["F64"], {"a": 1}, None, 3])
def test_a_dtype_that_is_not_a_name_is_a_model_file_error(model_file: Path, dtype) -> None:
    header, rest = _split(model_file.read_bytes())
    header["layers.0.W"]["dtype"] = dtype
    model_file.write_bytes(_join_raw(json.dumps(header).encode(), rest))
    with pytest.raises(ModelFileError, match=r"tensor layers\.0\.W has dtype .*; expected F32"):
        MLP.load(model_file)
