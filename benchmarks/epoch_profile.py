"""Where one epoch of ``epoch_speed.py``'s 784-256-10 network goes, on both engines.

NumPy engine: one epoch under ``cProfile``, with ``numpy.dot`` and ``numpy.matmul`` wrapped so
that the matrix products show as their own rows (NumPy's functions are invisible to cProfile
otherwise); prints the products' share and the rest by function (batch gathering, the loss
and softmax, ReLU, the optimizer).

``--phases``: the NumPy engine's batch loop with a clock around each phase (the gather, the
matrix products, the rest of forward and backward, the accuracy count, the optimizer's step),
no profiler in the way, with 1 or 2 BLAS threads (``--threads``).

``--updates``: the optimizer's step on the first layer's weights (784 x 256 float32) alone,
per batch: NumPy's in-place passes (``_sgd_into``, ``_adam_into``), Adam in row slices (the
passes fused per cache-sized slice), Adam split over two Python threads (NumPy releases the
GIL in its loops), and, where numba is installed, each rule as one compiled loop, checked
equal bit for bit to NumPy's (SGD as one BLAS ``saxpy`` too). ``--orders``: the first
layer's two products with each operand's memory order, one thread.

JAX engine: the fit's wall time against its parts: ``History.seconds`` (the epochs),
``compile_seconds``, and the same epoch's matrix products alone in XLA (a ``scan`` over the
batches of the five products of forward and backward, gathered rows included), so that what
is not products shows as the difference. ``--split``: those products on one device against
each batch's rows split over the CPU devices (``shard_map``, the gradients summed by ``psum``).

``--xla-products``: each of the epoch's matrix products of one batch, 469 times, in a
compiled loop (XLA) against NumPy's BLAS in a Python loop, interleaved.

``--rows-split``: the whole epoch (its whole batches) as one compiled program written with the
library's pieces (layers, objective, backward pass, the optimizer's rule), each batch's rows
split over the CPU devices (the gradients, loss and row count summed by one ``psum`` a batch,
the update run on each device's copy), against the same program on one device (with
``xla_cpu_multi_thread_eigen`` on for it as well), the engine's fit, the copy of its inputs to
the device alone, the engine's fit on inputs aligned to 64 bytes (which JAX shares instead of
copying) and PyTorch (2 threads), interleaved; each round says how many cores other
processes used meanwhile, and the medians of the quiet rounds are printed apart.

    OPENBLAS_NUM_THREADS=1 python benchmarks/epoch_profile.py [--optimizer sgd adam]
    python benchmarks/epoch_profile.py --phases --threads 1 2 --engines numpy
    python benchmarks/epoch_profile.py --updates
    python benchmarks/epoch_profile.py --orders
    python benchmarks/epoch_profile.py --split
    python benchmarks/epoch_profile.py --xla-products [--repeats 7]
    python benchmarks/epoch_profile.py --rows-split [--optimizer sgd adam] [--repeats 7]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from epoch_speed import BATCH, LR, RATES, D, H, K, data

import mlplab.nn.network as network
from mlplab import MLP
from mlplab.engines._jax_setup import load_jax


def epoch(X: np.ndarray, T: np.ndarray, optimizer: str, engine: str) -> tuple[float, MLP, object]:
    net = MLP([D, H, K], "relu", "softmax", "cross_entropy", "mean", init="he", seed=0,
              dtype=np.float32)  # fmt: skip
    lr = LR if optimizer == "sgd" else 0.001
    start = time.perf_counter()
    history = net.fit(X, T, epochs=1, lr=lr, batch_size=BATCH, seed=0, optimizer=optimizer,
                      engine=engine)  # fmt: skip
    return time.perf_counter() - start, net, history


def wrapped_products() -> Callable[[], None]:
    """Wrap ``np.dot`` and ``np.matmul`` where mlplab's layers find them; returns the undo."""
    dot, matmul = np.dot, network.matmul

    def products_dot(*a, **k):
        return dot(*a, **k)

    def products_matmul(*a, **k):
        return matmul(*a, **k)

    np.dot, network.matmul = products_dot, products_matmul

    def undo() -> None:
        np.dot, network.matmul = dot, matmul

    return undo


def numpy_breakdown(X: np.ndarray, T: np.ndarray, optimizer: str) -> None:
    undo = wrapped_products()
    try:
        epoch(X, T, optimizer, "numpy")  # work arrays and caches warm
        profile = cProfile.Profile()
        profile.enable()
        seconds, _, _ = epoch(X, T, optimizer, "numpy")
        profile.disable()
    finally:
        undo()
    stats = pstats.Stats(profile)
    rows = {f"{fn}" if path == "~" else f"{path.split('/src/')[-1]}:{line}({fn})": row[2]
            for (path, line, fn), row in stats.stats.items()}  # fmt: skip
    products = sum(t for name, t in rows.items() if "products_" in name)
    print(f"NumPy engine, {optimizer}: epoch {seconds:.3f} s under cProfile; matrix products "
          f"{products:.3f} s ({products / seconds:.0%}); the rest by own time:")  # fmt: skip
    for name, t in sorted(rows.items(), key=lambda kv: -kv[1])[:12]:
        if "products_" not in name and t > 0.002:
            print(f"    {t:7.3f} s  {t / seconds:5.1%}  {name}")


def numpy_phases(X: np.ndarray, T: np.ndarray, optimizer: str, threads: int) -> None:
    """The engine's batch loop (``NumpyRunner.minibatch_epoch``'s steps) with a clock per phase."""
    from threadpoolctl import threadpool_limits

    from mlplab.nn.targets import predicted_class
    from mlplab.train.optimizers import get_optimizer

    clock = time.perf_counter
    spent = dict.fromkeys(("gather", "products", "forward/backward rest", "accuracy", "step"), 0.0)
    dot = np.dot

    def timed_dot(*a, **k):
        start = clock()
        out = dot(*a, **k)
        spent["products"] += clock() - start
        return out

    net = network_for()
    opt = get_optimizer(optimizer, LR if optimizer == "sgd" else 0.001)
    params = [v for p in net.params for v in p.values()]
    labels = T.argmax(axis=1)
    with threadpool_limits(threads):
        np.dot = timed_dot  # the layers take np.dot when they allocate their work arrays
        try:
            for rows in (X[:BATCH], X):  # the first pass allocates (untimed), the second is timed
                spent.update(dict.fromkeys(spent, 0.0))
                order = np.random.default_rng(0).permutation(len(rows))
                start = clock()
                for lo in range(0, len(rows), BATCH):
                    t0 = clock()
                    idx = order[lo : lo + BATCH]
                    x, t = X.take(idx, axis=0), T.take(idx, axis=0)
                    t1 = clock()
                    net.loss_and_backward(x, t)
                    t2 = clock()
                    (predicted_class(net.outputs[-1]) == labels[idx]).sum()
                    t3 = clock()
                    opt.step(params, [v for g in net.grads for v in g.values()])
                    t4 = clock()
                    spent["gather"] += t1 - t0
                    spent["forward/backward rest"] += t2 - t1
                    spent["accuracy"] += t3 - t2
                    spent["step"] += t4 - t3
                total = clock() - start
        finally:
            np.dot = dot
    spent["forward/backward rest"] -= spent["products"]
    print(f"NumPy engine's batch loop, {optimizer}, {threads} thread(s): {total:.3f} s")
    for name, t in spent.items():
        print(f"    {t:7.3f} s  {t / total:5.1%}  {name}")
    print(f"    {total - sum(spent.values()):7.3f} s  "
          f"{(total - sum(spent.values())) / total:5.1%}  the loop itself")  # fmt: skip


def update_kernels() -> dict[str, Callable]:
    """The first layer's step, several ways; each ``(p, g, m, v, s, step_size) -> None``."""
    from concurrent.futures import ThreadPoolExecutor

    from mlplab.train.optimizers import _adam_into, _sgd_into

    b1, b2, eps = 0.9, 0.999, 1e-8

    def adam(p, g, m, v, s, t):
        _adam_into([p], [g], ([m], [v]), 0.001, t, [s], beta1=b1, beta2=b2, eps=eps)

    def sliced(rows):
        def run(p, g, m, v, s, t):
            for lo in range(0, len(p), rows):
                part = slice(lo, lo + rows)
                adam(p[part], g[part], m[part], v[part], s[part], t)

        return run

    pool = ThreadPoolExecutor(1)

    def threaded(p, g, m, v, s, t):
        half = len(p) // 2
        other = pool.submit(adam, p[:half], g[:half], m[:half], v[:half], s[:half], t)
        adam(p[half:], g[half:], m[half:], v[half:], s[half:], t)
        other.result()

    kernels = {
        "numpy sgd (2 passes)": lambda p, g, m, v, s, t: _sgd_into([p], [g], (), LR, t, [s]),
        "numpy adam (12 passes)": adam,
        "numpy adam, slices of 32 rows": sliced(32),
        "numpy adam, slices of 128 rows": sliced(128),
        "numpy adam, 2 threads": threaded,
    }
    kernels.update(blas_kernels())
    kernels.update(numba_kernels(b1, b2, eps))
    return kernels


def blas_kernels() -> dict[str, Callable]:
    """SGD's update as one BLAS call (``saxpy``, one rounding where NumPy's passes round twice)."""
    try:
        from scipy.linalg import blas
    except ImportError:
        print("scipy not installed: the BLAS update skipped")
        return {}

    def axpy(p, g, m, v, s, t):
        blas.saxpy(g.ravel(), p.ravel(), a=-LR)  # p <- p + (-lr) g, in place (contiguous)

    return {"blas saxpy sgd (1 call)": axpy}


def numba_kernels(b1: float, b2: float, eps: float) -> dict[str, Callable]:
    """SGD and Adam as one loop each (numba, no fast-math), if numba is installed."""
    try:
        import numba
    except ImportError:
        print("numba not installed: its one-loop updates skipped")
        return {}
    f32 = np.float32
    lr, c1, c2, d1, d2, e = f32(LR), f32(b1), f32(b2), f32(1 - b1), f32(1 - b2), f32(eps)

    @numba.njit
    def sgd_loop(p, g):
        p, g = p.ravel(), g.ravel()
        for i in range(p.size):
            p[i] -= g[i] * lr

    @numba.njit(error_model="numpy")  # no zero-division check: the loop vectorises
    def adam_loop(p, g, m, v, step):
        p, g, m, v = p.ravel(), g.ravel(), m.ravel(), v.ravel()
        for i in range(p.size):
            m[i] = m[i] * c1 + g[i] * d1
            v[i] = v[i] * c2 + (g[i] * g[i]) * d2
            p[i] -= m[i] / (np.sqrt(v[i]) + e) * step

    def adam(p, g, m, v, s, t):
        adam_loop(p, g, m, v, f32(0.001 * np.sqrt(1 - b2**t) / (1 - b1**t)))

    return {"numba sgd (1 loop)": lambda p, g, m, v, s, t: sgd_loop(p, g),
            "numba adam (1 loop)": adam}  # fmt: skip


def updates(repeats: int, steps: int = 200) -> None:
    """Each kernel's time per step on (784, 256) float32, interleaved; one-loop kernels are
    checked equal to NumPy's passes bit for bit after ``steps`` steps."""
    rng = np.random.default_rng(0)
    kernels = update_kernels()
    grads = rng.standard_normal((8, D, H), dtype=np.float32) * np.float32(1e-2)
    start_p = rng.standard_normal((D, H), dtype=np.float32)
    times: dict[str, list[float]] = {name: [] for name in kernels}
    finals = {}
    for _ in range(repeats):
        for name, kernel in kernels.items():
            p, m, v, s = start_p.copy(), *(np.zeros((D, H), np.float32) for _ in range(3))
            begin = time.perf_counter()
            for t in range(1, steps + 1):
                kernel(p, grads[t % 8], m, v, s, t)
            times[name].append((time.perf_counter() - begin) / steps)
            finals[name] = p
    batches = -(-60000 // BATCH)
    print(f"the first layer's step ({D} x {H} float32), median of {repeats}, per step and "
          f"per epoch ({batches} batches):")  # fmt: skip
    for name, ts in times.items():
        m = statistics.median(ts)
        peer = "numpy sgd (2 passes)" if "sgd" in name else "numpy adam (12 passes)"
        same = np.array_equal(finals[name], finals[peer])
        print(f"    {m * 1e6:7.0f} us  {m * batches:6.3f} s/epoch  {name}"
              f"{'' if same else '  (NOT equal to numpy)'}")


def orders(repeats: int, calls: int = 100) -> None:
    """The first layer's two products in each memory order, per call (one thread)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, D), dtype=np.float32)
    dh = rng.standard_normal((BATCH, H), dtype=np.float32)
    W = rng.standard_normal((D, H), dtype=np.float32)
    WF = np.asfortranarray(W)
    z, dW, dWT = np.empty((BATCH, H), np.float32), np.empty_like(W), np.empty((H, D), np.float32)
    products = {
        "x @ W1, W1 in C order (the engine's)": lambda: np.dot(x, W, z),
        "x @ W1, W1 in Fortran order": lambda: np.dot(x, WF, z),
        "x.T @ dh into (784, 256) (the engine's)": lambda: np.dot(x.T, dh, dW),
        "dh.T @ x into (256, 784)": lambda: np.dot(dh.T, x, dWT),
    }
    times: dict[str, list[float]] = {name: [] for name in products}
    with threadpool_limits(1):
        for _ in range(repeats):
            for name, product in products.items():
                start = time.perf_counter()
                for _ in range(calls):
                    product()
                times[name].append((time.perf_counter() - start) / calls)
    print(f"the first layer's products, one thread, median of {repeats} x {calls} calls:")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"    {m * 1e6:6.0f} us  {2 * BATCH * D * H / m / 1e9:5.1f} GFLOP/s  {name}")


def product_cases(jax: Any) -> dict[str, tuple[Callable, Callable, tuple]]:
    """The epoch's matrix products of one batch, each as ``(NumPy's, XLA's, operands)``; and
    ``dW2`` with its ``h.T`` made an array of its own first (an optimisation barrier)."""
    rng = np.random.default_rng(0)
    x, dh = (rng.standard_normal((BATCH, n), dtype=np.float32) for n in (D, H))
    W1, W2 = (rng.standard_normal(shape, dtype=np.float32) for shape in ((D, H), (H, K)))
    h, dy = (rng.standard_normal((BATCH, n), dtype=np.float32) for n in (H, K))
    barrier = jax.lax.optimization_barrier
    return {
        "x @ W1": (np.dot, lambda a, b: a @ b, (x, W1)),
        "x.T @ delta1 (dW1)": (lambda a, b: a.T @ b, lambda a, b: a.T @ b, (x, dh)),
        "h @ W2": (np.dot, lambda a, b: a @ b, (h, W2)),
        "h.T @ delta2 (dW2)": (lambda a, b: a.T @ b, lambda a, b: a.T @ b, (h, dy)),
        "h.T made first, @ delta2": (lambda a, b: a.T @ b,
                                     lambda a, b: barrier(a.T) @ b, (h, dy)),
        "delta2 @ W2.T": (lambda a, b: a @ b.T, lambda a, b: a @ b.T, (dy, W2)),
    }


def each_product(repeats: int, calls: int = 469) -> None:
    """Each of the epoch's products ``calls`` times (an epoch's batches): in one compiled loop
    (XLA) and in a Python loop (NumPy's BLAS, its threads as ``OPENBLAS_NUM_THREADS`` says),
    interleaved. XLA's loop carries its first operand (nudged by nothing each time) and adds
    up every product's elements, so nothing is hoisted out of the loop or left uncomputed."""
    jax = load_jax()
    jnp = jax.numpy

    def looped(product: Callable) -> Callable:
        def body(i, carry):
            a, b, total = carry
            out = product(a, b)
            s = out.sum()
            return a.at[0, 0].add(s * 0), b, total + s

        return jax.jit(lambda a, b: jax.lax.fori_loop(0, calls, body, (a, b, jnp.float32(0)))[2])

    runs = {}
    for name, (numpy_product, xla_product, operands) in product_cases(jax).items():
        compiled, on_device = looped(xla_product), [jnp.asarray(a) for a in operands]
        compiled(*on_device).block_until_ready()
        runs[name] = (compiled, on_device, numpy_product, operands)
    times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in runs}
    for _ in range(repeats):
        for name, (compiled, on_device, numpy_product, operands) in runs.items():
            start = time.perf_counter()
            compiled(*on_device).block_until_ready()
            times[name][0].append(time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(calls):
                numpy_product(*operands)
            times[name][1].append(time.perf_counter() - start)
    print(f"each product {calls} times, median of {repeats}: XLA (compiled loop) and NumPy")
    for name, (xla, blas) in times.items():
        xla_ms, blas_ms = statistics.median(xla) * 1e3, statistics.median(blas) * 1e3
        print(f"    {xla_ms:7.1f} ms  {blas_ms:7.1f} ms  {name}")


def network_for() -> MLP:
    return MLP([D, H, K], "relu", "softmax", "cross_entropy", "mean", init="he", seed=0,
               dtype=np.float32)  # fmt: skip


def _products_epoch(jax: Any, reduce: Callable = lambda g: g) -> Callable:
    """``(W1, W2, X, T, order) -> (W1, W2)``: the epoch's five products per batch (and the
    batch gather), each weight gradient passed through ``reduce`` before the step."""
    def products(W1, W2, Xd, Td, order):
        def one(carry, idx):
            W1, W2 = carry
            x, t = Xd[idx], Td[idx]
            h = x @ W1
            d = h @ W2 - t
            dW2, dh = reduce(h.T @ d), d @ W2.T
            dW1 = reduce(x.T @ dh)
            return (W1 - 1e-6 * dW1, W2 - 1e-6 * dW2), None

        return jax.lax.scan(one, (W1, W2), order)[0]

    return products


def _timed_call(jax: Any, program: Callable, *args: Any) -> Callable[[], float]:
    """A timer of ``program(*args)`` to its results, after one call that compiles it."""
    def run() -> float:
        start = time.perf_counter()
        jax.block_until_ready(program(*args))
        return time.perf_counter() - start

    run()
    return run


def _weights(jax: Any, rng: np.random.Generator) -> tuple:
    jnp = jax.numpy
    return (jnp.asarray(rng.standard_normal((D, H), dtype=np.float32)),
            jnp.asarray(rng.standard_normal((H, K), dtype=np.float32)))  # fmt: skip


def xla_products(X: np.ndarray, T: np.ndarray) -> Callable[[], float]:
    """The epoch's five products per batch (and the batch gather), alone, compiled."""
    jax = load_jax()
    jnp = jax.numpy
    rng = np.random.default_rng(0)
    W1, W2 = _weights(jax, rng)
    order = jnp.asarray(rng.permutation(len(X))[: len(X) // BATCH * BATCH].reshape(-1, BATCH))
    program = jax.jit(_products_epoch(jax))
    return _timed_call(jax, program, W1, W2, jnp.asarray(X), jnp.asarray(T), order)


def xla_split_products(X: np.ndarray, T: np.ndarray) -> Callable[[], float]:
    """The same products with each batch's rows split over the CPU devices (``shard_map``):
    each device its share of the rows, the gradients summed over the devices (``psum``)."""
    jax = load_jax()
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = Mesh(np.array(jax.devices()), ("rows",))
    rng = np.random.default_rng(0)
    W1, W2 = _weights(jax, rng)
    Xd = jax.device_put(X, NamedSharding(mesh, P()))  # every device holds all rows
    Td = jax.device_put(T, NamedSharding(mesh, P()))
    order = rng.permutation(len(X))[: len(X) // BATCH * BATCH].reshape(-1, BATCH)
    order = jax.device_put(order, NamedSharding(mesh, P(None, "rows")))
    products = _products_epoch(jax, lambda g: jax.lax.psum(g, "rows"))
    specs = (P(), P(), P(), P(), P(None, "rows"))  # the batch indices split, the rest whole
    split = jax.jit(jax.shard_map(products, mesh=mesh, in_specs=specs, out_specs=(P(), P()),
                                  check_vma=False))  # fmt: skip
    return _timed_call(jax, split, W1, W2, Xd, Td, order)


def split_products(X: np.ndarray, T: np.ndarray, repeats: int) -> None:
    """XLA's products alone on one device against the rows split over the devices."""
    one, split = xla_products(X, T), xla_split_products(X, T)
    ones, splits, cpu = [], [], []
    for _ in range(repeats):
        ones.append(one())
        start = time.process_time()
        splits.append(split())
        cpu.append((time.process_time() - start) / splits[-1])
    ratio = statistics.median(s / o for s, o in zip(splits, ones, strict=True))
    print(f"XLA products alone: one device {statistics.median(ones):.3f} s, rows split over "
          f"{len(load_jax().devices())} devices {statistics.median(splits):.3f} s "
          f"({ratio:.2f}x, median of {repeats} rounds); the split's CPU time "
          f"{statistics.median(cpu):.2f}x its wall time")  # fmt: skip


def rows_epoch(
    X: np.ndarray, T: np.ndarray, optimizer: str, split: bool, options: dict | None = None
) -> Callable[[], tuple]:
    """One epoch's whole batches as one compiled program written with the library's pieces
    (``plain_layers``, ``forward``, the objective, ``backward``, the optimizer's rule);
    ``split``: each batch's rows over the CPU devices (``shard_map``), the gradients, loss and
    count summed by one ``psum``, the update run on every device's copy of the weights."""
    jax = load_jax()
    jnp = jax.numpy
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    from mlplab.nn.layer import backward, forward, plain_layers
    from mlplab.nn.losses import Objective
    from mlplab.train.optimizers import get_optimizer

    net = network_for()
    summed = Objective(net.objective.activation, net.objective.loss, "sum")
    acts = tuple(layer.activation for layer in net.layers)
    rule = get_optimizer(optimizer, RATES[optimizer]).rule()
    lr = np.float64(RATES[optimizer])
    devices = jax.devices() if split else jax.devices()[:1]
    mesh = Mesh(np.array(devices), ("rows",))

    def epoch(params, slots, Xd, Td, order):
        def one(carry, idx):
            params, slots, t, total = carry
            layers = plain_layers(params, acts, jnp)
            forward(layers, Xd[idx])
            loss, delta = summed(layers[-1], Td[idx])
            n = jax.lax.psum(jnp.asarray(idx.shape[0], delta.dtype), "rows")
            delta = layers[-1].ops.divide(delta, n)  # the mean's delta, as Objective divides
            backward(layers, delta)
            grads = [layer.grad for layer in layers]
            grads, loss = jax.lax.psum((grads, loss), "rows")
            flat, tree = jax.tree.flatten(params)
            new, slots = rule(flat, jax.tree.leaves(grads), slots, jnp.asarray(lr), t + 1, xp=jnp)
            return (jax.tree.unflatten(tree, new), slots, t + 1, total + loss / n), None

        carry = (params, slots, jnp.float64(0), jnp.zeros((), jnp.float32))
        return jax.lax.scan(one, carry, order)[0]

    specs = (P(), P(), P(), P(), P(None, "rows"))
    program = jax.jit(jax.shard_map(epoch, mesh=mesh, in_specs=specs, out_specs=P(),
                                    check_vma=False))  # fmt: skip
    whole = NamedSharding(mesh, P())
    params = jax.device_put([dict(p) for p in net.params], whole)
    slots = jax.device_put(rule.init([v for p in net.params for v in p.values()]), whole)
    Xd, Td = jax.device_put(X, whole), jax.device_put(T, whole)
    order = np.random.default_rng(0).permutation(len(X))[: len(X) // BATCH * BATCH]
    order = jax.device_put(order.reshape(-1, BATCH).astype(np.int32),
                           NamedSharding(mesh, P(None, "rows")))  # fmt: skip

    args = (params, slots, Xd, Td, order)
    program = program.lower(*args).compile(compiler_options=options)
    return lambda: program(*args)  # (params, slots, steps, the batches' mean losses summed)


def rows_program(
    X: np.ndarray, T: np.ndarray, optimizer: str, split: bool, options: dict | None = None
) -> Callable[[], float]:
    """``rows_epoch``'s epoch, timed: ``run()`` returns its seconds (compiled, run once)."""
    jax = load_jax()
    epoch = rows_epoch(X, T, optimizer, split, options)

    def run() -> float:
        start = time.perf_counter()
        jax.block_until_ready(epoch())
        return time.perf_counter() - start

    run()
    return run


def others_busy(run: Callable[[], float]) -> tuple[float, float, float]:
    """``run``'s seconds, this process's CPU time over them (2: both cores busy) and how many
    cores other processes kept busy meanwhile (the machine's busy time from ``/proc/stat``
    less this process's CPU time, over the wall)."""

    def busy() -> float:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:8]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait

    before, own = busy(), time.process_time()
    seconds = run()
    own = time.process_time() - own
    return seconds, own / seconds, max(0.0, busy() - before - own) / seconds


def inputs_copy(X: np.ndarray, T: np.ndarray) -> float:
    """The copy of the inputs and targets to JAX's device alone, as the engine's compiled call
    makes it (a host array not aligned for XLA is copied; an aligned one would be shared)."""
    jax = load_jax()
    start = time.perf_counter()
    jax.block_until_ready(jax.device_put((X, T)))
    return time.perf_counter() - start


def aligned_copy(a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` starting on a 64-byte boundary: XLA's CPU device reads it in place."""
    raw = np.empty(a.nbytes + 64, np.uint8)
    start = -raw.ctypes.data % 64
    out = raw[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    np.copyto(out, a)
    return out


def rows_contenders(X: np.ndarray, labels: np.ndarray, optimizer: str) -> dict[str, Callable]:
    from epoch_speed import mlplab_epoch, torch_epoch

    T = np.eye(K, dtype=np.float32)[labels]
    threaded = {"xla_cpu_multi_thread_eigen": True}
    return {
        "rows split over the devices": rows_program(X, T, optimizer, split=True),
        "one device": rows_program(X, T, optimizer, split=False),
        "one device, multi_thread_eigen": rows_program(X, T, optimizer, False, threaded),
        "mlplab jax engine (fit)": partial(mlplab_epoch("jax", optimizer), X, labels, T),
        "its inputs' copy to the device": partial(inputs_copy, X, T),
        "the engine, inputs 64-byte aligned (not copied)": partial(
            mlplab_epoch("jax", optimizer), aligned_copy(X), labels, aligned_copy(T)),
        "pytorch, 2 threads": partial(torch_epoch(optimizer), X, labels, T),
    }


def rows_split(X: np.ndarray, labels: np.ndarray, optimizers: list[str], repeats: int) -> None:
    """The epoch's rows split over the devices against the same program on one device (with
    ``xla_cpu_multi_thread_eigen`` on for it too), the JAX engine's fit, the copy of its
    inputs alone, and PyTorch (2 threads), interleaved; each round's ratios to PyTorch, the
    medians of all rounds and of the quiet ones (other processes on under 0.25 cores)."""
    import torch

    torch.set_num_threads(2)
    peer = "pytorch, 2 threads"
    for optimizer in optimizers:
        runs = rows_contenders(X, labels, optimizer)
        for run in runs.values():
            run()
        rounds = []
        for _ in range(repeats):
            rounds.append({name: others_busy(run) for name, run in runs.items()})
            times = {name: m[0] / rounds[-1][peer][0] for name, m in rounds[-1].items()}
            print(f"  {optimizer} round, others on {max(m[2] for m in rounds[-1].values()):.2f} "
                  f"cores: " + ", ".join(f"{t:.2f}x" for t in times.values()), flush=True)
        quiet = [r for r in rounds if max(m[2] for m in r.values()) < 0.25]
        print(f"{optimizer}: one epoch; seconds, /pytorch round by round (median of {repeats} "
              f"rounds, of the {len(quiet)} quiet ones), CPU time / wall:")  # fmt: skip
        for name in runs:
            ratios = [r[name][0] / r[peer][0] for r in rounds]
            calm = [r[name][0] / r[peer][0] for r in quiet] or [float("nan")]
            print(f"    {statistics.median(r[name][0] for r in rounds):7.3f} s  "
                  f"{statistics.median(ratios):5.2f}x ({statistics.median(calm):5.2f}x)  "
                  f"cpu {statistics.median(r[name][1] for r in rounds):4.2f}  {name}")


def jax_breakdown(X: np.ndarray, T: np.ndarray, optimizer: str, repeats: int) -> None:
    epoch(X, T, optimizer, "jax")  # compile (and fill the cache)
    products = xla_products(X, T)
    walls, epochs, gemms = [], [], []
    for _ in range(repeats):  # interleaved
        wall, _, history = epoch(X, T, optimizer, "jax")
        walls.append(wall)
        epochs.append(history.seconds)
        gemms.append(products())
    wall, inside, gemm = (statistics.median(v) for v in (walls, epochs, gemms))
    print(f"JAX engine, {optimizer}: fit {wall:.3f} s, of which History.seconds {inside:.3f} s; "
          f"the products alone in XLA {gemm:.3f} s ({gemm / inside:.0%} of the epochs); "
          f"outside the epochs {wall - inside:.3f} s (median of {repeats})")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--optimizer", nargs="+", default=["sgd", "adam"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--engines", nargs="+", default=["numpy", "jax"])
    p.add_argument("--phases", action="store_true", help="the NumPy loop's phases, clocked")
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--updates", action="store_true", help="the first layer's step, timed")
    p.add_argument("--orders", action="store_true", help="the products in each memory order")
    p.add_argument("--split", action="store_true", help="XLA's products, rows over the devices")
    p.add_argument("--xla-products", action="store_true",
                   help="each of the epoch's products in XLA against NumPy's BLAS")
    p.add_argument("--rows-split", action="store_true",
                   help="the epoch's batch rows over the devices, against the engine and PyTorch")
    args = p.parse_args(argv)
    if args.updates:
        updates(max(args.repeats, 5))
        return
    if args.orders:
        orders(max(args.repeats, 5))
        return
    if args.xla_products:
        each_product(max(args.repeats, 7))
        return
    X, labels = data()
    if args.rows_split:
        rows_split(X, labels, args.optimizer, max(args.repeats, 5))
        return
    if args.split:
        split_products(X, np.eye(K, dtype=np.float32)[labels], max(args.repeats, 5))
        return
    T = np.eye(K, dtype=np.float32)[labels]
    for optimizer in args.optimizer:
        if args.phases:
            for threads in args.threads:
                numpy_phases(X, T, optimizer, threads)
            continue
        if "numpy" in args.engines:
            numpy_breakdown(X, T, optimizer)
        if "jax" in args.engines:
            jax_breakdown(X, T, optimizer, args.repeats)


if __name__ == "__main__":
    main()
