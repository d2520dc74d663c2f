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
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import DataError

Array = np.ndarray

__all__ = ["DATA_SUFFIXES", "Table", "read_csv", "read_frame", "read_npz", "read_table"]

DATA_SUFFIXES = (".csv", ".npz")
MAX_BYTES = 1 << 31


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


def _class_indices(names: list[str]) -> tuple[Array, tuple[str, ...]]:
    """Each name's index in the sorted distinct names, and those names."""
    classes, y = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    return y.astype(float), tuple(str(c) for c in classes)


def _read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DataError(f"{path}: larger than {MAX_BYTES} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a data file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror}") from None


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return float("nan") if not cell.strip() else None  # type: ignore[return-value]


def read_csv(path: str | Path, target: str) -> Table:
    """Read a CSV file with a header row; ``target`` names the target column."""
    path = Path(path)
    try:
        text = _read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not a UTF-8 text file (byte {e.start})") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise DataError(f"{path}: not a readable CSV file: {e}") from None
    lines = [(i + 1, row) for i, row in enumerate(rows) if row]  # skip blank lines
    if not lines:
        raise DataError(f"{path}: empty file; expected a header row and data rows")
    header = [name.strip() for name in lines[0][1]]
    if target not in header:
        raise DataError(
            f"{path}: no target column {target!r}; the columns are: {', '.join(header)}"
        )
    if len(lines) < 2:
        raise DataError(f"{path}: a header but no data rows")
    width = len(header)
    j = header.index(target)
    names = _target_names(path, lines[1:], j, target)
    values = np.empty((len(lines) - 1, width))
    for r, (line, row) in enumerate(lines[1:]):
        if len(row) != width:
            raise DataError(
                f"{path}: line {line} has {len(row)} cells; the header has {width} columns"
            )
        for c, cell in enumerate(row):
            if c == j and names is not None:
                continue
            v = _number(cell)
            if v is None:
                raise DataError(
                    f"{path}: line {line}, column {header[c]!r}: {cell!r} is not a number"
                )
            if not np.isfinite(v):
                what = "is empty" if not cell.strip() else f"is {cell.strip()!r}"
                raise DataError(
                    f"{path}: line {line}, column {header[c]!r} {what}; expected a finite number"
                )
            values[r, c] = v
    features = tuple(name for c, name in enumerate(header) if c != j)
    if not features:
        raise DataError(f"{path}: only the target column {target!r}; no input columns")
    if names is None:
        return Table(np.delete(values, j, axis=1), values[:, j].copy(), features, target)
    y, classes = _class_indices(names)
    return Table(np.delete(values, j, axis=1), y, features, target, classes)


def _target_names(
    path: Path, rows: list[tuple[int, list[str]]], j: int, target: str
) -> list[str] | None:
    """The target column's cells as class names if any is not a number, else ``None``."""
    cells = [(line, row[j].strip()) for line, row in rows if len(row) > j]
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
    data = _read_bytes(path)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: not a readable .npz file: {e}") from None
    except Exception as e:  # numpy's zip reader can raise almost anything on garbage
        raise DataError(f"{path}: not a readable .npz file: {type(e).__name__}: {e}") from None
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
        y, classes = _class_indices([str(v).strip() for v in y.astype(str)])
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
    return _class_indices([cell.strip() for cell in cells])


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
        if not target:
            raise DataError(f"{path}: name the target column of a CSV file (--target COLUMN)")
        return read_csv(path, target)
    if suffix == ".npz":
        return read_npz(path, target or "y")
    raise DataError(
        f"{path}: unknown kind of data file; expected one of: {', '.join(DATA_SUFFIXES)}"
    )
