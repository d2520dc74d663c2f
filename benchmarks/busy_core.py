"""A stack's networks/s with one core busy, against the same stack on a quiet machine.

Issue 24: with one core busy, a stack of 1000 seed networks should keep at least half its
quiet networks/s (losing that core outright would halve it). Each round runs mlplab
(``engine="jax"``) and the hand-written JAX peer of ``peers.py`` quiet, then again while a
busy loop pinned to one core (``taskset -c CORE python -c 'while True: pass'``, started
and ended by this script, by its process id) competes with them; the median of each over
the rounds, and busy / quiet, are printed.

    OPENBLAS_NUM_THREADS=1 python benchmarks/busy_core.py [--nets 1000] [--epochs 2000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
from peers import FULL_RUN, Case, prepared

BUSY_LOOP = "while True: pass"


def busy(core: int) -> subprocess.Popen:
    """A busy loop pinned to ``core`` (``taskset``), or unpinned where taskset is missing."""
    pin = ["taskset", "-c", str(core)] if shutil.which("taskset") else []
    process = subprocess.Popen([*pin, sys.executable, "-c", BUSY_LOOP])
    time.sleep(0.5)  # running before the timing starts
    return process


def measure(case: Case, repeats: int, core: int) -> dict[str, dict[str, float]]:
    """networks/s of each peer, quiet and busy (median of ``repeats`` rounds)."""
    runs, _ = prepared(case, ["mlplab", "hand JAX"])
    times: dict[str, dict[str, list[float]]] = {m: {n: [] for n in runs} for m in ("quiet", "busy")}
    for _ in range(repeats):
        for mode in ("quiet", "busy"):
            loop = busy(core) if mode == "busy" else None
            try:
                for name, run in runs.items():
                    times[mode][name].append(run()[0])
            finally:
                if loop is not None:
                    loop.kill()
                    loop.wait()
    return {mode: {name: case.nets * case.epochs / (statistics.median(ts) * FULL_RUN)
                   for name, ts in by_name.items()}
            for mode, by_name in times.items()}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nets", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--core", type=int, default=1, help="the core kept busy")
    p.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    args = p.parse_args(argv)
    for dtype in args.dtypes:
        case = Case(args.nets, args.epochs, getattr(np, dtype))
        rate = measure(case, args.repeats, args.core)
        print(f"\n{args.nets} seed networks, {dtype}, {args.epochs} epochs, core {args.core} busy "
              f"in the busy rounds (median of {args.repeats})")  # fmt: skip
        print(f"{'':10} {'quiet':>10} {'busy':>10} {'busy/quiet':>11}  networks/s")
        for name in rate["quiet"]:
            quiet, loaded = rate["quiet"][name], rate["busy"][name]
            print(f"{name:10} {quiet:10.1f} {loaded:10.1f} {loaded / quiet:11.2f}")


if __name__ == "__main__":
    main()
