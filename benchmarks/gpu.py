"""100000 seed networks trained on a GPU by mlplab's compiled engine, when JAX finds a GPU.

Trains a stack of ``--nets`` seed networks (3-4-1, sigmoid, no bias, init "seed", lr 1, full
batch on XOR) with ``MLP(..., stack=N).fit(..., engine="jax", device="gpu")`` and, beside it,
the same math by hand in JAX on the same GPU (``peers.py``'s ``vmap`` peer), interleaved with the
seed's 11 lines on the CPU (one network, ``seed_loop.py``), median of ``--repeats``; prints
networks/s (60000 epochs each), the multiple of the seed loop's and mlplab / hand JAX, and
the largest difference between the two peers' weights.

Where JAX finds no GPU it says so on stderr, with the install line, and exits with status 1
(nothing was measured). ``--device cpu`` runs the same measurement on the CPU devices instead.
On a CUDA machine:

    pip install 'jax[cuda12]'
    python benchmarks/gpu.py [--nets 100000] [--epochs 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from peers import Case, Run, compare_runs, hand_jax_peer, initial_weights, mlplab_peer

from mlplab.engines._jax_setup import load_jax

NO_GPU = (
    "gpu.py: JAX finds no GPU here (jax.devices('gpu') is empty), so nothing was measured. "
    "On a machine with an NVIDIA GPU and CUDA 12: pip install 'jax[cuda12]', then run again "
    "(or pass --device cpu to run this benchmark on the CPU)."
)


def gpus() -> list:
    """The GPUs JAX finds (empty where it finds none or has no GPU backend)."""
    jax = load_jax()
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


def runs_on(devices: list, kind: str, case: Case) -> dict[str, Run]:
    """mlplab and the hand-written JAX peer, both on ``devices`` (of ``kind``)."""
    weights = initial_weights(case.nets, case.dtype)
    return {"mlplab": mlplab_peer(weights, case.epochs, device=kind),
            "hand JAX": hand_jax_peer(weights, case.epochs, devices=devices)}  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nets", type=int, default=100000)
    p.add_argument("--epochs", type=int, default=2000, help="epochs timed, scaled to 60000")
    p.add_argument("--seed-epochs", type=int, default=3000, help="the seed loop's, on the CPU")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    p.add_argument("--device", choices=["gpu", "cpu"], default="gpu")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    jax = load_jax()
    devices = gpus() if args.device == "gpu" else jax.devices("cpu")
    if not devices:
        print(NO_GPU, file=sys.stderr)
        return 1
    print(f"devices: {devices}; median of {args.repeats} interleaved rounds")
    for dtype in args.dtypes:
        case = Case(args.nets, args.epochs, getattr(np, dtype))
        print(f"\n{case.nets} stacked seed networks, {dtype}, {case.epochs} epochs scaled to "
              f"60000, on {args.device}; the seed loop (CPU) over {args.seed_epochs}")  # fmt: skip
        compare_runs(case, runs_on(devices, args.device, case), args.repeats, args.seed_epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
