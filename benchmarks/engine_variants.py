"""The compiled engine's loop and layout choices, each against hand-written JAX, in one process.

Variants of mlplab's ``engine="jax"`` program (switches of ``mlplab.engines._jax_program``,
each variant with its own program cache), interleaved with ``peers.py``'s hand-written JAX
on the same initial weights, median of ``--repeats`` rounds, printed as mlplab's time / hand
JAX's (one network) or networks/s / hand JAX's (stacks), with the largest weight difference
from hand JAX's:

- one seed network: its epochs in groups of 1 (a plain scan), 4, 8 or 16 (the default), and
  groups of 8 unrolled;
- stacks: ``vmap`` of one network's step, or the networks on the last axis (the default),
  groups unrolled or not (by default unrolled and trusted from ``LONG_BLOCK`` network-epochs),
  and ``layout.py``'s hand-written last-axis prototype.

    OPENBLAS_NUM_THREADS=1 python benchmarks/engine_variants.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from layout import lanes_jax_peer
from peers import Run, hand_jax_peer, initial_weights, seed_net, stacked, timed, xor

import mlplab.engines.jax as engine_jax
from mlplab.engines import _jax_program

DEFAULTS = dict(GROUP=8, GROUP_ONE=16, UNROLL_STACK=True, UNROLL_ONE=False, LANES_ENABLED=True,
                TRUST_GROUPS=True, LONG_BLOCK=_jax_program.LONG_BLOCK)
ONE = {"groups of 1 (a plain scan)": dict(GROUP_ONE=1), "groups of 4": dict(GROUP_ONE=4),
       "groups of 8": dict(GROUP_ONE=8), "groups of 16 (default)": {},
       "groups of 8, unrolled": dict(GROUP_ONE=8, UNROLL_ONE=True)}  # fmt: skip
STACK = {"vmap (a short block's default)": dict(LANES_ENABLED=False),
         "vmap, groups trusted": dict(LANES_ENABLED=False, LONG_BLOCK=0),
         "networks last (a short block's default)": {},
         "networks last, groups trusted": dict(LONG_BLOCK=0, UNROLL_STACK=False),
         "networks last, groups unrolled": dict(LONG_BLOCK=0, TRUST_GROUPS=False),
         "networks last, unrolled, trusted (a long block's)": dict(LONG_BLOCK=0)}  # fmt: skip


def variant_peer(weights: tuple, epochs: int, switches: dict) -> Run:
    """mlplab's fit with ``_jax_program``'s settings ``switches`` over the defaults."""
    nets, dtype = weights[0].shape[0], weights[0].dtype.type
    X, t = xor(np.float64)
    cache = _jax_program.ProgramCache()  # programs compiled under these settings only

    def run() -> tuple[float, tuple]:
        for name, value in (DEFAULTS | switches).items():
            setattr(_jax_program, name, value)
        net = seed_net(nets, dtype)
        engine = engine_jax.JaxEngine(programs=cache)
        return timed(lambda: (net.fit(X, t, epochs=epochs, engine=engine), stacked(net))[1])

    run()  # compile before timing
    return run


def compare(nets: int, epochs: int, dtype: type, repeats: int) -> dict[str, tuple]:
    """Each variant's ratio to hand JAX (time for one network, networks/s for stacks) and
    its largest weight difference from hand JAX's."""
    weights = initial_weights(nets, dtype)
    runs = {"hand JAX": hand_jax_peer(weights, epochs)}
    if nets > 1:
        runs["last-axis prototype (layout.py)"] = lanes_jax_peer(weights, epochs)
    for name, switches in (ONE if nets == 1 else STACK).items():
        runs[name] = variant_peer(weights, epochs, switches)
    times: dict[str, list[float]] = {name: [] for name in runs}
    final = {}
    for _ in range(repeats):  # interleaved: drifting load hits every variant alike
        for name, run in runs.items():
            seconds, final[name] = run()
            times[name].append(seconds)
    for name, value in DEFAULTS.items():
        setattr(_jax_program, name, value)
    hand = statistics.median(times["hand JAX"])
    what = "time / hand JAX's" if nets == 1 else "networks/s / hand JAX's"
    print(f"\n{nets} seed network(s), {np.dtype(dtype).name}, {epochs} epochs: {what} "
          f"(median of {repeats})")  # fmt: skip
    result = {}
    for name, ts in times.items():
        ratio = statistics.median(ts) / hand if nets == 1 else hand / statistics.median(ts)
        worst = max(float(np.abs(a - b).max())
                    for a, b in zip(final[name], final["hand JAX"], strict=True))  # fmt: skip
        result[name] = (ratio, worst)
        print(f"    {name:36} {ratio:5.2f}   max |W - hand JAX's| {worst:.1e}")
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--one-epochs", type=int, default=60000)
    p.add_argument("--nets", type=int, default=1000)
    p.add_argument("--stack-epochs", type=int, default=1000)
    p.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    args = p.parse_args(argv)
    compare(1, args.one_epochs, np.float64, args.repeats)
    for dtype in args.dtypes:
        compare(args.nets, args.stack_epochs, getattr(np, dtype), args.repeats)


if __name__ == "__main__":
    main()
