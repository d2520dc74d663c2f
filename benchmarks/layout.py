"""A stack of seed networks with the networks on the last axis, against ``vmap``'s layout.

``vmap`` of the seed's step keeps each network's weights together (``W1`` of shape
(K, 3, 4)): every product is a batch of 4x3 by 3x4 matrices, too small for the vector units.
With the networks on the last axis (``W1`` of shape (3, 4, K), ``W2`` (4, K)) every operation
of the step is one elementwise operation over the K networks: the products become sums of
(K,)-vector multiply-adds, the sigmoid one vector ``exp``, so XLA (or numba) can fill the
vector registers with networks. This prototype runs that layout

- in JAX (``fori_loop`` over the epochs of a step written with broadcasting, split along the
  network axis over the CPU devices like the hand-written ``vmap`` peer of ``peers.py``;
  optionally in chunks of ``--chunk`` networks per device, one after another, for the cache);
- in numba (``prange`` over chunks of networks, the network loop innermost),

against ``peers.py``'s hand-written JAX ``vmap`` on the same initial weights, interleaved in
one process, median of ``--repeats``; every result is compared with the ``vmap`` one's weights.

    OPENBLAS_NUM_THREADS=1 python benchmarks/layout.py [--nets 1000 100000] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import numpy as np
from peers import FULL_RUN, Run, Weights, hand_jax_peer, initial_weights, timed, xor

from mlplab.engines._jax_setup import load_jax

Lanes = tuple[np.ndarray, np.ndarray]  # W1 (3, 4, K), W2 (4, K): networks on the last axis


def to_lanes(weights: Weights) -> Lanes:
    """A copy of the weights with the networks on the last axis."""
    W1, W2 = weights
    return np.array(W1.transpose(1, 2, 0), order="C"), np.array(W2[:, :, 0].T, order="C")


def from_lanes(lanes: Lanes) -> Weights:
    W1, W2 = (np.asarray(w) for w in lanes)
    return W1.transpose(2, 0, 1), W2.T[:, :, None]


def lanes_step(jnp, W1, W2, X, t):
    """One epoch of the seed's step for K networks on the last axis: only elementwise ops.

    ``X`` (4, 3) and ``t`` (4, 1) are shared; ``W1`` (3, 4, K), ``W2`` (4, K). The sums over
    the small axes are written out term by term (not ``.sum``), so that XLA fuses the step
    into elementwise loops over the networks instead of calling its reduction kernels.
    """
    z1 = sum(X[:, i, None, None] * W1[i] for i in range(3))  # (4, 4, K): X @ W1, per network
    h = 1 / (1 + jnp.exp(-z1))
    y = 1 / (1 + jnp.exp(-sum(h[:, j] * W2[j] for j in range(4))))  # (4, K): h @ W2
    y_delta = (t - y) * (y * (1 - y))
    h_delta = (y_delta[:, None, :] * W2[None]) * (h * (1 - h))  # (4, 4, K)
    W2 = W2 + sum(h[n] * y_delta[n] for n in range(4))  # h.T @ y_delta
    W1 = W1 + jnp.stack([sum(X[n, i] * h_delta[n] for n in range(4)) for i in range(3)])
    return W1, W2


def lanes_program(epochs: int, mesh) -> Callable:
    """``jit`` of a ``shard_map`` over the devices: each trains its chunks (C, 3, 4, k) and
    (C, 4, k) one after another (``lax.map``), ``epochs`` steps in a ``fori_loop`` each."""
    jax = load_jax()
    jnp = jax.numpy
    P = jax.sharding.PartitionSpec

    def train(W1, W2, X, t):
        return jax.lax.fori_loop(0, epochs, lambda _, w: lanes_step(jnp, *w, X, t), (W1, W2))

    def local(W1, W2, X, t):
        return jax.lax.map(lambda w: train(*w, X, t), (W1, W2))

    split = jax.shard_map(local, mesh=mesh, in_specs=(P("s"), P("s"), P(), P()),
                          out_specs=(P("s"), P("s")))  # fmt: skip
    return jax.jit(split)


def lanes_jax_peer(weights: Weights, epochs: int, chunk: int | None = None) -> Run:
    """The last-axis layout in JAX, split over the CPU devices; ``chunk``: networks a piece
    (``None``: one piece a device)."""
    jax = load_jax()
    nets, dtype = weights[0].shape[0], weights[0].dtype.type
    X, t = xor(dtype)
    cpus = jax.devices("cpu")
    split = cpus if nets % len(cpus) == 0 else cpus[:1]
    pieces = len(split) * (1 if chunk is None else max(1, nets // (len(split) * chunk)))
    if nets % pieces:
        pieces = len(split)
    k = nets // pieces
    mesh = jax.sharding.Mesh(np.array(split), ("s",))
    P = jax.sharding.PartitionSpec
    train = lanes_program(epochs, mesh)
    Xd, td = (jax.device_put(a, jax.sharding.NamedSharding(mesh, P())) for a in (X, t))

    def put(lanes: Lanes) -> list:  # (pieces, 3, 4, k) and (pieces, 4, k), split by piece
        W1 = lanes[0].reshape(3, 4, pieces, k).transpose(2, 0, 1, 3)
        W2 = lanes[1].reshape(4, pieces, k).transpose(1, 0, 2)
        where = jax.sharding.NamedSharding(mesh, P("s"))
        return [jax.device_put(np.ascontiguousarray(w), where) for w in (W1, W2)]

    def get(out: tuple) -> Lanes:
        W1, W2 = (np.asarray(w) for w in out)
        return W1.transpose(1, 2, 0, 3).reshape(3, 4, nets), W2.transpose(1, 0, 2).reshape(4, nets)

    def run() -> tuple[float, Weights]:
        W = put(to_lanes(weights))
        jax.block_until_ready(W)
        seconds, lanes = timed(lambda: get(train(*W, Xd, td)))
        return seconds, from_lanes(lanes)

    run()  # compile before timing
    return run


def lanes_numba_kernel() -> Callable | None:
    """numba: ``train(W1, W2, X, t, epochs, one, chunk)`` in place on the last-axis layout."""
    try:
        import hand_numba  # beside this file
    except ImportError:
        return None
    return hand_numba.train_lanes


def lanes_numba_peer(weights: Weights, epochs: int, chunk: int = 256) -> Run | None:
    train = lanes_numba_kernel()
    if train is None:
        return None
    dtype = weights[0].dtype.type
    X, t = xor(dtype)

    def run() -> tuple[float, Weights]:
        W1, W2 = to_lanes(weights)
        seconds, _ = timed(lambda: train(W1, W2, X, t, epochs, dtype(1), chunk))
        return seconds, from_lanes((W1, W2))

    run()  # compile before timing
    return run


def compare(nets: int, dtype: type, epochs: int, repeats: int, chunk: int) -> dict[str, float]:
    """Interleave the layouts; print networks/s (60000 epochs each) and the ratios to vmap."""
    weights = initial_weights(nets, dtype)
    runs = {"vmap (peers.py)": hand_jax_peer(weights, epochs),
            "last axis, JAX": lanes_jax_peer(weights, epochs),
            f"last axis, JAX, chunks of {chunk}": lanes_jax_peer(weights, epochs, chunk)}
    numba_run = lanes_numba_peer(weights, epochs)
    if numba_run is None:
        print("    last axis, numba: skipped, numba is not installed")
    else:
        runs["last axis, numba"] = numba_run
    times: dict[str, list[float]] = {name: [] for name in runs}
    final: dict[str, Weights] = {}
    for _ in range(repeats):  # interleaved: drifting load hits every layout alike
        for name, run in runs.items():
            seconds, final[name] = run()
            times[name].append(seconds)
    ref = final["vmap (peers.py)"]
    rate = {name: nets * epochs / (statistics.median(ts) * FULL_RUN) for name, ts in times.items()}
    print(f"{nets} networks, {np.dtype(dtype).name}, {epochs} epochs (median of {repeats})")
    for name, r in rate.items():
        worst = max(float(np.max(np.abs(a - b))) for a, b in zip(final[name], ref, strict=True))
        print(f"    {name:32} {r:9.1f} networks/s  {r / rate['vmap (peers.py)']:5.2f}x vmap"
              f"   max |W - vmap's| {worst:.1e}")
    return rate


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nets", type=int, nargs="+", default=[1000, 100000])
    p.add_argument("--epochs", type=int, nargs="+", default=[2000, 100],
                   help="epochs for each of --nets")
    p.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--chunk", type=int, default=1024, help="networks a chunk (JAX)")
    p.add_argument("--quick", action="store_true", help="3 repeats, 200 and 10 epochs")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs = 3, [200, 10]
    for nets, epochs in zip(args.nets, args.epochs, strict=False):
        for dtype in args.dtypes:
            compare(nets, getattr(np, dtype), epochs, args.repeats, args.chunk)


if __name__ == "__main__":
    main()
