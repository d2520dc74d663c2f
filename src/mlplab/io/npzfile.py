"""The arrays of an ``.npz`` file, with what it may expand to bounded before expanding it.

An ``.npz`` is a zip archive of ``.npy`` members. Before any member is decompressed, the
sizes the archive declares must add up to at most ``MAX_EXPANDED_BYTES`` (a zip bomb is
refused from its directory); each member must be a ``.npy`` array whose own header
declares no more data than the member holds and no Python objects. Python's zip reader
never returns more than a member's declared size, so nothing expands beyond the bound.
"""

from __future__ import annotations

import io
import zipfile
from math import prod
from pathlib import Path
from typing import IO

import numpy as np

from mlplab.errors import DataError

__all__ = ["MAX_EXPANDED_BYTES", "MAX_MEMBERS", "read_npz_arrays"]

MAX_EXPANDED_BYTES = 1 << 28  # 256 MiB of arrays: 32 million float64 values
MAX_MEMBERS = 64

_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def read_npz_arrays(path: Path, data: bytes | bytearray) -> dict[str, np.ndarray]:
    """Every array in the ``.npz`` bytes ``data`` of ``path``, by name; ``DataError`` otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz file: {e}") from None
    with archive:
        members = archive.infolist()
        _check_directory(path, members)
        return {info.filename[: -len(".npy")]: _member(path, archive, info) for info in members}


def _check_directory(path: Path, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_MEMBERS:
        raise DataError(f"{path}: {len(members)} arrays; a data file may hold {MAX_MEMBERS}")
    for info in members:
        if not info.filename.endswith(".npy"):
            raise DataError(
                f"{path}: not a readable .npz file: member {info.filename!r} is not a .npy "
                "array"
            )
    expanded = sum(info.file_size for info in members)
    if expanded > MAX_EXPANDED_BYTES:
        raise DataError(
            f"{path}: expands to {expanded} bytes; a data file may expand to at most "
            f"{MAX_EXPANDED_BYTES} (is it a zip bomb?)"
        )


def _member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One member's array, its ``.npy`` header checked against the member's size first."""
    name = info.filename
    try:
        with archive.open(info) as f:
            _check_npy_header(path, name, f, info.file_size)
        with archive.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except DataError:
        raise
    except Exception as e:  # zip and npy readers raise almost anything on garbage
        raise DataError(
            f"{path}: not a readable .npz file: member {name!r}: {type(e).__name__}: {e}"
        ) from None


def _check_npy_header(path: Path, name: str, f: IO[bytes], size: int) -> None:
    version = np.lib.format.read_magic(f)
    reader = _HEADER_READERS.get(version)
    if reader is None:
        raise DataError(
            f"{path}: not a readable .npz file: member {name!r} is .npy format {version}; "
            "expected 1.0 or 2.0"
        )
    shape, _, dtype = reader(f)
    if dtype.hasobject:
        raise DataError(
            f"{path}: not a readable .npz file: member {name!r} holds Python objects "
            "(pickles are never loaded)"
        )
    need = prod(shape) * dtype.itemsize
    if need > size:
        raise DataError(
            f"{path}: not a readable .npz file: member {name!r} declares shape {shape} "
            f"({need} bytes) but holds {size} bytes"
        )
