"""Per-network settings in a stack: network ``i`` trains as if alone with its own values.

Rates, momenta, Adam's betas, L1 and L2 strengths and init scales are each one number or
an array of K; network ``i`` of the stack equals, to 1e-12 in float64, the network trained
alone with entry ``i`` and seed ``seed + i``, on both engines.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

from mlplab import MLP
from mlplab.errors import ConfigError
from mlplab.train.optimizers import SGD, Adam, Momentum, Nesterov
from mlplab.train.regularization import L1, L2

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
T = np.array([[0], [1], [1], [0]], float)
K = 9  # at least narrow.MIN_STACK: the seed-sized stack is stored stack-last
LRS = np.linspace(0.1, 2.0, K)
MUS = np.linspace(0.0, 0.9, K)
B1 = np.linspace(0.5, 0.9, K)
B2 = np.linspace(0.9, 0.999, K)
ALPHAS = np.linspace(0.0, 0.01, K)
SCALES = np.linspace(0.5, 2.0, K)


def _optimizer(kind: str, i: int | None):
    """The optimizer of ``kind`` with every network's values (``i=None``) or network i's."""

    def pick(values: np.ndarray):
        return values if i is None else float(values[i])

    if kind == "sgd":
        return SGD(pick(LRS))
    if kind == "momentum":
        return Momentum(pick(LRS), momentum=pick(MUS))
    if kind == "nesterov":
        return Nesterov(pick(LRS), momentum=pick(MUS))
    return Adam(pick(LRS / 10), beta1=pick(B1), beta2=pick(B2))


def _penalties(i: int | None):
    pick = (lambda v: v) if i is None else (lambda v: float(v[i]))
    return [L2(pick(ALPHAS)), L1(pick(ALPHAS / 2))]


def _worst_gap(stack: MLP, alone: list[MLP]) -> float:
    return max(
        float(np.abs(p[k][i] - q[k]).max())
        for i, net in enumerate(alone)
        for p, q in zip(stack.params, net.params, strict=True)
        for k in p
    )


@pytest.mark.parametrize("engine", ["numpy", "jax"])
@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("batch_size", [None, 3])
def test_network_i_trains_as_if_alone(engine: str, kind: str, batch_size: int | None) -> None:
    if engine == "jax":
        require("jax")
    fit = dict(epochs=120, schedule="step", batch_size=batch_size, seed=0)
    stack = MLP([2, 3, 1], stack=K, seed=5, init_scale=SCALES)
    stack.fit(X, T, optimizer=_optimizer(kind, None), weight_decay=_penalties(None),
              engine=engine, **fit)  # fmt: skip
    alone = []
    for i in range(K):
        net = MLP([2, 3, 1], seed=5 + i, init_scale=float(SCALES[i]))
        net.fit(X, T, optimizer=_optimizer(kind, i), weight_decay=_penalties(i), **fit)
        alone.append(net)
    assert _worst_gap(stack, alone) <= 1e-12
    assert not np.allclose(stack.params[0]["W"][0], stack.params[0]["W"][1])  # they differ


@pytest.mark.parametrize("engine", ["numpy", "jax"])
def test_fit_lr_and_weight_decay_arrays(engine: str) -> None:
    """``fit(lr=array, weight_decay=array)``: a rate and an L2 strength per network."""
    if engine == "jax":
        require("jax")
    stack = MLP([2, 4, 1], stack=4, seed=1)
    stack.fit(X, T, epochs=50, lr=LRS[:4], weight_decay=ALPHAS[:4], engine=engine)
    alone = [MLP([2, 4, 1], seed=1 + i) for i in range(4)]
    for i, net in enumerate(alone):
        net.fit(X, T, epochs=50, lr=float(LRS[i]), weight_decay=float(ALPHAS[i]))
    assert _worst_gap(stack, alone) <= 1e-12


def test_one_compiled_program_serves_every_rate_grid() -> None:
    """Per-network values are inputs of the compiled program, not compiled in."""
    require("jax")
    from mlplab.engines._jax_program import ProgramCache
    from mlplab.engines.jax import JaxEngine

    engine = JaxEngine(programs=ProgramCache())
    for scale in (1.0, 0.5, 0.25):
        net = MLP([2, 3, 1], stack=K, seed=0)
        net.fit(X, T, epochs=20, optimizer=Momentum(LRS * scale, momentum=MUS * scale),
                weight_decay=ALPHAS * scale, engine=engine)  # fmt: skip
    assert len(engine.programs) == 1


def test_the_rate_array_is_read_only_and_scheduled() -> None:
    opt = SGD(LRS)
    with pytest.raises(AttributeError):
        opt.lr = 1.0  # type: ignore[misc]
    opt.use_schedule(lambda epoch, lr0: lr0 * 0.5**epoch)
    rates = opt.rates(0, 3)
    assert rates.shape == (3, K)
    np.testing.assert_array_equal(rates[2], LRS * 0.25)


def test_per_network_values_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"learning rate\[1\]"):
        SGD(np.array([0.5, -1.0]))
    with pytest.raises(ConfigError, match=r"momentum\[0\]"):
        Momentum(0.1, momentum=[1.5, 0.5])
    with pytest.raises(ConfigError, match="1-D"):
        L2(np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="3 values, for a stack of 4"):
        MLP([2, 2, 1], stack=4, seed=0).fit(X, T, epochs=1, lr=np.ones(3))
    with pytest.raises(ConfigError, match="for a single network"):
        MLP([2, 2, 1], seed=0).fit(X, T, epochs=1, weight_decay=np.ones(2))
    with pytest.raises(ConfigError, match="init_scale has 2 values"):
        MLP([2, 2, 1], stack=3, init_scale=[1.0, 2.0])


def test_init_scale_multiplies_the_initial_weights() -> None:
    plain = MLP([2, 3, 1], seed=4)
    scaled = MLP([2, 3, 1], seed=4, init_scale=0.5)
    for p, q in zip(plain.params, scaled.params, strict=True):
        np.testing.assert_array_equal(q["W"], p["W"] * 0.5)


# --- different widths in one stack, by masking -------------------------------------------

WIDTHS = np.array([1, 2, 3, 4, 6, 8] * 2)


def _own_block(a: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The network's own entries of a stack member ``a`` and the rest (zeroed there)."""
    block = tuple(slice(0, n) for n in shape)
    rest = a.copy()
    rest[block] = 0
    return a[block], rest


@pytest.mark.parametrize("engine", ["numpy", "jax"])
@pytest.mark.parametrize(
    ("sizes", "widths"),
    [([2, 8, 1], WIDTHS), ([2, 8, 5, 1], np.column_stack([WIDTHS, WIDTHS % 5 + 1]))],
)
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_narrower_networks_train_as_if_alone(engine, sizes, widths, kind) -> None:
    if engine == "jax":
        require("jax")
    K = len(widths)
    lrs = np.linspace(0.1, 0.5, K)
    batch = None if kind == "sgd" else 3

    def optimizer(lr):
        return None if kind == "sgd" else Adam(lr / 20)

    fit = dict(epochs=150, weight_decay=0.001, batch_size=batch, seed=0)
    stack = MLP(sizes, stack=K, seed=3, widths=widths, activation="tanh")
    stack.fit(X, T, lr=lrs, optimizer=optimizer(lrs), engine=engine, **fit)
    for i in range(K):
        own = [2, *np.atleast_1d(widths[i]).tolist(), 1]
        net = MLP(own, seed=3 + i, activation="tanh")
        net.fit(X, T, lr=float(lrs[i]), optimizer=optimizer(float(lrs[i])), **fit)
        for p, q in zip(stack.params, net.params, strict=True):
            for k in p:
                mine, rest = _own_block(p[k][i], q[k].shape)
                np.testing.assert_allclose(mine, q[k], rtol=0, atol=1e-12)
                assert not rest.any(), "a masked weight moved"


def test_widths_are_checked() -> None:
    with pytest.raises(ConfigError, match="between 1 and"):
        MLP([2, 4, 1], stack=2, widths=[2, 5])
    with pytest.raises(ConfigError, match="one per network"):
        MLP([2, 4, 1], stack=3, widths=[2, 4])
    with pytest.raises(ConfigError, match="needs a stack"):
        MLP([2, 4, 1], widths=[2])


def test_per_network_rates_bound_a_compiled_block() -> None:
    """Each epoch's rate of each network goes into a block, ``(K, epochs)``: a long run with
    one rate per network is cut into blocks of at most ``MAX_BLOCK_VALUES`` rates, though
    its losses alone (a stack keeps every N-th) would let it be one block."""
    require("jax")
    from mlplab.engines.jax import MAX_BLOCK_VALUES, JaxEngine
    from mlplab.train.job import prepare_job

    stack = 1000
    net = MLP([3, 4, 1], stack=stack, seed=0)
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    t = np.array([[0], [1], [1], [0]], dtype=float)
    shared = JaxEngine().start(prepare_job(net, X, t, lr=0.5))
    own = JaxEngine().start(prepare_job(net, X, t, lr=np.linspace(0.1, 1.0, stack)))
    assert own.plan.per_network_lr and not shared.plan.per_network_lr
    every = 50  # a long stack keeps every 50th loss
    assert shared.block(60000, None, every) > MAX_BLOCK_VALUES // stack
    assert own.block(60000, None, every) <= MAX_BLOCK_VALUES // stack + every
