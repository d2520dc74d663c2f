"""Reading users' CSV and NPZ files, and the errors that point at the bad cell."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import require
from hypothesis import given, settings
from hypothesis import strategies as st

from mlplab import MLP, DataError, load_dataset
from mlplab.io.datafiles import read_csv, read_frame, read_npz, read_table


def _write(tmp_path, text: str, name: str = "d.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_header_target_anywhere_blank_lines_and_bom(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffa, label ,b\n1,0,2.5\n\n3,1,-4e-1\n".encode())
    table = read_csv(path, "label")
    np.testing.assert_array_equal(table.X, [[1, 2.5], [3, -0.4]])
    np.testing.assert_array_equal(table.y, [0, 1])
    assert table.features == ("a", "b")
    assert table.target == "label"


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("a,b\n1,2\n", "c", r"no target column 'c'; the columns are: a, b"),
        ("a,b\n1,2\n3\n", "b", r"line 3 has 1 cells; the header has 2 columns"),
        ("a,b\n1,2\n3,4,5\n", "b", r"line 3 has 3 cells"),
        ("a,b\n1,2\nx,4\n", "b", r"line 3, column 'a': 'x' is not a number"),
        ("a,b\n1,\n", "b", r"line 2, column 'b' is empty; expected a finite number"),
        ("a,b\nnan,1\n", "b", r"line 2, column 'a' is 'nan'"),
        ("a,b\n1,inf\n", "b", r"line 2, column 'b' is 'inf'"),
        ("", "b", r"empty file"),
        ("a,b\n", "b", r"a header but no data rows"),
        ("b\n1\n", "b", r"no input columns"),
    ],
)
def test_bad_csv_files_name_the_file_line_and_column(tmp_path, text, target, message):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=message) as info:
        read_csv(path, target)
    assert str(path) in str(info.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_csv(tmp_path / "missing.csv", "y")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        read_csv(binary, "b")
    with pytest.raises(DataError, match="is a directory"):
        read_csv(tmp_path, "b")
    with pytest.raises(DataError, match=r"unknown kind of data file; expected one of: .csv, .npz"):
        read_table(tmp_path / "d.parquet", "y")
    with pytest.raises(DataError, match="--target"):
        read_table(_write(tmp_path, "a,b\n1,2\n"), None)


def test_npz_inputs_and_targets(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(6.0).reshape(3, 2), y=np.array([0, 1, 0]))
    table = read_table(path)
    np.testing.assert_array_equal(table.X, [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(table.y, [0, 1, 0])
    np.savez(path, features=np.ones(3), label=np.zeros(3))  # one other array, 1-D
    assert read_npz(path, "label").X.shape == (3, 1)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.ones((2, 2))}, r"no target array 'y'; the arrays are: X"),
        ({"a": np.ones((2, 2)), "b": np.ones((2, 2)), "y": np.ones(2)}, "name it 'X'"),
        ({"X": np.ones((3, 2)), "y": np.ones(2)}, "3 input rows but 2 targets"),
        ({"X": np.array([[1.0, 2.0], [3.0, np.nan]]), "y": np.ones(2)}, "'X', row 1, column 1"),
        ({"X": np.array([["a", "b"]]), "y": np.ones(1)}, "expected numbers"),
        ({"X": np.ones((2, 2, 2)), "y": np.ones(2)}, r"expected \(n, features\) and \(n,\)"),
    ],
)
def test_bad_npz_files(tmp_path, arrays, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        read_npz(path)


def test_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.array([{"a": 1}], dtype=object), y=np.ones(1))
    with pytest.raises(DataError, match=r"not a readable \.npz file"):
        read_npz(path)


VALID_CSV = b"x1,x2,label\n0.5,-1,0\n1e3,2.25,1\n3,4,2\n"


def _valid_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, X=np.arange(6.0).reshape(3, 2), y=np.array([0.0, 1.0, 0.0]))
    return buffer.getvalue()


VALID_NPZ = _valid_npz()


def _mutations(valid: bytes):
    """Random bytes, or the valid file truncated, with bytes flipped, inserted or cut."""
    edits = st.lists(
        st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255), st.sampled_from("fic")),
        max_size=6,
    )

    def apply(args):
        cut, changes = args
        data = bytearray(valid[:cut])
        for at, byte, kind in changes:
            at = at % (len(data) + 1)
            if kind == "i":
                data.insert(at, byte)
            elif data:
                at %= len(data)
                if kind == "f":
                    data[at] ^= byte or 1
                else:
                    del data[at]
        return bytes(data)

    mutated = st.tuples(st.integers(0, len(valid)), edits).map(apply)
    return st.one_of(st.binary(max_size=200), mutated)


def _ends_in_data_error(path, data: bytes, reader) -> None:
    path.write_bytes(data)
    try:
        reader(path)
    except DataError as e:
        assert str(path) in str(e)  # every message names the file


@settings(max_examples=2000, deadline=None, database=None)
@given(data=_mutations(VALID_CSV))
def test_csv_reader_on_random_and_mutated_bytes(tmp_path_factory, data):
    path = tmp_path_factory.getbasetemp() / "fuzz.csv"
    _ends_in_data_error(path, data, lambda p: read_csv(p, "label"))


@settings(max_examples=2000, deadline=None, database=None)
@given(data=_mutations(VALID_NPZ))
def test_npz_reader_on_random_and_mutated_bytes(tmp_path_factory, data):
    path = tmp_path_factory.getbasetemp() / "fuzz.npz"
    _ends_in_data_error(path, data, read_npz)


def test_data_frames_train_directly_and_as_tables():
    pd = require("pandas")
    X, T = load_dataset("moons", n=60, seed=0)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "label": T[:, 0].astype(int)})
    table = read_frame(frame, "label")
    assert table.features == ("a", "b")
    np.testing.assert_array_equal(table.X, X)
    net = MLP([2, 8, 1], "tanh", "sigmoid", "binary_cross_entropy", "mean", init="glorot", seed=0)
    history = net.fit(frame[["a", "b"]], frame["label"], epochs=5, lr=0.5, batch_size=20)
    assert history.accuracy.shape == (5,)
    frame.loc[3, "b"] = np.nan
    with pytest.raises(DataError, match=r"data frame: row 3, column 'b' is not a finite number"):
        read_frame(frame, "label")
    with pytest.raises(DataError, match=r"no target column 'y'; the columns are: a, b, label"):
        read_frame(frame, "y")
    frame["c"] = "text"
    with pytest.raises(DataError, match=r"column 'c' holds str"):
        read_frame(frame.fillna(0), "label")


def test_zip_of_garbage_is_a_data_error(tmp_path):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("X.npy", b"\x93NUMPY garbage")
        archive.writestr("y.npy", b"nothing")
    path = tmp_path / "d.npz"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(DataError, match=r"not a readable \.npz file"):
        read_npz(path)


# --- class names in the target column ----------------------------------------------------


def test_csv_class_names_become_sorted_indices(tmp_path):
    text = "length,species,width\n1,versicolor,2\n3, setosa ,4\n5,virginica,6\n7,setosa,8\n"
    table = read_csv(_write(tmp_path, text), "species")
    assert table.classes == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(table.y, [1, 0, 2, 0])
    np.testing.assert_array_equal(table.X, [[1, 2], [3, 4], [5, 6], [7, 8]])
    numeric = read_csv(_write(tmp_path, "a,b\n1,0\n2,1\n"), "b")
    assert numeric.classes is None
    mixed = read_csv(_write(tmp_path, "a,b\n1,0\n2,cat\n"), "b")  # one name: all are names
    assert mixed.classes == ("0", "cat")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,cat\n2,\n", r"line 3, column 'b' is empty; expected a class name"),
        ("a,b\nx,cat\n", r"line 2, column 'a': 'x' is not a number"),  # inputs stay numbers
        ("a,b\n1,cat\n2,dog,3\n", r"line 3 has 3 cells; the header has 2 columns"),
    ],
)
def test_bad_cells_beside_class_names_name_the_file_line_and_column(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=message) as info:
        read_csv(path, "b")
    assert str(path) in str(info.value)


def test_npz_and_data_frame_class_names(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(6.0).reshape(3, 2), y=np.array(["b", "a", "b"]))
    table = read_npz(path)
    assert table.classes == ("a", "b")
    np.testing.assert_array_equal(table.y, [1, 0, 1])
    pd = require("pandas")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "kind": ["dog", "cat", "dog"]})
    table = read_frame(frame, "kind")
    assert table.classes == ("cat", "dog") and table.features == ("x",)
    np.testing.assert_array_equal(table.y, [1, 0, 1])
    frame.loc[1, "kind"] = None
    with pytest.raises(DataError, match=r"row 1, column 'kind' holds \w+; expected a class name"):
        read_frame(frame, "kind")
    frame = pd.DataFrame({"x": ["a", "b"], "kind": ["dog", "cat"]})
    with pytest.raises(DataError, match=r"column 'x' holds str values; expected numbers"):
        read_frame(frame, "kind")
