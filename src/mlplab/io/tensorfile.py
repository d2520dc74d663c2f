"""Reading safetensors files with the header checked first and only what it declares read.

``TensorFile(path, ...)`` opens a regular file, reads the 8-byte length and the JSON header,
and checks the layout: every tensor F32 or F64 with a shape of non-negative integers and
``data_offsets`` that tile the data exactly (no gap, no overlap), and a file exactly as
large as the header accounts for. The caller looks at ``metadata`` and ``shapes`` (to refuse
a file that is not its kind before reading any tensor data), then calls ``read()``, which
reads the declared bytes into one buffer and returns NumPy views of it. Every problem is
the caller's error class, naming the file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from math import prod
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from mlplab.errors import MlplabError, ModelFileError
from mlplab.io.files import open_regular, parse_json, read_exact

__all__ = ["DTYPES", "MAX_DIMS", "MAX_HEADER_BYTES", "TensorFile", "TensorSpec"]

MAX_HEADER_BYTES = 1 << 20  # a header larger than 1 MiB is not one of ours
MAX_DIMS = 32
# sizes past this make no array, even empty ones: NumPy refuses (0, 2**62) float64s
MAX_TENSOR_BYTES = 2**48
DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


@dataclass(frozen=True)
class TensorSpec:
    """One tensor as the header declares it: dtype, shape and byte range in the data."""

    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


class TensorFile:
    """An open safetensors file whose header has been read and checked (see the module)."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int,
        error: type[MlplabError] = ModelFileError,
        what: str = "model file",
    ) -> None:
        self.source, self.error, self.what = str(path), error, what
        self._file = open_regular(path, error, what)
        try:
            self._read_header(max_bytes)
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> TensorFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._file.close()

    def fail(self, message: str) -> MlplabError:
        """The caller's error for this file: ``"{file}: {message}"``."""
        return self.error(f"{self.source}: {message}")

    def _read_header(self, max_bytes: int) -> None:
        size = os.fstat(self._file.fileno()).st_size
        if size > max_bytes:
            raise self.fail(f"{size} bytes; a {self.what} may have at most {max_bytes}")
        if size < 8:
            raise self.fail(f"not a {self.what} (only {size} bytes)")
        (length,) = struct.unpack("<Q", read_exact(self._file, 8, self.source, self.error))
        if length > MAX_HEADER_BYTES or 8 + length > size:
            raise self.fail(
                f"not a {self.what}, or truncated (header claims {length} bytes, "
                f"file has {size})"
            )
        raw = read_exact(self._file, length, self.source, self.error, self.what)
        header = parse_json(raw, self.source, self.error, "header")
        if not isinstance(header, dict):
            raise self.fail(f"not a {self.what} (header is not a JSON object)")
        meta = header.pop("__metadata__", None) or {}
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise self.fail("header __metadata__ is not an object of strings")
        self.metadata: dict[str, str] = meta
        self.shapes: dict[str, TensorSpec] = {
            name: self._spec(name, entry) for name, entry in header.items()
        }
        self._size = _check_tiling(self, self.shapes.values())
        held = size - 8 - length
        if held < self._size:
            raise self.fail(
                f"truncated: the header declares {self._size} bytes of tensors, "
                f"the file holds {held}"
            )
        if held > self._size:
            raise self.fail(
                f"{held - self._size} bytes more than its header accounts for; "
                f"not a {self.what} as mlplab writes them"
            )

    def _spec(self, name: str, entry: Any) -> TensorSpec:
        if not isinstance(entry, dict):
            raise self.fail(f"tensor {name} is not described by a JSON object")
        dtype = entry.get("dtype")
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise self.fail(f"tensor {name} has dtype {dtype}; expected F32 or F64")
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if not _ints(shape) or len(shape) > MAX_DIMS or not all(0 <= s < 2**63 for s in shape):
            raise self.fail(
                f"tensor {name} has no valid shape (at most {MAX_DIMS} sizes, each >= 0)"
            )
        if not _ints(offsets) or len(offsets) != 2 or not 0 <= offsets[0] <= offsets[1]:
            raise self.fail(f"tensor {name} has no valid data_offsets [begin, end]")
        if prod(max(size, 1) for size in shape) * DTYPES[dtype].itemsize > MAX_TENSOR_BYTES:
            raise self.fail(f"tensor {name} has shape {shape}, more than any array can hold")
        spec = TensorSpec(DTYPES[dtype], tuple(shape), offsets[0], offsets[1])
        nbytes = prod(spec.shape) * spec.dtype.itemsize
        if nbytes != spec.end - spec.begin:
            raise self.fail(
                f"corrupt tensor data: tensor {name} of shape {spec.shape} needs {nbytes} "
                f"bytes; its data_offsets span {spec.end - spec.begin}"
            )
        return spec

    def read(self) -> dict[str, np.ndarray]:
        """Every tensor, read from one buffer of exactly the declared size."""
        buffer = read_exact(self._file, self._size, self.source, self.error, self.what)
        return {
            name: np.frombuffer(
                buffer, spec.dtype, prod(spec.shape), offset=spec.begin
            ).reshape(spec.shape)
            for name, spec in self.shapes.items()
        }


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )


def _check_tiling(file: TensorFile, specs: Iterable[TensorSpec]) -> int:
    """The data's size, if the tensors' byte ranges tile it with no gap and no overlap."""
    end = 0
    for spec in sorted(specs, key=lambda s: (s.begin, s.end)):
        if spec.begin != end:
            raise file.fail(
                f"corrupt tensor data: tensor offsets leave a gap or overlap at byte {end}"
            )
        end = spec.end
    return end
