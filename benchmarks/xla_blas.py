"""The wide epoch's large products done by BLAS inside the compiled program, against XLA's own.

Issue 24's 784-256-10 SGD epoch (``epoch_speed.py``) is about 49 GFLOP of matrix products. On
this 2-core machine NumPy's OpenBLAS runs the batch's products faster than XLA does on two
threads, so one design for the JAX engine is to hand XLA's two large products (``x @ W1`` and
``x.T @ delta1``) to BLAS. This script builds that design and times it:

* an XLA FFI handler (XLA's typed C API, ``xla/ffi/api/c_api.h``), compiled by numba, that
  reads the operands' shapes from XLA's call frame and calls ``sgemm``/``dgemm`` through
  ``scipy.linalg.cython_blas`` (the same route jaxlib takes for its LAPACK kernels);
* the same epoch as one compiled program (a ``scan`` over the batches: the batch gather,
  forward, softmax and cross-entropy, backward, the SGD step) with XLA's products, with the
  BLAS handler's, and with a stand-in that fills the large products' place without
  computing them (what the rest of the epoch costs), interleaved, median of several, wall
  and CPU seconds each;
* the rates that bound the epoch: NumPy's (OpenBLAS) ``sgemm`` at the batch's shape and at
  2048 x 2048 x 2048, in GFLOP/s.

    OPENBLAS_NUM_THREADS=2 python benchmarks/xla_blas.py [--repeats 7]

Needs JAX, numba and SciPy; a missing one is named and the script stops.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from epoch_speed import BATCH, LR, D, H, K, data

from mlplab.engines._jax_setup import load_jax

FLOP_PER_BATCH = 2 * BATCH * (2 * D * H + 3 * H * K)  # the five products of one batch

# XLA's typed FFI C API, read as 64-bit words (xla/ffi/api/c_api.h of jaxlib 0.10):
# XLA_FFI_CallFrame: struct_size, extension_start, api, ctx, stage, args (5 words), rets (5)
FRAME_EXTENSION, FRAME_STAGE, FRAME_ARGS, FRAME_RETS = 1, 4, 9, 14
STAGE_EXECUTE = 3
EXTENSION_METADATA = 1  # XLA_FFI_Extension_Metadata: XLA asks the handler's API version
API_MAJOR, API_MINOR = 0, 3
BUFFER_DATA, BUFFER_DIMS = 3, 5  # XLA_FFI_Buffer: struct_size, extension, dtype, data, rank, dims
NOT_TRANSPOSED, TRANSPOSED = ord("N"), ord("T")  # BLAS's op arguments


def blas_handlers() -> dict[str, Any]:
    """``{target name: numba cfunc}``: ``{s,d}gemm_{n,t}`` computing ``a @ b`` (``n``) or
    ``a.T @ b`` (``t``) for row-major ``a`` and ``b``, as XLA FFI handlers."""
    import numba
    from numba import carray, types
    from numba.extending import get_cython_function_address, intrinsic

    @intrinsic
    def pointer(typingctx, address):
        def codegen(context, builder, sig, args):
            return builder.inttoptr(args[0], context.get_value_type(types.voidptr))

        return types.voidptr(types.int64), codegen

    void_p = ctypes.c_void_p

    def handler(gemm: Any, dtype: type, transpose_a: bool) -> Any:
        @numba.cfunc(types.voidptr(types.voidptr), nopython=True)
        def run(frame_address):
            frame = carray(frame_address, (15,), np.int64)
            if frame[FRAME_EXTENSION] != 0:  # a metadata query, not a call
                extension = carray(pointer(frame[FRAME_EXTENSION]), (4,), np.int64)
                if extension[1] & 0xFFFFFFFF == EXTENSION_METADATA:
                    metadata = carray(pointer(extension[3]), (9,), np.int32)
                    metadata[6], metadata[7], metadata[8] = API_MAJOR, API_MINOR, 0
                return pointer(0)
            if frame[FRAME_STAGE] & 0xFFFFFFFF != STAGE_EXECUTE:
                return pointer(0)
            args = carray(pointer(frame[FRAME_ARGS]), (2,), np.int64)
            a = carray(pointer(args[0]), (6,), np.int64)
            b = carray(pointer(args[1]), (6,), np.int64)
            c = carray(pointer(carray(pointer(frame[FRAME_RETS]), (1,), np.int64)[0]), (6,),
                       np.int64)  # fmt: skip
            a_dims = carray(pointer(a[BUFFER_DIMS]), (2,), np.int64)
            b_dims = carray(pointer(b[BUFFER_DIMS]), (2,), np.int64)
            k, n = b_dims[0], b_dims[1]
            m = a_dims[1] if transpose_a else a_dims[0]
            # row-major C = op(A) @ B is column-major C.T = B.T @ op(A).T: Fortran's
            # gemm(N, op, n, m, k, 1, B, n, A, lda, 0, C, n)
            sizes = np.empty(6, np.int32)
            sizes[0], sizes[1], sizes[2], sizes[3], sizes[5] = n, m, k, n, n
            sizes[4] = m if transpose_a else k
            scalars = np.empty(2, dtype)
            scalars[0], scalars[1] = 1.0, 0.0
            ops = np.empty(2, np.uint8)
            ops[0], ops[1] = NOT_TRANSPOSED, TRANSPOSED if transpose_a else NOT_TRANSPOSED
            gemm(ops[0:1].ctypes, ops[1:2].ctypes, sizes[0:1].ctypes, sizes[1:2].ctypes,
                 sizes[2:3].ctypes, scalars[0:1].ctypes, pointer(b[BUFFER_DATA]),
                 sizes[3:4].ctypes, pointer(a[BUFFER_DATA]), sizes[4:5].ctypes,
                 scalars[1:2].ctypes, pointer(c[BUFFER_DATA]), sizes[5:6].ctypes)  # fmt: skip
            return pointer(0)

        return run

    handlers = {}
    for letter, dtype in (("s", np.float32), ("d", np.float64)):
        address = get_cython_function_address("scipy.linalg.cython_blas", f"{letter}gemm")
        gemm = ctypes.CFUNCTYPE(None, *[void_p] * 13)(address)
        for op in "nt":
            handlers[f"mlplab_bench_{letter}gemm_{op}"] = handler(gemm, dtype, op == "t")
    return handlers


@functools.cache  # XLA takes each target's registration once a process
def blas_product(jax: Any) -> Callable[..., Any]:
    """``product(a, b, transpose_a=False)``: ``a @ b`` (or ``a.T @ b``) in a compiled
    program, computed by BLAS through XLA's FFI (CPU)."""
    handlers = blas_handlers()
    for name, handler in handlers.items():
        jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(handler.address), platform="cpu")

    def product(a: Any, b: Any, transpose_a: bool = False) -> Any:
        letter = "s" if a.dtype == np.float32 else "d"
        name = f"mlplab_bench_{letter}gemm_{'t' if transpose_a else 'n'}"
        rows = a.shape[1] if transpose_a else a.shape[0]
        out = jax.ShapeDtypeStruct((rows, b.shape[1]), a.dtype)
        return jax.ffi.ffi_call(name, out)(a, b)

    product.handlers = handlers  # kept alive with the function XLA calls
    return product


def stand_in_product(jax: Any) -> Callable[..., Any]:
    """A product's shape and dtype filled with one element of each operand: no multiply-adds,
    so an epoch with it for its large products times everything else (an upper bound)."""

    def product(a: Any, b: Any, transpose_a: bool = False) -> Any:
        rows = a.shape[1] if transpose_a else a.shape[0]
        return jax.numpy.full((rows, b.shape[1]), a[0, 0] * b[0, 0])

    return product


def sgd_epoch(jax: Any, X: Any, T: Any, order: Any, product: Callable | None) -> Callable:
    """The 784-256-10 ReLU/softmax epoch as one program; its two large products by
    ``product`` (``None``: XLA's ``@``)."""
    jnp = jax.numpy

    def forward_product(x, W):
        return x @ W if product is None else product(x, W)

    def weight_product(x, delta):
        return x.T @ delta if product is None else product(x, delta, True)

    def step(params, idx):
        W1, b1, W2, b2 = params
        x, t = X[idx], T[idx]
        z = forward_product(x, W1) + b1
        h = jnp.maximum(z, 0)
        out = h @ W2 + b2
        e = jnp.exp(out - out.max(axis=1, keepdims=True))
        delta2 = (e / e.sum(axis=1, keepdims=True) - t) / len(idx)
        delta1 = (delta2 @ W2.T) * (z > 0)
        grads = (weight_product(x, delta1), delta1.sum(0), h.T @ delta2, delta2.sum(0))
        return tuple(p - LR * g for p, g in zip(params, grads, strict=True)), None

    return jax.jit(lambda params: jax.lax.scan(step, params, order)[0])


def _timed(jax: Any, program: Callable, params: tuple) -> tuple[float, float]:
    """Wall and CPU seconds (this process, all threads) of one call to its results."""
    cpu, wall = os.times(), time.perf_counter()
    jax.block_until_ready(program(params))
    wall, after = time.perf_counter() - wall, os.times()
    return wall, after.user - cpu.user + after.system - cpu.system


XLA, BLAS, REST = "XLA's products", "BLAS through XLA's FFI", "the rest alone (no large product)"


def epochs(repeats: int) -> None:
    jax = load_jax()
    jnp = jax.numpy
    X, labels = data()
    rng = np.random.default_rng(0)
    X, T = jnp.asarray(X), jnp.asarray(np.eye(K, dtype=np.float32)[labels])
    order = jnp.asarray(rng.permutation(len(X))[: len(X) // BATCH * BATCH].reshape(-1, BATCH))
    params = tuple(jnp.asarray(a, dtype=jnp.float32) for a in (
        rng.standard_normal((D, H)) * np.sqrt(2 / D), np.zeros(H),
        rng.standard_normal((H, K)) * np.sqrt(2 / H), np.zeros(K)))  # fmt: skip
    products = {XLA: None, BLAS: blas_product(jax), REST: stand_in_product(jax)}
    programs = {name: sgd_epoch(jax, X, T, order, p) for name, p in products.items()}
    trained = {name: program(params) for name, program in programs.items()}  # compiled here
    gap = max(float(jnp.abs(a - b).max()) for a, b in zip(trained[XLA], trained[BLAS], strict=True))
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in programs}
    for _ in range(repeats):
        for name, program in programs.items():
            times[name].append(_timed(jax, program, params))
    batches = order.shape[0]
    print(
        f"one SGD epoch ({batches} batches of {BATCH}) as one compiled program, median of "
        f"{repeats}; XLA's and BLAS's trained weights differ by at most {gap:.1e}; the rest "
        "alone fills the large products' place without computing them (an upper bound):"
    )
    print("    (GFLOP/s: the epoch's products over its whole wall time)")
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        rate = f"{batches * FLOP_PER_BATCH / wall / 1e9:5.1f} GFLOP/s" if name != REST else " " * 13
        print(f"    {wall:6.3f} s wall  {cpu:6.3f} s CPU  {rate}  {name}")


def blas_rates(repeats: int) -> None:
    """NumPy's (OpenBLAS) float32 product rate at the batch's shape and at a large one."""
    rng = np.random.default_rng(0)
    cases = {
        "x @ W1 (128 x 784 @ 784 x 256), 469 calls": ((BATCH, D), (D, H), 469),
        "2048 x 2048 @ 2048 x 2048, 5 calls": ((2048, 2048), (2048, 2048), 5),
    }
    print(f"NumPy's BLAS, float32, median of {repeats}:")
    for name, (a_shape, b_shape, calls) in cases.items():
        a, b = rng.standard_normal(a_shape, np.float32), rng.standard_normal(b_shape, np.float32)
        out = a @ b
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                np.dot(a, b, out=out)
            runs.append(time.perf_counter() - start)
        rate = calls * 2 * a_shape[0] * a_shape[1] * b_shape[1] / statistics.median(runs) / 1e9
        print(f"    {rate:6.1f} GFLOP/s  {name}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    for module in ("jax", "numba", "scipy"):
        try:
            __import__(module)
        except ImportError:
            raise SystemExit(f"xla_blas.py needs {module}: pip install {module}") from None
    blas_rates(args.repeats)
    epochs(args.repeats)


if __name__ == "__main__":
    main()
