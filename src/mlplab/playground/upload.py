"""A user's own 2-D points, uploaded as CSV text: ``x1,x2,label`` per row.

An optional header row is allowed. Labels are class numbers 0, 1, ... for
classification (at most ``MAX_CLASSES``) or any numbers for regression. Every
problem is refused with a ``DataError`` naming the row and column.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from mlplab.errors import DataError

__all__ = ["MAX_CLASSES", "check_classes", "parse_points"]

MAX_CLASSES = 8
MAX_COORD = 1e6


def parse_points(
    text: str, *, max_points: int, classification: bool, name: str = "the file"
) -> tuple[np.ndarray, np.ndarray]:
    """``(points (n, 2), labels (n,))`` from CSV text, or a ``DataError`` saying what is wrong."""
    if "\x00" in text or "\ufffd" in text:
        raise DataError(
            f"{name}: not a text CSV file (it holds binary data); expected rows of x1,x2,label"
        )
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    except csv.Error as e:
        raise DataError(f"{name}: not a CSV file of x1,x2,label rows ({e})") from None
    if rows and not _numeric(rows[0][0]):
        rows = rows[1:]  # a header
    if len(rows) < 4:
        raise DataError(f"{name}: needs at least 4 rows of x1,x2,label; found {len(rows)}")
    if len(rows) > max_points:
        raise DataError(f"{name}: {len(rows)} rows; the limit is {max_points}")
    values = np.empty((len(rows), 3))
    for i, row in enumerate(rows, start=1):
        if len(row) != 3:
            raise DataError(f"{name}: row {i} has {len(row)} columns; expected 3 (x1,x2,label)")
        for j, (cell, column) in enumerate(zip(row, ("x1", "x2", "label"), strict=True)):
            try:
                v = float(cell)
            except ValueError:
                where = f"{name}: row {i}, column {column}"
                raise DataError(f"{where}: {cell!r} is not a number") from None
            if not math.isfinite(v) or abs(v) > MAX_COORD:
                raise DataError(
                    f"{name}: row {i}, column {column}: {cell!r} is not a finite number "
                    f"within +-{MAX_COORD:g}"
                )
            values[i - 1, j] = v
    points, labels = values[:, :2], values[:, 2]
    if classification:
        check_classes(labels, name)
    return points, labels


def check_classes(labels: np.ndarray, name: str = "the file") -> int:
    """The number of classes in ``labels``, or a ``DataError`` if they are not class numbers."""
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels >= MAX_CLASSES))
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{name}: row {i + 1}, column label: {labels[i]:g} is not a class number "
            f"0 to {MAX_CLASSES - 1} (switch to regression for other numbers)"
        )
    if np.unique(labels).size < 2:
        raise DataError(f"{name}: every row has the same label; need at least 2 classes")
    return int(labels.max()) + 1


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
