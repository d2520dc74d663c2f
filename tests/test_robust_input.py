"""Issue 23 §5 and §6: input is refused rather than silently reinterpreted, long values are
echoed cut, and text read from data reaches the terminal escaped.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import numpy as np
import pytest

from mlplab import MLP
from mlplab.checks import printable, shortened
from mlplab.cli import main
from mlplab.errors import ConfigError, DataError

QUICK = ["--epochs", "3"]  # the whole report: what a run shows is what is checked


def _one_line(capsys, code: int, pattern: str) -> str:
    captured = capsys.readouterr()
    assert code != 0, captured.out
    err = captured.err.strip()
    assert "Traceback" not in captured.err and err.count("\n") == 0, captured.err
    assert re.search(pattern, err), err
    return err


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ("341", "got '341'"),
        ([3.7, 4, 1], r"whole numbers, got \[3.7, 4, 1\]"),
        ([3, True, 1], r"whole numbers, got \[3, True, 1\]"),
        ([3, 4.0, 1], "whole numbers"),
        (3, "a list of positive integers"),
    ],
)
def test_layer_sizes_are_whole_numbers_never_reinterpreted(sizes, message):
    with pytest.raises(ConfigError, match=message):
        MLP(sizes)


def test_numpy_integer_sizes_are_still_sizes():
    assert MLP(np.array([3, 4, 1])).sizes == (3, 4, 1)


@pytest.mark.parametrize(
    ("X", "what"),
    [
        (np.zeros((4, 2)) + 1j, "complex numbers"),
        (np.array([["2020-01-01", "2020-01-02"]] * 4, dtype="datetime64[D]"), "dates or times"),
        (np.ones((4, 2), dtype="timedelta64[s]"), "time spans"),
    ],
)
def test_complex_and_datetime_inputs_are_refused(X, what):
    net = MLP([2, 3, 1], seed=0)
    with pytest.raises(DataError, match=f"inputs hold {what}"):
        net.fit(X, np.zeros((4, 1)), epochs=2)
    with pytest.raises(DataError, match=f"inputs hold {what}"):
        net.predict(X)
    with pytest.raises(DataError, match="targets hold complex"):
        net.fit(np.zeros((4, 2)), np.zeros((4, 1)) + 2j, epochs=2)


def test_python_dates_are_not_numbers():
    with pytest.raises(DataError, match="numeric"):
        MLP([2, 3, 1]).predict([[datetime.date(2020, 1, 1), 1.0]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,y\n1_000,0,0\n0,1,1\n", r"line 2, column 'a': '1_000' is not a number"),
        ("a,a,y\n0,0,0\n0,1,1\n", r"names column 'a' twice \(columns 1 and 2\)"),
        ("a,b,y\n\u0661,0,0\n0,1,1\n", r"line 2, column 'a': '\u0661' is not a number"),
        ("a,b,y\n\uff11,0,0\n0,1,1\n", r"line 2, column 'a': '\uff11' is not a number"),
    ],
)
def test_csv_cells_and_headers_are_not_reinterpreted(tmp_path, capsys, text, message):
    data = tmp_path / "d.csv"
    data.write_text(text)
    _one_line(capsys, main(["train", "--data", str(data), "--target", "y", *QUICK]), message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--data", "D", "--target", "y", "--dataset", "moons"],
         r"--dataset does not apply to --data FILE; drop it"),
        (["train", "--target", "y"], r"--target applies only to --data FILE"),
        (["train", "--data", "D", "--target", "y", "--points", "50", "--noise", "0.1"],
         r"--points, --noise do not apply to --data FILE; drop them"),
        (["ensemble", "--nets", "2", "--target", "y"], r"--target applies only to --data"),
        (["sweep", "--nets", "2", "--data", "D", "--target", "y", "--points", "9"],
         r"--points does not apply"),
    ],
)  # fmt: skip
def test_options_that_do_not_apply_together_are_refused(tmp_path, capsys, args, message):
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    args = [str(data) if a == "D" else a for a in args]
    _one_line(capsys, main([*args, *QUICK]), message)


@pytest.mark.parametrize(
    "args",
    [
        ["ensemble", "--nets", "2", "--max-memory", "nan"],
        ["ensemble", "--nets", "2", "--max-memory", "inf"],
        ["sweep", "--nets", "2", "--dask", "tcp://127.0.0.1:1", "--dask-timeout", "1e308"],
        ["sweep", "--nets", "2", "--dask", "tcp://127.0.0.1:1", "--dask-timeout", "nan"],
    ],
)
def test_non_finite_or_unbounded_limits_are_refused(capsys, args):
    assert main([*args, *QUICK]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("finite" in err or "not in the range" in err), err


def test_a_long_value_is_echoed_cut(capsys):
    huge = "x" * 100_000
    assert main(["train", "--hidden", huge, *QUICK]) == 2
    err = capsys.readouterr().err
    assert len(err) < 1000 and "characters cut" in err
    assert main(["train", "--data", "/nonexistent/" + "y" * 100_000, "--target", "y"]) == 1
    err = capsys.readouterr().err
    assert len(err) < 1000 and "characters cut" in err and err.count("\n") == 1


def test_shortened_keeps_both_ends():
    text = "start" + "m" * 5000 + "end"
    cut = shortened(text, 90)
    assert cut.startswith("start") and cut.endswith("end") and "4918 characters cut" in cut
    assert shortened("short") == "short"


def test_a_seed_near_2_to_32_is_reported_as_given(capsys):
    seed = 2**32 - 2
    with pytest.raises(ConfigError, match=rf"seed {seed} with a stack of 3 networks needs seeds "
                                          rf"up to {seed + 2}.*at most {2**32 - 3}"):  # fmt: skip
        MLP([2, 3, 1], stack=3, seed=seed)
    code = main(["ensemble", "--nets", "3", "--seed", str(seed), *QUICK])
    err = _one_line(capsys, code, rf"seed {seed} with a stack of 3")
    assert f"got {2**32}" not in err
    assert MLP([2, 3, 1], stack=3, seed=2**32 - 3).stack == 3


# --- §6: text from data reaching the terminal ---------------------------------------------

HOSTILE = ["\x1b]0;owned\x07", "\x1b[2Jb"]


def test_printable_escapes_control_characters_only():
    assert printable("cat") == "cat" and printable("chat noir é") == "chat noir é"
    assert printable("\x1b[2Jb") == "\\x1b[2Jb"
    assert printable("a\u202eb") == "a\\u202eb"  # a right-to-left override
    assert "\x1b" not in printable(HOSTILE[0]) and "\x07" not in printable(HOSTILE[0])


def test_class_names_from_a_csv_reach_the_terminal_escaped(tmp_path, capsys):
    data = tmp_path / "d.csv"
    rows = [(0, 0, HOSTILE[0]), (0, 1, HOSTILE[1]), (1, 0, HOSTILE[1]), (1, 1, HOSTILE[0])]
    data.write_text("a,b,y\n" + "".join(f'{a},{b},"{y}"\n' for a, b, y in rows))
    model = tmp_path / "m.safetensors"
    assert main(["train", "--data", str(data), "--target", "y", "--save", str(model),
                 *QUICK]) == 0  # fmt: skip
    shown = capsys.readouterr()
    assert "\\x1b]0;owned\\x07" in shown.out
    assert "\x1b" not in shown.out + shown.err and "\x07" not in shown.out + shown.err
    assert main(["predict", str(model), "--input", "0,1"]) == 0
    shown = capsys.readouterr()
    assert "\\x1b" in shown.out and "\x1b" not in shown.out + shown.err
    # the model keeps the names as they were read
    assert MLP.load(model).training_metadata["classes"] == sorted(HOSTILE)


def test_data_text_in_an_error_reaches_the_terminal_escaped(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("a\x1b[2J,y\n0,0\n")
    code = main(["train", "--data", str(data), "--target", "nope", *QUICK])
    err = _one_line(capsys, code, r"no target column")
    assert "\x1b" not in err


def test_empty_data_and_huge_epochs_are_clear_errors():
    net = MLP([2, 3, 1], seed=0)
    with pytest.raises(DataError, match="0 rows"):
        net.fit(np.zeros((0, 2)), np.zeros((0, 1)), epochs=3)
    with pytest.raises(DataError, match="0 rows"):
        net.fit(np.zeros((0, 2)), np.zeros((0, 1)), epochs=3, batch_size=2)


def test_paths_are_unchanged_by_escaping(tmp_path: Path):
    assert printable(str(tmp_path)) == str(tmp_path)
