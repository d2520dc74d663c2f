"""Engine ``jax``'s loop over a block's epochs: run in groups (``_grouped_scan``), it gives
what ``lax.scan`` gives, carry and every step's outputs, bit for bit, whatever the length;
a one-network fit whose block length is not a multiple of the group stays the NumPy
engine's (1e-9)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import missing_optional

from mlplab import MLP, load_dataset
from mlplab.errors import ConfigError

try:  # the engine configures JAX before anything imports it
    import mlplab.engines.jax  # noqa: F401
    from mlplab.engines import _jax_program
except ConfigError:
    missing_optional("jax is not installed")

import jax
import jax.numpy as jnp
from jax import lax


def body(carry, xs):
    """A step with a carry of two arrays, inputs with a missing one, outputs of two shapes."""
    rate, missing, epoch = xs
    assert missing is None
    w, total = carry
    w = jnp.tanh(w * rate + epoch)
    total = total + w.sum()
    return (w, total), {"loss": total, "row": w * 2}


@pytest.mark.parametrize("unroll", [1, 4])
@pytest.mark.parametrize("length", [1, 3, 8, 13, 16, 29])
def test_grouped_scan_equals_scan(length, unroll):
    carry = (jnp.linspace(-1, 1, 3), jnp.zeros(()))
    xs = (jnp.linspace(0.1, 0.9, length), None, jnp.arange(length, dtype=jnp.float64) / 7)
    want_carry, want = jax.jit(lambda c, x: lax.scan(body, c, x))(carry, xs)
    grouped = jax.jit(lambda c, x: _jax_program._grouped_scan(body, c, x, 4, unroll))
    got_carry, got = grouped(carry, xs)
    for a, b in zip(jax.tree.leaves((want_carry, want)), jax.tree.leaves((got_carry, got)),
                    strict=True):  # fmt: skip
        assert a.shape == b.shape
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert got["loss"].shape == (length,) and got["row"].shape == (length, 3)


@pytest.mark.parametrize("epochs", [5, 21])
def test_one_network_block_off_the_group_matches_numpy(epochs):
    X, t = load_dataset("xor")
    nets = {}
    for engine in ("numpy", "jax"):
        net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
        nets[engine] = (net, net.fit(X, t, epochs=epochs, lr=1.0, engine=engine))
    (ref, ref_hist), (net, hist) = nets["numpy"], nets["jax"]
    assert len(hist.loss) == len(ref_hist.loss) == epochs
    np.testing.assert_allclose(hist.loss, ref_hist.loss, rtol=0, atol=1e-9)
    for a, b in zip(net.params, ref.params, strict=True):
        np.testing.assert_allclose(a["W"], b["W"], rtol=0, atol=1e-9)
