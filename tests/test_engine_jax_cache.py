"""The JAX engine's compiled programs: kept by a bounded cache the engine holds, the least
recently used dropped and freed (issue 23: 200 architectures grew a process to 681 MB)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import numpy as np
from conftest import missing_optional

from mlplab import MLP, load_dataset
from mlplab.errors import ConfigError

try:  # the engine configures JAX (CPU flags, one device per core) before anything imports it
    from mlplab.engines import _jax_program
    from mlplab.engines.jax import JaxEngine
except ConfigError:
    missing_optional("jax is not installed")


def test_the_program_cache_stays_at_its_bound_and_frees_what_it_drops():
    cache = _jax_program.ProgramCache(size=3)
    engine = JaxEngine("cpu", programs=cache)
    X, T = load_dataset("xor")
    held = []
    for hidden in range(2, 8):  # six architectures: six programs
        MLP([3, hidden, 1], seed=0).fit(X, T, epochs=3, engine=engine)
        held.append(weakref.ref(next(reversed(cache._programs.values()))))
        assert len(cache) == min(len(held), 3)
    gc.collect()
    alive = [ref() is not None for ref in held]
    assert alive == [False, False, False, True, True, True]  # the oldest three freed
    assert _jax_program.MAX_PROGRAMS == JaxEngine.shared_programs.size == 64


def test_a_program_used_again_is_kept_and_not_compiled_again():
    cache = _jax_program.ProgramCache(size=2)
    engine = JaxEngine("cpu", programs=cache)
    X, T = load_dataset("xor")

    def newest():
        return next(reversed(cache._programs.values()))

    first = MLP([3, 4, 1], seed=0).fit(X, T, epochs=3, engine=engine)
    program = newest()
    MLP([3, 5, 1], seed=0).fit(X, T, epochs=3, engine=engine)
    MLP([3, 4, 1], seed=0).fit(X, T, epochs=3, engine=engine)  # used again: now the newest
    assert newest() is program and len(cache) == 2
    MLP([3, 6, 1], seed=0).fit(X, T, epochs=3, engine=engine)  # drops [3, 5, 1], the oldest
    assert program in cache._programs.values() and len(cache) == 2
    last = MLP([3, 4, 1], seed=0).fit(X, T, epochs=3, engine=engine)
    assert newest() is program  # the same compiled program ran
    np.testing.assert_array_equal(last.loss, first.loss)


def test_a_size_bound_on_the_disk_cache_works_as_installed(tmp_path):
    """``MLPLAB_JAX_CACHE_MAX_BYTES`` bounds JAX's on-disk cache, which then locks its entries
    with ``filelock``: the ``jax`` extra installs it (without it every read of the cache
    warned, and nothing was kept)."""
    cache = tmp_path / "cache"
    env = {**os.environ, "MLPLAB_JAX_CACHE": str(cache), "MLPLAB_JAX_CACHE_MAX_BYTES": "100000000"}
    code = ("import mlplab; X, t = mlplab.load_dataset('xor'); "
            "mlplab.MLP([3, 2, 1], seed=0).fit(X, t, epochs=3, engine='jax')")  # fmt: skip
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert any(cache.iterdir()), "no compiled program kept on disk"
