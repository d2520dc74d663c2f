"""A stack with the networks on the last axis (engine ``jax``'s ``Lanes``): the library's
math run on the whole stack at once gives the NumPy engine's History and weights (1e-9),
as ``vmap`` of one network's step does, for every feature the step has: biases, softmax
and cross-entropy, mean and summed losses, sample weights, mini-batches with a remainder,
validation and accuracy, every optimizer, L1 and L2, per-network rates and settings,
narrower networks (masks) and a diverging network frozen at its epoch."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import missing_optional

from mlplab import MLP, load_dataset
from mlplab.errors import ConfigError
from mlplab.train.job import prepare_job
from mlplab.train.optimizers import Adam, Momentum, Nesterov
from mlplab.train.regularization import L1, L2

try:  # the engine configures JAX before anything imports it
    import mlplab.engines.jax  # noqa: F401
    from mlplab.engines import _jax_lanes, _jax_program
except ConfigError:
    missing_optional("jax is not installed")

import jax.numpy as jnp

XOR = load_dataset("xor")
K = 5
RNG = np.random.default_rng(4)
X3 = RNG.normal(size=(11, 3))
Y3 = RNG.integers(0, 3, size=11)
CASES = {
    "seed": lambda: (MLP([3, 4, 1], bias=False, init="seed", stack=K, seed=0), *XOR,
                     dict(epochs=40, lr=1.0)),
    "bias, tanh, adam, l2, minibatch, validation, accuracy": lambda: (
        MLP([3, 5, 1], stack=K, seed=2, activation="tanh"), *XOR,
        dict(epochs=30, optimizer=Adam(0.05), weight_decay=0.01, batch_size=3,
             validation=XOR, metrics=("accuracy",), seed=3)),
    "softmax, cross-entropy, mean, weights, nesterov, l1": lambda: (
        MLP([3, 6, 3], stack=K, seed=1, activation="relu", output_activation="softmax",
            loss="cross_entropy", reduction="mean"), X3, Y3,
        dict(epochs=25, optimizer=Nesterov(0.1, momentum=0.8), weight_decay=[L1(0.001)],
             sample_weight=np.linspace(0.5, 2, 11), batch_size=4, seed=0)),
    "per-network rates and momenta, widths": lambda: (
        MLP([2, 6, 1], stack=K, seed=5, widths=[1, 2, 3, 6, 4], activation="sigmoid"),
        XOR[0][:, :2], XOR[1],
        dict(epochs=35, optimizer=Momentum(np.linspace(0.2, 1.0, K),
                                           momentum=np.linspace(0.1, 0.9, K)),
             weight_decay=[L2(np.linspace(0, 0.01, K))])),
    "a network diverges": lambda: (
        MLP([3, 4, 1], stack=K, seed=0, output_activation="identity"), *XOR,
        dict(epochs=60, lr=np.array([0.1, 0.2, 400.0, 0.3, 0.1]))),
}  # fmt: skip


def _fit(case: str, engine: str):
    net, X, T, options = CASES[case]()
    try:
        history = net.fit(X, T, engine=engine, **options)
    except Exception as e:  # a diverged stack raises the same error on both engines
        return net, None, type(e).__name__
    return net, history, None


@pytest.mark.parametrize("lanes", [True, False], ids=["lanes", "vmap"])
@pytest.mark.parametrize("case", list(CASES))
def test_both_layouts_match_numpy(case, lanes, monkeypatch):
    monkeypatch.setattr(_jax_program, "LANES_ENABLED", lanes)
    ref, ref_history, ref_error = _fit(case, "numpy")
    net, history, error = _fit(case, "jax")
    assert error == ref_error
    if ref_history is not None:
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            a, b = getattr(ref_history, name), getattr(history, name)
            assert (a is None) == (b is None), name
            if a is not None:
                np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9, err_msg=name)
        if "diverged_at" in ref_history.extra:
            np.testing.assert_array_equal(history.extra["diverged_at"],
                                          ref_history.extra["diverged_at"])  # fmt: skip
    for p, q in zip(ref.params, net.params, strict=True):
        for name in p:
            np.testing.assert_allclose(q[name], p[name], rtol=1e-9, atol=1e-9, err_msg=name)


def test_the_narrow_stacks_run_with_the_networks_last():
    def suits(net: MLP) -> bool:
        return _jax_program.lanes_suit(prepare_job(net, *XOR))

    assert suits(MLP([3, 4, 1], stack=K))
    assert not suits(MLP([3, _jax_program.MAX_LANES_WIDTH + 1, 1], stack=K))
    assert not suits(MLP([3, 4, 1]))


def test_lanes_act_on_every_network_as_vmap_would():
    a = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4) / 10  # 4 networks' (2, 3)
    b = np.arange(3 * 2 * 4, dtype=float).reshape(3, 2, 4) / 7  # 4 networks' (3, 2)
    shared = np.linspace(-1, 1, 6).reshape(3, 2)
    la, lb = _jax_lanes.Lanes(jnp.asarray(a)), _jax_lanes.Lanes(jnp.asarray(b))
    each = [(a[..., k], b[..., k]) for k in range(4)]

    def check(got, want):
        assert got.shape == want[0].shape
        np.testing.assert_allclose(np.asarray(got.data), np.stack(want, -1), rtol=1e-13)

    check(la @ lb, [x @ y for x, y in each])
    check(la @ shared, [x @ shared for x, _ in each])
    check(shared.T @ lb, [shared.T @ y for _, y in each])
    check(lb.mT @ shared, [y.T @ shared for _, y in each])
    check(la.sum(axis=-2), [x.sum(axis=-2) for x, _ in each])
    check(la.mean(), [np.asarray(x.mean()) for x, _ in each])
    check(la.max(axis=-1, keepdims=True), [x.max(axis=-1, keepdims=True) for x, _ in each])
    check(la.argmax(axis=-1), [x.argmax(axis=-1) for x, _ in each])
    check((la > 0.5).sum(), [np.asarray((x > 0.5).sum()) for x, _ in each])
    check(la[..., None, :], [x[..., None, :] for x, _ in each])
    check(la[:, 1], [x[:, 1] for x, _ in each])
    check(1 / (1 + _jax_lanes.LANES.exp(-la)), [1 / (1 + np.exp(-x)) for x, _ in each])
    check(_jax_lanes.LANES.einsum("...ij,...ij->...", la, la), [np.vdot(x, x) for x, _ in each])
    wide = np.linspace(0, 1, 2 * 20 * 4).reshape(2, 20, 4)
    other = np.linspace(1, 2, 20 * 3).reshape(20, 3)
    check(_jax_lanes.Lanes(jnp.asarray(wide)) @ other, [wide[..., k] @ other for k in range(4)])
    with pytest.raises(AttributeError, match="not available"):
        _jax_lanes.LANES.fft  # noqa: B018


@pytest.mark.parametrize(("optimizer", "batch_size"), [("adam", None), ("sgd", 3)])
def test_a_float32_stack_trains_in_float32_on_both_layouts(optimizer, batch_size, monkeypatch):
    """Float64 settings meet a float32 stack: Adam's bias-corrected step size, per-network
    penalty strengths. The weights and the mini-batches' summed loss stay float32 in both
    layouts (each once raised in the loop's carry)."""
    def fit(engine: str) -> MLP:
        net = MLP([3, 4, 1], stack=K, seed=3, dtype="float32")
        net.fit(*XOR, epochs=30, optimizer=optimizer, lr=0.1, batch_size=batch_size, seed=0,
                weight_decay=[L2(np.linspace(0, 0.01, K))], engine=engine)
        return net

    ref = fit("numpy")
    for lanes in (True, False):
        monkeypatch.setattr(_jax_program, "LANES_ENABLED", lanes)
        net = fit("jax")
        for p, q in zip(ref.params, net.params, strict=True):
            for name in p:
                assert q[name].dtype == np.float32, (lanes, name)
                np.testing.assert_allclose(q[name], p[name], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("case", "lanes"), [("seed", True), ("a network diverges", True),
                                             ("a network diverges", False)])
def test_unrolled_trusted_groups_train_as_the_loop_does(case, lanes, monkeypatch):
    """A long block's groups run unrolled and trusted (``LONG_BLOCK``): here forced on a
    short one, the stack still trains as the NumPy engine does, a network diverging in a
    trusted group included."""
    monkeypatch.setattr(_jax_program, "LONG_BLOCK", 0)
    monkeypatch.setattr(_jax_program, "LANES_ENABLED", lanes)
    ref, ref_history, ref_error = _fit(case, "numpy")
    net, history, error = _fit(case, "jax")
    assert error == ref_error
    if ref_history is not None:
        np.testing.assert_allclose(history.loss, ref_history.loss, rtol=1e-9, atol=1e-9)
    for p, q in zip(ref.params, net.params, strict=True):
        for name in p:
            np.testing.assert_allclose(q[name], p[name], rtol=1e-9, atol=1e-9, err_msg=name)


def test_only_a_long_block_of_a_stack_is_trusted_and_only_full_batch_unrolled():
    def plan(net: MLP, **options) -> _jax_program.Plan:
        return _jax_program.plan_for(prepare_job(net, *XOR, **options))

    stack, group = plan(MLP([3, 4, 1], stack=K)), _jax_program.GROUP
    long = _jax_program.LONG_BLOCK
    assert _jax_program.grouping(stack, long) == (group, group, True)
    assert _jax_program.grouping(stack, long - 1) == (group, 1, False)
    minibatch = plan(MLP([3, 4, 1], stack=K), batch_size=2)
    assert _jax_program.grouping(minibatch, long) == (group, 1, True)
    one = _jax_program.GROUP_ONE
    assert _jax_program.grouping(plan(MLP([3, 4, 1])), long) == (one, 1, False)
