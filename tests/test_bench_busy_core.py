"""``benchmarks/busy_core.py`` measures both peers quiet and with a busy loop it starts and
ends itself (its speed figures are not tested here)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from conftest import require

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import busy_core
import peers


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
