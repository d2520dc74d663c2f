"""The engine's benchmarks run what they say (their speed figures are not tested here):
``busy_core.py`` measures both peers quiet and with a busy loop it starts and ends itself;
``engine_variants.py``'s variants of the compiled program train the networks hand JAX does."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from conftest import require

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import busy_core
import engine_variants
import peers
import pytest


def test_both_peers_quiet_and_busy_and_the_busy_loop_ended(monkeypatch):
    require("jax")
    started = []
    start = busy_core.busy

    def tracked(core):
        process = start(core)
        started.append(process)
        return process

    monkeypatch.setattr(busy_core, "busy", tracked)
    rate = busy_core.measure(peers.Case(8, 20, np.float64), repeats=1, core=0)
    assert set(rate) == {"quiet", "busy"}
    for by_peer in rate.values():
        assert set(by_peer) == {"mlplab", "hand JAX"}
        assert all(r > 0 for r in by_peer.values())
    assert len(started) == 1 and started[0].poll() is not None  # killed and reaped


@pytest.mark.parametrize("nets", [1, 8])
def test_every_engine_variant_trains_what_hand_jax_trains(nets):
    require("jax")
    result = engine_variants.compare(nets, 12, np.float64, repeats=1)
    names = engine_variants.ONE if nets == 1 else engine_variants.STACK
    assert set(names) | {"hand JAX"} <= set(result)
    for ratio, worst in result.values():
        assert ratio > 0 and worst <= 1e-9
