"""Users' own data: CSV and NPZ files read into ``(X, t)``, with errors that say where.

A CSV file has a header row naming its columns; one of them is the target, the
others are the inputs. Every input cell must be a finite number. The target column
holds numbers, or class names (any cell that is not a number makes the column one of
names): the sorted distinct names become class indices 0, 1, ... and are kept in
``Table.classes`` so a model can report them. An NPZ file holds
the inputs as ``X`` (or as the one array that is not the target) and the
targets under the target's name (``y`` by default). A pandas ``DataFrame`` goes
through ``read_frame``, or straight into ``MLP.fit``. Anything else raises a
``DataError`` naming the file and, where it applies, the line and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import DataError
from mlplab.io.files import read_bytes
from mlplab.io.npzfile import read_npz_arrays

Array = np.ndarray

__all__ = [
    "DATA_SUFFIXES",
    "MAX_CLASSES",
    "MAX_ONE_HOT_BYTES",
    "Table",
    "check_classes",
    "csv_columns",
    "read_csv",
    "read_frame",
    "read_npz",
    "read_table",
]

DATA_SUFFIXES = (".csv", ".npz")
MAX_BYTES = 1 << 31
MAX_CLASSES = 1000  # distinct class names a target column may hold
MAX_ONE_HOT_BYTES = 1 << 30  # the one-hot targets (rows x classes float64) may take at most this


@dataclass(frozen=True)
class Table:
    """Inputs ``X`` ``(n, features)``, targets ``y`` ``(n,)``, and the column names.

    ``classes`` holds the target's class names when it held names rather than
    numbers; ``y`` is then each row's index into ``classes``.
    """

    X: Array
    y: Array
    features: tuple[str, ...]
    target: str
    classes: tuple[str, ...] | None = None


def check_classes(rows: int, classes: int, source: str, column: str = "target") -> None:
    """Refuse, before encoding, more classes than ``MAX_CLASSES`` or one-hot targets too large."""
    if classes > MAX_CLASSES:
        raise DataError(
            f"{source}: column {column!r} holds {classes} distinct classes; mlplab trains at "
            f"most {MAX_CLASSES} (is {column!r} the class column?)"
        )
    if rows * classes * 8 > MAX_ONE_HOT_BYTES:
        raise DataError(
            f"{source}: {rows} rows of {classes} classes need {rows * classes * 8} bytes of "
            f"one-hot targets; at most {MAX_ONE_HOT_BYTES}"
        )


def _class_indices(names: list[str], source: str, column: str) -> tuple[Array, tuple[str, ...]]:
    """Each name's index in the sorted distinct names, and those names (bounded in number)."""
    distinct = sorted(set(names))
    check_classes(len(names), len(distinct), source, column)
    index = {name: i for i, name in enumerate(distinct)}
    return np.array([index[n] for n in names], dtype=float), tuple(distinct)


def _read_text(path: Path) -> str:
    data = read_bytes(path, MAX_BYTES, DataError, "data file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not a UTF-8 text file (byte {e.start})") from None


def _number(cell: str) -> float:
    """A cell as a number, ``nan`` when blank, ``None`` when not a number. What Python's
    ``float`` takes but a CSV reader would not call one number is not: ``1_000``, and
    digits of other scripts (``١٢``, full-width ``１``)."""
    if "_" in cell or not cell.isascii():  # 1_000, or digits of other scripts (١٢)
        return None  # type: ignore[return-value]
    try:
        return float(cell)
    except ValueError:
        return float("nan") if not cell.strip() else None  # type: ignore[return-value]


def _rows(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """The CSV's non-blank rows with their line numbers (parsed lazily, never all at once)."""
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            if row:
                yield i + 1, row
    except csv.Error as e:
        raise DataError(f"{path}: not a readable CSV file: {e}") from None


def _csv_shape(path: Path, text: str) -> tuple[list[str], int]:
    """The header's column names and the number of data rows, every row's width checked."""
    rows = _rows(path, text)
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: empty file; expected a header row and data rows")
    header = [name.strip() for name in first[1]]
    _check_header(path, header)
    count = 0
    for line, row in rows:
        if len(row) != len(header):
            raise DataError(
                f"{path}: line {line} has {len(row)} cells; the header has {len(header)} columns"
            )
        count += 1
    if not count:
        raise DataError(f"{path}: a header but no data rows")
    return header, count


def csv_columns(path: str | Path) -> list[str]:
    """The column names of a CSV file's header (the file's shape checked as ``read_csv`` does)."""
    return _csv_shape(Path(path), _read_text(Path(path)))[0]


def _check_header(path: Path, header: list[str]) -> None:
    """Refuse a column name given twice: which of the two would be the target or an input?"""
    seen: dict[str, int] = {}
    for c, name in enumerate(header, start=1):
        if name in seen:
            raise DataError(
                f"{path}: the header names column {name!r} twice (columns {seen[name]} and "
                f"{c}); give each column its own name"
            )
        seen[name] = c


def read_csv(path: str | Path, target: str | None) -> Table:
    """Read a CSV file with a header row; ``target`` names the target column.

    The file's own problems (missing, not UTF-8, empty, ragged) are reported first; then a
    missing or unknown ``target`` with the columns there are.
    """
    path = Path(path)
    text = _read_text(path)
    header, count = _csv_shape(path, text)
    if not target:
        raise DataError(
            f"{path}: name the target column of a CSV file (--target COLUMN); "
            f"the columns are: {', '.join(header)}"
        )
    if target not in header:
        raise DataError(
            f"{path}: no target column {target!r}; the columns are: {', '.join(header)}"
        )
    width, j = len(header), header.index(target)
    if width == 1:
        raise DataError(f"{path}: only the target column {target!r}; no input columns")
    names = _target_names(path, _data_rows(path, text), j, target)
    values = np.empty((count, width))
    for r, (line, row) in enumerate(_data_rows(path, text)):
        for c, cell in enumerate(row):
            if c == j and names is not None:
                continue
            values[r, c] = _cell(path, line, header[c], cell)
    features = tuple(name for c, name in enumerate(header) if c != j)
    if names is None:
        return Table(np.delete(values, j, axis=1), values[:, j].copy(), features, target)
    y, classes = _class_indices(names, str(path), target)
    return Table(np.delete(values, j, axis=1), y, features, target, classes)


def _data_rows(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    rows = _rows(path, text)
    next(rows)  # the header
    return rows


def _cell(path: Path, line: int, column: str, cell: str) -> float:
    """An input cell as a finite number, or a ``DataError`` naming line and column."""
    v = _number(cell)
    if v is None:
        raise DataError(f"{path}: line {line}, column {column!r}: {cell!r} is not a number")
    if not np.isfinite(v):
        what = "is empty" if not cell.strip() else f"is {cell.strip()!r}"
        raise DataError(f"{path}: line {line}, column {column!r} {what}; expected a finite number")
    return v


def _target_names(
    path: Path, rows: Iterator[tuple[int, list[str]]], j: int, target: str
) -> list[str] | None:
    """The target column's cells as class names if any is not a number, else ``None``."""
    cells = [(line, row[j].strip()) for line, row in rows]
    if all(not cell or _number(cell) is not None for _, cell in cells):
        return None
    for line, cell in cells:
        if not cell:
            raise DataError(
                f"{path}: line {line}, column {target!r} is empty; expected a class name"
            )
    return [cell for _, cell in cells]


def read_npz(path: str | Path, target: str = "y") -> Table:
    """Read an ``.npz`` file with inputs ``X`` (or one other array) and targets ``target``."""
    path = Path(path)
    arrays = read_npz_arrays(path, read_bytes(path, MAX_BYTES, DataError, "data file"))
    if target not in arrays:
        raise DataError(
            f"{path}: no target array {target!r}; the arrays are: {', '.join(arrays) or 'none'}"
        )
    others = [name for name in arrays if name != target]
    name = "X" if "X" in others else (others[0] if len(others) == 1 else None)
    if name is None:
        raise DataError(
            f"{path}: cannot tell which array holds the inputs: name it 'X' "
            f"(arrays: {', '.join(arrays)})"
        )
    X, y = arrays[name], arrays[target]
    classes = None
    if y.dtype.kind in "US" and y.ndim == 1 and len(y):
        y, classes = _class_indices([str(v).strip() for v in y.astype(str)], str(path), target)
    for label, a in ((name, X), (target, y)):
        if a.dtype.kind not in "biuf":
            raise DataError(f"{path}: array {label!r} has dtype {a.dtype}; expected numbers")
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or y.ndim != 1:
        raise DataError(
            f"{path}: inputs {name!r} have shape {X.shape} and targets {target!r} {y.shape}; "
            "expected (n, features) and (n,)"
        )
    if len(X) != len(y) or len(y) == 0:
        raise DataError(f"{path}: {len(X)} input rows but {len(y)} targets")
    for label, a in ((name, X), (target, y)):
        bad = np.argwhere(~np.isfinite(a.astype(float)))
        if len(bad):
            where = ", column ".join(str(int(i)) for i in bad[0])
            raise DataError(f"{path}: array {label!r}, row {where} is not a finite number")
    features = tuple(f"{name}[{i}]" for i in range(X.shape[1]))
    return Table(X.astype(float), y.astype(float), features, target, classes)


def read_frame(frame: Any, target: str, source: str = "data frame") -> Table:
    """A pandas ``DataFrame``'s numeric columns as a ``Table`` (pandas is not imported here)."""
    columns = [str(c) for c in frame.columns]
    if target not in columns:
        raise DataError(
            f"{source}: no target column {target!r}; the columns are: {', '.join(columns)}"
        )
    j = columns.index(target)
    y, classes = _frame_target(frame, frame.columns[j], target, source)
    values = []
    for name, column in zip(columns, frame.columns, strict=True):
        if name == target:
            values.append(y)
            continue
        try:
            values.append(np.asarray(frame[column], dtype=float))
        except (TypeError, ValueError):
            kind = type(frame[column].iloc[0]).__name__ if len(frame) else "?"
            raise DataError(
                f"{source}: column {name!r} holds {kind} values; expected numbers"
            ) from None
    table = np.column_stack(values) if values else np.empty((0, 0))
    bad = np.argwhere(~np.isfinite(table))
    if len(bad):
        row, col = bad[0]
        raise DataError(
            f"{source}: row {frame.index[row]}, column {columns[col]!r} is not a finite number"
        )
    features = tuple(name for c, name in enumerate(columns) if c != j)
    return Table(np.delete(table, j, axis=1), table[:, j].copy(), features, target, classes)


def _frame_target(
    frame: Any, column: Any, target: str, source: str
) -> tuple[Array, tuple[str, ...] | None]:
    """A data frame's target column as numbers, or as class indices if it holds names."""
    series = frame[column]
    try:
        return np.asarray(series, dtype=float), None
    except (TypeError, ValueError):
        pass
    cells = list(series)
    names = any(isinstance(c, str) for c in cells)
    for row, cell in zip(frame.index, cells, strict=True):
        if not (_is_name(cell) if names else _is_number(cell)):
            expected = "a class name" if names else "a number"
            raise DataError(
                f"{source}: row {row}, column {target!r} holds {cell!r}; expected {expected}"
            )
    if not names:
        raise DataError(f"{source}: column {target!r} holds values that are not plain numbers")
    return _class_indices([cell.strip() for cell in cells], source, target)


def _is_name(cell: Any) -> bool:
    return isinstance(cell, str) and bool(cell.strip())


def _is_number(cell: Any) -> bool:
    try:
        return bool(np.isfinite(float(cell)))
    except (TypeError, ValueError):
        return False


def read_table(path: str | Path, target: str | None = None) -> Table:
    """Read a ``.csv`` (``target`` required) or ``.npz`` (``target`` default ``y``) file."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return read_csv(path, target)
    if suffix == ".npz":
        return read_npz(path, target or "y")
    raise DataError(
        f"{path}: unknown kind of data file; expected one of: {', '.join(DATA_SUFFIXES)}"
    )
