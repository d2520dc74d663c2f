"""``benchmarks/sweep.py`` compares like with like (its speed is not tested here): both ways
give the same cells' counts, and each starts with nothing compiled by the other."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import require

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import sweep as bench


def test_both_ways_give_the_same_counts_on_a_small_grid() -> None:
    cells = bench.grid("numpy", 40, [0.5, 2.0], [2, 3], 3)
    _, _, by_cell = bench.timed(bench.by_cell, cells)
    _, _, one = bench.timed(bench.one_program, cells)
    assert len(by_cell) == len(one) == 4
    assert bench._counts(by_cell) == bench._counts(one)


def test_each_way_starts_with_no_compiled_program(monkeypatch) -> None:
    require("jax")
    from mlplab.engines.jax import JaxEngine

    cells = bench.grid("jax", 20, [0.5], [2], 2)
    bench.by_cell(cells)  # leaves its program in the engine's cache
    assert len(JaxEngine.shared_programs) > 0
    seen = []
    bench.timed(lambda c: seen.append(len(JaxEngine.shared_programs)) or [], cells)
    assert seen == [0]
