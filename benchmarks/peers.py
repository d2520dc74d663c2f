"""mlplab's compiled engine against the same math written by hand: JAX, numba, PyTorch.

The seed's network (3-4-1, sigmoid, no bias, init "seed", lr 1, full batch on XOR), trained by:

- ``mlplab``: ``MLP(..., stack=K).fit(..., engine="jax")``, the product;
- ``hand JAX``: the seed's step by hand, ``vmap``-ed over the stack inside one ``fori_loop``,
  split over the CPU devices along the stack, with the XLA flags mlplab sets (one device per
  core, ``--xla_cpu_multi_thread_eigen=false``, float64 enabled): JAX is imported through
  mlplab's own ``load_jax`` so both run under the same configuration;
- ``numba``: ``prange`` over the networks (2 threads), each network's epochs in scalar loops;
- ``torch bmm``: batched matrix products over the stack, the seed's backward by hand (2 threads);
- ``torch vmap``: ``torch.func.vmap`` of one network's step (2 threads).

(numba's and torch's threads: ``--threads``.)

Cases: one network (60000 epochs, also against the seed's 11 lines, ``seed_loop.py``) and
stacks of 1000 and 100000 (fewer epochs, scaled to 60000), float64 and float32. Each case runs
its peers interleaved in this one process, ``--repeats`` rounds, and reports the median:
networks trained per second (60000 epochs each) as a multiple of the seed loop's, and
mlplab / hand JAX. Every peer starts from mlplab's initial weights and its final weights are
compared with mlplab's (the largest difference is printed). numba and torch are optional:
a missing one is skipped, and said.

    OPENBLAS_NUM_THREADS=1 python benchmarks/peers.py            # the full run (minutes)
    OPENBLAS_NUM_THREADS=1 python benchmarks/peers.py --quick    # a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from seed_loop import seed_loop as seed_program  # beside this file

from mlplab import MLP, load_dataset
from mlplab.engines._jax_setup import load_jax

FULL_RUN = 60000  # the seed's epochs: networks/s is networks trained for 60000 epochs a second
THREADS = 2  # numba's and torch's threads by default: one per core of the project's machine

Weights = tuple[np.ndarray, np.ndarray]  # W1 (K, 3, 4), W2 (K, 4, 1): a stack of K networks
Run = Callable[[], tuple[float, Weights]]  # trains from the initial weights: (seconds, weights)
Peer = Callable[[Weights, int], Run]  # (initial weights, epochs) -> a run, compiled and warm


@dataclass(frozen=True)
class Case:
    """One comparison: ``nets`` networks of ``dtype``, timed over ``epochs`` epochs."""

    nets: int
    epochs: int
    dtype: type


def xor(dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """The seed's data: ``X`` (4, 3) and ``t`` (4, 1) as ``dtype``."""
    X, t = load_dataset("xor")
    return X.astype(dtype), t.astype(dtype)


def seed_net(nets: int, dtype: type) -> MLP:
    """mlplab's seed network, or a stack of ``nets`` of them (network i seeded with i)."""
    stack = None if nets == 1 else nets
    return MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=stack, dtype=dtype)


def stacked(net: MLP) -> Weights:
    """A copy of a network's weights as a C-ordered stack (one network: a stack of one).

    A copy: mlplab may store a stack's weights stack-last, and its (K, 3, 4) a view of them.
    """
    W1, W2 = (np.array(layer["W"], order="C") for layer in net.params)
    return (W1, W2) if W1.ndim == 3 else (W1[None], W2[None])


def initial_weights(nets: int, dtype: type) -> Weights:
    return stacked(seed_net(nets, dtype))


def timed(fn: Callable[[], Weights]) -> tuple[float, Weights]:
    start = time.perf_counter()
    weights = fn()
    return time.perf_counter() - start, weights


# ---- mlplab -----------------------------------------------------------------------------


def mlplab_peer(weights: Weights, epochs: int, device: str | None = None) -> Run:
    """``MLP.fit(engine="jax")``; ``device`` ``"cpu"`` or ``"gpu"`` (default: JAX's)."""
    nets, dtype = weights[0].shape[0], weights[0].dtype.type
    X, t = xor(np.float64)
    where = {} if device is None else {"device": device}

    def run() -> tuple[float, Weights]:
        net = seed_net(nets, dtype)  # built outside the timed part, as the other peers' copies

        def fit() -> Weights:
            net.fit(X, t, epochs=epochs, engine="jax", **where)
            return stacked(net)

        return timed(fit)

    run()  # compile (and fill the cache) before timing
    return run


# ---- hand-written JAX -------------------------------------------------------------------


def seed_step(jnp, W1, W2, X, t):
    """One epoch of the seed's 11 lines for one network, in ``jax.numpy``."""
    h = 1 / (1 + jnp.exp(-(X @ W1)))
    y = 1 / (1 + jnp.exp(-(h @ W2)))
    y_delta = (t - y) * (y * (1 - y))
    h_delta = (y_delta @ W2.T) * (h * (1 - h))
    return W1 + X.T @ h_delta, W2 + h.T @ y_delta


def hand_jax_program(epochs: int, stacked_: bool) -> Callable:
    """``jit`` of ``epochs`` steps in a ``fori_loop``; ``vmap``-ed over the stack if stacked."""
    jax = load_jax()
    jnp = jax.numpy

    def step(W1, W2, X, t):
        return seed_step(jnp, W1, W2, X, t)

    one = jax.vmap(step, in_axes=(0, 0, None, None)) if stacked_ else step

    def train(W1, W2, X, t):
        return jax.lax.fori_loop(0, epochs, lambda _, w: one(*w, X, t), (W1, W2))

    return jax.jit(train)


def hand_jax_placement(nets: int) -> tuple:
    """(shared, split) shardings: replicated, and along the stack over the CPU devices."""
    jax = load_jax()
    cpus = jax.devices("cpu")
    split = cpus if nets > 1 and nets % len(cpus) == 0 else cpus[:1]
    mesh = jax.sharding.Mesh(np.array(split), ("s",))
    P = jax.sharding.PartitionSpec
    return jax.sharding.NamedSharding(mesh, P()), jax.sharding.NamedSharding(mesh, P("s"))


def hand_jax_peer(weights: Weights, epochs: int, devices: list | None = None) -> Run:
    """The seed's step by hand in JAX; ``devices``: split over these (default: CPU devices)."""
    jax = load_jax()
    nets, dtype = weights[0].shape[0], weights[0].dtype.type
    X, t = xor(dtype)
    train = hand_jax_program(epochs, stacked_=nets > 1)
    if devices is None:
        shared, split = hand_jax_placement(nets)
    else:
        mesh = jax.sharding.Mesh(np.array(devices), ("s",))
        P = jax.sharding.PartitionSpec
        shared, split = (jax.sharding.NamedSharding(mesh, P(*p)) for p in ((), ("s",)))
    Xd, td = (jax.device_put(a, shared) for a in (X, t))

    def run() -> tuple[float, Weights]:
        if nets > 1:
            W = [jax.device_put(w, split) for w in weights]
        else:
            W = [jax.device_put(w[0], shared) for w in weights]
        jax.block_until_ready(W)

        def train_() -> Weights:
            W1, W2 = (np.asarray(w) for w in train(*W, Xd, td))
            return (W1, W2) if nets > 1 else (W1[None], W2[None])

        return timed(train_)

    run()  # compile before timing
    return run


# ---- numba --------------------------------------------------------------------------------


def numba_kernels() -> tuple[Callable, Callable] | None:
    """``(serial, parallel)`` trainers of a stack in place, or ``None`` without numba."""
    try:
        import hand_numba  # beside this file
    except ImportError:
        return None
    return hand_numba.train_serial, hand_numba.train_stack


def numba_peer(weights: Weights, epochs: int) -> Run | None:
    """numba: ``prange`` over the networks (one network: serial)."""
    kernels = numba_kernels()
    if kernels is None:
        return None
    serial, parallel = kernels
    train = serial if weights[0].shape[0] == 1 else parallel
    dtype = weights[0].dtype.type
    X, t = xor(dtype)

    def run() -> tuple[float, Weights]:
        W1, W2 = (w.copy() for w in weights)

        def train_() -> Weights:
            train(W1, W2, X, t, epochs, dtype(1))
            return W1, W2

        return timed(train_)

    run()  # compile before timing
    return run


# ---- PyTorch ------------------------------------------------------------------------------


def torch_peer(weights: Weights, epochs: int, how: str) -> Run | None:
    """PyTorch: ``how`` ``"bmm"`` (batched products) or ``"vmap"``."""
    try:
        import torch
    except ImportError:
        return None
    nets, dtype = weights[0].shape[0], weights[0].dtype.type
    X, t = (torch.from_numpy(a) for a in xor(dtype))
    if how == "bmm":  # X as a stack (a view), so that every product is one torch.bmm
        X = X.expand(nets, 4, 3)
        step = torch_bmm_step
    else:
        step = torch_vmap_step(torch)

    def run() -> tuple[float, Weights]:
        W1, W2 = (torch.from_numpy(w.copy()) for w in weights)

        def train() -> Weights:
            nonlocal W1, W2
            with torch.no_grad():
                for _ in range(epochs):
                    W1, W2 = step(W1, W2, X, t)
            return W1.numpy(), W2.numpy()

        return timed(train)

    return run


def torch_bmm_step(W1, W2, X, t):
    """One epoch of a stack with ``torch.bmm`` (``X`` stacked, ``t`` broadcast); in place."""
    from torch import bmm

    h = 1 / (1 + (-bmm(X, W1)).exp())
    y = 1 / (1 + (-bmm(h, W2)).exp())
    y_delta = (t - y) * (y * (1 - y))
    h_delta = bmm(y_delta, W2.transpose(1, 2)) * (h * (1 - h))
    W2 += bmm(h.transpose(1, 2), y_delta)
    W1 += bmm(X.transpose(1, 2), h_delta)
    return W1, W2


def torch_vmap_step(torch):
    """One epoch of a stack as ``torch.func.vmap`` of one network's step."""

    def one(W1, W2, X, t):
        h = 1 / (1 + (-(X @ W1)).exp())
        y = 1 / (1 + (-(h @ W2)).exp())
        y_delta = (t - y) * (y * (1 - y))
        h_delta = (y_delta @ W2.T) * (h * (1 - h))
        return W1 + X.T @ h_delta, W2 + h.T @ y_delta

    return torch.func.vmap(one, in_dims=(0, 0, None, None))


# ---- the comparison -----------------------------------------------------------------------

PEERS: dict[str, Callable[[Weights, int], Run | None]] = {
    "mlplab": mlplab_peer,
    "hand JAX": hand_jax_peer,
    "numba": numba_peer,
    "torch bmm": lambda w, e: torch_peer(w, e, "bmm"),
    "torch vmap": lambda w, e: torch_peer(w, e, "vmap"),
}
OPTIONAL = {"numba": "numba", "torch bmm": "torch", "torch vmap": "torch"}


def seed_run(epochs: int) -> Run:
    """The seed's 11 lines (one network, float64), timed; its weights are not compared."""

    def run() -> tuple[float, Weights]:
        seconds, _ = timed(lambda: seed_program(epochs))
        return seconds, (np.empty(0), np.empty(0))

    return run


SLOW_ALONE = {"torch bmm", "torch vmap"}  # one network: ms a step, so 1/20 of the epochs


def prepared(case: Case, names: list[str]) -> tuple[dict[str, Run], dict[str, int]]:
    """The case's runs, compiled and warm, and the epochs of those that run fewer than the
    case's; a missing optional peer is skipped and said."""
    weights = initial_weights(case.nets, case.dtype)
    runs: dict[str, Run] = {}
    fewer: dict[str, int] = {}
    for name in names:
        epochs = case.epochs
        if case.nets == 1 and name in SLOW_ALONE:
            epochs = fewer[name] = max(1, case.epochs // 20)
            print(f"    {name}: timed over {epochs} epochs (scaled), weights not compared")
        run = PEERS[name](weights, epochs)
        if run is None:
            print(f"    {name}: skipped, {OPTIONAL[name]} is not installed")
        else:
            runs[name] = run
    return runs, fewer


def compare(case: Case, names: list[str], repeats: int, seed_epochs: int) -> dict[str, float]:
    """The named peers against the seed loop: ``compare_runs`` of their runs."""
    runs, fewer = prepared(case, names)
    return compare_runs(case, runs, repeats, seed_epochs, fewer)


def compare_runs(case: Case, runs: dict[str, Run], repeats: int, seed_epochs: int,
                 fewer: dict[str, int] | None = None) -> dict[str, float]:  # fmt: skip
    """Interleave ``runs`` and the seed loop; print and return networks/s of each.

    ``fewer``: the epochs of runs timed over fewer epochs than the case's (scaled).
    """
    epochs = {name: case.epochs for name in runs} | (fewer or {}) | {"seed loop": seed_epochs}
    runs = runs | {"seed loop": seed_run(seed_epochs)}
    times: dict[str, list[float]] = {name: [] for name in runs}
    final: dict[str, Weights] = {}
    for _ in range(repeats):  # interleaved: drifting load hits every peer alike
        for name, run in runs.items():
            seconds, weights = run()
            times[name].append(seconds)
            if epochs[name] == case.epochs and name != "seed loop":
                final[name] = weights
    rate = {}  # networks trained for FULL_RUN epochs, a second
    for name in runs:
        nets = 1 if name == "seed loop" else case.nets
        rate[name] = nets * epochs[name] / (statistics.median(times[name]) * FULL_RUN)
    report(case, rate, final, times)
    return rate


def report(case: Case, rate: dict[str, float], final: dict[str, Weights],
           times: dict[str, list[float]]) -> None:  # fmt: skip
    seed = rate["seed loop"]
    ref = final.get("mlplab")
    print(f"{'':12} {'networks/s':>11} {'x seed loop':>12} {'time/seed':>10} {'median s':>9}"
          "  max |W - mlplab's|")
    for name, r in rate.items():
        diff = ""
        if ref is not None and name in final:
            worst = max(float(np.max(np.abs(a - b))) for a, b in zip(final[name], ref, strict=True))
            diff = f"{worst:.1e}"
        print(f"{name:12} {r:11.2f} {r / seed:12.2f} {seed / r:10.4f} "
              f"{statistics.median(times[name]):9.4f}  {diff}")
    if "mlplab" in rate and "hand JAX" in rate:
        print(f"RESULT {case.nets} networks, {np.dtype(case.dtype).name}: mlplab / hand JAX "
              f"{rate['mlplab'] / rate['hand JAX']:.2f}x networks/s "
              f"({rate['mlplab'] / seed:.0f}x and {rate['hand JAX'] / seed:.0f}x the seed loop)")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 3 repeats, 6000 / 300 / 10 epochs, 1000 and 20000 networks")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--one-epochs", type=int, default=FULL_RUN, help="one network's epochs")
    p.add_argument("--stacks", type=int, nargs="+", default=[1000, 100000])
    p.add_argument("--stack-epochs", type=int, default=2000, help="for stacks up to 10000")
    p.add_argument("--big-epochs", type=int, default=100, help="for stacks over 10000")
    p.add_argument("--seed-epochs", type=int, default=6000, help="the seed loop's, for stacks")
    p.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    p.add_argument("--peers", nargs="+", default=list(PEERS), choices=list(PEERS))
    p.add_argument("--threads", type=int, default=THREADS, help="numba's and torch's")
    p.add_argument("--skip-one", action="store_true", help="no one-network case")
    if p.parse_args(argv).quick:  # new defaults; options given with --quick still win
        p.set_defaults(repeats=3, one_epochs=6000, stack_epochs=300, big_epochs=10,
                       seed_epochs=3000, stacks=[1000, 20000])  # fmt: skip
    return p.parse_args(argv)


def set_threads(threads: int) -> None:
    """numba's and torch's threads, where they are installed."""
    with contextlib.suppress(ImportError):
        import numba

        numba.set_num_threads(threads)
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    set_threads(args.threads)
    jax = load_jax()
    print(f"JAX devices: {jax.devices()}; numba/torch threads: {args.threads}; "
          f"median of {args.repeats} interleaved rounds")  # fmt: skip
    if not args.skip_one:
        case = Case(1, args.one_epochs, np.float64)
        print(f"\none seed network, float64, {case.epochs} epochs")
        compare(case, args.peers, args.repeats, case.epochs)
    for nets in args.stacks:
        for dtype in args.dtypes:
            epochs = args.stack_epochs if nets <= 10000 else args.big_epochs
            case = Case(nets, epochs, getattr(np, dtype))
            print(f"\n{nets} stacked seed networks, {dtype}, {epochs} epochs scaled to "
                  f"{FULL_RUN}; the seed loop over {args.seed_epochs}")  # fmt: skip
            compare(case, args.peers, args.repeats, args.seed_epochs)


if __name__ == "__main__":
    main()
