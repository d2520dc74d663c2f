"""The benchmark scripts' peers compute what mlplab computes (their speed is not tested here).

``benchmarks/peers.py``, ``layout.py``, ``limit.py`` and ``gpu.py`` compare mlplab's compiled
engine with the seed's math written by hand; a comparison only means something if every
peer trains the same networks. Each peer here trains a small stack from mlplab's initial
weights, and its weights must equal the NumPy engine's to 1e-9 (float64).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import gpu
import layout
import limit
import peers

from mlplab import MLP, load_dataset

NETS, EPOCHS = 8, 200


def reference(nets: int = NETS, epochs: int = EPOCHS) -> peers.Weights:
    """mlplab's NumPy engine: the weights every peer must reach."""
    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=None if nets == 1 else nets)
    net.fit(X, t, epochs=epochs, engine="numpy")
    return peers.stacked(net)


def assert_same(got: peers.Weights, want: peers.Weights) -> None:
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def trained(peer: peers.Peer, nets: int = NETS, **options: object) -> peers.Weights:
    run = peer(peers.initial_weights(nets, np.float64), EPOCHS, **options)
    seconds, weights = run()
    assert seconds > 0
    return weights


def test_initial_weights_are_mlplabs_seeded_networks():
    W1, W2 = peers.initial_weights(3, np.float64)
    assert W1.shape == (3, 3, 4) and W2.shape == (3, 4, 1)
    np.random.seed(2)  # network i of the stack is the seed's network seeded with i
    np.testing.assert_array_equal(W1[2], 2 * np.random.random((3, 4)) - 1)


@pytest.mark.parametrize("nets", [1, NETS])
def test_mlplab_and_hand_jax_equal_the_numpy_engine(nets):
    assert_same(trained(peers.mlplab_peer, nets), reference(nets))
    assert_same(trained(peers.hand_jax_peer, nets), reference(nets))


def test_the_hand_written_jax_trains_from_the_given_weights_not_its_own():
    weights = peers.initial_weights(NETS, np.float64)
    moved = (weights[0] + 0.5, weights[1])
    _, got = peers.hand_jax_peer(moved, EPOCHS)()
    assert np.max(np.abs(got[0] - reference()[0])) > 1e-3


@pytest.mark.parametrize("nets", [1, NETS])
def test_numba_equals_the_numpy_engine(nets):
    require("numba")
    assert_same(trained(peers.numba_peer, nets), reference(nets))


@pytest.mark.parametrize("how", ["bmm", "vmap"])
def test_torch_equals_the_numpy_engine(how):
    require("torch")
    assert_same(trained(peers.torch_peer, how=how), reference())


def test_a_float32_peer_stays_float32_and_near_the_reference():
    _, (W1, W2) = peers.hand_jax_peer(peers.initial_weights(NETS, np.float32), EPOCHS)()
    assert W1.dtype == np.float32 and W2.dtype == np.float32
    np.testing.assert_allclose(W1, reference()[0], atol=1e-4)


def test_the_last_axis_layout_round_trips():
    weights = peers.initial_weights(5, np.float64)
    lanes = layout.to_lanes(weights)
    assert lanes[0].shape == (3, 4, 5) and lanes[1].shape == (4, 5)
    assert_same(layout.from_lanes(lanes), weights)


@pytest.mark.parametrize("chunk", [None, 2])
def test_the_last_axis_layout_in_jax_equals_the_numpy_engine(chunk):
    assert_same(trained(layout.lanes_jax_peer, chunk=chunk), reference())


def test_the_last_axis_layout_in_numba_equals_the_numpy_engine():
    require("numba")
    assert_same(trained(layout.lanes_numba_peer, chunk=3), reference())


def test_the_ceiling_counts_every_operation_at_its_rate():
    rates = dict.fromkeys(limit.OPS, 1e9)  # one of each a nanosecond
    serial, overlapped = limit.ceiling(rates, cores=2)
    per_epoch = sum(limit.OPS.values()) * 1e-9
    assert serial == pytest.approx(2 / (per_epoch * peers.FULL_RUN))
    assert overlapped == pytest.approx(2 / (max(limit.OPS.values()) * 1e-9 * peers.FULL_RUN))
    assert limit.OPS == {"fma": 128, "add/mul": 100, "exp": 20, "div": 20}


def test_gpu_benchmark_says_it_found_no_gpu(monkeypatch, capsys):
    monkeypatch.setattr(gpu, "gpus", lambda: [])
    assert gpu.main(["--nets", "8"]) == 1
    err = capsys.readouterr().err
    assert "no GPU" in err and "pip install 'jax[cuda12]'" in err


def test_gpu_benchmark_runs_its_measurement_on_the_cpu(capsys):
    argv = ["--device", "cpu", "--nets", "8", "--epochs", "20", "--repeats", "1",
            "--seed-epochs", "10", "--dtypes", "float64"]  # fmt: skip
    assert gpu.main(argv) == 0
    out = capsys.readouterr().out
    assert "RESULT 8 networks, float64: mlplab / hand JAX" in out
    hand = next(line for line in out.splitlines() if line.startswith("hand JAX"))
    assert float(hand.split()[-1]) < 1e-9  # its weights' largest difference from mlplab's
